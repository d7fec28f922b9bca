"""A Report as Markdown that reads well on GitHub and GitLab as is.

Order: verdict first, then GPUs, findings with fixes, benchmarks, recommendations, raw facts (folded) last.
Machine-provided strings are escaped: ``|`` and newlines cannot break a table, and HTML or emphasis
characters in a GPU name show as text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from advisor.render import common
from advisor.report import Report

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")
_ICON = {"error": "🔴", "warning": "🟠", "info": "🔵", "ok": "🟢"}


def md_escape(text: str) -> str:
    """Escape a machine-provided string for Markdown text or a table cell (one line, no markup)."""
    text = text.replace("&", "&amp;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    # < and > as entities: a backslash does not stop GitHub's HTML sanitiser from seeing a tag.
    text = text.replace("\\<", "&lt;").replace("\\>", "&gt;")
    return " ".join(text.splitlines()) if ("\n" in text or "\r" in text) else text


def md_prose(text: str) -> str:
    """Escaped prose whose `backtick` spans (commands in a fix) stay code spans."""
    return "".join(md_code(t) if code else md_escape(t) for t, code in common.prose_segments(text))


def md_code(text: str) -> str:
    """An inline code span (outside tables) that survives backticks and newlines in ``text``."""
    one_line = " ".join(text.splitlines())
    longest = max((len(m) for m in re.findall(r"`+", one_line)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if one_line.startswith("`") or one_line.endswith("`") else ""
    return f"{fence}{pad}{one_line}{pad}{fence}"


def md_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub-flavoured table; every cell is escaped."""
    lines = ["| " + " | ".join(md_escape(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(md_escape(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def render_markdown(report: Report) -> str:
    """The whole report as one Markdown document."""
    out: list[str] = []
    level = common.verdict_level(report)
    out.append(f"# {md_escape(common.report_title(report))}")
    out.append(f"**{_ICON[level]} {md_escape(common.verdict(report))}**")
    out.append(" · ".join(f"{label}: {md_escape(value)}" for label, value in common.header_facts(report)))
    host = common.host_facts(report.machine)
    if host:
        out.append(f"Host: {md_escape(host)}")
    note = common.missing_note(report.machine)
    if note:
        out.append(f"_{md_escape(note)}_")
    out += [f"_Note: {md_escape(n)}_" for n in report.notes]
    out.append("## GPUs")
    if report.machine.gpus:
        columns, rows = common.gpu_table(report)
        out.append(md_table([c.title for c in columns], [[r[c.key] for c in columns] for r in rows]))
    else:
        out.append("No GPU seen." if report.machine.gpus_known else "GPUs: unknown (not in the source).")
    out += _findings(report)
    if report.benchmarks:
        out.append("## Benchmarks")
        rows = common.bench_rows(report.benchmarks)
        columns = common.bench_columns(rows)
        out.append(md_table([c.title for c in columns], [[r[c.key] for c in columns] for r in rows]))
    out += _recommendations(report)
    summary = common.workload_summary(report)
    if summary:
        out += ["## Workload", md_escape(summary)]
    out += _raw_facts(report)
    out.append(
        f"<sub>advisor {md_escape(report.advisor_version)} · "
        f"report schema {md_escape(report.schema_version)}</sub>"
    )
    return "\n\n".join(out) + "\n"


def _findings(report: Report) -> list[str]:
    out = ["## Findings"]
    groups = common.by_severity(report.findings)
    if not groups:
        return [*out, "No findings."]
    for severity, findings in groups:
        out.append(f"### {_ICON[severity]} {common.SEVERITY_HEADINGS[severity]} ({len(findings)})")
        items = []
        for f in findings:
            item = f"- **{md_escape(f.title)}** ({md_code(f.code)}, {common.finding_subject(f)})"
            item += f"  \n  {md_prose(f.detail)}"
            if f.fix:
                item += f"  \n  Fix: {md_prose(f.fix)}"
            items.append(item)
        out.append("\n".join(items))
    return out


def _recommendations(report: Report) -> list[str]:
    groups = common.recommendation_groups(report.recommendations, no_gpu=not report.machine.gpus)
    if not groups:
        return []
    lines = []
    for g in groups:
        for r in g.items:
            value = md_code(r.value) if r.topic == "install" else md_prose(r.value)
            lines.append(f"- {g.subject} · **{md_escape(r.topic)}**: {value} — {md_prose(r.reason)}")
    return ["## What this machine is good for", "\n".join(lines)]


def _raw_facts(report: Report) -> list[str]:
    facts = json.dumps(
        report.machine.model_dump(mode="json", exclude_none=True), indent=2, ensure_ascii=False
    )
    # A fence longer than any backtick run inside, so the facts cannot close it early.
    fence = "`" * max(3, 1 + max((len(m) for m in re.findall(r"`+", facts)), default=0))
    # "</details>" in the JSON could close the block early on GitHub; "<\/" is the same JSON string.
    facts = facts.replace("</", "<\\/")
    return ["<details><summary>Raw facts</summary>", f"{fence}json\n{facts}\n{fence}", "</details>"]
