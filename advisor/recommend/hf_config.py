"""Any model: a Hugging Face ``config.json`` (a file, a model folder, or a Hub id) read into a ModelPreset.

The keys are the ones transformers' own config classes define (``num_hidden_layers``/``n_layer``,
``num_key_value_heads``, ``multi_query``, ``sliding_window``, ``num_local_experts``, ``text_config`` and
``vision_config`` for multimodal models ...). The parameter count is computed from the shape; a Hub id is
read through ``huggingface_hub`` (the optional ``hf`` extra), imported only when one is asked for.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from advisor.errors import InputError
from advisor.knowledge.models import ModelPreset

MAX_CONFIG_BYTES = 4 * 2**20
_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")


def looks_like_source(text: str) -> bool:
    """True when ``--model`` names a file, a folder or a Hub id rather than a preset."""
    t = text.strip()
    return t.endswith(".json") or Path(t).expanduser().exists() or "/" in t


def _first(cfg: dict[str, Any], *keys: str) -> Any:
    for k in keys:
        v = cfg.get(k)
        if v is not None:
            return v
    return None


def _int(cfg: dict[str, Any], *keys: str) -> int | None:
    v = _first(cfg, *keys)
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        return None
    n = int(v)
    return n if 0 < n < 10**9 else None


def _vision_params(v: dict[str, Any]) -> int:
    layers = _int(v, "num_hidden_layers", "depth", "num_layers") or 0
    hidden = _int(v, "hidden_size", "embed_dim", "width") or 0
    inner = _int(v, "intermediate_size", "mlp_dim") or 4 * hidden
    patch = _int(v, "patch_size") or 14
    return layers * (4 * hidden * hidden + 2 * hidden * inner + 4 * hidden) + 3 * patch * patch * hidden


def preset_from_config(cfg: dict[str, Any], name: str) -> ModelPreset:
    """A decoder preset from a config.json mapping (InputError when it lacks the shape)."""
    if not isinstance(cfg, dict):
        raise InputError(f"{name}: config.json is not a JSON object")
    nested = cfg.get("text_config")
    text: dict[str, Any] = nested if isinstance(nested, dict) else cfg
    layers = _int(text, "num_hidden_layers", "n_layer", "num_layers", "n_layers")
    hidden = _int(text, "hidden_size", "n_embd", "d_model", "dim")
    heads = _int(text, "num_attention_heads", "n_head", "num_heads", "n_heads")
    if not (layers and hidden and heads):
        raise InputError(
            f"{name}: config.json has no transformer shape "
            "(num_hidden_layers, hidden_size, num_attention_heads)"
        )
    kv = _int(text, "num_key_value_heads", "n_head_kv", "num_kv_heads", "multi_query_group_num")
    if kv is None and text.get("multi_query") is True:
        kv = 1
    kv = kv or heads
    if heads % kv:
        raise InputError(f"{name}: {heads} attention heads are not a multiple of {kv} KV heads")
    head_dim = _int(text, "head_dim")
    hd = head_dim or hidden // heads
    experts = _int(text, "num_local_experts", "num_experts", "n_routed_experts")
    per_token = _int(text, "num_experts_per_tok", "num_experts_per_token", "moe_topk") if experts else None
    inner = (
        (_int(text, "moe_intermediate_size") if experts else None)
        or _int(text, "intermediate_size", "n_inner", "ffn_dim", "ffn_hidden_size")
        or 4 * hidden
    )
    vocab = _int(text, "vocab_size", "padded_vocab_size")
    model_type = str(text.get("model_type") or cfg.get("model_type") or "")
    gated = model_type not in ("gpt2", "gpt_neox", "gptj", "opt", "bloom", "falcon", "gpt_bigcode", "phi")
    tied = bool(_first(cfg, "tie_word_embeddings") if "tie_word_embeddings" in cfg else model_type == "gpt2")
    max_seq = _int(text, "max_position_embeddings", "n_positions", "seq_length", "max_sequence_length")
    window = _int(text, "sliding_window") if text.get("use_sliding_window", True) is not False else None
    if window is not None and max_seq is not None and window >= max_seq:
        window = None
    attention = hidden * heads * hd * 2 + hidden * kv * hd * 2
    mlp = (3 if gated else 2) * hidden * inner
    n_experts = experts or 1
    shared = _int(text, "n_shared_experts") or 0
    router = hidden * n_experts if experts else 0
    block = attention + mlp * (n_experts + shared) + router + 2 * hidden
    embeddings = (vocab or 0) * hidden * (1 if tied else 2)
    params = layers * block + embeddings + hidden
    active = None
    if experts and per_token:
        active = layers * (attention + mlp * (per_token + shared) + router + 2 * hidden) + embeddings + hidden
    vision = None
    if isinstance(cfg.get("vision_config"), dict):
        vision = _vision_params(cfg["vision_config"]) or None
        if vision:
            params += vision
            if active:
                active += vision
    try:
        return _preset(name, params, active, layers, hidden, heads, kv, head_dim, hd, inner, vocab, max_seq,
                       tied, gated, experts, per_token, window, vision, text)  # fmt: skip
    except ValueError as exc:  # pydantic's ValidationError: a shape the schema refuses
        why = str(exc).splitlines()[-1].strip()[:120]
        raise InputError(f"{name}: config.json does not describe a usable model ({why})") from None


def _preset(name: str, params: int, active: int | None, layers: int, hidden: int, heads: int, kv: int,
            head_dim: int | None, hd: int, inner: int, vocab: int | None, max_seq: int | None, tied: bool,
            gated: bool, experts: int | None, per_token: int | None, window: int | None, vision: int | None,
            text: dict[str, Any]) -> ModelPreset:  # fmt: skip
    return ModelPreset(
        id="custom",
        name=name,
        kind="decoder",
        params=params,
        active_params=active,
        layers=layers,
        hidden_size=hidden,
        heads=heads,
        kv_heads=kv,
        head_dim=head_dim if head_dim and head_dim != hidden // heads else (hd if hidden % heads else None),
        intermediate_size=inner,
        vocab_size=vocab,
        max_seq_len=max_seq,
        tied_embeddings=tied,
        gated_mlp=gated,
        activation=str(text.get("hidden_act") or text.get("activation_function") or "") or None,
        experts=experts if per_token else None,
        experts_per_token=per_token,
        sliding_window=window,
        vision_params=vision,
        source=f"{name} config.json (parameters counted from its shape)",
    )


def _read(path: Path, name: str) -> dict[str, Any]:
    try:
        if not path.is_file():
            raise InputError(f"{name}: no config.json there")
        with path.open("rb") as fh:
            raw = fh.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise InputError(f"{name}: cannot read it ({exc.strerror or exc})") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise InputError(f"{name}: larger than a config.json can be ({MAX_CONFIG_BYTES // 2**20} MiB)")
    try:
        doc = json.loads(raw.decode("utf-8", errors="replace"))
    except (ValueError, RecursionError):
        raise InputError(f"{name}: not valid JSON") from None
    if not isinstance(doc, dict):
        raise InputError(f"{name}: config.json is not a JSON object")
    return doc


def load_model(text: str) -> ModelPreset:
    """A preset from a config.json path, a model folder holding one, or a Hub id (``org/name``)."""
    t = text.strip()
    path = Path(t).expanduser()
    if path.is_dir():
        return preset_from_config(_read(path / "config.json", t), path.name or t)
    if t.endswith(".json") or path.exists():
        return preset_from_config(_read(path, t), path.parent.name or path.stem)
    if not _HUB_ID.match(t):
        raise InputError(
            f"--model {t[:80]!r}: not a preset, a config.json, a model folder or a Hub id (org/name)"
        )
    try:
        from huggingface_hub import hf_hub_download  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        raise InputError(
            f"--model {t}: reading a Hub model needs huggingface_hub (pip install 'gpu-advisor[hf]'); "
            "or pass its config.json"
        ) from None
    try:
        local = hf_hub_download(t, "config.json")
    except Exception as exc:
        kind = type(exc).__name__
        raise InputError(
            f"--model {t}: could not read its config.json from the Hugging Face Hub ({kind}); offline or "
            "gated models: download config.json and pass its path"
        ) from None
    return preset_from_config(_read(Path(local), t), t)
