"""The human output of `advisor check`: header, GPUs, findings by severity, bench, recommendations, verdict.

Machine-provided strings go through ``Text`` (never rich markup): a GPU called ``[red]x`` prints as is.
"""

from __future__ import annotations

import re
import textwrap
from typing import TYPE_CHECKING, Literal

from rich import box
from rich.table import Table
from rich.text import Text

from advisor.render import common

if TYPE_CHECKING:
    from rich.console import Console

    from advisor.report import Finding, Report


def _t(value: str, style: str = "", *, one_line: bool = False) -> Text:
    """Machine text as a rich Text: no markup parsing, no control characters."""
    return Text(common.printable(value, one_line=one_line), style=style)


def _indented(console: Console, label: str, text: str, label_style: str = "", *, indent: int = 4) -> None:
    """``label`` + ``text`` wrapped to the console, every line indented."""
    _wrapped(console, [(label, label_style), (text, "")], indent, indent)


def _wrapped(console: Console, segments: list[tuple[str, str]], first: int, rest: int) -> None:
    """Styled segments wrapped at spaces with a hanging indent; commands, URLs and flags are never split.

    (rich's own wrapping folds long words and pads indented lines; a pasted fix must still run.)
    """
    plain = ""
    spans = []
    for text, style in segments:
        text = re.sub(r"\s+", " ", common.printable(text))
        spans.append((len(plain), len(plain) + len(text), style))
        plain += text
    lines = textwrap.wrap(
        plain,
        max(40, console.width),
        initial_indent=" " * first,
        subsequent_indent=" " * rest,
        break_long_words=False,
        break_on_hyphens=False,
    ) or [" " * first]
    pos = 0
    for n, line in enumerate(lines):
        pad = first if n == 0 else rest
        body = line[pad:]
        start = plain.find(body, pos)
        out = Text(" " * pad)
        for a, b, style in spans:
            lo, hi = max(a, start), min(b, start + len(body))
            if lo < hi:
                out.append(plain[lo:hi], style=style)
        console.print(out, soft_wrap=True)
        pos = start + len(body)


def _one_line(console: Console, label: str, text: str, label_style: str = "", *, indent: int = 4) -> None:
    """A command on one line, never hard-wrapped: a terminal wraps it visually, and a copy from a log or
    pipe (80 columns) still runs the whole command."""
    body = re.sub(r"[ \t]+", " ", common.printable(text)).strip()
    for n, line in enumerate(body.split("\n")):
        out = Text(" " * indent)
        out.append(label if n == 0 else " " * len(label), style=label_style)
        out.append(line)
        console.print(out, soft_wrap=True)


def _justify(numeric: bool) -> Literal["left", "right"]:
    return "right" if numeric else "left"


_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan", "ok": "bold green"}
_MARK = {"error": "✗", "warning": "!", "info": "i"}


def render_report(report: Report, console: Console) -> None:
    """Print the report for a person. Colour follows the console (which honours NO_COLOR)."""
    _header(report, console)
    _gpus(report, console)
    _findings(report, console)
    _bench(report, console)
    _recommendations(report, console)
    summary = common.workload_summary(report)
    if summary:
        console.print(Text.assemble(("Workload ", "bold"), _t(summary)))
        console.print()
    for note in report.notes:
        _indented(console, "note: ", note, "dim", indent=0)
    level = common.verdict_level(report)
    console.print(Text(common.verdict(report), style=_STYLE[level]))


def _header(report: Report, console: Console) -> None:
    line = Text()
    for i, (label, value) in enumerate(common.header_facts(report)):
        if label == "created":
            continue
        if i:
            line.append("  ·  ", style="dim")
        line.append(f"{label} ", style="dim")
        line.append(_t(value, one_line=True))
    console.print(line)
    host = common.host_facts(report.machine)
    if host:
        console.print(_t(host, "dim"))
    note = common.missing_note(report.machine)
    if note:
        console.print(_t(note, "dim"))
    console.print()


