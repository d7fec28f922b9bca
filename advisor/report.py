"""Report: what `advisor check` concluded. The JSON contract of DESIGN.md (versioned by SCHEMA_VERSION)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from advisor.machine import Machine

SCHEMA_VERSION = "1.0"

Severity = Literal["error", "warning", "info"]
SEVERITY_ORDER: dict[str, int] = {"error": 0, "warning": 1, "info": 2}

FindingCode = Literal[
    # software stack
    "no-gpu",
    "no-driver",
    "driver-library-mismatch",
    "driver-too-old",
    "driver-drops-gpu",
    "arch-not-in-build",
    "torch-cpu-only",
    "torch-not-installed",
    "rocm-build-on-nvidia",
    "cuda-visible-devices-hides-gpu",
    "unknown-gpu",
    "cudnn-version-mismatch",
    "jaxlib-plugin-mismatch",
    "knowledge-outdated",
    # health
    "ecc-errors",
    "gpu-throttled",
    "pcie-link-degraded",
    "power-limit-reduced",
    "gpu-busy",
    "mig-enabled",
    "gpu-hang",
    # performance and fit
    "underperforming",
    "insufficient-memory",
    "requirement-unmet",
    # cluster
    "interconnect-slow",
    "nccl-transport-fallback",
    "node-unreachable",
]

BenchTest = Literal["matmul", "memory-bandwidth", "h2d", "d2h", "p2p", "launch-latency"]
BenchDtype = Literal["fp32", "tf32", "fp16", "bf16", "fp8"]


class _Record(BaseModel):
    # defer_build: a validator is built on first use, so a command that never builds one of these
    # records (`advisor recommend` never builds a Machine) does not pay for it at start-up.
    # NaN/Infinity are written as the strings "NaN"/"Infinity" (not null), so advisor reads its output back.
    model_config = ConfigDict(extra="forbid", defer_build=True, ser_json_inf_nan="strings")


class Finding(_Record):
    code: FindingCode
    severity: Severity
    gpu: int | None = None
    # what the finding is about beyond a GPU index: a framework ("torch", "tensorflow", "jax"), a node, a link
    subject: str | None = None
    title: str
    detail: str
    fix: str | None = None


class BenchResult(_Record):
    """One measurement: device × test × dtype."""

    device: int | Literal["cpu"]
    test: BenchTest
    dtype: BenchDtype | None = None  # matmul only
    value: float  # the reported figure (the median unless the method says otherwise)
    unit: Literal["TFLOP/s", "GB/s", "us"]
    peak: float | None = None  # the catalog's dense figure for this device and dtype
    efficiency: float | None = None  # value / peak
    achievable: float | None = None  # a published measured ceiling (MAMF), when the catalog has one
    median: float
    best: float
    spread: float  # (max - min) / median of the timed samples
    samples: int
    shape: list[int] | None = None  # [M, N, K] for matmul; [bytes] for copies
    seconds: float  # wall time this test took
    peer: int | None = None  # p2p: the destination GPU
    method: str | None = None  # how it was measured and how bytes/FLOPs are counted
    timing: str | None = None  # "cuda-events" | "perf_counter"
    notes: list[str] = Field(default_factory=list)  # e.g. "retried with a smaller problem after OOM"


class Recommendation(_Record):
    """What this machine is good for: one topic per GPU (or machine-wide when gpu is None)."""

    # "precision", "tf32", "flash-attention-2", "flash-attention-3", "fp8", "torch-compile", "install"
    topic: str
    gpu: int | None = None
    supported: bool | None = None
    value: str  # "bf16", "yes", "pip install torch==2.5.1 --index-url ..."
    reason: str


class MemoryBreakdown(_Record):
    """Bytes needed by a workload; ``per_gpu`` is set when it is sharded across several GPUs."""

    weights: int
    gradients: int
    optimizer: int
    activations: int
    kv_cache: int
    overhead: int
    total: int
    per_gpu: int | None = None


class CardFit(_Record):
    id: str
    name: str
    fits: bool
    gpus_needed: int | None  # None: does not fit even with the maximum considered
    est_throughput: float | None
    throughput_unit: str | None  # "tokens/s", "images/s", "samples/s"
    bound: Literal["compute", "memory"] | None
    price_perf: float | None  # throughput per 1,000 USD of launch price
    reason: str


class WorkloadEstimate(_Record):
    """`advisor recommend --json`, and the `workload` part of a Report from `check --workload`."""

    workload: dict[str, object]
    memory: MemoryBreakdown
    assumptions: list[str]
    cards: list[CardFit]
    advice: list[str] = Field(default_factory=list)  # what would make it fit, or a cheaper recipe that would
    picks: list[str] = Field(default_factory=list)  # one to three setups called out, each with why
    # check --workload: the longest context (at the workload's batch) and the largest batch (at its
    # sequence length) that fit this machine's free memory; None when unknown or nothing fits
    max_seq_len: int | None = None
    max_batch: int | None = None


class Report(_Record):
    schema_version: str = SCHEMA_VERSION
    advisor_version: str
    knowledge_current_to: str | None = None  # "YYYY-MM-DD": the compat tables are current to this date
    created: str  # ISO 8601, UTC
    source: str  # "live" or the dump kind(s)
    machine: Machine
    benchmarks: list[BenchResult] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
    recommendations: list[Recommendation] = Field(default_factory=list)
    workload: WorkloadEstimate | None = None  # present with `check --workload`
    notes: list[str] = Field(
        default_factory=list
    )  # what was skipped or degraded, in words (bench skipped...)

    def exit_code(self) -> int:
        """0 without error findings, 1 with at least one (DESIGN.md exit status)."""
        return 1 if any(f.severity == "error" for f in self.findings) else 0
