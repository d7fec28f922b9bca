"""Does `advisor bench` find the CPU's real matmul rate? Compare it with a plain torch size sweep.

    python benchmarks/bench_cpu_matmul.py [--sizes 512,1024,...] [--reps 5]

Runs the bench's quick CPU run (the child process, as `advisor bench --device cpu` does), then a plain
sweep of square torch.mm sizes in this process, and prints for fp32 and bf16: the bench figure, the best
median of the sweep (and its size), their ratio (target ≥ 0.9), and the bench's own wall time.
Figures are recorded in benchmarks/README.md. The load average is printed because on a shared machine
other processes move both figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time


def sweep(dtype_name: str, sizes: list[int], reps: int) -> tuple[float, int]:
    """Best median TFLOP/s over square sizes, one warm-up per size."""
    import torch

    dtype = getattr(torch, dtype_name)
    best, best_n = 0.0, 0
    for n in sizes:
        a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
        c = torch.empty(n, n, dtype=dtype)
        torch.mm(a, b, out=c)
        times = []
        for _ in range(reps):
            t = time.perf_counter()
            torch.mm(a, b, out=c)
            times.append(time.perf_counter() - t)
        rate = 2.0 * n**3 / statistics.median(times) / 1e12
        if rate > best:
            best, best_n = rate, n
    return best, best_n


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="512,1024,1536,2048,2560,3072")
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    from advisor.bench import run_bench
    from advisor.knowledge.loader import load_knowledge
    from advisor.probe import probe_machine

    machine = probe_machine()
    print(f"host: {machine.host.cpu_model}, {machine.host.cpu_cores} cores; load {os.getloadavg()[0]:.2f}")
    # Sweep before and after the bench: a neighbour's load during one of them shows as a gap between the two.
    dtypes = (("fp32", "float32"), ("bf16", "bfloat16"))
    before = {d: sweep(t, sizes, args.reps) for d, t in dtypes}
    t = time.perf_counter()
    run = run_bench(machine, load_knowledge(), "quick", device="cpu")
    wall = time.perf_counter() - t
    after = {d: sweep(t, sizes, args.reps) for d, t in dtypes}
    print(f"advisor bench --device cpu (quick): {wall:.1f} s wall, child start included")
    for r in run.results:
        if r.test != "matmul":
            print(f"  {r.test}: {r.value:.1f} {r.unit} (spread {100 * r.spread:.0f}%)")
    for dtype, _ in dtypes:
        mine = next((r for r in run.results if r.test == "matmul" and r.dtype == dtype), None)
        if mine is None:
            print(f"{dtype}: the bench has no result ({run.notes})")
            continue
        best, n = max(before[dtype], after[dtype])
        print(
            f"{dtype}: bench {mine.value * 1000:.1f} GFLOP/s at {mine.shape[0] if mine.shape else '?'}³ "
            f"(spread {100 * mine.spread:.0f}%) | sweep best {best * 1000:.1f} GFLOP/s at {n}³ "
            f"(before {before[dtype][0] * 1000:.1f}, after {after[dtype][0] * 1000:.1f}) | "
            f"ratio {mine.value / best:.2f}"
        )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
