"""``python -m torch.utils.collect_env`` (PyTorch 1.0 → 2.x, vLLM's variant) → torch, host, driver, GPUs.

collect_env prints ``Key: value`` lines; vLLM pads them (``Key     : value``) and groups them under
``=====`` banners; hand-edited pastes use full-width colons or drop the colon. What each wording means:

- ``N/A`` for the torch fields: ``import torch`` failed (collect_env's ``TORCH_AVAILABLE`` is False).
- ``CUDA used to build PyTorch: Could not collect``: ``torch.version.cuda`` is None, a CPU-only build
  (or ROCm, where collect_env prints ``N/A`` and fills "ROCM used to build PyTorch").
- ``CUDA runtime version``: the system toolkit (nvcc), *not* the runtime inside the torch wheel.
- ``GPU models and configuration``: the output of ``nvidia-smi -L``; ``Could not collect`` means nvidia-smi
  failed or is absent (Jetson, macOS), so the GPU list is unknown, not empty.
- ``Nvidia driver version``: parsed from nvidia-smi's banner, so a value means NVML answered.
- ``cuDNN version``: a system libcudnn found by collect_env; a pip ``nvidia-cudnn-cu1x`` wheel (what
  PyPI torch loads) is preferred when the library list shows one.
"""

from __future__ import annotations

import re
from typing import Any

from advisor.dumps import values as v
from advisor.dumps.detect import hit_lines
from advisor.dumps.lazy_re import LazyPattern
from advisor.dumps.partial import MAX_GPUS, Partial
from advisor.machine import GPU, DriverInfo, HostInfo, Machine, MigInstance, TorchInfo

KIND = "collect_env"

_KEYS = {
    "pytorch version": "torch",
    "is debug build": "debug",
    "cuda used to build pytorch": "torch_cuda",
    "rocm used to build pytorch": "torch_rocm",
    "os": "os",
    "python version": "python",
    "python platform": "platform",
    "is cuda available": "cuda_available",
    "cuda runtime version": "system_cuda",
    "gpu models and configuration": "gpus",
    "nvidia driver version": "driver",
    "cudnn version": "cudnn",
    "hip runtime version": "hip_runtime",
}
# Keys that only collect_env prints; "OS" or "Python version" alone in chatter prove nothing.
_WEAK = {"os", "python", "platform"}
_LSCPU = {
    "architecture": "arch",
    "model name": "cpu_model",
    "cpu(s)": "cpu_threads",
    "core(s) per socket": "cores_per_socket",
    "socket(s)": "sockets",
    "cpu max mhz": "cpu_max_mhz",
    "flags": "cpu_flags",
    # Windows (wmic / PowerShell) CPU block
    "name": "cpu_model",
    "maxclockspeed": "cpu_max_mhz",
    "numberofcores": "cpu_cores",
    "numberoflogicalprocessors": "cpu_threads",
}
_MAX_LINE = 8000
_WINDOWS_ONLY = {"name", "maxclockspeed", "numberofcores", "numberoflogicalprocessors"}

