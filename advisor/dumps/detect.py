"""Find where each kind of tool output sits in a paste: nvidia-smi XML, ``-q`` text, the table.

Markers are searched over the whole text with regular expressions (C speed, linear); a ``-q`` span is
extended by one anchored block match, a table span by walking its few box lines. Lines outside every span
are left to the collect_env and message scanners.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from advisor.dumps import smi_csv
from advisor.dumps.partial import MAX_SPANS

XML = "nvidia-smi-xml"
XML_FRAGMENT = "nvidia-smi-xml-fragment"
QUERY = "nvidia-smi-q"
TABLE = "nvidia-smi"
CSV = "nvidia-smi-csv"


@dataclass(frozen=True)
class Span:
    """Lines ``start`` (inclusive) to ``end`` (exclusive) of the normalised paste hold one kind of output.

    For XML, ``text`` is the document itself (from its prolog to its closing tag or the paste's end).
    """

    kind: str
    start: int
    end: int
    text: str = ""


# Keys that open collect_env lines: an nvidia-smi -q span ends at one (vLLM pads them "Key    : value" too).
_CE_KEYS = (
    r"PyTorch version|Is debug build|CUDA used to build PyTorch|ROCM used to build PyTorch|OS|"
    r"GCC version|Clang version|CMake version|Libc version|Python version|Python platform|"
    r"Is CUDA available|CUDA runtime version|CUDA_MODULE_LOADING set to|GPU models and configuration|"
    r"Nvidia driver version|cuDNN version|HIP runtime version|MIOpen runtime version|Is XNNPACK available|"
    r"Is XPU available|Caching allocator config|Versions of relevant libraries|Collecting environment"
)
_Q_SECTIONS = (
    r"Clocks Throttle Reasons|Clocks Event Reasons|Clocks Reasons|ECC Errors|ECC Mode|Retired Pages|"
    r"Remapped Rows|FB Memory Usage|GPU Power Readings|Power Readings|Max Clocks|Clocks|Temperature|"
    r"Utilization|PCI|MIG Mode|MIG devices|Processes"
)
_Q_START = re.compile(
    r"^(?=[ \t]*[=A-Z])(?:"  # the lookahead fails most lines at their first character (5x on big pastes)
    r"[ \t]*=+[ \t]*NVSMI LOG[ \t]*=+[ \t]*$"
    r"|[ \t]*(?:Timestamp|Driver Version|Attached GPUs|Product Name|Performance State)[ \t]+:"
    r"|[ \t]*GPU [0-9A-Fa-f]{4,8}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\.[0-7][ \t]*$"
    rf"|([ \t]*)(?:{_Q_SECTIONS})[ \t]*\n\1[ \t]+[A-Za-z][^\n:]{{0,80}}[ \t]:)",
    re.MULTILINE,
)
# One -q line: "key : value", a section header, the GPU header, the banner, a "[...]" elision, or blank.
# The block is one anchored match; nothing follows its repetition, so the engine never backtracks into it.
_Q_LINE = (
    rf"(?!(?i:{_CE_KEYS})\b)[ \t]*"
    r"(?:[^\s:][^:\n]{0,100}?[ \t]:(?:[ \t][^\n]*)?|[A-Za-z][A-Za-z0-9 .()/+\-_',]{0,80}"
    r"|GPU [0-9A-Fa-f:.]{7,20}|=+[ \t]*NVSMI LOG[ \t]*=+|\[[ \t]*(?:\.\.\.|…)[ \t]*\]|\.\.\.|…)?[ \t]*"
)


@functools.cache
def _q_block() -> re.Pattern[str]:
    """Compiled on first use (2 ms): most pastes hold no ``-q`` text."""
    return re.compile(rf"(?:{_Q_LINE}\n)*(?:{_Q_LINE}$)?")


_TABLE_START = re.compile(
    r"^[ \t]*\|[ \t]*NVIDIA-SMI [0-9]"
    r"|^[ \t]*\|[ \t]*\d+[ \t]+[^|\n]*\|[ \t]*[0-9A-Fa-f]{4,8}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\.[0-7]",
    re.MULTILINE,
)
_XML_ROOT = "<nvidia_smi_log"
_XML_END = "</nvidia_smi_log>"

Extend = Callable[[str, int, list[str], int], int]


def find_spans(text: str, lines: list[str]) -> list[Span]:
    """Every nvidia-smi XML, ``-q`` and table span in the paste, in order, never overlapping."""
    spans = _xml_spans(text)
    spans += _marker_spans(text, lines, spans, _Q_START, QUERY, _extend_query)
    spans += _marker_spans(text, lines, spans, _TABLE_START, TABLE, _extend_table)
    spans += _marker_spans(text, lines, spans, smi_csv.HEADER, CSV, _extend_csv)
    spans.sort(key=lambda s: s.start)
    return spans


def covered(spans: list[Span], n_lines: int) -> bytearray:
    """A per-line mask: 1 where a line belongs to some span."""
    mask = bytearray(n_lines)
    for s in spans:
        mask[s.start : s.end] = b"\x01" * (s.end - s.start)
    return mask


def needle_lines(
    lines: list[str], mask: bytearray, needles: Iterable[str], limit: int = 20_000
) -> dict[int, list[str]]:
    """Line index → the literal texts found on it, for unmasked lines. Each text is looked for with
    ``str.find`` over the whole paste: a hundred linear C scans beat one regex alternation of literals,
    which Python's engine tries one by one at every position."""
    text = "\n".join(lines)
    starts: list[int] = []
    offset = 0
    for line in lines:
        starts.append(offset)
        offset += len(line) + 1
    found: dict[int, list[str]] = {}
    for needle in needles:
        pos, count = text.find(needle), 0
        while pos != -1 and count < limit:
            i = bisect.bisect_right(starts, pos) - 1
            if not mask[i]:
                found.setdefault(i, []).append(needle)
                count += 1
            nxt = starts[i] + len(lines[i]) + 1  # one hit per line is enough
            pos = text.find(needle, nxt) if nxt < len(text) else -1
    return found


def hit_lines(lines: list[str], mask: bytearray, pattern: re.Pattern[str], limit: int = 20_000) -> list[int]:
    """Indices of unmasked lines where ``pattern`` matches; only unmasked stretches are searched."""
    found: list[int] = []
    start = 0
    n = len(lines)
    while start < n and len(found) < limit:
        if mask[start]:
            nxt = mask.find(0, start)
            if nxt == -1:
                break
            start = nxt
        end = mask.find(1, start)
        end = n if end == -1 else end
        text = "\n".join(lines[start:end])
        line = last = 0
        for m in pattern.finditer(text):
            line += text.count("\n", last, m.start())
            last = m.start()
            if not found or found[-1] != start + line:
                found.append(start + line)
                if len(found) >= limit:
                    break
        start = end
    return found


# Elements of one GPU in ``nvidia-smi -q -x``: a paste may hold one section of it without the document.
_XML_SECTION = re.compile(
    r"^[ \t]*<(?:gpu id=|product_name>|clocks_event_reasons>|clocks_throttle_reasons>|temperature>"
    r"|fb_memory_usage>|ecc_errors>|retired_pages>|remapped_rows>|pci>|power_readings>|gpu_power_readings>)",
    re.MULTILINE,
)


def _xml_fragment(text: str) -> list[Span]:
    """A paste of ``-q -x`` sections without ``<nvidia_smi_log>``: the run of tag lines around the first
    section (blank lines allowed, any other line ends it)."""
    m = _XML_SECTION.search(text)
    if m is None:
        return []
    start = text.rfind("\n", 0, m.start()) + 1
    pos = end = start
    while pos < len(text):
        nl = text.find("\n", pos)
        nl = len(text) if nl == -1 else nl
        line = text[pos:nl].strip()
        if line.startswith("<"):
            end = nl
        elif line:
            break
        pos = nl + 1
    first = text.count("\n", 0, start)
    return [Span(XML_FRAGMENT, first, first + text.count("\n", start, end) + 1, text[start:end])]


def _xml_spans(text: str) -> list[Span]:
    if _XML_ROOT not in text:
        return _xml_fragment(text)
    spans: list[Span] = []
    pos = 0
    while (root := text.find(_XML_ROOT, pos)) != -1 and len(spans) < MAX_SPANS:
        prolog = [p for p in (text.rfind("<?xml", pos, root), text.rfind("<!DOCTYPE", pos, root)) if p != -1]
        begin = min(prolog) if prolog else root
        close = text.find(_XML_END, root)
        end = len(text) if close == -1 else close + len(_XML_END)
        first = text.count("\n", 0, begin)
        spans.append(Span(XML, first, first + text.count("\n", begin, end) + 1, text[begin:end]))
        pos = end
    return spans


def _marker_spans(
    text: str, lines: list[str], taken: list[Span], pattern: re.Pattern[str], kind: str, extend: Extend
) -> list[Span]:
    spans: list[Span] = []
    busy = covered(taken, len(lines))
    end = line = last = 0
    for m in pattern.finditer(text):
        if len(spans) >= MAX_SPANS:
            break
        line += text.count("\n", last, m.start())
        last = m.start()
        if line < end or busy[line]:
            continue
        end = extend(text, m.start(), lines, line)
        stop = busy.find(1, line, end)  # never run into an XML span
        stop = end if stop == -1 else stop
        if stop > line:
            spans.append(Span(kind, line, stop))
        end = max(end, line + 1)
    return spans


def _extend_query(text: str, offset: int, lines: list[str], line: int) -> int:
    """The end line of a ``-q`` span: as far as lines keep nvidia-smi's shape (trailing blanks dropped)."""
    block = _q_block().match(text, offset)
    body = text[offset : block.end() if block else offset].rstrip()
    return line + body.count("\n") + 1 if body else line


def _extend_csv(text: str, offset: int, lines: list[str], line: int) -> int:
    return smi_csv.extend(lines, line)


def _extend_table(text: str, offset: int, lines: list[str], line: int) -> int:
    """Extend a table span over its box lines (``|`` / ``+``), across the blank line between its boxes."""
    end = line
    blanks = 0
    for i in range(line, len(lines)):
        s = lines[i].strip()
        if not s:
            blanks += 1
            if blanks > 2:
                break
        elif s[0] in "|+":
            blanks = 0
            end = i + 1
        else:
            break
    return end
