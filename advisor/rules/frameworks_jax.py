"""JAX on an NVIDIA machine: a CUDA plugin of another release than jaxlib, no CUDA support at all, a CUDA
plugin that cannot load its libraries or finds an older cuDNN, a driver too old for the plugin's CUDA,
GPUs older than JAX supports.

Pure; run by advisor.rules.frameworks. Facts from JaxInfo (live child or pasted log) and the jax_cuda /
jax_plugin_rules tables; the driver a CUDA major needs from the shared CUDA ⇄ driver tables.
"""

from __future__ import annotations

import re

from advisor.dumps.framework_text import JAX_BACKEND_FAILED, NO_CUDA_JAXLIB, PJRT_MISMATCH, jax_cudnn_mismatch
from advisor.knowledge.cuda_driver import min_driver_for
from advisor.knowledge.framework_tables import (
    JaxCudaLine,
    jax_cuda_line,
    jax_current_lines,
    numeric_prefix,
    plugin_rule,
)
from advisor.knowledge.gpu_code import nvcc_can_target
from advisor.machine import JaxInfo
from advisor.report import Finding
from advisor.rules.frameworks import (
    below_min_cc,
    cc_text,
    driver_label,
    driver_verdict,
    framework_finding,
    gpu_names,
    native_windows,
    quote,
)
from advisor.rules.software_facts import Facts, Gpu

SUBJECT = "jax"
_CUDA_PLUGIN = re.compile(r"^jax-cuda(\d+)-(plugin|pjrt)$")
_CUDA_JAXLIB = re.compile(r"\+cuda(\d+)")
_LIBRARY_TEXTS = ("outdated", "unable to load", "found cuda version", "error loading cuda libraries")


def check_jax(f: Facts) -> list[Finding]:
    """Findings about the installed JAX (none when it is absent or, for the GPU checks, no NVIDIA GPU)."""
    j = f.machine.jax
    if j.import_error:
        return [
            _finding(
                "torch-not-installed",
                "warning",
                "JAX is installed but fails to import",
                f"`import jax` raised: {j.import_error.strip()}",
                "Reinstall matching jax and jaxlib: " + install_hint(f),
            )
        ]
    if j.installed is False or not (j.version or j.jaxlib_version or j.plugins or j.messages):
        return []
    present = f.nvidia_present or _gpu_implied(j)
    out = _plugin_mismatch(f, j, present)
    if not present:
        return out
    if out:
        return out  # the plugin is not used: what else JAX says follows from that
    cpu = _windows_native(f, j) or _cpu_only(f, j)
    if cpu:
        return cpu
    driver = _driver_too_old(f, j)
    out = driver + _cudnn(f, j) + ([] if driver else _libraries(f, j)) + _arch(f, j)
    return out or _no_gpu_listed(f, j)


def _gpu_implied(j: JaxInfo) -> bool:
    """JAX warns "An NVIDIA GPU may be present ..." and "CUDA backend failed to initialize" only after its
    own check found a visible NVIDIA GPU (xla_bridge's has_visible_nvidia_gpu)."""
    return any(NO_CUDA_JAXLIB in m or JAX_BACKEND_FAILED.search(m) for m in j.messages)


def _finding(code: str, severity: str, title: str, detail: str, fix: str, gpu: int | None = None) -> Finding:
    return framework_finding(SUBJECT, code, severity, title, detail, fix, gpu)


def cuda_majors(j: JaxInfo) -> list[int]:
    """The CUDA majors of the installed CUDA support: plugins (jax-cuda12-plugin) or a +cuda12 jaxlib."""
    majors = {int(m.group(1)) for name in (j.plugins or {}) if (m := _CUDA_PLUGIN.match(name))}
    if m := _CUDA_JAXLIB.search(j.jaxlib_version or ""):
        majors.add(int(m.group(1)))
    return sorted(majors, reverse=True)


def _gpu_seen(j: JaxInfo) -> bool:
    return any((d.platform or "").lower() in ("gpu", "cuda") for d in j.devices or []) or j.backend in (
        "gpu",
        "cuda",
    )