_KEY_VALUE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_ ()./-]{0,60}?)[ \t]*[:：=][ \t]?(.*)$")
_NO_COLON_TORCH = re.compile(r"^\s*PyTorch version\s+(\d\S*)\s*$", re.IGNORECASE)
_GPU_LINE = re.compile(r"^\s*GPU\s*(\d{1,4})\s*[:：]\s*(.*)$")
_MIG_LINE = re.compile(r"^\s*MIG\s+(\S+)\s+Device\s+\d+", re.IGNORECASE)
_UUID = re.compile(r" ?\(UUID:[^)]*\)")
_PACKAGE = re.compile(r"^\s*\[(pip3?|conda)\]\s+([A-Za-z0-9_.\-]+)(?:==|\s+)(\S+)")
_VERSION = re.compile(r"^\d+(?:\.\d+)+")
_ARCHES = {"x86_64", "amd64", "aarch64", "arm64", "ppc64le", "s390x", "i686", "armv7l"}
_PLATFORM_LINUX = re.compile(r"^Linux-(.+?)-(x86_64|aarch64|arm64|ppc64le|s390x|i686|armv7l)(?:-with-.*)?$")
_CUDNN_FILE = LazyPattern(r"(?:libcudnn\.so\.|cudnn64_|libcudnn\.)(\d+(?:\.\d+){0,2})")
_CUDA_TAG = LazyPattern(r"\+cu(\d{2,3})\b")
# `pip list` ("torch    2.6.0+cu124") or `pip freeze` ("torch==2.6.0+cu124"), pasted without collect_env.
_PIP_TORCH = re.compile(r"^\s*torch(?:==|\s+)(\d+\.\d+[\w.+]*)\s*$")
# NVIDIA driver versions: 384.130, 550.54.15, 566.36 (Windows). Anything shorter is a cut line.
_DRIVER = re.compile(r"^\d{3}\.\d{2,3}(?:\.\d{2,3})?$")
_VISIBLE = re.compile(r"^\s*CUDA_VISIBLE_DEVICES=(\S*)\s*$")
_MULTIPLIER = LazyPattern(r"^(?:(\d{1,3})\s*[x×]\s+)?(.*?)(?:\s*\(x\s*(\d{1,3})\))?$")


# The same facts as JSON: collect_env's get_env_info() fields, as AUTOMATIC1111's Sysinfo ("Torch env
# info") and other tools embed them.
_JSON_FIELDS = {
    "torch_version": "torch",
    "is_debug_build": "debug",
    "cuda_compiled_version": "torch_cuda",
    "hip_compiled_version": "torch_rocm",
    "os": "os",
    "python_version": "python",
    "python_platform": "platform",
    "is_cuda_available": "cuda_available",
    "cuda_runtime_version": "system_cuda",
    "nvidia_gpu_models": "gpus",
    "nvidia_driver_version": "driver",
    "cudnn_version": "cudnn",
    "hip_runtime_version": "hip_runtime",
}
_JSON_LINE = re.compile(
    r'^\s*"(' + "|".join(_JSON_FIELDS) + r')"\s*:\s*(?:"((?:[^"\\\n]|\\.){0,2000})"|(null|true|false))'
)

_CANDIDATE = re.compile(
    r"^[ \t]*(?=[A-Za-z\[\"])(?:(?i:"  # the lookahead fails XML/table lines fast (10x on big pastes)
    + "|".join(re.escape(k) for k in sorted({*_KEYS, *_LSCPU} - _WINDOWS_ONLY, key=len, reverse=True))
    + r")[ \t]*[:：=]|PyTorch version|\[(?:pip3?|conda)\]|CUDA_VISIBLE_DEVICES=|CPU:[ \t]*$|CPU Info[ \t]*$"
    r"|torch(?:==|[ \t]+)\d"
    r'|"(?:' + "|".join(_JSON_FIELDS) + r')"[ \t]*:)',
    re.MULTILINE,
)
_MAX_HITS = 20_000  # one collect_env is a few hundred lines; a paste repeating it says nothing new


def scan(lines: list[str], mask: bytearray) -> list[Partial]:
    """The collect_env partial (none, or one) read from the lines outside the nvidia-smi spans."""
    found = scan_one(lines, mask)
    return [] if found is None else [found]


