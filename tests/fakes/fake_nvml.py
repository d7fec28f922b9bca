"""A fake `pynvml` module that answers from a real ``nvidia-smi -q -x`` dump.

Every ``nvmlDeviceGet*`` call the probe makes is answered from the XML of one recorded machine; a field the
dump shows as ``N/A`` raises the real ``pynvml.NVMLError_NotSupported``; an element an older driver's
schema lacks raises ``NVMLError_FunctionNotFound`` or ``NotSupported`` as that driver would. The exception
classes and constants are the real ones from nvidia-ml-py, so the probe's error handling runs for real.

Scenario knobs (after gpustat's fake NVML):
- ``lost``: GPU indexes whose handle raises ``NVMLError_GpuIsLost``;
- ``errors``: ``{"nvmlDeviceGetX": ErrorClass}`` for every GPU, or ``{(index, "nvmlDeviceGetX"): ...}``;
- ``init_error``: what ``nvmlInit`` raises (library not found, driver/library mismatch, driver not loaded);
- ``hang``: ``("nvmlDeviceGetX", seconds)``: that call sleeps (a wedged driver);
- ``compute_capability`` and ``mig_names``: NVML answers the XML does not carry, given as recorded facts.

Install it with ``monkeypatch.setitem(sys.modules, "pynvml", fake)`` or pass it to ``probe_nvml(fake)``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Collection, Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pynvml
from defusedxml import ElementTree

_Element = Any  # xml.etree.ElementTree.Element, as parsed by defusedxml

# Text nvidia-smi prints where NVML answered "not supported" (or the field is retired).
_UNSUPPORTED_TEXT = {
    "N/A",
    "[N/A]",
    "Not Supported",
    "[Not Supported]",
    "Requested functionality has been deprecated",
}

_ARCH_CODES = {
    "Kepler": pynvml.NVML_DEVICE_ARCH_KEPLER,
    "Maxwell": pynvml.NVML_DEVICE_ARCH_MAXWELL,
    "Pascal": pynvml.NVML_DEVICE_ARCH_PASCAL,
    "Volta": pynvml.NVML_DEVICE_ARCH_VOLTA,
    "Turing": pynvml.NVML_DEVICE_ARCH_TURING,
    "Ampere": pynvml.NVML_DEVICE_ARCH_AMPERE,
    "Ada Lovelace": pynvml.NVML_DEVICE_ARCH_ADA,
    "Hopper": pynvml.NVML_DEVICE_ARCH_HOPPER,
    "Blackwell": pynvml.NVML_DEVICE_ARCH_BLACKWELL,
}

_REASON_BITS = {
    "gpu_idle": pynvml.nvmlClocksEventReasonGpuIdle,
    "applications_clocks_setting": pynvml.nvmlClocksEventReasonApplicationsClocksSetting,
    "sw_power_cap": pynvml.nvmlClocksEventReasonSwPowerCap,
    "hw_slowdown": pynvml.nvmlClocksEventReasonHwSlowdown,
    "sync_boost": pynvml.nvmlClocksEventReasonSyncBoost,
    "sw_thermal_slowdown": pynvml.nvmlClocksEventReasonSwThermalSlowdown,
    "hw_thermal_slowdown": pynvml.nvmlClocksEventReasonHwThermalSlowdown,
    "hw_power_brake_slowdown": pynvml.nvmlClocksEventReasonHwPowerBrakeSlowdown,
    "display_clocks_setting": pynvml.nvmlClocksEventReasonDisplayClockSetting,
}

_COMPUTE_MODES = {
    "Default": pynvml.NVML_COMPUTEMODE_DEFAULT,
    "Exclusive_Thread": pynvml.NVML_COMPUTEMODE_EXCLUSIVE_THREAD,
    "Prohibited": pynvml.NVML_COMPUTEMODE_PROHIBITED,
    "Exclusive_Process": pynvml.NVML_COMPUTEMODE_EXCLUSIVE_PROCESS,
}

_CLOCK_TAGS = {
    pynvml.NVML_CLOCK_GRAPHICS: "graphics_clock",
    pynvml.NVML_CLOCK_SM: "sm_clock",
    pynvml.NVML_CLOCK_MEM: "mem_clock",
}

ErrorClass = type[pynvml.NVMLError]


class FakeHandle:
    """A GPU handle: its index and its ``<gpu>`` element."""

    def __init__(self, index: int, element: _Element) -> None:
        self.index = index
        self.element = element


class FakeMigHandle:
    """A MIG device handle: its parent GPU index, its slot and its ``<mig_device>`` element."""

    def __init__(self, parent: int, slot: int, element: _Element) -> None:
        self.index = parent
        self.slot = slot
        self.element = element


def load_smi_xml(path: Path) -> str:
    """The XML of a fixture file (an ``nvidia-smi -q -x`` capture, possibly with text before it)."""
    text = path.read_text(encoding="utf-8")
    start = text.find("<?xml")
    return text[start:] if start >= 0 else text[text.find("<nvidia_smi_log") :]


class FakeNvml:
    """A stand-in for the ``pynvml`` module, fed from one ``nvidia-smi -q -x`` dump (or none: no GPU)."""

    def __init__(
        self,
        xml: str | None = None,
        *,
        lost: Collection[int] = (),
        errors: Mapping[str | tuple[int, str], ErrorClass] | None = None,
        init_error: ErrorClass | None = None,
        hang: tuple[str, float] | None = None,
        compute_capability: Mapping[int, tuple[int, int]] | None = None,
        mig_names: Mapping[int, str] | None = None,
        driver_version: str = "550.54.15",
        cuda_version: str = "12.4",
    ) -> None:
        # The real exception classes and constants: the probe catches exactly what pynvml raises.
        for name in dir(pynvml):
            if name.startswith(("NVMLError", "NVML_")):
                setattr(self, name, getattr(pynvml, name))
        self._root = ElementTree.fromstring(xml) if xml else None
        self._gpus: list[_Element] = list(self._root.findall("gpu")) if self._root is not None else []
        self._lost = set(lost)
        self._errors = dict(errors or {})
        self._init_error = init_error
        self._hang = hang
        self._cc = dict(compute_capability or {})
        self._mig_names = dict(mig_names or {})
        self._driver_version = driver_version
        self._cuda_version = cuda_version
        self.initialised = False
        self.calls: list[str] = []
        self.hang_released = threading.Event()

    # ---------------------------------------------------------------- plumbing
    def _enter(self, name: str, handle: Any = None) -> None:
        self.calls.append(name)
        if not self.initialised:
            raise pynvml.NVMLError_Uninitialized()
        if self._hang and self._hang[0] == name:
            self.hang_released.wait(self._hang[1])
        index = getattr(handle, "index", None)
        error = self._errors.get((index, name)) if index is not None else None
        error = error or self._errors.get(name)
        if error is not None:
            raise error()

    def _gpu_text(self, handle: Any, *paths: str) -> str:
        """The first of ``paths`` holding a value; when all are absent or N/A, NotSupported."""
        for path in paths:
            node = handle.element.find(path)
            if node is not None:
                text = (node.text or "").strip()
                if text and text not in _UNSUPPORTED_TEXT:
                    return text
        raise pynvml.NVMLError_NotSupported()

    def _number(self, handle: Any, *paths: str) -> float:
        text = self._gpu_text(handle, *paths)
        match = re.match(r"-?\d+(?:\.\d+)?", text)
        if not match:
            raise pynvml.NVMLError_NotSupported()
        return float(match.group(0))

    def _mib(self, handle: Any, path: str) -> int:
        return int(self._number(handle, path)) * 1024 * 1024

    def _milliwatts(self, handle: Any, *paths: str) -> int:
        return round(self._number(handle, *paths) * 1000)

    # ---------------------------------------------------------------- system
    def nvmlInit(self) -> None:
        self.calls.append("nvmlInit")
        if self._init_error is not None:
            raise self._init_error()
        if self._hang and self._hang[0] == "nvmlInit":
            self.hang_released.wait(self._hang[1])
        self.initialised = True

    def nvmlShutdown(self) -> None:
        self.calls.append("nvmlShutdown")
        self.initialised = False

    def nvmlSystemGetDriverVersion(self) -> str:
        self._enter("nvmlSystemGetDriverVersion")
        node = self._root.find("driver_version") if self._root is not None else None
        return node.text.strip() if node is not None and node.text else self._driver_version

    def nvmlSystemGetCudaDriverVersion_v2(self) -> int:
        self._enter("nvmlSystemGetCudaDriverVersion_v2")
        text = self._cuda_version
        if self._root is not None:
            node = self._root.find("cuda_version")
            if node is None or not node.text:  # drivers before the field had no _v2 either
                raise pynvml.NVMLError_FunctionNotFound()
            text = node.text.strip()
        if not re.fullmatch(r"\d+\.\d+", text):  # "Not Found": nvidia-smi could not load libcuda
            raise pynvml.NVMLError_NotSupported()
        major, minor = (int(p) for p in text.split("."))
        return major * 1000 + minor * 10

    def nvmlSystemGetProcessName(self, pid: int) -> str:
        self._enter("nvmlSystemGetProcessName")
        for gpu in self._gpus:
            for proc in gpu.findall("processes/process_info"):
                if (proc.findtext("pid") or "").strip() == str(pid):
                    return (proc.findtext("process_name") or "").strip()
        raise pynvml.NVMLError_NotFound()

    def nvmlDeviceGetCount(self) -> int:
        self._enter("nvmlDeviceGetCount")
        return len(self._gpus)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> FakeHandle:
        self._enter("nvmlDeviceGetHandleByIndex", SimpleNamespace(index=index))
        if index in self._lost:
            raise pynvml.NVMLError_GpuIsLost()
        if not 0 <= index < len(self._gpus):
            raise pynvml.NVMLError_InvalidArgument()
        return FakeHandle(index, self._gpus[index])

    # ---------------------------------------------------------------- identity
    def nvmlDeviceGetName(self, handle: Any) -> str:
        self._enter("nvmlDeviceGetName", handle)
        if isinstance(handle, FakeMigHandle):
            if handle.slot in self._mig_names:
                return self._mig_names[handle.slot]
            raise pynvml.NVMLError_NotSupported()
        return self._gpu_text(handle, "product_name")

    def nvmlDeviceGetUUID(self, handle: Any) -> str:
        self._enter("nvmlDeviceGetUUID", handle)
        return self._gpu_text(handle, "uuid")

    def nvmlDeviceGetSerial(self, handle: Any) -> str:
        self._enter("nvmlDeviceGetSerial", handle)
        return self._gpu_text(handle, "serial")

    def nvmlDeviceGetPciInfo(self, handle: Any) -> SimpleNamespace:
        self._enter("nvmlDeviceGetPciInfo", handle)
        return SimpleNamespace(
            busId=self._gpu_text(handle, "pci/pci_bus_id"),
            pciDeviceId=int(self._gpu_text(handle, "pci/pci_device_id"), 16),
            pciSubSystemId=int(self._gpu_text(handle, "pci/pci_sub_system_id"), 16),
        )

    def nvmlDeviceGetArchitecture(self, handle: Any) -> int:
        self._enter("nvmlDeviceGetArchitecture", handle)
        if handle.element.find("product_architecture") is None:  # drivers before the field lack the call
            raise pynvml.NVMLError_FunctionNotFound()
        text = self._gpu_text(handle, "product_architecture")
        return int(_ARCH_CODES.get(text, pynvml.NVML_DEVICE_ARCH_UNKNOWN))

    def nvmlDeviceGetCudaComputeCapability(self, handle: Any) -> tuple[int, int]:
        self._enter("nvmlDeviceGetCudaComputeCapability", handle)
        if handle.index not in self._cc:  # nvidia-smi -q -x does not print it; tests give it when needed
            raise pynvml.NVMLError_NotSupported()
        return self._cc[handle.index]

    # ---------------------------------------------------------------- state
    def nvmlDeviceGetMemoryInfo(self, handle: Any) -> SimpleNamespace:
        self._enter("nvmlDeviceGetMemoryInfo", handle)
        return SimpleNamespace(
            total=self._mib(handle, "fb_memory_usage/total"),
            used=self._mib(handle, "fb_memory_usage/used"),
            free=self._mib(handle, "fb_memory_usage/free"),
        )

    def nvmlDeviceGetClockInfo(self, handle: Any, clock: int) -> int:
        self._enter("nvmlDeviceGetClockInfo", handle)
        return int(self._number(handle, f"clocks/{_CLOCK_TAGS[clock]}"))

    def nvmlDeviceGetMaxClockInfo(self, handle: Any, clock: int) -> int:
        self._enter("nvmlDeviceGetMaxClockInfo", handle)
        return int(self._number(handle, f"max_clocks/{_CLOCK_TAGS[clock]}"))

    def nvmlDeviceGetPowerUsage(self, handle: Any) -> int:
        self._enter("nvmlDeviceGetPowerUsage", handle)
        # NVML's power usage is the 1 s average on Ampere and newer (nvml.h), nvidia-smi's "average" column.
        return self._milliwatts(
            handle,
            "gpu_power_readings/average_power_draw",
            "gpu_power_readings/power_draw",
            "power_readings/power_draw",
            "gpu_power_readings/instant_power_draw",  # Turing and older: no 1 s average
        )

    def nvmlDeviceGetEnforcedPowerLimit(self, handle: Any) -> int:
        self._enter("nvmlDeviceGetEnforcedPowerLimit", handle)
        return self._milliwatts(
            handle, "power_readings/enforced_power_limit", "gpu_power_readings/current_power_limit"
        )

    def nvmlDeviceGetPowerManagementDefaultLimit(self, handle: Any) -> int:
        self._enter("nvmlDeviceGetPowerManagementDefaultLimit", handle)
        return self._milliwatts(
            handle, "power_readings/default_power_limit", "gpu_power_readings/default_power_limit"
        )

    def nvmlDeviceGetPowerManagementLimitConstraints(self, handle: Any) -> tuple[int, int]:
        self._enter("nvmlDeviceGetPowerManagementLimitConstraints", handle)
        return (
            self._milliwatts(handle, "power_readings/min_power_limit", "gpu_power_readings/min_power_limit"),
            self._milliwatts(handle, "power_readings/max_power_limit", "gpu_power_readings/max_power_limit"),
        )

    def nvmlDeviceGetTemperature(self, handle: Any, sensor: int) -> int:
        self._enter("nvmlDeviceGetTemperature", handle)
        return int(self._number(handle, "temperature/gpu_temp"))

    def nvmlDeviceGetUtilizationRates(self, handle: Any) -> SimpleNamespace:
        self._enter("nvmlDeviceGetUtilizationRates", handle)
        return SimpleNamespace(
            gpu=int(self._number(handle, "utilization/gpu_util")),
            memory=int(self._number(handle, "utilization/memory_util")),
        )

    def nvmlDeviceGetPerformanceState(self, handle: Any) -> int:
        self._enter("nvmlDeviceGetPerformanceState", handle)
        text = self._gpu_text(handle, "performance_state")
        return int(text.lstrip("P")) if text.startswith("P") else 32

    def nvmlDeviceGetCurrPcieLinkGeneration(self, handle: Any) -> int:
        self._enter("nvmlDeviceGetCurrPcieLinkGeneration", handle)
        return int(self._number(handle, "pci/pci_gpu_link_info/pcie_gen/current_link_gen"))

    def nvmlDeviceGetMaxPcieLinkGeneration(self, handle: Any) -> int:
        self._enter("nvmlDeviceGetMaxPcieLinkGeneration", handle)
        return int(self._number(handle, "pci/pci_gpu_link_info/pcie_gen/max_link_gen"))

    def nvmlDeviceGetCurrPcieLinkWidth(self, handle: Any) -> int:
        self._enter("nvmlDeviceGetCurrPcieLinkWidth", handle)
        return int(self._number(handle, "pci/pci_gpu_link_info/link_widths/current_link_width"))

    def nvmlDeviceGetMaxPcieLinkWidth(self, handle: Any) -> int:
        self._enter("nvmlDeviceGetMaxPcieLinkWidth", handle)
        return int(self._number(handle, "pci/pci_gpu_link_info/link_widths/max_link_width"))

    def _reasons(self, handle: Any, group: str) -> int:
        node = handle.element.find(group)
        if node is None:
            raise pynvml.NVMLError_NotSupported()
        mask = 0
        for child in node:
            key = re.sub(r"^clocks_(event|throttle)_reason_", "", child.tag)
            if (child.text or "").strip() == "Active" and key in _REASON_BITS:
                mask |= _REASON_BITS[key]
        return mask

    def nvmlDeviceGetCurrentClocksEventReasons(self, handle: Any) -> int:
        self._enter("nvmlDeviceGetCurrentClocksEventReasons", handle)
        if handle.element.find("clocks_event_reasons") is None:  # added in driver 535 with the new name
            raise pynvml.NVMLError_FunctionNotFound()
        return self._reasons(handle, "clocks_event_reasons")

    def nvmlDeviceGetCurrentClocksThrottleReasons(self, handle: Any) -> int:
        self._enter("nvmlDeviceGetCurrentClocksThrottleReasons", handle)
        group = "clocks_event_reasons" if handle.element.find("clocks_event_reasons") is not None else None
        return self._reasons(handle, group or "clocks_throttle_reasons")

    # ---------------------------------------------------------------- health
    def nvmlDeviceGetEccMode(self, handle: Any) -> tuple[int, int]:
        self._enter("nvmlDeviceGetEccMode", handle)
        return (
            int(self._gpu_text(handle, "ecc_mode/current_ecc") == "Enabled"),
            int(self._gpu_text(handle, "ecc_mode/pending_ecc") == "Enabled"),
        )

    def nvmlDeviceGetTotalEccErrors(self, handle: Any, error_type: int, counter_type: int) -> int:
        self._enter("nvmlDeviceGetTotalEccErrors", handle)
        counter = "volatile" if counter_type == pynvml.NVML_VOLATILE_ECC else "aggregate"
        corrected = error_type == pynvml.NVML_MEMORY_ERROR_TYPE_CORRECTED
        group = handle.element.find(f"ecc_errors/{counter}")
        if group is None:
            raise pynvml.NVMLError_NotSupported()
        old = group.find("single_bit/total")
        if old is not None:  # schema <= v10: single_bit / double_bit totals
            return int(
                self._number(handle, f"ecc_errors/{counter}/{'single' if corrected else 'double'}_bit/total")
            )
        # Newer schemas split SRAM and DRAM; NVML's total is their sum.
        wanted = (
            ("sram_correctable", "dram_correctable")
            if corrected
            else (
                "sram_uncorrectable",
                "sram_uncorrectable_parity",
                "sram_uncorrectable_secded",
                "dram_uncorrectable",
            )
        )
        values = [(node.text or "").strip() for tag in wanted if (node := group.find(tag)) is not None]
        numbers = [int(v) for v in values if v.isdigit()]
        if not numbers:
            raise pynvml.NVMLError_NotSupported()
        return sum(numbers)

    def nvmlDeviceGetRetiredPages(self, handle: Any, cause: int) -> list[int]:
        self._enter("nvmlDeviceGetRetiredPages", handle)
        group = (
            "multiple_single_bit_retirement"
            if cause == pynvml.NVML_PAGE_RETIREMENT_CAUSE_MULTIPLE_SINGLE_BIT_ECC_ERRORS
            else "double_bit_retirement"
        )
        count = int(self._number(handle, f"retired_pages/{group}/retired_count"))
        return [0x1000 * (i + 1) for i in range(count)]  # addresses are not used by the probe

    def nvmlDeviceGetRetiredPagesPendingStatus(self, handle: Any) -> int:
        self._enter("nvmlDeviceGetRetiredPagesPendingStatus", handle)
        return int(self._gpu_text(handle, "retired_pages/pending_retirement") == "Yes")

    def nvmlDeviceGetRemappedRows(self, handle: Any) -> tuple[int, int, int, int]:
        self._enter("nvmlDeviceGetRemappedRows", handle)
        return (
            int(self._number(handle, "remapped_rows/remapped_row_corr")),
            int(self._number(handle, "remapped_rows/remapped_row_unc")),
            int(self._gpu_text(handle, "remapped_rows/remapped_row_pending") == "Yes"),
            int(self._gpu_text(handle, "remapped_rows/remapped_row_failure") == "Yes"),
        )

    # ---------------------------------------------------------------- modes
    def nvmlDeviceGetMigMode(self, handle: Any) -> tuple[int, int]:
        self._enter("nvmlDeviceGetMigMode", handle)
        return (
            int(self._gpu_text(handle, "mig_mode/current_mig") == "Enabled"),
            int(self._gpu_text(handle, "mig_mode/pending_mig") == "Enabled"),
        )

    def nvmlDeviceGetMaxMigDeviceCount(self, handle: Any) -> int:
        self._enter("nvmlDeviceGetMaxMigDeviceCount", handle)
        # One more slot than devices, so the probe meets an empty slot (NotFound) as on real hardware.
        return len(handle.element.findall("mig_devices/mig_device")) + 1

    def nvmlDeviceGetMigDeviceHandleByIndex(self, handle: Any, slot: int) -> FakeMigHandle:
        self._enter("nvmlDeviceGetMigDeviceHandleByIndex", handle)
        devices = handle.element.findall("mig_devices/mig_device")
        if slot >= len(devices):
            raise pynvml.NVMLError_NotFound()
        return FakeMigHandle(handle.index, slot, devices[slot])

    def nvmlDeviceGetGpuInstanceId(self, handle: Any) -> int:
        self._enter("nvmlDeviceGetGpuInstanceId", handle)
        return int(self._number(handle, "gpu_instance_id"))

    def nvmlDeviceGetComputeInstanceId(self, handle: Any) -> int:
        self._enter("nvmlDeviceGetComputeInstanceId", handle)
        return int(self._number(handle, "compute_instance_id"))

    def nvmlDeviceGetPersistenceMode(self, handle: Any) -> int:
        self._enter("nvmlDeviceGetPersistenceMode", handle)
        return int(self._gpu_text(handle, "persistence_mode") == "Enabled")

    def nvmlDeviceGetComputeMode(self, handle: Any) -> int:
        self._enter("nvmlDeviceGetComputeMode", handle)
        return int(_COMPUTE_MODES[self._gpu_text(handle, "compute_mode")])

    def nvmlDeviceGetComputeRunningProcesses(self, handle: Any) -> list[SimpleNamespace]:
        self._enter("nvmlDeviceGetComputeRunningProcesses", handle)
        procs = []
        for proc in handle.element.findall("processes/process_info"):
            if "C" not in (proc.findtext("type") or ""):
                continue
            used = (proc.findtext("used_memory") or "").strip()
            match = re.match(r"(\d+) MiB", used)
            procs.append(
                SimpleNamespace(
                    pid=int((proc.findtext("pid") or "0").strip()),
                    usedGpuMemory=int(match.group(1)) * 1024 * 1024 if match else None,
                )
            )
        return procs


def no_gpu_nvml(**knobs: Any) -> FakeNvml:
    """A driver that loads and sees no GPU."""
    return FakeNvml(None, **knobs)
