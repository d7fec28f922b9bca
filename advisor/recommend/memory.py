"""Bytes a workload needs on each GPU: what stays resident, what a step adds at its peak, the runtime's own.

Training is modelled as the peak of a real step, per engine, in two phases (whichever is larger wins):

- forward/backward: resident weights and optimizer states + the stored activations + the loss's copies of
  the logits + autocast's 16-bit weight copies (mixed precision keeps them for the backward);
- optimizer: resident + every gradient + the optimizer's temporaries (foreach AdamW builds one
  parameter-sized temporary list).

The activation and logits coefficients were calibrated against peaks measured with torch's allocator on
real Hugging Face training steps (benchmarks/measure_training_memory.py, tests/data/memory/); the byte
counts for weights, gradients and states follow published accounting:
- mixed precision with AdamW under DeepSpeed ZeRO: 2 + 2 + 12 bytes per parameter (Rajbhandari et al. 2019,
  "ZeRO", section 3.1); plain PyTorch/HF Trainer autocast keeps fp32 weights and fp32 gradients instead
  (4 + 4 + 8) plus a 16-bit cast of every matmul weight during the step;
- KV cache: 2 (K and V) x layers x KV heads x head dim x tokens x bytes (sliding-window models keep at most
  the window);
- QLoRA: NF4 weights with double quantisation cost 4.127 bits per parameter; adapters train in the compute
  dtype (Dettmers et al. 2023 and its qlora.py, which casts LoRA layers to bf16).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from advisor.recommend.formats import KV_FORMATS, WEIGHT_FORMATS
from advisor.recommend.resolve import Resolved
from advisor.report import MemoryBreakdown

if TYPE_CHECKING:
    from advisor.knowledge.models import ModelPreset

GiB = 2**30
MiB = 2**20
FLOAT_BYTES = {"fp32": 4.0, "bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "int8": 1.0}
INT4_BYTES = WEIGHT_FORMATS["int4"].bits / 8
NF4_BYTES = WEIGHT_FORMATS["nf4"].bits / 8
# On-device memory a process holds before its first tensor: the CUDA context with lazy module loading
# (CUDA 11.7+), cuBLAS workspaces. torch processes ~0.5 GiB; llama.cpp's ggml-cuda ~0.3 GiB.
CUDA_CONTEXT_BYTES = GiB // 2
LLAMA_CPP_CONTEXT_BYTES = 3 * GiB // 10
# The caching allocator's rounding and fragmentation on what a step allocates and frees (not on weights
# loaded once): PyTorch's allocator rounds to 512 B blocks and 2 MiB segments and keeps freed blocks.
FRAGMENTATION = 0.10
VLLM_GPU_MEMORY_UTILIZATION = 0.90  # vLLM's default: the share of each GPU it takes (weights + KV + rest)
LLAMA_CPP_UBATCH = 512  # llama.cpp's default physical batch (n_ubatch)
QLORA_ADAPTER_BYTES = 2  # qlora.py casts the LoRA layers to bf16 (Dettmers et al. 2023's code)
ADAPTER_BYTES = 4  # peft's default: adapters in fp32 (autocast_adapter_dtype=True)

# fp32 copies of the logits alive at the loss's backward in Hugging Face causal LMs: log-softmax's saved
# output, the incoming gradient and the gradient it makes (measured 3.03-3.26 copies with checkpointing,
# where little else is alive: tests/data/memory/).
LOGITS_FP32_COPIES = 3.0


@dataclass(frozen=True)
class Components:
    """Whole-job bytes, before runtime overhead, and what sharding needs to split them."""

    weights: float  # on the GPUs (all of them together)
    gradients: float
    optimizer: float  # optimizer states, including fp32 master weights where the engine keeps them apart
    activations_per_sample: float  # training: stored for backward + logits copies; inference: working set
    kv_per_sample: float
    kv_heads: int | None
    gathered_layer: float  # FSDP/ZeRO-3: one layer's 16-bit weights gathered at a time
    tensor_parallel: bool  # vLLM-style inference shards weights and KV heads
    engine: str = "pytorch"
    layers: int = 1
    cast_cache: float = 0.0  # autocast's 16-bit copies of the matmul weights, alive for the step
    optimizer_temp: float = 0.0  # foreach optimizer temporaries (one trainable-sized list)
    host_weights: float = 0.0  # kept in CPU RAM by the runtime (llama.cpp's token embeddings)
    compute_buffer: float = 0.0  # llama.cpp: per GPU, fixed at load time for the context
    logits_per_sample: float = 0.0  # the part of activations_per_sample that is the loss's logits copies
    offload_layers: int = 0  # llama.cpp -ngl: layers kept in CPU RAM (0: all on GPU)
    engine_chosen: bool = False  # False: pytorch on one GPU, sharded (FSDP) when split over several


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


def matmul_params(model: ModelPreset) -> int:
    """Parameters in matrix multiplies (block linears and the LM head): what autocast casts to 16-bit."""
    blocks = sum(i * o * n for i, o, n in linear_shapes(model))
    head = (model.vocab_size or 0) * (model.hidden_size or 0) if model.kind == "decoder" else 0
    return min(model.params, blocks + head) if blocks else model.params


def _optimizer_bytes(optimizer: str, params: float, shapes: list[tuple[int, int, int]], elem: float) -> float:
    """Optimizer state bytes for ``params`` trainable parameters whose states are ``elem`` bytes each."""
    if optimizer == "adamw":
        return 2 * elem * params  # momentum + variance
    if optimizer == "adamw-8bit":
        return 2 * params  # 8-bit momentum + variance (Dettmers et al. 2022, "8-bit Optimizers")
    if optimizer == "sgd":
        return elem * params  # momentum
    # Adafactor without momentum: factored second moment, one row and column vector per matrix
    # (Shazeer & Stern 2018).
    return elem * sum((i + o) * n for i, o, n in shapes)


# Tensors autograd saves per MLP, in units of the MLP width: SwiGLU keeps gate, up, act(gate) and their
# product; transformers' python tanh-GELU ("gelu_new", GPT-2) keeps its input, 0.5·x, tanh and 1 + tanh
# plus the output; a fused GELU keeps its input and output.
_MLP_SAVED = {"gated": 4, "gelu_new": 5, "fused": 2}


def activation_bytes_per_token_layer(model: ModelPreset, elem: float = 2.0, mode: str = "16bit") -> float:
    """Bytes one layer stores for the backward pass, per token (Korthikanti et al. 2022's count, redone for
    the tensors Hugging Face blocks with SDPA save; calibrated in tests/data/memory/).

    - two norms: input and output each, in fp32 under autocast and fp32 (``mode`` "amp" adds the 16-bit
      copy autocast makes of the norm output for the next matmul); in pure 16-bit, RMSNorm still keeps an
      fp32 copy of its input;
    - attention: Q, K and V as SDPA receives them (K and V repeated to every query head), its output and the
      output projection's input: 5 x query width (no s x s scores: SDPA/FlashAttention);
    - MLP: see _MLP_SAVED, in the matmul dtype.
    """
    assert model.hidden_size and model.heads
    h = model.hidden_size
    hd = model.attention_head_dim or h // model.heads
    q = model.heads * hd
    inner = (model.intermediate_size or 4 * h) * (model.experts_per_token or 1)
    if mode == "fp32":
        norms = 2 * (4 * h + 4 * h)
    elif mode == "amp":
        norms = 2 * (4 * h + 4 * h + 2 * h)
    else:  # whole model in 16-bit
        norms = 2 * ((4 * h if model.gated_mlp else 2 * h) + 2 * h)
    attention = 5 * q * elem
    if model.gated_mlp:
        saved = _MLP_SAVED["gated"]
    elif model.activation in ("gelu_new", "gelu_fast", "quick_gelu"):
        saved = _MLP_SAVED["gelu_new"]
    else:
        saved = _MLP_SAVED["fused"]
    return float(norms + attention + saved * inner * elem)


def _weights(r: Resolved) -> tuple[float, float]:
    """(bytes of weights on the GPUs, bytes the runtime keeps in host RAM) for inference or a frozen base."""
    w, m = r.workload, r.model
    fmt = WEIGHT_FORMATS["nf4" if w.task == "qlora" else w.precision]
    if fmt.bits >= 16 or fmt.whole_model:
        total = m.params * fmt.bits / 8
    else:
        quantisable, kept = weight_params(m)
        total = quantisable * fmt.bits / 8 + kept * 2
    host = 0.0
    if r.engine == "llama.cpp" and m.vocab_size and m.hidden_size:
        # llama.cpp keeps the input token embeddings in host memory (only the rows looked up are used)
        host = m.vocab_size * m.hidden_size * fmt.bits / 8
    return total - host, host


def kv_bytes_per_token(r: Resolved) -> float:
    """KV-cache bytes per token of one sequence, all layers."""
    m, w = r.model, r.workload
    if m.kind != "decoder" or not m.has_transformer_shape or not m.layers:
        return 0.0
    elem = KV_FORMATS[w.kv_dtype] if w.kv_dtype else (4.0 if w.precision == "fp32" else 2.0)
    if w.kv_dtype is None and w.precision == "fp8" and r.engine == "vllm":
        elem = 1.0
    return float(2 * m.layers * (m.key_value_heads or 1) * (m.attention_head_dim or 0) * elem)


def kv_tokens(r: Resolved) -> int:
    """Tokens the KV cache holds per sequence: the context, or the sliding window where it is smaller."""
    seq = r.workload.seq_len or 0
    window = r.model.sliding_window
    if window and r.engine == "vllm":  # vLLM sizes the cache to the window; llama.cpp keeps the context
        return min(seq, window)
    return seq


def components(r: Resolved) -> Components:
    """Every byte count the workload implies, for the whole job."""
    if r.workload.is_training:
        return _training(r)
    return _inference(r)


def _inference(r: Resolved) -> Components:
    w, m = r.workload, r.model
    weights, host = _weights(r)
    tokens = r.tokens_per_sample or 0
    per_sample = 0.0
    compute = 0.0
    if m.has_transformer_shape and tokens and m.layers and m.hidden_size and m.heads:
        h = m.hidden_size
        inner = (m.intermediate_size or 4 * h) * (m.experts_per_token or 1)
        if r.engine == "llama.cpp":
            # ggml's compute buffer, sized once for one micro-batch of n_ubatch tokens: the logits of the
            # micro-batch (fp32) and, without flash attention, one layer's K·Q scores against the context.
            ub = min(LLAMA_CPP_UBATCH, tokens)
            ctx = w.seq_len or tokens
            compute = (
                ub * 4.0 * (m.vocab_size or 0) + ub * ctx * m.heads * 4.0 + ub * (3 * h + 2 * inner) * 4.0
            )
        else:
            # prefill of the whole prompt, one layer at a time: hidden states and the MLP's widest tensors
            per_sample = tokens * (4 * h + 3 * inner) * 2.0
            if m.kind == "decoder" and m.vocab_size:
                per_sample += 4.0 * m.vocab_size  # last-token fp32 logits
    kv_per_sample = kv_bytes_per_token(r) * kv_tokens(r)
    return Components(
        weights=weights,
        gradients=0.0,
        optimizer=0.0,
        activations_per_sample=per_sample,
        kv_per_sample=kv_per_sample,
        kv_heads=m.key_value_heads,
        gathered_layer=0.0,
        tensor_parallel=r.engine == "vllm" and m.kind == "decoder",
        engine=r.engine,
        layers=m.layers or 1,
        host_weights=host,
        compute_buffer=compute,
    )


def training_activations(r: Resolved, elem: float, mode: str) -> tuple[float, float]:
    """(stored activations per sample, the loss's logits copies per sample) for a training step."""
    w, m = r.workload, r.model
    tokens = r.tokens_per_sample or 0
    if not (m.has_transformer_shape and tokens and m.layers and m.hidden_size):
        return 0.0, 0.0
    per_layer = activation_bytes_per_token_layer(m, elem, mode)
    logits = 0.0
    if m.kind == "decoder" and m.vocab_size:
        logits = tokens * m.vocab_size * 4.0 * LOGITS_FP32_COPIES
    if w.grad_checkpointing:
        # each layer's input kept (the residual stream: fp32 when the weights are fp32, else 16-bit); the
        # one layer recomputed at a time is alive only after the loss's backward has freed the logits
        residual = 2.0 if mode == "16bit" else 4.0
        stored = tokens * m.layers * m.hidden_size * residual
        return stored + max(0.0, tokens * per_layer - logits), logits
    return tokens * m.layers * per_layer, logits


def _training(r: Resolved) -> Components:
    w, m = r.workload, r.model
    n = float(m.params)
    shapes = linear_shapes(m)
    engine = r.engine
    mixed = w.precision != "fp32"
    optimizer = w.optimizer or "adamw"
    cast = 0.0
    if w.task in ("finetune", "pretrain"):
        if engine == "pytorch-16bit" and mixed:
            # the whole model in 16-bit: weights, gradients and AdamW states all 2 bytes, no master copy
            weights, grads = 2 * n, 2 * n
            states = _optimizer_bytes(optimizer, n, shapes, 2.0)
            temp = 2 * n if optimizer in ("adamw", "sgd") else 0.0
        elif engine in ("pytorch", "pytorch-16bit"):
            # autocast: fp32 weights, fp32 gradients, fp32 states; 16-bit casts of matmul weights
            weights, grads = 4 * n, 4 * n
            states = _optimizer_bytes(optimizer, n, shapes, 4.0)
            cast = 2.0 * matmul_params(m) if mixed else 0.0
            temp = 4 * n if optimizer in ("adamw", "sgd") else 0.0
        else:
            # ZeRO / FSDP mixed precision: 16-bit weights and gradients, fp32 master copy in the states
            pw = 4.0 if not mixed else 2.0
            weights, grads = pw * n, pw * n
            states = (4 * n if mixed else 0.0) + _optimizer_bytes(optimizer, n, shapes, 4.0)
            temp = 0.0  # the step runs shard by shard on fp32 partitions
    else:  # lora / qlora: frozen base, trainable adapters
        base, _host = _weights(r)
        trainable = float(lora_params(m, w.lora_rank or 16))
        # peft keeps adapters in fp32 (autocast_adapter_dtype); the QLoRA recipe casts them to bf16
        adapter = QLORA_ADAPTER_BYTES if w.task == "qlora" and w.precision != "fp32" else 4.0
        weights = base + trainable * adapter
        grads = trainable * adapter
        lora_shapes = [(w.lora_rank or 16, i + o, k) for i, o, k in shapes]
        states = _optimizer_bytes(optimizer, trainable, lora_shapes, 4.0)  # 32-bit states (paged_adamw_32bit)
        temp = trainable * adapter
        if w.task == "qlora" and m.layers and m.hidden_size:
            # bitsandbytes dequantises one weight matrix at a time to the compute dtype
            cast = 2.0 * max((i * o for i, o, _ in shapes), default=0)
    elem = 4.0 if w.precision == "fp32" else 2.0
    if w.precision == "fp32":
        mode = "fp32"
    elif engine == "pytorch" and w.task in ("finetune", "pretrain"):
        mode = "amp"  # autocast over fp32 weights
    else:
        mode = "16bit"  # 16-bit weights (ZeRO/FSDP compute copies, a bf16 or 4-bit frozen base for LoRA)
    stored, logits = training_activations(r, elem, mode)
    gathered = 2.0 * n / m.layers if m.layers else 0.0
    return Components(
        weights=weights,
        gradients=grads,
        optimizer=states,
        activations_per_sample=stored + logits,
        kv_per_sample=0.0,
        kv_heads=m.key_value_heads,
        gathered_layer=gathered,
        tensor_parallel=False,
        engine=engine,
        layers=m.layers or 1,
        cast_cache=cast,
        optimizer_temp=temp,
        logits_per_sample=logits,
        engine_chosen=w.engine is not None,
    )


def step_peak_bytes(c: Components, batch: int) -> float:
    """Live-tensor peak of one training step on one device (what the calibration measured)."""
    resident = c.weights + c.optimizer
    forward_backward = c.cast_cache + c.activations_per_sample * batch
    optimizer_step = c.gradients + c.optimizer_temp
    return resident + max(forward_backward, optimizer_step)


def _context(c: Components) -> float:
    return float(LLAMA_CPP_CONTEXT_BYTES if c.engine == "llama.cpp" else CUDA_CONTEXT_BYTES)


def per_gpu_bytes(c: Components, batch: int, gpus: int) -> int:
    """What each of ``gpus`` GPUs must hold (the busiest one).

    Inference: llama.cpp and transformers split the layers across GPUs (weights and KV cache by layer,
    llama.cpp's compute buffer on every GPU); vLLM shards by tensor parallelism (KV cache over at most the
    KV heads) and takes ``gpu_memory_utilization`` of each GPU, which the caller's capacity must allow for.
    Training: one GPU runs the whole step; several run it data-parallel with the engine's sharding —
    pytorch (DDP) replicates everything, ZeRO-1 shards optimizer states, ZeRO-2 also gradients, ZeRO-3
    and FSDP also weights (gathering one layer's 16-bit weights at a time).
    """
    gpus = max(1, gpus)
    if not (c.gradients or c.optimizer):  # inference
        if c.tensor_parallel:
            kv_split = min(gpus, c.kv_heads or 1)
            tensors = c.weights / gpus + c.kv_per_sample * batch / kv_split
            transient = c.activations_per_sample * batch
        else:
            share = math.ceil(c.layers / gpus) / c.layers if c.layers else 1 / gpus
            tensors = c.weights * share + c.kv_per_sample * batch * share
            transient = c.activations_per_sample * batch + c.compute_buffer
        return int(tensors + transient * (1 + FRAGMENTATION) + _context(c))
    local = math.ceil(batch / gpus)
    fwd = c.cast_cache + c.activations_per_sample * local
    sharded_fwd = c.activations_per_sample * local  # sharded engines gather 16-bit layers instead of casting
    if gpus == 1 or (c.engine in ("pytorch", "pytorch-16bit") and c.engine_chosen):
        # DDP keeps gradient buckets beside the gradients: one more gradient-sized buffer
        ddp = c.gradients if gpus > 1 else 0.0
        resident = c.weights + c.optimizer
        step = max(fwd, c.gradients + ddp + c.optimizer_temp)
    elif c.engine == "zero1":
        resident = c.weights + c.optimizer / gpus
        step = max(sharded_fwd + c.gradients, c.gradients)
    elif c.engine == "zero2":
        resident = c.weights + c.optimizer / gpus
        step = max(sharded_fwd + c.gradients / gpus, c.gradients / gpus)
    else:  # zero3 / fsdp (and the default when one GPU is not enough)
        resident = (c.weights + c.optimizer) / gpus
        step = max(sharded_fwd + 2 * c.gathered_layer, c.gradients / gpus) + c.gradients / gpus
    return int(resident + step * (1 + FRAGMENTATION) + _context(c))


def breakdown(c: Components, batch: int, gpus: int = 1) -> MemoryBreakdown:
    """The MemoryBreakdown contract: the whole job on one GPU, and ``per_gpu`` when split over ``gpus``."""
    activations = c.activations_per_sample * batch + c.cast_cache + c.compute_buffer
    kv = c.kv_per_sample * batch
    one = per_gpu_bytes(c, batch, 1)
    parts = [round(x) for x in (c.weights, c.gradients, c.optimizer, activations, kv)]
    # overhead: what the single-GPU peak holds beyond the parts (context, fragmentation). In training the
    # parts add up to more than the peak (gradients and stored activations are never all alive at once),
    # so the overhead is then 0 and the total is the peak, not the sum.
    overhead = max(0, one - sum(parts))
    return MemoryBreakdown(
        weights=parts[0],
        gradients=parts[1],
        optimizer=parts[2],
        activations=parts[3],
        kv_cache=parts[4],
        overhead=overhead,
        total=one,
        per_gpu=per_gpu_bytes(c, batch, gpus) if gpus > 1 else None,
    )
