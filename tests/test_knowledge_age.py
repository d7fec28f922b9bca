"""knowledge-outdated: torch, CUDA, driver or GPU newer than the tables is said aloud, with no false error.

The newer-than-the-tables inputs are the real fixture dumps with only the version strings moved past
what the tables know (torch 2.16, driver 620), or Machines built from the same recorded facts.
"""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from advisor.cli.app import app
from advisor.diagnose import build_report
from advisor.dumps import parse_dump
from advisor.knowledge.base import Knowledge
from advisor.knowledge.loader import load_knowledge
from advisor.knowledge.staleness import newest_known_arch_list, reach
from advisor.machine import GPU, DriverInfo, HostInfo, Machine, TorchInfo
from advisor.render.markdown import render_markdown
from advisor.report import Finding
from advisor.rules.software import check_software
from tests.conftest import DATA

LINUX = HostInfo(os="Linux", machine_arch="x86_64")
H100_DUMP = DATA / "dumps" / "12-h100x8-torch251-cu124-driver550-healthy" / "input.txt"


@pytest.fixture(scope="module")
def knowledge() -> Knowledge:
    return load_knowledge()


def _outdated(findings: list[Finding]) -> dict[str, Finding]:
    return {f.subject or "": f for f in findings if f.code == "knowledge-outdated"}


def _alarms(findings: list[Finding]) -> list[tuple[str, str]]:
    return [(f.code, f.title) for f in findings if f.severity in ("error", "warning")]


def _newer_dump(cuda_available: str) -> str:
    text = H100_DUMP.read_text()
    text = text.replace("PyTorch version: 2.5.1+cu124", "PyTorch version: 2.16.0+cu132")
    text = text.replace("CUDA used to build PyTorch: 12.4", "CUDA used to build PyTorch: 13.2")
    text = text.replace("Nvidia driver version: 550.90.07", "Nvidia driver version: 620.31.02")
    return re.sub(r"Is CUDA available: \w+", f"Is CUDA available: {cuda_available}", text)


@pytest.mark.parametrize("cuda_available", ["True", "False"])
def test_torch_2_16_and_driver_620_dump_is_said_newer_and_gets_no_false_error(
    knowledge: Knowledge, cuda_available: str
) -> None:
    report = build_report(parse_dump(_newer_dump(cuda_available)), knowledge)
    found = _outdated(report.findings)
    current = knowledge.compat.knowledge_meta.entries[0].current_to
    assert found["torch"].title == f"torch 2.16 is newer than this advisor's tables (current to {current})"
    assert found["torch"].severity == "info" and "cu132" in found["torch"].detail
    assert found["driver"].title.startswith("Driver 620.31.02 is newer than this advisor's tables")
    assert "at least CUDA 13.4" in found["driver"].detail
    assert not _alarms(report.findings), report.findings
    assert report.knowledge_current_to == current


def test_the_unmodified_dump_is_not_outdated(knowledge: Knowledge) -> None:
    report = build_report(parse_dump(H100_DUMP.read_text()), knowledge)
    assert not _outdated(report.findings)


def test_newer_torch_is_judged_by_its_variant_s_newest_known_build(knowledge: Knowledge) -> None:
    # A cu13x build can never hold Pascal code: torch 2.16 cu132 on a GTX 1080 Ti still fails, said with
    # less certainty (a warning) because the verdict comes from the newest known cu132 build.
    machine = Machine(
        host=LINUX,
        driver=DriverInfo(version="580.126.20", cuda_version="13.0"),
        gpus=[GPU(index=0, name="NVIDIA GeForce GTX 1080 Ti")],
        torch=TorchInfo(installed=True, version="2.16.0+cu132", cuda_version="13.2", cuda_available=True),
    )
    findings = check_software(machine, knowledge)
    arch = [f for f in findings if f.code == "arch-not-in-build"]
    assert len(arch) == 1 and arch[0].severity == "warning" and "newer than the tables" in arch[0].detail
    assert _outdated(findings)["torch"].severity == "info"


