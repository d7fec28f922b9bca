"""Does a workload fit THIS machine? Free memory from the probe and measured bench figures, not catalog peaks.

``insufficient-memory`` (error) when the GPUs it would use cannot hold it. Unknown memory is no verdict:
the estimate says so and no finding is raised.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from advisor.recommend.advice import advise
from advisor.recommend.estimate import assumptions
from advisor.recommend.memory import Components, breakdown, components, per_gpu_bytes
from advisor.recommend.rank import card_capacity, fit_on
from advisor.recommend.resolve import Resolved, resolve
from advisor.recommend.throughput import Rates, card_rates, measured_rates
from advisor.report import BenchResult, CardFit, Finding, WorkloadEstimate
from advisor.units import format_bytes

if TYPE_CHECKING:
    from advisor.knowledge.base import Knowledge
    from advisor.knowledge.cards import Card
    from advisor.machine import GPU, Machine
    from advisor.recommend.capacity import Limits
    from advisor.recommend.workload import Workload


def check_workload_fit(
    machine: Machine, workload: Workload, knowledge: Knowledge, bench: Sequence[BenchResult] = ()
) -> tuple[list[Finding], WorkloadEstimate]:
    """Whether ``workload`` fits this machine's GPUs, and the estimate for it (one CardFit: this machine)."""
    r = resolve(workload, knowledge.models)
    c = components(r)
    gpus = [g for g in machine.gpus if not g.lost]
    notes: list[str] = []
    findings: list[Finding] = []
    fits: list[CardFit] = []

    if not gpus:
        if machine.gpus_known and not machine.gpus:
            findings.append(
                _finding(r, None, "no GPU on this machine to run it on", "", r.workload.gpus or 1)
            )
        else:
            notes.append(
                "this machine's GPUs are unknown or lost: whether the workload fits here is not judged"
            )
        return findings, _estimate(r, c, fits, notes, r.workload.gpus or 1)

    wanted = r.workload.gpus or len(gpus)
    ordered = sorted(gpus, key=lambda g: (-(_free_bytes(g, knowledge) or 0), g.index))
    chosen = ordered[:wanted]
    if r.workload.gpus is None:
        # Not pinned: the fewest of the GPUs with the most free memory that hold it (leave a busy one out).
        for n in range(1, len(ordered) + 1):
            room = [_free_bytes(g, knowledge) for g in ordered[:n]]
            if all(f is not None for f in room) and per_gpu_bytes(c, r.workload.batch, n) <= min(
                f for f in room if f is not None
            ):
                chosen = ordered[:n]
                break
    free = [_free_bytes(g, knowledge) for g in chosen]
    card = _card(chosen[0], knowledge)
    label = _label(chosen, card)
    if any(f is None for f in free):
        notes.append(f"memory of {label} is unknown: whether the workload fits here is not judged")
        return findings, _estimate(r, c, fits, notes, wanted)

    capacity = min(f for f in free if f is not None)
    if all(g.memory_free_bytes is not None for g in chosen):
        source = "free memory"
    elif all(g.memory_free_bytes is not None or g.memory_total_bytes is not None for g in chosen):
        source = "memory (free unknown: total)"
    else:
        source = "memory (catalog size)"
    notes.append(f"this machine: {label}, {format_bytes(capacity)} {source} per GPU (the probe's figure)")
    rates = _rates(card, r, bench, [g.index for g in chosen])
    notes.extend(rates.notes)
    pinned = r.workload.model_copy(update={"gpus": len(chosen), "max_gpus": max(len(chosen), 1)})
    here = Resolved(workload=pinned, model=r.model, assumptions=r.assumptions, engine=r.engine)
    fits.append(
        fit_on(
            here,
            c,
            card_id=card.id if card else "this-machine",
            name=f"{label} (this machine)",
            capacity=capacity,
            rates=Rates(rates.tflops, rates.bandwidth_gbs, rates.dtype, rates.measured),
            price_usd=None,
            capacity_label=f" {source}",
        )
    )
    from advisor.recommend.capacity import limits

    lim = limits(here, capacity, len(chosen))
    notes.extend(_limits_here(here, lim, label))
    if r.workload.gpus is not None and len(chosen) < r.workload.gpus:
        detail = f"the workload asks for {wanted} GPUs; this machine has {len(chosen)} usable"
        findings.append(_finding(r, None, detail, _fix(here, capacity), wanted))
    elif per_gpu_bytes(c, pinned.batch, len(chosen)) > capacity:
        need = per_gpu_bytes(c, pinned.batch, len(chosen))
        detail = (
            f"needs {format_bytes(need)} per GPU on {len(chosen)} GPU(s) "
            f"({_parts(c, pinned.batch)}); {label} has {format_bytes(capacity)} {source} per GPU"
        )
        gpu = chosen[0].index if len(chosen) == 1 else None
        findings.append(_finding(r, gpu, detail, _fix(here, capacity), len(chosen)))
    est = _estimate(r, c, fits, notes, len(chosen))
    return findings, est.model_copy(update={"max_seq_len": lim.max_seq_len, "max_batch": lim.max_batch})


