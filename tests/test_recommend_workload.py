"""Workload parsing (options and key=value specs) and the defaults filled in by resolve()."""

from __future__ import annotations

import pytest

from advisor.errors import InputError
from advisor.recommend.resolve import resolve
from advisor.recommend.workload import parse_params, parse_workload_spec, workload_from_options
from tests.test_recommend_models import PRESETS


@pytest.mark.parametrize(
    ("text", "count"),
    [("7B", 7_000_000_000), ("1.5b", 1_500_000_000), ("125M", 125_000_000), ("70e9", 70_000_000_000),
     ("8000000000", 8_000_000_000), (" 13 B ", 13_000_000_000), ("350k", 350_000)],
)  # fmt: skip
def test_parse_params(text: str, count: int) -> None:
    assert parse_params(text) == count


@pytest.mark.parametrize("bad", ["", "seven", "7Q", "-3B", "0"])
def test_parse_params_rejects_nonsense(bad: str) -> None:
    with pytest.raises(InputError):
        parse_params(bad)


def test_spec_round_trip() -> None:
    w = parse_workload_spec("model=llama-3-8b,task=lora,precision=bf16,seq_len=4096")
    assert (w.model, w.task, w.precision, w.seq_len, w.batch) == ("llama-3-8b", "lora", "bf16", 4096, 1)
    w = parse_workload_spec("7B, task=finetune, seq-len=2048, batch=4, grad-checkpointing=on, optimizer=sgd")
    assert (w.params, w.task, w.seq_len, w.batch, w.grad_checkpointing, w.optimizer) == (
        7_000_000_000, "finetune", 2048, 4, True, "sgd",
    )  # fmt: skip
    assert parse_workload_spec("mistral-7b,precision=int4").model == "mistral-7b"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "empty workload spec"),
        ("model=gpt2,colour=blue", "unknown workload key 'colour'"),
        ("model=gpt2,task=lora,task=qlora", "given twice"),
        ("model=gpt2,task=dance", "--task must be one of"),
        ("model=gpt2,precision=fp4", "--precision must be one of"),
        ("model=gpt2,seq_len=long", "--seq-len must be a whole number"),
        ("model=gpt2,batch=0", "--batch must be at least 1"),
        ("model=gpt2,task=lora,grad_checkpointing=maybe", "on or off"),
        ("model=gpt2,params=7B", "either by name"),
        ("task=lora", "either by name"),
        ("model=gpt2,task=finetune,precision=int4", "task qlora"),
        ("model=gpt2,task=qlora,precision=int8", "4-bit NF4"),
        ("model=gpt2,lora_rank=8", "--lora-rank applies"),
        ("model=gpt2,optimizer=adamw", "training tasks only"),
        ("model=gpt2,budget=-5", "--budget must be positive"),
        ("model=gpt2,task=lora,gpus", "not key=value"),
    ],
)
def test_bad_specs_are_input_errors(spec: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_workload_spec(spec)


def _filled(**options: object) -> dict[str, object]:
    w = workload_from_options(**options)  # type: ignore[arg-type]
    return resolve(w, list(PRESETS.values())).workload.model_dump()


def test_defaults_are_filled_per_model_and_task() -> None:
    llama = _filled(model="Meta-Llama-3-8B")
    assert llama["model"] == "llama-3-8b" and llama["params"] == PRESETS["llama-3-8b"].params
    assert llama["seq_len"] == 2048 and llama["optimizer"] is None and llama["grad_checkpointing"] is None
    assert _filled(model="gpt2")["seq_len"] == 1024  # capped at GPT-2's n_positions
    assert _filled(model="bert-base")["seq_len"] == 512
    assert _filled(model="resnet-50")["seq_len"] is None
    lora = _filled(model="llama-3-8b", task="lora")
    assert (lora["optimizer"], lora["grad_checkpointing"], lora["lora_rank"]) == ("adamw", False, 16)
    assert _filled(model="llama-3-8b", task="qlora")["grad_checkpointing"] is True
    assert _filled(model="llama-3-8b", task="finetune", grad_checkpointing=True)["grad_checkpointing"] is True


def test_resolve_rejects_what_does_not_apply() -> None:
    with pytest.raises(InputError, match="does not apply"):
        _filled(model="resnet-50", seq_len=128)
    with pytest.raises(InputError, match="transformer shape"):
        _filled(model="sdxl", task="lora")
    with pytest.raises(InputError, match="unknown model"):
        _filled(model="gpt-5")


def test_bare_parameter_count_gets_a_stated_shape() -> None:
    r = resolve(workload_from_options(params="7B"), [])
    assert r.model.layers and r.model.hidden_size
    # N ≈ 12·L·d² (Kaplan et al. 2020): the assumed shape must reproduce the count within 15%
    assert abs(12 * r.model.layers * r.model.hidden_size**2 - 7e9) / 7e9 < 0.15
    assert any("assumed" in a for a in r.assumptions)
