"""`advisor report fleet` views: terminal, Markdown and HTML of a merged Fleet."""

from __future__ import annotations

from typing import TYPE_CHECKING

from advisor.render.common import UNKNOWN, plural, printable

if TYPE_CHECKING:
    from rich.console import Console

    from advisor.reports.fleet import Fleet, Node

NODE_HEADERS = ("host", "GPUs", "driver", "torch", "errors", "warnings", "flags")


def node_cells(n: Node) -> list[str]:
    """The table cells of one node."""
    return [
        n.host,
        n.gpus,
        n.driver or UNKNOWN,
        n.torch or UNKNOWN,
        str(n.errors),
        str(n.warnings),
        "; ".join(n.flags),
    ]


def summary_lines(fleet: Fleet) -> list[str]:
    """A few lines on the whole fleet: how many nodes, the majority versions, what was flagged or skipped."""
    flagged = sum(1 for n in fleet.nodes if n.flags)
    lines = [
        f"{plural(len(fleet.nodes), 'node')}, {flagged} flagged, {plural(len(fleet.outliers), 'outlier')}"
    ]
    majority = ", ".join(f"{k} {v}" for k, v in fleet.majority.items() if v is not None)
    if majority:
        lines.append(f"majority: {majority}")
    if fleet.superseded:
        lines.append(f"{fleet.superseded} older report(s) of the same hosts not merged (newest kept)")
    if fleet.skipped:
        lines.append(f"{len(fleet.skipped)} file(s) skipped (unreadable)")
    return lines


def render_fleet_terminal(fleet: Fleet, console: Console, *, show_all: bool = False) -> None:
    """Print the summary, each flagged node with its reasons, and (``show_all``) a table of every node."""
    from rich import box
    from rich.padding import Padding
    from rich.table import Table
    from rich.text import Text

    for line in summary_lines(fleet):
        console.print(Text(printable(line, one_line=True)))
    flagged = [n for n in fleet.nodes if n.flags]
    for n in flagged:
        console.print()
        facts = f"  {n.gpus} · driver {n.driver or UNKNOWN} · torch {n.torch or UNKNOWN}"
        host = Text(printable(n.host, one_line=True), style="bold red" if n.errors else "bold")
        console.print(Text.assemble(host, printable(facts, one_line=True)))
        for flag in n.flags:
            reason = Text.assemble(("! ", "yellow"), printable(flag, one_line=True))
            console.print(Padding(reason, (0, 0, 0, 2), expand=False))
    if show_all:
        console.print()
        headers = [*NODE_HEADERS[:-1], "flags"]
        rows = [[*node_cells(n)[:-1], str(len(n.flags)) if n.flags else ""] for n in fleet.nodes]
        rows = [[printable(c, one_line=True) for c in r] for r in rows]
        # Host names and versions are never cut: whole columns are left out instead, and named.
        keep = list(range(len(headers)))
        widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
        dropped = []
        for name in ("GPUs", "torch", "driver", "warnings"):
            if sum(widths[i] + 3 for i in keep) <= console.width:
                break
            i = headers.index(name)
            keep.remove(i)
            dropped.append(name)
        table = Table(box=box.SIMPLE_HEAD, show_edge=False)
        for i in keep:
            table.add_column(
                headers[i], justify="right" if headers[i] in ("errors", "warnings", "flags") else "left",
                no_wrap=True,
            )  # fmt: skip
        for r in rows:
            table.add_row(*(Text(r[i]) for i in keep))
        console.print(table, crop=False)
        if dropped:
            note = (
                f"left out at this width: {', '.join(dropped)} (a wider terminal, --to csv or --to md: all)"
            )
            console.print(Text(note, style="dim"))
    elif len(fleet.nodes) > len(flagged):
        hidden = len(fleet.nodes) - len(flagged)
        console.print(
            Text(f"\n{hidden} node(s) without flags not shown (--all lists every node)", style="dim")
        )


CSV_HEADERS = ("host", "file", "created", "gpu_count", "card", "driver", "cuda", "torch",
               "errors", "warnings", "codes", "flags")  # fmt: skip


def render_fleet_csv(fleet: Fleet) -> str:
    """One row per node (RFC 4180), for a spreadsheet; lists are joined with ``; ``.

    Cells that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@`` first) get a leading ``'``.
    """
    import csv
    import io

    def cell(value: object) -> str:
        text = printable("" if value is None else str(value), one_line=True)
        return "'" + text if text[:1] in ("=", "+", "-", "@") else text

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADERS)
    for n in fleet.nodes:
        row = (n.host, n.file, n.created, n.gpu_count, n.card, n.driver, n.cuda, n.torch, n.errors,
               n.warnings, "; ".join(n.codes), "; ".join(n.flags))  # fmt: skip
        writer.writerow([cell(v) for v in row])
    return out.getvalue()


def render_fleet_markdown(fleet: Fleet) -> str:
    """The fleet as Markdown: summary, outliers, then every node."""
    from advisor.render.markdown import md_escape, md_table

    out = ["# GPU fleet report", "\n".join(f"- {md_escape(line)}" for line in summary_lines(fleet))]
    if fleet.outliers:
        out += [
            "## Outliers",
            md_table(("host", "kind", "detail"), [(o.host, o.kind, o.detail) for o in fleet.outliers]),
        ]
    out += ["## Nodes", md_table(NODE_HEADERS, [node_cells(n) for n in fleet.nodes])]
    if fleet.skipped:
        out += ["## Skipped files", md_table(("file", "reason"), [(s.file, s.reason) for s in fleet.skipped])]
    return "\n\n".join(out) + "\n"


def render_fleet_html(fleet: Fleet) -> str:
    """The fleet as one self-contained HTML page."""
    from advisor.render.html import e, html_table, page

    level = "error" if any(n.errors for n in fleet.nodes) else "warning" if fleet.outliers else "ok"
    lines = summary_lines(fleet)
    parts = ["<h1>GPU fleet report</h1>", f'<div class="banner {level}">{e(lines[0])}</div>']
    parts += [f'<p class="facts">{e(line)}</p>' for line in lines[1:]]
    if fleet.outliers:
        rows = [(o.host, o.kind, o.detail) for o in fleet.outliers]
        parts += ["<h2>Outliers</h2>", html_table(("host", "kind", "detail"), rows)]
    parts += ["<h2>Nodes</h2>", html_table(NODE_HEADERS, [node_cells(n) for n in fleet.nodes])]
    if fleet.skipped:
        parts += [
            "<h2>Skipped files</h2>",
            html_table(("file", "reason"), [(s.file, s.reason) for s in fleet.skipped]),
        ]
    return page("GPU fleet report", "\n".join(parts))