def scan_one(lines: list[str], mask: bytearray) -> Partial | None:
    """Read the collect_env lines outside the nvidia-smi spans (found by one regex pass); None if none."""
    facts: dict[str, str] = {}
    cpu: dict[str, str] = {}
    packages: dict[str, str] = {}
    gpu_lines: list[str] | None = None
    cudnn_files: list[str] = []
    visible: str | None = None
    position: int | None = None
    strong = False
    done = 0  # lines before this were read as part of a block
    for i in hit_lines(lines, mask, _CANDIDATE, _MAX_HITS):
        if i < done:
            continue
        s = lines[i].strip()
        if len(s) > _MAX_LINE:
            continue  # collect_env lines (even lscpu's Flags) are far shorter; long ones are junk
        if s in {"CPU:", "CPU Info"}:
            done = _cpu_block(lines, mask, i + 1, cpu)
            continue
        if m := _PACKAGE.match(s):
            packages.setdefault(m[2].lower(), m[3])
            strong = True
            position = i if position is None else position
            continue
        if m := _PIP_TORCH.match(s):
            packages.setdefault("torch", m[1])
            strong = True
            position = i if position is None else position
            continue
        if m := _VISIBLE.match(s):
            visible = m[1]
            continue
        if m := _JSON_LINE.match(s):
            json_field = _JSON_FIELDS[m[1]]
            value = _json_text(m[2]) if m[2] is not None else ("None" if m[3] == "null" else m[3].title())
            if json_field == "gpus" and gpu_lines is None:
                gpu_lines = [x.strip() for x in value.split("\n") if x.strip()] or [value]
            if json_field not in facts:
                facts[json_field] = value
                strong = strong or json_field not in _WEAK
                position = i if position is None else position
            continue
        m = _NO_COLON_TORCH.match(s)
        key, value = ("pytorch version", m[1]) if m else _split(s)
        if key is None:
            continue
        field = _KEYS.get(key)
        if field == "gpus":  # claim every GPU block, even a repeated one, so no -L scanner reads it
            block, done = _gpu_block(lines, mask, i + 1, value)
            gpu_lines = block if gpu_lines is None else gpu_lines
        if field is not None and field not in facts:
            facts[field] = value
            strong = strong or field not in _WEAK
            position = i if position is None else position
            if field == "cudnn":
                cudnn_files, done = _following_paths(lines, mask, i + 1)
        elif (cpu_field := _LSCPU.get(key)) is not None and key not in _WINDOWS_ONLY:
            cpu.setdefault(cpu_field, value)
    if not strong or position is None:
        return None
    return Partial(KIND, position, _machine(facts, cpu, packages, gpu_lines, cudnn_files, visible))


def _json_text(raw: str) -> str:
    """A JSON string's text (escapes undone; a bad escape leaves the raw text)."""
    import json

    try:
        text = json.loads(f'"{raw}"')
    except ValueError:
        return raw
    return text if isinstance(text, str) else raw


def _cpu_block(lines: list[str], mask: bytearray, i: int, cpu: dict[str, str]) -> int:
    """lscpu output, or Windows' ``Name=...`` CPU lines, up to the first blank line."""
    end = min(len(lines), i + 300)
    while i < end and not mask[i] and lines[i].strip() and len(lines[i]) <= _MAX_LINE:
        key, value = _split(lines[i])
        if key is not None and (field := _LSCPU.get(key)) is not None:
            cpu.setdefault(field, value)
        i += 1
    return i


def _split(s: str) -> tuple[str | None, str]:
    m = _KEY_VALUE.match(s)
    if m is None:
        return None, ""
    return " ".join(m[1].lower().split()), m[2].strip()


def _gpu_block(lines: list[str], mask: bytearray, i: int, first: str) -> tuple[list[str], int]:
    block = [first] if first.strip() else []
    while i < len(lines) and not mask[i] and len(block) <= MAX_GPUS * 8:
        s = lines[i].strip()
        if not (_GPU_LINE.match(s) or _MIG_LINE.match(s)):
            break
        block.append(s)
        mask[i] = 1  # claimed: the nvidia-smi -L scanner must not read these lines again
        i += 1
    return block, i


def _following_paths(lines: list[str], mask: bytearray, i: int) -> tuple[list[str], int]:
    """The library paths under "cuDNN version: Probably one of the following:"."""
    paths = []
    while (
        i < len(lines) and not mask[i] and "cudnn" in lines[i].lower() and len(_split(lines[i])[0] or "") < 2
    ):
        paths.append(lines[i].strip())
        i += 1
    return paths, i


