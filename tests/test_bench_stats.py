"""Timing statistics: unit conversion, median/best/spread, repetition count (no timing involved)."""

from __future__ import annotations

import math

import pytest

from advisor.bench.stats import choose_reps, summarize, to_unit


def test_matmul_seconds_become_tflops() -> None:
    # 2·4096³ FLOPs in 1 ms is 137.4 TFLOP/s
    flops = 2.0 * 4096**3
    assert to_unit([0.001], flops, "TFLOP/s") == pytest.approx([137.438953472])


def test_bandwidth_in_gb_per_s_is_decimal() -> None:
    assert to_unit([0.5, 0.25], 1e9, "GB/s") == pytest.approx([2.0, 4.0])


def test_latency_is_microseconds_per_launch() -> None:
    # 200 launches in 1 ms: 5 µs each
    assert to_unit([0.001], 200, "us") == pytest.approx([5.0])


def test_invalid_samples_are_dropped_and_all_invalid_raises() -> None:
    assert to_unit([0.0, -1.0, math.inf, 0.5], 1e9, "GB/s") == pytest.approx([2.0])
    with pytest.raises(ValueError, match="no valid"):
        to_unit([0.0, math.nan], 1.0, "GB/s")


def test_summary_of_rates_keeps_the_highest_as_best() -> None:
    s = summarize([100.0, 90.0, 110.0, 80.0, 120.0], higher_is_better=True)
    assert (s.median, s.best, s.samples) == (100.0, 120.0, 5)
    assert s.spread == pytest.approx(0.4)  # (120 - 80) / 100


def test_summary_of_latencies_keeps_the_lowest_as_best() -> None:
    s = summarize([5.0, 4.0, 6.0], higher_is_better=False)
    assert (s.median, s.best) == (5.0, 4.0)
    assert s.spread == pytest.approx(0.4)


def test_summary_of_nothing_raises() -> None:
    with pytest.raises(ValueError):
        summarize([], higher_is_better=True)


@pytest.mark.parametrize(
    ("iteration_s", "expected"),
    [(0.01, 50), (0.001, 100), (1.0, 5), (0.0, 100), (math.inf, 100)],
)
def test_choose_reps_fills_the_target_within_bounds(iteration_s: float, expected: int) -> None:
    assert choose_reps(iteration_s, target_s=0.5, min_reps=5, max_reps=100) == expected
