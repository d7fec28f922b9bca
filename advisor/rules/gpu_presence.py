"""Which GPUs the software stack sees: no-gpu, unknown-gpu (not in the card catalog) and
cuda-visible-devices-hides-gpu.

Pure: each check takes the shared ``Facts`` (advisor.rules.software_facts) and returns findings;
advisor.rules.software runs them.
"""

from __future__ import annotations

import re

from advisor.knowledge.cuda_driver import driver_runs_cuda
from advisor.knowledge.identity import lookup
from advisor.knowledge.match import identify_gpu, match_gpu, with_bus_device_id
from advisor.knowledge.torch_builds import arch_list_for, resolve_variant
from advisor.machine import GPU
from advisor.report import Finding, Severity
from advisor.rules.evidence import explained, gpu_evidence
from advisor.rules.software_facts import Facts, looks_amd, name_candidates, nvidia_pci


def other_accelerators(f: Facts) -> list[str]:
    """What the machine has instead of an NVIDIA GPU: AMD/Intel GPUs, Apple's MPS, DirectML."""
    m = f.machine
    other = list(m.host.accelerators or [])
    amd = [g for g in m.gpus if g.vendor == "amd" or looks_amd(g.name)]
    if amd and not any("AMD" in a for a in other):
        other.append(f"AMD GPU ({amd[0].name})" if amd[0].name else "AMD GPU")
    drv = m.driver
    if m.torch.hip_version and not other and drv.version is None and not drv.nvml_ok and not m.gpus:
        other.append("AMD ROCm (a ROCm build of torch, no NVIDIA driver shown)")
    if m.host.os == "Darwin" and not any("Apple" in a for a in other):
        arm = (m.host.machine_arch or "").lower() in {"arm64", "aarch64"}
        other.append("Apple silicon (MPS)" if arm else "none usable by CUDA (macOS)")
    return other


def no_gpu(f: Facts) -> list[Finding]:
    """no-gpu: no NVIDIA GPU anywhere in the source (GPU list, PCI bus, kernel log, torch), saying what
    accelerator the machine has instead (macOS/MPS, AMD ROCm, Intel XPU) when the source shows one."""
    m = f.machine
    if f.nvidia_present:
        return []
    other = other_accelerators(f)
    non_nvidia = [g for g in m.gpus if g.vendor != "nvidia" or looks_amd(g.name)]
    if len(non_nvidia) < len(m.gpus):
        return []  # an NVIDIA GPU is listed (f.gpus may skip it when its name is unknown)
    said = _torch_found_none(f)
    if wsl1(m.host.kernel) and not m.gpus:
        return [
            Finding(
                code="no-gpu",
                severity="warning",
                title="WSL 1 cannot use the GPU",
                detail=f"The kernel {m.host.kernel} is WSL 1's, which has no GPU access at all; CUDA needs "
                "WSL 2 (Windows 10 21H2 / 11 with an NVIDIA driver that supports WSL)." + f.missing_note(),
                fix="In PowerShell: `wsl --set-version <distro> 2` (after `wsl --update`), keep the NVIDIA "
                "driver on the Windows side only, then check `nvidia-smi` inside WSL.",
            )
        ]
    if not other and (m.gpus or not (m.gpus_known or said)):
        return []
    if not other and (m.torch.cuda_available or (m.torch.device_count or 0) > 0):
        return []
    if said and not other and _hides_all(m.host.cuda_visible_devices):
        return []  # CUDA_VISIBLE_DEVICES explains it (cuda-visible-devices-hides-gpu)
    nvml = f" NVML: {m.driver.nvml_error.strip()}." if m.driver.nvml_error else ""
    pci = "" if m.driver.pci_devices is not None or other else " The PCI bus was not read."
    if other:
        what = ", ".join(other)
        # A working accelerator of another kind (Apple silicon's MPS, a ROCm build that sees its AMD
        # GPU) is not a problem; an Intel Mac or an accelerator nothing here can use is worth a warning.
        usable = any("MPS" in a for a in other) or bool(m.torch.hip_version and m.torch.cuda_available)
        return [
            Finding(
                code="no-gpu",
                severity="info" if usable else "warning",
                title=f"No NVIDIA GPU: this machine has {what}",
                detail=f"The source shows no NVIDIA GPU; the accelerator here is {what}, which CUDA "
                "builds cannot use." + nvml + f.missing_note(),
                fix="Use the framework build for this accelerator (macOS: `pip install torch` runs on MPS "
                "on Apple silicon; AMD: the ROCm wheels from https://pytorch.org/get-started/locally/); "
                "CUDA builds, nvidia-smi and NVIDIA drivers do not apply here.",
            )
        ]
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
            "container) that it was started with GPU access. Otherwise install the CPU wheel: "
            "`pip install torch --index-url https://download.pytorch.org/whl/cpu`.",
        )
    ]


