"""Runs in a child process: import TensorFlow, read its build and GPU facts, print them as one JSON line.

Executed as ``python -c <this source>`` by :mod:`advisor.probe.framework_probe`, so it imports nothing
from ``advisor`` and needs only the standard library. TensorFlow's own log lines (libraries it cannot
load, the cuDNN it found) go to this child's stderr, which the parent reads.

With ``--light`` (the parent found no sign of an NVIDIA GPU) it does not import TensorFlow, which costs
seconds of CPU: the version comes from the package metadata and the build facts from the generated
``tensorflow/python/platform/build_info.py``, read as data.
"""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import importlib.util
import json
import re
import sys
from pathlib import Path
from typing import Any

MARKER = "ADVISOR-TENSORFLOW-FACTS:"
# Distributions that provide the `tensorflow` module, and the NVIDIA wheels of `tensorflow[and-cuda]`.
_TF_DISTS = re.compile(
    r"^(tensorflow|tensorflow-cpu|tensorflow-gpu|tensorflow-intel|tensorflow-macos|tf-nightly.*)$"
)
_NVIDIA = re.compile(r"^nvidia-[a-z0-9-]+-cu1\d$")


def _error(e: BaseException) -> str:
    return f"{type(e).__name__}: {e}"


def _packages() -> dict[str, str]:
    out: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        name = (dist.metadata["Name"] or "").lower().replace("_", "-")
        if _TF_DISTS.match(name) or _NVIDIA.match(name):
            out[name] = dist.version
    return out


def _build_info_file(origin: str | None) -> dict[str, Any] | None:
    """build_info.py's ``build_info`` literal (an OrderedDict of pairs or a dict), without importing it."""
    if not origin:
        return None
    path = Path(origin).parent / "python" / "platform" / "build_info.py"
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "build_info" for t in node.targets):
            value = node.value.args[0] if isinstance(node.value, ast.Call) and node.value.args else node.value
            try:
                return dict(ast.literal_eval(value))
            except (ValueError, TypeError, SyntaxError):
                return None
    return None


def collect_light(facts: dict[str, Any]) -> dict[str, Any]:
    """Version and build facts without importing TensorFlow."""
    spec = importlib.util.find_spec("tensorflow")
    if spec is None:
        facts["installed"] = False
        return facts
    facts["installed"] = True
    names = [n for n in facts.get("packages", {}) if not n.startswith("nvidia-")]
    name = "tensorflow" if "tensorflow" in names else (sorted(names)[0] if names else None)
    if name:
        facts["version"] = facts["packages"][name]
    info = _build_info_file(spec.origin)
    if info is not None:
        facts["build_info"] = {k: v for k, v in info.items() if isinstance(v, (str, bool, int, list))}
    return facts


def collect(light: bool = False) -> dict[str, Any]:
    """Everything TensorFlow says about itself; a field it cannot give stays absent."""
    facts: dict[str, Any] = {"messages": []}
    try:
        facts["packages"] = _packages()
    except Exception as e:  # a broken site-packages must not cost the rest
        facts["messages"].append(_error(e))
    if light:
        return collect_light(facts)
    try:
        tf: Any = importlib.import_module("tensorflow")
    except ModuleNotFoundError as e:
        if e.name == "tensorflow" and importlib.util.find_spec("tensorflow") is None:
            facts["installed"] = False
            return facts
        facts["installed"] = True
        facts["import_error"] = _error(e)
        return facts
    except BaseException as e:  # OSError for a broken libcudart, ImportError, SystemExit ...
        facts["installed"] = True
        facts["import_error"] = _error(e)
        return facts
    facts["installed"] = True
    facts["version"] = str(getattr(tf, "__version__", "") or "") or None
    messages: list[str] = facts["messages"]
    try:
        info = dict(tf.sysconfig.get_build_info())
        facts["build_info"] = {k: v for k, v in info.items() if isinstance(v, (str, bool, int, list))}
    except Exception as e:
        messages.append(_error(e))
    try:
        gpus = tf.config.list_physical_devices("GPU")
        devices = []
        for i, gpu in enumerate(gpus):
            device: dict[str, Any] = {"index": i, "platform": "gpu", "name": str(gpu.name)}
            try:
                details = tf.config.experimental.get_device_details(gpu)
                device["name"] = str(details.get("device_name") or gpu.name)
                cc = details.get("compute_capability")
                if isinstance(cc, tuple) and len(cc) == 2:
                    device["compute_capability"] = f"{cc[0]}.{cc[1]}"
            except Exception as e:
                messages.append(_error(e))
            devices.append(device)
        facts["gpus"] = devices
        if devices:
            _touch_cudnn(tf, messages)
    except Exception as e:
        messages.append(_error(e))
    return facts


def _touch_cudnn(tf: Any, messages: list[str]) -> None:
    """One tiny convolution on the first GPU: cuDNN is loaded (and its version checked) only on first use."""
    try:
        with tf.device("/GPU:0"):
            tf.nn.conv2d(tf.zeros([1, 4, 4, 1]), tf.zeros([3, 3, 1, 1]), strides=1, padding="SAME")
    except Exception as e:
        messages.append(_error(e))


def main() -> None:
    """Print the facts as one marked JSON line on stdout."""
    facts = collect(light="--light" in sys.argv[1:])
    sys.stdout.write("\n" + MARKER + json.dumps(facts, default=str) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
