"""What runs on one node: ``python -m advisor check --json …`` in that node's own Python, with a hard timeout.

Plain Python, no Ray: the Ray task calls ``run_node_check`` and ships its dict back. Running the check as a
child process keeps a wedged driver from taking the Ray worker with it, and makes the node's own advisor,
torch and Python do the check, as they would for a job there.
"""

from __future__ import annotations

import os
import platform
import signal
import socket
import subprocess
import sys
import time
from importlib import metadata
from typing import Any

_TAIL = 2000  # characters of stderr kept for the reason a node failed


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def node_facts() -> dict[str, Any]:
    """Which Python, advisor and torch this node would check with (read from metadata, nothing imported)."""
    return {
        "hostname": socket.gethostname(),
        "python": sys.executable,
        "python_version": platform.python_version(),
        "advisor_version": _version("gpu-advisor"),
        "torch_version": _version("torch"),
    }


def run_node_check(check_args: list[str], timeout_s: float) -> dict[str, Any]:
    """Run the check here; the dict holds ``rc``, ``stdout`` (the Report JSON), a ``stderr`` tail, facts."""
    started = time.monotonic()
    facts = node_facts()
    cmd = [sys.executable, "-m", "advisor", "check", "--json", *check_args]
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,  # its own process group: a timeout kills the check and its children
    )
    try:
        out, err = proc.communicate(timeout=timeout_s)
        timed_out = False
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        out, err = proc.communicate()
        timed_out = True
    return {
        **facts,
        "rc": proc.returncode,
        "timed_out": timed_out,
        "stdout": out if not timed_out else "",
        "stderr": (err or "")[-_TAIL:],
        "seconds": round(time.monotonic() - started, 3),
    }


def _kill_group(proc: subprocess.Popen[str]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
