"""`advisor recommend` (owned by the recommend work; placeholder)."""

from __future__ import annotations


def recommend() -> None:
    """Which cards fit a workload."""
    raise NotImplementedError
