"""Health rules on Machines built from recorded facts (values copied from the fixture dumps cited)."""

from __future__ import annotations

from typing import Any, cast, get_args

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from advisor.knowledge.base import Knowledge
from advisor.knowledge.loader import load_knowledge
from advisor.machine import GPU, GPUProcess, Machine, MigInstance, ThrottleReason, TorchInfo
from advisor.report import Finding
from advisor.rules.health import check_health

MIB = 2**20
_KNOWLEDGE_UNUSED = cast(Knowledge, None)  # check_health reads only the Machine (hypothesis test below)


@pytest.fixture(scope="module")
def knowledge() -> Knowledge:
    return load_knowledge()


def _gpu(**facts: Any) -> GPU:
    return GPU(index=facts.pop("index", 0), **facts)


def _codes(findings: list[Finding], severity: str | None = None) -> set[str]:
    return {f.code for f in findings if severity is None or f.severity == severity}


def _alarms(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity in ("error", "warning")]


# --- healthy idle GPUs: power saving is not a fault --------------------------------------------------

# dumps/53-rtx2080tix2-idle-swpowercap-gen1-xml-healthy: GPU 1, P8, SW Power Cap Active at 19 W,
# Gen1 of Gen3 at x16, ECC N/A, 250 W limit = default, 0 MiB used.
RTX2080TI_IDLE_SWCAP = dict(
    index=1,
    name="GeForce RTX 2080 Ti",
    performance_state="P8",
    utilization_gpu_percent=0.0,
    throttle_reasons=["sw_power_cap"],
    power_draw_watts=19.0,
    power_limit_watts=250.0,
    power_default_limit_watts=250.0,
    pcie_gen_current=1,
    pcie_gen_max=3,
    pcie_width_current=16,
    pcie_width_max=16,
    memory_total_bytes=10989 * MIB,
    memory_used_bytes=0,
    processes=[],
)

# dumps/57-titan-v-idle-gen1-p8-healthy: P8, Idle Active, 29 W of 250 W (= default), Gen1 of Gen3,
# Remapped Rows and most ECC fields N/A (None).
TITAN_V_IDLE = dict(
    name="NVIDIA TITAN V",
    performance_state="P8",
    utilization_gpu_percent=0.0,
    throttle_reasons=["gpu_idle"],
    power_draw_watts=29.0,
    power_limit_watts=250.0,
    power_default_limit_watts=250.0,
    pcie_gen_current=1,
    pcie_gen_max=3,
    pcie_width_current=16,
    pcie_width_max=16,
)


def test_idle_gpus_with_gen1_link_and_sw_power_cap_are_healthy(knowledge: Knowledge) -> None:
    machine = Machine(gpus=[_gpu(index=0, **TITAN_V_IDLE), _gpu(**RTX2080TI_IDLE_SWCAP)])
    assert check_health(machine, knowledge) == []


# dumps/55-rtx4090x8-two-busy-swpowercap-idle-gen1-healthy: GPU at 81:00.0, P2, 100% util,
# 446.36 W of 450 W, SW Power Cap Active, Gen4 x16, 23638 of 24564 MiB used by pid 1292330.
RTX4090_BUSY = dict(
    index=4,
    name="NVIDIA GeForce RTX 4090",
    performance_state="P2",
    utilization_gpu_percent=100.0,
    throttle_reasons=["sw_power_cap"],
    power_draw_watts=446.36,
    power_limit_watts=450.0,
    power_default_limit_watts=450.0,
    pcie_gen_current=4,
    pcie_gen_max=4,
    pcie_width_current=16,
    pcie_width_max=16,
    memory_total_bytes=24564 * MIB,
    memory_used_bytes=23638 * MIB,
    processes=[GPUProcess(pid=1292330, name="python", used_memory_bytes=23632 * MIB, kind="compute")],
)


