"""Estimated throughput of a workload on a card: a roofline over dense TFLOP/s and memory bandwidth.

One step takes max(FLOPs ÷ (rate × MFU), bytes ÷ (bandwidth × efficiency)); whichever term is larger
names the bound. FLOPs per token are 2·N forward and 6·N for training (Kaplan et al. 2020), plus the
attention term 4·L·d·s forward / 12·L·d·s for training (Chowdhery et al. 2022, "PaLM", appendix B).
Decode reads every weight and the whole KV cache once per generated token, so at small batches it is
memory-bound.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from advisor.knowledge.cards import Card
from advisor.recommend.memory import Components, linear_shapes
from advisor.recommend.resolve import Resolved
from advisor.report import BenchResult

# Model FLOP utilisation, stated as assumptions: PaLM trained at 46.2% MFU (Chowdhery et al. 2022,
# table 3); fine-tuning stacks on one node usually reach less. Prefill/encoder forward passes run a bit
# better than training.
MFU_TRAINING = 0.40
MFU_INFERENCE = 0.50
BANDWIDTH_EFFICIENCY = 0.70  # decode kernels reach ~70% of peak memory bandwidth
# A measured matmul already sits at ~80% of dense peak (MAMF; anchors.md section 3), so a model reaches
# MFU / 0.8 of the measured figure; decode reaches ~80% of a measured streaming-copy bandwidth.
MEASURED_MATMUL_OF_PEAK = 0.80
MEASURED_BANDWIDTH_EFFICIENCY = 0.80


@dataclass(frozen=True)
class Rates:
    """The rates a card offers this workload, and why (dtype fallbacks, measured or catalog peak)."""

    tflops: float | None  # dense TFLOP/s of the dtype the GEMMs run in
    bandwidth_gbs: float | None
    dtype: str | None  # "fp32" | "fp16" | "bf16" | "fp8": the rate used
    measured: bool = False
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Throughput:
    value: float | None
    unit: str | None  # "tokens/s" | "images/s"
    bound: str | None  # "compute" | "memory"
    detail: str


def gemm_precision(precision: str, task: str) -> str:
    """The dtype a workload's matrix multiplies run in: weight-only int8/int4 and QLoRA compute in bf16."""
    if precision in ("int8", "int4") or (task == "qlora" and precision != "fp32" and precision != "fp16"):
        return "bf16"
    return precision


def card_rates(card: Card, precision: str, task: str) -> Rates:
    """Catalog peak rates for the workload's GEMM dtype, with a stated fallback where the card lacks it."""
    want = gemm_precision(precision, task)
    notes: list[str] = []
    dtype: str | None = want
    rate = card.peak(want)
    if rate is None and want == "fp8":
        dtype = "bf16" if card.peak("bf16") else "fp16"
        rate = card.peak(dtype)
        notes.append(
            f"no FP8 tensor rate on {card.name}: fp8 weights still halve memory, GEMMs at the {dtype} rate"
        )
    if rate is None and want == "bf16" and card.peak("fp16"):
        dtype, rate = "fp16", card.peak("fp16")
        notes.append(
            f"no bf16 tensor cores on {card.name} ({card.architecture}): estimated at the fp16 rate, so run "
            "fp16 mixed precision (bf16 there runs at the much slower fp32 rate)"
        )
    if rate is None and want in ("bf16", "fp16") and card.peak("fp32"):
        dtype, rate = "fp32", card.peak("fp32")
        notes.append(f"no {want} tensor rate for {card.name} in the catalog: estimated at its fp32 rate")
    if rate is None:
        dtype = None
    bandwidth = float(card.memory_bandwidth_gbs) if card.memory_bandwidth_gbs else None
    return Rates(tflops=rate, bandwidth_gbs=bandwidth, dtype=dtype, notes=tuple(notes))


def measured_rates(base: Rates, bench: Sequence[BenchResult], devices: Sequence[int]) -> Rates:
    """Replace catalog peaks by this machine's measured figures (the slowest of the GPUs used)."""
    matmul = [
        b.value
        for b in bench
        if b.test == "matmul" and b.dtype == base.dtype and b.device in devices and b.value > 0
    ]
    copy = [b.value for b in bench if b.test == "memory-bandwidth" and b.device in devices and b.value > 0]
    if not matmul and not copy:
        return base
    notes = list(base.notes)
    if matmul:
        notes.append(
            f"measured {base.dtype} matmul {min(matmul):.1f} TFLOP/s used instead of the catalog peak"
        )
    if copy:
        notes.append(f"measured memory bandwidth {min(copy):.0f} GB/s used instead of the catalog peak")
    return Rates(
        tflops=min(matmul) if matmul else base.tflops,
        bandwidth_gbs=min(copy) if copy else base.bandwidth_gbs,
        dtype=base.dtype,
        measured=bool(matmul) or bool(copy),
        notes=tuple(notes),
    )


