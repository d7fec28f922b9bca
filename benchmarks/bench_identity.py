"""What the GPU identity table (catalog/identity/, advisor.knowledge.identity) costs a command.

    python benchmarks/bench_identity.py [--runs 7]

Each figure is measured in a fresh interpreter that has already imported what `check --from` imports
anyway (pydantic via advisor.machine, the loader and caches), so it is identity's own share:
1. the table as every run loads it: catalog/identity/index.json (rows and indexes the build precomputed);
2. the fallback a damaged install would take: the ~1,200 YAML entries parsed and indexed;
3. one lookup by name and one by PCI id once loaded.
Speed is never asserted in tests; figures go in benchmarks/README.md. The load average is printed
because the development machine is shared.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CODE = """
import sys, time
import advisor.machine, advisor.knowledge.loader
from advisor.knowledge import identity
if sys.argv[1] == "yaml":
    identity.INDEX_NAME = "no-such-index.json"
t0 = time.perf_counter(); identity.load_identity(); t1 = time.perf_counter()
identity.lookup(name="NVIDIA GeForce RTX 4080 Laptop GPU"); t2 = time.perf_counter()
identity.lookup(pci_device_id=0x1B06); t3 = time.perf_counter()
print((t1 - t0) * 1000, (t2 - t1) * 1000, (t3 - t2) * 1000)
"""


def _run(mode: str) -> tuple[float, float, float]:
    out = subprocess.run([sys.executable, "-c", CODE, mode], cwd=REPO, capture_output=True, text=True)
    out.check_returncode()
    a, b, c = (float(x) for x in out.stdout.split())
    return a, b, c


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    print(f"load average {os.getloadavg()[0]:.2f}")
    warm = [_run("index") for _ in range(runs)]
    cold = [_run("yaml")[0] for _ in range(runs)]
    print(f"  load from index.json            median {statistics.median(w[0] for w in warm):6.1f} ms")
    print(f"  fallback: parse the YAML        median {statistics.median(cold):6.1f} ms")
    print(f"  lookup by name                  median {statistics.median(w[1] for w in warm):6.3f} ms")
    print(f"  lookup by PCI id                median {statistics.median(w[2] for w in warm):6.3f} ms")


if __name__ == "__main__":
    main()
