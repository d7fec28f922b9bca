"""The facts the software rules share, derived once from a Machine, and the install advice.

Pure: no I/O. ``gather`` reads the Machine and the catalog into ``Facts`` (NVIDIA GPUs with their
compute capability, wheel platform, torch build, torch's own messages); ``install_hint`` turns the
compat tables' best build into the exact command a finding's fix or a recommendation shows.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from advisor.knowledge.compat import CompatTables
from advisor.knowledge.compat_parse import CC, OS, Platform, platform_of
from advisor.knowledge.match import identify, identify_gpu, match_gpu, name_tokens, with_bus_device_id
from advisor.knowledge.torch_builds import TorchBuild, parse_torch_version
from advisor.knowledge.torch_install import InstallAdvice, InstallChoice, best_install
from advisor.machine import Machine, PciDevice
from advisor.report import Recommendation
from advisor.rules.evidence import gpu_evidence
from advisor.units import format_cc, parse_cc

if TYPE_CHECKING:
    from advisor.knowledge.base import Knowledge
    from advisor.knowledge.cards import Card
    from advisor.knowledge.identity import GpuIdentity

# Texts printed by nvidia-smi / NVML / modprobe when the kernel driver is absent or not loaded
# (compat.md §6.3; fixture 23: "NVIDIA-SMI has failed because it couldn't communicate with the
# NVIDIA driver", "modprobe: FATAL: Module nvidia not found").
NO_DRIVER_TEXTS = (
    "couldn't communicate with the nvidia driver",
    "could not communicate with the nvidia driver",
    "driver not loaded",
    "driver is not loaded",
    "module nvidia not found",
    "found no nvidia driver",
    "no nvidia driver",
)
# NVML cannot be loaded at all: a driver problem only when something else shows an NVIDIA GPU.
NO_NVML_TEXTS = ("library not found", "libnvidia-ml", "nvml.dll", "shared library")
# torch's _check_cubins warning (compat.md §6.4), which also prints the build's arch list.
INCOMPATIBLE_RE = re.compile(
    r"(?P<name>[^\n]*?) with CUDA capability sm_(?P<cc>\d+) is not compatible with the current "
    r"PyTorch installation\.?\s*The current PyTorch install supports CUDA capabilities (?P<arches>[^\n.]*)",
    re.IGNORECASE,
)
# torch ≤ 2.7 "too old" warning (compat.md §6.5).
TOO_OLD_GPU_RE = re.compile(
    r"Found GPU(?P<index>\d+) (?P<name>.*?) which is of cuda capability (?P<cc>\d+\.\d+)\.\s*"
    r"PyTorch no longer supports this GPU because it is too old",
    re.IGNORECASE,
)
DRIVER_TOO_OLD_RE = re.compile(r"driver on your system is too old \(found version (?P<v>\d+)\)", re.I)
NO_KERNEL_IMAGE = "no kernel image is available"
FORWARD_COMPAT_804 = "forward compatibility was attempted on non supported hw"


@dataclass
class Gpu:
    """An NVIDIA GPU with the facts the rules need."""

    index: int
    name: str | None
    cc: CC | None
    card: Card | None
    identity: GpuIdentity | None = None  # every NVIDIA GPU, specs or not (advisor.knowledge.identity)

    @property
    def who(self) -> str:
        cc = f", CC {format_cc(self.cc)}" if self.cc else ""
        return f"GPU {self.index} ({self.name or 'unknown name'}{cc})"


@dataclass
class Facts:
    """Everything the software rules derive once from a Machine."""

    machine: Machine
    compat: CompatTables
    platform: Platform | None
    os: OS | None
    jetson: bool
    gpus: list[Gpu]
    nvidia_present: bool  # GPUs, NVIDIA PCI devices, or a Jetson
    build: TorchBuild | None
    messages: str
    cards: tuple[Card, ...]
    _advice: InstallAdvice | None = field(default=None, repr=False)

    @property
    def ccs(self) -> list[CC]:
        return sorted({g.cc for g in self.gpus if g.cc is not None})

    def advice(self) -> InstallAdvice:
        """The newest wheel for every GPU and this driver (computed once)."""
        if self._advice is None:
            drv = self.machine.driver
            self._advice = best_install(
                self.compat,
                self.ccs,
                self.platform or "linux-x86_64",
                driver_version=drv.version,
                driver_cuda=drv.cuda_version,
                driver_os=self.os,
            )
        return self._advice

    def missing_note(self) -> str:
        m = self.machine.missing
        return f" The source lacked: {', '.join(m)}." if m else ""


# ---------------------------------------------------------------- facts


def gather(machine: Machine, knowledge: Knowledge) -> Facts:
    """Derive the shared facts: platform, Jetson or not, the torch build, NVIDIA GPUs with their CC."""
    host = machine.host
    platform = platform_of(host.os, host.machine_arch)
    build = parse_torch_version(machine.torch.version)
    kernel = (host.kernel or "").lower()
    jetson = bool(host.jetson) or "tegra" in kernel
    if build is not None and build.kind == "nvidia" and platform == "linux-aarch64":
        jetson = True
    messages = "\n".join(machine.torch.init_messages)
    if machine.torch.import_error:
        messages += "\n" + machine.torch.import_error
    gpus = nvidia_gpus(machine, knowledge, messages)
    pci = nvidia_pci(machine)
    return Facts(
        machine=machine,
        compat=knowledge.compat,
        platform=platform,
        # WSL runs the Windows driver: its version follows the Windows column of the driver tables.
        os="windows" if host.is_wsl else driver_os(host.os),
        jetson=jetson,
        gpus=gpus,
        nvidia_present=bool(gpus) or bool(pci) or jetson or bool(gpu_evidence(machine)),
        build=build,
        messages=messages,
        cards=tuple(knowledge.cards),
    )


def nvidia_pci(machine: Machine) -> list[PciDevice]:
    """NVIDIA display/3D controllers on the bus (not the HDMI audio or USB functions of a card)."""
    out = []
    for d in machine.driver.pci_devices or []:
        if d.vendor_id != 0x10DE:
            continue
        if d.class_code is not None:
            base = d.class_code >> 16 if d.class_code > 0xFFFF else d.class_code >> 8
            if base != 0x03:  # PCI base class 03h: display controller
                continue
        out.append(d)
    return out


def other_accelerators_seen(f: Facts) -> bool:
    """The source shows a non-NVIDIA accelerator (AMD/Intel GPU, Apple MPS, DirectML)."""
    m = f.machine
    amd = any(g.vendor == "amd" or looks_amd(g.name) for g in m.gpus)
    return bool(m.host.accelerators) or amd


def looks_amd(name: str | None) -> bool:
    """A GPU a dump parser left with the default vendor but whose name is AMD's (ROCm collect_env)."""
    return bool(name) and re.search(r"\b(AMD|Radeon|Instinct)\b", name or "") is not None


