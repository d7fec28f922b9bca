"""Regressions found by QA on synthetic dumps modelled on real issue reports (tests/data/extra).

Each test feeds a small paste through the parser and the rules and checks the facts compat.md
decides (the section is named in each test), never what the code happens to return.
"""

from __future__ import annotations

import pytest

from advisor.diagnose import build_report
from advisor.dumps import parse_dump
from advisor.knowledge.base import Knowledge
from advisor.knowledge.cuda_driver import min_driver_for
from advisor.knowledge.loader import load_knowledge
from advisor.report import Report


@pytest.fixture(scope="module")
def knowledge() -> Knowledge:
    return load_knowledge()


def _report(text: str, knowledge: Knowledge) -> Report:
    return build_report(parse_dump(text), knowledge)


def _alarms(report: Report) -> set[str]:
    return {f.code for f in report.findings if f.severity in ("error", "warning")}


def _collect_env(
    torch: str, cuda: str, rocm: str, avail: str, gpus: str, driver: str, hip: str = "N/A"
) -> str:
    return (
        "Collecting environment information...\n"
        f"PyTorch version: {torch}\nIs debug build: False\nCUDA used to build PyTorch: {cuda}\n"
        f"ROCM used to build PyTorch: {rocm}\n\nOS: Ubuntu 22.04.4 LTS (x86_64)\n"
        "Python platform: Linux-6.8.0-45-generic-x86_64-with-glibc2.35\n"
        f"Is CUDA available: {avail}\nCUDA runtime version: 12.4.131\n"
        f"GPU models and configuration: {gpus}\nNvidia driver version: {driver}\n"
        f"cuDNN version: Could not collect\nHIP runtime version: {hip}\nMIOpen runtime version: N/A\n"
    )


def test_macos_no_cuda_is_not_a_gpu(knowledge: Knowledge) -> None:
    # collect_env on macOS prints "No CUDA" for the GPU list and the driver: no NVIDIA GPU, no driver.
    text = _collect_env("2.2.2", "None", "N/A", "False", "No CUDA", "No CUDA").replace(
        "OS: Ubuntu 22.04.4 LTS (x86_64)", "OS: macOS 14.4.1 (arm64)"
    )
    machine = parse_dump(
        text.replace("Linux-6.8.0-45-generic-x86_64-with-glibc2.35", "macOS-14.4.1-arm64-arm-64bit")
    )
    assert machine.gpus == []
    assert machine.driver.version is None
    assert "torch-cpu-only" not in _alarms(build_report(machine, knowledge))


def test_rocm_build_with_nvidia_driver_but_no_gpu_list(knowledge: Knowledge) -> None:
    # ROCm builds list GPUs through torch ("Could not collect" without an AMD GPU), while the driver
    # version comes from nvidia-smi's banner: an NVIDIA driver answered, so this is an NVIDIA box.
    text = _collect_env(
        "2.3.1+rocm5.7", "N/A", "5.7.31921", "False", "Could not collect", "550.120", hip="5.7.31921"
    )
    assert "rocm-build-on-nvidia" in _alarms(_report(text, knowledge))


def test_rocm_build_on_amd_without_nvidia_driver_is_quiet(knowledge: Knowledge) -> None:
    text = _collect_env(
        "2.4.1+rocm6.0",
        "N/A",
        "6.0.32830",
        "True",
        "AMD Instinct MI250X / MI250 (gfx90a:sramecc+:xnack-)",
        "Could not collect",
        hip="6.0.32830",
    )
    assert _alarms(_report(text, knowledge)) == set()


@pytest.mark.parametrize(
    ("error", "lost"),
    [
        ("Unknown Error", True),
        ("GPU is lost. Reboot the system to recover this GPU", True),
        ("Insufficient Permissions", False),
    ],
)
def test_device_handle_failure_marks_gpu_lost(error: str, lost: bool, knowledge: Knowledge) -> None:
    machine = parse_dump(f"Unable to determine the device handle for GPU0000:01:00.0: {error}\n")
    assert [g.lost for g in machine.gpus] == [lost]
    assert ("gpu-hang" in _alarms(build_report(machine, knowledge))) is lost


