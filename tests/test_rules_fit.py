"""`check --workload`: does a workload fit THIS machine (free memory, measured bench); recorded machines."""

from __future__ import annotations

from advisor.dumps import read_dump
from advisor.knowledge.loader import load_knowledge
from advisor.machine import GPU, Machine
from advisor.recommend import parse_workload_spec
from advisor.report import BenchResult
from advisor.rules.fit import check_workload_fit
from tests.conftest import SMI

MiB = 2**20
KNOWLEDGE = load_knowledge()


def _check(machine: Machine, spec: str, bench: list[BenchResult] | None = None):  # type: ignore[no-untyped-def]
    return check_workload_fit(machine, parse_workload_spec(spec), KNOWLEDGE, bench or [])


def _codes(findings: list) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    return [(f.code, f.severity) for f in findings]


def test_t4_with_13939_mib_free_cannot_hold_a_7b_model_in_fp16() -> None:
    # Real `nvidia-smi -q -x` of a Tesla T4: 15360 MiB total, 13939 MiB free. Llama 2 7B fp16 weights alone
    # are 13.5 GB (2 bytes x 6.74B, hub safetensors size) = 12.6 GiB, plus KV cache and CUDA context.
    t4 = read_dump(str(SMI / "qx-tesla-t4-driver515.xml"))
    findings, est = _check(t4, "model=llama-2-7b,precision=fp16")
    assert _codes(findings) == [("insufficient-memory", "error")]
    f = findings[0]
    assert f.gpu == 0 and "13.6 GiB free memory" in f.detail and f.fix and "--precision q8_0" in f.fix
    assert est.cards[0].id == "tesla-t4" and not est.cards[0].fits
    # 8-bit weights (6.7 GB) fit: no finding, and the estimate says so
    ok, est8 = _check(t4, "model=llama-2-7b,precision=int8")
    assert ok == [] and est8.cards[0].fits and est8.cards[0].gpus_needed == 1


def test_busy_gpus_are_judged_on_free_not_total_memory() -> None:
    # Real dump: 2 x RTX A5000 (24 GiB each) with 1.6 GiB and 6.7 GiB free. Llama 2 7B in bf16 would fit
    # the total (24 GiB) but not what is free.
    busy = read_dump(str(SMI / "qx-2x-rtx-a5000-driver590.xml"))
    assert all(g.memory_total_bytes and g.memory_total_bytes > 24_000 * MiB for g in busy.gpus)
    findings, _ = _check(busy, "model=llama-2-7b")
    assert _codes(findings) == [("insufficient-memory", "error")]
    assert "free memory" in findings[0].detail
    idle = busy.model_copy(
        update={"gpus": [g.model_copy(update={"memory_free_bytes": None}) for g in busy.gpus]}
    )
    assert _check(idle, "model=llama-2-7b")[0] == []  # free unknown: total used, and it fits


def test_a_busy_gpu_is_left_out_when_the_rest_hold_the_workload() -> None:
    busy = read_dump(str(SMI / "qx-2x-rtx-a5000-driver590.xml"))
    findings, est = _check(busy, "model=gpt2")  # ~1.3 GiB with the CUDA context: GPU 1 has 6.7 GiB free
    assert findings == [] and est.cards[0].fits and "GPU 1" in est.cards[0].name


def test_70b_in_bf16_fits_across_two_h100_nvl_but_full_finetuning_does_not() -> None:
    # Real `nvidia-smi -q`: 2 x H100 NVL, 95830 MiB total, 95235 MiB free each. 70.6B x 2 bytes = 141 GB,
    # tensor-parallel over 2 GPUs ≈ 66 GiB each. Full fine-tuning needs 16 bytes/param (ZeRO) = 1.1 TB.
    nvl = read_dump(str(SMI / "q-2x-h100-nvl-driver550.txt"))
    findings, est = _check(nvl, "model=llama-3-70b,precision=bf16,seq_len=4096")
    assert findings == [] and est.cards[0].fits and est.cards[0].gpus_needed == 2
    assert est.memory.per_gpu is not None and est.memory.per_gpu < 95235 * MiB
    bad, _ = _check(nvl, "model=llama-3-70b,task=finetune")
    assert _codes(bad) == [("insufficient-memory", "error")] and bad[0].gpu is None  # spans both GPUs


def test_asking_for_more_gpus_than_the_machine_has_is_insufficient() -> None:
    t4 = read_dump(str(SMI / "qx-tesla-t4-driver515.xml"))
    findings, _ = _check(t4, "model=gpt2,gpus=4")
    assert _codes(findings) == [("insufficient-memory", "error")] and "asks for 4 GPUs" in findings[0].detail


