"""NVML source: the driver and every GPU as `pynvml` (nvidia-ml-py) reports them.

Failure is contained at three levels, as in gpustat and nvitop:
- a field NVML cannot read (not supported, function missing in this driver, no permission) is ``None``;
- a GPU whose handle is lost becomes a placeholder ``GPU(index, lost=True, error=...)``; the others report;
- a library that cannot start (not found, driver not loaded, driver/library mismatch, binding missing) is
  recorded in ``DriverInfo.nvml_ok`` / ``nvml_error``, never raised.

Every NVML call goes through one gate, :meth:`_Gate.query`.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from advisor.machine import GPU, DriverInfo, GPUProcess, MigInstance, ThrottleReason

# NVML constants (nvml.h). Named here rather than read from the binding so a fake module needs none of them.
_CLOCK_SM = 1
_CLOCK_MEM = 2
_TEMPERATURE_GPU = 0
_MEMORY_ERROR_CORRECTED = 0
_MEMORY_ERROR_UNCORRECTED = 1
_VOLATILE_ECC = 0
_AGGREGATE_ECC = 1
_RETIREMENT_MULTIPLE_SBE = 0
_RETIREMENT_DBE = 1
_PSTATE_UNKNOWN = 32

# nvmlClocksEventReason* bits (nvml.h; identical to the older nvmlClocksThrottleReason* bits).
_REASON_BITS: tuple[tuple[int, ThrottleReason], ...] = (
    (0x001, "gpu_idle"),
    (0x002, "applications_clocks_setting"),
    (0x004, "sw_power_cap"),
    (0x008, "hw_slowdown"),
    (0x010, "sync_boost"),
    (0x020, "sw_thermal_slowdown"),
    (0x040, "hw_thermal_slowdown"),
    (0x080, "hw_power_brake_slowdown"),
    (0x100, "display_clock_setting"),
)

# nvmlDeviceArchitecture_t (nvml.h), named as nvidia-smi prints "Product Architecture".
_ARCHITECTURES = {
    2: "Kepler",
    3: "Maxwell",
    4: "Pascal",
    5: "Volta",
    6: "Turing",
    7: "Ampere",
    8: "Ada Lovelace",
    9: "Hopper",
    10: "Blackwell",
    13: "Rubin",
}

# nvmlComputeMode_t, named as nvidia-smi prints them.
_COMPUTE_MODES = {0: "Default", 1: "Exclusive_Thread", 2: "Prohibited", 3: "Exclusive_Process"}

# nvidia-smi's wording for the failures users search for; pynvml's own str() differs
# (mismatch reads "RM has detected an NVML/RM version mismatch.").
_INIT_ERROR_TEXT = {
    "NVMLError_LibRmVersionMismatch": "Driver/library version mismatch",
    "NVMLError_DriverNotLoaded": "Driver Not Loaded",
    "NVMLError_LibraryNotFound": "NVML Shared Library Not Found",
}

_LIB_DIRS = (
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/usr/lib64",
    "/usr/lib",
    "/usr/lib/wsl/lib",
)


@dataclass
class NvmlResult:
    """What the NVML probe saw: the driver facts and one record per GPU (placeholders included)."""

    driver: DriverInfo = field(default_factory=DriverInfo)
    gpus: list[GPU] = field(default_factory=list)


class _GpuLost(Exception):
    """Raised out of the gate when NVML says the GPU fell off the bus mid-query."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _Gate:
    """The one place NVML is called. A field that cannot be read answers ``None``."""

    def __init__(self, nvml: Any) -> None:
        self.nvml = nvml
        self.error: type[BaseException] = getattr(nvml, "NVMLError", Exception)
        self._lost: tuple[type[BaseException], ...] = tuple(
            c for c in (getattr(nvml, "NVMLError_GpuIsLost", None),) if isinstance(c, type)
        )

    def query(self, name: str, *args: Any) -> Any:
        """Call ``nvml.<name>(*args)``; ``None`` when the binding lacks it or NVML cannot answer."""
        func = getattr(self.nvml, name, None)
        if func is None:  # an older nvidia-ml-py without this function
            return None
        try:
            return func(*args)
        except self._lost as e:
            raise _GpuLost(_error_text(e)) from e
        except self.error:
            # NotSupported, FunctionNotFound (older driver), NoPermission, NoData, Unknown ...: unknown field.
            return None

    def must(self, name: str, *args: Any) -> Any:
        """Call ``nvml.<name>(*args)`` where a failure matters to the caller: NVML's error propagates."""
        return getattr(self.nvml, name)(*args)

    def first(self, names: tuple[str, ...], *args: Any) -> Any:
        """The first of several equivalent calls (newest API first) that answers."""
        for name in names:
            value = self.query(name, *args)
            if value is not None:
                return value
        return None


