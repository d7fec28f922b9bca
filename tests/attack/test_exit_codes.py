"""No tracebacks and the right exit codes on hostile input (issue 11 items 8–14)."""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.attack.conftest import H100X8, assert_one_line_error, invoke, run_cli, write_json

NINES = "9" * 400


def test_integers_beyond_float_range_in_a_report(tmp_path: Path, base_report: dict[str, Any]) -> None:
    big = copy.deepcopy(base_report)
    big["machine"]["gpus"][0]["memory_total_bytes"] = 10**400
    path = write_json(tmp_path / "big.json", big)
    for args in (["render", str(path)], ["render", str(path), "--to", "html"], ["fleet", str(path)]):
        code, _, err = invoke("report", *args)
        assert "Traceback" not in err
        if args[0] == "render":
            assert_one_line_error(code, err)
        else:
            assert code == 2 and "skipped" in err


@pytest.mark.parametrize(
    "args",
    [
        ["check", "--from", str(H100X8), "--require", f"memory>={NINES}GiB"],
        ["check", "--from", str(H100X8), "--require", f"gpus>={NINES}"],
        ["check", "--no-bench", "--timeout", "nan"],
        ["check", "--no-bench", "--timeout", "inf"],
        ["check", "--no-bench", "--timeout", "1e300"],
        ["check", "--no-bench", "--timeout", "0"],
        ["bench", "--device", "cpu", "--timeout", "nan"],
        ["catalog", "list", "--min-memory", f"{NINES}GiB"],
    ],
)
def test_absurd_numbers_in_options_are_one_line(args: list[str]) -> None:
    code, _, err = invoke(*args)
    assert_one_line_error(code, err)


def test_deep_json_and_deep_fleet_folders(tmp_path: Path, base_report: dict[str, Any]) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 5000 + "]" * 5000)
    code, _, err = invoke("report", "render", str(deep))
    assert_one_line_error(code, err)
    fleet = tmp_path / "fleet"
    fleet.mkdir()
    (fleet / "deep.json").write_text(deep.read_text())
    write_json(fleet / "good.json", base_report)
    code, _out, err = invoke("report", "fleet", str(fleet))
    assert code == 0 and "deep.json" in err and "Traceback" not in err
    nested = tmp_path / "nested"
    here = str(nested)
    os.mkdir(here)
    for _ in range(1100):  # deeper than the recursion limit (os.makedirs itself would recurse)
        here += "/a"
        os.mkdir(here)
    write_json(Path(here) / "x.json", base_report)
    try:
        code, _out, err = invoke("report", "fleet", str(nested))
    finally:  # pytest's own clean-up (shutil.rmtree) recurses too: undo it bottom-up
        os.unlink(Path(here) / "x.json")
        while here != str(nested):
            os.rmdir(here)
            here = os.path.dirname(here)
    assert code == 0, err


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_unbounded_report_reads_are_capped() -> None:
    result = run_cli("report", "render", "/dev/zero", timeout=60)
    assert result.returncode == 2 and b"larger than" in result.stderr


def test_billion_laughs_in_a_user_catalog(tmp_path: Path) -> None:
    cards = tmp_path / "bomb" / "cards"
    cards.mkdir(parents=True)
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    lines.append("cards: [*i]")
    (cards / "x.yaml").write_text("\n".join(lines) + "\n")
    started = time.monotonic()
    code, _, err = invoke("catalog", "list", "--catalog", str(tmp_path / "bomb"))
    assert code == 2 and "aliases" in err and "x.yaml" in err
    assert time.monotonic() - started < 20


@pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, "geteuid") else True, reason="root reads mode 000")
def test_an_unreadable_cards_folder(tmp_path: Path) -> None:
    cards = tmp_path / "cat" / "cards"
    cards.mkdir(parents=True)
    cards.chmod(0)
    try:
        code, _, err = invoke("catalog", "list", "--catalog", str(tmp_path / "cat"))
    finally:
        cards.chmod(0o755)
    assert_one_line_error(code, err)


@pytest.mark.parametrize("encoding", ["cp1252", "ascii", "latin-1"])
@pytest.mark.parametrize(
    "args",
    [
        ["check", "--from", str(H100X8)],
        ["catalog", "compare", "v100-sxm2-32gb", "rtx-3090"],
        ["catalog", "list"],
    ],
)
def test_non_utf8_stdout_falls_back_to_ascii(encoding: str, args: list[str]) -> None:
    result = run_cli(*args, env={"PYTHONIOENCODING": encoding, "PYTHONUTF8": "0"})
    assert result.returncode in (0, 1), result.stderr
    assert b"Traceback" not in result.stderr
    result.stdout.decode(encoding)  # strict: only what the stream can carry reached it
    assert len(result.stdout) > 200


def test_report_commands_on_an_ascii_stream(tmp_path: Path, base_report: dict[str, Any]) -> None:
    path = write_json(tmp_path / "r.json", base_report)
    for args in (["render", str(path)], ["diff", str(path), str(path)], ["fleet", str(path), "--all"]):
        result = run_cli("report", *args, env={"PYTHONIOENCODING": "ascii"})
        assert result.returncode == 0 and b"Traceback" not in result.stderr, result.stderr
        result.stdout.decode("ascii")


def test_a_closed_pipe_is_quiet_and_not_an_error_finding(tmp_path: Path, base_report: dict[str, Any]) -> None:
    many = copy.deepcopy(base_report)
    many["machine"]["gpus"] = [dict(many["machine"]["gpus"][0], index=i) for i in range(2000)]
    path = write_json(tmp_path / "many.json", many)
    proc = subprocess.Popen(
        [sys.executable, "-m", "advisor", "report", "render", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 141
    assert err == b""


def test_sigterm_exits_143_without_a_traceback() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "advisor", "check", "--from", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    time.sleep(3)  # reading stdin by then
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143 and b"Traceback" not in err


@pytest.mark.parametrize(
    "args",
    [["check", "--bogus"], ["report", "render"], ["check", "--bench", "foo"], ["catalog", "show"]],
)
def test_usage_errors_are_one_line(args: list[str]) -> None:
    result = run_cli(*args)
    assert_one_line_error(result.returncode, result.stderr.decode())


def test_bench_that_measures_nothing_is_not_a_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    import advisor.bench
    import advisor.cli.bench_cmd as bench_cmd
    from advisor.bench.records import BenchRun
    from advisor.machine import Machine

    monkeypatch.setattr(bench_cmd, "_machine", lambda: Machine(source="live"))
    monkeypatch.setattr(
        advisor.bench,
        "run_bench",
        lambda *a, **k: BenchRun(mode="quick", notes=["the benchmark did not finish within the 1 s limit"]),
    )
    code, _out, err = invoke("bench", "--device", "cpu", "--timeout", "1")
    assert code == 1 and "nothing was measured" in err


def test_json_output_on_an_ascii_stream_keeps_the_data(tmp_path: Path, base_report: dict[str, Any]) -> None:
    data = copy.deepcopy(base_report)
    data["notes"] = ["température – ok ✗"]
    path = write_json(tmp_path / "r.json", data)
    result = run_cli("report", "render", str(path), "--to", "json", env={"PYTHONIOENCODING": "ascii"})
    assert result.returncode == 0
    assert json.loads(result.stdout)["notes"] == ["température – ok ✗"]