def _rtx3090(free_mib: int = 24000) -> GPU:
    return GPU(index=0, name="NVIDIA GeForce RTX 3090", pci_device_id=0x2204,
               memory_total_bytes=24576 * MiB, memory_free_bytes=free_mib * MiB)  # fmt: skip


def _bench(dtype: str, tflops: float, bandwidth: float) -> list[BenchResult]:
    common = {"device": 0, "spread": 0.01, "samples": 5, "seconds": 1.0}
    return [
        BenchResult(test="matmul", dtype=dtype, value=tflops, unit="TFLOP/s", median=tflops, best=tflops,
                    **common),  # type: ignore[arg-type]
        BenchResult(test="memory-bandwidth", value=bandwidth, unit="GB/s", median=bandwidth, best=bandwidth,
                    **common),  # type: ignore[arg-type]
    ]  # fmt: skip


def test_measured_bench_figures_replace_catalog_peaks() -> None:
    machine = Machine(gpus=[_rtx3090()])
    spec = "model=llama-3-8b,task=qlora,seq_len=2048"
    _, catalog = _check(machine, spec)
    _, slow = _check(machine, spec, _bench("bf16", 20.0, 500.0))
    assert catalog.cards[0].est_throughput and slow.cards[0].est_throughput
    assert slow.cards[0].est_throughput < catalog.cards[0].est_throughput
    assert any("measured bf16 matmul 20.0 TFLOP/s" in a for a in slow.assumptions)
    # decode is memory-bound: the measured bandwidth sets the speed
    _, decode = _check(machine, "model=llama-3-8b,precision=bf16", _bench("bf16", 60.0, 500.0))
    assert decode.cards[0].bound == "memory" and any("500 GB/s" in a for a in decode.assumptions)


def test_no_gpu_is_an_error_but_unknown_gpus_are_no_verdict() -> None:
    findings, _ = _check(Machine(gpus=[]), "model=gpt2")
    assert _codes(findings) == [("insufficient-memory", "error")]
    unknown, est = _check(Machine(gpus=[], gpus_known=False), "model=gpt2")
    assert unknown == [] and any("not judged" in a for a in est.assumptions)
    lost, _ = _check(Machine(gpus=[GPU(index=0, name="NVIDIA A100-SXM4-80GB", lost=True)], gpus_known=True),
                     "model=gpt2")  # fmt: skip
    assert lost == []


def test_unknown_gpu_memory_falls_back_to_the_catalog_then_to_no_verdict() -> None:
    # collect_env-style facts: a name, no memory figures
    named = Machine(gpus=[GPU(index=0, name="NVIDIA GeForce RTX 3090")])
    findings, _ = _check(named, "model=llama-2-13b,precision=bf16")  # 26 GB of weights > 24 GiB
    assert _codes(findings) == [("insufficient-memory", "error")] and "catalog size" in findings[0].detail
    mystery = Machine(gpus=[GPU(index=0, name="Mystery Accelerator 9000")])
    none, est2 = _check(mystery, "model=llama-2-13b")
    assert none == [] and any("unknown" in a for a in est2.assumptions)


def test_fitting_workload_raises_nothing() -> None:
    findings, est = _check(Machine(gpus=[_rtx3090()]), "model=mistral-7b,task=qlora,seq_len=4096")
    assert findings == [] and est.cards[0].fits and est.workload["grad_checkpointing"] is True


def test_this_machine_gets_its_longest_context_and_largest_batch() -> None:
    # Real `nvidia-smi -q -x` of a Tesla T4 with 13939 MiB free: Llama 3 8B in q4_k_m (4.8 bits per weight,
    # llama.cpp's table) leaves room for a long context; the figure must fit the free memory exactly.
    t4 = read_dump(str(SMI / "qx-tesla-t4-driver515.xml"))
    findings, est = _check(t4, "model=llama-3-8b,precision=q4_k_m,seq_len=4096")
    assert findings == []
    lines = [a for a in est.assumptions if "longest context that fits" in a or "largest batch" in a]
    assert len(lines) == 2, est.assumptions
    longest = int(lines[0].split("fits is ")[1].split(" tokens")[0].replace(",", ""))
    assert 4096 <= longest <= 8192  # capped at Llama 3's 8192-token context
    assert est.max_seq_len == longest and est.max_batch is not None and est.max_batch >= 1
    # a fp16 8B model does not fit 13.6 GiB at all: no context fits, and no batch
    _, est16 = _check(t4, "model=llama-3-8b,precision=fp16,seq_len=4096")
    assert not any("longest context that fits" in a for a in est16.assumptions)
    assert est16.max_seq_len is None and est16.max_batch is None
