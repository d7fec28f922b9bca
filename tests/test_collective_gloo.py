"""The collective benchmark for real: torch.distributed with gloo in local processes, loopback only.

MASTER_ADDR is 127.0.0.1 and gloo is pinned to ``lo``: nothing leaves the machine.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("torch")

from advisor.bench.collective_launch import free_port, rank_env, run_local
from advisor.bench.collective_records import CollectiveRun, bus_factor
from advisor.rules.interconnect import slow_links

pytestmark = pytest.mark.slow
SLOW_RANK = 2
DELAY_S = 0.1


def _slowed_rank(rank: int, world: int, port: int, out: Any) -> None:
    """One rank; rank SLOW_RANK waits before every point-to-point send, like a node on a congested link."""
    os.environ.update(rank_env(rank, world, port))
    import torch.distributed as dist

    from advisor.bench.collective import measure_collective

    if rank == SLOW_RANK:
        real_send = dist.send

        def late_send(*args: Any, **kwargs: Any) -> Any:
            time.sleep(DELAY_S)
            return real_send(*args, **kwargs)

        dist.send = late_send  # type: ignore[assignment]
    run = measure_collective("quick", launcher="local", ops=("all-reduce",), sizes=[1 << 20])
    if run is not None:
        out.put(run.model_dump_json())
    dist.destroy_process_group()


def test_local_ranks_measure_positive_bandwidth_with_nccl_tests_formulas() -> None:
    run = run_local(3, "quick", timeout_s=240)
    assert run.backend == "gloo" and run.world_size == 3 and run.nodes == 1
    assert {r.op for r in run.results} == {"all-reduce", "all-gather", "send-recv"}
    for r in run.results:
        assert r.time_us > 0 and r.algbw_gbs > 0
        assert r.algbw_gbs == pytest.approx(r.size_bytes / (r.time_us / 1e6) / 1e9, rel=0.01)
        assert r.busbw_gbs == pytest.approx(r.algbw_gbs * bus_factor(r.op, 3), rel=0.01)
        assert r.slowest_rank_time_us >= r.time_us * 0.99
    assert [(link.a, link.b) for link in run.links] == [(0, 1), (1, 2), (2, 0)]
    assert all(link.gbs > 0 for link in run.links)
    assert any("loopback" in n for n in run.notes)


def test_a_deliberately_slowed_rank_is_named() -> None:
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    port, world = free_port(), 4
    procs = [ctx.Process(target=_slowed_rank, args=(r, world, port, out)) for r in range(world)]
    for p in procs:
        p.start()
    try:
        run = CollectiveRun.model_validate_json(out.get(timeout=240))
    finally:
        for p in procs:
            p.join(timeout=60)
            if p.is_alive():
                p.kill()
    findings = slow_links(run.links)
    assert [f.subject for f in findings] == [f"rank {SLOW_RANK}"], [link.gbs for link in run.links]


def test_bench_collective_under_torchrun_prints_algbw_and_busbw(tmp_path: Path) -> None:
    env = dict(os.environ, GLOO_SOCKET_IFNAME="lo")
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--nnodes=1", "--nproc-per-node=4",
        "--master-addr=127.0.0.1", f"--master-port={free_port()}",
        "-m", "advisor", "bench", "--collective", "--json",
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    data = json.loads(done.stdout)  # only rank 0 prints
    run = CollectiveRun.model_validate(data)
    assert run.launcher == "torchrun" and run.world_size == 4
    sizes = sorted({r.size_bytes for r in run.results})
    assert sizes == [1 << 20, 8 << 20, 64 << 20]
    assert all(r.busbw_gbs > 0 for r in run.results)
