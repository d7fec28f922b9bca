"""Value parsing shared by every dump format: "N/A" → None, units → numbers, PCI ids and bus ids.

Each function takes the raw text nvidia-smi or collect_env printed and returns a plain value or ``None``
when the text is a placeholder ("N/A", "[Not Supported]", "Could not collect", ...) or does not parse.
None of them raise.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal

from advisor.machine import SIMD_FLAGS, ThrottleReason

__all__ = ["SIMD_FLAGS"]  # re-exported: parsers use v.SIMD_FLAGS

ProcessKind = Literal["compute", "graphics", "unknown"]

# Placeholders nvidia-smi and collect_env print instead of a value (compared lower-case, brackets removed).
_PLACEHOLDERS = frozenset(
    {
        "",
        "n/a",
        "na",
        "not supported",
        "unknown error",
        "unknown",
        "requested functionality has been deprecated",
        "not found",
        "could not collect",
        "insufficient permissions",
        "gpu requires reset",
        "gpu is lost",
        "err!",
        "not available",
        "no data",
        "no cuda",  # collect_env on macOS prints it for every CUDA field (GPU list, driver, cuDNN)
    }
)

# Digit runs are bounded: a fuzzed 5000-digit "number" must not reach int()/float() (limits, inf).
_NUMBER = re.compile(r"(?<![\d.])[-+]?(?:\d{1,18}(?:\.\d{1,12})?|\.\d{1,12})(?![\d.])", re.ASCII)
_UNIT_BYTES = {
    "b": 1,
    "kib": 2**10,
    "kb": 10**3,
    "mib": 2**20,
    "mb": 10**6,
    "gib": 2**30,
    "gb": 10**9,
    "tib": 2**40,
    "tb": 10**12,
}
_SIZE = re.compile(r"^([-+]?\d{1,18}(?:\.\d{1,12})?)\s*([kmgt]?i?b)$", re.ASCII | re.IGNORECASE)
_BUS_ID = re.compile(
    r"^(?:([0-9a-f]{1,8}):)?([0-9a-f]{1,2}):([0-9a-f]{1,2})\.([0-7])$", re.ASCII | re.IGNORECASE
)

# Clock event ("throttle") reason names as nvidia-smi prints them (text) or tags them (XML suffix),
# normalised to lower_snake_case → the names advisor.machine.ThrottleReason uses.
_REASONS: dict[str, ThrottleReason] = {
    "idle": "gpu_idle",
    "gpu_idle": "gpu_idle",
    "applications_clocks_setting": "applications_clocks_setting",
    "application_clocks_setting": "applications_clocks_setting",
    "sw_power_cap": "sw_power_cap",
    "hw_slowdown": "hw_slowdown",
    "sync_boost": "sync_boost",
    "sw_thermal_slowdown": "sw_thermal_slowdown",
    "hw_thermal_slowdown": "hw_thermal_slowdown",
    "hw_power_brake_slowdown": "hw_power_brake_slowdown",
    "display_clock_setting": "display_clock_setting",
    "display_clocks_setting": "display_clock_setting",
}


def clean(text: str | None) -> str | None:
    """Strip a raw value; placeholders such as ``N/A`` or ``[Not Supported]`` become None."""
    if text is None:
        return None
    s = text.strip()
    inner = s[1:-1].strip() if s.startswith("[") and s.endswith("]") else s
    if inner.lower() in _PLACEHOLDERS:
        return None
    return s


def number(text: str | None) -> float | None:
    """The first number in a value: ``"29.02 W"`` → 29.02, ``"44 C"`` → 44.0, ``"0 %"`` → 0.0."""
    s = clean(text)
    if s is None:
        return None
    m = _NUMBER.search(s)
    if m is None:
        return None
    try:
        return float(m.group(0))
    except ValueError:  # pragma: no cover - the pattern only matches valid floats
        return None


def integer(text: str | None) -> int | None:
    """An integer value: ``"16x"`` → 16, ``"0x1D"`` → 29, ``"  7 "`` → 7; anything else → None."""
    s = clean(text)
    if s is None:
        return None
    if s.lower().startswith("0x"):
        return hex_int(s)
    m = re.match(r"^[-+]?\d{1,18}(?!\d)", s, re.ASCII)
    return int(m.group(0)) if m else None


def hex_int(text: str | None) -> int | None:
    """A hexadecimal value with or without ``0x``: ``"0x233010DE"`` / ``"1DB810DE"`` → int."""
    s = clean(text)
    if s is None:
        return None
    s = s.lower().removeprefix("0x")
    if not s or len(s) > 16 or any(c not in "0123456789abcdef" for c in s):
        return None
    return int(s, 16)


def size_bytes(text: str | None) -> int | None:
    """``"12288 MiB"`` → bytes. nvidia-smi prints MiB; other binary/decimal units are accepted too."""
    s = clean(text)
    if s is None:
        return None
    m = _SIZE.match(s.replace(" ", ""))
    if m is None:
        return None
    factor = _UNIT_BYTES.get(m.group(2).lower())
    if factor is None:
        return None
    return int(float(m.group(1)) * factor)


def whole(text: str | None) -> int | None:
    """An integral measurement with a unit: ``"135 MHz"`` → 135."""
    value = number(text)
    return None if value is None else int(value)


def flag(text: str | None) -> bool | None:
    """Enabled/Disabled, Yes/No, On/Off, True/False, Active/Not Active → bool; anything else → None."""
    s = clean(text)
    if s is None:
        return None
    s = s.lower()
    if s in {"enabled", "enable", "yes", "on", "true", "active"}:
        return True
    if s in {"disabled", "disable", "no", "off", "false", "not active", "inactive"}:
        return False
    return None


def pci_device_id(text: str | None) -> int | None:
    """NVML's 32-bit PCI id (device << 16 | vendor) as printed (``0x233010DE``) → the 16-bit device id."""
    value = hex_int(text)
    if value is None:
        return None
    # nvidia-smi prints device and vendor together; a bare 16-bit id is already the device id.
    return value >> 16 if value > 0xFFFF else value


