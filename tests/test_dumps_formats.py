"""collect_env variants, error texts as evidence, detection inside chatter, merging, and read_dump."""

from __future__ import annotations

import codecs
import io
import sys
from pathlib import Path

import pytest

from advisor.dumps import MAX_BYTES, parse_dump, read_dump
from advisor.dumps import values as v
from advisor.errors import InputError
from tests.conftest import DUMPS, SMI

VLLM_NEW = """\
Collecting environment information...
==============================
        System Info
==============================
OS                           : Ubuntu 22.04.4 LTS (x86_64)
GCC version                  : (Ubuntu 11.4.0-1ubuntu1~22.04) 11.4.0
Clang version                : Could not collect
CMake version                : version 3.31.6
Libc version                 : glibc-2.35

==============================
       PyTorch Info
==============================
PyTorch version              : 2.7.0+cu126
Is debug build               : False
CUDA used to build PyTorch   : 12.6
ROCM used to build PyTorch   : N/A

==============================
      Python Environment
==============================
Python version               : 3.12.10 (main, Apr  9 2025, 04:44:59) [GCC 11.4.0] (64-bit runtime)
Python platform              : Linux-5.15.153.1-microsoft-standard-WSL2-x86_64-with-glibc2.35

==============================
       CUDA / GPU Info
==============================
Is CUDA available            : True
CUDA runtime version         : 12.4.131
CUDA_MODULE_LOADING set to   : LAZY
GPU models and configuration :
GPU 0: NVIDIA GeForce RTX 4090
GPU 1: NVIDIA GeForce RTX 4090

Nvidia driver version        : 550.54.15
cuDNN version                : Could not collect
HIP runtime version          : N/A
MIOpen runtime version       : N/A
Is XNNPACK available         : True

==============================
          CPU Info
==============================
Architecture:                         x86_64
CPU(s):                               32
Model name:                           AMD Ryzen 9 7950X 16-Core Processor
Thread(s) per core:                   2
Core(s) per socket:                   16
Socket(s):                            1
CPU max MHz:                          5881.0000
Flags:                                fpu sse4_2 avx avx2 fma avx512f avx512_bf16 sha_ni

==============================
Versions of relevant libraries
==============================
[pip3] numpy==2.2.5
[pip3] nvidia-cudnn-cu12==9.5.1.17
[pip3] torch==2.7.0
[conda] Could not collect

==============================
     Environment Variables
==============================
NVIDIA_VISIBLE_DEVICES=all
CUDA_VISIBLE_DEVICES=1
"""


def test_vllm_padded_sections() -> None:
    m = parse_dump(VLLM_NEW)
    assert m.source == "collect_env"
    assert (m.torch.version, m.torch.cuda_version, m.torch.cuda_available) == ("2.7.0+cu126", "12.6", True)
    assert [(g.index, g.name) for g in m.gpus] == [
        (0, "NVIDIA GeForce RTX 4090"),
        (1, "NVIDIA GeForce RTX 4090"),
    ]
    assert m.driver.version == "550.54.15"
    h = m.host
    assert h.is_wsl is True and h.kernel == "5.15.153.1-microsoft-standard-WSL2"
    assert (h.os, h.os_release, h.machine_arch) == ("Linux", "Ubuntu 22.04.4 LTS", "x86_64")
    assert h.cpu_model == "AMD Ryzen 9 7950X 16-Core Processor"
    assert (h.cpu_cores, h.cpu_threads, h.cpu_max_mhz) == (16, 32, 5881.0)
    assert h.cpu_flags == ["sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_bf16"]
    assert h.cuda_visible_devices == "1"
    assert h.python_version == "3.12.10" and h.system_cuda_version == "12.4.131"
    assert m.torch.cudnn_version == "9.5.1"  # the pip cuDNN torch loads, not a system library


