"""Merge the parts of one paste into one Machine.

Richer sources win field by field (XML, then ``-q`` text, the table, ``nvidia-smi -L``, collect_env, loose
messages); a field one source leaves unknown is filled from the next. GPUs are matched by PCI bus id,
then by index when their names agree (a cut "Tesla V100-SXM2..." agrees with "Tesla V100-SXM2-32GB").
The driver's NVML state comes from the *latest* part in the paste that speaks about it.
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel

from advisor.dumps.partial import Partial
from advisor.machine import GPU, DriverInfo, JaxInfo, Machine, TensorflowInfo

_PRIORITY = {
    "nvidia-smi-xml": 0,
    "nvidia-smi-q": 1,
    "nvidia-smi": 2,
    "collect_env": 3,
    "report": 4,
    "messages": 5,
    "evidence": 6,
}
_SOURCE_ORDER = ("collect_env", "nvidia-smi", "nvidia-smi-q", "nvidia-smi-xml")
_M = TypeVar("_M", bound=BaseModel)


def merge(partials: list[Partial], problems: list[str] | None = None) -> Machine:
    """One Machine from every part; ``problems`` (unreadable parts) are recorded in ``missing``."""
    ordered = sorted(partials, key=lambda p: (_PRIORITY.get(p.kind, 9), p.position))
    # collect_env describes the host; an nvidia-smi table only hints at it (its WDDM column says
    # Windows, which under WSL is the host of the Linux the wheels are for).
    host = _fill_all([p.machine.host for p in sorted(ordered, key=lambda p: p.kind != "collect_env")])
    torch = _fill_all([p.machine.torch for p in ordered])
    messages: list[str] = []
    for p in ordered:
        messages += [m for m in p.machine.torch.init_messages if m not in messages]
    torch = torch.model_copy(update={"init_messages": messages})
    tensorflow, jax = _frameworks(ordered)
    driver = _driver(ordered)
    gpus = _gpus(ordered)
    gpus_known = any(p.machine.gpus_known for p in ordered) or bool(gpus)

    missing: list[str] = []
    for p in ordered:
        missing += [m for m in p.machine.missing if m not in missing]
    missing += problems or []
    if torch.version is None and torch.installed is None:
        missing.append("torch section")
    if not gpus_known:
        missing.append("GPU list")
    if driver.version is None and driver.nvml_ok is not False:
        missing.append("driver version")
    if host.os is None:
        missing.append("host section")

    accelerators: list[str] = []
    for p in ordered:
        accelerators += [a for a in p.machine.host.accelerators or [] if a not in accelerators]
    # "Intel integrated GPU" said by a message, "Intel integrated GPU (HD Graphics 520)" by a lister: one.
    accelerators = [a for a in accelerators if not any(b.startswith(a + " (") for b in accelerators)]
    if accelerators:
        host = host.model_copy(update={"accelerators": accelerators})
    evidence = sorted((e for p in ordered for e in p.machine.evidence), key=lambda e: e.line or 0)
    packages: dict[str, str] = {}
    for p in sorted(ordered, key=lambda p: p.position):
        for name, version in (p.machine.packages or {}).items():
            packages.setdefault(name, version)
    notes: list[str] = []
    for p in ordered:
        notes += [n for n in p.machine.notes if n not in notes]

    kinds = {"messages" if p.kind == "evidence" else p.kind for p in ordered}
    source = "+".join(k for k in _SOURCE_ORDER if k in kinds) or "+".join(sorted(kinds))
    return Machine(
        source=source,
        host=host,
        driver=driver,
        gpus=gpus,
        gpus_known=gpus_known,
        torch=torch,
        tensorflow=tensorflow,
        jax=jax,
        missing=missing,
        evidence=evidence,
        packages=packages or None,
        notes=notes,
    )


def _frameworks(ordered: list[Partial]) -> tuple[TensorflowInfo, JaxInfo]:
    """TensorFlow and JAX records filled field by field, their messages joined, then the package lists."""
    from advisor.dumps.frameworks import with_packages

    tf = _fill_all([p.machine.tensorflow for p in ordered])
    jax = _fill_all([p.machine.jax for p in ordered])
    tf_messages = list(dict.fromkeys(m for p in ordered for m in p.machine.tensorflow.messages))
    jax_messages = list(dict.fromkeys(m for p in ordered for m in p.machine.jax.messages))
    tf = tf.model_copy(update={"messages": tf_messages})
    jax = jax.model_copy(update={"messages": jax_messages})
    packages: dict[str, str] = {}
    for p in sorted(ordered, key=lambda p: p.position):
        for name, version in (p.machine.packages or {}).items():
            packages.setdefault(name, version)
    return with_packages(tf, jax, packages)


def fill(base: _M, other: _M) -> _M:
    """``base`` with each unknown (None) field taken from ``other``, recursively for nested records."""
    update = {}
    for name in type(base).model_fields:
        a, b = getattr(base, name), getattr(other, name)
        if a is None and b is not None:
            update[name] = b
        elif isinstance(a, BaseModel) and isinstance(b, BaseModel):
            update[name] = fill(a, b)
    return base.model_copy(update=update) if update else base


def _fill_all(records: list[_M]) -> _M:
    result = records[0]
    for r in records[1:]:
        result = fill(result, r)
    return result


def _driver(ordered: list[Partial]) -> DriverInfo:
    driver = _fill_all([p.machine.driver for p in ordered])
    speaking = [p for p in ordered if p.machine.driver.nvml_ok is not None]
    if speaking:
        latest = max(speaking, key=lambda p: p.position).machine.driver
        error = latest.nvml_error if latest.nvml_ok is False else None
        driver = driver.model_copy(update={"nvml_ok": latest.nvml_ok, "nvml_error": error})
    return driver


def _norm(name: str) -> str:
    s = " ".join(name.lower().split())
    s = s.removesuffix("...").removesuffix("…").strip()
    return s.removeprefix("nvidia ").strip()


def _cut(name: str) -> bool:
    return name.rstrip().endswith(("...", "…"))


def _compatible(a: str | None, b: str | None) -> bool:
    if a is None or b is None:
        return True
    na, nb = _norm(a), _norm(b)
    return na == nb or (_cut(a) and nb.startswith(na)) or (_cut(b) and na.startswith(nb))


def _find(gpus: list[GPU], g: GPU, match: str) -> int | None:
    if g.pci_bus_id is not None:
        for i, r in enumerate(gpus):
            if r.pci_bus_id == g.pci_bus_id:
                return i
    if match in {"index", "position"}:
        for i, r in enumerate(gpus):
            same_bus = r.pci_bus_id is None or g.pci_bus_id is None
            if r.index == g.index and same_bus and _compatible(r.name, g.name):
                return i
    return None


def _merge_gpu(base: GPU, other: GPU, match: str) -> GPU:
    merged = fill(base, other)
    update: dict[str, object] = {"lost": base.lost or other.lost}
    if base.name and other.name and _cut(base.name) and not _cut(other.name):
        update["name"] = other.name
    if match == "index" and other.index != base.index:
        update["index"] = other.index  # a named index beats a position in -q/XML output
    return merged.model_copy(update=update)


def _gpus(ordered: list[Partial]) -> list[GPU]:
    gpus: list[GPU] = []
    for p in ordered:
        for g in p.machine.gpus:
            if p.match == "name":
                same = [i for i, r in enumerate(gpus) if r.name and g.name and _norm(r.name) == _norm(g.name)]
                for k in same:
                    gpus[k] = _merge_gpu(gpus[k], g.model_copy(update={"index": gpus[k].index}), "name")
                if same:
                    continue
            found = _find(gpus, g, p.match)
            if found is not None:
                gpus[found] = _merge_gpu(gpus[found], g, p.match)
            elif p.match in {"bus", "name"}:
                gpus.append(g.model_copy(update={"index": max((r.index for r in gpus), default=-1) + 1}))
            else:
                gpus.append(g)
    gpus.sort(key=lambda g: (g.index, g.pci_bus_id or ""))
    if len({g.index for g in gpus}) != len(gpus):
        # Two outputs that each number their GPUs from 0 (e.g. `nvidia-smi -q -i 0` and `-i 1`).
        gpus = [g.model_copy(update={"index": i}) for i, g in enumerate(gpus)]
    return gpus
