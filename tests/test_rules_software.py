"""Software-stack rules on Machines built from recorded facts (real dumps in tests/data/dumps, compat.md).

Each rule has a case where it must fire and one where it must not. Expected codes and severities
come from the dumps' expected.yaml and the reference, not from the code under test.
"""

from __future__ import annotations

import pytest

from advisor.knowledge.base import Knowledge
from advisor.knowledge.loader import load_knowledge
from advisor.machine import GPU, DriverInfo, HostInfo, Machine, PciDevice, TorchInfo
from advisor.report import Finding
from advisor.rules.software import check_software, install_recommendations

LINUX = HostInfo(os="Linux", machine_arch="x86_64")
WINDOWS = HostInfo(os="Windows", machine_arch="AMD64")


@pytest.fixture(scope="module")
def knowledge() -> Knowledge:
    return load_knowledge()


def _codes(findings: list[Finding], *severities: str) -> set[str]:
    return {f.code for f in findings if not severities or f.severity in severities}


def _alarms(findings: list[Finding]) -> set[str]:
    return _codes(findings, "error", "warning")


def _one(findings: list[Finding], code: str) -> Finding:
    hits = [f for f in findings if f.code == code]
    assert len(hits) == 1, findings
    return hits[0]


# --- machines from real dumps ---------------------------------------------------------------------


def dump02_h100_cu117() -> Machine:
    """tests/data/dumps/02: torch 2.0.1+cu117 on an H100 PCIe, driver 535.104.12, CUDA available."""
    warning = (
        "NVIDIA H100 PCIe with CUDA capability sm_90 is not compatible with the current PyTorch "
        "installation.\n"
        "The current PyTorch install supports CUDA capabilities sm_37 sm_50 sm_60 sm_70 sm_75 sm_80 sm_86.\n"
        "If you want to use the NVIDIA H100 PCIe GPU with PyTorch, please check the instructions at "
        "https://pytorch.org/get-started/locally/"
    )
    return Machine(
        host=LINUX,
        driver=DriverInfo(version="535.104.12"),
        gpus=[GPU(index=0, name="NVIDIA H100 PCIe")],
        torch=TorchInfo(
            installed=True,
            version="2.0.1+cu117",
            cuda_version="11.7",
            cuda_available=True,
            init_messages=[warning],
        ),
    )


def dump03_p100_driver410() -> Machine:
    """03: torch 1.5.0 (CUDA 10.2) on four P100s with driver 410.104; Is CUDA available: No."""
    return Machine(
        host=LINUX,
        driver=DriverInfo(version="410.104"),
        gpus=[GPU(index=i, name="Tesla P100-PCIE-16GB") for i in range(4)],
        torch=TorchInfo(installed=True, version="1.5.0", cuda_version="10.2", cuda_available=False),
    )


def dump09_windows_cpu() -> Machine:
    """09: PyPI torch 2.2.2 on Windows (no tag, CUDA used to build: Could not collect), RTX 4080 Laptop."""
    return Machine(
        host=WINDOWS,
        driver=DriverInfo(version="551.86"),
        gpus=[GPU(index=0, name="NVIDIA GeForce RTX 4080 Laptop GPU")],
        torch=TorchInfo(installed=True, version="2.2.2", cuda_version=None, cuda_available=False),
    )


def dump12_h100x8_healthy() -> Machine:
    """12: torch 2.5.1+cu124 on eight H100 80GB HBM3, driver 550.90.07, CUDA available."""
    return Machine(
        host=LINUX,
        driver=DriverInfo(version="550.90.07"),
        gpus=[GPU(index=i, name="NVIDIA H100 80GB HBM3") for i in range(8)],
        torch=TorchInfo(installed=True, version="2.5.1+cu124", cuda_version="12.4", cuda_available=True),
    )


def dump14_a100_healthy() -> Machine:
    """14: torch 2.5.1+cu124, driver 565.57.01, system CUDA 11.8 (irrelevant), CUDA available."""
    return Machine(
        host=LINUX.model_copy(update={"system_cuda_version": "11.8.89"}),
        driver=DriverInfo(version="565.57.01"),
        gpus=[GPU(index=0, name="NVIDIA A100-SXM4-80GB")],
        torch=TorchInfo(installed=True, version="2.5.1+cu124", cuda_version="12.4", cuda_available=True),
    )


