"""`advisor recommend` through the real CLI app and the shipped catalog: the JSON contract and orderings."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from typing import Any

import pytest
from typer.testing import CliRunner

from advisor.cli.app import app
from advisor.cli.recommend_cmd import parse_workload_spec, workload_from_options
from tests.conftest import REPO

runner = CliRunner()
CARD_KEYS = {
    "id",
    "name",
    "fits",
    "gpus_needed",
    "est_throughput",
    "throughput_unit",
    "bound",
    "price_perf",
    "reason",
}
MEMORY_KEYS = {"weights", "gradients", "optimizer", "activations", "kv_cache", "overhead", "total", "per_gpu"}


def _json(*args: str) -> dict[str, Any]:
    result = runner.invoke(app, ["recommend", *args, "--json"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_json_contract_shape() -> None:
    data = _json("--model", "llama-3-8b", "--task", "lora", "--seq-len", "4096")
    assert set(data) >= {"workload", "memory", "assumptions", "cards"}
    assert data["workload"]["model"] == "llama-3-8b" and data["workload"]["optimizer"] == "adamw"
    assert set(data["memory"]) == MEMORY_KEYS
    assert all(isinstance(v, int) for k, v in data["memory"].items() if k != "per_gpu")
    assert data["memory"]["total"] == sum(data["memory"][k] for k in MEMORY_KEYS - {"total", "per_gpu"})
    assert data["assumptions"] and all(isinstance(a, str) for a in data["assumptions"])
    assert len(data["cards"]) > 20
    for card in data["cards"]:
        assert set(card) == CARD_KEYS
        assert card["bound"] in ("compute", "memory", None)
        assert card["reason"]


def test_cards_that_fit_come_first_fewest_gpus_then_throughput_ties_by_id() -> None:
    cards = _json("--model", "llama-3-70b", "--precision", "int4", "--seq-len", "8192", "--sort", "gpus")[
        "cards"
    ]
    fits = [c for c in cards if c["fits"]]
    assert fits and cards[: len(fits)] == fits
    keys = [(c["gpus_needed"], -(c["est_throughput"] or 0.0), c["id"]) for c in fits]
    assert keys == sorted(keys)
    # a 70B model in 4-bit (~38 GiB) cannot sit on one 24 GB card: those need several
    by_id = {c["id"]: c for c in cards}
    assert by_id["rtx-3090"]["gpus_needed"] > 1 and by_id["h100-sxm5-80gb"]["gpus_needed"] == 1


def test_cheapest_card_to_rent_that_serves_70b_in_4bit_at_8k_is_the_default_sort() -> None:
    data = _json("--model", "llama-3-70b", "--precision", "q4_k_m", "--seq-len", "8192")
    rented = [c for c in data["cards"] if c["fits"] and "rent:" in c["reason"]]
    assert rented and data["cards"][0] == rented[0]
    per_hour = [float(c["reason"].split("rent: ")[1].split("= $")[1].split("/h")[0]) for c in rented]
    assert per_hour == sorted(per_hour)
    # the published runs: 2 x 24 GB cards serve it (llama.cpp, XiongjieDai/GPU-Benchmarks-on-LLM-Inference)
    by_id = {c["id"]: c for c in data["cards"]}
    assert by_id["rtx-3090"]["fits"] and by_id["rtx-3090"]["gpus_needed"] == 2
    assert 1 <= len(data["picks"]) <= 3 and "cheapest to rent" in data["picks"][0]


def test_cheapest_card_to_buy_that_serves_70b_in_4bit_at_8k() -> None:
    cards = _json("--model", "llama-3-70b", "--precision", "int4", "--seq-len", "8192", "--sort", "price")[
        "cards"
    ]
    priced = [c for c in cards if c["fits"] and c["price_perf"] is not None]
    assert priced and cards[0] == priced[0]
    costs = [c["est_throughput"] / c["price_perf"] for c in priced]  # = price x GPUs / 1000 (both rounded)
    assert all(a <= b * 1.001 for a, b in itertools.pairwise(costs))


def test_budget_caps_launch_price_times_gpus() -> None:
    cards = _json("--model", "llama-3-8b", "--task", "qlora", "--budget", "2000")["cards"]
    for c in cards:
        if c["fits"]:
            assert c["price_perf"] is not None and c["est_throughput"] / c["price_perf"] * 1000 <= 2000 + 1e-6
    assert any("over budget" in c["reason"] or "no launch price" in c["reason"] for c in cards)


def test_nothing_fits_prints_what_would() -> None:
    args = ["--model", "llama-3-70b", "--task", "finetune", "--seq-len", "8192", "--batch", "8"]
    data = _json(*args)
    assert not any(c["fits"] for c in data["cards"])
    assert all(c["gpus_needed"] is None for c in data["cards"])
    assert data["advice"] and any("--grad-checkpointing" in a for a in data["advice"])
    human = runner.invoke(app, ["recommend", *args], env={"COLUMNS": "200"})
    assert (
        human.exit_code == 0
        and "What would make it fit" in human.stdout
        and "--grad-checkpointing" in human.stdout
    )


def test_human_output_has_breakdown_table_and_assumptions() -> None:
    out = runner.invoke(app, ["recommend", "-m", "mistral-7b", "--top", "3"], env={"COLUMNS": "200"})
    assert out.exit_code == 0
    for text in ("Workload", "Memory", "KV cache", "Cards", "Assumptions", "memory-bound"):
        assert text in out.stdout, text


def test_params_instead_of_a_model_and_volta_bf16_fallback() -> None:
    data = _json("--params", "7B", "--task", "lora", "--top", "60")
    assert data["workload"]["params"] == 7_000_000_000 and data["workload"]["model"] is None
    assert any("assumed" in a for a in data["assumptions"])
    volta = [c for c in data["cards"] if "v100" in c["id"] and c["fits"] and c["est_throughput"] is not None]
    assert volta and all("no bf16 tensor cores" in c["reason"] for c in volta)


def test_list_models() -> None:
    models = json.loads(runner.invoke(app, ["recommend", "--list-models", "--json"]).stdout)
    assert {"llama-3-8b", "sdxl", "resnet-50"} <= {m["id"] for m in models}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "llama-9"], "unknown model"),
        (["--params", "lots"], "not a parameter count"),
        (["--model", "gpt2", "--task", "dance"], "--task must be one of"),
        (["--model", "gpt2", "--sort", "vibes"], "--sort must be one of"),
        ([], "either by name"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["recommend", *args])
    assert result.exit_code == 2 and message in result.stderr and result.stdout == ""


def test_shared_workload_helpers_for_check() -> None:
    w = parse_workload_spec("model=llama-3-8b,task=lora,precision=bf16,seq_len=4096")
    assert w == workload_from_options(model="llama-3-8b", task="lora", precision="bf16", seq_len=4096)


def test_recommend_never_imports_torch() -> None:
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from advisor.cli.app import app\n"
        "r = CliRunner().invoke(app, ['recommend', '-m', 'llama-3-8b', '--task', 'lora', '--json'])\n"
        "assert r.exit_code == 0, r.output\n"
        "bad = [m for m in sys.modules if m == 'torch' or m.startswith('torch.') or m == 'pynvml']\n"
        "assert not bad, bad\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