_TABLE = """+-----------------------------------------------------------------------------+
| NVIDIA-SMI 470.199.02   Driver Version: 470.199.02   CUDA Version: 11.4     |
|-------------------------------+----------------------+----------------------+
| GPU  Name        Persistence-M| Bus-Id        Disp.A | Volatile Uncorr. ECC |
| Fan  Temp  Perf  Pwr:Usage/Cap|         Memory-Usage | GPU-Util  Compute M. |
|===============================+======================+======================|
|   0  NVIDIA GeForce ...  Off  | 00000000:01:00.0 Off |                  N/A |
|{row}|      5MiB / 11019MiB |      0%      Default |
+-------------------------------+----------------------+----------------------+
"""


@pytest.mark.parametrize(
    ("row", "lost"),
    [
        ("ERR!    ERR! ERR!    ERR! / ERR! ", True),  # the GPU does not answer (needs a reset)
        ("ERR!   41C    P8    19W / 250W ", False),  # only the fan sensor is missing (water-cooled)
    ],
)
def test_table_err_in_temperature_or_power_means_lost(row: str, lost: bool) -> None:
    machine = parse_dump(_TABLE.format(row=row))
    assert [g.lost for g in machine.gpus] == [lost]


def test_ambiguous_sku_name_still_gives_its_compute_capability(knowledge: Knowledge) -> None:
    # "NVIDIA GeForce RTX 3060" is 8 GB or 12 GB (two catalog cards), both CC 8.6 (compat.md §5);
    # 1.12 cu102 is sm_37..sm_70 without PTX (§3.2), so it has no kernels for 8.6.
    text = _collect_env("1.12.1+cu102", "10.2", "N/A", "True", "GPU 0: NVIDIA GeForce RTX 3060", "470.199.02")
    assert "arch-not-in-build" in _alarms(_report(text, knowledge))


_SMI_535 = """+---------------------------------------------------------------------------------------+
| NVIDIA-SMI 535.183.01             Driver Version: 535.183.01   CUDA Version: 12.2     |
|-----------------------------------------+----------------------+----------------------+
| GPU  Name                 Persistence-M | Bus-Id        Disp.A | Volatile Uncorr. ECC |
|=========================================+======================+======================|
|   0  NVIDIA GeForce RTX 3090        Off | 00000000:01:00.0 Off |                  N/A |
| 30%   33C    P8              22W / 350W |      2MiB / 24576MiB |      0%      Default |
+-----------------------------------------+----------------------+----------------------+
"""


def test_error_804_without_a_torch_version_is_driver_too_old(knowledge: Knowledge) -> None:
    # compat.md §6.9: error 804 = a forward-compat libcuda on a GPU that does not support it.
    text = _SMI_535 + (
        "RuntimeError: Unexpected error from cudaGetDeviceCount(). Did you run some cuda functions before "
        "calling NumCudaDevices() that might have already set an error? Error 804: forward compatibility "
        "was attempted on non supported HW\n"
    )
    report = _report(text, knowledge)
    found = [f for f in report.findings if f.code == "driver-too-old"]
    assert found and found[0].severity == "error"
    assert not (found[0].fix or "").startswith("or ")


def test_too_old_above_the_family_floor_asks_for_the_toolkit_driver(knowledge: Knowledge) -> None:
    # Driver 550 is above the 12.x floor 525.60.13 (§1.2); when torch still says "too old" the fix must
    # not ask for 525.60.13 again but for the CUDA 12.8 toolkit driver, 570.26 (§1.1).
    text = (
        "UserWarning: CUDA initialization: The NVIDIA driver on your system is too old "
        "(found version 12040). "
        "Please update your GPU driver\n"
        + _collect_env("2.7.0+cu128", "12.8", "N/A", "False", "GPU 0: NVIDIA GeForce RTX 4090", "550.144.03")
    )
    found = [f for f in _report(text, knowledge).findings if f.code == "driver-too-old"]
    assert found
    assert "570.26" in (found[0].fix or "")
    assert "525.60.13" not in (found[0].fix or "")


def test_min_driver_for_without_minor_compat_is_the_toolkit_driver(knowledge: Knowledge) -> None:
    req = min_driver_for(knowledge.compat, "12.8", "linux", minor_compat=False)
    assert req is not None and req.driver_text == "570.26"
    with_compat = min_driver_for(knowledge.compat, "12.8", "linux")
    assert with_compat is not None and with_compat.driver_text == "525.60.13"


