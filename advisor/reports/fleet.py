"""Many nodes' reports in one view, with outliers flagged.

Outliers: a GPU more than ``threshold`` below the median of the same card on the same test and precision
(at least three measurements to compare with); a driver, torch or CUDA version that differs from a strict
majority; a GPU count that differs from the majority of nodes with the same card; a node with error or
warning findings. Malformed files are skipped with a reason; the others are still merged.
"""

from __future__ import annotations

import os
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from advisor.errors import InputError
from advisor.render.safe import safe_text
from advisor.report import Report
from advisor.reports.slim import NodeReport, load_node_report, slim

FLEET_SCHEMA_VERSION = "1.0"
MIN_PEERS = 3  # fewer measurements than this give no meaningful median to be slow against


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", ser_json_inf_nan="strings")


class Node(_Model):
    host: str  # the (possibly redacted) host name, or the file name when the report has none
    file: str
    created: str
    source: str
    card: str | None  # the most common GPU name on the node
    gpu_count: int
    gpus: str  # "8× NVIDIA H100 80GB HBM3"
    driver: str | None
    cuda: str | None  # the CUDA the driver supports
    torch: str | None
    errors: int
    warnings: int
    codes: list[str]  # error and warning finding codes
    bench: dict[str, float] = Field(default_factory=dict)  # "matmul bf16" → median over the node's GPUs
    flags: list[str] = Field(default_factory=list)  # why this node is an outlier, in words


class Outlier(_Model):
    host: str
    kind: Literal["slow", "version", "gpu-count", "findings"]
    detail: str


class Skipped(_Model):
    file: str
    reason: str


class Fleet(_Model):
    schema_version: str = FLEET_SCHEMA_VERSION
    threshold: float
    nodes: list[Node]
    outliers: list[Outlier]
    # "driver", "driver CUDA", "torch" → the majority value (None: no strict majority)
    majority: dict[str, str | None]
    skipped: list[Skipped] = Field(default_factory=list)
    superseded: int = 0  # older reports of a node that also has a newer one (not merged)


def collect_files(paths: Sequence[str | Path]) -> list[Path]:
    """Every report file named or found (``*.json``, recursively) in the given directories, sorted."""
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files += sorted(_json_files(p))
        elif p.exists():
            files.append(p)
        else:
            raise InputError(f"no such file or directory: {safe_text(str(p))!r}")
    return files


def _json_files(top: Path) -> list[Path]:
    """``*.json`` regular files under ``top``, walked with an explicit stack (a directory nested 1,000 deep
    must not hit the recursion limit), never following directory links (no loops)."""
    found: list[Path] = []
    stack = [str(top)]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            stack.append(entry.path)
                        elif entry.name.endswith(".json") and entry.is_file():
                            found.append(Path(entry.path))
                    except OSError:
                        continue
        except OSError:
            continue  # an unreadable sub-directory: nothing to merge from it
    return found


def load_reports(files: Iterable[Path]) -> tuple[list[tuple[str, NodeReport]], list[Skipped]]:
    """Parse every file (the slim view the fleet needs); the ones that fail become Skipped entries."""
    loaded: list[tuple[str, NodeReport]] = []
    skipped: list[Skipped] = []
    for f in files:
        try:
            loaded.append((str(f), load_node_report(f)))
        except InputError as exc:
            skipped.append(Skipped(file=str(f), reason=str(exc)))
        except (RecursionError, MemoryError, ValueError) as exc:  # one bad file never aborts the fleet
            skipped.append(Skipped(file=str(f), reason=f"{safe_text(str(f))!r}: {type(exc).__name__}"))
    return loaded, skipped


def build_fleet(
    loaded: Sequence[tuple[str, Report | NodeReport]],
    *,
    skipped: Sequence[Skipped] = (),
    threshold: float = 0.10,
    keys: Sequence[str] | None = None,
) -> Fleet:
    """Merge reports into one Fleet (newest report per host) and flag outliers.

    ``keys`` names each report's node instead of its host name (a cluster run, where several nodes of one
    test machine share a host name); by default the host name, else the file name.
    """
    newest: dict[str, tuple[str, NodeReport]] = {}
    for i, (file, full) in enumerate(loaded):
        report = slim(full)
        host = keys[i] if keys is not None else report.machine.host.hostname or Path(file).name
        if host not in newest or report.created > newest[host][1].created:
            newest[host] = (file, report)
    nodes = {host: _node(host, file, report) for host, (file, report) in sorted(newest.items())}
    outliers: list[Outlier] = []
    outliers += _slow(newest, threshold)
    majority, version_outliers = _versions(nodes)
    outliers += version_outliers
    outliers += _gpu_counts(nodes)
    outliers += [
        Outlier(host=n.host, kind="findings", detail=_findings_text(n))
        for n in nodes.values()
        if n.errors or n.warnings
    ]
    for o in outliers:
        nodes[o.host].flags.append(o.detail)
    return Fleet(
        threshold=threshold,
        nodes=list(nodes.values()),
        outliers=outliers,
        majority=majority,
        skipped=list(skipped),
        superseded=len(loaded) - len(newest),
    )


