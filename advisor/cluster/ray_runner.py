"""Run a function once on every alive node of a Ray cluster and stream the results as they finish.

One task per node, pinned there with hard node affinity (``NodeAffinitySchedulingStrategy(soft=False)``), so
"every node" means every node, not "whichever node had a free CPU". Tasks ask for no CPU: a health check must
run on a node whose CPUs a training job holds. A node that dies, or a task that outlives its deadline, yields
a failure for that node; Ctrl-C stops waiting and keeps what finished.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

from advisor.cluster.outcome import ClusterNode
from advisor.errors import AdvisorError

NODE_POLL_S = 1.0  # how often the node table is re-read to notice a node that died


class ClusterError(AdvisorError):
    """No cluster to talk to, or Ray missing: the message says what to do."""


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ClusterError(
            "Ray is not installed: pip install 'gpu-advisor[ray]' (the cluster's Ray version), "
            "or run `advisor check` on each node with your scheduler (see README: Slurm, Kubernetes)"
        ) from None
    return ray


def connect(address: str | None) -> None:
    """Join a running Ray cluster (``auto`` finds the local one, like ``ray.init``); never start one."""
    ray = _ray()
    if ray.is_initialized():
        return
    target = address or "auto"
    _listening(target)
    try:
        ray.init(
            address=target,
            logging_level="ERROR",
            log_to_driver=False,
            configure_logging=False,
        )
    except (ConnectionError, RuntimeError, ValueError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ClusterError(
            f"cannot connect to a Ray cluster at {target!r}: {first}. "
            "Start one (`ray start --head`, KubeRay) or pass --address HOST:PORT"
        ) from None


def _listening(target: str) -> None:
    """Fail at once when nothing listens at a HOST:PORT address (ray.init would retry for a minute)."""
    if target == "auto" or "://" in target or ":" not in target:
        return
    host, _, port = target.rpartition(":")
    if not port.isdigit():
        raise ClusterError(f"--address must be HOST:PORT, ray://HOST:PORT or auto, not {target!r}")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=5):
            pass
    except OSError as exc:
        raise ClusterError(
            f"cannot connect to a Ray cluster at {target!r}: {exc.strerror or exc}. "
            "Start one (`ray start --head`, KubeRay) or pass the head's --address HOST:PORT"
        ) from None


def alive_nodes() -> list[ClusterNode]:
    """The nodes Ray says are alive, in a stable order (address, then id)."""
    ray = _ray()
    nodes = []
    for n in ray.nodes():
        if not n.get("Alive"):
            continue
        nodes.append(
            ClusterNode(
                node_id=str(n["NodeID"]),
                address=str(n.get("NodeManagerAddress") or ""),
                hostname=n.get("NodeManagerHostname") or None,
                gpus=float((n.get("Resources") or {}).get("GPU", 0.0)),
            )
        )
    return sorted(nodes, key=lambda n: (n.address, n.node_id))


def _alive_ids() -> set[str]:
    return {str(n["NodeID"]) for n in _ray().nodes() if n.get("Alive")}


def run_on_nodes(
    fn: Callable[..., dict[str, Any]],
    nodes: list[ClusterNode],
    args: tuple[Any, ...],
    *,
    deadline_s: float,
) -> Iterator[tuple[ClusterNode, dict[str, Any] | None, str | None]]:
    """Yield ``(node, result, None)`` or ``(node, None, reason)`` for every node, in the order they finish."""
    ray = _ray()
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    remote = ray.remote(num_cpus=0, max_retries=0)(fn)
    pending: dict[Any, ClusterNode] = {}
    for node in nodes:
        strategy = NodeAffinitySchedulingStrategy(node_id=node.node_id, soft=False)
        pending[remote.options(scheduling_strategy=strategy).remote(*args)] = node
    started = time.monotonic()
    next_poll = started + NODE_POLL_S
    try:
        while pending:
            now = time.monotonic()
            if now - started > deadline_s:
                for ref, node in list(pending.items()):
                    ray.cancel(ref, force=True)
                    del pending[ref]
                    yield node, None, f"no answer within {deadline_s:g} s (the task was cancelled)"
                break
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=min(NODE_POLL_S, deadline_s))
            for ref in ready:
                node = pending.pop(ref)
                try:
                    yield node, ray.get(ref), None
                except ray.exceptions.RayError as exc:
                    yield node, None, _ray_error_reason(exc)
            if time.monotonic() >= next_poll and pending:
                next_poll = time.monotonic() + NODE_POLL_S
                alive = _alive_ids()
                for ref, node in list(pending.items()):
                    if node.node_id not in alive:
                        ray.cancel(ref, force=True)
                        del pending[ref]
                        yield node, None, "the node died while the check ran (Ray marked it dead)"
    finally:
        for ref in pending:  # Ctrl-C or an error in the caller: stop what still runs
            ray.cancel(ref, force=True)


def _ray_error_reason(exc: Exception) -> str:
    name = type(exc).__name__
    text = str(exc).strip().splitlines()
    detail = next((line for line in reversed(text) if line.strip()), "")[:300]
    if "NodeDied" in name or ("node" in name.lower() and "died" in detail.lower()):
        return "the node died while the check ran"
    if "ModuleNotFoundError" in str(exc) and "advisor" in str(exc):
        return "advisor is not installed for the Python of Ray's workers on this node"
    return f"Ray reported {name}: {detail}" if detail else f"Ray reported {name}"
