"""Throughput model and ranking on hand-built cards (independent of the shipped catalog)."""

from __future__ import annotations

from advisor.knowledge.cards import Card, Throughput
from advisor.recommend.advice import advise
from advisor.recommend.memory import components
from advisor.recommend.rank import Rate, card_capacity, fewest_gpus, rank_cards
from advisor.recommend.resolve import Resolved, resolve
from advisor.recommend.throughput import (
    BANDWIDTH_EFFICIENCY,
    DECODE_TOKEN_OVERHEAD_S,
    MFU_TRAINING,
    card_rates,
    estimate_throughput,
    gemm_precision,
    measured_rates,
)
from advisor.recommend.workload import workload_from_options
from advisor.report import BenchResult
from tests.test_recommend_models import PRESETS


def card(id: str, memory_gb: float, *, bf16: float | None = 100.0, fp16: float | None = 100.0,
         fp8: float | None = None, bandwidth: float = 1000.0, price: float | None = None,
         arch: str = "Ampere") -> Card:  # fmt: skip
    return Card(
        id=id, name=id.upper(), vendor="nvidia", architecture=arch, segment="datacenter", memory_gb=memory_gb,
        memory_bandwidth_gbs=bandwidth, launch_price_usd=price, sources=["test"],
        tflops=Throughput(fp32=20.0, bf16=bf16, fp16=fp16, fp8=fp8),
    )  # fmt: skip


def _resolve(**options: object) -> Resolved:
    return resolve(workload_from_options(**options), list(PRESETS.values()))  # type: ignore[arg-type]


def test_decode_at_batch_1_is_memory_bound_on_weight_bytes() -> None:
    # tokens/s ≈ bandwidth x efficiency / bytes read per token (weights + KV cache). Llama 2 7B fp16 is
    # 13.5 GB of weights; 1000 GB/s x 70% / 13.5 GB ≈ 52 tokens/s (a short context adds little KV).
    r = _resolve(model="llama-2-7b", precision="fp16", seq_len=128, engine="transformers")
    c = components(r)
    tp = estimate_throughput(r, c, card_rates(card("a", 80), "fp16", "inference"), gpus=1)
    assert tp.bound == "memory" and tp.unit == "tokens/s"
    expected = 1 / (6.738e9 * 2 / (1000e9 * BANDWIDTH_EFFICIENCY) + DECODE_TOKEN_OVERHEAD_S)
    assert tp.value is not None and abs(tp.value - expected) / expected < 0.02


def test_large_batch_decode_turns_compute_bound() -> None:
    r = _resolve(model="llama-2-7b", precision="fp16", seq_len=128, batch=4096)
    tp = estimate_throughput(r, components(r), card_rates(card("a", 80), "fp16", "inference"), gpus=1)
    assert tp.bound == "compute"


def test_training_is_compute_bound_at_6n_flops_per_token() -> None:
    # Kaplan et al. 2020: training costs 6·N FLOPs per token (+ attention, PaLM appendix B: 12·L·d·s).
    r = _resolve(model="llama-2-7b", task="finetune", seq_len=2048, batch=8)
    tp = estimate_throughput(r, components(r), card_rates(card("a", 80), "bf16", "finetune"), gpus=1)
    per_token = 6 * 6.738e9 + 12 * 32 * 4096 * 2048
    expected = 100e12 * MFU_TRAINING / per_token
    assert tp.bound == "compute" and tp.value is not None and abs(tp.value - expected) / expected < 0.01


def test_vision_throughput_is_in_images_per_second_and_diffusion_is_not_guessed() -> None:
    # torchvision: ResNet-50 forward = 4.09 G multiply-adds = 8.18 GFLOP per image.
    r = _resolve(model="resnet-50", batch=256)
    tp = estimate_throughput(r, components(r), card_rates(card("a", 80), "bf16", "inference"), gpus=1)
    assert tp.unit == "images/s" and tp.value is not None
    assert abs(tp.value - 100e12 * 0.5 / 8.18e9) / tp.value < 0.01
    sd = _resolve(model="sdxl")
    none = estimate_throughput(sd, components(sd), card_rates(card("a", 80), "bf16", "inference"), gpus=1)
    assert none.value is None and "no FLOP count" in none.detail


def test_dtype_fallbacks_are_stated() -> None:
    volta = card("v100", 32, bf16=None, fp16=125.0, arch="Volta")
    rates = card_rates(volta, "bf16", "lora")
    assert rates.dtype == "fp16" and rates.tflops == 125.0 and "no bf16 tensor cores" in rates.notes[0]
    ampere = card("a", 40)
    fp8 = card_rates(ampere, "fp8", "inference")
    assert fp8.dtype == "bf16" and "no FP8" in fp8.notes[0]
    assert card_rates(card("h", 80, fp8=400.0), "fp8", "inference").tflops == 400.0
    # weight-only int8/int4 and QLoRA run their GEMMs in bf16
    assert gemm_precision("int4", "inference") == gemm_precision("bf16", "qlora") == "bf16"
    assert card_rates(volta, "int4", "inference").dtype == "fp16"


def test_measured_bench_replaces_catalog_peaks() -> None:
    base = card_rates(card("a", 80), "bf16", "lora")

    def result(test: str, value: float, dtype: str | None = None, device: int = 0) -> BenchResult:
        unit = "TFLOP/s" if test == "matmul" else "GB/s"
        return BenchResult(device=device, test=test, dtype=dtype, value=value, unit=unit, median=value,
                           best=value, spread=0.0, samples=3, seconds=0.1)  # type: ignore[arg-type]  # fmt: skip

    bench = [
        result("matmul", 60.0, "bf16"),
        result("matmul", 50.0, "bf16", 1),
        result("matmul", 90.0, "fp16"),
        result("memory-bandwidth", 700.0),
    ]
    got = measured_rates(base, bench, [0, 1])
    assert (got.tflops, got.bandwidth_gbs, got.measured) == (50.0, 700.0, True)
    assert measured_rates(base, bench, [5]) == base


