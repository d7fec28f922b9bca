"""The bench child dies with its parent, even one killed by SIGKILL (issue 11 item 14; red-team F16)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

_CHILD = "from advisor.bench.lifeline import tie_to_parent; import time; tie_to_parent(0.2); time.sleep(60)"
_PARENT = r"""
import os, subprocess, sys
child = subprocess.Popen(
    [sys.executable, "-c", CHILD],
    env={**os.environ, "ADVISOR_PARENT_PID": str(os.getpid())},
    start_new_session=True,
)
print(child.pid, flush=True)
import time; time.sleep(0.5)
os._exit(0)  # as if SIGKILLed: no clean-up runs
""".replace("CHILD", repr(_CHILD))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (dead, not yet reaped by init) counts as gone.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death watch is tested on Linux")
def test_a_child_tied_to_its_parent_dies_with_it() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _PARENT], capture_output=True, text=True, timeout=60, check=True
    )
    pid = int(out.stdout.split()[0])
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(pid)
