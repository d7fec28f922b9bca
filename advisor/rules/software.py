"""Will the software stack work? GPUs ⇄ driver ⇄ CUDA ⇄ the installed PyTorch build.

Pure: ``check_software(machine, knowledge) -> list[Finding]`` and
``install_recommendations(machine, knowledge) -> list[Recommendation]``. Facts come from the compat
tables (catalog/compat/*.yaml); the reasoning (minor-version compatibility, SASS/PTX rules, the
newest build for every GPU at once) from advisor.knowledge.compat. What the source itself shows
wins over the tables: "Is CUDA available: True" means the driver is not too old for that torch, and
torch's own warnings are evidence. A fact that is missing is said in the detail, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from advisor.knowledge import compat as cx
from advisor.knowledge.match import match_gpu
from advisor.machine import GPU, Machine
from advisor.report import Finding, Recommendation, Severity
from advisor.rules.software_facts import (
    DRIVER_TOO_OLD_RE,
    FORWARD_COMPAT_804,
    INCOMPATIBLE_RE,
    NO_DRIVER_TEXTS,
    NO_KERNEL_IMAGE,
    NO_NVML_TEXTS,
    TOO_OLD_GPU_RE,
    Facts,
    gather,
    install_hint,
    install_recommendation,
    looks_amd,
    name_candidates,
    nvidia_pci,
    versions_differ,
)
from advisor.units import format_cc

if TYPE_CHECKING:
    from advisor.knowledge.base import Knowledge

# ---------------------------------------------------------------- entry points


def check_software(machine: Machine, knowledge: Knowledge) -> list[Finding]:
    """Findings about the driver, CUDA and PyTorch stack (codes in DESIGN.md, software stack)."""
    facts = gather(machine, knowledge)
    out: list[Finding] = []
    driver_findings = _driver_state(facts)
    out += driver_findings
    if not driver_findings:
        out += _no_gpu(facts)
    out += _unknown_gpus(facts)
    out += _visible_devices(facts)
    out += _torch(facts)
    out += _driver_drops(facts)
    return out


def install_recommendations(machine: Machine, knowledge: Knowledge) -> list[Recommendation]:
    """One ``install`` recommendation: the exact pip command for the newest PyTorch that runs on
    every NVIDIA GPU here with this driver, or the driver to install first, or why none exists."""
    facts = gather(machine, knowledge)
    if facts.jetson:
        return [
            Recommendation(
                topic="install",
                supported=None,
                value="NVIDIA's JetPack PyTorch wheel for your JetPack release",
                reason="Desktop and SBSA wheels have no cubins for Jetson's integrated GPUs (CC 5.3, "
                "6.2, 7.2, 8.7 and Thor 10.1/11.0 form separate islands), so Jetson needs JetPack "
                "builds.",
            )
        ]
    if not facts.gpus:
        return []
    drv = machine.driver
    if not facts.ccs and drv.version is None and drv.cuda_version is None:
        return []  # neither the GPUs' CC nor the driver is known: any command would be a guess
    return [install_recommendation(facts)]


# ---------------------------------------------------------------- driver


def _driver_state(f: Facts) -> list[Finding]:
    drv = f.machine.driver
    error = (drv.nvml_error or "").lower()
    lib, mod = drv.library_version, drv.kernel_module_version
    if "mismatch" in error or versions_differ(lib, mod):
        seen = f"NVML says: {drv.nvml_error.strip().rstrip('.')}." if drv.nvml_error else ""
        versions = (
            f" Kernel module {mod or 'unknown'}, NVML library {lib or 'unknown'}." if lib or mod else ""
        )
        target = f" matching driver ({mod or lib})" if mod or lib else " single, consistent driver"
        return [
            Finding(
                code="driver-library-mismatch",
                severity="error",
                title="NVIDIA driver library and kernel module versions differ",
                detail=f"{seen}{versions} The user-space driver libraries do not match the loaded kernel "
                "module, usually after a driver upgrade without a reboot or module reload, or a mixed "
                "install; no CUDA program can start." + f.missing_note(),
                fix="Reboot (or unload and reload the nvidia kernel modules); if it persists, reinstall the"
                f"{target} so library and module agree, and pin the driver packages.",
            )
        ]
    pci = nvidia_pci(f.machine)
    # vfio-pci: passed through to a VM on purpose, not a missing driver.
    unbound = [d for d in pci if d.driver not in ("nvidia", "vfio-pci")]
    texts = error + "\n" + f.messages.lower()
    smi_says_no_driver = any(t in error for t in NO_DRIVER_TEXTS)
    # torch prints "Found no NVIDIA driver" on GPU-less machines too: it needs a GPU on the bus.
    torch_says_no_driver = any(t in texts for t in NO_DRIVER_TEXTS) and bool(pci)
    no_nvml = any(t in error for t in NO_NVML_TEXTS) and bool(pci)
    # A PCI bus that was read and shows no NVIDIA device settles it: driver packages without a card
    # (NVML then says "Driver Not Loaded") are a GPU-less machine, not a missing driver.
    bus_has_none = f.machine.driver.pci_devices is not None and not pci
    if (
        not f.machine.gpus
        and not bus_has_none
        and not f.machine.torch.cuda_available  # CUDA initialised: some driver works
        and (smi_says_no_driver or torch_says_no_driver or no_nvml or unbound)
    ):
        facts = []
        if drv.nvml_error:
            facts.append(f"nvidia-smi/NVML: {drv.nvml_error.strip().rstrip('.')}")
        if drv.nvml_ok and f.machine.gpus_known and pci:
            facts.append(
                "NVML answered but found no GPU (nvidia-smi: No devices were found) although the PCI "
                "bus shows one, so the driver could not bring it up (`sudo dmesg | grep NVRM` says why)"
            )
        if unbound:
            bound = ", ".join(f"{d.address} ({d.driver or 'no kernel driver shown'})" for d in unbound)
            facts.append(f"NVIDIA PCI devices without the nvidia driver: {bound}")
        if "found no nvidia driver" in texts:
            facts.append("torch: Found no NVIDIA driver on your system")
        return [
            Finding(
                code="no-driver",
                severity="error",
                title="No working NVIDIA driver",
                detail="; ".join(facts or ["the NVIDIA kernel driver is not loaded"])
                + ". Without the kernel module no CUDA program can see the GPU (a kernel upgrade "
                "without a rebuilt module, nouveau, or a container started without GPU access are "
                "the usual causes)." + f.missing_note(),
                fix="Install (or reinstall) the NVIDIA driver for the running kernel, preferably from the "
                "distribution packages or with DKMS so it is rebuilt on kernel upgrades, then reboot; in a "
                "container, start it with GPU access (NVIDIA Container Toolkit, --gpus all).",
            )
        ]
    return []


def _no_gpu(f: Facts) -> list[Finding]:
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


def _unknown_gpus(f: Facts) -> list[Finding]:
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


def _driver_drops(f: Facts) -> list[Finding]:
    version = f.machine.driver.version
    out = []
    for gpu in f.gpus:
        entry = cx.driver_drops_gpu(f.compat, gpu.cc, version) if gpu.cc else None
        if entry is None:
            continue
        verified = entry.status == "verified"
        caveat = (
            ""
            if verified
            else f" This fact is {entry.status} in the tables ({entry.source}); if nvidia-smi lists "
            "this GPU and CUDA works, the table is wrong."
        )
        out.append(
            Finding(
                code="driver-drops-gpu",
                severity="error" if verified else "warning",
                gpu=gpu.index,
                title=f"Driver {version} may no longer support {gpu.name or 'this GPU'}",
                detail=f"{gpu.who} is {entry.architecture} (CC {entry.cc_min}–{entry.cc_max}); the last "
                f"driver branch supporting it is R{entry.last_branch}, and this driver is "
                f"R{cx.driver_branch(version)}.{caveat}",
                fix=f"Install an R{entry.last_branch} (legacy) driver for this GPU.",
            )
        )
    return out


# ---------------------------------------------------------------- CUDA_VISIBLE_DEVICES


def _visible_devices(f: Facts) -> list[Finding]:
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


# ---------------------------------------------------------------- torch


def _torch(f: Facts) -> list[Finding]:
    t = f.machine.torch
    if t.import_error:
        return [
            Finding(
                code="torch-not-installed",
                severity="warning",
                title="PyTorch is installed but fails to import",
                detail=f"`import torch` raised: {t.import_error.strip()}",
                fix="Reinstall it in this environment: " + install_hint(f),
            )
        ]
    if t.installed is False:
        # Info, not a warning: the advisor may run from another environment than the training code,
        # and a machine without torch is not broken; the recommendation says what to install.
        return [
            Finding(
                code="torch-not-installed",
                severity="info",
                title="PyTorch is not installed in this Python environment",
                detail="`import torch` found no torch here, so the build checks were skipped."
                + (" The NVIDIA GPUs here need a CUDA build." if f.gpus else ""),
                fix=install_hint(f),
            )
        ]
    if (
        f.build is None
        and t.cuda_version is None
        and t.hip_version is None
        and not t.arch_list
        and not f.messages.strip()
    ):
        return []  # no torch facts at all (torch's own output still counts: it names the failure)
    if t.hip_version or (f.build is not None and f.build.kind == "rocm"):
        return _rocm(f)
    cpu = _cpu_only(f)
    if cpu:
        return cpu
    return _driver_too_old(f) + _arch_not_in_build(f)


def _rocm(f: Facts) -> list[Finding]:
    amd = [g for g in f.machine.gpus if g.vendor == "amd" or looks_amd(g.name)]
    # A ROCm build that initialised its GPUs is looking at AMD GPUs, whatever the listing says.
    if amd or f.machine.torch.cuda_available:
        return []
    drv = f.machine.driver
    # collect_env lists GPUs through torch for ROCm builds ("Could not collect" without an AMD GPU),
    # but reads the driver version from nvidia-smi's banner, which NVML prints only with a GPU present.
    implied = not f.machine.gpus_known and drv.version is not None and drv.nvml_ok is not False
    if not f.gpus and not implied:
        return []
    t = f.machine.torch
    gpus = (
        ", ".join(g.who for g in f.gpus)
        if f.gpus
        else f"the GPU list was not shown, but NVIDIA driver {drv.version} answered nvidia-smi"
    )
    return [
        Finding(
            code="rocm-build-on-nvidia",
            severity="error",
            title="A ROCm (AMD) build of PyTorch is installed on an NVIDIA machine",
            detail=f"torch {t.version or '?'} is built for ROCm (HIP {t.hip_version or 'from the tag'}); it "
            f"cannot use the NVIDIA GPUs here ({gpus}).",
            fix="pip uninstall -y torch && " + install_hint(f),
        )
    ]


def _cpu_only(f: Facts) -> list[Finding]:
    t, b = f.machine.torch, f.build
    if not f.nvidia_present or t.cuda_available:
        return []
    no_cuda = t.cuda_version is None and t.cuda_available is False and b is not None and b.kind != "nvidia"
    if not ((b is not None and b.kind == "cpu") or t.built_with_cuda is False or no_cuda):
        return []
    seen = []
    if b is not None and b.kind == "cpu":
        seen.append(f"the version {b.text} carries the +cpu tag")
    elif b is not None and b.kind == "untagged" and f.platform in ("windows", "macos"):
        seen.append(f"torch {b.text} is untagged, and untagged PyPI wheels on {f.platform} are CPU-only")
    said = "torch not compiled with cuda enabled" in f.messages.lower()
    if said:
        seen.append('torch raised "Torch not compiled with CUDA enabled"')
    if t.cuda_version is None and not (said and t.version is None):
        seen.append(
            "torch.version.cuda is None"
            if f.machine.source == "live"
            else "no CUDA version for the build (CUDA used to build PyTorch: None / Could not collect)"
        )
    if t.built_with_cuda is False and f.machine.source == "live":
        seen.append("torch.backends.cuda.is_built() is False")
    if t.cuda_available is False:
        seen.append("CUDA is not available")
    why = "; ".join(seen)
    gpus = ", ".join(g.who for g in f.gpus) or "an NVIDIA GPU"
    return [
        Finding(
            code="torch-cpu-only",
            severity="error",
            title="The installed PyTorch is a CPU-only build",
            detail=f"{why}, while {gpus} is present, so PyTorch cannot use it." + f.missing_note(),
            fix="pip uninstall -y torch && " + install_hint(f),
        )
    ]


def _torch_cuda(f: Facts) -> str | None:
    t = f.machine.torch
    if t.cuda_version:
        return t.cuda_version
    if f.build is not None and f.build.variant:
        v = cx.variant_cuda(f.build.variant)
        return None if v is None else str(v)
    return None


def _driver_too_old(f: Facts) -> list[Finding]:
    t, drv = f.machine.torch, f.machine.driver
    if t.cuda_available:  # evidence: CUDA initialised, so the driver runs this build
        return []
    cuda = _torch_cuda(f)
    seen = DRIVER_TOO_OLD_RE.search(f.messages)
    forward_804 = FORWARD_COMPAT_804 in f.messages.lower()
    nvidia_build = f.build is not None and f.build.kind == "nvidia"
    verdict = None
    if cuda and not nvidia_build and not f.jetson:
        verdict = cx.driver_runs_cuda(
            f.compat, cuda, os=f.os, driver_version=drv.version, driver_cuda=drv.cuda_version
        )
    if not seen and not forward_804 and (verdict is None or verdict.ok is not False):
        return []
    facts = [f"torch {t.version or '?'} is built with CUDA {cuda or '?'}"]
    driver = f"driver {drv.version}" if drv.version else "the driver"
    if verdict is not None and verdict.max_cuda is not None:
        how = "as it reports" if verdict.max_cuda.source == "driver" else "by the branch table"
        facts.append(f"{driver} supports CUDA up to {verdict.max_cuda.cuda} ({how})")
    elif drv.version:
        facts.append(f"the driver is {drv.version}")
    if verdict is not None and verdict.ok is False:
        facts.append(verdict.detail)
    if seen:
        n = int(seen.group("v"))
        facts.append(
            f'torch says "driver on your system is too old (found version {n})", i.e. CUDA '
            f"{n // 1000}.{(n % 1000) // 10}"
        )
    if forward_804:
        facts.append(
            "error 804: forward compatibility (cuda-compat) was attempted on a GPU that does "
            "not support it; it works only on data-center GPUs"
        )
    if t.cuda_available is False:
        facts.append("Is CUDA available: False")
    detail = "; ".join(facts) + "." + f.missing_note()
    req = (
        verdict.requirement
        if verdict
        else (cx.min_driver_for(f.compat, cuda, f.os or "linux") if cuda else None)
    )
    have = cx.parse_version(drv.version)
    # torch says "too old" although the driver meets the family floor: minor-version compatibility
    # did not carry this build, so only the toolkit's own driver (or a build of the driver's CUDA) will.
    floor_failed = bool(seen or forward_804) and req is not None and have is not None and have >= req.driver
    if floor_failed and cuda:
        req = cx.min_driver_for(f.compat, cuda, f.os or "linux", minor_compat=False)
        if req is not None and have is not None and have >= req.driver:
            req = None  # the tables cannot say which driver this build needs
    max_cuda = verdict.max_cuda.cuda if verdict is not None and verdict.max_cuda is not None else None
    fixes = []
    # A GPU whose last driver branch is below the one this build needs (Kepler: R470) closes that path.
    stranded = [
        (g, e)
        for g in f.gpus
        if req is not None and g.cc and (e := cx.driver_drops_gpu(f.compat, g.cc, req.driver_text))
    ]
    if req is not None and stranded:
        g, e = stranded[0]
        fixes.append(
            f"No driver {req.text} drives {g.name or 'this GPU'} ({e.architecture}: the last branch is "
            f"R{e.last_branch}, {e.status} in the tables), so upgrading the driver is no way out;"
        )
    elif req is not None:
        fixes.append(
            f"Upgrade the NVIDIA driver to {req.text}, R{req.driver.major} or newer, for this torch;"
        )
    advice = f.advice()
    choice = advice.choice
    if choice is not None and floor_failed and (max_cuda is None or choice.cuda > max_cuda):
        choice = None  # it would lean on the same minor-version compatibility that just failed
    if req is None:
        fixes.append(
            "Upgrade the NVIDIA driver (on the host, for a container) to one whose CUDA version is at "
            "least the build's;"
        )
    if choice is not None:
        lead = "keep" if stranded else "or keep"
        fixes.append(f"{lead} the driver and install a build it runs: {choice.pip}")
    elif floor_failed and max_cuda is not None:
        fixes.append(
            f"or keep the driver and install a build for CUDA {max_cuda} or older (a "
            f"+{cx.cuda_variant(str(max_cuda))} or older wheel), which needs no compatibility layer"
        )
    elif advice.newest is not None and advice.newest.requirement is not None:
        fixes.append(
            f"the newest build for these GPUs needs a driver {advice.newest.requirement.text}: "
            f"{advice.newest.pip}"
        )
    if verdict is not None and verdict.via == "forward-compat-needed":
        fixes.append("(in a container on data-center GPUs, the cuda-compat package also works)")
    return [
        Finding(
            code="driver-too-old",
            severity="error",
            title=f"The NVIDIA driver is too old for torch {t.version} (CUDA {cuda or '?'})"
            if t.version
            else "The NVIDIA driver is too old for the CUDA build in use",
            detail=detail,
            fix=" ".join(fixes) or "Upgrade the NVIDIA driver to the newest branch for this GPU.",
        )
    ]


@dataclass(frozen=True)
class _ArchSource:
    arch_list: list[str]
    where: str  # "torch.cuda.get_arch_list()", "torch's warning", "the tables for 2.1 cu121 on linux-x86_64"
    certain: bool


def _arch_sources(f: Facts) -> list[_ArchSource]:
    """Where the build's arch list comes from: live list, torch's warning, or the tables (per candidate
    platform when the platform is unknown: a GPU is judged unsupported only if every candidate says so)."""
    t = f.machine.torch
    if t.arch_list:
        where = "torch.cuda.get_arch_list()" if f.machine.source == "live" else "as torch printed it"
        return [_ArchSource(list(t.arch_list), where, True)]
    warned = INCOMPATIBLE_RE.search(f.messages)
    if warned:
        arches = warned.group("arches").split()
        if arches:
            return [_ArchSource(arches, "torch's own warning", True)]
    b = f.build
    if b is None or f.jetson or b.kind not in ("cuda", "untagged"):
        return []
    if f.platform is not None:
        platforms: list[cx.Platform] = [f.platform]
    elif b.kind != "cuda":
        return []  # an untagged build on an unknown platform: PyPI's meaning differs per platform
    elif f.os == "linux":
        platforms = ["linux-x86_64"]  # Linux of unknown CPU: x86_64 assumed, so not certain
    else:
        platforms = ["linux-x86_64", "windows"]  # unknown OS: unsupported only if both say so
    out = []
    for platform in platforms:
        resolved = cx.resolve_variant(f.compat, b, platform, t.cuda_version)
        if resolved is None or resolved.variant == "cpu":
            return []
        entry = cx.arch_list_for(f.compat, b.release, resolved.variant, platform)
        if entry is None:
            return []
        certain = (
            not resolved.inferred
            and not b.prerelease
            and entry.status == "verified"
            and f.platform is not None
        )
        where = (
            f"the tables for torch {b.release} {resolved.variant} on {platform} "
            f"({resolved.why}; {entry.status})"
        )
        out.append(_ArchSource(entry.arch_list, where, certain))
    return out


def _arch_not_in_build(f: Facts) -> list[Finding]:
    sources = _arch_sources(f)
    version = f.machine.torch.version or "(version not shown)"
    out: list[Finding] = []
    for gpu in f.gpus:
        if gpu.cc is None or not sources:
            continue
        if any(cx.runs_on(f.compat, s.arch_list, gpu.cc) != "none" for s in sources):
            continue
        src = sources[0]
        cc = format_cc(gpu.cc)
        out.append(
            Finding(
                code="arch-not-in-build",
                severity="error" if all(s.certain for s in sources) else "warning",
                gpu=gpu.index,
                title=f"torch {version} has no kernels for {gpu.name or 'this GPU'} (CC {cc})",
                detail=f"{gpu.who}: the build's arch list ({src.where}) is {' '.join(src.arch_list)}; "
                f"no cubin runs on CC {cc} (same major, minor at or below it) and no PTX is at or below "
                'it, so kernels fail with "no kernel image is available for execution on the device".'
                + f.missing_note(),
                fix=install_hint(f),
            )
        )
    if out:
        return out
    return _message_evidence(f, covered=bool(sources) and any(g.cc for g in f.gpus))


def _message_evidence(f: Facts, covered: bool) -> list[Finding]:
    """torch's own texts when the arch lists did not decide: the ≤2.7 "too old" warning, "no kernel image"."""
    version = f.machine.torch.version or "(version not shown)"
    out = []
    for m in TOO_OLD_GPU_RE.finditer(f.messages):
        out.append(
            Finding(
                code="arch-not-in-build",
                severity="error",
                gpu=int(m.group("index")),
                title=f"torch {version} no longer supports {m.group('name')} (CC {m.group('cc')})",
                detail=f"torch warned: GPU{m.group('index')} {m.group('name')} is of cuda capability "
                f"{m.group('cc')}, below the oldest arch in this build.",
                fix=install_hint(f),
            )
        )
    if out or NO_KERNEL_IMAGE not in f.messages.lower():
        return out
    if covered:
        detail = (
            '"no kernel image is available" was reported although torch itself has kernels for these '
            "GPUs: a compiled extension was probably built with a narrower TORCH_CUDA_ARCH_LIST."
        )
        severity: Severity = "warning"
        fix = (
            "Rebuild the extension with TORCH_CUDA_ARCH_LIST including this GPU's CC, or install a wheel "
            "built for it."
        )
    else:
        detail = (
            '"no kernel image is available for execution on the device" was reported: the build has no '
            "code for this GPU's compute capability." + f.missing_note()
        )
        severity = "error"
        fix = install_hint(f)
    only = f.gpus[0].index if len(f.gpus) == 1 else None
    return [
        Finding(
            code="arch-not-in-build",
            severity=severity,
            gpu=only,
            title='CUDA reported "no kernel image is available"',
            detail=detail,
            fix=fix,
        )
    ]
