"""Opt-in real-hardware cross-check: the live probe against nvidia-smi's own answers (`pytest -m gpu`)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from advisor.probe import probe_machine

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(shutil.which("nvidia-smi") is None, reason="needs an NVIDIA driver and nvidia-smi"),
]


def _smi(fields: str) -> list[list[str]]:
    done = subprocess.run(
        ["nvidia-smi", f"--query-gpu={fields}", "--format=csv,noheader,nounits"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return [[cell.strip() for cell in line.split(",")] for line in done.stdout.strip().splitlines()]


def test_probe_agrees_with_nvidia_smi() -> None:
    rows = _smi("index,name,pci.bus_id,memory.total,driver_version,uuid,compute_cap")
    machine = probe_machine()

    assert machine.driver.nvml_ok is True
    assert len(machine.gpus) == len(rows)
    for gpu, (index, name, bus_id, memory_mib, driver, uuid, cc) in zip(machine.gpus, rows, strict=True):
        assert gpu.index == int(index)
        assert gpu.name == name
        assert gpu.pci_bus_id is not None and gpu.pci_bus_id.lower() == bus_id.lower()
        assert gpu.memory_total_bytes == int(memory_mib) * 1024 * 1024
        assert gpu.uuid == uuid
        assert gpu.compute_capability == cc
        assert machine.driver.version == driver
    if machine.driver.kernel_module_version is not None:  # WSL has no /proc/driver/nvidia
        assert machine.driver.kernel_module_version == machine.driver.version
