"""Host parsing on recorded /proc and /etc contents, and the host probe on a fake root tree."""

from __future__ import annotations

import platform
from pathlib import Path

import pytest

from advisor.probe.host import (
    detect_container,
    is_wsl,
    parse_cpuinfo,
    parse_cuda_version_file,
    parse_meminfo,
    parse_nvcc_version,
    parse_os_release,
    probe_host,
    system_cuda_version,
)

# /proc/cpuinfo of a 2-vCPU AMD EPYC VM (the machine these tests were written on), first block in full.
EPYC_VM_CPUINFO = """\
processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 25
model\t\t: 17
model name\t: AMD EPYC
stepping\t: 1
cpu MHz\t\t: 2596.134
cache size\t: 1024 KB
physical id\t: 0
siblings\t: 2
core id\t\t: 0
cpu cores\t: 2
flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 \
ht syscall nx mmxext fxsr_opt pdpe1gb rdtscp lm constant_tsc rep_good nopl xtopology nonstop_tsc cpuid \
extd_apicid tsc_known_freq pni pclmulqdq ssse3 fma cx16 pcid sse4_1 sse4_2 x2apic movbe popcnt \
tsc_deadline_timer aes xsave avx f16c rdrand hypervisor lahf_lm cmp_legacy cr8_legacy abm sse4a misalignsse \
3dnowprefetch osvw topoext vmmcall fsgsbase tsc_adjust bmi1 avx2 smep bmi2 erms invpcid avx512f avx512dq \
rdseed adx smap avx512ifma clflushopt clwb avx512cd sha_ni avx512bw avx512vl xsaveopt xsavec xgetbv1 xsaves \
avx512_bf16 clzero xsaveerptr arat avx512vbmi umip avx512_vbmi2 gfni vaes vpclmulqdq avx512_vnni \
avx512_bitalg avx512_vpopcntdq rdpid fsrm
bogomips\t: 5192.26
power management:

processor\t: 1
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC
cpu MHz\t\t: 2596.134
physical id\t: 0
core id\t\t: 1
flags\t\t: fpu sse4_2 avx avx2
power management:
"""

# A hyper-threaded Xeon: two logical CPUs per core (same physical id and core id), AMX present.
XEON_HT_CPUINFO = "\n".join(
    f"processor\t: {cpu}\nmodel name\t: Intel(R) Xeon(R) Platinum 8480+\ncpu MHz\t\t: {mhz}\n"
    f"physical id\t: 0\ncore id\t\t: {cpu % 2}\n"
    "flags\t\t: fpu sse4_2 avx avx2 fma avx512f avx512_bf16 avx512_fp16 amx_bf16 amx_tile amx_int8\n"
    for cpu, mhz in ((0, "2000.000"), (1, "3800.000"), (2, "2000.000"), (3, "2000.000"))
)

# /proc/cpuinfo on a Jetson AGX Orin (Cortex-A78AE): no "model name", SIMD in "Features".
ORIN_CPUINFO = """\
processor\t: 0
BogoMIPS\t: 62.50
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc \
dcpop asimddp uscat ilrcpc flagm paca pacg
CPU implementer\t: 0x41
CPU architecture: 8
CPU variant\t: 0x1
CPU part\t: 0xd42
CPU revision\t: 1

processor\t: 1
BogoMIPS\t: 62.50
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc \
dcpop asimddp uscat ilrcpc flagm paca pacg
CPU part\t: 0xd42
"""

MEMINFO = "MemTotal:       24684084 kB\nMemFree:        23984584 kB\nMemAvailable:   24292000 kB\n"

UBUNTU_OS_RELEASE = """\
PRETTY_NAME="Ubuntu 22.04.3 LTS"
NAME="Ubuntu"
VERSION_ID="22.04"
VERSION="22.04.3 LTS (Jammy Jellyfish)"
ID=ubuntu
"""

NVCC_12_4 = """\
nvcc: NVIDIA (R) Cuda compiler driver
Copyright (c) 2005-2024 NVIDIA Corporation
Built on Thu_Mar_28_02:18:24_PDT_2024
Cuda compilation tools, release 12.4, V12.4.131
Build cuda_12.4.r12.4/compiler.34097967_0
"""

CUDA_VERSION_JSON = (
    '{\n   "cuda" : {\n      "name" : "CUDA SDK",\n      "version" : "12.4.1"\n   },\n'
    '   "cuda_cudart" : {\n      "name" : "CUDA Runtime (cudart)",\n      "version" : "12.4.127"\n   }\n}\n'
)


def test_cpuinfo_amd_vm() -> None:
    cpu = parse_cpuinfo(EPYC_VM_CPUINFO)
    assert cpu.model == "AMD EPYC"
    assert (cpu.cores, cpu.threads) == (2, 2)
    assert cpu.max_mhz == pytest.approx(2596.134)
    assert cpu.flags == ["sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_bf16"]


def test_cpuinfo_hyperthreaded_xeon() -> None:
    cpu = parse_cpuinfo(XEON_HT_CPUINFO)
    assert cpu.model == "Intel(R) Xeon(R) Platinum 8480+"
    assert (cpu.cores, cpu.threads) == (2, 4)
    assert cpu.max_mhz == pytest.approx(3800.0)
    assert cpu.flags is not None
    assert {"amx_bf16", "amx_tile", "avx512_fp16"} <= set(cpu.flags)
    assert "amx_int8" not in cpu.flags  # only the listed SIMD flags are kept


