"""knowledge-outdated: a torch release, CUDA version, driver branch or GPU newer than the compat tables.

Says so plainly, with the date the tables are current to, and what the other rules fell back to:
the driver's own "CUDA Version" and CUDA minor-version compatibility for drivers and CUDA, the newest
known build of the same wheel variant for torch (advisor.knowledge.staleness). Info while that fallback
gives an answer; a warning when the tables cannot judge the build at all (its variant is unknown too).

Pure: takes the shared ``Facts`` (advisor.rules.software_facts); advisor.rules.software runs it.
"""

from __future__ import annotations

from packaging.version import Version

from advisor.knowledge.compat_parse import cuda_variant, driver_branch, parse_version, variant_cuda
from advisor.knowledge.staleness import Reach, newest_known_arch_list, reach
from advisor.report import Finding, Severity
from advisor.rules.software_facts import Facts
from advisor.units import format_cc, parse_cc


def check_knowledge_age(f: Facts) -> list[Finding]:
    """One knowledge-outdated finding per kind of thing (torch, CUDA, driver, GPU) newer than the tables."""
    card_ccs = tuple(c for c in (parse_cc(card.compute_capability or "") for card in f.cards) if c)
    r = reach(f.compat, card_ccs)
    return [*_torch(f, r), *_cuda(f, r), *_driver(f, r), *_gpus(f, r)]


def _when(r: Reach) -> str:
    return f"current to {r.current_to}" if r.current_to else "of unknown date"


def _minor(v: Version) -> Version:
    return Version(f"{v.major}.{v.minor}")


def _torch(f: Facts, r: Reach) -> list[Finding]:
    b = f.build
    if b is None or r.torch is None or _minor(b.version) <= r.torch:
        return []
    platform = f.platform or "linux-x86_64"
    variant = b.variant
    if variant is None and b.kind == "untagged" and platform.startswith("linux"):
        variant = cuda_variant(f.machine.torch.cuda_version)  # a PyPI wheel: its CUDA names the variant
    fallback = newest_known_arch_list(f.compat, b.release, variant, platform) if variant else None
    cuda = variant_cuda(variant) if variant else parse_version(f.machine.torch.cuda_version)
    if fallback is not None:
        severity: Severity = "info"
        how = (
            f"its GPU coverage is judged by the newest {variant} build the tables know (torch "
            f"{max(fallback.releases, key=Version)}: {' '.join(fallback.arch_list)}), and the driver it "
            f"needs by its CUDA ({cuda}) with minor-version compatibility."
        )
    elif b.kind in ("cpu", "rocm", "nvidia", "other"):
        severity = "info"
        how = "the checks that need the tables for this kind of build do not depend on its release."
    else:
        severity = "warning"
        how = (
            "no build of its wheel variant is in the tables either, so whether it has kernels for these "
            "GPUs is not judged from the tables (torch's own output and get_arch_list() still are)."
        )
    return [
        Finding(
            code="knowledge-outdated",
            severity=severity,
            subject="torch",
            title=f"torch {b.release} is newer than this advisor's tables ({_when(r)})",
            detail=f"torch {b.text} is newer than the newest release in the tables ({r.torch}); {how}",
            fix="Update advisor (or its catalog) for verdicts from this release's own build facts.",
        )
    ]


def _cuda(f: Facts, r: Reach) -> list[Finding]:
    if r.cuda is None:
        return []
    seen = [
        (what, v)
        for what, v in (
            ("the torch build's CUDA", parse_version(f.machine.torch.cuda_version)),
            ("the driver's CUDA Version", parse_version(f.machine.driver.cuda_version)),
        )
        if v is not None and _minor(v) > r.cuda
    ]
    if not seen:
        return []
    what, v = seen[0]
    return [
        Finding(
            code="knowledge-outdated",
            severity="info",
            subject="cuda",
            title=f"CUDA {_minor(v)} is newer than this advisor's tables ({_when(r)})",
            detail=f"{what} is {v}, newer than the newest CUDA toolkit in the tables ({r.cuda}); the driver "
            "checks fall back to what still holds: the driver's own CUDA Version and, within a CUDA "
            "major family, minor-version compatibility.",
            fix="Update advisor (or its catalog) for this toolkit's exact driver minimum.",
        )
    ]


def _driver(f: Facts, r: Reach) -> list[Finding]:
    version = f.machine.driver.version
    branch = driver_branch(version)
    if branch is None or r.branch is None or branch <= r.branch:
        return []
    reported = f.machine.driver.cuda_version
    how = (
        f"it is judged by the CUDA Version it reports ({reported})"
        if reported
        else f"it is judged as supporting at least CUDA {_newest_branch_cuda(f, r.branch)} (the newest "
        "branch the tables know), as newer drivers run every older CUDA"
    )
    return [
        Finding(
            code="knowledge-outdated",
            severity="info",
            subject="driver",
            title=f"Driver {version} is newer than this advisor's tables ({_when(r)})",
            detail=f"Driver branch R{branch} is newer than the newest branch in the tables (R{r.branch}); "
            f"{how}. Which GPUs it still drives is not in the tables.",
            fix="Update advisor (or its catalog) for this branch's facts.",
        )
    ]


def _newest_branch_cuda(f: Facts, branch: int) -> str:
    row = next((e for e in f.compat.driver_branches.entries if e.branch == branch), None)
    return row.max_cuda if row else "?"


def _gpus(f: Facts, r: Reach) -> list[Finding]:
    if r.cc is None:
        return []
    out = []
    for gpu in f.gpus:
        if gpu.cc is None or gpu.cc <= r.cc:
            continue
        cc = format_cc(gpu.cc)
        out.append(
            Finding(
                code="knowledge-outdated",
                severity="info",
                gpu=gpu.index,
                subject="gpu",
                title=f"{gpu.name or 'This GPU'} (CC {cc}) is newer than this advisor's tables ({_when(r)})",
                detail=f"{gpu.who}: no table names compute capability {cc} (the newest is "
                f"{format_cc(r.cc)}); builds are judged by NVIDIA's binary-compatibility rules only "
                "(a cubin runs within its major version, PTX JIT-compiles for any newer GPU).",
                fix="Update advisor (or its catalog) for this GPU's facts.",
            )
        )
    return out
