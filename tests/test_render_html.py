"""HTML export: self-contained, machine strings escaped, verdict banner, SVG chart, every finding code."""

from __future__ import annotations

import typing
from html.parser import HTMLParser

import pytest

from advisor.render.html import render_html
from advisor.render.svg import bench_chart_svg
from advisor.report import Finding, FindingCode
from tests.test_reports_samples import a5000_report, hostile_report, matmul, v100_report

ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "main", "h1", "h2", "h3", "div", "span", "b", "i", "p",
    "table", "thead", "tbody", "tr", "th", "td", "code", "details", "summary", "pre", "footer", "figure",
    "figcaption", "svg", "text", "rect",
}  # fmt: skip


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> Tags:
    p = Tags()
    p.feed(html)
    return p


def test_hostile_strings_render_as_text() -> None:
    html = render_html(hostile_report())
    assert "<script" not in html.lower()
    parsed = parse(html)
    assert {tag for tag, _ in parsed.tags} <= ALLOWED_TAGS
    for _, attrs in parsed.tags:
        assert not any(name.startswith("on") for name, _ in attrs)
    text = "".join(parsed.text)
    # the GPU name, host, driver, torch, title, detail and fix each come back as the literal text
    assert text.count("<script>alert(1)</script>") >= 8
    assert "\"quoted\" 'single' & | pipe" in text


def test_self_contained() -> None:
    html = render_html(a5000_report())
    for forbidden in ("src=", "href=", "url(", "@import", "<link", "<script"):
        assert forbidden not in html
    assert "Content-Security-Policy" in html and "default-src 'none'" in html


@pytest.mark.parametrize(
    ("report", "level"),
    [(v100_report(), "error"), (a5000_report(), "ok"), (hostile_report(), "warning")],
)
def test_verdict_banner_colour(report: object, level: str) -> None:
    html = render_html(report)  # type: ignore[arg-type]
    assert f'<div class="banner {level}">' in html


def test_chart_bars_are_measured_over_peak() -> None:
    svg = bench_chart_svg(a5000_report().benchmarks)
    assert svg is not None
    rects = [dict(a) for t, a in parse(svg).tags if t == "rect"]
    # a track and a fill per result with a peak: 4 matmuls + memory bandwidth (latency has no peak)
    assert len(rects) == 10
    fills = [float(r["width"] or 0) for r in rects[1::2]]
    tracks = {float(r["width"] or 0) for r in rects[0::2]}
    assert len(tracks) == 1
    track = tracks.pop()
    assert fills[1] == pytest.approx(track * 42.0 / 55.6, abs=0.1)
    assert "GPU 0 bf16" in svg and "42.0 / 55.6 TFLOP/s (76%)" in svg


def test_chart_caps_bars_at_the_peak_and_is_absent_without_peaks() -> None:
    svg = bench_chart_svg([matmul(0, "fp16", 80.0, 50.0)])
    assert svg is not None
    widths = [float(dict(a)["width"] or 0) for t, a in parse(svg).tags if t == "rect"]
    assert widths[0] == widths[1]
    assert "(160%)" in svg
    assert bench_chart_svg([matmul(0, "fp16", 80.0, None)]) is None
    assert "<svg" not in render_html(v100_report())


@pytest.mark.parametrize("code", typing.get_args(FindingCode))
def test_every_finding_code_renders(code: str) -> None:
    finding = Finding(code=code, severity="info", gpu=1, title=f"title of {code}", detail="why", fix=None)  # type: ignore[arg-type]
    html = render_html(a5000_report().model_copy(update={"findings": [finding]}))
    assert f">{code} · GPU 1<" in html and f"title of {code}" in html


def test_commands_in_a_fix_render_as_code_and_the_rest_is_escaped() -> None:
    from advisor.render.html import _prose

    out = _prose("Reset it (`sudo nvidia-smi -r -i 0`) or <b>reboot</b>.")
    assert out == "Reset it (<code>sudo nvidia-smi -r -i 0</code>) or &lt;b&gt;reboot&lt;/b&gt;."
