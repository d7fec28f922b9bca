"""`advisor check`: probe this machine (or read a pasted dump), bench it, diagnose, render.

Thin wiring only: every decision lives in probe/, dumps/, bench/, rules/ and render/.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import typer

from advisor.cli.common import CATALOG_OPTION, JSON_OPTION, console, emit_json, get_knowledge

if TYPE_CHECKING:
    from advisor.bench import BenchRun
    from advisor.knowledge.base import Knowledge
    from advisor.machine import Machine
    from advisor.recommend import Workload
    from advisor.report import BenchResult, Finding, Report, WorkloadEstimate


class BenchMode(str, Enum):
    none = "none"
    quick = "quick"
    full = "full"


def check(
    from_list: list[str] = typer.Option(
        [],
        "--from",
        metavar="FILE",
        help="Diagnose a pasted dump instead of this machine: collect_env, nvidia-smi, -q or -q -x output "
        "of ONE machine (several outputs in one file are fine). '-' reads stdin. No bench, no torch import.",
    ),
    gpu_ids: str | None = typer.Option(
        None,
        "--id",
        "-i",
        metavar="IDS",
        help="Only these GPUs, by index (as nvidia-smi -i): 0 or 0,2. Findings on the others are left out.",
    ),
    json_out: bool = JSON_OPTION,
    bench: BenchMode = typer.Option(
        BenchMode.quick,
        "--bench",
        help="Micro-benchmark: quick (default, seconds), full (a shape sweep), none.",
    ),
    no_bench: bool = typer.Option(
        False, "--no-bench", help="Skip the micro-benchmark (same as --bench none)."
    ),
    require: list[str] = typer.Option(
        [],
        "--require",
        metavar="EXPR",
        help="Gate: memory>=24GiB (every GPU), cc>=8.0, gpus>=2, a feature (bf16, fp8, tf32, "
        "flash-attention-2), cuda>=12.1 (the CUDA torch was built with), driver-cuda>=12.4 (the driver's "
        "highest CUDA), driver>=535, torch>=2.1. Unmet or unverifiable → an error, exit 1. Repeatable.",
    ),
    workload: str | None = typer.Option(
        None,
        "--workload",
        metavar="SPEC",
        help="Also check a workload fits here (free GPU memory, measured speed), e.g. "
        "'model=llama-3-8b,task=lora,precision=bf16,seq_len=4096,batch=1' or 'params=7B,task=inference'.",
    ),
    export: str | None = typer.Option(
        None,
        "--export",
        metavar="PATH",
        help="Write the report: .json, .md, .html or .txt by suffix. An existing directory (or a name "
        "ending in /, e.g. reports/) gets <host>-<time>.json. Host names, UUIDs and serials redacted.",
    ),
    include_ids: bool = typer.Option(
        False,
        "--include-ids",
        help="Keep host names, GPU UUIDs, serials, user names and addresses in --export and --json output.",
    ),
    timeout: float | None = typer.Option(
        None,
        "--timeout",
        help="Seconds before a hung torch probe or bench is abandoned "
        "(default: 30 s for the probe; the bench scales with GPUs and mode).",
    ),
    catalog: Path | None = CATALOG_OPTION,
) -> None:
    """Tell what this machine has, whether it works together, how fast it is, and what to do about it."""
    from_ = _one_source(from_list)
    if timeout is not None:
        from advisor.cli.common import finite_float

        timeout = finite_float(timeout, "--timeout", lo=0.0, hi=86400.0)

    def run() -> None:
        _check(
            from_,
            gpu_ids,
            json_out,
            bench,
            no_bench,
            require,
            workload,
            export,
            include_ids,
            timeout,
            catalog,
        )

    if from_ is not None:
        run()
        return
    # First of all: `import torch` in the probe's child takes ~1 s; everything else overlaps it.
    from advisor.probe.early import discard, start_torch_child

    start_torch_child(timeout or 30.0)
    try:
        run()
    finally:
        discard()  # unused when a bad option stopped the command before probing


def _check(
    from_: str | None,
    gpu_ids: str | None,
    json_out: bool,
    bench: BenchMode,
    no_bench: bool,
    require: list[str],
    workload: str | None,
    export: str | None,
    include_ids: bool,
    timeout: float | None,
    catalog: Path | None,
) -> None:
    from advisor.diagnose import build_report

    selected = _parse_ids(gpu_ids) if gpu_ids is not None else None
    from advisor.rules.require import parse_requirement

    knowledge = get_knowledge(catalog)
    feature_ids = [f.id for f in knowledge.compat.features.entries]
    for expr in require:  # fail on a bad gate before spending seconds on probing
        parse_requirement(expr, feature_ids)
    work = _parse_workload(workload) if workload else None
    if export is not None:
        _check_export_target(export)

    if from_ is not None:
        from advisor.dumps import read_dump

        if from_ == "-" and _stdin_is_terminal():
            from advisor.cli.common import say

            say("advisor: paste the dump, then press Ctrl-D (on Windows: Ctrl-Z, then Enter)")
        machine = read_dump(from_)
    else:
        from advisor.probe import probe_machine

        with console(stderr=True).status("Probing GPUs, driver and torch…"):
            machine = probe_machine(torch_timeout_s=timeout or 30.0)

    if selected is not None:
        machine = _select_gpus(machine, selected)

    bench_results: list[BenchResult] = []
    bench_findings: list[Finding] = []
    notes: list[str] = []
    interrupted = False
    mode = BenchMode.none if (no_bench or from_ is not None) else bench
    if mode is not BenchMode.none:
        quick_or_full: Literal["quick", "full"] = "full" if mode is BenchMode.full else "quick"
        run = _run_bench(machine, knowledge, quick_or_full, timeout, show_progress=not json_out)
        bench_results, bench_findings, notes = list(run.results), list(run.findings), list(run.notes)
        interrupted = run.interrupted

    estimate: WorkloadEstimate | None = None
    workload_findings: list[Finding] = []
    if work is not None:
        from advisor.rules.fit import check_workload_fit

        workload_findings, estimate = check_workload_fit(machine, work, knowledge, bench_results)

    report = build_report(
        machine,
        knowledge,
        bench=bench_results,
        bench_findings=bench_findings,
        requirements=require,
        workload=estimate,
        workload_findings=workload_findings,
        notes=notes,
    )

    if export is not None:
        _export(report, export, include_ids)
    # One redaction for every output (terminal, --json, --export): people paste all three into issues.
    shown = report
    if not include_ids:
        from advisor.reports.redact import redact_report

        shown = redact_report(report)
    if json_out:
        emit_json(shown)
    else:
        from advisor.render.terminal import render_report

        render_report(shown, console())
    if interrupted:  # Ctrl-C during the bench: the report so far is shown, but `check && deploy` must stop
        raise typer.Exit(130)
    raise typer.Exit(report.exit_code())


def _one_source(sources: list[str]) -> str | None:
    """The one --from given; two would be two machines merged into one that does not exist."""
    from advisor.errors import UsageError

    if len(sources) > 1:
        raise UsageError(
            f"--from was given {len(sources)} times; diagnose one machine at a time "
            "(several outputs of the SAME machine can go in one file: cat a.txt b.txt > one.txt)"
        )
    return sources[0] if sources else None


def _stdin_is_terminal() -> bool:
    import sys

    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def _parse_ids(text: str) -> list[int]:
    from advisor.cli.common import whole_number

    parts = [p for p in text.replace(" ", "").split(",") if p]
    if not parts:
        from advisor.errors import UsageError

        raise UsageError("--id needs GPU indexes, e.g. --id 0 or --id 0,2")
    return sorted({whole_number(p, "--id", lo=0, hi=4096) for p in parts})


def _select_gpus(machine: Machine, ids: list[int]) -> Machine:
    from advisor.errors import UsageError

    known = [g.index for g in machine.gpus]
    missing = [i for i in ids if i not in known]
    if missing:
        have = ", ".join(map(str, known)) if known else "none"
        raise UsageError(f"no GPU {', '.join(map(str, missing))} here (GPU indexes: {have})")
    return machine.model_copy(update={"gpus": [g for g in machine.gpus if g.index in ids]})


def _parse_workload(spec: str) -> Workload:
    from advisor.cli.recommend_cmd import parse_workload_spec

    return parse_workload_spec(spec)


def _run_bench(
    machine: Machine,
    knowledge: Knowledge,
    mode: Literal["quick", "full"],
    timeout: float | None,
    show_progress: bool,
) -> BenchRun:
    from advisor.bench import run_bench
    from advisor.cli.bench_cmd import bench_progress

    with bench_progress(console(stderr=True), enabled=show_progress) as progress:
        return run_bench(machine, knowledge, mode=mode, timeout_s=timeout, progress=progress)


def _check_export_target(target: str) -> None:
    """Refuse a bad --export before any probing or benchmarking is done (one line, exit 2)."""
    import os

    from advisor.errors import UsageError
    from advisor.reports.io import check_writable, format_for

    if target == "-":
        raise UsageError("--export - is not supported: use --json to print the report on stdout")
    path = Path(target)
    if path.is_dir() or target.endswith(("/", os.sep)):
        return
    from advisor.errors import InputError

    try:
        format_for(path)  # unknown suffix → one line, never a directory of that name
    except InputError as exc:
        raise InputError(f"{exc} (or an existing folder, or a name ending in '/', for a folder)") from None
    check_writable(path)


def _export(report: Report, target: str, include_ids: bool) -> None:
    from advisor.cli.common import say
    from advisor.reports.io import write_report

    written = write_report(report, target, include_ids=include_ids)
    say(f"report written to {written}")
