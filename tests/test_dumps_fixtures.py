"""Every real dump in tests/data/dumps parses into the facts it shows (values read off the files by hand)."""

from __future__ import annotations

from pathlib import Path

import pytest

from advisor.dumps import parse_dump
from advisor.machine import Machine
from tests.conftest import DUMPS, dump_dirs

MiB = 2**20


def load(prefix: str) -> Machine:
    (case,) = [p for p in DUMPS.iterdir() if p.name.startswith(prefix)]
    return parse_dump((case / "input.txt").read_text(errors="replace"))


def names(m: Machine) -> list[str | None]:
    return [g.name for g in m.gpus]


@pytest.mark.parametrize("case", dump_dirs(), ids=lambda p: p.name)
def test_every_fixture_parses_to_a_machine(case: Path) -> None:
    m = parse_dump((case / "input.txt").read_text(errors="replace"))
    assert m.source != "live"
    assert [g.index for g in m.gpus] == sorted({g.index for g in m.gpus})


def test_02_h100_on_cu117_wheel() -> None:
    m = load("02-")
    assert m.source == "collect_env"
    assert m.torch.version == "2.0.1+cu117"
    assert m.torch.cuda_version == "11.7"
    assert m.torch.installed is True and m.torch.built_with_cuda is True and m.torch.cuda_available is True
    assert m.torch.debug_build is False
    assert m.torch.hip_version is None and m.torch.cudnn_version is None
    assert m.torch.arch_list == ["sm_37", "sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86"]
    assert any("sm_90 is not compatible" in msg for msg in m.torch.init_messages)
    assert m.driver.version == "535.104.12" and m.driver.nvml_ok is True
    assert [(g.index, g.name) for g in m.gpus] == [(0, "NVIDIA H100 PCIe")]
    assert m.gpus[0].compute_capability == "9.0"  # stated by torch's own warning
    h = m.host
    assert (h.os, h.os_release, h.machine_arch) == ("Linux", "Ubuntu 22.04.3 LTS", "x86_64")
    assert h.kernel == "5.15.0-84-generic" and h.is_wsl is False and h.jetson is False
    assert h.python_version == "3.10.12"
    assert h.system_cuda_version == "12.2.140"  # the system toolkit, not torch's runtime
    assert "torch section" not in m.missing and m.gpus_known


def test_03_hand_edited_p100_dump() -> None:
    m = load("03-")
    assert m.torch.version == "1.5.0" and m.torch.cuda_version == "10.2"
    assert m.torch.cuda_available is False and m.torch.debug_build is False
    assert names(m) == ["Tesla P100-PCIE-16GB"] * 4  # full-width colons in "GPU 0： ..."
    assert [g.index for g in m.gpus] == [0, 1, 2, 3]
    assert m.driver.version == "410.104"
    assert m.host.os_release == "Ubuntu 18.04.3 LTS" and m.host.python_version == "3.6"
    assert m.host.system_cuda_version == "10.0.130"
    assert m.torch.cudnn_version == "7.6.5"


def test_09_windows_cpu_wheel() -> None:
    m = load("09-")
    assert m.torch.version == "2.2.2" and m.torch.installed is True
    assert m.torch.cuda_version is None and m.torch.built_with_cuda is False
    assert m.torch.cuda_available is False
    assert names(m) == ["NVIDIA GeForce RTX 4080 Laptop GPU"]
    assert m.driver.version == "551.86"
    assert m.host.os == "Windows" and m.host.os_release == "Microsoft Windows 11 Education"
    assert m.host.is_wsl is False
    assert m.host.cpu_model == "13th Gen Intel(R) Core(TM) i9-13980HX"
    assert m.host.cpu_max_mhz == 2200
    assert m.host.machine_arch is None  # "Architecture=9" is a WMI code, not a name
    assert m.host.system_cuda_version == "12.4.99" and m.host.python_version == "3.10.13"


