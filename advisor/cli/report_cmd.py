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
FLEET_FORMATS = (*FORMATS, "csv")
TO_HELP = "Output format: text (terminal), md, html or json. Default: from --output's suffix, else text."
OUTPUT_HELP = "Write here (atomically) instead of stdout; '-' is stdout. Only regular files are replaced."
INCLUDE_IDS = typer.Option(
    False,
    "--include-ids",
    help="Keep host names, GPU UUIDs, serials, user names and IP addresses (redacted by default).",
)
THRESHOLD = typer.Option(
    10.0, "--threshold", min=0.0, max=100.0, help="Throughput change that counts, in percent."
)


def _format(to: str | None, output: Path | None, allowed: tuple[str, ...] = FORMATS) -> str:
    from advisor.errors import UsageError
    from advisor.render.safe import safe_text

    if to is None:
        if output is None or str(output) == "-":
            return "text"
        if allowed is FLEET_FORMATS and output.suffix.lower() == ".csv":
            return "csv"
        from advisor.reports.io import check_writable, format_for

        fmt = format_for(output)
        check_writable(output)  # before the work, not after it
        return fmt
    if to not in allowed:
        raise UsageError(f"--to must be one of {', '.join(allowed)}, not {safe_text(to, one_line=True)!r}")
    if output is not None and str(output) != "-":
        from advisor.reports.io import check_writable

        check_writable(output)
    return to


def _emit(text: str, output: Path | None, *, file_format: bool = True) -> None:
    """``text`` to stdout or ``output``. A file format (json, md, html, csv) reaches stdout as UTF-8
    bytes whatever the console's encoding, so a cp1252 redirect still gets the exact file."""
    if output is None or str(output) == "-":
        buffer = getattr(sys.stdout, "buffer", None)
        if file_format and buffer is not None and not text.isascii():
            sys.stdout.flush()
            buffer.write(text.encode("utf-8"))
            buffer.flush()
        else:
            sys.stdout.write(text)
        return
    from advisor.cli.common import say
    from advisor.reports.io import atomic_write_text

    atomic_write_text(output, text)
    say(f"wrote {output}")


def _terminal_text(draw: Callable[[Console], None]) -> str:
    """What a terminal renderer prints, captured as plain text (for --output with the text format)."""
    from advisor.reports.io import terminal_text

    return terminal_text(draw)


@app.command("render")
def render(
    report: str = typer.Argument(
        ..., metavar="REPORT", help="A report written by `advisor check --export`/`--json`; '-' reads stdin."
    ),
    to: str | None = typer.Option(None, "--to", help=TO_HELP),
    output: Path | None = typer.Option(None, "--output", "-o", metavar="FILE", help=OUTPUT_HELP),
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
        if output is None or str(output) == "-":
            render_report(shown, console())
        else:
            _emit(_terminal_text(lambda c: render_report(shown, c)), output, file_format=False)
        return
    _emit(render_as(loaded, fmt, include_ids=include_ids), output)


@app.command("diff")
def diff(
    before: str = typer.Argument(..., metavar="BEFORE", help="The older report (JSON); '-' reads stdin."),
    after: str = typer.Argument(..., metavar="AFTER", help="The newer report (JSON)."),
    json: bool = typer.Option(False, "--json", help="Print machine-readable JSON on stdout, nothing else."),
    threshold: float = THRESHOLD,
    exit_code: bool = typer.Option(
        False,
        "--exit-code",
        help="Exit 1 when anything changed (as git diff --exit-code does); default: exit 0 whatever changed.",
    ),
    include_ids: bool = INCLUDE_IDS,
) -> None:
    """What changed on a machine between two reports (exit 0 whatever changed, unless --exit-code)."""
    from advisor.errors import UsageError
    from advisor.reports.diff import diff_reports
    from advisor.reports.io import load_report

    if before == "-" and after == "-":
        raise UsageError("only one of the two reports can be read from stdin ('-')")
    old, new = load_report(before), load_report(after)
    if not include_ids:
        from advisor.reports.redact import redact_report

        old, new = redact_report(old), redact_report(new)
    result = diff_reports(old, new, threshold=threshold / 100)
    if json:
        from advisor.cli.common import emit_json

        emit_json(result)
    else:
        from advisor.cli.common import console
        from advisor.render.diff import render_diff

        render_diff(result, console())
    if exit_code and result.changes:
        raise typer.Exit(1)


@app.command("fleet")
def fleet(
    paths: list[Path] = typer.Argument(
        ..., metavar="PATH", help="Report files, or directories searched for *.json."
    ),
    to: str | None = typer.Option(
        None, "--to", help="Output format: text (terminal), md, html, json or csv (one row per node)."
    ),
    output: Path | None = typer.Option(None, "--output", "-o", metavar="FILE", help=OUTPUT_HELP),
    threshold: float = THRESHOLD,
    show_all: bool = typer.Option(
        False, "--all", help="Terminal view: list every node, not only flagged ones."
    ),
    include_ids: bool = INCLUDE_IDS,
) -> None:
    """Merge many nodes' reports into one table, outliers flagged; unreadable files are listed and skipped."""
    from advisor.cli.common import say
    from advisor.errors import InputError
    from advisor.reports.fleet import build_fleet, collect_files, load_reports

    fmt = _format(to, output, FLEET_FORMATS)
    files = collect_files(paths)
    loaded, skipped = load_reports(files)
    for s in skipped:
        say(f"advisor: skipped {s.reason}")
    if not loaded:
        raise InputError(
            f"no readable report among {len(files)} file(s)" if files else "no report files found"
        )
    merged = build_fleet(loaded, skipped=skipped, threshold=threshold / 100)
    if not include_ids:
        from advisor.reports.redact import redact_fleet

        merged = redact_fleet(merged)
    if fmt == "csv":
        from advisor.render.fleet import render_fleet_csv

        _emit(render_fleet_csv(merged), output)
    elif fmt == "json":
        _emit(merged.model_dump_json(indent=2) + "\n", output)
    elif fmt == "md":
        from advisor.render.fleet import render_fleet_markdown

        _emit(render_fleet_markdown(merged), output)
    elif fmt == "html":
        from advisor.render.fleet import render_fleet_html

        _emit(render_fleet_html(merged), output)
    else:
        from advisor.render.fleet import render_fleet_terminal

        if output is None or str(output) == "-":
            from advisor.cli.common import console

            render_fleet_terminal(merged, console(), show_all=show_all)
        else:
            text = _terminal_text(lambda c: render_fleet_terminal(merged, c, show_all=show_all))
            _emit(text, output, file_format=False)
