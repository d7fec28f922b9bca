"""`advisor report render` through the real CLI app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from advisor.cli.app import app
from advisor.reports.io import write_report
from advisor.reports.schema import validation_errors
from tests.test_reports_samples import a5000_report, v100_report

runner = CliRunner()


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    return write_report(a5000_report(), tmp_path / "r.json", include_ids=True)


def test_render_to_each_format_on_stdout(saved: Path) -> None:
    md = runner.invoke(app, ["report", "render", str(saved), "--to", "md"])
    assert md.exit_code == 0 and md.stdout.startswith("# GPU advisor report")
    html = runner.invoke(app, ["report", "render", str(saved), "--to", "html"])
    assert html.exit_code == 0 and html.stdout.startswith("<!DOCTYPE html>")
    js = runner.invoke(app, ["report", "render", str(saved), "--to", "json"])
    assert js.exit_code == 0 and validation_errors(json.loads(js.stdout)) == []
    text = runner.invoke(app, ["report", "render", str(saved)], env={"COLUMNS": "160"})
    assert text.exit_code == 0 and "healthy: 0 errors, 0 warnings, 1 note — exit 0" in text.stdout


def test_render_redacts_unless_include_ids(saved: Path) -> None:
    for fmt in ("md", "html", "json", "text"):
        out = runner.invoke(app, ["report", "render", str(saved), "--to", fmt]).stdout
        assert "gpu-node-07" not in out and "0123456789012" not in out, fmt
    kept = runner.invoke(app, ["report", "render", str(saved), "--to", "md", "--include-ids"]).stdout
    assert "gpu-node-07" in kept


def test_render_to_output_file_takes_the_format_from_the_suffix(saved: Path, tmp_path: Path) -> None:
    out = tmp_path / "sub" / "r.html"
    result = runner.invoke(app, ["report", "render", str(saved), "--output", str(out)])
    assert result.exit_code == 0 and result.stdout == ""
    assert out.read_text().startswith("<!DOCTYPE html>")
    txt = tmp_path / "r.txt"
    assert runner.invoke(app, ["report", "render", str(saved), "--to", "text", "-o", str(txt)]).exit_code == 0
    assert "\x1b[" not in txt.read_text() and "exit 0" in txt.read_text()


def test_bad_usage_and_bad_input_exit_2(saved: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["report", "render", str(saved), "--to", "pdf"])
    assert result.exit_code == 2 and "--to must be one of" in result.stderr
    result = runner.invoke(app, ["report", "render", str(saved), "--output", str(tmp_path / "r.pdf")])
    assert result.exit_code == 2 and ".json, .md, .html or .txt" in result.stderr
    future = tmp_path / "future.json"
    data = json.loads(v100_report().model_dump_json())
    data["schema_version"] = "3.1"
    future.write_text(json.dumps(data))
    result = runner.invoke(app, ["report", "render", str(future), "--to", "md"])
    assert result.exit_code == 2 and result.stdout == ""
    assert "future.json" in result.stderr and "newer than this advisor reads" in result.stderr
