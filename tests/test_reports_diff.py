"""`report diff`: what changed between two reports of a machine, on recorded reports."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from advisor.cli.app import app
from advisor.machine import DriverInfo, TorchInfo
from advisor.report import Finding, Report
from advisor.reports.diff import Change, diff_reports
from advisor.reports.io import write_report
from tests.test_reports_samples import a5000_report, v100_report


def after_upgrade() -> Report:
    """The A5000 box a week on: new driver and torch, GPU 1 gone, bf16 slower, ECC errors, a new warning."""
    before = a5000_report()
    gpu0 = before.machine.gpus[0].model_copy(
        update={"remapped_rows_uncorrectable": 2, "remapped_rows_pending": True}
    )
    machine = before.machine.model_copy(
        update={
            "gpus": [gpu0],
            "driver": DriverInfo(version="590.48.01", cuda_version="13.1", nvml_ok=True),
            "torch": TorchInfo(installed=True, version="2.10.0+cu130", cuda_version="13.0"),
        }
    )
    bench = [
        b.model_copy(update={"value": b.value * 0.75})
        if (b.test, b.dtype, b.device) == ("matmul", "bf16", 0)
        else b
        for b in before.benchmarks
        if b.device != 1
    ]
    bench = [b.model_copy(update={"value": 4.1 * 1.5}) if b.test == "launch-latency" else b for b in bench]
    bench = [
        b.model_copy(update={"value": 24.1 * 1.05}) if (b.dtype, b.device) == ("fp32", 0) else b
        for b in bench
    ]
    findings = [
        Finding(
            code="ecc-errors",
            severity="warning",
            gpu=0,
            title="GPU 0 has a row remap pending",
            detail="2 rows",
        )
    ]
    return before.model_copy(
        update={
            "machine": machine,
            "benchmarks": bench,
            "findings": findings,
            "created": "2026-01-12T10:00:00+00:00",
        }
    )


def find(changes: list[Change], subject: str, what: str) -> Change:
    matches = [c for c in changes if c.subject == subject and c.what == what]
    assert len(matches) == 1, [(c.subject, c.what) for c in changes]
    return matches[0]


def test_diff_sees_every_kind_of_change() -> None:
    d = diff_reports(a5000_report(), after_upgrade())
    c = d.changes
    assert (
        find(c, "driver", "version").before == "590.44.01"
        and find(c, "driver", "version").after == "590.48.01"
    )
    assert find(c, "torch", "version").after == "2.10.0+cu130"
    assert find(c, "torch", "CUDA").before == "12.8"
    removed = find(c, "GPU 1", "removed")
    assert removed.alarm and removed.before == "NVIDIA RTX A5000"
    slow = find(c, "GPU 0 matmul bf16", "slower")
    assert slow.note == "-25%" and slow.alarm
    latency = find(c, "GPU 0 launch-latency", "slower")  # latency up 50% is a regression
    assert latency.note == "+50%" and latency.alarm
    assert not [x for x in c if x.subject == "GPU 0 matmul fp32"]  # +5% is under the 10% threshold
    ecc = find(c, "GPU 0", "remapped_rows_uncorrectable")
    assert ecc.alarm and ecc.before == "0" and ecc.after == "2" and ecc.note == "+2 new"
    assert find(c, "GPU 0", "remapped_rows_pending").alarm
    appeared = find(c, "GPU 0", "appeared")
    assert appeared.alarm and appeared.after is not None and appeared.after.startswith("ecc-errors")
    assert find(c, "GPU 0", "resolved").before == "gpu-busy: GPU 0 is in use by another process"
    assert d.same_host is True


def test_no_change_and_threshold() -> None:
    assert diff_reports(a5000_report(), a5000_report()).changes == []
    a, b = a5000_report(bf16=42.0), a5000_report(bf16=39.0)  # -7%
    assert diff_reports(a, b).changes == []
    assert find(diff_reports(a, b, threshold=0.05).changes, "GPU 0 matmul bf16", "slower").note == "-7%"


def test_different_hosts_are_noted() -> None:
    assert diff_reports(a5000_report(), v100_report()).same_host is False


def test_diff_cli_table_and_json(tmp_path: Path) -> None:
    a = write_report(a5000_report(), tmp_path / "a.json")
    b = write_report(after_upgrade(), tmp_path / "b.json")
    runner = CliRunner()
    result = runner.invoke(app, ["report", "diff", str(a), str(b)], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    assert "590.44.01" in result.output and "590.48.01" in result.output and "-25%" in result.output
    result = runner.invoke(app, ["report", "diff", str(a), str(b), "--json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["schema_version"] == "1.0"
    assert {"subject": "driver", "what": "version"}.items() <= data["changes"][0].items()


def test_diff_cli_bad_input(tmp_path: Path) -> None:
    a = write_report(a5000_report(), tmp_path / "a.json")
    bad = tmp_path / "bad.json"
    bad.write_text("not json")
    result = CliRunner().invoke(app, ["report", "diff", str(a), str(bad)])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "bad.json" in result.stderr and "not JSON" in result.stderr


def test_gpus_pair_by_the_strongest_identifier_both_have() -> None:
    from advisor.reports.diff import match_gpus

    live = a5000_report().machine.gpus
    dump = [
        g.model_copy(update={"uuid": None, "serial": None}) for g in reversed(live)
    ]  # no UUIDs, other order
    pairs = match_gpus(live, dump)
    assert all(o is not None and n is not None and o.pci_bus_id == n.pci_bus_id for o, n in pairs)
    swapped = [live[0].model_copy(update={"uuid": "GPU-99999999-aaaa-bbbb-cccc-000000000000"}), live[1]]
    changes = diff_reports(
        a5000_report(),
        a5000_report().model_copy(
            update={"machine": a5000_report().machine.model_copy(update={"gpus": swapped})}
        ),
    ).changes
    assert [(c.subject, c.what) for c in changes] == [("GPU 0", "removed"), ("GPU 0", "added")]
