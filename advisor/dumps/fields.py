"""Environment facts typed into a Markdown table or an issue template's fields.

Bug-report templates ask for "GPU", "Driver version", "CUDA version", "PyTorch version", "OS" and
people answer in two layouts:

- GitHub-Flavoured Markdown tables (https://github.github.com/gfm/#tables-extension-): rows of cells
  between ``|``, a ``---`` delimiter row under the header; either one key/value pair per row
  (``| GPU | RTX 3090 |``) or the keys in the header and the values in the row below;
- template fields: ``- GPU: RTX 3090``, ``**Driver Version**: 535.104.05``, ``* CUDA version - 12.2``
  (GitHub issue forms render a field as a ``### Label`` heading with the answer on the next line).

Only a short list of key names is read, each value checked against the form it must have (a driver
version has three digits first, CUDA is ``major.minor``); a GPU typed here is taken only when no tool
output in the paste lists GPUs and no driver failure is shown (advisor.dumps.prose applies the same
rule). The CUDA a person names is the toolkit they installed, kept as ``HostInfo.system_cuda_version``,
never as the driver's or torch's.
"""

from __future__ import annotations

import re
from typing import Any

from advisor.dumps.detect import hit_lines
from advisor.dumps.lazy_re import LazyPattern
from advisor.dumps.partial import Partial
from advisor.dumps.prose import driver_failed, known_gpu_name, tool_gpu_list
from advisor.machine import GPU, DriverInfo, HostInfo, Machine, TorchInfo

KIND = "fields"
_MAX_LINE = 400
_MAX_HITS = 2_000
_MAX_CELLS = 12

# The keys people use, normalised (lower case, punctuation and "version"/"model"/"name" dropped).
_KEYS = {
    "gpu": "gpu",
    "gpus": "gpu",
    "gpu type": "gpu",
    "graphics card": "gpu",
    "video card": "gpu",
    "nvidia gpu": "gpu",
    "driver": "driver",
    "nvidia driver": "driver",
    "gpu driver": "driver",
    "cuda": "cuda",
    "cuda toolkit": "cuda",
    "nvcc": "cuda",
    "pytorch": "torch",
    "torch": "torch",
    "os": "os",
    "operating system": "os",
    "python": "python",
}
_DROP = re.compile(r"\b(?:version|versions|model|name|used|installed|info)\b|[*`_#:()]")

# A table row (two or more cells) or a template field line; found with one search (C speed).
_LINE = LazyPattern(
    r"^[ \t]*(?:\|[^\n|]{1,120}\|[^\n]{0,400}"
    r"|(?:[-*+][ \t]+)?(?:\*\*)?(?i:gpu|graphics card|video card|nvidia gpu|(?:nvidia |gpu )?driver"
    r"|cuda|nvcc|pytorch|torch|os|operating system|python)\b[^\n:|=]{0,30}[:=\-][^\n]{0,200}"
    r"|#{2,4}[ \t]+[^\n]{1,60})$",
    re.MULTILINE,
)
_FIELD = LazyPattern(
    r"^[ \t]*(?:[-*+][ \t]+)?(?P<key>[^\n:=]{1,40}?)[ \t]*(?::|=|[ \t]-[ \t])[ \t]*(?P<value>\S[^\n]{0,200})$"
)
_HEADING = LazyPattern(r"^[ \t]*#{2,4}[ \t]+(?P<key>[^\n]{1,60}?)[ \t]*#*[ \t]*$")

