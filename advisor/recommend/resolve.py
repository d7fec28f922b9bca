"""Fill a Workload's defaults and find its model shape (a preset, or one assumed from --params)."""

from __future__ import annotations

import difflib
import math
from collections.abc import Sequence
from dataclasses import dataclass

from advisor.errors import InputError
from advisor.knowledge.models import ModelPreset, normalise_model_name
from advisor.recommend.workload import DEFAULT_LORA_RANK, Workload, format_params

DEFAULT_SEQ_LEN = {"decoder": 2048, "encoder": 512}

# Shapes for a bare parameter count: published configs of current model families, from which the one
# nearest in size lends its width, heads, grouped-query KV heads, MLP ratio and vocabulary; the depth is
# then solved so the count comes out as asked. (params, layers, hidden, heads, kv heads, MLP inner, vocab,
# tied, gated, family's config)
_LADDER: tuple[tuple[float, int, int, int, int, int, int, bool, bool, str], ...] = (
    (124e6, 12, 768, 12, 12, 3072, 50257, True, False, "openai-community/gpt2"),
    (355e6, 24, 1024, 16, 16, 4096, 50257, True, False, "openai-community/gpt2-medium"),
    (1.24e9, 16, 2048, 32, 8, 8192, 128256, True, True, "meta-llama/Llama-3.2-1B"),
    (3.21e9, 28, 3072, 24, 8, 8192, 128256, True, True, "meta-llama/Llama-3.2-3B"),
    (8.03e9, 32, 4096, 32, 8, 14336, 128256, False, True, "meta-llama/Meta-Llama-3-8B"),
    (14.8e9, 48, 5120, 40, 8, 13824, 152064, False, True, "Qwen/Qwen2.5-14B"),
    (32.8e9, 64, 5120, 40, 8, 27648, 152064, False, True, "Qwen/Qwen2.5-32B"),
    (70.6e9, 80, 8192, 64, 8, 28672, 128256, False, True, "meta-llama/Meta-Llama-3-70B"),
    (406e9, 126, 16384, 128, 8, 53248, 128256, False, True, "meta-llama/Llama-3.1-405B"),
)


