"""Error texts and small evidence around the main outputs: NVML failures, torch warnings, lspci, /proc.

Texts (compat.md §6): "Failed to initialize NVML: Driver/library version mismatch" (+ "NVML library
version: 570.124"), "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver",
"modprobe: FATAL: Module nvidia not found", torch's CUDA-init warnings and errors (kept verbatim in
``TorchInfo.init_messages``), ``/proc/driver/nvidia/version``, ``lspci`` lines naming NVIDIA devices, and
standalone ``nvidia-smi -L`` lines.

The lines are found with one whole-text search per family (C speed), then read one by one.
"""

from __future__ import annotations

import re
from typing import Any

from advisor.dumps import values as v
from advisor.dumps.detect import hit_lines, needle_lines
from advisor.dumps.lazy_re import LazyPattern
from advisor.dumps.partial import MAX_GPUS, Partial
from advisor.machine import GPU, DriverInfo, Machine, MigInstance, PciDevice, TorchDevice, TorchInfo

_MAX_MESSAGES = 50
_MAX_LINE = 1000

# Torch's CUDA-init warnings and errors worth keeping verbatim (compat.md §6.1-6.9).
_TORCH_TEXTS = (
    "is not compatible with the current PyTorch installation",
    "The current PyTorch install supports CUDA capabilities",
    "no kernel image is available for execution on the device",
    "The NVIDIA driver on your system is too old",
    "Found no NVIDIA driver on your system",
    "Torch not compiled with CUDA enabled",
    "PyTorch no longer supports this GPU because it is too old",
    "which is of cuda capability",
    "which is of compute capability",
    "The minimum cuda capability",
    "Minimum and Maximum cuda capability supported by this version of PyTorch",
    "CUDA driver initialization failed",
    "CUDA unknown error - this may be due to an incorrectly set up environment",
    "No CUDA GPUs are available",
    "Unexpected error from cudaGetDeviceCount()",
    "forward compatibility was attempted on non supported HW",
    "system not yet initialized",
    "CUDA-capable device(s) is/are busy or unavailable",
    "system has unsupported display driver / cuda driver combination",
    "too old to be supported by the triton GPU compiler",
    "CUDA initialization:",
    "CUDA error:",
)
_NVML_TEXTS = (
    "Failed to initialize NVML",
    "NVML library version",
    "NVIDIA-SMI has failed",
    "NVIDIA-SMI couldn't find libnvidia-ml",
    "No devices were found",
    "NVRM version:",
    "modprobe: FATAL: Module nvidia",
    "Unable to determine the device handle for GPU",
    "fallen off the bus",
)
_TRIGGERS = (*_TORCH_TEXTS, *_NVML_TEXTS, "NVIDIA Corporation", "['sm_", '["sm_')
# The printed value of torch.cuda.get_arch_list(): "['sm_50', 'sm_60', ..., 'sm_90']" alone on its line.
_ARCH_PY_LIST = LazyPattern(
    r"""^\[\s*(['"])(?:sm|compute)_\d+[a-z]?\1(?:\s*,\s*(['"])(?:sm|compute)_\d+[a-z]?\2){0,40}\s*\]$"""
)
_SMI_L = re.compile(r"^[ \t]*GPU[ \t]+\d{1,4}:[ \t]+\S[^\n]*$", re.MULTILINE)

