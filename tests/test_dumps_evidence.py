"""The evidence catalogue and its one matcher: kernel logs, CUDA/NVML errors and tool reports → facts,
and the findings a message alone establishes (must fire) or must not establish (application faults,
a tainted-kernel notice, a plain lspci listing)."""

from __future__ import annotations

import re
from typing import get_args

import pytest

from advisor.diagnose import build_report
from advisor.dumps import parse_dump
from advisor.errors import InputError
from advisor.knowledge.base import Knowledge
from advisor.knowledge.evidence import FACTS, entries
from advisor.knowledge.loader import load_knowledge
from advisor.report import FindingCode, Report


@pytest.fixture(scope="module")
def knowledge() -> Knowledge:
    return load_knowledge()


def _report(text: str, knowledge: Knowledge) -> Report:
    return build_report(parse_dump(text), knowledge)


def _alarms(report: Report) -> dict[str, str]:
    return {f.code: f.severity for f in report.findings if f.severity in ("error", "warning")}


def test_catalogue_entries_are_complete() -> None:
    codes = set(get_args(FindingCode))
    ids = [e.id for e in entries()]
    assert len(ids) == len(set(ids)) >= 60
    for e in entries():
        assert e.source.startswith("https://"), e.id
        assert e.meaning, e.id
        assert e.code is None or e.code in codes, e.id
        if e.emit:
            assert e.code and e.severity in ("error", "warning", "info") and e.title and e.fix, e.id
        if e.regex:
            assert set(re.compile(e.regex).groupindex) <= FACTS, e.id


XID = "[ 1234.5] NVRM: Xid (PCI:0000:3b:00): {n}, pid=4242, name=python, {text}\n"


@pytest.mark.parametrize(
    ("n", "text", "code", "severity"),
    [
        (79, "GPU has fallen off the bus.", "gpu-hang", "error"),
        (
            48,
            "An uncorrectable double bit error (DBE) has been detected on GPU in the framebuffer",
            "ecc-errors",
            "error",
        ),
        (63, "Row Remapper: New row marked for remapping, reset gpu to activate.", "ecc-errors", "error"),
        (95, "Uncontained: FBHUB. RST: Yes, D-RST: No", "ecc-errors", "error"),
        (119, "Timeout after 6s of waiting for RPC response from GPU0 GSP!", "gpu-hang", "error"),
    ],
)
def test_hardware_xids_fire(n: int, text: str, code: str, severity: str, knowledge: Knowledge) -> None:
    report = _report(XID.format(n=n, text=text), knowledge)
    assert _alarms(report).get(code) == severity
    finding = next(f for f in report.findings if f.code == code)
    assert f"{n}" in finding.title or "fallen off" in finding.title.lower() or "lost" in finding.title


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (13, "Graphics SM Warp Exception on (GPC 0, TPC 0, SM 0): Out Of Range Address"),
        (31, "Ch 00000010, intr 00000000. MMU Fault: ENGINE GRAPHICS GPCCLIENT_T1_0 faulted @ 0x7f_00000000"),
        (43, "Ch 00000008"),
    ],
)
def test_application_xids_are_not_hardware(n: int, text: str, knowledge: Knowledge) -> None:
    report = _report(XID.format(n=n, text=text), knowledge)
    assert _alarms(report) == {}
    assert [e.xid for e in report.machine.evidence if e.xid] == [n]


LEGACY = """[   13.5] NVRM: The NVIDIA GeForce GTX 680 GPU installed in this system is
              NVRM:  supported through the NVIDIA 470.xx Legacy drivers. Please
              NVRM:  visit http://www.nvidia.com/object/unix.html for more
              NVRM:  information.  The 550.54.14 NVIDIA driver will ignore
              NVRM:  this GPU.  Continuing probe...
[   13.6] NVRM: No NVIDIA GPU found.
"""


def test_legacy_line_alone_names_the_branch(knowledge: Knowledge) -> None:
    report = _report(LEGACY, knowledge)
    drops = [f for f in report.findings if f.code == "driver-drops-gpu"]
    assert drops and drops[0].severity == "error"
    assert "470.xx" in (drops[0].fix or "")
    facts = next(e.facts for e in report.machine.evidence if e.id == "nvrm-legacy-gpu")
    assert facts["legacy_branch"] == "470"
    assert facts["gpu_name"] == "GeForce GTX 680" and facts["driver_version"] == "550.54.14"
    assert "no-gpu" not in _alarms(report)


