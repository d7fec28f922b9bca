"""Graphics inventories: what a hardware lister says the machine's display devices are.

Users asked "which GPU do you have?" paste the answer of a hardware lister instead of nvidia-smi,
often on laptops and desktops with no NVIDIA GPU at all. Each format is read from the tool's own
output layout:

- ``inxi -G`` / ``-F`` / ``-Gxx``: a ``Graphics:`` section whose ``Device-N:`` (inxi 3; ``Card-N:`` in
  inxi 2) items hold the lspci name, then ``key: value`` pairs (``vendor:``, ``driver:``, ``v:``,
  ``bus-ID:``/``bus ID:``, ``chip-ID:``/``chip ID:``, ``type: USB`` for cameras); long items wrap onto
  indented lines (https://github.com/smxi/inxi/blob/master/inxi, its "graphics" item builder and
  https://smxi.org/docs/inxi-man.htm).
- ``lshw -C display``: ``*-display`` nodes with ``product:``, ``vendor:``, ``bus info: pci@…`` and
  ``configuration: driver=…`` (https://github.com/lyonel/lshw/blob/master/src/core/print.cc).
- Windows: ``wmic path win32_VideoController get name`` / ``Get-CimInstance Win32_VideoController``
  (the ``Name`` property, https://learn.microsoft.com/en-us/windows/win32/cimwin32prov/win32-videocontroller)
  and DxDiag's ``Card name:`` lines (https://learn.microsoft.com/en-us/windows/win32/direct3darticles/dxdiag).
- macOS ``system_profiler SPDisplaysDataType``: ``Chipset Model:`` lines
  (https://support.apple.com/guide/system-information/welcome/mac).

What it yields: NVIDIA devices shown with a PCI address become ``DriverInfo.pci_devices`` (so the
presence and driver rules see them as on the bus), NVIDIA devices named without one become GPUs
matched by name; when the inventory shows no NVIDIA device, the others (Intel, AMD, Apple) are
``HostInfo.accelerators`` and the GPU list is known to hold no NVIDIA GPU. Virtual and BMC display
adapters (ASPEED, Matrox, VMware, QXL, Microsoft Basic Display) are not accelerators.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from advisor.dumps.detect import hit_lines
from advisor.dumps.lazy_re import LazyPattern
from advisor.dumps.partial import MAX_GPUS, Partial
from advisor.dumps.prose import driver_failed
from advisor.machine import GPU, DriverInfo, HostInfo, Machine, PciDevice

KIND = "inventory"
_MAX_LINE = 400
_MAX_BLOCK = 40  # lines of one section/node: a Graphics section with four devices is under 20
_MAX_HITS = 200

# Cheap pre-check: the texts that open each format. Nothing else is compiled unless one is present.
_NEEDLES = ("Graphics:", "*-display", "ideoController", "Card name:", "Chipset Model:")

_TRIGGER = LazyPattern(
    r"^[ \t]*(?:Graphics:[ \t]*(?:Device|Card|$)|\*-display\b|Card name:[ \t]*\S|Chipset Model:[ \t]*\S)"
    r"|(?i:win32_videocontroller)",
    re.MULTILINE,
)
# inxi: an item key inside the Graphics section ("Device-1:", "Card:", "Card-2:").
_ITEM = LazyPattern(r"(?:^|[ \t])(?:Device|Card)(?:-\d{1,2})?:[ \t]+")
# What ends a device item: the section's other items.
_ITEM_END = LazyPattern(
    r"[ \t](?:Display|Monitor-\d{1,2}|OpenGL|API|Message|Info|Screen-\d{1,2}|Server):[ \t]"
)
# An item's key ("vendor:", "bus-ID:", "bus ID:", "chip-ID:"): the device's name is what precedes the first.
_KEY = LazyPattern(r"[ \t][A-Za-z][\w-]{0,12}(?: ID)?:[ \t]")
_HEX_BUS = r"[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]"
_INXI_BUS = LazyPattern(r"\bbus[- ]ID:[ \t]*(?P<bus>(?:[0-9a-fA-F]{4}:)?" + _HEX_BUS + ")")
_INXI_CHIP = LazyPattern(r"\bchip[- ]ID:[ \t]*(?P<vendor>[0-9a-fA-F]{4}):(?P<device>[0-9a-fA-F]{4})")
_INXI_DRIVER = LazyPattern(r"\bdriver:[ \t]*(?P<driver>[\w.-]{1,30})")
_INXI_CLASS = LazyPattern(r"\bclass-ID:[ \t]*(?P<cls>[0-9a-fA-F]{4})\b")
# inxi's next section header ("Audio:     Device-1", "Network:   ...") ends the Graphics section.
_SECTION = LazyPattern(r"^[ \t]*[A-Z][A-Za-z]{1,15}:[ \t]{2,}\S")
# A line a mail client re-wrapped to column 0 in the middle of an item: it starts with an item key.
_WRAPPED = LazyPattern(r"[a-z][\w-]{0,12}(?: ID)?:[ \t]")

_LSHW_KEY = LazyPattern(
    r"^[ \t]*(?P<key>product|vendor|bus info|configuration|description):[ \t]*(?P<v>[^\n]*)$"
)
_LSHW_BUS = LazyPattern(r"pci@(?P<bus>[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7])")
_LSHW_DRIVER = LazyPattern(r"\bdriver=(?P<driver>[\w.-]{1,30})")

_DXDIAG = LazyPattern(r"^[ \t]*Card name:[ \t]*(?P<name>[^\n]{2,100}?)[ \t]*$")
_MAC = LazyPattern(r"^[ \t]*Chipset Model:[ \t]*(?P<name>[^\n]{2,100}?)[ \t]*$")
# A video controller's name in wmic / PowerShell output: "Name : X", a table cell, or a bare line.
_WIN_NAME = LazyPattern(
    r"[ \t]*(?:Name[ \t]*[:=][ \t]*)?(?P<name>(?:NVIDIA|Intel\(R\)|AMD|Advanced Micro Devices|Radeon"
    r"|Microsoft Basic Display|Microsoft Remote Display|Parsec|Citrix|VMware)[^\n]{0,80}?)"
    r"(?:[ \t]{2,}|[ \t]*$)"
)
_WIN_SKIP = LazyPattern(r"[ \t]*(?:Name\b[^:=\n]*|-{3,}[ \t-]*)?$")

# Display adapters that are not accelerators (server BMCs, virtual machines, remote desktops).
_NOT_ACCELERATOR = re.compile(
    r"ASPEED|Matrox|VMware|VirtualBox|QXL|Red Hat|Cirrus|Hyper-V|Microsoft|Parsec|Citrix|"
    r"Virtio|bochs|llvmpipe|Silicon Motion|XGI|Standard VGA",
    re.IGNORECASE,
)
_NVIDIA = re.compile(r"\bNVIDIA\b|\bGeForce\b|\bQuadro\b|\bTesla\b", re.IGNORECASE)
_AMD = re.compile(r"\bAMD\b|\bATI\b|Advanced Micro Devices|\bRadeon\b|\bInstinct\b", re.IGNORECASE)
_INTEL = re.compile(r"\bIntel\b", re.IGNORECASE)
_APPLE = re.compile(r"^Apple M\d", re.IGNORECASE)


@dataclass(frozen=True)
class Device:
    """One display device an inventory lists."""

    name: str
    line: int
    bus: str | None = None  # "0000:01:00.0"
    pci_vendor: int | None = None
    pci_device: int | None = None
    class_code: int | None = None
    driver: str | None = None
    os: str | None = None  # the lister implies the OS (system_profiler: macOS)


def scan(lines: list[str], mask: bytearray) -> list[Partial]:
    """One partial with the display devices the paste's inventories list, or none."""
    text_has = _present(lines)
    if not text_has:
        return []
    hits = hit_lines(lines, mask, _TRIGGER.compiled, _MAX_HITS)
    devices: list[Device] = []
    for i in hits:
        s = lines[i][:_MAX_LINE]
        if "Graphics:" in s:
            devices += _inxi(lines, i)
        elif "*-display" in s:
            devices += _lshw(lines, i)
        elif "Card name:" in s:
            devices += _one(_DXDIAG, s, i, None)
        elif "Chipset Model:" in s:
            devices += _one(_MAC, s, i, "Darwin")
        else:
            devices += _windows(lines, i)
        if len(devices) >= MAX_GPUS:
            break
    if driver_failed("\n".join(lines).lower()):
        # A GPU named by a lister must not read as one the driver listed (the driver rules take a
        # GPU list as "the driver answered"): keep only what sits on the bus.
        devices = [d for d in devices if d.bus is not None or vendor(d) != "nvidia"]
    return [p for p in _partials(_unique(devices)) if not p.is_empty()]


