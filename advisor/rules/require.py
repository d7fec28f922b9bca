"""`--require` gates: ``KEY OP VALUE`` or a bare feature name; each unmet gate is a requirement-unmet error.

Keys (case-insensitive, spaces allowed, ``_`` and ``-`` interchangeable):

- ``memory`` (alias ``vram``, ``mem``): total memory of *every* GPU, with a unit: ``memory>=24GiB``,
  ``memory>=80GB``. NVML's total excludes what the driver reserves (an H100 80GB reports 81559 MiB),
  so values within 2% of the asked size count as equal to it.
- ``cc`` (alias ``compute-capability``): compute capability of every GPU: ``cc>=8.0``, ``cc>=sm_80``.
- ``gpus`` (alias ``gpu``): how many usable GPUs the machine has: ``gpus>=2``.
- ``cuda``: the CUDA version the installed torch was built with (``torch.version.cuda``): ``cuda>=12.1``.
- ``driver-cuda``: the highest CUDA the installed driver supports (nvidia-smi's "CUDA Version").
- ``driver``: the NVIDIA driver version: ``driver>=535``.
- ``torch``: the installed torch version (a local suffix such as ``+cu121`` is ignored unless asked):
  ``torch>=2.1``.
- ``tensorflow`` (alias ``tf``) and ``jax``: the installed TensorFlow / JAX version: ``tensorflow>=2.16``,
  ``jax>=0.4.30``.
- ``tf-gpu`` / ``jax-gpu`` (bare): TensorFlow / JAX lists at least one GPU device (what their probes saw).
- a bare feature name from the features table: ``bf16``, ``tf32``, ``fp8``, ``flash-attention-2``,
  ``flash-attention-3``, ``torch-compile`` ...: supported on every GPU.

Operators: ``>= > <= < == !=`` (``=`` is read as ``==``). A gate whose fact is unknown (a dump without
torch, a GPU whose memory was not read) is *unmet*: a CI gate must not pass on missing facts; the
finding's detail says it could not be verified.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from packaging.version import InvalidVersion, Version

from advisor.errors import InputError
from advisor.knowledge.features import Feature, find_feature
from advisor.knowledge.match import match_gpu
from advisor.machine import GPU, Machine
from advisor.report import Finding
from advisor.units import format_bytes, format_cc, parse_cc, parse_size

if TYPE_CHECKING:
    from advisor.knowledge.base import Knowledge

Key = Literal[
    "memory",
    "cc",
    "gpus",
    "cuda",
    "driver-cuda",
    "driver",
    "torch",
    "tensorflow",
    "jax",
    "tf-gpu",
    "jax-gpu",
    "feature",
]
Op = Literal[">=", ">", "<=", "<", "==", "!="]

_ALIASES: dict[str, Key] = {
    "memory": "memory",
    "mem": "memory",
    "vram": "memory",
    "gpu-memory": "memory",
    "cc": "cc",
    "compute-capability": "cc",
    "gpus": "gpus",
    "gpu": "gpus",
    "cuda": "cuda",
    "torch-cuda": "cuda",
    "driver-cuda": "driver-cuda",
    "driver": "driver",
    "torch": "torch",
    "tensorflow": "tensorflow",
    "tf": "tensorflow",
    "jax": "jax",
}
# Bare gates that are not features: a framework that lists a GPU device.
_FRAMEWORK_GPU: dict[str, Key] = {"tf-gpu": "tf-gpu", "tensorflow-gpu": "tf-gpu", "jax-gpu": "jax-gpu"}
_OPS: dict[Op, Callable[[Any, Any], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}
VALID_KEYS = (
    "memory, cc, gpus, cuda, driver-cuda, driver, torch, tensorflow, jax, tf-gpu, jax-gpu, "
    "or a bare feature name (bf16, tf32, fp8, ...)"
)
EXAMPLES = (
    '"memory>=24GiB", "cc>=8.0", "gpus>=2", "cuda>=12.1", "driver>=535", "torch>=2.1", "tensorflow>=2.16", '
    '"jax>=0.4.30", "tf-gpu", "bf16"'
)
_EXPR_RE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_\- ]*?)\s*(>=|<=|==|!=|=|>|<)\s*(\S(?:.*\S)?)\s*$")
_FEATURE_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")

_NO_GPU_FACTS = (
    "could not verify: the source does not say which GPUs the machine has; "
    "an unverifiable gate counts as unmet."
)

# NVML's total excludes memory the driver reserves (H100 80GB HBM3: 81559 MiB of 81920 MiB, fixture
# q-8x-h100-sxm-80gb; RTX 4090: 24564 MiB of 24576, fixture 55): sizes this close count as equal.
MEMORY_TOLERANCE = 0.02


@dataclass(frozen=True)
class Requirement:
    """One parsed gate. ``value`` is bytes (memory), (major, minor) (cc), int (gpus) or a Version."""

    text: str
    key: Key
    op: Op | None = None  # None for a bare feature
    value: int | tuple[int, int] | Version | None = None
    feature: str | None = None


def _bad(expr: str, why: str) -> InputError:
    return InputError(f"bad requirement {expr!r}: {why}. Valid keys: {VALID_KEYS}. Examples: {EXAMPLES}")


def parse_requirement(expr: str, feature_ids: Iterable[str] | None = None) -> Requirement:
    """Parse one gate; raise InputError naming the valid keys on bad syntax.

    ``feature_ids``, when given, is the set of known bare feature names; without it any well-formed
    name is accepted here and checked against the features table by ``check_requirements``.
    """
    text = expr.strip()
    if not text:
        raise _bad(expr, "it is empty")
    m = _EXPR_RE.match(text)
    if m is None:
        name = re.sub(r"[\s_]+", "-", text.lower())
        if re.search(r"[<>=!]", text):
            raise _bad(expr, "expected KEY OP VALUE with OP one of >= > <= < == !=")
        if not _FEATURE_RE.match(name):
            raise _bad(expr, "not a key comparison nor a feature name")
        if name in _ALIASES:
            raise _bad(expr, f"{name!r} needs a comparison, e.g. {name}>=...")
        if name in _FRAMEWORK_GPU:
            return Requirement(text=text, key=_FRAMEWORK_GPU[name])
        known = None if feature_ids is None else {f.lower() for f in feature_ids}
        if known is not None and name not in known:
            raise _bad(expr, f"unknown feature {name!r} (known: {', '.join(sorted(known))})")
        return Requirement(text=text, key="feature", feature=name)
    raw_key, raw_op, raw_value = m.groups()
    key = _ALIASES.get(re.sub(r"[\s_]+", "-", raw_key.strip().lower()))
    if key is None:
        raise _bad(expr, f"unknown key {raw_key.strip()!r}")
    if raw_value.strip()[0] in "<>=!":  # "memory=>24GiB", "cc>>8"
        raise _bad(expr, "expected KEY OP VALUE with OP one of >= > <= < == !=")
    op: Op = "==" if raw_op == "=" else raw_op  # type: ignore[assignment]
    return Requirement(text=text, key=key, op=op, value=_parse_value(expr, key, raw_value.strip()))


def _parse_value(expr: str, key: Key, raw: str) -> int | tuple[int, int] | Version:
    if key == "memory":
        if re.fullmatch(r"[0-9]*\.?[0-9]+", raw):
            raise _bad(expr, "memory needs a unit, e.g. 24GiB or 80GB")
        try:
            return parse_size(raw)
        except InputError as exc:
            raise _bad(expr, str(exc)) from None
    if key == "cc":
        cc = parse_cc(raw) or ((int(raw), 0) if re.fullmatch(r"\d", raw) else None)
        if cc is None:
            raise _bad(expr, f"{raw!r} is not a compute capability (try 8.0 or sm_80)")
        return cc
    if key == "gpus":
        if not re.fullmatch(r"\d{1,4}", raw):
            raise _bad(expr, f"{raw!r} is not a GPU count")
        return int(raw)
    try:
        version = Version(raw)
    except InvalidVersion:
        raise _bad(expr, f"{raw!r} is not a version (try 12.1 or 535.104)") from None
    if version.epoch or len(version.release) > 6:
        raise _bad(expr, f"{raw!r} is not a plausible version")
    return version


def check_requirements(machine: Machine, knowledge: Knowledge, exprs: list[str]) -> list[Finding]:
    """One requirement-unmet error per gate that is not met or cannot be verified."""
    features = list(knowledge.compat.features.entries)
    ids = [f.id for f in features]
    findings = []
    for expr in exprs:
        req = parse_requirement(expr, ids)
        problem = _unmet(req, machine, knowledge, features)
        if problem is not None:
            findings.append(
                Finding(
                    code="requirement-unmet",
                    severity="error",
                    title=f"Requirement not met: {req.text}",
                    detail=problem,
                    # A missing fact is no reason to upgrade anything: ask for the fact instead.
                    fix=_MISSING_FIX if problem.startswith("could not verify") else _fix(req),
                )
            )
    return findings


_MISSING_FIX = (
    "Nothing to change for this gate yet: give advisor the missing fact (run it on the machine, or paste "
    "`nvidia-smi` and `python -m torch.utils.collect_env` output), then check again."
)


def _compare(op: Op, seen: object, wanted: object) -> bool:
    return _OPS[op](seen, wanted)


def _unmet(req: Requirement, machine: Machine, knowledge: Knowledge, features: list[Feature]) -> str | None:
    """None when met, else why (citing the value seen, or what was missing)."""
    if req.key == "gpus":
        return _gpus(req, machine)
    if req.key in ("tf-gpu", "jax-gpu"):
        return _framework_gpu(req.key, machine)
    if req.key in ("memory", "cc", "feature"):
        return _per_gpu(req, machine, knowledge, features)
    seen_text = {
        "cuda": machine.torch.cuda_version,
        "driver-cuda": machine.driver.cuda_version,
        "driver": machine.driver.version,
        "torch": machine.torch.version,
        "tensorflow": machine.tensorflow.version,
        "jax": machine.jax.version,
    }[req.key]
    what = {
        "cuda": "the CUDA version torch was built with",
        "driver-cuda": "the highest CUDA the driver supports",
        "driver": "the NVIDIA driver version",
        "torch": "the torch version",
        "tensorflow": "the TensorFlow version",
        "jax": "the JAX version",
    }[req.key]
    assert req.op is not None and isinstance(req.value, Version)
    derived = ""
    if seen_text is None and req.key == "driver-cuda" and machine.driver.version:
        # Not reported, but the driver's branch says it (driver 550 → CUDA 12.4), as elsewhere in the report.
        from advisor.knowledge.cuda_driver import driver_max_cuda

        mx = driver_max_cuda(knowledge.compat, machine.driver.version)
        if mx is not None and not mx.at_least:
            seen_text = str(mx.cuda)
            derived = f" (driver {machine.driver.version}, by the branch table)"
    if seen_text is None:
        extra = (
            " (a CPU-only or ROCm torch build has none)"
            if req.key == "cuda" and machine.torch.version
            else ""
        )
        return f"could not verify: {what} is unknown{extra}, and an unverifiable gate counts as unmet."
    try:
        seen = Version(seen_text)
    except InvalidVersion:
        return f"could not verify: {what} is {seen_text!r}, which is not a version."
    wanted = req.value
    if not (wanted.local or wanted.pre or wanted.dev):  # torch 2.2.0a0+git… counts as 2.2.0
        seen = Version(seen.base_version)
    if _compare(req.op, seen, wanted):
        return None
    return f"{what} is {seen_text}{derived}; the gate asks {req.op} {wanted}."


def _framework_gpu(key: Key, machine: Machine) -> str | None:
    """tf-gpu / jax-gpu: met when the framework itself lists a GPU device."""
    if key == "tf-gpu":
        name, devices, absent = "TensorFlow", machine.tensorflow.gpus, machine.tensorflow.installed is False
    else:
        j = machine.jax
        name, absent = "JAX", j.installed is False
        gpu = [d for d in j.devices or [] if (d.platform or "").lower() in ("gpu", "cuda", "rocm")]
        devices = gpu if j.devices is not None else None
    if absent:
        return f"{name} is not installed here."
    t, j = machine.tensorflow, machine.jax
    if devices is None and key == "tf-gpu" and t.is_cuda_build is False and not t.is_rocm_build:
        return f"TensorFlow {t.version or ''} is a CPU-only build, so it can list no GPU.".replace("  ", " ")
    if devices is None and key == "jax-gpu" and j.plugins == {} and "+cuda" not in (j.jaxlib_version or ""):
        return "JAX has no CUDA plugin (a CPU-only jaxlib), so it can list no GPU."
    if devices is None:
        return (
            f"could not verify: the source does not say which devices {name} sees; "
            "an unverifiable gate counts as unmet."
        )
    if devices:
        return None
    return f"{name} lists no GPU device, so it runs on the CPU."


def _gpus(req: Requirement, machine: Machine) -> str | None:
    assert req.op is not None
    if not machine.gpus_known:
        return _NO_GPU_FACTS
    usable = [g for g in machine.gpus if not g.lost]
    count = len(usable)
    if _compare(req.op, count, req.value):
        return None
    lost = len(machine.gpus) - count
    return (
        f"the machine has {count} usable GPU(s)"
        + (f" ({lost} lost)" if lost else "")
        + f"; the gate asks {req.op} {req.value}."
    )


def _per_gpu(req: Requirement, machine: Machine, knowledge: Knowledge, features: list[Feature]) -> str | None:
    if not machine.gpus_known:
        return _NO_GPU_FACTS
    gpus = [g for g in machine.gpus if not g.lost]
    if not gpus:
        return "the machine has no usable GPU, so no GPU satisfies it."
    failing, unknown = [], []
    for gpu in gpus:
        verdict, seen = _gpu_verdict(req, gpu, knowledge, features, machine.torch.cuda_version)
        label = f"GPU {gpu.index}" + (f" ({gpu.name})" if gpu.name else "")
        if verdict is None:
            unknown.append(f"{label}: {seen}")
        elif not verdict:
            failing.append(f"{label}: {seen}")
    if not failing and not unknown:
        return None
    parts = []
    if failing:
        parts.append(f"{len(failing)} of {len(gpus)} GPU(s) fail: " + "; ".join(failing))
    if unknown:
        parts.append(
            f"could not verify {len(unknown)} GPU(s): "
            + "; ".join(unknown)
            + " (an unverifiable gate counts as unmet)"
        )
    return ". ".join(parts) + "."


def _gpu_verdict(
    req: Requirement, gpu: GPU, knowledge: Knowledge, features: Sequence[Feature], torch_cuda: str | None
) -> tuple[bool | None, str]:
    """(met?, the value seen in words) for one GPU; met is None when the fact is unknown."""
    if req.key == "memory":
        total, how = gpu.memory_total_bytes, "read"
        if total is None:
            # A dump without sizes (collect_env lists names only): the catalog card's size, when the name
            # identifies exactly one card.
            card = match_gpu(gpu, knowledge.cards)
            if card is None:
                return None, "memory size unknown"
            total, how = card.memory_bytes, f"the catalog size of {card.name}"
        assert req.op is not None and isinstance(req.value, int)
        wanted = req.value
        # Within the tolerance the sizes are equal: compare the asked size with itself.
        seen_cmp = wanted if abs(total - wanted) <= MEMORY_TOLERANCE * wanted else total
        seen = f"{format_bytes(total)} ({total} bytes)" if how == "read" else f"{format_bytes(total)} ({how})"
        return _compare(req.op, seen_cmp, wanted), seen
    card = match_gpu(gpu, knowledge.cards) if gpu.compute_capability is None or req.key == "feature" else None
    cc = parse_cc(gpu.compute_capability) or (card.cc if card else None)
    if cc is None:
        return None, "compute capability unknown (GPU not in the catalog)"
    if req.key == "cc":
        assert req.op is not None
        return _compare(req.op, cc, req.value), f"CC {format_cc(cc)}"
    assert req.feature is not None
    feature = find_feature(features, req.feature)
    if feature is None:  # parse_requirement checked the name against the same table
        return None, f"feature {req.feature!r} unknown"
    ok = feature.supports(cc, None if feature.min_cuda is None else torch_cuda)
    if ok and feature.excludes_chip(card.chip if card else None):
        ok = False
    span = f"needs CC {feature.min_cc}" + (f" to {feature.max_cc}" if feature.max_cc else "+")
    if feature.min_cuda:
        span += f" and CUDA >= {feature.min_cuda}"
    return ok, f"CC {format_cc(cc)} ({feature.name} {span})"


def _fix(req: Requirement) -> str:
    if req.key in ("memory", "cc", "gpus", "feature"):
        return (
            "Run on a machine whose GPUs meet it (`advisor recommend` and `advisor catalog` list such cards)."
        )
    if req.key == "torch":
        return "Install a matching torch: see the install recommendation in this report."
    if req.key in ("tensorflow", "tf-gpu"):
        return (
            'Install a TensorFlow GPU build that fits, e.g. pip install "tensorflow[and-cuda]" (Linux/WSL2).'
        )
    if req.key in ("jax", "jax-gpu"):
        return 'Install JAX with CUDA support, e.g. pip install -U "jax[cuda12]" (Linux/WSL2).'
    if req.key in ("driver", "driver-cuda"):
        return "Install a newer NVIDIA driver from your distribution or https://www.nvidia.com/Download/index.aspx."
    return "Install a torch build for that CUDA version (see the install recommendation in this report)."
