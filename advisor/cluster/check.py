"""`advisor cluster check`: the check of `advisor check` on every alive Ray node, merged into the fleet view.

Streams: each node's outcome is handed to ``on_outcome`` as it arrives, so a progress bar (or a log) shows
nodes done / failed / pending without waiting for the slowest.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from advisor.bench.collective_records import CollectiveRun
from advisor.cluster.outcome import ClusterNode, NodeOutcome, failed, outcome_from_result, unique_labels
from advisor.reports.fleet import Fleet, build_fleet

GRACE_S = 20.0  # scheduling and interpreter start on top of the check's own timeout
DEFAULT_TIMEOUT_S = {"none": 180.0, "quick": 420.0, "full": 1500.0}


class ClusterResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    address: str
    nodes: int
    outcomes: list[NodeOutcome]
    fleet: Fleet
    interrupted: bool = False
    collective: CollectiveRun | None = None
    notes: list[str] = Field(default_factory=list)
    seconds: float = 0.0

    def exit_code(self) -> int:
        """130 after Ctrl-C; 1 when any node failed, has an error finding or misses a gate; else 0."""
        if self.interrupted:
            return 130
        return 1 if any(o.report.exit_code() for o in self.outcomes) else 0


def node_check_args(bench: Literal["none", "quick", "full"], require: Sequence[str]) -> list[str]:
    """The `advisor check` arguments every node gets (identifiers kept: redaction happens on output)."""
    args = ["--include-ids"]
    args += ["--no-bench"] if bench == "none" else ["--bench", bench]
    for expr in require:
        args += ["--require", expr]
    return args


def run_cluster_check(
    address: str | None,
    *,
    bench: Literal["none", "quick", "full"] = "none",
    require: Sequence[str] = (),
    timeout_s: float | None = None,
    on_start: Callable[[int], None] | None = None,
    on_outcome: Callable[[NodeOutcome], None] | None = None,
) -> ClusterResult:
    """Check every alive node; a node that fails is an outcome with a `node-unreachable` report, not a gap."""
    from advisor.cluster import ray_runner
    from advisor.cluster.node_check import run_node_check

    started = time.monotonic()
    ray_runner.connect(address)
    nodes = ray_runner.alive_nodes()
    if not nodes:
        raise ray_runner.ClusterError("the Ray cluster has no alive node")
    labels = unique_labels(nodes)
    limit = timeout_s or DEFAULT_TIMEOUT_S[bench]
    if on_start is not None:
        on_start(len(nodes))
    outcomes: dict[str, NodeOutcome] = {}
    interrupted = False
    args = (node_check_args(bench, require), limit)
    try:
        for node, result, reason in ray_runner.run_on_nodes(
            run_node_check, nodes, args, deadline_s=limit + GRACE_S
        ):
            label = labels[node.node_id]
            outcome = (
                outcome_from_result(node, label, result)
                if result is not None
                else failed(node, label, reason or "no result")
            )
            outcomes[node.node_id] = outcome
            if on_outcome is not None:
                on_outcome(outcome)
    except KeyboardInterrupt:
        interrupted = True
    for node in nodes:  # interrupted: the nodes that had not answered are rows too
        if node.node_id not in outcomes:
            outcomes[node.node_id] = failed(
                node, labels[node.node_id], "not finished: the run was interrupted (Ctrl-C)"
            )
    ordered = [outcomes[n.node_id] for n in nodes]
    return ClusterResult(
        address=address or "auto",
        nodes=len(nodes),
        outcomes=ordered,
        fleet=fleet_of(ordered),
        interrupted=interrupted,
        notes=environment_notes(ordered),
        seconds=round(time.monotonic() - started, 3),
    )


def fleet_of(outcomes: Sequence[NodeOutcome]) -> Fleet:
    """The fleet view of the outcomes, one row per node under its unique label."""
    return build_fleet([(o.label, o.report) for o in outcomes], keys=[o.label for o in outcomes])


def environment_notes(outcomes: Sequence[NodeOutcome]) -> list[str]:
    """Where the nodes did not check with the same advisor/torch/Python: say so, per node."""
    notes = []
    for attr, what in (("advisor_version", "advisor"), ("torch_version", "torch"), ("python", "Python")):
        seen: dict[str, list[str]] = {}
        for o in outcomes:
            value = getattr(o, attr)
            if value is not None:
                seen.setdefault(str(value), []).append(o.label)
        if len(seen) > 1:
            parts = "; ".join(f"{v} on {', '.join(labels)}" for v, labels in sorted(seen.items()))
            notes.append(f"the nodes checked with different {what}: {parts}")
    return notes


def failed_nodes(outcomes: Sequence[NodeOutcome]) -> list[ClusterNode]:
    return [o.node for o in outcomes if o.status == "failed"]
