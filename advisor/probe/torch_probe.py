"""Torch source: the installed PyTorch build, read in a child process with a hard timeout.

``import torch`` can crash (a broken libcudart), print, or hang in a wedged driver; in a child none of
that reaches the advisor. A child that does not answer in time yields ``TorchInfo(timed_out=True)``.

Decisions recorded in the result:
- torch absent (``ModuleNotFoundError`` for ``torch`` itself) → ``installed=False``;
- ``import torch`` raising anything else (``OSError: libcudart.so...``, a missing dependency) →
  ``installed=True`` with ``import_error`` holding ``"<ExceptionType>: <message>"`` verbatim: the package
  is there but broken, so the fix is a reinstall, not an install.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from advisor.machine import TorchDevice, TorchInfo
from advisor.probe.child_process import ChildProcess, find_facts

MARKER = "ADVISOR-TORCH-FACTS:"  # must match torch_child.MARKER


def child_source() -> str:
    """The child's program text (run with ``python -c`` so the child imports nothing from advisor)."""
    return (Path(__file__).with_name("torch_child.py")).read_text(encoding="utf-8")


def child_command() -> list[str]:
    """The command that runs the torch child with this interpreter."""
    # On a machine with no GPU device the child reads torch/version.py instead of importing torch.
    return [sys.executable, "-c", child_source(), "--light-without-gpu"]


class TorchChild:
    """A started torch child; :meth:`result` waits for it (up to its timeout) and parses its answer."""

    def __init__(
        self,
        timeout_s: float,
        *,
        argv: Sequence[str] | None = None,
        env: Mapping[str, str] | None = None,
        started: ChildProcess | None = None,
    ) -> None:
        self.timeout_s = timeout_s
        if started is not None:  # already running (advisor.probe.early): do not start a second one
            self._child = started
            return
        command = list(argv) if argv is not None else child_command()
        self._child = ChildProcess(command, MARKER, timeout_s, label="torch", env=env)

    def result(self) -> TorchInfo:
        """Wait for the child and turn its JSON into TorchInfo; never raises."""
        answer = self._child.wait()
        if answer.timed_out:
            return TorchInfo(timed_out=True)
        if answer.facts is None:
            return TorchInfo(init_messages=answer.failure_lines("torch"))
        return torch_info_from_facts(answer.facts)


def probe_torch(timeout_s: float = 30.0) -> TorchInfo:
    """Run the torch child with this interpreter and return what it saw."""
    return TorchChild(timeout_s).result()


def _find_facts(stdout: str) -> dict[str, Any] | None:
    return find_facts(stdout, MARKER)


def torch_info_from_facts(facts: Mapping[str, Any]) -> TorchInfo:
    """Build TorchInfo from the child's JSON; a value of the wrong type becomes None (unknown)."""
    cudnn = facts.get("cudnn_version")
    devices = facts.get("devices")
    return TorchInfo(
        installed=_opt(facts.get("installed"), bool),
        version=_opt(facts.get("version"), str),
        cuda_version=_opt(facts.get("cuda_version"), str),
        hip_version=_opt(facts.get("hip_version"), str),
        cudnn_version=cudnn_version_text(cudnn) if isinstance(cudnn, int) and cudnn > 0 else None,
        debug_build=_opt(facts.get("debug_build"), bool),
        built_with_cuda=_opt(facts.get("built_with_cuda"), bool),
        arch_list=_str_list(facts.get("arch_list")),
        cuda_available=_opt(facts.get("cuda_available"), bool),
        device_count=_opt(facts.get("device_count"), int),
        devices=[_device(d) for d in devices if isinstance(d, dict)] if isinstance(devices, list) else None,
        import_error=_opt(facts.get("import_error"), str),
        init_messages=_str_list(facts.get("init_messages")) or [],
    )


def cudnn_version_text(version: int) -> str:
    """cuDNN's integer version as text: 90100 → "9.1.0", 8902 → "8.9.2", 7605 → "7.6.5".

    cuDNN 9 encodes MAJOR*10000 + MINOR*100 + PATCH; cuDNN 7 and 8 encode MAJOR*1000 + MINOR*100 + PATCH
    (cudnn_version.h of each release).
    """
    if version >= 90000:
        return f"{version // 10000}.{version % 10000 // 100}.{version % 100}"
    return f"{version // 1000}.{version % 1000 // 100}.{version % 100}"


def _device(d: Mapping[str, Any]) -> TorchDevice:
    return TorchDevice(
        index=d["index"] if isinstance(d.get("index"), int) else 0,
        name=_opt(d.get("name"), str),
        compute_capability=_opt(d.get("compute_capability"), str),
        memory_total_bytes=_opt(d.get("memory_total_bytes"), int),
    )


def _opt(value: Any, kind: type) -> Any:
    if kind is int and isinstance(value, bool):
        return None
    return value if isinstance(value, kind) else None


def _str_list(value: Any) -> list[str] | None:
    if not isinstance(value, list):
        return None
    return [str(v) for v in value]
