"""TensorFlow / JAX / XLA log lines → facts: the texts these frameworks print when CUDA does not work.

Shared by the live probe (the children's stderr and recorded warnings) and the dump reader. The texts
come from the frameworks' sources: TensorFlow's dso_loader ("Could not load dynamic library 'X'"),
gpu_device ("Cannot dlopen some GPU libraries", "Created device ... compute capability: X.Y"),
stream_executor cuda_dnn ("Loaded runtime CuDNN library: X but source was compiled with: Y"; older
releases print integer versions such as 7201), JAX's xla_bridge ("An NVIDIA GPU may be present on this
machine, but a CUDA-enabled jaxlib is not installed", "CUDA backend failed to initialize: ...",
"Unable to initialize backend 'cuda': ...") and jaxlib's plugin_support ("JAX plugin P version X is
installed, but it is not compatible with the installed jaxlib version Y"). Noise that looks alarming but
is harmless ("Unable to register cuDNN factory: Attempting to register factory for plugin cuDNN when
one has already been registered", "TF-TRT Warning: Could not find TensorRT") is never kept.

Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal

from advisor.dumps.lazy_re import LazyPattern
from advisor.machine import FrameworkDevice, JaxInfo, TensorflowInfo

Owner = Literal["tensorflow", "jax", "xla"]

_MAX_MESSAGES = 40
_MAX_LINE = 600

MISSING_LIB = LazyPattern(
    r"Could not load (?:dynamic )?library (?:'(?P<quoted>[^']+)'|(?P<lib>\S+?)\.?(?:\s|$))"
)
DLOPEN = "Cannot dlopen some GPU libraries"
CUDNN_MISMATCH = LazyPattern(
    r"Loaded runtime CuDNN library:\s*(?P<loaded>\d+(?:\.\d+)*)(?:\s*\(compatibility version \d+\))?\s+"
    r"but source was compiled with:?\s*(?P<compiled>\d+(?:\.\d+)*)",
    re.IGNORECASE,
)
JAX_CUDNN = LazyPattern(
    r"Found cuDNN version (?P<loaded>\d+), but JAX was built against version (?P<compiled>\d+)", re.I
)
# TF 1.x "Creating TensorFlow device (/gpu:0) -> (device: 0, name: X, ...)", later 1.x "Created
# TensorFlow device (/job:.../device:GPU:0 with N MB memory) -> physical GPU (...)", 2.x "Created device
# /job:.../device:GPU:0 with ...".
CREATED_GPU = LazyPattern(
    r"Creat(?:ed|ing) (?:TensorFlow )?device \(?(?:/job:\S+?/device:GPU:|/gpu:)(?P<index>\d+)"
    r".*?name: (?P<name>[^,)]+)"
    r"(?:.*?compute capability: (?P<cc>\d+\.\d+))?"
)
FOUND_DEVICE = LazyPattern(r"pciBusID: \S+ name: (?P<name>.+?) computeCapability: (?P<cc>\d+\.\d+)")
STREAM_EXECUTOR = LazyPattern(
    r"StreamExecutor device \((?P<index>\d+)\): (?P<name>.+?), Compute Capability (?P<cc>\d+\.\d+)"
)
# TensorFlow's gpu_device.cc when a GPU is older than the build supports (the GPU is then skipped).
IGNORED_GPU = LazyPattern(
    r"Ignoring (?:visible )?gpu device \(device: (?P<index>\d+), name: (?P<name>[^,]+),.*?\) "
    r"with Cuda compute "
    r"capability (?P<cc>\d+\.\d+)\. The minimum required Cuda capability is (?P<min>\d+\.\d+)"
)
PLUGIN_MISMATCH = LazyPattern(
    r"JAX plugin (?P<plugin>[\w-]+) version (?P<plugin_version>\S+) is installed,\s+but it is not compatible"
    r"\s+with the installed jaxlib version (?P<jaxlib>\d[^\s,]*?)\.?(?:[\s,]|$)"
)
PJRT_MISMATCH = "Mismatched PJRT plugin PJRT API version"
NO_CUDA_JAXLIB = "CUDA-enabled jaxlib is not installed"
JAX_BACKEND_FAILED = LazyPattern(
    r"(CUDA backend failed to initialize|Unable to initialize backend 'cuda'"
    r"|Backend 'cuda' failed to initialize"
    r"|Jax plugin configuration error)"
)
# jaxlib's CUDA version check, one line per component ("Outdated cuDNN installation found.", then versions);
# the dump reader joins them into this one form.
OUTDATED = LazyPattern(
    r"Outdated (?P<lib>\w+) installation found\.?(?: \(installed (?P<installed>\d+), minimum supported "
    r"(?P<minimum>\d+)\))?"
)
JAXLIB_TOO_NEW = LazyPattern(r"jaxlib version (\S+) is newer than and incompatible with jax version (\S+)")
# Lines worth keeping verbatim (their facts are read by the patterns above, their words by the rules).
_KEEP = LazyPattern(
    r"Could not load (?:dynamic )?library|Cannot dlopen some GPU libraries|Skipping registering GPU devices"
    r"|Loaded runtime CuDNN library|CUDA-enabled jaxlib is not installed|CUDA backend failed to initialize"
    r"|Unable to initialize backend|Jax plugin configuration error"
    r"|is not compatible with the installed jaxlib"
    r"|Mismatched PJRT plugin|Found cuDNN version|Found CUDA version|Outdated \w+ installation found"
    r"|Unable to load (?:CUDA|cuDNN|cuBLAS|cuSPARSE|cuFFT|cuSOLVER)|failed call to cuInit"
    r"|CUDA driver version is insufficient|Could not find cuda drivers|DNN library is not found"
    r"|is newer than and incompatible with jax version|but this version of jax requires"
    r"|older than the PTX compiler version|no kernel image is available|Ignoring (?:visible )?gpu device"
    r"|Backend 'cuda' failed to initialize",
    re.IGNORECASE,
)
_NOISE = LazyPattern(r"Unable to register (?:cuDNN|cuFFT|cuBLAS) factory|Could not find TensorRT", re.I)


def owner(line: str) -> Owner | None:
    """Who printed a line: TensorFlow's own paths, JAX's modules, or XLA (printed by either)."""
    if "tensorflow/" in line or "external/local_xla/" in line or "local_tsl" in line:
        return "tensorflow"
    if "jax" in line.lower() or "external/xla/" in line:
        return "jax"
    if _KEEP.search(line) or CREATED_GPU.search(line):
        return "xla"
    return None


def keep(line: str) -> bool:
    """A line worth quoting to the user (a CUDA failure text), never the harmless noise."""
    return bool(_KEEP.search(line)) and not _NOISE.search(line)


def cudnn_text(raw: str) -> str:
    """cuDNN versions as TensorFlow and JAX print them: "8.6.0" stays, 7201 → "7.2.1", 90100 → "9.1.0"."""
    if "." in raw or not raw.isdigit():
        return raw
    n = int(raw)
    if n >= 90000:
        return f"{n // 10000}.{n % 10000 // 100}.{n % 100}"
    return f"{n // 1000}.{n % 1000 // 100}.{n % 100}"


def _clip(line: str) -> str:
    return line.strip()[:_MAX_LINE]


def read_tensorflow(info: TensorflowInfo, lines: Iterable[str]) -> TensorflowInfo:
    """``info`` with what TensorFlow's log lines add: missing libraries, the cuDNN mismatch, GPUs created."""
    messages = list(info.messages)
    missing = list(info.missing_libraries or [])
    saw_missing = info.missing_libraries is not None
    gpus: dict[int, FrameworkDevice] = {g.index: g for g in info.gpus or []}
    loaded, compiled = info.cudnn_loaded, info.cudnn_compiled
    for raw in lines:
        line = _clip(raw)
        if not line or _NOISE.search(line):
            continue
        if m := MISSING_LIB.search(line):
            saw_missing = True
            lib = m["quoted"] or m["lib"]
            if lib not in missing:
                missing.append(lib)
        if m := CUDNN_MISMATCH.search(line):
            loaded, compiled = cudnn_text(m["loaded"]), cudnn_text(m["compiled"])
        if m := CREATED_GPU.search(line):
            i = int(m["index"])
            gpus[i] = FrameworkDevice(
                index=i, platform="gpu", name=m["name"].strip(), compute_capability=m["cc"]
            )
        if keep(line) and line not in messages and len(messages) < _MAX_MESSAGES:
            messages.append(line)
    update: dict[str, object] = {"messages": messages}
    if saw_missing:
        update["missing_libraries"] = missing
    if gpus:
        update["gpus"] = [gpus[i] for i in sorted(gpus)]
    if loaded and compiled:
        update["cudnn_loaded"], update["cudnn_compiled"] = loaded, compiled
    return info.model_copy(update=update)


