"""Measured ÷ catalog peak, and finding the card behind a torch device."""

from __future__ import annotations

import pytest

from advisor.bench.efficiency import annotate, annotate_cpu, find_gpu, normalize_bus_id
from advisor.bench.records import DeviceFacts
from advisor.knowledge.cards import Achievable, Card, Throughput
from advisor.machine import GPU, HostInfo, Machine
from advisor.report import BenchResult

RTX3090 = Card(
    id="rtx-3090",
    name="GeForce RTX 3090",
    vendor="nvidia",
    architecture="Ampere",
    compute_capability="8.6",
    segment="consumer",
    memory_gb=24,
    memory_bandwidth_gbs=936,
    tdp_watts=350,
    tflops=Throughput(fp32=35.6, tf32=35.6, fp16=71, fp16_fp16acc=142, bf16=71),
    sources=["card-specs.md #13"],
)


def result(
    test: str = "matmul", dtype: str | None = "fp16", value: float = 65.0, device: int | str = 0
) -> BenchResult:
    return BenchResult.model_validate(
        dict(
            device=device,
            test=test,
            dtype=dtype,
            value=value,
            unit="TFLOP/s",
            median=value,
            best=value,
            spread=0.02,
            samples=20,
            seconds=1.0,
        )
    )


def test_geforce_fp16_uses_the_fp32_accumulate_figure() -> None:
    r = annotate(result(value=65.0), RTX3090)
    assert r.peak == 71 and r.efficiency == pytest.approx(65 / 71, abs=1e-4)


def test_above_peak_is_reported_as_is() -> None:
    # GeForce boards boost above the rated clock: >100% is a measurement, not an error
    assert annotate(result(value=74.0), RTX3090).efficiency == pytest.approx(74 / 71, abs=1e-4)


def test_memory_bandwidth_against_catalog_bandwidth() -> None:
    r = annotate(result("memory-bandwidth", None, 850.0), RTX3090)
    assert r.peak == 936 and r.efficiency == pytest.approx(850 / 936, abs=1e-4)


def test_unknown_card_or_dtype_leaves_peak_empty() -> None:
    assert annotate(result(), None).peak is None
    assert annotate(result(dtype="fp8"), RTX3090).efficiency is None
    assert annotate(result("h2d", None, 24.0), RTX3090).peak is None


def test_achievable_comes_from_the_card() -> None:
    card = RTX3090.model_copy(update={"achievable": {"fp16": Achievable(tflops=68.0, source="x")}})
    assert annotate(result(), card).achievable == 68.0


def test_cpu_peak_goes_into_method() -> None:
    host = HostInfo(cpu_cores=2, cpu_max_mhz=2596.134, cpu_flags=["avx2", "fma", "avx512f"])
    r = annotate_cpu(
        result(dtype="fp32", value=0.17, device="cpu").model_copy(update={"method": "torch.mm"}),
        Machine(host=host),
        DeviceFacts(device="cpu", simd="AVX512"),
    )
    assert r.peak == pytest.approx(0.3323, abs=1e-4)
    assert r.method is not None and r.method.startswith("torch.mm; theoretical peak 332 GFLOP/s")


def test_bus_ids_from_nvml_and_torch_compare_equal() -> None:
    assert normalize_bus_id("00000000:3B:00.0") == normalize_bus_id("0000:3b:00.0") == "0000:3b:00.0"
    assert normalize_bus_id(None) is None


def test_find_gpu_by_bus_id_not_by_index() -> None:
    machine = Machine(
        gpus=[
            GPU(index=0, name="NVIDIA GeForce RTX 3090", pci_bus_id="00000000:01:00.0"),
            GPU(index=1, name="NVIDIA GeForce RTX 3090", pci_bus_id="00000000:02:00.0"),
        ]
    )
    facts = DeviceFacts(device=0, name="NVIDIA GeForce RTX 3090", pci_bus_id="0000:02:00.0")
    found = find_gpu(facts, machine)
    assert found is not None and found.index == 1
    # without a bus id the index is trusted only when the names agree
    assert find_gpu(DeviceFacts(device=0, name="GeForce RTX 3090"), machine) is machine.gpus[0]
    assert find_gpu(DeviceFacts(device=0, name="Tesla T4"), machine) is None