def test_api_mismatch_reads_both_versions(knowledge: Knowledge) -> None:
    text = (
        "[   12.0] NVRM: API mismatch: the client has the version 570.153.02, but\n"
        "               NVRM: this kernel module has the version 570.144.  Please\n"
        "               NVRM: make sure that this kernel module and all NVIDIA driver\n"
    )
    report = _report(text, knowledge)
    assert report.machine.driver.library_version == "570.153.02"
    assert report.machine.driver.kernel_module_version == "570.144"
    assert _alarms(report).get("driver-library-mismatch") == "error"


def test_open_module_without_gsp_is_no_driver(knowledge: Knowledge) -> None:
    text = (
        "NVRM: The NVIDIA GPU 0000:01:00.0 (PCI ID: 10de:1c82)\n"
        "NVRM: installed in this system is not supported by open\n"
        "NVRM: nvidia.ko because it does not include the required GPU\n"
        "NVRM: System Processor (GSP).\n"
    )
    report = _report(text, knowledge)
    assert _alarms(report).get("no-driver") == "error"
    ev = next(e for e in report.machine.evidence if e.id == "nvrm-open-module-no-gsp")
    assert ev.facts["pci_id"] == "1c82" and ev.pci_bus_id == "00000000:01:00.0"


def test_tainted_kernel_notice_is_not_a_failure(knowledge: Knowledge) -> None:
    text = (
        "[    4.1] nvidia: module verification failed: signature and/or required key missing"
        " - tainting kernel\n"
        "[    4.2] NVRM: loading NVIDIA UNIX x86_64 Kernel Module  550.54.14  Thu Feb 22 01:44:30 UTC 2024\n"
    )
    report = _report(text, knowledge)
    assert report.machine.driver.kernel_module_version == "550.54.14"
    assert "no-driver" not in _alarms(report)


def test_secure_boot_refusal_is_no_driver(knowledge: Knowledge) -> None:
    report = _report("modprobe: ERROR: could not insert 'nvidia': Required key not available\n", knowledge)
    assert _alarms(report).get("no-driver") == "error"


def test_devices_busy_is_an_error_for_the_job(knowledge: Knowledge) -> None:
    text = "RuntimeError: CUDA error: CUDA-capable device(s) is/are busy or unavailable\n"
    assert _alarms(_report(text, knowledge)).get("gpu-busy") == "error"


def test_old_thc_unknown_error_is_a_hang(knowledge: Knowledge) -> None:
    text = (
        "RuntimeError: cuda runtime error (999) : unknown error at /pytorch/aten/src/THC/THCGeneral.cpp:47\n"
    )
    assert _alarms(_report(text, knowledge)).get("gpu-hang") == "error"


def test_plain_lspci_is_not_no_driver_but_not_healthy(knowledge: Knowledge) -> None:
    text = "01:00.0 VGA compatible controller: NVIDIA Corporation GA102 [GeForce RTX 3090] (rev a1)\n"
    alarms = _alarms(_report(text, knowledge))
    assert "no-driver" not in alarms
    assert alarms.get("no-gpu") == "warning"  # present, unusable as far as anyone can tell


def test_lspci_k_without_a_bound_driver_is_no_driver(knowledge: Knowledge) -> None:
    text = (
        "01:00.0 VGA compatible controller [0300]: NVIDIA Corporation GA102 [10de:2204] (rev a1)\n"
        "\tSubsystem: ASUSTeK Computer Inc. Device [1043:87b3]\n"
        "\tKernel modules: nvidiafb, nouveau, nvidia_drm, nvidia\n"
    )
    assert _alarms(_report(text, knowledge)).get("no-driver") == "error"


def test_syslog_escaped_newlines(knowledge: Knowledge) -> None:
    text = (
        "Jun 30 11:07:05 gpu-0 kernel: NVRM: API mismatch: the client has the version 535.54.03, but#012NVRM:"
        " this kernel module has the version 530.30.02.  Please#012NVRM: make sure\n"
    )
    assert _alarms(_report(text, knowledge)).get("driver-library-mismatch") == "error"


