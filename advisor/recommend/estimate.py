"""`advisor recommend`: a workload against the card catalog → WorkloadEstimate (the JSON contract)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from advisor.recommend.advice import FitsWhere, advise
from advisor.recommend.formats import WEIGHT_FORMATS
from advisor.recommend.memory import (
    ADAPTER_BYTES,
    CUDA_CONTEXT_BYTES,
    FRAGMENTATION,
    LLAMA_CPP_CONTEXT_BYTES,
    LLAMA_CPP_UBATCH,
    LOGITS_FP32_COPIES,
    VLLM_GPU_MEMORY_UTILIZATION,
    Components,
    breakdown,
    components,
    kv_tokens,
    lora_params,
)
from advisor.recommend.rank import (
    DEFAULT_SORT,
    Rate,
    card_capacity,
    device_cards,
    engine_capacity,
    fewest_gpus,
    rank_cards,
)
from advisor.recommend.resolve import Resolved, resolve
from advisor.recommend.throughput import (
    BANDWIDTH_EFFICIENCY,
    MFU_INFERENCE,
    MFU_TRAINING,
)
from advisor.recommend.workload import Workload, format_params
from advisor.report import WorkloadEstimate
from advisor.units import format_bytes

if TYPE_CHECKING:
    from advisor.knowledge.base import Knowledge
    from advisor.knowledge.cards import Card
    from advisor.knowledge.loader import CardsAndModels
    from advisor.knowledge.models import ModelPreset
    from advisor.report import CardFit


def estimate(
    workload: Workload,
    knowledge: Knowledge | CardsAndModels,
    *,
    sort: str = DEFAULT_SORT,
    rates: dict[str, Rate] | None = None,
    model: ModelPreset | None = None,
) -> WorkloadEstimate:
    """Memory breakdown, assumptions and every catalog card ranked for ``workload``.

    Only the catalog's cards and models are used: the full ``Knowledge`` or the lighter
    ``CardsAndModels`` (``advisor.knowledge.loader.load_cards_and_models``) will do.
    """
    r = resolve(workload, [model] if model is not None else knowledge.models)
    c = components(r)
    cards = rank_cards(r, c, knowledge.cards, sort, rates)
    advice: list[str] = []
    picks = pick_cards(r, cards, rates or {})
    if any(f.fits for f in cards):
        advice = cheaper_recipes(r, cards, knowledge.cards, rates or {})
    else:
        advice = advise(r, _catalog_fits(knowledge.cards))
        more = [f for f in cards if workload.gpus and f.gpus_needed and f.gpus_needed > workload.gpus]
        if more:
            best = min(more, key=lambda f: (f.gpus_needed or 0, f.id))
            advice.insert(0, f"--gpus {best.gpus_needed}: fits {best.gpus_needed} x {best.name}")
        if any(f.gpus_needed is not None for f in cards) and (workload.budget_usd or workload.min_throughput):
            advice.insert(
                0, "some cards hold the workload but miss --budget or --min-throughput: see their reasons"
            )
        elif not advice:
            advice.append(
                "nothing in the catalog holds it, even with every saving tried: use a smaller model"
            )
    return WorkloadEstimate(
        workload=r.workload.model_dump(mode="json"),
        memory=breakdown(c, r.workload.batch, r.workload.gpus or 1),
        assumptions=[*r.assumptions, *assumptions(r, c, sort, rates)],
        cards=cards,
        advice=advice,
        picks=picks,
    )


def _setup(f: CardFit, r: Resolved) -> str:
    n = r.workload.gpus or f.gpus_needed or 1
    return f"{n} x {f.name}" if n > 1 else f.name


def pick_cards(r: Resolved, cards: Sequence[CardFit], rates: dict[str, Rate]) -> list[str]:
    """One to three setups called out, each with why: the cheapest to rent, the fastest, the best value
    to buy (throughput per launch dollar), skipping repeats."""
    fitting = [f for f in cards if f.fits]
    if not fitting:
        return []
    out: list[str] = []
    seen: set[str] = set()

    def add(f: CardFit, why: str) -> None:
        if f.id not in seen:
            seen.add(f.id)
            out.append(f"{_setup(f, r)}: {why}")

    rented = [f for f in fitting if f.id in rates]
    if rented:
        f = min(
            rented, key=lambda f: (rates[f.id].usd_per_hour * (r.workload.gpus or f.gpus_needed or 1), f.id)
        )
        n = r.workload.gpus or f.gpus_needed or 1
        speed = f", ~{f.est_throughput:,.0f} {f.throughput_unit}" if f.est_throughput else ""
        add(f, f"cheapest to rent (${rates[f.id].usd_per_hour * n:.2f}/h{speed})")
    fast = [f for f in fitting if f.est_throughput is not None]
    if fast:
        f = max(fast, key=lambda f: (f.est_throughput or 0, f.id))
        add(f, f"fastest (~{f.est_throughput:,.0f} {f.throughput_unit}, {f.bound or 'unknown'}-bound)")
    valued = [f for f in fitting if f.price_perf is not None]
    if valued:
        f = max(valued, key=lambda f: (f.price_perf or 0, f.id))
        add(f, f"most {f.throughput_unit} per launch dollar to buy ({f.price_perf:,.1f} per $1,000)")
    return out[:3]


def cheaper_recipes(
    r: Resolved, cards: Sequence[CardFit], catalog: Sequence[Card], rates: dict[str, Rate]
) -> list[str]:
    """Recipes that change the answer: the same job on fewer or cheaper GPUs (QLoRA, checkpointing, a
    smaller KV cache or weight format), each with the setup it then fits."""
    from advisor.recommend.advice import recipe_variants

    def cost(n: int, card: Card) -> float:
        rate = rates.get(card.id)
        return (rate.usd_per_hour if rate else 1e6 + card.memory_gb) * n

    def best(v: Resolved) -> tuple[float, int, str] | None:
        vc = components(v)
        options = []
        for card, name in device_cards(catalog):
            n = fewest_gpus(
                vc, v.workload.batch, engine_capacity(v, card_capacity(card)), v.workload.max_gpus
            )
            if n is not None:
                options.append((cost(n, card), n, f"{n} x {name}" if n > 1 else f"one {name}"))
        return min(options) if options else None

    now = best(r)
    if now is None:
        return []
    out: list[str] = []
    for flag, v in recipe_variants(r):
        then = best(v)
        if then is not None and (then[1] < now[1] or then[0] < now[0] * 0.8):
            out.append(f"with {flag} it fits {then[2]} (now: {now[2]})")
        if len(out) >= 3:
            break
    return out


def _catalog_fits(cards: Sequence[Card]) -> FitsWhere:
    def fits_where(v: Resolved, vc: Components) -> str | None:
        options = []
        for card, _name in device_cards(cards):
            n = fewest_gpus(
                vc, v.workload.batch, engine_capacity(v, card_capacity(card)), v.workload.max_gpus
            )
            if n is not None:
                options.append((n * card.memory_gb, n, card.id, card.name))
        if not options:
            return None
        _, n, _, name = min(options)
        more = (
            f" (and {len(options) - 1} other card{'s' if len(options) > 2 else ''})"
            if len(options) > 1
            else ""
        )
        return f"{n} x {name}{more}"

    return fits_where


def assumptions(
    r: Resolved, c: Components, sort: str | None = DEFAULT_SORT, rates: dict[str, Rate] | None = None
) -> list[str]:
    """The assumptions an estimate rests on, in words, with the figures used (``sort=None``: no ranking,
    as for one machine)."""
    w, m = r.workload, r.model
    out: list[str] = [f"model: {m.name}, {format_params(m.params)} parameters ({m.source})"]
    if m.active_params:
        out.append(
            f"mixture of experts: {format_params(m.active_params)} of {format_params(m.params)} parameters "
            "active per token; all experts are held in memory (spread over the GPUs with expert or "
            "tensor parallelism)"
        )
    if m.vision_params:
        out.append(f"vision tower: {format_params(m.vision_params)} parameters, counted in the weights")
    out.append(_engine_words(r))
    fmt = WEIGHT_FORMATS["nf4" if w.task == "qlora" else w.precision]
    if fmt.bits < 16 or w.task == "qlora":
        where = (
            "every tensor (the file's bits per weight)"
            if fmt.whole_model
            else ("the block weights; embeddings and LM head kept in 16-bit")
        )
        out.append(f"weights: {fmt.name}, {fmt.bits:g} bits per weight on {where} — {fmt.source}")
        if fmt.compute in ("bf16", "fp16") and fmt.name not in ("fp8",):
            out.append(
                f"quantised weights are dequantised for {fmt.compute} GEMMs; int8/int4 tensor-core rates are "
                "not used"
            )
    if c.host_weights:
        out.append(
            f"llama.cpp keeps the token embeddings ({format_bytes(c.host_weights)}) in CPU RAM, not on the "
            "GPU"
        )
    if w.task in ("finetune", "pretrain"):
        if w.precision == "fp32":
            out.append("full training in fp32: 4-byte weights and gradients plus optimizer states")
        elif r.engine == "pytorch":
            out.append(
                f"full training with {w.precision} autocast (plain PyTorch / HF Trainer): fp32 weights, fp32 "
                "gradients and fp32 AdamW states (4+4+8 = 16 bytes/param) plus a 16-bit copy of every matmul "
                "weight for the step; DeepSpeed/FSDP keep 16-bit weights and gradients with an fp32 master "
                "(2+2+12, ZeRO) — --engine zero1|zero2|zero3|fsdp"
            )
        else:
            out.append(
                f"full training in {w.precision} mixed precision under {r.engine}: 16-bit weights and "
                "gradients + "
                "fp32 master weights and AdamW states, 2+2+12 = 16 bytes/param (ZeRO, Rajbhandari 2019)"
            )
        out.append(_optimizer_words(w.optimizer or "adamw"))
    if w.task in ("lora", "qlora"):
        rank = w.lora_rank or 16
        out.append(
            f"LoRA rank {rank} on every linear layer of the blocks (q, k, v, o and the MLP): "
            f"{format_params(lora_params(m, rank))} trainable parameters with their gradients in "
            + (
                "bf16 (qlora.py casts the LoRA layers to bf16)"
                if w.task == "qlora" and w.precision != "fp32"
                else f"fp32 ({ADAPTER_BYTES} bytes, peft's default)"
            )
            + f" and {w.optimizer} states in fp32; frozen weights get no gradients"
        )
        out.append(_optimizer_words(w.optimizer or "adamw"))
    if w.is_training and c.activations_per_sample:
        ckpt = (
            "with gradient checkpointing: each layer's input kept, one layer recomputed at a time"
            if w.grad_checkpointing
            else "without gradient checkpointing: every layer's saved tensors kept"
        )
        out.append(
            "training peak: the larger of forward/backward (stored activations, the loss's logits — "
            f"{LOGITS_FP32_COPIES:g} fp32 copies in Hugging Face causal LMs — and autocast's weight casts) "
            "and "
            "the optimizer step (all gradients + one parameter-sized temporary), calibrated within 15% "
            f"against peaks measured with torch's allocator (tests/data/memory/); {ckpt}"
        )
    elif c.activations_per_sample:
        out.append(
            "activations: one layer's working set for the whole prompt (prefill), plus last-token logits"
        )
    elif c.compute_buffer:
        out.append(
            f"llama.cpp compute buffer: {format_bytes(c.compute_buffer)} per GPU for a "
            f"{LLAMA_CPP_UBATCH}-token "
            "micro-batch (its logits and, without flash attention, one layer's K·Q scores over the context)"
        )
    elif m.kind in ("vision", "diffusion"):
        out.append(
            f"activations of {m.name} are not modelled (no layer shapes in its preset): the memory "
            "figures are a lower bound"
        )
    if c.kv_per_sample:
        tokens = kv_tokens(r)
        per_token = c.kv_per_sample / (tokens or 1)
        elem = per_token / (2 * (m.layers or 1) * (m.key_value_heads or 1) * (m.attention_head_dim or 1))
        window = f" (sliding window {m.sliding_window})" if tokens != w.seq_len else ""
        out.append(
            f"KV cache ({w.kv_dtype or 'model dtype'}): 2 (K, V) x {m.layers} layers x "
            f"{m.key_value_heads} KV heads x {m.attention_head_dim} head dim x {elem:g} bytes = "
            f"{format_bytes(per_token)} per token, "
            f"x {tokens} tokens{window} x batch {w.batch}"
        )
    context = LLAMA_CPP_CONTEXT_BYTES if r.engine == "llama.cpp" else CUDA_CONTEXT_BYTES
    out.append(
        f"overhead: {format_bytes(context)} per GPU (CUDA context, library workspaces) + "
        f"{FRAGMENTATION:.0%} allocator rounding on what each step allocates"
    )
    out.append(_sharding_words(r, c))
    out.append(
        "card memory: the catalog's GB read as GiB (GPU memory is binary-sized: a 24 GB RTX 3090 reports "
        "24576 MiB); for this machine (check --workload) the probe's free memory is used instead"
    )
    mfu = MFU_TRAINING if w.is_training else MFU_INFERENCE
    if m.kind == "decoder" and not w.is_training:
        out.append(
            f"throughput: single-stream decode at full context, roofline of dense peak TFLOP/s x {mfu:.0%} "
            f"and peak bandwidth x {BANDWIDTH_EFFICIENCY:.0%} (weights and the whole KV cache read every "
            "token) + 1 ms per token (llama.cpp's; Python runtimes add more); calibrated against "
            "llama.cpp's published single- and multi-GPU tables (tests/data/throughput/); prefill not "
            "included"
        )
    else:
        flops = "6·N" if w.task in ("finetune", "pretrain") else ("4·N" if w.is_training else "2·N")
        extra = " (+2·N recompute)" if w.grad_checkpointing else ""
        out.append(
            f"throughput: {flops}{extra} FLOPs per token plus attention (PaLM appendix B), or per image from "
            f"the preset's multiply-adds; dense peak TFLOP/s x {mfu:.0%} MFU; roofline against bandwidth "
            f"x {BANDWIDTH_EFFICIENCY:.0%}; checked against NeMo's published pretraining figures "
            "(tests/data/throughput/)"
        )
    if sort is None:
        return out
    if rates:
        dates = sorted({rate.date for rate in rates.values()})
        out.append(
            f"rent: on-demand USD per GPU-hour from catalog/prices/ ({len(rates)} cards, {dates[0]} to "
            f"{dates[-1]}, each with its source); price/performance: throughput per 1,000 USD of launch price"
        )
    sort_words = {
        "cost": "cheapest hourly rent for the GPUs needed; cards without a known rate after, fewest GPUs "
        "first",
        "gpus": "fewest GPUs, then highest throughput",
        "throughput": "highest throughput",
        "price-perf": "best price/performance",
        "price": "lowest launch price x GPUs",
    }
    out.append(
        f"ranking: cards that fit first ({sort_words.get(sort, sort)}), then cards that fit in memory "
        "but miss a requirement (--budget, --min-throughput N to ask for a speed, software support), then "
        "the rest, largest memory first; ties by id"
    )
    return out


def _engine_words(r: Resolved) -> str:
    w = r.workload
    chosen = "" if w.engine else " (the usual runtime for this; --engine to change)"
    if w.is_training:
        return f"engine: {r.engine}{chosen}"
    if r.engine == "vllm":
        return (
            f"engine: vLLM{chosen}: takes {VLLM_GPU_MEMORY_UTILIZATION:.0%} of each GPU "
            "(gpu_memory_utilization) for weights, activations and KV cache; tensor parallel across GPUs"
        )
    if r.engine == "llama.cpp":
        return f"engine: llama.cpp{chosen}: all layers on the GPU(s) (-ngl all), layers split across GPUs"
    return f"engine: transformers{chosen}: device_map='auto' splits the layers across GPUs"


def _optimizer_words(optimizer: str) -> str:
    return {
        "adamw": "optimizer: AdamW, fp32 momentum and variance (8 bytes/trainable param)",
        "adamw-8bit": "optimizer: 8-bit AdamW (bitsandbytes), 2 bytes/trainable param",
        "sgd": "optimizer: SGD with momentum, 4 bytes/trainable param",
        "adafactor": "optimizer: Adafactor without momentum, factored second moment "
        "(one fp32 row and column per matrix)",
    }[optimizer]


def _sharding_words(r: Resolved, c: Components) -> str:
    w = r.workload
    head = "memory: the whole job on one GPU; per_gpu and each card's figure split it over N GPUs: "
    if not w.is_training:
        if c.tensor_parallel:
            return head + (
                "tensor parallel, weights split evenly, KV cache split over at most "
                f"{c.kv_heads} GPUs (its KV heads; replicated beyond), activations not split"
            )
        return head + "layer split, each GPU holds its share of the layers and their KV cache"
    if r.engine == "pytorch" and w.engine is None:
        return head + (
            "one GPU runs the whole step (plain PyTorch / HF Trainer); on several, FSDP full shard: weights, "
            "gradients and optimizer states sharded evenly, one layer gathered at a time (--engine pytorch "
            "for DDP replicas, zero1/zero2 for partial sharding)"
        )
    if r.engine == "pytorch":
        return head + (
            "one GPU runs the whole step; on several, DDP replicates weights, gradients and optimizer states "
            "(and adds gradient buckets) — --engine zero3 or fsdp to shard"
        )
    return head + {
        "zero1": "ZeRO-1 shards the optimizer states",
        "zero2": "ZeRO-2 shards optimizer states and gradients",
        "zero3": "ZeRO-3 shards weights, gradients and optimizer states, gathering one layer at a time",
        "fsdp": "FSDP full shard: weights, gradients and optimizer states, gathering one layer at a time",
    }.get(r.engine, r.engine)