# These read the hit lines; compiled on first use (a healthy paste has no such line).
_ARCH_LIST = LazyPattern(r"supports CUDA capabilities\s+((?:(?:sm|compute)_\d+[a-z]?[\s.]*)+)")
_ARCH = LazyPattern(r"(?:sm|compute)_\d+[a-z]?")
_INCOMPATIBLE = LazyPattern(
    r"^(?:.*UserWarning:\s*)?(.+?) with CUDA capability sm_(\d{2,3})[a-z]? is not compatible"
)
_FOUND_GPU = LazyPattern(
    r"Found GPU(\d{1,4}) (.+?) which is of (?:cuda|compute) capability (?:\(CC\) )?(\d+)\.(\d+)"
)
_FOUND_VERSION = LazyPattern(r"too old \(found version (\d{4,6})\)")
_NVML_FAIL = LazyPattern(r"Failed to initialize NVML:\s*(.+?)\s*$")
_NVML_LIB = LazyPattern(r"NVML library version:\s*(\d[\w.]*)")
_NVRM = LazyPattern(r"NVRM version:.*?Kernel Module(?:\s+for\s+\S+)?\s+(\d+\.\d+(?:\.\d+)?)")
_LOST = LazyPattern(r"Unable to determine the device handle for GPU\s*([0-9A-Fa-f:.]+):\s*(.+?)\s*$")
# Kernel log (dmesg): "NVRM: Xid (PCI:0000:db:00): 79, ..., GPU has fallen off the bus." and
# "NVRM: GPU 0000:db:00.0: GPU has fallen off the bus." The GPU is gone until a reboot.
_OFF_BUS = LazyPattern(
    r"(?:PCI:|GPU\s+)((?:[0-9a-fA-F]{4,8}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}(?:\.[0-7])?)\)?:"
    r".*fallen off the bus"
)
_LSPCI = LazyPattern(
    r"^\s*((?:[0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7])\s+"
    r"(?P<kind>VGA compatible controller|3D controller|Display controller)(?:\s*\[([0-9a-fA-F]{4})\])?:\s*"
    r"NVIDIA Corporation\b(.*)$"
)
# PCI class codes of the controller names plain `lspci` prints (no -nn): display controllers, base 03h.
_CLASS_NAMES = {"VGA compatible controller": 0x0300, "3D controller": 0x0302, "Display controller": 0x0380}
_LSPCI_IDS = LazyPattern(r"\[10de:([0-9a-fA-F]{4})\]")
_LSPCI_DEVICE = LazyPattern(r"\bDevice ([0-9a-fA-F]{4})\b")
_SMI_L_LINE = LazyPattern(r"^\s*GPU\s+(\d{1,4}):\s+(.+?)(?:\s+\(UUID:\s*([^)]*)\))?\s*$")


def scan(lines: list[str], mask: bytearray) -> list[Partial]:
    """Evidence outside the parsed spans: an NVML/driver partial, a torch-messages partial, ``-L`` GPUs."""
    hits = sorted(needle_lines(lines, mask, _TRIGGERS))
    partials = [p for p in (_nvml(hits, lines), _torch(hits, lines)) if p is not None]
    listed = _smi_list(hit_lines(lines, mask, _SMI_L), lines)
    if listed is not None:
        partials.append(listed)
    return partials


def _nvml(hits: list[int], lines: list[str]) -> Partial | None:
    driver: dict[str, Any] = {}
    devices: list[PciDevice] = []
    lost: list[GPU] = []
    no_devices = False
    position: int | None = None
    for i in hits:
        s = lines[i].strip()[:_MAX_LINE]
        before = len(driver) + len(devices) + len(lost) + no_devices
        if m := _NVML_FAIL.search(s):
            driver.update(nvml_ok=False, nvml_error=m[1])
        elif "NVIDIA-SMI has failed" in s or "NVIDIA-SMI couldn't find libnvidia-ml" in s:
            driver.update(nvml_ok=False, nvml_error=s)
        elif "modprobe: FATAL: Module nvidia" in s:
            driver.setdefault("nvml_ok", False)
            driver.setdefault("nvml_error", s)
        if m := _NVML_LIB.search(s):
            driver["library_version"] = m[1]
        if m := _NVRM.search(s):
            driver["kernel_module_version"] = m[1]
        if "No devices were found" in s:
            no_devices = True
        if m := _LOST.search(s):
            lost.append(GPU(index=len(lost), pci_bus_id=v.bus_id(m[1]), lost=_unreachable(m[2]), error=m[2]))
        bus = _off_bus(s)
        if bus is not None and all(g.pci_bus_id != bus for g in lost):
            lost.append(GPU(index=len(lost), pci_bus_id=bus, lost=True, error="GPU has fallen off the bus"))
        if device := _pci_device(s, lines, i):
            devices.append(device)
        if position is None and len(driver) + len(devices) + len(lost) + no_devices > before:
            position = i
    if position is None:
        return None
    if no_devices and "nvml_ok" not in driver:
        driver["nvml_ok"] = True  # NVML answered; it found no GPU
    machine = Machine(
        source="nvidia-smi",
        driver=DriverInfo(pci_devices=devices or None, **driver),
        gpus=lost,
        gpus_known=no_devices,
    )
    return Partial("nvidia-smi", position, machine, match="bus")


def _off_bus(s: str) -> str | None:
    """The PCI bus id of a kernel-log line saying a GPU fell off the bus (Xid 79), else None."""
    m = _OFF_BUS.search(s)
    if m is None:
        return None
    return v.bus_id(m[1] if "." in m[1] else m[1] + ".0")  # Xid lines omit the PCI function


def _unreachable(error: str) -> bool:
    """NVML could not get a handle for a GPU on the bus: lost, or in a state only a reset clears.

    "GPU is lost" is Xid 79 (fallen off the bus); "Unknown Error" and "GPU requires reset" are what
    the same state prints on other drivers. A permission error (a container's device cgroup) is not.
    """
    low = error.lower()
    return any(t in low for t in ("lost", "unknown error", "requires reset", "reset required"))


