"""Memory estimates against INDEPENDENT published figures; each test names where its figure comes from."""

from __future__ import annotations

import dataclasses

import pytest

from advisor.knowledge.models import ModelPreset
from advisor.recommend.memory import (
    CUDA_CONTEXT_BYTES,
    GiB,
    activation_bytes_per_token_layer,
    breakdown,
    components,
    per_gpu_bytes,
)
from advisor.recommend.resolve import Resolved, resolve
from advisor.recommend.workload import Workload, workload_from_options
from tests.test_recommend_models import PRESETS

MiB = 2**20


def _resolve(**options: object) -> Resolved:
    return resolve(workload_from_options(**options), list(PRESETS.values()))  # type: ignore[arg-type]


def _custom(model: ModelPreset, **fields: object) -> Resolved:
    """Resolve a workload for a model that is not a preset (built here from a paper's table)."""
    return resolve(Workload(model=model.id, **fields), [model])  # type: ignore[arg-type]


# LLaMA-65B as Touvron et al. 2023 ("LLaMA", table 2) and its config.json give it.
LLAMA_65B = ModelPreset(
    id="llama-65b", name="LLaMA 65B", kind="decoder", params=65_285_660_672, layers=80, hidden_size=8192,
    heads=64, intermediate_size=22016, vocab_size=32000, max_seq_len=2048, tied_embeddings=False,
    gated_mlp=True, source="Touvron et al. 2023 table 2; huggyllama/llama-65b config.json",
)  # fmt: skip


def test_7b_weights_in_fp16_are_about_14_gb() -> None:
    # Llama 2 7B in fp16: 2 bytes/param (accelerate estimate-memory: float16 = float32 / 2); the hub's
    # fp16 safetensors of meta-llama/Llama-2-7b-hf total 13.5 GB; "7B in fp16 ≈ 14 GB" rule of thumb.
    b = breakdown(components(_resolve(model="llama-2-7b", precision="fp16", engine="transformers")), batch=1)
    assert 13.4e9 <= b.weights <= 14.0e9


def test_llama_cpp_keeps_token_embeddings_in_host_ram() -> None:
    # llama.cpp loads token_embd into host memory (its load log: "CPU buffer size = 1002.00 MiB" for an
    # 8B fp16 model whose 128256 x 4096 fp16 embeddings are exactly 1002 MiB).
    c = components(_resolve(model="llama-3-8b", precision="fp16", seq_len=4096))
    assert c.host_weights == 128256 * 4096 * 2 == 1002 * MiB
    assert c.weights + c.host_weights == PRESETS["llama-3-8b"].params * 2


def test_bert_base_cased_fp32_matches_accelerate_estimate_memory() -> None:
    # accelerate docs (usage_guides/model_size_estimator.md): bert-base-cased float32 "Total Size 413.18 MB"
    # (MiB), measured 413.68 MB. bert-base-cased differs from the uncased preset only in vocabulary (28996).
    cased = PRESETS["bert-base"].model_copy(update={"id": "bert-base-cased", "vocab_size": 28996,
                                                    "params": 108_310_272})  # fmt: skip
    b = breakdown(components(_custom(cased, precision="fp32")), batch=1)
    assert b.weights / MiB == pytest.approx(413.18, rel=0.002)


def test_full_finetune_adamw_mixed_precision_is_16_bytes_per_param() -> None:
    # ZeRO (Rajbhandari et al. 2019, section 3.1): fp16 params 2Ψ + fp16 grads 2Ψ + fp32 Adam states
    # (master, momentum, variance) 12Ψ = 16Ψ; its example: Ψ = 7.5B needs 120 GB.
    b = breakdown(
        components(_resolve(params="7.5B", task="finetune", precision="bf16", engine="zero3")), batch=1
    )
    assert (b.weights, b.gradients, b.optimizer) == (15_000_000_000, 15_000_000_000, 90_000_000_000)
    assert b.weights + b.gradients + b.optimizer == 120e9
    # plain PyTorch autocast holds fp32 weights and gradients instead (4 + 4 + 8): the same 16 bytes
    p = breakdown(components(_resolve(params="7.5B", task="finetune", precision="bf16")), batch=1)
    assert (p.weights, p.gradients, p.optimizer) == (30_000_000_000, 30_000_000_000, 60_000_000_000)


