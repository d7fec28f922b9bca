"""TensorFlow and JAX printouts in a paste → ``Machine.tensorflow`` / ``Machine.jax`` and the GPUs they name.

Read (formats from the projects' own tools and templates):
- ``jax.print_environment_info()``: ``jax:``, ``jaxlib:``, plugin versions, ``python:``,
  ``jax.devices (N total, M local): [CudaDevice(id=0), ...]``, ``platform: uname_result(...)``;
- TensorFlow's ``tf_env_collect.sh`` (``tf.version.VERSION = 2.x``) and the GitHub issue template
  (``### TensorFlow version`` / ``### OS platform and distribution`` / ``### Python version``, and the older
  ``- TensorFlow version (use command below): 2.1.0`` list);
- ``print(tf.sysconfig.get_build_info())`` (``OrderedDict([('cuda_version', '11.2'), ...])`` or a dict);
- ``tf.config.list_physical_devices('GPU')`` output and the docs' ``Num GPUs Available:`` line;
- TensorFlow / XLA start-up log lines (libraries that fail to load, the cuDNN found, devices found, created or
  ignored) and JAX's plugin and backend messages (advisor.dumps.framework_text).
Pip / conda lines naming tensorflow, jax, jaxlib or the CUDA plugins arrive through ``Machine.packages``
(advisor.dumps.packages) and are folded in by :func:`with_packages` when the parts are merged.
"""

from __future__ import annotations

import ast
import re
from typing import Any

from advisor.dumps import framework_text as ft
from advisor.dumps import values as v
from advisor.dumps.detect import hit_lines
from advisor.dumps.lazy_re import LazyPattern
from advisor.dumps.partial import MAX_GPUS, Partial
from advisor.machine import GPU, FrameworkDevice, HostInfo, JaxInfo, Machine, TensorflowInfo

KIND = "frameworks"
_MAX_LINE = 4000

_TRIGGER = re.compile(
    r"(?i:tensorflow)|tf\.version\.VERSION|is_cuda_build|physical_device:GPU|Num GPUs Available"
    r"|^[ \t]*jax(?:lib)?:\s+\d|jax\.devices \(|jax[_-]cuda\d+[_-](?:plugin|pjrt)|JAX|jaxlib|xla|XLA"
    r"|Could not load (?:dynamic )?library|Cannot dlopen|CuDNN library|cuDNN version|CUDA backend"
    r"|Unable to initialize backend|pciBusID: .* name: |StreamExecutor device"
    r"|Ignoring (?:visible )?gpu device|Creat(?:ed|ing) (?:TensorFlow )?device"
    r"|(?i:OS platform and distribution|Python version|GPU model and memory|CUDA/cuDNN version)"
    r"|^[ \t]*platform: uname_result|Backend 'cuda' failed"
    r"|^[ \t]*python:\s+\d|Mismatched PJRT|Outdated \w+ installation|failed call to cuInit"
    r"|nvcuda\.dll|cudart64_",
    re.MULTILINE,
)
# tf_env_collect.sh ("tf.version.VERSION = 2.4.0", 2017's "tf.__version__ = 1.2.0"), the issue template list
# ("- **TensorFlow version (use command below)**: ('v1.2.0-rc2-21-g12f033d', '1.2.0')": GIT_VERSION, VERSION)
# and "Tensor Flow Version: 2.12.0"-style prints.
_TF_VERSION = LazyPattern(
    r"(?:tf\.version\.VERSION\s*=\s*|tf\.__version__\s*[:=]?\s*"
    r"|Tensor ?Flow version(?: \(use command below\))?\**\s*[:=]\s*\**\s*"
    r"|^\s*tensorflow(?:-gpu|-cpu)?\s*[:=]\s*v?)"
    r"(?:\(\s*'v[\w.-]*',\s*')?(?:tf\s*)?v?(?P<v>\d+\.\d+(?:\.\d+)?(?:-?rc\d+)?)",
    re.IGNORECASE,
)
_TEMPLATE_HEADER = LazyPattern(
    r"^#{2,4}\s*(?P<key>TensorFlow version|OS platform and distribution|Python version|GPU model and memory"
    r"|CUDA/cuDNN version)\s*$",
    re.IGNORECASE,
)
# An answer to "GPU model and memory" that names an NVIDIA card ("RTX 3090 24GB", "1050ti 4 GB", "Tesla T4").
_NVIDIA_WORDS = LazyPattern(
    r"\b(?:nvidia|geforce|gtx|rtx|quadro|tesla|titan|[ahlvt]\d{1,3}|\d{3,4} ?ti|\d{4})\b", re.IGNORECASE
)
_LOOKAHEAD = 6  # lines of jaxlib's version report after "Outdated X installation found."
_BUILD_INFO_PAIR = LazyPattern(
    r"""['"](?P<k>cuda_version|cudnn_version|is_cuda_build|is_rocm_build|cuda_compute_capabilities)['"]\s*[,:]\s*"""
    r"""(?P<v>\[[^\]]*\]|'[^']*'|"[^"]*"|True|False)"""
)
_PHYSICAL = LazyPattern(r"PhysicalDevice\(name='/physical_device:(?P<kind>GPU|XLA_GPU):(?P<index>\d+)'")
_NUM_GPUS = LazyPattern(r"Num GPUs Available:?\s*(?P<n>\d+)")
_JAX_KV = LazyPattern(r"^\s*(?P<k>jax|jaxlib|python)\s*:\s+(?P<v>\d\S*)")
_JAX_PLUGIN_KV = LazyPattern(r"^\s*(?P<k>jax[_-](?:cuda|rocm)\d*[_-](?:plugin|pjrt))\s*[:=]?\s+(?P<v>\d\S*)")
_JAX_DEVICES = LazyPattern(r"jax\.devices \((?P<n>\d+) total, \d+ local\):\s*\[(?P<list>.*)\]")
_JAX_DEVICE = LazyPattern(r"(?P<kind>\w*?)Device\(id=(?P<id>\d+)")
_UNAME = LazyPattern(r"platform: uname_result\(system='(?P<system>[^']*)'.*?machine='(?P<machine>[^']*)'")
_WINDOWS_HINT = LazyPattern(r"nvcuda\.dll|cudart64_\d+\.dll|cudnn64_\d+\.dll|\b[A-Z]:\\")
_OS_WORDS = LazyPattern(
    r"\b(?P<os>windows|win ?1[01]|win10|ubuntu|linux|debian|centos|fedora|macos|mac os|wsl)", re.I
)


