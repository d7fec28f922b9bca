"""Start the torch probe's child before anything else, so its ~1 s `import torch` overlaps the parent's work.

`advisor check` (live) spends most of its time waiting for the child that imports torch. Started here,
at the top of the command and before the parent imports its own modules (rules, catalog, pydantic
models) and probes NVML and the host, the wait shrinks to what the child needs beyond all that.
Standard library only (plus the stdlib-only child runner): importing this costs nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path

from advisor.probe.child_process import ChildProcess
from advisor.probe.torch_child import MARKER

_started: dict[str, ChildProcess] = {}


def start_torch_child(timeout_s: float) -> None:
    """Start the torch child now (once); ``take_torch_child`` hands it to the probe."""
    if "torch" not in _started:
        source = Path(__file__).with_name("torch_child.py").read_text(encoding="utf-8")
        argv = [sys.executable, "-c", source, "--light-without-gpu"]  # as torch_probe.child_command()
        _started["torch"] = ChildProcess(argv, MARKER, timeout_s, label="torch")


def take_torch_child() -> ChildProcess | None:
    """The child started by ``start_torch_child``, or None (the probe then starts its own)."""
    return _started.pop("torch", None)


def discard() -> None:
    """Kill a child that nobody took (the command failed first, or a test replaced the probe)."""
    child = _started.pop("torch", None)
    if child is not None:
        child.kill()
