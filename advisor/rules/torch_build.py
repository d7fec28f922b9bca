"""Findings about the installed PyTorch build: torch-not-installed, rocm-build-on-nvidia,
torch-cpu-only and arch-not-in-build (plus driver-too-old, asked from advisor.rules.driver).

Pure: takes the shared ``Facts`` (advisor.rules.software_facts); advisor.rules.software runs it.
"""

from __future__ import annotations

from dataclasses import dataclass

from advisor.knowledge.compat_parse import Platform, cuda_variant
from advisor.knowledge.gpu_code import runs_on
from advisor.knowledge.staleness import newest_known_arch_list
from advisor.knowledge.torch_builds import ResolvedVariant, arch_list_for, resolve_variant
from advisor.report import Finding, Severity
from advisor.rules.driver import driver_too_old
from advisor.rules.software_facts import (
    INCOMPATIBLE_RE,
    NO_KERNEL_IMAGE,
    TOO_OLD_GPU_RE,
    Facts,
    Gpu,
    cuda_install_hint,
    install_hint,
    looks_amd,
    other_accelerators_seen,
)
from advisor.units import format_cc


def check_torch(f: Facts) -> list[Finding]:
    """Findings about the installed PyTorch: not installed, ROCm, CPU-only, else driver and arch checks."""
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
        # and a machine without torch is not broken; the recommendation says what to install. A
        # program that failed on `import torch` (ModuleNotFoundError in the paste) is broken, though.
        failed = [e for e in f.machine.evidence if e.id in ("torch-module-missing", "pip-no-torch-wheel")]
        return [
            Finding(
                code="torch-not-installed",
                severity="warning" if failed else "info",
                title="PyTorch is not installed in the Python environment the program ran in"
                if failed
                else "PyTorch is not installed in this Python environment",
                detail=(f'The program failed: "{failed[0].text}". ' if failed else "")
                + "`import torch` found no torch here, so the build checks were skipped."
                + (" The NVIDIA GPUs here need a CUDA build." if f.gpus else ""),
                fix="Install it into the environment the program runs in (activate that venv/conda env "
                "first): " + install_hint(f)
                if failed
                else install_hint(f),
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
    return driver_too_old(f) + _arch_not_in_build(f)


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
            fix=_replace_torch(f),
        )
    ]


