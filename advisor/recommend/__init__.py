"""Workload → memory, throughput and the catalog cards that fit (``advisor recommend``)."""

from __future__ import annotations

from advisor.recommend.estimate import estimate
from advisor.recommend.resolve import Resolved, resolve
from advisor.recommend.workload import Workload, parse_workload_spec, workload_from_options

__all__ = ["Resolved", "Workload", "estimate", "parse_workload_spec", "resolve", "workload_from_options"]