@dataclass(frozen=True)
class Resolved:
    """A workload with every default filled, the model it runs, and what was assumed to get there."""

    workload: Workload
    model: ModelPreset
    assumptions: tuple[str, ...]
    engine: str = "pytorch"  # the runtime the memory and speed are modelled for

    @property
    def tokens_per_sample(self) -> int | None:
        """Tokens one sample carries through the transformer (sequence, or ViT patches + class token)."""
        if self.workload.seq_len is not None:
            return self.workload.seq_len
        m = self.model
        if m.image_size is not None and m.patch_size is not None:
            return (m.image_size // m.patch_size) ** 2 + 1
        return None


def find_model(name: str, presets: Sequence[ModelPreset]) -> ModelPreset:
    """Look a model up by id, name or alias, forgiving case and punctuation; InputError if unknown."""
    key = normalise_model_name(name)
    for preset in presets:
        if any(normalise_model_name(n) == key for n in preset.names()):
            return preset
    ids = [p.id for p in presets]
    close = difflib.get_close_matches(name.strip().lower(), ids, n=3, cutoff=0.5)
    hint = f"did you mean {', '.join(close)}? " if close else ""
    raise InputError(
        f"unknown model {name!r}: {hint}known presets: {', '.join(sorted(ids)) or 'none'}; "
        "or give the size with --params 7B"
    )


def _layer_params(hidden: int, heads: int, kv: int, inner: int, gated: bool) -> int:
    hd = hidden // heads
    attention = 2 * hidden * heads * hd + 2 * hidden * kv * hd
    return attention + (3 if gated else 2) * hidden * inner + 2 * hidden


def assumed_shape(params: int) -> ModelPreset:
    """A decoder shape for a bare parameter count, borrowed from the published model nearest in size."""
    near = min(_LADDER, key=lambda row: abs(math.log(row[0] / params)))
    _, _, hidden, heads, kv, inner, vocab, tied, gated, family = near
    embeddings = vocab * hidden * (1 if tied else 2)
    per_layer = _layer_params(hidden, heads, kv, inner, gated)
    layers = max(1, round((params - embeddings) / per_layer))
    if params <= embeddings + per_layer:  # tiny: shrink the width instead, keeping 64-wide heads
        hidden = max(64, int(math.sqrt(params / 12)) // 64 * 64)
        heads = kv = max(1, hidden // 64)
        inner, vocab, tied, gated, layers = (
            4 * hidden,
            0,
            True,
            False,
            max(1, round(params / (12 * hidden**2))),
        )
    return ModelPreset(
        id="custom",
        name=f"{format_params(params)}-parameter model",
        kind="decoder",
        params=params,
        layers=layers,
        hidden_size=hidden,
        heads=heads,
        kv_heads=kv,
        intermediate_size=inner,
        vocab_size=vocab or None,
        tied_embeddings=tied,
        gated_mlp=gated,
        source="shape assumed from the parameter count: width, heads and vocabulary of "
        f"{family} (config.json)",
    )


def default_engine(workload: Workload, model: ModelPreset) -> str:
    """The runtime people usually use for this task and format."""
    from advisor.recommend.formats import WEIGHT_FORMATS

    if workload.engine is not None:
        return workload.engine
    if workload.is_training:
        return "pytorch"
    if model.kind != "decoder":
        return "transformers"
    return WEIGHT_FORMATS[workload.precision].engine


def resolve(workload: Workload, presets: Sequence[ModelPreset]) -> Resolved:
    """Fill defaults (seq_len, optimizer, checkpointing, LoRA rank) and attach the model shape."""
    notes: list[str] = []
    if workload.model is not None:
        model = find_model(workload.model, presets)
        if workload.params is not None and workload.params != model.params:
            raise InputError(f"--params {workload.params} contradicts the {model.id} preset ({model.params})")
    elif workload.params is not None:
        model = assumed_shape(workload.params)
        gqa = (
            f"grouped-query attention with {model.kv_heads} KV heads"
            if model.kv_heads != model.heads
            else "full multi-head attention"
        )
        notes.append(
            f"model shape assumed from {format_params(workload.params)} parameters (give --model for the "
            f"real one): a dense decoder with {model.layers} layers of width {model.hidden_size}, "
            f"{model.heads} heads, {gqa}, MLP width {model.intermediate_size}, vocabulary "
            f"{model.vocab_size} — {model.source.split(': ', 1)[-1]}"
        )
    else:
        raise InputError("give the model either by name (--model llama-3-8b) or by size (--params 7B)")

    seq_len = workload.seq_len
    if model.kind in DEFAULT_SEQ_LEN:
        if seq_len is None:
            seq_len = DEFAULT_SEQ_LEN[model.kind]
            if model.max_seq_len is not None:
                seq_len = min(seq_len, model.max_seq_len)
            notes.append(f"sequence length not given: {seq_len} tokens assumed")
        elif model.max_seq_len is not None and seq_len > model.max_seq_len:
            notes.append(
                f"seq_len {seq_len} exceeds {model.name}'s trained context ({model.max_seq_len}); "
                "memory is sized for it anyway"
            )
    elif seq_len is not None:
        raise InputError(f"--seq-len does not apply to {model.name} (a {model.kind} model)")

    if workload.task in ("lora", "qlora") and not model.has_transformer_shape:
        raise InputError(
            f"LoRA needs a transformer shape (layers, hidden size, heads); {model.name} has none"
        )

    training = workload.is_training
    optimizer = (workload.optimizer or "adamw") if training else None
    checkpointing = workload.grad_checkpointing
    if training and checkpointing is None:
        # QLoRA's recipe enables it (Dettmers et al. 2023; peft prepare_model_for_kbit_training default).
        checkpointing = workload.task == "qlora"
    lora_rank = (workload.lora_rank or DEFAULT_LORA_RANK) if workload.task in ("lora", "qlora") else None

    filled = workload.model_copy(
        update={
            "model": model.id if workload.model is not None else None,
            "params": model.params,
            "seq_len": seq_len,
            "optimizer": optimizer,
            "grad_checkpointing": checkpointing if training else None,
            "lora_rank": lora_rank,
        }
    )
    return Resolved(
        workload=filled, model=model, assumptions=tuple(notes), engine=default_engine(filled, model)
    )