def scan(lines: list[str], mask: bytearray) -> list[Partial]:
    """The TensorFlow and JAX facts outside the nvidia-smi spans: one partial, or none."""
    hits = hit_lines(lines, mask, _TRIGGER)
    if not hits:
        return []
    tf: dict[str, Any] = {}
    jax: dict[str, Any] = {}
    host: dict[str, Any] = {}
    gpus: dict[str, GPU] = {}
    tf_lines: list[str] = []
    jax_lines: list[str] = []
    shared: list[str] = []  # XLA lines either framework prints
    position: int | None = None
    consumed = -1  # a line read as the continuation of the one before
    for i in hits:
        if i == consumed:
            continue
        line = lines[i][:_MAX_LINE]
        nxt = lines[i + 1][:_MAX_LINE] if i + 1 < len(lines) else ""
        found = _read_line(line, nxt, lines, i, tf, jax, host, gpus)
        owner = ft.owner(line)
        if (m := ft.OUTDATED.search(line)) and not m["installed"]:
            line = _outdated(line, lines[i + 1 : i + 1 + _LOOKAHEAD])
        joined = f"{line.rstrip()} {nxt.strip()}"
        text = line
        for wrapped in (ft.PLUGIN_MISMATCH, ft.IGNORED_GPU):  # messages that wrap onto the next line
            if not wrapped.search(line) and wrapped.search(joined):
                text, consumed = joined, i + 1
        if owner == "tensorflow":
            tf_lines.append(text)
        elif owner == "jax":
            jax_lines.append(text)
        elif owner == "xla":
            shared.append(text)
        if found or owner is not None:
            position = i if position is None else position
    if position is None:
        return []
    if _WINDOWS_HINT.search("\n".join(tf_lines)) and "os" not in host:
        host["os"] = "Windows"
    jax_side = bool(jax) or bool(jax_lines)
    tf_side = bool(tf) or bool(tf_lines) or not jax_side
    for (
        text
    ) in shared:  # an XLA line goes to the framework the paste is about (TensorFlow when both or neither)
        (tf_lines if tf_side or ft.CUDNN_MISMATCH.search(text) else jax_lines).append(text)
    if tf_lines:
        tf.setdefault("installed", True)  # TensorFlow's own log lines: it is installed and imports
    tf_info = ft.read_tensorflow(TensorflowInfo(**tf), tf_lines) if (tf or tf_lines) else TensorflowInfo()
    jax_info = ft.read_jax(JaxInfo(**jax), jax_lines) if (jax or jax_lines) else JaxInfo()
    machine = Machine(
        source=KIND,
        host=HostInfo(**host),
        gpus=list(gpus.values())[:MAX_GPUS],
        gpus_known=False,
        tensorflow=tf_info,
        jax=jax_info,
    )
    return [Partial(KIND, position, machine, match="bus")]


