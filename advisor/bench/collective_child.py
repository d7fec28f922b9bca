"""One rank of the collective benchmark: ``python -m advisor.bench.collective_child --mode quick``.

Started by ``run_local`` (or by a launcher) with the torch.distributed variables set; rank 0 prints the run as
one JSON line prefixed with ``PREFIX`` on stdout, so library chatter cannot be mistaken for it.
"""

from __future__ import annotations

import argparse
import sys

PREFIX = "@@advisor-collective "


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="advisor.bench.collective_child")
    parser.add_argument("--mode", choices=("quick", "full"), default="quick")
    parser.add_argument("--launcher", default="local")
    args = parser.parse_args(argv)

    from advisor.bench.collective import leave_process_group, measure_collective

    try:
        run = measure_collective(args.mode, launcher=args.launcher)
        if run is not None:
            sys.stdout.write(PREFIX + run.model_dump_json() + "\n")
            sys.stdout.flush()
    finally:
        leave_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
