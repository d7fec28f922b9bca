"""The evidence catalogue (catalog/evidence/*.yaml): messages GPU software prints, what each implies.

Read by the one matcher in advisor.dumps.evidence (to find them in pastes) and by
advisor.rules.evidence (to report the codes a message alone establishes). Data only; loaded once.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Fact names an entry may set (the catalogue is checked against this list when it is loaded).
FACTS = frozenset(
    {
        "nvml_ok",
        "nvml_error",
        "library_version",
        "kernel_module_version",
        "cuda_available",
        "built_with_cuda",
        "torch_installed",
        "device_count",
        "gpu_present",
        "gpu_lost",
        "gpu_working",
        "gpu_listed",
        "build_cc",
        "gpu_list",
        "pid",
        "import_error",
        "used",
        "handle_error",
        "arches",
        "rocm_build",
        "os_hint",
        "cuda_visible_devices",
        "device",
        "free",
        "total",
        "bus",
        "gpu_name",
        "pci_id",
        "cc",
        "sm",
        "index",
        "found_version",
        "legacy_branch",
        "driver_version",
        "refusal",
        "accelerator",
        "container",
        "torch_message",
        "xid",
        "cuda_error",
        "needs_cuda",
        "needs_driver",
        "needs_torch",
        "cudnn_compiled",
        "cudnn_runtime",
    }
)


@dataclass(frozen=True)
class Entry:
    """One catalogue message (catalog/evidence/README.md describes the fields)."""

    id: str
    needles: tuple[str, ...]
    regex: str | None  # compiled by the matcher on first use
    lines: int
    before: int
    facts: dict[str, str]
    code: str | None
    emit: bool
    when: str
    severity: str | None
    title: str | None
    fix: str | None
    meaning: str
    source: str


def catalog_dir() -> Path:
    """catalog/evidence of the shipped catalog (``advisor/_catalog`` in a wheel, else the repo's)."""
    import advisor

    package = Path(advisor.__file__).resolve().parent
    bundled = package / "_catalog"
    return (bundled if bundled.is_dir() else package.parent / "catalog") / "evidence"


@functools.cache
def entries() -> tuple[Entry, ...]:
    """Every catalogue entry, in file order (files sorted by name). Raises ValueError on a bad entry."""
    out: list[Entry] = []
    seen: set[str] = set()
    for name, data in _parsed(sorted(catalog_dir().glob("*.yaml"))):
        path = Path(name)
        for raw in (data or {}).get("entries") or []:
            entry = _entry(raw, path.name)
            if entry.id in seen:
                raise ValueError(f"{path.name}: duplicate evidence id {entry.id!r}")
            seen.add(entry.id)
            out.append(entry)
    return tuple(out)


_FORMAT = 1


def _parsed(paths: list[Path]) -> list[tuple[str, Any]]:
    """(file name, parsed YAML) per file, from a JSON copy in the cache folder keyed on the files' sizes and
    mtimes (importing PyYAML and parsing costs ~50 ms a run; reading the copy well under one)."""
    from advisor.knowledge.parse_cache import cache_dir, read_private, write_private

    stats = [(p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in paths]
    key = hashlib.sha256(repr((_FORMAT, str(catalog_dir()), stats)).encode()).hexdigest()[:16]
    folder = cache_dir()
    cached = folder / f"evidence-v{_FORMAT}-{key}.json" if folder is not None else None
    if cached is not None and (raw := read_private(cached)) is not None:
        try:
            data = json.loads(raw)
            if isinstance(data, list):
                return [(str(name), value) for name, value in data]
        except (ValueError, TypeError):
            pass
    import yaml

    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    parsed = [(p.name, yaml.load(p.read_text(encoding="utf-8"), Loader=loader)) for p in paths]
    if cached is not None:
        with contextlib.suppress(OSError):
            write_private(cached, json.dumps(parsed).encode())
    return parsed


def _entry(raw: dict[str, Any], where: str) -> Entry:
    ident = str(raw.get("id") or "")
    match = raw.get("match")
    needles = tuple(str(m) for m in (match if isinstance(match, list) else [match]) if m)
    if not ident or not needles or not raw.get("source"):
        raise ValueError(f"{where}: evidence entry {ident or raw!r} needs id, match and source")
    facts = {str(k): str(v) for k, v in (raw.get("facts") or {}).items()}
    unknown = set(facts) - FACTS
    if unknown:
        raise ValueError(f"{where}: {ident}: unknown fact(s) {sorted(unknown)}")
    regex = raw.get("regex")  # compiled (and its groups checked against FACTS) by the matcher on first use
    return Entry(
        id=ident,
        needles=needles,
        regex=str(regex) if regex else None,
        lines=max(1, min(int(raw.get("lines") or 1), 8)),
        before=max(0, min(int(raw.get("before") or 0), 4)),
        facts=facts,
        code=str(raw["code"]) if raw.get("code") else None,
        emit=bool(raw.get("emit")),
        when=str(raw.get("when") or "always"),
        severity=str(raw["severity"]) if raw.get("severity") else None,
        title=str(raw["title"]) if raw.get("title") else None,
        fix=str(raw["fix"]) if raw.get("fix") else None,
        meaning=str(raw.get("meaning") or ""),
        source=str(raw["source"]),
    )


@functools.cache
def by_id() -> dict[str, Entry]:
    return {e.id: e for e in entries()}
