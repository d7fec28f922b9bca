"""`advisor bench` on fake runs: the JSON shape, the table, exit statuses; and no eager torch import."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import typer
from typer.testing import CliRunner

import advisor.bench
from advisor.bench.records import BenchRun
from advisor.cli import bench_cmd
from advisor.errors import UsageError
from advisor.machine import Machine
from advisor.report import BenchResult, Finding

CPU_RESULT = BenchResult(
    device="cpu", test="matmul", dtype="fp32", value=0.17, unit="TFLOP/s", peak=0.332, efficiency=0.512,
    median=0.17, best=0.18, spread=0.05, samples=6, shape=[2048, 2048, 2048], seconds=0.9,
    method="torch.mm torch.float32", timing="perf_counter",
)  # fmt: skip
HANG = Finding(
    code="gpu-hang", severity="error", gpu=0, title="benchmark on GPU 0 did not finish", detail="x"
)


def app() -> typer.Typer:
    a = typer.Typer(add_completion=False)
    a.command("bench")(bench_cmd.bench)

    @a.callback()
    def _root() -> None:  # keeps `bench` a sub-command, as in advisor.cli.app
        pass

    return a


@pytest.fixture
def fake_run(monkeypatch: pytest.MonkeyPatch) -> list[BenchRun]:
    runs: list[BenchRun] = []
    monkeypatch.setattr(bench_cmd, "_machine", lambda: Machine())
    monkeypatch.setattr(advisor.bench, "run_bench", lambda *a, **k: runs.pop(0))
    return runs


def test_json_is_the_documented_shape(fake_run: list[BenchRun]) -> None:
    fake_run.append(BenchRun(results=[CPU_RESULT], notes=["a note"], seconds=4.2))
    out = CliRunner().invoke(app(), ["bench", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert set(data) == {
        "schema_version",
        "mode",
        "results",
        "findings",
        "notes",
        "interrupted",
        "skipped",
        "seconds",
    }
    assert data["results"][0]["device"] == "cpu" and data["results"][0]["unit"] == "TFLOP/s"
    assert data["findings"] == [] and data["notes"] == ["a note"]


def test_table_lists_each_result(fake_run: list[BenchRun]) -> None:
    fake_run.append(BenchRun(results=[CPU_RESULT]))
    out = CliRunner().invoke(app(), ["bench"])
    assert out.exit_code == 0
    assert "matmul" in out.stdout and "fp32" in out.stdout and "51%" in out.stdout


def test_gpu_hang_exits_1(fake_run: list[BenchRun]) -> None:
    fake_run.append(BenchRun(findings=[HANG]))
    out = CliRunner().invoke(app(), ["bench", "--json"])
    assert out.exit_code == 1
    assert json.loads(out.stdout)["findings"][0]["code"] == "gpu-hang"


def test_no_torch_is_a_clear_usage_error(fake_run: list[BenchRun]) -> None:
    fake_run.append(BenchRun(skipped="PyTorch is not installed", notes=["benchmark skipped: ..."]))
    out = CliRunner().invoke(app(), ["bench"])
    assert isinstance(out.exception, UsageError)  # advisor's CLI turns it into one line, exit status 2
    assert "PyTorch is not installed" in str(out.exception) and "pytorch.org" in str(out.exception)


@pytest.mark.parametrize("args", [["--device", "gpu0"], ["--bench", "long"], ["--timeout", "0"]])
def test_bad_options_are_usage_errors(fake_run: list[BenchRun], args: list[str]) -> None:
    out = CliRunner().invoke(app(), ["bench", *args])
    assert isinstance(out.exception, UsageError)


def test_importing_the_bench_cli_does_not_import_torch() -> None:
    code = (
        "import sys, advisor.cli.bench_cmd, advisor.bench, advisor.rules.performance, advisor.bench.child;"
        "print('torch' in sys.modules, 'pynvml' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
