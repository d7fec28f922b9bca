"""Query the card catalog: forgiving lookup by name, filters, sorting, free-text search, comparison.

Pure functions over a sequence of ``Card``; the ``advisor catalog`` commands only render their results.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from advisor.errors import InputError
from advisor.units import parse_cc

if TYPE_CHECKING:
    from advisor.knowledge.cards import Card

PRECISIONS = ("fp32", "tf32", "fp16", "bf16", "fp8", "int8")
FEATURES = ("tf32", "fp16", "bf16", "fp8", "int8")

# --sort keys: short name → (card attribute path, label, unit)
SORT_KEYS: dict[str, tuple[str, str, str]] = {
    "memory": ("memory_gb", "Memory", "GB"),
    "bandwidth": ("memory_bandwidth_gbs", "Bandwidth", "GB/s"),
    **{p: (f"tflops.{p}", p.upper(), "TOPS" if p == "int8" else "TFLOP/s") for p in PRECISIONS},
    "tdp": ("tdp_watts", "TDP", "W"),
    "price": ("launch_price_usd", "Launch price", "USD"),
    "year": ("launch_year", "Launch year", ""),
    "sm": ("sm_count", "SMs / CUs", ""),
    "clock": ("boost_clock_mhz", "Boost clock", "MHz"),
    "nvlink": ("nvlink_gbs", "NVLink / fabric", "GB/s"),
    "cc": ("compute_capability", "Compute capability", ""),
}


# --- forgiving lookup -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Lookup:
    """Result of a forgiving lookup: ``card`` when one card is meant, else the ranked ``candidates``."""

    query: str
    card: Card | None = None
    candidates: tuple[Card, ...] = ()
    suggestions: tuple[str, ...] = field(default=())  # close ids/names when nothing matched


def find_cards(cards: Sequence[Card], text: str) -> list[Card]:
    """Cards a user means by ``text`` ("v100", "3090", "titan rtx", "h100 sxm"), best first.

    One element: unambiguous. Several: all plausible cards, ranked (the caller asks which one).
    Empty: nothing matched (see ``lookup`` for suggestions).
    """
    result = lookup(cards, text)
    return [result.card] if result.card is not None else list(result.candidates)


def lookup(cards: Sequence[Card], text: str) -> Lookup:
    """Resolve a user's card name: exact id/alias/name first, then token matching, ranked."""
    query = text.strip()
    if not query:
        return Lookup(query)
    compact = _compact(query)
    # Exact tiers: id or alias, then the display name. NVML names only count as words below: the bare
    # "NVIDIA H100" is a rare 94 GB SKU, and "h100" must not silently mean it.
    tiers: tuple[Callable[[Card], tuple[str, ...]], ...] = (lambda c: (c.id, *c.aliases), lambda c: (c.name,))
    for names_of in tiers:
        exact = [c for c in cards if compact in {_compact(n) for n in names_of(c)}]
        if len(exact) == 1:
            return Lookup(query, card=exact[0])
        if exact:
            return Lookup(query, candidates=tuple(exact))

    words = _words(query)
    scored: list[tuple[int, frozenset[str], int, Card]] = []
    for order, card in enumerate(cards):
        score = _score(words, card)
        if score is not None:
            scored.append((score[0], score[1], order, card))
    scored.sort(key=lambda item: (item[0], len(item[1]), item[2]))
    if not scored:
        return Lookup(query, suggestions=tuple(suggest(cards, query)))
    best = scored[0]
    rivals = [s for s in scored[1:] if s[0] == best[0]]
    # The best match wins only when every rival is the same name plus more words ("3090" is the RTX
    # 3090, not the 3090 Ti); rivals with other words ("rtx 6000": Ada or PRO Blackwell) are a real
    # ambiguity, listed for the user to choose.
    if all(best[1] < s[1] for s in rivals):
        return Lookup(query, card=best[3])
    return Lookup(query, candidates=tuple(item[3] for item in scored if item[0] == best[0]))


def suggest(cards: Sequence[Card], text: str, n: int = 3) -> list[str]:
    """Closest card ids for an unknown name (difflib over ids, names and aliases)."""
    names: dict[str, str] = {}
    for c in cards:
        for label in (c.id, c.name.casefold(), *(a.casefold() for a in c.aliases)):
            names.setdefault(label, c.id)
    close = difflib.get_close_matches(text.strip().casefold(), list(names), n=n * 3, cutoff=0.5)
    out: list[str] = []
    for label in close:
        if names[label] not in out:
            out.append(names[label])
    return out[:n]


