"""probe_machine() end to end: on this GPU-less machine for real (NVML faked), and with scenario fakes."""

from __future__ import annotations

import platform
import sys
from pathlib import Path

import pynvml
import pytest

import advisor.probe.torch_probe as torch_probe
from advisor.machine import Machine
from advisor.probe import probe_machine
from tests.conftest import SMI
from tests.fakes.fake_nvml import FakeNvml, load_smi_xml, no_gpu_nvml

A5000 = SMI / "qx-2x-rtx-a5000-driver590.xml"


@pytest.fixture
def quick_torch_child(monkeypatch: pytest.MonkeyPatch) -> None:
    """Replace the torch child with one that answers "torch absent" at once (tests of other sources)."""
    answer = "print('ADVISOR-TORCH-FACTS:' + '{\"installed\": false, \"init_messages\": []}')"
    monkeypatch.setattr(torch_probe, "child_command", lambda: [sys.executable, "-c", answer])


def test_this_gpu_less_machine_for_real(monkeypatch: pytest.MonkeyPatch) -> None:
    # Only NVML is faked (this machine has no libnvidia-ml); torch, host, sysfs and procfs are real.
    monkeypatch.setitem(sys.modules, "pynvml", no_gpu_nvml(init_error=pynvml.NVMLError_LibraryNotFound))

    machine = probe_machine(torch_timeout_s=120.0)

    assert machine.source == "live"
    assert machine.gpus == [] and machine.gpus_known is True
    assert machine.driver.nvml_ok is False
    assert machine.driver.nvml_error == "NVML Shared Library Not Found"
    assert machine.probe_timeouts == []
    assert machine.torch.installed is True
    assert machine.torch.cuda_available is False
    assert machine.torch.built_with_cuda is False
    assert machine.host.os == platform.system()
    assert machine.host.python_version == platform.python_version()
    assert machine.host.machine_arch == platform.machine()
    assert Machine.model_validate_json(machine.model_dump_json()) == machine


def test_fake_gpus_with_pci_and_kernel_module(tmp_path: Path, quick_torch_child: None) -> None:
    sys_root, proc_root = tmp_path / "sys", tmp_path / "proc"
    for address in ("0000:81:00.0", "0000:c1:00.0"):
        entry = sys_root / "bus" / "pci" / "devices" / address
        entry.mkdir(parents=True)
        (entry / "vendor").write_text("0x10de\n")
        (entry / "device").write_text("0x2231\n")
        (entry / "class").write_text("0x030000\n")
        (entry / "driver").symlink_to("../../../../bus/pci/drivers/nvidia")
    (proc_root / "driver" / "nvidia").mkdir(parents=True)
    (proc_root / "driver" / "nvidia" / "version").write_text(
        "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  590.44.01  Release Build  (dvs-builder)\n"
    )

    machine = probe_machine(nvml=FakeNvml(load_smi_xml(A5000)), sysfs_root=sys_root, proc_root=proc_root)

    assert [g.name for g in machine.gpus] == ["NVIDIA RTX A5000", "NVIDIA RTX A5000"]
    assert machine.driver.version == "590.44.01"
    assert machine.driver.kernel_module_version == "590.44.01"
    assert machine.driver.pci_devices is not None
    assert [(d.device_id, d.driver) for d in machine.driver.pci_devices] == [(0x2231, "nvidia")] * 2
    assert machine.torch.installed is False


def test_hung_nvml_is_a_timeout_not_a_hang(quick_torch_child: None) -> None:
    nvml = FakeNvml(load_smi_xml(A5000), hang=("nvmlDeviceGetCount", 60.0))
    try:
        machine = probe_machine(nvml=nvml, nvml_timeout_s=0.3)
    finally:
        nvml.hang_released.set()  # let the abandoned probe thread finish

    assert machine.probe_timeouts == ["nvml"]
    assert machine.gpus_known is False  # unknown, so no "no GPU" verdict
    assert machine.driver.nvml_ok is False
    assert machine.driver.nvml_error == "NVML did not answer within 0.3 s"
    assert machine.torch.timed_out is False


def test_hung_torch_child_is_a_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        torch_probe, "child_command", lambda: [sys.executable, "-c", "import time; time.sleep(60)"]
    )

    machine = probe_machine(torch_timeout_s=0.5, nvml=no_gpu_nvml())

    assert machine.probe_timeouts == ["torch"]
    assert machine.torch.timed_out is True
    assert machine.driver.nvml_ok is True


def test_nvml_probe_bug_is_recorded_not_raised(quick_torch_child: None) -> None:
    class Exploding(FakeNvml):
        def nvmlDeviceGetCount(self) -> int:
            raise ZeroDivisionError("a bug in a binding")

    machine = probe_machine(nvml=Exploding(None))

    assert machine.driver.nvml_ok is False
    assert machine.driver.nvml_error == "NVML probe failed: ZeroDivisionError: a bug in a binding"


def test_forgetting_to_fake_nvml_fails_loudly(quick_torch_child: None) -> None:
    # tests/conftest.py makes the real nvmlInit raise AssertionError; the probe must not swallow it.
    with pytest.raises(AssertionError, match="touched the real NVML"):
        probe_machine()