COMFY = """Total VRAM 24564 MB, total RAM 65277 MB
pytorch version: 2.1.2+cu121
Set vram state to: NORMAL_VRAM
Device: cuda:0 NVIDIA GeForce RTX 4090 : cudaMallocAsync
"""


def test_comfyui_start_up_log(knowledge: Knowledge) -> None:
    report = _report(COMFY, knowledge)
    m = report.machine
    assert m.torch.version == "2.1.2+cu121" and m.torch.cuda_available is True
    assert m.gpus[0].name == "NVIDIA GeForce RTX 4090"
    assert m.gpus[0].memory_total_bytes == 24564 * 2**20
    assert _alarms(report) == {}


XFORMERS = """xFormers 0.0.16
pytorch.version:                                   1.13.1+cu117
pytorch.cuda:                                      available
gpu.compute_capability:                            8.6
gpu.name:                                          NVIDIA GeForce RTX 3090
build.cuda_version:                                1107
"""


def test_xformers_info(knowledge: Knowledge) -> None:
    report = _report(XFORMERS, knowledge)
    m = report.machine
    assert m.torch.version == "1.13.1+cu117" and m.torch.cuda_available is True
    assert m.gpus[0].compute_capability == "8.6"
    assert _alarms(report) == {}


def test_macos_is_no_gpu_naming_the_accelerator(knowledge: Knowledge) -> None:
    text = (
        "PyTorch version: 2.2.0\nIs debug build: False\nCUDA used to build PyTorch: None\n"
        "OS: macOS 14.2.1 (arm64)\nPython platform: macOS-14.2.1-arm64-arm-64bit\n"
        "Is CUDA available: False\nGPU models and configuration: No CUDA\n"
    )
    report = _report(text, knowledge)
    nogpu = [f for f in report.findings if f.code == "no-gpu"]
    assert nogpu and "Apple" in nogpu[0].title and nogpu[0].severity == "info"
    assert report.exit_code() == 0


def test_container_without_gpu_access(knowledge: Knowledge) -> None:
    text = (
        "==========\n== CUDA ==\n==========\n\nCUDA Version 12.1.0\n\n"
        "WARNING: The NVIDIA Driver was not detected.  GPU functionality will not be available.\n"
        "   Use the NVIDIA Container Toolkit to start this container with GPU support; see\n"
    )
    report = _report(text, knowledge)
    assert "no-gpu" in _alarms(report)
    assert report.machine.host.container == "docker"


def test_text_without_evidence_is_refused_with_what_was_looked_for() -> None:
    with pytest.raises(InputError):
        parse_dump("hello world\nthis is just a note about my weekend\n")


TWO_MACHINES = """Collecting environment information...
PyTorch version: 2.1.0+cu121
CUDA used to build PyTorch: 12.1
OS: Ubuntu 22.04.3 LTS (x86_64)
Is CUDA available: True
GPU models and configuration:
GPU 0: NVIDIA A100-SXM4-80GB
GPU 1: NVIDIA A100-SXM4-80GB
Nvidia driver version: 535.104.05

and on my other box:

Collecting environment information...
PyTorch version: 2.1.0+cu121
CUDA used to build PyTorch: 12.1
OS: Ubuntu 20.04.3 LTS (x86_64)
Is CUDA available: True
GPU models and configuration:
GPU 0: NVIDIA GeForce RTX 3090
Nvidia driver version: 525.60.13
"""


def test_two_machines_are_not_merged(knowledge: Knowledge) -> None:
    report = _report(TWO_MACHINES, knowledge)
    assert [g.name for g in report.machine.gpus] == ["NVIDIA A100-SXM4-80GB"] * 2
    assert report.machine.driver.version == "535.104.05"
    assert any("different machines" in n for n in report.notes)


def test_same_machine_twice_is_one_machine() -> None:
    first = TWO_MACHINES.split("and on my other box")[0]
    m = parse_dump(first + "\nafter reinstalling:\n" + first.replace("2.1.0+cu121", "2.1.2+cu121"))
    assert len(m.gpus) == 2 and not m.notes


