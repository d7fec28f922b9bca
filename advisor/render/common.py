"""Wording shared by every renderer: how unknowns, units, GPUs, findings and the verdict read.

The words for "unknown" are chosen here and only here (STYLE.md, point 3).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from advisor.machine import GPU, Machine
from advisor.render.safe import safe_text
from advisor.report import SEVERITY_ORDER, BenchResult, Finding, Recommendation, Report
from advisor.units import format_bytes

UNKNOWN = "—"  # a table cell whose value the source did not give
UNKNOWN_WORD = "unknown"  # the same in running text
SEVERITIES = ("error", "warning", "info")
SEVERITY_HEADINGS = {"error": "Errors", "warning": "Warnings", "info": "Notes"}


def printable(text: str, *, one_line: bool = False) -> str:
    """``text`` without escape sequences, control or invisible characters (see advisor.render.safe)."""
    return safe_text(text, one_line=one_line)


def plural(n: int, word: str) -> str:
    """``1 error`` / ``2 errors``."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def counts(findings: Sequence[Finding]) -> dict[str, int]:
    """Number of findings per severity (every severity present, zero when none)."""
    out = dict.fromkeys(SEVERITIES, 0)
    for f in findings:
        out[f.severity] += 1
    return out


def verdict(report: Report) -> str:
    """The one-line verdict: ``2 errors, 1 warning — exit 1``."""
    c = counts(report.findings)
    head = ""
    if not c["error"] and not c["warning"]:
        # Nothing wrong found in a source that says nothing about GPUs is not "healthy".
        head = "healthy: " if enough_facts(report) else "not enough facts to call it healthy: "
    text = f"{head}{plural(c['error'], 'error')}, {plural(c['warning'], 'warning')}"
    if c["info"]:
        text += f", {plural(c['info'], 'note')}"
    return f"{text} — exit {report.exit_code()}"


def enough_facts(report: Report) -> bool:
    """Whether the source said anything about GPUs (a list, or that there is none)."""
    return report.machine.gpus_known or bool(report.machine.gpus)


def verdict_level(report: Report) -> str:
    """``error`` / ``warning`` / ``ok``: the colour of the verdict banner."""
    c = counts(report.findings)
    if c["error"]:
        return "error"
    return "warning" if c["warning"] or not enough_facts(report) else "ok"


def by_severity(findings: Sequence[Finding]) -> list[tuple[str, list[Finding]]]:
    """Findings grouped as (severity, findings) in error → warning → info order, empty groups left out."""
    ordered = sorted(findings, key=lambda f: (SEVERITY_ORDER[f.severity], -1 if f.gpu is None else f.gpu))
    groups = [(s, [f for f in ordered if f.severity == s]) for s in SEVERITIES]
    return [(s, fs) for s, fs in groups if fs]


def text_or_unknown(value: object) -> str:
    """A value as text; None becomes the unknown word."""
    return UNKNOWN_WORD if value is None or value == "" else str(value)


def cell(value: object) -> str:
    """A value for a table cell; None becomes the dash."""
    return UNKNOWN if value is None or value == "" else str(value)


def number(value: float | None, digits: int = 1) -> str:
    """A figure with trailing zeros kept short (``312``, ``19.5``, ``0.19``); None → dash."""
    if value is None:
        return UNKNOWN
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if 0.1 <= abs(value) < 1:  # CPU figures in TFLOP/s: "0.42", not "0.4"
        return f"{value:.2f}"
    if 0 < abs(value) < 0.1:
        return f"{value:.2g}"
    return f"{value:.{digits}f}"


def percent(fraction: float | None) -> str:
    """``0.46`` → ``46%``; None → dash."""
    return UNKNOWN if fraction is None else f"{fraction * 100:.0f}%"


def report_title(report: Report) -> str:
    """``GPU advisor report: node-07``, or without the host when it is unknown."""
    host = report.machine.host.hostname
    return f"GPU advisor report: {host}" if host else "GPU advisor report"


