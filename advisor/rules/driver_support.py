"""driver-drops-gpu: the installed driver branch no longer drives a GPU of this machine.

Three ways to know, strongest first:
1. the kernel said so: an NVRM line "supported through the NVIDIA 470.xx Legacy drivers ... The 535.54.03
   NVIDIA driver will ignore this GPU" (``DriverInfo.refused_gpus``, parsed from a kernel log) — the driver
   has already failed on it, even when nothing else in the paste names the GPU;
2. the GPU's identity (advisor.knowledge.identity: NVIDIA's own legacy lists and the R580 cut for Maxwell,
   Pascal and Volta) and the installed driver's branch;
3. for a GPU the identity table does not know but whose compute capability is known, the architecture rows
   of the compat tables (``driver_gpu_support``), as sure as their status says.

Severity: error for 1 and 2 (the driver cannot drive the GPU: no CUDA, often no display); 3 is a warning
unless its table row is verified. The fix always names the branch to install, never the driver in place.
Integrated (Tegra) GPUs are driven by JetPack/L4T, not these branches: never flagged.
"""

from __future__ import annotations

import re

from advisor.knowledge.compat_parse import driver_branch
from advisor.knowledge.cuda_driver import driver_drops_gpu, driver_max_cuda
from advisor.knowledge.identity import GpuIdentity, lookup
from advisor.machine import DriverRefusal
from advisor.report import Finding
from advisor.rules.software_facts import Facts, Gpu, nvidia_pci


def driver_drops(f: Facts) -> list[Finding]:
    """driver-drops-gpu findings: from the kernel's refusals, then per GPU from identity or the tables."""
    out = _from_kernel(f)
    refused_names = {_norm(r.name) for r in f.machine.driver.refused_gpus or [] if r.name}
    for gpu in f.gpus:
        if _norm(gpu.name) in refused_names:
            continue  # the kernel's own words already cover it
        finding = _from_identity(f, gpu) or _from_tables(f, gpu)
        if finding is not None:
            out.append(finding)
    if not f.gpus:
        out += _from_pci(f, refused_names)
    return out


def _from_pci(f: Facts, refused_names: set[str]) -> list[Finding]:
    """No GPU list (nvidia-smi found none, or none was pasted) but the PCI bus shows NVIDIA GPUs by device
    id (``lspci -nn``): the same check on what their ids say."""
    out = []
    seen: set[int] = set()
    for dev in nvidia_pci(f.machine):
        if dev.device_id is None or dev.device_id in seen:
            continue
        seen.add(dev.device_id)
        ident = lookup(pci_device_id=dev.device_id)
        if ident is None or _norm(ident.name) in refused_names:
            continue
        finding = _from_identity(f, Gpu(-1, ident.name, None, None, ident))
        if finding is not None:
            out.append(finding.model_copy(update={"gpu": None}))
    return out


def _from_kernel(f: Facts) -> list[Finding]:
    out = []
    seen: set[tuple[str | None, str | None]] = set()
    for r in f.machine.driver.refused_gpus or []:
        if r.reason != "legacy" or (r.name, r.legacy_branch) in seen:
            continue
        seen.add((r.name, r.legacy_branch))
        ident = lookup(name=r.name, pci_device_id=r.pci_device_id)
        branch = r.legacy_branch or (ident.last_branch if ident else None)
        driver = r.driver_version or f.machine.driver.version
        who = r.name or (ident.name if ident else None) or "an NVIDIA GPU"
        arch = _arch(ident)
        detail = (
            f'The kernel log says: "{_one_line(r.message)}". The {driver or "installed"} driver '
            f"ignores {who}{arch}: no CUDA program and no display can use it."
        )
        out.append(
            Finding(
                code="driver-drops-gpu",
                severity="error",
                gpu=_index_of(f, r),
                title=f"The NVIDIA driver{' ' + driver if driver else ''} ignores {who}: it needs the "
                f"{_branch_text(branch)} legacy driver",
                detail=detail + f.missing_note(),
                fix=_fix(f, branch, who, ident, driver),
            )
        )
    return out


# Windows drivers of a branch count a few numbers past it: R340 ends with 342.01, R390 with 391.35/392.x,
# R470 with 474.x/475.x, R580 with 581.x/582.x (NVIDIA's legacy Windows driver pages). Linux versions start
# with the branch itself (340.108, 470.256.02, 580.105.08).
_WINDOWS_DRIFT = 5
_LEGACY_BRANCHES = (71, 96, 173, 304, 340, 367, 390, 470, 580)


def installed_branch(f: Facts, version: str | None) -> int | None:
    """The driver branch of an installed version: its major number on Linux; on Windows (or an unknown OS
    with a Windows-style ``NNN.NN`` version) the known branch at most a few numbers below it."""
    major = driver_branch(version)
    if major is None or version is None:
        return None
    windows = f.os == "windows" or (f.os is None and re.fullmatch(r"\d{3}\.\d{2}", version.strip()))
    if not windows:
        return major
    known = {e.branch for e in f.compat.driver_branches.entries} | set(_LEGACY_BRANCHES)
    below = [b for b in known if b <= major]
    return max(below) if below and major - max(below) <= _WINDOWS_DRIFT else major


