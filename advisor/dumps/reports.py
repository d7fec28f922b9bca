"""The environment reports other tools print, read as facts: ComfyUI (start-up log and "System
Information"), AUTOMATIC1111's footer, ``python -m xformers.info``, ``transformers env`` /
``accelerate env``, ``ds_report``, ``nvcc --version``, nvtop's device lines and Ollama's GPU
discovery log.

Each tool prints ``key: value`` (or ``key ..... value``) lines with its own key names; one regular
expression per fact reads them all. The lines are found with one whole-text search (C speed, linear).
"""

from __future__ import annotations

import re
from typing import Any

from advisor.dumps import values as v
from advisor.dumps.detect import hit_lines, needle_lines
from advisor.dumps.lazy_re import LazyPattern
from advisor.dumps.partial import MAX_GPUS, Partial
from advisor.machine import GPU, DriverInfo, HostInfo, Machine, TorchInfo

KIND = "report"
_MAX_LINE = 1000
_LEAD = r"^[ \t>*`\-]*"  # markdown bullets, bold and quotes in front of a key

_TRIGGER = re.compile(
    _LEAD + r"(?i:(?:py)?torch(?:`)?[ .]?version|pytorch\.cuda|gpu\.(?:name|compute_capability)"
    r"|build\.cuda_version|gpu type|total vram|(?:\*\*)?name:(?:\*\*)?[ \t]+cuda:|device:[ \t]+\w"
    r"|(?:\*\*)?os:(?:\*\*)?[ \t]|platform:|torch cuda version|torch hip version|nvcc version"
    r"|(?:\*\*)?vram total:|device \d{1,3} \[)",
    re.MULTILINE,
)
# Keys found anywhere on a line (a log prefix before them): looked for as plain texts.
_NEEDLES = (
    "Cuda compilation tools, release",
    "torch: ",
    'msg="inference compute"',
    "'torch': ",
    '"torch": ',
    "Torch detected GPU:",
    "INFO     Torch ",
    "Driver Version:",
    "CUDA Version:",
)
# nvidia-smi's banner phrases quoted outside a table ("- 驱动版本: Driver Version: 460.80").
_SMI_DRIVER = LazyPattern(r"\bDriver Version: ?(?P<v>\d{3}\.\d{2,3}(?:\.\d{2,3})?)\b")
_SMI_CUDA = LazyPattern(r"\bCUDA Version: ?(?P<v>\d{1,2}\.\d)\b")
# kohya_ss / SD.Next start-up: "INFO     Torch 2.7.0+cu128", "Torch detected GPU: NVIDIA GeForce RTX 3060 Ti
# VRAM 7867MB Arch 8.6 Cores 38".
_LOG_TORCH = LazyPattern(r"\bINFO\s+Torch (?P<v>\d+\.\d+\.\d+[\w.+]*)\s*$")
_LOG_GPU = LazyPattern(
    r"Torch detected GPU: (?P<name>[^\n]{2,80}?) VRAM (?P<mb>\d{2,7}) ?MB"
    r"(?: Arch \(?(?P<cc>\d{1,2})[.,] ?(?P<minor>\d)\)?)?"
)
_TORCH_VERSION = LazyPattern(
    _LEAD + r"(?i:(?:py)?torch`?[ .]version)(?:[ \t]*\(GPU\?\))?(?:\*\*)?[ \t]*(?::|\.{3,})(?:\*\*)?"
    r"[ \t]*(?P<v>\d+\.\d+[\w.+]*)(?:[ \t]*\((?P<gpu>True|False)\))?"
)
_A1111_TORCH = LazyPattern(r"\btorch: (?P<v>\d+\.\d+[\w.+]*)")
_TORCH_CUDA = LazyPattern(_LEAD + r"(?i:torch cuda version)[ \t.]*(?P<v>\d+\.\d+)")
_TORCH_HIP = LazyPattern(_LEAD + r"(?i:torch hip version)[ \t.]*(?P<v>\d+\.\d+[\w.-]*)")
# A dict of packages in an app's log (SD.Next: "System packages: {'torch': '2.4.1+cpu', ...}").
_DICT_TORCH = LazyPattern(r"['\"]torch['\"]: ?['\"](?P<v>\d+\.\d+[\w.+]*)['\"]")
_NVCC = LazyPattern(r"(?:Cuda compilation tools, release |(?i:nvcc version)[ \t.]*)(?P<v>\d+\.\d+)")
_XF_CUDA = LazyPattern(_LEAD + r"pytorch\.cuda:[ \t]*(?P<v>available|not available)")
_XF_NAME = LazyPattern(_LEAD + r"(?:gpu\.name:|(?i:gpu type):)[ \t]*(?P<v>\S[^\n]{0,100}?)[ \t]*$")
_XF_CC = LazyPattern(_LEAD + r"gpu\.compute_capability:[ \t]*(?P<v>\d{1,2}\.\d)")
_DEVICE = LazyPattern(
    _LEAD + r"(?:(?i:device):|\*\*Name:\*\*)[ \t]+(?P<kind>cuda|cpu|mps|xpu|privateuseone)"
    r"(?::(?P<i>\d{1,3}))?(?:[ \t]+(?P<name>[^\n]{1,100}?))?(?:[ \t]+:[ \t]+\w+)?[ \t]*$"
)
_VRAM_MB = LazyPattern(r"(?i:total vram)[ \t]+(?P<v>\d{1,9})[ \t]*MB")
_VRAM_BYTES = LazyPattern(_LEAD + r"(?:\*\*)?VRAM Total:(?:\*\*)?[ \t]*(?P<v>\d{6,15})\b")
_OS = LazyPattern(_LEAD + r"(?:\*\*)?OS:(?:\*\*)?[ \t]*(?P<v>nt|posix|Windows|Linux|Darwin)\b")
_PLATFORM = LazyPattern(_LEAD + r"(?i:platform):[ \t]*(?P<v>(?:Linux|Windows|macOS)-[^\s]{1,120})")
_NVTOP = LazyPattern(
    r"^[ \t]*Device (?P<i>\d{1,3}) \[(?P<name>[^\]\n]{1,80})\]"
    r"(?:[ \t]+PCIe GEN[ \t]*(?P<gen>\d)@[ \t]*(?P<w>\d{1,2})x)?"
)
_OLLAMA = LazyPattern(r'msg="inference compute"(?P<rest>[^\n]{0,600})')
_KV = re.compile(r'(\w+)=(?:"([^"\n]{0,120})"|(\S{1,120}))')
_PLATFORM_LINUX = LazyPattern(r"^Linux-(?P<kernel>.+?)-(?P<arch>x86_64|aarch64|ppc64le|s390x)(?:-with-.*)?$")


