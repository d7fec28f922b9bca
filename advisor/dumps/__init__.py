"""Pasted dumps → Machine: the text users put in bug reports, read into the record the live probe builds.

Formats, detected automatically and merged when a paste holds several (``Machine.source`` lists them):
``python -m torch.utils.collect_env`` (and vLLM's); ``nvidia-smi`` (the table, ``-L`` lines, ``--query-gpu``
CSV with its header, error texts); ``nvidia-smi -q``/``-a`` text; ``nvidia-smi -q -x`` XML. Torch warnings,
NVML errors, ``/proc/driver/nvidia/version`` and ``lspci`` lines around them are read as evidence.

Cut-off dumps are the norm: what is there is filled in, and ``Machine.missing`` names what is not
("torch section", "GPU list", "driver version", "host section", "3 of 8 attached GPUs (not in the dump)").

Never imports torch, rich or typer; XML goes through defusedxml only.
"""

from __future__ import annotations

import codecs
import contextlib
import re
import sys
from pathlib import Path

from advisor.dumps.detect import CSV, QUERY, TABLE, XML, XML_FRAGMENT, covered, find_spans
from advisor.dumps.merge import merge
from advisor.dumps.partial import Partial
from advisor.dumps.registry import scanners
from advisor.dumps.text import normalise
from advisor.errors import InputError
from advisor.machine import Machine

MAX_BYTES = 64 * 2**20  # a real dump is well under 5 MB; anything bigger is a wrong file

__all__ = ["MAX_BYTES", "parse_dump", "read_dump"]


def parse_dump(text: str) -> Machine:
    """Read pasted collect_env / nvidia-smi text into a Machine; InputError when nothing is recognisable."""
    return _parse(text, "the input")


def read_dump(path: str) -> Machine:
    """Read a dump file (``"-"`` = stdin): any encoding a terminal or PowerShell writes, at most 64 MiB."""
    label = "stdin" if path == "-" else path
    data = _read(path, label)
    if not data.strip():
        raise InputError(f"{label} is empty: paste the output of collect_env or nvidia-smi into it")
    return _parse(data if isinstance(data, str) else decode(data), label)


def decode(data: bytes) -> str:
    """Bytes → text: UTF-16 with or without a BOM (PowerShell ``>``), else UTF-8; bad bytes → U+FFFD.

    A paste can change encoding part-way (PowerShell's ``>`` writes UTF-16, a later ``>>`` from another
    program appends UTF-8): each part is decoded on its own, so the second half is not lost as garbage.
    """
    codec, start = _utf16_start(data)
    if codec is None:
        if data.startswith(codecs.BOM_UTF8):
            data = data[3:]
        return data.decode("utf-8", errors="replace")
    end = _utf16_end(data, start, little=codec != "utf-16-be")
    text = data[start:end].decode(codec, errors="replace")
    if len(data) - end < 2:
        return text
    return text + "\n" + decode(data[end:])


def _utf16_start(data: bytes) -> tuple[str | None, int]:
    """The UTF-16 codec the data starts in (and where its text starts), or None for an 8-bit start."""
    if data.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le", 2
    if data.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be", 2
    sample = data[:4096]
    if len(sample) >= 8:
        odd_zeros, even_zeros = sample[1::2].count(0), sample[0::2].count(0)
        half = len(sample) // 2
        if odd_zeros > 0.8 * half and even_zeros < 0.1 * half:
            return "utf-16-le", 0
        if even_zeros > 0.8 * half and odd_zeros < 0.1 * half:
            return "utf-16-be", 0
    return None, 0


_WINDOW = 256  # bytes: long enough to tell text in UTF-16 from 8-bit text, short enough to find the seam


def _utf16_end(data: bytes, start: int, *, little: bool) -> int:
    """Where a UTF-16 part that starts at ``start`` ends: the first window whose high bytes are mostly not
    zero (8-bit text), refined to the first of two 8-bit-looking code units in a row."""
    hi = 1 if little else 0
    pos = start
    while pos < len(data):
        window = data[pos : pos + _WINDOW]
        units = len(window) // 2
        if units >= 8 and window[hi::2].count(0) < 0.5 * units:
            break
        pos += _WINDOW
    else:
        return len(data) - (len(data) - start) % 2
    # The seam is in this window or just before it: the first two 8-bit-looking units in a row.
    k = max(start, pos - _WINDOW)
    while k + 3 < len(data):
        if data[k + hi] != 0 and data[k + 2 + hi] != 0:
            return k
        k += 2
    return pos


def _read(path: str, label: str) -> bytes | str:
    if path == "-":
        stream = getattr(sys.stdin, "buffer", None)
        data: bytes | str = (
            stream.read(MAX_BYTES + 1) if stream is not None else sys.stdin.read(MAX_BYTES + 1)
        )
    else:
        p = Path(path)
        if p.is_dir():
            raise InputError(f"{path} is a directory; give the file holding the dump (or '-' for stdin)")
        try:
            with p.open("rb") as f:
                data = f.read(MAX_BYTES + 1)
        except FileNotFoundError:
            raise InputError(f"{path}: no such file") from None
        except PermissionError:
            raise InputError(f"{path}: permission denied") from None
        except OSError as e:
            raise InputError(f"cannot read {path}: {e.strerror or e}") from None
    if len(data) > MAX_BYTES:
        raise InputError(
            f"{label} is larger than {MAX_BYTES // 2**20} MiB; give only the collect_env / nvidia-smi output"
        )
    return data