def test_11_vllm_a100x4() -> None:
    m = load("11-")
    assert m.torch.version == "2.4.0+cu121" and m.torch.cuda_version == "12.1"
    assert names(m) == ["NVIDIA A100-SXM-64GB"] * 4
    assert m.driver.version == "530.30.02"
    assert m.host.os_release == "Red Hat Enterprise Linux release 8.7 (Ootpa)"
    assert m.host.machine_arch == "x86_64" and m.host.python_version == "3.12.7"
    assert m.host.cpu_threads == 32 and m.host.cpu_cores == 32  # 32 cores/socket x 1 socket
    assert m.host.system_cuda_version == "12.1.105"


def test_12_h100x8() -> None:
    m = load("12-")
    assert names(m) == ["NVIDIA H100 80GB HBM3"] * 8
    assert [g.index for g in m.gpus] == list(range(8))
    assert m.driver.version == "550.90.07"
    assert (m.torch.version, m.torch.cuda_version) == ("2.5.1+cu124", "12.4")
    assert m.host.system_cuda_version is None  # "Could not collect"
    assert m.host.python_version == "3.12.9"


def test_14_old_system_toolkit_is_host_fact() -> None:
    m = load("14-")
    assert names(m) == ["NVIDIA A100-SXM4-80GB"]
    assert m.driver.version == "565.57.01"
    assert m.torch.cuda_version == "12.4" and m.host.system_cuda_version == "11.8.89"
    assert m.host.cpu_model == "Intel(R) Xeon(R) Platinum 8380 CPU @ 2.30GHz"
    assert m.host.cpu_threads == 160 and m.host.cpu_cores is None  # lscpu is cut before the core count


def test_20_nvml_mismatch() -> None:
    m = load("20-")
    assert m.source == "nvidia-smi"
    assert m.driver.nvml_ok is False
    assert m.driver.nvml_error == "Driver/library version mismatch"
    assert m.driver.library_version == "570.124"
    assert m.driver.version is None and m.gpus == [] and m.gpus_known is False
    assert {"GPU list", "torch section"} <= set(m.missing)
    assert m.torch.installed is None


def test_23_driver_unreachable() -> None:
    m = load("23-")
    assert m.driver.nvml_ok is False
    assert m.driver.nvml_error is not None
    assert m.driver.nvml_error.startswith("NVIDIA-SMI has failed because it couldn't communicate")
    assert m.gpus == [] and m.gpus_known is False


def test_29_jetson_could_not_collect_is_unknown_not_empty() -> None:
    m = load("29-")
    assert m.torch.version == "2.0.0a0+ec3941ad.nv23.02" and m.torch.cuda_version == "11.4"
    assert m.torch.cuda_available is True
    assert m.gpus == [] and m.gpus_known is False and "GPU list" in m.missing
    assert m.driver.version is None and m.driver.nvml_ok is None  # no nvidia-smi: not a failure
    assert m.host.jetson is True and m.host.machine_arch == "aarch64"
    assert m.host.kernel == "5.10.120-tegra"
    assert m.torch.cudnn_version == "8.6.0"
    assert m.host.system_cuda_version == "11.4.315"


def test_30_indented_cpu_build() -> None:
    m = load("30-")
    assert m.torch.version == "1.3.1"
    assert m.torch.cuda_version is None and m.torch.built_with_cuda is False
    assert m.torch.cuda_available is False
    assert names(m) == ["GeForce RTX 2080 Ti"]
    assert m.driver.version == "430.64"
    assert m.host.system_cuda_version == "10.1.105" and m.host.python_version == "3.7"
    assert m.torch.cudnn_version == "7.6.5"


def test_37_fragment_without_gpu_header() -> None:
    m = load("37-")
    assert m.source == "nvidia-smi-q"
    assert len(m.gpus) == 1 and m.gpus_known
    g = m.gpus[0]
    assert g.name is None and g.index == 0
    assert set(g.throttle_reasons or []) == {"hw_slowdown", "hw_power_brake_slowdown"}
    assert g.sm_clock_mhz == 382 and g.memory_clock_mhz == 877
    assert m.driver.version is None


