"""Runs in a child process: import torch, read its build and CUDA facts, print them as one JSON line.

It is executed as ``python -c <this source>`` by :mod:`advisor.probe.torch_probe`, so it imports nothing
from ``advisor`` and needs only the standard library: a broken torch or a hung driver takes down this
child, never the advisor. The JSON line is prefixed with a marker because torch (or a library it loads)
may print to stdout too.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import warnings
from typing import Any

MARKER = "ADVISOR-TORCH-FACTS:"


def _error(e: BaseException) -> str:
    return f"{type(e).__name__}: {e}"


def collect() -> dict[str, Any]:
    """Everything torch says about itself; a field it cannot give stays absent (the parent reads None)."""
    facts: dict[str, Any] = {"init_messages": []}
    try:
        import torch
    except ModuleNotFoundError as e:
        # Absent only when torch itself cannot be found; a missing dependency of torch means a broken install.
        if e.name == "torch" and importlib.util.find_spec("torch") is None:
            facts["installed"] = False
            return facts
        facts["installed"] = True
        facts["import_error"] = _error(e)
        return facts
    except BaseException as e:  # OSError for a broken libcudart, ImportError, RuntimeError, SystemExit ...
        facts["installed"] = True
        facts["import_error"] = _error(e)
        return facts
    facts["installed"] = True
    facts["version"] = str(torch.__version__)
    version = getattr(torch, "version", None)
    facts["cuda_version"] = getattr(version, "cuda", None)
    facts["hip_version"] = getattr(version, "hip", None)
    facts["debug_build"] = getattr(version, "debug", None)
    messages: list[str] = facts["init_messages"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _cuda_facts(torch, facts, messages)
    # Warnings first (they came first: torch warns on CUDA initialisation), minus deprecation noise.
    noise = (DeprecationWarning, PendingDeprecationWarning, FutureWarning)
    warned = [str(w.message) for w in caught if not issubclass(w.category, noise)]
    messages[:0] = [text for i, text in enumerate(warned) if text not in warned[:i]]
    return facts


def _cuda_facts(torch: Any, facts: dict[str, Any], messages: list[str]) -> None:
    def attempt(key: str, func: Any) -> None:
        try:
            facts[key] = func()
        except Exception as e:
            messages.append(_error(e))

    attempt("built_with_cuda", lambda: bool(torch.backends.cuda.is_built()))
    attempt("cudnn_version", torch.backends.cudnn.version)
    attempt("cuda_available", lambda: bool(torch.cuda.is_available()))
    attempt("arch_list", lambda: _arch_list(torch, facts))
    if not facts.get("cuda_available"):
        attempt("device_count", lambda: int(torch.cuda.device_count()))
        return
    attempt("device_count", lambda: int(torch.cuda.device_count()))
    devices = []
    for i in range(facts.get("device_count") or 0):
        device: dict[str, Any] = {"index": i}
        try:  # the first of these initialises CUDA: "busy or unavailable" and friends surface here
            props = torch.cuda.get_device_properties(i)
            device["name"] = str(props.name)
            device["compute_capability"] = f"{props.major}.{props.minor}"
            device["memory_total_bytes"] = int(props.total_memory)
        except Exception as e:
            messages.append(_error(e))
        devices.append(device)
    facts["devices"] = devices


def _arch_list(torch: Any, facts: dict[str, Any]) -> list[str] | None:
    # torch.cuda.get_arch_list() answers [] whenever CUDA is unavailable (e.g. a driver too old), which
    # would read as "no kernels compiled"; the compiled-in flags do not need a working GPU.
    flags = getattr(torch._C, "_cuda_getArchFlags", None)
    if flags is not None:
        text = flags()
        return text.split() if text else []
    if facts.get("built_with_cuda") is False:
        return []
    if facts.get("cuda_available"):
        return list(torch.cuda.get_arch_list())
    return None


def gpu_possible(root: str = "/") -> bool:
    """Any sign of a GPU torch could use (NVIDIA or AMD ROCm), read in microseconds; True when unsure."""
    import os

    for path in (
        "dev/nvidiactl",
        "dev/nvidia0",
        "dev/dxg",
        "dev/kfd",
        "proc/driver/nvidia",
        "etc/nv_tegra_release",
    ):
        if os.path.exists(os.path.join(root, path)):
            return True
    bus = os.path.join(root, "sys/bus/pci/devices")
    try:
        for dev in os.listdir(bus):
            with open(os.path.join(bus, dev, "vendor")) as v, open(os.path.join(bus, dev, "class")) as c:
                vendor, klass = v.read().strip().lower(), c.read().strip()
            if vendor in ("0x10de", "0x1002") and klass.startswith(("0x03", "0x12")):
                return True
    except OSError:
        return True  # no readable bus: a GPU cannot be ruled out
    return False


def collect_light() -> dict[str, Any]:
    """torch's build facts without importing it (a second or more of CPU): read from torch/version.py,
    for a machine with no GPU, where CUDA cannot be available anyway."""
    import ast
    import os

    spec = importlib.util.find_spec("torch")
    if spec is None or not spec.submodule_search_locations:
        return {"installed": False, "init_messages": []}
    path = os.path.join(next(iter(spec.submodule_search_locations)), "version.py")
    values: dict[str, Any] = {}
    try:
        with open(path, encoding="utf-8") as fh:
            tree = ast.parse(fh.read())
        for node in tree.body:  # plain assignments of constants only: nothing of torch runs
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        values[target.id] = node.value.value
            elif (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)
                and isinstance(node.value, ast.Constant)
            ):
                values[node.target.id] = node.value.value
    except (OSError, SyntaxError, ValueError):
        return collect()
    if not isinstance(values.get("__version__"), str):
        return collect()
    facts: dict[str, Any] = {
        "installed": True,
        "version": values["__version__"],
        "cuda_version": values.get("cuda"),
        "hip_version": values.get("hip"),
        "debug_build": values.get("debug"),
        "built_with_cuda": values.get("cuda") is not None,
        "cuda_available": False,
        "device_count": 0,
        "init_messages": [],
    }
    if values.get("cuda") is None and values.get("hip") is None:
        facts["arch_list"] = []  # a CPU build has none (as torch.cuda.get_arch_list() says)
        facts["cudnn_version"] = None
    return facts


def main() -> None:
    """Print the facts as one marked JSON line on stdout."""
    light = "--light-without-gpu" in sys.argv[1:] and not gpu_possible()
    facts = collect_light() if light else collect()
    sys.stdout.write("\n" + MARKER + json.dumps(facts, default=str) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
