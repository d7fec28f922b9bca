"""Host source: OS, CPU, memory, container/WSL/Jetson, Python, CUDA_VISIBLE_DEVICES, system CUDA toolkit.

Each file is read relative to ``root`` (``/`` on a live machine, a recorded tree in tests) and parsed by a
pure function, so every parser is tested on recorded file contents. A file that is missing or unreadable
leaves its field ``None``.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from advisor.machine import SIMD_FLAGS, HostInfo

_NVCC_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class CpuInfo:
    """What /proc/cpuinfo says about the CPU."""

    model: str | None = None
    cores: int | None = None  # physical: distinct (physical id, core id) pairs
    threads: int | None = None  # logical: "processor" entries
    max_mhz: float | None = None  # the highest "cpu MHz" seen (a current, not a rated, frequency)
    flags: list[str] | None = None


def parse_cpuinfo(text: str) -> CpuInfo:
    """Parse /proc/cpuinfo (x86 or aarch64)."""
    model = None
    threads = 0
    cores: set[tuple[str, str]] = set()
    physical_id = core_id = None
    mhz: list[float] = []
    flags: set[str] | None = None
    for line in [*text.splitlines(), ""]:
        if not line.strip():  # a blank line ends one processor's block
            if physical_id is not None and core_id is not None:
                cores.add((physical_id, core_id))
            physical_id = core_id = None
            continue
        key, _, value = (part.strip() for part in line.partition(":"))
        if key == "processor":
            threads += 1
        elif key == "model name" and model is None:
            model = value or None
        elif key == "physical id":
            physical_id = value
        elif key == "core id":
            core_id = value
        elif key == "cpu MHz":
            with contextlib.suppress(ValueError):
                mhz.append(float(value))
        elif key in ("flags", "Features") and flags is None:
            flags = set(value.split())
    return CpuInfo(
        model=model,
        cores=len(cores) or None,
        threads=threads or None,
        max_mhz=max(mhz) if mhz else None,
        flags=[f for f in SIMD_FLAGS if f in flags] if flags is not None else None,
    )


def parse_meminfo(text: str) -> int | None:
    """MemTotal from /proc/meminfo, in bytes."""
    match = re.search(r"^MemTotal:\s+(\d+)\s*kB", text, re.MULTILINE)
    return int(match.group(1)) * 1024 if match else None


def parse_os_release(text: str) -> str | None:
    """PRETTY_NAME from /etc/os-release (falling back to NAME VERSION)."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip().strip("\"'")
    if values.get("PRETTY_NAME"):
        return values["PRETTY_NAME"]
    joined = " ".join(v for v in (values.get("NAME"), values.get("VERSION")) if v)
    return joined or None


def parse_nvcc_version(text: str) -> str | None:
    """The toolkit version from ``nvcc --version``: "...release 12.4, V12.4.131" → "12.4.131".

    The full V-number is what torch's collect_env reports as "CUDA runtime version", so a live probe and
    a pasted dump give the same text.
    """
    match = re.search(r"release \S+, V(\d+(?:\.\d+)+)", text)
    if match:
        return match.group(1)
    match = re.search(r"release (\d+\.\d+)", text)
    return match.group(1) if match else None


def parse_cuda_version_file(text: str) -> str | None:
    """The toolkit version from /usr/local/cuda/version.json (CUDA >= 11.1) or version.txt (older)."""
    try:
        data = json.loads(text)
    except ValueError:
        match = re.search(r"CUDA Version (\d+(?:\.\d+)+)", text)
        return match.group(1) if match else None
    version = data.get("cuda", {}).get("version") if isinstance(data, dict) else None
    return version if isinstance(version, str) else None


