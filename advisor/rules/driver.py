"""Driver findings: no-driver, driver-library-mismatch, driver-too-old (for the installed torch's
CUDA); driver-drops-gpu is in advisor.rules.driver_support.

Pure: each check takes the shared ``Facts`` (advisor.rules.software_facts) and returns findings;
advisor.rules.software runs them.
"""

from __future__ import annotations

from advisor.knowledge.compat_parse import cuda_variant, parse_version, variant_cuda
from advisor.knowledge.cuda_driver import driver_drops_gpu, driver_max_cuda, driver_runs_cuda, min_driver_for
from advisor.report import Finding
from advisor.rules.driver_support import driver_drops as driver_drops  # the rule lives there (identity)
from advisor.rules.software_facts import (
    DRIVER_TOO_OLD_RE,
    FORWARD_COMPAT_804,
    NO_DRIVER_TEXTS,
    NO_NVML_TEXTS,
    Facts,
    nvidia_pci,
    versions_differ,
)


def driver_state(f: Facts) -> list[Finding]:
    """driver-library-mismatch, or no-driver when an NVIDIA GPU is there but no driver drives it."""
    drv = f.machine.driver
    error = (drv.nvml_error or "").lower()
    lib, mod = drv.library_version, drv.kernel_module_version
    compat = compat_lib_mismatch(f)
    if compat:
        return compat
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
    # vfio-pci: passed through to a VM on purpose, not a missing driver. A device whose driver is
    # unknown (None: plain lspci, no "Kernel driver in use" line read) says nothing about the driver.
    unbound = [d for d in pci if d.driver is not None and d.driver not in ("nvidia", "vfio-pci")]
    texts = error + "\n" + f.messages.lower()
    smi_says_no_driver = any(t in error for t in NO_DRIVER_TEXTS)
    # torch prints "Found no NVIDIA driver" on GPU-less machines too: it needs a GPU on the bus.
    torch_says_no_driver = any(t in texts for t in NO_DRIVER_TEXTS) and bool(pci)
    no_nvml = any(t in error for t in NO_NVML_TEXTS) and bool(pci)
    # A PCI bus that was read and shows no NVIDIA device settles it: driver packages without a card
    # (NVML then says "Driver Not Loaded") are a GPU-less machine, not a missing driver.
    bus_has_none = f.machine.driver.pci_devices is not None and not pci
    # NVML answered ("No devices were found") while the bus shows a GPU: the driver did not take it.
    nvml_saw_none = bool(drv.nvml_ok and f.machine.gpus_known and not f.machine.gpus and pci)
    if (
        not f.machine.gpus
        and not bus_has_none
        and not f.machine.torch.cuda_available  # CUDA initialised: some driver works
        and (smi_says_no_driver or torch_says_no_driver or no_nvml or unbound or nvml_saw_none)
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
            bound = ", ".join(f"{d.address} ({d.driver or 'no kernel driver bound'})" for d in unbound)
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


def _torch_cuda(f: Facts) -> str | None:
    t = f.machine.torch
    if t.cuda_version:
        return t.cuda_version
    if f.build is not None and f.build.variant:
        v = variant_cuda(f.build.variant)
        return None if v is None else str(v)
    return None


def compat_lib_mismatch(f: Facts) -> list[Finding]:
    """Error 804 where nvidia-smi reports a higher CUDA than the installed kernel driver's branch supports:
    a forward-compatibility libcuda (cuda-compat, often baked into a container image) sits on top of an
    older kernel module on a GPU without forward-compatibility support. The user-space driver and the
    kernel module disagree; the host driver alone would run the build."""
    drv = f.machine.driver
    if FORWARD_COMPAT_804 not in f.messages.lower() or not drv.version or not drv.cuda_version:
        return []
    native = driver_max_cuda(f.compat, drv.version)
    reported = parse_version(drv.cuda_version)
    if native is None or native.at_least or reported is None or reported <= native.cuda:
        return []
    return [
        Finding(
            code="driver-library-mismatch",
            severity="error",
            title="A forward-compatibility CUDA driver library is loaded over an older kernel driver",
            detail=f"CUDA error 804 (forward compatibility was attempted on non supported HW) while "
            f"nvidia-smi reports CUDA {drv.cuda_version} for driver {drv.version}, whose branch natively "
            f"supports CUDA {native.cuda}: a newer libcuda (the cuda-compat package, often inside a "
            "container image) is used with this kernel module, which only data-centre GPUs allow."
            + f.missing_note(),
            fix="Remove the cuda-compat package from the image (or its path from LD_LIBRARY_PATH) so the "
            "host driver's own libcuda is used; or upgrade the host driver to a branch that supports the "
            "image's CUDA.",
        )
    ]


def driver_too_old(f: Facts) -> list[Finding]:
    """driver-too-old: the driver cannot run the installed torch build's CUDA (tables or torch's words)."""
    t, drv = f.machine.torch, f.machine.driver
    if t.cuda_available:  # evidence: CUDA initialised, so the driver runs this build
        return []
    if compat_lib_mismatch(f):
        return []  # reported as driver-library-mismatch: the host driver itself is not too old
    cuda = _torch_cuda(f)
    seen = DRIVER_TOO_OLD_RE.search(f.messages)
    forward_804 = FORWARD_COMPAT_804 in f.messages.lower()
    nvidia_build = f.build is not None and f.build.kind == "nvidia"
    verdict = None
    if cuda and not nvidia_build and not f.jetson:
        verdict = driver_runs_cuda(
            f.compat, cuda, os=f.os, driver_version=drv.version, driver_cuda=drv.cuda_version
        )
    if not seen and not forward_804 and (verdict is None or verdict.ok is not False):
        return []
    # Only what is known, in words (never "torch ? is built with CUDA ?").
    facts = []
    if t.version or cuda:
        facts.append(
            f"torch {t.version} is built with CUDA {cuda}"
            if t.version and cuda
            else f"torch is built with CUDA {cuda}"
            if cuda
            else f"torch {t.version} (the source does not say which CUDA it is built with)"
        )
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
        else (min_driver_for(f.compat, cuda, f.os or "linux") if cuda else None)
    )
    have = parse_version(drv.version)
    # torch says "too old" although the driver meets the family floor: minor-version compatibility
    # did not carry this build, so only the toolkit's own driver (or a build of the driver's CUDA) will.
    floor_failed = bool(seen or forward_804) and req is not None and have is not None and have >= req.driver
    if floor_failed and cuda:
        req = min_driver_for(f.compat, cuda, f.os or "linux", minor_compat=False)
        if req is not None and have is not None and have >= req.driver:
            req = None  # the tables cannot say which driver this build needs
    max_cuda = verdict.max_cuda.cuda if verdict is not None and verdict.max_cuda is not None else None
    fixes = []
    # A GPU whose last driver branch is below the one this build needs (Kepler: R470) closes that path.
    stranded = [
        (g, e)
        for g in f.gpus
        if req is not None and g.cc and (e := driver_drops_gpu(f.compat, g.cc, req.driver_text))
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
            f"+{cuda_variant(str(max_cuda))} or older wheel), which needs no compatibility layer"
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
