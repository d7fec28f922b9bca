"""CPU bench caveats: above-peak figures and busy machines are said aloud; a calm run gets no note."""

from __future__ import annotations

from advisor.bench.caveats import cpu_caveats
from advisor.report import BenchResult


def _cpu(value: float, peak: float, spread: float) -> BenchResult:
    return BenchResult(
        device="cpu", test="matmul", dtype="fp32", value=value, unit="TFLOP/s", median=value, best=value,
        spread=spread, samples=5, seconds=1.0, peak=peak, efficiency=value / peak,
    )  # fmt: skip


def test_above_peak_and_a_busy_machine_get_notes() -> None:
    notes = cpu_caveats([_cpu(0.32, 0.27, 0.8)], load=4.2, cores=2)
    assert any("above its computed peak (119%)" in n for n in notes)
    assert any("load average 4.2 on 2 cores" in n and "runs differed by up to 80%" in n for n in notes)


def test_a_calm_run_below_peak_gets_none() -> None:
    assert cpu_caveats([_cpu(0.2, 0.27, 0.05)], load=0.3, cores=2) == []
    assert cpu_caveats([], load=9.0, cores=2) == []
