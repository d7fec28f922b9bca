"""The live probe: the only code that touches this machine (NVML, torch in a child process, sysfs, /proc).

``probe_machine()`` returns a :class:`advisor.machine.Machine` with ``source="live"``. It is imported on
first use, so ``advisor.probe.early`` (which starts the torch child before anything heavy is imported)
does not pull in the pydantic models with the package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from advisor.probe.live import probe_machine

__all__ = ["probe_machine"]


def __getattr__(name: str) -> Any:
    if name == "probe_machine":
        from advisor.probe.live import probe_machine

        return probe_machine
    raise AttributeError(f"module 'advisor.probe' has no attribute {name!r}")
