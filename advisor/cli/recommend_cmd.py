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
from advisor.render.safe import safe_text

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from advisor.knowledge.loader import CardsAndModels
    from advisor.recommend.resolve import Resolved
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
        help="A preset (llama-3-8b, mistral-7b, gpt2 ...; see --list-models), a config.json or model "
        "folder, or a Hugging Face Hub id (org/name; needs the hf extra and network).",
    ),
    params: str | None = typer.Option(
        None, "--params", help="A parameter count instead of a model, with its unit: 7B, 125M."
    ),
    task: str = typer.Option(
        "inference", "--task", help="inference | lora | qlora | finetune (fine-tune, train) | pretrain."
    ),
    precision: str = typer.Option(
        "bf16",
        "--precision",
        help="Weights: fp32 | bf16 | fp16 | fp8 | int8 | nf4 | gptq | awq | GGUF q8_0, q6_k, q5_k_m, "
        "q4_k_m, q4_0, q3_k_m, q2_k ... (float16, bfloat16, 4bit accepted).",
    ),
    kv_dtype: str | None = typer.Option(
        None, "--kv-dtype", help="KV cache: fp16 | bf16 | fp8 | q8_0 | q4_0 (default: the weights' 16-bit)."
    ),
    engine: str | None = typer.Option(
        None,
        "--engine",
        help="Runtime: llama.cpp | transformers | vllm (inference); pytorch | zero1 | zero2 | zero3 | "
        "fsdp (training). Default: the usual one for the task and format.",
    ),
    seq_len: int | None = typer.Option(
        None, "--seq-len", help="Tokens per sequence (context for inference)."
    ),
    batch: int = typer.Option(1, "--batch", help="Sequences or images per step, all GPUs together."),
    card: str | None = typer.Option(
        None, "--card", help="Judge one card (with --gpus N for N of them): fit, speed, --max-context."
    ),
    max_context: bool = typer.Option(
        False, "--max-context", help="With --card: the longest context and the largest batch that fit."
    ),
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
        "cost",
        "--sort",
        help="Rank fitting setups by: cost (cheapest hourly rent, default) | gpus | throughput | "
        "price-perf | price (launch price).",
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
    from advisor.recommend.prices import load_rates
    from advisor.recommend.rank import SORTS

    knowledge = load_cards_and_models(catalog)  # no compat tables: quicker to load, nothing here uses them
    if list_models:
        _list_models(knowledge, json)
        return
    if sort not in SORTS:
        raise InputError(f"--sort must be one of {', '.join(SORTS)}; got {sort[:40]!r}")
    if top is not None and not 1 <= top <= 100_000:
        raise InputError(f"--top must be between 1 and 100000, got {str(top)[:20]}")
    if max_context and card is None:
        raise InputError("--max-context needs --card (the card to fit; --gpus N for several)")
    preset = None
    if model is not None and not _is_preset(model, knowledge):
        from advisor.recommend.hf_config import load_model, looks_like_source

        if looks_like_source(model):
            preset = load_model(model)
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
        engine=engine,
        kv_dtype=kv_dtype,
    )
    if preset is not None:
        workload = workload.model_copy(update={"model": preset.id})
    if card is not None:
        one_card(workload, knowledge, card, preset, max_context=max_context, as_json=json)
        return
    result = estimate(workload, knowledge, sort=sort, rates=load_rates(catalog), model=preset)
    if json:
        if top is not None:
            result = result.model_copy(update={"cards": result.cards[:top]})
        emit_json(result)
        return
    render_estimate(result, console(markup=True), top=top or 15)


def _is_preset(name: str, knowledge: CardsAndModels) -> bool:
    from advisor.knowledge.models import normalise_model_name

    key = normalise_model_name(name)
    return any(normalise_model_name(n) == key for p in knowledge.models for n in p.names())


