"""Parsing and formatting of sizes and compute capabilities, shared by every layer."""

from __future__ import annotations

import functools
import re

from advisor.errors import InputError

_SIZE_RE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([kmgtp]?i?b?)?\s*$", re.IGNORECASE)
_FACTORS = {
    "": 1,
    "b": 1,
    "k": 10**3, "kb": 10**3, "kib": 2**10, "ki": 2**10,
    "m": 10**6, "mb": 10**6, "mib": 2**20, "mi": 2**20,
    "g": 10**9, "gb": 10**9, "gib": 2**30, "gi": 2**30,
    "t": 10**12, "tb": 10**12, "tib": 2**40, "ti": 2**40,
    "p": 10**15, "pb": 10**15, "pib": 2**50, "pi": 2**50,
}  # fmt: skip


def parse_size(text: str) -> int:
    """Parse ``24GiB``, ``24 GB``, ``512MiB`` or a plain byte count into bytes."""
    m = _SIZE_RE.match(text)
    if not m:
        raise InputError(f"not a size: {text!r} (try 24GiB, 80GB or 512MiB)")
    unit = (m.group(2) or "").lower()
    if unit not in _FACTORS:
        raise InputError(f"unknown size unit in {text!r}")
    value = float(m.group(1)) * _FACTORS[unit]
    if not value < _MAX_SIZE:  # 400 digits parse as inf; no memory is anywhere near an exbibyte
        raise InputError(f"size out of range: {text[:40]!r}")
    return int(value)


_MAX_SIZE = float(2**60)


def format_bytes(n: float | None, binary: bool = True) -> str:
    """Human form of a byte count: ``23.7 GiB``. ``None`` becomes ``unknown``."""
    if n is None:
        return "unknown"
    base, units = (
        (1024.0, ["B", "KiB", "MiB", "GiB", "TiB", "PiB"])
        if binary
        else (
            1000.0,
            ["B", "kB", "MB", "GB", "TB", "PB"],
        )
    )
    value = float(n)
    for unit in units:
        if abs(value) < base or unit == units[-1]:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= base
    raise AssertionError("unreachable")


def parse_cc(text: str | None) -> tuple[int, int] | None:
    """``"8.6"`` / ``"sm_86"`` / ``"86"`` / ``"12.0"`` → ``(8, 6)``; anything else → None."""
    if text is None:
        return None
    return _parse_cc(str(text))


@functools.lru_cache(maxsize=4096)
def _parse_cc(text: str) -> tuple[int, int] | None:
    # Cached: the install advice tries every release × variant × arch list against each GPU and reads the
    # same few hundred strings tens of thousands of times per check (~70 ms uncached on a 60 KB paste).
    s = text.strip().lower()
    for prefix in ("sm_", "compute_", "sm", "compute"):
        if s.startswith(prefix):
            s = s[len(prefix) :]
            break
    s = s.rstrip("afx")  # sm_90a / sm_100f: arch-specific and family suffixes
    m = re.fullmatch(r"(\d+)\.(\d+)", s)
    if m:
        return int(m.group(1)), int(m.group(2))
    if re.fullmatch(r"\d{2,3}", s):
        return int(s[:-1]), int(s[-1])
    return None


def format_cc(cc: tuple[int, int] | None) -> str | None:
    """``(8, 6)`` → ``"8.6"``."""
    return None if cc is None else f"{cc[0]}.{cc[1]}"
