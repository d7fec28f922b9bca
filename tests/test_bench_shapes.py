"""Shape selection and the task plan for quick/full modes on recorded device facts."""

from __future__ import annotations

import pytest

from advisor.bench import shapes
from advisor.bench.plan import build_plan, select
from advisor.bench.records import DeviceFacts
from advisor.errors import InputError

GiB = 2**30
# An A100-SXM4-80GB as torch reports it (80 GiB card, ~79 GiB free, 40 MiB L2) and a CPU host.
A100 = DeviceFacts(
    device=0,
    name="NVIDIA A100-SXM4-80GB",
    compute_capability="8.0",
    memory_total_bytes=85_174_583_296,
    memory_free_bytes=84_540_276_736,
    l2_bytes=41_943_040,
    pci_bus_id="00000000:07:00.0",
    peers=(1,),
    dtypes=("fp32", "tf32", "fp16", "bf16"),
)
A100_B = DeviceFacts(
    device=1,
    name="NVIDIA A100-SXM4-80GB",
    compute_capability="8.0",
    memory_total_bytes=85_174_583_296,
    memory_free_bytes=84_540_276_736,
    l2_bytes=41_943_040,
    peers=(0,),
    dtypes=("fp32", "tf32", "fp16", "bf16"),
)
CPU = DeviceFacts(
    device="cpu", name="cpu", memory_total_bytes=25 * 10**9, simd="AVX512", dtypes=("fp32", "bf16")
)


def test_square_matmul_is_aligned_and_fits_free_memory() -> None:
    for free in (2 * GiB, 6 * GiB, 11 * GiB, 80 * GiB):
        m, n, k = shapes.square_matmul("fp32", free, start=8192)
        assert m == n == k and m % 256 == 0
        assert shapes.matmul_bytes((m, n, k), "fp32") <= free * shapes.MEMORY_FRACTION


def test_a_big_card_gets_the_full_quick_shape() -> None:
    assert shapes.square_matmul("bf16", 80 * GiB, start=8192) == (8192, 8192, 8192)


def test_unknown_free_memory_keeps_the_start_shape() -> None:
    assert shapes.square_matmul("fp16", None, start=8192) == (8192, 8192, 8192)


def test_sweep_is_sorted_by_work_and_fits() -> None:
    sweep = shapes.matmul_sweep("bf16", 16 * GiB, gpu=True)
    works = [m * n * k for m, n, k in sweep]
    assert works == sorted(works)
    assert all(d % 256 == 0 for s in sweep for d in s)
    assert all(shapes.fits(s, "bf16", 16 * GiB) for s in sweep)
    assert len(sweep) > 20  # a real sweep, not one shape


def test_shrink_halves_the_largest_dimension_down_to_a_floor() -> None:
    assert shapes.shrink((8192, 4096, 4096)) == (4096, 4096, 4096)
    assert shapes.shrink((256, 256, 256)) is None
    assert shapes.shrink((256 * 2**20,)) == (128 * 2**20,)
    assert shapes.shrink((2**20,)) is None


def test_buffer_bytes_is_capped_and_floored() -> None:
    assert shapes.buffer_bytes(80 * GiB, cap=GiB, fraction=1 / 8) == GiB
    assert shapes.buffer_bytes(2 * GiB, cap=GiB, fraction=1 / 8) == 256 * 2**20
    assert shapes.buffer_bytes(100 * 2**20, cap=GiB, fraction=1 / 8) == 64 * 2**20
    assert shapes.buffer_bytes(None, cap=GiB, fraction=1 / 8) == GiB


def test_flush_buffer_exceeds_l2() -> None:
    assert shapes.flush_bytes(50 * 2**20) == 256 * 2**20
    assert shapes.flush_bytes(126 * 2**20) > 126 * 2**20
    assert shapes.flush_bytes(None) == 256 * 2**20


def test_quick_plan_for_one_gpu_covers_every_test_and_dtype() -> None:
    tasks = build_plan([CPU, A100], "quick", 0)
    assert {t.device for t in tasks} == {0}
    matmuls = [t for t in tasks if t.test == "matmul"]
    assert [t.dtype for t in matmuls] == ["fp32", "tf32", "fp16", "bf16"]
    assert all(t.shapes == ((8192, 8192, 8192),) and t.flush_bytes > A100.l2_bytes for t in matmuls)  # type: ignore[operator]
    assert {t.test for t in tasks} == {"matmul", "memory-bandwidth", "h2d", "d2h", "launch-latency"}


def test_all_means_gpus_and_p2p_only_where_peers_can_reach() -> None:
    tasks = build_plan([CPU, A100, A100_B], "quick", "all")
    assert "cpu" not in {t.device for t in tasks}
    p2p = [(t.device, t.peer) for t in tasks if t.test == "p2p"]
    assert p2p == [(0, 1)]
    full = build_plan([CPU, A100, A100_B], "full", "all")
    assert sorted((t.device, t.peer) for t in full if t.test == "p2p") == [(0, 1), (1, 0)]
    no_peers = DeviceFacts(device=1, name="x", dtypes=("fp32",))
    assert not [t for t in build_plan([A100, no_peers], "quick") if t.test == "p2p" and t.peer == 0]


def test_full_plan_sweeps_shapes() -> None:
    tasks = build_plan([A100], "full", 0)
    assert all(len(t.shapes) > 20 for t in tasks if t.test == "matmul")


def test_cpu_plan_when_there_is_no_gpu() -> None:
    tasks = build_plan([CPU], "quick", "all")
    assert [(t.test, t.dtype) for t in tasks] == [
        ("matmul", "fp32"),
        ("matmul", "bf16"),
        ("memory-bandwidth", None),
    ]
    assert tasks[0].shapes == ((1024, 1024, 1024), (1536, 1536, 1536), (2048, 2048, 2048))
    many = DeviceFacts(device="cpu", threads=64, dtypes=("fp32",))
    assert build_plan([many], "quick")[0].shapes[-1] == (4096, 4096, 4096)


def test_a_missing_gpu_index_is_an_input_error() -> None:
    with pytest.raises(InputError, match="no GPU with index 3"):
        select([CPU, A100], 3)