_BRAND = frozenset({"nvidia", "geforce", "tesla", "amd", "instinct"})


def _words(text: str) -> list[str]:
    text = re.sub(r"(\d+)\s*gb\b", r"\1gb", text.casefold())
    return [w for w in re.findall(r"[a-z0-9]+", text) if w not in _BRAND]


def _compact(text: str) -> str:
    return "".join(_words(text))


def _score(words: list[str], card: Card) -> tuple[int, frozenset[str]] | None:
    """(query words matched only as a prefix, card name words left unmatched); None: no match.

    Every query word must equal or start a word of the card (id, name, aliases, NVML names); a word
    with a digit (a model number) must equal one: "l40" is not the L40S, a different card. Fewer
    prefix-only matches win; then the name with fewer unmatched words (see lookup).
    """
    vocab = set(card.id.split("-")) | set(_words(card.name))
    for extra in (*card.aliases, *card.nvml_names):
        vocab |= set(_words(extra))
    name_words = set(_words(card.name))
    prefix_only = 0
    covered: set[str] = set()
    for w in words:
        if w in vocab:
            covered.add(w)
            continue
        hits = [] if any(ch.isdigit() for ch in w) else [v for v in vocab if v.startswith(w)]
        if not hits:
            return None
        prefix_only += 1
        covered.update(hits)
    return prefix_only, frozenset(name_words - covered)


# --- filters, sort, search ------------------------------------------------------------------------


def filter_cards(
    cards: Sequence[Card],
    *,
    vendor: str | None = None,
    arch: str | None = None,
    min_memory_bytes: int | None = None,
    min_cc: str | None = None,
    feature: str | None = None,
    segment: str | None = None,
) -> list[Card]:
    """Cards passing every given filter (None = no filter).

    ``min_memory_bytes`` reads a card's marketed GB as GiB, the way GPU memory is sold (a "24 GB" card
    has 24 GiB), so both ``24GB`` and ``24GiB`` keep a 24 GB card. ``feature`` keeps cards with a dense
    tensor figure for that precision. ``arch`` matches part of the architecture name ("ada", "cdna").
    """
    want_cc = None
    if min_cc is not None:
        bare = min_cc.strip()
        want_cc = (int(bare), 0) if bare.isdigit() and len(bare) <= 2 else parse_cc(min_cc)  # "8" = 8.0
        if want_cc is None:
            raise InputError(f"not a compute capability: {min_cc!r} (try 8.0)")
    # A value no card has is a typo, not an empty answer: name the valid ones.
    _check_choice("vendor", vendor, {c.vendor for c in cards}, exact=True)
    _check_choice("segment", segment, {c.segment for c in cards}, exact=True)
    _check_choice("arch", arch, {c.architecture for c in cards}, exact=False)
    if feature is not None and feature.casefold() not in FEATURES:
        raise InputError(f"unknown feature {feature!r}: choose one of {', '.join(FEATURES)}")
    out = []
    for c in cards:
        if vendor is not None and c.vendor != vendor.casefold():
            continue
        if arch is not None and arch.casefold() not in c.architecture.casefold():
            continue
        if segment is not None and c.segment != segment.casefold():
            continue
        if min_memory_bytes is not None and c.memory_bytes < min_memory_bytes:
            continue
        if want_cc is not None and (c.cc is None or c.cc < want_cc):
            continue
        if feature is not None and getattr(c.tflops, feature.casefold()) is None:
            continue
        out.append(c)
    return out


def _check_choice(option: str, value: str | None, valid: set[str], *, exact: bool) -> None:
    if value is None:
        return
    v = value.casefold()
    if (v in {x.casefold() for x in valid}) if exact else any(v in x.casefold() for x in valid):
        return
    import difflib

    close = difflib.get_close_matches(v, sorted(x.casefold() for x in valid), n=2, cutoff=0.6)
    hint = f" Did you mean {' or '.join(close)}?" if close else ""
    raise InputError(f"unknown --{option} {value!r}: choose from {', '.join(sorted(valid))}.{hint}")


