"""Fill a Workload's defaults and find its model shape (a preset, or one assumed from --params)."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass

from advisor.errors import InputError
from advisor.knowledge.models import ModelPreset, normalise_model_name
from advisor.recommend.workload import DEFAULT_LORA_RANK, Workload, format_params

DEFAULT_SEQ_LEN = {"decoder": 2048, "encoder": 512}
# Shape assumed for a bare parameter count: a GPT-style dense decoder, N ≈ 12·L·d² (Kaplan et al. 2020,
# "Scaling Laws", eq. 2.1 without embeddings) with 128 features per layer of depth (d = 128·L, as in
# Llama 2 7B: 4096 = 128 × 32) and 128-wide heads.
_ASSUMED_WIDTH_PER_LAYER = 128
_ASSUMED_HEAD_DIM = 128
_ASSUMED_VOCAB = 32000


@dataclass(frozen=True)
class Resolved:
    """A workload with every default filled, the model it runs, and what was assumed to get there."""

    workload: Workload
    model: ModelPreset
    assumptions: tuple[str, ...]

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


def assumed_shape(params: int) -> ModelPreset:
    """A dense decoder shape for a bare parameter count (used for KV cache, activations and LoRA)."""
    layers = max(1, round((params / (12 * _ASSUMED_WIDTH_PER_LAYER**2)) ** (1 / 3)))
    hidden = _ASSUMED_WIDTH_PER_LAYER * layers
    heads = max(1, hidden // _ASSUMED_HEAD_DIM)
    return ModelPreset(
        id="custom",
        name=f"{format_params(params)}-parameter model",
        kind="decoder",
        params=params,
        layers=layers,
        hidden_size=heads * _ASSUMED_HEAD_DIM,
        heads=heads,
        kv_heads=heads,
        intermediate_size=4 * heads * _ASSUMED_HEAD_DIM,
        vocab_size=_ASSUMED_VOCAB,
        tied_embeddings=False,
        gated_mlp=False,
        source="assumed from the parameter count (no preset)",
    )


def resolve(workload: Workload, presets: Sequence[ModelPreset]) -> Resolved:
    """Fill defaults (seq_len, optimizer, checkpointing, LoRA rank) and attach the model shape."""
    notes: list[str] = []
    if workload.model is not None:
        model = find_model(workload.model, presets)
        if workload.params is not None and workload.params != model.params:
            raise InputError(f"--params {workload.params} contradicts the {model.id} preset ({model.params})")
    elif workload.params is not None:
        model = assumed_shape(workload.params)
        notes.append(
            f"model shape assumed from {format_params(workload.params)} parameters: a dense GPT-style "
            f"decoder with {model.layers} layers of width {model.hidden_size} (N ≈ 12·L·d², d = 128·L), no "
            "grouped-query attention (KV cache is an upper bound), 4×d MLP"
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
    return Resolved(workload=filled, model=model, assumptions=tuple(notes))