def test_busy_gpu_at_its_power_cap_is_info_only(knowledge: Knowledge) -> None:
    findings = check_health(Machine(gpus=[_gpu(**RTX4090_BUSY)]), knowledge)
    assert _alarms(findings) == []
    busy = [f for f in findings if f.code == "gpu-busy"]
    assert len(busy) == 1 and busy[0].severity == "info" and busy[0].gpu == 4
    assert "1292330" in busy[0].detail and "23.1 GiB" in busy[0].detail


def test_idle_gpu_is_not_busy(knowledge: Knowledge) -> None:
    assert "gpu-busy" not in _codes(check_health(Machine(gpus=[_gpu(**RTX2080TI_IDLE_SWCAP)]), knowledge))


# --- gpu-throttled ----------------------------------------------------------------------------------


def test_hw_power_brake_is_throttled(knowledge: Knowledge) -> None:
    # dumps/38-h100x8-hw-power-brake-all-gpus: HW Slowdown + HW Power Brake Active, Idle Not Active,
    # graphics/SM clock 86 MHz of 1980 MHz, 31 C, about 70 W of 700 W (= default), Gen5 x16, ECC 0.
    gpu = _gpu(
        name="NVIDIA H100 80GB HBM3",
        throttle_reasons=["hw_slowdown", "hw_power_brake_slowdown"],
        sm_clock_mhz=86,
        sm_clock_max_mhz=1980,
        temperature_c=31.0,
        power_draw_watts=70.0,
        power_limit_watts=700.0,
        power_default_limit_watts=700.0,
        pcie_gen_current=5,
        pcie_gen_max=5,
        pcie_width_current=16,
        pcie_width_max=16,
        ecc_uncorrected_volatile=0,
        ecc_uncorrected_aggregate=0,
        remapped_rows_pending=False,
        remapped_rows_failure=False,
        mig_enabled=False,
    )
    findings = check_health(Machine(gpus=[gpu]), knowledge)
    assert [(f.code, f.severity) for f in findings] == [("gpu-throttled", "warning")]
    assert "86 MHz of 1980 MHz" in findings[0].detail and "Power Brake" in findings[0].detail
    assert findings[0].fix and "PSU" in findings[0].fix


def test_hw_slowdown_fragment_without_other_facts(knowledge: Knowledge) -> None:
    # dumps/37-v100sxm2-32gb-c4130-hw-power-brake: only the throttle and clock sections: SM 382 MHz.
    gpu = _gpu(throttle_reasons=["hw_slowdown", "hw_power_brake_slowdown"], sm_clock_mhz=382)
    findings = check_health(Machine(gpus=[gpu]), knowledge)
    assert _codes(findings) == {"gpu-throttled"}
    assert "382 MHz" in findings[0].detail


def test_thermal_slowdown_is_throttled_with_cooling_fix(knowledge: Knowledge) -> None:
    gpu = _gpu(throttle_reasons=["sw_thermal_slowdown"], temperature_c=91.0)  # NVML reason name, nvml.h
    findings = check_health(Machine(gpus=[gpu]), knowledge)
    assert _codes(findings, "warning") == {"gpu-throttled"}
    assert findings[0].fix and "cooling" in findings[0].fix.lower()


@pytest.mark.parametrize(
    "reasons",
    [
        ["gpu_idle"],  # dumps/57
        ["sw_power_cap"],  # dumps/53 idle and dumps/55 at full load
        ["applications_clocks_setting"],  # dumps/43 busy K80 dies, application clocks 810 of 875 MHz
        [],
        None,  # unknown
    ],
)
def test_harmless_reasons_are_not_throttling(knowledge: Knowledge, reasons: list[str] | None) -> None:
    gpu = _gpu(throttle_reasons=reasons)
    assert "gpu-throttled" not in _codes(check_health(Machine(gpus=[gpu]), knowledge))


# --- pcie-link-degraded -------------------------------------------------------------------------------


