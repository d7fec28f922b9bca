"""The training-memory model against peaks MEASURED on real training steps (tests/data/memory/*.json).

Each file was written by benchmarks/measure_training_memory.py: Hugging Face models built from configs,
one zero_grad/forward/backward/AdamW step, peak from torch's allocator events. The prediction here is
advisor's own, from the shape alone; the acceptance is ±15% on every point. Files named heldout-* were
measured after the coefficients were set and were never used to tune them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from advisor.knowledge.models import ModelPreset
from advisor.recommend.memory import components, step_peak_bytes
from advisor.recommend.resolve import resolve
from advisor.recommend.workload import Workload

DATA = Path(__file__).parent / "data" / "memory"
# the measured modes → advisor's precision and engine
MODES = {"fp32": ("fp32", "pytorch"), "amp-bf16": ("bf16", "pytorch"), "bf16": ("bf16", "pytorch-16bit")}
TOLERANCE = 0.15


def _points() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for path in sorted(DATA.glob("*.json")):
        doc = json.loads(path.read_text())
        out += [(path.name, p) for p in doc["points"]]
    return out


POINTS = _points()


def _predict(p: dict[str, Any]) -> float:
    sh = p["shape"]
    model = ModelPreset(
        id="measured", name=p["model"], kind="decoder", params=p["params"], layers=sh["layers"],
        hidden_size=sh["hidden_size"], heads=sh["heads"], kv_heads=sh["kv_heads"],
        intermediate_size=sh["intermediate_size"], vocab_size=sh["vocab_size"],
        tied_embeddings=sh["tied_embeddings"], gated_mlp=sh["gated_mlp"], activation=sh["activation"],
        source="tests/data/memory",
    )  # fmt: skip
    precision, engine = MODES[p["precision"]]
    w = Workload(
        model="measured", task="finetune", precision=precision, seq_len=p["seq_len"], batch=p["batch"],
        grad_checkpointing=p["grad_checkpointing"], engine=engine,  # type: ignore[arg-type]
    )  # fmt: skip
    return step_peak_bytes(components(resolve(w, [model])), p["batch"])


def _label(item: tuple[str, dict[str, Any]]) -> str:
    name, p = item
    ckpt = "ckpt" if p["grad_checkpointing"] else "nockpt"
    return f"{name.removesuffix('.json')}-b{p['batch']}-s{p['seq_len']}-{p['precision']}-{ckpt}"


@pytest.mark.parametrize("item", POINTS, ids=[_label(i) for i in POINTS])
def test_training_peak_within_15_percent_of_measured(item: tuple[str, dict[str, Any]]) -> None:
    _, p = item
    predicted, measured = _predict(p), p["peak_bytes"]
    assert abs(predicted / measured - 1) <= TOLERANCE, (
        f"predicted {predicted / 2**20:.1f} MiB, measured {measured / 2**20:.1f} MiB"
    )


def test_the_grid_covers_both_peaks_and_more_than_one_family() -> None:
    # Not a grid where the optimizer step always wins: the activations+logits phase must set the peak in
    # a good share of the points, or the test would only check 16 bytes/param arithmetic.
    backward_bound = [
        p for _, p in POINTS if p["phase_peak_bytes"]["backward"] > p["phase_peak_bytes"]["optimizer"]
    ]
    assert len(backward_bound) >= len(POINTS) // 3
    assert len({p["model"] for _, p in POINTS}) >= 2
    assert {p["precision"] for _, p in POINTS} == set(MODES)
    assert {p["grad_checkpointing"] for _, p in POINTS} == {True, False}


def test_the_measurements_say_how_they_were_made() -> None:
    for path in DATA.glob("*.json"):
        doc = json.loads(path.read_text())
        assert doc["how"] and doc["command"].startswith("python benchmarks/measure_training_memory.py")
        assert doc["torch"] and doc["transformers"] and doc["date"]
