"""Runs in a child process: import TensorFlow, read its build and GPU facts, print them as one JSON line.

Executed as ``python -c <this source>`` by :mod:`advisor.probe.framework_probe`, so it imports nothing
from ``advisor`` and needs only the standard library. TensorFlow's own log lines (libraries it cannot
load, the cuDNN it found) go to this child's stderr, which the parent reads.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import json
import re
import sys
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


def collect() -> dict[str, Any]:
    """Everything TensorFlow says about itself; a field it cannot give stays absent."""
    facts: dict[str, Any] = {"messages": []}
    try:
        facts["packages"] = _packages()
    except Exception as e:  # a broken site-packages must not cost the rest
        facts["messages"].append(_error(e))
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
    facts = collect()
    sys.stdout.write("\n" + MARKER + json.dumps(facts, default=str) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