def test_temperature_at_the_cards_own_limit(knowledge: Knowledge) -> None:
    text = """==============NVSMI LOG==============
Driver Version                            : 465.27
Attached GPUs                             : 1
GPU 00000000:2D:00.0
    Temperature
        GPU Current Temp                  : {t} C
        GPU Shutdown Temp                 : 102 C
        GPU Slowdown Temp                 : 97 C
        GPU Max Operating Temp            : 87 C
"""
    assert _alarms(_report(text.format(t=86), knowledge)).get("gpu-throttled") == "warning"
    assert _alarms(_report(text.format(t=98), knowledge)).get("gpu-throttled") == "warning"
    assert "gpu-throttled" not in _alarms(_report(text.format(t=60), knowledge))


def test_xml_section_without_the_document(knowledge: Knowledge) -> None:
    text = """        <clocks_event_reasons>
            <clocks_event_reason_gpu_idle>Active</clocks_event_reason_gpu_idle>
            <clocks_event_reason_hw_slowdown>Not Active</clocks_event_reason_hw_slowdown>
        </clocks_event_reasons>
        <clocks_event_reasons_counters>
            <clocks_event_reasons_counters_sw_power_cap>0 us</clocks_event_reasons_counters_sw_power_cap>
"""
    report = _report(text, knowledge)
    assert report.machine.gpus[0].throttle_reasons == ["gpu_idle"]
    assert _alarms(report) == {}


def test_cuda_visible_devices_from_a_command_line(knowledge: Knowledge) -> None:
    text = (
        "(env) root@box:/# CUDA_VISIBLE_DEVICES='' python train.py\n"
        "E cuda_driver.cc:320] failed call to cuInit: CUDA_ERROR_NO_DEVICE: "
        "no CUDA-capable device is detected\n"
    )
    report = _report(text, knowledge)
    assert report.machine.host.cuda_visible_devices == ""
    alarms = _alarms(report)
    assert alarms.get("cuda-visible-devices-hides-gpu") == "error" and "no-gpu" not in alarms


def test_wsl1_has_no_gpu(knowledge: Knowledge) -> None:
    text = (
        "- Platform: Linux-4.4.0-19041-Microsoft-x86_64-with-glibc2.31\n"
        "- PyTorch version (GPU?): 1.12.1+cu116 (False)\n"
    )
    nogpu = [f for f in _report(text, knowledge).findings if f.code == "no-gpu"]
    assert nogpu and "WSL 1" in nogpu[0].title


def test_exclusive_process_gpu_held_by_another_process_is_an_error(knowledge: Knowledge) -> None:
    from advisor.machine import GPU, GPUProcess, Machine

    held = GPU(
        index=0,
        name="Tesla K40m",
        compute_mode="Exclusive_Process",
        processes=[GPUProcess(pid=4242, name="python", kind="compute")],
    )
    report = build_report(Machine(source="nvidia-smi", gpus=[held]), knowledge)
    assert _alarms(report).get("gpu-busy") == "error"
    free = held.model_copy(update={"processes": []})
    assert "gpu-busy" not in _alarms(build_report(Machine(source="nvidia-smi", gpus=[free]), knowledge))
    shared = held.model_copy(update={"compute_mode": "Default"})
    assert "gpu-busy" not in _alarms(build_report(Machine(source="nvidia-smi", gpus=[shared]), knowledge))


def test_unknown_gpu_fix_says_what_decides_the_build(knowledge: Knowledge) -> None:
    report = _report("AssertionError: Torch not compiled with CUDA enabled\n", knowledge)
    cpu = [f for f in report.findings if f.code == "torch-cpu-only"]
    assert cpu and cpu[0].severity == "warning"
    assert "nvidia-smi -L" in (cpu[0].fix or "")
    mac = _report(
        '  File "/Users/me/sd/modules/devices.py", line 40\nTorch not compiled with CUDA enabled\n', knowledge
    )
    assert "torch-cpu-only" not in _alarms(mac) and "no-gpu" in _alarms(mac)


def test_gpu_below_any_build_and_a_placeholder_warning(knowledge: Knowledge) -> None:
    table = (
        "| NVIDIA-SMI 450.51.06    Driver Version: 450.51.06    CUDA Version: 11.0     |\n"
        "|   0  Tesla K20m          Off  | 00000000:03:00.0 Off |                    0 |\n"
        "| N/A   23C    P0    46W / 225W |      0MiB /  4743MiB |      0%      Default |\n"
    )
    warned = (
        "Found GPU%d %s which is of cuda capability %d.%d.\n"
        "PyTorch no longer supports this GPU because it is too old.\n"
    )
    report = _report(warned + table, knowledge)
    assert _alarms(report).get("arch-not-in-build") == "error"
    assert "arch-not-in-build" not in _alarms(_report(table, knowledge))  # the table alone says nothing


