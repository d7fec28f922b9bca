"""The model preset schema: one well-known model's shape as the catalog describes it (catalog/models/*.yaml).

Counts are plain numbers (parameters, layers, features); every figure comes from the model's published
config.json, model card or paper, named in ``source``. Unknown values are None, never invented.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt, model_validator

ModelKind = Literal["decoder", "encoder", "vision", "diffusion"]


class ModelPreset(BaseModel):
    """A model the recommender knows by name (``--model llama-3-8b``)."""

    # defer_build: validators are built only when a catalog is validated, not when a cached one is
    # unpickled (advisor.knowledge.validated_cache).
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9.-]*$")
    name: str
    aliases: list[str] = Field(default_factory=list)  # other names users type: HF repo ids, short forms
    kind: ModelKind  # decoder: causal LM with a KV cache; encoder: BERT-like; vision; diffusion (UNet)
    params: PositiveInt  # total parameters
    active_params: PositiveInt | None = None  # MoE: parameters used per token (None: dense, = params)
    layers: PositiveInt | None = None  # transformer blocks
    hidden_size: PositiveInt | None = None  # d_model, features
    heads: PositiveInt | None = None  # attention (query) heads
    kv_heads: PositiveInt | None = None  # key/value heads (GQA/MQA); None: = heads
    head_dim: PositiveInt | None = None  # None: hidden_size / heads
    intermediate_size: PositiveInt | None = None  # MLP inner width (per expert for MoE)
    vocab_size: PositiveInt | None = None  # tokens
    max_seq_len: PositiveInt | None = None  # trained context, tokens (max_position_embeddings)
    tied_embeddings: bool | None = None  # input embedding and LM head share one matrix
    gated_mlp: bool | None = None  # SwiGLU-style MLP with three matrices (gate, up, down)
    activation: str | None = None  # MLP activation as config.json names it (hidden_act / activation_function)
    experts: PositiveInt | None = None  # MoE: experts per layer
    experts_per_token: PositiveInt | None = None  # MoE: experts each token is routed to
    sliding_window: PositiveInt | None = None  # attention window (Mistral 7B v0.1: 4096); None: full
    vision_params: PositiveInt | None = None  # multimodal: parameters of the vision tower (in ``params``)
    image_size: PositiveInt | None = None  # vision/diffusion: input side in pixels
    patch_size: PositiveInt | None = None  # ViT: patch side in pixels
    forward_macs: PositiveFloat | None = None  # multiply-accumulates per sample, forward, at image_size
    notes: str | None = None
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> ModelPreset:
        if self.active_params is not None and self.active_params > self.params:
            raise ValueError("active_params cannot exceed params")
        if (self.experts is None) != (self.experts_per_token is None):
            raise ValueError("experts and experts_per_token go together")
        if (
            self.experts is not None
            and self.experts_per_token is not None
            and self.experts_per_token > self.experts
        ):
            raise ValueError("experts_per_token cannot exceed experts")
        if self.heads is not None and self.kv_heads is not None and self.heads % self.kv_heads:
            raise ValueError("heads must be a multiple of kv_heads")
        uneven = self.heads is not None and self.hidden_size is not None and self.hidden_size % self.heads
        if self.head_dim is None and uneven:
            raise ValueError("hidden_size is not a multiple of heads: give head_dim")
        return self

    @property
    def has_transformer_shape(self) -> bool:
        """True when layers, hidden size and heads are known (KV cache, activations and LoRA need them)."""
        return self.layers is not None and self.hidden_size is not None and self.heads is not None

    @property
    def attention_head_dim(self) -> int | None:
        """Features per attention head."""
        if self.head_dim is not None:
            return self.head_dim
        if self.hidden_size is None or self.heads is None:
            return None
        return self.hidden_size // self.heads

    @property
    def key_value_heads(self) -> int | None:
        """Key/value heads (= query heads without GQA)."""
        return self.kv_heads if self.kv_heads is not None else self.heads

    @property
    def params_per_token(self) -> int:
        """Parameters a token goes through (active parameters for MoE)."""
        return self.active_params if self.active_params is not None else self.params

    def names(self) -> list[str]:
        """Every name this preset answers to."""
        return [self.id, self.name, *self.aliases]


def normalise_model_name(text: str) -> str:
    """Name key for forgiving lookup: ``meta-llama/Meta-Llama-3-8B`` → ``metallama38b``."""
    s = text.strip().lower()
    s = s.rsplit("/", 1)[-1]  # a Hugging Face repo id: keep the model part
    return re.sub(r"[^a-z0-9.]", "", s).replace(".", "")