def _gpus(report: Report, console: Console) -> None:
    if not report.machine.gpus:
        known = report.machine.gpus_known
        console.print(Text("No GPU seen." if known else "GPUs: unknown (not in the source).", style="dim"))
        console.print()
        return
    all_columns, rows = common.gpu_table(report)
    columns = _fit(all_columns, rows, console.width)
    table = Table(box=box.SIMPLE_HEAD, show_edge=False)
    for c in columns:
        # Names wrap last: the widest name (up to 32 characters) keeps its line.
        width = min(32, max(len(r[c.key]) for r in rows)) if c.key == "name" else None
        table.add_column(c.title, justify=_justify(c.key in ("index", "temp", "util")), min_width=width)
    for row in rows:
        table.add_row(*(_t(row[c.key], one_line=True) for c in columns))
    console.print(table)
    dropped = [c.title for c in all_columns if c not in columns]
    if dropped:
        shown = ", ".join(dropped)
        note = f"left out at this width: {shown} (a wider terminal or --export report.md shows all)"
        _indented(console, "", note, indent=1)
    console.print()


# GPU table columns given up first when the terminal is too narrow (the exported reports keep them all).
_DROP_ORDER = ("util", "mig", "clock", "ecc", "temp", "power", "pcie", "cc", "memory", "bench")


def _fit(columns: list[common.Column], rows: list[dict[str, str]], width: int) -> list[common.Column]:
    def need(cols: list[common.Column]) -> int:
        # the widest cell or title word of each column, plus rich's padding and a little slack
        return sum(max(*(len(r[c.key]) for r in rows), *map(len, c.title.split())) + 3 for c in cols)

    kept = list(columns)
    for key in _DROP_ORDER:
        if need(kept) <= width:
            break
        kept = [c for c in kept if c.key != key]
    return kept


def _findings(report: Report, console: Console) -> None:
    for severity, findings in common.by_severity(report.findings):
        heading = f"{common.SEVERITY_HEADINGS[severity]} ({len(findings)})"
        console.print(Text(heading, style=_STYLE[severity]))
        for group in common.finding_groups(findings):
            _finding(group, console)
        console.print()


def _finding(group: list[Finding], console: Console) -> None:
    # The same finding on several GPUs is shown once (the first one's detail), to keep the view calm;
    # the Markdown and HTML reports list each GPU's own detail.
    f = group[0]
    subject = common.finding_subject(f) if len(group) == 1 else common.gpu_span([g.gpu or 0 for g in group])
    mark = (_MARK[f.severity] + " ", _STYLE[f.severity])
    _wrapped(console, [mark, (f.title, "bold"), (f" [{f.code}, {subject}]", "dim")], 2, 4)
    _indented(console, "", f.detail)
    if f.fix:
        _one_line(console, "fix: ", f.fix, "green")
    if len(group) > 1:
        others = common.gpu_span([g.gpu or 0 for g in group[1:]])
        note = f"the same on {others} (each GPU's detail: --export report.md)"
        _indented(console, "", note, "dim")


def _bench(report: Report, console: Console) -> None:
    if not report.benchmarks:
        return
    rows = common.bench_rows(report.benchmarks)
    # The per-result notes (kernels, retries) are long: the exported reports keep them.
    columns = [c for c in common.bench_columns(rows) if c.key != "notes"]
    table = Table(title="Benchmarks", title_justify="left", box=box.SIMPLE_HEAD, show_edge=False)
    for c in columns:
        table.add_column(c.title, justify=_justify(c.key in ("value", "peak", "efficiency", "spread")))
    for row in rows:
        table.add_row(*(_t(row[c.key], one_line=True) for c in columns))
    console.print(table)
    console.print()


def _recommendations(report: Report, console: Console) -> None:
    groups = common.recommendation_groups(report.recommendations, no_gpu=not report.machine.gpus)
    if not groups:
        return
    console.print(Text("Good for", style="bold"))
    for g in groups:
        install = [r for r in g.items if r.topic == "install"]
        others = [r for r in g.items if r.topic != "install"]
        if others:
            text = " · ".join(map(common.recommendation_text, others))
            _indented(console, f"{g.subject}: ", text, "", indent=2)
        for r in install:
            _one_line(console, f"{g.subject}: newest torch that runs here: ", r.value, indent=2)
    console.print()