def sort_key_name(key: str) -> str:
    """Canonical --sort key: a short name (``memory``, ``bf16``) or a field path (``memory_gb``)."""
    k = key.strip().casefold()
    if k in SORT_KEYS:
        return k
    for short, (path, _, _) in SORT_KEYS.items():
        if k in (path, path.removeprefix("tflops.")):
            return short
    raise InputError(f"cannot sort by {key!r}: choose one of {', '.join(SORT_KEYS)}")


def sort_cards(cards: Sequence[Card], key: str, *, descending: bool = True) -> list[Card]:
    """Sort by a numeric field; cards where it is unknown always come last."""
    getter = value_getter(sort_key_name(key))
    known = [c for c in cards if getter(c) is not None]
    unknown = [c for c in cards if getter(c) is None]
    known.sort(key=lambda c: getter(c) or 0, reverse=descending)
    return known + unknown


def value_getter(short: str) -> Callable[[Card], float | None]:
    """Numeric value of a sort key for one card (compute capability as major + minor / 10)."""
    path = SORT_KEYS[short][0]

    def get(card: Card) -> float | None:
        if path == "compute_capability":
            cc = card.cc
            return None if cc is None else cc[0] + cc[1] / 10
        obj: object = card
        for part in path.split("."):
            obj = getattr(obj, part)
        return None if obj is None else float(obj)  # type: ignore[arg-type]

    return get


def search_cards(cards: Sequence[Card], text: str) -> list[Card]:
    """Cards whose text fields contain every word of ``text`` (case-insensitive).

    Searched: id, name, aliases, vendor, segment, architecture, chip, compute capability, gfx arch,
    NVML names and notes.
    """
    words = re.sub(r"\b(\d+(?:\.\d+)?)\s*gi?b\b", r"\1gb", text.casefold()).split()
    out = []
    for c in cards:
        fields = [c.id, c.name, c.vendor, c.segment, c.architecture, c.chip, c.compute_capability, c.gfx_arch]
        # What `show` prints is findable too: "48gb", a PCI id as 0x2204, 2204 or 10de:2204.
        extra = [f"{c.memory_gb:g}gb" if c.memory_gb is not None else ""]
        for pci in c.pci_device_ids:
            bare = pci.lower().removeprefix("0x")
            extra += [pci, bare, f"{'10de' if c.vendor == 'nvidia' else '1002'}:{bare}"]
        hay = " ".join(
            [*(f or "" for f in fields), c.notes or "", *c.aliases, *c.nvml_names, *extra]
        ).casefold()
        if all(w in hay for w in words):
            out.append(c)
    return out


# --- compare --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    unit: str
    values: tuple[float | None, ...]
    ratios: tuple[float | None, ...]  # value / the first card's value


COMPARE_ROWS: tuple[tuple[str, str, str], ...] = (
    ("memory_gb", "memory", "GB"),
    ("memory_bandwidth_gbs", "bandwidth", "GB/s"),
    *((f"tflops.{p}", p.upper(), "TOPS" if p == "int8" else "TFLOP/s") for p in PRECISIONS),
    ("tdp_watts", "TDP", "W"),
    ("launch_price_usd", "launch price", "USD"),
    ("fp16_tflops_per_watt", "FP16 per watt", "TFLOP/s/W"),
    ("fp16_tflops_per_kusd", "FP16 per 1k USD", "TFLOP/s/kUSD"),
)


def compare_cards(cards: Sequence[Card]) -> list[Metric]:
    """Side-by-side figures with ratios against the first card (None where either value is unknown)."""
    out = []
    for key, label, unit in COMPARE_ROWS:
        values = tuple(_metric(c, key) for c in cards)
        base = values[0] if values else None
        ratios = tuple(None if v is None or not base else v / base for v in values)
        out.append(Metric(key, label, unit, values, ratios))
    return out


def _metric(card: Card, key: str) -> float | None:
    fp16 = card.tflops.fp16
    if key == "fp16_tflops_per_watt":
        return None if fp16 is None or not card.tdp_watts else fp16 / card.tdp_watts
    if key == "fp16_tflops_per_kusd":
        return None if fp16 is None or not card.launch_price_usd else fp16 / (card.launch_price_usd / 1000)
    obj: object = card
    for part in key.split("."):
        obj = getattr(obj, part)
    return None if obj is None else float(obj)  # type: ignore[arg-type]