# A value must start with what it names (a template's answer, not a sentence that mentions a number).
_LEAD = r"^[ \t'\"`*]*(?:v|version[ \t]*)?"
_DRIVER = LazyPattern(_LEAD + r"(?i:nvidia[ \t]+)?(?P<v>\d{3}\.\d{2,3}(?:\.\d{2,3})?)\b")  # minors: 2+ digits
_CUDA = LazyPattern(_LEAD + r"(?i:cuda[ \t]*)?(?P<v>\d{1,2}\.\d)\b")
_TORCH = LazyPattern(
    _LEAD + r"(?i:(?:py)?torch[ \t=]*)?(?P<v>\d\.\d{1,2}(?:\.\d{1,2})?(?:\+[a-z]{2,5}[\d.]{0,8})?)(?![\w.])"
)
_PYTHON = LazyPattern(_LEAD + r"(?i:python[ \t]*)?(?P<v>3\.\d{1,2}(?:\.\d{1,2})?)\b")
_OS = LazyPattern(
    r"(?P<win>\bWindows\b|\bWin ?1[01]\b)|(?P<mac>\bmacOS\b|\bMac ?OS\b|\bDarwin\b)"
    r"|(?P<linux>\bLinux\b|\bUbuntu\b|\bDebian\b|\bFedora\b|\bCentOS\b|\bRocky\b|\bArch\b|\bRHEL\b|\bWSL)",
    re.IGNORECASE,
)
_GPU_NAME = LazyPattern(r"^(?:\d{1,2} ?[x×] ?)?(?P<name>[A-Za-z][\w .()/+-]{2,60}?)(?:[ \t]*[,;(]|$)")
_NVIDIA_NAME = re.compile(r"\b(?:NVIDIA|GeForce|Quadro|Tesla|TITAN|RTX|GTX|[AHLBVT]\d{1,3})\b", re.IGNORECASE)
_NONE = ("n/a", "none", "no", "-", "", "unknown", "?", "cpu", "not installed")


def scan(lines: list[str], mask: bytearray) -> list[Partial]:
    """One partial with the facts typed into tables and template fields, or none."""
    hits = hit_lines(lines, mask, _LINE.compiled, _MAX_HITS)
    if not hits or _collect_env(lines, hits):
        return []  # collect_env's own "Key: value" lines are its parser's (a cut value stays unknown)
    pairs = _pairs(lines, hits)
    if not pairs:
        return []
    facts: dict[str, tuple[str, int]] = {}
    for key, value, line in pairs:
        if key not in facts and value.strip().lower() not in _NONE:
            facts[key] = (value, line)
    return _partial(facts, lines, mask)


def _collect_env(lines: list[str], hits: list[int]) -> bool:
    """The paste holds collect_env output (its own marker lines)."""
    return any(s.lstrip().startswith(("Is CUDA available:", "CUDA used to build PyTorch:")) for s in lines)


def _pairs(lines: list[str], hits: list[int]) -> list[tuple[str, str, int]]:
    """(key kind, value, line) from every table and field the hit lines hold."""
    out: list[tuple[str, str, int]] = []
    k = 0
    while k < len(hits):
        i = hits[k]
        s = lines[i][:_MAX_LINE]
        if s.lstrip().startswith("|"):
            rows = [i]
            while (
                k + 1 < len(hits)
                and hits[k + 1] == rows[-1] + 1
                and lines[hits[k + 1]].lstrip().startswith("|")
            ):
                k += 1
                rows.append(hits[k])
            out += _table([(r, _cells(lines[r][:_MAX_LINE])) for r in rows])
        elif (h := _HEADING.match(s)) is not None:
            key = _key(h["key"])
            value = _next_text(lines, i)
            if key is not None and value is not None and len(value[1]) <= 60 and ". " not in value[1]:
                out.append((key, value[1], value[0]))  # an issue form's answer, not a paragraph
        elif (f := _FIELD.match(s)) is not None:
            key = _key(f["key"])
            if key is not None:
                out.append((key, f["value"], i))
        k += 1
    return out


def _cells(row: str) -> list[str]:
    inner = row.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") else inner
    return [c.strip().strip("*`").strip() for c in inner.split("|")[:_MAX_CELLS]]


