"""An inline SVG bar chart: measured throughput against the catalog peak, one bar per GPU × precision.

The bar's track is the peak (100%), the fill is the measured value; text is escaped like any machine string.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from advisor.render import common
from advisor.report import BenchResult

_ROW = 26
_LABEL_W = 150
_BAR_W = 360
_TEXT_W = 210
_TOP = 8


def chartable(bench: Sequence[BenchResult]) -> list[BenchResult]:
    """The results the chart can show: throughput tests with a known catalog peak."""
    return [b for b in bench if b.peak and b.unit != "us" and b.test in ("matmul", "memory-bandwidth")]


def bench_chart_svg(bench: Sequence[BenchResult]) -> str | None:
    """The chart as an ``<svg>`` element, or None when no result has a peak to compare with."""
    rows = chartable(bench)
    if not rows:
        return None
    width = _LABEL_W + _BAR_W + _TEXT_W
    height = _TOP * 2 + _ROW * len(rows)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="measured throughput against catalog peak">'
    ]
    for i, b in enumerate(rows):
        y = _TOP + i * _ROW
        frac = b.value / b.peak if b.peak else 0.0
        fill_w = max(1.0, min(frac, 1.0) * _BAR_W)
        colour = "#2e7d32" if frac >= 0.6 else "#f9a825" if frac >= 0.35 else "#c62828"
        device = "CPU" if b.device == "cpu" else f"GPU {b.device}"
        what = (
            b.dtype
            if b.test == "matmul" and b.dtype
            else ("memory" if b.test == "memory-bandwidth" else b.test)
        )
        label = f"{device} {what}"
        figure = f"{common.number(b.value)} / {common.number(b.peak)} {b.unit} ({common.percent(frac)})"
        parts.append(
            f'<text x="{_LABEL_W - 8}" y="{y + 16}" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{_LABEL_W}" y="{y + 4}" width="{_BAR_W}" height="16" rx="3" fill="#e8e8e8"/>'
            f'<rect x="{_LABEL_W}" y="{y + 4}" width="{fill_w:.1f}" height="16" rx="3" fill="{colour}">'
            f"<title>{escape(label)}: {escape(figure)}</title></rect>"
            f'<text x="{_LABEL_W + _BAR_W + 8}" y="{y + 16}">{escape(figure)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
