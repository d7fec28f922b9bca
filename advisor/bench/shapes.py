"""Problem sizes: matmul shapes that can reach peak (multiples of 256, sized to free memory) and buffers.

Why these numbers: large square GEMMs in multiples of 256 keep every tile full, so cuBLAS/oneDNN can
reach their best rate (the MAMF finder sweeps M in steps of 256 for the same reason, anchors.md §2.9).
Copy buffers must dwarf the last-level cache, or the figure measures the cache, not the memory.
"""

from __future__ import annotations

from advisor.report import BenchDtype

ALIGN = 256
MiB = 2**20
GiB = 2**30

# Bytes per element as stored (inputs) and as written (output) for each bench dtype.
_IN_BYTES: dict[str, int] = {"fp32": 4, "tf32": 4, "fp16": 2, "bf16": 2, "fp8": 1}
_OUT_BYTES: dict[str, int] = {"fp32": 4, "tf32": 4, "fp16": 2, "bf16": 2, "fp8": 2}  # fp8 writes bf16

GPU_QUICK_N = 8192  # ~1.1 TFLOP per fp16 GEMM: a few ms on big cards, long enough for stable events
MEMORY_FRACTION = 0.5  # of free memory a matmul may use: leaves room for cuBLAS workspaces and others


def align_down(n: int, align: int = ALIGN) -> int:
    """Largest multiple of ``align`` not above ``n`` (at least ``align``)."""
    return max(align, (n // align) * align)


def matmul_bytes(shape: tuple[int, ...], dtype: BenchDtype) -> int:
    """Device memory a [M, N, K] matmul needs: A (M×K) and B (K×N) inputs plus the M×N output."""
    m, n, k = shape
    return (m * k + k * n) * _IN_BYTES[dtype] + m * n * _OUT_BYTES[dtype]


def fits(shape: tuple[int, ...], dtype: BenchDtype, free_bytes: int | None, reserved: int = 0) -> bool:
    """Whether it fits in ``MEMORY_FRACTION`` of free memory after ``reserved`` bytes (unknown: yes)."""
    if free_bytes is None:
        return True
    return matmul_bytes(shape, dtype) + reserved <= free_bytes * MEMORY_FRACTION


def square_matmul(
    dtype: BenchDtype, free_bytes: int | None, *, start: int, reserved: int = 0
) -> tuple[int, int, int]:
    """The largest square shape ≤ ``start`` (multiple of 256) that fits free memory."""
    n = align_down(start)
    while n > ALIGN and not fits((n, n, n), dtype, free_bytes, reserved):
        n = align_down(n * 3 // 4)
    return (n, n, n)


def matmul_sweep(
    dtype: BenchDtype, free_bytes: int | None, *, gpu: bool, reserved: int = 0
) -> tuple[tuple[int, int, int], ...]:
    """Shapes for the full (MAMF-style) sweep: M over a range for a few N×K, plus large squares.

    The MAMF finder's quick form varies M with N = K = 4096 and reaches ~80-90% of the maximum;
    adding N = K = 8192 and squares covers the shapes where cuBLAS usually peaks (anchors.md §2.9).
    """
    if gpu:
        nks = [(4096, 4096), (8192, 8192)]
        ms = range(1024, 16384 + 1, 1024)
        squares = [2048, 4096, 6144, 8192, 12288, 16384]
    else:
        nks = [(1024, 1024), (2048, 2048)]
        ms = range(512, 4096 + 1, 512)
        squares = [512, 1024, 1536, 2048, 3072, 4096]
    shapes = [(m, n, k) for n, k in nks for m in ms] + [(s, s, s) for s in squares]
    unique = sorted(set(shapes), key=lambda s: (s[0] * s[1] * s[2], s))
    return tuple(s for s in unique if fits(s, dtype, free_bytes, reserved))


def cpu_quick_matmuls(threads: int | None) -> tuple[tuple[int, int, int], ...]:
    """Quick CPU squares: each takes tens of milliseconds, enough to fill every core without a long wait.

    On a few cores 1024-2048 reach the sweep's best (benchmarks/README.md); many cores need larger ones.
    """
    sizes = (1024, 1536, 2048) if (threads or 1) <= 8 else (2048, 3072, 4096)
    return tuple((n, n, n) for n in sizes)


def shrink(shape: tuple[int, ...]) -> tuple[int, ...] | None:
    """A smaller problem after an out-of-memory error: halve the largest dimension; None at the floor."""
    if len(shape) == 3:
        biggest = max(range(3), key=lambda i: shape[i])
        if shape[biggest] <= ALIGN:
            return None
        out = list(shape)
        out[biggest] = align_down(shape[biggest] // 2)
        return tuple(out)
    (size,) = shape[:1]
    half = size // 2
    return None if half < MiB else (half, *shape[1:])


def buffer_bytes(total_bytes: int | None, *, cap: int, fraction: float, floor: int = 64 * MiB) -> int:
    """A copy buffer: ``cap`` bytes, or ``fraction`` of the memory when smaller (at least ``floor``)."""
    if total_bytes is None:
        return cap
    return max(floor, min(cap, int(total_bytes * fraction)) // MiB * MiB)


def flush_bytes(l2_bytes: int | None) -> int:
    """Bytes to write between timed matmuls so the next one starts with a cold L2 (MAMF uses 256 MiB)."""
    return max(256 * MiB, 4 * (l2_bytes or 0))
