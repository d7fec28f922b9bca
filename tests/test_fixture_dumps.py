"""End to end on every dump: parse → rules → the codes each must and must not produce.

Two sets: tests/data/dumps (real pastes from public bug reports, copied from shared/fixtures) and
tests/data/extra (synthetic pastes modelled on real issue reports, written for QA; see its README).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from advisor.diagnose import build_report
from advisor.dumps import parse_dump
from advisor.knowledge.loader import load_knowledge
from tests.conftest import DATA, dump_dirs

ALARMS = ("error", "warning")


def _cases() -> list[Path]:
    extra = sorted(p for p in (DATA / "extra").iterdir() if p.is_dir())
    return dump_dirs() + extra


@pytest.mark.parametrize("case", _cases(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_dump_diagnosis(case: Path) -> None:
    expected = yaml.safe_load((case / "expected.yaml").read_text())
    machine = parse_dump((case / "input.txt").read_text(errors="replace"))
    report = build_report(machine, load_knowledge())
    codes = {f.code for f in report.findings}
    alarms = {f.code for f in report.findings if f.severity in ALARMS}
    summary = [(f.severity, f.code, f.gpu, f.title) for f in report.findings]
    for code in expected.get("expected") or []:
        if code == "healthy":
            assert not alarms, f"healthy machine got alarms: {summary}"
        else:
            assert code in codes, f"missing {code}: {summary}"
    for code in expected.get("must_not") or []:
        if code == "healthy":
            assert alarms, f"broken machine judged healthy: {summary}"
        else:
            assert code not in alarms, f"false alarm {code}: {summary}"


def test_both_sets_are_there() -> None:
    cases = _cases()
    assert sum(p.parent.name == "dumps" for p in cases) >= 22
    assert sum(p.parent.name == "extra" for p in cases) >= 70
