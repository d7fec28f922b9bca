"""`advisor bench` (owned by the bench work; placeholder)."""

from __future__ import annotations


def bench() -> None:
    """Run the micro-benchmark alone."""
    raise NotImplementedError
