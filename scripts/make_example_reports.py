"""Regenerate reports/examples/ from real fixture dumps with the real CLI.

    python scripts/make_example_reports.py

Runs ``advisor check --from tests/data/dumps/NAME/input.txt --export reports/examples/NAME.{json,md,html}``
for a few telling fixtures (a broken stack, a healthy 8-GPU node, a power-braked node, a GPU with ECC errors).
Exit status 1 from `check` is expected for the broken ones; anything else (2, a traceback) fails this script.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DUMPS = REPO / "tests" / "data" / "dumps"
OUT = REPO / "reports" / "examples"
EXAMPLES = {
    # fixture directory → example name
    "02-h100pcie-torch201-cu117-sm90": "h100-old-torch-build",
    "12-h100x8-torch251-cu124-driver550-healthy": "h100x8-healthy",
    "38-h100x8-hw-power-brake-all-gpus": "h100x8-power-brake",
    "42-v100-sxm3-dbe-retired-pages-pending-xml": "v100-ecc-retired-pages",
}
FORMATS = ("json", "md", "html")


def main() -> int:
    """Write every example in every format; return 0, or 1 if any `check` run failed."""
    OUT.mkdir(parents=True, exist_ok=True)
    failed = 0
    for fixture, name in EXAMPLES.items():
        dump = DUMPS / fixture / "input.txt"
        for fmt in FORMATS:
            target = OUT / f"{name}.{fmt}"
            cmd = [sys.executable, "-m", "advisor", "check", "--from", str(dump), "--export", str(target)]
            done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=False)
            if done.returncode not in (0, 1) or not target.exists():
                failed += 1
                sys.stderr.write(f"FAILED ({done.returncode}): {' '.join(cmd)}\n{done.stderr}\n")
            else:
                print(f"{target.relative_to(REPO)}  (check exit {done.returncode})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