def test_8bit_adam_cuts_optimizer_states_to_a_quarter_of_their_size() -> None:
    # Dettmers et al. 2022, "8-bit Optimizers": 8-bit Adam states use 2 bytes/param instead of 8
    # (fp32 master weights stay).
    full = components(_resolve(params="1B", task="finetune", optimizer="adamw"))
    small = components(_resolve(params="1B", task="finetune", optimizer="adamw-8bit"))
    assert full.optimizer - small.optimizer == 6e9


def test_kv_cache_llama_3_8b_at_8k_fp16_is_exactly_1_gib() -> None:
    # LLMem calculator golden test (anchors.md 2.10): Llama 3.1 8B, 8k context, fp16 KV = exactly 1 GiB
    # (2 x 32 layers x 8 KV heads x 128 x 8192 x 2 bytes). Llama 3.1 8B has Llama 3 8B's shape.
    b = breakdown(components(_resolve(model="llama-3-8b", precision="fp16", seq_len=8192)), batch=1)
    assert b.kv_cache == GiB


def test_kv_cache_llama_2_7b_is_half_a_mib_per_token() -> None:
    # Llama 2 7B: 32 layers x 32 heads x 128 dim (no GQA) → 2 x 32 x 4096 x 2 bytes = 0.5 MiB per token.
    b = breakdown(components(_resolve(model="llama-2-7b", precision="fp16", seq_len=4096)), batch=1)
    assert b.kv_cache == 4096 * MiB // 2
    b4 = breakdown(components(_resolve(model="llama-2-7b", precision="fp16", seq_len=1000, batch=4)), batch=4)
    assert b4.kv_cache == 4 * 1000 * MiB // 2


def test_kv_cache_in_fp8_halves() -> None:
    # vLLM's fp8 KV cache stores one byte per element (docs: "Quantized KV Cache").
    fp16 = components(_resolve(model="llama-3-8b", precision="fp16", seq_len=8192))
    fp8 = components(_resolve(model="llama-3-8b", precision="fp8", seq_len=8192))
    assert fp8.kv_per_sample * 2 == fp16.kv_per_sample
    # llama.cpp's q8_0 / q4_0 cache blocks: 34 and 18 bytes per 32 elements (ggml block layouts)
    q8 = components(_resolve(model="llama-3-8b", precision="fp16", seq_len=8192, kv_dtype="q8_0"))
    q4 = components(_resolve(model="llama-3-8b", precision="fp16", seq_len=8192, kv_dtype="q4_0"))
    assert (
        q8.kv_per_sample == fp16.kv_per_sample * 34 / 64 and q4.kv_per_sample == fp16.kv_per_sample * 18 / 64
    )


def test_qlora_65b_fits_a_48_gb_gpu_and_full_finetuning_needs_over_780_gb() -> None:
    # Dettmers et al. 2023, "QLoRA", abstract: finetuning a 65B model drops "from >780GB of GPU memory to
    # <48GB"; Guanaco 65B was trained on one 48 GB GPU with r=64 adapters on every linear layer, bf16
    # compute, paged 32-bit AdamW, gradient checkpointing (qlora.py, scripts/finetune_guanaco_65b.sh).
    # 4-bit NF4 weights alone are ~0.5 byte/param (65.3B x 4.127 bits ≈ 33.7 GB).
    r = _custom(LLAMA_65B, task="qlora", seq_len=512, lora_rank=64, grad_checkpointing=True)
    q = breakdown(components(r), batch=1)
    assert 33e9 < q.weights - q.gradients < 37e9
    assert per_gpu_bytes(components(r), 1, 1) < 48 * GiB
    full = breakdown(components(_custom(LLAMA_65B, task="finetune", seq_len=512)), batch=1)
    assert full.total > 780e9


def test_korthikanti_activation_count_for_a_gpt_layer() -> None:
    # Korthikanti et al. 2022, eq. 1: a GPT layer stores s·b·h·(34 + 5·a·s/h) bytes in 16-bit. SDPA /
    # FlashAttention never store the 5·a·s/h score terms, so a GPT-shaped layer with a fused GELU, all in
    # 16-bit, must come to 34·s·b·h (our split differs: no dropout masks, but SDPA's Q, K, V, output and
    # the projection input, and both norms' inputs and outputs).
    gpt = PRESETS["gpt2"].model_copy(update={"activation": "gelu"})
    assert activation_bytes_per_token_layer(gpt, 2.0, "16bit") == 34 * gpt.hidden_size  # type: ignore[operator]


