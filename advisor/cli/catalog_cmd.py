"""`advisor catalog list | show | compare | search`: query the card catalog.

Thin verbs over ``advisor.knowledge.query``; every command takes ``--json`` (shapes documented in
catalog/README.md) and ``--catalog DIR``. Bad input raises ``InputError`` (one line, exit 2).
Heavy imports (rich, pydantic, yaml) happen inside the commands so ``advisor --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from advisor.cli.common import CATALOG_OPTION, JSON_OPTION, console, emit_json

if TYPE_CHECKING:
    from rich.table import Table
    from rich.text import Text

    from advisor.knowledge.cards import Card

app = typer.Typer(
    no_args_is_help=True,
    help="Query the card catalog: list with filters, show one card, compare cards, search.",
    rich_markup_mode=None,
)

UNKNOWN = "–"
LEGEND = "(u) unverified  (d) derived  – unknown / none"


@app.command("list")
def list_cards(
    vendor: str | None = typer.Option(None, "--vendor", help="nvidia or amd."),
    arch: str | None = typer.Option(
        None, "--arch", help="Architecture, or part of it: volta, ampere, ada, cdna."
    ),
    min_memory: str | None = typer.Option(None, "--min-memory", metavar="SIZE", help="e.g. 24GiB or 80GB."),
    min_cc: str | None = typer.Option(
        None, "--min-cc", metavar="CC", help="Lowest compute capability, e.g. 8.0."
    ),
    feature: str | None = typer.Option(
        None, "--feature", help="Keep cards with a dense figure for: tf32, fp16, bf16, fp8, int8."
    ),
    segment: str | None = typer.Option(
        None, "--segment", help="datacenter, workstation, consumer, embedded."
    ),
    sort: str | None = typer.Option(
        None,
        "--sort",
        metavar="FIELD",
        help="memory, bandwidth, fp32, tf32, fp16, bf16, fp8, int8, tdp, price, year, sm, clock, nvlink, cc. "
        "Unknown values sort last.",
    ),
    descending: bool = typer.Option(True, "--desc/--asc", help="Sort direction (default: largest first)."),
    json_out: bool = JSON_OPTION,
    csv_out: bool = typer.Option(False, "--csv", help="Print CSV (one row per card) on stdout."),
    catalog: Path | None = CATALOG_OPTION,
) -> None:
    """List cards, optionally filtered and sorted (catalog order otherwise)."""
    from advisor.knowledge.query import filter_cards, sort_cards, sort_key_name

    all_cards = _load(catalog)
    cards = filter_cards(
        all_cards,
        vendor=vendor,
        arch=arch,
        min_memory_bytes=_min_memory(min_memory),
        min_cc=min_cc,
        feature=feature,
        segment=segment,
    )
    sort_key = sort_key_name(sort) if sort else None
    if sort_key:
        cards = sort_cards(cards, sort_key, descending=descending)
    if json_out:
        emit_json({"count": len(cards), "cards": [_card_json(c) for c in cards]})
        return
    if csv_out:
        _print_csv(cards, sort_key)
        return
    _print_cards(cards, sort_key, title=f"{len(cards)} of {_plural(len(all_cards))}")


def _min_memory(text: str | None) -> int | None:
    """--min-memory in bytes; a bare number is refused (24 would mean 24 bytes), as --require does."""
    from advisor.errors import UsageError
    from advisor.units import parse_size

    if text is None:
        return None
    if text.strip().replace(".", "", 1).isdigit():
        raise UsageError(f"--min-memory needs a unit: {text.strip()}GB or {text.strip()}GiB")
    return parse_size(text)


@app.command("show")
def show(
    name: str = typer.Argument(..., help="Card id or a forgiving name: v100, 3090, 'titan rtx', 'h100 sxm'."),
    json_out: bool = JSON_OPTION,
    catalog: Path | None = CATALOG_OPTION,
) -> None:
    """Everything the catalog knows about one card, with its sources.

    A family name (v100, a100) shows its cards side by side; run it again with one id for the details.
    With --json an ambiguous name lists the matching ids and exits 2.
    """
    all_cards = _load(catalog)
    if not json_out:
        from advisor.knowledge.query import compare_cards, lookup

        found = lookup(all_cards, name)
        if found.card is None and 1 < len(found.candidates) <= 8:
            from advisor.cli.common import say

            family = list(found.candidates)
            say(
                f"{name!r} is {len(family)} cards, side by side below; "
                "`advisor catalog show ID` shows one in full",
            )
            _print_compare(family, compare_cards(family))
            return
    card = _resolve(all_cards, name)
    if json_out:
        emit_json(_card_json(card))
        return
    _print_card(card)


@app.command("compare")
def compare(
    names: list[str] = typer.Argument(..., help="Two or more cards; ratios are against the first."),
    json_out: bool = JSON_OPTION,
    catalog: Path | None = CATALOG_OPTION,
) -> None:
    """Compare cards side by side, with ratios against the first card."""
    from advisor.errors import UsageError
    from advisor.knowledge.query import compare_cards

    if len(names) < 2:
        raise UsageError("compare needs at least two cards, e.g. advisor catalog compare v100-sxm2-32gb 3090")
    all_cards = _load(catalog)
    cards = [_resolve(all_cards, n) for n in names]
    metrics = compare_cards(cards)
    if json_out:
        emit_json(
            {
                "baseline": cards[0].id,
                "cards": [{"id": c.id, "name": c.name} for c in cards],
                "metrics": [
                    {
                        "key": m.key,
                        "label": m.label,
                        "unit": m.unit,
                        "values": list(m.values),
                        "ratios": [None if r is None else round(r, 4) for r in m.ratios],
                    }
                    for m in metrics
                ],
            }
        )
        return
    _print_compare(cards, metrics)


def _print_compare(cards: list[Card], metrics: Any) -> None:
    """One table, or several (the first card repeated in each) when the cards do not fit side by side."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from advisor.render.safe import safe_text

    cells: list[list[str]] = []  # per metric, per card
    for m in metrics:
        row = []
        for i, (value, ratio) in enumerate(zip(m.values, m.ratios, strict=True)):
            text = _num(value, digits=3 if "per" in m.key else 1)
            if i > 0 and ratio is not None:
                text += f" ({ratio:.2f}x)"
            row.append(text)
        cells.append(row)
    labels = [f"{m.label} {m.unit}" for m in metrics]
    out = console()
    # Width of a card's column: its whole id or its widest figure with the ratio, whichever is wider.
    widths = [max(len(c.id), *(len(r[i]) for r in cells)) for i, c in enumerate(cards)]
    room = out.width - min(max(map(len, labels)), 16) - 5  # metric names wrap before ids do
    groups: list[list[int]] = [[0]]
    used = widths[0] + 3
    for i in range(1, len(cards)):
        if len(groups[-1]) > 1 and used + widths[i] + 3 > room:
            groups.append([0])
            used = widths[0] + 3
        groups[-1].append(i)
        used += widths[i] + 3
    for n, group in enumerate(groups):
        table = Table(
            title=Text(safe_text(f"Compared with {cards[0].name}", one_line=True)) if n == 0 else None,
            caption="(ratio) = value / first card's value" if n == len(groups) - 1 else None,
            box=box.SIMPLE_HEAD,
        )
        table.add_column("metric")
        for i in group:
            # An id is never cut or folded (it is what the next command needs); the figures wrap instead.
            table.add_column(Text(cards[i].id), justify="right", no_wrap=True, min_width=len(cards[i].id))
        for label, row in zip(labels, cells, strict=True):
            table.add_row(*_texts(label, *(row[i] for i in group)))
        out.print(table)