def header_facts(report: Report) -> list[tuple[str, str]]:
    """(label, value) pairs for the header line: source, host, driver / CUDA, torch build."""
    m = report.machine
    driver = m.driver.version or UNKNOWN_WORD
    if m.driver.cuda_version:
        driver += f" / CUDA {m.driver.cuda_version}"
    return [
        ("source", report.source),
        ("host", text_or_unknown(m.host.hostname)),
        ("driver", driver),
        ("torch", torch_build(m)),
        *framework_facts(m),
        *(
            [("knowledge", f"current to {report.knowledge_current_to}")]
            if report.knowledge_current_to
            else []
        ),
        ("created", report.created),
    ]


def framework_facts(m: Machine) -> list[tuple[str, str]]:
    """("tensorflow", ...) and ("jax", ...) header pairs, for a framework the source says anything about."""
    out = []
    if m.tensorflow.installed is not None or m.tensorflow.version or m.tensorflow.timed_out:
        out.append(("tensorflow", tensorflow_build(m)))
    if m.jax.installed is not None or m.jax.version or m.jax.timed_out:
        out.append(("jax", jax_build(m)))
    return out


def tensorflow_build(m: Machine) -> str:
    """``2.16.1 (CUDA 12.3, 1 GPU)``, ``2.21.0 (CPU only)``, ``not installed``, ``import failed``."""
    t = m.tensorflow
    if t.timed_out:
        return "probe timed out"
    if t.installed is False:
        return "not installed"
    if t.version is None:
        return "import failed" if t.import_error else UNKNOWN_WORD
    if t.is_cuda_build is False and not t.is_rocm_build:
        kind = "CPU only"
    elif t.is_rocm_build:
        kind = "ROCm"
    else:
        kind = f"CUDA {t.cuda_version}" if t.cuda_version else ""
    if t.gpus is not None and (t.is_cuda_build or t.gpus):
        kind += f"{', ' if kind else ''}{len(t.gpus)} GPU{'s' if len(t.gpus) != 1 else ''} seen"
    return f"{t.version} ({kind})" if kind else t.version


def jax_build(m: Machine) -> str:
    """``0.4.30, jaxlib 0.4.30, jax-cuda12-plugin 0.4.30 (backend gpu)``, ``not installed``."""
    j = m.jax
    if j.timed_out:
        return "probe timed out"
    if j.installed is False:
        return "not installed"
    if j.version is None and j.jaxlib_version is None:
        return "import failed" if j.import_error else UNKNOWN_WORD
    parts = [j.version or UNKNOWN_WORD]
    if j.jaxlib_version and j.jaxlib_version != j.version:
        parts.append(f"jaxlib {j.jaxlib_version}")
    parts += [f"{name} {version}" for name, version in sorted((j.plugins or {}).items())]
    text = ", ".join(parts)
    if j.backend:
        text += f" (backend {j.backend})"
    elif j.plugins == {}:
        text += " (CPU only)"
    return text


def host_facts(m: Machine) -> str | None:
    """One line about the host: OS, kernel, CPU, cores, RAM, Python, container/WSL; None if nothing known."""
    h = m.host
    parts = []
    os_name = h.os_release or h.os
    if os_name:
        parts.append(os_name + (f" ({h.machine_arch})" if h.machine_arch else ""))
    if h.kernel:
        parts.append(f"kernel {h.kernel}")
    if h.is_wsl:
        parts.append("WSL")
    if h.container:
        parts.append(f"in {h.container}")
    if h.cpu_model or h.cpu_threads:
        cores = []
        if h.cpu_cores:
            cores.append(f"{h.cpu_cores} cores")
        if h.cpu_threads and h.cpu_threads != h.cpu_cores:
            cores.append(f"{h.cpu_threads} threads")
        parts.append((h.cpu_model or "CPU") + (f" ({', '.join(cores)})" if cores else ""))
    if h.memory_total_bytes:
        parts.append(f"{h.memory_total_bytes / 2**30:.0f} GiB RAM")
    if h.python_version:
        parts.append(f"Python {h.python_version}")
    if h.system_cuda_version:
        parts.append(f"system CUDA toolkit {h.system_cuda_version}")
    if h.cuda_visible_devices is not None:
        parts.append(f"CUDA_VISIBLE_DEVICES={h.cuda_visible_devices!r}")
    return " · ".join(parts) or None


