"""Plain records shared by the parent and the child process: devices, tasks, measurements, the run."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from advisor.report import BenchDtype, BenchResult, BenchTest, Finding

Mode = Literal["quick", "full"]
DeviceId = int | Literal["cpu"]


@dataclass(frozen=True)
class DeviceFacts:
    """What the child sees of one device before measuring (torch's view, torch ordinal for GPUs)."""

    device: DeviceId
    name: str | None = None
    compute_capability: str | None = None  # "9.0"; None on the CPU
    memory_total_bytes: int | None = None
    memory_free_bytes: int | None = None
    l2_bytes: int | None = None
    pci_bus_id: str | None = None  # lets the parent find the NVML device and the probed GPU
    simd: str | None = None  # CPU only: torch's CPU capability ("AVX512", "AVX2", "DEFAULT")
    threads: int | None = None  # CPU only: torch's intra-op threads
    peers: tuple[int, ...] = ()  # GPUs this one can reach by peer-to-peer copy
    dtypes: tuple[str, ...] = ()  # matmul dtypes this device runs natively, found by trying them

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DeviceFacts:
        peers, dtypes = tuple(data.get("peers") or ()), tuple(data.get("dtypes") or ())
        return cls(**{**data, "peers": peers, "dtypes": dtypes})


@dataclass(frozen=True)
class Task:
    """One thing to measure. ``shapes`` holds one shape, or several for a sweep (the best one is kept)."""

    device: DeviceId
    test: BenchTest
    shapes: tuple[tuple[int, ...], ...]  # [M, N, K] for matmul, [bytes] for copies, [launches] for latency
    dtype: BenchDtype | None = None
    peer: int | None = None  # p2p destination
    warmup_s: float = 0.2
    target_s: float = 0.5  # timed seconds wanted per shape
    min_reps: int = 5
    max_reps: int = 100
    flush_bytes: int = 0  # write this many bytes between timed runs to flush L2 (0: no flush)

    @property
    def label(self) -> str:
        dev = "cpu" if self.device == "cpu" else f"gpu{self.device}"
        what = self.test if self.dtype is None else f"{self.test} {self.dtype}"
        if self.peer is not None:
            what += f" → gpu{self.peer}"
        return f"{dev} {what}"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Task:
        shapes = tuple(tuple(int(x) for x in s) for s in data["shapes"])
        return cls(**{**data, "shapes": shapes})


@dataclass
class Measurement:
    """What a backend returns for one shape: seconds per timed repetition and the work each did."""

    seconds: list[float]
    work: float  # FLOPs (matmul), bytes counted (bandwidth), launches (latency) per repetition
    method: str
    timing: Literal["cuda-events", "perf_counter"]
    variant: str | None = None  # e.g. "copy" / "triad" when one test times several kernels
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ProgressEvent:
    """For the ``progress`` callback: ``done`` of ``total`` tasks finished, ``label`` the current one."""

    done: int
    total: int
    label: str


class BenchRun(BaseModel):
    """The outcome of ``run_bench``: results, findings (``gpu-hang`` ...), and notes in words.

    JSON shape (``advisor bench --json``, stable): ``{"schema_version", "mode", "results": [BenchResult],
    "findings": [Finding], "notes": [str], "interrupted": bool, "skipped": str | null, "seconds": float}``.
    """

    model_config = ConfigDict(extra="forbid")

    schema_version: str = "1.0"
    mode: Mode = "quick"
    results: list[BenchResult] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    interrupted: bool = False  # Ctrl-C stopped it: results hold what finished
    skipped: str | None = None  # why nothing ran at all (torch not installed, torch import failed)
    seconds: float = 0.0
