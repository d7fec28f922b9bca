"""Compatibility tables (catalog/compat/*.yaml): the typed, validated models of their entries.

The tables hold the facts (CUDA toolkit ⇄ driver, driver branch ⇄ CUDA, PyTorch release ⇄ variant
⇄ arch list, Tegra islands); the reasoning over them lives beside this module: driver ⇄ CUDA in
advisor.knowledge.cuda_driver, SASS/PTX in advisor.knowledge.gpu_code, PyTorch builds in
advisor.knowledge.torch_builds and the best install in advisor.knowledge.torch_install.
"""

from __future__ import annotations

import datetime as _dt
from typing import Literal

from packaging.version import InvalidVersion, Version
from pydantic import BaseModel, ConfigDict, Field, field_validator

from advisor.knowledge.compat_parse import parse_arch, variant_cuda
from advisor.knowledge.features import Feature
from advisor.units import parse_cc

Status = Literal["verified", "secondary", "unverified"]


# ---------------------------------------------------------------- table models


class _Entry(BaseModel):
    # defer_build: validators are built only when a catalog is validated, not when a cached one is
    # unpickled (advisor.knowledge.validated_cache).
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    status: Status = "secondary"  # compat.md's V / S / unverified
    source: str = Field(min_length=1)


def _check_version(v: str | None) -> str | None:
    if v is not None:
        try:
            Version(v)
        except InvalidVersion as exc:
            raise ValueError(f"not a version number: {v!r}") from exc
    return v


def _check_cc(v: str) -> str:
    if parse_cc(v) is None:
        raise ValueError(f"compute capability must look like '8.6', got {v!r}")
    return v