def _present(lines: list[str]) -> bool:
    text = "\n".join(lines)
    return any(n in text for n in _NEEDLES) or "ideocontroller" in text.lower()


def _inxi(lines: list[str], start: int) -> list[Device]:
    """The Graphics section from ``start`` joined over its wrapped lines, split into its items."""
    block = [lines[start][:_MAX_LINE]]
    for k in range(start + 1, min(len(lines), start + _MAX_BLOCK)):
        s = lines[k][:_MAX_LINE]
        if not s.strip() or _SECTION.match(s):
            break
        if not s[:1].isspace() and not _WRAPPED.match(s):
            break  # a prompt or prose after the section (a mail client's re-wrap keeps "bus ID: …")
        block.append(s)
    joined = " " + " ".join(" ".join(block).split())
    joined = joined.split("Graphics:", 1)[1]
    starts = [m for m in _ITEM.compiled.finditer(joined)]
    out: list[Device] = []
    for n, m in enumerate(starts):
        end = starts[n + 1].start() if n + 1 < len(starts) else len(joined)
        item = joined[m.end() : end]
        stop = _ITEM_END.search(item)
        if stop is not None:
            item = item[: stop.start()]
        if re.search(r"\btype:[ \t]*USB\b", item):
            continue  # a webcam inxi lists under Graphics
        key = _KEY.search(" " + item)
        name = (item[: key.start() - 1] if key else item).strip()
        bus = _INXI_BUS.search(item)
        chip = _INXI_CHIP.search(item)
        drv = _INXI_DRIVER.search(item)
        cls = _INXI_CLASS.search(item)
        if not name and chip is None:
            continue
        out.append(
            Device(
                name=name,
                line=start,
                bus=_bus(bus["bus"]) if bus else None,
                pci_vendor=int(chip["vendor"], 16) if chip else None,
                pci_device=int(chip["device"], 16) if chip else None,
                class_code=int(cls["cls"], 16) if cls else None,
                driver=_driver(drv["driver"]) if drv else None,
            )
        )
    return out


