"""TensorFlow and JAX sources: each framework imported only in its own child process with a hard timeout.

The children (advisor/probe/tf_child.py, jax_child.py) print their facts as one marked JSON line; the
frameworks' own log lines (a library that failed to load, the cuDNN found) arrive on the child's stderr
and are read with the same text rules as a pasted log (advisor.dumps.framework_text). A child that does
not answer in time yields ``timed_out=True``; one that crashes yields its last lines as messages.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from advisor.dumps.framework_text import read_jax, read_tensorflow
from advisor.machine import FrameworkDevice, JaxInfo, TensorflowInfo
from advisor.probe.child_process import ChildAnswer, ChildProcess

Framework = Literal["tensorflow", "jax"]
MARKERS: dict[Framework, str] = {"tensorflow": "ADVISOR-TENSORFLOW-FACTS:", "jax": "ADVISOR-JAX-FACTS:"}
_SOURCES: dict[Framework, str] = {"tensorflow": "tf_child.py", "jax": "jax_child.py"}


def child_source(framework: Framework) -> str:
    """The child's program text (run with ``python -c`` so the child imports nothing from advisor)."""
    return Path(__file__).with_name(_SOURCES[framework]).read_text(encoding="utf-8")


def child_command(framework: Framework, light: bool = False) -> list[str]:
    """The command that runs one framework's child with this interpreter (``--light``: no import)."""
    return [sys.executable, "-c", child_source(framework), *(["--light"] if light else [])]


def nvidia_gpu_possible(sysfs_root: Path = Path("/sys"), root: Path = Path("/")) -> bool:
    """Any sign of an NVIDIA GPU, read in microseconds before the children start: an NVIDIA PCI display
    device, the driver's device nodes or /proc entry, WSL's GPU node, or a Jetson. Without one the
    children skip importing the frameworks (seconds of CPU each) and read their package metadata only."""
    for path in ("dev/nvidiactl", "dev/nvidia0", "dev/dxg", "proc/driver/nvidia", "etc/nv_tegra_release"):
        if (root / path).exists():
            return True
    try:
        for dev in (sysfs_root / "bus" / "pci" / "devices").iterdir():
            vendor = (dev / "vendor").read_text().strip().lower()
            if vendor == "0x10de" and (dev / "class").read_text().strip().startswith("0x03"):
                return True
    except OSError:
        return True  # no readable bus: cannot rule a GPU out
    return False


def child_env() -> dict[str, str]:
    """This environment with TensorFlow/XLA logging at its default level: a user's TF_CPP_MIN_LOG_LEVEL=3
    would hide the very lines ("Could not load dynamic library") that explain a missing GPU."""
    env = dict(os.environ)
    env["TF_CPP_MIN_LOG_LEVEL"] = "0"
    return env


class FrameworkChild:
    """A started TensorFlow or JAX child; :meth:`result` waits for it and builds the Machine record."""

    def __init__(
        self,
        framework: Framework,
        timeout_s: float,
        *,
        argv: Sequence[str] | None = None,
        env: Mapping[str, str] | None = None,
        light: bool = False,
    ) -> None:
        self.framework = framework
        command = list(argv) if argv is not None else child_command(framework, light)
        self._child = ChildProcess(
            command,
            MARKERS[framework],
            timeout_s,
            label=framework,
            env=env if env is not None else child_env(),
        )

    def result(self) -> TensorflowInfo | JaxInfo:
        """Wait for the child and turn its answer into TensorflowInfo / JaxInfo; never raises."""
        answer = self._child.wait()
        if self.framework == "tensorflow":
            return tensorflow_info(answer)
        return jax_info(answer)


def tensorflow_info(answer: ChildAnswer) -> TensorflowInfo:
    """TensorflowInfo from a child's answer (facts, plus the log lines on its stderr)."""
    if answer.timed_out:
        return TensorflowInfo(timed_out=True)
    if answer.facts is None:
        return TensorflowInfo(messages=answer.failure_lines("tensorflow"))
    return tensorflow_info_from_facts(answer.facts, answer.stderr.splitlines())


