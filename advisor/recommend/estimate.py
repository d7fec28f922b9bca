"""`advisor recommend`: a workload against the card catalog → WorkloadEstimate (the JSON contract)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from advisor.recommend.advice import FitsWhere, advise
from advisor.recommend.memory import (
    ADAPTER_BYTES,
    CUDA_CONTEXT_BYTES,
    FRAGMENTATION,
    INT4_BYTES,
    NF4_BYTES,
    Components,
    breakdown,
    components,
    lora_params,
)
from advisor.recommend.rank import card_capacity, fewest_gpus, rank_cards
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


def estimate(
    workload: Workload, knowledge: Knowledge | CardsAndModels, *, sort: str = "gpus"
) -> WorkloadEstimate:
    """Memory breakdown, assumptions and every catalog card ranked for ``workload``.

    Only the catalog's cards and models are used: the full ``Knowledge`` or the lighter
    ``CardsAndModels`` (``advisor.knowledge.loader.load_cards_and_models``) will do.
    """
    r = resolve(workload, knowledge.models)
    c = components(r)
    cards = rank_cards(r, c, knowledge.cards, sort)
    advice: list[str] = []
    if not any(f.fits for f in cards):
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
        assumptions=[*r.assumptions, *assumptions(r, c, sort)],
        cards=cards,
        advice=advice,
    )


def _catalog_fits(cards: Sequence[Card]) -> FitsWhere:
    def fits_where(v: Resolved, vc: Components) -> str | None:
        options = []
        for card in cards:
            n = fewest_gpus(vc, v.workload.batch, card_capacity(card), v.workload.max_gpus)
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


def assumptions(r: Resolved, c: Components, sort: str | None = "gpus") -> list[str]:
    """The assumptions an estimate rests on, in words, with the figures used (``sort=None``: no ranking,
    as for one machine)."""
    w, m = r.workload, r.model
    out: list[str] = [f"model: {m.name}, {format_params(m.params)} parameters ({m.source})"]
    if m.active_params:
        out.append(
            f"mixture of experts: {format_params(m.active_params)} of {format_params(m.params)} parameters "
            "active per token; all experts are held in memory"
        )
    if w.task == "qlora":
        out.append(
            f"weights: 4-bit NF4 with double quantisation, {NF4_BYTES * 8:.3f} bits/param (Dettmers et "
            "al. 2023), embeddings and LM head kept in 16-bit"
        )
    elif w.precision == "int4":
        out.append(
            f"weights: int4, {INT4_BYTES * 8:.2f} bits/param (group size 128 with 16-bit scale and zero), "
            "embeddings and LM head kept in 16-bit"
        )
    elif w.precision in ("int8", "fp8") and w.task not in ("finetune", "pretrain"):
        out.append(f"weights: {w.precision}, 1 byte/param, embeddings and LM head kept in 16-bit")
    if w.precision in ("int8", "int4") or w.task == "qlora":
        out.append(
            "quantised weights are dequantised for bf16 GEMMs (fp16 where the card lacks bf16); int8/int4 "
            "tensor-core rates are not used"
        )
    if w.task in ("finetune", "pretrain"):
        if w.precision == "fp32":
            out.append("full training in fp32: 4-byte weights and gradients plus optimizer states")
        else:
            out.append(
                f"full training in {w.precision} mixed precision: 16-bit weights and gradients + fp32 master "
                "weights; with AdamW 2+2+12 = 16 bytes/param before activations (ZeRO, Rajbhandari 2019)"
            )
            if w.precision == "fp8":
                out.append(
                    "fp8 training: fp8 GEMMs (Transformer Engine style) with 16-bit weights kept for memory"
                )
        out.append(_optimizer_words(w.optimizer or "adamw"))
    if w.task in ("lora", "qlora"):
        rank = w.lora_rank or 16
        out.append(
            f"LoRA rank {rank} on every linear layer of the blocks (q, k, v, o and the MLP): "
            f"{format_params(lora_params(m, rank))} trainable parameters, held with gradients and "
            f"{w.optimizer} states in fp32 ({ADAPTER_BYTES} bytes each); frozen weights get no gradients"
        )
        out.append(_optimizer_words(w.optimizer or "adamw"))
    if c.activations_per_sample:
        if w.is_training:
            ckpt = (
                "with gradient checkpointing: each layer's input kept, one layer recomputed at a time"
                if w.grad_checkpointing
                else "without gradient checkpointing: every layer's activations kept"
            )
            out.append(
                "activations: per-layer tensor count of Korthikanti et al. 2022 (34·s·b·h for a GPT layer), "
                f"FlashAttention (no s² scores), 16-bit, fp32 logits for the loss; {ckpt}"
            )
        else:
            out.append(
                "activations: one layer's working set for the whole prompt (prefill), plus last-token logits"
            )
    elif m.kind in ("vision", "diffusion"):
        out.append(
            f"activations of {m.name} are not modelled (no layer shapes in its preset): the memory "
            "figures are a lower bound"
        )
    if c.kv_per_sample:
        per_token = c.kv_per_sample / (w.seq_len or 1)
        elem = per_token / (2 * (m.layers or 1) * (m.key_value_heads or 1) * (m.attention_head_dim or 1))
        out.append(
            f"KV cache: 2 (K, V) x {m.layers} layers x {m.key_value_heads} KV heads x "
            f"{m.attention_head_dim} head dim x {elem:g} bytes = {format_bytes(per_token)} per token, "
            f"x {w.seq_len} tokens x batch {w.batch}"
        )
    out.append(
        f"overhead: {format_bytes(CUDA_CONTEXT_BYTES)} per GPU (CUDA context, library workspaces) + "
        f"{FRAGMENTATION:.0%} allocator fragmentation"
    )
    out.append(_sharding_words(r, c))
    out.append(
        "card memory: the catalog's GB read as GiB (GPU memory is binary-sized: a 24 GB RTX 3090 reports "
        "24576 MiB); for this machine (check --workload) the probe's free memory is used instead"
    )
    mfu = MFU_TRAINING if w.is_training else MFU_INFERENCE
    if m.kind == "decoder" and not w.is_training:
        out.append(
            f"throughput: decode of one token per sequence per step at full context, roofline of dense "
            f"peak TFLOP/s x {mfu:.0%} and peak bandwidth x {BANDWIDTH_EFFICIENCY:.0%} (weights and the "
            "whole KV cache read every step); prefill not included"
        )
    else:
        flops = "6·N" if w.task in ("finetune", "pretrain") else ("4·N" if w.is_training else "2·N")
        extra = " (+2·N recompute)" if w.grad_checkpointing else ""
        out.append(
            f"throughput: {flops}{extra} FLOPs per token plus attention (PaLM appendix B), or per image from "
            f"the preset's multiply-adds; dense peak TFLOP/s x {mfu:.0%} MFU; roofline against bandwidth "
            f"x {BANDWIDTH_EFFICIENCY:.0%}"
        )
    out.append("multi-GPU throughput scales linearly; the interconnect (NVLink vs PCIe) is not modelled")
    if sort is None:
        return out
    out.append(
        "price/performance: throughput per 1,000 USD of launch price x GPUs; null where no price is known"
    )
    sort_words = {
        "gpus": "fewest GPUs, then highest throughput",
        "throughput": "highest throughput",
        "price-perf": "best price/performance",
        "cost": "lowest cost",
    }
    out.append(
        f"ranking: cards that fit first ({sort_words.get(sort, sort)}), then cards that fit in memory "
        "but miss --budget or --min-throughput, then the rest, largest memory first; ties by id"
    )
    return out


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
    if c.tensor_parallel:
        return head + (
            "tensor parallel, weights split evenly, KV cache split over at most "
            f"{c.kv_heads} GPUs (its KV heads; replicated beyond), activations not split"
        )
    if w.is_training:
        return head + (
            "FSDP/ZeRO-3 style, weights, gradients and optimizer states sharded evenly, one layer's "
            "16-bit weights gathered at a time, activations for each GPU's share of the batch"
        )
    return head + "data parallel, each GPU holds the whole model and its share of the batch"
