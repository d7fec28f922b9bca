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
import sys
from pathlib import Path

from advisor.dumps.detect import CSV, QUERY, TABLE, XML, covered, find_spans
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
    """Bytes → text: UTF-16 with or without a BOM (PowerShell ``>``), else UTF-8; bad bytes → U+FFFD."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", errors="replace")
    sample = data[:4096]
    if len(sample) >= 8:
        odd_zeros, even_zeros = sample[1::2].count(0), sample[0::2].count(0)
        half = len(sample) // 2
        if odd_zeros > 0.8 * half and even_zeros < 0.1 * half:
            return data.decode("utf-16-le", errors="replace")
        if even_zeros > 0.8 * half and odd_zeros < 0.1 * half:
            return data.decode("utf-16-be", errors="replace")
    return data.decode("utf-8", errors="replace")


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


def _parse(text: str, label: str) -> Machine:
    text = normalise(text)
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
    partials = [p for p in partials if not p.is_empty()]
    if not partials:
        detail = f" ({problems[0]})" if problems else ""
        raise InputError(f"no collect_env or nvidia-smi output found in {label}{detail}")
    return merge(partials, problems)