def test_x1_riser_link_is_degraded_under_load(knowledge: Knowledge) -> None:
    # dumps/44-gtx1070x6-ethminer-pcie-x1-risers-xml: GPU 0, x1 of x16, Gen3/Gen3, P2, 100% util,
    # 119.47 W of 180 W (= default), ECC N/A, no throttle reason.
    gpu = _gpu(
        name="GeForce GTX 1070",
        performance_state="P2",
        utilization_gpu_percent=100.0,
        throttle_reasons=[],
        power_draw_watts=119.47,
        power_limit_watts=180.0,
        power_default_limit_watts=180.0,
        pcie_gen_current=3,
        pcie_gen_max=3,
        pcie_width_current=1,
        pcie_width_max=16,
    )
    findings = check_health(Machine(gpus=[gpu]), knowledge)
    assert [(f.code, f.severity) for f in _alarms(findings)] == [("pcie-link-degraded", "warning")]
    assert "x1 of x16" in findings[0].title


def test_x4_link_is_degraded_even_when_idle(knowledge: Knowledge) -> None:
    gpu = _gpu(**{**TITAN_V_IDLE, "pcie_width_current": 4})  # dumps/57 values, link narrowed to x4
    assert _codes(check_health(Machine(gpus=[gpu]), knowledge), "warning") == {"pcie-link-degraded"}


def test_x8_of_x16_is_info_only(knowledge: Knowledge) -> None:
    gpu = _gpu(**{**TITAN_V_IDLE, "pcie_width_current": 8})
    findings = check_health(Machine(gpus=[gpu]), knowledge)
    assert _alarms(findings) == [] and _codes(findings) == {"pcie-link-degraded"}


def test_lower_generation_counts_only_under_load(knowledge: Knowledge) -> None:
    # dumps/43: a busy K80 die at 99% util in P0 on Gen3 of Gen3; here the link is at Gen1 instead.
    loaded = _gpu(performance_state="P0", utilization_gpu_percent=99.0, pcie_gen_current=1, pcie_gen_max=3)
    loaded = loaded.model_copy(update={"pcie_width_current": 16, "pcie_width_max": 16})
    findings = check_health(Machine(gpus=[loaded]), knowledge)
    assert _codes(findings, "warning") == {"pcie-link-degraded"}
    assert "Gen1 of Gen3" in findings[0].title


def test_unknown_link_facts_say_nothing(knowledge: Knowledge) -> None:
    assert check_health(Machine(gpus=[_gpu(name="NVIDIA A10")]), knowledge) == []


# --- power-limit-reduced --------------------------------------------------------------------------------


def test_power_limit_below_default(knowledge: Knowledge) -> None:
    # dumps/54-rtx4090-idle-gen1-of-3-xml-healthy: 450 W default; the limit lowered to 300 W as with
    # `nvidia-smi -pl 300`.
    gpu = _gpu(name="NVIDIA GeForce RTX 4090", power_limit_watts=300.0, power_default_limit_watts=450.0)
    findings = check_health(Machine(gpus=[gpu]), knowledge)
    assert [(f.code, f.severity) for f in findings] == [("power-limit-reduced", "warning")]
    assert findings[0].fix and "-pl 450" in findings[0].fix
    assert "300 W" in findings[0].detail and "33%" in findings[0].detail


@pytest.mark.parametrize(
    "limit,default",
    [
        (450.0, 450.0),  # dumps/54 (current = default)
        (310.0, 310.0),  # nvidia-smi/q-2x-h100-nvl-driver550.txt (current = default = 310 W)
        (149.0, 149.0),  # dumps/43 K80
        (None, 450.0),
        (300.0, None),
        (440.0, 450.0),  # within the 5% tolerance
    ],
)
def test_power_limit_at_default_or_unknown(
    knowledge: Knowledge, limit: float | None, default: float | None
) -> None:
    gpu = _gpu(power_limit_watts=limit, power_default_limit_watts=default)
    assert "power-limit-reduced" not in _codes(check_health(Machine(gpus=[gpu]), knowledge))