def _machine(
    facts: dict[str, str],
    cpu: dict[str, str],
    packages: dict[str, str],
    gpu_lines: list[str] | None,
    cudnn_files: list[str],
    visible: str | None,
) -> Machine:
    torch = _torch(facts, packages, cudnn_files)
    host = _host(facts, cpu, torch.version, visible)
    driver_version = v.clean(facts.get("driver"))
    if driver_version is not None and not _DRIVER.match(driver_version):
        driver_version = None  # a paste cut mid-line ("550.1", "5") would read as an ancient driver
    driver = DriverInfo(version=driver_version, nvml_ok=True if driver_version else None)
    gpus = _gpus(gpu_lines)
    # collect_env writes "No CUDA" into the GPU, driver and runtime fields only when CUDA is unavailable
    # AND nvidia-smi, the driver and nvcc all gave nothing: no NVIDIA GPU this environment can see.
    no_cuda = all((facts.get(k) or "").strip() == "No CUDA" for k in ("gpus", "driver"))
    return Machine(
        source=KIND,
        host=host,
        driver=driver,
        gpus=gpus or [],
        gpus_known=gpus is not None or no_cuda,
        torch=torch,
    )


def _torch(facts: dict[str, str], packages: dict[str, str], cudnn_files: list[str]) -> TorchInfo:
    raw = facts.get("torch")
    version = v.clean(raw)
    import_error = None
    pip_version = packages.get("torch") or packages.get("pytorch")
    if version is None and pip_version and _VERSION.match(pip_version):
        version = pip_version
        if raw is not None and raw.strip().upper() == "N/A":
            import_error = "collect_env could not import torch (it printed 'PyTorch version: N/A')"
    installed: bool | None = True if version else None
    if version is None and raw is not None and raw.strip().upper() == "N/A":
        installed = False

    hip = _version_or_none(facts.get("torch_rocm"))
    cuda_raw = facts.get("torch_cuda")
    cuda = _version_or_none(cuda_raw)
    built: bool | None = None
    if cuda is not None or hip is not None:
        built = True  # torch.backends.cuda.is_built() is True on ROCm builds too
    elif cuda_raw is not None and cuda_raw.strip().lower() in {"could not collect", "none"} and installed:
        built = False
    elif cuda_raw is None and version:
        tag = _CUDA_TAG.search(version)  # a cut-off dump: the wheel tag still tells the variant
        if tag:
            cuda, built = f"{tag[1][:-1]}.{tag[1][-1]}", True
        elif version.endswith("+cpu"):
            built = False

    cudnn = (
        packages.get("nvidia-cudnn-cu12")
        or packages.get("nvidia-cudnn-cu11")
        or packages.get("nvidia-cudnn-cu13")
    )
    cudnn_version = _dotted(cudnn, 3) if cudnn else _cudnn_from(facts.get("cudnn"), cudnn_files)
    return TorchInfo(
        installed=installed,
        version=version,
        cuda_version=cuda,
        hip_version=hip,
        cudnn_version=cudnn_version,
        debug_build=v.flag(facts.get("debug")),
        built_with_cuda=built,
        cuda_available=v.flag(facts.get("cuda_available")),
        import_error=import_error,
    )


def _version_or_none(text: str | None) -> str | None:
    s = v.clean(text)
    return s if s is not None and _VERSION.match(s) else None


def _dotted(text: str, parts: int) -> str | None:
    m = _VERSION.match(text)
    return ".".join(m.group(0).split(".")[:parts]) if m else None


def _cudnn_from(value: str | None, files: list[str]) -> str | None:
    s = v.clean(value)
    if s is not None and _VERSION.match(s):
        return _dotted(s, 3)
    for text in ([s] if s else []) + files:
        m = _CUDNN_FILE.search(text)
        if m and "." in m[1]:
            return m[1]
    return None