def test_xid79_in_the_kernel_log_marks_the_missing_gpu_lost(knowledge: Knowledge) -> None:
    # "GPU has fallen off the bus" (Xid 79): the GPU is gone until a reboot, whatever nvidia-smi still lists.
    text = _SMI_535 + (
        "[Tue Apr  2 03:14:07 2024] NVRM: Xid (PCI:0000:db:00): 79, pid='<unknown>', name=<unknown>, "
        "GPU has fallen off the bus.\n"
        "[Tue Apr  2 03:14:07 2024] NVRM: GPU 0000:db:00.0: GPU has fallen off the bus.\n"
    )
    machine = parse_dump(text)
    assert [(g.pci_bus_id, g.lost) for g in machine.gpus] == [
        ("00000000:01:00.0", False),
        ("00000000:DB:00.0", True),
    ]
    hangs = [f for f in build_report(machine, knowledge).findings if f.code == "gpu-hang"]
    assert len(hangs) == 1 and hangs[0].severity == "error"


def test_unknown_gpu_says_why_for_cut_and_ambiguous_names(knowledge: Knowledge) -> None:
    cut = _report(_TABLE.format(row="30%   41C    P8    19W / 250W "), knowledge)
    infos = [f for f in cut.findings if f.code == "unknown-gpu"]
    assert len(infos) == 1 and infos[0].severity == "info"
    assert "cut" in infos[0].title
    text = _collect_env("2.5.1+cu124", "12.4", "N/A", "True", "GPU 0: NVIDIA GeForce RTX 3060", "550.120")
    infos = [f for f in _report(text, knowledge).findings if f.code == "unknown-gpu"]
    assert len(infos) == 1 and "12GB" in infos[0].detail and "8GB" in infos[0].detail


_LSPCI_PLAIN = (
    "$ lspci | grep -i nvidia\n"
    "01:00.0 VGA compatible controller: NVIDIA Corporation GA102 [GeForce RTX 3090] (rev a1)\n"
)


def test_plain_lspci_line_is_an_nvidia_device() -> None:
    devices = parse_dump("$ nvidia-smi\nNo devices were found\n" + _LSPCI_PLAIN).driver.pci_devices
    assert devices is not None
    assert [(d.address, d.device_id, d.class_code) for d in devices] == [("0000:01:00.0", None, 0x0300)]


def test_no_devices_found_with_a_gpu_on_the_bus_is_no_driver(knowledge: Knowledge) -> None:
    # NVML answered but saw no GPU while lspci shows one: not a GPU-less machine.
    report = _report("$ nvidia-smi\nNo devices were found\n" + _LSPCI_PLAIN, knowledge)
    assert "no-driver" in _alarms(report)
    assert "no-gpu" not in _alarms(report)


def test_lspci_without_gpu_list_but_cuda_available_is_not_no_driver(knowledge: Knowledge) -> None:
    text = _collect_env("2.5.1+cu124", "12.4", "N/A", "True", "Could not collect", "Could not collect")
    assert "no-driver" not in _alarms(_report(text + "\n" + _LSPCI_PLAIN, knowledge))


def test_printed_get_arch_list_is_the_build_arch_list(knowledge: Knowledge) -> None:
    # torch.cuda.get_arch_list() pasted from a REPL decides arch-not-in-build on its own (§2.1:
    # no sm_12x cubin and no PTX, so an RTX 5090, CC 12.0, has no kernels).
    text = (
        ">>> torch.cuda.get_arch_list()\n"
        "['sm_50', 'sm_60', 'sm_70', 'sm_75', 'sm_80', 'sm_86', 'sm_90']\n"
        "$ nvidia-smi -L\nGPU 0: NVIDIA GeForce RTX 5090 (UUID: GPU-1b2c3d4e-5f60-7182-93a4-b5c6d7e8f901)\n"
    )
    machine = parse_dump(text)
    assert machine.torch.arch_list == ["sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86", "sm_90"]
    assert "arch-not-in-build" in _alarms(build_report(machine, knowledge))
    covered = text.replace("'sm_90']", "'sm_90', 'sm_100', 'sm_120']")
    assert "arch-not-in-build" not in _alarms(_report(covered, knowledge))


@pytest.mark.parametrize(
    "line", ["torch                    2.6.0+cu124", "torch==2.6.0+cu124", "  torch 2.6.0+cu124  "]
)
def test_pip_list_or_freeze_line_gives_the_torch_version(line: str) -> None:
    machine = parse_dump("$ nvidia-smi -L\nGPU 0: NVIDIA GeForce RTX 4090 (UUID: GPU-0a1b)\n" + line + "\n")
    assert machine.torch.version == "2.6.0+cu124"
    assert machine.torch.cuda_version == "12.4"  # from the +cu124 wheel tag


