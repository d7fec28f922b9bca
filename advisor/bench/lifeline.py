"""Tie a child process's life to its parent's, so a killed advisor never leaves a benchmark running.

The bench child runs in its own session (Ctrl-C reaches only the parent, which then kills the group).
That also means a parent killed by SIGKILL, or by a SIGTERM it could not handle, leaves the child
running until its next progress write fails, and a child stuck in a driver call would never notice.
On Linux the child asks the kernel for SIGKILL when its parent dies (PR_SET_PDEATHSIG); elsewhere,
and as a second line, a thread polls whether the parent is still the one that started it.
"""

from __future__ import annotations

import os
import signal
import threading
import time

PARENT_ENV = "ADVISOR_PARENT_PID"
_PR_SET_PDEATHSIG = 1


def _pdeathsig() -> bool:
    if os.uname().sysname != "Linux":  # pragma: no cover - other kernels have no such call
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def _watch(parent: int, interval: float) -> None:
    while True:
        time.sleep(interval)
        if os.getppid() != parent:
            os._exit(1)  # the parent is gone: nobody reads our results, and a GPU may be held


def tie_to_parent(interval: float = 0.5) -> None:
    """Die with the parent named by ``$ADVISOR_PARENT_PID`` (no-op when it is not set)."""
    try:
        parent = int(os.environ.get(PARENT_ENV, ""))
    except ValueError:
        return
    if hasattr(os, "uname"):
        _pdeathsig()
    if os.getppid() != parent:  # it died before the kernel watch was armed
        os._exit(1)
    threading.Thread(target=_watch, args=(parent, interval), daemon=True).start()
