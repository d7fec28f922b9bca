"""Graphics inventories (inxi, lshw, Win32_VideoController, DxDiag, system_profiler) → the display
devices a machine has: must parse the real pastes, must not read prose or scripts as an inventory, and
survives mutation (hypothesis)."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from advisor.diagnose import build_report
from advisor.dumps import inventory, parse_dump
from advisor.errors import InputError
from advisor.knowledge.base import Knowledge
from advisor.knowledge.loader import load_knowledge
from advisor.machine import Machine
from advisor.report import Report
from tests.conftest import DATA

REAL = DATA / "real"

# https://lore.kernel.org/stable/924175a188159f4e03bd69908a91e606b574139b.camel@gmx.de/ (inxi -bxz of a
# working desktop, re-wrapped by the mail client at 72 columns: "bus ID:" lands in column 0).
INXI_MAIL = """\
$ inxi -bxz
System:    Kernel: 5.14.0-19.2-liquorix-amd64 x86_64 bits: 64 compiler:
N/A Desktop: Xfce 4.16.3
           Distro: Ubuntu 20.04.3 LTS (Focal Fossa)
CPU:       8-Core: 12th Gen Intel Core i9-12900K type: MT MCP arch: N/A
speed: 5381 MHz max: 3201 MHz
Graphics:  Device-1: NVIDIA vendor: Gigabyte driver: nvidia v: 470.86
bus ID: 01:00.0
           Display: server: X.Org 1.20.11 driver: nvidia tty: N/A
           Message: Unable to show advanced data. Required tool glxinfo
missing.
Network:   Device-1: Intel vendor: ASUSTeK driver: igc v: kernel port:
4000 bus ID: 06:00.0
"""

# https://github.com/zeam-vm/cpu_info/issues/17 (system_profiler SPDisplaysDataType on an iMac Pro).
MAC_AMD = """\
$ system_profiler SPDisplaysDataType
Graphics/Displays:

    Radeon Pro Vega 64:

      Chipset Model: Radeon Pro Vega 64
      Type: GPU
      Bus: PCIe
      PCIe Lane Width: x16
      VRAM (Total): 16 GB
      Vendor: AMD (0x1002)
      Device ID: 0x6860
      Metal: Supported, feature set macOS GPUFamily2 v1
"""

# inxi 3.3's layout (items on their own indented lines under "Graphics:", -xx adds the ids), as the
# inxi man page documents it (https://smxi.org/docs/inxi-man.htm): a hybrid laptop, nouveau bound.
INXI_33 = """\
Graphics:
  Device-1: Intel TigerLake-LP GT2 [Iris Xe Graphics] vendor: Lenovo driver: i915 v: kernel
    arch: Gen-12.1 bus-ID: 00:02.0 chip-ID: 8086:9a49 class-ID: 0300
  Device-2: NVIDIA TU117M [GeForce GTX 1650 Mobile / Max-Q] vendor: Lenovo driver: nouveau v: kernel
    arch: Turing bus-ID: 01:00.0 chip-ID: 10de:1f9d class-ID: 0300
  Device-3: Chicony Integrated Camera type: USB driver: uvcvideo bus-ID: 3-6:3 chip-ID: 04f2:b6cb
  Display: x11 server: X.Org v: 1.21.1.4 driver: X: loaded: modesetting
Audio:
  Device-1: Intel Tiger Lake-LP Smart Sound
"""

# lshw -C display's node layout (https://github.com/lyonel/lshw/blob/master/src/core/print.cc).
LSHW = """\
  *-display
       description: VGA compatible controller
       product: GP107M [GeForce GTX 1050 Mobile]
       vendor: NVIDIA Corporation
       bus info: pci@0000:01:00.0
       configuration: driver=nvidia latency=0
  *-display
       description: VGA compatible controller
       product: UHD Graphics 630
       vendor: Intel Corporation
       bus info: pci@0000:00:02.0
       configuration: driver=i915 latency=0