# --- ecc-errors -----------------------------------------------------------------------------------------


def test_pending_row_remap_is_an_error(knowledge: Knowledge) -> None:
    # dumps/40-a100-sxm4-80gb-xid63-row-remap-pending: Remapped Rows correctable 1, uncorrectable 0,
    # Pending Yes, failure No; DRAM correctable 177 (volatile and aggregate), uncorrectable 0.
    gpu = _gpu(
        name="NVIDIA A100-SXM4-80GB",
        ecc_enabled=True,
        ecc_corrected_volatile=177,
        ecc_uncorrected_volatile=0,
        ecc_corrected_aggregate=177,
        ecc_uncorrected_aggregate=0,
        remapped_rows_correctable=1,
        remapped_rows_uncorrectable=0,
        remapped_rows_pending=True,
        remapped_rows_failure=False,
    )
    findings = check_health(Machine(gpus=[gpu]), knowledge)
    assert [(f.code, f.severity) for f in findings] == [("ecc-errors", "error")]
    assert "row remap is pending" in findings[0].detail and "177" in findings[0].detail
    assert findings[0].fix and "nvidia-smi -r -i 0" in findings[0].fix


def test_uncorrectable_remapped_rows_pending_with_zero_ecc_counters(knowledge: Knowledge) -> None:
    # dumps/41-a10-remapped-rows-uncorrectable-pending: every ECC counter 0, Remapped Rows
    # uncorrectable 4, Pending Yes; idle P8, Gen4 x16, 44 W of 150 W (= default).
    gpu = _gpu(
        name="NVIDIA A10",
        ecc_enabled=True,
        ecc_corrected_volatile=0,
        ecc_uncorrected_volatile=0,
        ecc_corrected_aggregate=0,
        ecc_uncorrected_aggregate=0,
        remapped_rows_correctable=0,
        remapped_rows_uncorrectable=4,
        remapped_rows_pending=True,
        remapped_rows_failure=False,
        performance_state="P8",
        throttle_reasons=["gpu_idle"],
        pcie_gen_current=4,
        pcie_gen_max=4,
        pcie_width_current=16,
        pcie_width_max=16,
        power_draw_watts=44.0,
        power_limit_watts=150.0,
        power_default_limit_watts=150.0,
    )
    findings = check_health(Machine(gpus=[gpu]), knowledge)
    assert [(f.code, f.severity) for f in findings] == [("ecc-errors", "error")]
    assert "4 row(s) remapped for uncorrectable errors" in findings[0].detail


def test_dbe_with_pending_page_retirement(knowledge: Knowledge) -> None:
    # dumps/42-v100-sxm3-dbe-retired-pages-pending-xml: volatile DBE 1 / SBE 1, aggregate DBE 7627,
    # 2 double-bit retired pages, pending_retirement Yes; idle P0 with gpu_idle, Gen3 x16, 350 of 350 W.
    gpu = _gpu(
        name="Tesla V100-SXM3-32GB",
        ecc_uncorrected_volatile=1,
        ecc_corrected_volatile=1,
        ecc_uncorrected_aggregate=7627,
        retired_pages_dbe=2,
        retired_pages_sbe=0,
        retired_pages_pending=True,
        performance_state="P0",
        throttle_reasons=["gpu_idle"],
        pcie_gen_current=3,
        pcie_gen_max=3,
        pcie_width_current=16,
        pcie_width_max=16,
        power_limit_watts=350.0,
        power_default_limit_watts=350.0,
    )
    findings = check_health(Machine(gpus=[gpu]), knowledge)
    assert [(f.code, f.severity) for f in findings] == [("ecc-errors", "error")]
    assert "page retirement is pending" in findings[0].detail and "7627" in findings[0].detail


