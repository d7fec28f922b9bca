"""driver-drops-gpu (advisor.rules.driver_support): from the GPU's identity and the driver branch, and from
the kernel's own NVRM refusal alone.

Facts: NVIDIA's legacy lists (README Appendix A: Kepler → 470.xx), NVIDIA's deprecation schedule (R580 is
the last branch for Maxwell, Pascal and Volta), and the NVRM message as users pasted it (kernel logs).
"""

from __future__ import annotations

import pytest

from advisor.knowledge.base import Knowledge
from advisor.knowledge.loader import load_knowledge
from advisor.machine import (
    GPU,
    DriverInfo,
    DriverRefusal,
    HostInfo,
    Machine,
    PciDevice,
    TorchDevice,
    TorchInfo,
)
from advisor.report import Finding
from advisor.rules.software import check_software

LINUX = HostInfo(os="Linux", machine_arch="x86_64")

# dmesg as pasted in a public report (GeForce GT 710 on driver 520.61.05): the kernel module loaded and
# refused the GPU.
NVRM_GT710 = (
    "NVRM: The NVIDIA GeForce GT 710 GPU installed in this system is\n"
    "NVRM:  supported through the NVIDIA 470.xx Legacy drivers. Please\n"
    "NVRM:  visit http://www.nvidia.com/object/unix.html for more\n"
    "NVRM:  information.  The 520.61.05 NVIDIA driver will ignore\n"
    "NVRM:  this GPU.  Continuing probe..."
)


@pytest.fixture(scope="module")
def knowledge() -> Knowledge:
    return load_knowledge()


def _drops(machine: Machine, knowledge: Knowledge) -> list[Finding]:
    return [f for f in check_software(machine, knowledge) if f.code == "driver-drops-gpu"]


def _machine(name: str, driver: str, pci: int | None = None) -> Machine:
    return Machine(
        host=LINUX, driver=DriverInfo(version=driver), gpus=[GPU(index=0, name=name, pci_device_id=pci)]
    )


@pytest.mark.parametrize(
    ("name", "driver", "branch"),
    [
        ("NVIDIA GeForce GTX 1080 Ti", "590.44.01", "580.xx"),  # Pascal after R580
        ("Tesla V100-SXM2-16GB", "595.45.04", "580.xx"),  # Volta after R580
        ("GeForce GTX 680", "535.104.05", "470.xx"),  # Kepler after R470
        ("Tesla K80", "535.104.05", "470.xx"),
        ("GeForce GTX 480", "470.256.02", "390.xx"),  # Fermi after R390
    ],
)
def test_fires_when_the_driver_branch_is_past_the_gpus_last(
    knowledge: Knowledge, name: str, driver: str, branch: str
) -> None:
    (f,) = _drops(_machine(name, driver), knowledge)
    assert f.severity == "error" and f.gpu == 0
    assert branch in (f.fix or "") and driver in (f.fix or "")
    assert "reinstall" not in (f.fix or "").lower() and ".." not in (f.fix or "")


def test_an_unnamed_gpu_is_placed_by_its_pci_id(knowledge: Knowledge) -> None:
    (f,) = _drops(_machine("NVIDIA Graphics Device", "590.44.01", pci=0x1B06), knowledge)  # GP102
    assert "580.xx" in (f.fix or "")


@pytest.mark.parametrize(
    ("name", "driver"),
    [
        ("NVIDIA GeForce GTX 1080 Ti", "580.105.08"),  # R580 still drives Pascal
        ("NVIDIA GeForce RTX 3090", "590.44.01"),  # Ampere: current
        ("GeForce GTX 680", "470.256.02"),  # the legacy branch itself
        ("NVIDIA GeForce RTX 5090", "595.45.04"),
        ("NVIDIA Graphics Device", "590.44.01"),  # unknown GPU: nothing to say from identity
    ],
)
def test_silent_while_the_branch_still_drives_the_gpu(knowledge: Knowledge, name: str, driver: str) -> None:
    assert _drops(_machine(name, driver), knowledge) == []