def _table(rows: list[tuple[int, list[str]]]) -> list[tuple[str, str, int]]:
    body = [(i, cells) for i, cells in rows if not all(re.fullmatch(r":?-{2,}:?", c) for c in cells if c)]
    if not body:
        return []
    out: list[tuple[str, str, int]] = []
    (_, header), values = body[0], body[1:2]
    if sum(_key(c) is not None for c in header) >= 2:
        # Keys in the header, values in the first row below it: | GPU | Driver | ... |
        for name, value in zip(header, values[0][1] if values else [], strict=False):
            if (key := _key(name)) is not None:
                out.append((key, value, values[0][0]))
        return out
    # One key/value pair per row: | GPU | RTX 3090 |
    for i, cells in body:
        if len(cells) >= 2 and (key := _key(cells[0])) is not None:
            out.append((key, cells[1], i))
    return out


def _key(text: str) -> str | None:
    norm = " ".join(_DROP.sub(" ", text.lower()).split())
    return _KEYS.get(norm)


def _next_text(lines: list[str], i: int) -> tuple[int, str] | None:
    """The answer under an issue form's ``### Label`` heading: its first non-blank line."""
    for k in range(i + 1, min(len(lines), i + 4)):
        s = lines[k].strip()
        if s:
            return (k, s[:_MAX_LINE]) if not s.startswith("#") else None
    return None


def _partial(facts: dict[str, tuple[str, int]], lines: list[str], mask: bytearray) -> list[Partial]:
    host: dict[str, Any] = {}
    driver: dict[str, Any] = {}
    torch: dict[str, Any] = {}
    gpus: list[GPU] = []
    first: int | None = None

    def at(line: int) -> None:
        nonlocal first
        first = line if first is None or line < first else first

    if "driver" in facts and (m := _DRIVER.match(facts["driver"][0])):
        driver["version"] = m["v"]
        at(facts["driver"][1])
    if "cuda" in facts and (m := _CUDA.match(facts["cuda"][0])):
        host["system_cuda_version"] = m["v"]
        at(facts["cuda"][1])
    if "torch" in facts and (m := _TORCH.match(facts["torch"][0])):
        torch["version"] = m["v"]
        torch["installed"] = True
        at(facts["torch"][1])
    if "python" in facts and (m := _PYTHON.match(facts["python"][0])):
        host["python_version"] = m["v"]
        at(facts["python"][1])
    if "os" in facts and (m := _OS.search(facts["os"][0])):
        host["os"] = "Windows" if m["win"] else "Darwin" if m["mac"] else "Linux"
        host["os_release"] = " ".join(facts["os"][0].split())[:80]
        at(facts["os"][1])
    accelerators: list[str] = []
    if "gpu" in facts:
        text = "\n".join(lines)
        if not tool_gpu_list(text, mask) and not driver_failed(text.lower()):
            gpu, other = _gpu(facts["gpu"][0])
            gpus += [gpu] if gpu is not None else []
            accelerators += [other] if other is not None else []
            if gpu is not None or other is not None:
                at(facts["gpu"][1])
    if accelerators:
        host["accelerators"] = accelerators
    if first is None:
        return []
    machine = Machine(
        source=KIND,
        host=HostInfo(**host),
        driver=DriverInfo(**driver),
        torch=TorchInfo(**torch),
        gpus=gpus,
        gpus_known=False,
    )
    return [Partial(KIND, first, machine, match="name")]


def _gpu(value: str) -> tuple[GPU | None, str | None]:
    """An NVIDIA GPU, or the other accelerator the field names (Intel, AMD, Apple)."""
    m = _GPU_NAME.match(value.strip())
    if m is None:
        return None, None
    name = " ".join(m["name"].split())
    if re.search(r"\bApple\b|\bM[1-5](?: Pro| Max| Ultra)?\b", name):
        return None, f"{name} (Apple MPS)"
    if re.search(r"\bAMD\b|Radeon|Instinct", name, re.IGNORECASE):
        return None, f"AMD GPU ({name})"
    if re.search(r"\bIntel\b", name, re.IGNORECASE):
        kind = "Intel GPU" if re.search(r"\bArc\b", name) else "Intel integrated GPU"
        return None, f"{kind} ({name})"
    if not _NVIDIA_NAME.search(name):
        return None, None
    known = known_gpu_name(name)  # spelled as prose.py spells it, so the two merge into one GPU
    return (GPU(index=0, name=known, vendor="nvidia") if known else None), None