def torch_build(m: Machine) -> str:
    """``2.4.0+cu121 (CUDA 12.1)``, ``not installed``, ``2.2.2+cpu (CPU only)`` or ``unknown``."""
    t = m.torch
    if t.installed is False:
        return "not installed"
    if t.version is None:
        return "import failed" if t.import_error else UNKNOWN_WORD
    if t.cuda_version:
        return f"{t.version} (CUDA {t.cuda_version})"
    if t.hip_version:
        return f"{t.version} (ROCm {t.hip_version})"
    if t.built_with_cuda is False or t.version.endswith("+cpu"):
        return f"{t.version} (CPU only)"
    return t.version


@dataclass(frozen=True)
class Column:
    key: str
    title: str


GPU_COLUMNS = (
    Column("index", "#"),
    Column("name", "GPU"),
    Column("memory", "memory"),
    Column("cc", "CC"),
    Column("pcie", "PCIe now/max"),
    Column("ecc", "ECC"),
    Column("mig", "MIG"),
    Column("temp", "temp"),
    Column("power", "power now/limit"),
    Column("clock", "SM clock now/max"),
    Column("util", "util"),
    Column("bench", "bench"),
)


def gpu_table(report: Report) -> tuple[list[Column], list[dict[str, str]]]:
    """The GPU table shared by every renderer; columns nobody knows anything about are left out."""
    unknown_cards = {f.gpu for f in report.findings if f.code == "unknown-gpu"}
    rows = [_gpu_row(g, report.benchmarks, g.index in unknown_cards) for g in report.machine.gpus]
    columns = [c for c in GPU_COLUMNS if c.key in ("index", "name") or any(r[c.key] != UNKNOWN for r in rows)]
    return columns, rows


def _gpu_row(g: GPU, bench: Sequence[BenchResult], unknown_card: bool) -> dict[str, str]:
    name = g.name or UNKNOWN_WORD
    if unknown_card:
        name += " (not in catalog)"
    if g.lost:
        name += " (lost)"
    return {
        "index": str(g.index),
        "name": name,
        "memory": _memory(g),
        "cc": cell(g.compute_capability),
        "pcie": _pcie(g),
        "ecc": _on_off(g.ecc_enabled),
        "mig": _on_off(g.mig_enabled),
        "temp": UNKNOWN if g.temperature_c is None else f"{g.temperature_c:.0f} °C",
        "power": _pair(g.power_draw_watts, g.power_limit_watts, "W"),
        "clock": _pair(g.sm_clock_mhz, g.sm_clock_max_mhz, "MHz"),
        "util": UNKNOWN if g.utilization_gpu_percent is None else f"{g.utilization_gpu_percent:.0f}%",
        "bench": best_bench(g.index, bench),
    }


def _memory(g: GPU) -> str:
    if g.memory_total_bytes is None:
        return UNKNOWN
    total = format_bytes(g.memory_total_bytes)
    if g.memory_used_bytes is None:
        return total
    used, unit = format_bytes(g.memory_used_bytes).split(" ")
    return f"{used}/{total}" if total.endswith(unit) else f"{used} {unit}/{total}"


def _pcie(g: GPU) -> str:
    """``Gen4 x16``, or ``Gen1/4 x16`` (now/max) when the link runs below what GPU and slot can do."""
    if g.pcie_gen_current is None and g.pcie_width_current is None:
        return UNKNOWN

    def part(now: int | None, top: int | None) -> str:
        return cell(now) if top is None or top == now else f"{cell(now)}/{top}"

    return f"Gen{part(g.pcie_gen_current, g.pcie_gen_max)} x{part(g.pcie_width_current, g.pcie_width_max)}"


def _on_off(value: bool | None) -> str:
    return UNKNOWN if value is None else ("on" if value else "off")