def _lshw(lines: list[str], start: int) -> list[Device]:
    """One ``*-display`` node: its indented ``key: value`` lines up to the next node."""
    indent = len(lines[start]) - len(lines[start].lstrip())
    fields: dict[str, str] = {}
    for k in range(start + 1, min(len(lines), start + _MAX_BLOCK)):
        s = lines[k][:_MAX_LINE]
        if not s.strip() or s.lstrip().startswith("*-") or len(s) - len(s.lstrip()) <= indent:
            break
        m = _LSHW_KEY.match(s)
        if m is not None:
            fields.setdefault(m["key"], m["v"].strip())
    product, vendor = fields.get("product", ""), fields.get("vendor", "")
    if not product and not vendor:
        return []
    name = product if not vendor or vendor.split()[0].lower() in product.lower() else f"{vendor} {product}"
    bus = _LSHW_BUS.search(fields.get("bus info", ""))
    drv = _LSHW_DRIVER.search(fields.get("configuration", ""))
    desc = fields.get("description", "").lower()
    return [
        Device(
            name=name.strip(),
            line=start,
            bus=_bus(bus["bus"]) if bus else None,
            pci_vendor=0x10DE if _NVIDIA.search(vendor) else None,
            class_code=0x0302 if "3d" in desc else 0x0300,
            driver=_driver(drv["driver"]) if drv else None,
        )
    ]


def _one(pattern: LazyPattern, s: str, i: int, os: str | None) -> list[Device]:
    m = pattern.match(s)
    return [Device(name=m["name"], line=i, os=os)] if m else []