def versions_differ(lib: str | None, mod: str | None) -> bool:
    """Library and kernel-module versions disagree. NVML may print only "570.124" for 570.124.06,
    so a version that is a prefix of the other is not taken as a mismatch."""
    if not lib or not mod or lib == mod:
        return False
    return not (mod.startswith(lib + ".") or lib.startswith(mod + "."))


def driver_os(os_name: str | None) -> OS | None:
    """Which column of the driver tables applies: ``Linux`` → linux, ``Windows`` → windows."""
    name = (os_name or "").strip().lower()
    return "windows" if name.startswith("win") else "linux" if name == "linux" else None


def nvidia_gpus(machine: Machine, knowledge: Knowledge, messages: str) -> list[Gpu]:
    """NVIDIA GPUs with their compute capability: the source's, torch's, torch's warning, the catalog's."""
    from_warning = {
        m.group("name").strip().lower(): m.group("cc") for m in INCOMPATIBLE_RE.finditer(messages)
    }
    torch_cc = {d.index: d.compute_capability for d in machine.torch.devices or []}
    out = []
    for gpu in machine.gpus:
        if gpu.vendor != "nvidia" or looks_amd(gpu.name):
            continue
        gpu = with_bus_device_id(gpu, machine.driver.pci_devices)
        card = match_gpu(gpu, knowledge.cards)
        ident = identify_gpu(gpu)
        cc = (
            parse_cc(gpu.compute_capability)
            or parse_cc(from_warning.get((gpu.name or "").strip().lower()))
            or (card.cc if card else None)
        )
        if cc is None and len(machine.gpus) == len(torch_cc):
            cc = parse_cc(torch_cc.get(gpu.index))
        if cc is None and card is None:
            cc = shared_cc(gpu.name, knowledge.cards)
        if cc is None and ident is not None:
            cc = parse_cc(ident.compute_capability)
        out.append(Gpu(gpu.index, gpu.name, cc, card, ident))
    if not machine.gpus and machine.torch.devices:
        # No NVML/nvidia-smi view (a torch-only probe, Jetson): torch's devices are the GPUs.
        for dev in machine.torch.devices:
            if machine.torch.hip_version:
                continue
            ident = identify(dev.name)
            cc = parse_cc(dev.compute_capability) or (parse_cc(ident.compute_capability) if ident else None)
            out.append(Gpu(dev.index, dev.name, cc, None, ident))
    return out