def test_kohya_start_up_log_is_healthy(knowledge: Knowledge) -> None:
    text = (
        "22:09:42-469548 INFO     Torch 2.7.0+cu128\n"
        "22:09:42-521003 INFO     Torch backend: nVidia CUDA 12.8 cuDNN 90701\n"
        "22:09:42-537630 INFO     Torch detected GPU: NVIDIA GeForce RTX 3060 Ti VRAM 7867MB"
        " Arch 8.6 Cores 38\n"
    )
    report = _report(text, knowledge)
    assert report.machine.torch.version == "2.7.0+cu128"
    assert report.machine.gpus[0].compute_capability == "8.6"
    assert _alarms(report) == {}


def test_torch_counts_no_gpu_while_nvidia_smi_lists_one(knowledge: Knowledge) -> None:
    from advisor.machine import GPU, DriverInfo, HostInfo, Machine, TorchInfo

    base = Machine(
        source="collect_env",
        host=HostInfo(os="Linux", machine_arch="x86_64"),
        driver=DriverInfo(version="550.54.15", cuda_version="12.4", nvml_ok=True),
        gpus=[GPU(index=0, name="NVIDIA A100-SXM4-80GB")],
        torch=TorchInfo(installed=True, version="2.4.0+cu121", cuda_version="12.1", cuda_available=False),
    )
    hidden = [f for f in build_report(base, knowledge).findings if f.code == "cuda-visible-devices-hides-gpu"]
    assert hidden and hidden[0].severity == "warning"
    works = base.model_copy(update={"torch": base.torch.model_copy(update={"cuda_available": True})})
    assert "cuda-visible-devices-hides-gpu" not in _alarms(build_report(works, knowledge))


@pytest.mark.parametrize(
    ("text", "code", "severity"),
    [
        ("ImportError: No module named torch\n", "torch-not-installed", "warning"),
        ("ModuleNotFoundError: No module named 'torch._C'\n", "torch-not-installed", "warning"),
        (
            "OSError: libcudnn.so.9: cannot open shared object file: No such file or directory\n",
            "torch-not-installed",
            "warning",
        ),
        (
            "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total "
            "capacity of 79.10 GiB of which 1.20 GiB is free. Process 1234 has 70.00 GiB memory in use. "
            "Including non-PyTorch memory, this process has 7.00 GiB memory in use.\n",
            "gpu-busy",
            "warning",
        ),
    ],
)
def test_import_failures_and_memory_held_elsewhere(
    text: str, code: str, severity: str, knowledge: Knowledge
) -> None:
    assert _alarms(_report(text, knowledge)).get(code) == severity


def test_own_memory_alone_is_not_another_process(knowledge: Knowledge) -> None:
    text = (
        "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity "
        "of 23.65 GiB of which 1.20 GiB is free. Including non-PyTorch memory, this process has 22.40 GiB "
        "memory in use.\n"
    )
    report = _report(text, knowledge)  # the job's own OOM: CUDA works, nothing wrong with the machine
    assert report.machine.torch.cuda_available is True and _alarms(report) == {}


def test_power_cables_and_bar_messages_name_the_cause(knowledge: Knowledge) -> None:
    cables = (
        "[ 5.1] NVRM: GPU 0000:01:00.0: GPU does not have the necessary power cables connected.\n"
        "[ 5.2] NVRM: GPU 0000:01:00.0: RmInitAdapter failed! (0x24:0x1c:1436)\n"
    )
    found = [f for f in _report(cables, knowledge).findings if f.code == "no-driver"]
    assert len(found) == 1 and "power cables" in found[0].title
    bar = (
        "NVRM: This PCI I/O region assigned to your NVIDIA device is invalid:\n"
        "NVRM: BAR1 is 0M @ 0x0 (PCI:0000:03:00.0)\n"
    )
    found = [f for f in _report(bar, knowledge).findings if f.code == "no-driver"]
    assert len(found) == 1 and "Above 4G" in (found[0].fix or "")


