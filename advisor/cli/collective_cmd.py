"""`advisor bench --collective`: wiring only (launch or join the ranks, diagnose, render)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import typer

from advisor.cli.common import console, emit_json, get_knowledge
from advisor.errors import UsageError

if TYPE_CHECKING:
    from advisor.bench.collective_records import CollectiveRun
    from advisor.knowledge.base import Knowledge

DEFAULT_TIMEOUT_S = {"quick": 300.0, "full": 1200.0}


def run_collective_command(
    mode: str, timeout: float | None, nproc: int | None, as_json: bool, catalog: Path | None
) -> None:
    """Measure (as one of torchrun's ranks, or by starting local ranks), then print on rank 0 only."""
    from advisor.bench.collective import env_rank, measure_collective
    from advisor.bench.collective_launch import local_gpu_count, run_local

    if mode not in ("quick", "full"):
        raise UsageError(f"--bench must be quick or full, not {mode!r}")
    quick_or_full: Literal["quick", "full"] = "full" if mode == "full" else "quick"
    if timeout is not None and not (math.isfinite(timeout) and timeout > 0):
        raise UsageError("--timeout must be a positive number of seconds")
    knowledge = get_knowledge(catalog)
    run: CollectiveRun | None
    if env_rank() is not None:
        from advisor.bench.collective import leave_process_group

        try:
            run = measure_collective(quick_or_full, launcher="torchrun")
        finally:
            leave_process_group()  # a process group alive at exit aborts the interpreter (C++ terminate)
        if run is None:  # not rank 0: rank 0 speaks for everyone
            return
    else:
        gpus = local_gpu_count()
        ranks = nproc or (gpus if gpus >= 2 else 2)
        with console(stderr=True).status(f"collective benchmark: {ranks} local ranks…"):
            run = run_local(ranks, quick_or_full, timeout or DEFAULT_TIMEOUT_S[quick_or_full])
    run = diagnose_collective(run, knowledge)
    if as_json:
        emit_json(run)
    else:
        from advisor.render.collective import render_collective

        render_collective(run, console())
    if any(f.severity == "error" for f in run.findings):
        raise typer.Exit(1)


def diagnose_collective(run: CollectiveRun, knowledge: Knowledge) -> CollectiveRun:
    """The run with its interconnect findings (cards matched by the names torch gave the GPUs)."""
    from advisor.knowledge.match import match_name
    from advisor.rules.interconnect import check_interconnect

    cards = [match_name(r.device_name, knowledge.cards) for r in run.ranks if r.device != "cpu"]
    return run.model_copy(update={"findings": check_interconnect(run, cards)})