def name_candidates(name: str | None, cards: Sequence[Card]) -> list[Card]:
    """The NVIDIA catalog cards whose names equal this one (several SKUs share a name: RTX 3060
    8 GB and 12 GB); none for an empty name or one nvidia-smi cut ("NVIDIA GeForce ...")."""
    if not name or not name.strip() or name.rstrip().endswith(("...", "…")):
        return []
    tokens = name_tokens(name)
    if not tokens:
        return []
    return [
        c
        for c in cards
        if c.vendor == "nvidia" and any(name_tokens(n) == tokens for n in (c.name, *c.nvml_names))
    ]


def shared_cc(name: str | None, cards: Sequence[Card]) -> CC | None:
    """The compute capability every catalog SKU of this name shares: a name without the memory size
    matches no single card, yet its CC is not in doubt."""
    ccs = {c.cc for c in name_candidates(name, cards)}
    return ccs.pop() if len(ccs) == 1 else None


# ---------------------------------------------------------------- install advice


# How sure the tables behind an install advice are, in words (the tables' status field is jargon).
_SOURCE_WORDS = {
    "verified": "Checked against the official release tables.",
    "secondary": "From build scripts and release notes, not an official support table.",
    "unverified": "Not verified against an official source.",
}


def install_hint(f: Facts) -> str:
    """The concrete fix: a pip command for the newest build covering every GPU with this driver, or
    the driver to install first, or why no single build exists."""
    if f.jetson:
        return (
            "install NVIDIA's JetPack PyTorch wheel for your JetPack release (desktop wheels fail on Jetson)."
        )
    if f.platform == "macos":
        return "pip install torch (macOS wheels have no CUDA)."
    if not f.ccs:
        return _unknown_gpu_hint(f)
    advice = f.advice()
    where = "" if f.platform else " (assuming Linux x86_64)"
    choice, newest = advice.choice, advice.newest
    if (
        choice is not None
        and newest is not None
        and newest.requirement
        and _months_apart(choice, newest) >= 12
    ):
        # The driver pins an old torch: the driver upgrade comes first, the old build is the fallback.
        return (
            f"upgrade the NVIDIA driver to {newest.requirement.text}, then: {newest.pip}{where}; "
            f"keeping this driver, the newest build it runs is {choice.label}: {choice.pip}"
        )
    if choice is not None:
        return f"{choice.pip}{where}"
    if advice.newest is not None:
        req = advice.newest.requirement
        need = f"upgrade the NVIDIA driver to {req.text}, then " if req and f.machine.driver.version else ""
        if not f.machine.driver.version and req:
            need = f"with a driver {req.text}: "
        return f"{need}{advice.newest.pip}{where}"
    ccs = ", ".join(format_cc(c) or "?" for c in f.ccs)
    return (
        f"no single PyTorch wheel in the tables covers every GPU here (CC {ccs}); use one environment "
        "per GPU type."
    )


