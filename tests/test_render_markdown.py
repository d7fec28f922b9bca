"""Markdown export: order of sections, escaping of machine strings, every finding code."""

from __future__ import annotations

import re
import typing

import pytest

from advisor.render.markdown import md_code, md_escape, md_table, render_markdown
from advisor.report import Finding, FindingCode
from tests.test_reports_samples import a5000_report, hostile_report, v100_report


def unescaped_pipes(line: str) -> int:
    return len(re.findall(r"(?<!\\)\|", line))


def without_code(md: str) -> str:
    """The Markdown with fenced blocks and code spans removed (their content is literal on GitHub)."""
    md = re.sub(r"(`{3,})json\n.*?\n\1", "", md, flags=re.S)
    return re.sub(r"(`+).+?\1", "", md)


def test_verdict_first_raw_facts_last() -> None:
    md = render_markdown(v100_report())
    order = ["exit 1", "## GPUs", "## Findings", "Errors (1)", "<details>", "</details>"]
    positions = [md.index(marker) for marker in order]
    assert positions == sorted(positions)
    assert "Fix: Drain the node and reset the GPU (nvidia-smi -r -i 0) or reboot." in md


def test_commands_in_backticks_stay_code_and_the_prose_is_escaped() -> None:
    from advisor.render.markdown import md_prose

    text = "Reset it (`sudo nvidia-smi -r -i 0`) or <b>reboot</b> | then `nvidia-smi -q`."
    assert md_prose(text) == (
        "Reset it (`sudo nvidia-smi -r -i 0`) or &lt;b&gt;reboot&lt;/b&gt; \\| then `nvidia-smi -q`."
    )


def test_bench_and_recommendations_sections() -> None:
    md = render_markdown(a5000_report())
    assert md.index("## Findings") < md.index("## Benchmarks") < md.index("## What this machine is good for")
    assert "| GPU 0 | matmul bf16 | 42.0 TFLOP/s | 55.6 TFLOP/s | 76% | 3% |" in md


def test_tables_survive_pipes_and_newlines() -> None:
    md = render_markdown(hostile_report())
    for block in re.findall(r"(?:^\|.*\n)+", md, flags=re.M):
        lines = block.splitlines()
        assert {unescaped_pipes(line) for line in lines} == {unescaped_pipes(lines[0])}, block


def test_no_raw_html_outside_code() -> None:
    md = without_code(render_markdown(hostile_report()))
    assert "<script" not in md
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in md


def test_md_escape_and_code_span() -> None:
    assert md_escape("a|b\nc") == "a\\|b c"
    assert md_escape("x<b>&") == "x&lt;b&gt;&amp;"
    assert md_code("a`b") == "``a`b``"
    assert md_code("`x`") == "`` `x` ``"
    assert md_table(["h"], [["a|b"]]).splitlines()[2] == "| a\\|b |"


@pytest.mark.parametrize("code", typing.get_args(FindingCode))
def test_every_finding_code_renders(code: str) -> None:
    finding = Finding(code=code, severity="error", gpu=None, title=f"title of {code}", detail="why", fix="do")  # type: ignore[arg-type]
    md = render_markdown(a5000_report().model_copy(update={"findings": [finding]}))
    assert f"`{code}`" in md and f"title of {code}" in md
