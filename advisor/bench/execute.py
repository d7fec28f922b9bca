"""Run one task on a backend: repeat per shape, retry smaller after out-of-memory, keep the best figure.

The backend is anything with ``discover`` and ``measure`` (the torch one lives in kernels.py), so this
logic — OOM retry, sweeps, error classes — is tested with fakes, no GPU needed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol

from advisor.bench import shapes
from advisor.bench.records import DeviceFacts, Measurement, Task
from advisor.bench.stats import Unit, summarize, to_unit
from advisor.report import BenchResult, BenchTest

ErrorKind = Literal["oom", "cuda", "unsupported", "other"]

UNITS: dict[BenchTest, Unit] = {
    "matmul": "TFLOP/s",
    "memory-bandwidth": "GB/s",
    "h2d": "GB/s",
    "d2h": "GB/s",
    "p2p": "GB/s",
    "launch-latency": "us",
}
MAX_OOM_RETRIES = 4


class Backend(Protocol):
    """What the child needs from a compute library."""

    def discover(self) -> list[DeviceFacts]:
        """Every device it can use: the CPU and each GPU (torch ordinal)."""
        ...

    def measure(self, task: Task, shape: tuple[int, ...]) -> list[Measurement]:
        """Warm up, then time repetitions of ``task`` at ``shape``; one Measurement per kernel variant."""
        ...

    def release(self, device: int | str) -> None:
        """Give cached memory back after an out-of-memory error."""
        ...


@dataclass
class Outcome:
    """A finished task: a result, or why there is none (``error_kind``/``error``)."""

    task: Task
    result: BenchResult | None = None
    error_kind: ErrorKind | None = None
    error: str | None = None
    notes: list[str] = field(default_factory=list)


def classify_error(exc: BaseException) -> ErrorKind:
    """Name an exception from a kernel: out of memory, a CUDA fault, an unsupported op, or other."""
    name = type(exc).__name__
    text = str(exc)
    lowered = text.lower()
    if name == "OutOfMemoryError" or "out of memory" in lowered or "CUBLAS_STATUS_ALLOC_FAILED" in text:
        return "oom"
    if isinstance(exc, NotImplementedError) or "not supported" in lowered or "not implemented" in lowered:
        return "unsupported"
    if "CUDA error" in text or "cudaError" in text or "CUBLAS_STATUS_EXECUTION_FAILED" in text:
        return "cuda"
    if "device-side assert" in lowered or "illegal memory access" in lowered or "launch failure" in lowered:
        return "cuda"
    return "other"


def execute_task(task: Task, backend: Backend, clock: Callable[[], float] = time.perf_counter) -> Outcome:
    """Measure every shape of ``task`` (shrinking after OOM) and keep the best median."""
    start = clock()
    outcome = Outcome(task)
    best: tuple[float, Measurement, tuple[int, ...], list[float]] | None = None
    measured_shapes = 0
    variants: dict[str, float] = {}
    unit = UNITS[task.test]
    higher = unit != "us"
    for original in task.shapes:
        got = _measure_with_retry(task, original, backend, outcome)
        if got is None:
            if outcome.error_kind in ("cuda", "unsupported", "other"):
                break
            if len(task.shapes) > 1:  # a sweep: larger shapes will not fit either (sorted by size)
                outcome.notes.append(f"sweep stopped at {_fmt(original)}: out of memory")
                outcome.error_kind = outcome.error = None
                break
            continue
        shape, measurements = got
        measured_shapes += 1
        for m in measurements:
            values = to_unit(m.seconds, m.work, unit)
            median = summarize(values, higher_is_better=higher).median
            if m.variant:
                variants[m.variant] = median
            if best is None or (median > best[0] if higher else median < best[0]):
                best = (median, m, shape, values)
    if best is None:
        if outcome.error_kind is None:
            outcome.error_kind, outcome.error = "oom", "out of memory even at the smallest problem size"
        return outcome
    median, m, shape, values = best
    summary = summarize(values, higher_is_better=higher)
    method = m.method
    if measured_shapes > 1:
        method += f"; best median of {measured_shapes} shapes swept"
    notes = outcome.notes + m.notes
    if len(variants) > 1:
        notes.append("kernels: " + ", ".join(f"{k} {v:.4g} {unit}" for k, v in variants.items()))
    outcome.result = BenchResult(
        device=task.device,
        test=task.test,
        dtype=task.dtype,
        value=summary.median,
        unit=unit,
        median=summary.median,
        best=summary.best,
        spread=summary.spread,
        samples=summary.samples,
        shape=list(shape),
        seconds=round(clock() - start, 3),
        peer=task.peer,
        method=method,
        timing=m.timing,
        notes=notes,
    )
    outcome.error_kind = outcome.error = None
    return outcome


def _measure_with_retry(
    task: Task, shape: tuple[int, ...], backend: Backend, outcome: Outcome
) -> tuple[tuple[int, ...], list[Measurement]] | None:
    current: tuple[int, ...] | None = shape
    for _attempt in range(MAX_OOM_RETRIES + 1):
        if current is None:
            break
        try:
            measurements = backend.measure(task, current)
        except Exception as exc:  # every kernel failure is classified, none escapes the child
            kind = classify_error(exc)
            outcome.error_kind, outcome.error = kind, f"{type(exc).__name__}: {_first_line(exc)}"
            if kind != "oom" or len(task.shapes) > 1:
                return None
            backend.release(task.device)
            smaller = shapes.shrink(current)
            if smaller is not None:
                outcome.notes.append(
                    f"out of memory at {_fmt(current)}: retried with a smaller problem {_fmt(smaller)}"
                )
            current = smaller
            continue
        return current, measurements
    return None


def _fmt(shape: tuple[int, ...]) -> str:
    return "×".join(str(x) for x in shape)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else "(no message)"