def dump29_jetson() -> Machine:
    """29: JetPack torch 2.0.0a0+ec3941ad.nv23.02 (CUDA 11.4) on an L4T tegra kernel; no nvidia-smi."""
    return Machine(
        host=HostInfo(os="Linux", machine_arch="aarch64", kernel="5.10.120-tegra", jetson=True),
        gpus_known=False,
        torch=TorchInfo(
            installed=True, version="2.0.0a0+ec3941ad.nv23.02", cuda_version="11.4", cuda_available=True
        ),
        missing=["GPU models", "driver version"],
    )


def dump30_linux_cpu_build() -> Machine:
    """30: torch 1.3.1 with CUDA used to build: Could not collect, RTX 2080 Ti, driver 430.64."""
    return Machine(
        host=LINUX,
        driver=DriverInfo(version="430.64"),
        gpus=[GPU(index=0, name="GeForce RTX 2080 Ti")],
        torch=TorchInfo(installed=True, version="1.3.1", cuda_version=None, cuda_available=False),
    )


# --- healthy machines: no error, no warning --------------------------------------------------------


@pytest.mark.parametrize("machine", [dump12_h100x8_healthy(), dump14_a100_healthy(), dump29_jetson()])
def test_healthy_dumps_get_no_alarm(knowledge: Knowledge, machine: Machine) -> None:
    assert not _alarms(check_software(machine, knowledge))


# --- driver-too-old ----------------------------------------------------------------------------------


def test_driver_too_old_fires_on_dump03(knowledge: Knowledge) -> None:
    f = _one(check_software(dump03_p100_driver410(), knowledge), "driver-too-old")
    assert f.severity == "error"
    assert "10.2" in f.detail and "410.104" in f.detail and "440.33" in f.detail
    assert f.fix and "440.33" in f.fix


def test_cu130_pypi_wheel_on_r550_is_too_old(knowledge: Knowledge) -> None:
    # PyPI 2.11.0 on Linux x86_64 is the cu130 build (compat.md §3.1); R550 supports CUDA 12.4.
    machine = Machine(
        host=LINUX,
        driver=DriverInfo(version="550.54.15", cuda_version="12.4"),
        gpus=[GPU(index=0, name="NVIDIA GeForce RTX 4090", compute_capability="8.9")],
        torch=TorchInfo(installed=True, version="2.11.0", cuda_version="13.0", cuda_available=False),
    )
    f = _one(check_software(machine, knowledge), "driver-too-old")
    assert f.severity == "error" and "13.0" in f.detail
    assert f.fix and "580" in f.fix and "pip install torch==" in f.fix


def test_driver_too_old_not_when_cuda_is_available(knowledge: Knowledge) -> None:
    """Evidence wins: a cu130 wheel that initialised CUDA on R550 uses forward compatibility."""
    machine = Machine(
        host=LINUX,
        driver=DriverInfo(version="550.54.15"),
        gpus=[GPU(index=0, name="NVIDIA H100 80GB HBM3")],
        torch=TorchInfo(installed=True, version="2.9.0+cu130", cuda_version="13.0", cuda_available=True),
    )
    assert "driver-too-old" not in _codes(check_software(machine, knowledge))


def test_minor_version_compat_is_not_too_old(knowledge: Knowledge) -> None:
    # cu128 wheel on the 12.8 GA driver 570.26, and cu126 on a driver that reports CUDA 12.4.
    for driver in (DriverInfo(version="570.26"), DriverInfo(cuda_version="12.4")):
        machine = Machine(
            host=LINUX,
            driver=driver,
            gpus=[GPU(index=0, name="NVIDIA A100-SXM4-80GB")],
            torch=TorchInfo(installed=True, version="2.7.1+cu126", cuda_version="12.6"),
        )
        assert "driver-too-old" not in _codes(check_software(machine, knowledge))


def test_driver_too_old_from_torchs_own_message(knowledge: Knowledge) -> None:
    text = (
        "CUDA initialization: The NVIDIA driver on your system is too old (found version 12040). "
        "Please update your GPU driver by downloading and installing a new version from the URL: "
        "http://www.nvidia.com/Download/index.aspx"
    )
    machine = Machine(
        host=LINUX,
        gpus=[GPU(index=0, name="NVIDIA A10")],
        torch=TorchInfo(installed=True, version="2.9.1+cu130", cuda_version="13.0", init_messages=[text]),
    )
    f = _one(check_software(machine, knowledge), "driver-too-old")
    assert "12.4" in f.detail