@app.command("search")
def search(
    text: str = typer.Argument(
        ..., help="Words to find in names, ids, architecture, chip, NVML names, notes."
    ),
    json_out: bool = JSON_OPTION,
    catalog: Path | None = CATALOG_OPTION,
) -> None:
    """Free-text search: cards containing every word (case-insensitive)."""
    from advisor.knowledge.query import search_cards

    all_cards = _load(catalog)
    cards = search_cards(all_cards, text)
    if json_out:
        emit_json({"query": text, "count": len(cards), "cards": [_card_json(c) for c in cards]})
        return
    if not cards:
        from advisor.cli.common import say

        say(f"no card mentions {text!r}")
        return
    _print_cards(cards, None, title=f"{_plural(len(cards))} matching {text!r}")


# --- helpers --------------------------------------------------------------------------------------


def _load(catalog: Path | None) -> tuple[Card, ...]:
    """Only the cards: the catalog commands need no compat tables or model presets (faster start-up)."""
    from advisor.knowledge.loader import load_catalog_cards

    return load_catalog_cards(catalog)


def _resolve(cards: Any, name: str) -> Card:
    """The one card ``name`` means, or an InputError listing the candidates / suggestions."""
    from advisor.errors import InputError
    from advisor.knowledge.query import lookup

    result = lookup(cards, name)
    if result.card is not None:
        return result.card
    if result.candidates:
        listed = "".join(f"\n  {c.id:<32} {c.name}" for c in result.candidates)
        raise InputError(f"{name!r} matches {len(result.candidates)} cards; use one of these ids:{listed}")
    hint = f" Did you mean: {', '.join(result.suggestions)}?" if result.suggestions else ""
    raise InputError(f"no card matches {name!r}.{hint} ('advisor catalog search WORDS' searches all fields)")