LOOKED_FOR = "kernel log lines (NVRM, Xid), CUDA/NVML/torch errors, pip/conda lists, tool environment reports"
# Where one machine's output starts: collect_env's first lines, nvidia-smi's banner, -q's header, XML.
_MACHINE_START = re.compile(
    r"^[ \t]*(?:Collecting environment information|PyTorch version:[ \t]*\S"
    r"|\|[ \t]*NVIDIA-SMI [0-9]|=+[ \t]*NVSMI LOG[ \t]*=+|<nvidia_smi_log)",
    re.MULTILINE,
)
_MAX_MACHINES = 8


def _parse(text: str, label: str) -> Machine:
    text = normalise(text)
    partials, problems = _partials(text)
    if not partials:
        detail = f" ({problems[0]})" if problems else ""
        raise InputError(
            f"no collect_env or nvidia-smi output found in {label}{detail}; looked for {LOOKED_FOR}"
        )
    machine = merge(partials, problems)
    return _first_machine(text) or machine


def _partials(text: str) -> tuple[list[Partial], list[str]]:
    lines = text.split("\n")
    spans = find_spans(text, lines)
    partials: list[Partial] = []
    problems: list[str] = []
    for span in spans:  # each format's module is imported only when the paste holds it (start-up time)
        if span.kind == XML:
            from advisor.dumps.smi_xml import XmlUnreadable, parse_xml

            try:
                partials.append(parse_xml(span.text, span.start))
            except XmlUnreadable as e:
                problems.append(str(e))
        elif span.kind == XML_FRAGMENT:
            from advisor.dumps.smi_xml import XmlUnreadable, parse_fragment

            with contextlib.suppress(XmlUnreadable):  # a stray tag in prose is not worth a problem line
                partials.append(parse_fragment(span.text, span.start))
        elif span.kind == QUERY:
            from advisor.dumps.smi_query import parse_query

            partials.append(parse_query(lines[span.start : span.end], span.start))
        elif span.kind == TABLE:
            from advisor.dumps.smi_table import parse_table

            partials.append(parse_table(lines[span.start : span.end], span.start))
        elif span.kind == CSV:
            from advisor.dumps.smi_csv import parse_csv

            partials.append(parse_csv(lines[span.start : span.end], span.start))
    mask = covered(spans, len(lines))
    for _name, scan in scanners():
        partials += scan(lines, mask)
    return [p for p in partials if not p.is_empty()], problems


def _first_machine(text: str) -> Machine | None:
    """Two different machines pasted together (two collect_env outputs, or two nvidia-smi outputs, whose
    driver or GPUs differ) are not one machine with every GPU: the first is diagnosed, with a note."""
    starts = _starts(text)
    if len(starts) < 2 or len({kind for _, kind in starts}) == len(starts):
        return None  # at most one output of each kind: nothing to tell apart
    ends = [offset for offset, _ in starts[1:]] + [len(text)]
    first_of: dict[str, Machine | None] = {}
    # Past the cap, the last output would run to the end of the paste: stop at the next start instead.
    for (offset, kind), end in list(zip(starts, ends, strict=True))[:_MAX_MACHINES]:
        parts, problems = _partials(text[offset:end])
        machine = merge(parts, problems) if parts else None
        if kind not in first_of:
            first_of[kind] = machine
            continue
        base = first_of[kind]
        why = None if base is None or machine is None else _differ(base, machine)
        if why is None:
            continue
        parts, problems = _partials(text[:offset])
        if not parts:
            return None
        head = merge(parts, problems)
        note = (
            f"The paste holds outputs of different machines ({why}); only the first is diagnosed. "
            "Paste each machine's output separately to check the others."
        )
        return head.model_copy(update={"notes": [*head.notes, note]})
    return None


def _starts(text: str) -> list[tuple[int, str]]:
    """(offset, kind) where a machine's output starts; collect_env's two first lines count once."""
    starts: list[tuple[int, str]] = []
    for m in _MACHINE_START.finditer(text):
        if starts and _one_output(text, starts[-1][0], m.start()):
            continue
        token = m.group(0).lstrip()
        kind = "collect_env" if token.startswith(("Collecting", "PyTorch")) else "nvidia-smi"
        starts.append((m.start(), kind))
        if len(starts) > _MAX_MACHINES:
            break
    return starts


def _one_output(text: str, a: int, b: int) -> bool:
    """ "Collecting environment information..." then "PyTorch version:" a line or two later: one output."""
    first, second = text[a:b].lstrip(), text[b : b + 40].lstrip()
    return first.startswith("Collecting") and second.startswith("PyTorch") and text.count("\n", a, b) <= 3


def _differ(a: Machine, b: Machine) -> str | None:
    """Why two parsed outputs cannot be the same machine, or None when they may be."""
    da, db = a.driver.version, b.driver.version
    if da and db and da != db:
        return f"NVIDIA driver {da} and {db}"
    names_a = sorted(_norm_name(g.name) for g in a.gpus if g.name)
    names_b = sorted(_norm_name(g.name) for g in b.gpus if g.name)
    if names_a and names_b and a.gpus_known and b.gpus_known and not _names_agree(names_a, names_b):
        return f"GPUs {', '.join(names_a)} and {', '.join(names_b)}"
    ha, hb = a.host.hostname, b.host.hostname
    if ha and hb and ha != hb:
        return f"hosts {ha} and {hb}"
    return None


def _norm_name(name: str) -> str:
    s = " ".join(name.lower().split()).removeprefix("nvidia ")
    return s.removesuffix("...").removesuffix("…").strip()


def _names_agree(a: list[str], b: list[str]) -> bool:
    """Same GPU set, allowing nvidia-smi's cut names ("geforce rtx 3090..." vs the full name)."""
    if len(a) != len(b):
        return False
    return all(x == y or x.startswith(y) or y.startswith(x) for x, y in zip(a, b, strict=True))