# --- arch-not-in-build -------------------------------------------------------------------------------


def test_arch_not_in_build_fires_on_dump02_and_fix_is_cu118_or_newer(knowledge: Knowledge) -> None:
    findings = check_software(dump02_h100_cu117(), knowledge)
    f = _one(findings, "arch-not-in-build")
    assert f.severity == "error" and f.gpu == 0
    assert "sm_86" in f.detail and "9.0" in f.detail
    assert f.fix is not None and "--index-url https://download.pytorch.org/whl/cu1" in f.fix
    assert "cu117" not in f.fix
    assert not {"driver-too-old", "torch-cpu-only"} & _codes(findings)


def test_v100_on_2_11_cu128_from_the_tables(knowledge: Knowledge) -> None:
    machine = Machine(
        host=LINUX,
        driver=DriverInfo(version="570.124.06"),
        gpus=[GPU(index=0, name="Tesla V100-SXM2-32GB")],
        torch=TorchInfo(installed=True, version="2.11.0+cu128", cuda_version="12.8", cuda_available=True),
    )
    f = _one(check_software(machine, knowledge), "arch-not-in-build")
    assert f.severity == "error" and "7.0" in f.detail
    assert f.fix and "cu126" in f.fix  # the newest build with Volta that R570 runs: 2.14 cu126


def test_rtx5090_on_cu126_from_the_live_arch_list(knowledge: Knowledge) -> None:
    machine = Machine(
        host=LINUX,
        driver=DriverInfo(version="575.57.08", cuda_version="12.9"),
        gpus=[GPU(index=0, name="NVIDIA GeForce RTX 5090", compute_capability="12.0")],
        torch=TorchInfo(
            installed=True,
            version="2.7.1+cu126",
            cuda_version="12.6",
            cuda_available=True,
            arch_list=["sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90"],
        ),
    )
    f = _one(check_software(machine, knowledge), "arch-not-in-build")
    assert f.severity == "error"
    assert f.fix and "cu128" in f.fix  # R575 (CUDA 12.9) cannot run cu13x: 2.11 cu128 is the newest


def test_arch_not_in_build_not_for_covered_gpus(knowledge: Knowledge) -> None:
    ada = Machine(
        host=LINUX,
        driver=DriverInfo(version="535.86.05"),
        gpus=[GPU(index=0, name="NVIDIA GeForce RTX 4090", compute_capability="8.9")],
        torch=TorchInfo(installed=True, version="2.1.2+cu118", cuda_version="11.8", cuda_available=True),
    )
    assert "arch-not-in-build" not in _codes(check_software(ada, knowledge))
    # Windows cu117 wheels carry compute_37 PTX, which JITs on an H100: slow but not "no kernel image".
    windows = dump02_h100_cu117().model_copy(
        update={"host": WINDOWS, "torch": TorchInfo(version="2.0.1+cu117")}
    )
    assert "arch-not-in-build" not in _codes(check_software(windows, knowledge))
    # A release older than the tables: unknown, not an alarm.
    old = dump03_p100_driver410().model_copy(
        update={"torch": TorchInfo(version="1.5.0", cuda_version="10.2")}
    )
    assert "arch-not-in-build" not in _codes(check_software(old, knowledge))


def test_mixed_box_fix_covers_every_gpu_or_says_none_exists(knowledge: Knowledge) -> None:
    both = Machine(
        host=LINUX,
        driver=DriverInfo(version="550.54.15"),
        gpus=[
            GPU(index=0, name="Tesla V100-SXM2-32GB", compute_capability="7.0"),
            GPU(index=1, name="NVIDIA B200", compute_capability="10.0"),
        ],
        torch=TorchInfo(installed=True, version="2.6.0+cu126", cuda_version="12.6", cuda_available=True),
    )
    f = _one(check_software(both, knowledge), "arch-not-in-build")
    assert f.gpu == 1
    assert f.fix == "pip install torch==2.10.0 --index-url https://download.pytorch.org/whl/cu128"
    k80_b200 = both.model_copy(
        update={"gpus": [GPU(index=0, name="Tesla K80", compute_capability="3.7"), both.gpus[1]]}
    )
    (rec,) = install_recommendations(k80_b200, knowledge)
    assert rec.supported is False and "no single PyTorch wheel" in rec.value


# --- torch-cpu-only ----------------------------------------------------------------------------------


