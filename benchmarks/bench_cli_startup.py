"""How long the fast commands take, interpreter start included (target: under 0.25 s each).

    python benchmarks/bench_cli_startup.py [--runs 7] [--fixture PATH] [--compare DIR] [--no-cache]

Runs each command as a child process (`python -m advisor ...`, output discarded) several times and prints
the median, best and worst wall time and the median CPU time (user + sys; less moved by other processes
than wall time on a shared machine). Each command runs once untimed first, so the figures are those of
a user's second run: bytecode written and the catalog caches (advisor/knowledge/validated_cache.py,
parse_cache.py, in ~/.cache/advisor or $ADVISOR_CACHE_DIR) warm. The children run without
PYTHONDONTWRITEBYTECODE (some sandboxes set it; real installs have .pyc files, and compiling every
module from source adds ~50 ms). ``--no-cache`` sets ADVISOR_NO_CACHE=1 (parse and validate the
catalog every time). ``--compare DIR`` also times another checkout of the repo (e.g. a copy at an older
commit), interleaved run by run so both see the same load. Also checks that no command imported torch.
The load average is printed before and after: on a shared machine other processes move the figures.
"""

from __future__ import annotations

import argparse
import os
import resource
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


def _env(no_cache: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    if no_cache:
        env["ADVISOR_NO_CACHE"] = "1"
    return env


def _run(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user + sys) and exit status of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.returncode


def time_command(
    args: list[str], runs: int, trees: list[Path], env: dict[str, str]
) -> dict[Path, tuple[list[float], list[float], int, bool]]:
    """Per checkout: wall times, CPU times, the last exit status, and whether torch was imported."""
    argv = [sys.executable, "-m", "advisor", *args] if args else [sys.executable, "-c", "pass"]
    out: dict[Path, tuple[list[float], list[float], int, bool]] = {}
    walls: dict[Path, list[float]] = {t: [] for t in trees}
    cpus: dict[Path, list[float]] = {t: [] for t in trees}
    rcs: dict[Path, int] = {}
    for tree in trees:  # warm-up: writes bytecode and the catalog caches
        _run(argv, tree, env)
    for _ in range(runs):
        for tree in trees:  # interleaved, so a burst of load hits every checkout alike
            wall, cpu, rcs[tree] = _run(argv, tree, env)
            walls[tree].append(wall)
            cpus[tree].append(cpu)
    for tree in trees:
        torch_seen = False
        if args:
            probe = subprocess.run(
                [sys.executable, "-c", _PROBE, *args], cwd=tree, env=env, capture_output=True, text=True
            )
            torch_seen = "TORCH" in probe.stderr
        out[tree] = (walls[tree], cpus[tree], rcs[tree], torch_seen)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--fixture", type=Path, default=DEFAULT_FIXTURE)
    parser.add_argument("--compare", type=Path, help="another checkout to time alongside this one")
    parser.add_argument("--no-cache", action="store_true", help="set ADVISOR_NO_CACHE=1 for the runs")
    opts = parser.parse_args()

    fixture = str(opts.fixture.resolve())
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
        ("advisor recommend -m llama-3-8b", ["recommend", "-m", "llama-3-8b"], True),
        (f"advisor check --from {opts.fixture.name}", ["check", "--from", fixture], True),
        (f"advisor check --from {opts.fixture.name} --json", ["check", "--from", fixture, "--json"], True),
    ]
    trees = [REPO] + ([opts.compare.resolve()] if opts.compare else [])
    env = _env(opts.no_cache)
    cache = "off (ADVISOR_NO_CACHE=1)" if opts.no_cache else "warm"
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {opts.runs} runs each after one warm-up, "
        f"catalog cache {cache}, load average {os.getloadavg()[0]:.2f}"
    )
    for i, tree in enumerate(trees):
        print(f"  tree {'AB'[i]}: {tree}")
    header = f"{'command':<46} {'tree':>4} {'median s':>9} {'best s':>7} {'worst s':>8} {'cpu s':>6}  verdict"
    print(header)
    for label, args, may_fail in commands:
        results = time_command(args, opts.runs, trees, env)
        for i, tree in enumerate(trees):
            walls, cpus, rc, torch_seen = results[tree]
            med = statistics.median(walls)
            if rc not in (0, 1):  # check exits 1 when it finds an error; 2 (or a crash) means it did not run
                verdict = f"n/a (exit {rc}{', not wired up yet?' if may_fail else ''})"
            else:
                verdict = "ok" if med < TARGET_S else f"SLOW (> {TARGET_S} s)"
                if torch_seen:
                    verdict += ", IMPORTED TORCH"
            name = label if i == 0 else ""
            print(
                f"{name:<46} {'AB'[i]:>4} {med:>9.3f} {min(walls):>7.3f} {max(walls):>8.3f} "
                f"{statistics.median(cpus):>6.3f}  {verdict}"
            )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
