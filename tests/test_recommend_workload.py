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
        ("model=gpt2,task=dance", "workload key task must be one of"),
        ("model=gpt2,precision=fp4", "workload key precision must be one of"),
        ("model=gpt2,seq_len=long", "workload key seq_len must be a whole number"),
        ("model=gpt2,batch=0", "workload key batch must be at least 1"),
        ("model=gpt2,task=lora,grad_checkpointing=maybe", "on or off"),
        ("model=gpt2,params=7B", "either by name"),
        ("task=lora", "either by name"),
        ("model=gpt2,task=finetune,precision=int4", "task qlora"),
        ("model=gpt2,task=qlora,precision=int8", "4-bit NF4"),
        ("model=gpt2,lora_rank=8", "--lora-rank applies"),
        ("model=gpt2,optimizer=adamw", "training tasks only"),
        ("model=gpt2,budget=-5", "workload key budget must be positive"),
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


def _count(m: object) -> int:
    """Parameters a shape implies: block linears + norms + embeddings (+ untied head)."""
    from advisor.recommend.memory import linear_shapes

    blocks = sum(i * o * n for i, o, n in linear_shapes(m))  # type: ignore[arg-type]
    emb = (m.vocab_size or 0) * m.hidden_size * (1 if m.tied_embeddings else 2)  # type: ignore[attr-defined]
    return blocks + emb + 2 * m.layers * m.hidden_size  # type: ignore[attr-defined, no-any-return]


@pytest.mark.parametrize("size", ["125M", "1B", "7B", "13B", "70B", "180B", "405B"])
def test_bare_parameter_count_gets_a_stated_shape_that_adds_up(size: str) -> None:
    r = resolve(workload_from_options(params=size), [])
    assert abs(_count(r.model) - r.model.params) / r.model.params < 0.06
    assert any("assumed" in a and "give --model" in a for a in r.assumptions)


def test_params_70b_kv_cache_is_within_10_percent_of_llama_2_70b() -> None:
    # meta-llama/Llama-2-70b-hf config.json: 80 layers, 64 heads, 8 KV heads, head dim 128 →
    # 2 x 80 x 8 x 128 x 2 bytes = 327,680 bytes per token in fp16 (Touvron et al. 2023: 70B uses GQA).
    from advisor.recommend.memory import kv_bytes_per_token

    for size in ("70B", "72B"):
        r = resolve(workload_from_options(params=size, precision="fp16"), [])
        assert abs(kv_bytes_per_token(r) - 327_680) / 327_680 < 0.10


@pytest.mark.parametrize("spelling", ["7", "70", "1e400", "9" * 400, "inf", "nan"])
def test_params_needs_a_unit_and_a_finite_size(spelling: str) -> None:
    with pytest.raises(InputError):
        parse_params(spelling)


@pytest.mark.parametrize(
    ("options", "field", "value"),
    [({"task": "fine-tune"}, "task", "finetune"), ({"task": "train"}, "task", "finetune"),
     ({"task": "finetune", "optimizer": "adam"}, "optimizer", "adamw"),
     ({"precision": "float16"}, "precision", "fp16"), ({"precision": "bfloat16"}, "precision", "bf16"),
     ({"precision": "Q4_K_M"}, "precision", "q4_k_m"),
     ({"engine": "deepspeed", "task": "train"}, "engine", "zero3"),
     ({"kv_dtype": "q8_0"}, "kv_dtype", "q8_0")],
)  # fmt: skip
def test_common_spellings_are_accepted(options: dict[str, str], field: str, value: str) -> None:
    w = workload_from_options(model="gpt2", **options)  # type: ignore[arg-type]
    assert getattr(w, field) == value


@pytest.mark.parametrize("option", ["seq_len", "batch", "gpus", "lora_rank", "max_gpus"])
def test_huge_whole_numbers_are_input_errors(option: str) -> None:
    extra = {"task": "lora"} if option == "lora_rank" else {}
    with pytest.raises(InputError, match="too large"):
        workload_from_options(model="gpt2", **{option: "9" * 400}, **extra)  # type: ignore[arg-type]
