"""The terminal view of `advisor check`: sections, wording of unknowns, NO_COLOR, hostile strings."""

from __future__ import annotations

import io
import typing

import pytest
from rich.console import Console

from advisor.cli.common import console as advisor_console
from advisor.machine import GPU, Machine
from advisor.render.terminal import render_report
from advisor.report import Finding, FindingCode, Report
from tests.test_reports_samples import HOSTILE, a5000_report, hostile_report, v100_report


def text_of(report: Report, width: int = 140) -> str:
    buf = io.StringIO()
    render_report(report, Console(file=buf, width=width, no_color=True))
    return buf.getvalue()


def test_sections_in_order_and_verdict_last() -> None:
    out = text_of(v100_report())
    lines = [line for line in out.splitlines() if line.strip()]
    assert lines[0].startswith("source nvidia-smi-xml")
    assert "host pai-worker-3" in lines[0] and "driver 410.104" in lines[0]
    assert lines[-1] == "1 error, 0 warnings, 1 note — exit 1"
    assert out.index("Tesla V100-SXM3-32GB") < out.index("Errors (1)") < out.index("Notes (1)")
    assert "fix: Drain the node and reset the GPU (nvidia-smi -r -i 0) or reboot." in out
    assert "not in the source: torch section" in out


def test_healthy_verdict_and_bench_table() -> None:
    out = text_of(a5000_report())
    assert out.rstrip().endswith("healthy: 0 errors, 0 warnings, 1 note — exit 0")
    assert "Benchmarks" in out
    bf16_row = next(line for line in out.splitlines() if "matmul bf16" in line and "GPU 0" in line)
    assert "42.0 TFLOP/s" in bf16_row and "55.6 TFLOP/s" in bf16_row and "76%" in bf16_row
    # identical recommendations for both GPUs are shown once
    assert "GPUs 0–1: precision bf16 · fp8 no" in out


def test_unknown_values_read_as_dash_and_empty_columns_are_dropped() -> None:
    machine = Machine(gpus=[GPU(index=0, name="Tesla T4", temperature_c=40.0), GPU(index=1, name="Tesla T4")])
    report = Report(
        advisor_version="0", created="2026-01-01T00:00:00+00:00", source="collect-env", machine=machine
    )
    out = text_of(report)
    header = next(line for line in out.splitlines() if "GPU" in line and "#" in line)
    assert "temp" in header and "power" not in header and "memory" not in header
    row1 = next(line for line in out.splitlines() if line.strip().startswith("1 "))
    assert "—" in row1
    assert "torch unknown" in out and "driver unknown" in out


def test_no_gpu_machine() -> None:
    report = Report(
        advisor_version="0", created="2026-01-01T00:00:00+00:00", source="live", machine=Machine()
    )
    assert "No GPU seen." in text_of(report)


def test_machine_strings_are_not_markup_nor_terminal_control() -> None:
    report = hostile_report()
    gpu = report.machine.gpus[0].model_copy(update={"name": "evil\x1b[2J\x1b]0;title\x07name"})
    report = report.model_copy(update={"machine": report.machine.model_copy(update={"gpus": [gpu]})})
    buf = io.StringIO()
    render_report(report, Console(file=buf, width=200, force_terminal=True))
    out = buf.getvalue()
    assert "[red]markup[/red]" in out  # printed literally, not interpreted
    assert "\x1b[2J" not in out and "\x1b]0;" not in out
    assert "<script>alert(1)</script>" in out  # the terminal shows it as the text it is


@pytest.mark.parametrize("code", typing.get_args(FindingCode))
def test_every_finding_code_renders(code: str) -> None:
    finding = Finding(code=code, severity="warning", gpu=0, title=f"title of {code}", detail="d", fix="f")  # type: ignore[arg-type]
    out = text_of(a5000_report().model_copy(update={"findings": [finding]}))
    assert code in out and f"title of {code}" in out


def test_no_color_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    def colour_codes(no_color: bool) -> bool:
        if no_color:
            monkeypatch.setenv("NO_COLOR", "1")
        else:
            monkeypatch.delenv("NO_COLOR", raising=False)
        monkeypatch.setenv("FORCE_COLOR", "1")  # as on a real terminal
        monkeypatch.setenv("TERM", "xterm-256color")
        c = advisor_console()
        c.file = io.StringIO()
        render_report(v100_report(), c)
        out = c.file.getvalue()
        return any(f"\x1b[{n}" in out or f";{n}m" in out for n in (31, 32, 33, 36))

    assert colour_codes(no_color=False)  # the check can see colour when there is some
    assert not colour_codes(no_color=True)


def test_hostile_sample_really_is_hostile() -> None:
    assert "<script>" in HOSTILE and "|" in HOSTILE and "\n" in HOSTILE


def test_workload_line() -> None:
    from advisor.report import MemoryBreakdown, WorkloadEstimate

    memory = MemoryBreakdown(
        weights=14 * 10**9,
        gradients=0,
        optimizer=0,
        activations=10**9,
        kv_cache=2 * 10**9,
        overhead=10**9,
        total=18 * 10**9,
        per_gpu=9 * 10**9,
    )
    estimate = WorkloadEstimate(
        workload={"model": "llama-7b", "task": "inference"}, memory=memory, assumptions=[], cards=[]
    )
    out = text_of(a5000_report().model_copy(update={"workload": estimate}))
    # In words, not a Python repr (no "model=", "max_gpus=8"), and whether it fits here.
    assert "Workload llama-7b, inference, bf16, batch 1: needs 16.8 GiB (8.4 GiB per GPU); fits here" in out
    assert "=" not in out.split("Workload", 1)[1].splitlines()[0]


def test_the_same_finding_on_several_gpus_is_shown_once() -> None:
    findings = [
        Finding(
            code="gpu-throttled",
            severity="warning",
            gpu=i,
            title=f"GPU {i} is held at low clocks",
            detail=f"SM clock 86 MHz, temperature {29 + i} C",
            fix="check the PSUs",
        )
        for i in range(8)
    ]
    report = a5000_report().model_copy(update={"findings": findings})
    out = text_of(report)
    assert out.count("is held at low clocks") == 1
    assert "[gpu-throttled, GPUs 0–7]" in out and "the same on GPUs 1–7" in out
    assert "Warnings (8)" in out
    from advisor.render.markdown import render_markdown

    md = render_markdown(report)
    assert all(f"temperature {29 + i} C" in md for i in range(8))  # the files keep every GPU's detail


def test_long_fix_commands_are_never_split() -> None:
    fix = "pip install torch==2.5.1 --index-url https://download.pytorch.org/whl/cu124/a/very/long/path/x"
    finding = Finding(code="driver-too-old", severity="error", title="t", detail="d", fix=fix)
    out = text_of(v100_report().model_copy(update={"findings": [finding]}), width=60)
    assert "--index-url" in out and "https://download.pytorch.org/whl/cu124/a/very/long/path/x" in out