def _read_line(
    line: str,
    nxt: str,
    lines: list[str],
    i: int,
    tf: dict[str, Any],
    jax: dict[str, Any],
    host: dict[str, Any],
    gpus: dict[str, GPU],
) -> bool:
    """Facts one line (with the next, for two-line outputs) holds; True when it held any."""
    found = False
    if m := _TEMPLATE_HEADER.match(line.strip()):
        value = _next_value(lines, i + 1)
        if value:
            found = _template(m["key"].lower(), value, tf, host, gpus) or found
    if (m := _TF_VERSION.search(line)) and "version" not in tf:
        tf["version"], tf["installed"] = _tf_version(m["v"]), True
        found = True
    pairs = dict(_BUILD_INFO_PAIR.findall(line))
    if pairs:
        tf.update(_build_info(pairs))
        tf.setdefault("installed", True)
        found = True
    if (m := _PHYSICAL.search(line)) and m["kind"] == "GPU":
        listed = tf.setdefault("gpus", [])
        listed.append(FrameworkDevice(index=int(m["index"]), platform="gpu"))
        found = True
    if m := _NUM_GPUS.search(line):
        if int(m["n"]) == 0:
            tf.setdefault("gpus", [])
        found = True
    if (m := _JAX_KV.match(line)) is not None:
        key = {"jax": "version", "jaxlib": "jaxlib_version"}.get(m["k"])
        if key:
            jax[key], jax["installed"] = m["v"], True
        elif m["k"] == "python" and (jax or _JAX_KV.match(nxt)):
            host.setdefault("python_version", m["v"])
        found = True
    if m := _JAX_PLUGIN_KV.match(line):
        jax.setdefault("plugins", {})[m["k"].lower().replace("_", "-")] = m["v"]
        found = True
    if m := _JAX_DEVICES.search(line):
        jax["devices"] = _jax_devices(m["list"])
        found = True
    if m := _UNAME.search(line):
        host.setdefault("os", m["system"] or None)
        host.setdefault("machine_arch", m["machine"] or None)
        found = True
    found = _gpu_line(line, nxt, gpus) or found
    return found


def _outdated(line: str, following: list[str]) -> str:
    """jaxlib's "Outdated cuDNN installation found." with the installed and minimum versions that follow."""
    text = " ".join(following)
    installed = re.search(r"Installed version:\s*(\d+)", text)
    minimum = re.search(r"Minimum supported:\s*(\d+)", text)
    if installed is None or minimum is None:
        return line
    return f"{line.rstrip().rstrip('.')}. (installed {installed[1]}, minimum supported {minimum[1]})".replace(
        "found.. (", "found. ("
    )


def _next_value(lines: list[str], start: int) -> str | None:
    """The first non-blank line after a template header (the answer), unless it is the next header."""
    for line in lines[start : start + 4]:
        s = line.strip()
        if s.startswith("#"):
            return None
        if s:
            return s[:200]
    return None


def _template(key: str, value: str, tf: dict[str, Any], host: dict[str, Any], gpus: dict[str, GPU]) -> bool:
    if key == "tensorflow version":
        m = re.search(r"(\d+\.\d+(?:\.\d+)?)", value)
        if m and "version" not in tf:
            tf["version"], tf["installed"] = _tf_version(m[1]), True
            return True
    elif key == "os platform and distribution":
        m = _OS_WORDS.search(value)
        if m:
            word = m["os"].lower()
            if word == "wsl":
                host["os"], host["is_wsl"] = "Linux", True
            elif word.startswith("win"):
                host.setdefault("os", "Windows")
            elif word in ("macos", "mac os"):
                host.setdefault("os", "Darwin")
            else:
                host.setdefault("os", "Linux")
            return True
    elif key == "gpu model and memory":
        if _NVIDIA_WORDS.search(value) and not gpus:
            gpus["template"] = GPU(index=0, name=value[:80])
            return True
    elif key == "cuda/cudnn version":
        m = re.search(r"(\d{1,2}\.\d)", value)
        if m:
            host.setdefault("system_cuda_version", m[1])
            return True
    elif key == "python version":
        m = re.search(r"(\d+\.\d+(?:\.\d+)?)", value)
        if m:
            host.setdefault("python_version", m[1])
            return True
    return False


