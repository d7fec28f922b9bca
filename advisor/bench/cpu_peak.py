"""Theoretical CPU peak: cores × clock × SIMD lanes × 2 (an FMA is two FLOPs) × FMA pipes.

This is arithmetic on what the host reports, not a table of CPUs. It is an upper bound: it assumes two
FMA pipes of the full SIMD width per core (Intel since Haswell, AMD since Zen 2 for 256-bit). Parts with a
single AVX-512 FMA port, or AVX-512 executed on 256-bit pipes (AMD Zen 4), reach half of it; the method
text says so, and no finding is ever raised against a CPU figure.
"""

from __future__ import annotations

from dataclasses import dataclass

from advisor.machine import HostInfo

FMA_PIPES = 2


@dataclass(frozen=True)
class CpuPeak:
    tflops: float | None  # None: a fact was missing (``how`` says which)
    how: str


def simd_bits(flags: list[str] | None, torch_capability: str | None) -> int | None:
    """The vector width torch's kernels use: its own capability first, else the widest flag present."""
    cap = (torch_capability or "").upper()
    if cap.startswith("AVX512"):
        return 512
    if cap.startswith("AVX2"):
        return 256
    if cap == "DEFAULT" or flags is None:
        return 128 if cap == "DEFAULT" else None
    have = set(flags)
    if "avx512f" in have:
        return 512
    if "avx2" in have or "avx" in have:
        return 256
    return 128 if "sse2" in have or "neon" in have or "asimd" in have else None


def cpu_peak(host: HostInfo, dtype: str | None, torch_capability: str | None = None) -> CpuPeak:
    """Theoretical dense ``fp32``/``bf16`` matmul peak of this host (TFLOP/s), and how it was derived."""
    missing = [
        name
        for name, value in (("physical cores", host.cpu_cores), ("max clock", host.cpu_max_mhz))
        if value is None
    ]
    bits = simd_bits(host.cpu_flags, torch_capability)
    if bits is None:
        missing.append("SIMD width (CPU flags)")
    if missing:
        return CpuPeak(None, "theoretical peak not derived: " + ", ".join(missing) + " unknown")
    assert host.cpu_cores is not None and host.cpu_max_mhz is not None and bits is not None
    flags = set(host.cpu_flags or [])
    fma = FMA_PIPES if ("fma" in flags or bits == 512 or host.cpu_flags is None) else 1
    lanes = bits // 32
    per_cycle = lanes * 2 * fma  # without FMA: a multiply pipe and an add pipe, two FLOPs per lane per cycle
    factor = 1
    extra = ""
    if dtype == "bf16":
        if "amx_bf16" in flags:
            return CpuPeak(None, "theoretical BF16 peak not derived: AMX tile throughput is not modelled")
        if "avx512_bf16" not in flags:
            return CpuPeak(None, "theoretical BF16 peak not derived: no avx512_bf16, torch converts to FP32")
        factor, extra = 2, " × 2 (avx512_bf16 dot product: two BF16 products per FP32 lane)"
    ghz = host.cpu_max_mhz / 1000
    tflops = host.cpu_cores * ghz * per_cycle * factor / 1000
    how = (
        f"theoretical peak {tflops * 1000:.0f} GFLOP/s = {host.cpu_cores} cores × {ghz:.2f} GHz × "
        f"{lanes} FP32 lanes ({bits}-bit SIMD) × 2 (FMA) × {fma} FMA pipes{extra}; an upper bound "
        "(one AVX-512 FMA port, or AVX-512 on 256-bit pipes as on AMD Zen 4, halves it)"
    )
    return CpuPeak(tflops, how)
