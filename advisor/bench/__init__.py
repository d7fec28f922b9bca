"""The micro-benchmark: matmul per dtype, memory and host⇄device bandwidth, P2P and launch latency.

Measured in a child process with a hard timeout (``run_bench``) and compared with the catalog's peaks.
torch and pynvml are imported only inside functions, never when this package is imported.
"""

from __future__ import annotations

from advisor.bench.records import BenchRun, ProgressEvent
from advisor.bench.runner import run_bench

__all__ = ["BenchRun", "ProgressEvent", "run_bench"]
