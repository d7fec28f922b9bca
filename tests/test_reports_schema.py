"""The JSON Schema shipped in the package matches the Report model and really constrains reports."""

from __future__ import annotations

import json
from importlib import resources

from advisor.reports.schema import SCHEMA_PATH, schema_text, shipped_schema, validation_errors
from tests.test_reports_samples import a5000_report, hostile_report, v100_report


def test_shipped_schema_is_in_sync_with_the_model() -> None:
    assert SCHEMA_PATH.read_text(encoding="utf-8") == schema_text(), (
        "report.schema.json is stale: python -m advisor.reports.schema > advisor/reports/report.schema.json"
    )


def test_schema_ships_inside_the_package() -> None:
    shipped = resources.files("advisor.reports").joinpath("report.schema.json")
    assert shipped.is_file()
    assert json.loads(shipped.read_text(encoding="utf-8"))["title"] == "advisor report"


def test_sample_reports_validate() -> None:
    for report in (a5000_report(), v100_report(), hostile_report()):
        assert validation_errors(json.loads(report.model_dump_json())) == []


def test_schema_rejects_what_the_model_rejects() -> None:
    data = json.loads(v100_report().model_dump_json())
    data["findings"][0]["code"] = "not-a-code"
    del data["machine"]
    data["benchmarks"] = [{"device": 0}]
    errors = validation_errors(data)
    assert any(e.startswith("findings/0/code") for e in errors)
    assert any("'machine' is a required property" in e for e in errors)
    assert any(e.startswith("benchmarks/0") for e in errors)


def test_schema_requires_the_contract_keys() -> None:
    required = set(shipped_schema()["required"])
    assert {"advisor_version", "created", "source", "machine"} <= required
    assert {"schema_version", "benchmarks", "findings", "recommendations"} <= set(
        shipped_schema()["properties"]
    )