_NONE_TEXTS = (
    "found no nvidia driver on your system",
    "no cuda-capable device is detected",
    "no cuda gpus are available",
)


def _torch_found_none(f: Facts) -> bool:
    """torch/CUDA said there is no NVIDIA driver or device (a ROCm build's "No HIP GPUs" is not that)."""
    if any(e.facts.get("rocm_build") == "true" for e in f.machine.evidence):
        return False
    low = f.messages.lower()
    return any(t in low for t in _NONE_TEXTS) or f.machine.torch.device_count == 0


_WSL1 = re.compile(r"^4\.4\.0-\d{4,6}-Microsoft$")


def wsl1(kernel: str | None) -> bool:
    """WSL 1 reports a fake 4.4.0-<Windows build>-Microsoft kernel; WSL 2 a real "…-microsoft-standard…"."""
    return bool(kernel) and _WSL1.match(kernel or "") is not None


def _hides_all(value: str | None) -> bool:
    """A CUDA_VISIBLE_DEVICES value that names no device whatever the machine has."""
    if value is None:
        return False
    first = value.split(",")[0].strip()
    return first == "" or first.startswith("-") or first.lower() in {"nodevfiles", "none", "void"}


def _mig_in_use(f: Facts, value: str) -> list[Finding]:
    """CUDA_VISIBLE_DEVICES names a MIG device: MIG is in use (not a GPU being hidden). One finding unless
    the GPU list already shows the GPU in MIG mode (the health rule reports it there)."""
    if any(g.mig_enabled for g in f.machine.gpus):
        return []
    return [
        Finding(
            code="mig-enabled",
            severity="warning",
            title="MIG is in use: the process sees one MIG slice, not the whole GPU",
            detail=f'CUDA_VISIBLE_DEVICES="{value}" names a MIG device, so the GPU is partitioned with MIG '
            "and a CUDA process gets one slice (its memory and SMs); several slices cannot be combined in "
            "one process, and some torch versions count MIG devices oddly (device_count() 0 while tensors "
            "move to cuda:0)." + f.missing_note(),
            fix="`nvidia-smi -L` lists the GPU's MIG devices and their UUIDs; size the job for one slice, or "
            "disable MIG if the job needs the whole GPU.",
        )
    ]


def torch_sees_none(f: Facts, findings: list[Finding]) -> list[Finding]:
    """nvidia-smi lists GPUs but a CUDA build of torch counts none, and no other finding says why: the GPUs
    are hidden from the process (CUDA_VISIBLE_DEVICES, a container's device list)."""
    m, t = f.machine, f.machine.torch
    usable = [g for g in f.gpus if not any(x.lost for x in m.gpus if x.index == g.index)]
    if not usable or any(x.severity in ("error", "warning") for x in findings):
        return []
    if t.device_count != 0 and not (t.cuda_available is False and t.device_count is None):
        return []
    cuda_build = t.cuda_version is not None or (f.build is not None and f.build.kind == "cuda")
    if not cuda_build or t.hip_version or m.host.cuda_visible_devices is not None or not t.cuda_version:
        return []
    drv = m.driver
    verdict = driver_runs_cuda(
        f.compat, t.cuda_version, os=f.os, driver_version=drv.version, driver_cuda=drv.cuda_version
    )
    if verdict.ok is not True or not _build_known(f):
        return []  # the tables cannot tell that the driver runs this build, so nothing is established
    said = "torch.cuda.device_count() is 0" if t.device_count == 0 else "torch.cuda.is_available() is False"
    return [
        Finding(
            code="cuda-visible-devices-hides-gpu",
            severity="warning",
            title=f"PyTorch sees no GPU although {len(usable)} NVIDIA GPU(s) are listed",
            detail=f"{said} while the GPU list shows {', '.join(g.who for g in usable)}, and the driver and "
            "build fit. Something hides the GPUs from the process: CUDA_VISIBLE_DEVICES set in its "
            "environment (a scheduler, a shell profile), or a container started without the devices."
            + f.missing_note(),
            fix="Print `echo $CUDA_VISIBLE_DEVICES` in the job's environment and unset it or list valid "
            "indices; in a container, start it with `--gpus all` (NVIDIA Container Toolkit).",
        )
    ]


