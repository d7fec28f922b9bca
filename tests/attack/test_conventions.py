"""What users expect from pip, nvidia-smi, gpustat and git (issue 11 items 15, 16)."""

from __future__ import annotations

import copy
import csv
import io
from pathlib import Path
from typing import Any

from tests.attack.conftest import H100X8, invoke, run_cli, write_json


def test_short_help_and_version() -> None:
    assert invoke("-h")[0] == 0 and "Usage" in invoke("-h")[1]
    assert invoke("check", "-h")[0] == 0
    code, out, _ = invoke("-V")
    assert code == 0 and out.startswith("advisor ")


def test_global_flags_after_the_command() -> None:
    for flag in ("--debug", "--no-color", "--ascii"):
        code, _out, err = invoke("catalog", "list", flag)
        assert code == 0, err


def test_ascii_mode_prints_only_ascii() -> None:
    result = run_cli("check", "--from", str(H100X8), "--ascii")
    assert result.returncode == 0
    result.stdout.decode("ascii")


def test_no_color_on_a_terminal() -> None:
    result = run_cli("catalog", "list", "--no-color", env={"FORCE_COLOR": "1", "TTY_COMPATIBLE": "1"})
    assert b"\x1b[3" not in result.stdout and b"\x1b[9" not in result.stdout


def test_completion_is_offered() -> None:
    assert "--show-completion" in invoke("--help")[1]


def test_render_from_stdin_and_diff_exit_code(tmp_path: Path, base_report: dict[str, Any]) -> None:
    path = write_json(tmp_path / "a.json", base_report)
    code, out, _ = invoke("report", "render", "-", "--to", "md", stdin=path.read_text())
    assert code == 0 and out.startswith("# ")
    assert invoke("report", "diff", str(path), str(path), "--exit-code")[0] == 0
    changed = copy.deepcopy(base_report)
    changed["machine"]["driver"]["version"] = "560.35.03"
    other = write_json(tmp_path / "b.json", changed)
    assert invoke("report", "diff", str(path), str(other), "--exit-code")[0] == 1
    assert invoke("report", "diff", str(path), str(other))[0] == 0


def test_csv_for_catalog_list_and_fleet(tmp_path: Path, base_report: dict[str, Any]) -> None:
    code, out, _ = invoke("catalog", "list", "--csv")
    rows = list(csv.reader(io.StringIO(out)))
    assert code == 0 and rows[0][:3] == ["id", "name", "cc"] and len(rows) > 40
    write_json(tmp_path / "n1.json", base_report)
    code, out, _ = invoke("report", "fleet", str(tmp_path), "--to", "csv")
    rows = list(csv.reader(io.StringIO(out)))
    assert code == 0 and rows[0][0] == "host" and len(rows) == 2


def test_ids_are_never_cut_at_80_columns() -> None:
    from advisor.knowledge.loader import load_catalog_cards

    ids = {c.id for c in load_catalog_cards(None)}
    for args in (["catalog", "list"], ["catalog", "list", "--sort", "price"]):
        _code, out, _ = invoke(*args, env={"COLUMNS": "80"})
        shown = {line.split()[0] for line in out.splitlines() if line.strip() and line.split()[0] in ids}
        assert shown == ids, ids - shown
    _code, out, _ = invoke("catalog", "compare", "v100-sxm2-32gb", "titan-rtx", "rtx-3090",
                          "rtx-pro-6000-blackwell-max-q", env={"COLUMNS": "80"})  # fmt: skip
    for card in ("tesla-v100-sxm2-32gb", "titan-rtx", "rtx-3090", "rtx-pro-6000-blackwell-max-q"):
        assert card in out


def test_help_has_no_python_type_names() -> None:
    for args in (
        ["report", "fleet", "-h"],
        ["report", "render", "-h"],
        ["catalog", "show", "-h"],
        ["check", "-h"],
    ):
        out = invoke(*args)[1]
        assert "list[" not in out and "<float" not in out and "{name}" not in out, args


def test_fix_commands_are_never_hard_wrapped() -> None:
    dump = H100X8.parents[1] / "02-h100pcie-torch201-cu117-sm90" / "input.txt"
    code, out, _ = invoke("check", "--from", str(dump), env={"COLUMNS": "80"})
    assert code == 1
    fixes = [line for line in out.splitlines() if "pip install" in line]
    assert fixes and all("--index-url https://" in line for line in fixes)


def test_fleet_all_keeps_host_names_whole_and_says_what_it_left_out(
    tmp_path: Path, base_report: dict[str, Any]
) -> None:
    for i in range(2):
        node = copy.deepcopy(base_report)
        node["machine"]["host"]["hostname"] = f"gpu-node-{i:04d}-long-rack-name.cluster"
        write_json(tmp_path / f"n{i}.json", node)
    code, out, _ = invoke("report", "fleet", str(tmp_path), "--all", "--include-ids", env={"COLUMNS": "80"})
    assert code == 0
    assert "gpu-node-0000-long-rack-name.cluster" in out and "gpu-node-0001-long-rack-name.cluster" in out
    assert "left out at this width" in out


def test_gpu_selector_and_one_source() -> None:
    code, out, _ = invoke("check", "--from", str(H100X8), "-i", "1,3", "--json")
    assert code == 0 and [g["index"] for g in __import__("json").loads(out)["machine"]["gpus"]] == [1, 3]
    code, _, err = invoke("check", "--from", str(H100X8), "--id", "9")
    assert code == 2 and "GPU indexes: 0, 1, 2, 3, 4, 5, 6, 7" in err
    code, _, err = invoke("check", "--from", str(H100X8), "--from", str(H100X8))
    assert code == 2 and "one machine at a time" in err


def test_paste_hint_only_on_a_terminal(monkeypatch: Any) -> None:
    import advisor.cli.check_cmd as check_cmd

    monkeypatch.setattr(check_cmd, "_stdin_is_terminal", lambda: True)
    code, _, err = invoke("check", "--from", "-", stdin=H100X8.read_text())
    assert code == 0 and "Ctrl-D" in err and "Ctrl-Z" in err
    monkeypatch.setattr(check_cmd, "_stdin_is_terminal", lambda: False)
    assert "Ctrl-D" not in invoke("check", "--from", "-", stdin=H100X8.read_text())[2]


def test_an_interrupted_bench_exits_130(monkeypatch: Any) -> None:
    import advisor.bench
    import advisor.probe
    from advisor.bench.records import BenchRun
    from advisor.machine import Machine

    monkeypatch.setattr(advisor.probe, "probe_machine", lambda **_: Machine(source="live"))
    monkeypatch.setattr(
        advisor.bench,
        "run_bench",
        lambda *a, **k: BenchRun(mode="quick", interrupted=True, notes=["interrupted"]),
    )
    assert invoke("check")[0] == 130