def probe_nvml(
    nvml: Any | None = None,
    *,
    proc_root: Path = Path("/proc"),
    lib_dirs: tuple[str, ...] = _LIB_DIRS,
) -> NvmlResult:
    """Read the driver and every GPU through NVML. Never raises for NVML's own failures.

    ``nvml`` is the binding module (tests pass a fake); by default ``pynvml`` is imported here, lazily.
    """
    if nvml is None:
        try:
            import pynvml

            nvml = pynvml
        except Exception as e:  # ImportError, or the wrong "pynvml" package failing at import
            return NvmlResult(DriverInfo(nvml_ok=False, nvml_error=f"pynvml not importable: {e}"))
    base: type[BaseException] = getattr(nvml, "NVMLError", Exception)
    try:
        nvml.nvmlInit()
    except base as e:
        driver = DriverInfo(nvml_ok=False, nvml_error=_init_error_text(e))
        if type(e).__name__ == "NVMLError_LibRmVersionMismatch":
            driver.library_version = nvml_library_version(lib_dirs)
        return NvmlResult(driver)
    try:
        return _probe_initialised(_Gate(nvml), proc_root)
    finally:
        with contextlib.suppress(base):
            nvml.nvmlShutdown()


def _probe_initialised(gate: _Gate, proc_root: Path) -> NvmlResult:
    driver = DriverInfo(nvml_ok=True)
    driver.version = _text(gate.query("nvmlSystemGetDriverVersion"))
    cuda = gate.first(("nvmlSystemGetCudaDriverVersion_v2", "nvmlSystemGetCudaDriverVersion"))
    driver.cuda_version = cuda_version_text(cuda) if isinstance(cuda, int) and cuda > 0 else None
    try:
        count = int(gate.must("nvmlDeviceGetCount"))
    except gate.error as e:  # cannot even enumerate: as good as no working NVML
        driver.nvml_ok = False
        driver.nvml_error = f"nvmlDeviceGetCount: {_error_text(e)}"
        return NvmlResult(driver)
    return NvmlResult(driver, [_probe_gpu(gate, i, proc_root) for i in range(count)])


def _probe_gpu(gate: _Gate, index: int, proc_root: Path) -> GPU:
    gpu = GPU(index=index)
    try:
        handle = gate.must("nvmlDeviceGetHandleByIndex", index)
    except gate.error as e:
        lost = type(e).__name__ in ("NVMLError_GpuIsLost", "NVMLError_Unknown")
        return GPU(index=index, lost=lost, error=_error_text(e))
    try:
        _fill_identity(gate, handle, gpu)
        _fill_state(gate, handle, gpu)
        _fill_health(gate, handle, gpu)
        _fill_modes(gate, handle, gpu)
        gpu.processes = _processes(gate, handle, proc_root)
    except _GpuLost as e:  # keep what was read before the GPU went away
        gpu.lost = True
        gpu.error = e.message
    except (TypeError, ValueError, IndexError, AttributeError) as e:
        # A binding answering in an unexpected shape: this GPU is partly read, the others still report.
        gpu.error = f"NVML answered unexpectedly: {type(e).__name__}: {e}"
    return gpu


def _fill_identity(gate: _Gate, h: Any, gpu: GPU) -> None:
    gpu.name = _text(gate.query("nvmlDeviceGetName", h))
    gpu.uuid = _text(gate.query("nvmlDeviceGetUUID", h))
    gpu.serial = _text(gate.query("nvmlDeviceGetSerial", h))
    pci = gate.query("nvmlDeviceGetPciInfo", h)
    if pci is not None:
        gpu.pci_bus_id = _text(getattr(pci, "busId", None))
        device_id = getattr(pci, "pciDeviceId", None)
        gpu.pci_device_id = device_id >> 16 if isinstance(device_id, int) else None  # high half: device
        subsystem = getattr(pci, "pciSubSystemId", None)
        gpu.pci_subsystem_id = subsystem if isinstance(subsystem, int) else None
    gpu.architecture = _ARCHITECTURES.get(gate.query("nvmlDeviceGetArchitecture", h))
    cc = gate.query("nvmlDeviceGetCudaComputeCapability", h)
    gpu.compute_capability = f"{cc[0]}.{cc[1]}" if cc is not None else None


