"""`advisor check` (placeholder until wired)."""

from __future__ import annotations


def check() -> None:
    """Probe this machine (or read a dump) and diagnose the stack."""
    raise NotImplementedError