def _plural(n: int) -> str:
    return f"{n} card" if n == 1 else f"{n} cards"


def _card_json(card: Card) -> dict[str, Any]:
    data: dict[str, Any] = card.model_dump(mode="json")
    return data


def _num(value: float | None, digits: int = 1) -> str:
    if value is None:
        return UNKNOWN
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.{digits}f}".rstrip("0").rstrip(".")


def _field(card: Card, path: str, digits: int = 1, compact: bool = False) -> str:
    """One field as text, marked (u) unverified / (d) derived (``?`` / ``~`` in compact tables)."""
    obj: Any = card
    for part in path.split("."):
        obj = getattr(obj, part)
    if obj is None:
        return UNKNOWN
    text = _num(obj, digits) if isinstance(obj, int | float) else str(obj)
    if path in card.unverified:
        text += "?" if compact else " (u)"
    elif path in card.derived:
        text += "~" if compact else " (d)"
    return text


# Kept narrow enough for an 80-column pipe; `show` and --json carry every field.
_LIST_COLUMNS: tuple[tuple[str, str], ...] = (
    ("memory_gb", "GB"),
    ("memory_bandwidth_gbs", "GB/s"),
    ("tflops.fp16", "FP16"),
    ("tflops.bf16", "BF16"),
    ("tflops.fp8", "FP8"),
    ("tdp_watts", "W"),
)


def _list_columns(sort_key: str | None) -> list[tuple[str, str]]:
    from advisor.knowledge.query import SORT_KEYS

    columns = list(_LIST_COLUMNS)
    if sort_key is not None:
        path, label, _ = SORT_KEYS[sort_key]
        if path != "compute_capability" and all(path != p for p, _ in columns):
            columns.append((path, label))
    return columns


def _list_rows(cards: list[Card], columns: list[tuple[str, str]]) -> list[list[str]]:
    return [
        [
            c.id,
            c.compute_capability or c.gfx_arch or UNKNOWN,
            *(_field(c, p, compact=True) for p, _ in columns),
        ]
        for c in cards
    ]


def _print_csv(cards: list[Card], sort_key: str | None) -> None:
    """One row per card (RFC 4180): id, CC and the list's figures, unmarked numbers."""
    import csv
    import sys

    from advisor.render.safe import safe_text

    columns = _list_columns(sort_key)
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["id", "name", "cc", *(p.replace("tflops.", "tflops_") for p, _ in columns)])
    for c in cards:
        values: list[object] = [c.id, safe_text(c.name, one_line=True), c.compute_capability or c.gfx_arch]
        for path, _ in columns:
            obj: Any = c
            for part in path.split("."):
                obj = getattr(obj, part)
            values.append(obj)
        writer.writerow(["" if v is None else v for v in values])


# Figure columns given up first when the terminal (or an 80-column pipe) is too narrow for whole ids.
_LIST_DROP_ORDER = ("tdp_watts", "tflops.fp8", "tflops.bf16", "memory_bandwidth_gbs", "tflops.fp16")


