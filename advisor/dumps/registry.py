"""The scanners that read loose text outside the nvidia-smi spans, in the order they run.

Each takes the paste's lines and the mask of lines already claimed by a span (nvidia-smi XML, ``-q``,
table, CSV) and returns the partials it found. A new kind of text registers here with one line; its
module is imported only when a paste is parsed.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from advisor.dumps.partial import Partial

Scanner = Callable[[list[str], bytearray], list[Partial]]

# (name, module): the module's ``scan(lines, mask) -> list[Partial]``.
SCANNERS: list[tuple[str, str]] = [
    ("collect_env", "advisor.dumps.collect_env"),
    ("messages", "advisor.dumps.messages"),
    ("evidence", "advisor.dumps.evidence"),
    ("report", "advisor.dumps.reports"),
    ("packages", "advisor.dumps.packages"),
    ("frameworks", "advisor.dumps.frameworks"),
    ("inventory", "advisor.dumps.inventory"),
    ("prose", "advisor.dumps.prose"),
    ("fields", "advisor.dumps.fields"),
    ("hf_accelerator", "advisor.dumps.hf_accelerator"),
]


def scanners() -> list[tuple[str, Scanner]]:
    """The registered scanners, imported."""
    out: list[tuple[str, Scanner]] = []
    for name, module in SCANNERS:
        scan: Scanner = importlib.import_module(module).scan
        out.append((name, scan))
    return out