def test_gradient_checkpointing_cuts_activations_by_about_the_layer_ratio() -> None:
    on = components(_resolve(model="llama-2-7b", task="finetune", seq_len=4096, grad_checkpointing=True))
    off = components(_resolve(model="llama-2-7b", task="finetune", seq_len=4096, grad_checkpointing=False))
    assert 5 < off.activations_per_sample / on.activations_per_sample < 25


def test_lora_trains_a_small_fraction_and_keeps_base_weights_frozen() -> None:
    # Hu et al. 2021, "LoRA": r·(d_in + d_out) trainable per adapted matrix; frozen weights have no
    # gradients or optimizer state. Llama 2 7B, r=16 on all 7 linear layers: 32 x 16 x (4 x 8192 + 3 x 15104)
    lora = breakdown(components(_resolve(model="llama-2-7b", task="lora", lora_rank=16)), batch=1)
    trainable = 32 * 16 * (4 * (4096 + 4096) + 3 * (4096 + 11008))
    assert lora.gradients == trainable * 4  # peft keeps adapters (and so their gradients) in fp32
    assert lora.optimizer == trainable * 8
    assert lora.weights == 6_738_415_616 * 2 + trainable * 4
    # the QLoRA recipe casts adapters to bf16; its paged AdamW keeps 32-bit states
    q = breakdown(components(_resolve(model="llama-2-7b", task="qlora", lora_rank=16)), batch=1)
    assert q.gradients == trainable * 2 and q.optimizer == trainable * 8


def test_sharding_splits_states_evenly_and_kv_only_up_to_the_kv_heads() -> None:
    # FSDP/ZeRO-3: each of N GPUs holds 1/N of weights, gradients and optimizer states.
    c = components(_resolve(model="llama-3-8b", task="finetune", seq_len=512))
    states = c.weights + c.gradients + c.optimizer
    assert per_gpu_bytes(c, 8, 1) - per_gpu_bytes(c, 8, 8) > 0.8 * states * 7 / 8
    # Tensor parallel KV shards by min(tp, kv_heads) (LLMem, anchors.md 2.10): Llama 3 8B has 8 KV heads.
    kv_only = dataclasses.replace(components(_resolve(model="llama-3-8b", seq_len=8192, engine="vllm")),
                                  weights=0.0, activations_per_sample=0.0)  # fmt: skip
    assert per_gpu_bytes(kv_only, 1, 16) == per_gpu_bytes(kv_only, 1, 8) < per_gpu_bytes(kv_only, 1, 4)


def test_per_gpu_is_reported_only_when_sharded() -> None:
    c = components(_resolve(model="llama-3-70b", precision="bf16"))
    assert breakdown(c, 1, 1).per_gpu is None
    two = breakdown(c, 1, 2)
    assert two.per_gpu is not None and two.per_gpu < two.total
    parts = two.weights + two.gradients + two.optimizer + two.activations + two.kv_cache + two.overhead
    assert parts == two.total


def test_quantised_inference_keeps_embeddings_in_16_bit() -> None:
    # bitsandbytes/GPTQ skip the embeddings and LM head ("llm_int8_skip_modules" = lm_head).
    m = PRESETS["llama-3-8b"]
    int8 = breakdown(components(_resolve(model="llama-3-8b", precision="int8")), batch=1)  # transformers
    embeddings = 2 * 128256 * 4096
    assert int8.weights == (m.params - embeddings) * 1 + embeddings * 2


def test_zero_stages_shard_model_states_as_the_zero_paper_figure_1() -> None:
    # Rajbhandari et al. 2019, figure 1: Ψ = 7.5B, K = 12, N_d = 64 → per-GPU model states: baseline
    # 120 GB, P_os 31.4 GB, P_os+g 16.6 GB, P_os+g+p 1.9 GB (ZeRO-3 also holds one gathered layer here).
    def states(engine: str) -> float:
        r = _resolve(params="7.5B", task="finetune", precision="bf16", engine=engine, seq_len=512)
        c = dataclasses.replace(components(r), activations_per_sample=0.0)
        return per_gpu_bytes(c, 64, 64) - CUDA_CONTEXT_BYTES

    assert states("zero1") == pytest.approx(31.4e9, rel=0.10)
    assert states("zero2") == pytest.approx(16.6e9, rel=0.10)
    assert states("zero3") < 0.25 * states("zero2")
    # plain PyTorch DDP replicates all 16 bytes per parameter (and DDP's gradient buckets)
    assert states("pytorch") > 120e9
