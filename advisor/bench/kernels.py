"""The torch backend: device discovery and the timed kernels. torch is imported only inside functions.

How work is counted (recorded in each result's ``method``):
- matmul: 2·M·N·K FLOPs per product (one multiply and one add per inner-product term).
- memory-bandwidth: copy counts read + write (2 × buffer bytes); triad ``a = b + s·c`` counts two reads
  and one write (3 × buffer bytes). The better of the two medians is reported.
- h2d / d2h / p2p: the buffer bytes once (one direction), pinned host memory.
- launch-latency: wall time per launch of a one-element kernel, launches queued back to back.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from advisor.bench.records import DeviceFacts, Measurement, Task
from advisor.bench.stats import choose_reps

Flush = Callable[[], object] | None
_TORCH_DTYPES = {"fp32": "float32", "tf32": "float32", "fp16": "float16", "bf16": "bfloat16"}


def _torch() -> Any:
    import torch

    return torch


class TorchBackend:
    """Measures with torch on the CPU and CUDA GPUs."""

    def __init__(self) -> None:
        self.torch = _torch()

    # discovery -------------------------------------------------------------------------------------
    def discover(self) -> list[DeviceFacts]:
        """The CPU, then every CUDA device torch sees, with the matmul dtypes each runs natively."""
        torch = self.torch
        devices = [
            DeviceFacts(
                device="cpu",
                name="cpu",
                simd=_safe(lambda: str(torch.backends.cpu.get_cpu_capability())),
                threads=torch.get_num_threads(),
                memory_total_bytes=_host_memory(),
                dtypes=("fp32", "bf16"),
            )
        ]
        if not torch.cuda.is_available():
            return devices
        count = torch.cuda.device_count()
        for i in range(count):
            props = torch.cuda.get_device_properties(i)
            free, total = _mem_info(torch, i, props.total_memory)
            cc = (props.major, props.minor)
            peers = tuple(j for j in range(count) if j != i and _can_peer(torch, i, j))
            devices.append(
                DeviceFacts(
                    device=i,
                    name=props.name,
                    compute_capability=f"{cc[0]}.{cc[1]}",
                    memory_total_bytes=int(total),
                    memory_free_bytes=None if free is None else int(free),
                    l2_bytes=getattr(props, "L2_cache_size", None),
                    pci_bus_id=_pci_bus_id(props),
                    peers=peers,
                    dtypes=self._gpu_dtypes(i, cc),
                )
            )
        return devices

    def _gpu_dtypes(self, index: int, cc: tuple[int, int]) -> tuple[str, ...]:
        torch = self.torch
        dtypes = ["fp32"]
        # TF32 tensor cores arrive with Ampere (CC 8.0): torch docs, "TensorFloat-32 (TF32) on Ampere
        # (and later) devices". On older cards allow_tf32 silently runs plain FP32.
        if cc >= (8, 0):
            dtypes.append("tf32")
        if cc >= (6, 0):  # FP16 arithmetic at full speed or better from Pascal GP100 on
            dtypes.append("fp16")
        with torch.cuda.device(index):
            if _safe(lambda: torch.cuda.is_bf16_supported(including_emulation=False)):
                dtypes.append("bf16")
        if self._fp8_works(index):
            dtypes.append("fp8")
        return tuple(dtypes)

    def _fp8_works(self, index: int) -> bool:
        """Try a tiny ``torch._scaled_mm``: the only reliable test of FP8 support across torch versions."""
        torch = self.torch
        if not hasattr(torch, "float8_e4m3fn") or not hasattr(torch, "_scaled_mm"):
            return False
        try:
            dev = torch.device("cuda", index)
            a = torch.zeros(32, 32, device=dev).to(torch.float8_e4m3fn)
            b = torch.zeros(32, 32, device=dev).to(torch.float8_e4m3fn).t()
            one = torch.tensor(1.0, device=dev)
            torch._scaled_mm(a, b, scale_a=one, scale_b=one, out_dtype=torch.bfloat16)
            torch.cuda.synchronize(dev)
            return True
        except Exception:  # unsupported on this card or this torch: FP8 is simply not measured
            return False

    def release(self, device: int | str) -> None:
        """Return cached blocks after an OOM so the smaller retry can allocate."""
        if device != "cpu":
            self.torch.cuda.empty_cache()

    # measurement ------------------------------------------------------------------------------------
    def measure(self, task: Task, shape: tuple[int, ...]) -> list[Measurement]:
        """Dispatch to the kernel for ``task.test``."""
        if task.test == "matmul":
            return [self._matmul(task, shape)]
        if task.test == "memory-bandwidth":
            return self._memory(task, shape[0])
        if task.test in ("h2d", "d2h", "p2p"):
            return [self._copy(task, shape[0])]
        return [self._launch(task, shape[0])]

    def _device(self, task: Task) -> Any:
        return self.torch.device("cpu") if task.device == "cpu" else self.torch.device("cuda", task.device)

    def _matmul(self, task: Task, shape: tuple[int, ...]) -> Measurement:
        torch = self.torch
        m, n, k = shape
        dev = self._device(task)
        gpu = task.device != "cpu"
        if gpu:
            torch.backends.cuda.matmul.allow_tf32 = task.dtype == "tf32"
        if task.dtype == "fp8":
            a = torch.randn(m, k, device=dev).to(torch.float8_e4m3fn)
            b = torch.randn(n, k, device=dev).to(torch.float8_e4m3fn).t()  # column-major, as _scaled_mm needs
            one = torch.tensor(1.0, device=dev)

            def step() -> None:
                # No out=: torch 2.1-2.3 lack that overload; the caching allocator reuses the block anyway.
                torch._scaled_mm(a, b, scale_a=one, scale_b=one, out_dtype=torch.bfloat16)

            how = "torch._scaled_mm float8_e4m3fn → bf16"
        else:
            dtype = getattr(torch, _TORCH_DTYPES[str(task.dtype)])
            a = torch.randn(m, k, device=dev, dtype=dtype)
            b = torch.randn(k, n, device=dev, dtype=dtype)
            c = torch.empty(m, n, device=dev, dtype=dtype)

            def step() -> None:
                torch.mm(a, b, out=c)

            how = f"torch.mm {dtype}" + (" with allow_tf32" if task.dtype == "tf32" else "")
        flush = self._flusher(task) if gpu else None
        seconds = self._time(task, step, flush)
        flushed = f", {task.flush_bytes // 2**20} MiB written between runs to flush L2" if flush else ""
        method = f"{how}; FLOPs = 2·M·N·K per product{flushed}"
        return Measurement(seconds, 2.0 * m * n * k, method, self._timing(task))

    def _memory(self, task: Task, size: int) -> list[Measurement]:
        torch = self.torch
        dev = self._device(task)
        n = size // 4
        a = torch.empty(n, device=dev, dtype=torch.float32)
        # Filled, not random: the values do not matter to bandwidth and rand() is slow on a CPU.
        b = torch.full((n,), 1.0, device=dev, dtype=torch.float32)
        c = torch.full((n,), 2.0, device=dev, dtype=torch.float32)
        copy_s = self._time(task, lambda: a.copy_(b), None)
        triad_s = self._time(task, lambda: torch.add(b, c, alpha=3.0, out=a), None)
        mib = size // 2**20
        return [
            Measurement(
                copy_s,
                2.0 * n * 4,
                f"copy {mib} MiB fp32: bytes = read + write (2 × buffer)",
                self._timing(task),
                variant="copy",
            ),
            Measurement(
                triad_s,
                3.0 * n * 4,
                f"triad a = b + s·c, {mib} MiB fp32 per array: bytes = 2 reads + 1 write (3 × buffer)",
                self._timing(task),
                variant="triad",
            ),
        ]

    def _copy(self, task: Task, size: int) -> Measurement:
        torch = self.torch
        if task.test == "p2p":
            src = torch.empty(size, dtype=torch.uint8, device=self._device(task))
            dst = torch.empty(size, dtype=torch.uint8, device=torch.device("cuda", task.peer))
            how = f"peer copy gpu{task.device} → gpu{task.peer}"
        else:
            host = torch.empty(size, dtype=torch.uint8, pin_memory=True)
            gpu = torch.empty(size, dtype=torch.uint8, device=self._device(task))
            src, dst = (host, gpu) if task.test == "h2d" else (gpu, host)
            how = "host → device" if task.test == "h2d" else "device → host"
        seconds = self._time(task, lambda: dst.copy_(src, non_blocking=True), None)
        method = f"{how}, {size // 2**20} MiB" + (", pinned host memory" if task.test != "p2p" else "")
        method += "; bytes counted once (one direction)"
        return Measurement(seconds, float(size), method, self._timing(task))

    def _launch(self, task: Task, launches: int) -> Measurement:
        torch = self.torch
        x = torch.zeros(1, device=self._device(task))

        def burst() -> None:
            for _ in range(launches):
                x.add_(1.0)

        # Wall clock on purpose: launch latency is host-side cost, so CUDA events would hide it.
        seconds = self._time(task, burst, None, wall=True)
        method = f"{launches} one-element add_ kernels queued back to back, synchronised; time per launch"
        return Measurement(seconds, float(launches), method, "perf_counter")

    # timing -------------------------------------------------------------------------------------------
    def _timing(self, task: Task) -> Any:
        return "perf_counter" if task.device == "cpu" else "cuda-events"

    def _flusher(self, task: Task) -> Flush:
        if not task.flush_bytes:
            return None
        buf = self.torch.empty(task.flush_bytes, dtype=self.torch.uint8, device=self._device(task))
        return lambda: buf.zero_()

    def _sync(self, task: Task) -> None:
        if task.device != "cpu":
            self.torch.cuda.synchronize(task.device)

    def _time(self, task: Task, fn: Callable[[], object], flush: Flush, *, wall: bool = False) -> list[float]:
        """Warm up for ``task.warmup_s``, then time repetitions (CUDA events on GPU, perf_counter on CPU)."""
        self._sync(task)
        t0 = time.perf_counter()
        runs, last = 0, 0.0
        while runs < 2 or time.perf_counter() - t0 < task.warmup_s:
            t = time.perf_counter()
            fn()
            self._sync(task)
            runs, last = runs + 1, time.perf_counter() - t
        # The last warm-up run sizes the timed loop: the first ones pay for allocation and thread start-up.
        per_run = last
        reps = choose_reps(per_run, task.target_s, task.min_reps, task.max_reps)
        if task.device == "cpu" or wall:
            return self._time_wall(task, fn, flush, reps)
        return self._time_events(task, fn, flush, reps)

    def _time_wall(self, task: Task, fn: Callable[[], object], flush: Flush, reps: int) -> list[float]:
        out: list[float] = []
        budget_end = time.perf_counter() + 3 * task.target_s  # a slow machine still stops in time
        for i in range(reps):
            if flush:
                flush()
            self._sync(task)
            t = time.perf_counter()
            fn()
            self._sync(task)
            out.append(time.perf_counter() - t)
            if i + 1 >= task.min_reps and time.perf_counter() > budget_end:
                break
        return out

    def _time_events(self, task: Task, fn: Callable[[], object], flush: Flush, reps: int) -> list[float]:
        torch = self.torch
        with torch.cuda.device(task.device):
            starts = [torch.cuda.Event(enable_timing=True) for _ in range(reps)]
            ends = [torch.cuda.Event(enable_timing=True) for _ in range(reps)]
            for i in range(reps):
                if flush:
                    flush()
                starts[i].record()
                fn()
                ends[i].record()
            torch.cuda.synchronize(task.device)
            return [s.elapsed_time(e) / 1e3 for s, e in zip(starts, ends, strict=True)]


def _safe(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except Exception:  # a capability query that fails means "unknown", never a crash
        return None


def _mem_info(torch: Any, index: int, total: int) -> tuple[int | None, int]:
    try:
        free, total = torch.cuda.mem_get_info(index)
        return int(free), int(total)
    except Exception:  # free memory unknown: shapes fall back to their defaults
        return None, int(total)


def _can_peer(torch: Any, src: int, dst: int) -> bool:
    try:
        return bool(torch.cuda.can_device_access_peer(src, dst))
    except Exception:  # unknown peer access: no P2P test rather than a failing one
        return False


def _pci_bus_id(props: Any) -> str | None:
    bus, dev, domain = (getattr(props, k, None) for k in ("pci_bus_id", "pci_device_id", "pci_domain_id"))
    if bus is None or dev is None or domain is None:
        return None
    return f"{int(domain):08X}:{int(bus):02X}:{int(dev):02X}.0"


def _host_memory() -> int | None:
    import os

    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None
