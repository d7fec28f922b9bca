"""`report fleet`: many nodes merged, outliers flagged, malformed files skipped with a message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from advisor.cli.app import app
from advisor.machine import DriverInfo
from advisor.report import Finding, Report
from advisor.reports.fleet import Fleet, build_fleet, collect_files, load_reports
from advisor.reports.io import write_report
from advisor.reports.redact import pseudonym
from tests.test_reports_samples import a5000_report, v100_report


def node(
    i: int, *, bf16: float = 42.0, driver: str = "590.44.01", error: bool = False, created: str = ""
) -> Report:
    report = a5000_report(hostname=f"node-{i:02d}", bf16=bf16, created=created or "2026-01-05T10:20:30+00:00")
    if driver != "590.44.01":
        machine = report.machine.model_copy(
            update={"driver": DriverInfo(version=driver, cuda_version="13.1")}
        )
        report = report.model_copy(update={"machine": machine})
    if error:
        f = Finding(code="ecc-errors", severity="error", gpu=1, title="uncorrectable ECC errors", detail="d")
        report = report.model_copy(update={"findings": [*report.findings, f]})
    return report


def fleet_dir(tmp_path: Path) -> Path:
    """Six A5000 nodes: node-02 slow on GPU 0 bf16, node-03 on an older driver, node-04 with an ECC error."""
    d = tmp_path / "reports"
    for i in range(6):
        bf16 = 30.0 if i == 2 else 42.0 + i * 0.1
        report = node(i, bf16=bf16, driver="580.95.05" if i == 3 else "590.44.01", error=i == 4)
        write_report(report, d / f"n{i}.json", include_ids=True)
    return d


def merged(d: Path) -> Fleet:
    loaded, skipped = load_reports(collect_files([d]))
    return build_fleet(loaded, skipped=skipped)


def test_outliers_are_flagged_and_healthy_nodes_are_not(tmp_path: Path) -> None:
    fleet = merged(fleet_dir(tmp_path))
    flagged = {n.host: n.flags for n in fleet.nodes if n.flags}
    assert set(flagged) == {"node-02", "node-03", "node-04"}
    (slow,) = flagged["node-02"]
    # GPU 0s at 42.0-42.5 (30 on node-02), GPU 1s at 43.0: the median of the 12 is 42.75
    assert (
        slow == "GPU 0 matmul bf16: 30 TFLOP/s, 30% below the median 42.75 of 12 NVIDIA RTX A5000 24 GiB GPUs"
    )
    assert flagged["node-03"] == ["driver 580.95.05 differs from the majority 590.44.01 (5 of 6 nodes)"]
    assert flagged["node-04"] == ["1 error: ecc-errors"]
    assert fleet.majority["driver"] == "590.44.01"
    assert {o.kind for o in fleet.outliers} == {"slow", "version", "findings"}


def test_no_majority_no_version_flag_and_too_few_peers_no_slow_flag() -> None:
    def one_gpu(report: Report) -> Report:
        machine = report.machine.model_copy(update={"gpus": report.machine.gpus[:1]})
        bench = [b for b in report.benchmarks if b.device == 0]
        return report.model_copy(update={"machine": machine, "benchmarks": bench})

    fleet = build_fleet(
        [("a", one_gpu(node(1, driver="1.0"))), ("b", one_gpu(node(2, driver="2.0", bf16=10.0)))]
    )
    assert fleet.majority["driver"] is None
    assert fleet.outliers == []  # 10 vs 42 TFLOP/s, but two GPUs give no median to be slow against


def test_gpu_count_outlier() -> None:
    reports = [(str(i), node(i)) for i in range(4)]
    short = reports[3][1]
    machine = short.machine.model_copy(update={"gpus": short.machine.gpus[:1]})
    reports[3] = ("3", short.model_copy(update={"machine": machine}))
    fleet = build_fleet(reports)
    assert [o.detail for o in fleet.outliers if o.kind == "gpu-count"] == [
        "1 GPUs where most NVIDIA RTX A5000 nodes have 2"
    ]


def test_newest_report_per_host_wins() -> None:
    old = node(1, error=True, created="2026-01-01T00:00:00+00:00")
    new = node(1, created="2026-01-02T00:00:00+00:00")
    fleet = build_fleet([("old", old), ("new", new)])
    assert [n.file for n in fleet.nodes] == ["new"] and fleet.superseded == 1 and not fleet.outliers


def test_malformed_files_are_skipped_and_the_rest_merged(tmp_path: Path) -> None:
    d = fleet_dir(tmp_path)
    (d / "truncated.json").write_text(json.dumps(json.loads(node(9).model_dump_json()))[:200])
    (d / "other.json").write_text('{"hello": 1}')
    fleet = merged(d)
    assert len(fleet.nodes) == 6
    assert sorted(Path(s.file).name for s in fleet.skipped) == ["other.json", "truncated.json"]
    assert all(Path(s.file).name in s.reason for s in fleet.skipped)


def test_fleet_cli_formats(tmp_path: Path) -> None:
    d = fleet_dir(tmp_path)
    (d / "broken.json").write_text("{")
    runner = CliRunner()
    result = runner.invoke(app, ["report", "fleet", str(d), "--include-ids"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "broken.json" in result.stderr and "broken.json" not in result.stdout
    assert "node-02" in result.stdout and "node-01" not in result.stdout  # only flagged nodes by default
    assert (
        "node-01"
        in runner.invoke(
            app, ["report", "fleet", str(d), "--all", "--include-ids"], env={"COLUMNS": "200"}
        ).stdout
    )
    data = json.loads(runner.invoke(app, ["report", "fleet", str(d), "--to", "json"]).stdout)
    assert Fleet.model_validate(data).skipped[0].file.endswith("broken.json")
    md = runner.invoke(app, ["report", "fleet", str(d), "--to", "md", "--include-ids"]).stdout
    assert "## Outliers" in md and "| node-03 | version |" in md
    out = tmp_path / "fleet.html"
    args = ["report", "fleet", str(d), "--output", str(out), "--include-ids"]
    assert runner.invoke(app, args).exit_code == 0
    assert out.read_text().startswith("<!DOCTYPE html>") and "node-04" in out.read_text()
    # By default every format is redacted, as `check --export` is.
    for to in ("text", "md", "html", "json", "csv"):
        shown = runner.invoke(app, ["report", "fleet", str(d), "--to", to, "--all"]).stdout
        assert "node-0" not in shown and "host-" in shown, to


def test_fleet_json_validates_against_its_model_schema(tmp_path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    data = json.loads(merged(fleet_dir(tmp_path)).model_dump_json())
    jsonschema.validate(data, Fleet.model_json_schema())


def test_fleet_cli_nothing_readable(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("nope")
    result = CliRunner().invoke(app, ["report", "fleet", str(tmp_path)])
    assert result.exit_code == 2 and "no readable report among 1 file(s)" in result.stderr
    result = CliRunner().invoke(app, ["report", "fleet", str(tmp_path / "missing")])
    assert result.exit_code == 2 and "no such file or directory" in result.stderr


def test_redacted_reports_still_merge_per_node(tmp_path: Path) -> None:
    write_report(node(1, created="2026-01-01T00:00:00+00:00"), tmp_path / "a.json")
    write_report(node(1, created="2026-01-02T00:00:00+00:00"), tmp_path / "b.json")
    write_report(v100_report(), tmp_path / "c.json")
    fleet = merged(tmp_path)
    assert sorted(n.host for n in fleet.nodes) == sorted(
        [pseudonym("host", "node-01"), pseudonym("host", "pai-worker-3")]
    )
