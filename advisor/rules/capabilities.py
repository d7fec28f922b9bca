"""What this machine is good for: precision, TF32, FlashAttention, FP8 and torch.compile, per GPU.

Pure: ``capabilities(machine, knowledge) -> list[Recommendation]``. Every threshold comes from the
``features`` compat table (catalog/compat/features.yaml, compat.md §4); this module only words them.
GPUs of the same model and compute capability are answered once, machine-wide (``gpu=None``), with
the reason naming them; a mixed machine gets one set per GPU. A machine without a GPU gets one
CPU precision recommendation.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from advisor.knowledge.features import Feature, find_feature
from advisor.knowledge.match import identify_gpu, match_gpu, with_bus_device_id
from advisor.machine import GPU, Machine
from advisor.report import Recommendation
from advisor.units import format_cc, parse_cc

if TYPE_CHECKING:
    from advisor.knowledge.base import Knowledge
    from advisor.knowledge.cards import Card

# CPU flags that give native bf16 arithmetic (Linux /proc/cpuinfo names): AVX512-BF16 (Cooper Lake,
# Zen 4+) and AMX-BF16 (Sapphire Rapids+). Intel ISA reference / Linux cpufeatures.h names.
_CPU_BF16_FLAGS = ("avx512_bf16", "amx_bf16")


class _Target:
    """A group of identical GPUs: the facts every recommendation for them needs."""

    def __init__(self, gpus: list[GPU], cc: tuple[int, int] | None, card: Card | None) -> None:
        self.gpus = gpus
        self.cc = cc
        self.card = card

    @property
    def index(self) -> int | None:
        return self.gpus[0].index if len(self.gpus) == 1 else None

    @property
    def who(self) -> str:
        name = self.gpus[0].name or (self.card.name if self.card else "unknown GPU")
        cc = f", CC {format_cc(self.cc)}" if self.cc else ""
        if len(self.gpus) == 1:
            return f"GPU {self.gpus[0].index} ({name}{cc})"
        return f"all {len(self.gpus)} GPUs ({name}{cc})"


def capabilities(machine: Machine, knowledge: Knowledge) -> list[Recommendation]:
    """Recommendations per GPU group; a CPU precision recommendation when the machine has no GPU."""
    features = list(knowledge.compat.features.entries)
    # The bus listing (lspci -nn) names the device a cut nvidia-smi name hides.
    pci = machine.driver.pci_devices
    nvidia = [with_bus_device_id(g, pci) for g in machine.gpus if g.vendor == "nvidia" and not g.lost]
    if not machine.gpus:
        return _cpu(machine) if machine.gpus_known else []
    out: list[Recommendation] = []
    for target in _targets(nvidia, knowledge.cards):
        out += _for_target(target, features, machine.torch.cuda_version)
    return out


def _targets(gpus: list[GPU], cards: Iterable[Card]) -> list[_Target]:
    cards = tuple(cards)
    resolved = []
    for gpu in gpus:
        card = match_gpu(gpu, cards)
        cc = parse_cc(gpu.compute_capability) or (card.cc if card else None)
        if cc is None and (ident := identify_gpu(gpu)) is not None:
            cc = parse_cc(ident.compute_capability)  # not in the spec catalog, yet its CC is known
        resolved.append((gpu, cc, card))
    keys = {(g.name, cc) for g, cc, _ in resolved}
    if len(keys) == 1 and resolved:
        _, cc, card = resolved[0]
        return [_Target([g for g, _, _ in resolved], cc, card)]
    return [_Target([g], cc, card) for g, cc, card in resolved]


def _rec(target: _Target, topic: str, supported: bool | None, value: str, reason: str) -> Recommendation:
    return Recommendation(topic=topic, gpu=target.index, supported=supported, value=value, reason=reason)


def _for_target(target: _Target, features: list[Feature], torch_cuda: str | None) -> list[Recommendation]:
    if target.cc is None:
        return [
            _rec(
                target,
                "precision",
                None,
                "unknown",
                f"{target.who}: compute capability unknown (GPU not in the catalog and the source did not "
                "report it), so precision and kernel features cannot be judged.",
            )
        ]
    out = [_precision(target, features)]
    for topic in ("tf32", "flash-attention-2", "flash-attention-3", "fp8", "torch-compile"):
        feature = find_feature(features, topic)
        if feature is not None:
            out.append(_feature(target, feature, torch_cuda))
    return out


def _has(target: _Target, feature: Feature | None) -> bool:
    if feature is None or not feature.supports_cc(target.cc):
        return False
    return not feature.excludes_chip(target.card.chip if target.card else None)


def _precision(target: _Target, features: list[Feature]) -> Recommendation:
    cc = format_cc(target.cc)
    bf16 = find_feature(features, "bf16")
    fp16 = find_feature(features, "fp16-tensor-cores")
    if bf16 is not None and _has(target, bf16):
        return _rec(
            target,
            "precision",
            True,
            "bf16",
            f"{target.who}: native BF16 tensor cores (CC {cc} >= {bf16.min_cc}). Train in bf16 mixed "
            f"precision: {bf16.how or 'torch.autocast(dtype=torch.bfloat16)'}; bf16 has fp32's range, so "
            "no GradScaler is needed.",
        )
    if fp16 is not None and _has(target, fp16):
        emulated = f" Avoid bf16 here: below CC {bf16.min_cc} it is emulated and slow." if bf16 else ""
        return _rec(
            target,
            "precision",
            True,
            "fp16",
            f"{target.who}: FP16 tensor cores (CC {cc} >= {fp16.min_cc}) but no native bf16. Use fp16 mixed "
            f"precision with loss scaling: {fp16.how or 'torch.autocast + GradScaler'}.{emulated}",
        )
    why = "no tensor cores"
    if fp16 is not None and fp16.excludes_chip(target.card.chip if target.card else None):
        why += f" ({target.card.chip if target.card else ''} lacks them)"
    elif fp16 is not None:
        why += f" (CC {cc} < {fp16.min_cc})"
    return _rec(
        target,
        "precision",
        True,
        "fp32",
        f"{target.who}: {why}. Train in fp32; fp16 autocast still halves activation memory but brings "
        "little or no speed-up, and bf16 is emulated.",
    )


def _feature(target: _Target, feature: Feature, torch_cuda: str | None) -> Recommendation:
    cc = format_cc(target.cc)
    supported = feature.supports(target.cc, torch_cuda)
    if supported is not False and feature.excludes_chip(target.card.chip if target.card else None):
        supported = False
    low, high = feature.cc_range
    span = f"CC {feature.min_cc}" + (f" to {feature.max_cc}" if high is not None and high != low else "")
    if high == low:
        span = f"CC {feature.min_cc} only"
    note = f" {feature.notes}" if feature.notes else ""
    if supported is True:
        official = feature.officially_supported(target.cc)
        caveat = (
            f" Works, but upstream officially supports CC {feature.official_min_cc}+ only."
            if official is False
            else ""
        )
        return _rec(
            target,
            feature.id,
            True,
            feature.how or "yes",
            f"{target.who}: {feature.name}: yes (needs {span}; this GPU has CC {cc}).{caveat}",
        )
    if supported is None:  # CC fits but the CUDA version it also needs is unknown
        return _rec(
            target,
            feature.id,
            None,
            "unknown",
            f"{target.who}: {feature.name} needs {span} (this GPU: CC {cc}) and CUDA >= {feature.min_cuda}; "
            f"the installed torch's CUDA version is unknown.{note}",
        )
    # The notes explain rejections of newer GPUs and CUDA gates; below the minimum the CC says it all.
    if feature.supports_cc(target.cc) and feature.min_cuda:
        why = f"needs CUDA >= {feature.min_cuda}; the installed torch was built with CUDA {torch_cuda}.{note}"
    elif high is not None and target.cc is not None and target.cc > high:
        why = f"needs {span}; CC {cc} is newer than the range it accepts.{note}"
    elif feature.supports_cc(target.cc):  # in range, but the chip lacks it (except_chips)
        chip = target.card.chip if target.card else "this chip"
        why = f"is missing on {chip} although CC {cc} is in range.{note}"
    else:
        why = f"needs {span}; this GPU has CC {cc}."
    return _rec(target, feature.id, False, "no", f"{target.who}: {feature.name}: no, {why}")


def _cpu(machine: Machine) -> list[Recommendation]:
    flags = machine.host.cpu_flags
    if flags is None:
        value, reason = "fp32", "No GPU; the CPU's instruction set is unknown, so assume fp32."
    else:
        present = [f for f in _CPU_BF16_FLAGS if f in {x.lower() for x in flags}]
        if present:
            value = "bf16"
            reason = (
                f"No GPU; the CPU has native bf16 ({', '.join(present)}): "
                "torch.autocast('cpu', dtype=torch.bfloat16) speeds up matmuls."
            )
        else:
            value = "fp32"
            reason = "No GPU, and the CPU has no native bf16 (no avx512_bf16/amx_bf16): train in fp32."
    return [Recommendation(topic="precision", gpu=None, supported=True, value=value, reason=reason)]