def _tf_version(text: str) -> str:
    """``2.16`` as the template often gives it stays ``2.16``; ``2.17.0`` stays whole."""
    return text.strip().rstrip(".")


def _build_info(pairs: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, raw in pairs.items():
        try:
            value = ast.literal_eval(raw)  # a literal only: strings, booleans, a list of strings
        except (ValueError, SyntaxError):
            continue
        flag = key in ("is_cuda_build", "is_rocm_build") and isinstance(value, bool)
        if flag or (key in ("cuda_version", "cudnn_version") and isinstance(value, str) and value):
            out[key] = value
        elif key == "cuda_compute_capabilities" and isinstance(value, list):
            out[key] = [str(x) for x in value][:64]
    return out


def _jax_devices(listed: str) -> list[FrameworkDevice]:
    out = []
    for m in _JAX_DEVICE.compiled.finditer(listed):
        kind = m["kind"].lower()
        platform = "cpu" if kind == "cpu" else "tpu" if kind == "tpu" else "rocm" if "rocm" in kind else "gpu"
        out.append(FrameworkDevice(index=int(m["id"]), platform=platform))
    return out[:MAX_GPUS]


def _gpu_line(line: str, nxt: str, gpus: dict[str, GPU]) -> bool:
    """A GPU TensorFlow or XLA names in its log: found, created, ignored or a StreamExecutor device."""
    joined = f"{line.rstrip()} {nxt.strip()}"
    for pattern, text in ((ft.FOUND_DEVICE, line), (ft.CREATED_GPU, line), (ft.IGNORED_GPU, joined)):
        m = pattern.search(text)
        if m is None:
            continue
        bus = v.bus_id(_bus(text))
        index = int(m["index"]) if "index" in m.groupdict() and m["index"] is not None else len(gpus)
        key = bus or f"index-{index}"
        cc = m["cc"] if m.groupdict().get("cc") else None
        if key not in gpus and len(gpus) < MAX_GPUS:
            gpus[key] = GPU(index=index, name=m["name"].strip(), pci_bus_id=bus, compute_capability=cc)
        return True
    if m := ft.STREAM_EXECUTOR.search(line):
        key = f"index-{m['index']}"
        if key not in gpus and len(gpus) < MAX_GPUS:
            gpus[key] = GPU(index=int(m["index"]), name=m["name"].strip(), compute_capability=m["cc"])
        return True
    return False


def _bus(text: str) -> str | None:
    m = re.search(
        r"(?:pciBusID|pci bus id):?\s*([0-9a-fA-F]{4,8}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7])", text
    )
    return m[1] if m else None


# ---------------------------------------------------------------- package lists


_TF_DISTS = ("tensorflow", "tensorflow-gpu", "tensorflow-cpu", "tensorflow-intel", "tensorflow-macos")


def with_packages(
    tf: TensorflowInfo, jax: JaxInfo, packages: dict[str, str] | None
) -> tuple[TensorflowInfo, JaxInfo]:
    """Fill what a package list shows (pip list / freeze / conda list) into the two records."""
    if not packages:
        return tf, jax
    names = [n for n in _TF_DISTS if n in packages] + sorted(
        n for n in packages if n.startswith("tf-nightly")
    )
    if names:
        # tensorflow beside tensorflow-intel (Windows) names the release; -cpu alone means a CPU-only build.
        name = names[0]
        update: dict[str, Any] = {"installed": True, "package": tf.package or name}
        if tf.version is None:
            update["version"] = packages[name]
        wheels = {k: val for k, val in packages.items() if re.match(r"^nvidia-[\w-]+-cu1\d$", k)}
        if tf.nvidia_wheels is None and wheels:
            update["nvidia_wheels"] = wheels
        tf = tf.model_copy(update=update)
    if "jax" in packages or "jaxlib" in packages:
        plugins = {
            k: val for k, val in packages.items() if re.match(r"^jax-(cuda|rocm)\d*-(plugin|pjrt)$", k)
        }
        update = {"installed": True}
        if jax.version is None and "jax" in packages:
            update["version"] = packages["jax"]
        if jax.jaxlib_version is None and "jaxlib" in packages:
            update["jaxlib_version"] = packages["jaxlib"]
        update["plugins"] = {**plugins, **(jax.plugins or {})}
        jax = jax.model_copy(update=update)
    return tf, jax
