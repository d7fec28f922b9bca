"""TensorFlow on an NVIDIA machine: CPU-only or native-Windows build, CUDA libraries that fail to load,
a cuDNN older than the build's, a driver too old for its CUDA, GPUs without kernels.

Pure; run by advisor.rules.frameworks. Facts from TensorflowInfo (live child or pasted log) and the
tensorflow_builds table; the driver a CUDA version needs from the shared CUDA ⇄ driver tables.
"""

from __future__ import annotations

from advisor.dumps.framework_text import IGNORED_GPU
from advisor.knowledge.cuda_driver import min_driver_for
from advisor.knowledge.framework_tables import (
    TensorflowBuild,
    python_fits,
    release_of,
    tensorflow_build,
    tensorflow_releases_newest_first,
)
from advisor.machine import TensorflowInfo
from advisor.report import Finding
from advisor.rules.frameworks import (
    cc_text,
    driver_label,
    driver_verdict,
    framework_finding,
    gpu_names,
    gpus_without_code,
    native_windows,
    quote,
    version_of,
)
from advisor.rules.software_facts import Facts

SUBJECT = "tensorflow"
_DLOPEN = "cannot dlopen some gpu libraries"
_DRIVER_INSUFFICIENT = "cuda driver version is insufficient"


def check_tensorflow(f: Facts) -> list[Finding]:
    """Findings about the installed TensorFlow (none when it is absent or the machine has no NVIDIA GPU)."""
    t = f.machine.tensorflow
    if t.import_error:
        return [
            _finding(
                "torch-not-installed",
                "warning",
                "TensorFlow is installed but fails to import",
                f"`import tensorflow` raised: {t.import_error.strip()}",
                "Reinstall it in this environment: " + install_hint(f),
            )
        ]
    if t.installed is False or not (t.version or t.messages or t.is_cuda_build is not None):
        return []
    # A CUDA toolkit installed on native Windows says the user means to use an NVIDIA GPU there.
    cuda_intent = native_windows(f) and bool(f.machine.host.system_cuda_version)
    if not (f.nvidia_present or _gpu_implied(t) or cuda_intent):
        return []  # a CPU build on a machine without an NVIDIA GPU is simply right
    build = tensorflow_build(f.compat.tensorflow_builds, t.version)
    windows = _windows_native(f, t)
    if windows or not (f.nvidia_present or _gpu_implied(t)):
        return windows
    cpu = _cpu_only(f, t)
    if cpu:
        return cpu
    driver = _driver_too_old(f, t, build)
    libraries = [] if driver else _libraries(f, t, build)
    return driver + libraries + _cudnn(f, t, build) + _arch(f, t)


def _gpu_implied(t: TensorflowInfo) -> bool:
    """TensorFlow's own words show an NVIDIA GPU even where the paste lists none: it loads cuDNN, tries the
    GPU libraries ("Cannot dlopen some GPU libraries" comes after a visible GPU) or ignores a named GPU."""
    return bool(
        t.gpus or t.cudnn_loaded or any(_DLOPEN in m.lower() or IGNORED_GPU.search(m) for m in t.messages)
    )


def _listed_only(t: TensorflowInfo) -> bool:
    """TensorFlow is known only from a package list: nothing shows the program uses it on this GPU."""
    # A distribution name comes only from package lists and the probe; the probe also reads the build.
    return t.package is not None and t.gpus is None and not t.messages and t.is_cuda_build is None


def _severity(t: TensorflowInfo) -> str:
    return "warning" if _listed_only(t) else "error"


def _listed_note(t: TensorflowInfo) -> str:
    if not _listed_only(t):
        return ""
    return " TensorFlow appears only in the package list: this matters if the work runs on TensorFlow."


def _finding(code: str, severity: str, title: str, detail: str, fix: str, gpu: int | None = None) -> Finding:
    return framework_finding(SUBJECT, code, severity, title, detail, fix, gpu)


def _newer_than_2_10(version: str | None) -> bool:
    v = version_of(version)
    return v is not None and (v.major, v.minor) > (2, 10)


def _windows_native(f: Facts, t: TensorflowInfo) -> list[Finding]:
    if not native_windows(f) or not _newer_than_2_10(t.version):
        return []
    return [
        _finding(
            "torch-cpu-only",
            _severity(t),
            f"TensorFlow {t.version} has no GPU support on native Windows",
            f"TensorFlow {t.version} runs on the CPU only: native-Windows GPU support ended after TensorFlow "
            f"2.10 (tensorflow.org/install/pip), while "
            + (
                f"{gpu_names(f)} is present."
                if f.gpus or f.nvidia_present
                else f"CUDA {f.machine.host.system_cuda_version} is installed for an NVIDIA GPU."
            )
            + (" TensorFlow lists no GPU." if t.gpus == [] else "")
            + _listed_note(t),
            install_hint(f),
        )
    ]