def test_cpuinfo_aarch64_jetson() -> None:
    cpu = parse_cpuinfo(ORIN_CPUINFO)
    assert cpu.model is None
    assert cpu.cores is None  # no core ids in aarch64 cpuinfo: unknown, not guessed
    assert cpu.threads == 2
    assert cpu.flags == ["asimd"]


def test_meminfo_os_release_and_toolkit_versions() -> None:
    assert parse_meminfo(MEMINFO) == 24684084 * 1024
    assert parse_meminfo("garbage") is None
    assert parse_os_release(UBUNTU_OS_RELEASE) == "Ubuntu 22.04.3 LTS"
    assert parse_os_release('NAME="Alpine Linux"\nVERSION=3.19\n') == "Alpine Linux 3.19"
    assert parse_nvcc_version(NVCC_12_4) == "12.4.131"
    assert parse_cuda_version_file(CUDA_VERSION_JSON) == "12.4.1"
    assert parse_cuda_version_file("CUDA Version 10.2.89\n") == "10.2.89"
    assert parse_cuda_version_file("nonsense") is None


def test_container_detection(tmp_path: Path) -> None:
    assert detect_container(tmp_path, {}) is None
    assert detect_container(tmp_path, {"KUBERNETES_SERVICE_HOST": "10.0.0.1"}) == "kubernetes"
    (tmp_path / "proc" / "1").mkdir(parents=True)
    (tmp_path / "proc" / "1" / "cgroup").write_text(
        "12:memory:/kubepods/burstable/pod1234/abcdef\n0::/\n", encoding="utf-8"
    )
    assert detect_container(tmp_path, {}) == "kubernetes"
    (tmp_path / "proc" / "1" / "cgroup").write_text("0::/\n", encoding="utf-8")
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / ".containerenv").write_text("", encoding="utf-8")
    assert detect_container(tmp_path, {}) == "podman"
    (tmp_path / ".dockerenv").write_text("", encoding="utf-8")
    assert detect_container(tmp_path, {}) == "docker"


def test_wsl_detection() -> None:
    assert is_wsl("5.15.153.1-microsoft-standard-WSL2", {}) is True
    assert is_wsl("4.4.0-19041-Microsoft", {}) is True
    assert is_wsl("6.5.0-35-generic", {"WSL_DISTRO_NAME": "Ubuntu"}) is True
    assert is_wsl("6.5.0-35-generic", {}) is False


def _fake_root(tmp_path: Path) -> Path:
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc" / "cpuinfo").write_text(XEON_HT_CPUINFO, encoding="utf-8")
    (tmp_path / "proc" / "meminfo").write_text(MEMINFO, encoding="utf-8")
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "os-release").write_text(UBUNTU_OS_RELEASE, encoding="utf-8")
    (tmp_path / "etc" / "nv_tegra_release").write_text("# R35 (release), REVISION: 4.1\n", encoding="utf-8")
    freq = tmp_path / "sys" / "devices" / "system" / "cpu" / "cpu0" / "cpufreq"
    freq.mkdir(parents=True)
    (freq / "cpuinfo_max_freq").write_text("3800000\n", encoding="utf-8")
    (tmp_path / "usr" / "local" / "cuda").mkdir(parents=True)
    (tmp_path / "usr" / "local" / "cuda" / "version.json").write_text(CUDA_VERSION_JSON, encoding="utf-8")
    return tmp_path


@pytest.mark.skipif(platform.system() != "Linux", reason="the file layout read is Linux's")
def test_probe_host_on_a_fake_root(tmp_path: Path) -> None:
    root = _fake_root(tmp_path)
    env = {"CUDA_VISIBLE_DEVICES": "", "PATH": str(tmp_path / "no-bin")}

    host = probe_host(root, env)

    assert host.os == "Linux"
    assert host.os_release == "Ubuntu 22.04.3 LTS"
    assert host.cpu_model == "Intel(R) Xeon(R) Platinum 8480+"
    assert (host.cpu_cores, host.cpu_threads) == (2, 4)
    assert host.cpu_max_mhz == pytest.approx(3800.0)
    assert host.memory_total_bytes == 24684084 * 1024
    assert host.cuda_visible_devices == ""  # set but empty: hides every GPU, unlike unset
    assert host.system_cuda_version == "12.4.1"  # no nvcc on PATH: the toolkit's version.json
    assert host.jetson is True
    assert host.container is None
    assert host.python_version == platform.python_version()


def test_cuda_visible_devices_unset_is_none(tmp_path: Path) -> None:
    host = probe_host(tmp_path, {"PATH": str(tmp_path)})
    assert host.cuda_visible_devices is None
    assert host.system_cuda_version is None
    assert host.jetson is False


def test_nvcc_on_path_wins(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    nvcc = bin_dir / "nvcc"
    nvcc.write_text("#!/bin/sh\ncat <<'EOF'\n" + NVCC_12_4 + "EOF\n", encoding="utf-8")
    nvcc.chmod(0o755)
    assert system_cuda_version(tmp_path, {"PATH": str(bin_dir)}) == "12.4.131"
