"""One redaction pass over every output path (issue 11 item 3; red-team F2)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from tests.attack.conftest import POWER_BRAKE, invoke, write_json

SECRETS = ("gpu-node-07", "GPU-NODE-07", "corp.example.com", "10.20.30.40", "alice", "fd00::1234")


def _ids_report(base: dict[str, Any]) -> dict[str, Any]:
    d = copy.deepcopy(base)
    d["machine"]["host"]["hostname"] = "gpu-node-07.corp.example.com"
    d["notes"] = ["copied from gpu-node-07 (GPU-NODE-07) at 10.20.30.40 and fd00::1234 by /home/alice/x"]
    return d


def test_every_report_output_is_redacted(tmp_path: Path, base_report: dict[str, Any]) -> None:
    path = write_json(tmp_path / "ids.json", _ids_report(base_report))
    outputs = [invoke("report", "render", str(path), "--to", to)[1] for to in ("text", "json", "md", "html")]
    fleet_dir = tmp_path / "fleet"
    fleet_dir.mkdir()
    write_json(fleet_dir / "gpu-node-07.json", _ids_report(base_report))
    for to in ("text", "json", "md", "csv"):
        outputs.append(invoke("report", "fleet", str(fleet_dir), "--to", to, "--all")[1])
    outputs.append(invoke("report", "diff", str(path), str(path))[1])
    for out in outputs:
        assert out
        for secret in SECRETS:
            assert secret not in out, (secret, out[:300])


def test_include_ids_keeps_them(tmp_path: Path, base_report: dict[str, Any]) -> None:
    path = write_json(tmp_path / "ids.json", _ids_report(base_report))
    out = invoke("report", "render", str(path), "--to", "json", "--include-ids")[1]
    assert "gpu-node-07.corp.example.com" in out and "10.20.30.40" in out


def test_user_names_in_a_dump_and_check_json(tmp_path: Path) -> None:
    text = POWER_BRAKE.read_text().replace("/usr/bin/python", "/home/alice/miniconda3/envs/llm/bin/python")
    dump = tmp_path / "alice.txt"
    dump.write_text(text)
    for ext in ("json", "md", "html"):
        invoke("check", "--from", str(dump), "--export", str(tmp_path / f"a.{ext}"))
        assert "/home/alice" not in (tmp_path / f"a.{ext}").read_text()
    assert "/home/alice" not in invoke("check", "--from", str(dump), "--json")[1]


def test_versions_that_look_like_addresses_are_kept() -> None:
    from advisor.reports.redact import _scrub

    assert _scrub("cuDNN version 8.9.7.29", {}, None) == "cuDNN version 8.9.7.29"
    assert _scrub("torch::jit and 12:30:45", {}, None) == "torch::jit and 12:30:45"
    assert _scrub("C:\\Users\\bob\\AppData", {}, None) == "C:\\Users\\<user>\\AppData"
