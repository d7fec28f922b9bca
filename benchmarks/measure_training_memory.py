"""Measure the peak memory of real training steps on CPU, to calibrate `advisor recommend`'s memory model.

Small Hugging Face models are built from configs with random weights (nothing is downloaded): a GPT-2
(learned positions, tied LM head, GELU MLP) and a Llama (GQA, SwiGLU, untied head). For each point of
batch x sequence x precision x checkpointing, one real step runs: zero_grad(set_to_none) -> forward with
labels (the model's own loss) -> backward -> AdamW step (foreach, as on CUDA). Two warm-up steps come first
so the optimizer states exist, as in every step after the first.

Peak bytes come from torch's own CPU allocator accounting: the profiler's ``[memory]`` events (every
allocation and free by the c10 allocator, with its size), summed in time order on top of the bytes that
were live when the step began (parameters and optimizer states). The peak inside each phase (forward,
backward, optimizer) is recorded too. The CPU allocator does not cache, so this is the live-tensor peak
that a CUDA caching allocator then rounds up and fragments.

Attention runs through SDPA, which on CPU (as FlashAttention on GPUs) never keeps the s x s scores.

Needs torch and transformers (not dependencies of advisor):
    python benchmarks/measure_training_memory.py -o tests/data/memory/hf-cpu-training-peaks.json
"""

from __future__ import annotations

import argparse
import datetime
import itertools
import json
import platform
import sys
from contextlib import nullcontext
from typing import Any

import torch
from torch.profiler import ProfilerActivity, profile, record_function

SHAPES: dict[str, dict[str, Any]] = {
    # GPT-2 family: learned positions, LayerNorm, GELU MLP (4 x d), tied LM head, vocab 50257
    "gpt2-6l-384": {
        "arch": "gpt2",
        "n_layer": 6,
        "n_embd": 384,
        "n_head": 6,
        "vocab_size": 50257,
        "n_positions": 1024,
        # fused attention kernels (FlashAttention) never store the s x s probabilities, but CPU SDPA does
        # when attention dropout is on; residual and embedding dropout (their masks) stay at 0.1
        "attn_pdrop": 0.0,
    },
    # Llama family: RoPE, RMSNorm, SwiGLU, grouped-query attention (8 query heads, 2 KV heads), untied head
    "llama-6l-512-gqa": {
        "arch": "llama",
        "num_hidden_layers": 6,
        "hidden_size": 512,
        "num_attention_heads": 8,
        "num_key_value_heads": 2,
        "intermediate_size": 1408,
        "vocab_size": 32000,
        "max_position_embeddings": 2048,
        "tie_word_embeddings": False,
    },
    # Held out from calibration: another family (Mistral), other ratios (KV 4 of 12 heads, MLP 3.3 x d)
    "mistral-4l-768-gqa": {
        "arch": "mistral",
        "num_hidden_layers": 4,
        "hidden_size": 768,
        "num_attention_heads": 12,
        "num_key_value_heads": 4,
        "intermediate_size": 2560,
        "vocab_size": 32768,
        "max_position_embeddings": 4096,
        "tie_word_embeddings": False,
        "sliding_window": None,
    },
}
BATCHES = (1, 4)
SEQS = (128, 512)
# fp32: everything fp32. amp-bf16: fp32 weights, bf16 autocast (HF Trainer --bf16). bf16: weights in bf16.
PRECISIONS = ("fp32", "amp-bf16", "bf16")
CHECKPOINTING = (False, True)


def build(name: str, dtype: torch.dtype) -> torch.nn.Module:
    from transformers import (
        GPT2Config,
        GPT2LMHeadModel,
        LlamaConfig,
        LlamaForCausalLM,
        MistralConfig,
        MistralForCausalLM,
    )

    spec = dict(SHAPES[name])
    arch = spec.pop("arch")
    torch.manual_seed(0)
    if arch == "gpt2":
        model: torch.nn.Module = GPT2LMHeadModel(GPT2Config(**spec, attn_implementation="sdpa"))
    elif arch == "mistral":
        model = MistralForCausalLM(MistralConfig(**spec, attn_implementation="sdpa"))
    else:
        model = LlamaForCausalLM(LlamaConfig(**spec, attn_implementation="sdpa"))
    return model.to(dtype)


def shape_facts(name: str, model: torch.nn.Module) -> dict[str, Any]:
    """The shape as advisor's model presets describe it."""
    cfg = model.config  # type: ignore[attr-defined]
    if SHAPES[name]["arch"] == "gpt2":
        return {
            "layers": cfg.n_layer,
            "hidden_size": cfg.n_embd,
            "heads": cfg.n_head,
            "kv_heads": cfg.n_head,
            "intermediate_size": 4 * cfg.n_embd,
            "vocab_size": cfg.vocab_size,
            "tied_embeddings": True,
            "gated_mlp": False,
            "norm": "layernorm",
            "activation": cfg.activation_function,
            "learned_positions": cfg.n_positions,
        }
    return {
        "layers": cfg.num_hidden_layers,
        "hidden_size": cfg.hidden_size,
        "heads": cfg.num_attention_heads,
        "kv_heads": cfg.num_key_value_heads,
        "intermediate_size": cfg.intermediate_size,
        "vocab_size": cfg.vocab_size,
        "tied_embeddings": bool(cfg.tie_word_embeddings),
        "gated_mlp": True,
        "norm": "rmsnorm",
        "activation": cfg.hidden_act,
        "learned_positions": 0,
    }