def _pair(now: float | None, limit: float | None, unit: str) -> str:
    if now is None and limit is None:
        return UNKNOWN
    if limit is None:
        return f"{now:.0f} {unit}"
    return f"{UNKNOWN if now is None else f'{now:.0f}'}/{limit:.0f} {unit}"


def best_bench(device: int, bench: Sequence[BenchResult]) -> str:
    """The headline matmul figure of one GPU: its fastest precision, with efficiency when known."""
    mm = [b for b in bench if b.device == device and b.test == "matmul"]
    if not mm:
        return UNKNOWN
    top = max(mm, key=lambda b: b.value)
    text = f"{top.dtype or ''} {number(top.value)} {top.unit}".strip()
    return text + (f" ({percent(top.efficiency)})" if top.efficiency is not None else "")


BENCH_COLUMNS = (
    Column("device", "device"),
    Column("test", "test"),
    Column("value", "value"),
    Column("peak", "peak"),
    Column("efficiency", "efficiency"),
    Column("spread", "spread"),
    Column("notes", "notes"),
)


def bench_columns(rows: Sequence[dict[str, str]]) -> list[Column]:
    """The bench columns to show: the notes column only when some result has notes."""
    return [c for c in BENCH_COLUMNS if c.key != "notes" or any(r["notes"] for r in rows)]


def bench_rows(bench: Sequence[BenchResult]) -> list[dict[str, str]]:
    """One row per benchmark result, in the order measured."""
    rows = []
    for b in bench:
        test = (
            b.test + (f" {b.dtype}" if b.dtype else "") + (f" → GPU {b.peer}" if b.peer is not None else "")
        )
        rows.append(
            {
                "device": "CPU" if b.device == "cpu" else f"GPU {b.device}",
                "test": test,
                "value": f"{number(b.value)} {b.unit}",
                "peak": UNKNOWN if b.peak is None else f"{number(b.peak)} {b.unit}",
                "efficiency": percent(b.efficiency),
                "spread": percent(b.spread),
                "notes": "; ".join(b.notes),
            }
        )
    return rows


def finding_subject(f: Finding) -> str:
    """``GPU 2``, ``machine``, or the finding's own subject (``tensorflow``, ``GPU 1 · jax``, a node)."""
    where = "machine" if f.gpu is None else f"GPU {f.gpu}"
    if not f.subject:
        return where
    return f.subject if f.gpu is None else f"{where} · {f.subject}"


@dataclass(frozen=True)
class RecommendationGroup:
    """Recommendations that read the same for several GPUs, shown once (``GPU 0–7``)."""

    subject: str
    items: list[Recommendation]


def recommendation_groups(
    recs: Sequence[Recommendation], *, no_gpu: bool = False
) -> list[RecommendationGroup]:
    """Machine-wide recommendations first, then per GPU, identical GPU sets collapsed into one group.

    ``no_gpu``: the machine-wide advice is about the CPU, and says so ("CPU: precision bf16"), so it is
    never read as a GPU capability beside an unmet GPU requirement such as ``--require bf16``.
    """
    machine_wide = [r for r in recs if r.gpu is None]
    per_gpu: dict[int, list[Recommendation]] = {}
    for r in recs:
        if r.gpu is not None:
            per_gpu.setdefault(r.gpu, []).append(r)
    groups: list[RecommendationGroup] = []
    if machine_wide:
        groups.append(RecommendationGroup("CPU (no GPU)" if no_gpu else "machine", machine_wide))
    seen: dict[tuple[tuple[str, str, bool | None], ...], list[int]] = {}
    items_of: dict[tuple[tuple[str, str, bool | None], ...], list[Recommendation]] = {}
    for gpu, items in sorted(per_gpu.items()):
        key = tuple((r.topic, r.value, r.supported) for r in items)
        seen.setdefault(key, []).append(gpu)
        items_of.setdefault(key, items)
    for key, gpus in seen.items():
        groups.append(RecommendationGroup(gpu_span(gpus), items_of[key]))
    return groups


