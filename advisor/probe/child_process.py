"""Run a stdlib-only probe program in a child process with a hard timeout and read its marked JSON answer.

Shared by the torch, TensorFlow and JAX probes: importing a framework can crash (a broken libcudart),
print, or hang in a wedged driver; in a child none of that reaches the advisor. The child prints one
line ``MARKER{json}`` on stdout (frameworks print to stdout too, so the marker finds it).
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

_KILL_GRACE_S = 2.0


@dataclass
class ChildAnswer:
    """What a finished (or killed) child left: its facts, its raw output, or why there is none."""

    facts: dict[str, Any] | None = None
    stdout: str = ""
    stderr: str = ""
    returncode: int | None = None
    timed_out: bool = False
    start_error: str | None = None
    problems: list[str] = field(default_factory=list)  # why no facts came back, in words

    def failure_lines(self, label: str) -> list[str]:
        """For a child that gave no answer: its exit status and the last lines it printed."""
        if self.start_error:
            return [self.start_error]
        tail = (self.stderr or self.stdout or "").strip().splitlines()[-3:]
        return [f"{label} probe exited with status {self.returncode} without an answer", *tail]


class ChildProcess:
    """A started child; :meth:`wait` waits (up to ``timeout_s`` from the start) and reads its answer."""

    def __init__(
        self,
        argv: Sequence[str],
        marker: str,
        timeout_s: float,
        *,
        label: str,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.marker = marker
        self.timeout_s = timeout_s
        self._started = time.monotonic()
        self._start_error: str | None = None
        self._proc: subprocess.Popen[str] | None = None
        try:
            self._proc = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                errors="replace",
                env=dict(env) if env is not None else None,
            )
        except (OSError, ValueError) as e:  # no such interpreter, or an empty sys.executable
            self._start_error = f"could not start the {label} probe: {e}"

    def kill(self) -> None:
        """Stop a child whose answer is not wanted (and reap it)."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.communicate(timeout=_KILL_GRACE_S)

    def wait(self) -> ChildAnswer:
        """Never raises; a child past its timeout is killed and reported as timed out."""
        if self._proc is None:
            return ChildAnswer(start_error=self._start_error or "probe did not start")
        try:
            # The timeout counts from the start: the child ran while the other probes did their work.
            remaining = max(0.5, self.timeout_s - (time.monotonic() - self._started))
            stdout, stderr = self._proc.communicate(timeout=remaining)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            # A child stuck in the kernel (D state) may not even die: do not wait for it forever.
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.communicate(timeout=_KILL_GRACE_S)
            return ChildAnswer(timed_out=True)
        return ChildAnswer(
            facts=find_facts(stdout, self.marker),
            stdout=stdout or "",
            stderr=stderr or "",
            returncode=self._proc.returncode,
        )


def find_facts(stdout: str, marker: str) -> dict[str, Any] | None:
    """The JSON object on the last line that starts with ``marker``; None when there is none."""
    for line in reversed(stdout.splitlines()):
        if line.startswith(marker):
            try:
                facts = json.loads(line[len(marker) :])
            except ValueError:
                return None
            return facts if isinstance(facts, dict) else None
    return None
