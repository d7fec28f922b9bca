"""`advisor recommend` against what published runs show (the issue's edge cases) and issue 11's inputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from advisor.cli.app import app
from tests.conftest import REPO

runner = CliRunner()


def _json(*args: str) -> dict[str, Any]:
    result = runner.invoke(app, ["recommend", *args, "--json"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def _card(data: dict[str, Any], card_id: str) -> dict[str, Any]:
    return next(c for c in data["cards"] if c["id"] == card_id)


def test_llama_3_8b_fp16_at_4k_fits_a_16_gb_card_and_8k_does_not() -> None:
    # XiongjieDai/GPU-Benchmarks-on-LLM-Inference README (llama.cpp, May 2024): RTX 4080 16GB ran
    # "8B F16" at tg 4096 (39.44 tokens/s) and was OOM at tg 8192.
    at4k = _json("-m", "llama-3-8b", "--precision", "fp16", "--seq-len", "4096")
    assert _card(at4k, "rtx-4080")["fits"] and _card(at4k, "rtx-4080")["gpus_needed"] == 1
    at8k = _card(_json("-m", "llama-3-8b", "--precision", "fp16", "--seq-len", "8192"), "rtx-4080")
    assert at8k["gpus_needed"] != 1


def test_llama_3_70b_4bit_at_8k_fits_two_24_gb_cards() -> None:
    # Same tables: "70B Q4_K_M" on 3090 24GB * 2 and 4090 24GB * 2 at tg 8192 (14.34 / 17.92 tokens/s).
    data = _json("-m", "llama-3-70b", "--precision", "q4_k_m", "--seq-len", "8192")
    for card in ("rtx-3090", "rtx-4090"):
        assert _card(data, card)["fits"] and _card(data, card)["gpus_needed"] == 2


def test_65b_qlora_fits_one_48_gb_card() -> None:
    # Dettmers et al. 2023 (QLoRA): Guanaco 65B fine-tuned on a single 48 GB GPU (r=64, all linear layers,
    # bf16 compute, gradient checkpointing). LLaMA 65B's config, as a local config.json.
    data = _json("-m", "tests/data/models/llama-65b/config.json", "--task", "qlora", "--lora-rank", "64",
                 "--seq-len", "512")  # fmt: skip
    for card in ("rtx-a6000", "l40s", "a40"):
        assert _card(data, card)["fits"] and _card(data, card)["gpus_needed"] == 1, _card(data, card)[
            "reason"
        ]


def test_mi250x_is_judged_per_gcd_and_listed_once() -> None:
    # ROCm shows each MI250X GCD as its own 64 GB device (catalog notes; newcomer review item 6).
    data = _json("--params", "7B", "--task", "finetune", "--top", "100")
    ids = [c["id"] for c in data["cards"]]
    assert "mi250x" not in ids and ids.count("mi250x-gcd") == 1
    gcd = _card(data, "mi250x-gcd")
    assert "MI250X" in gcd["name"] and "64 GB devices" in gcd["name"]
    assert gcd["gpus_needed"] is None or gcd["gpus_needed"] >= 2  # ~120 GiB never fits one 64 GB GCD


def test_k80_is_not_a_fit_for_current_pytorch() -> None:
    k80 = _card(_json("-m", "gpt2", "--top", "100"), "tesla-k80")
    assert not k80["fits"] and "do not support CC 3.7" in k80["reason"]


def test_cards_title_counts_one_gpu_fits_apart_from_multi_gpu_ones() -> None:
    out = runner.invoke(app, ["recommend", "--params", "13B", "--precision", "fp16"], env={"COLUMNS": "200"})
    assert out.exit_code == 0
    assert "fit on one GPU" in out.stdout and "more on several" in out.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--params", "7"], "needs a unit"),
        (["--params", "1e400"], "beyond any model"),
        (["-m", "gpt2", "--seq-len", "9" * 400], "too large"),
        (["-m", "gpt2", "--batch", "9" * 400], "too large"),
        (["-m", "gpt2", "--gpus", "9" * 400], "too large"),
        (["-m", "gpt2", "--precision", "fp4"], "--precision must be one of"),
        (["-m", "gpt2", "--engine", "zero3"], "not a inference engine"),
        (["-m", "gpt2", "--max-context"], "needs --card"),
        (["-m", "gpt2", "--card", "nonesuch-9000"], "not one card"),
        (["-m", "/nonexistent/config.json"], "no config.json"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["recommend", *args])
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "Traceback" not in result.output


def test_common_spellings_reach_the_estimate() -> None:
    data = _json("-m", "llama-3-8b", "--task", "fine-tune", "--optimizer", "adam", "--precision", "bfloat16")
    assert (data["workload"]["task"], data["workload"]["optimizer"], data["workload"]["precision"]) == (
        "finetune", "adamw", "bf16",
    )  # fmt: skip


@pytest.mark.parametrize("columns", ["60", "80", "200"])
def test_list_models_never_cuts_an_id(columns: str) -> None:
    from tests.test_recommend_models import PRESETS

    out = runner.invoke(app, ["recommend", "--list-models"], env={"COLUMNS": columns})
    assert out.exit_code == 0
    for model_id in PRESETS:
        assert model_id in out.stdout, model_id
    if columns == "60":
        assert "left out for the terminal's width" in out.stdout


def test_max_context_on_a_card() -> None:
    # llama.cpp ran Llama 3 8B F16 at 4096 on a 16 GB RTX 4080 and ran out at 8192 (XiongjieDai tables)
    data = _json("-m", "llama-3-8b", "--precision", "fp16", "--card", "rtx-4080", "--max-context")
    assert 4096 <= data["max_seq_len"] < 8192 and data["max_batch"] >= 1
    two = _json("-m", "llama-3-70b", "--precision", "q4_k_m", "--card", "rtx-3090", "--gpus", "2",
                "--max-context", "--seq-len", "8192")  # fmt: skip
    assert two["max_seq_len"] == 8192 and two["fit"]["fits"]  # the model's trained context
    none = _json("-m", "llama-3-70b", "--precision", "fp16", "--card", "rtx-4090", "--max-context")
    assert none["max_seq_len"] is None and not none["fit"]["fits"]


def test_llama_cpp_partial_offload_when_the_card_is_too_small() -> None:
    # 70B Q4_K_M (~40 GiB) on one 24 GB card: llama.cpp can keep some layers on the GPU (-ngl) and the rest
    # in CPU RAM; the speed then falls towards host-memory bandwidth (a few tokens/s; 2 GPUs give 16-19).
    data = _json("-m", "llama-3-70b", "--precision", "q4_k_m", "--seq-len", "4096", "--card", "rtx-4090")
    off = data["offload"]
    assert not data["fit"]["fits"] and 30 <= off["gpu_layers"] < off["layers"] == 80
    assert 1.0 < off["tokens_per_s"] < 8.0
    assert "offload" not in _json("-m", "llama-3-8b", "--precision", "q4_k_m", "--card", "rtx-4090")


def test_names_from_a_user_catalog_reach_the_terminal_without_escapes(tmp_path: Path) -> None:
    # redteam F4: ESC sequences in a user catalog's card name reached the terminal through `recommend`
    cards = yaml.safe_load((REPO / "catalog" / "cards" / "nvidia-consumer.yaml").read_text())["cards"]
    card = dict(next(c for c in cards if c["id"] == "rtx-4090"))
    card.update(id="evil-4090", name="Evil \x1b]0;pwned\x07 4090 \x1b[31mRED\u202e", nvml_names=[],
                pci_device_ids=[], aliases=[])  # fmt: skip
    (tmp_path / "cards").mkdir()
    (tmp_path / "cards" / "x.yaml").write_text(yaml.safe_dump({"cards": [card]}))
    for args in (["-m", "llama-3-8b", "--top", "60"], ["-m", "llama-3-8b", "--card", "evil-4090"]):
        out = runner.invoke(app, ["recommend", *args, "--catalog", str(tmp_path)], env={"COLUMNS": "200"})
        assert out.exit_code == 0, out.output
        assert "Evil" in out.stdout and "\x1b" not in out.stdout and "\u202e" not in out.stdout


def test_vllm_reserves_its_share_of_the_card_so_8b_fp16_needs_more_than_16_gb() -> None:
    # vLLM takes gpu_memory_utilization (default 0.9) of each GPU for weights, activations and KV cache:
    # 14.96 GiB of Llama 3 8B fp16 weights do not fit 0.9 x 16 GiB, while llama.cpp runs it (above).
    vllm = _card(_json("-m", "llama-3-8b", "--precision", "fp16", "--seq-len", "4096", "--engine", "vllm"),
                 "rtx-4080")  # fmt: skip
    assert vllm["gpus_needed"] != 1 and "gpu_memory_utilization" in vllm["reason"]
    on_24 = _card(_json("-m", "llama-3-8b", "--precision", "fp16", "--seq-len", "4096", "--engine", "vllm"),
                  "rtx-4090")  # fmt: skip
    assert on_24["fits"] and on_24["gpus_needed"] == 1


def test_the_65b_preset_gives_the_qlora_paper_answer_too() -> None:
    data = _json("-m", "llama-65b", "--task", "qlora", "--lora-rank", "64", "--seq-len", "512")
    assert _card(data, "rtx-a6000")["fits"] and _card(data, "rtx-a6000")["gpus_needed"] == 1


def test_a_cheaper_recipe_is_offered_when_it_changes_the_answer() -> None:
    # Full fine-tuning an 8B model needs several big GPUs; QLoRA puts it on one 24 GB card (the QLoRA
    # paper's point; the issue's own example sentence).
    data = _json("-m", "llama-3-8b", "--task", "finetune", "--seq-len", "2048")
    assert any("with QLoRA" in a and "it fits one" in a for a in data["advice"]), data["advice"]