def detect_container(root: Path, env: Mapping[str, str]) -> str | None:
    """The container runtime this process runs in, or ``None`` when none is seen."""
    if env.get("KUBERNETES_SERVICE_HOST"):
        return "kubernetes"
    if (root / ".dockerenv").exists():
        return "docker"
    if (root / "run" / ".containerenv").exists():
        return "podman"
    cgroup = _read(root / "proc" / "1" / "cgroup") or ""
    for marker, name in (("kubepods", "kubernetes"), ("docker", "docker"), ("libpod", "podman")):
        if marker in cgroup:
            return name
    if "lxc" in cgroup:
        return "lxc"
    # systemd-nspawn, podman and lxc set $container for PID 1; a process started inside may inherit it.
    return env.get("container") or None


def is_wsl(kernel_release: str, env: Mapping[str, str]) -> bool:
    """WSL kernels carry "microsoft" in their release ("5.15.153.1-microsoft-standard-WSL2")."""
    return "microsoft" in kernel_release.lower() or bool(env.get("WSL_DISTRO_NAME"))


def probe_host(root: Path = Path("/"), env: Mapping[str, str] | None = None) -> HostInfo:
    """Read the host facts. ``root`` and ``env`` are parameters so tests can point at a recorded tree."""
    env = os.environ if env is None else env
    uname = platform.uname()
    linux = uname.system == "Linux"
    cpu = parse_cpuinfo(_read(root / "proc" / "cpuinfo") or "") if linux else CpuInfo()
    meminfo = _read(root / "proc" / "meminfo")
    return HostInfo(
        hostname=uname.node or None,
        os=uname.system or None,
        os_release=_os_release(root) if linux else _other_os_release(uname.system),
        kernel=uname.release or None,
        machine_arch=uname.machine or None,
        is_wsl=is_wsl(uname.release, env) if linux else False,
        container=detect_container(root, env) if linux else None,
        cpu_model=cpu.model if linux else (platform.processor() or None),
        cpu_cores=cpu.cores,
        cpu_threads=cpu.threads or os.cpu_count(),
        cpu_max_mhz=_cpu_max_mhz(root) or cpu.max_mhz,
        cpu_flags=cpu.flags,
        memory_total_bytes=parse_meminfo(meminfo) if meminfo else None,
        python_version=platform.python_version(),
        cuda_visible_devices=env.get("CUDA_VISIBLE_DEVICES"),
        system_cuda_version=system_cuda_version(root, env),
        jetson=(root / "etc" / "nv_tegra_release").exists() if linux else False,
    )


def system_cuda_version(root: Path = Path("/"), env: Mapping[str, str] | None = None) -> str | None:
    """The system CUDA toolkit: ``nvcc --version`` if nvcc is on PATH, else /usr/local/cuda's version file."""
    env = os.environ if env is None else env
    nvcc = shutil.which("nvcc", path=env.get("PATH"))
    if nvcc:
        try:
            done = subprocess.run(
                [nvcc, "--version"], capture_output=True, text=True, timeout=_NVCC_TIMEOUT_S, check=False
            )
            version = parse_nvcc_version(done.stdout)
            if version:
                return version
        except (OSError, subprocess.SubprocessError):
            pass
    for name in ("version.json", "version.txt"):
        text = _read(root / "usr" / "local" / "cuda" / name)
        if text:
            version = parse_cuda_version_file(text)
            if version:
                return version
    return None


def _cpu_max_mhz(root: Path) -> float | None:
    text = _read(root / "sys" / "devices" / "system" / "cpu" / "cpu0" / "cpufreq" / "cpuinfo_max_freq")
    try:
        return int(text.strip()) / 1000.0 if text else None  # the file is in kHz
    except ValueError:
        return None


def _os_release(root: Path) -> str | None:
    for path in (root / "etc" / "os-release", root / "usr" / "lib" / "os-release"):
        text = _read(path)
        if text:
            return parse_os_release(text)
    return None


def _other_os_release(system: str) -> str | None:
    if system == "Windows":
        release, version, *_ = platform.win32_ver()
        return f"Windows {release} ({version})" if release else None
    if system == "Darwin":
        mac = platform.mac_ver()[0]
        return f"macOS {mac}" if mac else None
    return None


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