def test_newer_untagged_pypi_torch_uses_its_cuda_version(knowledge: Knowledge) -> None:
    machine = Machine(
        host=LINUX,
        driver=DriverInfo(version="595.71.05", cuda_version="13.2"),
        gpus=[GPU(index=0, name="NVIDIA H100 80GB HBM3")],
        torch=TorchInfo(installed=True, version="2.16.0", cuda_version="13.2", cuda_available=True),
    )
    findings = check_software(machine, knowledge)
    assert _outdated(findings)["torch"].severity == "info"
    assert not _alarms(findings)


def test_newer_torch_of_an_unknown_variant_is_a_warning_and_no_arch_verdict(knowledge: Knowledge) -> None:
    machine = Machine(
        host=LINUX,
        driver=DriverInfo(version="620.31.02", cuda_version="14.0"),
        gpus=[GPU(index=0, name="NVIDIA H100 80GB HBM3")],
        torch=TorchInfo(installed=True, version="2.17.0+cu140", cuda_version="14.0", cuda_available=True),
    )
    findings = check_software(machine, knowledge)
    found = _outdated(findings)
    assert found["torch"].severity == "warning" and "not judged" in found["torch"].detail
    assert found["cuda"].severity == "info" and "14.0" in found["cuda"].title
    assert "14.0" in found["driver"].detail  # judged by the CUDA Version it reports
    assert not [f for f in findings if f.code in ("arch-not-in-build", "driver-too-old")]


def test_gpu_newer_than_every_known_compute_capability(knowledge: Knowledge) -> None:
    newest = reach(knowledge.compat).cc
    assert newest is not None
    future = Machine(host=LINUX, gpus=[GPU(index=0, name="Future GPU", compute_capability="13.0")])
    found = _outdated(check_software(future, knowledge))
    assert found["gpu"].gpu == 0 and "CC 13.0" in found["gpu"].title
    known = Machine(
        host=LINUX, gpus=[GPU(index=0, name="NVIDIA GeForce RTX 5090", compute_capability="12.0")]
    )
    assert "gpu" not in _outdated(check_software(known, knowledge))


@pytest.mark.parametrize(
    ("torch", "driver"),
    [("2.15.0+cu132", "595.71.05"), ("2.14.1+cu126", "615.71.09"), ("1.13.1+cu117", "515.43.04")],
)
def test_versions_the_tables_know_are_not_outdated(knowledge: Knowledge, torch: str, driver: str) -> None:
    machine = Machine(
        host=LINUX,
        driver=DriverInfo(version=driver),
        gpus=[GPU(index=0, name="NVIDIA A100-SXM4-80GB")],
        torch=TorchInfo(installed=True, version=torch, cuda_available=True),
    )
    assert not _outdated(check_software(machine, knowledge))


def test_newest_known_arch_list_only_beyond_the_tables(knowledge: Knowledge) -> None:
    assert newest_known_arch_list(knowledge.compat, "2.15", "cu132", "linux-x86_64") is None
    entry = newest_known_arch_list(knowledge.compat, "2.16", "cu132", "linux-x86_64")
    assert entry is not None and "2.15" in entry.releases
    assert newest_known_arch_list(knowledge.compat, "2.16", "cu126", "linux-x86_64") is not None  # 2.14's
    assert newest_known_arch_list(knowledge.compat, "2.16", "cu150", "linux-x86_64") is None


def test_version_flag_and_report_header_show_the_date(knowledge: Knowledge) -> None:
    current = knowledge.compat.knowledge_meta.entries[0].current_to
    out = CliRunner().invoke(app, ["--version"]).output
    assert f"knowledge current to {current}" in out
    report = build_report(parse_dump(H100_DUMP.read_text()), knowledge)
    assert f"knowledge: current to {current}" in render_markdown(report)