def test_ranking_is_deterministic_fits_first_ties_by_id() -> None:
    cards = [card("zeta", 24, price=1000.0), card("alpha", 24, price=1000.0), card("big", 80),
             card("tiny", 4, price=100.0), card("mid", 48, bf16=300.0)]  # fmt: skip
    r = _resolve(model="llama-2-7b", precision="fp16", seq_len=2048)
    c = components(r)
    ranked = rank_cards(r, c, cards)
    assert [f.id for f in ranked] == [f.id for f in rank_cards(r, c, list(reversed(cards)))]
    ids = [f.id for f in ranked]
    # every card holds it, the 4 GB one only on several GPUs: single-GPU cards rank first
    assert ids.index("alpha") < ids.index("zeta")  # identical specs: tie broken by id
    assert ranked[-1].id == "tiny" and ranked[-1].gpus_needed and ranked[-1].gpus_needed > 1
    for f in ranked:
        assert f.reason and (f.fits == (f.gpus_needed is not None))
    priced = {f.id: f.price_perf for f in ranked}
    assert priced["big"] is None and priced["alpha"] is not None


def test_sorting_by_cost_and_price_performance() -> None:
    cards = [
        card("cheap", 24, price=500.0, bandwidth=500.0),
        card("fast", 24, price=3000.0, bandwidth=2000.0),
        card("unpriced", 24),
    ]
    r = _resolve(model="llama-2-7b", precision="int8", seq_len=1024)
    c = components(r)
    assert [f.id for f in rank_cards(r, c, cards, "price")] == ["cheap", "fast", "unpriced"]
    # cost: hourly rent of the GPUs needed; cards without a known rate come after
    rates = {"fast": Rate(1.0, "test", "2026-01", "test"), "unpriced": Rate(2.0, "test", "2026-01", "test")}
    assert [f.id for f in rank_cards(r, c, cards, "cost", rates)] == ["fast", "unpriced", "cheap"]
    assert [f.id for f in rank_cards(r, c, cards, "throughput")] == ["fast", "unpriced", "cheap"]
    # price/perf: 4x the bandwidth for 6x the price → cheap wins
    assert rank_cards(r, c, cards, "price-perf")[0].id == "cheap"


def test_budget_and_min_throughput_are_explained() -> None:
    cards = [card("pricey", 80, price=30000.0), card("unpriced", 80), card("ok", 80, price=5000.0)]
    r = _resolve(model="llama-2-7b", precision="bf16", budget=10000)
    ranked = rank_cards(r, components(r), cards)
    by_id = {f.id: f for f in ranked}
    assert by_id["ok"].fits and ranked[0].id == "ok"
    assert not by_id["pricey"].fits and "over budget" in by_id["pricey"].reason
    assert not by_id["unpriced"].fits and "no launch price" in by_id["unpriced"].reason
    slow = _resolve(model="llama-2-7b", precision="bf16", min_throughput=10000)
    assert all(
        "below --min-throughput" in f.reason and not f.fits for f in rank_cards(slow, components(slow), cards)
    )


def test_fixed_gpu_count_reports_what_would_fit() -> None:
    r = _resolve(model="llama-3-70b", precision="bf16", gpus=2)
    fit = rank_cards(r, components(r), [card("c24", 24)])[0]
    assert not fit.fits and fit.gpus_needed is not None and fit.gpus_needed > 2
    assert "per GPU on 2" in fit.reason


def _fits_on(one: Card) -> object:
    def fits_where(v: Resolved, vc: object) -> str | None:
        n = fewest_gpus(vc, v.workload.batch, card_capacity(one), v.workload.max_gpus)  # type: ignore[arg-type]
        return f"{n} x {one.name}" if n else None

    return fits_where


def test_nothing_fits_gives_advice_that_works() -> None:
    c24 = card("c24", 24)
    r = _resolve(model="llama-3-70b", task="finetune", seq_len=4096)
    assert fewest_gpus(components(r), 1, card_capacity(c24), 8) is None
    advice = advise(r, _fits_on(c24))  # type: ignore[arg-type]
    assert advice, "no advice for a workload that fits nowhere"
    assert any(a.startswith("--task qlora") for a in advice)
    # 70B full fine-tuning with checkpointing: 16 bytes/param = 1.1 TB of states, more than 8 x 80 GB
    ckpt = _resolve(model="llama-3-70b", task="finetune", seq_len=4096, grad_checkpointing=True)
    more = advise(ckpt, _fits_on(card("c80", 80)))  # type: ignore[arg-type]
    assert any(a.startswith("more GPUs (--max-gpus") for a in more), more


def test_fewest_gpus_beyond_a_node_agrees_with_counting_one_by_one() -> None:
    from advisor.recommend.memory import per_gpu_bytes

    for model, task in (("llama-3-70b", "finetune"), ("llama-3-70b", "inference"), ("llama-2-13b", "lora")):
        r = _resolve(model=model, task=task, seq_len=4096, batch=64)
        c = components(r)
        for gb in (8, 12, 24):
            capacity = card_capacity(card("x", gb))
            counted = next((n for n in range(1, 301) if per_gpu_bytes(c, 64, n) <= capacity), None)
            assert fewest_gpus(c, 64, capacity, 300) == counted