def _list_models(knowledge: CardsAndModels, as_json: bool) -> None:
    from advisor.cli.common import console, emit_json
    from advisor.recommend.workload import format_params

    if as_json:
        emit_json([m.model_dump(mode="json") for m in knowledge.models])
        return
    from rich.table import Table
    from rich.text import Text

    out = console()
    columns = ["id", "name", "kind", "params", "layers", "hidden", "heads/kv", "context"]
    rows = []
    for m in sorted(knowledge.models, key=lambda m: m.id):
        params = format_params(m.params)
        if m.active_params:
            params += f" ({format_params(m.active_params)} active)"
        rows.append(
            {
                "id": m.id,
                "name": m.name,
                "kind": m.kind,
                "params": params,
                "layers": str(m.layers or ""),
                "hidden": str(m.hidden_size or ""),
                "heads/kv": f"{m.heads}/{m.key_value_heads}" if m.heads else "",
                "context": str(m.max_seq_len or ""),
            }
        )
    # Ids are what -m needs: never cut them. Leave out the less important columns until the rest fit.
    width = {c: max([len(c), *(len(r[c]) for r in rows)]) for c in columns}
    dropped: list[str] = []
    for victim in ("name", "hidden", "layers", "context", "kind", "heads/kv"):
        if sum(width[c] + 3 for c in columns) + 1 <= out.width:
            break
        columns.remove(victim)
        dropped.append(victim)
    table = Table(title="Model presets", title_justify="left")
    for col in columns:
        table.add_column(col, no_wrap=True, min_width=width[col] if col == "id" else None)
    for row in rows:
        table.add_row(*(Text(safe_text(row[c], one_line=True)) for c in columns))
    out.print(table)
    if dropped:
        out.print(
            Text(f"(left out for the terminal's width: {', '.join(dropped)}; --json shows every field)")
        )


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

    one = sum(1 for c in result.cards if c.fits and (workload.gpus or c.gpus_needed) == 1)
    several = sum(1 for c in result.cards if c.fits) - one
    title = f"Cards: {one} of {len(result.cards)} fit on one GPU"
    if several:
        title += f", {several} more on several"
    # The reasons are long: beside the table on a wide terminal, else as notes under it for the first few.
    wide = out.width >= 150
    table = Table(title=title, title_justify="left")
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
        table.add_row(*row, *([Text(safe_text(card.reason))] if wide else []))
    out.print(table)
    if not wide:
        for i, card in enumerate(shown[:5], 1):
            out.print(f"  #{i} {escape(safe_text(card.name))}: {escape(safe_text(card.reason))}")
    if len(result.cards) > top:
        out.print(f"({len(result.cards) - top} more: --top N shows more, --json shows all)")
    if result.picks:
        out.print("[bold]Picks[/bold]")
        for line in result.picks:
            out.print(f"  - {escape(safe_text(line))}")
    if result.advice:
        if any(c.fits for c in result.cards):
            out.print("[bold]Cheaper recipes[/bold]")
        else:
            out.print("[bold]No card fits as asked. What would make it fit:[/bold]")
        for line in result.advice:
            out.print(f"  - {escape(safe_text(line))}")
    out.print("[bold]Assumptions[/bold]")
    for line in result.assumptions:
        out.print(f"  - {escape(safe_text(line))}")


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
        Text(safe_text(card.name, one_line=True)),
        Text.styled("yes", "green") if card.fits else Text.styled("no", "red"),
        Text(str(card.gpus_needed) if card.gpus_needed is not None else "-"),
        Text(speed),
        Text(card.bound or "-"),
        Text(f"{card.price_perf:,.1f}" if card.price_perf is not None else "-"),
    ]