def _build_known(f: Facts) -> bool:
    """The compat tables know this torch build's arch list (a release newer than them is not judged)."""
    b = f.build
    if b is None:
        return False
    platform = f.platform or "linux-x86_64"
    resolved = resolve_variant(f.compat, b, platform, f.machine.torch.cuda_version)
    return resolved is not None and arch_list_for(f.compat, b.release, resolved.variant, platform) is not None


def unusable_gpus(f: Facts, findings: list[Finding]) -> list[Finding]:
    """An NVIDIA GPU is present (PCI bus, kernel log, a CUDA error naming it) but no source shows a
    usable one, and no other finding says why: never healthy, and say what would tell."""
    m = f.machine
    if any(x.severity in ("error", "warning") for x in findings):
        return []
    usable = [g for g in m.gpus if g.vendor == "nvidia" and not g.lost and not looks_amd(g.name)]
    if usable or any(g.lost for g in m.gpus) or m.torch.cuda_available:
        return []
    pci = nvidia_pci(m)
    seen = gpu_evidence(m)
    if not pci and not seen:
        return []
    if any(e.facts.get("gpu_working") == "true" for e in m.evidence) or explained(m):
        return []  # the driver reports faults of running applications, or a message says why
    where = (
        f"the PCI bus shows {len(pci)} NVIDIA device(s) ({', '.join(d.address for d in pci)})"
        if pci
        else f'the source says "{seen[0].text}"'
    )
    unknown = []
    if m.driver.nvml_ok is None:
        unknown.append("whether the driver answers (no nvidia-smi output)")
    if pci and all(d.driver is None for d in pci):
        unknown.append("which kernel driver is bound (`lspci -k` was not shown)")
    if m.torch.version is None and m.torch.installed is None:
        unknown.append("the torch build")
    return [
        Finding(
            code="no-gpu",
            severity="warning",
            title="An NVIDIA GPU is present but no source shows it usable",
            detail=f"An NVIDIA GPU is in this machine ({where}), yet nothing here shows a working GPU "
            "(no nvidia-smi GPU list, no CUDA device)"
            + (f"; unknown: {'; '.join(unknown)}" if unknown else "")
            + ". Nothing in the source explains it."
            + f.missing_note(),
            fix="Collect `nvidia-smi`, `lspci -k -d 10de:`, `sudo dmesg | grep -i -e NVRM -e nvidia` and "
            "`python -m torch.utils.collect_env`; they show whether the driver is loaded, bound to "
            "the GPU and usable by torch.",
        )
    ]


def _identified(f: Facts, gpu: GPU) -> bool:
    """Identity gives its compute capability, or the source does and identity its architecture."""
    ident = identify_gpu(gpu)
    if ident is None:
        return False
    source_cc = any(g.cc for g in f.gpus if g.index == gpu.index)
    return ident.compute_capability is not None or (source_cc and ident.architecture is not None)


def _by_device_id(gpu: GPU) -> bool:
    """The GPU is known by its PCI device id (a cut name then hides nothing)."""
    return gpu.pci_device_id is not None and lookup(pci_device_id=gpu.pci_device_id) is not None


