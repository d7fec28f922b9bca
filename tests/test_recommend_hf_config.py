"""Any model from its config.json: shapes and parameter counts against the counts the model cards publish."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from advisor.errors import InputError
from advisor.recommend.hf_config import load_model, preset_from_config
from advisor.recommend.memory import components, kv_bytes_per_token, kv_tokens
from advisor.recommend.resolve import resolve
from advisor.recommend.workload import workload_from_options
from tests.conftest import REPO

MODELS = REPO / "tests" / "data" / "models"


@pytest.mark.parametrize(
    ("folder", "published", "active"),
    [
        ("llama-65b", 65.2e9, None),  # Touvron et al. 2023, table 2: 65.2B
        ("mistral-7b-v0.1", 7.24e9, None),  # Jiang et al. 2023: 7.24B
        ("mixtral-8x7b-v0.1", 46.7e9, 12.9e9),  # Mistral AI: 46.7B total, 12.9B active
        ("qwen2.5-7b", 7.61e9, None),  # model card: 7.61B
        ("llava-1.5-7b", 7.06e9, None),  # llava-hf/llava-1.5-7b-hf on the hub: 7.06B
    ],
)
def test_parameter_counts_match_the_published_ones(
    folder: str, published: float, active: float | None
) -> None:
    m = load_model(str(MODELS / folder))
    assert abs(m.params - published) / published < 0.01
    if active is not None:
        assert m.active_params is not None and abs(m.active_params - active) / active < 0.01


def test_gqa_sliding_window_moe_and_vision_are_read() -> None:
    mistral = load_model(str(MODELS / "mistral-7b-v0.1" / "config.json"))
    assert (mistral.kv_heads, mistral.sliding_window) == (8, 4096)
    mixtral = load_model(str(MODELS / "mixtral-8x7b-v0.1"))
    assert (mixtral.experts, mixtral.experts_per_token, mixtral.sliding_window) == (8, 2, None)
    qwen = load_model(str(MODELS / "qwen2.5-7b"))
    assert qwen.sliding_window is None  # use_sliding_window: false
    llava = load_model(str(MODELS / "llava-1.5-7b"))
    assert llava.vision_params and 0.29e9 < llava.vision_params < 0.31e9  # CLIP ViT-L/14: ~0.3B


def test_sliding_window_caps_the_kv_cache_where_the_engine_does() -> None:
    m = load_model(str(MODELS / "mistral-7b-v0.1"))
    vllm = resolve(workload_from_options(model="custom", seq_len=16384, engine="vllm"), [m])
    cpp = resolve(workload_from_options(model="custom", seq_len=16384, engine="llama.cpp"), [m])
    assert kv_tokens(vllm) == 4096 and kv_tokens(cpp) == 16384
    assert components(vllm).kv_per_sample == kv_bytes_per_token(vllm) * 4096


def test_a_hub_id_without_huggingface_hub_or_network_is_one_clear_error() -> None:
    code = (
        "import sys; sys.modules['huggingface_hub'] = None\n"
        "from advisor.recommend.hf_config import load_model\n"
        "from advisor.errors import InputError\n"
        "try:\n    load_model('meta-llama/Llama-3.1-8B')\nexcept InputError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "needs huggingface_hub" in out and "config.json" in out


def test_recommend_reads_a_preset_without_importing_huggingface_hub() -> None:
    code = (
        "import sys\nfrom typer.testing import CliRunner\nfrom advisor.cli.app import app\n"
        "r = CliRunner().invoke(app, ['recommend', '-m', 'llama-3-8b', '--json'])\n"
        "assert r.exit_code == 0, r.output\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('torch', 'transformers', 'huggingface_hub')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ("[]", "not a JSON object"),
        ("{", "not valid JSON"),
        ('{"hidden_size": 8}', "no transformer shape"),
        ('{"num_hidden_layers": 2, "hidden_size": 64, "num_attention_heads": 6, "num_key_value_heads": 4}',
         "not a multiple"),
        ("[" * 5000, "not valid JSON"),
    ],
)  # fmt: skip
def test_bad_configs_are_one_line_errors(tmp_path: Path, doc: str, message: str) -> None:
    path = tmp_path / "config.json"
    path.write_text(doc)
    with pytest.raises(InputError, match=message):
        load_model(str(path))


_KEYS = st.sampled_from(
    ["num_hidden_layers", "hidden_size", "num_attention_heads", "num_key_value_heads", "intermediate_size",
     "vocab_size", "head_dim", "num_local_experts", "num_experts_per_tok", "sliding_window",
     "max_position_embeddings", "multi_query", "text_config"]
)  # fmt: skip
_VALUES = st.one_of(st.integers(-5, 10**12), st.floats(allow_nan=True), st.booleans(), st.none(),
                    st.text(max_size=5), st.dictionaries(st.text(max_size=3), st.integers()))  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(_KEYS, _VALUES))
def test_fuzzed_configs_give_a_preset_or_an_input_error(cfg: dict[str, object]) -> None:
    try:
        m = preset_from_config(json.loads(json.dumps(cfg, default=str)), "fuzz")
    except InputError:
        return
    assert m.params > 0 and m.layers and m.hidden_size