def bus_id(text: str | None) -> str | None:
    """Normalise a PCI bus id to NVML's form ``00000000:3B:00.0`` (8-digit domain, upper case)."""
    s = clean(text)
    if s is None:
        return None
    m = _BUS_ID.match(s)
    if m is None:
        return None
    domain = int(m.group(1) or "0", 16)
    return f"{domain:08X}:{int(m.group(2), 16):02X}:{int(m.group(3), 16):02X}.{m.group(4)}"


def throttle_reason(name: str) -> ThrottleReason | None:
    """``"HW Power Brake Slowdown"`` / ``clocks_event_reason_hw_power_brake_slowdown`` → ThrottleReason."""
    key = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    for prefix in ("clocks_throttle_reason_", "clocks_event_reason_", "clocks_reason_"):
        key = key.removeprefix(prefix)
    return _REASONS.get(key)


def cuda_from_int(value: int) -> str:
    """CUDA's integer version as "major.minor": 12040 → "12.4", 10010 → "10.1" (nvml.h / cuda.h encoding)."""
    return f"{value // 1000}.{(value % 1000) // 10}"


def compute_mode(text: str | None) -> str | None:
    """nvidia-smi's compute mode wording (``E. Process``, ``Exclusive_Process``) → NVML's name."""
    s = clean(text)
    if s is None:
        return None
    key = re.sub(r"[^a-z]", "", s.lower())
    return {
        "default": "Default",
        "eprocess": "Exclusive_Process",
        "exclusiveprocess": "Exclusive_Process",
        "ethread": "Exclusive_Thread",
        "exclusivethread": "Exclusive_Thread",
        "prohibited": "Prohibited",
    }.get(key, s)


def process_kind(text: str | None) -> ProcessKind:
    """nvidia-smi's process type column: ``C`` → compute, ``G`` → graphics, anything else → unknown.

    ``C+G`` stays unknown on purpose: on Windows every desktop application shows as C+G.
    """
    s = (clean(text) or "").upper()
    if s == "C":
        return "compute"
    if s == "G":
        return "graphics"
    return "unknown"


def active_reasons(pairs: Iterable[tuple[str | None, str | None]]) -> list[ThrottleReason] | None:
    """The active clock-throttle reasons among (name, "Active"/"Not Active") pairs, in order.

    None when no known reason was listed at all (the section is missing or unreadable), [] when none is on.
    """
    active: list[ThrottleReason] = []
    seen = False
    for key, value in pairs:
        name = throttle_reason(key) if key is not None else None
        state = flag(value)
        if name is None or state is None:
            continue
        seen = True
        if state and name not in active:
            active.append(name)
    return active if seen else None
