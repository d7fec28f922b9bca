"""`advisor bench`: the micro-benchmark alone, as a table or as JSON.

JSON (``--json``, stable, versioned by ``schema_version``)::

    {"schema_version": "1.0", "mode": "quick" | "full",
     "results": [BenchResult, ...],      # advisor/report.py: device, test, dtype, value, unit, peak, ...
     "findings": [Finding, ...],         # gpu-hang (timeout, crash, CUDA error), underperforming
     "notes": [str, ...],                # OOM retries, skipped tests, interruptions, in words
     "interrupted": bool, "skipped": str | null, "seconds": float}

Exit status: 0, or 1 when a finding is an error (gpu-hang); 2 when PyTorch is not installed (nothing can be
measured: the message says how to install it), for a GPU index that does not exist, or a bad option;
130 after Ctrl-C (the table still shows what finished).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from advisor.cli.common import CATALOG_OPTION, JSON_OPTION, console, emit_json, get_knowledge
from advisor.errors import UsageError

if TYPE_CHECKING:
    from rich.console import Console

    from advisor.bench.records import BenchRun, ProgressEvent
    from advisor.machine import Machine


def bench(
    mode: str = typer.Option("quick", "--bench", help="quick (seconds per device) or full (a shape sweep)."),
    device: str = typer.Option("all", "--device", help="all, cpu, or a GPU index (torch numbering)."),
    timeout: float | None = typer.Option(None, "--timeout", help="Hard limit in seconds for the whole run."),
    as_json: bool = JSON_OPTION,
    collective: bool = typer.Option(
        False,
        "--collective",
        help="Measure all-reduce, all-gather and send/recv bandwidth across ranks instead (NCCL on GPUs, "
        "gloo on CPUs). Under torchrun it joins torchrun's ranks; otherwise it starts --nproc local ranks.",
    ),
    nproc: int | None = typer.Option(
        None, "--nproc", min=2, help="Local ranks for --collective (default: one per GPU, 2 without GPUs)."
    ),
    catalog: Path | None = CATALOG_OPTION,
) -> None:
    """Measure matmul throughput, memory and host⇄device bandwidth, and compare with the card's peak."""
    if collective:
        from advisor.cli.collective_cmd import run_collective_command

        run_collective_command(mode, timeout, nproc, as_json, catalog)
        return
    from advisor.bench import run_bench
    from advisor.report import SEVERITY_ORDER
    from advisor.rules.performance import check_performance

    if mode not in ("quick", "full"):
        raise UsageError(f"--bench must be quick or full, not {mode!r}")
    selection = _parse_device(device)
    if timeout is not None:
        from advisor.cli.common import finite_float

        timeout = finite_float(timeout, "--timeout", lo=0.0, hi=86400.0)
    knowledge = get_knowledge(catalog)
    machine = _machine()
    err = console(stderr=True)
    with bench_progress(err, enabled=not as_json) as report:
        run = run_bench(
            machine, knowledge, "full" if mode == "full" else "quick", timeout, report, device=selection
        )
    if run.skipped is not None and not run.results:
        hint = (
            " (install it: https://pytorch.org/get-started/locally/)"
            if "not installed" in run.skipped
            else ""
        )
        raise UsageError(f"cannot benchmark: {run.skipped}{hint}")
    run.findings = sorted(
        [*run.findings, *check_performance(machine, run.results, knowledge)],
        key=lambda f: (SEVERITY_ORDER[f.severity], -1 if f.gpu is None else f.gpu),
    )
    if as_json:
        emit_json(run)
    else:
        _render(run, console())
    if run.interrupted:
        raise typer.Exit(130)
    if not run.results:
        # Nothing measured (the time limit ran out first): not a pass.
        sys.stderr.write("advisor: error: nothing was measured (see the notes above)\n")
        raise typer.Exit(1)
    if any(f.severity == "error" for f in run.findings):
        raise typer.Exit(1)


def _parse_device(text: str) -> int | str:
    value = text.strip().lower()
    if value in ("all", "cpu"):
        return value
    if value.isdigit():
        return int(value)
    raise UsageError(f"--device must be all, cpu or a GPU index, not {text!r}")


def _machine() -> Machine:
    """The live Machine for the card lookup and the CPU peak (the probe helper's, when available)."""
    try:
        from advisor.probe import probe_machine
    except ImportError:  # probe not built yet: a minimal record; cards are then matched by torch's names
        from advisor.machine import Machine

        return Machine(source="live")
    return probe_machine()


@contextmanager
def bench_progress(err: Console, *, enabled: bool) -> Iterator[Callable[[ProgressEvent], None] | None]:
    """A rich progress bar on stderr (nothing with --json or when stderr is not a terminal)."""
    if not enabled or not err.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as bar:
        task_id = bar.add_task("benchmark: starting", total=None)

        def update(event: ProgressEvent) -> None:
            bar.update(task_id, completed=event.done, total=event.total or None,
                       description=f"benchmark: {event.label}")  # fmt: skip

        yield update


def _render(run: BenchRun, out: Console) -> None:
    """The human table (the same rows and wording as `advisor check`), then findings and notes."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from advisor.render import common
    from advisor.render.safe import safe_text

    title = f"advisor bench ({run.mode}, {run.seconds:.1f} s)"
    if not run.results:
        out.print(Text(f"{title}: no result"))
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, show_edge=False)
    rows = common.bench_rows(run.results)
    columns = [c for c in common.bench_columns(rows) if c.key != "notes"]
    for c in columns:
        numeric = c.key in ("value", "peak", "efficiency", "spread")
        table.add_column(c.title, justify="right" if numeric else "left")
    for row in rows:
        table.add_row(*(Text(safe_text(row[c.key], one_line=True)) for c in columns))
    if rows:
        out.print(table)
    if any(r.device == "cpu" and r.peak is not None for r in run.results):
        out.print("CPU peak: theoretical upper bound from cores × clock × SIMD × FMA (--json shows how)")
    for f in run.findings:
        where = "" if f.gpu is None else f" (GPU {f.gpu})"
        out.print(Text.assemble((f.severity, "bold"), safe_text(f" {f.code}{where}: {f.title}")))
        out.print(Text(safe_text(f"  {f.detail}")))
        if f.fix:
            out.print(Text(safe_text(f"  fix: {f.fix}")), soft_wrap=True)
    for note in run.notes:
        out.print(Text(safe_text(f"note: {note}")))