def _windows(lines: list[str], start: int) -> list[Device]:
    """The names listed in the lines after a Win32_VideoController query (wmic or PowerShell): rows that
    start with a vendor's name ("Name : X" in list form); the header and ruler lines are skipped."""
    out: list[Device] = []
    for k in range(start + 1, min(len(lines), start + 12)):
        s = lines[k][:_MAX_LINE]
        if _WIN_SKIP.match(s):
            continue
        m = _WIN_NAME.match(s)
        if m is None:
            if out:
                break
            continue
        out.append(Device(name=m["name"].strip(), line=k, os="Windows"))
    return out


def _bus(text: str) -> str:
    """A PCI address as lspci prints it with its domain ("0000:01:00.0")."""
    return (text if text.count(":") == 2 else f"0000:{text}").lower()


def _driver(name: str) -> str | None:
    return None if name in {"N/A", "none"} else name


def _unique(devices: list[Device]) -> list[Device]:
    seen: set[tuple[str, str | None]] = set()
    out = []
    for d in devices:
        key = (d.name.lower(), d.bus)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


def vendor(d: Device) -> str:
    """nvidia / amd / intel / apple / other, from the PCI vendor id or the name."""
    if d.pci_vendor is not None:
        return {0x10DE: "nvidia", 0x1002: "amd", 0x1022: "amd", 0x8086: "intel", 0x106B: "apple"}.get(
            d.pci_vendor, "other"
        )
    if _NOT_ACCELERATOR.search(d.name):
        return "other"
    if _NVIDIA.search(d.name):
        return "nvidia"
    if _AMD.search(d.name):
        return "amd"
    if _INTEL.search(d.name):
        return "intel"
    if _APPLE.search(d.name):
        return "apple"
    return "other"


def _partials(devices: list[Device]) -> list[Partial]:
    if not devices:
        return []
    first = min(d.line for d in devices)
    os = next((d.os for d in devices if d.os), None)
    nvidia = [d for d in devices if vendor(d) == "nvidia"]
    pci = [
        PciDevice(
            address=d.bus,
            vendor_id=0x10DE,
            device_id=d.pci_device,
            class_code=d.class_code if d.class_code is not None else 0x0300,
            driver=d.driver,
        )
        for d in nvidia
        if d.bus is not None
    ]
    named = [
        GPU(index=n, name=_gpu_name(d.name), vendor="nvidia")
        for n, d in enumerate(d for d in nvidia if d.bus is None)
    ]
    host = HostInfo(os=os)
    if nvidia:
        parts = []
        if pci or os:
            bus = DriverInfo(pci_devices=pci or None)
            parts.append(Partial(KIND, first, Machine(source=KIND, host=host, driver=bus, gpus_known=False)))
        if named:
            listed = Machine(source=KIND, gpus=named, gpus_known=False)
            parts.append(Partial(KIND, first, listed, match="name"))
        return parts
    # No NVIDIA device in the inventory: the GPU list is known to hold none; say what there is instead.
    accelerators = [_accelerator(d) for d in devices if vendor(d) in {"amd", "intel", "apple"}]
    host = HostInfo(os=os, accelerators=list(dict.fromkeys(accelerators)) or None)
    driver = DriverInfo(pci_devices=[]) if any(d.bus or d.os is None for d in devices) else DriverInfo()
    return [Partial(KIND, first, Machine(source=KIND, host=host, driver=driver, gpus_known=True))]


def _gpu_name(name: str) -> str:
    """lspci's "NVIDIA TU116 [GeForce GTX 1660]" → "NVIDIA GeForce GTX 1660"; other names as given."""
    m = re.search(r"\[([^\]]{2,80})\]", name)
    if m is None:
        return name
    inner = m[1]
    return inner if inner.upper().startswith("NVIDIA") else f"NVIDIA {inner}"


def _accelerator(d: Device) -> str:
    kind = vendor(d)
    m = re.search(r"\[([^\]]{2,80})\]", d.name)
    model = m[1] if m and kind != "amd" else d.name
    if kind == "apple":
        return f"{d.name} (Apple MPS)"
    integrated = kind == "intel" and "arc" not in d.name.lower()
    label = "Intel integrated GPU" if integrated else {"amd": "AMD GPU", "intel": "Intel GPU"}[kind]
    return f"{label} ({model})"
