"""`underperforming` on recorded bench results against the shipped catalog (no benchmark is run).

Figures are chosen around the anchors of anchors.md §3: a healthy short BF16 GEMM on A100/H100 sits at
~65-85% of dense peak; below 60% merits a finding; GeForce may exceed 100%.
"""

from __future__ import annotations

import pytest

from advisor.knowledge.base import Knowledge
from advisor.knowledge.loader import load_knowledge
from advisor.machine import GPU, GPUProcess, Machine
from advisor.report import BenchResult
from advisor.rules.performance import check_performance


@pytest.fixture(scope="module")
def knowledge() -> Knowledge:
    return load_knowledge()


def gpu(name: str, **kw: object) -> GPU:
    return GPU.model_validate({"index": 0, "name": name, "throttle_reasons": [], "processes": [], **kw})


def mm(
    dtype: str,
    value: float,
    peak: float | None,
    *,
    achievable: float | None = None,
    shape: int = 8192,
    notes: list[str] | None = None,
    device: int | str = 0,
) -> BenchResult:
    return BenchResult.model_validate(
        dict(
            device=device,
            test="matmul",
            dtype=dtype,
            value=value,
            unit="TFLOP/s",
            peak=peak,
            efficiency=None if not peak else value / peak,
            achievable=achievable,
            median=value,
            best=value * 1.01,
            spread=0.02,
            samples=20,
            shape=[shape] * 3,
            seconds=1.0,
            notes=notes or [],
        )
    )


def membw(value: float, peak: float) -> BenchResult:
    return BenchResult.model_validate(
        dict(
            device=0,
            test="memory-bandwidth",
            value=value,
            unit="GB/s",
            peak=peak,
            efficiency=value / peak,
            median=value,
            best=value,
            spread=0.01,
            samples=20,
            shape=[2**30],
            seconds=1.0,
        )
    )


A100 = "NVIDIA A100-SXM4-80GB"


def test_a100_at_41_percent_on_a_reduced_power_limit(knowledge: Knowledge) -> None:
    machine = Machine(gpus=[gpu(A100, power_limit_watts=250.0, power_default_limit_watts=400.0)])
    findings = check_performance(machine, [mm("bf16", 128.0, 312.0, achievable=271.2)], knowledge)
    assert [(f.code, f.severity, f.gpu) for f in findings] == [("underperforming", "warning", 0)]
    f = findings[0]
    assert "41%" in f.title and "throttling on power" in f.title
    assert "set to 250 W of the default 400 W" in f.detail and "271.2" in f.detail
    assert f.fix is not None and "nvidia-smi -i 0 -pl 400" in f.fix


def test_healthy_h100_quick_figure_is_quiet(knowledge: Knowledge) -> None:
    machine = Machine(gpus=[gpu("NVIDIA H100 80GB HBM3")])
    results = [
        mm("bf16", 700.0, 989.4, achievable=794.5),
        mm("fp8", 1150.0, 1978.9, achievable=1402.6),
        mm("tf32", 330.0, 494.7),
        mm("fp32", 50.0, 66.9),
        membw(2900.0, 3350.0),
    ]
    assert check_performance(machine, results, knowledge) == []


def test_geforce_above_100_percent_and_low_dual_issue_fp32_are_not_alarms(knowledge: Knowledge) -> None:
    machine = Machine(gpus=[gpu("NVIDIA GeForce RTX 3090")])
    results = [mm("fp16", 74.0, 71.0), mm("fp32", 22.0, 35.6), mm("tf32", 30.0, 35.6)]
    assert check_performance(machine, results, knowledge) == []


def test_low_power_t4_gets_no_verdict(knowledge: Knowledge) -> None:
    machine = Machine(gpus=[gpu("Tesla T4")])
    assert check_performance(machine, [mm("fp16", 25.0, 65.0)], knowledge) == []


def test_cpu_results_never_get_a_finding(knowledge: Knowledge) -> None:
    results = [mm("fp32", 0.01, 1.0, device="cpu"), mm("bf16", 0.01, 2.0, device="cpu")]
    assert check_performance(Machine(), results, knowledge) == []


def test_mig_slice_and_small_problems_are_not_judged(knowledge: Knowledge) -> None:
    mig = Machine(gpus=[gpu(A100, mig_enabled=True)])
    assert check_performance(mig, [mm("bf16", 90.0, 312.0)], knowledge) == []
    whole = Machine(gpus=[gpu(A100)])
    shrunk = mm("bf16", 90.0, 312.0, shape=1024, notes=["out of memory at 8192×8192×8192: retried ..."])
    assert check_performance(whole, [shrunk], knowledge) == []


def test_achievable_reference_guards_a_borderline_figure(knowledge: Knowledge) -> None:
    machine = Machine(gpus=[gpu(A100)])
    # 180 is 58% of peak but 66% of the 271.2 measured ceiling: not clearly low
    assert check_performance(machine, [mm("bf16", 180.0, 312.0, achievable=271.2)], knowledge) == []
    low = check_performance(machine, [mm("bf16", 150.0, 312.0, achievable=271.2)], knowledge)
    assert [f.code for f in low] == ["underperforming"]
    assert "no throttling, power cap or other process was seen" in low[0].detail


def test_memory_bandwidth_far_below_the_card(knowledge: Knowledge) -> None:
    machine = Machine(gpus=[gpu(A100)])
    assert check_performance(machine, [membw(1700.0, 2039.0)], knowledge) == []
    low = check_performance(machine, [membw(800.0, 2039.0)], knowledge)
    assert len(low) == 1 and "memory-bandwidth: 800 GB/s = 39%" in low[0].detail


def test_power_brake_and_other_processes_are_named(knowledge: Knowledge) -> None:
    # dump 37: V100-SXM2-32GB in a C4130 with "HW Power Brake Slowdown: Active"
    v100 = gpu(
        "Tesla V100-SXM2-32GB",
        throttle_reasons=["hw_slowdown", "hw_power_brake_slowdown"],
        processes=[GPUProcess(pid=4242, name="python", kind="compute")],
    )
    findings = check_performance(Machine(gpus=[v100]), [mm("fp16", 40.0, 125.0)], knowledge)
    assert len(findings) == 1
    detail = findings[0].detail
    assert "hw_power_brake_slowdown" in detail
    assert "1 other process(es) were using it (python)" in detail


def test_telemetry_seen_during_the_test_is_quoted(knowledge: Knowledge) -> None:
    note = (
        "NVML during the test (12 samples): SM clock 705-1410 MHz (max 1410); clock limits: "
        + "hw_thermal_slowdown"
    )
    findings = check_performance(
        Machine(gpus=[gpu(A100)]), [mm("bf16", 100.0, 312.0, notes=[note])], knowledge
    )
    assert len(findings) == 1
    assert note in findings[0].detail
    assert "clocks limited during the test by hw_thermal_slowdown" in findings[0].detail


def test_unknown_card_without_peak_is_quiet(knowledge: Knowledge) -> None:
    machine = Machine(gpus=[gpu("NVIDIA Mystery GPU 9000")])
    assert check_performance(machine, [mm("bf16", 1.0, None)], knowledge) == []