@pytest.mark.parametrize("machine", [dump09_windows_cpu(), dump30_linux_cpu_build()])
def test_torch_cpu_only_fires(knowledge: Knowledge, machine: Machine) -> None:
    findings = check_software(machine, knowledge)
    f = _one(findings, "torch-cpu-only")
    assert f.severity == "error" and f.fix and "pip install torch==" in f.fix
    assert not {"driver-too-old", "arch-not-in-build"} & _codes(findings)


def test_cpu_tag_with_a_gpu_fires_without_a_gpu_does_not(knowledge: Knowledge) -> None:
    cpu = TorchInfo(installed=True, version="2.13.0+cpu", cuda_version=None)
    with_gpu = Machine(
        host=LINUX, driver=DriverInfo(version="580.65.06"), gpus=[GPU(index=0, name="NVIDIA L4")], torch=cpu
    )
    assert "torch-cpu-only" in _codes(check_software(with_gpu, knowledge))
    without = Machine(host=LINUX, torch=cpu)
    assert "torch-cpu-only" not in _codes(check_software(without, knowledge))


def test_torch_cpu_only_not_on_a_working_cuda_build(knowledge: Knowledge) -> None:
    assert "torch-cpu-only" not in _codes(check_software(dump12_h100x8_healthy(), knowledge))


# --- rocm-build-on-nvidia ------------------------------------------------------------------------------


def test_rocm_build_on_nvidia(knowledge: Knowledge) -> None:
    rocm = TorchInfo(installed=True, version="2.5.1+rocm6.2", hip_version="6.2.41133-dd7f95766")
    nvidia = Machine(
        host=LINUX, driver=DriverInfo(version="550.90.07"), gpus=[GPU(index=0, name="NVIDIA A10")], torch=rocm
    )
    assert _one(check_software(nvidia, knowledge), "rocm-build-on-nvidia").severity == "error"
    amd = Machine(host=LINUX, gpus=[GPU(index=0, name="AMD Instinct MI300X", vendor="amd")], torch=rocm)
    assert "rocm-build-on-nvidia" not in _codes(check_software(amd, knowledge))


# --- torch-not-installed -----------------------------------------------------------------------------


def test_torch_not_installed_is_info_and_unknown_is_silent(knowledge: Knowledge) -> None:
    gpu = [GPU(index=0, name="NVIDIA A100-SXM4-80GB")]
    absent = Machine(
        host=LINUX, driver=DriverInfo(version="550.90.07"), gpus=gpu, torch=TorchInfo(installed=False)
    )
    f = _one(check_software(absent, knowledge), "torch-not-installed")
    assert f.severity == "info" and f.fix and "pip install torch==" in f.fix
    unknown = absent.model_copy(update={"torch": TorchInfo()})  # an nvidia-smi-only dump
    assert "torch-not-installed" not in _codes(check_software(unknown, knowledge))
    broken = absent.model_copy(
        update={
            "torch": TorchInfo(
                installed=True, import_error="OSError: libcudnn.so.9: cannot open shared object file"
            )
        }
    )
    assert _one(check_software(broken, knowledge), "torch-not-installed").severity == "warning"


# --- driver state: mismatch, no driver, no GPU ---------------------------------------------------------


def test_driver_library_mismatch_from_dump20(knowledge: Knowledge) -> None:
    machine = Machine(
        gpus_known=False,
        driver=DriverInfo(
            nvml_ok=False,
            nvml_error="Failed to initialize NVML: Driver/library version mismatch",
            library_version="570.124",
        ),
    )
    findings = check_software(machine, knowledge)
    assert _one(findings, "driver-library-mismatch").severity == "error"
    assert _alarms(findings) == {"driver-library-mismatch"}


def test_mismatch_from_versions_and_not_when_they_agree(knowledge: Knowledge) -> None:
    differ = Machine(
        gpus_known=False, driver=DriverInfo(library_version="570.124.04", kernel_module_version="570.124.06")
    )
    assert "570.124.06" in _one(check_software(differ, knowledge), "driver-library-mismatch").fix  # type: ignore[operator]
    same = dump12_h100x8_healthy().model_copy(
        update={"driver": DriverInfo(version="550.90.07", nvml_ok=True, kernel_module_version="550.90.07")}
    )
    assert "driver-library-mismatch" not in _codes(check_software(same, knowledge))


