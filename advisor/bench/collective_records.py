"""Records of the collective benchmark (all-reduce, all-gather, send/recv, per-link pairs): plain data.

Bandwidths follow nccl-tests' definitions (https://github.com/NVIDIA/nccl-tests/blob/master/doc/PERFORMANCE.md)
so figures compare with its output: ``algbw = size / time``; ``busbw = algbw × factor`` with the factor
2(n−1)/n for all-reduce, (n−1)/n for all-gather (size = the whole gathered buffer) and 1 for send/recv.
The time of one operation is the mean over ranks, nccl-tests' default (``-a 1``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from advisor.report import Finding

COLLECTIVE_SCHEMA_VERSION = "1.0"
CollectiveOp = Literal["all-reduce", "all-gather", "send-recv"]
OPS: tuple[CollectiveOp, ...] = ("all-reduce", "all-gather", "send-recv")


def bus_factor(op: CollectiveOp, world_size: int) -> float:
    """nccl-tests' bus-bandwidth factor: what each rank's busiest link carries relative to algbw."""
    n = world_size
    if op == "all-reduce":
        return 2 * (n - 1) / n
    if op == "all-gather":
        return (n - 1) / n
    return 1.0


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RankInfo(_Record):
    rank: int
    local_rank: int
    host: str
    device: str  # "cuda:0" or "cpu"
    device_name: str | None = None  # torch's name for the GPU


class CollectiveResult(_Record):
    """One operation at one message size."""

    op: CollectiveOp
    size_bytes: int
    iterations: int
    time_us: float  # mean over ranks of one operation
    slowest_rank_time_us: float  # the slowest rank's mean time for one operation
    algbw_gbs: float
    busbw_gbs: float


class LinkResult(_Record):
    """Send/recv ping-pong between two ranks alone (every other rank waits): one link's bandwidth."""

    a: int
    b: int
    host_a: str
    host_b: str
    size_bytes: int
    gbs: float  # one-way GB/s: bytes moved in both directions / time


class InterconnectEnv(_Record):
    """What decides NCCL's transport, as seen on one node."""

    host: str | None = None
    ib_devices: list[str] = Field(default_factory=list)  # /sys/class/infiniband entries (IB or RoCE HCAs)
    nccl_env: dict[str, str] = Field(default_factory=dict)  # every NCCL_* variable set
    nccl_version: str | None = None
    nccl_net: str | None = None  # the network NCCL said it uses: "IB", "Socket", ... (from NCCL_DEBUG lines)
    nccl_net_lines: list[str] = Field(default_factory=list)  # the NCCL INFO lines that said so
    gpus_on_node: int | None = None


class CollectiveRun(_Record):
    schema_version: str = COLLECTIVE_SCHEMA_VERSION
    backend: str  # "nccl" or "gloo"
    world_size: int
    nodes: int
    mode: Literal["quick", "full"]
    launcher: str  # "torchrun", "local", "ray"
    ranks: list[RankInfo]
    results: list[CollectiveResult] = Field(default_factory=list)
    links: list[LinkResult] = Field(default_factory=list)
    env: list[InterconnectEnv] = Field(default_factory=list)  # one per node
    findings: list[Finding] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    seconds: float = 0.0
