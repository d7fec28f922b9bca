"""Kernel-side facts about the NVIDIA driver: devices on the PCI bus and the loaded kernel module's version.

These are read from sysfs and procfs, without NVML, so that "an NVIDIA GPU is here but no driver answers"
(no-driver) can be told apart from "no GPU" (no-gpu), and a user-space/kernel version mismatch can be shown.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from advisor.machine import PciDevice

NVIDIA_VENDOR_ID = 0x10DE
_DISPLAY_CLASS = 0x03  # PCI base class "display controller" (VGA 0x0300, 3D 0x0302)


def read_nvidia_pci_devices(sysfs_root: Path = Path("/sys")) -> list[PciDevice] | None:
    """NVIDIA display/3D controllers under ``<sysfs_root>/bus/pci/devices``.

    ``None`` when the bus cannot be read (not Linux, sysfs not mounted); ``[]`` when it holds no NVIDIA GPU.
    NVIDIA's audio, USB and NVSwitch functions are skipped: only base class 0x03 is a GPU.
    """
    devices_dir = sysfs_root / "bus" / "pci" / "devices"
    try:
        entries = sorted(devices_dir.iterdir())
    except OSError:
        return None
    found = []
    for entry in entries:
        vendor = _hex_file(entry / "vendor")
        if vendor != NVIDIA_VENDOR_ID:
            continue
        class_code = _hex_file(entry / "class")
        if class_code is not None and class_code >> 16 != _DISPLAY_CLASS:
            continue
        device_id = _hex_file(entry / "device")
        if device_id is None:
            continue
        found.append(
            PciDevice(
                address=entry.name,
                vendor_id=vendor,
                device_id=device_id,
                class_code=class_code,
                driver=_bound_driver(entry),
            )
        )
    return found


def read_kernel_module_version(proc_root: Path = Path("/proc")) -> str | None:
    """The loaded nvidia kernel module's version from ``/proc/driver/nvidia/version``, or ``None``.

    The first line reads, for the proprietary and the open modules respectively:
    ``NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.15  Tue Mar  5 22:23:56 UTC 2024`` and
    ``NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  570.124.06  Release Build ...``.
    """
    try:
        text = (proc_root / "driver" / "nvidia" / "version").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    return parse_kernel_module_version(text)


def parse_kernel_module_version(text: str) -> str | None:
    """The version number on the ``NVRM version:`` line, or ``None``."""
    for line in text.splitlines():
        if line.startswith("NVRM version:"):
            match = re.search(r"Kernel Module\b.*?\s(\d+\.\d+(?:\.\d+)?)\s", line + " ")
            if match:
                return match.group(1)
    return None


def _hex_file(path: Path) -> int | None:
    try:
        return int(path.read_text(encoding="ascii").strip(), 16)
    except (OSError, ValueError):
        return None


def _bound_driver(entry: Path) -> str | None:
    try:
        # The link points at /sys/bus/pci/drivers/<name>; its last component is the driver's name.
        return os.path.basename(os.readlink(entry / "driver")) or None
    except OSError:
        return None
