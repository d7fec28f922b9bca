"""Exports never clobber special files and fail in one line (issue 11 items 4, 6, 7, 12)."""

from __future__ import annotations

import copy
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from advisor.reports import io as report_io
from advisor.reports.io import load_report, write_report
from tests.attack.conftest import POWER_BRAKE, assert_one_line_error, invoke, run_cli, write_json


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_or_a_fd_link_is_refused_not_replaced(tmp_path: Path, base_report: dict[str, Any]) -> None:
    report = write_json(tmp_path / "r.json", base_report)
    fifo = tmp_path / "pipe.md"
    os.mkfifo(fifo)
    link = tmp_path / "stdout.md"
    link.symlink_to("/dev/null")  # as /proc/self/fd/1 is on a terminal: a link to a device
    for target in (fifo, link):
        code, _, err = invoke("report", "render", str(report), "--to", "md", "-o", str(target))
        assert_one_line_error(code, err)
        assert "not a regular file" in err
    assert stat.S_ISFIFO(fifo.stat().st_mode) and link.is_symlink()
    code, _, err = invoke("check", "--from", str(POWER_BRAKE), "--export", str(fifo))
    assert code == 2 and stat.S_ISFIFO(fifo.lstat().st_mode)


def test_dash_is_stdout(tmp_path: Path, base_report: dict[str, Any]) -> None:
    report = write_json(tmp_path / "r.json", base_report)
    code, out, _ = invoke("report", "render", str(report), "--to", "md", "-o", "-")
    assert code == 0 and out.startswith("# ")
    assert not (Path.cwd() / "-").exists()


@pytest.mark.parametrize(
    "make", [lambda t: "/proc/x.json", lambda t: str(t / "afile" / "x.json"), lambda t: "/dev/full"]
)
def test_unwritable_targets_are_one_line_and_exit_2(tmp_path: Path, make: Any) -> None:
    (tmp_path / "afile").write_text("keep")
    target = make(tmp_path)
    if target == "/dev/full" and not Path(target).exists():
        pytest.skip("no /dev/full")
    code, _out, err = invoke("check", "--from", str(POWER_BRAKE), "--export", target)
    assert_one_line_error(code, err)
    assert (tmp_path / "afile").read_text() == "keep"


@pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, "geteuid") else True, reason="root writes anywhere")
def test_a_read_only_folder(tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        code, _, err = invoke("check", "--from", str(POWER_BRAKE), "--export", str(ro / "x.json"))
    finally:
        ro.chmod(0o755)
    assert_one_line_error(code, err)


def test_nan_and_infinity_survive_a_round_trip(tmp_path: Path, base_report: dict[str, Any]) -> None:
    data = copy.deepcopy(base_report)
    data["benchmarks"] = [
        {"device": 0, "test": "matmul", "dtype": "bf16", "value": float("nan"), "unit": "TFLOP/s",
         "median": float("inf"), "best": 1.0, "spread": 0.0, "samples": 1, "seconds": 1.0}
    ]  # fmt: skip
    src = tmp_path / "nan.json"
    src.write_text(json.dumps(data))
    out = tmp_path / "out.json"
    code, _, err = invoke("report", "render", str(src), "--to", "json", "-o", str(out), "--include-ids")
    assert code == 0, err
    json.loads(out.read_text())  # strict JSON (no bare NaN tokens)
    again = load_report(out)
    assert again.benchmarks[0].value != again.benchmarks[0].value  # NaN
    assert again.benchmarks[0].median == float("inf")


def test_sigterm_mid_write_leaves_no_temp_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI turns SIGTERM into SystemExit(143); the atomic writer removes its temp file on it."""
    from tests.test_reports_samples import a5000_report

    def killed(fh: Any, text: str) -> None:
        fh.write(text[:100])
        raise SystemExit(143)

    monkeypatch.setattr(report_io, "_write_all", killed)
    with pytest.raises(SystemExit):
        write_report(a5000_report(), tmp_path / "r.json")
    assert list(tmp_path.iterdir()) == []


def test_the_sigterm_handler_is_installed_by_the_entry_point() -> None:
    result = run_cli(
        "report", "render", "/nonexistent.json"
    )  # cheap run: proves main() starts with the handlers and ends cleanly
    assert result.returncode == 2
    import signal

    from advisor.cli import app as app_module

    previous = signal.getsignal(signal.SIGTERM)
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        app_module._install_signal_handlers()
        assert signal.getsignal(signal.SIGTERM) is app_module._on_signal
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_a_paste_that_changes_encoding_is_decoded_per_part(tmp_path: Path) -> None:
    """PowerShell's `>` (UTF-16) then an appended UTF-8 `nvidia-smi -q`: the second half must count."""
    from tests.attack.conftest import H100X8

    collect_env = H100X8.read_text().encode("utf-16")
    smi_q = POWER_BRAKE.read_bytes()
    for name, data in (("a.txt", collect_env + smi_q), ("b.txt", smi_q + collect_env)):
        (tmp_path / name).write_bytes(data)
        _code, out, _ = invoke("check", "--from", str(tmp_path / name), "--json", "--include-ids")
        report = json.loads(out)
        assert sum(f["code"] == "gpu-throttled" for f in report["findings"]) == 8, name
        assert report["machine"]["torch"]["version"] == "2.5.1+cu124", name