def gpu_span(indices: Sequence[int]) -> str:
    """``GPU 0``, ``GPUs 0–3``, ``GPUs 0, 2, 5``."""
    if len(indices) == 1:
        return f"GPU {indices[0]}"
    if list(indices) == list(range(indices[0], indices[0] + len(indices))):
        return f"GPUs {indices[0]}–{indices[-1]}"
    return "GPUs " + ", ".join(str(i) for i in indices)


def recommendation_text(r: Recommendation) -> str:
    """A compact phrase for a recommendation: ``precision bf16``, ``fp8 yes``, ``flash-attention-3 unknown``.

    Long values (how to use it) are left to the Markdown and HTML reports, which show them in full.
    """
    value = r.value.strip()
    if value and len(value) <= 12 and " " not in value:
        return f"{r.topic} {value}"
    return f"{r.topic} " + {True: "yes", False: "no", None: UNKNOWN_WORD}[r.supported]


def finding_groups(findings: Sequence[Finding]) -> list[list[Finding]]:
    """Findings that say the same thing about several GPUs (same severity, code, fix and title but for the
    GPU number), grouped in order of first appearance; every other finding is a group of one."""
    groups: dict[tuple[str, str, str | None, str], list[Finding]] = {}
    out: list[list[Finding]] = []
    for f in findings:
        if f.gpu is None:
            out.append([f])
            continue
        key = (f.severity, f.code, f.fix, re.sub(r"\bGPU \d+\b", "GPU #", f.title))
        if key not in groups:
            groups[key] = []
            out.append(groups[key])
        groups[key].append(f)
    return out


def workload_summary(report: Report) -> str | None:
    """One line on a `check --workload` estimate, or None without one."""
    w = report.workload
    if w is None:
        return None
    what = _workload_words(w.workload)
    need = format_bytes(w.memory.total)
    if w.memory.per_gpu is not None:
        need += f" ({format_bytes(w.memory.per_gpu)} per GPU)"
    here = []
    if w.max_seq_len is not None:
        here.append(f"longest context {w.max_seq_len:,} tokens")
    if w.max_batch is not None:
        here.append(f"largest batch {w.max_batch:,}")
    if not report.machine.gpus:
        verdict = "no GPU here to run it on" if report.machine.gpus_known else "GPUs here unknown"
    elif any(f.code == "insufficient-memory" for f in report.findings):
        verdict = "does not fit here (see the finding above)"
    else:
        verdict = "fits here" + (f": {', '.join(here)}" if here else "")
    return f"{what}: needs {need}; {verdict}"


def _workload_words(spec: dict[str, object]) -> str:
    """The workload as people write it (``7B params inference bf16, seq 2048, batch 1``), not as a repr."""
    try:
        from advisor.recommend.workload import Workload

        return Workload.model_validate(spec).describe()
    except Exception:  # a report from another version: its keys, plainly
        return ", ".join(f"{k} {v}" for k, v in spec.items() if v not in (None, False))


def missing_note(m: Machine) -> str | None:
    """What the source lacked or timed out on, in words; None when nothing is missing."""
    parts = []
    if m.missing:
        parts.append("not in the source: " + ", ".join(m.missing))
    if m.probe_timeouts:
        parts.append("timed out: " + ", ".join(m.probe_timeouts))
    if not m.gpus_known:
        parts.append("the source says nothing about GPUs")
    return "; ".join(parts) or None


_CODE_SPAN = re.compile(r"`([^`\n]+)`")


def prose_segments(text: str) -> list[tuple[str, bool]]:
    """Split a detail/fix sentence into (text, is_code) parts at its `backtick` spans.

    Rules write commands inside backticks; renderers show those as code and the rest as escaped prose.
    """
    parts: list[tuple[str, bool]] = []
    pos = 0
    for m in _CODE_SPAN.finditer(text):
        if m.start() > pos:
            parts.append((text[pos : m.start()], False))
        parts.append((m.group(1), True))
        pos = m.end()
    if pos < len(text):
        parts.append((text[pos:], False))
    return parts
