"""One node's result: its Report, or why there is none (as a Report with a `node-unreachable` finding).

A failed node is never a silent gap: it becomes a report with no facts and one error, so the fleet view, the
exit status and the exported files all show it.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from advisor import __version__
from advisor.errors import InputError
from advisor.machine import HostInfo, Machine, SchedulerInfo
from advisor.report import Finding, Report


class ClusterNode(BaseModel):
    """A node as the cluster engine lists it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    node_id: str
    address: str  # the node's IP as the engine knows it
    hostname: str | None = None
    gpus: float = 0.0  # the engine's GPU resource count


class NodeOutcome(BaseModel):
    model_config = ConfigDict(extra="forbid")

    node: ClusterNode
    label: str  # unique name of the node in this run (host name, or host name and address)
    status: Literal["ok", "failed"]
    report: Report
    reason: str | None = None  # why it failed, in words
    python: str | None = None  # the interpreter that ran the check on the node
    advisor_version: str | None = None
    torch_version: str | None = None
    seconds: float | None = None


def outcome_from_result(node: ClusterNode, label: str, result: dict[str, Any]) -> NodeOutcome:
    """What ``run_node_check`` returned, as an outcome: the node's Report, or a failure and its reason."""
    from advisor.reports.io import parse_report

    facts = {
        "python": result.get("python"),
        "advisor_version": result.get("advisor_version"),
        "torch_version": result.get("torch_version"),
        "seconds": result.get("seconds"),
    }
    if result.get("timed_out"):
        return failed(node, label, f"the check did not finish within {result.get('seconds')} s", **facts)
    rc, stdout = result.get("rc"), result.get("stdout") or ""
    if rc in (0, 1) and stdout.strip():
        try:
            report = parse_report(stdout, f"the report of {label}")
        except InputError as exc:
            return failed(node, label, f"the node's report could not be read: {exc}", **facts)
        return NodeOutcome(node=node, label=label, status="ok", report=_tag(report, node), **facts)
    return failed(node, label, _reason(result), **facts)


def _reason(result: dict[str, Any]) -> str:
    err = str(result.get("stderr") or "")
    python = result.get("python") or "the node's Python"
    if "No module named advisor" in err or (result.get("advisor_version") is None and "No module" in err):
        return f"advisor is not installed for {python} on this node"
    lines = [line.strip() for line in err.splitlines() if line.strip()]
    last = lines[-1][:300] if lines else "no message"
    return f"the check exited with status {result.get('rc')}: {last}"


def _tag(report: Report, node: ClusterNode) -> Report:
    """The report with the Ray node it came from, unless it already knows its Slurm job or pod."""
    if report.machine.scheduler is not None:
        return report
    scheduler = SchedulerInfo(kind="ray", node_name=node.address, ray_node_id=node.node_id)
    machine = report.machine.model_copy(update={"scheduler": scheduler})
    return report.model_copy(update={"machine": machine})


def failed(node: ClusterNode, label: str, reason: str, **facts: Any) -> NodeOutcome:
    """An outcome for a node that gave no report: a Report of that node with one `node-unreachable` error."""
    fix = (
        "pip install gpu-advisor (with torch for the bench) in the Python that Ray's workers use on that node"
        if "not installed" in reason
        else "Look at the node (`ray status`, its raylet log, `nvidia-smi` there) and run `advisor check` on "
        "it directly; a check that hangs usually means a wedged driver (dmesg for Xid errors)."
    )
    finding = Finding(
        code="node-unreachable",
        severity="error",
        subject=f"node {label}",
        title=f"No report from node {label}",
        detail=f"Node {label} ({node.address}, Ray node {node.node_id[:12]}): {reason}.",
        fix=fix,
    )
    machine = Machine(
        source="cluster",
        host=HostInfo(hostname=node.hostname),
        gpus_known=False,
        missing=["every fact: the node gave no report"],
        scheduler=SchedulerInfo(kind="ray", node_name=node.address, ray_node_id=node.node_id),
    )
    report = Report(
        advisor_version=__version__,
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        source="cluster",
        machine=machine,
        findings=[finding],
    )
    return NodeOutcome(node=node, label=label, status="failed", report=report, reason=reason, **facts)


def unique_labels(nodes: list[ClusterNode]) -> dict[str, str]:
    """node_id → a name unique in this run: the host name, with its address or node id where it repeats."""
    host = {n.node_id: n.hostname or n.address for n in nodes}
    hosts = Counter(host.values())
    pairs = Counter((host[n.node_id], n.address) for n in nodes)
    labels = {}
    for n in nodes:
        name = host[n.node_id]
        if hosts[name] == 1:
            labels[n.node_id] = name
        elif pairs[(name, n.address)] == 1 and name != n.address:
            labels[n.node_id] = f"{name} ({n.address})"
        else:  # several nodes on one machine (a test cluster, or nodes in containers sharing a host name)
            labels[n.node_id] = f"{name} #{n.node_id[:6]}"
    return labels