def _efficiencies(rates: Rates, training: bool) -> tuple[float, float]:
    mfu = MFU_TRAINING if training else MFU_INFERENCE
    compute = mfu / MEASURED_MATMUL_OF_PEAK if rates.measured else mfu
    bandwidth = MEASURED_BANDWIDTH_EFFICIENCY if rates.measured else BANDWIDTH_EFFICIENCY
    return compute, bandwidth


def _moe_weight_fraction(r: Resolved, tokens_per_step: int) -> float:
    """Share of the weights one decode step reads: MoE steps touch only the experts routed to."""
    m = r.model
    if not m.experts or not m.experts_per_token:
        return 1.0
    expert_params = sum(i * o * n for i, o, n in linear_shapes(m)[3:])  # the MLP matrices, all experts
    touched = 1 - (1 - m.experts_per_token / m.experts) ** tokens_per_step
    return min(1.0, (m.params - expert_params + expert_params * touched) / m.params)


def _flops_per_sample(r: Resolved) -> tuple[float, str] | None:
    """Forward FLOPs per unit of throughput (a token, or an image), and that unit."""
    m = r.model
    if m.kind == "vision" and m.forward_macs:
        return 2.0 * m.forward_macs, "images/s"
    if m.kind in ("decoder", "encoder") and m.layers and m.heads:
        ctx = r.tokens_per_sample or 0
        attention = 4.0 * m.layers * m.heads * (m.attention_head_dim or 0) * ctx
        return 2.0 * m.params_per_token + attention, "tokens/s"
    return None


def estimate_throughput(r: Resolved, c: Components, rates: Rates, gpus: int) -> Throughput:
    """Roofline estimate for ``gpus`` cards with ``rates`` each (linear scaling across GPUs assumed)."""
    w = r.workload
    per = _flops_per_sample(r)
    if per is None:
        return Throughput(
            None,
            "images/s" if r.model.kind != "decoder" else "tokens/s",
            None,
            f"no FLOP count for {r.model.name} in its preset: throughput not estimated",
        )
    fwd, unit = per
    if rates.tflops is None or rates.bandwidth_gbs is None:
        missing = "dense TFLOP/s" if rates.tflops is None else "memory bandwidth"
        return Throughput(None, unit, None, f"the catalog has no {missing} for this card")
    compute_eff, bw_eff = _efficiencies(rates, w.is_training)
    tps = 1 if unit == "images/s" else (r.tokens_per_sample or 1)

    if w.is_training:
        linear_mult = 2.0 if w.task in ("lora", "qlora") else 3.0  # frozen weights need no weight gradient
        recompute = 1.0 if w.grad_checkpointing else 0.0
        if unit == "images/s":
            flops_per_unit = fwd * (linear_mult + recompute)
        else:
            attention = fwd - 2.0 * r.model.params_per_token
            flops_per_unit = 2.0 * r.model.params_per_token * (linear_mult + recompute)
            flops_per_unit += attention * (3.0 + recompute)
        local = math.ceil(w.batch / gpus)
        units = local * tps
        step_bytes = (3 * c.weights + 2 * c.gradients + 2 * c.optimizer) / gpus
        what = "training"
    elif c.tensor_parallel:  # decoder: one token per sequence per step
        units = w.batch
        flops_per_unit = fwd
        weights = c.weights * _moe_weight_fraction(r, w.batch)
        step_bytes = weights / gpus + c.kv_per_sample * w.batch / min(gpus, c.kv_heads or 1)
        what = "decode"
    else:
        local = math.ceil(w.batch / gpus)
        units = local * tps
        flops_per_unit = fwd
        step_bytes = c.weights
        what = "forward"

    step_flops = units * flops_per_unit / (gpus if c.tensor_parallel else 1)
    t_compute = step_flops / (rates.tflops * 1e12 * compute_eff)
    t_memory = step_bytes / (rates.bandwidth_gbs * 1e9 * bw_eff)
    scale = 1 if c.tensor_parallel else gpus  # data-parallel replicas each run their own step
    value = scale * units / max(t_compute, t_memory)
    basis = "measured" if rates.measured else "peak"
    if t_compute >= t_memory:
        detail = (
            f"{what} compute-bound: {flops_per_unit / 1e9:.3g} GFLOP per {unit.split('s/')[0]} at "
            f"{rates.tflops:.4g} {rates.dtype} TFLOP/s ({basis}) x {compute_eff:.0%}"
        )
        bound = "compute"
    else:
        detail = (
            f"{what} memory-bound: {step_bytes / 1e9:.3g} GB read per step per GPU at "
            f"{rates.bandwidth_gbs:.4g} GB/s ({basis}) x {bw_eff:.0%}"
        )
        bound = "memory"
    if gpus > 1:
        detail += f", {gpus} GPUs scaling linearly"
    return Throughput(value, unit, bound, detail)
