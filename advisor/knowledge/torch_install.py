"""The PyTorch wheel to install: the newest release and variant that covers every GPU and that
the driver runs, and its exact pip command.

Pure: reasons over the compat tables with advisor.knowledge.cuda_driver, gpu_code and torch_builds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from packaging.version import Version

from advisor.knowledge.compat import CompatTables, Status, TorchRelease
from advisor.knowledge.compat_parse import CC, OS, Platform, os_of, variant_cuda
from advisor.knowledge.cuda_driver import DriverRequirement, driver_max_cuda, driver_runs_cuda, min_driver_for
from advisor.knowledge.gpu_code import Verdict, runs_on, toolkit_predates
from advisor.knowledge.torch_builds import arch_list_for, pip_command

_STATUS_RANK: dict[str, int] = {"verified": 0, "secondary": 1, "unverified": 2}


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
            if any(
                v == "ptx" and toolkit_predates(compat, cuda, cc) for v, cc in zip(verdicts, ccs, strict=True)
            ):
                continue  # only old PTX reaches a GPU its toolkit never knew: not something to install
            if "unverified" in (rel.status, arches.status):
                continue  # an install command is never built on a guess
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