def _from_identity(f: Facts, gpu: Gpu) -> Finding | None:
    ident = gpu.identity
    version = f.machine.driver.version
    installed = installed_branch(f, version)
    if ident is None or ident.integrated or f.jetson or installed is None:
        return None
    last = ident.last_branch_major
    if last is None or installed <= last:
        return None
    who = gpu.name or ident.name or "this GPU"
    where = gpu.who if gpu.index >= 0 else f"The PCI bus shows {who}, which"
    return Finding(
        code="driver-drops-gpu",
        severity="error",
        gpu=gpu.index,
        title=f"Driver {version} no longer supports {who}",
        detail=f"{where} is {ident.architecture or 'an older GPU'} ({ident.chip or 'die unknown'}); the "
        f"last driver branch that supports it is {_branch_text(ident.last_branch)} (NVIDIA's legacy GPU "
        f"lists and deprecation schedule), and this driver is R{installed}, which does not drive it."
        + f.missing_note(),
        fix=_fix(f, ident.last_branch, who, ident, version),
    )


def _from_tables(f: Facts, gpu: Gpu) -> Finding | None:
    """The compat tables' architecture rows, for a GPU the identity table does not place."""
    version = f.machine.driver.version
    if gpu.cc is None or f.jetson or (gpu.identity is not None and gpu.identity.architecture is not None):
        return None
    entry = driver_drops_gpu(f.compat, gpu.cc, version)
    if entry is None:
        return None
    verified = entry.status == "verified"
    caveat = (
        ""
        if verified
        else f" This fact is {entry.status} in the tables ({entry.source}); if nvidia-smi lists "
        "this GPU and CUDA works, the table is wrong."
    )
    who = gpu.name or "this GPU"
    return Finding(
        code="driver-drops-gpu",
        severity="error" if verified else "warning",
        gpu=gpu.index,
        title=f"Driver {version} may no longer support {who}",
        detail=f"{gpu.who} is {entry.architecture} (CC {entry.cc_min}–{entry.cc_max}); the last "
        f"driver branch supporting it is R{entry.last_branch}, and this driver is "
        f"R{driver_branch(version)}.{caveat}",
        fix=_fix(f, str(entry.last_branch), who, None, version),
    )


# ---------------------------------------------------------------- wording


def _fix(f: Facts, branch: str | None, who: str, ident: GpuIdentity | None, driver: str | None) -> str:
    if branch is None:
        return (
            f"Install the legacy NVIDIA driver branch that still supports {who} (NVIDIA's legacy GPU list "
            "at https://www.nvidia.com/en-us/drivers/unix/legacy-gpu/ names it); a newer driver will not "
            "drive it."
        )
    major = int(branch.split(".")[0])
    cuda = driver_max_cuda(f.compat, f"{major}.0")
    cuda_note = (
        f" R{major} runs CUDA up to {cuda.cuda}, so use a framework build for CUDA {cuda.cuda} or older."
        if cuda is not None and not cuda.at_least
        else ""
    )
    arch = f" (the last branch for {ident.architecture} GPUs)" if ident and ident.architecture else ""
    keep = f" instead of {driver}" if driver else ""
    return (
        f"Install the NVIDIA {_branch_text(branch)} driver{arch}{keep} (your distribution's "
        f"nvidia-{major}-series / legacy-{major}xx package, or the {major}.xx .run installer) and pin it so "
        f"updates do not replace it.{cuda_note} Newer drivers will not support {who}; only other "
        "hardware gets you a current driver."
    )


def _branch_text(branch: str | None) -> str:
    return f"{branch}.xx" if branch else "legacy"


def _arch(ident: GpuIdentity | None) -> str:
    if ident is None or ident.architecture is None:
        return ""
    cc = f", CC {ident.compute_capability}" if ident.compute_capability else ""
    return f" ({ident.architecture}{cc})"


def _index_of(f: Facts, r: DriverRefusal) -> int | None:
    """The GPU index the refusal is about, when the source lists that GPU (by bus id, else by name)."""
    for g in f.machine.gpus:
        if r.pci_bus_id and g.pci_bus_id and _bus(g.pci_bus_id) == _bus(r.pci_bus_id):
            return g.index
    named = [g.index for g in f.machine.gpus if r.name and _norm(g.name) == _norm(r.name)]
    return named[0] if len(named) == 1 else None


def _bus(bus_id: str) -> str:
    """``00000000:01:00.0`` and ``0000:01:00.0`` → ``01:00.0``."""
    return ":".join(bus_id.lower().split(":")[-2:])


def _norm(name: str | None) -> str:
    return " ".join((name or "").casefold().removeprefix("nvidia ").split())


def _one_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines()]
    return " ".join(ln.removeprefix("NVRM:").strip() for ln in lines if ln)[:400]