def _plugin_mismatch(f: Facts, j: JaxInfo, present: bool) -> list[Finding]:
    if not (present or not f.machine.gpus_known):
        return []
    jaxlib = numeric_prefix(j.jaxlib_version)
    bad = []
    for name, version in sorted((j.plugins or {}).items()):
        rule = plugin_rule(f.compat.jax_plugin_rules, name)
        if rule is None or rule.rule != "same-release" or jaxlib is None:
            continue
        if numeric_prefix(version) != jaxlib:
            bad.append(f"{name} {version}")
    pjrt = [m for m in j.messages if PJRT_MISMATCH in m]
    if not bad and not pjrt:
        return []
    # A CUDA plugin needs its pjrt twin of the same release (jax-cudaNN-plugin requires jax-cudaNN-pjrt==).
    cuda = sorted({n for name in (j.plugins or {}) if (m := _CUDA_PLUGIN.match(name)) for n in _twins(m)})
    pins = (
        " ".join(f'"{name}=={j.jaxlib_version}"' for name in sorted(cuda))
        if j.jaxlib_version and cuda
        else ""
    )
    majors = cuda_majors(j)
    hint = f'pip install -U "jax[cuda{majors[0]}]"' if majors else install_hint(f, gpu=True)
    fix = f"pip install {pins} (or reinstall all together: {hint})" if pins else hint
    what = ", ".join(bad) if bad else "the CUDA plugin"
    detail = (
        f"{what} {'is' if len(bad) <= 1 else 'are'} not of jaxlib's release "
        f"({j.jaxlib_version or 'unknown'}); "
        "jaxlib uses a CUDA plugin only when their versions match, so JAX falls back to the CPU (or "
        "crashes with older plugins)."
    )
    if pjrt:
        detail += f" JAX said: {quote(pjrt)}"
    return [
        _finding(
            "jaxlib-plugin-mismatch",
            "error",
            f"JAX's CUDA plugin does not match jaxlib {j.jaxlib_version or ''}".rstrip(),
            detail,
            fix,
        )
    ]


def _twins(m: re.Match[str]) -> tuple[str, str]:
    return f"jax-cuda{m.group(1)}-plugin", f"jax-cuda{m.group(1)}-pjrt"


def _windows_native(f: Facts, j: JaxInfo) -> list[Finding]:
    if not native_windows(f) or _gpu_seen(j):
        return []
    return [
        _finding(
            "torch-cpu-only",
            "error",
            "JAX has no GPU support on native Windows",
            f"JAX's NVIDIA GPU wheels are for Linux only (Windows: CPU; WSL2: experimental), while "
            f"{gpu_names(f)} is present.",
            install_hint(f),
        )
    ]


def _cpu_only(f: Facts, j: JaxInfo) -> list[Finding]:
    if _gpu_seen(j):
        return []
    said = [m for m in j.messages if NO_CUDA_JAXLIB in m]
    no_cuda = j.plugins is not None and not cuda_majors(j)
    if not said and not (no_cuda and j.jaxlib_version and (j.backend == "cpu" or j.devices is not None)):
        return []
    seen = []
    if no_cuda:
        seen.append(f"jaxlib {j.jaxlib_version} is installed without a CUDA plugin")
    if said:
        seen.append(f"JAX said: {quote(said, 1)}")
    return [
        _finding(
            "torch-cpu-only",
            "error",
            "The installed JAX has no CUDA support",
            f"{'; '.join(seen)} — while {gpu_names(f)} is present, so JAX runs on the CPU."
            + f.missing_note(),
            install_hint(f),
        )
    ]


def _lines(f: Facts, j: JaxInfo) -> list[JaxCudaLine]:
    version = j.jaxlib_version or j.version
    return [
        line
        for major in cuda_majors(j)
        if (line := jax_cuda_line(f.compat.jax_cuda, version, major)) is not None
    ]


