"""The NVIDIA driver ⇄ CUDA: the lowest driver for a CUDA version (minor-version compatibility
included), a driver's highest CUDA, whether a driver runs a build, and which GPUs a branch dropped.

Pure predicates over the compat tables (advisor.knowledge.compat); a question the tables cannot
answer returns None ("unknown, the table may be stale"), never a guess. Lookups take the first
matching entry: user catalog entries come first, so they win.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from packaging.version import Version

from advisor.knowledge.compat import CompatTables, CudaFamily, DriverBranch, DriverGpuSupport, Status
from advisor.knowledge.compat_parse import CC, OS, driver_branch, parse_version
from advisor.units import parse_cc


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