def test_historic_aggregate_dbe_nothing_pending_is_a_warning(knowledge: Knowledge) -> None:
    # dumps/43-k80x4-azure-aggregate-dbe-retired-pages-xml, die 0: aggregate DBE 7 / SBE 7, volatile 0,
    # one page retired for DBE and one for multiple SBE, pending_blacklist No; busy: P0, 99%,
    # applications clocks Active, 135.72 W of 149 W, one python process with 576 MiB.
    gpu = _gpu(
        name="Tesla K80",
        ecc_uncorrected_volatile=0,
        ecc_corrected_volatile=0,
        ecc_uncorrected_aggregate=7,
        ecc_corrected_aggregate=7,
        retired_pages_dbe=1,
        retired_pages_sbe=1,
        retired_pages_pending=False,
        performance_state="P0",
        utilization_gpu_percent=99.0,
        throttle_reasons=["applications_clocks_setting"],
        power_draw_watts=135.72,
        power_limit_watts=149.0,
        power_default_limit_watts=149.0,
        pcie_gen_current=3,
        pcie_gen_max=3,
        pcie_width_current=16,
        pcie_width_max=16,
        memory_total_bytes=11441 * MIB,
        memory_used_bytes=587 * MIB,
        processes=[GPUProcess(pid=1, name="python", used_memory_bytes=576 * MIB, kind="compute")],
    )
    findings = check_health(Machine(gpus=[gpu]), knowledge)
    assert [(f.code, f.severity) for f in _alarms(findings)] == [("ecc-errors", "warning")]
    assert _codes(findings) == {"ecc-errors", "gpu-busy"}


def test_remap_failure_means_rma(knowledge: Knowledge) -> None:
    gpu = _gpu(name="NVIDIA A100-SXM4-80GB", remapped_rows_failure=True, remapped_rows_pending=False)
    findings = check_health(Machine(gpus=[gpu]), knowledge)
    assert [(f.code, f.severity) for f in findings] == [("ecc-errors", "error")]
    assert findings[0].fix and "RMA" in findings[0].fix


def test_correctable_only_is_info(knowledge: Knowledge) -> None:
    gpu = _gpu(ecc_corrected_aggregate=177, ecc_uncorrected_aggregate=0, remapped_rows_pending=False)
    findings = check_health(Machine(gpus=[gpu]), knowledge)
    assert [(f.code, f.severity) for f in findings] == [("ecc-errors", "info")]


def test_clean_ecc_counters_and_geforce_na_say_nothing(knowledge: Knowledge) -> None:
    # nvidia-smi/q-8x-h100-sxm-80gb-driver565.txt: counters 0, Remapped Rows Pending No, failure No.
    clean = _gpu(
        ecc_enabled=True,
        ecc_corrected_volatile=0,
        ecc_uncorrected_volatile=0,
        ecc_corrected_aggregate=0,
        ecc_uncorrected_aggregate=0,
        remapped_rows_correctable=0,
        remapped_rows_uncorrectable=0,
        remapped_rows_pending=False,
        remapped_rows_failure=False,
    )
    geforce = _gpu(index=1, name="GeForce RTX 2080 Ti")  # dumps/53: every ECC field N/A → None
    assert check_health(Machine(gpus=[clean, geforce]), knowledge) == []


# --- mig-enabled ----------------------------------------------------------------------------------------


