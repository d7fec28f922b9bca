"""Rules cannot tell a live probe from a dump: the same real `nvidia-smi -q -x` capture, read once by the
dump parser and once through the live probe (fake NVML fed from that XML), gets the same health verdicts."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

import advisor.probe.torch_probe as torch_probe
from advisor.diagnose import build_report
from advisor.dumps import parse_dump
from advisor.knowledge.loader import load_knowledge
from advisor.probe import probe_machine
from tests.conftest import SMI, dump_dirs
from tests.fakes.fake_nvml import FakeNvml, load_smi_xml

HEALTH = {
    "ecc-errors",
    "gpu-throttled",
    "pcie-link-degraded",
    "power-limit-reduced",
    "gpu-busy",
    "mig-enabled",
    "gpu-hang",
}
XML_CASES = [
    d / "input.txt" for d in dump_dirs() if "<nvidia_smi_log" in (d / "input.txt").read_text(errors="replace")
] + sorted(SMI.glob("*.xml"))


@pytest.fixture
def torch_absent(monkeypatch: pytest.MonkeyPatch) -> None:
    answer = "print('ADVISOR-TORCH-FACTS:' + '{\"installed\": false, \"init_messages\": []}')"
    monkeypatch.setattr(torch_probe, "child_command", lambda: [sys.executable, "-c", answer])


def test_there_are_xml_cases() -> None:
    assert len(XML_CASES) >= 11


@pytest.mark.parametrize("case", XML_CASES, ids=lambda p: p.parent.name if p.name == "input.txt" else p.name)
def test_live_probe_and_dump_agree_on_health(case: Path, tmp_path: Path, torch_absent: None) -> None:
    text = case.read_text(errors="replace")
    knowledge = load_knowledge()
    from_dump = build_report(parse_dump(text), knowledge)
    live = probe_machine(nvml=FakeNvml(load_smi_xml(case)), sysfs_root=tmp_path, proc_root=tmp_path)
    from_live = build_report(live, knowledge)

    def health(report: object) -> set[tuple[str, str, int | None]]:
        return {(f.code, f.severity, f.gpu) for f in report.findings if f.code in HEALTH}  # type: ignore[attr-defined]

    assert health(from_live) == health(from_dump)
    if case.name != "input.txt":
        return  # a format sample without a diagnosis: agreement is the test
    expected = yaml.safe_load((case.parent / "expected.yaml").read_text())
    for code in expected.get("expected") or []:
        if code in HEALTH:
            assert code in {c for c, _, _ in health(from_live)}
