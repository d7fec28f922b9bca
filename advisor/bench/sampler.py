"""NVML sampling while a GPU test runs, so that a slow figure comes with its likely cause.

The parent samples (not the child): NVML keeps answering even when the child's CUDA context hangs.
Reading is one small function per sample; summarising and wording are pure and tested on records.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

# NVML throttle ("clock event") reason bits by pynvml constant name → our ThrottleReason names.
_REASON_CONSTANTS: dict[str, tuple[str, ...]] = {
    "gpu_idle": ("nvmlClocksEventReasonGpuIdle", "nvmlClocksThrottleReasonGpuIdle"),
    "applications_clocks_setting": (
        "nvmlClocksEventReasonApplicationsClocksSetting",
        "nvmlClocksThrottleReasonApplicationsClocksSetting",
    ),
    "sw_power_cap": ("nvmlClocksEventReasonSwPowerCap", "nvmlClocksThrottleReasonSwPowerCap"),
    "hw_slowdown": ("nvmlClocksThrottleReasonHwSlowdown",),
    "sync_boost": ("nvmlClocksEventReasonSyncBoost", "nvmlClocksThrottleReasonSyncBoost"),
    "sw_thermal_slowdown": (
        "nvmlClocksEventReasonSwThermalSlowdown",
        "nvmlClocksThrottleReasonSwThermalSlowdown",
    ),
    "hw_thermal_slowdown": ("nvmlClocksThrottleReasonHwThermalSlowdown",),
    "hw_power_brake_slowdown": ("nvmlClocksThrottleReasonHwPowerBrakeSlowdown",),
    "display_clock_setting": (
        "nvmlClocksEventReasonDisplayClockSetting",
        "nvmlClocksThrottleReasonDisplayClockSetting",
    ),
}
# Reasons that do not slow a busy GPU down: idle, and the display clock.
BENIGN_REASONS = frozenset({"gpu_idle", "display_clock_setting"})


@dataclass(frozen=True)
class Sample:
    """One NVML reading of one GPU; None = that query failed."""

    sm_clock_mhz: int | None = None
    sm_clock_max_mhz: int | None = None
    reasons: tuple[str, ...] | None = None
    power_watts: float | None = None
    power_limit_watts: float | None = None
    temperature_c: float | None = None
    pcie_gen: int | None = None
    pcie_gen_max: int | None = None
    pcie_width: int | None = None
    pcie_width_max: int | None = None


@dataclass(frozen=True)
class Telemetry:
    """A summary of the samples taken during one test."""

    samples: int
    sm_clock_min_mhz: int | None = None
    sm_clock_max_seen_mhz: int | None = None
    sm_clock_max_mhz: int | None = None
    reasons: tuple[str, ...] = ()
    power_max_watts: float | None = None
    power_limit_watts: float | None = None
    temperature_max_c: float | None = None
    pcie: str | None = None  # "Gen4 x16 of Gen4 x16"
    extra: list[str] = field(default_factory=list)


def summarize_samples(samples: Iterable[Sample]) -> Telemetry | None:
    """Fold samples into one Telemetry (None without samples)."""
    items = list(samples)
    if not items:
        return None

    def vals(name: str) -> list[Any]:
        return [getattr(s, name) for s in items if getattr(s, name) is not None]

    clocks, reasons = vals("sm_clock_mhz"), sorted({r for s in items for r in (s.reasons or ())})
    powers, temps = vals("power_watts"), vals("temperature_c")
    last = items[-1]
    pcie = None
    if last.pcie_gen is not None and last.pcie_width is not None:
        pcie = f"Gen{last.pcie_gen} x{last.pcie_width}"
        if last.pcie_gen_max is not None and last.pcie_width_max is not None:
            pcie += f" of Gen{last.pcie_gen_max} x{last.pcie_width_max}"
    return Telemetry(
        samples=len(items),
        sm_clock_min_mhz=min(clocks) if clocks else None,
        sm_clock_max_seen_mhz=max(clocks) if clocks else None,
        sm_clock_max_mhz=(vals("sm_clock_max_mhz") or [None])[-1],
        reasons=tuple(r for r in reasons if r not in BENIGN_REASONS),
        power_max_watts=max(powers) if powers else None,
        power_limit_watts=(vals("power_limit_watts") or [None])[-1],
        temperature_max_c=max(temps) if temps else None,
        pcie=pcie,
    )


def describe(t: Telemetry) -> str:
    """One line for BenchResult.notes, starting with ``NVML during the test:``."""
    parts = []
    if t.sm_clock_min_mhz is not None:
        clock = f"SM clock {t.sm_clock_min_mhz}-{t.sm_clock_max_seen_mhz} MHz"
        parts.append(clock + (f" (max {t.sm_clock_max_mhz})" if t.sm_clock_max_mhz else ""))
    parts.append("clock limits: " + (", ".join(t.reasons) if t.reasons else "none"))
    if t.power_max_watts is not None:
        limit = f" of {t.power_limit_watts:.0f} W limit" if t.power_limit_watts else ""
        parts.append(f"power up to {t.power_max_watts:.0f} W{limit}")
    if t.temperature_max_c is not None:
        parts.append(f"up to {t.temperature_max_c:.0f} °C")
    if t.pcie:
        parts.append(f"PCIe {t.pcie}")
    return f"NVML during the test ({t.samples} samples): " + "; ".join(parts)


class Sampler(Protocol):
    """What the runner needs: open a window for one GPU, close it and get the summary."""

    def begin(self, device: int) -> None: ...

    def end(self) -> Telemetry | None: ...

    def close(self) -> None: ...


class NvmlSampler:
    """Samples the GPU of the current window every ``interval_s`` seconds in a background thread."""

    def __init__(self, handles: dict[int, Any], nvml: Any, interval_s: float = 0.2) -> None:
        self._handles = handles
        self._nvml = nvml
        self._interval = interval_s
        self._lock = threading.Lock()
        self._device: int | None = None
        self._samples: list[Sample] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="advisor-nvml-sampler", daemon=True)
        self._thread.start()

    @classmethod
    def create(cls, pci_bus_ids: dict[int, str | None]) -> NvmlSampler | None:
        """Open NVML and find each torch device by PCI bus id; None when NVML is unavailable."""
        try:
            import pynvml

            pynvml.nvmlInit()
        except (ImportError, OSError) as exc:  # no binding or no library: bench without telemetry
            del exc
            return None
        except Exception as exc:
            if type(exc).__name__.startswith("NVMLError"):
                return None
            raise
        handles: dict[int, Any] = {}
        for index, bus in pci_bus_ids.items():
            if bus is None:
                continue
            try:
                handles[index] = pynvml.nvmlDeviceGetHandleByPciBusId(bus)
            except pynvml.NVMLError:
                continue
        return cls(handles, pynvml) if handles else None

    def begin(self, device: int) -> None:
        with self._lock:
            self._device, self._samples = device, []

    def end(self) -> Telemetry | None:
        with self._lock:
            samples, self._device, self._samples = self._samples, None, []
        return summarize_samples(samples)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        with contextlib.suppress(Exception):  # shutting down is best effort
            self._nvml.nvmlShutdown()

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            with self._lock:
                device = self._device
            if device is None or device not in self._handles:
                continue
            sample = read_sample(self._nvml, self._handles[device])
            with self._lock:
                if self._device == device:
                    self._samples.append(sample)


def read_sample(nvml: Any, handle: Any) -> Sample:
    """One reading; each query that fails becomes None."""

    def q(fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except Exception:  # an unsupported field is unknown, not an error
            return None

    sm = q(lambda: nvml.nvmlDeviceGetClockInfo(handle, nvml.NVML_CLOCK_SM))
    sm_max = q(lambda: nvml.nvmlDeviceGetMaxClockInfo(handle, nvml.NVML_CLOCK_SM))
    get_reasons = getattr(nvml, "nvmlDeviceGetCurrentClocksEventReasons", None) or getattr(
        nvml, "nvmlDeviceGetCurrentClocksThrottleReasons", None
    )
    mask = q(lambda: get_reasons(handle)) if get_reasons else None
    power = q(lambda: nvml.nvmlDeviceGetPowerUsage(handle))
    limit = q(lambda: nvml.nvmlDeviceGetEnforcedPowerLimit(handle))
    return Sample(
        sm_clock_mhz=sm,
        sm_clock_max_mhz=sm_max,
        reasons=None if mask is None else reasons_from_mask(nvml, int(mask)),
        power_watts=None if power is None else power / 1000.0,
        power_limit_watts=None if limit is None else limit / 1000.0,
        temperature_c=q(lambda: nvml.nvmlDeviceGetTemperature(handle, nvml.NVML_TEMPERATURE_GPU)),
        pcie_gen=q(lambda: nvml.nvmlDeviceGetCurrPcieLinkGeneration(handle)),
        pcie_gen_max=q(lambda: nvml.nvmlDeviceGetMaxPcieLinkGeneration(handle)),
        pcie_width=q(lambda: nvml.nvmlDeviceGetCurrPcieLinkWidth(handle)),
        pcie_width_max=q(lambda: nvml.nvmlDeviceGetMaxPcieLinkWidth(handle)),
    )


def reasons_from_mask(nvml: Any, mask: int) -> tuple[str, ...]:
    """Decode NVML's throttle bitmask with the binding's own constants (names differ across versions)."""
    out = []
    for name, constants in _REASON_CONSTANTS.items():
        bit = next((getattr(nvml, c) for c in constants if hasattr(nvml, c)), None)
        if bit is not None and mask & int(bit):
            out.append(name)
    return tuple(out)
