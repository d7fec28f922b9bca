"""Fake benchmark backends loaded by the *child process* in tests/test_bench_runner.py (``module:attr``).

Kept import-light (no torch, no pytest) so the child starts fast.
"""

from __future__ import annotations

import os
import time

from advisor.bench.records import DeviceFacts, Measurement, Task

CPU = DeviceFacts(device="cpu", name="cpu", dtypes=("fp32",), memory_total_bytes=8 * 2**30)
GPU0 = DeviceFacts(
    device=0,
    name="NVIDIA A100-SXM4-80GB",
    compute_capability="8.0",
    memory_total_bytes=85_174_583_296,
    memory_free_bytes=84_540_276_736,
    pci_bus_id="00000000:07:00.0",
    dtypes=("bf16",),
)


class Healthy:
    """A100 bf16 at 250 TFLOP/s, 1800 GB/s memory: fixed figures, instant."""

    def discover(self) -> list[DeviceFacts]:
        return [CPU, GPU0]

    def measure(self, task: Task, shape: tuple[int, ...]) -> list[Measurement]:
        if task.test == "matmul":
            m, n, k = shape
            return [Measurement([2.0 * m * n * k / 250e12] * 5, 2.0 * m * n * k, "fake mm", "cuda-events")]
        if task.test == "launch-latency":
            return [Measurement([shape[0] * 5e-6] * 5, float(shape[0]), "fake launches", "perf_counter")]
        return [Measurement([shape[0] / 1800e9] * 5, float(shape[0]), "fake copy", "cuda-events")]

    def release(self, device: int | str) -> None:
        pass


class HangsOnMatmul(Healthy):
    """The GPU matmul never returns (a wedged driver)."""

    def measure(self, task: Task, shape: tuple[int, ...]) -> list[Measurement]:
        if task.test == "matmul":
            time.sleep(3600)
        return super().measure(task, shape)


class DiesOnMatmul(Healthy):
    """The process dies mid-kernel, as on a driver fault."""

    def measure(self, task: Task, shape: tuple[int, ...]) -> list[Measurement]:
        if task.test == "matmul":
            os._exit(134)
        return super().measure(task, shape)


class CudaErrorOnMatmul(Healthy):
    def measure(self, task: Task, shape: tuple[int, ...]) -> list[Measurement]:
        if task.test == "matmul":
            raise RuntimeError("CUDA error: an illegal memory access was encountered")
        return super().measure(task, shape)


class BrokenImport:
    def __init__(self) -> None:
        raise ImportError("libcudart.so.12: cannot open shared object file")
