"""Plain-word caveats on CPU figures: a busy machine and a "peak" a VM's nominal clock puts too low.

Virtual machines report their nominal clock; the CPU boosts above it, so the computed peak can sit below
what is measured (118 % "efficiency" seen). Other processes on a shared machine swing the figures by
several times between runs. Neither should be read as a property of the CPU without saying so.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from advisor.report import BenchResult

BUSY_SPREAD = 0.5  # (max - min) / median of the samples: above this, the runs disagree too much


def cpu_caveats(
    results: Sequence[BenchResult], load: float | None = None, cores: int | None = None
) -> list[str]:
    """Notes for CPU results measured above their peak, with a large spread, or on a loaded machine."""
    cpu = [r for r in results if r.device == "cpu"]
    if not cpu:
        return []
    notes = []
    over = [r for r in cpu if r.efficiency is not None and r.efficiency > 1.0]
    if over:
        worst = max(r.efficiency or 0 for r in over)
        notes.append(
            f"CPU measured above its computed peak ({worst:.0%}): the peak uses the reported clock, "
            "and a VM reports its nominal clock while the CPU runs faster; read the peak as a low estimate."
        )
    if load is None or cores is None:
        try:
            load, cores = os.getloadavg()[0], os.cpu_count()
        except (OSError, AttributeError):
            load, cores = None, None
    busy = load is not None and cores is not None and load > cores
    unstable = [r for r in cpu if r.spread > BUSY_SPREAD]
    if busy or unstable:
        why = []
        if busy:
            why.append(f"load average {load:.1f} on {cores} cores")
        if unstable:
            why.append(f"runs differed by up to {max(r.spread for r in unstable):.0%}")
        notes.append(
            f"the machine was busy or unstable ({'; '.join(why)}): CPU figures can differ several times "
            "between runs; run again on an idle machine before comparing."
        )
    return notes
