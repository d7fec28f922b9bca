"""Which tasks to run on which devices, in which order, for quick and full modes (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from advisor.bench import shapes
from advisor.bench.records import DeviceFacts, DeviceId, Mode, Task
from advisor.errors import InputError
from advisor.report import BenchDtype, BenchTest

Selection = DeviceId | Literal["all"]

LAUNCHES_PER_REP = 200  # tiny kernels per timed repetition: one launch is too short to time alone


def select(devices: Sequence[DeviceFacts], selection: Selection) -> list[DeviceFacts]:
    """``all`` = every GPU (the CPU when there is none); ``cpu``; or one GPU by torch index."""
    gpus = [d for d in devices if d.device != "cpu"]
    cpu = [d for d in devices if d.device == "cpu"]
    if selection == "all":
        return gpus or cpu
    if selection == "cpu":
        return cpu
    chosen = [d for d in gpus if d.device == selection]
    if not chosen:
        seen = ", ".join(str(d.device) for d in gpus) or "none"
        raise InputError(f"no GPU with index {selection} (torch sees GPUs: {seen})")
    return chosen


def build_plan(devices: Sequence[DeviceFacts], mode: Mode, selection: Selection = "all") -> list[Task]:
    """Tasks for the selected devices: matmul per supported dtype, memory bandwidth, copies, latency, P2P."""
    chosen = select(devices, selection)
    tasks: list[Task] = []
    for dev in chosen:
        tasks += _cpu_tasks(dev, mode) if dev.device == "cpu" else _gpu_tasks(dev, mode)
    gpu_ids = [d.device for d in chosen if d.device != "cpu"]
    if len(gpu_ids) > 1:
        tasks += _p2p_tasks(chosen, mode)
    return tasks


def _matmul_task(dev: DeviceFacts, dtype: BenchDtype, mode: Mode, *, gpu: bool) -> Task:
    flush = shapes.flush_bytes(dev.l2_bytes) if gpu else 0
    free = dev.memory_free_bytes
    if mode == "full":
        sweep = shapes.matmul_sweep(dtype, free, gpu=gpu, reserved=flush)
        found = sweep or (shapes.square_matmul(dtype, free, start=1024, reserved=flush),)
        return Task(
            dev.device,
            "matmul",
            found,
            dtype,
            warmup_s=0.1,
            target_s=0.25,
            min_reps=3,
            max_reps=50,
            flush_bytes=flush,
        )
    if gpu:
        shape = shapes.square_matmul(dtype, free, start=shapes.GPU_QUICK_N, reserved=flush)
        return Task(dev.device, "matmul", (shape,), dtype, warmup_s=0.3, target_s=0.5, flush_bytes=flush)
    # CPUs differ too much for one size: three squares around where oneDNN peaks, the best one kept.
    quick = shapes.cpu_quick_matmuls(dev.threads)
    return Task(dev.device, "matmul", quick, dtype, warmup_s=0.1, target_s=0.25, min_reps=3, max_reps=20)


def _gpu_tasks(dev: DeviceFacts, mode: Mode) -> list[Task]:
    full = mode == "full"
    total = dev.memory_free_bytes or dev.memory_total_bytes
    tasks = [_matmul_task(dev, dt, mode, gpu=True) for dt in _ordered(dev.dtypes)]
    # Triad needs three buffers: keep each ≤ 1/8 of free memory.
    mem = shapes.buffer_bytes(total, cap=(2 if full else 1) * shapes.GiB, fraction=1 / 8)
    tasks.append(Task(dev.device, "memory-bandwidth", ((mem,),), warmup_s=0.1, target_s=1.0 if full else 0.3))
    host = (1 if full else 0.25) * shapes.GiB
    copies: tuple[BenchTest, ...] = ("h2d", "d2h")
    for test in copies:
        tasks.append(Task(dev.device, test, ((int(host),),), warmup_s=0.05, target_s=1.0 if full else 0.3))
    tasks.append(Task(dev.device, "launch-latency", ((LAUNCHES_PER_REP,),), warmup_s=0.05, target_s=0.2))
    return tasks


def _cpu_tasks(dev: DeviceFacts, mode: Mode) -> list[Task]:
    tasks = [_matmul_task(dev, dt, mode, gpu=False) for dt in _ordered(dev.dtypes)]
    # Three buffers for triad; each well above any last-level cache yet small next to RAM.
    mem = shapes.buffer_bytes(dev.memory_total_bytes, cap=256 * shapes.MiB, fraction=1 / 32)
    target = 1.0 if mode == "full" else 0.3  # per kernel (copy, triad)
    tasks.append(
        Task("cpu", "memory-bandwidth", ((mem,),), warmup_s=0.05, target_s=target, min_reps=3, max_reps=30)
    )
    return tasks


def _p2p_tasks(chosen: Sequence[DeviceFacts], mode: Mode) -> list[Task]:
    """Peer copies: from GPU 0 to each other (quick) or every ordered pair (full), where P2P is available."""
    size = (1 if mode == "full" else 0.25) * shapes.GiB
    tasks = []
    for src in chosen:
        if mode == "quick" and src is not chosen[0]:
            break
        for dst in chosen:
            if dst.device != src.device and dst.device in src.peers:
                tasks.append(
                    Task(
                        src.device, "p2p", ((int(size),),), peer=int(dst.device), warmup_s=0.05, target_s=0.3
                    )
                )
    return tasks


_ORDER: tuple[BenchDtype, ...] = ("fp32", "tf32", "fp16", "bf16", "fp8")


def _ordered(dtypes: Sequence[str]) -> list[BenchDtype]:
    return [d for d in _ORDER if d in dtypes]