def _limits_here(r: Resolved, lim: Limits, label: str) -> list[str]:
    """The longest context and the largest batch that fit this machine's free memory, in words."""
    out: list[str] = []
    if lim.max_seq_len is not None:
        capped = " (the model's trained context; memory allows more)" if lim.capped_at_model else ""
        out.append(
            f"on {label}: the longest context that fits is {lim.max_seq_len:,} tokens at batch "
            f"{lim.batch}{capped}"
        )
    if lim.max_batch is not None and r.workload.seq_len:
        out.append(f"on {label}: the largest batch that fits at {lim.seq_len:,} tokens is {lim.max_batch:,}")
    elif lim.max_batch is not None:
        out.append(f"on {label}: the largest batch that fits is {lim.max_batch:,}")
    return out


def _free_bytes(gpu: GPU, knowledge: Knowledge) -> int | None:
    if gpu.memory_free_bytes is not None:
        return gpu.memory_free_bytes
    if gpu.memory_total_bytes is not None:
        return gpu.memory_total_bytes
    card = _card(gpu, knowledge)
    return card_capacity(card) if card else None


def _card(gpu: GPU, knowledge: Knowledge) -> Card | None:
    try:
        from advisor.knowledge.match import match_gpu
    except ImportError:  # pragma: no cover - the catalog helper's module
        return None
    return match_gpu(gpu, knowledge.cards)


def _label(chosen: list[GPU], card: Card | None) -> str:
    name = chosen[0].name or (card.name if card else f"GPU {chosen[0].index}")
    return f"{len(chosen)} x {name}" if len(chosen) > 1 else f"GPU {chosen[0].index} ({name})"


def _rates(card: Card | None, r: Resolved, bench: Sequence[BenchResult], devices: list[int]) -> Rates:
    if card is None:
        base = Rates(None, None, _bench_dtype(r), notes=("GPU not in the catalog: no peak figures",))
    else:
        base = card_rates(card, r.workload.precision, r.workload.task)
    return measured_rates(base, bench, devices)


def _bench_dtype(r: Resolved) -> str:
    from advisor.recommend.throughput import gemm_precision

    return gemm_precision(r.workload.precision, r.workload.task)


def _parts(c: Components, batch: int) -> str:
    b = breakdown(c, batch)
    named = (
        ("weights", b.weights),
        ("gradients", b.gradients),
        ("optimizer", b.optimizer),
        ("activations", b.activations),
        ("KV cache", b.kv_cache),
    )
    return (
        "whole job: "
        + ", ".join(f"{n} {format_bytes(v)}" for n, v in named if v)
        + f", total {format_bytes(b.total)}"
    )


def _fix(r: Resolved, capacity: int) -> str:
    gpus = r.workload.gpus or 1

    def fits_here(v: Resolved, vc: Components) -> str | None:
        if per_gpu_bytes(vc, v.workload.batch, gpus) <= capacity:
            return "here"
        return None

    advice = advise(r, fits_here, more_gpus=False)
    if not advice:
        return "No saving makes it fit here: use bigger GPUs (see `advisor recommend`) or a smaller model."
    return "Try " + "; or ".join(advice) + "."


def _finding(r: Resolved, gpu: int | None, detail: str, fix: str, gpus: int) -> Finding:
    w = r.workload
    return Finding(
        code="insufficient-memory",
        severity="error",
        gpu=gpu,
        title=f"{r.model.name} {w.task} ({w.precision}) does not fit on {gpus} GPU(s) here",
        detail=f"{w.describe()}: {detail}" if detail else w.describe(),
        fix=fix or "Run it on a machine with a GPU (see `advisor recommend` for cards that fit).",
    )


def _estimate(
    r: Resolved, c: Components, fits: list[CardFit], notes: list[str], gpus: int
) -> WorkloadEstimate:
    return WorkloadEstimate(
        workload=r.workload.model_dump(mode="json"),
        memory=breakdown(c, r.workload.batch, gpus),
        assumptions=[*r.assumptions, *notes, *assumptions(r, c, sort=None)],
        cards=fits,
    )
