"""`advisor check` through the CLI: dumps, gates, workload, export, exit status, the live path on fakes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from advisor.cli.app import app
from advisor.machine import HostInfo, Machine, TorchInfo
from advisor.report import BenchResult
from advisor.reports.schema import validation_errors
from tests.conftest import DUMPS

H100_PCIE_CU117 = DUMPS / "02-h100pcie-torch201-cu117-sm90" / "input.txt"  # arch-not-in-build (error)
H100X8_HEALTHY = DUMPS / "12-h100x8-torch251-cu124-driver550-healthy" / "input.txt"

runner = CliRunner()


def _check(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, ["check", *args], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_a_broken_dump_exits_1_and_the_json_validates() -> None:
    code, out, _ = _check("--from", str(H100_PCIE_CU117), "--json")
    report = json.loads(out)
    assert code == 1
    assert validation_errors(report) == []
    assert report["source"] == "collect_env"
    assert "arch-not-in-build" in {f["code"] for f in report["findings"]}
    assert report["benchmarks"] == []  # never a bench on a dump


def test_a_healthy_dump_exits_0() -> None:
    code, out, _ = _check("--from", str(H100X8_HEALTHY), "--json")
    report = json.loads(out)
    assert code == 0
    assert not [f for f in report["findings"] if f["severity"] in ("error", "warning")]
    assert len(report["machine"]["gpus"]) == 8


def test_stdin_dash_reads_the_paste() -> None:
    code, out, _ = _check("--from", "-", "--json", stdin=H100_PCIE_CU117.read_text())
    assert code == 1
    assert json.loads(out)["machine"]["torch"]["version"] == "2.0.1+cu117"


@pytest.mark.parametrize(
    "make_input",
    [
        lambda tmp: str(tmp / "missing.txt"),
        lambda tmp: str(tmp),  # a directory
        lambda tmp: _write(tmp / "junk.txt", "hello, this is not a dump\n" * 20),
        lambda tmp: _write(tmp / "bin.txt", "\x00\x01\x02garbage" * 100),
    ],
    ids=["missing", "directory", "chatter", "binary"],
)
def test_unreadable_input_exits_2_with_one_line_and_no_stdout(tmp_path: Path, make_input: object) -> None:
    path = make_input(tmp_path)  # type: ignore[operator]
    code, out, err = _check("--from", path, "--json")
    assert code == 2
    assert out == ""
    assert err.startswith("advisor: error:") and "Traceback" not in err


def test_require_gates() -> None:
    met = _check("--from", str(H100X8_HEALTHY), "--require", "memory>=80GiB", "--require", "gpus>=8")
    assert met[0] == 0
    code, out, _ = _check(
        "--from", str(H100X8_HEALTHY), "--json", "--require", "memory>=100GiB", "--require", "fp8"
    )
    findings = json.loads(out)["findings"]
    assert code == 1
    unmet = [f for f in findings if f["code"] == "requirement-unmet"]
    assert len(unmet) == 1 and "100" in unmet[0]["detail"]


def test_a_bad_gate_is_usage_error_before_any_work() -> None:
    code, out, err = _check("--from", str(H100X8_HEALTHY), "--require", "memory>>24")
    assert code == 2 and out == ""
    assert "memory" in err


def test_workload_that_does_not_fit_is_an_error() -> None:
    # 8 x H100 80GB: Llama 3 70B full fine-tuning in bf16 with AdamW needs ~16 bytes/param (> 1 TB)
    code, out, _ = _check(
        "--from", str(H100X8_HEALTHY), "--json", "--workload", "model=llama-3-70b,task=finetune"
    )
    report = json.loads(out)
    assert code == 1
    assert "insufficient-memory" in {f["code"] for f in report["findings"]}
    assert report["workload"]["memory"]["total"] > 10**12
    assert validation_errors(report) == []


def test_workload_that_fits_is_not_a_finding() -> None:
    code, out, _ = _check("--from", str(H100X8_HEALTHY), "--json", "--workload", "model=llama-3-8b")
    report = json.loads(out)
    assert code == 0
    assert report["workload"]["workload"]["model"] == "llama-3-8b"


@pytest.mark.parametrize("suffix", [".json", ".md", ".html"])
def test_export_writes_the_format_of_the_suffix_redacted(tmp_path: Path, suffix: str) -> None:
    target = tmp_path / f"node{suffix}"
    code, _, err = _check("--from", str(H100_PCIE_CU117), "--export", str(target))
    assert code == 1
    text = target.read_text()
    assert "report written to" in err
    if suffix == ".json":
        assert validation_errors(json.loads(text)) == []
    elif suffix == ".html":
        assert text.lstrip().lower().startswith("<!doctype html")
    else:
        assert text.startswith("# ")
    assert "arch-not-in-build" in text


@pytest.mark.parametrize("existing", [True, False])
def test_export_to_a_folder_uses_the_default_name(tmp_path: Path, existing: bool) -> None:
    """An existing directory, or a name ending in '/', is a folder that gets <host>-<time>.json."""
    folder = tmp_path / "reports"
    if existing:
        folder.mkdir()
    _check("--from", str(H100X8_HEALTHY), "--export", str(folder) + ("" if existing else "/"))
    written = list(folder.iterdir())
    assert len(written) == 1 and written[0].suffix == ".json"


@pytest.mark.parametrize("name", ["report.pdf", "r", "notes.txt.bak"])
def test_export_with_an_unknown_suffix_is_refused_not_made_a_folder(tmp_path: Path, name: str) -> None:
    code, out, err = _check("--from", str(H100X8_HEALTHY), "--export", str(tmp_path / name))
    assert code == 2 and out == ""
    assert "cannot tell the report format" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / name).exists()


def test_live_check_on_a_gpu_less_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """The live path wired end to end on recorded facts: this sandbox's own probe result and CPU bench."""
    import advisor.bench
    import advisor.probe
    from advisor.bench import BenchRun

    machine = Machine(
        source="live",
        host=HostInfo(
            os="Linux", os_release="Debian GNU/Linux 12 (bookworm)", cpu_model="AMD EPYC", cpu_threads=2
        ),
        torch=TorchInfo(installed=True, version="2.13.0+cpu", cuda_available=False, built_with_cuda=False),
    )
    machine.driver.nvml_ok = False
    machine.driver.nvml_error = "NVML Shared Library Not Found"
    machine.driver.pci_devices = []
    # figures recorded by `advisor bench --device cpu` here (benchmarks/README.md)
    cpu = BenchResult(
        device="cpu", test="matmul", dtype="fp32", value=0.194, unit="TFLOP/s", peak=0.332, efficiency=0.58,
        median=0.194, best=0.199, spread=0.05, samples=5, shape=[2048, 2048, 2048], seconds=1.2,
    )  # fmt: skip
    calls: dict[str, object] = {}

    def fake_bench(m: Machine, k: object, **kw: object) -> BenchRun:
        calls.update(kw)
        return BenchRun(results=[cpu])

    monkeypatch.setattr(advisor.probe, "probe_machine", lambda **_: machine)
    monkeypatch.setattr(advisor.bench, "run_bench", fake_bench)
    code, out, _ = _check("--json")
    report = json.loads(out)
    assert code == 0
    assert [f["code"] for f in report["findings"]] == ["no-gpu"]
    assert report["findings"][0]["severity"] == "warning"
    assert report["benchmarks"][0]["value"] == pytest.approx(0.194)
    assert calls["mode"] == "quick"

    human = runner.invoke(app, ["check", "--no-bench"])
    assert human.exit_code == 0
    assert "No GPU" in human.stdout and "2.13.0+cpu" in human.stdout and "Debian" in human.stdout


def test_check_from_never_imports_torch_or_nvml() -> None:
    code = (
        "import sys; from advisor.cli.app import main\n"
        f"sys.argv = ['advisor', 'check', '--from', {str(H100X8_HEALTHY)!r}, '--json']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "assert 'torch' not in sys.modules and 'pynvml' not in sys.modules, 'heavy import'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def _write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)
