"""Machine (+ bench, requirements, workload) → Report. Pure: no probing, no I/O."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from advisor import __version__
from advisor.report import SEVERITY_ORDER, BenchResult, Finding, Recommendation, Report, WorkloadEstimate

if TYPE_CHECKING:
    from advisor.knowledge.base import Knowledge
    from advisor.machine import Machine


def build_report(
    machine: Machine,
    knowledge: Knowledge,
    *,
    bench: Sequence[BenchResult] = (),
    bench_findings: Sequence[Finding] = (),
    requirements: Sequence[str] = (),
    workload: WorkloadEstimate | None = None,
    workload_findings: Sequence[Finding] = (),
    notes: Sequence[str] = (),
    now: _dt.datetime | None = None,
) -> Report:
    """Run every rule over the facts and assemble the Report (findings sorted by severity, then GPU)."""
    from advisor.rules.capabilities import capabilities
    from advisor.rules.health import check_health
    from advisor.rules.performance import check_performance
    from advisor.rules.require import check_requirements
    from advisor.rules.software import check_software, install_recommendations

    findings: list[Finding] = []
    findings += check_software(machine, knowledge)
    findings += check_health(machine, knowledge)
    findings += check_performance(machine, list(bench), knowledge)
    findings += bench_findings
    findings += check_requirements(machine, knowledge, list(requirements))
    findings += workload_findings
    findings = _dedupe(findings)
    findings.sort(key=lambda f: (SEVERITY_ORDER[f.severity], -1 if f.gpu is None else f.gpu, f.code))

    recommendations: list[Recommendation] = []
    recommendations += install_recommendations(machine, knowledge)
    recommendations += capabilities(machine, knowledge)

    created = (now or _dt.datetime.now(_dt.timezone.utc)).replace(microsecond=0).isoformat()
    meta = knowledge.compat.knowledge_meta.entries
    return Report(
        advisor_version=__version__,
        knowledge_current_to=meta[0].current_to if meta else None,
        created=created,
        source=machine.source,
        machine=machine,
        benchmarks=list(bench),
        findings=findings,
        recommendations=recommendations,
        workload=workload,
        notes=[*notes, *machine.notes],  # what the dump parser assumed (two machines in one paste)
    )


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[str, int | None, str]] = set()
    out = []
    for f in findings:
        key = (f.code, f.gpu, f.title)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out
