"""Device listings around the main outputs: ``lspci`` lines naming NVIDIA devices (with ``-nn`` ids and
``-k``'s bound driver) and standalone ``nvidia-smi -L`` lines (with MIG devices under a GPU).

Message texts (NVML failures, torch's warnings, kernel-log lines, /proc/driver/nvidia/version) are not
read here: the evidence catalogue (catalog/evidence) and its one matcher (advisor.dumps.evidence) do.
The lines are found with one whole-text search per family (C speed), then read one by one.
"""

from __future__ import annotations

import re
from typing import Any

from advisor.dumps import values as v
from advisor.dumps.detect import hit_lines, needle_lines
from advisor.dumps.lazy_re import LazyPattern
from advisor.dumps.partial import MAX_GPUS, Partial
from advisor.machine import GPU, DriverInfo, Machine, MigInstance, PciDevice

_MAX_LINE = 1000
_TRIGGERS = ("NVIDIA Corporation",)
_SMI_L = re.compile(r"^[ \t]*GPU[ \t]+\d{1,4}:[ \t]+\S[^\n]*$", re.MULTILINE)

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
    """NVIDIA PCI devices (lspci) and ``nvidia-smi -L`` GPUs outside the parsed spans."""
    hits = sorted(needle_lines(lines, mask, _TRIGGERS))
    partials = [p for p in (_lspci(hits, lines),) if p is not None]
    listed = _smi_list(hit_lines(lines, mask, _SMI_L), lines)
    if listed is not None:
        partials.append(listed)
    return partials


def _lspci(hits: list[int], lines: list[str]) -> Partial | None:
    devices: list[PciDevice] = []
    for i in hits:
        if device := _pci_device(lines[i].strip()[:_MAX_LINE], lines, i):
            devices.append(device)
    if not devices:
        return None
    machine = Machine(source="nvidia-smi", driver=DriverInfo(pci_devices=devices), gpus_known=False)
    return Partial("nvidia-smi", hits[0], machine, match="bus")


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