def _cpu_only(f: Facts) -> list[Finding]:
    t, b = f.machine.torch, f.build
    if t.cuda_available:
        return []
    said = "torch not compiled with cuda enabled" in f.messages.lower()
    if not f.nvidia_present:
        # A program asked for CUDA and got a CPU build, or a CPU build sits beside a CUDA toolkit: off a
        # Mac (no CUDA there) the usual cause is a CPU wheel where a CUDA one was meant. Say so, hedged,
        # since no GPU is shown -- but never when the PCI bus was read and holds no NVIDIA device (a
        # GPU-less machine, as a live probe sees it), where a CPU build is the right one.
        cpu_build = (b is not None and b.kind == "cpu") or t.built_with_cuda is False
        toolkit = f.machine.host.system_cuda_version is not None and cpu_build
        bus_read = f.machine.driver.pci_devices is not None
        if (
            not (said or toolkit)
            or bus_read
            or f.machine.source == "live"
            or f.machine.host.os == "Darwin"
            or other_accelerators_seen(f)
        ):
            return []
        return [
            Finding(
                code="torch-cpu-only",
                severity="warning",
                title="The installed PyTorch is a CPU-only build"
                + (" but the program asked for CUDA" if said else ", next to a CUDA toolkit"),
                detail=(
                    'torch raised "Torch not compiled with CUDA enabled"'
                    if said
                    else f"torch {t.version or '?'} has no CUDA while CUDA "
                    f"{f.machine.host.system_cuda_version} is installed on the system"
                )
                + ": the installed build has no CUDA, so no GPU can be used. The source does not show "
                "the GPU; if this machine has an NVIDIA GPU, a CUDA build is needed (an update or a "
                "requirements file often replaces it with the CPU wheel)." + f.missing_note(),
                fix="`pip uninstall -y torch`, then install a CUDA build: " + cuda_install_hint(f),
            )
        ]
    no_cuda = t.cuda_version is None and t.cuda_available is False and b is not None and b.kind != "nvidia"
    if not ((b is not None and b.kind == "cpu") or t.built_with_cuda is False or no_cuda):
        return []
    seen = []
    if b is not None and b.kind == "cpu":
        seen.append(f"the version {b.text} carries the +cpu tag")
    elif b is not None and b.kind == "untagged" and f.platform in ("windows", "macos"):
        seen.append(f"torch {b.text} is untagged, and untagged PyPI wheels on {f.platform} are CPU-only")
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
            fix=_replace_torch(f),
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
        platforms: list[Platform] = [f.platform]
    elif b.kind != "cuda":
        return []  # an untagged build on an unknown platform: PyPI's meaning differs per platform
    elif f.os == "linux":
        platforms = ["linux-x86_64"]  # Linux of unknown CPU: x86_64 assumed, so not certain
    else:
        platforms = ["linux-x86_64", "windows"]  # unknown OS: unsupported only if both say so
    out = []
    for platform in platforms:
        resolved = resolve_variant(f.compat, b, platform, t.cuda_version)
        if resolved is None and b.kind == "untagged" and platform.startswith("linux"):
            # A release newer than the tables has no known PyPI default: its torch.version.cuda names it.
            variant = cuda_variant(t.cuda_version)
            if variant is not None:
                why = f"untagged {b.text} built with CUDA {t.cuda_version}"
                resolved = ResolvedVariant(variant, True, why)
        if resolved is None or resolved.variant == "cpu":
            return []
        entry = arch_list_for(f.compat, b.release, resolved.variant, platform)
        newer = False
        if entry is None:
            # A release newer than the tables: judged by the newest known build of the same variant
            # (knowledge-outdated says so), never certain.
            entry = newest_known_arch_list(f.compat, b.release, resolved.variant, platform)
            newer = entry is not None
        if entry is None:
            return []
        certain = (
            not resolved.inferred
            and not b.prerelease
            and not newer
            and entry.status == "verified"
            and f.platform is not None
        )
        where = (
            f"the tables for torch {b.release} {resolved.variant} on {platform} "
            f"({resolved.why}; {entry.status})"
        )
        if newer:
            where = (
                f"torch {b.release} is newer than the tables, so the newest known {resolved.variant} build "
                f"on {platform} (torch {entry.releases[-1]}; {resolved.why}; {entry.status})"
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
        verdicts = [runs_on(f.compat, s.arch_list, gpu.cc) for s in sources]
        if "ptx" in verdicts and "sass" not in verdicts and _torch_warned(f, gpu.cc):
            out.append(_ptx_only(f, gpu, sources[0], version))
            continue
        if any(v != "none" for v in verdicts):
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


# No PyTorch 1.0+ binary has kernels below CC 3.5 (1.0-1.4 printed "The minimum cuda capability that we
# support is 3.5"; later builds start at 3.7, then 5.0, then 7.5): shared/reference/compat.md §6.5.
OLDEST_CC_OF_ANY_BUILD = (3, 5)


def _below_any_build(f: Facts) -> list[Finding]:
    """A GPU below CC 3.5 (Tesla, Fermi, early Kepler) runs no PyTorch 1.0+ binary, whatever the tables
    hold for this version."""
    t = f.machine.torch
    if not (t.version or t.cuda_version) or f.jetson or (f.build is not None and f.build.kind == "cpu"):
        return []
    out = []
    for gpu in f.gpus:
        if gpu.cc is None or gpu.cc >= OLDEST_CC_OF_ANY_BUILD:
            continue
        cc = format_cc(gpu.cc)
        out.append(
            Finding(
                code="arch-not-in-build",
                severity="error",
                gpu=gpu.index,
                title=f"No PyTorch build has kernels for {gpu.name or 'this GPU'} (CC {cc})",
                detail=f"{gpu.who}: PyTorch 1.0 and newer binaries start at CC 3.5 (later ones at 3.7, 5.0 "
                f"and 7.5), so torch {t.version or '?'} cannot run on CC {cc}." + f.missing_note(),
                fix="Use the CPU (`pip install torch --index-url https://download.pytorch.org/whl/cpu`) or a "
                "newer GPU; no PyTorch wheel supports this one.",
            )
        )
    return out


def _unnamed_too_old(f: Facts) -> list[Finding]:
    """torch's "no longer supports this GPU because it is too old" without a usable GPU name (a paste of the
    format string, "Found GPU%d %s"): the oldest GPU listed is the one it means."""
    if "pytorch no longer supports this gpu because it is too old" not in f.messages.lower():
        return []
    if TOO_OLD_GPU_RE.search(f.messages):
        return []  # named: _message_evidence reports it
    known = [g for g in f.gpus if g.cc is not None]
    oldest = min((g.cc for g in known if g.cc is not None), default=None)
    gpus = [g for g in known if g.cc == oldest] or f.gpus[:1]
    quote = "PyTorch no longer supports this GPU because it is too old"
    return [
        Finding(
            code="arch-not-in-build",
            severity="error",
            gpu=g.index,
            title=f"torch {f.machine.torch.version or '(version not shown)'} no longer supports "
            f"{g.name or 'this GPU'}",
            detail=f'torch warned "{quote}" without naming the GPU; {g.who} is the oldest GPU here.'
            + f.missing_note(),
            fix=install_hint(f),
        )
        for g in gpus
    ] or [
        Finding(
            code="arch-not-in-build",
            severity="error",
            title="torch no longer supports this GPU",
            detail=f'torch warned "{quote}"; the GPU is not shown.' + f.missing_note(),
            fix=install_hint(f),
        )
    ]


def _torch_warned(f: Facts, cc: tuple[int, int]) -> bool:
    """torch's own incompatibility warning names a GPU of this capability."""
    sm = f"{cc[0]}{cc[1]}"
    return any(
        e.id == "torch-arch-incompatible" and e.facts.get("sm") == sm for e in f.machine.evidence
    ) or any(m.group("cc") == sm for m in INCOMPATIBLE_RE.finditer(f.messages))


def _ptx_only(f: Facts, gpu: Gpu, src: _ArchSource, version: str) -> Finding:
    cc = format_cc(gpu.cc)
    return Finding(
        code="arch-not-in-build",
        severity="warning",
        gpu=gpu.index,
        title=f"torch {version} has no compiled kernels for {gpu.name or 'this GPU'} (CC {cc})",
        detail=f"{gpu.who}: torch warned that this build is not compatible with it; the arch list "
        f"({src.where}) is {' '.join(src.arch_list)}, with no cubin of CC {cc}'s major, only PTX of an older "
        "architecture that the driver must JIT-compile. The CUDA libraries of that build (cuBLAS, cuDNN) "
        "have no code for this GPU either, so expect failures or very slow first runs." + f.missing_note(),
        fix=install_hint(f),
    )


def _message_evidence(f: Facts, covered: bool) -> list[Finding]:
    """torch's own texts when the arch lists did not decide: the ≤2.7 "too old" warning, "no kernel image"."""
    version = f.machine.torch.version or "(version not shown)"
    out = _below_any_build(f) + _unnamed_too_old(f)
    if out:
        return out
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


def _replace_torch(f: Facts) -> str:
    """Uninstall then install. On Windows as two lines: `&&` is a syntax error in Windows PowerShell 5.1
    (the default shell) and `;` is no separator in cmd.exe, while one command per line runs in both."""
    join = "\n" if f.platform == "windows" else " && "
    return "pip uninstall -y torch" + join + install_hint(f)
