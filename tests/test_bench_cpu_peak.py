"""Theoretical CPU peak from host facts (cores × clock × SIMD lanes × FMA)."""

from __future__ import annotations

import pytest

from advisor.bench.cpu_peak import cpu_peak, simd_bits
from advisor.machine import HostInfo

# This sandbox's host as advisor.probe reported it (AMD EPYC, 2 cores, 2596 MHz).
EPYC = HostInfo(
    cpu_cores=2, cpu_max_mhz=2596.134, cpu_flags=["sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_bf16"]
)


def test_avx512_fp32_peak() -> None:
    peak = cpu_peak(EPYC, "fp32", "AVX512")
    # 2 cores × 2.596 GHz × 16 lanes × 2 (FMA) × 2 pipes = 332.3 GFLOP/s
    assert peak.tflops == pytest.approx(0.33230515, rel=1e-6)
    assert "upper bound" in peak.how and "2 cores" in peak.how


def test_bf16_with_avx512_bf16_doubles() -> None:
    assert cpu_peak(EPYC, "bf16", "AVX512").tflops == pytest.approx(2 * 0.33230515, rel=1e-6)


def test_bf16_without_hardware_support_is_not_derived() -> None:
    host = EPYC.model_copy(update={"cpu_flags": ["avx", "avx2", "fma"]})
    assert cpu_peak(host, "bf16", "AVX2").tflops is None


def test_torch_capability_wins_over_flags() -> None:
    # torch built without AVX-512 kernels runs 256-bit code even on an AVX-512 CPU
    assert cpu_peak(EPYC, "fp32", "AVX2").tflops == pytest.approx(0.33230515 / 2, rel=1e-6)


def test_missing_facts_are_named() -> None:
    peak = cpu_peak(HostInfo(cpu_cores=8), "fp32", None)
    assert peak.tflops is None
    assert "max clock" in peak.how and "SIMD width" in peak.how


@pytest.mark.parametrize(
    ("flags", "cap", "bits"),
    [
        (["avx512f"], None, 512),
        (["avx2"], None, 256),
        (["sse2"], None, 128),
        (None, "DEFAULT", 128),
        (None, None, None),
    ],
)
def test_simd_bits(flags: list[str] | None, cap: str | None, bits: int | None) -> None:
    assert simd_bits(flags, cap) == bits