def jax_info(answer: ChildAnswer) -> JaxInfo:
    """JaxInfo from a child's answer (facts, plus the log lines on its stderr)."""
    if answer.timed_out:
        return JaxInfo(timed_out=True)
    if answer.facts is None:
        return JaxInfo(messages=answer.failure_lines("jax"))
    return jax_info_from_facts(answer.facts, answer.stderr.splitlines())


def tensorflow_info_from_facts(facts: Mapping[str, Any], log: Sequence[str] = ()) -> TensorflowInfo:
    """Build TensorflowInfo from the child's JSON; a value of the wrong type becomes None (unknown)."""
    packages = _str_map(facts.get("packages")) or {}
    build = facts.get("build_info") if isinstance(facts.get("build_info"), dict) else {}
    assert isinstance(build, dict)
    gpus = facts.get("gpus")
    installed = _opt(facts.get("installed"), bool)
    info = TensorflowInfo(
        installed=installed,
        version=_opt(facts.get("version"), str),
        package=_tf_package(packages),
        is_cuda_build=_opt(build.get("is_cuda_build"), bool),
        is_rocm_build=_opt(build.get("is_rocm_build"), bool),
        cuda_version=_opt(build.get("cuda_version"), str),
        cudnn_version=_opt(build.get("cudnn_version"), str),
        cuda_compute_capabilities=_str_list(build.get("cuda_compute_capabilities")),
        gpus=[_device(d) for d in gpus if isinstance(d, dict)] if isinstance(gpus, list) else None,
        nvidia_wheels={k: v for k, v in packages.items() if k.startswith("nvidia-")} if installed else None,
        import_error=_opt(facts.get("import_error"), str),
        messages=[],
    )
    return read_tensorflow(info, [*(_str_list(facts.get("messages")) or []), *log])


def jax_info_from_facts(facts: Mapping[str, Any], log: Sequence[str] = ()) -> JaxInfo:
    """Build JaxInfo from the child's JSON; a value of the wrong type becomes None (unknown)."""
    packages = _str_map(facts.get("packages")) or {}
    devices = facts.get("devices")
    installed = _opt(facts.get("installed"), bool)
    plugins = {k: v for k, v in packages.items() if k.startswith(("jax-cuda", "jax-rocm"))}
    info = JaxInfo(
        installed=installed,
        version=_opt(facts.get("version"), str),
        jaxlib_version=_opt(facts.get("jaxlib_version"), str) or packages.get("jaxlib"),
        plugins=plugins if installed else None,
        backend=_opt(facts.get("backend"), str),
        devices=[_device(d) for d in devices if isinstance(d, dict)] if isinstance(devices, list) else None,
        import_error=_opt(facts.get("import_error"), str),
        messages=[],
    )
    return read_jax(info, [*(_str_list(facts.get("messages")) or []), *log])


def _tf_package(packages: Mapping[str, str]) -> str | None:
    names = [n for n in packages if not n.startswith("nvidia-")]
    # A plain `tensorflow` beside `tensorflow-intel` (Windows) or `tensorflow-cpu`: the plain one names it.
    return "tensorflow" if "tensorflow" in names else (sorted(names)[0] if names else None)


def _device(d: Mapping[str, Any]) -> FrameworkDevice:
    return FrameworkDevice(
        index=d["index"] if isinstance(d.get("index"), int) and not isinstance(d.get("index"), bool) else 0,
        platform=_opt(d.get("platform"), str),
        name=_opt(d.get("name"), str),
        compute_capability=_opt(d.get("compute_capability"), str),
    )


def _opt(value: Any, kind: type) -> Any:
    if kind is int and isinstance(value, bool):
        return None
    return value if isinstance(value, kind) else None


def _str_list(value: Any) -> list[str] | None:
    return [str(v) for v in value] if isinstance(value, list) else None


def _str_map(value: Any) -> dict[str, str] | None:
    if not isinstance(value, dict):
        return None
    return {str(k): str(v) for k, v in value.items() if isinstance(v, str)}