@pytest.mark.parametrize(
    ("os_name", "driver", "fires"),
    [
        ("Windows", "342.01", False),  # R340's last Windows driver (pytorch#31876: GeForce 210)
        (None, "342.01", False),  # OS unknown, Windows-style version: same reading
        ("Windows", "391.35", True),  # R390: past R340
        ("Linux", "342.01", True),  # a Linux 342 would be its own (newer) branch
    ],
)
def test_windows_driver_numbers_count_past_their_branch(
    knowledge: Knowledge, os_name: str | None, driver: str, fires: bool
) -> None:
    machine = Machine(
        host=HostInfo(os=os_name), driver=DriverInfo(version=driver), gpus=[GPU(index=0, name="GeForce 210")]
    )
    assert bool(_drops(machine, knowledge)) is fires


def test_silent_on_jetson(knowledge: Knowledge) -> None:
    """Tegra GPUs are driven by JetPack/L4T (its own 540.x numbering), not by the desktop branches."""
    machine = Machine(
        host=HostInfo(os="Linux", machine_arch="aarch64", kernel="5.15.148-tegra"),
        driver=DriverInfo(version="540.4.0"),
        gpus=[GPU(index=0, name="Orin (nvgpu)")],
        torch=TorchInfo(devices=[TorchDevice(index=0, name="Orin")]),
    )
    assert _drops(machine, knowledge) == []


def test_fires_from_the_kernel_message_alone(knowledge: Knowledge) -> None:
    """A kernel log is the whole paste: no nvidia-smi, no GPU list, only the NVRM refusal."""
    machine = Machine(
        driver=DriverInfo(
            refused_gpus=[
                DriverRefusal(
                    message=NVRM_GT710,
                    name="NVIDIA GeForce GT 710",
                    legacy_branch="470",
                    driver_version="520.61.05",
                )
            ]
        ),
        gpus_known=False,
    )
    (f,) = _drops(machine, knowledge)
    assert f.severity == "error"
    assert "470.xx" in f.title and "520.61.05" in f.title
    # It quotes the kernel (GT 710 is a Kepler GK208 and a Fermi GF119 board: the message decides the branch).
    assert "will ignore this GPU" in f.detail
    assert "Install the NVIDIA 470.xx driver" in (f.fix or "") and "reinstall" not in (f.fix or "").lower()


def test_a_refused_gpu_listed_elsewhere_gets_one_finding(knowledge: Knowledge) -> None:
    refusal = DriverRefusal(message=NVRM_GT710, name="NVIDIA GeForce GT 710", legacy_branch="470")
    machine = Machine(
        host=LINUX,
        driver=DriverInfo(version="520.61.05", refused_gpus=[refusal]),
        gpus=[GPU(index=0, name="NVIDIA GeForce GT 710")],
    )
    (f,) = _drops(machine, knowledge)
    assert f.gpu == 0 and "will ignore" in f.detail


def test_an_open_module_refusal_is_not_a_legacy_drop(knowledge: Knowledge) -> None:
    refusal = DriverRefusal(message="NVRM: ... open kernel module ...", reason="open-module-unsupported")
    machine = Machine(driver=DriverInfo(refused_gpus=[refusal]), gpus_known=False)
    assert _drops(machine, knowledge) == []


def test_a_gpu_only_the_tables_place_is_a_warning_while_the_row_is_unverified(knowledge: Knowledge) -> None:
    """No identity (an unknown name) but a CC the source gives: the compat tables' Kepler row decides."""
    machine = Machine(
        host=LINUX,
        driver=DriverInfo(version="535.104.05"),
        gpus=[GPU(index=0, name="NVIDIA Graphics Device", compute_capability="3.7")],
    )
    (f,) = _drops(machine, knowledge)
    row = next(r for r in knowledge.compat.driver_gpu_support.entries if r.architecture == "Kepler")
    assert f.severity == ("error" if row.status == "verified" else "warning")
    assert "470" in (f.fix or "")


def test_fires_from_the_pci_bus_when_no_gpu_list_exists(knowledge: Knowledge) -> None:
    """nvidia-smi found no device, lspci -nn shows a GTX 680 (10de:1180), the driver is 535."""
    bus = [PciDevice(address="0000:01:00.0", vendor_id=0x10DE, device_id=0x1180, class_code=0x030000)]
    machine = Machine(host=LINUX, driver=DriverInfo(version="535.183.01", nvml_ok=True, pci_devices=bus))
    (f,) = _drops(machine, knowledge)
    assert f.gpu is None and "GeForce GTX 680" in f.title and "470.xx" in (f.fix or "")
    current = machine.model_copy(update={"driver": DriverInfo(version="470.256.02", pci_devices=bus)})
    assert _drops(current, knowledge) == []
