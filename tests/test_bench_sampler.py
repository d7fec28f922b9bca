"""NVML telemetry during a test: decoding, summarising and wording (fake binding, recorded values)."""

from __future__ import annotations

from types import SimpleNamespace

from advisor.bench.sampler import Sample, describe, read_sample, reasons_from_mask, summarize_samples

# The constants as nvidia-ml-py 12.x defines them (nvml.h clocks-event reasons).
NVML_CONSTANTS = dict(
    nvmlClocksThrottleReasonGpuIdle=0x1,
    nvmlClocksThrottleReasonApplicationsClocksSetting=0x2,
    nvmlClocksThrottleReasonSwPowerCap=0x4,
    nvmlClocksThrottleReasonHwSlowdown=0x8,
    nvmlClocksThrottleReasonSyncBoost=0x10,
    nvmlClocksThrottleReasonSwThermalSlowdown=0x20,
    nvmlClocksThrottleReasonHwThermalSlowdown=0x40,
    nvmlClocksThrottleReasonHwPowerBrakeSlowdown=0x80,
    nvmlClocksThrottleReasonDisplayClockSetting=0x100,
)


def test_mask_decodes_with_the_bindings_constants() -> None:
    nvml = SimpleNamespace(**NVML_CONSTANTS)
    # 0x88 = HW slowdown + HW power brake, as on dump 38 (H100 ×8 power brake)
    assert reasons_from_mask(nvml, 0x88) == ("hw_slowdown", "hw_power_brake_slowdown")
    assert reasons_from_mask(nvml, 0) == ()


def test_summary_keeps_extremes_and_drops_benign_reasons() -> None:
    samples = [
        Sample(
            sm_clock_mhz=1410,
            sm_clock_max_mhz=1410,
            reasons=("gpu_idle",),
            power_watts=90.0,
            power_limit_watts=400.0,
            temperature_c=40,
            pcie_gen=4,
            pcie_gen_max=4,
            pcie_width=16,
            pcie_width_max=16,
        ),
        Sample(
            sm_clock_mhz=1005,
            sm_clock_max_mhz=1410,
            reasons=("sw_power_cap",),
            power_watts=399.0,
            power_limit_watts=400.0,
            temperature_c=71,
            pcie_gen=4,
            pcie_gen_max=4,
            pcie_width=16,
            pcie_width_max=16,
        ),
    ]
    t = summarize_samples(samples)
    assert t is not None
    assert (t.sm_clock_min_mhz, t.sm_clock_max_seen_mhz, t.sm_clock_max_mhz) == (1005, 1410, 1410)
    assert t.reasons == ("sw_power_cap",)
    assert (t.power_max_watts, t.power_limit_watts, t.temperature_max_c) == (399.0, 400.0, 71)
    text = describe(t)
    assert text.startswith("NVML during the test (2 samples)")
    assert "SM clock 1005-1410 MHz (max 1410)" in text and "sw_power_cap" in text and "399 W of 400 W" in text
    assert "PCIe Gen4 x16 of Gen4 x16" in text


def test_no_samples_no_summary() -> None:
    assert summarize_samples([]) is None


def test_read_sample_turns_failing_queries_into_none() -> None:
    def fail(*_a: object) -> int:
        raise RuntimeError("NVML_ERROR_NOT_SUPPORTED")

    nvml = SimpleNamespace(
        **NVML_CONSTANTS,
        NVML_CLOCK_SM=1,
        NVML_TEMPERATURE_GPU=0,
        nvmlDeviceGetClockInfo=lambda h, c: 1980,
        nvmlDeviceGetMaxClockInfo=lambda h, c: 1980,
        nvmlDeviceGetCurrentClocksThrottleReasons=lambda h: 0x4,
        nvmlDeviceGetPowerUsage=lambda h: 650_000,
        nvmlDeviceGetEnforcedPowerLimit=lambda h: 700_000,
        nvmlDeviceGetTemperature=fail,
        nvmlDeviceGetCurrPcieLinkGeneration=fail,
        nvmlDeviceGetMaxPcieLinkGeneration=fail,
        nvmlDeviceGetCurrPcieLinkWidth=fail,
        nvmlDeviceGetMaxPcieLinkWidth=fail,
    )
    s = read_sample(nvml, object())
    assert (s.sm_clock_mhz, s.reasons, s.power_watts, s.power_limit_watts) == (
        1980,
        ("sw_power_cap",),
        650.0,
        700.0,
    )
    assert s.temperature_c is None and s.pcie_gen is None