def _fill_state(gate: _Gate, h: Any, gpu: GPU) -> None:
    mem = gate.query("nvmlDeviceGetMemoryInfo", h)
    if mem is not None:
        gpu.memory_total_bytes = _int(getattr(mem, "total", None))
        gpu.memory_used_bytes = _int(getattr(mem, "used", None))
        gpu.memory_free_bytes = _int(getattr(mem, "free", None))
    gpu.sm_clock_mhz = _int(gate.query("nvmlDeviceGetClockInfo", h, _CLOCK_SM))
    gpu.sm_clock_max_mhz = _int(gate.query("nvmlDeviceGetMaxClockInfo", h, _CLOCK_SM))
    gpu.memory_clock_mhz = _int(gate.query("nvmlDeviceGetClockInfo", h, _CLOCK_MEM))
    gpu.memory_clock_max_mhz = _int(gate.query("nvmlDeviceGetMaxClockInfo", h, _CLOCK_MEM))
    gpu.power_draw_watts = _watts(gate.query("nvmlDeviceGetPowerUsage", h))
    gpu.power_limit_watts = _watts(gate.query("nvmlDeviceGetEnforcedPowerLimit", h))
    gpu.power_default_limit_watts = _watts(gate.query("nvmlDeviceGetPowerManagementDefaultLimit", h))
    constraints = gate.query("nvmlDeviceGetPowerManagementLimitConstraints", h)
    gpu.power_max_limit_watts = _watts(constraints[1]) if constraints is not None else None
    temp = gate.query("nvmlDeviceGetTemperature", h, _TEMPERATURE_GPU)
    gpu.temperature_c = float(temp) if isinstance(temp, int | float) else None
    util = gate.query("nvmlDeviceGetUtilizationRates", h)
    gpu_util = getattr(util, "gpu", None)
    gpu.utilization_gpu_percent = float(gpu_util) if isinstance(gpu_util, int | float) else None
    pstate = gate.query("nvmlDeviceGetPerformanceState", h)
    gpu.performance_state = f"P{pstate}" if isinstance(pstate, int) and pstate != _PSTATE_UNKNOWN else None
    gpu.pcie_gen_current = _int(gate.query("nvmlDeviceGetCurrPcieLinkGeneration", h))
    gpu.pcie_gen_max = _int(gate.query("nvmlDeviceGetMaxPcieLinkGeneration", h))
    gpu.pcie_width_current = _int(gate.query("nvmlDeviceGetCurrPcieLinkWidth", h))
    gpu.pcie_width_max = _int(gate.query("nvmlDeviceGetMaxPcieLinkWidth", h))
    # The "event" name replaced "throttle" in driver 535; older drivers only have the latter.
    reasons = gate.first(
        ("nvmlDeviceGetCurrentClocksEventReasons", "nvmlDeviceGetCurrentClocksThrottleReasons"), h
    )
    gpu.throttle_reasons = throttle_reason_names(reasons) if isinstance(reasons, int) else None


def _fill_health(gate: _Gate, h: Any, gpu: GPU) -> None:
    ecc = gate.query("nvmlDeviceGetEccMode", h)
    gpu.ecc_enabled = bool(ecc[0]) if ecc is not None else None

    def ecc_count(kind: int, counter: int) -> int | None:
        return _int(gate.query("nvmlDeviceGetTotalEccErrors", h, kind, counter))

    gpu.ecc_uncorrected_volatile = ecc_count(_MEMORY_ERROR_UNCORRECTED, _VOLATILE_ECC)
    gpu.ecc_corrected_volatile = ecc_count(_MEMORY_ERROR_CORRECTED, _VOLATILE_ECC)
    gpu.ecc_uncorrected_aggregate = ecc_count(_MEMORY_ERROR_UNCORRECTED, _AGGREGATE_ECC)
    gpu.ecc_corrected_aggregate = ecc_count(_MEMORY_ERROR_CORRECTED, _AGGREGATE_ECC)
    sbe = gate.query("nvmlDeviceGetRetiredPages", h, _RETIREMENT_MULTIPLE_SBE)
    gpu.retired_pages_sbe = len(sbe) if sbe is not None else None
    dbe = gate.query("nvmlDeviceGetRetiredPages", h, _RETIREMENT_DBE)
    gpu.retired_pages_dbe = len(dbe) if dbe is not None else None
    pending = gate.query("nvmlDeviceGetRetiredPagesPendingStatus", h)
    gpu.retired_pages_pending = bool(pending) if pending is not None else None
    rows = gate.query("nvmlDeviceGetRemappedRows", h)
    if rows is not None:
        corr, unc, rows_pending, failure = rows
        gpu.remapped_rows_correctable = int(corr)
        gpu.remapped_rows_uncorrectable = int(unc)
        gpu.remapped_rows_pending = bool(rows_pending)
        gpu.remapped_rows_failure = bool(failure)


