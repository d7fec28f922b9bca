"""``underperforming``: a GPU whose benchmark sits clearly below what its card should reach.

Thresholds are our judgement from anchors.md §3: a short fixed-shape BF16/FP16 GEMM on A100/H100 lands
at ~65-85% of dense peak, so below 60% merits a finding; DCGM's own pass lines are ~75% of a measured
reference. Other cases reach less when healthy, so their bars sit lower: FP32 without tensor cores
(GeForce dual-issue FP32 is rarely reached), FP8 (MAMF on Hopper: 71-77% at best), smaller or consumer
cards, and low-power cards (≤ 100 W) get no verdict at all. A false alarm is a bug: when in doubt, no
finding. CPU results never get one (no catalog peak to hold them against).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from advisor.report import BenchResult, Finding

if TYPE_CHECKING:
    from advisor.knowledge.base import Knowledge
    from advisor.knowledge.cards import Card
    from advisor.machine import GPU, Machine

# Fraction of the catalog's dense peak below which a result is "clearly below" (see module docstring).
BIG_TENSOR = 0.60  # tf32/fp16/bf16 on data-center cards of ≥ 250 W (A100, H100 class)
OTHER_TENSOR = 0.45  # tf32/fp16/bf16 elsewhere
FP8 = 0.40
FP32_DATACENTER = 0.50
FP32_OTHER = 0.35
MEMORY = 0.50  # copy/triad reach ~80-92% of HBM/GDDR peak when healthy
ACHIEVABLE = 0.65  # a quick run reaches ~80-90% of the MAMF ceiling (anchors.md §2.9)
LOW_POWER_WATTS = 100.0  # T4/L4/A2 class: power-capped, peak rarely sustained
MIN_MATMUL_DIM = 2048  # smaller problems cannot fill a big GPU: no verdict on them
_LIMITING = ("hw_slowdown", "hw_thermal_slowdown", "sw_thermal_slowdown", "hw_power_brake_slowdown")


def check_performance(machine: Machine, bench: list[BenchResult], knowledge: Knowledge) -> list[Finding]:
    """One ``underperforming`` warning per GPU whose matmul or memory figures sit clearly below its card."""
    by_device: dict[int, list[BenchResult]] = {}
    for result in bench:
        if isinstance(result.device, int):
            by_device.setdefault(result.device, []).append(result)
    findings = []
    for index, results in sorted(by_device.items()):
        gpu = next((g for g in machine.gpus if g.index == index), None)
        card = _card(gpu, knowledge)
        if gpu is not None and gpu.mig_enabled:
            continue  # a MIG slice cannot reach the whole card's peak
        if card is not None and card.tdp_watts is not None and card.tdp_watts <= LOW_POWER_WATTS:
            continue
        low = [r for r in results if _below(r, card)]
        if low:
            findings.append(_finding(index, gpu, card, low))
    return findings


def threshold(result: BenchResult, card: Card | None) -> float | None:
    """The efficiency below which ``result`` is clearly low for this card (None: no verdict for this test)."""
    datacenter = card is not None and card.segment == "datacenter"
    if result.test == "memory-bandwidth":
        return MEMORY
    if result.test != "matmul":
        return None  # copies and latency depend on the host and the link: no catalog figure to hold
    if result.dtype == "fp32":
        return FP32_DATACENTER if datacenter else FP32_OTHER
    if result.dtype == "fp8":
        return FP8
    big = datacenter and card is not None and (card.tdp_watts or 0) >= 250
    return BIG_TENSOR if big else OTHER_TENSOR


def _below(result: BenchResult, card: Card | None) -> bool:
    bar = threshold(result, card)
    if bar is None or result.efficiency is None:
        return False
    if result.test == "matmul" and result.shape and min(result.shape) < MIN_MATMUL_DIM:
        return False
    if result.efficiency >= bar:
        return False
    # A measured ceiling, when the catalog has one, is the fairer yardstick: both must agree.
    return result.achievable is None or result.value < ACHIEVABLE * result.achievable


def _card(gpu: GPU | None, knowledge: Knowledge) -> Card | None:
    if gpu is None:
        return None
    try:
        from advisor.knowledge.match import match_gpu
    except ImportError:  # matcher missing: judge on the result's own peak
        return None
    card: Card | None = match_gpu(gpu, knowledge.cards)
    return card


def _finding(index: int, gpu: GPU | None, card: Card | None, low: Sequence[BenchResult]) -> Finding:
    name = card.name if card else (gpu.name if gpu and gpu.name else f"GPU {index}")
    figures = []
    for r in low:
        what = f"{r.dtype} matmul" if r.test == "matmul" else r.test
        bar = threshold(r, card) or 0.0
        text = (
            f"{what}: {r.value:.4g} {r.unit} = {100 * (r.efficiency or 0):.0f}% of the {r.peak:.4g} {r.unit} "
            f"dense peak (a healthy card reaches at least ~{100 * bar:.0f}% here)"
        )
        if r.achievable:
            text += f", {100 * r.value / r.achievable:.0f}% of the {r.achievable:.4g} measured achievable"
        figures.append(text)
    worst = min(low, key=lambda r: r.efficiency or 1.0)
    causes, fix = _causes(index, gpu, low)
    cause_text = (
        "; ".join(c for _, c in causes) if causes else "no throttling, power cap or other process was seen"
    )
    title = f"{name} reaches {100 * (worst.efficiency or 0):.0f}% of its {_label(worst)} peak"
    if causes:
        title += f": {causes[0][0]}"
    detail = ". ".join(figures) + f". Likely cause: {cause_text}."
    telemetry = [n for r in low for n in r.notes if n.startswith("NVML during the test")]
    if telemetry:
        detail += " " + " ".join(dict.fromkeys(telemetry))
    return Finding(code="underperforming", severity="warning", gpu=index, title=title, detail=detail, fix=fix)


def _label(r: BenchResult) -> str:
    return (r.dtype or "").upper() if r.test == "matmul" else "memory-bandwidth"


def _causes(index: int, gpu: GPU | None, low: Sequence[BenchResult]) -> tuple[list[tuple[str, str]], str]:
    """(short form for the title, sentence for the detail) per likely cause, and the fix."""
    causes: list[tuple[str, str]] = []
    fixes: list[str] = []
    look = "check cooling, power cabling and the PSU; `nvidia-smi -q -d PERFORMANCE` shows the reason"
    if gpu is not None:
        active = [r for r in gpu.throttle_reasons or [] if r in _LIMITING]
        if active:
            causes.append((f"clocks held down by {active[-1]}", f"clocks held down by {', '.join(active)}"))
            fixes.append(look)
        limit, default = gpu.power_limit_watts, gpu.power_default_limit_watts
        if limit is not None and default is not None and limit < 0.95 * default:
            text = f"the power limit is set to {limit:.0f} W of the default {default:.0f} W"
            causes.append(("it is throttling on power", text))
            fixes.append(f"restore the power limit: `sudo nvidia-smi -i {index} -pl {default:.0f}`")
        others = [p for p in gpu.processes or [] if p.kind != "graphics"]
        if others:
            names = ", ".join(sorted({p.name or str(p.pid) for p in others}))[:120]
            causes.append(
                ("other processes share it", f"{len(others)} other process(es) were using it ({names})")
            )
            fixes.append("rerun when the GPU is idle")
        if gpu.temperature_c is not None and gpu.temperature_c >= 85:
            causes.append(("it runs hot", f"it was already at {gpu.temperature_c:.0f} °C before the run"))
    notes = [n for r in low for n in r.notes if n.startswith("NVML during")]
    seen = sorted({reason for n in notes for reason in _LIMITING if reason in n})
    if seen and not any(short.startswith("clocks held down") for short, _ in causes):
        causes.append(
            (f"clocks limited by {seen[-1]}", f"clocks limited during the test by {', '.join(seen)}")
        )
        fixes.append(look)
    fixes.append("rerun with `advisor bench --bench full` to find the real ceiling")
    return causes, "; ".join(dict.fromkeys(fixes))
