"""The parent side: start the child, stream its progress, enforce the hard timeout, stop cleanly on Ctrl-C.

The child may hang inside a driver call or die on a CUDA fault; the parent stays responsive (it only
waits on a queue with a short timeout), kills the child's whole session when time is up, and turns what
it saw into results, notes and ``gpu-hang`` findings.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from advisor.bench.child import DEFAULT_BACKEND, PREFIX
from advisor.bench.efficiency import annotate, annotate_cpu, find_card, find_gpu
from advisor.bench.lifeline import PARENT_ENV
from advisor.bench.records import BenchRun, DeviceFacts, Mode, ProgressEvent, Task
from advisor.bench.sampler import NvmlSampler, Sampler, describe
from advisor.errors import InputError
from advisor.report import BenchResult, Finding

if TYPE_CHECKING:
    from advisor.knowledge.base import Knowledge
    from advisor.machine import Machine

SamplerFactory = Callable[[dict[int, str | None]], Sampler | None]
SOFT_BUDGET = 0.8  # the child stops starting new tests after this share of the timeout
_STDERR_LINES = 40


def default_timeout(mode: Mode, gpu_count: int) -> float:
    """Hard limit for the whole run: generous, since it exists to catch hangs, not slowness."""
    if mode == "full":
        return 300.0 + 300.0 * max(gpu_count, 1)
    return 60.0 + 30.0 * max(gpu_count, 1)


def run_bench(
    machine: Machine,
    knowledge: Knowledge,
    mode: Mode = "quick",
    timeout_s: float | None = None,
    progress: Callable[[ProgressEvent], None] | None = None,
    *,
    device: int | str = "all",
    backend: str | None = None,
    sampler_factory: SamplerFactory | None = NvmlSampler.create,
) -> BenchRun:
    """Benchmark the selected devices in a child process; never raises for what happens on the device.

    Raises InputError only for a device index that does not exist. ``backend`` (``module:attr``) and
    ``sampler_factory`` exist for tests; the defaults measure with torch and sample NVML.
    """
    if backend is None and importlib.util.find_spec("torch") is None:
        return BenchRun(mode=mode, skipped="PyTorch is not installed", notes=[_NO_TORCH])
    gpu_count = len(machine.gpus) or (machine.torch.device_count or 0)
    timeout = timeout_s if timeout_s is not None else default_timeout(mode, gpu_count)
    session = _Session(machine, knowledge, mode, timeout, progress, sampler_factory)
    request = {
        "mode": mode,
        "selection": device,
        "budget_s": timeout * SOFT_BUDGET,
        "backend": backend or DEFAULT_BACKEND,
    }
    return session.run(request)


_NO_TORCH = (
    "benchmark skipped: PyTorch is not installed in this Python environment "
    "(install it from https://pytorch.org/get-started/locally/ to measure this machine)"
)


class _Session:
    """One child process and everything the parent learns from it."""

    def __init__(
        self,
        machine: Machine,
        knowledge: Knowledge,
        mode: Mode,
        timeout: float,
        progress: Callable[[ProgressEvent], None] | None,
        sampler_factory: SamplerFactory | None,
    ) -> None:
        self.machine, self.knowledge, self.mode, self.timeout = machine, knowledge, mode, timeout
        self.progress = progress
        self.sampler_factory = sampler_factory
        self.sampler: Sampler | None = None
        self.devices: dict[object, DeviceFacts] = {}
        self.tasks: list[Task] = []
        self.current: int | None = None
        self.finished = 0
        self.results: list[BenchResult] = []
        self.findings: list[Finding] = []
        self.notes: list[str] = []
        self.skipped: str | None = None
        self.ended = False
        self.fatal_input: str | None = None
        self.stderr: deque[str] = deque(maxlen=_STDERR_LINES)

    def run(self, request: dict[str, Any]) -> BenchRun:
        started = time.monotonic()
        events: queue.Queue[dict[str, Any] | None] = queue.Queue()
        proc = subprocess.Popen(
            [sys.executable, "-m", "advisor.bench.child"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
            # Its own session: Ctrl-C reaches only the parent, which then kills the child's whole group.
            start_new_session=True,
            # ...and it dies with this process even when we are SIGKILLed (advisor.bench.lifeline).
            env={**os.environ, PARENT_ENV: str(os.getpid())},
        )
        threading.Thread(target=_read_events, args=(proc.stdout, events), daemon=True).start()
        threading.Thread(target=_read_lines, args=(proc.stderr, self.stderr), daemon=True).start()
        assert proc.stdin is not None
        proc.stdin.write(json.dumps(request) + "\n")
        proc.stdin.close()
        interrupted = timed_out = False
        deadline = started + self.timeout
        try:
            while True:
                try:
                    event = events.get(timeout=0.1)
                except queue.Empty:
                    if time.monotonic() > deadline:
                        timed_out = True
                        break
                    continue
                if event is None:  # stdout closed: the child ended or died
                    break
                self._handle(event)
        except KeyboardInterrupt:
            interrupted = True
        finally:
            _kill(proc)
            if self.sampler is not None:
                self.sampler.close()
        if self.fatal_input is not None:
            raise InputError(self.fatal_input)
        if interrupted:
            done = (
                f"{self.finished} of {len(self.tasks)} tests finished"
                if self.tasks
                else "before any test ran"
            )
            self.notes.append(f"benchmark interrupted (Ctrl-C): {done}")
        elif timed_out:
            self._hang(f"did not finish within the {self.timeout:g} s limit; the process was killed")
        elif not self.ended and self.skipped is None:
            self._hang(f"the benchmark process died ({_exit_text(proc.returncode)}){self._stderr_tail()}")
        results = [self._annotate(r) for r in self.results]
        from advisor.bench.caveats import cpu_caveats

        self.notes.extend(cpu_caveats(results))
        return BenchRun(
            mode=self.mode,
            results=results,
            findings=self.findings,
            notes=self.notes,
            interrupted=interrupted,
            skipped=self.skipped,
            seconds=round(time.monotonic() - started, 2),
        )

    # events ---------------------------------------------------------------------------------------------
    def _handle(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "fatal":
            message = str(event.get("message", ""))
            if event.get("kind") == "InputError":
                self.fatal_input = message.removeprefix("InputError: ")
            else:
                self.skipped = f"the benchmark could not start: {message}"
                self.notes.append(self.skipped)
        elif kind == "devices":
            facts = [DeviceFacts.from_json(d) for d in event["devices"]]
            self.devices = {f.device: f for f in facts}
            gpus = {int(f.device): f.pci_bus_id for f in facts if f.device != "cpu"}
            if gpus and self.sampler_factory is not None:
                self.sampler = self.sampler_factory(gpus)
        elif kind == "plan":
            self.tasks = [Task.from_json(t) for t in event["tasks"]]
            self._report_progress("starting")
        elif kind == "start":
            self.current = int(event["index"])
            task = self.tasks[self.current]
            if self.sampler is not None and task.device != "cpu":
                self.sampler.begin(int(task.device))
            self._report_progress(task.label)
        elif kind == "done":
            self._done(event)
        elif kind == "skipped":
            names = ", ".join(self.tasks[i].label for i in event.get("indices", []))
            self.notes.append(f"not run ({event.get('reason')}): {names}")
        elif kind == "end":
            self.ended = True

    def _done(self, event: dict[str, Any]) -> None:
        index = int(event["index"])
        task = self.tasks[index]
        telemetry = self.sampler.end() if self.sampler is not None and self.current == index else None
        self.current = None
        self.finished += 1
        if event.get("result") is not None:
            result = BenchResult.model_validate(event["result"])
            if telemetry is not None:
                result = result.model_copy(update={"notes": [*result.notes, describe(telemetry)]})
            self.results.append(result)
        else:
            kind, error = str(event.get("error_kind")), str(event.get("error"))
            self._failed(task, kind, error, event.get("notes") or [])
        self._report_progress(task.label)

    def _failed(self, task: Task, kind: str, error: str, notes: list[str]) -> None:
        if kind == "cuda" and task.device != "cpu":
            self.findings.append(self._hang_finding(task.device, f"{task.label}: {error}", "CUDA error"))
            return
        reasons = {"oom": "out of memory even at the smallest size", "unsupported": "not supported here"}
        why = reasons.get(kind, error)
        if kind in ("oom", "unsupported") and error and error != "None":
            why += f" ({error})"
        self.notes.append(f"{task.label} not measured: {why}" + "".join(f"; {n}" for n in notes))

    # outcomes -------------------------------------------------------------------------------------------
    def _hang(self, what: str) -> None:
        if self.current is not None:
            task = self.tasks[self.current]
            if task.device == "cpu":  # a CPU run that hangs or dies is not a GPU fault: a note, no finding
                self.notes.append(f"{task.label} {what}")
            else:
                self.findings.append(self._hang_finding(task.device, f"{task.label} {what}", "hang"))
            rest = [t.label for t in self.tasks[self.current + 1 :]]
        else:
            stage = "while starting (device discovery)" if not self.tasks else "between tests"
            if self.machine.gpus and (not self.tasks or any(t.device != "cpu" for t in self.tasks)):
                self.findings.append(self._hang_finding(None, f"the benchmark {what} {stage}", "hang"))
            else:
                self.notes.append(f"the benchmark {what} {stage}")
            rest = [t.label for t in self.tasks[self.finished :]]
        if rest:
            self.notes.append("not run: " + ", ".join(rest))

    def _hang_finding(self, device: object, detail: str, why: str) -> Finding:
        gpu = self._gpu_index(device)
        where = f"GPU {gpu}" if gpu is not None else "a GPU"
        title = (
            f"CUDA error on {where} during the benchmark"
            if why == "CUDA error"
            else (f"benchmark on {where} did not finish")
        )
        fix = (
            "Look for Xid errors in the kernel log (`sudo dmesg | grep -i xid`) and check `nvidia-smi`; "
            "if the GPU is stuck, reset it (`nvidia-smi -r`) or reboot. On a merely slow machine, rerun "
            "with a longer --timeout."
        )
        return Finding(code="gpu-hang", severity="error", gpu=gpu, title=title, detail=detail, fix=fix)

    def _gpu_index(self, device: object) -> int | None:
        if device is None or device == "cpu":
            return None
        facts = self.devices.get(device)
        gpu = find_gpu(facts, self.machine) if facts is not None else None
        return gpu.index if gpu is not None else int(str(device))

    def _annotate(self, result: BenchResult) -> BenchResult:
        facts = self.devices.get(result.device)
        if result.device == "cpu":
            return annotate_cpu(result, self.machine, facts)
        if facts is None:
            return result
        gpu = find_gpu(facts, self.machine)
        card = find_card(facts, gpu, self.knowledge.cards)
        annotated = annotate(result, card)
        if gpu is not None and gpu.index != result.device:
            # One numbering in a report: findings use the nvidia-smi index, so results do too.
            note = f"torch device {result.device} is GPU {gpu.index} in nvidia-smi (PCI {gpu.pci_bus_id})"
            update: dict[str, object] = {"device": gpu.index, "notes": [*annotated.notes, note]}
            if result.peer is not None:
                update["peer"] = self._gpu_index(result.peer)
            annotated = annotated.model_copy(update=update)
        return annotated

    def _report_progress(self, label: str) -> None:
        if self.progress is not None:
            self.progress(ProgressEvent(done=self.finished, total=len(self.tasks), label=label))

    def _stderr_tail(self) -> str:
        lines = [line for line in self.stderr if line.strip()][-3:]
        return (": " + " | ".join(lines)) if lines else ""


def _read_events(stream: Any, events: queue.Queue[dict[str, Any] | None]) -> None:
    try:
        for line in stream:
            if line.startswith(PREFIX):
                try:
                    events.put(json.loads(line[len(PREFIX) :]))
                except json.JSONDecodeError:
                    continue
    finally:
        events.put(None)


def _read_lines(stream: Any, sink: deque[str]) -> None:
    for line in stream:
        sink.append(line.rstrip())


def _kill(proc: subprocess.Popen[str]) -> None:
    """Kill the child's whole session (it may have spawned helpers), then reap it."""
    if proc.poll() is None:
        try:
            if hasattr(os, "killpg"):
                os.killpg(proc.pid, signal.SIGKILL)
            else:  # pragma: no cover - Windows
                proc.kill()
        except (ProcessLookupError, PermissionError):
            proc.kill()
    # A process stuck in the driver (D state) cannot be reaped: give up waiting after a while.
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


def _exit_text(code: int | None) -> str:
    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"
