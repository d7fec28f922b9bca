"""Which GPUs the software stack sees: no-gpu, unknown-gpu (not in the card catalog) and
cuda-visible-devices-hides-gpu.

Pure: each check takes the shared ``Facts`` (advisor.rules.software_facts) and returns findings;
advisor.rules.software runs them.
"""

from __future__ import annotations

import re

from advisor.knowledge.match import match_gpu
from advisor.machine import GPU
from advisor.report import Finding, Severity
from advisor.rules.software_facts import Facts, name_candidates


def no_gpu(f: Facts) -> list[Finding]:
    """no-gpu: the source lists no GPU and no NVIDIA PCI device, and torch sees none either."""
    m = f.machine
    if f.nvidia_present or m.gpus or not m.gpus_known:
        return []
    if m.torch.cuda_available or (m.torch.device_count or 0) > 0:
        return []
    nvml = f" NVML: {m.driver.nvml_error.strip()}." if m.driver.nvml_error else ""
    pci = "" if m.driver.pci_devices is not None else " The PCI bus was not read."
    return [
        Finding(
            code="no-gpu",
            severity="warning",
            title="No GPU found",
            detail="The source lists no GPU and no NVIDIA PCI device; PyTorch will run on the CPU."
            + nvml
            + pci
            + f.missing_note(),
            fix="If this machine should have a GPU: check `lspci | grep -i nvidia`, the driver, and (in a "
            "container) that it was started with GPU access.",
        )
    ]


def unknown_gpus(f: Facts) -> list[Finding]:
    """One info per GPU model the catalog does not know (several identical GPUs: one finding)."""
    groups: dict[str, list[GPU]] = {}
    for gpu in f.machine.gpus:
        if gpu.name and match_gpu(gpu, f.cards) is None:
            groups.setdefault(gpu.name, []).append(gpu)
    out = []
    for name, gpus in groups.items():
        first = gpus[0]
        pci = f" (PCI device 0x{first.pci_device_id:04x})" if first.pci_device_id is not None else ""
        verb = "reports" if len(gpus) == 1 else "report"
        which = f"GPU {first.index}" if len(gpus) == 1 else f"GPUs {', '.join(str(g.index) for g in gpus)}"
        skus = name_candidates(name, f.cards)
        if name.rstrip().endswith(("...", "…")):
            out.append(
                Finding(
                    code="unknown-gpu",
                    severity="info",
                    gpu=first.index if len(gpus) == 1 else None,
                    title=f"{name}: nvidia-smi cut the GPU name",
                    detail=f"{which} {verb} the name {name!r}, cut short by the nvidia-smi table, so the "
                    "card (and, unless the source gives it, its compute capability) cannot be identified.",
                    fix="Paste `nvidia-smi -L` or `nvidia-smi -q`, which print the full name.",
                )
            )
            continue
        if len(skus) > 1:
            # Several SKUs share the name and the source gives no memory size to pick one.
            out.append(
                Finding(
                    code="unknown-gpu",
                    severity="info",
                    gpu=first.index if len(gpus) == 1 else None,
                    title=f"{name}: which catalog SKU is ambiguous",
                    detail=f"{which} {verb} the name {name!r}, which {len(skus)} catalog cards share "
                    f"({', '.join(c.name for c in skus)}); the source gives no memory size to tell them "
                    "apart, so per-card peak figures are not used.",
                    fix="Paste `nvidia-smi -q` (or the nvidia-smi table), which shows the memory size.",
                )
            )
            continue
        out.append(
            Finding(
                code="unknown-gpu",
                severity="info",
                gpu=first.index if len(gpus) == 1 else None,
                title=f"{name} is not in the card catalog",
                detail=f"{which} {verb} the name {name!r}{pci}, which matches no catalog card, so its peak "
                "figures and (unless the source gives it) its compute capability are unknown to the advisor.",
                fix="Add the card to a user catalog directory (see catalog/README.md) to get its specs.",
            )
        )
    return out


# ---------------------------------------------------------------- CUDA_VISIBLE_DEVICES


def visible_devices(f: Facts) -> list[Finding]:
    """CUDA_VISIBLE_DEVICES hiding GPUs. CUDA reads the list up to the first entry that names no
    device (an index out of range, -1, an unknown UUID) and ignores the rest."""
    value = f.machine.host.cuda_visible_devices
    gpus = [g for g in f.machine.gpus if g.vendor == "nvidia"]
    if value is None or not gpus:
        return []
    visible: list[int] = []
    stopped_at: str | None = None
    for token in [t.strip() for t in value.split(",")] if value.strip() else []:
        if re.fullmatch(r"[+-]?\d+", token):
            i = int(token)
            hit = next((g.index for g in gpus if g.index == i), None) if 0 <= i < len(gpus) else None
        elif token.upper().startswith(("GPU-", "MIG-")):
            uuids = [g for g in gpus if g.uuid]
            if token.upper().startswith("MIG-") or len(uuids) < len(gpus):
                return []  # MIG instances or GPUs without a known UUID: cannot judge
            hit = next((g.index for g in uuids if (g.uuid or "").upper().startswith(token.upper())), None)
        else:
            hit = None
        if hit is None or hit in visible:
            stopped_at = token
            break
        visible.append(hit)
    hidden = [g.index for g in gpus if g.index not in visible]
    if not hidden:
        return []
    shown = f'CUDA_VISIBLE_DEVICES="{value}"'
    if not visible:
        severity: Severity = "error"
        title = f"{shown} hides every GPU"
        why = f"CUDA stops at {stopped_at!r}, which names no device" if stopped_at else "it is empty"
        detail = f"{why}, so CUDA programs see no GPU although {len(gpus)} NVIDIA GPU(s) are present."
    elif stopped_at is not None:
        severity = "warning"
        title = f"{shown} names a GPU that does not exist"
        detail = (
            f"CUDA stops reading the list at {stopped_at!r}, which names no device; visible GPUs: "
            f"{visible}, hidden: {hidden}."
        )
    else:
        severity = "info"
        title = f"{shown} exposes {len(visible)} of {len(gpus)} GPUs"
        detail = f"Visible GPUs: {visible}; hidden: {hidden} (often intended, e.g. set by a job scheduler)."
    return [
        Finding(
            code="cuda-visible-devices-hides-gpu",
            severity=severity,
            title=title,
            detail=detail,
            fix="Unset CUDA_VISIBLE_DEVICES, or list existing GPU indices or UUIDs (`nvidia-smi -L`), "
            "comma-separated with no invalid entry before the last one you need.",
        )
    ]