def _months_apart(old: InstallChoice, new: InstallChoice) -> int:
    """Months between two builds' releases (their "2023-10" dates); 0 when a date is unreadable."""

    def months(date: str) -> int | None:
        year, _, month = date.partition("-")
        return int(year) * 12 + int(month) if year.isdigit() and month.isdigit() else None

    a, b = months(old.release.date), months(new.release.date)
    return b - a if a is not None and b is not None else 0


def _unknown_gpu_hint(f: Facts, assume_nvidia: bool = False) -> str:
    """No GPU whose compute capability is known: the GPU decides the build, so say how to learn it; with no
    NVIDIA GPU anywhere in the source, the CPU wheel."""
    cpu = "pip install torch --index-url https://download.pytorch.org/whl/cpu"
    if not f.nvidia_present and not assume_nvidia:
        return (
            f"{cpu} (no NVIDIA GPU is shown; if the machine has one, `nvidia-smi -L` names it and its "
            "compute capability decides the CUDA build)"
        )
    newest = f.advice()
    old = best_install(f.compat, [(6, 1)], f.platform or "linux-x86_64", driver_os=f.os)
    new_pick = newest.choice or newest.newest
    old_pick = old.choice or old.newest
    parts = ["run `nvidia-smi -L`: the GPU's compute capability decides the build"]
    if new_pick is not None:
        parts.append(f"Turing and newer: {new_pick.pip}")
    if old_pick is not None and (new_pick is None or old_pick.pip != new_pick.pip):
        parts.append(f"Maxwell/Pascal/Volta: {old_pick.pip}")
    return "; ".join(parts)


def cuda_install_hint(f: Facts) -> str:
    """The CUDA build to install when the source suggests an NVIDIA GPU it does not show."""
    return install_hint(f) if f.ccs else _unknown_gpu_hint(f, assume_nvidia=True)


def install_recommendation(f: Facts) -> Recommendation:
    """The ``install`` recommendation: the command of ``install_hint`` and why that build."""
    advice = f.advice()
    ccs = ", ".join(format_cc(c) or "?" for c in f.ccs)
    drv = f.machine.driver
    driver = f"driver {drv.version}" if drv.version else "an unknown driver"
    if drv.cuda_version:
        driver += f" (CUDA {drv.cuda_version})"
    platform = f.platform or "linux-x86_64 (assumed)"
    gpus = f"GPU CC {ccs}" if ccs else "GPUs of unknown compute capability"
    pick = advice.choice or advice.newest
    if pick is None:
        return Recommendation(
            topic="install",
            supported=False,
            value=install_hint(f),
            reason=f"{advice.note} ({gpus}, {platform}).",
        )
    how = ", ".join(f"CC {format_cc(c)} runs {v.upper()}" for c, v in zip(f.ccs, pick.verdicts, strict=False))
    if advice.choice is not None:
        lead = f"{pick.label} is the newest build for {gpus} that {driver} runs on {platform}"
    else:
        need = f"a driver {pick.requirement.text}" if pick.requirement else "a newer driver"
        lead = f"{driver} runs no build in the tables for {gpus}; the newest, {pick.label}, needs {need}"
    tail = f" ({how})" if how else ". Check that the GPUs' compute capability is in this build's arch list"
    return Recommendation(
        topic="install",
        supported=advice.choice is not None,
        value=install_hint(f),
        reason=f"{lead}{tail}. {_SOURCE_WORDS.get(pick.status, '')}".rstrip(),
    )