def _cpu_only(f: Facts, t: TensorflowInfo) -> list[Finding]:
    cpu_package = t.package in ("tensorflow-cpu", "tensorflow-intel", "tensorflow-macos")
    if not (t.is_cuda_build is False and not t.is_rocm_build) and not cpu_package:
        return []
    seen = []
    if t.is_cuda_build is False:
        seen.append("tf.sysconfig.get_build_info() says is_cuda_build False")
    if cpu_package:
        seen.append(f"the installed distribution is {t.package}")
    remove = f"pip uninstall -y {t.package or 'tensorflow'} && "
    return [
        _finding(
            "torch-cpu-only",
            "error",
            f"The installed TensorFlow {t.version or ''} is a CPU-only build".replace("  ", " "),
            f"{'; '.join(seen)}, while {gpu_names(f)} is present, so TensorFlow cannot use it."
            + f.missing_note(),
            remove + install_hint(f),
        )
    ]


def _build_cuda(t: TensorflowInfo, build: TensorflowBuild | None) -> str | None:
    if t.is_cuda_build is False:
        return None
    return t.cuda_version or (build.cuda if build is not None else None)


def _driver_too_old(f: Facts, t: TensorflowInfo, build: TensorflowBuild | None) -> list[Finding]:
    if t.gpus:
        return []  # TensorFlow registered GPUs: the driver serves it
    cuda = _build_cuda(t, build)
    verdict = driver_verdict(f, cuda)
    said = [m for m in t.messages if _DRIVER_INSUFFICIENT in m.lower()]
    if (verdict is None or verdict.ok is not False) and not said:
        return []
    where = "tf.sysconfig.get_build_info()" if t.cuda_version else f"the tested configuration of {t.version}"
    detail = f"TensorFlow {t.version or '(version not shown)'} is built with CUDA {cuda} ({where})"
    if verdict is not None and verdict.requirement is not None:
        detail += f", which needs a driver {verdict.requirement.text}; {driver_label(f)} is older."
    else:
        detail += f"; TensorFlow said: {quote(said)}."
    need = verdict.requirement.driver_text if verdict is not None and verdict.requirement else None
    fix = (f"Upgrade the NVIDIA driver to {need} or newer, or install " if need else "Install ") + (
        "a TensorFlow whose CUDA this driver runs: " + install_hint(f)
    )
    return [
        _finding(
            "driver-too-old",
            "error" if said else _severity(t),
            f"The NVIDIA driver is too old for TensorFlow {t.version or ''}".rstrip(),
            detail + _listed_note(t),
            fix,
        )
    ]


def _libraries(f: Facts, t: TensorflowInfo, build: TensorflowBuild | None) -> list[Finding]:
    if t.gpus:
        return []
    missing = t.missing_libraries or []
    dlopen = [m for m in t.messages if _DLOPEN in m.lower()]
    if missing or dlopen:
        libs = ", ".join(missing) if missing else "some of its GPU libraries"
        detail = (
            f"TensorFlow {t.version or '(version not shown)'} could not load {libs}, so it skips the GPU "
            f"({gpu_names(f)}) and runs on the CPU. It said: {quote(dlopen or t.messages)}"
        )
        return [
            _finding(
                "torch-not-installed",
                "error",
                "TensorFlow cannot load its CUDA libraries",
                detail + f.missing_note(),
                _library_fix(f, t, build),
            )
        ]
    visible = f.machine.host.cuda_visible_devices
    hidden = visible is not None and visible.strip() in ("", "-1")  # its own finding says so
    if t.is_cuda_build and t.gpus == [] and not hidden:
        said = f" It said: {quote(t.messages)}" if t.messages else ""
        return [
            _finding(
                "torch-not-installed",
                "warning",
                f"TensorFlow {t.version or ''} (a CUDA build) lists no GPU".replace("  ", " "),
                f"tf.config.list_physical_devices('GPU') is empty while {gpu_names(f)} is present.{said}",
                _library_fix(f, t, build),
            )
        ]
    return []


def _library_fix(f: Facts, t: TensorflowInfo, build: TensorflowBuild | None) -> str:
    if build is None:
        return install_hint(f)
    if native_windows(f) and build.windows_gpu:
        return (
            f"Install CUDA {build.windows_cuda} and cuDNN {build.windows_cudnn} (what TensorFlow "
            f"{build.release} was built with) and add their bin folders to PATH, e.g. conda install "
            "-c conda-forge "
            f"cudatoolkit={build.windows_cuda} cudnn={build.windows_cudnn}"
        )
    if build.and_cuda:
        return (
            f'pip install "tensorflow[and-cuda]=={t.version or build.latest or build.release + ".*"}" '
            "(the NVIDIA libraries as pip wheels; unset LD_LIBRARY_PATH if it points at other CUDA libraries)"
        )
    return (
        f"Install CUDA {build.cuda} and cuDNN {build.cudnn} (what TensorFlow {build.release} was built with) "
        f"and put their lib folders on LD_LIBRARY_PATH, or upgrade: {install_hint(f)}"
    )


