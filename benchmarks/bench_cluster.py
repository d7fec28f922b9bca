"""`advisor cluster check` on a local 4-node Ray cluster vs one `advisor check --no-bench`, loopback only.

    python benchmarks/bench_cluster.py [--nodes 4] [--repeat 3]

Prints Ray's start-up, one plain check, and the cluster check (its own wall time, interpreter start included),
and the ratio the acceptance asks for: cluster check ÷ (one check + Ray start-up). Needs the `ray` extra.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # loopback, not the machine's interface address
os.environ["RAY_USAGE_STATS_ENABLED"] = "0"


def _timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from ray.cluster_utils import Cluster

    node = {"node_ip_address": "127.0.0.1", "num_cpus": 1, "object_store_memory": 80 << 20}
    t0 = time.perf_counter()
    cluster = Cluster(
        initialize_head=True, connect=False, head_node_args={**node, "include_dashboard": False}
    )
    for _ in range(args.nodes - 1):
        cluster.add_node(**node)
    cluster.wait_for_nodes()
    startup = time.perf_counter() - t0
    plain = [sys.executable, "-m", "advisor", "check", "--no-bench", "--json"]
    on_ray = [sys.executable, "-m", "advisor", "cluster", "check", "--address", cluster.address]
    try:
        single = [_timed(plain) for _ in range(args.repeat)]
        many = [_timed([*on_ray, "--no-bench", "--json"]) for _ in range(args.repeat)]
    finally:
        cluster.shutdown()
    one, all_nodes = statistics.median(single), statistics.median(many)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"Ray start-up ({args.nodes} nodes): {startup:.1f} s")
    runs = ", ".join(f"{x:.2f}" for x in single)
    print(f"advisor check --no-bench: median {one:.2f} s of {args.repeat} ({runs})")
    runs = ", ".join(f"{x:.2f}" for x in many)
    print(f"advisor cluster check --no-bench ({args.nodes} nodes): median {all_nodes:.2f} s ({runs})")
    ratio = all_nodes / (one + startup)
    print(f"cluster ÷ single: {all_nodes / one:.2f}×; ÷ (single + Ray start-up): {ratio:.2f}× (goal < 2×)")


if __name__ == "__main__":
    main()