def _print_cards(cards: list[Card], sort_key: str | None, title: str) -> None:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from advisor.render.safe import safe_text

    columns = _list_columns(sort_key)
    labels = ["CC", *(label for _, label in columns)]
    rows = _list_rows(cards, columns)
    id_width = max([2, *(len(r[0]) for r in rows)])
    widths = [max([len(label), *(len(r[i]) for r in rows)]) for i, label in enumerate(labels, start=1)]
    out = console()
    # Ids are never cut or folded (they are what the next command needs): less important figure
    # columns are left out instead, and the caption says which.
    keep = list(range(len(labels)))
    dropped: list[str] = []

    def need() -> int:
        return id_width + sum(widths[i] for i in keep) + 3 * len(keep) + 2

    for path in _LIST_DROP_ORDER:
        if need() <= out.width:
            break
        for i in keep:
            if i > 0 and columns[i - 1][0] == path and path != (sort_key and _list_columns(sort_key)[-1][0]):
                keep.remove(i)
                dropped.append(labels[i])
                break
    caption = "TFLOP/s dense; FP16/BF16/FP8 with FP32 accumulate.\n? unverified  ~ derived  – unknown"
    if dropped:
        caption += (
            f"\nleft out at this width: {', '.join(dropped)} (a wider terminal, --csv or --json show all)"
        )
    table = Table(
        title=Text(safe_text(title, one_line=True)),
        caption=caption,
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column("id", no_wrap=True, min_width=id_width)
    for i in keep:
        table.add_column(labels[i], justify="right", no_wrap=True, min_width=widths[i])
    for row in rows:
        table.add_row(*_texts(row[0], *(row[i + 1] for i in keep)))
    out.print(table, crop=False)


def _print_card(card: Card) -> None:
    rows: list[tuple[str, str]] = [
        ("id", card.id),
        ("vendor / segment", f"{card.vendor} / {card.segment}"),
        ("architecture", card.architecture + (f" ({card.chip})" if card.chip else "")),
        ("compute capability", _field(card, "compute_capability")),
    ]
    if card.gfx_arch:
        rows.append(("gfx arch", card.gfx_arch))
    rows += [
        ("form factor", _field(card, "form_factor")),
        ("memory", f"{_field(card, 'memory_gb')} GB {card.memory_type or ''}".rstrip()),
        ("memory bandwidth", f"{_field(card, 'memory_bandwidth_gbs')} GB/s"),
        ("host interface", _field(card, "host_interface")),
        ("NVLink / fabric", f"{_field(card, 'nvlink_gbs')} GB/s"),
        ("TDP", f"{_field(card, 'tdp_watts')} W"),
        ("SMs / CUs", _field(card, "sm_count")),
        ("boost clock", f"{_field(card, 'boost_clock_mhz')} MHz"),
        ("launch year", _field(card, "launch_year")),
        ("launch price", f"{_field(card, 'launch_price_usd')} USD"),
    ]
    for p in ("fp32", "tf32", "fp16", "fp16_fp16acc", "bf16", "fp8", "int8"):
        unit = "TOPS" if p == "int8" else "TFLOP/s"
        label = "FP16 (FP16 acc)" if p == "fp16_fp16acc" else p.upper()
        rows.append((f"{label} dense", f"{_field(card, f'tflops.{p}')} {unit}"))
    for p, a in card.achievable.items():
        detail = ", ".join(x for x in (a.shape, f"torch {a.torch}" if a.torch else None) if x)
        rows.append(
            (f"{p.upper()} achievable", f"{_num(a.tflops)} TFLOP/s" + (f" ({detail})" if detail else ""))
        )
    rows += [
        ("NVML names", ", ".join(card.nvml_names) or UNKNOWN),
        ("PCI device ids", ", ".join(card.pci_device_ids) or UNKNOWN),
    ]
    if card.aliases:
        rows.append(("also called", ", ".join(card.aliases)))
    if card.notes:
        rows.append(("notes", card.notes))
    table = _kv_table(card.name, rows)
    out = console()
    out.print(table)
    from rich.text import Text

    from advisor.render.safe import safe_text

    out.print("Sources:")
    for s in card.sources:
        out.print(Text(safe_text(f"  - {s}", one_line=True)), soft_wrap=True)
    for p, a in card.achievable.items():
        out.print(Text(safe_text(f"  - achievable {p}: {a.source}", one_line=True)), soft_wrap=True)
    out.print(LEGEND)


def _kv_table(title: str, rows: list[tuple[str, str]]) -> Table:
    from rich.table import Table
    from rich.text import Text

    from advisor.render.safe import safe_text

    table = Table(title=Text(safe_text(title, one_line=True)), show_header=False)
    table.add_column("field", style="bold", no_wrap=True)
    table.add_column("value")
    for key, value in rows:
        table.add_row(*_texts(key, value))
    return table


def _texts(*values: str) -> list[Text]:
    """Cells as plain Text: catalog strings ("[WIKI] ...") are never read as rich markup, and escape
    sequences in a user catalog never reach the terminal."""
    from rich.text import Text

    from advisor.render.safe import safe_text

    return [Text(safe_text(v, one_line=True)) for v in values]
