"""Estimated throughput of a workload on a card: a roofline over dense TFLOP/s and memory bandwidth.

One step takes max(FLOPs ÷ (rate × MFU), bytes ÷ (bandwidth × efficiency)); whichever term is larger
names the bound. FLOPs per token are 2·N forward and 6·N for training (Kaplan et al. 2020), plus the
attention term 4·L·d·s forward / 12·L·d·s for training (Chowdhery et al. 2022, "PaLM", appendix B).
Decode reads every weight and the whole KV cache once per generated token, so at small batches it is
memory-bound.
"""

from __future__ import annotations

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
# Per generated token, beyond reading the weights: kernel launches, sampling, the host loop. Calibrated on
# llama.cpp's single-card decode (tests/data/throughput/llama-cpp-multi-gpu.yaml): 8B Q4_K_M on an RTX 4090.
DECODE_TOKEN_OVERHEAD_S = 1.0e-3
# A layer split hands the hidden state from one GPU to the next once per token: a small copy whose cost is
# its latency (the same tables: 1 -> 8 GPUs adds ~0.8 ms per token for 8B).
LAYER_HOP_S = 0.15e-3
# Tensor parallelism all-reduces twice per layer per step; small messages cost their latency.
ALLREDUCE_LATENCY_S = {"nvlink": 8e-6, "pcie": 25e-6}
PCIE_GBS = {3: 12.0, 4: 25.0, 5: 50.0, 6: 100.0}  # usable GB/s per direction of an x16 link


@dataclass(frozen=True)
class Rates:
    """The rates a card offers this workload, and why (dtype fallbacks, measured or catalog peak)."""

    tflops: float | None  # dense TFLOP/s of the dtype the GEMMs run in
    bandwidth_gbs: float | None
    dtype: str | None  # "fp32" | "fp16" | "bf16" | "fp8": the rate used
    measured: bool = False
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Link:
    """How the GPUs of one setup talk: NVLink (or Infinity Fabric) when the card has it, else PCIe."""

    kind: str  # "nvlink" | "pcie"
    gbs: float  # usable GB/s per direction per GPU


def card_link(card: Card) -> Link:
    if card.nvlink_gbs:
        return Link("nvlink", float(card.nvlink_gbs) / 2)
    width = card.pcie_width or 16
    return Link("pcie", PCIE_GBS.get(card.pcie_gen or 4, 25.0) * width / 16)


@dataclass(frozen=True)
class Throughput:
    value: float | None
    unit: str | None  # "tokens/s" | "images/s"
    bound: str | None  # "compute" | "memory"
    detail: str


def gemm_precision(precision: str, task: str) -> str:
    """The dtype a workload's matrix multiplies run in: quantised weights are dequantised (GGUF to fp16,
    bitsandbytes/GPTQ to bf16), QLoRA computes in bf16 unless asked for fp16/fp32."""
    from advisor.recommend.formats import WEIGHT_FORMATS

    if task == "qlora":
        return precision if precision in ("fp32", "fp16") else "bf16"
    return WEIGHT_FORMATS[precision].compute


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


def estimate_throughput(
    r: Resolved, c: Components, rates: Rates, gpus: int, link: Link | None = None
) -> Throughput:
    """Roofline estimate for ``gpus`` cards with ``rates`` each.

    Several GPUs do not scale linearly: a layer split (llama.cpp, transformers) runs the layers one GPU
    after another, so single-stream decode is no faster than one GPU holding everything, plus a hop per
    GPU; tensor parallelism (vLLM) divides the bytes but adds two all-reduces per layer; data-parallel
    training adds the gradient all-reduce over the link (ring: 2 x (N-1)/N of the gradients).
    """
    w = r.workload
    link = link or Link("pcie", 25.0)
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
    flops_rate = rates.tflops * 1e12 * compute_eff
    bytes_rate = rates.bandwidth_gbs * 1e9 * bw_eff
    extra = 0.0
    multi = ""

    if w.is_training:
        linear_mult = 2.0 if w.task in ("lora", "qlora") else 3.0  # frozen weights need no weight gradient
        recompute = 1.0 if w.grad_checkpointing else 0.0
        if unit == "images/s":
            flops_per_unit = fwd * (linear_mult + recompute)
        else:
            attention = fwd - 2.0 * r.model.params_per_token
            flops_per_unit = 2.0 * r.model.params_per_token * (linear_mult + recompute)
            flops_per_unit += attention * (3.0 + recompute)
        local = -(-w.batch // gpus)
        units = local * tps
        step_bytes = (3 * c.weights + 2 * c.gradients + 2 * c.optimizer) / gpus
        t_compute = units * flops_per_unit / flops_rate
        t_memory = step_bytes / bytes_rate
        if gpus > 1:
            grad_bytes = c.gradients  # DDP reduces the gradients in their own dtype
            extra = 2 * grad_bytes * (gpus - 1) / gpus / (link.gbs * 1e9)
            multi = (
                f", {gpus} GPUs data-parallel with a gradient all-reduce over {link.kind} "
                f"({extra * 1e3:.0f} ms/step)"
            )
        step = max(t_compute, t_memory) + extra
        value = gpus * units / step
        what = "training"
    elif r.model.kind == "decoder":  # one token per sequence per step
        units = w.batch
        weights = c.weights * _moe_weight_fraction(r, w.batch)
        kv = c.kv_per_sample * w.batch
        if c.tensor_parallel:
            step_bytes = weights / gpus + kv / min(gpus, c.kv_heads or 1)
            t_compute = units * fwd / gpus / flops_rate
            if gpus > 1:
                extra = 2 * (r.model.layers or 1) * ALLREDUCE_LATENCY_S[link.kind]
                multi = (
                    f", {gpus}-way tensor parallel over {link.kind} (+{extra * 1e3:.1f} ms/token all-reduce)"
                )
        else:
            # layer split: GPUs take turns, so the time is that of all the bytes on one GPU's bandwidth
            step_bytes = weights + kv
            t_compute = units * fwd / flops_rate
            if gpus > 1:
                extra = (gpus - 1) * LAYER_HOP_S
                multi = (
                    f", layers split over {gpus} GPUs run in turn (no speed-up for one stream; more memory)"
                )
        t_memory = step_bytes / bytes_rate
        step = max(t_compute, t_memory) + extra + DECODE_TOKEN_OVERHEAD_S
        value = units / step
        what = "decode"
    else:
        local = -(-w.batch // gpus)
        units = local * tps
        t_compute = units * fwd / flops_rate
        t_memory = c.weights / bytes_rate
        value = gpus * units / max(t_compute, t_memory)
        what = "forward"
        if gpus > 1:
            multi = f", {gpus} replicas"

    basis = "measured" if rates.measured else "peak"
    if t_compute >= t_memory:
        flops_per_unit = (t_compute * flops_rate) / max(units, 1)
        detail = (
            f"{what} compute-bound: {flops_per_unit / 1e9:.3g} GFLOP per {unit.split('s/')[0]} at "
            f"{rates.tflops:.4g} {rates.dtype} TFLOP/s ({basis}) x {compute_eff:.0%}"
        )
        bound = "compute"
    else:
        detail = (
            f"{what} memory-bound: {t_memory * bytes_rate / 1e9:.3g} GB read per step at "
            f"{rates.bandwidth_gbs:.4g} GB/s ({basis}) x {bw_eff:.0%}"
        )
        bound = "memory"
    return Throughput(value, unit, bound, detail + multi)