def scan(lines: list[str], mask: bytearray) -> list[Partial]:
    """One partial with every fact these reports printed, or none."""
    torch: dict[str, Any] = {}
    host: dict[str, Any] = {}
    driver: dict[str, Any] = {}
    gpus: dict[int, dict[str, Any]] = {}
    position: int | None = None
    hits = set(hit_lines(lines, mask, _TRIGGER, 2_000)) | set(needle_lines(lines, mask, _NEEDLES, 2_000))
    for i in sorted(hits):
        s = lines[i][:_MAX_LINE]
        before = len(torch) + len(host) + len(driver) + len(gpus)
        _read(s, torch, host, driver, gpus)
        if position is None and len(torch) + len(host) + len(driver) + len(gpus) > before:
            position = i
    if position is None:
        return []
    version = torch.get("version")
    if version and "cuda_version" not in torch:
        tag = re.search(r"\+cu(\d{2,3})\b", version)
        if tag:
            torch["cuda_version"] = f"{tag[1][:-1]}.{tag[1][-1]}"
            torch["built_with_cuda"] = True
        elif version.endswith("+cpu"):
            torch["built_with_cuda"] = False
    if version:
        torch["installed"] = True
    listed = [GPU(**g) for g in list(gpus.values())[:MAX_GPUS]]
    machine = Machine(
        source=KIND,
        host=HostInfo(**host),
        driver=DriverInfo(**driver),
        gpus=listed,
        gpus_known=False,  # these reports show the GPU in use, not necessarily every GPU
        torch=TorchInfo(**torch),
    )
    return [Partial(KIND, position, machine, match="index")]


