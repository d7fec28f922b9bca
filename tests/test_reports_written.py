"""Every report the tool writes validates against the shipped schema: the real pipeline on every fixture dump,
and the example reports kept in reports/examples/."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from advisor.reports.io import load_report, write_report
from advisor.reports.schema import validation_errors
from tests.conftest import REPO, dump_dirs

EXAMPLES = REPO / "reports" / "examples"


@pytest.mark.parametrize("case", dump_dirs(), ids=lambda p: p.name)
def test_pipeline_reports_validate_and_render(case: Path, tmp_path: Path) -> None:
    from advisor.diagnose import build_report
    from advisor.dumps import parse_dump
    from advisor.knowledge.loader import load_knowledge

    report = build_report(parse_dump((case / "input.txt").read_text(errors="replace")), load_knowledge())
    written = write_report(report, tmp_path / "r.json")
    assert validation_errors(json.loads(written.read_text())) == []
    assert load_report(written).findings == report.findings
    html = write_report(report, tmp_path / "r.html").read_text()
    md = write_report(report, tmp_path / "r.md").read_text()
    for f in report.findings:
        assert f.code in html and f.code in md


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.json")), ids=lambda p: p.name)
def test_example_reports_validate(path: Path) -> None:
    assert validation_errors(json.loads(path.read_text())) == []
    report = load_report(path)
    assert report.machine.host.hostname is None or report.machine.host.hostname.startswith("host-")
    for other in (path.with_suffix(".md"), path.with_suffix(".html")):
        assert other.exists(), f"{other.name} missing: python scripts/make_example_reports.py"
    assert "<script" not in path.with_suffix(".html").read_text().lower()
