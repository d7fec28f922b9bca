"""Model presets: valid, sourced, and their shapes agree with independently published parameter counts."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from advisor.errors import InputError
from advisor.knowledge.models import ModelPreset
from advisor.recommend.resolve import find_model
from tests.conftest import REPO

MODEL_FILES = sorted((REPO / "catalog" / "models").glob("*.yaml"))


def _presets() -> list[ModelPreset]:
    out = []
    for path in MODEL_FILES:
        out += [ModelPreset.model_validate(e) for e in yaml.safe_load(Path(path).read_text())["models"]]
    return out


PRESETS = {p.id: p for p in _presets()}


def test_every_model_the_issue_names_has_a_sourced_preset() -> None:
    wanted = {
        "gpt2", "bert-base", "llama-2-7b", "llama-2-13b", "llama-3-8b", "llama-3-70b", "mistral-7b",
        "mixtral-8x7b", "qwen-2.5-7b", "resnet-50", "vit-b-16", "sd-1.5", "sdxl",
    }  # fmt: skip
    assert wanted <= set(PRESETS)
    assert len(PRESETS) == sum(len(yaml.safe_load(p.read_text())["models"]) for p in MODEL_FILES), (
        "duplicate id"
    )
    for preset in PRESETS.values():
        assert len(preset.source) > 20, preset.id


def _decoder_params(m: ModelPreset, qkv_bias: bool = False) -> int:
    """Parameters a Llama/GPT-style decoder config implies (weights of every block, embeddings, norms)."""
    assert m.layers and m.hidden_size and m.heads and m.vocab_size and m.intermediate_size
    h, hd = m.hidden_size, m.hidden_size // m.heads
    kv = (m.kv_heads or m.heads) * hd
    attention = 2 * h * h + 2 * h * kv + ((h + 2 * kv) if qkv_bias else 0)
    mlp = 3 * h * m.intermediate_size * (m.experts or 1) + (h * m.experts if m.experts else 0)
    embeddings = m.vocab_size * h * (1 if m.tied_embeddings else 2)
    return m.layers * (attention + mlp + 2 * h) + embeddings + h


# (preset, published total parameters, where the published figure comes from)
PUBLISHED = [
    ("llama-2-7b", 6.74e9, "Hugging Face hub page of meta-llama/Llama-2-7b-hf: 6.74B params"),
    ("llama-2-13b", 13.0e9, "Touvron et al. 2023, Llama 2 paper: 13B"),
    ("llama-3-8b", 8.03e9, "Hugging Face hub page of meta-llama/Meta-Llama-3-8B: 8.03B params"),
    ("llama-3-70b", 70.6e9, "Hugging Face hub page of meta-llama/Meta-Llama-3-70B: 70.6B params"),
    ("mistral-7b", 7.3e9, "Jiang et al. 2023, Mistral 7B: '7.3B parameters'"),
    ("mixtral-8x7b", 46.7e9, "Mistral AI Mixtral announcement: 46.7B total parameters"),
    ("qwen-2.5-7b", 7.61e9, "Qwen/Qwen2.5-7B model card: 7.61B parameters"),
    ("llama-65b", 65.2e9, "Touvron et al. 2023 (LLaMA) Table 2: 65.2B"),
    ("llama-2-70b", 68.98e9, "meta-llama/Llama-2-70b-hf on the hub: 69.0B"),
    ("qwen-2.5-72b", 72.7e9, "Qwen/Qwen2.5-72B model card: 72.7B parameters"),
    ("llama-3.1-405b", 405.85e9, "meta-llama/Llama-3.1-405B on the hub: 405.85B"),
]


@pytest.mark.parametrize(("model_id", "published", "where"), PUBLISHED, ids=[p[0] for p in PUBLISHED])
def test_config_shape_gives_the_published_parameter_count(
    model_id: str, published: float, where: str
) -> None:
    m = PRESETS[model_id]
    implied = _decoder_params(m, qkv_bias=model_id.startswith("qwen"))
    assert implied == m.params, f"preset params differ from what its config implies ({where})"
    assert abs(m.params - published) / published < 0.01, where


def test_mixtral_active_parameters_match_the_paper() -> None:
    # Jiang et al. 2024, "Mixtral of Experts": 13B active parameters per token (12.9B in the announcement).
    m = PRESETS["mixtral-8x7b"]
    assert m.active_params is not None and abs(m.active_params - 12.9e9) / 12.9e9 < 0.01


def test_gpt2_and_bert_counts_match_their_papers() -> None:
    # GPT-2 model card "124M parameters"; BERT paper (Devlin et al. 2019): BERT-Base 110M.
    assert abs(PRESETS["gpt2"].params - 124e6) / 124e6 < 0.01
    assert abs(PRESETS["bert-base"].params - 110e6) / 110e6 < 0.01
    # GPT-2 small: 12 x 768 (Radford et al. 2019 table 2), tied LM head, learned positions (1024 x 768)
    gpt2 = PRESETS["gpt2"]
    per_layer = 4 * 768 * 768 + 4 * 768 + 2 * 768 * 3072 + 3072 + 768 + 4 * 768
    assert 12 * per_layer + 50257 * 768 + 1024 * 768 + 2 * 768 == gpt2.params


def test_lookup_forgives_case_punctuation_and_repo_ids() -> None:
    presets = list(PRESETS.values())
    for name in ("llama-3-8b", "Llama 3 8B", "meta-llama/Meta-Llama-3-8B", "LLAMA3-8B"):
        assert find_model(name, presets).id == "llama-3-8b", name
    assert find_model("Qwen/Qwen2.5-7B-Instruct", presets).id == "qwen-2.5-7b"
    assert find_model("SD 1.5", presets).id == "sd-1.5"


def test_unknown_model_names_the_close_ones() -> None:
    with pytest.raises(InputError, match=r"unknown model 'llama-3-9b'.*llama-3-8b"):
        find_model("llama-3-9b", list(PRESETS.values()))


def test_schema_rejects_inconsistent_presets() -> None:
    base = {"id": "x", "name": "X", "kind": "decoder", "params": 10, "source": "test"}
    with pytest.raises(ValueError, match="active_params"):
        ModelPreset.model_validate({**base, "active_params": 20})
    with pytest.raises(ValueError, match="kv_heads"):
        ModelPreset.model_validate({**base, "heads": 32, "kv_heads": 5})
    with pytest.raises(ValueError, match="extra"):
        ModelPreset.model_validate({**base, "parameters": 5})
    with pytest.raises(ValueError, match="source"):
        ModelPreset.model_validate({k: v for k, v in base.items() if k != "source"})
