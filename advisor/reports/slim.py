"""A slim view of a saved report: only what `report fleet` reads, so thousands of files parse in seconds.

Unknown fields are ignored rather than validated (the full check is `load_report`'s job); the fields
kept are validated as strictly as in the Report, and the schema version is checked the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from advisor.report import BenchDtype, BenchTest, FindingCode, Report, Severity


class _Slim(BaseModel):
    model_config = ConfigDict(extra="ignore", from_attributes=True)


class SlimGPU(_Slim):
    index: int
    name: str | None = None
    memory_total_bytes: int | None = None


class SlimHost(_Slim):
    hostname: str | None = None


class SlimDriver(_Slim):
    version: str | None = None
    cuda_version: str | None = None


class SlimTorch(_Slim):
    version: str | None = None


class SlimMachine(_Slim):
    host: SlimHost = Field(default_factory=SlimHost)
    driver: SlimDriver = Field(default_factory=SlimDriver)
    gpus: list[SlimGPU] = Field(default_factory=list)
    torch: SlimTorch = Field(default_factory=SlimTorch)


class SlimBench(_Slim):
    device: int | Literal["cpu"]
    test: BenchTest
    dtype: BenchDtype | None = None
    value: float
    unit: Literal["TFLOP/s", "GB/s", "us"]
    peer: int | None = None


class SlimFinding(_Slim):
    code: FindingCode
    severity: Severity


class NodeReport(_Slim):
    """What the fleet view needs of one report."""

    schema_version: str
    created: str
    source: str
    machine: SlimMachine
    benchmarks: list[SlimBench] = Field(default_factory=list)
    findings: list[SlimFinding] = Field(default_factory=list)


def slim(report: Report | NodeReport) -> NodeReport:
    """The slim view of a full Report (or the slim one itself)."""
    return report if isinstance(report, NodeReport) else NodeReport.model_validate(report)


def load_node_report(path: Path) -> NodeReport:
    """One saved report's slim view; InputError names the file when unreadable, malformed or too new."""
    from advisor.reports.io import check_version, invalid_report_error, read_report_bytes

    raw = read_report_bytes(path)
    try:
        report = NodeReport.model_validate_json(raw)
    except ValidationError as exc:
        raise invalid_report_error(raw, str(path), exc) from None
    check_version(report.schema_version, str(path))
    return report