def _one_card_lines(
    workload: Workload,
    knowledge: CardsAndModels,
    card_name: str,
    preset: object,
    *,
    max_context: bool,
) -> tuple[dict[str, object], list[str]]:
    """The fit of one card (x --gpus) and, with ``max_context``, the longest context and batch that fit."""
    from advisor.errors import InputError
    from advisor.knowledge.query import lookup
    from advisor.recommend.capacity import limits
    from advisor.recommend.memory import components, per_gpu_bytes
    from advisor.recommend.rank import card_capacity, device_cards, engine_capacity, evaluate_card
    from advisor.recommend.resolve import resolve
    from advisor.units import format_bytes

    found = lookup(knowledge.cards, card_name)
    if found.card is None:
        options = [c.id for c in found.candidates] or list(found.suggestions)
        hint = f" (did you mean {', '.join(options[:5])}?)" if options else ""
        raise InputError(f"--card {card_name[:60]!r}: not one card in the catalog{hint}")
    card = found.card
    devices = dict((c.part_of, c) for c in knowledge.cards if c.part_of)
    card = devices.get(card.id, card)  # an MI250X is judged as the GCD a process sees
    name = dict((c.id, n) for c, n in device_cards(knowledge.cards)).get(card.id, card.name)
    models = [preset] if preset is not None else knowledge.models
    r = resolve(workload, models)  # type: ignore[arg-type]
    gpus = workload.gpus or 1
    pinned = r.workload.model_copy(update={"gpus": gpus, "max_gpus": max(gpus, workload.max_gpus)})
    from advisor.recommend.resolve import Resolved

    r = Resolved(workload=pinned, model=r.model, assumptions=r.assumptions, engine=r.engine)
    c = components(r)
    fit = evaluate_card(r, c, card, name)
    capacity = engine_capacity(r, card_capacity(card))
    setup = f"{gpus} x {name}" if gpus > 1 else name
    speed = f", ~{fit.est_throughput:,.1f} {fit.throughput_unit}" if fit.est_throughput is not None else ""
    lines = [f"{setup}: " + ("fits" if fit.fits else "does not fit") + f"{speed} — {fit.reason}"]
    data: dict[str, object] = {"card": card.id, "gpus": gpus, "fit": fit.model_dump(mode="json")}
    if max_context:
        lim = limits(r, capacity, gpus)
        data["max_seq_len"] = lim.max_seq_len
        data["max_batch"] = lim.max_batch
        if lim.max_seq_len is None and r.workload.seq_len is not None:
            lines.append("longest context: not even one token fits next to the weights")
        elif lim.max_seq_len is not None:
            need = per_gpu_bytes(components(_with(r, seq_len=lim.max_seq_len)), lim.batch, gpus)
            capped = " (the model's trained context; memory allows more)" if lim.capped_at_model else ""
            lines.append(
                f"longest context at batch {lim.batch}: {lim.max_seq_len:,} tokens{capped} "
                f"({format_bytes(need)} of {format_bytes(capacity)} per GPU)"
            )
        if lim.max_batch is None:
            lines.append(f"largest batch at {lim.seq_len:,} tokens: none (one sequence does not fit)")
        else:
            lines.append(f"largest batch at {lim.seq_len:,} tokens: {lim.max_batch:,}")
    if not fit.fits:
        from advisor.recommend.capacity import HOST_BANDWIDTH_GBS, partial_offload

        off = partial_offload(r, capacity, gpus, card.memory_bandwidth_gbs)
        if off is not None and off.gpu_layers:
            speed = f", ~{off.tokens_per_s:,.1f} tokens/s" if off.tokens_per_s else ""
            lines.append(
                f"with llama.cpp -ngl {off.gpu_layers} ({off.gpu_layers} of {off.layers} layers on the GPU, "
                f"{format_bytes(off.host_bytes)} in CPU RAM){speed} — host RAM read at "
                f"{HOST_BANDWIDTH_GBS:g} GB/s (dual-channel DDR5-5600) x 60%"
            )
            data["offload"] = {
                "gpu_layers": off.gpu_layers,
                "layers": off.layers,
                "host_bytes": round(off.host_bytes),
                "tokens_per_s": off.tokens_per_s,
            }
    lines += [f"assumption: {a}" for a in r.assumptions]
    return data, lines


def _with(r: Resolved, **update: object) -> Resolved:
    from advisor.recommend.resolve import Resolved

    return Resolved(
        workload=r.workload.model_copy(update=update), model=r.model, assumptions=(), engine=r.engine
    )


def one_card(
    workload: Workload,
    knowledge: CardsAndModels,
    card_name: str,
    preset: object,
    *,
    max_context: bool,
    as_json: bool,
) -> None:
    from rich.text import Text

    from advisor.cli.common import console, emit_json

    data, lines = _one_card_lines(workload, knowledge, card_name, preset, max_context=max_context)
    if as_json:
        data["workload"] = workload.model_dump(mode="json")
        data["lines"] = lines
        emit_json(data)
        return
    out = console()
    out.print(Text(safe_text(f"Workload: {workload.describe()}")))
    for line in lines:
        out.print(Text(safe_text(line)))