def _host(
    facts: dict[str, str], cpu: dict[str, str], torch_version: str | None, visible: str | None
) -> HostInfo:
    os_text = v.clean(facts.get("os"))
    platform = v.clean(facts.get("platform")) or ""
    os_name = os_release = arch = kernel = None
    if os_text:
        m = re.match(r"^(.*?)\s*\(([^()]+)\)\s*$", os_text)
        os_release, arch = (m[1], m[2]) if m and m[2] in _ARCHES else (os_text, None)
        low = os_text.lower()
        os_name = "Windows" if "windows" in low else "Darwin" if "mac" in low or "darwin" in low else "Linux"
    if m := _PLATFORM_LINUX.match(platform):
        os_name, kernel, arch = "Linux", m[1], arch or m[2]
    elif platform.startswith("Windows-"):
        os_name, kernel = "Windows", platform.split("-")[2] if platform.count("-") >= 2 else None
    elif platform.startswith("macOS-"):
        os_name = "Darwin"
    lscpu_arch = cpu.get("arch", "").strip()
    if arch is None and lscpu_arch in _ARCHES:
        arch = lscpu_arch

    jetson: bool | None = None
    wsl: bool | None = None
    if os_name in {"Windows", "Darwin"}:
        jetson = wsl = False
    elif kernel:
        jetson = "tegra" in kernel.lower()
        wsl = "microsoft" in kernel.lower() or "wsl" in kernel.lower()
    elif arch in {"x86_64", "amd64"}:
        jetson = False
    if (
        not jetson
        and torch_version
        and re.search(r"\bnv\d{2}\.\d{2}\b", torch_version)
        and arch in {"aarch64", "arm64"}
    ):
        jetson = True  # NVIDIA's JetPack wheels are tagged "nv23.02"

    cores = v.integer(cpu.get("cpu_cores"))
    per_socket, sockets = v.integer(cpu.get("cores_per_socket")), v.integer(cpu.get("sockets"))
    if cores is None and per_socket is not None and sockets is not None:
        cores = per_socket * sockets
    flags = cpu.get("cpu_flags")
    python = _VERSION.match((facts.get("python") or "").strip())
    return HostInfo(
        os=os_name,
        os_release=os_release,
        kernel=kernel,
        machine_arch=arch,
        is_wsl=wsl,
        cpu_model=v.clean(cpu.get("cpu_model")),
        cpu_cores=cores,
        cpu_threads=v.integer(cpu.get("cpu_threads")),
        cpu_max_mhz=v.number(cpu.get("cpu_max_mhz")),
        cpu_flags=[f for f in v.SIMD_FLAGS if f in flags.split()] if flags else None,
        python_version=python.group(0) if python else None,
        cuda_visible_devices=visible,
        system_cuda_version=_version_or_none(facts.get("system_cuda")),
        jetson=jetson,
    )


def _gpus(block: list[str] | None) -> list[GPU] | None:
    """GPUs from the ``nvidia-smi -L`` lines (or a single device name); None when the list is unknown."""
    if not block or v.clean(block[0]) is None:
        return None
    gpus: dict[int, dict[str, Any]] = {}
    for s in block[:MAX_GPUS]:
        if m := _GPU_LINE.match(s):
            gpus[int(m[1])] = {"index": int(m[1]), **_named(_UUID.sub("", m[2]).strip())}
        elif (m := _MIG_LINE.match(s)) and gpus:
            last = gpus[max(gpus)]
            last["mig_enabled"] = True
            last.setdefault("mig_instances", []).append(MigInstance(profile=m[1]))
    if (
        not gpus and len(block[0]) < 300
    ):  # a bare name (old collect_env, ROCm): "AMD Instinct MI250X (gfx90a...)"
        m = _MULTIPLIER.match(block[0].strip())
        count = int((m and (m[1] or m[3])) or 1)
        name = m[2] if m else block[0].strip()
        gpus = {i: {"index": i, **_named(name)} for i in range(min(count, 64))}
    return [GPU(**f) for f in gpus.values()] or None


def _named(name: str) -> dict[str, Any]:
    fields: dict[str, Any] = {"name": v.clean(name)}
    if m := re.match(r"^(.*?)\s*\((gfx[0-9a-f]+[^)]*)\)\s*$", name):
        fields.update(name=m[1], architecture=m[2])
    low = name.lower()
    if any(w in low for w in ("amd", "radeon", "instinct", "gfx")):
        fields["vendor"] = "amd"
    return fields