def _shared_name(name: str, gpus: list[GPU], which: str, verb: str) -> Finding | None:
    """Several GPUs of different dies share the name (GeForce GT 730: Kepler GK208 and Fermi GF108)."""
    ident = identify_gpu(gpus[0])
    if ident is None or not ident.ambiguous:
        return None
    kinds = []
    for dev in ident.pci_device_ids:
        one = lookup(pci_device_id=dev)
        kind = f"{one.architecture} {one.chip} (CC {one.compute_capability})" if one else None
        if kind and kind not in kinds:
            kinds.append(kind)
    branch = f" Either way its last driver branch is {ident.last_branch}.xx." if ident.last_branch else ""
    return Finding(
        code="unknown-gpu",
        severity="info",
        gpu=gpus[0].index if len(gpus) == 1 else None,
        title=f"{name}: several GPUs share this name",
        detail=f"{which} {verb} the name {name!r}, which NVIDIA gave to boards of different dies: "
        f"{', '.join(kinds)}; the source gives neither its PCI device id nor its compute capability, so "
        f"which one it is (and what a build must contain for it) is unknown.{branch}",
        fix="Paste `nvidia-smi -q` or `lspci -nn -d 10de:` (the PCI device id decides), or "
        "`nvidia-smi --query-gpu=compute_cap --format=csv`.",
    )


def unknown_gpus(f: Facts) -> list[Finding]:
    """One info per GPU model neither the card catalog nor the identity table knows (several identical
    GPUs: one finding); a name several catalog SKUs share and a name nvidia-smi cut are said too."""
    groups: dict[str, list[GPU]] = {}
    for listed in f.machine.gpus:
        gpu = with_bus_device_id(listed, f.machine.driver.pci_devices)
        if gpu.name and match_gpu(gpu, f.cards) is None:
            groups.setdefault(gpu.name, []).append(gpu)
    # Several catalog SKUs share the name: say which would decide (specs). Otherwise a GPU whose identity
    # is known (architecture, CC, driver branch: advisor.knowledge.identity) is not unknown, only unspecced.
    groups = {
        name: gpus
        for name, gpus in groups.items()
        if (name.rstrip().endswith(("...", "…")) and not _by_device_id(gpus[0]))
        or len(name_candidates(name, f.cards)) > 1
        or not _identified(f, gpus[0])
    }
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
        shared = _shared_name(name, gpus, which, verb)
        if shared is not None:
            out.append(shared)
            continue
        out.append(
            Finding(
                code="unknown-gpu",
                severity="info",
                gpu=first.index if len(gpus) == 1 else None,
                title=f"{name} is an unknown GPU",
                detail=f"{which} {verb} the name {name!r}{pci}, which matches no NVIDIA GPU the advisor "
                "knows (neither the card catalog nor the driver's and the PCI ID Repository's lists), so "
                "its architecture, its compute capability (unless the source gives it) and the last driver "
                "branch that supports it are unknown; rules that need them say so.",
                fix="Paste `nvidia-smi -q` (name, PCI device id) or `lspci -nn -d 10de:` (the PCI device id "
                "decides the GPU); add the card to a user catalog directory (see catalog/README.md) for "
                "its specs.",
            )
        )
    return out


# ---------------------------------------------------------------- CUDA_VISIBLE_DEVICES


def visible_devices(f: Facts) -> list[Finding]:
    """CUDA_VISIBLE_DEVICES hiding GPUs. CUDA reads the list up to the first entry that names no
    device (an index out of range, -1, an unknown UUID) and ignores the rest."""
    value = f.machine.host.cuda_visible_devices
    gpus = [g for g in f.machine.gpus if g.vendor == "nvidia"]
    if value is not None and value.strip().upper().startswith("MIG-"):
        return _mig_in_use(f, value)
    if value is not None and not gpus and _hides_all(value) and _torch_found_none(f):
        return [
            Finding(
                code="cuda-visible-devices-hides-gpu",
                severity="error",
                title=f'CUDA_VISIBLE_DEVICES="{value}" hides every GPU',
                detail=f'CUDA_VISIBLE_DEVICES="{value}" names no device, and CUDA then reported that it '
                "found none; the GPU list itself is not in the paste.",
                fix="Unset CUDA_VISIBLE_DEVICES, or set it to the indices or UUIDs `nvidia-smi -L` lists.",
            )
        ]
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
