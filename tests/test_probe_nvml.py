"""The NVML probe on a fake pynvml fed from real `nvidia-smi -q -x` dumps.

Expected values are read by eye from the XML files named in each test, not from the code under test.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pynvml
import pytest

from advisor.probe.nvml import cuda_version_text, nvml_library_version, probe_nvml, throttle_reason_names
from tests.conftest import DUMPS, SMI
from tests.fakes.fake_nvml import FakeNvml, load_smi_xml, no_gpu_nvml

MiB = 1024 * 1024
A5000 = SMI / "qx-2x-rtx-a5000-driver590.xml"
V100_DBE = DUMPS / "42-v100-sxm3-dbe-retired-pages-pending-xml" / "input.txt"
GTX1070_RISERS = DUMPS / "44-gtx1070x6-ethminer-pcie-x1-risers-xml" / "input.txt"
A100_MIG = DUMPS / "49-a100-sxm4-40gb-mig-two-3g-instances-xml" / "input.txt"

XML_FIXTURES = sorted(SMI.glob("*.xml")) + sorted(
    p for p in DUMPS.glob("*/input.txt") if p.read_text(encoding="utf-8").lstrip().startswith("<?xml")
)


def fake(path: Path, **knobs: object) -> FakeNvml:
    return FakeNvml(load_smi_xml(path), **knobs)  # type: ignore[arg-type]


def test_two_rtx_a5000_every_field_from_the_dump() -> None:
    result = probe_nvml(fake(A5000, compute_capability={0: (8, 6), 1: (8, 6)}))

    assert result.driver.nvml_ok is True
    assert result.driver.nvml_error is None
    assert result.driver.version == "590.44.01"
    assert result.driver.cuda_version == "13.1"
    assert [g.index for g in result.gpus] == [0, 1]
    g = result.gpus[0]
    assert g.name == "NVIDIA RTX A5000"
    assert g.uuid == "GPU-12345678-aaaa-bbbb-cccc-0123456789ab"
    assert g.serial == "0123456789012"
    assert g.pci_bus_id == "00000000:81:00.0"
    assert g.pci_device_id == 0x2231
    assert g.pci_subsystem_id == 0x147E10DE
    assert g.architecture == "Ampere"
    assert g.compute_capability == "8.6"
    assert g.memory_total_bytes == 24564 * MiB
    assert g.memory_used_bytes == 22437 * MiB
    assert g.memory_free_bytes == 1678 * MiB
    assert (g.sm_clock_mhz, g.sm_clock_max_mhz) == (210, 2100)
    assert (g.memory_clock_mhz, g.memory_clock_max_mhz) == (405, 8001)
    assert g.power_draw_watts == pytest.approx(6.41)
    assert g.power_limit_watts == pytest.approx(230.0)
    assert g.power_default_limit_watts == pytest.approx(230.0)
    assert g.power_max_limit_watts == pytest.approx(230.0)
    assert g.temperature_c == 13.0
    assert g.utilization_gpu_percent == 0.0
    assert g.performance_state == "P8"
    assert (g.pcie_gen_current, g.pcie_gen_max) == (1, 4)
    assert (g.pcie_width_current, g.pcie_width_max) == (16, 16)
    assert g.throttle_reasons == ["gpu_idle"]
    # ECC is off on this card: the counters and page retirement read N/A.
    assert g.ecc_enabled is False
    assert g.ecc_uncorrected_volatile is None
    assert g.ecc_corrected_aggregate is None
    assert g.retired_pages_dbe is None
    assert g.retired_pages_pending is None
    assert (g.remapped_rows_correctable, g.remapped_rows_uncorrectable) == (0, 0)
    assert (g.remapped_rows_pending, g.remapped_rows_failure) == (False, False)
    assert g.mig_enabled is None  # current_mig N/A
    assert g.persistence_mode is True
    assert g.compute_mode == "Default"
    assert g.processes is not None and len(g.processes) == 1
    proc = g.processes[0]
    assert (proc.pid, proc.kind) == (100477, "compute")
    assert proc.name == "/root/src/llama.cpp/build/bin/llama-server"
    assert proc.used_memory_bytes == 22430 * MiB
    assert g.lost is False and g.error is None

    second = result.gpus[1]
    assert second.pci_bus_id == "00000000:C1:00.0"
    assert second.serial == "1234567890123"
    assert second.memory_used_bytes == 17253 * MiB
    assert second.power_draw_watts == pytest.approx(13.60)
    assert second.temperature_c == 15.0


def test_old_schema_v100_ecc_and_retired_pages() -> None:
    # Driver 418-era schema: single_bit/double_bit totals, "throttle" reasons, no architecture, no row remap.
    g = probe_nvml(fake(V100_DBE)).gpus[0]

    assert g.name == "Tesla V100-SXM3-32GB"
    assert g.pci_device_id == 0x1DB8
    assert g.ecc_enabled is True
    assert (g.ecc_corrected_volatile, g.ecc_uncorrected_volatile) == (1, 1)
    assert (g.ecc_corrected_aggregate, g.ecc_uncorrected_aggregate) == (291, 7627)
    assert (g.retired_pages_sbe, g.retired_pages_dbe) == (0, 2)
    assert g.retired_pages_pending is True
    assert g.remapped_rows_pending is None
    assert g.architecture is None  # nvmlDeviceGetArchitecture: function not found in that driver
    assert g.throttle_reasons == ["gpu_idle"]  # read through the older ThrottleReasons call
    assert g.power_draw_watts == pytest.approx(50.60)
    assert g.power_limit_watts == pytest.approx(350.0)
    assert g.performance_state == "P0"


def test_pcie_x1_risers_and_missing_cuda_version() -> None:
    result = probe_nvml(fake(GTX1070_RISERS))

    assert result.driver.version == "384.66"
    assert result.driver.cuda_version is None  # the 384 driver predates the field
    assert len(result.gpus) == 6
    first, second = result.gpus[0], result.gpus[1]
    assert first.name == "GeForce GTX 1070"
    assert (first.pcie_width_current, first.pcie_width_max) == (1, 16)
    assert (first.pcie_gen_current, first.pcie_gen_max) == (3, 3)
    assert (second.pcie_gen_current, second.pcie_gen_max) == (2, 2)
    assert first.throttle_reasons == []
    assert first.power_draw_watts == pytest.approx(119.47)
    assert first.power_max_limit_watts == pytest.approx(200.0)
    assert first.temperature_c == 60.0
    assert first.persistence_mode is False


def test_mig_instances() -> None:
    names = {0: "NVIDIA A100-SXM4-40GB MIG 3g.20gb", 1: "NVIDIA A100-SXM4-40GB MIG 3g.20gb"}
    g = probe_nvml(fake(A100_MIG, mig_names=names)).gpus[0]

    assert (g.mig_enabled, g.mig_pending) == (True, True)
    assert g.mig_instances is not None
    assert [(m.gpu_instance_id, m.compute_instance_id) for m in g.mig_instances] == [(1, 0), (2, 0)]
    assert [m.profile for m in g.mig_instances] == ["3g.20gb", "3g.20gb"]
    assert [m.memory_total_bytes for m in g.mig_instances] == [19968 * MiB, 19968 * MiB]


@pytest.mark.parametrize(
    "path", XML_FIXTURES, ids=lambda p: p.parent.name if p.name == "input.txt" else p.name
)
def test_every_xml_fixture_probes_without_error(path: Path) -> None:
    text = load_smi_xml(path)
    result = probe_nvml(FakeNvml(text))

    assert result.driver.nvml_ok is True
    assert len(result.gpus) == text.count("<gpu id=")
    for gpu in result.gpus:
        assert gpu.name and gpu.name in text
        assert gpu.lost is False
        assert gpu.memory_total_bytes and gpu.memory_total_bytes > 0


def test_unsupported_fields_are_none_and_the_rest_still_reads() -> None:
    errors = {
        "nvmlDeviceGetPowerUsage": pynvml.NVMLError_NotSupported,
        "nvmlDeviceGetSerial": pynvml.NVMLError_NoPermission,
        "nvmlDeviceGetTemperature": pynvml.NVMLError_FunctionNotFound,
        "nvmlDeviceGetRemappedRows": pynvml.NVMLError_Unknown,
        "nvmlDeviceGetComputeRunningProcesses": pynvml.NVMLError_NoPermission,
    }
    g = probe_nvml(fake(A5000, errors=errors)).gpus[0]

    assert g.power_draw_watts is None
    assert g.serial is None
    assert g.temperature_c is None
    assert g.remapped_rows_pending is None
    assert g.processes is None  # unknown, not "none running"
    assert g.name == "NVIDIA RTX A5000"
    assert g.power_limit_watts == pytest.approx(230.0)
    assert g.lost is False and g.error is None


def test_function_missing_from_an_old_binding_is_none() -> None:
    nvml = fake(A5000)
    nvml.nvmlDeviceGetRemappedRows = None  # type: ignore[assignment,method-assign]
    g = probe_nvml(nvml).gpus[0]
    assert g.remapped_rows_correctable is None
    assert g.name == "NVIDIA RTX A5000"


def test_lost_gpu_is_a_placeholder_while_the_other_reports() -> None:
    result = probe_nvml(fake(A5000, lost={0}))

    lost, other = result.gpus
    assert lost.index == 0 and lost.lost is True
    assert lost.error == "GPU is lost"
    assert lost.name is None
    assert other.lost is False and other.name == "NVIDIA RTX A5000"
    assert other.pci_bus_id == "00000000:C1:00.0"


def test_gpu_lost_mid_query_keeps_what_was_read() -> None:
    result = probe_nvml(fake(A5000, errors={(1, "nvmlDeviceGetPowerUsage"): pynvml.NVMLError_GpuIsLost}))

    first, second = result.gpus
    assert first.lost is False and first.power_draw_watts == pytest.approx(6.41)
    assert second.lost is True and second.error == "GPU is lost"
    assert second.name == "NVIDIA RTX A5000"  # read before the GPU fell off the bus
    assert second.power_draw_watts is None


def test_handle_without_permission_is_not_lost() -> None:
    result = probe_nvml(
        fake(A5000, errors={(1, "nvmlDeviceGetHandleByIndex"): pynvml.NVMLError_NoPermission})
    )
    assert result.gpus[1].lost is False
    assert result.gpus[1].error == "Insufficient Permissions"


def test_driver_library_mismatch(tmp_path: Path) -> None:
    # The user-space library 570.124.04 against kernel modules 570.124.06 (dump 20).
    (tmp_path / "libnvidia-ml.so.570.124.04").write_bytes(b"")
    (tmp_path / "libnvidia-ml.so.1").symlink_to("libnvidia-ml.so.570.124.04")
    nvml = no_gpu_nvml(init_error=pynvml.NVMLError_LibRmVersionMismatch)

    result = probe_nvml(nvml, lib_dirs=(str(tmp_path / "absent"), str(tmp_path)))

    assert result.driver.nvml_ok is False
    assert result.driver.nvml_error == "Driver/library version mismatch"
    assert result.driver.library_version == "570.124.04"
    assert result.gpus == []


def test_library_not_found() -> None:
    result = probe_nvml(no_gpu_nvml(init_error=pynvml.NVMLError_LibraryNotFound), lib_dirs=())
    assert result.driver.nvml_ok is False
    assert result.driver.nvml_error == "NVML Shared Library Not Found"
    assert result.driver.library_version is None


def test_driver_not_loaded() -> None:
    result = probe_nvml(no_gpu_nvml(init_error=pynvml.NVMLError_DriverNotLoaded))
    assert result.driver.nvml_ok is False
    assert result.driver.nvml_error == "Driver Not Loaded"


def test_binding_not_importable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", None)
    result = probe_nvml()
    assert result.driver.nvml_ok is False
    assert result.driver.nvml_error is not None
    assert result.driver.nvml_error.startswith("pynvml not importable")


def test_no_gpu_driver_loaded() -> None:
    nvml = no_gpu_nvml()
    result = probe_nvml(nvml)
    assert result.driver.nvml_ok is True
    assert result.driver.version == "550.54.15"
    assert result.driver.cuda_version == "12.4"
    assert result.gpus == []
    assert nvml.calls[-1] == "nvmlShutdown"


def test_device_count_failing_is_recorded() -> None:
    result = probe_nvml(no_gpu_nvml(errors={"nvmlDeviceGetCount": pynvml.NVMLError_NoPermission}))
    assert result.driver.nvml_ok is False
    assert result.driver.nvml_error == "nvmlDeviceGetCount: Insufficient Permissions"


def test_process_name_falls_back_to_proc_comm(tmp_path: Path) -> None:
    (tmp_path / "100477").mkdir()
    (tmp_path / "100477" / "comm").write_text("llama-server\n")
    nvml = fake(A5000, errors={"nvmlSystemGetProcessName": pynvml.NVMLError_NotFound})
    g = probe_nvml(nvml, proc_root=tmp_path).gpus[0]
    assert g.processes is not None
    assert g.processes[0].name == "llama-server"


def test_throttle_bits_match_the_real_binding() -> None:
    mask = (
        pynvml.nvmlClocksThrottleReasonSwPowerCap
        | pynvml.nvmlClocksThrottleReasonHwSlowdown
        | pynvml.nvmlClocksThrottleReasonHwPowerBrakeSlowdown
        | pynvml.nvmlClocksThrottleReasonDisplayClockSetting
    )
    assert throttle_reason_names(mask) == [
        "sw_power_cap",
        "hw_slowdown",
        "hw_power_brake_slowdown",
        "display_clock_setting",
    ]
    assert throttle_reason_names(pynvml.nvmlClocksEventReasonNone) == []
    # Reasons advisor does not name (board limit, reliability) are dropped, not mislabelled.
    assert throttle_reason_names(pynvml.nvmlClocksThrottleReasonBoardLimit) == []


@pytest.mark.parametrize(
    ("value", "text"), [(12040, "12.4"), (13010, "13.1"), (11080, "11.8"), (10020, "10.2")]
)
def test_cuda_driver_version_text(value: int, text: str) -> None:
    assert cuda_version_text(value) == text


def test_library_version_absent() -> None:
    assert nvml_library_version(("/nonexistent-dir",)) is None


def test_binding_answering_in_an_unexpected_shape_spoils_one_gpu_only() -> None:
    nvml = fake(A5000)
    real_constraints = nvml.nvmlDeviceGetPowerManagementLimitConstraints

    def odd_constraints(handle: object) -> object:
        return 230000 if getattr(handle, "index", None) == 0 else real_constraints(handle)

    nvml.nvmlDeviceGetPowerManagementLimitConstraints = odd_constraints  # type: ignore[method-assign,assignment]
    first, second = probe_nvml(nvml).gpus

    assert first.error is not None and first.error.startswith("NVML answered unexpectedly: TypeError")
    assert first.lost is False
    assert first.name == "NVIDIA RTX A5000"
    assert second.error is None and second.power_max_limit_watts == pytest.approx(230.0)
