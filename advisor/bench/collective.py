"""The collective benchmark: all-reduce, all-gather and send/recv bandwidth over ``torch.distributed``.

NCCL on GPUs, gloo on CPUs. Runs inside a process group that torchrun (or ``cluster check`` on Ray, or
``run_local``) set up through the usual ``RANK``/``WORLD_SIZE``/``MASTER_ADDR``/``MASTER_PORT`` variables.
Besides the ring-wide operations it measures every link of a ring alone (ping-pong between two ranks while the
others wait), so a slow node or cable can be named rather than only "the all-reduce is slow".
torch is imported inside functions only.
"""

from __future__ import annotations

import os
import socket
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

from advisor.bench.collective_records import (
    OPS,
    CollectiveOp,
    CollectiveResult,
    CollectiveRun,
    InterconnectEnv,
    LinkResult,
    RankInfo,
    bus_factor,
)

MB = 1 << 20
SIZES: dict[str, tuple[int, ...]] = {
    "quick": (1 * MB, 8 * MB, 64 * MB),
    "full": (1 * MB, 4 * MB, 16 * MB, 64 * MB, 256 * MB, 1024 * MB),
}
CPU_MAX_BYTES = 256 * MB  # gloo on CPUs: larger messages only measure memcpy, and cost RAM per rank
LINK_BYTES = {"quick": 16 * MB, "full": 64 * MB}


def iterations(size: int, mode: Literal["quick", "full"]) -> tuple[int, int]:
    """(warm-up, timed) iterations for a message size: fewer for big messages, more in full mode."""
    if mode == "quick":
        return 1, (5 if size <= 8 * MB else 3)
    return 2, (20 if size <= 16 * MB else 10 if size <= 256 * MB else 5)


def env_rank() -> tuple[int, int, int] | None:
    """(rank, local rank, world size) from torchrun's variables, or None outside a launcher."""
    try:
        rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    except (KeyError, ValueError):
        return None
    return rank, int(os.environ.get("LOCAL_RANK", "0") or 0), world


def _nccl_debug_file() -> Path | None:
    """Ask NCCL to log its transport choice into a private temp file, unless the user set NCCL_DEBUG."""
    if "NCCL_DEBUG" in os.environ:
        return None
    folder = Path(tempfile.mkdtemp(prefix="advisor-nccl-"))
    os.environ["NCCL_DEBUG"] = "INFO"
    os.environ["NCCL_DEBUG_SUBSYS"] = "INIT,NET"
    os.environ["NCCL_DEBUG_FILE"] = str(folder / "nccl.%p.log")
    return folder


def init_process_group(backend: str | None = None) -> tuple[str, str, Path | None]:
    """Join the process group described by the environment; returns (backend, device, NCCL log folder)."""
    import torch
    import torch.distributed as dist

    _, local_rank, _ = env_rank() or (0, 0, 1)
    use_cuda = torch.cuda.is_available() and torch.cuda.device_count() > local_rank
    chosen = backend or ("nccl" if use_cuda and dist.is_nccl_available() else "gloo")
    log_dir = _nccl_debug_file() if chosen == "nccl" else None
    device = f"cuda:{local_rank}" if chosen == "nccl" else "cpu"
    if chosen == "nccl":
        torch.cuda.set_device(local_rank)
    if not dist.is_initialized():
        dist.init_process_group(backend=chosen, init_method="env://")
    return chosen, device, log_dir


