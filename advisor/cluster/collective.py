"""The collective benchmark across a Ray cluster: one torchrun per node, advisor sets the rendezvous.

Rank 0 lives on the first node; its address and a port free there become MASTER_ADDR/MASTER_PORT, the world
size is the sum of the processes per node (one per GPU Ray reports, or one on a CPU-only node). torchrun's
static rendezvous does the rest, exactly as a user's own multi-node job would start.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from typing import Any, Literal

from advisor.bench.collective_child import PREFIX
from advisor.bench.collective_records import CollectiveRun
from advisor.cluster.outcome import ClusterNode

LOOPBACK = ("127.", "::1", "localhost")


def free_port_here(host: str) -> int:
    """A TCP port free on this node's address (runs on the node that will host rank 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def torchrun_command(node_rank: int, nnodes: int, nproc: int, master: str, port: int, mode: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "torch.distributed.run",
        f"--nnodes={nnodes}",
        f"--node-rank={node_rank}",
        f"--nproc-per-node={nproc}",
        f"--master-addr={master}",
        f"--master-port={port}",
        "-m",
        "advisor.bench.collective_child",
        "--mode",
        mode,
        "--launcher",
        "ray",
    ]


def run_torchrun(cmd: list[str], master: str, timeout_s: float) -> dict[str, Any]:
    """Run this node's torchrun; on a loopback rendezvous gloo is pinned to ``lo`` (tests, one machine)."""
    env = dict(os.environ)
    if master.startswith(LOOPBACK):
        env.setdefault("GLOO_SOCKET_IFNAME", "lo")
    try:
        done = subprocess.run(
            cmd, env=env, capture_output=True, text=True, timeout=timeout_s, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired:
        return {"rc": None, "stdout": "", "stderr": f"timed out after {timeout_s:g} s"}
    return {"rc": done.returncode, "stdout": done.stdout, "stderr": done.stderr[-2000:]}


def run_cluster_collective(
    nodes: list[ClusterNode], mode: Literal["quick", "full"], timeout_s: float
) -> tuple[CollectiveRun | None, str | None]:
    """(the run, None) or (None, why not) for a collective across every node."""
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    if not nodes:
        return None, "no node to measure"
    first = nodes[0]

    def pinned(node: ClusterNode) -> NodeAffinitySchedulingStrategy:
        return NodeAffinitySchedulingStrategy(node_id=node.node_id, soft=False)

    port_task = ray.remote(num_cpus=0, max_retries=0)(free_port_here)
    port = ray.get(port_task.options(scheduling_strategy=pinned(first)).remote(first.address), timeout=60)
    task = ray.remote(num_cpus=0, max_retries=0)(run_torchrun)
    refs = []
    for rank, node in enumerate(nodes):
        nproc = max(int(node.gpus), 1)
        cmd = torchrun_command(rank, len(nodes), nproc, first.address, port, mode)
        refs.append(task.options(scheduling_strategy=pinned(node)).remote(cmd, first.address, timeout_s))
    try:
        results = ray.get(refs, timeout=timeout_s + 30)
    except (ray.exceptions.RayError, ray.exceptions.GetTimeoutError) as exc:
        for ref in refs:
            ray.cancel(ref, force=True)
        return None, f"the collective benchmark failed: {type(exc).__name__}"
    for line in str(results[0].get("stdout") or "").splitlines():
        if line.startswith(PREFIX):
            return CollectiveRun.model_validate_json(line[len(PREFIX) :]), None
    errors = [r.get("stderr", "") for r in results if r.get("rc") not in (0,)]
    last = next((line for e in errors for line in reversed(e.splitlines()) if line.strip()), "no message")
    return None, f"the collective benchmark gave no result: {last.strip()[:300]}"
