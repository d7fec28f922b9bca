"""Runs in a child process: import JAX, read its versions, plugins, backend and devices, print one JSON line.

Executed as ``python -c <this source>`` by :mod:`advisor.probe.framework_probe`, so it imports nothing
from ``advisor`` and needs only the standard library. JAX reports a plugin that failed to initialise
through its logger and warnings; both are recorded verbatim. With ``--light`` (no sign of an NVIDIA GPU)
only the package metadata is read: importing JAX costs seconds of CPU and would only list the CPU.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import json
import logging
import re
import sys
import warnings
from typing import Any

MARKER = "ADVISOR-JAX-FACTS:"
_PLUGINS = re.compile(r"^jax-(cuda|rocm)\d*-(plugin|pjrt)$")
_NVIDIA = re.compile(r"^nvidia-[a-z0-9-]+-cu1\d$")


def _error(e: BaseException) -> str:
    return f"{type(e).__name__}: {e}"


class _Keep(logging.Handler):
    """Keeps JAX's warnings and errors (plugin initialisation, backend fallback) as text."""

    def __init__(self, into: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            text += f" ({_error(record.exc_info[1])})"
        self.into.append(text)


def _packages() -> dict[str, str]:
    out: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        name = (dist.metadata["Name"] or "").lower().replace("_", "-")
        if name in ("jax", "jaxlib", "libtpu") or _PLUGINS.match(name) or _NVIDIA.match(name):
            out[name] = dist.version
    return out


def collect(light: bool = False) -> dict[str, Any]:
    """Everything JAX says about itself; a field it cannot give stays absent."""
    messages: list[str] = []
    facts: dict[str, Any] = {"messages": messages}
    try:
        facts["packages"] = _packages()
    except Exception as e:
        messages.append(_error(e))
    if light:
        packages = facts.get("packages", {})
        facts["installed"] = importlib.util.find_spec("jax") is not None
        if facts["installed"]:
            facts["version"] = packages.get("jax")
            facts["jaxlib_version"] = packages.get("jaxlib")
        return facts
    logging.getLogger("jax").addHandler(_Keep(messages))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _jax_facts(facts, messages)
    noise = (DeprecationWarning, PendingDeprecationWarning, FutureWarning)
    messages += [str(w.message) for w in caught if not issubclass(w.category, noise)]
    return facts


def _jax_facts(facts: dict[str, Any], messages: list[str]) -> None:
    try:
        jax: Any = importlib.import_module("jax")
    except ModuleNotFoundError as e:
        if e.name == "jax" and importlib.util.find_spec("jax") is None:
            facts["installed"] = False
            return
        facts["installed"] = True
        facts["import_error"] = _error(e)
        return
    except BaseException as e:  # "jaxlib is version X, but this version of jax requires ..." and friends
        facts["installed"] = True
        facts["import_error"] = _error(e)
        return
    facts["installed"] = True
    facts["version"] = str(getattr(jax, "__version__", "") or "") or None
    try:
        jaxlib: Any = importlib.import_module("jaxlib")
        facts["jaxlib_version"] = str(getattr(jaxlib, "__version__", "") or jaxlib.version.__version__)
    except Exception as e:
        messages.append(_error(e))
    try:
        devices = jax.devices()
        facts["backend"] = str(jax.default_backend())
        facts["devices"] = [
            {
                "index": int(getattr(d, "id", i)),
                "platform": str(getattr(d, "platform", "") or "") or None,
                "name": str(getattr(d, "device_kind", "") or "") or None,
                "compute_capability": str(getattr(d, "compute_capability", "") or "") or None,
            }
            for i, d in enumerate(devices)
        ]
    except Exception as e:  # every backend failed (JAX_PLATFORMS=cuda with a broken plugin)
        messages.append(_error(e))


def main() -> None:
    """Print the facts as one marked JSON line on stdout."""
    facts = collect(light="--light" in sys.argv[1:])
    sys.stdout.write("\n" + MARKER + json.dumps(facts, default=str) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