def _read(
    s: str,
    torch: dict[str, Any],
    host: dict[str, Any],
    driver: dict[str, Any],
    gpus: dict[int, dict[str, Any]],
) -> None:
    if m := _TORCH_VERSION.match(s) or _A1111_TORCH.search(s):
        torch.setdefault("version", m["v"])
        if "gpu" in m.groupdict() and m["gpu"]:
            torch.setdefault("cuda_available", m["gpu"] == "True")
    elif m := _TORCH_CUDA.match(s):
        torch.setdefault("cuda_version", m["v"])
    elif m := _TORCH_HIP.match(s):
        torch.setdefault("hip_version", m["v"])
    elif m := _DICT_TORCH.search(s):
        torch.setdefault("version", m["v"])
    elif m := _NVCC.search(s):
        host.setdefault("system_cuda_version", m["v"])
    elif m := _XF_CUDA.match(s):
        torch.setdefault("cuda_available", m["v"] == "available")
    elif m := _XF_NAME.match(s):
        name = v.clean(m["v"])
        if name and not name.startswith("<"):  # "<fill in>" in the issue template
            gpus.setdefault(0, {"index": 0}).setdefault("name", name)
    elif m := _XF_CC.match(s):
        gpus.setdefault(0, {"index": 0}).setdefault("compute_capability", m["v"])
    elif m := _DEVICE.match(s):
        _device(m, torch, host, gpus)
    elif m := _VRAM_MB.search(s):
        gpus.setdefault(0, {"index": 0}).setdefault("memory_total_bytes", int(m["v"]) * 2**20)
    elif m := _VRAM_BYTES.match(s):
        gpus.setdefault(0, {"index": 0}).setdefault("memory_total_bytes", int(m["v"]))
    elif m := _OS.match(s):
        os_name = {"nt": "Windows", "Windows": "Windows", "Linux": "Linux", "Darwin": "Darwin"}.get(m["v"])
        if os_name:
            host.setdefault("os", os_name)
    elif m := _PLATFORM.match(s):
        _platform(m["v"], host)
    elif m := _NVTOP.match(s):
        g = gpus.setdefault(int(m["i"]), {"index": int(m["i"])})
        g.setdefault("name", m["name"].strip())
        if m["gen"]:
            g.setdefault("pcie_gen_current", int(m["gen"]))
            g.setdefault("pcie_width_current", int(m["w"]))
    elif (m := _SMI_DRIVER.search(s)) or (n := _SMI_CUDA.search(s)):
        if m is not None:
            driver.setdefault("version", m["v"])
        if (n := _SMI_CUDA.search(s)) is not None:
            driver.setdefault("cuda_version", n["v"])
    elif m := _LOG_TORCH.search(s):
        torch.setdefault("version", m["v"])
    elif m := _LOG_GPU.search(s):
        index = len(gpus)
        g = {"index": index, "name": v.clean(m["name"]), "memory_total_bytes": int(m["mb"]) * 2**20}
        if m["cc"]:
            g["compute_capability"] = f"{m['cc']}.{m['minor']}"
        gpus[index] = g
        torch.setdefault("cuda_available", True)
    elif m := _OLLAMA.search(s):
        _ollama(m["rest"], driver, gpus)


def _device(
    m: re.Match[str], torch: dict[str, Any], host: dict[str, Any], gpus: dict[int, dict[str, Any]]
) -> None:
    kind = m["kind"]
    if kind == "cuda":
        torch.setdefault("cuda_available", True)
        name = v.clean(m["name"])
        if name:
            index = int(m["i"] or 0)
            gpus.setdefault(index, {"index": index}).setdefault("name", name)
        return
    torch.setdefault("cuda_available", False)
    other = {"mps": "Apple MPS", "xpu": "Intel XPU", "privateuseone": "DirectML (Windows)"}.get(kind)
    if other:
        host.setdefault("accelerators", []).append(other)


def _platform(text: str, host: dict[str, Any]) -> None:
    if m := _PLATFORM_LINUX.match(text):
        kernel = m["kernel"]
        host.setdefault("os", "Linux")
        host.setdefault("kernel", kernel)
        host.setdefault("machine_arch", m["arch"])
        host.setdefault("is_wsl", "microsoft" in kernel.lower() or "wsl" in kernel.lower())
    elif text.startswith("Windows-"):
        host.setdefault("os", "Windows")
    elif text.startswith("macOS-"):
        host.setdefault("os", "Darwin")
        if "arm64" in text:
            host.setdefault("machine_arch", "arm64")


def _ollama(rest: str, driver: dict[str, Any], gpus: dict[int, dict[str, Any]]) -> None:
    """``msg="inference compute" id=GPU-… library=cuda compute=8.6 driver=12.4 name="…" total="24.0 GiB"``."""
    kv = {m[1]: (m[2] if m[2] is not None else m[3]) for m in _KV.finditer(rest)}
    library = kv.get("library", "")
    if library == "oneapi":
        return  # an Intel GPU: the catalogue's ollama entries name the accelerator
    if library not in {"cuda", "rocm"}:
        return
    index = len(gpus)
    g: dict[str, Any] = {"index": index, "name": v.clean(kv.get("name") or kv.get("description"))}
    if library == "rocm":
        g["vendor"] = "amd"
    elif re.fullmatch(r"\d{1,2}\.\d", kv.get("compute", "")):
        g["compute_capability"] = kv["compute"]
    if library == "cuda" and re.fullmatch(r"\d{1,2}\.\d", kv.get("driver", "")):
        driver.setdefault("cuda_version", kv["driver"])
        driver.setdefault("nvml_ok", True)
    gpus[index] = g