def test_no_driver_from_dump23(knowledge: Knowledge) -> None:
    machine = Machine(
        gpus_known=False,
        driver=DriverInfo(
            nvml_ok=False,
            nvml_error="NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. "
            "Make sure that the latest NVIDIA driver is installed and running.",
        ),
    )
    findings = check_software(machine, knowledge)
    assert _one(findings, "no-driver").severity == "error"
    assert "no-gpu" not in _codes(findings)


def test_no_driver_from_pci_devices_bound_to_nouveau(knowledge: Knowledge) -> None:
    pci = [
        PciDevice(
            address="0000:3b:00.0", vendor_id=0x10DE, device_id=0x2204, class_code=0x030000, driver="nouveau"
        )
    ]
    machine = Machine(
        host=LINUX,
        driver=DriverInfo(nvml_ok=False, nvml_error="NVML Shared Library Not Found", pci_devices=pci),
    )
    f = _one(check_software(machine, knowledge), "no-driver")
    assert "nouveau" in f.detail


def test_no_gpu_machine_without_nvml_is_no_gpu_not_no_driver(knowledge: Knowledge) -> None:
    machine = Machine(
        host=LINUX,
        driver=DriverInfo(nvml_ok=False, nvml_error="NVML Shared Library Not Found", pci_devices=[]),
    )
    findings = check_software(machine, knowledge)
    assert "no-driver" not in _codes(findings)
    assert _one(findings, "no-gpu").severity == "warning"


def test_driver_packages_without_a_card_is_no_gpu_not_no_driver(knowledge: Knowledge) -> None:
    # Live probe on a host with the driver packages installed but no NVIDIA card: NVML answers
    # NVMLError_DriverNotLoaded ("Driver Not Loaded") and sysfs lists no 10de display device.
    machine = Machine(
        host=LINUX, driver=DriverInfo(nvml_ok=False, nvml_error="Driver Not Loaded", pci_devices=[])
    )
    findings = check_software(machine, knowledge)
    assert "no-driver" not in _codes(findings)
    assert _one(findings, "no-gpu").severity == "warning"


def test_no_gpu_not_when_the_source_is_cut_or_jetson(knowledge: Knowledge) -> None:
    assert "no-gpu" not in _codes(check_software(Machine(gpus_known=False), knowledge))
    assert not {"no-gpu", "no-driver"} & _codes(check_software(dump29_jetson(), knowledge))


def test_nvidia_smi_cuda_version_not_found_is_not_a_missing_driver(knowledge: Knowledge) -> None:
    """43: K80s listed by nvidia-smi 430.26 whose <cuda_version> says Not Found."""
    machine = Machine(
        driver=DriverInfo(version="430.26", cuda_version=None, nvml_ok=True),
        gpus=[GPU(index=i, name="Tesla K80") for i in range(4)],
    )
    assert not _alarms(check_software(machine, knowledge))


# --- driver-drops-gpu ------------------------------------------------------------------------------------


def test_driver_drops_kepler_names_the_470_legacy_branch(knowledge: Knowledge) -> None:
    """NVIDIA's README lists Tesla K80 under the 470.xx legacy driver (identity); more in
    tests/test_rules_driver_support.py."""
    machine = Machine(
        host=LINUX, driver=DriverInfo(version="535.104.05"), gpus=[GPU(index=0, name="Tesla K80")]
    )
    f = _one(check_software(machine, knowledge), "driver-drops-gpu")
    assert f.severity == "error" and "470.xx" in (f.fix or "")
    old = machine.model_copy(update={"driver": DriverInfo(version="430.26")})
    assert "driver-drops-gpu" not in _codes(check_software(old, knowledge))


def test_driver_r590_drops_a_gtx_1080_ti_and_r580_keeps_it(knowledge: Knowledge) -> None:
    machine = Machine(
        host=LINUX,
        driver=DriverInfo(version="590.44.01"),
        gpus=[GPU(index=0, name="NVIDIA GeForce GTX 1080 Ti")],
    )
    f = _one(check_software(machine, knowledge), "driver-drops-gpu")
    assert f.severity == "error" and "Pascal" in f.detail and "R580" in (f.fix or "")
    lts = machine.model_copy(update={"driver": DriverInfo(version="580.126.20")})
    assert "driver-drops-gpu" not in _codes(check_software(lts, knowledge))


# --- CUDA_VISIBLE_DEVICES ----------------------------------------------------------------------------------