def read_jax(info: JaxInfo, lines: Iterable[str]) -> JaxInfo:
    """``info`` with what JAX's messages add: plugin/jaxlib versions from the mismatch warning, texts kept."""
    messages = list(info.messages)
    plugins = dict(info.plugins or {})
    jaxlib = info.jaxlib_version
    for raw in lines:
        line = _clip(raw)
        if not line or _NOISE.search(line):
            continue
        if m := PLUGIN_MISMATCH.search(line):
            plugins.setdefault(m["plugin"].replace("_", "-"), m["plugin_version"])
            jaxlib = jaxlib or m["jaxlib"]
        if keep(line) and line not in messages and len(messages) < _MAX_MESSAGES:
            messages.append(line)
    update: dict[str, object] = {"messages": messages, "jaxlib_version": jaxlib}
    if plugins:
        update["plugins"] = plugins
    return info.model_copy(update=update)


def jax_cudnn_mismatch(messages: Iterable[str]) -> tuple[str, str] | None:
    """(loaded, built against) from JAX's "Found cuDNN version X, but JAX was built against version Y"."""
    for line in messages:
        if m := JAX_CUDNN.search(line):
            return cudnn_text(m["loaded"]), cudnn_text(m["compiled"])
        if (m := OUTDATED.search(line)) and m["lib"].lower() == "cudnn" and m["installed"] and m["minimum"]:
            return cudnn_text(m["installed"]), cudnn_text(m["minimum"])
        if m := CUDNN_MISMATCH.search(line):
            return cudnn_text(m["loaded"]), cudnn_text(m["compiled"])
    return None