def test_live_gpu_less_machine_with_a_cuda_toolkit_is_not_cpu_only(knowledge: Knowledge) -> None:
    """A probe that read the PCI bus and saw no NVIDIA device knows there is no GPU: CPU torch is right."""
    from advisor.machine import DriverInfo, HostInfo, Machine, TorchInfo

    live = Machine(
        source="live",
        host=HostInfo(os="Linux", machine_arch="x86_64", system_cuda_version="13.0"),
        driver=DriverInfo(nvml_ok=False, nvml_error="NVML Shared Library Not Found", pci_devices=[]),
        gpus=[],
        torch=TorchInfo(
            installed=True, version="2.13.0+cpu", built_with_cuda=False, cuda_available=False, device_count=0
        ),
    )
    alarms = _alarms(build_report(live, knowledge))
    assert "torch-cpu-only" not in alarms and "no-driver" not in alarms
    pasted = live.model_copy(update={"source": "collect_env", "driver": DriverInfo()})
    cpu = [f for f in build_report(pasted, knowledge).findings if f.code == "torch-cpu-only"]
    assert cpu and cpu[0].severity == "warning" and "paste" not in cpu[0].detail


def test_mig_uuid_in_cuda_visible_devices_is_mig_in_use(knowledge: Knowledge) -> None:
    text = (
        "CUDA_VISIBLE_DEVICES=MIG-feee0c61-26ec-5616-bb59-b6d777cc4f34 ipython\n"
        "Nvidia driver version: 515.86.01\n"
    )
    alarms = _alarms(_report(text, knowledge))
    assert alarms.get("mig-enabled") == "warning" and "cuda-visible-devices-hides-gpu" not in alarms


def test_cuda_visible_devices_from_a_substitution_is_unknown(knowledge: Knowledge) -> None:
    text = 'export CUDA_VISIBLE_DEVICES=`cat $PBS_GPUFILE | awk -F"-gpu" \'{ printf A$2;A=","}\'`\n'
    text += "all CUDA-capable devices are busy or unavailable\n"
    report = _report(text, knowledge)
    assert report.machine.host.cuda_visible_devices is None
    assert "cuda-visible-devices-hides-gpu" not in _alarms(report)


def test_pip_finds_no_torch_wheel(knowledge: Knowledge) -> None:
    text = (
        "ERROR: Could not find a version that satisfies the requirement torch==2.1.2 (from versions: 2.2.0)\n"
        "ERROR: No matching distribution found for torch==2.1.2\n"
    )
    assert _alarms(_report(text, knowledge)).get("torch-not-installed") == "warning"


def test_collect_env_no_cuda_on_linux_is_no_gpu(knowledge: Knowledge) -> None:
    text = (
        "PyTorch version: 2.1.2+cu121\nCUDA used to build PyTorch: 12.1\nOS: Ubuntu 22.04.4 LTS (x86_64)\n"
        "Is CUDA available: False\nCUDA runtime version: No CUDA\nGPU models and configuration: No CUDA\n"
        "Nvidia driver version: No CUDA\ncuDNN version: No CUDA\n"
    )
    alarms = _alarms(_report(text, knowledge))
    assert "no-gpu" in alarms and "no-driver" not in alarms and "torch-cpu-only" not in alarms


def test_error_804_with_a_compat_libcuda_over_an_older_module(knowledge: Knowledge) -> None:
    msg = (
        "UserWarning: CUDA initialization: Unexpected error from cudaGetDeviceCount(). Did you run some cuda "
        "functions before calling NumCudaDevices() that might have already set an error? Error 804: forward "
        "compatibility was attempted on non supported HW\n"
    )
    compat = "- Driver Version: 460.80\n- CUDA Version: 11.3\n" + msg  # 460's own CUDA is 11.2
    alarms = _alarms(_report(compat, knowledge))
    assert alarms.get("driver-library-mismatch") == "error" and "driver-too-old" not in alarms
    native = "- Driver Version: 535.183.01\n- CUDA Version: 12.2\n" + msg
    assert "driver-library-mismatch" not in _alarms(_report(native, knowledge))


def test_a_fence_glued_to_its_content_keeps_the_content(knowledge: Knowledge) -> None:
    text = (
        "```Error: Unexpected error from cudaGetDeviceCount(). Error 803: system has unsupported display "
        "driver / cuda driver combination```\n"
    )
    assert _alarms(_report(text, knowledge)).get("driver-library-mismatch") == "error"