def _driver_too_old(f: Facts, j: JaxInfo) -> list[Finding]:
    if _gpu_seen(j):
        return []
    out = []
    for line in _lines(f, j):
        verdict = driver_verdict(f, line.cuda_runtime_min)
        if verdict is None or verdict.ok is not False or verdict.requirement is None:
            continue
        need = verdict.requirement
        out.append(
            _finding(
                "driver-too-old",
                "error",
                f"The NVIDIA driver is too old for JAX's CUDA {line.cuda_major} plugin",
                f"JAX {j.version or ''} runs its GPU code on CUDA {line.cuda_major} (the wheels ask for CUDA "
                f"runtime {line.cuda_runtime_min}+), which needs a driver {need.text}; "
                f"{driver_label(f)} is older.",
                f"Upgrade the NVIDIA driver to {need.driver_text} or newer (or use a jax release for an "
                "older "
                f"CUDA: {install_hint(f)})",
            )
        )
    return out


def _cudnn(f: Facts, j: JaxInfo) -> list[Finding]:
    found = jax_cudnn_mismatch(j.messages)  # printed only when the check failed: the text is the verdict
    if found is None:
        return []
    loaded, built = found
    return [
        _finding(
            "cudnn-version-mismatch",
            "error",
            f"JAX found cuDNN {loaded}, older than the {built} it needs",
            f"The cuDNN loaded at run time ({loaded}) is older than the one JAX's CUDA plugin was built "
            f"against ({built}), so the CUDA backend does not initialise. JAX said: {quote(j.messages, 1)}",
            install_hint(f) + " (it brings the matching nvidia-cudnn wheel; unset LD_LIBRARY_PATH if it "
            "points at an older libcudnn)",
        )
    ]


def _libraries(f: Facts, j: JaxInfo) -> list[Finding]:
    if _gpu_seen(j) or jax_cudnn_mismatch(j.messages):
        return []
    failed = [
        m for m in j.messages if JAX_BACKEND_FAILED.search(m) or any(t in m.lower() for t in _LIBRARY_TEXTS)
    ]
    libraries = [m for m in failed if any(t in m.lower() for t in _LIBRARY_TEXTS)]
    if not libraries:
        return []
    return [
        _finding(
            "torch-not-installed",
            "error",
            "JAX's CUDA plugin cannot load the CUDA libraries it needs",
            f"JAX's CUDA backend failed to initialise, so it runs on the CPU. JAX said: {quote(libraries)}",
            install_hint(f) + " (unset LD_LIBRARY_PATH if it points at older CUDA libraries)",
        )
    ]


def _no_gpu_listed(f: Facts, j: JaxInfo) -> list[Finding]:
    """A CUDA plugin is installed, JAX listed its devices, and none is a GPU: nothing else explained why."""
    visible = f.machine.host.cuda_visible_devices
    hidden = visible is not None and visible.strip() in ("", "-1")  # its own finding says so
    if not cuda_majors(j) or _gpu_seen(j) or j.devices is None or hidden:
        return []
    said = f" JAX said: {quote(j.messages)}" if j.messages else ""
    return [
        _finding(
            "torch-not-installed",
            "warning",
            "JAX has a CUDA plugin but lists no GPU",
            f"jax.devices() lists only {', '.join(sorted({d.platform or '?' for d in j.devices}))} devices "
            "while "
            f"{gpu_names(f)} is present.{said}",
            install_hint(f) + " (reinstall; unset LD_LIBRARY_PATH if it points at other CUDA libraries)",
        )
    ]


def _unsupported(f: Facts, line: JaxCudaLine) -> list[Gpu]:
    """GPUs older than the line's oldest CC, or (where the table leaves it to nvcc) than what nvcc of its CUDA
    major still compiles for: CUDA 13 dropped Maxwell, Pascal and Volta."""
    if line.min_cc is not None:
        return below_min_cc(f, line.min_cc)
    cuda = f"{line.cuda_major}.0"
    return [g for g in f.gpus if g.cc is not None and nvcc_can_target(f.compat, cuda, g.cc) is False]


