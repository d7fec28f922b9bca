"""The benchmark child process: ``python -m advisor.bench.child`` reads a request on stdin, streams events.

Running in a child keeps a hung or crashing driver away from the advisor: the parent can kill it.
Protocol: one JSON request on stdin; on stdout one JSON event per line, each prefixed with ``PREFIX`` so
stray library prints cannot be mistaken for events. Events, in order: ``devices``, ``plan``, then per task
``start`` and ``done``; ``skipped`` when the time budget runs out; ``end``. ``fatal`` instead when nothing
can run (torch fails to import, bad device index).
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from typing import IO, Any

from advisor.bench.execute import Backend, execute_task
from advisor.bench.plan import build_plan
from advisor.bench.records import Task

PREFIX = "@@advisor-bench "
DEFAULT_BACKEND = "advisor.bench.kernels:TorchBackend"


def emit(out: IO[str], event: str, **data: Any) -> None:
    """Write one event line and flush, so the parent sees progress at once."""
    out.write(PREFIX + json.dumps({"event": event, **data}) + "\n")
    out.flush()


def load_backend(spec: str) -> Backend:
    """``module:attr`` → an instance (tests point this at a fake backend)."""
    module, _, attr = spec.partition(":")
    factory = getattr(importlib.import_module(module), attr)
    backend: Backend = factory()
    return backend


def run(request: dict[str, Any], out: IO[str]) -> None:
    """Discover devices, plan, and execute each task within the soft time budget."""
    started = time.monotonic()
    try:
        backend = load_backend(request.get("backend") or DEFAULT_BACKEND)
        devices = backend.discover()
        tasks = build_plan(devices, request.get("mode", "quick"), request.get("selection", "all"))
    except Exception as exc:  # torch import errors, bad index: report them instead of a traceback
        emit(out, "fatal", message=f"{type(exc).__name__}: {exc}".strip(), kind=type(exc).__name__)
        return
    emit(out, "devices", devices=[d.to_json() for d in devices])
    emit(out, "plan", tasks=[t.to_json() for t in tasks])
    budget = float(request.get("budget_s") or 1e9)
    broken: dict[object, str] = {}  # device → the CUDA error that poisoned its context
    for index, task in enumerate(tasks):
        if time.monotonic() - started > budget:
            emit(out, "skipped", indices=list(range(index, len(tasks))), reason="time budget used up")
            break
        hit = _broken_device(task, broken)
        if hit is not None:
            emit(
                out,
                "done",
                index=index,
                result=None,
                error_kind="skipped",
                error=f"not run: an earlier CUDA error on this GPU ({hit})",
                notes=[],
            )
            continue
        emit(out, "start", index=index)
        outcome = execute_task(task, backend)
        if outcome.error_kind == "cuda":
            broken[task.device] = outcome.error or "CUDA error"
        emit(
            out,
            "done",
            index=index,
            result=None if outcome.result is None else outcome.result.model_dump(mode="json"),
            error_kind=outcome.error_kind,
            error=outcome.error,
            notes=outcome.notes,
        )
    emit(out, "end")


def _broken_device(task: Task, broken: dict[object, str]) -> str | None:
    for dev in (task.device, task.peer):
        if dev is not None and dev in broken:
            return broken[dev]
    return None


def main() -> None:
    """Entry point of the child process."""
    from advisor.bench.lifeline import tie_to_parent

    tie_to_parent()
    request = json.loads(sys.stdin.readline() or "{}")
    run(request, sys.stdout)


if __name__ == "__main__":
    main()