def test_38_h100x8_power_brake() -> None:
    m = load("38-")
    assert m.driver.version == "535.161.08" and m.driver.cuda_version == "12.2"
    assert names(m) == ["NVIDIA H100 80GB HBM3"] * 8
    for g in m.gpus:
        assert g.throttle_reasons is not None
        assert {"hw_slowdown", "hw_power_brake_slowdown"} <= set(g.throttle_reasons)
        assert "gpu_idle" not in g.throttle_reasons
        assert g.sm_clock_max_mhz == 1980
        assert g.power_limit_watts == 700 and g.power_default_limit_watts == 700
        assert g.ecc_enabled is True
        assert (g.ecc_uncorrected_volatile, g.ecc_uncorrected_aggregate) == (0, 0)
        assert g.remapped_rows_pending is False and g.remapped_rows_failure is False
        assert (g.pcie_gen_current, g.pcie_gen_max, g.pcie_width_current, g.pcie_width_max) == (5, 5, 16, 16)
        assert g.mig_enabled is False and g.processes == []
        assert g.pci_device_id == 0x2330
        assert 29 <= (g.temperature_c or 0) <= 32
    g0 = m.gpus[0]
    assert g0.pci_bus_id == "00000000:19:00.0" and m.gpus[1].pci_bus_id == "00000000:3B:00.0"
    assert g0.uuid == "GPU-ee7954ec-da95-fd7a-ddfd-c6b32cc2f8aa" and g0.serial == "1650124031592"
    assert g0.sm_clock_mhz == 86 and g0.power_draw_watts == 67.74
    assert g0.memory_total_bytes == 81559 * MiB and g0.memory_used_bytes == 0
    assert g0.pci_subsystem_id == 0x16C110DE
    assert g0.persistence_mode is True and g0.compute_mode == "Default" and g0.performance_state == "P0"
    assert g0.architecture == "Hopper"


def test_40_abridged_row_remap_pending() -> None:
    m = load("40-")
    assert m.driver.version == "510.73.08" and m.driver.cuda_version == "11.6"
    (g,) = m.gpus
    assert g.name == "NVIDIA A100-SXM4-80GB" and g.pci_bus_id == "00000000:10:1C.0"
    assert (g.ecc_corrected_volatile, g.ecc_corrected_aggregate) == (177, 177)
    assert (g.ecc_uncorrected_volatile, g.ecc_uncorrected_aggregate) == (0, 0)
    assert (g.remapped_rows_correctable, g.remapped_rows_uncorrectable) == (1, 0)
    assert g.remapped_rows_pending is True and g.remapped_rows_failure is False
    assert g.retired_pages_sbe is None and g.retired_pages_pending is None  # N/A on A100
    assert any(x.startswith("7 of 8 attached GPUs") for x in m.missing)


def test_41_a10_uncorrectable_remaps_pending() -> None:
    (g,) = load("41-").gpus
    assert g.name == "NVIDIA A10"
    assert g.remapped_rows_uncorrectable == 4 and g.remapped_rows_pending is True
    assert g.remapped_rows_correctable == 0
    assert (g.ecc_uncorrected_volatile, g.ecc_uncorrected_aggregate) == (0, 0)
    assert (g.ecc_corrected_volatile, g.ecc_corrected_aggregate) == (0, 0)
    assert g.performance_state == "P8" and g.throttle_reasons == ["gpu_idle"]
    assert (g.pcie_gen_current, g.pcie_width_current) == (4, 16)
    assert g.power_draw_watts == 43.89 and g.power_limit_watts == 150
    assert g.processes == []