def test_torch_not_importable() -> None:
    m = parse_dump(
        "PyTorch version: N/A\nIs debug build: N/A\nCUDA used to build PyTorch: N/A\nIs CUDA available: N/A\n"
    )
    assert m.torch.installed is False and m.torch.version is None
    assert m.torch.built_with_cuda is None and m.torch.cuda_available is None
    assert "torch section" not in m.missing


def test_torch_import_broken_but_pip_lists_it() -> None:
    m = parse_dump("PyTorch version: N/A\nIs CUDA available: N/A\n[pip3] torch==2.3.1\n")
    assert m.torch.installed is True and m.torch.version == "2.3.1"
    assert m.torch.import_error is not None


def test_rocm_build() -> None:
    text = (
        "PyTorch version: 2.3.0+rocm6.0\nIs debug build: False\nCUDA used to build PyTorch: N/A\n"
        "ROCM used to build PyTorch: 6.0.32830-d62f6a171\n\nIs CUDA available: True\n"
        "GPU models and configuration: AMD Instinct MI250X (gfx90a:sramecc+:xnack-)\n"
        "Nvidia driver version: Could not collect\nHIP runtime version: 6.0.32830\n"
    )
    m = parse_dump(text)
    assert m.torch.hip_version == "6.0.32830-d62f6a171" and m.torch.cuda_version is None
    assert m.torch.built_with_cuda is True  # torch.backends.cuda.is_built() is True on ROCm
    (g,) = m.gpus
    assert (g.name, g.vendor, g.architecture) == ("AMD Instinct MI250X", "amd", "gfx90a:sramecc+:xnack-")


def test_mig_lines_in_gpu_list() -> None:
    text = (
        "PyTorch version: 2.1.0+cu121\nGPU models and configuration:\nGPU 0: NVIDIA A100-SXM4-40GB\n"
        "  MIG 3g.20gb     Device  0:\n  MIG 3g.20gb     Device  1:\nGPU 1: NVIDIA A100-SXM4-40GB\n\n"
        "Nvidia driver version: 535.54.03\n"
    )
    m = parse_dump(text)
    g0, g1 = m.gpus
    assert g0.mig_enabled is True and g0.mig_instances is not None
    assert [i.profile for i in g0.mig_instances] == ["3g.20gb", "3g.20gb"]
    assert g1.mig_enabled is None


def test_cut_off_collect_env() -> None:
    m = parse_dump(
        "Collecting environment information...\nPyTorch version: 2.4.1+cu118\nIs debug build: False\n"
    )
    assert m.torch.version == "2.4.1+cu118"
    assert m.torch.cuda_version == "11.8" and m.torch.built_with_cuda is True  # from the wheel tag
    assert m.gpus_known is False and "GPU list" in m.missing and "driver version" in m.missing


def test_macos_collect_env() -> None:
    text = (
        "PyTorch version: 2.2.0\nIs debug build: False\nCUDA used to build PyTorch: None\n\n"
        "OS: macOS 14.2.1 (arm64)\nPython version: 3.11.7 (main) [Clang 14.0.6 ] (64-bit runtime)\n"
        "Python platform: macOS-14.2.1-arm64-arm-64bit\nIs CUDA available: False\n"
        "GPU models and configuration: Could not collect\nNvidia driver version: Could not collect\n"
    )
    m = parse_dump(text)
    assert (m.host.os, m.host.machine_arch, m.host.jetson, m.host.is_wsl) == ("Darwin", "arm64", False, False)
    assert m.torch.built_with_cuda is False and m.gpus_known is False


def test_no_kernel_image_traceback_only() -> None:
    text = (
        'Traceback (most recent call last):\n  File "train.py", line 3, in <module>\n'
        "RuntimeError: CUDA error: no kernel image is available for execution on the device\n"
        "CUDA kernel errors might be asynchronously reported at some other API call\n"
    )
    m = parse_dump(text)
    assert m.source == "messages"
    assert m.torch.init_messages == [
        "RuntimeError: CUDA error: no kernel image is available for execution on the device"
    ]
    assert m.gpus_known is False


