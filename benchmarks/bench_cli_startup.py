"""How long the fast commands take, interpreter start included (target: under 0.25 s each).

    python benchmarks/bench_cli_startup.py [--runs 7] [--fixture PATH]

Runs each command as a child process (`python -m advisor ...`, output discarded) several times and prints
the median, best and worst wall time. `advisor check --from` needs the whole dump → rules → report path;
while that is not wired up the row says n/a with the exit status. Also checks that none of these commands
imported torch. The load average is printed: on a shared machine other processes move the figures.
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
TARGET_S = 0.25
DEFAULT_FIXTURE = REPO / "tests/data/dumps/12-h100x8-torch251-cu124-driver550-healthy/input.txt"

# Prints "TORCH" if torch got imported on the way; runs the CLI exactly as `python -m advisor` does.
_PROBE = (
    "import runpy, sys, atexit\n"
    "atexit.register(lambda: sys.stderr.write('TORCH\\n' if 'torch' in sys.modules else ''))\n"
    "sys.argv = ['advisor', *sys.argv[1:]]\n"
    "runpy.run_module('advisor', run_name='__main__')\n"
)


def time_command(args: list[str], runs: int) -> tuple[list[float], int, bool]:
    """Wall times of ``runs`` child processes, the last exit status, and whether torch was imported."""
    times = []
    rc = 0
    torch_seen = False
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "advisor", *args], cwd=REPO, capture_output=True)
        times.append(time.perf_counter() - start)
        rc = proc.returncode
    probe = subprocess.run([sys.executable, "-c", _PROBE, *args], cwd=REPO, capture_output=True, text=True)
    torch_seen = "TORCH" in probe.stderr
    return times, rc, torch_seen


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--fixture", type=Path, default=DEFAULT_FIXTURE)
    opts = parser.parse_args()

    commands: list[tuple[str, list[str], bool]] = [
        ("python -c pass (interpreter only)", [], False),
        ("advisor --version", ["--version"], False),
        ("advisor catalog list", ["catalog", "list"], False),
        ("advisor catalog show 3090", ["catalog", "show", "3090"], False),
        (
            "advisor catalog compare v100-sxm2-32gb 3090",
            ["catalog", "compare", "tesla-v100-sxm2-32gb", "3090"],
            False,
        ),
        ("advisor catalog search hopper", ["catalog", "search", "hopper"], False),
        (f"advisor check --from {opts.fixture.name}", ["check", "--from", str(opts.fixture)], True),
    ]
    print(f"python {sys.version.split()[0]}, {opts.runs} runs each, load average {os.getloadavg()[0]:.2f}")
    print(f"{'command':<48} {'median s':>9} {'best s':>7} {'worst s':>8}  verdict")
    for label, args, may_fail in commands:
        if not args:
            times = []
            for _ in range(opts.runs):
                start = time.perf_counter()
                subprocess.run([sys.executable, "-c", "pass"], check=True)
                times.append(time.perf_counter() - start)
            rc, torch_seen = 0, False
        else:
            times, rc, torch_seen = time_command(args, opts.runs)
        med = statistics.median(times)
        if rc not in (0, 1):  # check exits 1 when it finds an error; 2 (or a crash) means it did not run
            verdict = f"n/a (exit {rc}{', not wired up yet?' if may_fail else ''})"
        else:
            verdict = "ok" if med < TARGET_S else f"SLOW (> {TARGET_S} s)"
            if torch_seen:
                verdict += ", IMPORTED TORCH"
        print(f"{label:<48} {med:>9.3f} {min(times):>7.3f} {max(times):>8.3f}  {verdict}")


if __name__ == "__main__":
    main()