def test_mig_enabled_is_a_warning(knowledge: Knowledge) -> None:
    # dumps/49-a100-sxm4-40gb-mig-two-3g-instances-xml: current_mig Enabled, two 3g.20gb instances of
    # 19968 MiB, gpu_util N/A, 400 W of 400 W, Gen4 x16, no throttle reason.
    gpu = _gpu(
        name="NVIDIA A100-SXM4-40GB",
        mig_enabled=True,
        mig_instances=[
            MigInstance(gpu_instance_id=1, profile="3g.20gb", memory_total_bytes=19968 * MIB),
            MigInstance(gpu_instance_id=2, profile="3g.20gb", memory_total_bytes=19968 * MIB),
        ],
        memory_total_bytes=40960 * MIB,
        power_limit_watts=400.0,
        power_default_limit_watts=400.0,
        pcie_gen_current=4,
        pcie_gen_max=4,
        pcie_width_current=16,
        pcie_width_max=16,
        throttle_reasons=[],
    )
    findings = check_health(Machine(gpus=[gpu]), knowledge)
    assert [(f.code, f.severity) for f in findings] == [("mig-enabled", "warning")]
    assert "2 MIG instance(s)" in findings[0].detail and "19.5 GiB" in findings[0].detail


@pytest.mark.parametrize("mig", [False, None])
def test_mig_disabled_or_na(knowledge: Knowledge, mig: bool | None) -> None:
    assert check_health(Machine(gpus=[_gpu(mig_enabled=mig)]), knowledge) == []


# --- gpu-hang -------------------------------------------------------------------------------------------


def test_probe_timeout_is_gpu_hang(knowledge: Knowledge) -> None:
    machine = Machine(probe_timeouts=["nvml"], torch=TorchInfo(timed_out=True))
    findings = check_health(machine, knowledge)
    assert [(f.code, f.severity) for f in findings] == [("gpu-hang", "error")]
    assert "nvml, torch" in findings[0].title


def test_lost_gpu_is_gpu_hang(knowledge: Knowledge) -> None:
    gpu = _gpu(index=3, lost=True, error="GPU is lost")  # NVML_ERROR_GPU_IS_LOST text
    findings = check_health(Machine(gpus=[gpu]), knowledge)
    assert [(f.code, f.severity, f.gpu) for f in findings] == [("gpu-hang", "error", 3)]


def test_no_timeouts_no_hang(knowledge: Knowledge) -> None:
    assert check_health(Machine(), knowledge) == []


# --- robustness -----------------------------------------------------------------------------------------

_counts = st.one_of(st.none(), st.integers(min_value=0, max_value=10**6))
_flags = st.one_of(st.none(), st.booleans())


@settings(max_examples=200, deadline=None)
@given(
    gpu=st.builds(
        GPU,
        index=st.integers(min_value=0, max_value=15),
        throttle_reasons=st.one_of(st.none(), st.lists(st.sampled_from(list(get_args(ThrottleReason))))),
        pcie_gen_current=st.one_of(st.none(), st.integers(1, 6)),
        pcie_gen_max=st.one_of(st.none(), st.integers(1, 6)),
        pcie_width_current=st.one_of(st.none(), st.sampled_from([1, 2, 4, 8, 16])),
        pcie_width_max=st.one_of(st.none(), st.sampled_from([1, 2, 4, 8, 16])),
        power_limit_watts=st.one_of(st.none(), st.floats(0, 1000)),
        power_default_limit_watts=st.one_of(st.none(), st.floats(0, 1000)),
        utilization_gpu_percent=st.one_of(st.none(), st.floats(0, 100)),
        memory_total_bytes=_counts,
        memory_used_bytes=_counts,
        ecc_uncorrected_volatile=_counts,
        ecc_uncorrected_aggregate=_counts,
        ecc_corrected_aggregate=_counts,
        retired_pages_dbe=_counts,
        retired_pages_pending=_flags,
        remapped_rows_pending=_flags,
        remapped_rows_failure=_flags,
        mig_enabled=_flags,
        lost=st.booleans(),
    )
)
def test_any_facts_give_well_formed_findings(gpu: GPU) -> None:
    findings = check_health(Machine(gpus=[gpu]), _KNOWLEDGE_UNUSED)
    assert all(f.gpu == gpu.index and f.title and f.detail and f.fix for f in findings)
    assert len({f.code for f in findings if f.code != "pcie-link-degraded"}) == len(
        [f for f in findings if f.code != "pcie-link-degraded"]
    )