def test_driver_too_old_warning_gives_driver_cuda() -> None:
    text = (
        "UserWarning: CUDA initialization: The NVIDIA driver on your system is too old "
        "(found version 11040). Please update your GPU driver by downloading and installing a new version "
        "from the URL: http://www.nvidia.com/Download/index.aspx\n"
        "PyTorch version: 2.1.0+cu121\nIs CUDA available: False\n"
    )
    m = parse_dump(text)
    assert m.driver.cuda_version == "11.4"
    assert len(m.torch.init_messages) == 1 and "found version 11040" in m.torch.init_messages[0]


def test_old_torch_too_old_gpu_warning() -> None:
    text = (
        "PyTorch version: 1.13.1+cu117\n"
        "    Found GPU0 Tesla K40m which is of cuda capability 3.5.\n"
        "    PyTorch no longer supports this GPU because it is too old.\n"
        "    The minimum cuda capability supported by this library is 3.7.\n"
        "GPU models and configuration: GPU 0: Tesla K40m\n"
    )
    m = parse_dump(text)
    assert m.gpus[0].compute_capability == "3.5" and m.gpus[0].name == "Tesla K40m"
    assert m.torch.devices is not None and m.torch.devices[0].compute_capability == "3.5"
    assert len(m.torch.init_messages) == 3


def test_torch_not_compiled_with_cuda() -> None:
    m = parse_dump("AssertionError: Torch not compiled with CUDA enabled\n")
    assert m.torch.built_with_cuda is False and m.torch.installed is True


def test_forward_compat_error_804() -> None:
    text = (
        "UserWarning: CUDA initialization: Unexpected error from cudaGetDeviceCount(). Did you run some cuda "
        "functions before calling NumCudaDevices() that might have already set an error? Error 804: forward "
        "compatibility was attempted on non supported HW\n"
    )
    m = parse_dump(text)
    assert "Error 804" in m.torch.init_messages[0]


def test_proc_version_and_lspci_without_driver() -> None:
    text = (
        "$ cat /proc/driver/nvidia/version\n"
        "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.90.07  Fri May 31 09:35:42 UTC 2024\n"
        "$ lspci -nnk | grep -A3 NVIDIA\n"
        "3b:00.0 3D controller [0302]: NVIDIA Corporation GA100 [A100 PCIe 40GB] [10de:20f1] (rev a1)\n"
        "\tSubsystem: NVIDIA Corporation Device [10de:145f]\n"
        "\tKernel driver in use: nouveau\n"
        "$ nvidia-smi\n"
        "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the "
        "latest NVIDIA driver is installed and running.\n"
    )
    m = parse_dump(text)
    assert m.driver.kernel_module_version == "550.90.07"
    assert m.driver.nvml_ok is False
    assert m.driver.pci_devices is not None
    (d,) = m.driver.pci_devices
    assert (d.address, d.vendor_id, d.device_id, d.class_code, d.driver) == (
        "0000:3b:00.0",
        0x10DE,
        0x20F1,
        0x0302,
        "nouveau",
    )


def test_open_kernel_module_version() -> None:
    text = "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  570.124.06  Release Build  (root@h)\n"
    assert parse_dump(text).driver.kernel_module_version == "570.124.06"


def test_modprobe_failure_alone() -> None:
    m = parse_dump("modprobe: FATAL: Module nvidia not found in directory /lib/modules/6.8.0-45-generic\n")
    assert m.driver.nvml_ok is False and m.driver.nvml_error is not None


def test_no_devices_found() -> None:
    m = parse_dump("$ nvidia-smi\nNo devices were found\n")
    assert m.driver.nvml_ok is True and m.gpus == [] and m.gpus_known is True


