"""A Report as one self-contained HTML file: inline CSS, an inline SVG chart, no script, no external asset.

Every string from the machine, a dump or a saved report goes through ``html.escape`` (text and attributes),
and a Content-Security-Policy forbids scripts and remote loads should anything slip through.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape

from advisor.render import common
from advisor.render.svg import bench_chart_svg
from advisor.report import Report

# No script, no remote load: even a string that slipped past escaping could not run or phone home.
CSP = "default-src 'none'; style-src 'unsafe-inline'"
CSS = """
body{font:15px/1.5 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#1d1d1f;margin:0}
body{background:#fafafa}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd}
.facts{color:#555;font-size:14px}.facts span{margin-right:16px}.facts b{font-weight:600;color:#333}
.banner{border-radius:8px;padding:14px 18px;margin:16px 0;font-size:17px;font-weight:600;color:#fff}
.banner.ok{background:#2e7d32}.banner.warning{background:#e69500}.banner.error{background:#c62828}
table{border-collapse:collapse;width:100%;background:#fff;font-size:14px}
th,td{border:1px solid #e0e0e0;padding:5px 8px;text-align:left;vertical-align:top}th{background:#f2f2f2}
.finding{background:#fff;border-left:5px solid #999;border-radius:4px;padding:8px 12px;margin:8px 0}
.finding.error{border-color:#c62828}.finding.warning{border-color:#e69500}.finding.info{border-color:#1e88e5}
.finding .meta{color:#777;font-size:13px}.finding .detail{margin:4px 0}
code{background:#f0f0f0;padding:1px 4px;border-radius:3px;font-size:13px;word-break:break-all}
.chart{max-width:100%;height:auto}.chart text{font:13px system-ui,sans-serif;fill:#333}
details pre{background:#fff;border:1px solid #e0e0e0;padding:10px;overflow:auto;font-size:12px}
footer{color:#888;font-size:12px;margin-top:32px}
"""


def e(value: object) -> str:
    """Escape any value for HTML text or a quoted attribute."""
    return escape(str(value), quote=True)


def html_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain table; every cell is escaped."""
    head = "".join(f"<th>{e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def page(title: str, body: str) -> str:
    """A complete HTML document around ``body`` (already escaped), with the shared style."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{e(title)}</title><style>{CSS}</style></head>\n<body><main>\n{body}\n</main></body></html>\n"
    )


def _prose(text: str) -> str:
    """Escaped text whose `backtick` spans (commands) become <code>."""
    return "".join(f"<code>{e(t)}</code>" if code else e(t) for t, code in common.prose_segments(text))


def render_html(report: Report) -> str:
    """The whole report as one HTML document."""
    parts = [f"<h1>{e(common.report_title(report))}</h1>"]
    facts = "".join(
        f"<span><b>{e(label)}</b> {e(value)}</span>" for label, value in common.header_facts(report)
    )
    parts.append(f'<div class="facts">{facts}</div>')
    host = common.host_facts(report.machine)
    if host:
        parts.append(f'<p class="facts">{e(host)}</p>')
    note = common.missing_note(report.machine)
    if note:
        parts.append(f'<p class="facts"><i>{e(note)}</i></p>')
    parts += [f'<p class="facts"><i>Note: {e(n)}</i></p>' for n in report.notes]
    parts.append(f'<div class="banner {common.verdict_level(report)}">{e(common.verdict(report))}</div>')
    parts.append("<h2>GPUs</h2>")
    if report.machine.gpus:
        columns, rows = common.gpu_table(report)
        parts.append(html_table([c.title for c in columns], [[r[c.key] for c in columns] for r in rows]))
    else:
        parts.append(
            "<p>"
            + ("No GPU seen." if report.machine.gpus_known else "GPUs: unknown (not in the source).")
            + "</p>"
        )
    parts += _findings(report)
    parts += _bench(report)
    parts += _recommendations(report)
    summary = common.workload_summary(report)
    if summary:
        parts += ["<h2>Workload</h2>", f"<p>{e(summary)}</p>"]
    facts_json = json.dumps(
        report.machine.model_dump(mode="json", exclude_none=True), indent=2, ensure_ascii=False
    )
    parts.append(
        "<h2>Raw facts</h2><details><summary>Machine facts as read</summary>"
        f"<pre>{e(facts_json)}</pre></details>"
    )
    parts.append(
        f"<footer>advisor {e(report.advisor_version)} · report schema {e(report.schema_version)}</footer>"
    )
    return page(common.report_title(report), "\n".join(parts))


def _findings(report: Report) -> list[str]:
    out = ["<h2>Findings</h2>"]
    groups = common.by_severity(report.findings)
    if not groups:
        return [*out, "<p>No findings.</p>"]
    for severity, findings in groups:
        out.append(f"<h3>{e(common.SEVERITY_HEADINGS[severity])} ({len(findings)})</h3>")
        for f in findings:
            fix = f'<div class="fix">Fix: {_prose(f.fix)}</div>' if f.fix else ""
            out.append(
                f'<div class="finding {e(f.severity)}"><div><b>{e(f.title)}</b></div>'
                f'<div class="meta">{e(f.code)} · {e(common.finding_subject(f))}</div>'
                f'<div class="detail">{_prose(f.detail)}</div>{fix}</div>'
            )
    return out


def _bench(report: Report) -> list[str]:
    if not report.benchmarks:
        return []
    out = ["<h2>Benchmarks</h2>"]
    chart = bench_chart_svg(report.benchmarks)
    if chart:
        out.append(
            f'<figure>{chart}<figcaption class="facts">measured against the catalog\'s dense peak'
            "</figcaption></figure>"
        )
    rows = common.bench_rows(report.benchmarks)
    columns = common.bench_columns(rows)
    out.append(html_table([c.title for c in columns], [[r[c.key] for c in columns] for r in rows]))
    return out


def _recommendations(report: Report) -> list[str]:
    groups = common.recommendation_groups(report.recommendations, no_gpu=not report.machine.gpus)
    if not groups:
        return []
    rows = []
    for g in groups:
        for r in g.items:
            value = f"<code>{e(r.value)}</code>" if r.topic == "install" else e(r.value)
            rows.append(
                f"<tr><td>{e(g.subject)}</td><td>{e(r.topic)}</td><td>{value}</td><td>{e(r.reason)}</td></tr>"
            )
    head = "<tr><th>for</th><th>topic</th><th>recommendation</th><th>why</th></tr>"
    return [
        "<h2>What this machine is good for</h2>",
        f"<table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>",
    ]