"""

# wmic's table and PowerShell's, as Windows prints Win32_VideoController's Name property.
WMIC = (
    "C:\\>wmic path win32_VideoController get name\nName\nIntel(R) UHD Graphics 620\nAMD Radeon(TM) 530\n\n"
)
POWERSHELL = (
    "PS> Get-CimInstance Win32_VideoController | Select Name, DriverVersion\n\n"
    "Name                        DriverVersion\n----                        -------------\n"
    "NVIDIA GeForce RTX 3060     31.0.15.3623\nIntel(R) UHD Graphics 770   31.0.101.4032\n"
)

SAMPLES = [INXI_MAIL, MAC_AMD, INXI_33, LSHW, WMIC, POWERSHELL]


@pytest.fixture(scope="module")
def knowledge() -> Knowledge:
    return load_knowledge()


def _real(slug: str) -> str:
    return (REAL / slug / "input.txt").read_text()


def _report(text: str, knowledge: Knowledge) -> Report:
    return build_report(parse_dump(text), knowledge)


def _codes(report: Report) -> set[str]:
    return {f.code for f in report.findings}


def test_inxi_intel_only_laptop_is_no_gpu_with_the_intel_gpu_named(knowledge: Knowledge) -> None:
    m = parse_dump(_real("m3d-vton-17-thinkpad-hd520-inxi-no-nvidia"))
    assert m.host.accelerators == ["Intel integrated GPU (HD Graphics 520)"]
    assert m.driver.pci_devices == [] and not m.gpus
    report = _report(_real("m3d-vton-17-thinkpad-hd520-inxi-no-nvidia"), knowledge)
    no_gpu = [f for f in report.findings if f.code == "no-gpu"]
    assert no_gpu and "HD Graphics 520" in no_gpu[0].title
    assert not _codes(report) & {"no-driver", "driver-too-old", "torch-cpu-only"}


def test_system_profiler_apple_m2_is_mps_not_a_cpu_only_torch(knowledge: Knowledge) -> None:
    text = _real("chandra-11-apple-m2-torch-not-compiled-cuda")
    m = parse_dump(text)
    assert m.host.os == "Darwin" and m.host.accelerators == ["Apple M2 (Apple MPS)"]
    report = _report(text, knowledge)
    assert "no-gpu" in _codes(report)
    assert not _codes(report) & {"torch-cpu-only", "no-driver"}


def test_system_profiler_amd_imac() -> None:
    m = parse_dump(MAC_AMD)
    assert m.host.os == "Darwin" and m.host.accelerators == ["AMD GPU (Radeon Pro Vega 64)"]


def test_inxi_nvidia_device_is_on_the_bus_and_no_other_section_is_read(knowledge: Knowledge) -> None:
    m = parse_dump(INXI_MAIL)
    assert [(d.address, d.vendor_id, d.driver) for d in m.driver.pci_devices or []] == [
        ("0000:01:00.0", 0x10DE, "nvidia")
    ]
    assert not m.host.accelerators  # the Intel network card is not a GPU
    report = _report(INXI_MAIL, knowledge)
    assert not any(f.code == "no-gpu" and "this machine has" in f.title for f in report.findings)


def test_inxi_33_layout_hybrid_laptop_reads_ids_and_skips_the_camera(knowledge: Knowledge) -> None:
    m = parse_dump(INXI_33)
    devices = m.driver.pci_devices or []
    assert [(d.address, d.device_id, d.driver) for d in devices] == [("0000:01:00.0", 0x1F9D, "nouveau")]
    assert not m.host.accelerators  # with an NVIDIA GPU present the iGPU is not "instead of"
    assert "no-driver" in _codes(_report(INXI_33, knowledge))  # nouveau: no CUDA


def test_lshw_display_nodes() -> None:
    m = parse_dump(LSHW)
    assert [(d.address, d.driver, d.class_code) for d in m.driver.pci_devices or []] == [
        ("0000:01:00.0", "nvidia", 0x0300)
    ]


def test_windows_video_controller_lists() -> None:
    m = parse_dump(WMIC)
    assert m.host.os == "Windows"
    assert m.host.accelerators == [
        "Intel integrated GPU (Intel(R) UHD Graphics 620)",
        "AMD GPU (AMD Radeon(TM) 530)",
    ]
    m = parse_dump(POWERSHELL)
    assert [g.name for g in m.gpus] == ["NVIDIA GeForce RTX 3060"]


@pytest.mark.parametrize(
    "text",
    [
        # an issue template's field, not inxi
        "Graphics: NVIDIA RTX 3090\nDriver: 550\n",
        "**Graphics:**\n- NVIDIA GeForce RTX 4090\n",
        # a script that runs the query (its output is not in the paste)
        'out = subprocess.check_output("wmic path win32_VideoController get name", shell=True)\n'
        'if "NVIDIA" in out:\n    print("NVIDIA GPU detected")\n',
        # DxDiag-like words in prose
        "The card name: is not shown anywhere, Chipset Model: unknown",
    ],
)
def test_prose_and_scripts_are_not_inventories(text: str) -> None:
    lines = text.split("\n")
    found = inventory.scan(lines, bytearray(len(lines)))
    assert all(not p.machine.gpus and not p.machine.driver.pci_devices for p in found)
    assert all(
        not p.machine.host.accelerators or "unknown" not in p.machine.host.accelerators[0] for p in found
    )


def _parse_or_refuse(text: str) -> Machine | None:
    try:
        m = parse_dump(text)
    except InputError as e:
        assert str(e)
        return None
    Machine.model_validate(m.model_dump())
    return m


@st.composite
def _mutated(draw: st.DrawFn) -> str:
    lines = draw(st.sampled_from(SAMPLES)).splitlines()
    rng = random.Random(draw(st.integers(0, 2**32)))
    junk = [
        "",
        "Graphics:",
        "  Device-1:",
        "bus ID: 01:00.0",
        "*-display",
        "Card name:",
        "chip-ID: 10de:",
        ": :",
    ]
    for _ in range(draw(st.integers(0, 10))):
        if not lines:
            break
        i = rng.randrange(len(lines))
        op = rng.choice(("delete", "duplicate", "junk", "cut", "indent"))
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "junk":
            lines.insert(i, rng.choice(junk))
        elif op == "cut":
            lines[i] = lines[i][: rng.randrange(len(lines[i]) + 1)]
        else:
            lines[i] = " " * rng.randrange(12) + lines[i].lstrip()
    return "\n".join(lines)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_mutated())
def test_mutated_inventories_parse_or_refuse(text: str) -> None:
    _parse_or_refuse(text)


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="Graphics:Device-1 NVIDIA[]bus-ID 01:00.0\n\t*-display", max_size=2000))
def test_inventory_scanner_on_random_text(text: str) -> None:
    lines = text.split("\n")
    for p in inventory.scan(lines, bytearray(len(lines))):
        Machine.model_validate(p.machine.model_dump())