def test_lost_gpu_marks_the_table_row() -> None:
    text = (
        "Unable to determine the device handle for GPU 0000:0F:00.0: GPU is lost.  Reboot the system to "
        "recover this GPU\n"
    )
    from tests.test_dumps_smi import TABLE_535

    m = parse_dump(text + TABLE_535)
    g1 = m.gpus[1]
    assert g1.pci_bus_id == "00000000:0F:00.0" and g1.lost is True and g1.error is not None
    assert m.gpus[0].lost is False and len(m.gpus) == 2


def test_later_working_output_wins_over_earlier_error() -> None:
    from tests.test_dumps_smi import TABLE_535

    m = parse_dump("Failed to initialize NVML: Driver/library version mismatch\n(rebooted)\n" + TABLE_535)
    assert m.driver.nvml_ok is True and m.driver.nvml_error is None
    m2 = parse_dump(
        TABLE_535 + "\n(after an upgrade)\nFailed to initialize NVML: Driver/library version mismatch\n"
    )
    assert m2.driver.nvml_ok is False and m2.driver.nvml_error == "Driver/library version mismatch"
    assert m2.driver.version == "535.161.08"


def test_chatter_fences_quotes_and_details_around_two_outputs() -> None:
    ce = (DUMPS / "12-h100x8-torch251-cu124-driver550-healthy" / "input.txt").read_text()
    q = (SMI / "q-8x-h100-sxm-80gb-driver565.txt").read_text()
    quoted = "\n".join("> " + line for line in ce.splitlines())
    paste = (
        "Hi, training hangs. My env:\n\n<details>\n<summary>collect_env</summary>\n\n```\n"
        + quoted
        + "\n```\n</details>\n\nand nvidia-smi -q:\n```text\n"
        + q
        + "```\nThanks!\n"
    )
    m = parse_dump(paste)
    assert m.source == "collect_env+nvidia-smi-q"
    assert len(m.gpus) == 8 and all(g.name == "NVIDIA H100 80GB HBM3" for g in m.gpus)
    assert m.gpus[0].pci_bus_id == "00000000:18:00.0"  # -q facts merged onto collect_env's GPU 0
    assert m.torch.version == "2.5.1+cu124"
    assert m.driver.version == "565.57.01"  # the richer source wins
    assert m.host.os_release == "Ubuntu 22.04 LTS"


def test_collect_env_plus_table_merges_by_index() -> None:
    from tests.test_dumps_smi import TABLE_418

    ce = (
        "PyTorch version: 1.4.0\nGPU models and configuration:\n"
        "GPU 0: Tesla V100-SXM2-16GB\nGPU 1: GeForce GTX 1080 Ti\n"
    )
    m = parse_dump(ce + "\n" + TABLE_418)
    assert m.source == "collect_env+nvidia-smi"
    assert [g.name for g in m.gpus] == ["Tesla V100-SXM2-16GB", "GeForce GTX 1080 Ti"]
    assert m.gpus[0].pci_bus_id == "00000000:00:1E.0" and m.gpus[1].memory_total_bytes == 11178 * 2**20


def test_nothing_recognisable() -> None:
    with pytest.raises(InputError, match="no collect_env or nvidia-smi output found"):
        parse_dump("hello\nthis is a story about a GPU that was slow\n")


def test_read_dump_file_crlf_and_utf16(tmp_path: Path) -> None:
    text = (DUMPS / "02-h100pcie-torch201-cu117-sm90" / "input.txt").read_text()
    crlf = tmp_path / "crlf.txt"
    crlf.write_bytes(text.replace("\n", "\r\n").encode())
    utf16 = tmp_path / "ps.txt"
    utf16.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    nobom = tmp_path / "nobom.txt"
    nobom.write_bytes(text.encode("utf-16-le"))
    for p in (crlf, utf16, nobom):
        m = read_dump(str(p))
        assert m.torch.version == "2.0.1+cu117" and m.gpus[0].name == "NVIDIA H100 PCIe", p.name


def test_read_dump_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    text = (SMI / "qx-tesla-t4-driver515.xml").read_text()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode())))
    assert read_dump("-").gpus[0].name == "Tesla T4"
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))  # a stream without .buffer
    assert read_dump("-").driver.version == "515.105.01"


