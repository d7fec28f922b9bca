"""Judge every catalog card against a workload: fits or not, GPUs needed, throughput, price; then rank."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from advisor.knowledge.cards import Card
from advisor.recommend.memory import VLLM_GPU_MEMORY_UTILIZATION, Components, per_gpu_bytes
from advisor.recommend.resolve import Resolved
from advisor.recommend.throughput import Link, Rates, card_link, card_rates, estimate_throughput
from advisor.report import CardFit
from advisor.units import format_bytes

SORTS = ("cost", "gpus", "throughput", "price-perf", "price")
DEFAULT_SORT = "cost"
# The oldest compute capability any current PyTorch CUDA wheel carries: torch 2.8-2.14 ship sm_50 in
# their cu126 builds and start at sm_70/sm_75 in cu128+; sm_37 (Kepler K80) was last in torch 2.7 cu118.
# The newest release, 2.15, drops CUDA 12.6 and with it everything below sm_75 (catalog/compat/torch.yaml,
# torch_arch_lists; tests/test_recommend_prices.py keeps these in step with it).
TORCH_MIN_CC = (5, 0)
TORCH_LAST_FOR_OLDER = "torch 2.7 with CUDA 11.8 (cu118)"
TORCH_NEWEST = "2.15"
TORCH_NEWEST_MIN_CC = (7, 5)
TORCH_LAST_BEFORE_NEWEST = "2.14 (cu126)"


@dataclass(frozen=True)
class Rate:
    usd_per_hour: float
    provider: str
    date: str
    source: str


def card_capacity(card: Card) -> int:
    """Usable bytes of one device (the catalog's GB read as GiB, see Card.memory_bytes)."""
    return card.memory_bytes


def engine_capacity(r: Resolved, capacity: int) -> int:
    """What the runtime lets the model use: vLLM takes gpu_memory_utilization (0.9) of each GPU."""
    if r.engine == "vllm":
        return int(capacity * VLLM_GPU_MEMORY_UTILIZATION)
    return capacity


def fewest_gpus(c: Components, batch: int, capacity: int, max_gpus: int) -> int | None:
    """The fewest GPUs of ``capacity`` bytes each that hold the workload, or None beyond ``max_gpus``.

    One by one up to a node's worth; beyond, a binary search (what each GPU holds never grows with more
    GPUs), so `--max-gpus 20000` stays instant."""
    linear = min(max_gpus, 16)
    for n in range(1, linear + 1):
        if per_gpu_bytes(c, batch, n) <= capacity:
            return n
    if max_gpus <= linear or per_gpu_bytes(c, batch, max_gpus) > capacity:
        return None
    lo, hi = linear, max_gpus  # lo does not fit, hi does
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if per_gpu_bytes(c, batch, mid) <= capacity:
            hi = mid
        else:
            lo = mid
    return hi


def fit_on(
    r: Resolved,
    c: Components,
    *,
    card_id: str,
    name: str,
    capacity: int,
    rates: Rates,
    price_usd: float | None,
    capacity_label: str = "",
    link: Link | None = None,
    hourly: Rate | None = None,
    blocker: str | None = None,
    note: str | None = None,
) -> CardFit:
    """One CardFit: memory fit at the asked (or fewest) GPU count, throughput, budget and price checks."""
    w = r.workload
    usable = engine_capacity(r, capacity)
    needed = fewest_gpus(c, w.batch, usable, w.max_gpus)
    used = w.gpus if w.gpus is not None else needed
    cap = format_bytes(usable) + capacity_label
    if usable != capacity:
        cap += (
            f" ({VLLM_GPU_MEMORY_UTILIZATION:.0%} of {format_bytes(capacity)}: vLLM's gpu_memory_utilization)"
        )
    reasons: list[str] = []
    memory_ok = used is not None and per_gpu_bytes(c, w.batch, used) <= usable
    if memory_ok and used is not None:
        need = per_gpu_bytes(c, w.batch, used)
        reasons.append(f"fits on {used} GPU{'s' if used > 1 else ''}: {format_bytes(need)} of {cap} per GPU")
    elif w.gpus is not None:
        need = per_gpu_bytes(c, w.batch, w.gpus)
        then = f"fits on {needed} GPUs" if needed else f"does not fit even on {w.max_gpus}"
        reasons.append(f"needs {format_bytes(need)} per GPU on {w.gpus} (has {cap}); {then}")
    else:
        need = per_gpu_bytes(c, w.batch, w.max_gpus)
        on = f"{w.max_gpus} GPUs" if w.max_gpus > 1 else "1 GPU"
        reasons.append(f"does not fit: {format_bytes(need)} per GPU even on {on} (has {cap})")

    value = unit = bound = None
    if memory_ok and used is not None:
        tp = estimate_throughput(r, c, rates, used, link)
        value, unit, bound = tp.value, tp.unit, tp.bound
        reasons.append(tp.detail)
        reasons += rates.notes
    cost = price_usd * used if price_usd is not None and used is not None else None
    price_perf = value / (cost / 1000) if value is not None and cost else None
    if hourly is not None and used is not None and memory_ok:
        reasons.append(
            f"rent: {used} x ${hourly.usd_per_hour:.2f}/h = ${hourly.usd_per_hour * used:.2f}/h "
            f"({hourly.provider}, {hourly.date})"
        )

    if memory_ok and note:
        reasons.append(note)
    fits = memory_ok
    if memory_ok and blocker:
        fits = False
        reasons.insert(0, blocker)
    if memory_ok and w.budget_usd is not None:
        if cost is None:
            fits = False
            reasons.append("no launch price in the catalog: cannot check --budget")
        elif cost > w.budget_usd:
            fits = False
            reasons.append(f"over budget: {used} x ${price_usd:,.0f} = ${cost:,.0f} > ${w.budget_usd:,.0f}")
    if memory_ok and w.min_throughput is not None:
        if value is None:
            fits = False
            reasons.append("throughput unknown: cannot check --min-throughput")
        elif value < w.min_throughput:
            fits = False
            reasons.append(f"below --min-throughput: {value:,.0f} < {w.min_throughput:,.0f} {unit}")
    return CardFit(
        id=card_id,
        name=name,
        fits=fits,
        gpus_needed=needed,
        est_throughput=round(value, 2) if value is not None else None,
        throughput_unit=unit,
        bound=bound,
        price_perf=round(price_perf, 3) if price_perf is not None else None,
        reason="; ".join(reasons),
    )


def software_blocker(card: Card, cc: tuple[int, int] | None = None) -> str | None:
    """Why current PyTorch cannot use this card, or None."""
    cc = cc or card.cc
    if card.vendor == "nvidia" and cc is not None and cc < TORCH_MIN_CC:
        return (
            f"fits in memory, but current PyTorch builds do not support CC {card.compute_capability} "
            f"(the oldest they carry is {TORCH_MIN_CC[0]}.{TORCH_MIN_CC[1]}; the last with it: "
            f"{TORCH_LAST_FOR_OLDER})"
        )
    return None


def software_note(card: Card, cc: tuple[int, int] | None = None) -> str | None:
    """A caveat for cards the newest PyTorch release no longer builds for (they still run older ones)."""
    cc = cc or card.cc
    if card.vendor == "nvidia" and cc is not None and TORCH_MIN_CC <= cc < TORCH_NEWEST_MIN_CC:
        return (
            f"PyTorch {TORCH_NEWEST} no longer builds for CC {card.compute_capability}: the newest wheels "
            f"for this card are {TORCH_LAST_BEFORE_NEWEST}"
        )
    return None


def device_cards(cards: Sequence[Card]) -> list[tuple[Card, str]]:
    """The devices a process sees, once each, with the name to show: a board made of several devices
    (MI250X: two 64 GB GCDs) is judged as its device, named after the board."""
    boards = {c.part_of for c in cards if c.part_of}
    by_id = {c.id: c for c in cards}
    out: list[tuple[Card, str]] = []
    for card in cards:
        if card.id in boards:
            continue
        name = card.name
        if card.part_of and card.part_of in by_id:
            board = by_id[card.part_of]
            count = round(board.memory_gb / card.memory_gb) if card.memory_gb else 0
            name = f"{board.name} ({count} x {card.memory_gb:g} GB devices; per device)"
        out.append((card, name))
    return out


def evaluate_card(
    r: Resolved, c: Components, card: Card, name: str | None = None, hourly: Rate | None = None
) -> CardFit:
    """A catalog card judged on its catalog peaks."""
    cc = card.cc
    return fit_on(
        r,
        c,
        card_id=card.id,
        name=name or card.name,
        capacity=card_capacity(card),
        rates=card_rates(card, r.workload.precision, r.workload.task),
        price_usd=card.launch_price_usd,
        link=card_link(card),
        hourly=hourly,
        blocker=software_blocker(card, cc),
        note=software_note(card, cc),
    )


def _gpus_used(r: Resolved, fit: CardFit) -> int | None:
    return r.workload.gpus if r.workload.gpus is not None else fit.gpus_needed


def rank_cards(
    r: Resolved,
    c: Components,
    cards: Sequence[Card],
    sort: str = DEFAULT_SORT,
    rates: Mapping[str, Rate] | None = None,
) -> list[CardFit]:
    """Every device judged and ranked: fitting setups first, by ``sort`` — cost (cheapest hourly rent of
    the GPUs needed; setups without a known rate after those with one, fewest GPUs first), gpus (fewest,
    then fastest), throughput, price-perf or price (launch price x GPUs) — then setups that fit in memory
    but miss a requirement, then the rest, largest memory first. Ties break by throughput, then id."""
    if sort not in SORTS:
        raise ValueError(f"sort must be one of {SORTS}")
    rates = rates or {}
    fits = [evaluate_card(r, c, card, name, rates.get(card.id)) for card, name in device_cards(cards)]
    prices = {card.id: float(card.launch_price_usd) for card in cards if card.launch_price_usd}
    memory = {card.id: card.memory_gb for card in cards}
    inf = float("inf")

    def key(f: CardFit) -> tuple[int, float, float, float, str]:
        used = _gpus_used(r, f)
        if f.gpus_needed is not None and used is not None and f.gpus_needed <= used:
            group = 0 if f.fits else 1
            speed = -(f.est_throughput if f.est_throughput is not None else -inf)
            if sort == "gpus":
                return group, float(used), 0.0, speed, f.id
            if sort == "throughput":
                return group, speed, 0.0, 0.0, f.id
            if sort == "price-perf":
                return group, -(f.price_perf if f.price_perf is not None else -inf), 0.0, speed, f.id
            if sort == "price":
                price = prices.get(f.id)
                return group, price * used if price is not None else inf, 0.0, speed, f.id
            rate = rates.get(f.id)
            if rate is not None:
                return group, rate.usd_per_hour * used, 0.0, speed, f.id
            return group, inf, float(used), speed, f.id
        return 2, -memory.get(f.id, 0.0), 0.0, 0.0, f.id

    return sorted(fits, key=key)
