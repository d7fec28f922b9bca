"""`advisor recommend`: which catalog cards fit a workload, how fast, at what price.

Also the workload options shared with `advisor check --workload` (``WORKLOAD_OPTIONS_HELP``,
``workload_from_options``, ``parse_workload_spec``) and ``render_estimate`` for the human view.
Module-level imports stay cheap: this module is imported whenever the CLI starts.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

import typer

from advisor.cli.common import CATALOG_OPTION, JSON_OPTION

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from advisor.knowledge.loader import CardsAndModels
    from advisor.recommend.workload import Workload
    from advisor.report import CardFit, WorkloadEstimate

WORKLOAD_SPEC_HELP = (
    "A workload to check on this machine, as key=value pairs: "
    "model=llama-3-8b,task=lora,precision=bf16,seq_len=4096 (also params=7B, batch, optimizer, "
    "grad_checkpointing=on|off, lora_rank, gpus)."
)


def workload_from_options(**options: object) -> Workload:
    """Build a Workload from option values; InputError on bad input (see advisor.recommend.workload)."""
    from advisor.recommend.workload import workload_from_options as build

    return build(**options)  # type: ignore[arg-type]


def parse_workload_spec(spec: str) -> Workload:
    """``"model=llama-3-8b,task=lora,precision=bf16,seq_len=4096"`` → Workload (InputError when bad)."""
    from advisor.recommend.workload import parse_workload_spec as parse

    return parse(spec)


def recommend(
    model: str | None = typer.Option(
        None,
        "--model",
        "-m",
        help="A model preset: llama-3-8b, mistral-7b, gpt2, sdxl ... (see --list-models).",
    ),
    params: str | None = typer.Option(
        None, "--params", help="A parameter count instead of a preset: 7B, 125M."
    ),
    task: str = typer.Option("inference", "--task", help="inference | lora | qlora | finetune | pretrain."),
    precision: str = typer.Option("bf16", "--precision", help="fp32 | bf16 | fp16 | fp8 | int8 | int4."),
    seq_len: int | None = typer.Option(
        None, "--seq-len", help="Tokens per sequence (context for inference)."
    ),
    batch: int = typer.Option(1, "--batch", help="Sequences or images per step, all GPUs together."),
    optimizer: str | None = typer.Option(
        None, "--optimizer", help="Training: adamw (default) | adamw-8bit | sgd | adafactor."
    ),
    grad_checkpointing: bool | None = typer.Option(
        None,
        "--grad-checkpointing/--no-grad-checkpointing",
        help="Training: recompute activations (default off; on for qlora).",
    ),
    lora_rank: int | None = typer.Option(None, "--lora-rank", help="LoRA/QLoRA rank (default 16)."),
    gpus: int | None = typer.Option(
        None, "--gpus", help="Use exactly N GPUs per card (default: the fewest that fit)."
    ),
    max_gpus: int = typer.Option(8, "--max-gpus", help="The most GPUs considered per card (one node: 8)."),
    budget: float | None = typer.Option(None, "--budget", help="USD cap on launch price x GPUs needed."),
    min_throughput: float | None = typer.Option(
        None, "--min-throughput", help="Minimum estimated tokens/s (or images/s)."
    ),
    sort: str = typer.Option(
        "gpus", "--sort", help="Rank fitting cards by: gpus | throughput | price-perf | cost."
    ),
    top: int | None = typer.Option(None, "--top", help="Show the first N cards (default 15; JSON: all)."),
    list_models: bool = typer.Option(False, "--list-models", help="List the model presets and exit."),
    catalog: Path | None = CATALOG_OPTION,
    json: bool = JSON_OPTION,
) -> None:
    """Which catalog cards fit a workload (model, task, precision, sequence, batch): memory, speed, price."""
    from advisor.cli.common import console, emit_json
    from advisor.errors import InputError
    from advisor.knowledge.loader import load_cards_and_models
    from advisor.recommend import estimate
    from advisor.recommend.rank import SORTS

    knowledge = load_cards_and_models(catalog)  # no compat tables: quicker to load, nothing here uses them
    if list_models:
        _list_models(knowledge, json)
        return
    if sort not in SORTS:
        raise InputError(f"--sort must be one of {', '.join(SORTS)}; got {sort!r}")
    if top is not None and top < 1:
        raise InputError(f"--top must be at least 1, got {top}")
    workload = workload_from_options(
        model=model,
        params=params,
        task=task,
        precision=precision,
        seq_len=seq_len,
        batch=batch,
        optimizer=optimizer,
        grad_checkpointing=grad_checkpointing,
        lora_rank=lora_rank,
        gpus=gpus,
        max_gpus=max_gpus,
        budget=budget,
        min_throughput=min_throughput,
    )
    result = estimate(workload, knowledge, sort=sort)
    if json:
        if top is not None:
            result = result.model_copy(update={"cards": result.cards[:top]})
        emit_json(result)
        return
    render_estimate(result, console(markup=True), top=top or 15)


def _list_models(knowledge: CardsAndModels, as_json: bool) -> None:
    from advisor.cli.common import console, emit_json
    from advisor.recommend.workload import format_params

    if as_json:
        emit_json([m.model_dump(mode="json") for m in knowledge.models])
        return
    from rich.table import Table

    table = Table(title="Model presets", title_justify="left")
    for col in ("id", "name", "kind", "params", "layers", "hidden", "heads/kv", "context"):
        table.add_column(col)
    for m in sorted(knowledge.models, key=lambda m: m.id):
        heads = f"{m.heads}/{m.key_value_heads}" if m.heads else ""
        params = format_params(m.params)
        if m.active_params:
            params += f" ({format_params(m.active_params)} active)"
        table.add_row(
            m.id,
            m.name,
            m.kind,
            params,
            str(m.layers or ""),
            str(m.hidden_size or ""),
            heads,
            str(m.max_seq_len or ""),
        )
    console().print(table)


def render_estimate(result: WorkloadEstimate, out: Console, *, top: int = 15) -> None:
    """The human view of an estimate: workload, memory breakdown, ranked cards, advice, assumptions."""
    from rich.markup import escape
    from rich.table import Table
    from rich.text import Text

    from advisor.recommend.workload import Workload
    from advisor.units import format_bytes

    workload = Workload.model_validate(result.workload)
    out.print(f"[bold]Workload[/bold]: {workload.describe()}")
    mem = Table(title="Memory (whole job on one GPU)", title_justify="left")
    mem.add_column("part")
    mem.add_column("bytes", justify="right")
    m = result.memory
    for label, value in (
        ("weights", m.weights),
        ("gradients", m.gradients),
        ("optimizer states", m.optimizer),
        ("activations", m.activations),
        ("KV cache", m.kv_cache),
        ("overhead", m.overhead),
        ("total", m.total),
    ):
        mem.add_row(label, format_bytes(value))
    if m.per_gpu is not None:
        mem.add_row(f"per GPU (x{workload.gpus})", format_bytes(m.per_gpu))
    out.print(mem)

    fitting = sum(1 for c in result.cards if c.fits)
    # The reasons are long: beside the table on a wide terminal, else as notes under it for the first few.
    wide = out.width >= 150
    table = Table(title=f"Cards ({fitting} of {len(result.cards)} fit)", title_justify="left")
    shown = result.cards[:top]
    rows = [_card_row(i, card) for i, card in enumerate(shown, 1)]
    widths = [
        max([len(head), *(len(row[i].plain) for row in rows)]) for i, (head, _) in enumerate(_CARD_COLUMNS)
    ]
    # Only names (and reasons) need wrapping. While they keep at least the width of the widest other
    # column, rich would shrink nothing else, so those columns get a fixed width and rich measures two
    # columns instead of eight (a third of the rendering time); on a narrow terminal it shares the room.
    others = [w for i, w in enumerate(widths) if i != _NAME]
    wrapping = 2 if wide else 1
    room = out.width - sum(others) - 3 * (len(others) + wrapping) - 1  # borders and padding take 3 a column
    fixed = room >= wrapping * max(others)
    for i, ((head, justify), width) in enumerate(zip(_CARD_COLUMNS, widths, strict=True)):
        if fixed and i != _NAME:
            table.add_column(head, justify=justify, no_wrap=True, width=width)
        else:
            table.add_column(head, justify=justify)
    if wide:
        table.add_column("why")
    for row, card in zip(rows, shown, strict=True):
        table.add_row(*row, *([Text(card.reason)] if wide else []))
    out.print(table)
    if not wide:
        for i, card in enumerate(shown[:5], 1):
            out.print(f"  #{i} {escape(card.name)}: {escape(card.reason)}")
    if len(result.cards) > top:
        out.print(f"({len(result.cards) - top} more: --top N shows more, --json shows all)")
    if result.advice:
        out.print("[bold]No card fits as asked. What would make it fit:[/bold]")
        for line in result.advice:
            out.print(f"  - {escape(line)}")
    out.print("[bold]Assumptions[/bold]")
    for line in result.assumptions:
        out.print(f"  - {escape(line)}")


_CARD_COLUMNS: tuple[tuple[str, Literal["left", "right"]], ...] = (
    ("#", "right"),
    ("card", "left"),
    ("fits", "left"),
    ("GPUs", "right"),
    ("est. throughput", "right"),
    ("bound", "left"),
    ("per $1k", "right"),
)
_NAME = 1  # the card-name column


def _card_row(rank: int, card: CardFit) -> list[Text]:
    """One row of the cards table, as plain Text (a card name is never read as markup)."""
    from rich.text import Text

    speed = "-"
    if card.est_throughput is not None:
        digits = 0 if card.est_throughput >= 100 else 1
        speed = f"{card.est_throughput:,.{digits}f} {card.throughput_unit}"
    return [
        Text(str(rank)),
        Text(card.name),
        Text.styled("yes", "green") if card.fits else Text.styled("no", "red"),
        Text(str(card.gpus_needed) if card.gpus_needed is not None else "-"),
        Text(speed),
        Text(card.bound or "-"),
        Text(f"{card.price_perf:,.1f}" if card.price_perf is not None else "-"),
    ]