def test_read_dump_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_dump(str(tmp_path / "missing.txt"))
    with pytest.raises(InputError, match="directory"):
        read_dump(str(tmp_path))
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n")
    with pytest.raises(InputError, match="empty"):
        read_dump(str(empty))
    junk = tmp_path / "junk.bin"
    junk.write_bytes(bytes(range(256)) * 10)
    with pytest.raises(InputError, match=r"junk\.bin"):
        read_dump(str(junk))
    monkeypatch.setattr("advisor.dumps.MAX_BYTES", 100)
    with pytest.raises(InputError, match="larger than"):
        read_dump(str(SMI / "qx-tesla-t4-driver515.xml"))
    assert MAX_BYTES == 64 * 2**20


def test_values() -> None:
    assert (
        v.clean("[N/A]") is None and v.clean("[Not Supported]") is None and v.clean(" Unknown Error ") is None
    )
    assert v.clean("Requested functionality has been deprecated") is None and v.clean("Enabled") == "Enabled"
    assert v.size_bytes("12288 MiB") == 12288 * 2**20 and v.size_bytes("N/A") is None
    assert v.pci_device_id("0x233110DE") == 0x2331 and v.pci_device_id("1DB810DE") == 0x1DB8
    assert v.bus_id("0000:3b:00.0") == "00000000:3B:00.0" and v.bus_id("junk") is None
    assert v.throttle_reason("clocks_event_reason_display_clocks_setting") == "display_clock_setting"
    assert v.throttle_reason("Idle") == "gpu_idle" and v.throttle_reason("Unknown") is None
    assert v.flag("Not Active") is False and v.flag("Active") is True and v.flag("N/A") is None
    assert v.compute_mode("E. Process") == "Exclusive_Process"
    assert v.cuda_from_int(12040) == "12.4" and v.cuda_from_int(10010) == "10.1"
    assert v.integer("9" * 40) is None and v.number("1" * 500) is None  # bounded digit runs


def test_dumps_import_no_torch_rich_or_typer() -> None:
    import subprocess

    code = (
        "import sys, advisor.dumps as d; d.parse_dump(open(sys.argv[1]).read()); "
        "bad = [m for m in ('torch', 'rich', 'typer', 'pynvml') if m in sys.modules]; print(bad)"
    )
    path = DUMPS / "02-h100pcie-torch201-cu117-sm90" / "input.txt"
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_query_text_mig_devices_and_old_process_list() -> None:
    text = """\
GPU 00000000:00:04.0
    Product Name                          : NVIDIA A100-SXM4-40GB
    MIG Mode
        Current                           : Enabled
        Pending                           : Enabled
    MIG devices
        MIG Device
            Index                         : 0
            GPU Instance ID               : 1
            Compute Instance ID           : 0
            Device Attributes
                Shared
                    Multiprocessor count  : 42
            FB Memory Usage
                Total                     : 19968 MiB
                Used                      : 19 MiB
        MIG Device
            Index                         : 1
            GPU Instance ID               : 2
            Compute Instance ID           : 0
            FB Memory Usage
                Total                     : 19968 MiB
    Processes
        Process ID                        : 4242
            Type                          : C
            Name                          : python3
            Used GPU Memory               : 1000 MiB
"""
    (g,) = parse_dump(text).gpus
    assert g.mig_enabled is True and g.mig_instances is not None
    assert [(i.gpu_instance_id, i.memory_total_bytes) for i in g.mig_instances] == [
        (1, 19968 * 2**20),
        (2, 19968 * 2**20),
    ]
    assert g.processes is not None
    assert [(p.pid, p.name, p.kind, p.used_memory_bytes) for p in g.processes] == [
        (4242, "python3", "compute", 1000 * 2**20)
    ]


