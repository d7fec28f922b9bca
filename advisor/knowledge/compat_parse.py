"""Small parsers for the names the compat tables and machines use.

Versions (driver, CUDA), driver branches, wheel variants (``cu121``), arch-list entries (``sm_90a``)
and wheel platforms. Pure; anything that does not parse gives None.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from packaging.version import InvalidVersion, Version

Platform = Literal["linux-x86_64", "linux-aarch64", "windows", "macos"]
OS = Literal["linux", "windows"]
CC = tuple[int, int]

_ARCH_RE = re.compile(r"^(sm|compute)_(\d+?)(\d)([af]?)$")
_VARIANT_RE = re.compile(r"^cu(\d+)(\d)$")


def parse_version(text: str | None) -> Version | None:
    """A driver or CUDA version string → Version; None when absent or not a version ("N/A")."""
    if text is None:
        return None
    try:
        return Version(text.strip())
    except InvalidVersion:
        return None


def driver_branch(driver_version: str | None) -> int | None:
    """``"550.54.15"`` → 550 (the branch is the driver's major number)."""
    v = parse_version(driver_version)
    return None if v is None else v.major


def variant_cuda(variant: str | None) -> Version | None:
    """``"cu121"`` → 12.1, ``"cu102"`` → 10.2, ``"cu130"`` → 13.0; anything else → None."""
    if variant is None:
        return None
    m = _VARIANT_RE.match(variant.strip().lower())
    return Version(f"{int(m.group(1))}.{m.group(2)}") if m else None


def cuda_variant(cuda: str | None) -> str | None:
    """``"12.1"`` (torch.version.cuda) → ``"cu121"``."""
    v = parse_version(cuda)
    return None if v is None else f"cu{v.major}{v.minor}"


@dataclass(frozen=True)
class Arch:
    """One entry of an arch list: ``sm_90a`` → kind sass, cc (9, 0), suffix "a"."""

    kind: Literal["sass", "ptx"]
    cc: CC
    suffix: str  # "" plain, "a" arch-specific (exact CC only), "f" family


def parse_arch(text: str) -> Arch | None:
    """``"sm_86"`` / ``"compute_120"`` / ``"sm_90a"`` → Arch; anything else → None."""
    m = _ARCH_RE.match(text.strip().lower())
    if not m:
        return None
    kind: Literal["sass", "ptx"] = "sass" if m.group(1) == "sm" else "ptx"
    return Arch(kind, (int(m.group(2)), int(m.group(3))), m.group(4))


def platform_of(os_name: str | None, machine_arch: str | None) -> Platform | None:
    """Host OS + CPU architecture → the wheel platform; None when the OS is unknown."""
    if not os_name:
        return None
    name = os_name.strip().lower()
    if name.startswith("win"):
        return "windows"
    if name in ("darwin", "macos", "mac os x"):
        return "macos"
    if name == "linux":
        arch = (machine_arch or "").strip().lower()
        if arch in ("aarch64", "arm64"):
            return "linux-aarch64"
        if arch in ("x86_64", "amd64"):
            return "linux-x86_64"
    return None


def os_of(platform: Platform | None) -> OS | None:
    """The driver OS of a wheel platform (driver tables have Linux and Windows columns)."""
    if platform is None or platform == "macos":
        return None
    return "windows" if platform == "windows" else "linux"
