"""The live probe: the only code that touches this machine (NVML, torch in a child process, sysfs, /proc).

``probe_machine()`` returns a :class:`advisor.machine.Machine` with ``source="live"``.
"""

from __future__ import annotations

from advisor.probe.live import probe_machine

__all__ = ["probe_machine"]
