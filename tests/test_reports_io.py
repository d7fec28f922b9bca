"""Writing and loading saved reports: formats, redaction, default path, atomicity, clear errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO

import pytest

from advisor.errors import InputError
from advisor.report import SCHEMA_VERSION
from advisor.reports import io as report_io
from advisor.reports.io import default_report_path, load_report, write_report
from advisor.reports.redact import pseudonym
from advisor.reports.schema import validation_errors
from tests.test_reports_samples import a5000_report, hostile_report, v100_report

IDS = ("gpu-node-07", "GPU-12345678-aaaa-bbbb-cccc-0123456789ab", "0123456789012", "1234567890123")


@pytest.mark.parametrize(
    "report", [a5000_report(), v100_report(), hostile_report()], ids=["a5000", "v100", "hostile"]
)
def test_written_json_validates_and_loads_back(tmp_path: Path, report: object) -> None:
    path = write_report(report, tmp_path / "r.json")  # type: ignore[arg-type]
    data = json.loads(path.read_text())
    assert validation_errors(data) == []
    assert data["schema_version"] == SCHEMA_VERSION
    loaded = load_report(path)
    assert loaded.findings == report.findings  # type: ignore[attr-defined]
    assert loaded.benchmarks == report.benchmarks  # type: ignore[attr-defined]


@pytest.mark.parametrize("suffix", [".json", ".md", ".html"])
def test_ids_are_redacted_unless_asked(tmp_path: Path, suffix: str) -> None:
    redacted = write_report(a5000_report(), tmp_path / f"r{suffix}").read_text()
    kept = write_report(a5000_report(), tmp_path / f"k{suffix}", include_ids=True).read_text()
    for ident in IDS:
        assert ident not in redacted
        assert ident in kept
    assert pseudonym("host", "gpu-node-07") in redacted


def test_format_follows_suffix(tmp_path: Path) -> None:
    assert write_report(v100_report(), tmp_path / "r.HTML").read_text().startswith("<!DOCTYPE html>")
    assert write_report(v100_report(), tmp_path / "r.md").read_text().startswith("# GPU advisor report")
    assert "exit" in write_report(v100_report(), tmp_path / "r.txt").read_text().splitlines()[-1]
    with pytest.raises(InputError, match=r"\.json, \.md, \.html or \.txt"):
        write_report(v100_report(), tmp_path / "r.pdf")


def test_default_path_and_directory_target(tmp_path: Path) -> None:
    report = a5000_report(created="2026-01-05T10:20:30+00:00")
    path = default_report_path(report, "html")
    assert path == Path("reports") / f"{pseudonym('host', 'gpu-node-07')}-20260105-102030.html"
    assert default_report_path(report, "json", include_ids=True).name == "gpu-node-07-20260105-102030.json"
    written = write_report(report, tmp_path)
    assert written.parent == tmp_path and written.suffix == ".json" and written.exists()


def test_default_path_of_a_hostile_or_missing_host() -> None:
    name = default_report_path(hostile_report(), "md", include_ids=True).name
    assert "/" not in name and "<" not in name and " " not in name and name.endswith("-20260105-102030.md")
    report = v100_report()
    machine = report.machine.model_copy(
        update={"host": report.machine.host.model_copy(update={"hostname": None})}
    )
    assert default_report_path(report.model_copy(update={"machine": machine}), "json").name.startswith(
        "unknown-host-"
    )


def _crash_half_way(fh: IO[str], text: str) -> None:
    fh.write(text[: len(text) // 2])
    fh.flush()
    raise OSError(28, "No space left on device")


def test_crash_mid_write_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report_io, "_write_all", _crash_half_way)
    with pytest.raises(InputError, match=r"cannot write .*No space left"):
        write_report(a5000_report(), tmp_path / "r.json")
    assert list(tmp_path.iterdir()) == []


def test_crash_mid_rewrite_keeps_the_old_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = write_report(v100_report(), tmp_path / "r.json")
    before = target.read_bytes()

    def interrupted(fh: IO[str], text: str) -> None:
        fh.write(text[:100])
        raise KeyboardInterrupt

    monkeypatch.setattr(report_io, "_write_all", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_report(a5000_report(), target)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_written_file_gets_ordinary_permissions(tmp_path: Path) -> None:
    path = write_report(v100_report(), tmp_path / "r.json")
    assert path.stat().st_mode & 0o044  # readable by others under a usual umask, not mkstemp's 0600


def test_malformed_json_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "broken.json"
    bad.write_text('{"schema_version": "1.0", "machine": ')
    with pytest.raises(InputError, match=r"broken\.json.*not JSON"):
        load_report(bad)


def test_json_that_is_not_a_report(tmp_path: Path) -> None:
    other = tmp_path / "package.json"
    other.write_text('{"name": "left-pad"}')
    with pytest.raises(InputError, match=r"package\.json.*not an advisor report"):
        load_report(other)


def test_invalid_report_names_the_field(tmp_path: Path) -> None:
    data = json.loads(a5000_report().model_dump_json())
    data["findings"][0]["severity"] = "catastrophic"
    path = tmp_path / "r.json"
    path.write_text(json.dumps(data))
    with pytest.raises(InputError, match=r"r\.json.*findings\.0\.severity"):
        load_report(path)


def test_newer_major_schema_is_refused_clearly(tmp_path: Path) -> None:
    data = json.loads(a5000_report().model_dump_json())
    data["schema_version"] = "2.0"
    data["machine"]["new_thing"] = {"x": 1}
    path = tmp_path / "future.json"
    path.write_text(json.dumps(data))
    with pytest.raises(InputError, match=r"future\.json.*schema 2\.0.*upgrade"):
        load_report(path)
    data.pop("machine")
    data["machine"] = {}  # even a report that happens to validate is refused
    path.write_text(json.dumps(data))
    with pytest.raises(InputError, match="newer"):
        load_report(path)


def test_newer_minor_schema_with_an_added_field_still_loads(tmp_path: Path) -> None:
    data = json.loads(a5000_report().model_dump_json())
    data["schema_version"] = "1.7"
    data["machine"]["gpus"][0]["fan_speed_percent"] = 30
    data["future_section"] = []
    path = tmp_path / "r.json"
    path.write_text(json.dumps(data))
    report = load_report(path)
    assert report.machine.gpus[0].name == "NVIDIA RTX A5000"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read report"):
        load_report(tmp_path / "nope.json")