def test_torch_version_in_prose_is_not_a_pip_line() -> None:
    machine = parse_dump("$ nvidia-smi -L\nGPU 0: NVIDIA GeForce RTX 4090\nI use torch 2.6.0 with it\n")
    assert machine.torch.version is None


def test_windows_driver_model_column_means_windows() -> None:
    row = "|   {i}  NVIDIA GeForce RTX 4090      WDDM  |   00000000:0{i}:00.0  On |                  Off |\n"
    table = (
        "| NVIDIA-SMI 566.14                 Driver Version: 566.14         CUDA Version: 12.7     |\n"
        "|=========================================+========================+======================|\n"
        + row.format(i=0)
        + "|  0%   36C    P8             21W /  450W |    1968MiB /  24564MiB |      4%      Default |\n"
        + "+-----------------------------------------+------------------------+----------------------+\n"
        + row.format(i=1)
        + "|  0%   36C    P8             21W /  450W |    1968MiB /  24564MiB |      4%      Default |\n"
    )
    machine = parse_dump(table)
    assert machine.host.os == "Windows"
    assert len(machine.gpus) == 2


def test_wsl_collect_env_beats_a_windows_table_for_the_host() -> None:
    table = (
        "| NVIDIA-SMI 566.14                 Driver Version: 566.14         CUDA Version: 12.7     |\n"
        "|=========================================+========================+======================|\n"
        "|   0  NVIDIA GeForce RTX 4090      WDDM  |   00000000:01:00.0  On |                  Off |\n"
        "|  0%   36C    P8             21W /  450W |    1968MiB /  24564MiB |      4%      Default |\n"
        "+-----------------------------------------+------------------------+----------------------+\n\n"
    )
    text = table + _collect_env(
        "2.4.1+cu124", "12.4", "N/A", "True", "GPU 0: NVIDIA GeForce RTX 4090", "566.14"
    ).replace("6.8.0-45-generic", "5.15.153.1-microsoft-standard-WSL2")
    machine = parse_dump(text)
    assert (machine.host.os, machine.host.is_wsl) == ("Linux", True)


@pytest.mark.parametrize(
    ("value", "kept"), [("550.1", None), ("55", None), ("560.94", "560.94"), ("384.130", "384.130")]
)
def test_collect_env_driver_cut_mid_line_is_unknown(
    value: str, kept: str | None, knowledge: Knowledge
) -> None:
    text = _collect_env("2.5.1+cu124", "12.4", "N/A", "False", "GPU 0: NVIDIA GeForce RTX 4090", "x")
    text = text[: text.index("Nvidia driver version: ")] + f"Nvidia driver version: {value}"
    machine = parse_dump(text)
    assert machine.driver.version == kept
    if kept is None:  # a cut "550.1" must not read as a driver too old for CUDA 12.4
        assert "driver-too-old" not in _alarms(build_report(machine, knowledge))


def test_driver_too_old_on_kepler_does_not_advise_an_impossible_upgrade(knowledge: Knowledge) -> None:
    # A K80 (CC 3.7) stays on R470 (driver_gpu_support), below the 12.x floor a cu121 build needs; the
    # only way out is a build R470 runs that still has sm_37: a cu118 wheel ≤ 2.7 (compat.md §3.5).
    text = _collect_env(
        "2.1.0+cu121", "12.1", "N/A", "False", "\nGPU 0: Tesla K80\nGPU 1: Tesla K80", "470.223.02"
    )
    found = [f for f in _report(text, knowledge).findings if f.code == "driver-too-old"]
    assert found
    fix = found[0].fix or ""
    assert "Upgrade the NVIDIA driver" not in fix
    assert "cu118" in fix


def test_not_compiled_with_cuda_alone_with_a_gpu_is_torch_cpu_only(knowledge: Knowledge) -> None:
    # compat.md §6.8: "Torch not compiled with CUDA enabled" is raised by CPU-only builds only.
    text = _SMI_535 + "AssertionError: Torch not compiled with CUDA enabled\n"
    found = [f for f in _report(text, knowledge).findings if f.code == "torch-cpu-only"]
    assert found and found[0].severity == "error"
    assert "Torch not compiled with CUDA enabled" in found[0].detail
