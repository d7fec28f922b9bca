"""Start the collective benchmark's ranks on this machine (no torchrun needed), over 127.0.0.1 only.

Each rank is a child process (``advisor.bench.collective_child``) with the torch.distributed variables set;
the parent waits with a hard timeout and kills every rank on timeout, error or Ctrl-C.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Literal

from advisor.bench.collective_child import PREFIX
from advisor.bench.collective_records import CollectiveRun
from advisor.errors import AdvisorError


class CollectiveError(AdvisorError):
    """The collective benchmark could not run or finish; the message says why."""

    exit_code = 1


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def local_gpu_count() -> int:
    """NVIDIA GPUs NVML sees here; 0 without a driver (the ranks then use gloo on the CPU)."""
    try:
        import pynvml

        pynvml.nvmlInit()
        try:
            return int(pynvml.nvmlDeviceGetCount())
        finally:
            pynvml.nvmlShutdown()
    except Exception:  # no library, no driver, any NVML error: no GPUs to use
        return 0


def rank_env(rank: int, world: int, port: int, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of one local rank: loopback rendezvous, gloo pinned to the loopback interface."""
    env = dict(os.environ if base is None else base)
    env.update(
        RANK=str(rank),
        LOCAL_RANK=str(rank),
        WORLD_SIZE=str(world),
        LOCAL_WORLD_SIZE=str(world),
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
    )
    if sys.platform.startswith("linux") and Path("/sys/class/net/lo").exists():
        env.setdefault("GLOO_SOCKET_IFNAME", "lo")
    return env


def run_local(nproc: int, mode: Literal["quick", "full"], timeout_s: float) -> CollectiveRun:
    """Run ``nproc`` ranks here and return rank 0's CollectiveRun."""
    if nproc < 2:
        raise CollectiveError("the collective benchmark needs at least 2 ranks (--nproc 2 or more)")
    port = free_port()
    cmd = [sys.executable, "-m", "advisor.bench.collective_child", "--mode", mode, "--launcher", "local"]
    procs: list[subprocess.Popen[str]] = []
    try:
        for rank in range(nproc):
            procs.append(
                subprocess.Popen(
                    cmd,
                    env=rank_env(rank, nproc, port),
                    stdout=subprocess.PIPE if rank == 0 else subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    text=True,
                    start_new_session=True,
                )
            )
        out, err = _wait(procs, timeout_s)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    for line in out.splitlines():
        if line.startswith(PREFIX):
            return CollectiveRun.model_validate_json(line[len(PREFIX) :])
    raise CollectiveError(f"the collective benchmark's ranks ended without a result: {_last_line(err)}")


def _wait(procs: list[subprocess.Popen[str]], timeout_s: float) -> tuple[str, str]:
    deadline = time.monotonic() + timeout_s
    out, errors = "", []
    first = procs[0]
    try:
        out, err0 = first.communicate(timeout=max(deadline - time.monotonic(), 0.1))
        errors.append(err0 or "")
        for p in procs[1:]:
            _, e = p.communicate(timeout=max(deadline - time.monotonic(), 0.1))
            errors.append(e or "")
    except subprocess.TimeoutExpired:
        raise CollectiveError(
            f"the collective benchmark did not finish within {timeout_s:g} s (a rank hung; every rank was "
            "stopped). Try --timeout with more seconds, or fewer ranks."
        ) from None
    failed = [p.returncode for p in procs if p.returncode not in (0, None)]
    if failed and not out:
        raise CollectiveError(f"a rank failed (exit {failed[0]}): {_last_line(''.join(errors))}")
    return out, "".join(errors)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no message"
