"""The parent side with a real child process running fake backends: results, timeout, crash, Ctrl-C.

No torch and no timing: the fakes return fixed figures, hang, or die (tests/bench_fake_backends.py).
"""

from __future__ import annotations

import importlib.util
import sys

import pytest

from advisor.bench import ProgressEvent, run_bench
from advisor.bench.records import BenchRun
from advisor.errors import InputError
from advisor.knowledge.base import Knowledge
from advisor.knowledge.cards import Achievable, Card, Throughput
from advisor.machine import GPU, Machine
from tests.conftest import REPO

FAKES = "tests.bench_fake_backends"
A100 = Card(
    id="a100-sxm4-80gb",
    name="A100 SXM4 80GB",
    vendor="nvidia",
    architecture="Ampere",
    compute_capability="8.0",
    segment="datacenter",
    memory_gb=80,
    memory_bandwidth_gbs=2039,
    tdp_watts=400,
    tflops=Throughput(fp32=19.5, tf32=156, fp16=312, bf16=312),
    achievable={"bf16": Achievable(tflops=271.2, source="MAMF table (anchors.md §2.9)")},
    nvml_names=["NVIDIA A100-SXM4-80GB"],
    pci_device_ids=["0x20b2"],
    sources=["test: anchors.md / card-specs.md"],
)
KNOWLEDGE = Knowledge(cards=(A100,), compat=None)  # type: ignore[arg-type]
# NVML numbers this GPU 3 while torch calls it 0 (CUDA_DEVICE_ORDER differs): the PCI bus id ties them.
MACHINE = Machine(
    gpus=[
        GPU(
            index=3,
            name="NVIDIA A100-SXM4-80GB",
            pci_bus_id="00000000:07:00.0",
            pci_device_id=0x20B2,
            memory_total_bytes=85_899_345_920,
        )
    ]
)


@pytest.fixture(autouse=True)
def _repo_cwd(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)  # the child imports the fakes as tests.bench_fake_backends


def run(backend: str, **kw: object) -> BenchRun:
    return run_bench(MACHINE, KNOWLEDGE, backend=f"{FAKES}:{backend}", sampler_factory=None, **kw)  # type: ignore[arg-type]


def test_results_come_back_annotated_with_the_card() -> None:
    events: list[ProgressEvent] = []
    out = run("Healthy", timeout_s=60, progress=events.append)
    assert out.findings == [] and not out.interrupted and out.skipped is None
    by_test = {(r.test, r.dtype): r for r in out.results}
    assert set(by_test) == {
        ("matmul", "bf16"),
        ("memory-bandwidth", None),
        ("h2d", None),
        ("d2h", None),
        ("launch-latency", None),
    }
    mm = by_test[("matmul", "bf16")]
    assert mm.value == pytest.approx(250.0)
    assert mm.peak == 312 and mm.efficiency == pytest.approx(250 / 312, abs=1e-4)
    assert mm.achievable == 271.2
    assert mm.device == 3  # renumbered to nvidia-smi's index, with a note saying so
    assert any("torch device 0 is GPU 3" in n for n in mm.notes)
    mem = by_test[("memory-bandwidth", None)]
    assert mem.peak == 2039 and mem.efficiency == pytest.approx(1800 / 2039, abs=1e-4)
    assert by_test[("h2d", None)].peak is None  # no catalog figure for a host link
    assert by_test[("launch-latency", None)].value == pytest.approx(5.0)
    assert events[-1].done == events[-1].total == 5


def test_a_hung_kernel_is_killed_at_the_timeout_and_becomes_gpu_hang() -> None:
    out = run("HangsOnMatmul", timeout_s=4)
    assert [(f.code, f.severity, f.gpu) for f in out.findings] == [("gpu-hang", "error", 3)]
    assert "gpu0 matmul bf16" in out.findings[0].detail and "4 s" in out.findings[0].detail
    assert out.results == []
    assert any(n.startswith("not run:") and "memory-bandwidth" in n for n in out.notes)


def test_a_child_that_dies_mid_kernel_becomes_gpu_hang_with_its_exit_status() -> None:
    out = run("DiesOnMatmul", timeout_s=60)
    assert [(f.code, f.gpu) for f in out.findings] == [("gpu-hang", 3)]
    assert "exit status 134" in out.findings[0].detail


def test_a_cuda_error_is_named_and_later_tests_on_that_gpu_are_skipped() -> None:
    out = run("CudaErrorOnMatmul", timeout_s=60)
    assert [(f.code, f.gpu) for f in out.findings] == [("gpu-hang", 3)]
    assert "illegal memory access" in out.findings[0].detail
    assert out.findings[0].title.startswith("CUDA error on GPU 3")
    assert out.results == []
    assert any("earlier CUDA error" in n for n in out.notes)


def test_cpu_only_run_has_no_gpu_findings() -> None:
    out = run("Healthy", timeout_s=60, device="cpu")
    assert [r.device for r in out.results] == ["cpu", "cpu"]
    assert out.findings == []


def test_ctrl_c_stops_cleanly_and_keeps_what_finished() -> None:
    def interrupt(event: ProgressEvent) -> None:
        if event.done == 2:
            raise KeyboardInterrupt

    out = run("Healthy", timeout_s=60, progress=interrupt)
    assert out.interrupted
    assert len(out.results) == 2
    assert any(n.startswith("benchmark interrupted (Ctrl-C): 2 of 5") for n in out.notes)


def test_a_backend_that_cannot_load_skips_with_the_reason() -> None:
    out = run("BrokenImport", timeout_s=60)
    assert out.results == [] and out.findings == []
    assert out.skipped is not None and "libcudart" in out.skipped


def test_a_missing_gpu_index_raises_input_error() -> None:
    with pytest.raises(InputError, match="no GPU with index 7"):
        run("Healthy", timeout_s=60, device=7)


def test_without_torch_the_bench_is_skipped_with_a_clear_note(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a)
    )
    monkeypatch.setitem(sys.modules, "torch", None)
    out = run_bench(MACHINE, KNOWLEDGE, sampler_factory=None)
    assert out.skipped == "PyTorch is not installed"
    assert out.results == [] and out.findings == []
    assert "pytorch.org" in out.notes[0]