def measure_collective(
    mode: Literal["quick", "full"] = "quick",
    *,
    launcher: str = "torchrun",
    ops: Sequence[CollectiveOp] = OPS,
    sizes: Sequence[int] | None = None,
    backend: str | None = None,
) -> CollectiveRun | None:
    """Measure in the current process group (joining it from the environment if needed).

    Every rank must call this; rank 0 gets the CollectiveRun, the others None.
    """
    import torch
    import torch.distributed as dist

    started = time.monotonic()
    chosen, device, log_dir = init_process_group(backend)
    rank, world = dist.get_rank(), dist.get_world_size()
    local_rank = (env_rank() or (rank, 0, world))[1]
    name = torch.cuda.get_device_name(device) if device.startswith("cuda") else None
    me = RankInfo(
        rank=rank, local_rank=local_rank, host=socket.gethostname(), device=device, device_name=name
    )
    ranks: list[RankInfo] = _gather_objects(me)
    hosts = sorted({r.host for r in ranks})
    notes: list[str] = []
    wanted = list(sizes or SIZES[mode])
    if chosen == "gloo" and any(s > CPU_MAX_BYTES for s in wanted):
        wanted = [s for s in wanted if s <= CPU_MAX_BYTES]
        notes.append(f"gloo on CPUs: messages capped at {CPU_MAX_BYTES // MB} MB")
    if chosen == "gloo":
        notes.append(
            "gloo between CPU processes: on one machine this measures memory copies through the loopback "
            "device, not a network; use it to check the set-up, not to judge a link"
            if len(hosts) == 1
            else "gloo over TCP: the figures are the network as sockets see it, not NCCL's transports"
        )

    results: list[CollectiveResult] = []
    if world > 1:
        for op in ops:
            for size in wanted:
                results.append(_measure_op(op, size, mode, device, world))
    else:
        notes.append("one process: nothing to communicate with (start more ranks)")
    links = _measure_links(ranks, LINK_BYTES[mode], mode, device)

    env = _node_env(log_dir, ranks, local_rank)
    envs: list[InterconnectEnv | None] = _gather_envs(env)
    if rank != 0:
        dist.barrier()
        return None
    dist.barrier()
    return CollectiveRun(
        backend=chosen,
        world_size=world,
        nodes=len(hosts),
        mode=mode,
        launcher=launcher,
        ranks=sorted(ranks, key=lambda r: r.rank),
        results=results,
        links=links,
        env=list({e.host: e for e in reversed(envs) if e is not None}.values())[::-1],  # one per node
        notes=notes,
        seconds=round(time.monotonic() - started, 3),
    )


def leave_process_group() -> None:
    """Tear the process group down (torchrun ranks exit cleanly only without one alive)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def _gather_objects(obj: Any) -> list[Any]:
    """Every rank's record, in rank order.

    Sent as JSON bytes in a uint8 tensor: ``all_gather_object`` pickles (and needs numpy in some builds).
    """
    import torch
    import torch.distributed as dist

    device = _collective_device()
    model = type(obj) if obj is not None else None
    data = (obj.model_dump_json() if obj is not None else "null").encode()
    world = dist.get_world_size()
    size = torch.tensor([len(data)], dtype=torch.int64, device=device)
    sizes = [torch.zeros_like(size) for _ in range(world)]
    dist.all_gather(sizes, size)
    longest = max(int(s.item()) for s in sizes)
    buf = torch.zeros(longest, dtype=torch.uint8, device=device)
    buf[: len(data)] = torch.tensor(list(data), dtype=torch.uint8, device=device)
    parts = [torch.zeros_like(buf) for _ in range(world)]
    dist.all_gather(parts, buf)
    out: list[Any] = []
    for part, n in zip(parts, sizes, strict=True):
        text = bytes(part[: int(n.item())].tolist()).decode()
        out.append(None if text == "null" or model is None else model.model_validate_json(text))
    return out


def _gather_envs(env: InterconnectEnv | None) -> list[InterconnectEnv | None]:
    """Node facts from each node's first rank (the other ranks send nothing)."""
    placeholder = env if env is not None else InterconnectEnv(host="")
    gathered: list[InterconnectEnv] = _gather_objects(placeholder)
    return [e if e.host != "" else None for e in gathered]


def _collective_device() -> str:
    """Where this rank's communication tensors live: its GPU under NCCL, else the CPU."""
    import torch
    import torch.distributed as dist

    if dist.get_backend() == "nccl":
        return f"cuda:{torch.cuda.current_device()}"
    return "cpu"


def _sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize(device)


def _timed(fn: Callable[[], None], warmup: int, iters: int, device: str) -> float:
    """Mean seconds of one call of ``fn`` on this rank, after warm-up, started together with the others."""
    import torch.distributed as dist

    for _ in range(warmup):
        fn()
    _sync(device)
    dist.barrier()
    t0 = time.perf_counter()
    for _ in range(iters):
        fn()
    _sync(device)
    return (time.perf_counter() - t0) / iters


def _reduce_times(seconds: float, device: str) -> tuple[float, float]:
    """(mean over ranks, max over ranks) of one figure."""
    import torch
    import torch.distributed as dist

    total = torch.tensor([seconds], dtype=torch.float64, device=device)
    slowest = total.clone()
    dist.all_reduce(total, op=dist.ReduceOp.SUM)
    dist.all_reduce(slowest, op=dist.ReduceOp.MAX)
    return float(total.item()) / dist.get_world_size(), float(slowest.item())


def _measure_op(
    op: CollectiveOp, size: int, mode: Literal["quick", "full"], device: str, world: int
) -> CollectiveResult:
    fn = _operation(op, size, device, world)
    warmup, iters = iterations(size, mode)
    mean_s, max_s = _reduce_times(_timed(fn, warmup, iters, device), device)
    algbw = size / mean_s / 1e9 if mean_s > 0 else 0.0
    return CollectiveResult(
        op=op,
        size_bytes=size,
        iterations=iters,
        time_us=round(mean_s * 1e6, 2),
        slowest_rank_time_us=round(max_s * 1e6, 2),
        algbw_gbs=round(algbw, 4),
        busbw_gbs=round(algbw * bus_factor(op, world), 4),
    )