def _arch(f: Facts, j: JaxInfo) -> list[Finding]:
    out = []
    for line in _lines(f, j):
        for g in _unsupported(f, line):
            out.append(
                _finding(
                    "arch-not-in-build",
                    "error",
                    f"JAX does not support {g.name or 'this GPU'} (CC {cc_text(g.cc)})",
                    f"{g.who}: JAX's CUDA {line.cuda_major} wheels support compute capability "
                    f"{line.min_cc or 'from what CUDA ' + str(line.cuda_major) + ' still compiles for'} on.",
                    _arch_fix(f, line),
                    gpu=g.index,
                )
            )
    return out


# ---------------------------------------------------------------- install advice


def install_hint(f: Facts, *, gpu: bool | None = None) -> str:
    """The exact JAX install for this platform, GPU and driver (``gpu``: an NVIDIA GPU is known to be there
    even when the source lists none)."""
    if f.platform == "macos":
        return "pip install -U jax (macOS has no CUDA; Apple GPUs use the jax-metal plugin)."
    if not (f.nvidia_present or gpu or _gpu_implied(f.machine.jax)):
        return "pip install -U jax"
    lines = jax_current_lines(f.compat.jax_cuda)
    fitting = [line for line in lines if _gpus_fit(f, line)]
    pick, needs = None, None
    for line in fitting:
        verdict = driver_verdict(f, line.cuda_runtime_min)
        if verdict is None or verdict.ok:
            pick = line
            break
    if pick is None and fitting:
        pick = fitting[-1]  # the oldest CUDA line still current needs the least driver
        verdict = driver_verdict(f, pick.cuda_runtime_min)
        needs = verdict.requirement.driver_text if verdict is not None and verdict.requirement else None
    line_text = f'pip install -U "jax[{pick.extra}]"' if pick else 'pip install -U "jax[cuda12]"'
    if native_windows(f):
        return f"JAX has no native-Windows GPU build: use WSL2 and run {line_text} there."
    if needs:
        return f"upgrade the NVIDIA driver to {needs}, then {line_text}"
    if pick is not None and driver_verdict(f, pick.cuda_runtime_min) is None:
        return line_text + _driver_note(f, pick, fitting)
    return line_text


def _driver_note(f: Facts, pick: JaxCudaLine, fitting: list[JaxCudaLine]) -> str:
    """With the driver unknown: what the pick needs, and the older CUDA line for an older driver."""
    os = f.os or "linux"
    need = min_driver_for(f.compat, pick.cuda_runtime_min, os)
    older = [line for line in fitting if line.cuda_major < pick.cuda_major]
    note = f" (needs an NVIDIA driver {need.text}" if need else " (check the NVIDIA driver"
    if older:
        low = min_driver_for(f.compat, older[0].cuda_runtime_min, os)
        note += (
            f'; with an older driver{f" {low.text}" if low else ""}: pip install -U "jax[{older[0].extra}]"'
        )
    return note + ")"


def _gpus_fit(f: Facts, line: JaxCudaLine) -> bool:
    """Every GPU runs this line's wheels: at or above its oldest CC, and nvcc of its CUDA targets it."""
    if below_min_cc(f, line.min_cc):
        return False
    cuda = f"{line.cuda_major}.0"
    return all(g.cc is None or nvcc_can_target(f.compat, cuda, g.cc) is not False for g in f.gpus)


def _arch_fix(f: Facts, line: JaxCudaLine) -> str:
    """An older CUDA line that still covers these GPUs, else the CPU."""
    older = [
        x for x in jax_current_lines(f.compat.jax_cuda) if x.cuda_major < line.cuda_major and _gpus_fit(f, x)
    ]
    if older:
        remove = f"{line.plugin} {line.plugin.replace('-plugin', '-pjrt')}" if line.plugin else "jaxlib"
        return f'pip uninstall -y {remove} && pip install -U "jax[{older[0].extra}]"'
    return "Use a newer GPU, or run JAX on the CPU (pip install -U jax)."
