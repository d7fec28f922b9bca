"""`advisor report render|diff|fleet`: work on saved reports. Thin: parse, call the library, print."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from rich.console import Console

app = typer.Typer(no_args_is_help=True, help="Re-render, compare and merge saved reports.")

FORMATS = ("text", "md", "html", "json")
TO_HELP = "Output format: text (terminal), md, html or json. Default: from --output's suffix, else text."
INCLUDE_IDS = typer.Option(
    False, "--include-ids", help="Keep host names, GPU UUIDs and serials (redacted by default)."
)
THRESHOLD = typer.Option(
    10.0, "--threshold", min=0.0, max=100.0, help="Throughput change that counts, in percent."
)


def _format(to: str | None, output: Path | None) -> str:
    from advisor.errors import UsageError

    if to is None:
        if output is None:
            return "text"
        from advisor.reports.io import format_for

        return format_for(output)
    if to not in FORMATS:
        raise UsageError(f"--to must be one of {', '.join(FORMATS)}, not {to!r}")
    return to


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    from advisor.reports.io import atomic_write_text

    atomic_write_text(output, text)
    sys.stderr.write(f"wrote {output}\n")


def _terminal_text(draw: Callable[[Console], None]) -> str:
    """What a terminal renderer prints, captured as plain text (for --output with the text format)."""
    import io

    from rich.console import Console

    buffer = io.StringIO()
    draw(Console(file=buffer, no_color=True, width=120, highlight=False))
    return buffer.getvalue()


@app.command("render")
def render(
    report: Path = typer.Argument(
        ..., help="A report written by `advisor check --export`/`--json`.", dir_okay=False
    ),
    to: str | None = typer.Option(None, "--to", help=TO_HELP),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write here (atomically) instead of stdout."
    ),
    include_ids: bool = INCLUDE_IDS,
) -> None:
    """Convert a saved report to Markdown, HTML, JSON or the terminal view."""
    from advisor.reports.io import load_report, render_as

    fmt = _format(to, output)
    loaded = load_report(report)
    if fmt == "text":
        from advisor.cli.common import console
        from advisor.render.terminal import render_report
        from advisor.reports.redact import redact_report

        shown = loaded if include_ids else redact_report(loaded)
        if output is None:
            render_report(shown, console())
        else:
            _emit(_terminal_text(lambda c: render_report(shown, c)), output)
        return
    _emit(render_as(loaded, fmt, include_ids=include_ids), output)


@app.command("diff")
def diff(
    before: Path = typer.Argument(..., help="The older report (JSON).", dir_okay=False),
    after: Path = typer.Argument(..., help="The newer report (JSON).", dir_okay=False),
    json: bool = typer.Option(False, "--json", help="Print machine-readable JSON on stdout, nothing else."),
    threshold: float = THRESHOLD,
) -> None:
    """What changed on a machine between two reports (exit 0 whatever changed)."""
    from advisor.reports.diff import diff_reports
    from advisor.reports.io import load_report

    result = diff_reports(load_report(before), load_report(after), threshold=threshold / 100)
    if json:
        from advisor.cli.common import emit_json

        emit_json(result)
        return
    from advisor.cli.common import console
    from advisor.render.diff import render_diff

    render_diff(result, console())


@app.command("fleet")
def fleet(
    paths: list[Path] = typer.Argument(..., help="Report files, or directories searched for *.json."),
    to: str | None = typer.Option(None, "--to", help=TO_HELP),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write here (atomically) instead of stdout."
    ),
    threshold: float = THRESHOLD,
    show_all: bool = typer.Option(
        False, "--all", help="Terminal view: list every node, not only flagged ones."
    ),
) -> None:
    """Merge many nodes' reports into one table, outliers flagged; unreadable files are listed and skipped."""
    from advisor.errors import InputError
    from advisor.reports.fleet import build_fleet, collect_files, load_reports

    fmt = _format(to, output)
    files = collect_files(paths)
    loaded, skipped = load_reports(files)
    for s in skipped:
        sys.stderr.write(f"advisor: skipped {s.reason}\n")
    if not loaded:
        raise InputError(
            f"no readable report among {len(files)} file(s)" if files else "no report files found"
        )
    merged = build_fleet(loaded, skipped=skipped, threshold=threshold / 100)
    if fmt == "json":
        _emit(merged.model_dump_json(indent=2) + "\n", output)
    elif fmt == "md":
        from advisor.render.fleet import render_fleet_markdown

        _emit(render_fleet_markdown(merged), output)
    elif fmt == "html":
        from advisor.render.fleet import render_fleet_html

        _emit(render_fleet_html(merged), output)
    else:
        from advisor.render.fleet import render_fleet_terminal

        if output is None:
            from advisor.cli.common import console

            render_fleet_terminal(merged, console(), show_all=show_all)
        else:
            _emit(_terminal_text(lambda c: render_fleet_terminal(merged, c, show_all=show_all)), output)
