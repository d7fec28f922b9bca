"""`advisor cluster check`: wiring only (connect, stream outcomes into a progress bar, render the fleet)."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import typer

from advisor.cli.common import CATALOG_OPTION, JSON_OPTION, console, emit_json, get_knowledge
from advisor.errors import UsageError

if TYPE_CHECKING:
    from advisor.cluster.check import ClusterResult

app = typer.Typer(no_args_is_help=True, help="Check every node of a cluster (Ray).")


@app.command("check")
def check(
    address: str | None = typer.Option(
        None, "--address", help="The Ray cluster: HOST:PORT, ray://HOST:10001, or auto (default)."
    ),
    bench: str = typer.Option("quick", "--bench", help="Micro-benchmark per node: quick, full or none."),
    no_bench: bool = typer.Option(False, "--no-bench", help="Skip the micro-benchmark (--bench none)."),
    require: list[str] = typer.Option(
        [], "--require", metavar="EXPR", help="Gate applied on every node, as in `advisor check`."
    ),
    timeout: float | None = typer.Option(
        None, "--timeout", help="Seconds a node may take before it is reported as hung."
    ),
    collective: bool = typer.Option(
        False, "--collective", help="Also measure all-reduce/all-gather/send-recv across all nodes."
    ),
    export: Path | None = typer.Option(
        None, "--export", metavar="DIR", help="Write one report per node and the fleet summary here."
    ),
    include_ids: bool = typer.Option(
        False, "--include-ids", help="Keep host names and GPU ids in --json and --export output."
    ),
    show_all: bool = typer.Option(False, "--all", help="List every node, not only flagged ones."),
    json_out: bool = JSON_OPTION,
    catalog: Path | None = CATALOG_OPTION,
) -> None:
    """Run `advisor check` on every alive node of a Ray cluster and show the fleet, outliers flagged."""
    from advisor.cluster.check import run_cluster_check
    from advisor.rules.require import parse_requirement

    mode = "none" if no_bench else bench
    if mode not in ("none", "quick", "full"):
        raise UsageError(f"--bench must be quick, full or none, not {bench!r}")
    chosen: Literal["none", "quick", "full"] = mode  # type: ignore[assignment]
    if timeout is not None and not (math.isfinite(timeout) and timeout > 0):
        raise UsageError("--timeout must be a positive number of seconds")
    knowledge = get_knowledge(catalog)
    features = [f.id for f in knowledge.compat.features.entries]
    for expr in require:  # a bad gate fails here, before any node is asked
        parse_requirement(expr, features)

    with _Progress(enabled=not json_out) as progress:
        result = run_cluster_check(
            address,
            bench=chosen,
            require=require,
            timeout_s=timeout,
            on_start=progress.start,
            on_outcome=progress.advance,
        )
    if collective and not result.interrupted:
        result = _with_collective(result, "full" if chosen == "full" else "quick", timeout, knowledge)
    if export is not None:
        _export(result, export, include_ids)
    if json_out:
        emit_json(_json(result, include_ids))
    else:
        _render(result, show_all)
    raise typer.Exit(result.exit_code())


class _Progress:
    """Nodes done / failed / pending on stderr (nothing with --json or when stderr is not a terminal)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.done = self.failed = self.total = 0
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> _Progress:
        err = console(stderr=True)
        if self.enabled and err.is_terminal:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            cols = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
            self._bar = Progress(*cols, console=err, transient=True)
            self._bar.__enter__()
            self._task = self._bar.add_task("nodes: connecting", total=None)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)

    def start(self, total: int) -> None:
        self.total = total
        self._update()

    def advance(self, outcome: object) -> None:
        self.done += 1
        self.failed += getattr(outcome, "status", "") == "failed"
        self._update()

    def _update(self) -> None:
        if self._bar is None:
            return
        pending = self.total - self.done
        text = f"nodes: {self.done - self.failed} done, {self.failed} failed, {pending} pending"
        self._bar.update(self._task, completed=self.done, total=self.total, description=text)


def _with_collective(
    result: ClusterResult, mode: Literal["quick", "full"], timeout: float | None, knowledge: object
) -> ClusterResult:
    from advisor.cli.collective_cmd import diagnose_collective
    from advisor.cluster.collective import run_cluster_collective

    healthy = [o.node for o in result.outcomes if o.status == "ok"]
    with console(stderr=True).status(f"collective benchmark across {len(healthy)} nodes…"):
        run, why = run_cluster_collective(healthy, mode, timeout or (600.0 if mode == "quick" else 1800.0))
    if run is None:
        return result.model_copy(update={"notes": [*result.notes, why or "collective benchmark failed"]})
    return result.model_copy(update={"collective": diagnose_collective(run, knowledge)})  # type: ignore[arg-type]


def _shown(result: ClusterResult, include_ids: bool) -> ClusterResult:
    """The result as it may leave the machine: host names, node labels and GPU ids pseudonymised."""
    if include_ids:
        return result
    from advisor.cluster.check import fleet_of
    from advisor.reports.redact import pseudonym, redact_report

    outcomes = [
        o.model_copy(update={"report": redact_report(o.report), "label": pseudonym("host", o.label)})
        for o in result.outcomes
    ]
    return result.model_copy(update={"outcomes": outcomes, "fleet": fleet_of(outcomes), "notes": []})


def _json(result: ClusterResult, include_ids: bool) -> dict[str, object]:
    data: dict[str, object] = _shown(result, include_ids).model_dump(mode="json")
    data["schema_version"] = "1.0"
    return data


def _export(result: ClusterResult, folder: Path, include_ids: bool) -> None:
    from advisor.render.fleet import render_fleet_markdown
    from advisor.reports.io import atomic_write_text, render_as

    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--export takes a directory for a cluster run: {str(folder)!r} is a file")
    shown = _shown(result, include_ids)
    for o in shown.outcomes:
        name = re.sub(r"[^A-Za-z0-9._-]+", "_", o.label).strip("_") or "node"
        atomic_write_text(folder / f"{name}.json", render_as(o.report, "json", include_ids=True))
    atomic_write_text(folder / "fleet.json", shown.fleet.model_dump_json(indent=2) + "\n")
    atomic_write_text(folder / "fleet.md", render_fleet_markdown(shown.fleet))
    console(stderr=True).print(
        f"{len(shown.outcomes)} node reports and the fleet summary written to {folder}"
    )


def _render(result: ClusterResult, show_all: bool) -> None:
    from rich.text import Text

    from advisor.render.collective import render_collective
    from advisor.render.common import printable
    from advisor.render.fleet import render_fleet_terminal

    out = console()
    ok = sum(o.status == "ok" for o in result.outcomes)
    out.print(
        Text(
            printable(
                f"Ray cluster {result.address}: {result.nodes} nodes, {ok} reports, "
                f"{result.nodes - ok} failed ({result.seconds:.1f} s)",
                one_line=True,
            ),
            style="bold",
        )
    )
    render_fleet_terminal(result.fleet, out, show_all=show_all)
    failures = [o for o in result.outcomes if o.status == "failed"]
    if failures:
        out.print()
        for o in failures:
            out.print(Text(printable(f"✗ {o.label}: {o.reason}", one_line=True), style="red"))
    for note in result.notes:
        out.print(Text(printable(f"note: {note}", one_line=True), style="dim"))
    if result.collective is not None:
        out.print()
        render_collective(result.collective, out)
    if result.interrupted:
        out.print(Text("interrupted: the nodes that had not answered are listed as failed", style="yellow"))