def test_42_v100_dbe_and_pending_retirement_xml() -> None:
    m = load("42-")
    assert m.source == "nvidia-smi-xml"
    assert m.driver.version == "410.104" and m.driver.cuda_version == "10.0"
    (g,) = m.gpus
    assert g.name == "Tesla V100-SXM3-32GB" and g.pci_bus_id == "00000000:34:00.0"
    assert (g.ecc_corrected_volatile, g.ecc_uncorrected_volatile) == (1, 1)
    assert (g.ecc_corrected_aggregate, g.ecc_uncorrected_aggregate) == (291, 7627)
    assert (g.retired_pages_sbe, g.retired_pages_dbe) == (0, 2)
    assert g.retired_pages_pending is True
    assert g.throttle_reasons == ["gpu_idle"] and g.performance_state == "P0"
    assert (g.pcie_gen_current, g.pcie_gen_max, g.pcie_width_current) == (3, 3, 16)
    assert g.power_draw_watts == 50.6 and g.power_limit_watts == 350
    assert g.pci_device_id == 0x1DB8 and g.memory_total_bytes == 32480 * MiB
    assert any(x.startswith("15 of 16 attached GPUs") for x in m.missing)


def test_43_k80_aggregate_dbe_xml() -> None:
    m = load("43-")
    assert m.driver.version == "430.26"
    assert m.driver.cuda_version is None  # "Not Found" in a monitoring container
    assert names(m) == ["Tesla K80"] * 4
    buses = [g.pci_bus_id for g in m.gpus]
    assert buses == ["00001580:00:00.0", "00002DF7:00:00.0", "00004968:00:00.0", "0000F8D6:00:00.0"]
    g0, g1, g2, g3 = m.gpus
    assert (g0.ecc_uncorrected_aggregate, g0.ecc_corrected_aggregate) == (7, 7)
    assert (g1.ecc_uncorrected_aggregate, g1.ecc_corrected_aggregate) == (4, 34)
    assert (g0.retired_pages_sbe, g0.retired_pages_dbe, g0.retired_pages_pending) == (1, 1, False)
    assert (g1.retired_pages_sbe, g1.retired_pages_dbe) == (1, 1)
    assert all(g.ecc_uncorrected_volatile == 0 for g in m.gpus)
    assert g0.throttle_reasons == ["applications_clocks_setting"] == g1.throttle_reasons
    assert (g2.performance_state, g2.pcie_gen_current) == ("P8", 1)
    assert g0.processes is not None and len(g0.processes) == 1
    p = g0.processes[0]
    assert (p.pid, p.name, p.used_memory_bytes, p.kind) == (58813, "python", 576 * MiB, "compute")
    assert g3.processes == []


def test_44_gtx1070_x1_risers_xml() -> None:
    m = load("44-")
    assert m.driver.version == "384.66" and m.driver.cuda_version is None
    assert names(m) == ["GeForce GTX 1070"] * 6
    assert all((g.pcie_width_current, g.pcie_width_max) == (1, 16) for g in m.gpus)
    assert (m.gpus[0].pcie_gen_current, m.gpus[0].pcie_gen_max) == (3, 3)
    assert all((g.pcie_gen_current, g.pcie_gen_max) == (2, 2) for g in m.gpus[1:])
    assert all(g.utilization_gpu_percent == 100 and g.performance_state == "P2" for g in m.gpus)
    assert all(g.throttle_reasons == [] for g in m.gpus)  # schema v9: five reasons, none active
    assert all(g.ecc_enabled is None for g in m.gpus)
    assert m.gpus[0].power_draw_watts == 119.47 and m.gpus[0].power_limit_watts == 180


def test_49_mig_two_instances_xml() -> None:
    (g,) = load("49-").gpus
    assert g.name == "NVIDIA A100-SXM4-40GB"
    assert g.mig_enabled is True and g.mig_pending is True
    assert g.mig_instances is not None
    assert [(i.gpu_instance_id, i.compute_instance_id) for i in g.mig_instances] == [(1, 0), (2, 0)]
    assert all(i.memory_total_bytes == 19968 * MiB for i in g.mig_instances)
    assert g.utilization_gpu_percent is None  # N/A under MIG
    assert g.ecc_uncorrected_volatile is None and g.ecc_uncorrected_aggregate == 0
    assert g.remapped_rows_pending is None  # <remapped_rows>N/A</remapped_rows>
    assert g.throttle_reasons == []  # the odd line break inside one element is tolerated
    assert (g.pcie_gen_current, g.pcie_width_current) == (4, 16)
    assert g.power_limit_watts == 400 and g.power_default_limit_watts == 400


