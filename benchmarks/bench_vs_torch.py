"""Start-up of advisor's commands measured side by side with what users compare them to (issue 11 item 21).

    python benchmarks/bench_vs_torch.py [--runs 7] [--fixture PATH]

Pairs, each timed interleaved run by run (so a burst of load hits both alike), as child processes with
their output discarded, after one untimed warm-up (bytecode and catalog caches written):

- ``advisor check --from FIXTURE`` and ``advisor catalog list`` against ``python -c "import torch"``
  (goal: at most 0.15x);
- ``advisor check --no-bench`` against ``python -m torch.utils.collect_env`` (goal: at most 0.7x).

Prints the median wall time of each and the ratio of the medians, and the load average before and
after: on a shared machine other processes move single figures, so compare ratios, and rerun on an idle
machine before reading anything finer into them. Needs torch installed in the same interpreter.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_FIXTURE = REPO / "tests/data/dumps/12-h100x8-torch251-cu124-driver550-healthy/input.txt"


def _env() -> dict[str, str]:
    # Real installs have .pyc files; some sandboxes set PYTHONDONTWRITEBYTECODE, which would add compile time.
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _time(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def pair(ours: list[str], theirs: list[str], runs: int, env: dict[str, str]) -> tuple[float, float]:
    """Median wall seconds of (ours, theirs), interleaved."""
    _time(ours, env)
    _time(theirs, env)
    a, b = [], []
    for _ in range(runs):
        a.append(_time(ours, env))
        b.append(_time(theirs, env))
    return statistics.median(a), statistics.median(b)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--fixture", type=Path, default=DEFAULT_FIXTURE)
    opts = parser.parse_args()
    py = sys.executable
    advisor = [py, "-m", "advisor"]
    import_torch = [py, "-c", "import torch"]
    collect_env = [py, "-m", "torch.utils.collect_env"]
    rows = [
        ("advisor check --from FIXTURE", [*advisor, "check", "--from", str(opts.fixture)], "import torch",
         import_torch, 0.15),
        ("advisor catalog list", [*advisor, "catalog", "list"], "import torch", import_torch, 0.15),
        ("advisor check --no-bench", [*advisor, "check", "--no-bench"], "collect_env", collect_env, 0.7),
    ]  # fmt: skip
    env = _env()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {opts.runs} paired runs after a warm-up, "
          f"load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    print(f"{'command':<30} {'median s':>9}  {'vs':<13} {'median s':>9} {'ratio':>6}  goal")
    for label, ours, other, theirs, goal in rows:
        mine, base = pair(ours, theirs, opts.runs, env)
        ratio = mine / base
        verdict = "ok" if ratio <= goal else "over"
        print(f"{label:<30} {mine:>9.3f}  {other:<13} {base:>9.3f} {ratio:>6.2f}  <= {goal} {verdict}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