def _two_gpus(visible: str | None) -> Machine:
    return Machine(
        host=LINUX.model_copy(update={"cuda_visible_devices": visible}),
        driver=DriverInfo(version="550.90.07"),
        gpus=[
            GPU(index=i, name="NVIDIA H100 80GB HBM3", uuid=f"GPU-3b1c{i}a2e-0000-0000-0000-00000000000{i}")
            for i in range(2)
        ],
    )


@pytest.mark.parametrize(
    ("value", "severity"),
    [("", "error"), ("-1", "error"), ("0,5,1", "warning"), ("1", "info"), ("GPU-3b1c1", "info")],
)
def test_cuda_visible_devices_hides_gpus(knowledge: Knowledge, value: str, severity: str) -> None:
    f = _one(check_software(_two_gpus(value), knowledge), "cuda-visible-devices-hides-gpu")
    assert f.severity == severity


@pytest.mark.parametrize("value", [None, "0,1", "1,0", "GPU-3b1c0,GPU-3b1c1"])
def test_cuda_visible_devices_showing_all_is_silent(knowledge: Knowledge, value: str | None) -> None:
    assert "cuda-visible-devices-hides-gpu" not in _codes(check_software(_two_gpus(value), knowledge))


# --- unknown-gpu ---------------------------------------------------------------------------------------


def test_unknown_gpu_is_info(knowledge: Knowledge) -> None:
    machine = Machine(
        host=LINUX, driver=DriverInfo(version="580.65.06"), gpus=[GPU(index=0, name="NVIDIA Graphics Device")]
    )
    f = _one(check_software(machine, knowledge), "unknown-gpu")
    assert f.severity == "info" and f.gpu == 0
    assert "unknown-gpu" not in _codes(check_software(dump12_h100x8_healthy(), knowledge))


# --- install recommendations -----------------------------------------------------------------------------


def test_install_recommendation_is_an_exact_pip_command(knowledge: Knowledge) -> None:
    (rec,) = install_recommendations(dump12_h100x8_healthy(), knowledge)
    assert rec.topic == "install" and rec.supported is True
    # R550 runs cu12x (minor-version compat) but not cu13x: the newest H100 build is 2.14 cu126.
    assert rec.value == "pip install torch==2.14.1 --index-url https://download.pytorch.org/whl/cu126"


def test_install_recommendation_on_jetson_and_without_gpus(knowledge: Knowledge) -> None:
    (rec,) = install_recommendations(dump29_jetson(), knowledge)
    assert "JetPack" in rec.value
    assert install_recommendations(Machine(host=LINUX), knowledge) == []


def test_rocm_on_amd_gpus_listed_with_the_default_vendor_is_silent(knowledge: Knowledge) -> None:
    """A ROCm collect_env names "AMD Instinct MI250X/MI250"; even if a parser left vendor=nvidia, no alarm."""
    machine = Machine(
        host=LINUX,
        gpus=[GPU(index=0, name="AMD Instinct MI250X/MI250")],
        torch=TorchInfo(
            installed=True, version="2.3.0+rocm5.7", hip_version="5.7.31921-d1770ee1b", cuda_available=True
        ),
    )
    assert not _alarms(check_software(machine, knowledge))


def test_wsl_uses_the_windows_driver_floor(knowledge: Knowledge) -> None:
    # WSL reports the Windows driver (546.33); a cu121 wheel needs >= 527.41 there: fine.
    wsl = Machine(
        host=LINUX.model_copy(update={"is_wsl": True}),
        driver=DriverInfo(version="546.33"),
        gpus=[GPU(index=0, name="NVIDIA GeForce RTX 3060", compute_capability="8.6")],
        torch=TorchInfo(installed=True, version="2.1.2+cu121", cuda_version="12.1"),
    )
    assert not _alarms(check_software(wsl, knowledge))
    # 526.98 is above the Linux 12.x floor (525.60.13) but below the Windows one (527.41).
    old = wsl.model_copy(update={"driver": DriverInfo(version="526.98")})
    assert "driver-too-old" in _codes(check_software(old, knowledge))


def test_truncated_nvml_library_version_is_not_a_mismatch(knowledge: Knowledge) -> None:
    machine = dump12_h100x8_healthy().model_copy(
        update={
            "driver": DriverInfo(
                version="550.90.07", library_version="550.90", kernel_module_version="550.90.07"
            )
        }
    )
    assert "driver-library-mismatch" not in _codes(check_software(machine, knowledge))
