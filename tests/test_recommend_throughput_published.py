"""Decode speed against published llama.cpp runs on one to eight cards (tests/data/throughput/)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from advisor.knowledge.loader import load_cards_and_models
from advisor.recommend.memory import components
from advisor.recommend.rank import evaluate_card
from advisor.recommend.resolve import resolve
from advisor.recommend.workload import workload_from_options

DATA = Path(__file__).parent / "data" / "throughput" / "llama-cpp-multi-gpu.yaml"
RUNS: list[dict[str, Any]] = yaml.safe_load(DATA.read_text())["runs"]
KNOWLEDGE = load_cards_and_models()
CARDS = {c.id: c for c in KNOWLEDGE.cards}


def _label(run: dict[str, Any]) -> str:
    return f"{run['gpus']}x{run['card']}-{run['model']}-{run['precision']}-tg{run['tg']}"


@pytest.mark.parametrize("run", RUNS, ids=[_label(r) for r in RUNS])
def test_decode_within_1_5x_of_published_and_the_setup_fits(run: dict[str, Any]) -> None:
    # tg N generates N tokens from an empty prompt: memory is sized for N, speed read at the mean context N/2
    def fit(seq: int):  # type: ignore[no-untyped-def]
        w = workload_from_options(
            model=run["model"], precision=run["precision"], seq_len=seq, gpus=run["gpus"]
        )
        r = resolve(w, KNOWLEDGE.models)
        return evaluate_card(r, components(r), CARDS[run["card"]])

    assert fit(run["tg"]).fits, fit(run["tg"]).reason
    got = fit(run["tg"] // 2).est_throughput
    assert got is not None
    ratio = got / run["tokens_per_s"]
    assert 1 / 1.5 <= ratio <= 1.5, f"estimated {got:.1f} vs published {run['tokens_per_s']} tokens/s"


def test_more_cards_in_a_layer_split_are_not_faster_for_one_stream() -> None:
    # the tables: 8B Q4_K_M on 4090 x1/x2/x4/x8 = 130.6/124.7/120.3/118.1 tokens/s
    speeds = []
    for gpus in (1, 2, 4, 8):
        w = workload_from_options(model="llama-3-8b", precision="q4_k_m", seq_len=512, gpus=gpus)
        r = resolve(w, KNOWLEDGE.models)
        speeds.append(evaluate_card(r, components(r), CARDS["rtx-4090"]).est_throughput)
    assert speeds == sorted(speeds, reverse=True)  # type: ignore[type-var]


NEMO = yaml.safe_load((DATA.parent / "nemo-pretraining.yaml").read_text())["runs"]


@pytest.mark.parametrize("run", NEMO, ids=[f"{r['gpus']}x{r['card']}-{r['model']}" for r in NEMO])
def test_pretraining_within_1_5x_of_nemo_published(run: dict[str, Any]) -> None:
    w = workload_from_options(
        model=run["model"], task="pretrain", precision=run["precision"], seq_len=run["seq_len"],
        batch=run["micro_batch"] * run["gpus"], gpus=run["gpus"], max_gpus=run["gpus"],
        grad_checkpointing=run["grad_checkpointing"],
    )  # fmt: skip
    r = resolve(w, KNOWLEDGE.models)
    fit = evaluate_card(r, components(r), CARDS[run["card"]])
    assert fit.fits and fit.est_throughput is not None, fit.reason
    ratio = fit.est_throughput / run["gpus"] / run["tokens_per_s_per_gpu"]
    assert 1 / 1.5 <= ratio <= 1.5, (
        f"{fit.est_throughput / run['gpus']:.0f} vs {run['tokens_per_s_per_gpu']} tokens/s/GPU"
    )