def _cudnn(f: Facts, t: TensorflowInfo, build: TensorflowBuild | None) -> list[Finding]:
    loaded, compiled = t.cudnn_loaded, t.cudnn_compiled
    # TensorFlow prints "Loaded runtime CuDNN library: X but source was compiled with: Y" only when its own
    # check failed (older releases demanded an exact minor match), so the text itself is the verdict.
    if not loaded or not compiled:
        return []
    if build is not None and build.and_cuda:
        fix = (
            f'pip install "tensorflow[and-cuda]=={t.version or build.latest}" (its nvidia-cudnn wheel is the '
            "cuDNN it needs), and remove an older libcudnn from LD_LIBRARY_PATH"
        )
    else:
        major = version_of(compiled)
        fix = (
            f"Install cuDNN {major.major}.{major.minor} or a newer {major.major}.x"
            if major is not None
            else f"Install cuDNN {compiled}"
        ) + " and make it the libcudnn found first (LD_LIBRARY_PATH / PATH)"
    return [
        _finding(
            "cudnn-version-mismatch",
            "error",
            f"TensorFlow loaded cuDNN {loaded} but was built with {compiled}",
            f"cuDNN {loaded} was loaded at run time; TensorFlow {t.version or '(version not shown)'} was "
            f"compiled with {compiled}, and cuDNN needs the same major and an equal or higher minor version, "
            "so every "
            'convolution fails ("DNN library initialization failed" / "DNN library is not found").',
            fix,
        )
    ]


def _arch(f: Facts, t: TensorflowInfo) -> list[Finding]:
    ignored = [
        _finding(
            "arch-not-in-build",
            "error",
            f"TensorFlow {t.version or ''} ignores {m['name'].strip()} (CC {m['cc']})".replace("  ", " "),
            f"TensorFlow skipped GPU {m['index']} ({m['name'].strip()}): its compute capability {m['cc']} is "
            f'below the {m["min"]} this build requires. It said: "{m.group(0)}"',
            "Use a GPU of CC "
            + m["min"]
            + "+ , or an older TensorFlow built for CC "
            + m["cc"]
            + " (from source).",
            gpu=int(m["index"]),
        )
        for line in t.messages
        if (m := IGNORED_GPU.search(line))
    ]
    if ignored:
        return ignored
    arches = t.cuda_compute_capabilities
    if not arches or t.gpus:
        return []
    return [
        _finding(
            "arch-not-in-build",
            "error",
            f"TensorFlow {t.version or ''} has no kernels for {g.name or 'this GPU'} (CC {cc_text(g.cc)})",
            f"{g.who}: the build's compute capabilities (tf.sysconfig.get_build_info()) are "
            f"{' '.join(arches)}; no cubin runs on CC {cc_text(g.cc)} and no PTX is at or below it.",
            install_hint(f),
            gpu=g.index,
        )
        for g in gpus_without_code(f, arches)
    ]


# ---------------------------------------------------------------- install advice


def install_hint(f: Facts) -> str:
    """The exact TensorFlow install for this platform, GPU and driver."""
    if f.platform == "macos":
        return "pip install tensorflow (macOS builds have no CUDA)."
    if f.jetson:
        return "install NVIDIA's TensorFlow wheel for your JetPack release (PyPI's have no Jetson CUDA)."
    table = f.compat.tensorflow_builds
    pick, needs = _best_release(f)
    if native_windows(f):
        inside = (
            f'pip install "tensorflow[and-cuda]=={_pin(pick)}"'
            if pick
            else 'pip install "tensorflow[and-cuda]"'
        )
        return (
            f"TensorFlow 2.11+ has no native-Windows GPU build: use WSL2 and run {inside} there, or stay on "
            'native Windows with pip install "tensorflow==2.10.*" plus CUDA 11.2 and cuDNN 8.1.'
        )
    if table is None or pick is None:
        return 'pip install "tensorflow[and-cuda]"'
    line = f'pip install "tensorflow[and-cuda]=={_pin(pick)}"'
    where = "" if f.platform else " (assuming Linux)"
    if needs:
        return f"upgrade the NVIDIA driver to {needs}, then {line}{where}"
    if pick.cuda and driver_verdict(f, pick.cuda) is None:
        need = min_driver_for(f.compat, pick.cuda, f.os or "linux")
        if need is not None:
            where += f" (needs an NVIDIA driver {need.text})"
    return line + where


def _pin(build: TensorflowBuild) -> str:
    return build.latest or f"{build.release}.*"


def _best_release(f: Facts) -> tuple[TensorflowBuild | None, str | None]:
    """The newest and-cuda release whose Python range fits and whose CUDA this driver runs; else the
    newest one with the driver it needs."""
    rows = [
        r
        for r in tensorflow_releases_newest_first(f.compat.tensorflow_builds)
        if r.and_cuda and r.cuda and python_fits(r, f.machine.host.python_version) is not False
    ]
    if not rows:
        return None, None
    for r in rows:
        verdict = driver_verdict(f, r.cuda)
        if verdict is None or verdict.ok:
            return r, None
    verdict = driver_verdict(f, rows[0].cuda)
    needs = verdict.requirement.driver_text if verdict is not None and verdict.requirement else None
    return rows[0], needs


def tensorflow_release(t: TensorflowInfo) -> str | None:
    """``"2.16"`` for an installed 2.16.1 (for the require gates)."""
    return release_of(t.version)