def _operation(op: CollectiveOp, size: int, device: str, world: int) -> Callable[[], None]:
    """One call of the operation on buffers of ``size`` bytes (all-gather: the whole gathered buffer)."""
    import torch
    import torch.distributed as dist

    rank = dist.get_rank()
    if op == "all-reduce":
        buf = torch.ones(size // 4, dtype=torch.float32, device=device)
        return lambda: dist.all_reduce(buf)
    if op == "all-gather":
        chunk = max(size // 4 // world, 1)
        part = torch.ones(chunk, dtype=torch.float32, device=device)
        whole = torch.empty(chunk * world, dtype=torch.float32, device=device)
        pieces = list(whole.chunk(world))

        def gather() -> None:
            with warnings.catch_warnings():  # newer torch renames it; the old name still works everywhere
                warnings.simplefilter("ignore", FutureWarning)
                try:
                    dist.all_gather_into_tensor(whole, part)
                except (RuntimeError, NotImplementedError):  # older gloo builds lack the flat variant
                    dist.all_gather(pieces, part)

        return gather
    send = torch.ones(size // 4, dtype=torch.float32, device=device)
    recv = torch.empty_like(send)
    nxt, prev = (rank + 1) % world, (rank - 1) % world

    def shift() -> None:
        # nccl-tests' sendrecv: every rank sends to the next and receives from the previous at once
        reqs = [dist.isend(send, nxt), dist.irecv(recv, prev)]
        for r in reqs:
            if r is not None:
                r.wait()

    return shift


def ring_pairs(ranks: Sequence[RankInfo]) -> list[tuple[int, int]]:
    """The links to measure alone: a ring over node leaders across nodes, over all ranks within one node."""
    leaders: dict[str, int] = {}
    for r in sorted(ranks, key=lambda r: r.rank):
        leaders.setdefault(r.host, r.rank)
    members = sorted(leaders.values()) if len(leaders) > 1 else sorted(r.rank for r in ranks)
    if len(members) < 2:
        return []
    if len(members) == 2:
        return [(members[0], members[1])]
    return [(members[i], members[(i + 1) % len(members)]) for i in range(len(members))]


def _measure_links(
    ranks: Sequence[RankInfo], size: int, mode: Literal["quick", "full"], device: str
) -> list[LinkResult]:
    import torch
    import torch.distributed as dist

    pairs = ring_pairs(ranks)
    if not pairs:
        return []
    if device == "cpu":
        size = min(size, CPU_MAX_BYTES)
    rank = dist.get_rank()
    buf = torch.ones(size // 4, dtype=torch.float32, device=device)
    iters = 3 if mode == "quick" else 10
    seconds = torch.zeros(len(pairs), dtype=torch.float64, device=device)
    for i, (a, b) in enumerate(pairs):
        dist.barrier()
        if rank in (a, b):
            peer = b if rank == a else a

            def ping_pong(me: int = rank, other: int = peer, first: int = a) -> None:
                if me == first:
                    dist.send(buf, other)
                    dist.recv(buf, other)
                else:
                    dist.recv(buf, other)
                    dist.send(buf, other)

            ping_pong()  # warm-up: NCCL builds the pair's communicator on first use
            _sync(device)
            t0 = time.perf_counter()
            for _ in range(iters):
                ping_pong()
            _sync(device)
            if rank == a:
                seconds[i] = (time.perf_counter() - t0) / iters
    dist.barrier()
    dist.all_reduce(seconds, op=dist.ReduceOp.SUM)
    host = {r.rank: r.host for r in ranks}
    out = []
    for (a, b), s in zip(pairs, seconds.tolist(), strict=True):
        gbs = 2 * size / s / 1e9 if s > 0 else 0.0
        out.append(LinkResult(a=a, b=b, host_a=host[a], host_b=host[b], size_bytes=size, gbs=round(gbs, 4)))
    return out


def _node_env(log_dir: Path | None, ranks: Sequence[RankInfo], local_rank: int) -> InterconnectEnv | None:
    """The node's interconnect facts, sent by its first local rank only."""
    if local_rank != 0:
        return None
    from advisor.probe.interconnect import probe_interconnect

    me = socket.gethostname()
    logs = sorted(log_dir.glob("nccl.*")) if log_dir is not None else []
    return probe_interconnect(logs, gpus_on_node=sum(1 for r in ranks if r.host == me and r.device != "cpu"))