def test_53_2080ti_idle_xml() -> None:
    m = load("53-")
    assert m.driver.version == "410.73"
    assert names(m) == ["GeForce RTX 2080 Ti"] * 2
    g0, g1 = m.gpus
    assert g0.throttle_reasons == ["gpu_idle"] and g1.throttle_reasons == ["sw_power_cap"]
    for g in m.gpus:
        assert (g.pcie_gen_current, g.pcie_gen_max, g.pcie_width_current) == (1, 3, 16)
        assert g.ecc_enabled is None and g.ecc_uncorrected_aggregate is None
        assert g.power_limit_watts == 250 and g.power_default_limit_watts == 250
        assert g.performance_state == "P8"


def test_54_4090_v12_schema_xml() -> None:
    m = load("54-")
    assert m.driver.version == "535.86.05"
    (g,) = m.gpus
    assert g.name == "NVIDIA GeForce RTX 4090"
    assert g.throttle_reasons == ["gpu_idle"]  # clocks_event_reasons
    assert (g.pcie_gen_current, g.pcie_gen_max) == (1, 3)
    assert g.power_draw_watts == 26.84 and g.power_limit_watts == 450 and g.power_default_limit_watts == 450
    assert g.memory_used_bytes == 2 * MiB
    assert g.mig_enabled is None and g.ecc_enabled is False


def test_55_4090x8_two_busy() -> None:
    m = load("55-")
    assert m.driver.version == "535.154.05"
    assert names(m) == ["NVIDIA GeForce RTX 4090"] * 8
    busy = [g for g in m.gpus if g.performance_state == "P2"]
    assert [g.pci_bus_id for g in busy] == ["00000000:23:00.0", "00000000:81:00.0"]
    assert [g.power_draw_watts for g in busy] == [445.38, 446.36]
    assert all(g.throttle_reasons == ["sw_power_cap"] and g.pcie_gen_current == 4 for g in busy)
    idle = [g for g in m.gpus if g not in busy]
    assert all(
        g.throttle_reasons == ["gpu_idle"] and (g.pcie_gen_current, g.pcie_gen_max) == (1, 4) for g in idle
    )
    assert all(g.remapped_rows_pending is False and g.power_limit_watts == 450 for g in m.gpus)
    assert busy[0].processes is not None
    assert [(p.pid, p.name, p.used_memory_bytes) for p in busy[0].processes] == [
        (1285135, "/usr/bin/python", 21602 * MiB)
    ]


def test_57_titan_v_na_sections() -> None:
    m = load("57-")
    assert m.driver.version == "560.35.03" and m.driver.cuda_version == "12.6"
    (g,) = m.gpus
    assert g.name == "NVIDIA TITAN V" and g.serial == "0334517001520"
    assert g.pci_device_id == 0x1D81 and g.pci_subsystem_id == 0x121810DE
    assert g.performance_state == "P8" and g.throttle_reasons == ["gpu_idle"]
    assert (g.pcie_gen_current, g.pcie_gen_max) == (1, 3)
    assert g.remapped_rows_pending is None and g.remapped_rows_uncorrectable is None  # "Remapped Rows : N/A"
    assert g.ecc_enabled is None and g.ecc_uncorrected_volatile is None
    assert g.power_draw_watts == 29.02 and g.power_limit_watts == 250 and g.power_max_limit_watts == 300
    assert g.processes is not None
    assert [(p.name, p.kind) for p in g.processes] == [
        ("/usr/lib/xorg/Xorg", "graphics"),
        ("/usr/bin/gnome-shell", "graphics"),
        ("/opt/test", "graphics"),
    ]
    assert g.processes[0].used_memory_bytes == 142 * MiB