def live_bytes(model: torch.nn.Module, opt: torch.optim.Optimizer) -> int:
    """Bytes of the distinct storages held by parameters, gradients and optimizer states."""
    seen: dict[int, int] = {}
    tensors: list[torch.Tensor] = []
    for p in model.parameters():
        tensors.append(p)
        if p.grad is not None:
            tensors.append(p.grad)
    for state in opt.state.values():
        tensors += [v for v in state.values() if isinstance(v, torch.Tensor)]
    for t in tensors:
        s = t.untyped_storage()
        seen[s.data_ptr()] = s.nbytes()
    return sum(seen.values())


def one_point(name: str, batch: int, seq: int, precision: str, ckpt: bool) -> dict[str, Any]:
    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    model = build(name, dtype)
    model.train()
    model.config.use_cache = False  # type: ignore[attr-defined]
    if ckpt:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})  # type: ignore[operator]
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, foreach=True)
    vocab = model.config.vocab_size  # type: ignore[attr-defined]
    gen = torch.Generator().manual_seed(1)
    ids = torch.randint(0, vocab, (batch, seq), generator=gen)
    amp = torch.autocast("cpu", dtype=torch.bfloat16) if precision == "amp-bf16" else nullcontext()

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        with record_function("phase:forward"), amp:
            loss = model(input_ids=ids, labels=ids).loss
        with record_function("phase:backward"):
            loss.backward()
        del loss
        with record_function("phase:optimizer"):
            opt.step()

    for _ in range(2):
        step()
    opt.zero_grad(set_to_none=True)
    base = live_bytes(model, opt)
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        step()
    events = prof.profiler.kineto_results.events()  # type: ignore[union-attr]
    mem = sorted((e for e in events if e.name() == "[memory]"), key=lambda e: e.start_ns())
    phases = {
        e.name().split(":", 1)[1]: (e.start_ns(), e.end_ns()) for e in events if e.name().startswith("phase:")
    }
    cur = 0
    peak = 0
    phase_peak = dict.fromkeys(phases, 0)
    for e in mem:
        cur += e.nbytes()
        peak = max(peak, cur)
        for ph, (start, end) in phases.items():
            if start <= e.start_ns() <= end:
                phase_peak[ph] = max(phase_peak[ph], cur)
    n_params = sum(p.numel() for p in model.parameters())
    return {
        "model": name,
        "shape": shape_facts(name, model),
        "params": n_params,
        "batch": batch,
        "seq_len": seq,
        "precision": precision,
        "grad_checkpointing": ckpt,
        "optimizer": "adamw (foreach)",
        "start_bytes": base,
        "peak_bytes": base + peak,
        "phase_peak_bytes": {ph: base + v for ph, v in phase_peak.items()},
        "end_delta_bytes": cur,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--model", choices=sorted(SHAPES), action="append", help="only these shapes")
    ap.add_argument("--batch", type=int, action="append", help=f"batches (default {BATCHES})")
    ap.add_argument("--seq", type=int, action="append", help=f"sequence lengths (default {SEQS})")
    ap.add_argument("--precision", choices=PRECISIONS, action="append", help="precisions (default all)")
    args = ap.parse_args(argv)
    import transformers

    torch.set_num_threads(args.threads)
    points = []
    grid = itertools.product(
        args.model or SHAPES,
        args.batch or BATCHES,
        args.seq or SEQS,
        args.precision or PRECISIONS,
        CHECKPOINTING,
    )
    for name, batch, seq, precision, ckpt in grid:
        point = one_point(name, batch, seq, precision, ckpt)
        points.append(point)
        print(
            f"{name} b{batch} s{seq} {precision} ckpt={ckpt}: peak {point['peak_bytes'] / 2**20:.1f} MiB "
            f"(start {point['start_bytes'] / 2**20:.1f})",
            file=sys.stderr,
        )
    doc = {
        "what": "peak memory of one training step (zero_grad, forward with labels, backward, AdamW foreach)",
        "how": (
            "benchmarks/measure_training_memory.py: Hugging Face models built from configs, random weights; "
            "peak = bytes live at the step's start (parameters, optimizer states) + the running sum of the "
            "torch profiler's [memory] events (c10 CPU allocator allocations and frees) over the step; "
            "attention via SDPA; two warm-up steps first"
        ),
        "date": datetime.date.today().isoformat(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "command": "python benchmarks/measure_training_memory.py "
        + "".join(f"--model {m} " for m in args.model or [])
        + "".join(f"--batch {b} " for b in args.batch or [])
        + "".join(f"--seq {q} " for q in args.seq or [])
        + "".join(f"--precision {p} " for p in args.precision or [])
        + f"--threads {args.threads} -o {args.output}",
        "points": points,
    }
    with open(args.output, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=1)
        fh.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
