"""What changed on a machine between two reports: versions, GPUs, health counters, throughput, findings."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from advisor.machine import GPU
from advisor.report import BenchResult, Finding, Report

DIFF_SCHEMA_VERSION = "1.0"
Kind = Literal["software", "host", "gpu", "health", "performance", "finding"]

# GPU counters whose growth means new trouble (ECC, retired pages, remapped rows).
_HEALTH_COUNTERS = (
    "ecc_uncorrected_volatile",
    "ecc_corrected_volatile",
    "ecc_uncorrected_aggregate",
    "ecc_corrected_aggregate",
    "retired_pages_sbe",
    "retired_pages_dbe",
    "remapped_rows_correctable",
    "remapped_rows_uncorrectable",
)
_HEALTH_FLAGS = ("retired_pages_pending", "remapped_rows_pending", "remapped_rows_failure", "lost")
_GPU_FACTS = (
    "name",
    "memory_total_bytes",
    "compute_capability",
    "power_limit_watts",
    "pcie_gen_max",
    "pcie_width_max",
    "ecc_enabled",
    "mig_enabled",
    "persistence_mode",
    "compute_mode",
)


class Change(BaseModel):
    """One difference; ``before``/``after`` are None when the thing is absent on that side."""

    model_config = ConfigDict(extra="forbid", ser_json_inf_nan="strings")

    kind: Kind
    subject: str  # "driver", "GPU 2", "GPU 0 matmul bf16"
    what: str  # "version", "added", "ecc_uncorrected_volatile", "appeared"
    before: str | None = None
    after: str | None = None
    note: str = ""  # "−23%", "error", "new errors"
    alarm: bool = False  # worth a look: a regression, new errors, a new error/warning finding


class ReportDiff(BaseModel):
    model_config = ConfigDict(extra="forbid", ser_json_inf_nan="strings")

    schema_version: str = DIFF_SCHEMA_VERSION
    before: str  # the created timestamps
    after: str
    same_host: bool | None  # None: a host name is missing on one side
    threshold: float  # relative throughput change that counts
    changes: list[Change] = Field(default_factory=list)


def diff_reports(a: Report, b: Report, *, threshold: float = 0.10) -> ReportDiff:
    """Compare ``a`` (before) with ``b`` (after); throughput moves under ``threshold`` are not reported."""
    ha, hb = a.machine.host.hostname, b.machine.host.hostname
    changes = [
        *_software(a, b),
        *_gpus(a, b),
        *_performance(a, b, threshold),
        *_findings(a, b),
    ]
    return ReportDiff(
        before=a.created,
        after=b.created,
        same_host=None if ha is None or hb is None else ha == hb,
        threshold=threshold,
        changes=changes,
    )


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _count(items: Sequence[object] | None) -> int | None:
    return None if items is None else len(items)


def _plugins(plugins: dict[str, str] | None) -> str | None:
    return None if plugins is None else ", ".join(f"{k} {v}" for k, v in sorted(plugins.items())) or "none"


def _software(a: Report, b: Report) -> Iterable[Change]:
    ma, mb = a.machine, b.machine
    facts: list[tuple[Kind, str, str, object, object]] = [
        ("software", "driver", "version", ma.driver.version, mb.driver.version),
        ("software", "driver", "CUDA", ma.driver.cuda_version, mb.driver.cuda_version),
        ("software", "driver", "NVML", ma.driver.nvml_ok, mb.driver.nvml_ok),
        ("software", "torch", "version", ma.torch.version, mb.torch.version),
        ("software", "torch", "CUDA", ma.torch.cuda_version, mb.torch.cuda_version),
        ("software", "torch", "cuDNN", ma.torch.cudnn_version, mb.torch.cudnn_version),
        ("software", "torch", "installed", ma.torch.installed, mb.torch.installed),
        ("software", "tensorflow", "version", ma.tensorflow.version, mb.tensorflow.version),
        ("software", "tensorflow", "CUDA build", ma.tensorflow.is_cuda_build, mb.tensorflow.is_cuda_build),
        ("software", "tensorflow", "GPUs seen", _count(ma.tensorflow.gpus), _count(mb.tensorflow.gpus)),
        ("software", "jax", "version", ma.jax.version, mb.jax.version),
        ("software", "jax", "jaxlib", ma.jax.jaxlib_version, mb.jax.jaxlib_version),
        ("software", "jax", "plugins", _plugins(ma.jax.plugins), _plugins(mb.jax.plugins)),
        ("software", "jax", "backend", ma.jax.backend, mb.jax.backend),
        ("host", "host", "OS", ma.host.os_release, mb.host.os_release),
        ("host", "host", "kernel", ma.host.kernel, mb.host.kernel),
        ("host", "host", "Python", ma.host.python_version, mb.host.python_version),
        ("host", "host", "system CUDA", ma.host.system_cuda_version, mb.host.system_cuda_version),
        ("host", "host", "CUDA_VISIBLE_DEVICES", ma.host.cuda_visible_devices, mb.host.cuda_visible_devices),
    ]
    for kind, subject, what, before, after in facts:
        if before != after:
            yield Change(kind=kind, subject=subject, what=what, before=_text(before), after=_text(after))


def match_gpus(old: list[GPU], new: list[GPU]) -> list[tuple[GPU | None, GPU | None]]:
    """Pair the GPUs of two reports: by UUID (stable even when redacted), then PCI bus id, then index.

    Each identifier is used only when both GPUs have it, so a dump without UUIDs still pairs with a live
    report by bus id or index. Unpaired GPUs come back as (old, None) removed or (None, new) added.
    """
    keys = ("uuid", "pci_bus_id", "index")

    def same(o: GPU, g: GPU, level: int) -> bool:
        # A weaker key pairs two GPUs only when a stronger one cannot tell them apart (a different UUID
        # in the same slot is another card: removed + added, not a change).
        stronger = keys[:level]
        if any(getattr(o, k) is not None and getattr(g, k) is not None for k in stronger):
            return False
        value = getattr(g, keys[level])
        return value is not None and getattr(o, keys[level]) == value

    left, right = list(old), list(new)
    pairs: list[tuple[GPU | None, GPU | None]] = []
    for level in range(len(keys)):
        for g in list(right):
            match = next((o for o in left if same(o, g, level)), None)
            if match is not None:
                pairs.append((match, g))
                left.remove(match)
                right.remove(g)
    return pairs + [(o, None) for o in left] + [(None, g) for g in right]


def _gpus(a: Report, b: Report) -> Iterable[Change]:
    for old, new in match_gpus(a.machine.gpus, b.machine.gpus):
        if new is None:
            assert old is not None
            yield Change(kind="gpu", subject=f"GPU {old.index}", what="removed", before=old.name, alarm=True)
            continue
        if old is None:
            yield Change(kind="gpu", subject=f"GPU {new.index}", what="added", after=new.name)
            continue
        subject = f"GPU {new.index}"
        if old.index != new.index:
            yield Change(
                kind="gpu", subject=subject, what="index", before=str(old.index), after=str(new.index)
            )
        for field in _GPU_FACTS:
            before, after = getattr(old, field), getattr(new, field)
            if before != after:
                yield Change(
                    kind="gpu", subject=subject, what=field, before=_text(before), after=_text(after)
                )
        for field in _HEALTH_COUNTERS:
            before, after = getattr(old, field), getattr(new, field)
            if before is not None and after is not None and after > before:
                yield Change(
                    kind="health",
                    subject=subject,
                    what=field,
                    before=str(before),
                    after=str(after),
                    note=f"+{after - before} new",
                    alarm=True,
                )
            elif before is None and after:
                yield Change(
                    kind="health", subject=subject, what=field, after=str(after), note="now seen", alarm=True
                )
        for field in _HEALTH_FLAGS:
            before, after = getattr(old, field), getattr(new, field)
            if before != after and (before or after):
                yield Change(
                    kind="health",
                    subject=subject,
                    what=field,
                    before=_text(before),
                    after=_text(after),
                    alarm=bool(after),
                )


def _bench_key(r: BenchResult) -> tuple[str, str, str, str]:
    return (str(r.device), r.test, r.dtype or "", "" if r.peer is None else str(r.peer))


def _performance(a: Report, b: Report, threshold: float) -> Iterable[Change]:
    old = {_bench_key(r): r for r in a.benchmarks}
    for key, new in ((_bench_key(r), r) for r in b.benchmarks):
        before = old.get(key)
        if before is None or before.value <= 0 or before.unit != new.unit:
            continue
        change = new.value / before.value - 1
        if abs(change) < threshold:
            continue
        worse = change > 0 if new.unit == "us" else change < 0  # latency: lower is better
        device = "CPU" if new.device == "cpu" else f"GPU {new.device}"
        subject = " ".join(
            p
            for p in (device, new.test, new.dtype or "", f"→ GPU {new.peer}" if new.peer is not None else "")
            if p
        )
        yield Change(
            kind="performance",
            subject=subject,
            what="slower" if worse else "faster",
            before=f"{before.value:.4g} {before.unit}",
            after=f"{new.value:.4g} {new.unit}",
            note=f"{change * 100:+.0f}%",
            alarm=worse,
        )


def _findings(a: Report, b: Report) -> Iterable[Change]:
    def key(f: Finding) -> tuple[str, int | None]:
        return (f.code, f.gpu)

    fa = {key(f): f for f in a.findings}
    fb = {key(f): f for f in b.findings}
    for k, f in fb.items():
        if k not in fa:
            subject = "machine" if f.gpu is None else f"GPU {f.gpu}"
            yield Change(
                kind="finding",
                subject=subject,
                what="appeared",
                after=f"{f.code}: {f.title}",
                note=f.severity,
                alarm=f.severity in ("error", "warning"),
            )
    for k, f in fa.items():
        if k not in fb:
            subject = "machine" if f.gpu is None else f"GPU {f.gpu}"
            yield Change(
                kind="finding",
                subject=subject,
                what="resolved",
                before=f"{f.code}: {f.title}",
                note=f.severity,
            )
        elif fb[k].severity != f.severity:
            yield Change(
                kind="finding",
                subject=f"GPU {f.gpu}" if f.gpu is not None else "machine",
                what="severity",
                before=f"{f.code}: {f.severity}",
                after=f"{f.code}: {fb[k].severity}",
                alarm=SEVERITY_RANK[fb[k].severity] < SEVERITY_RANK[f.severity],
            )


SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}
