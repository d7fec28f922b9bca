"""Odd values for `recommend` options and `check --workload` specs: exit 0, or one line and exit 2."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from advisor.cli.app import app
from advisor.errors import InputError
from advisor.recommend.workload import parse_workload_spec

runner = CliRunner()
_TEXT = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["1e400", "-1", "0", "nan", "inf", "9" * 400, "7", "70B", "1.5e9", "q4_k_m", "Q4_K_M",
                     "float16", "fine-tune", "adam", "\x1b[31m", "[/]", "٣"]),
)  # fmt: skip
_OPTIONS = st.sampled_from(
    ["--params", "--seq-len", "--batch", "--gpus", "--max-gpus", "--precision", "--task", "--engine",
     "--kv-dtype", "--optimizer", "--lora-rank", "--budget", "--min-throughput", "--sort", "--top"]
)  # fmt: skip


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_OPTIONS, _TEXT), min_size=1, max_size=3))
def test_recommend_options_never_trace_back(pairs: list[tuple[str, str]]) -> None:
    args = ["recommend"]
    if not any(o == "--params" for o, _ in pairs):
        args += ["-m", "gpt2"]
    for option, value in pairs:
        args += [option, value]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code in (0, 2), (args, result.output[-500:])
    assert "Traceback" not in result.output
    if result.exit_code == 2:
        assert result.stdout == "" and result.stderr.strip().count("\n") == 0, result.stderr


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_workload_specs_parse_or_raise_an_input_error(spec: str) -> None:
    try:
        parse_workload_spec(spec)
    except InputError as exc:
        assert str(exc) and "\n" not in str(exc)
