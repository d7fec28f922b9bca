"""Advice that is right for the case at hand, in plain words (issue 11 item 19): each with a must-fire
and a must-not-fire case."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from advisor.cli.app import app
from advisor.diagnose import build_report
from advisor.knowledge.loader import load_knowledge
from advisor.machine import HostInfo, Machine, TorchInfo
from advisor.render.common import verdict
from tests.conftest import DUMPS

H100X8 = DUMPS / "12-h100x8-torch251-cu124-driver550-healthy" / "input.txt"  # driver 550, no "CUDA Version"
WINDOWS_CPU_BUILD = DUMPS / "09-rtx4080laptop-torch222-cpu-windows" / "input.txt"
NO_GPU_FACTS = (
    "PyTorch version: 2.5.1+cu124\nCUDA used to build PyTorch: 12.4\nOS: Ubuntu 22.04.4 LTS (x86_64)\n"
)
NO_KERNEL_IMAGE = "RuntimeError: CUDA error: no kernel image is available for execution on the device\n"
runner = CliRunner()


def _check(*args: str, stdin: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, ["check", *args], input=stdin, env={"COLUMNS": "200"})
    return result.exit_code, result.stdout


def test_a_source_without_gpu_facts_is_not_called_healthy() -> None:
    _, out = _check("--from", "-", stdin=NO_GPU_FACTS)
    assert "not enough facts to call it healthy" in out and "healthy: " not in out.replace("it healthy: ", "")
    _code, out = _check("--from", str(H100X8))
    assert out.splitlines()[-1].startswith("healthy: ")


@pytest.mark.parametrize(("gate", "met"), [("driver-cuda>=12.4", True), ("driver-cuda>=12.6", False)])
def test_driver_cuda_gate_uses_the_branch_table(gate: str, met: bool) -> None:
    code, out = _check("--from", str(H100X8), "--require", gate)
    assert (code == 0) is met
    if not met:
        assert "12.4 (driver 550.90.07, by the branch table)" in out


def test_an_unverifiable_gate_never_advises_an_upgrade() -> None:
    code, out = _check("--from", "-", "--require", "driver>=535", stdin=NO_GPU_FACTS)
    assert code == 1 and "could not verify" in out
    assert "Install a newer NVIDIA driver" not in out and "missing fact" in out
    code, out = _check("--from", str(H100X8), "--require", "driver>=560")
    assert "Install a newer NVIDIA driver" in out  # a real, known shortfall still gets the upgrade


def test_windows_fixes_have_one_command_per_line() -> None:
    _code, out = _check("--from", str(WINDOWS_CPU_BUILD))
    fix_lines = [line for line in out.splitlines() if "pip " in line]
    assert fix_lines and not any("&&" in line for line in fix_lines)
    linux = DUMPS / "30-rtx2080ti-torch131-cpu-build-indented" / "input.txt"
    assert "pip uninstall -y torch && " in _check("--from", str(linux))[1]


def test_no_question_marks_for_unknown_versions() -> None:
    msg = (
        "UserWarning: CUDA initialization: The NVIDIA driver on your system is too old (found version 11040)."
    )
    _code, out = _check("--from", "-", stdin=msg)
    assert "driver-too-old" in out and "torch ?" not in out and "CUDA ?" not in out


def test_a_bare_no_kernel_image_states_its_assumption() -> None:
    _, out = _check("--from", "-", stdin=NO_KERNEL_IMAGE)
    assert "nvidia-smi -L" in out
    _code, out = _check("--from", str(DUMPS / "02-h100pcie-torch201-cu117-sm90" / "input.txt"))
    assert "nvidia-smi -L" not in out  # the GPU is known: nothing to ask


_ONE_GPU = (
    '{"source": "live", "host": {"os": "Linux"}, "torch": {"installed": false}, '
    '"driver": {"version": "550.90.07"}, "gpus": [{"index": 0, "name": "NVIDIA H100 80GB HBM3", '
    '"compute_capability": "9.0"}]}'
)


def _live(gpus_known: bool) -> Machine:
    return Machine(
        source="live", gpus_known=gpus_known, host=HostInfo(os="Linux"), torch=TorchInfo(installed=False)
    )


def test_torch_missing_on_a_gpu_less_machine_gets_the_cpu_wheel() -> None:
    knowledge = load_knowledge(None)
    report = build_report(_live(gpus_known=True), knowledge)
    text = " ".join((f.fix or "") + " " for f in report.findings) + " ".join(
        r.value for r in report.recommendations
    )
    assert "whl/cpu" in text and "cu13" not in text
    gpu = build_report(Machine.model_validate_json(_ONE_GPU), knowledge)
    assert "whl/cpu" not in " ".join((f.fix or "") for f in gpu.findings)


def test_cpu_advice_is_labelled_cpu_when_there_is_no_gpu() -> None:
    knowledge = load_knowledge(None)
    machine = _live(gpus_known=True).model_copy(
        update={"host": HostInfo(os="Linux", cpu_flags=["avx512_bf16"])}
    )
    report = build_report(machine, knowledge, requirements=["bf16"])
    from advisor.render.common import recommendation_groups

    subjects = [g.subject for g in recommendation_groups(report.recommendations, no_gpu=True)]
    assert subjects == ["CPU (no GPU)"]
    assert verdict(report).startswith("1 error")


def test_install_notes_have_no_table_jargon(tmp_path: Path) -> None:
    _code, out = _check("--from", str(DUMPS / "02-h100pcie-torch201-cu117-sm90" / "input.txt"), "--json")
    assert "Table status" not in out
