"""Timing statistics: seconds per repetition → the reported figure, its best, and the spread."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Unit = Literal["TFLOP/s", "GB/s", "us"]

# Work per repetition divided by seconds, scaled to the unit.
_RATE_SCALE: dict[str, float] = {"TFLOP/s": 1e-12, "GB/s": 1e-9}


@dataclass(frozen=True)
class Summary:
    """Statistics in the reported unit. For rates ``best`` is the highest, for latencies the lowest."""

    median: float
    best: float
    spread: float  # (max - min) / median
    samples: int


def to_unit(seconds: Sequence[float], work: float, unit: Unit) -> list[float]:
    """Per-repetition times → the unit: a rate (work/s, scaled) or microseconds per unit of work."""
    clean = [s for s in seconds if s > 0 and math.isfinite(s)]
    if not clean:
        raise ValueError("no valid timed samples (every time was zero, negative or not finite)")
    if unit == "us":
        return [s * 1e6 / work for s in clean]
    return [work / s * _RATE_SCALE[unit] for s in clean]


def summarize(values: Sequence[float], *, higher_is_better: bool) -> Summary:
    """Median, best and relative spread of values already in the reported unit."""
    if not values:
        raise ValueError("no samples to summarise")
    med = statistics.median(values)
    best = max(values) if higher_is_better else min(values)
    spread = (max(values) - min(values)) / med if med > 0 else 0.0
    return Summary(median=med, best=best, spread=spread, samples=len(values))


def choose_reps(iteration_s: float, target_s: float, min_reps: int, max_reps: int) -> int:
    """How many timed repetitions fit in ``target_s`` given one took ``iteration_s`` (clamped)."""
    if iteration_s <= 0 or not math.isfinite(iteration_s):
        return max_reps
    return max(min_reps, min(max_reps, int(target_s / iteration_s)))
