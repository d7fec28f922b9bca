"""Shared pieces of the attack suite: a valid base report, and running the real console entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from advisor.cli.app import app
from tests.conftest import DUMPS

H100X8 = DUMPS / "12-h100x8-torch251-cu124-driver550-healthy" / "input.txt"
POWER_BRAKE = DUMPS / "38-h100x8-hw-power-brake-all-gpus" / "input.txt"
ESC = "\x1b]0;PWNED\x1b\\\x1b[5;31mBLINK\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\"
runner = CliRunner()


@pytest.fixture(scope="session")
def base_report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    result = runner.invoke(app, ["check", "--from", str(H100X8), "--json", "--include-ids"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def write_json(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data))
    return path


def invoke(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), input=stdin, env=env)
    return result.exit_code, result.stdout, result.stderr


def run_cli(
    *args: str, env: dict[str, str] | None = None, stdin: bytes | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[bytes]:
    """The real entry point in a child process (exit codes, encodings and signals as a shell sees them)."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "advisor", *args],
        input=stdin,
        capture_output=True,
        env=full_env,
        timeout=timeout,
        check=False,
    )


def assert_one_line_error(code: int, err: str, expected_code: int = 2) -> None:
    assert code == expected_code, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("advisor: error: "), err
    assert "Traceback" not in err
