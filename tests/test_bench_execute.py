"""One task on a fake backend: OOM retry, sweeps, kernel variants, error classes (no torch, no timing)."""

from __future__ import annotations

import pytest

from advisor.bench.execute import classify_error, execute_task
from advisor.bench.records import DeviceFacts, Measurement, Task


class OutOfMemoryError(RuntimeError):
    """Named like torch.OutOfMemoryError (torch.cuda.OutOfMemoryError)."""


class FakeBackend:
    """Returns fixed timings; raises what ``failures`` says for the first calls at a given shape."""

    def __init__(
        self, failures: dict[tuple[int, ...], list[BaseException]] | None = None, seconds: float = 0.01
    ) -> None:
        self.failures = failures or {}
        self.calls: list[tuple[int, ...]] = []
        self.released = 0
        self.seconds = seconds

    def discover(self) -> list[DeviceFacts]:
        return [DeviceFacts(device=0, name="fake", dtypes=("fp16",))]

    def measure(self, task: Task, shape: tuple[int, ...]) -> list[Measurement]:
        self.calls.append(shape)
        pending = self.failures.get(shape)
        if pending:
            raise pending.pop(0)
        m, n, k = shape
        return [Measurement([self.seconds] * 5, 2.0 * m * n * k, "fake mm", "cuda-events")]

    def release(self, device: int | str) -> None:
        self.released += 1


def task(*shapes: tuple[int, ...]) -> Task:
    return Task(device=0, test="matmul", shapes=shapes, dtype="fp16")


def test_torch_oom_retries_with_a_smaller_problem_and_says_so() -> None:
    backend = FakeBackend(
        {(8192, 8192, 8192): [OutOfMemoryError("CUDA out of memory. Tried to allocate 2 GiB")]}
    )
    out = execute_task(task((8192, 8192, 8192)), backend)
    assert out.result is not None
    assert out.result.shape == [4096, 8192, 8192]
    assert backend.calls == [(8192, 8192, 8192), (4096, 8192, 8192)]
    assert backend.released == 1
    assert any("retried with a smaller problem" in n for n in out.result.notes)
    # 2·4096·8192·8192 FLOPs in 10 ms
    assert out.result.value == pytest.approx(2 * 4096 * 8192 * 8192 / 0.01 / 1e12)


def test_runtime_error_with_oom_text_is_retried_too() -> None:
    err = RuntimeError("CUDA error: out of memory")
    backend = FakeBackend({(4096, 4096, 4096): [err, RuntimeError("CUDA out of memory")]})
    out = execute_task(task((4096, 4096, 4096)), backend)
    assert out.result is not None and out.result.shape == [2048, 4096, 4096]
    assert out.result.notes[0].startswith("out of memory at 4096×4096×4096")


def test_oom_down_to_the_floor_gives_no_result() -> None:
    always = {(256, 256, 256): [OutOfMemoryError("out of memory")]}
    out = execute_task(task((256, 256, 256)), FakeBackend(always))
    assert out.result is None and out.error_kind == "oom"


def test_cuda_fault_is_not_retried() -> None:
    backend = FakeBackend(
        {(4096, 4096, 4096): [RuntimeError("CUDA error: an illegal memory access was encountered")]}
    )
    out = execute_task(task((4096, 4096, 4096)), backend)
    assert out.result is None and out.error_kind == "cuda"
    assert "illegal memory access" in (out.error or "")
    assert backend.calls == [(4096, 4096, 4096)]


def test_sweep_keeps_the_best_shape_and_stops_at_oom() -> None:
    class Sweepy(FakeBackend):
        def measure(self, task: Task, shape: tuple[int, ...]) -> list[Measurement]:
            self.calls.append(shape)
            if shape[0] == 4096:
                raise OutOfMemoryError("out of memory")
            m, n, k = shape
            rate = {1024: 100e12, 2048: 150e12}[m]  # the 2048 shape runs fastest
            return [Measurement([2.0 * m * n * k / rate] * 3, 2.0 * m * n * k, "fake mm", "cuda-events")]

    backend = Sweepy()
    out = execute_task(task((1024, 512, 512), (2048, 512, 512), (4096, 512, 512), (8192, 512, 512)), backend)
    assert out.result is not None
    assert out.result.shape == [2048, 512, 512]
    assert out.result.value == pytest.approx(150.0)
    assert "best median of 2 shapes" in (out.result.method or "")
    assert (8192, 512, 512) not in backend.calls


def test_memory_bandwidth_reports_the_better_kernel_and_names_both() -> None:
    class Memory(FakeBackend):
        def measure(self, task: Task, shape: tuple[int, ...]) -> list[Measurement]:
            size = shape[0]
            return [
                Measurement([0.001] * 5, 2.0 * size, "copy", "cuda-events", variant="copy"),
                Measurement([0.001] * 5, 3.0 * size, "triad", "cuda-events", variant="triad"),
            ]

    t = Task(device=0, test="memory-bandwidth", shapes=((10**9,),))
    out = execute_task(t, Memory())
    assert out.result is not None
    assert out.result.unit == "GB/s"
    assert out.result.value == pytest.approx(3000.0)  # 3 GB counted in 1 ms
    assert out.result.method == "triad"
    assert any("copy 2000" in n and "triad 3000" in n for n in out.result.notes)


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (OutOfMemoryError("x"), "oom"),
        (RuntimeError("CUDA out of memory. Tried to allocate 20.00 MiB"), "oom"),
        (RuntimeError("CUBLAS_STATUS_ALLOC_FAILED when calling cublasCreate(handle)"), "oom"),
        (RuntimeError("CUDA error: unspecified launch failure"), "cuda"),
        (RuntimeError("CUDA error: device-side assert triggered"), "cuda"),
        (NotImplementedError("no kernel"), "unsupported"),
        (RuntimeError("_scaled_mm is not supported on this device"), "unsupported"),
        (ValueError("odd"), "other"),
    ],
)
def test_classify_error(exc: BaseException, kind: str) -> None:
    assert classify_error(exc) == kind
