"""Compatibility tables (catalog/compat/*.yaml) and the pure predicates the software rules ask.

The tables hold the facts (CUDA toolkit ⇄ driver, driver branch ⇄ CUDA, PyTorch release ⇄ variant
⇄ arch list, Tegra islands); this module holds only the reasoning: minor-version compatibility,
the SASS/PTX binary-compatibility rules, and the choice of the newest PyTorch build for a machine.
A question the tables cannot answer returns None ("unknown, the table may be stale"), never a guess.
Lookups take the first matching entry: user catalog entries come first, so they win.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

from packaging.version import InvalidVersion, Version
from pydantic import BaseModel, ConfigDict, Field, field_validator

from advisor.knowledge.features import Feature
from advisor.units import parse_cc

Status = Literal["verified", "secondary", "unverified"]
Platform = Literal["linux-x86_64", "linux-aarch64", "windows", "macos"]
OS = Literal["linux", "windows"]
Verdict = Literal["sass", "ptx", "none"]
CC = tuple[int, int]

_STATUS_RANK: dict[str, int] = {"verified": 0, "secondary": 1, "unverified": 2}
_ARCH_RE = re.compile(r"^(sm|compute)_(\d+?)(\d)([af]?)$")
_VARIANT_RE = re.compile(r"^cu(\d+)(\d)$")

T = TypeVar("T", bound=BaseModel)


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


class Table(BaseModel, Generic[T]):
    """One knowledge table: when it was last reviewed, where it comes from, and its entries."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    reviewed: str  # "YYYY-MM-DD"
    source: str = Field(min_length=1)
    entries: list[T]

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


# Parametrised here, at module level, so pydantic registers each one in this module (as ``Table[Feature]``
# ...) and a validated CompatTables can be pickled (advisor.knowledge.validated_cache).
_TABLE_TYPES = (
    Table[Feature],
    Table[ToolkitDriver],
    Table[CudaFamily],
    Table[DriverBranch],
    Table[NvccTargets],
    Table[CcIsland],
    Table[DriverGpuSupport],
    Table[TorchRelease],
    Table[TorchIndex],
    Table[TorchArchList],
)


