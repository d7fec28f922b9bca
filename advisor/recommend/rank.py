"""Judge every catalog card against a workload: fits or not, GPUs needed, throughput, price; then rank."""

from __future__ import annotations

from collections.abc import Sequence

from advisor.knowledge.cards import Card
from advisor.recommend.memory import Components, per_gpu_bytes
from advisor.recommend.resolve import Resolved
from advisor.recommend.throughput import Rates, card_rates, estimate_throughput
from advisor.report import CardFit
from advisor.units import format_bytes

SORTS = ("gpus", "throughput", "price-perf", "cost")


def card_capacity(card: Card) -> int:
    """Usable bytes of one card (the catalog's GB read as GiB, see Card.memory_bytes)."""
    return card.memory_bytes


def fewest_gpus(c: Components, batch: int, capacity: int, max_gpus: int) -> int | None:
    """The fewest GPUs of ``capacity`` bytes each that hold the workload, or None beyond ``max_gpus``."""
    for n in range(1, max_gpus + 1):
        if per_gpu_bytes(c, batch, n) <= capacity:
            return n
    return None


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
) -> CardFit:
    """One CardFit: memory fit at the asked (or fewest) GPU count, throughput, budget and price checks."""
    w = r.workload
    needed = fewest_gpus(c, w.batch, capacity, w.max_gpus)
    used = w.gpus if w.gpus is not None else needed
    cap = format_bytes(capacity) + capacity_label
    reasons: list[str] = []
    memory_ok = used is not None and per_gpu_bytes(c, w.batch, used) <= capacity
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
        tp = estimate_throughput(r, c, rates, used)
        value, unit, bound = tp.value, tp.unit, tp.bound
        reasons.append(tp.detail)
        reasons += rates.notes
    cost = price_usd * used if price_usd is not None and used is not None else None
    price_perf = value / (cost / 1000) if value is not None and cost else None

    fits = memory_ok
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


def evaluate_card(r: Resolved, c: Components, card: Card) -> CardFit:
    """A catalog card judged on its catalog peaks."""
    return fit_on(
        r,
        c,
        card_id=card.id,
        name=card.name,
        capacity=card_capacity(card),
        rates=card_rates(card, r.workload.precision, r.workload.task),
        price_usd=card.launch_price_usd,
    )


def _gpus_used(r: Resolved, fit: CardFit) -> int | None:
    return r.workload.gpus if r.workload.gpus is not None else fit.gpus_needed


def rank_cards(r: Resolved, c: Components, cards: Sequence[Card], sort: str = "gpus") -> list[CardFit]:
    """Every card judged and ranked: fitting cards first (by ``sort``: fewest GPUs then throughput,
    throughput, price/performance or cost; throughput breaks ties), then cards that fit in memory but
    miss the budget or throughput floor, then the rest, largest memory first. Ties break by id."""
    if sort not in SORTS:
        raise ValueError(f"sort must be one of {SORTS}")
    fits = [evaluate_card(r, c, card) for card in cards]
    prices = {card.id: float(card.launch_price_usd) for card in cards if card.launch_price_usd}
    memory = {card.id: card.memory_gb for card in cards}
    inf = float("inf")

    def key(f: CardFit) -> tuple[int, float, float, str]:
        used = _gpus_used(r, f)
        if f.gpus_needed is not None and used is not None and f.gpus_needed <= used:
            group = 0 if f.fits else 1
            speed = -(f.est_throughput if f.est_throughput is not None else -inf)
            if sort == "gpus":
                return group, float(used), speed, f.id
            if sort == "throughput":
                metric = speed
            elif sort == "price-perf":
                metric = -(f.price_perf if f.price_perf is not None else -inf)
            else:
                price = prices.get(f.id)
                metric = price * used if price is not None else inf
            return group, metric, speed, f.id
        return 2, -memory.get(f.id, 0.0), 0.0, f.id

    return sorted(fits, key=key)