def _node(host: str, file: str, report: NodeReport) -> Node:
    m = report.machine
    names = Counter(g.name or "unknown GPU" for g in m.gpus)
    card = names.most_common(1)[0][0] if names else None
    gpus = ", ".join(f"{n}× {name}" for name, n in names.most_common()) or "no GPU"
    per_test: dict[str, list[float]] = defaultdict(list)
    for b in report.benchmarks:
        if b.device != "cpu" and b.peer is None:
            per_test[_label(b.test, b.dtype)].append(b.value)
    alarms = [f for f in report.findings if f.severity in ("error", "warning")]
    return Node(
        host=host,
        file=file,
        created=report.created,
        source=report.source,
        card=card,
        gpu_count=len(m.gpus),
        gpus=gpus,
        driver=m.driver.version,
        cuda=m.driver.cuda_version,
        torch=m.torch.version,
        errors=sum(f.severity == "error" for f in alarms),
        warnings=sum(f.severity == "warning" for f in alarms),
        codes=sorted({f.code for f in alarms}),
        bench={k: statistics.median(v) for k, v in sorted(per_test.items())},
    )


def _label(test: str, dtype: str | None) -> str:
    return f"{test} {dtype}" if dtype else test


def _slow(newest: dict[str, tuple[str, NodeReport]], threshold: float) -> list[Outlier]:
    # Peers are the same card (name and memory size) on the same test, precision and unit, fleet-wide.
    groups: dict[tuple[str, str, str, str], list[tuple[str, int, float]]] = defaultdict(list)
    for host, (_, report) in newest.items():
        cards = {
            g.index: f"{g.name or 'unknown GPU'} {round((g.memory_total_bytes or 0) / 2**30)} GiB"
            for g in report.machine.gpus
        }
        for b in report.benchmarks:
            if b.peer is not None or isinstance(b.device, str):
                continue
            card = cards.get(b.device)
            if card is not None:
                groups[(card, b.test, b.dtype or "", b.unit)].append((host, b.device, b.value))
    out = []
    for (card, test, dtype, unit), values in sorted(groups.items()):
        if len(values) < MIN_PEERS:
            continue
        label = _label(test, dtype)
        median = statistics.median(v for _, _, v in values)
        for host, index, value in values:
            worse = value > median * (1 + threshold) if unit == "us" else value < median * (1 - threshold)
            if worse and median > 0:
                gap = abs(value / median - 1) * 100
                word = "slower" if unit == "us" else "below"
                out.append(
                    Outlier(
                        host=host,
                        kind="slow",
                        detail=f"GPU {index} {label}: {value:.4g} {unit}, {gap:.0f}% {word} the median "
                        f"{median:.4g} of {len(values)} {card} GPUs",
                    )
                )
    return out


def _strict_majority(values: Iterable[str | None]) -> str | None:
    counts = Counter(v for v in values if v is not None).most_common(2)
    if not counts or (len(counts) == 2 and counts[0][1] == counts[1][1]):
        return None
    return counts[0][0]


def _versions(nodes: dict[str, Node]) -> tuple[dict[str, str | None], list[Outlier]]:
    majority: dict[str, str | None] = {}
    out = []
    for label, attr in (("driver", "driver"), ("driver CUDA", "cuda"), ("torch", "torch")):
        values = {host: getattr(n, attr) for host, n in nodes.items()}
        known = [v for v in values.values() if v is not None]
        top = _strict_majority(known)
        majority[label] = top
        if top is None:
            continue
        share = sum(v == top for v in known)
        for host, v in values.items():
            if v is not None and v != top:
                out.append(
                    Outlier(
                        host=host,
                        kind="version",
                        detail=f"{label} {v} differs from the majority {top} ({share} of {len(known)} nodes)",
                    )
                )
    return majority, out


def _gpu_counts(nodes: dict[str, Node]) -> list[Outlier]:
    by_card: dict[str, list[Node]] = defaultdict(list)
    for n in nodes.values():
        if n.card is not None:
            by_card[n.card].append(n)
    out = []
    for card, members in by_card.items():
        top = _strict_majority(str(n.gpu_count) for n in members)
        if top is None or len(members) < MIN_PEERS:
            continue
        for n in members:
            if str(n.gpu_count) != top:
                out.append(
                    Outlier(
                        host=n.host,
                        kind="gpu-count",
                        detail=f"{n.gpu_count} GPUs where most {card} nodes have {top}",
                    )
                )
    return out


def _findings_text(n: Node) -> str:
    parts = []
    if n.errors:
        parts.append(f"{n.errors} error{'s' if n.errors != 1 else ''}")
    if n.warnings:
        parts.append(f"{n.warnings} warning{'s' if n.warnings != 1 else ''}")
    return f"{', '.join(parts)}: {', '.join(n.codes)}"