class CompatTables(BaseModel):
    """Every compat table, merged from catalog/compat/*.yaml (user files first)."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    features: Table[Feature]
    cuda_toolkit_drivers: Table[ToolkitDriver]
    cuda_families: Table[CudaFamily]
    driver_branches: Table[DriverBranch]
    nvcc_targets: Table[NvccTargets]
    cc_islands: Table[CcIsland]
    driver_gpu_support: Table[DriverGpuSupport]
    torch_releases: Table[TorchRelease]
    torch_index: Table[TorchIndex]
    torch_arch_lists: Table[TorchArchList]


# ---------------------------------------------------------------- small parsers


def parse_version(text: str | None) -> Version | None:
    """A driver or CUDA version string → Version; None when absent or not a version ("N/A")."""
    if text is None:
        return None
    try:
        return Version(text.strip())
    except InvalidVersion:
        return None


def driver_branch(driver_version: str | None) -> int | None:
    """``"550.54.15"`` → 550 (the branch is the driver's major number)."""
    v = parse_version(driver_version)
    return None if v is None else v.major


def variant_cuda(variant: str | None) -> Version | None:
    """``"cu121"`` → 12.1, ``"cu102"`` → 10.2, ``"cu130"`` → 13.0; anything else → None."""
    if variant is None:
        return None
    m = _VARIANT_RE.match(variant.strip().lower())
    return Version(f"{int(m.group(1))}.{m.group(2)}") if m else None


def cuda_variant(cuda: str | None) -> str | None:
    """``"12.1"`` (torch.version.cuda) → ``"cu121"``."""
    v = parse_version(cuda)
    return None if v is None else f"cu{v.major}{v.minor}"


@dataclass(frozen=True)
class Arch:
    """One entry of an arch list: ``sm_90a`` → kind sass, cc (9, 0), suffix "a"."""

    kind: Literal["sass", "ptx"]
    cc: CC
    suffix: str  # "" plain, "a" arch-specific (exact CC only), "f" family


def parse_arch(text: str) -> Arch | None:
    """``"sm_86"`` / ``"compute_120"`` / ``"sm_90a"`` → Arch; anything else → None."""
    m = _ARCH_RE.match(text.strip().lower())
    if not m:
        return None
    kind: Literal["sass", "ptx"] = "sass" if m.group(1) == "sm" else "ptx"
    return Arch(kind, (int(m.group(2)), int(m.group(3))), m.group(4))


def platform_of(os_name: str | None, machine_arch: str | None) -> Platform | None:
    """Host OS + CPU architecture → the wheel platform; None when the OS is unknown."""
    if not os_name:
        return None
    name = os_name.strip().lower()
    if name.startswith("win"):
        return "windows"
    if name in ("darwin", "macos", "mac os x"):
        return "macos"
    if name == "linux":
        arch = (machine_arch or "").strip().lower()
        if arch in ("aarch64", "arm64"):
            return "linux-aarch64"
        if arch in ("x86_64", "amd64"):
            return "linux-x86_64"
    return None


def os_of(platform: Platform | None) -> OS | None:
    """The driver OS of a wheel platform (driver tables have Linux and Windows columns)."""
    if platform is None or platform == "macos":
        return None
    return "windows" if platform == "windows" else "linux"


# ---------------------------------------------------------------- torch versions


TorchKind = Literal["cuda", "cpu", "rocm", "nvidia", "untagged", "other"]


@dataclass(frozen=True)
class TorchBuild:
    """``torch.__version__`` taken apart: ``"2.1.0+cu121"`` → release 2.1, tag cu121."""

    text: str
    version: Version
    release: str  # "2.1"
    local: str | None  # the local tag after "+": "cu121", "cpu", "rocm6.1", "ec3941ad.nv23.02"
    kind: TorchKind
    variant: str | None  # "cu121" for download.pytorch.org CUDA wheels, else None
    prerelease: bool  # a, b, rc, dev: nightly or source builds, whose arch lists may differ


def parse_torch_version(text: str | None) -> TorchBuild | None:
    """Parse ``torch.__version__``. kind ``nvidia`` marks NVIDIA's own builds (JetPack, NGC: ``nv23.02``)."""
    v = parse_version(text)
    if text is None or v is None:
        return None
    local = v.local
    kind: TorchKind
    variant = None
    if local is None:
        kind = "untagged"
    elif variant_cuda(local) is not None:
        kind, variant = "cuda", local
    elif local == "cpu" or local.startswith("cpu."):
        kind = "cpu"
    elif local.startswith("rocm"):
        kind = "rocm"
    elif re.search(r"(^|\.)nv\d", local):
        kind = "nvidia"
    else:
        kind = "other"
    return TorchBuild(
        text=text.strip(),
        version=v,
        release=f"{v.major}.{v.minor}",
        local=local,
        kind=kind,
        variant=variant,
        prerelease=v.is_prerelease or v.is_devrelease,
    )


@dataclass(frozen=True)
class ResolvedVariant:
    """Which wheel variant a torch build is, and how sure we are."""

    variant: str  # "cu121" or "cpu"
    inferred: bool  # True when deduced (PyPI defaults, torch.version.cuda), not read from a tag
    why: str


def resolve_variant(
    compat: CompatTables, build: TorchBuild, platform: Platform | None, torch_cuda: str | None
) -> ResolvedVariant | None:
    """The wheel variant of an installed build; None for ROCm, NVIDIA, source and unknown builds.

    PyPI wheels carry no tag: on Linux x86_64 they are the release's PyPI default CUDA variant, on
    Windows and macOS the CPU build (compat.md §1.4). An untagged build whose torch.version.cuda is
    not the PyPI default is a conda or source build, whose arch list the tables do not know.
    """
    if build.kind == "cuda" and build.variant is not None:
        return ResolvedVariant(build.variant, False, f"version tag +{build.variant}")
    if build.kind == "cpu":
        return ResolvedVariant("cpu", False, "version tag +cpu")
    if build.kind != "untagged":
        return None
    if platform in ("windows", "macos"):
        if torch_cuda is None:
            return ResolvedVariant("cpu", True, f"untagged {build.text} on {platform}: the PyPI CPU build")
        return None  # a conda/source build with CUDA: unknown arch list
    if platform == "linux-x86_64":
        rel = find_release(compat, build.release)
        default = rel.pypi_default if rel else None
        from_cuda = cuda_variant(torch_cuda)
        if default is not None and (from_cuda is None or from_cuda == default):
            return ResolvedVariant(default, True, f"untagged {build.text}: the PyPI wheel ({default})")
    return None


# ---------------------------------------------------------------- lookups


def find_release(compat: CompatTables, release: str) -> TorchRelease | None:
    """The release entry for ``"2.1"`` (first match wins)."""
    want = parse_version(release)
    for entry in compat.torch_releases.entries:
        if parse_version(entry.release) == want:
            return entry
    return None


def arch_list_for(
    compat: CompatTables, release: str, variant: str, platform: Platform
) -> TorchArchList | None:
    """The compiled arch list of (release, variant, platform); None when the tables do not know it."""
    want = parse_version(release)
    for entry in compat.torch_arch_lists.entries:
        if (
            entry.variant == variant
            and entry.platform == platform
            and any(parse_version(r) == want for r in entry.releases)
        ):
            return entry
    return None


def index_url(compat: CompatTables, variant: str) -> str:
    """``https://download.pytorch.org/whl/cu121`` for ``cu121``."""
    pattern = compat.torch_index.entries[0].url_pattern if compat.torch_index.entries else None
    return (pattern or "https://download.pytorch.org/whl/{variant}").format(variant=variant)


def pip_command(compat: CompatTables, release: TorchRelease, variant: str) -> str:
    """``pip install torch==2.1.2 --index-url https://download.pytorch.org/whl/cu121``."""
    pin = release.latest or f"{release.release}.*"
    return f"pip install torch=={pin} --index-url {index_url(compat, variant)}"


# ---------------------------------------------------------------- driver ⇄ CUDA


@dataclass(frozen=True)
class DriverRequirement:
    """The lowest driver that runs code built with a CUDA version, and why."""

    cuda: Version
    driver: Version
    driver_text: str  # as the table writes it ("580.65.06"; Version drops the leading zero)
    via: Literal["toolkit", "minor-compat"]  # the toolkit's own driver, or the family floor
    os: OS
    status: Status
    text: str  # "≥ 525.60.13 (CUDA 12.x minor-version compatibility)"


def _family(compat: CompatTables, major: int) -> CudaFamily | None:
    return next((f for f in compat.cuda_families.entries if f.major == major), None)


def min_driver_for(
    compat: CompatTables, cuda: str | Version, os: OS, *, minor_compat: bool = True
) -> DriverRequirement | None:
    """Lowest driver for an app built with ``cuda`` on ``os``, honouring minor-version compatibility.

    The toolkit's GA driver always works; for CUDA 11+ the family floor (e.g. 525.60.13 for 12.x
    on Linux) also works, so the requirement is the lower of the two. ``minor_compat=False`` asks
    for the toolkit's own driver only (when the family floor is evidently not enough). None when unknown.
    """
    want = cuda if isinstance(cuda, Version) else parse_version(cuda)
    if want is None:
        return None
    want = Version(f"{want.major}.{want.minor}")
    column = "linux_min_driver" if os == "linux" else "windows_min_driver"
    best: DriverRequirement | None = None
    row = next(
        (
            e
            for e in compat.cuda_toolkit_drivers.entries
            if parse_version(e.cuda) == want and e.update == 0 and getattr(e, column)
        ),
        None,
    )
    if row is not None:
        text = getattr(row, column)
        best = DriverRequirement(
            want, Version(text), text, "toolkit", os, row.status, f"≥ {text} (the CUDA {row.label} driver)"
        )
    fam = _family(compat, want.major)
    floor = None if fam is None else (fam.linux_floor if os == "linux" else fam.windows_floor)
    if minor_compat and fam is not None and fam.minor_compat and floor is not None:
        drv = Version(floor)
        if best is None or drv < best.driver:
            text = f"≥ {floor} (CUDA {want.major}.x minor-version compatibility)"
            best = DriverRequirement(want, drv, floor, "minor-compat", os, fam.status, text)
    return best


@dataclass(frozen=True)
class MaxCuda:
    """The highest CUDA a driver supports, and where that came from."""

    cuda: Version
    source: Literal["driver", "branch-table"]
    status: Status
    at_least: bool  # True when the driver is newer than every branch in the table


def driver_max_cuda(
    compat: CompatTables, driver_version: str | None, reported_cuda: str | None = None
) -> MaxCuda | None:
    """The driver's highest CUDA: its own report (nvidia-smi "CUDA Version") when known, else the
    branch table (the newest branch at or below the driver's)."""
    reported = parse_version(reported_cuda)
    if reported is not None:
        return MaxCuda(reported, "driver", "verified", False)
    branch = driver_branch(driver_version)
    if branch is None:
        return None
    first: dict[int, DriverBranch] = {}
    for e in compat.driver_branches.entries:
        first.setdefault(e.branch, e)  # user entries come first and win
    rows = sorted(first.values(), key=lambda e: e.branch)
    below = [e for e in rows if e.branch <= branch]
    if not below:
        return None
    row = below[-1]
    return MaxCuda(Version(row.max_cuda), "branch-table", row.status, row is rows[-1] and branch > row.branch)


@dataclass(frozen=True)
class DriverVerdict:
    """Can this driver run code built with this CUDA? ok None = unknown."""

    ok: bool | None
    via: Literal["native", "minor-compat", "too-old", "forward-compat-needed", "unknown"]
    requirement: DriverRequirement | None
    max_cuda: MaxCuda | None
    detail: str


def driver_runs_cuda(
    compat: CompatTables,
    cuda: str | Version,
    *,
    os: OS | None,
    driver_version: str | None,
    driver_cuda: str | None = None,
) -> DriverVerdict:
    """Whether a driver runs an app built with ``cuda`` (a torch wheel's runtime).

    Uses the driver version against the minimum (minor-version compat included) when both are
    known; otherwise the driver's highest CUDA: a newer major needs forward compatibility (the
    cuda-compat package, data-center GPUs only); a newer minor of the same family runs from CUDA 11 on.
    With an unknown OS the lower of the Linux and Windows minimums is used (no false alarms).
    """
    want = cuda if isinstance(cuda, Version) else parse_version(cuda)
    max_cuda = driver_max_cuda(compat, driver_version, driver_cuda)
    if want is None:
        return DriverVerdict(None, "unknown", None, max_cuda, "the CUDA version is unknown")
    want = Version(f"{want.major}.{want.minor}")
    oses: list[OS] = [os] if os is not None else ["linux", "windows"]
    reqs = [r for r in (min_driver_for(compat, want, o) for o in oses) if r is not None]
    req = min(reqs, key=lambda r: r.driver) if reqs else None
    drv = parse_version(driver_version)
    if req is not None and drv is not None:
        if drv >= req.driver:
            native = max_cuda is None or max_cuda.cuda >= want
            via: Literal["native", "minor-compat"] = "native" if native else "minor-compat"
            return DriverVerdict(True, via, req, max_cuda, f"driver {driver_version} {req.text}")
        return DriverVerdict(
            False,
            "too-old",
            req,
            max_cuda,
            f"CUDA {want} needs a driver {req.text}; {driver_version} is older",
        )
    if max_cuda is None:
        return DriverVerdict(None, "unknown", req, None, "the driver version is unknown")
    have = max_cuda.cuda
    if have >= want or max_cuda.at_least:
        return DriverVerdict(True, "native", req, max_cuda, f"the driver supports CUDA {have}")
    if want.major > have.major:
        return DriverVerdict(
            False,
            "forward-compat-needed",
            req,
            max_cuda,
            f"the driver supports CUDA {have}; CUDA {want.major}.x needs a newer driver (forward "
            "compatibility through cuda-compat works only on data-center GPUs)",
        )
    fam = _family(compat, want.major)
    if fam is not None and fam.minor_compat:
        return DriverVerdict(
            True, "minor-compat", req, max_cuda, f"CUDA {want.major}.x minor-version compatibility"
        )
    return DriverVerdict(False, "too-old", req, max_cuda, f"the driver supports only CUDA {have}")


# ---------------------------------------------------------------- binary compatibility


def _island(compat: CompatTables, cc: CC) -> int | None:
    for i, entry in enumerate(compat.cc_islands.entries):
        if any(parse_cc(c) == cc for c in entry.ccs):
            return i
    return None


def sass_runs(compat: CompatTables, arch: Arch, cc: CC) -> bool:
    """Does a cubin for ``arch`` run on a GPU of compute capability ``cc`` (compat.md §2.1)?

    Same major and minor ≤ the GPU's; arch-specific (``sm_90a``) only on that exact CC; Tegra
    islands (5.3, 6.2, 7.2, 8.7, 10.1/11.0) only within their island.
    """
    if arch.suffix == "a":
        return arch.cc == cc
    island_a, island_g = _island(compat, arch.cc), _island(compat, cc)
    if island_a is not None or island_g is not None:
        return island_a == island_g and cc >= arch.cc
    return arch.cc[0] == cc[0] and cc[1] >= arch.cc[1]


def ptx_runs(arch: Arch, cc: CC) -> bool:
    """PTX for compute_XY JIT-compiles on any CC ≥ X.Y (arch-specific PTX only on that CC)."""
    if arch.suffix == "a":
        return arch.cc == cc
    return cc >= arch.cc


def runs_on(compat: CompatTables, arch_list: Iterable[str], cc: CC) -> Verdict:
    """Best way an arch list runs on a GPU: a matching cubin (sass), PTX JIT (ptx), or not at all."""
    arches = [a for a in (parse_arch(s) for s in arch_list) if a is not None]
    if any(a.kind == "sass" and sass_runs(compat, a, cc) for a in arches):
        return "sass"
    if any(a.kind == "ptx" and ptx_runs(a, cc) for a in arches):
        return "ptx"
    return "none"


def nvcc_can_target(compat: CompatTables, cuda: str, cc: CC) -> bool | None:
    """Can nvcc of this CUDA compile for ``cc``? None when the CUDA version is outside the table."""
    want = parse_version(cuda)
    if want is None:
        return None
    want = Version(f"{want.major}.{want.minor}")
    for e in compat.nvcc_targets.entries:
        if Version(e.cuda_from) <= want <= Version(e.cuda_to):
            low, high = parse_cc(e.oldest), parse_cc(e.newest)
            return low is not None and high is not None and low <= cc <= high
    return None


def driver_drops_gpu(compat: CompatTables, cc: CC, driver_version: str | None) -> DriverGpuSupport | None:
    """The support entry saying this driver's branch no longer drives a GPU of ``cc``, if any."""
    branch = driver_branch(driver_version)
    if branch is None:
        return None
    for e in compat.driver_gpu_support.entries:
        low, high = parse_cc(e.cc_min), parse_cc(e.cc_max)
        if low is not None and high is not None and low <= cc <= high and branch > e.last_branch:
            return e
    return None


# ---------------------------------------------------------------- best install


@dataclass(frozen=True)
class InstallChoice:
    """One PyTorch wheel: release, variant and the exact pip command."""

    release: TorchRelease
    variant: str
    cuda: Version
    platform: Platform
    verdicts: tuple[Verdict, ...]  # per requested CC, same order
    requirement: DriverRequirement | None  # the driver it needs on this OS
    pip: str
    status: Status  # the weakest status of the facts used

    @property
    def label(self) -> str:
        return f"torch {self.release.latest or self.release.release + '.*'}+{self.variant}"


@dataclass(frozen=True)
class InstallAdvice:
    """The newest build this driver runs (``choice``), and the newest build at all (``newest``)."""

    choice: InstallChoice | None
    newest: InstallChoice | None
    note: str  # why, in words: what was considered, what is missing


def _weakest(*statuses: Status) -> Status:
    return max(statuses, key=lambda s: _STATUS_RANK[s])


def _releases_newest_first(compat: CompatTables) -> list[TorchRelease]:
    seen: set[Version] = set()
    out = []
    for e in compat.torch_releases.entries:
        v = Version(e.release)
        if v not in seen:
            seen.add(v)
            out.append(e)
    return sorted(out, key=lambda e: Version(e.release), reverse=True)


def best_install(
    compat: CompatTables,
    ccs: Sequence[CC],
    platform: Platform,
    *,
    driver_version: str | None = None,
    driver_cuda: str | None = None,
    driver_os: OS | None = None,
) -> InstallAdvice:
    """The newest release and variant whose wheel covers every GPU in ``ccs`` and, for ``choice``,
    that this driver runs (minor-version compat respected; PTX-only coverage also needs a driver
    whose CUDA is at least the wheel's, because newer PTX cannot JIT on an older driver).

    Within a release, builds with cubins for every GPU beat PTX-only ones, then newer CUDA wins.
    With no CC known, only the driver and the platform constrain the choice.
    """
    if platform == "macos":
        return InstallAdvice(None, None, "macOS wheels have no CUDA support")
    os = driver_os or os_of(platform)  # WSL: Linux wheels, Windows driver
    driver_known = driver_version is not None or driver_cuda is not None
    max_cuda = driver_max_cuda(compat, driver_version, driver_cuda)
    choice: InstallChoice | None = None
    newest: InstallChoice | None = None
    for rel in _releases_newest_first(compat):
        candidates: list[tuple[int, Version, InstallChoice]] = []
        for variant in rel.variants:
            cuda = variant_cuda(variant)
            arches = arch_list_for(compat, rel.release, variant, platform)
            if cuda is None or arches is None:
                continue
            verdicts = tuple(runs_on(compat, arches.arch_list, cc) for cc in ccs)
            if "none" in verdicts:
                continue
            req = min_driver_for(compat, cuda, os) if os else None
            item = InstallChoice(
                release=rel,
                variant=variant,
                cuda=cuda,
                platform=platform,
                verdicts=verdicts,
                requirement=req,
                pip=pip_command(compat, rel, variant),
                status=_weakest(rel.status, arches.status),
            )
            candidates.append((0 if "ptx" not in verdicts else 1, cuda, item))
        candidates.sort(key=lambda c: (c[0], -c[1].major, -c[1].minor))
        for _, cuda, item in candidates:
            if newest is None:
                newest = item
            if choice is None and driver_known:
                verdict = driver_runs_cuda(
                    compat, cuda, os=os, driver_version=driver_version, driver_cuda=driver_cuda
                )
                ptx_ok = "ptx" not in item.verdicts or (max_cuda is not None and max_cuda.cuda >= cuda)
                if verdict.ok and ptx_ok:
                    choice = item
        if newest is not None and (choice is not None or not driver_known):
            break
    if newest is None:
        note = "no PyTorch wheel in the tables covers all of these GPUs at once"
    elif not ccs:
        note = "the GPUs' compute capability is unknown, so only the driver was taken into account"
    elif not driver_known:
        note = "the driver version is unknown; the newest build is given with the driver it needs"
    elif choice is None:
        note = "no PyTorch wheel in the tables covers these GPUs with this driver; a newer driver is needed"
    else:
        note = "newest release and variant covering every GPU with this driver"
    return InstallAdvice(choice if driver_known else None, newest, note)
