"""The real benchmark on a real NVIDIA GPU (opt-in: ``pytest -m gpu tests/test_bench_gpu.py``).

Cross-checks what can be checked without trusting our own code: torch's device count and names,
nvidia-smi's view of the card, and plausibility bounds on every figure (positive, below 1.5× the catalog
peak — GeForce boards may boost above 100%, never 150%).
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

pytestmark = pytest.mark.gpu


@pytest.fixture(scope="module")
def run():  # type: ignore[no-untyped-def]
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA GPU visible to torch")
    from advisor.bench import run_bench
    from advisor.knowledge.loader import load_knowledge
    from advisor.probe import probe_machine

    machine = probe_machine()
    return machine, run_bench(machine, load_knowledge(), "quick", device=0)


def test_quick_bench_measures_every_test_on_gpu0(run) -> None:  # type: ignore[no-untyped-def]
    _machine, out = run
    assert out.findings == [], out.findings
    tests = {(r.test, r.dtype) for r in out.results}
    assert {
        ("matmul", "fp32"),
        ("matmul", "fp16"),
        ("memory-bandwidth", None),
        ("h2d", None),
        ("d2h", None),
        ("launch-latency", None),
    } <= tests
    for r in out.results:
        assert r.value > 0 and r.samples >= 3 and r.timing in ("cuda-events", "perf_counter")
        if r.efficiency is not None:
            assert 0.05 < r.efficiency < 1.5, r


def test_card_found_and_tensor_matmul_is_not_absurdly_low(run) -> None:  # type: ignore[no-untyped-def]
    machine, out = run
    fp16 = next(r for r in out.results if r.test == "matmul" and r.dtype == "fp16")
    assert fp16.peak is not None, f"card not found in the catalog for {machine.gpus[0].name}"
    assert fp16.efficiency is not None and fp16.efficiency > 0.3


def test_names_agree_with_nvidia_smi(run) -> None:  # type: ignore[no-untyped-def]
    machine, _out = run
    smi = shutil.which("nvidia-smi")
    if smi is None:
        pytest.skip("nvidia-smi not on PATH")
    names = subprocess.run(
        [smi, "--query-gpu=name", "--format=csv,noheader"], capture_output=True, text=True, check=True
    ).stdout.split("\n")
    assert machine.gpus[0].name == names[0].strip()


def test_host_device_copies_are_plausible_for_pcie(run) -> None:  # type: ignore[no-untyped-def]
    _machine, out = run
    for r in out.results:
        if r.test in ("h2d", "d2h"):
            assert 1.0 < r.value < 200.0, r  # PCIe 3 x4 .. NVLink-C2C class links, GB/s
