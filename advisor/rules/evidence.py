"""Findings that a message alone establishes: the catalogue entries marked ``emit`` (catalog/evidence).

Dedicated rules run first and know more (versions, tables, the GPUs' identity); this rule reports a
code only when none of them did, quoting the message and saying what it means. Pure: reads
``Machine.evidence`` and the catalogue (data).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from advisor.knowledge.evidence import Entry, by_id
from advisor.machine import Evidence, Machine
from advisor.report import Finding, FindingCode, Severity

_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")


def gpu_evidence(machine: Machine) -> list[Evidence]:
    """Messages that prove an NVIDIA GPU is in the machine (kernel driver lines, CUDA errors naming one)."""
    return [e for e in machine.evidence if e.facts.get("gpu_present") == "true"]


def explained(machine: Machine) -> bool:
    """A message in the paste alone establishes a problem (error or warning): the GPU's state is explained."""
    table = by_id()
    for ev in machine.evidence:
        entry = table.get(ev.id)
        if entry is not None and entry.emit and entry.severity in ("error", "warning"):
            return True
    return False


def evidence_findings(
    machine: Machine, codes: Iterable[str], existing: Iterable[Finding], nvidia_present: bool
) -> list[Finding]:
    """One finding per code (and GPU) that an ``emit`` message establishes and no other rule reported."""
    wanted = set(codes)
    done = {f.code for f in existing}
    table = by_id()
    out: list[Finding] = []
    reported: set[tuple[str, str | None]] = set()
    for ev in machine.evidence:
        entry = table.get(ev.id)
        if entry is None or not entry.emit or entry.code is None or entry.code not in wanted:
            continue
        if entry.code in done or (entry.when == "nvidia-present" and not nvidia_present):
            continue
        if entry.when == "nvidia-absent" and nvidia_present:
            continue
        key = (entry.code, ev.pci_bus_id)
        if key in reported:
            continue
        reported.add(key)
        out.append(_finding(machine, entry, ev))
    return out


def _finding(machine: Machine, entry: Entry, ev: Evidence) -> Finding:
    gpu = next(
        (g.index for g in machine.gpus if ev.pci_bus_id and g.pci_bus_id == ev.pci_bus_id),
        None,
    )
    severity = next((s for s in _SEVERITIES if s == entry.severity), "warning")
    title = _fill(entry.title or entry.meaning, ev)
    where = f" (line {ev.line + 1} of the paste)" if ev.line is not None else ""
    code: FindingCode = entry.code  # type: ignore[assignment]  # validated against FindingCode in tests
    return Finding(
        code=code,
        severity=severity,
        gpu=gpu,
        title=title,
        detail=f'The paste says{where}: "{ev.text}". {entry.meaning}',
        fix=_fill(entry.fix, ev) if entry.fix else None,
    )


def _fill(text: str, ev: Evidence) -> str:
    return _PLACEHOLDER.sub(lambda m: ev.facts.get(m[1]) or ev.pci_bus_id or "?", text)
