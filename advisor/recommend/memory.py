"""Bytes a workload needs: weights, gradients, optimizer states, activations, KV cache, overhead.

The accounting follows published rules, each named where it is used:
- mixed-precision training with AdamW: 2 + 2 + 12 bytes per parameter (16-bit weights and gradients;
  fp32 master weights, momentum and variance) — Rajbhandari et al. 2019, "ZeRO", section 3.1;
- stored activations per transformer layer (16-bit): the per-tensor count of Korthikanti et al. 2022,
  "Reducing Activation Recomputation in Large Transformer Models", section 4.1 (34·s·b·h for a GPT layer,
  without the attention-score terms that FlashAttention never materialises), generalised to GQA and
  gated MLPs; full recomputation keeps only each layer's input (2·s·b·h per layer), and the loss needs
  fp32 logits (4·s·b·v);
- KV cache: 2 (K and V) × layers × KV heads × head dim × tokens × bytes;
- QLoRA: NF4 weights with double quantisation cost 4.127 bits per parameter (Dettmers et al. 2023,
  section 3).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from advisor.recommend.resolve import Resolved
from advisor.report import MemoryBreakdown

if TYPE_CHECKING:
    from advisor.knowledge.models import ModelPreset

GiB = 2**30
FLOAT_BYTES = {"fp32": 4.0, "bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "int8": 1.0}
INT4_BYTES = 4.25 / 8  # 4-bit weights + a 16-bit scale and zero per group of 128 (GPTQ/AWQ-style)
NF4_BYTES = 4.127 / 8  # QLoRA NF4 with double quantisation (Dettmers et al. 2023)
CUDA_CONTEXT_BYTES = 1 * GiB  # CUDA context, cuBLAS/cuDNN workspaces, NCCL buffers: per GPU
FRAGMENTATION = 0.05  # the caching allocator's slack on top of live tensors
ADAPTER_BYTES = 4  # LoRA adapters train in fp32 (peft upcasts adapter weights by default)


@dataclass(frozen=True)
class Components:
    """Whole-job bytes on one GPU, before overhead, plus what sharding needs to split them."""

    weights: float
    gradients: float
    optimizer: float
    activations_per_sample: float  # stored (training) or one layer's working set (inference), per sample
    kv_per_sample: float
    kv_heads: int | None
    gathered_layer: float  # FSDP/ZeRO-3: one layer's 16-bit weights gathered at a time
    tensor_parallel: bool  # decoder inference shards weights and KV heads; others replicate


def weight_params(model: ModelPreset) -> tuple[int, int]:
    """(quantisable, kept 16-bit) parameter counts: embeddings and an untied LM head stay 16-bit."""
    if model.vocab_size is None or model.hidden_size is None:
        return model.params, 0
    copies = 1 if (model.tied_embeddings or model.kind != "decoder") else 2
    kept = min(model.params, model.vocab_size * model.hidden_size * copies)
    return model.params - kept, kept


def linear_shapes(model: ModelPreset) -> list[tuple[int, int, int]]:
    """(in, out, count) of every weight matrix inside the transformer blocks (LoRA's "all linear")."""
    if not model.has_transformer_shape:
        return []
    assert model.layers and model.hidden_size and model.heads
    h, layers = model.hidden_size, model.layers
    hd = model.attention_head_dim or h // model.heads
    kv = model.key_value_heads or model.heads
    inner = model.intermediate_size or 4 * h
    experts = model.experts or 1
    shapes = [(h, model.heads * hd, layers), (h, kv * hd, 2 * layers), (model.heads * hd, h, layers)]
    up_matrices = 2 if model.gated_mlp else 1
    shapes += [(h, inner, up_matrices * layers * experts), (inner, h, layers * experts)]
    return shapes


def lora_params(model: ModelPreset, rank: int) -> int:
    """Trainable LoRA parameters: rank × (in + out) for every linear matrix (Hu et al. 2021)."""
    return sum(rank * (i + o) * n for i, o, n in linear_shapes(model))


def _optimizer_bytes(optimizer: str, params: float, shapes: list[tuple[int, int, int]]) -> float:
    """Optimizer state bytes for ``params`` fp32 trainable parameters (master copies counted elsewhere)."""
    if optimizer == "adamw":
        return 8 * params  # fp32 momentum + variance
    if optimizer == "adamw-8bit":
        return 2 * params  # 8-bit momentum + variance (Dettmers et al. 2022, "8-bit Optimizers")
    if optimizer == "sgd":
        return 4 * params  # fp32 momentum
    # Adafactor without momentum: factored second moment, one fp32 row and column vector per matrix
    # (Shazeer & Stern 2018).
    return 4.0 * sum((i + o) * n for i, o, n in shapes)


def activation_bytes_per_token_layer(model: ModelPreset) -> float:
    """Stored 16-bit activation bytes per token per layer (Korthikanti et al. 2022, generalised)."""
    assert model.hidden_size and model.heads
    h = model.hidden_size
    hd = model.attention_head_dim or h // model.heads
    q = model.heads * hd
    kv = (model.key_value_heads or model.heads) * hd
    inner = (model.intermediate_size or 4 * h) * (model.experts_per_token or 1)
    # norm input, QKV input, Q, K, V, attention output, norm input, MLP input — 2 bytes each
    attention = 2 * h + 2 * h + 2 * q + 4 * kv + 2 * q + 2 * h + 2 * h
    # MLP: activation input and output (4·i), or gate, up, act(gate), product for SwiGLU (8·i)
    mlp = (8 if model.gated_mlp else 4) * inner
    return float(attention + mlp)


def components(r: Resolved) -> Components:
    """Every byte count the workload implies, for the whole job on one GPU."""
    w, m = r.workload, r.model
    n_params = float(m.params)
    shapes = linear_shapes(m)
    quantisable, kept = weight_params(m)
    training = w.is_training

    if w.task == "qlora":
        base = quantisable * NF4_BYTES + kept * 2
    elif w.precision == "int4":
        base = quantisable * INT4_BYTES + kept * 2
    elif w.precision in ("int8", "fp8") and w.task != "finetune" and w.task != "pretrain":
        base = quantisable * FLOAT_BYTES[w.precision] + kept * 2
    elif w.precision == "fp32":
        base = n_params * 4
    else:
        base = n_params * 2  # bf16/fp16 weights; fp8 training keeps 16-bit weights, fp8 is for the GEMMs

    gradients = optimizer = 0.0
    weights = base
    if w.task in ("finetune", "pretrain"):
        gradients = n_params * (4 if w.precision == "fp32" else 2)
        master = 0.0 if w.precision == "fp32" else 4 * n_params  # fp32 master weights (ZeRO's K=12 = 4+4+4)
        optimizer = master + _optimizer_bytes(w.optimizer or "adamw", n_params, shapes)
    elif w.task in ("lora", "qlora"):
        trainable = float(lora_params(m, w.lora_rank or 16))
        weights += trainable * ADAPTER_BYTES
        gradients = trainable * ADAPTER_BYTES
        lora_shapes = [(w.lora_rank or 16, i + o, n) for i, o, n in shapes]
        optimizer = _optimizer_bytes(w.optimizer or "adamw", trainable, lora_shapes)

    act_scale = 2.0 if w.precision == "fp32" else 1.0  # the count above is for 16-bit activations
    tokens = r.tokens_per_sample or 0
    per_sample = 0.0
    if m.has_transformer_shape and tokens:
        assert m.layers
        per_layer = activation_bytes_per_token_layer(m) * act_scale
        if training:
            if w.grad_checkpointing:
                per_sample = tokens * (m.layers * 2 * (m.hidden_size or 0) * act_scale + per_layer)
            else:
                per_sample = tokens * m.layers * per_layer
            if m.kind == "decoder" and m.vocab_size:
                per_sample += tokens * 4 * m.vocab_size  # fp32 logits for the loss
        else:
            per_sample = tokens * per_layer  # one layer's working set at a time (prefill)
            if m.kind == "decoder" and m.vocab_size:
                per_sample += 4 * m.vocab_size  # last-token fp32 logits

    kv_per_sample = 0.0
    if m.kind == "decoder" and not training and m.has_transformer_shape:
        assert m.layers
        kv_bytes = {"fp32": 4, "fp8": 1}.get(w.precision, 2)  # weight-only int8/int4 keep a 16-bit cache
        per_token = 2 * m.layers * (m.key_value_heads or 1) * (m.attention_head_dim or 0) * kv_bytes
        kv_per_sample = float(per_token * (w.seq_len or 0))

    gathered = 0.0
    if training and m.layers:
        gathered = 2.0 * n_params / m.layers

    return Components(
        weights=weights,
        gradients=gradients,
        optimizer=optimizer,
        activations_per_sample=per_sample,
        kv_per_sample=kv_per_sample,
        kv_heads=m.key_value_heads,
        gathered_layer=gathered,
        tensor_parallel=m.kind == "decoder" and not training,
    )


def per_gpu_bytes(c: Components, batch: int, gpus: int) -> int:
    """What each of ``gpus`` GPUs must hold: FSDP/ZeRO-3-style even shards for training, tensor
    parallelism for decoder inference (KV split over at most kv_heads), replicas otherwise."""
    if c.tensor_parallel:
        kv_split = min(gpus, c.kv_heads or 1)
        tensors = c.weights / gpus + c.kv_per_sample * batch / kv_split
        tensors += c.activations_per_sample * batch
    elif c.gradients or c.optimizer:  # training
        local_batch = math.ceil(batch / gpus)
        tensors = (c.weights + c.gradients + c.optimizer) / gpus + (c.gathered_layer if gpus > 1 else 0.0)
        tensors += c.activations_per_sample * local_batch
    else:  # data-parallel replicas: each GPU holds the whole model and its share of the batch
        local_batch = math.ceil(batch / gpus)
        tensors = c.weights + (c.activations_per_sample + c.kv_per_sample) * local_batch
    return int(tensors * (1 + FRAGMENTATION) + CUDA_CONTEXT_BYTES)


def breakdown(c: Components, batch: int, gpus: int = 1) -> MemoryBreakdown:
    """The MemoryBreakdown contract: the whole job on one GPU, and ``per_gpu`` when sharded over ``gpus``."""
    activations = c.activations_per_sample * batch
    kv = c.kv_per_sample * batch
    tensors = c.weights + c.gradients + c.optimizer + activations + kv
    overhead = tensors * FRAGMENTATION + CUDA_CONTEXT_BYTES
    parts = [round(x) for x in (c.weights, c.gradients, c.optimizer, activations, kv, overhead)]
    return MemoryBreakdown(
        weights=parts[0],
        gradients=parts[1],
        optimizer=parts[2],
        activations=parts[3],
        kv_cache=parts[4],
        overhead=parts[5],
        total=sum(parts),
        per_gpu=per_gpu_bytes(c, batch, gpus) if gpus > 1 else None,
    )
