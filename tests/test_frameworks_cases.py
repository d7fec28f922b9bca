"""Real TensorFlow / JAX pastes from public issues (tests/data/frameworks): each fires what its thread
established (with the framework as subject) and none of the codes that would be false alarms there."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from advisor.diagnose import build_report
from advisor.dumps import parse_dump
from advisor.knowledge.loader import load_knowledge
from tests.conftest import DATA

CASES = DATA / "frameworks"


def _cases() -> list[Path]:
    return sorted(p for p in CASES.iterdir() if p.is_dir())


def _report(case: Path):  # type: ignore[no-untyped-def]
    machine = parse_dump((case / "input.txt").read_text(encoding="utf-8"))
    return build_report(machine, load_knowledge())


@pytest.mark.parametrize("case", _cases(), ids=lambda p: p.name)
def test_case(case: Path) -> None:
    expected = yaml.safe_load((case / "expected.yaml").read_text(encoding="utf-8"))
    assert expected["source"].startswith("https://"), "every case names its thread"
    report = _report(case)
    codes = {f.code for f in report.findings}
    for code in expected["expected"]:
        assert code in codes, f"{code} missing; got {sorted(codes)}"
    for code in expected["must_not"]:
        assert code not in codes, (
            f"false alarm {code}: {[f.title for f in report.findings if f.code == code]}"
        )
    subject = expected.get("subject")
    if subject:
        hits = [f for f in report.findings if f.code in expected["expected"] and f.subject == subject]
        assert hits, f"no expected finding with subject {subject}"
        assert all(subject.replace("tensorflow", "TensorFlow").replace("jax", "JAX") in f.title for f in hits)
        if "fix_contains" in expected:
            assert any(expected["fix_contains"] in (f.fix or "") for f in hits), [f.fix for f in hits]
    if not expected["expected"]:
        assert not [f for f in report.findings if f.subject in ("tensorflow", "jax")]


def test_there_are_enough_cases_of_each_kind() -> None:
    cases = [yaml.safe_load((c / "expected.yaml").read_text(encoding="utf-8")) for c in _cases()]
    codes = [code for c in cases for code in c["expected"]]
    for code in ("torch-cpu-only", "torch-not-installed", "cudnn-version-mismatch", "jaxlib-plugin-mismatch"):
        assert codes.count(code) >= 1, code
    assert sum(1 for c in cases if not c["expected"]) >= 2  # must-not-fire pastes
    assert len({c["source"] for c in cases}) == len(cases)