def test_query_span_stops_at_padded_collect_env_keys() -> None:
    q = (SMI / "q-2x-h100-nvl-driver550.txt").read_text()
    m = parse_dump(q + "PyTorch version              : 2.3.0+cu121\nIs CUDA available            : True\n")
    assert m.source == "collect_env+nvidia-smi-q"
    assert m.torch.version == "2.3.0+cu121" and m.torch.cuda_available is True and len(m.gpus) == 2


def test_gpu_list_unknown_versus_empty() -> None:
    unknown = parse_dump(
        "PyTorch version: 2.1.0\nIs CUDA available: False\nGPU models and configuration: Could not collect\n"
    )
    assert unknown.gpus_known is False and unknown.gpus == [] and "GPU list" in unknown.missing
    empty = parse_dump("Failed to initialize NVML: Unknown Error\n")
    assert empty.gpus_known is False and empty.driver.nvml_error == "Unknown Error"
    none = parse_dump("$ nvidia-smi\nNo devices were found\n")
    assert none.gpus_known is True and none.gpus == [] and "GPU list" not in none.missing


def test_summarised_gpu_count() -> None:
    m = parse_dump("PyTorch version: 2.4.0+cu121\nGPU models and configuration: NVIDIA A100-SXM-64GB (x4)\n")
    assert [(g.index, g.name) for g in m.gpus] == [(i, "NVIDIA A100-SXM-64GB") for i in range(4)]


def test_standalone_nvidia_smi_list() -> None:
    text = (
        "$ nvidia-smi -L\nGPU 0: NVIDIA GeForce RTX 3090 (UUID: GPU-5b0bd7c9-4f1e-9b8e-1c2d-3e4f5a6b7c8d)\n"
        "GPU 1: NVIDIA GeForce RTX 3090 (UUID: GPU-6c1ce8da-5a2f-ac9f-2d3e-4f5a6b7c8d9e)\n"
    )
    m = parse_dump(text)
    assert m.source == "nvidia-smi" and m.driver.nvml_ok is True
    assert [(g.index, g.name) for g in m.gpus] == [
        (0, "NVIDIA GeForce RTX 3090"),
        (1, "NVIDIA GeForce RTX 3090"),
    ]
    assert m.gpus[1].uuid == "GPU-6c1ce8da-5a2f-ac9f-2d3e-4f5a6b7c8d9e"


def test_two_collect_envs_first_wins_and_stays_one_source() -> None:
    before = (DUMPS / "11-a100x4-torch240-cu121-vllm-healthy" / "input.txt").read_text()
    after = before.replace("2.4.0+cu121", "2.5.1+cu124")
    m = parse_dump(before + "\n\nafter the upgrade:\n\n" + after)
    assert m.source == "collect_env" and m.torch.version == "2.4.0+cu121" and len(m.gpus) == 4


def test_query_gpu_csv() -> None:
    text = (
        "$ nvidia-smi --query-gpu=index,name,pci.bus_id,driver_version,compute_cap,memory.total,power.limit "
        "--format=csv\n"
        "index, name, pci.bus_id, driver_version, compute_cap, memory.total [MiB], power.limit [W]\n"
        "0, NVIDIA GeForce RTX 4090, 00000000:01:00.0, 550.54.15, 8.9, 24564 MiB, 450.00 W\n"
        "1, NVIDIA GeForce RTX 3090, 00000000:02:00.0, 550.54.15, 8.6, 24576 MiB, [N/A]\n"
        "\nname, age\nJohn, 42\n"
    )
    m = parse_dump(text)
    assert m.source == "nvidia-smi" and m.driver.version == "550.54.15"
    g0, g1 = m.gpus
    assert (g0.index, g0.name, g0.compute_capability, g0.memory_total_bytes) == (
        0,
        "NVIDIA GeForce RTX 4090",
        "8.9",
        24564 * 2**20,
    )
    assert (g1.pci_bus_id, g1.compute_capability, g1.power_limit_watts) == ("00000000:02:00.0", "8.6", None)