def _fill_modes(gate: _Gate, h: Any, gpu: GPU) -> None:
    mig = gate.query("nvmlDeviceGetMigMode", h)
    if mig is not None:
        gpu.mig_enabled, gpu.mig_pending = bool(mig[0]), bool(mig[1])
        gpu.mig_instances = _mig_instances(gate, h) if gpu.mig_enabled else []
    persistence = gate.query("nvmlDeviceGetPersistenceMode", h)
    gpu.persistence_mode = bool(persistence) if persistence is not None else None
    gpu.compute_mode = _COMPUTE_MODES.get(gate.query("nvmlDeviceGetComputeMode", h))


def _mig_instances(gate: _Gate, h: Any) -> list[MigInstance] | None:
    slots = gate.query("nvmlDeviceGetMaxMigDeviceCount", h)
    if not isinstance(slots, int):
        return None
    instances = []
    for slot in range(slots):
        mig = gate.query("nvmlDeviceGetMigDeviceHandleByIndex", h, slot)
        if mig is None:  # NotFound: an empty slot
            continue
        mem = gate.query("nvmlDeviceGetMemoryInfo", mig)
        # A MIG device's name ends in its profile: "NVIDIA A100-SXM4-40GB MIG 3g.20gb".
        name = _text(gate.query("nvmlDeviceGetName", mig)) or ""
        profile = re.search(r"MIG\s+(\S+)\s*$", name)
        instances.append(
            MigInstance(
                gpu_instance_id=_int(gate.query("nvmlDeviceGetGpuInstanceId", mig)),
                compute_instance_id=_int(gate.query("nvmlDeviceGetComputeInstanceId", mig)),
                profile=profile.group(1) if profile else None,
                memory_total_bytes=_int(getattr(mem, "total", None)),
            )
        )
    return instances


def _processes(gate: _Gate, h: Any, proc_root: Path) -> list[GPUProcess] | None:
    procs = gate.query("nvmlDeviceGetComputeRunningProcesses", h)
    if procs is None:
        return None
    out = []
    for p in procs:
        pid = _int(getattr(p, "pid", None))
        name = None
        if pid is not None:
            # NVML's name first: inside a container NVML returns host PIDs, which /proc here may not match.
            name = _text(gate.query("nvmlSystemGetProcessName", pid)) or _comm(proc_root, pid)
        out.append(
            GPUProcess(
                pid=pid, name=name, used_memory_bytes=_int(getattr(p, "usedGpuMemory", None)), kind="compute"
            )
        )
    return out


def throttle_reason_names(mask: int) -> list[ThrottleReason]:
    """The active clock event (throttle) reasons in an NVML bitmask; bits we do not name are dropped."""
    return [name for bit, name in _REASON_BITS if mask & bit]


def cuda_version_text(version: int) -> str:
    """NVML's CUDA driver version integer as "major.minor": 12040 → "12.4" (nvml.h macros)."""
    return f"{version // 1000}.{(version % 1000) // 10}"


def nvml_library_version(lib_dirs: tuple[str, ...] = _LIB_DIRS) -> str | None:
    """The user-space NVML library's version, from the file ``libnvidia-ml.so.1`` points to.

    Only read on a driver/library mismatch, when NVML itself cannot be asked.
    """
    for directory in lib_dirs:
        link = Path(directory) / "libnvidia-ml.so.1"
        try:
            target = link.resolve(strict=True).name
        except OSError:
            continue
        match = re.fullmatch(r"libnvidia-ml\.so\.(\d+\.\d+(?:\.\d+)?)", target)
        if match:
            return match.group(1)
    return None


def _init_error_text(e: BaseException) -> str:
    return _INIT_ERROR_TEXT.get(type(e).__name__) or _error_text(e)


def _error_text(e: BaseException) -> str:
    try:
        return str(e) or type(e).__name__
    except Exception:  # pynvml's __str__ calls into NVML, which may be gone
        return type(e).__name__


def _comm(proc_root: Path, pid: int) -> str | None:
    try:
        return (proc_root / str(pid) / "comm").read_text(encoding="utf-8", errors="replace").strip() or None
    except OSError:
        return None


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if not isinstance(value, str):
        return None
    return value.strip() or None


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


def _watts(milliwatts: Any) -> float | None:
    return milliwatts / 1000.0 if isinstance(milliwatts, int | float) else None


__all__ = ["NvmlResult", "cuda_version_text", "nvml_library_version", "probe_nvml", "throttle_reason_names"]