def _pci_device(s: str, lines: list[str], i: int) -> PciDevice | None:
    m = _LSPCI.match(s)
    if m is None:
        return None
    rest = m[4]
    ids = _LSPCI_IDS.search(rest) or _LSPCI_DEVICE.search(rest)  # plain `lspci` names the model only
    address = m[1].lower() if m[1].count(":") == 2 else f"0000:{m[1].lower()}"
    driver = None
    for follow in lines[i + 1 : i + 6]:  # `lspci -k`: "Kernel driver in use: nvidia"
        if "Kernel driver in use:" in follow:
            driver = follow.split(":", 1)[1].strip() or None
            break
        if "Kernel modules:" in follow:
            driver = ""  # `lspci -k` lists the modules that could drive it, and none is bound
        if follow and not follow[:1].isspace():
            break
    return PciDevice(
        address=address,
        vendor_id=0x10DE,
        device_id=int(ids[1], 16) if ids else None,
        class_code=int(m[3], 16) if m[3] else _CLASS_NAMES.get(m["kind"]),
        driver=driver,
    )


def _torch(hits: list[int], lines: list[str]) -> Partial | None:
    messages: list[str] = []
    fields: dict[str, Any] = {}
    named: dict[str, str] = {}  # device name → compute capability, as torch reported it
    devices: dict[int, TorchDevice] = {}
    position: int | None = None
    for i in hits:
        s = lines[i].strip()[:_MAX_LINE]
        if _ARCH_PY_LIST.match(s):
            position = i if position is None else position
            fields["arch_list"] = _ARCH.findall(s)
            continue
        if not any(t in s for t in _TORCH_TEXTS):
            continue
        position = i if position is None else position
        if s not in messages and len(messages) < _MAX_MESSAGES:
            messages.append(s)
        if m := _ARCH_LIST.search(s):
            fields["arch_list"] = _ARCH.findall(m[1])
        if m := _INCOMPATIBLE.search(s):
            named[m[1].strip()] = f"{m[2][:-1]}.{m[2][-1]}"
        if m := _FOUND_GPU.search(s):
            cc = f"{m[3]}.{m[4]}"
            named[m[2].strip()] = cc
            devices[int(m[1])] = TorchDevice(index=int(m[1]), name=m[2].strip(), compute_capability=cc)
        if m := _FOUND_VERSION.search(s):
            fields["driver_cuda"] = v.cuda_from_int(int(m[1]))
        if "Torch not compiled with CUDA enabled" in s:
            fields.update(installed=True, built_with_cuda=False)
    if position is None:
        return None
    driver_cuda = fields.pop("driver_cuda", None)
    torch = TorchInfo(init_messages=messages, devices=list(devices.values()) or None, **fields)
    gpus = [GPU(index=k, name=name, compute_capability=cc) for k, (name, cc) in enumerate(named.items())]
    machine = Machine(
        source="messages",
        driver=DriverInfo(cuda_version=driver_cuda),
        torch=torch,
        gpus=gpus,
        gpus_known=False,
    )
    return Partial("messages", position, machine, match="name")


_MIG_L_LINE = LazyPattern(r"^\s*MIG\s+(\S+)\s+Device\s+\d{1,3}:")


def _mig_below(lines: list[str], i: int) -> dict[str, Any]:
    """``nvidia-smi -L`` lists a GPU's MIG devices under it: "  MIG 1g.10gb Device 0: (UUID: MIG-…)"."""
    instances = []
    for line in lines[i + 1 : i + 1 + 64]:
        m = _MIG_L_LINE.match(line[:_MAX_LINE])
        if m is None:
            break
        instances.append(MigInstance(profile=m[1]))
    return {"mig_enabled": True, "mig_instances": instances} if instances else {}


def _smi_list(hits: list[int], lines: list[str]) -> Partial | None:
    gpus: dict[int, GPU] = {}
    for i in hits:
        m = _SMI_L_LINE.match(lines[i][:_MAX_LINE])
        if m is None or v.clean(m[2]) is None:
            continue
        uuid = v.clean(m[3]) if m[3] and m[3].startswith("GPU-") else None
        if len(gpus) < MAX_GPUS:
            index = int(m[1])
            gpus.setdefault(index, GPU(index=index, name=m[2], uuid=uuid, **_mig_below(lines, i)))
    if not gpus:
        return None
    machine = Machine(source="nvidia-smi", driver=DriverInfo(nvml_ok=True), gpus=list(gpus.values()))
    return Partial("nvidia-smi", hits[0], machine)