class Table(BaseModel):
    """One knowledge table: when it was last reviewed and where it comes from; subclasses add ``entries``.

    Concrete subclasses rather than a generic ``Table[T]``: parametrising a generic pydantic model costs a
    schema rebuild per table at import, which every `advisor check` paid at start-up.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    reviewed: str  # "YYYY-MM-DD"
    source: str = Field(min_length=1)

    @field_validator("reviewed", mode="before")
    @classmethod
    def _date(cls, v: object) -> str:
        if isinstance(v, _dt.date):
            return v.isoformat()
        if not isinstance(v, str):
            raise ValueError("reviewed must be a date 'YYYY-MM-DD'")
        _dt.date.fromisoformat(v)
        return v


class ToolkitDriver(_Entry):
    """A CUDA toolkit release and the driver it shipped with (its safe minimum)."""

    cuda: str  # "12.8"
    update: int = Field(ge=0)  # 0 = GA, 1 = Update 1, ...
    label: str  # as NVIDIA's table names the row: "12.8 Update 1"
    linux_min_driver: str | None  # "570.124.06"
    windows_min_driver: str | None  # None: N/A or unknown

    _v = field_validator("cuda", "linux_min_driver", "windows_min_driver")(_check_version)


class CudaFamily(_Entry):
    """A CUDA major version and its minor-version-compatibility floor (CUDA 11+)."""

    major: int
    minor_compat: bool
    linux_floor: str | None = None  # lowest driver that runs any toolkit of the family
    windows_floor: str | None = None
    first_branch: int | None = None  # first driver branch of the family (580 for 13.x)
    notes: str | None = None

    _v = field_validator("linux_floor", "windows_floor")(_check_version)


class DriverBranch(_Entry):
    """A driver branch (R550) and the highest CUDA version its first release supports."""

    branch: int
    max_cuda: str
    notes: str | None = None

    _v = field_validator("max_cuda")(_check_version)


class NvccTargets(_Entry):
    """The oldest and newest compute capability nvcc of CUDA cuda_from..cuda_to can compile for."""

    cuda_from: str
    cuda_to: str
    oldest: str
    newest: str
    changes: str | None = None

    _v = field_validator("cuda_from", "cuda_to")(_check_version)
    _c = field_validator("oldest", "newest")(_check_cc)


class CcIsland(_Entry):
    """Integrated (Tegra) GPUs whose cubins form a separate island (compat.md §2.1)."""

    ccs: list[str] = Field(min_length=1)
    name: str

    @field_validator("ccs")
    @classmethod
    def _ccs(cls, v: list[str]) -> list[str]:
        return [_check_cc(c) for c in v]


class TorchRelease(_Entry):
    """A PyTorch feature release (2.1) and its CUDA variants on download.pytorch.org."""

    release: str  # "2.1"
    date: str  # "2023-10"
    latest: str | None = None  # newest patch known, "2.1.2"; None: pin "2.1.*"
    variants: list[str]  # ["cu118", "cu121"]
    pypi_default: str | None = None  # the variant PyPI serves on Linux x86_64
    notes: str | None = None

    _v = field_validator("release", "latest")(_check_version)

    @field_validator("variants")
    @classmethod
    def _variants(cls, v: list[str]) -> list[str]:
        for item in v:
            if variant_cuda(item) is None:
                raise ValueError(f"variant must look like 'cu121', got {item!r}")
        return v


class TorchArchList(_Entry):
    """The arch list (torch.cuda.get_arch_list() form) of one variant on one platform."""

    releases: list[str] = Field(min_length=1)
    variant: str
    platform: Literal["linux-x86_64", "linux-aarch64", "windows"]
    arch_list: list[str] = Field(min_length=1)

    @field_validator("arch_list")
    @classmethod
    def _arches(cls, v: list[str]) -> list[str]:
        for item in v:
            if parse_arch(item) is None:
                raise ValueError(f"arch must look like 'sm_86' or 'compute_120', got {item!r}")
        return v


class TorchIndex(_Entry):
    """Where the wheels of one variant live: ``url_pattern.format(variant="cu121")``."""

    url_pattern: str


class DriverGpuSupport(_Entry):
    """The newest driver branch that still drives GPUs of cc_min..cc_max."""

    architecture: str
    cc_min: str
    cc_max: str
    last_branch: int
    notes: str | None = None

    _c = field_validator("cc_min", "cc_max")(_check_cc)


class KnowledgeMeta(_Entry):
    """How current the tables are: the date they were last brought up to, and what that covers."""

    current_to: str  # "YYYY-MM-DD"
    covers: str = Field(min_length=1)  # in words: the newest torch, CUDA, driver branch, GPUs known

    @field_validator("current_to", mode="before")
    @classmethod
    def _date(cls, v: object) -> str:
        if isinstance(v, _dt.date):
            return v.isoformat()
        if not isinstance(v, str):
            raise ValueError("current_to must be a date 'YYYY-MM-DD'")
        _dt.date.fromisoformat(v)
        return v


class FeatureTable(Table):
    entries: list[Feature]


class ToolkitDriverTable(Table):
    entries: list[ToolkitDriver]


class CudaFamilyTable(Table):
    entries: list[CudaFamily]


class DriverBranchTable(Table):
    entries: list[DriverBranch]


class NvccTargetsTable(Table):
    entries: list[NvccTargets]


class CcIslandTable(Table):
    entries: list[CcIsland]


class DriverGpuSupportTable(Table):
    entries: list[DriverGpuSupport]


class TorchReleaseTable(Table):
    entries: list[TorchRelease]


class TorchIndexTable(Table):
    entries: list[TorchIndex]


class TorchArchListTable(Table):
    entries: list[TorchArchList]


class KnowledgeMetaTable(Table):
    entries: list[KnowledgeMeta] = Field(min_length=1)


class CompatTables(BaseModel):
    """Every compat table, merged from catalog/compat/*.yaml (user files first)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    features: FeatureTable
    cuda_toolkit_drivers: ToolkitDriverTable
    cuda_families: CudaFamilyTable
    driver_branches: DriverBranchTable
    nvcc_targets: NvccTargetsTable
    cc_islands: CcIslandTable
    driver_gpu_support: DriverGpuSupportTable
    torch_releases: TorchReleaseTable
    torch_index: TorchIndexTable
    torch_arch_lists: TorchArchListTable
    knowledge_meta: KnowledgeMetaTable
    # TensorFlow and JAX (catalog/compat/tensorflow.yaml, jax.yaml); optional so a catalog without them loads.
    tensorflow_builds: TensorflowBuildTable | None = None
    jax_cuda: JaxCudaTable | None = None
    jax_plugin_rules: JaxPluginRuleTable | None = None


# Their models build on _Entry and Table above, so they are imported once those exist.
from advisor.knowledge.framework_tables import (  # noqa: E402
    JaxCudaTable,
    JaxPluginRuleTable,
    TensorflowBuildTable,
)
