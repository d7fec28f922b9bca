"""How long `advisor check --from FILE` takes, and the dump parser's share of it.

    python benchmarks/bench_check_from.py [--runs 7] [--big]

1. The full CLI as a child process (`python -m advisor check --from FILE --json`, interpreter start included;
   target < 0.25 s) on a collect_env dump, an 8-GPU `nvidia-smi -q` and a `-q -x` file, next to
   `python -c pass` and `python -c "import advisor.dumps"` for scale.
2. Import cost of `advisor.dumps` in a fresh interpreter, with `advisor.machine` (pydantic) shown apart.
3. `parse_dump` in-process on every fixture: median of warm runs, in ms.
4. With --big: 50 MB inputs (a real dump repeated, junk, one long line, blank lines) to show parsing
   stays bounded.

Speed is never asserted in tests; figures go in the report. The load average is printed because the
development machine is shared.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DUMPS = REPO / "tests/data/dumps"
SMI = REPO / "tests/data/nvidia-smi"
CLI_CASES = [
    ("collect_env (12, 8x H100)", DUMPS / "12-h100x8-torch251-cu124-driver550-healthy/input.txt"),
    ("nvidia-smi -q (38, 8x H100)", DUMPS / "38-h100x8-hw-power-brake-all-gpus/input.txt"),
    ("nvidia-smi -q -x (44, 6x GTX 1070)", DUMPS / "44-gtx1070x6-ethminer-pcie-x1-risers-xml/input.txt"),
]


def _child(args: list[str], runs: int) -> tuple[list[float], int]:
    times, rc = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True)
        times.append(time.perf_counter() - start)
        rc = proc.returncode
    return times, rc


def _row(label: str, times: list[float], note: str = "") -> None:
    med, best, worst = statistics.median(times), min(times), max(times)
    ms = f"median {med * 1000:7.1f} ms  best {best * 1000:7.1f}  worst {worst * 1000:7.1f}"
    print(f"  {label:<48} {ms}  {note}")


def mixed_paste(size: int = 60_000) -> Path:
    """A 60 KB paste of every kind at once: the real corpus's pastes (kernel logs, tracebacks, collect_env
    of several machines, tool reports) concatenated in name order, cut at ``size`` bytes."""
    import tempfile

    parts: list[str] = []
    total = 0
    for p in sorted((REPO / "tests/data/real").glob("*/input.txt")):
        text = p.read_text(errors="replace")
        parts.append(text)
        total += len(text)
        if total >= size:
            break
    out = Path(tempfile.mkdtemp()) / "mixed-60k.txt"
    out.write_text("\n".join(parts)[:size])
    return out


def cli(runs: int) -> None:
    print("1. full CLI, child process (target < 250 ms)")
    _row("python -c pass", _child(["-c", "pass"], runs)[0])
    _row("python -c 'import advisor.dumps'", _child(["-c", "import advisor.dumps"], runs)[0])
    for label, path in [*CLI_CASES, ("mixed real pastes (60 KB)", mixed_paste())]:
        times, rc = _child(["-m", "advisor", "check", "--from", str(path), "--json"], runs)
        _row(f"check --from {label}", times, f"exit {rc}")


def imports(runs: int) -> None:
    print("2. import cost in a fresh interpreter (ms)")
    code = (
        "import time; t0 = time.perf_counter(); import advisor.machine; t1 = time.perf_counter(); "
        "import advisor.dumps; t2 = time.perf_counter(); print((t1 - t0) * 1000, (t2 - t1) * 1000)"
    )
    machine, dumps = [], []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
        )
        a, b = (float(x) for x in out.stdout.split())
        machine.append(a)
        dumps.append(b)
    print(f"  advisor.machine (pydantic)   median {statistics.median(machine):6.1f} ms")
    print(f"  advisor.dumps on top of it   median {statistics.median(dumps):6.1f} ms")


def parse_fixtures(repeat: int) -> None:
    from advisor.dumps import parse_dump

    print("3. parse_dump in-process, warm (median of runs, ms)")
    paths = sorted(DUMPS.glob("*/input.txt")) + sorted(SMI.glob("q*"))
    for p in paths:
        text = p.read_text(errors="replace")
        parse_dump(text)  # warm: lazy imports (defusedxml) and regex compilation
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            m = parse_dump(text)
            times.append(time.perf_counter() - start)
        name = p.parent.name if p.name == "input.txt" else p.name
        print(
            f"  {name[:52]:<52} {len(text) / 1024:7.1f} KiB  {statistics.median(times) * 1000:6.2f} ms  "
            f"{m.source} ({len(m.gpus)} GPUs)"
        )


def big() -> None:
    from advisor.dumps import parse_dump
    from advisor.errors import InputError

    print("4. 50 MB inputs (one run each)")
    size = 50 * 2**20
    q = (SMI / "q-8x-h100-sxm-80gb-driver565.txt").read_text()
    xml = (DUMPS / "44-gtx1070x6-ethminer-pcie-x1-risers-xml/input.txt").read_text()
    ce = (DUMPS / "11-a100x4-torch240-cu121-vllm-healthy/input.txt").read_text()
    rng = random.Random(1)
    cases = {
        "-q text repeated": q * (size // len(q)),
        "-q -x XML repeated": xml * (size // len(xml)),
        "collect_env repeated": ce * (size // len(ce)),
        "random junk": "".join(rng.choice("abc :|+\n\t=-0123456789GPU<>") for _ in range(size)),
        "one line": "x" * size,
        "blank lines": "\n" * size,
    }
    for label, text in cases.items():
        start = time.perf_counter()
        try:
            m = parse_dump(text)
            what = f"{m.source}, {len(m.gpus)} GPUs"
        except InputError as e:
            what = f"InputError: {str(e)[:60]}"
        print(f"  {label:<24} {time.perf_counter() - start:6.2f} s  {what}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=7, help="child-process runs per CLI row")
    parser.add_argument("--repeat", type=int, default=30, help="in-process runs per fixture")
    parser.add_argument("--big", action="store_true", help="also time 50 MB inputs")
    opts = parser.parse_args()
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; python {sys.version.split()[0]}")
    cli(opts.runs)
    imports(opts.runs)
    parse_fixtures(opts.repeat)
    if opts.big:
        big()


if __name__ == "__main__":
    main()
