"""How far the compat tables reach, and what to fall back to beyond them.

The tables are current to a date (``knowledge_meta`` in catalog/compat/meta.yaml). Anything newer than
what they list (a torch release, a CUDA version, a driver branch, a compute capability) is judged by
what still holds: CUDA minor-version compatibility, the driver's own "CUDA Version", and the newest
known build of the same wheel variant (a cu13x build can never hold code for a GPU that CUDA 13 cannot
target). Pure; the rule that says so aloud is advisor.rules.knowledge_age.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from packaging.version import Version

from advisor.knowledge.compat import CompatTables, TorchArchList
from advisor.knowledge.compat_parse import CC, Platform, parse_version
from advisor.units import parse_cc


@dataclass(frozen=True)
class Reach:
    """The newest of each kind of thing the tables know."""

    current_to: str | None  # "2026-12-05"
    torch: Version | None  # newest feature release, 2.15
    cuda: Version | None  # newest CUDA toolkit, 13.5
    branch: int | None  # newest driver branch, 615
    cc: CC | None  # newest compute capability any table or card names


def reach(compat: CompatTables, card_ccs: tuple[CC, ...] = ()) -> Reach:
    """What the tables reach (first meta entry wins: a user catalog's comes first)."""
    meta = compat.knowledge_meta.entries[0].current_to if compat.knowledge_meta.entries else None
    releases = [v for v in (parse_version(e.release) for e in compat.torch_releases.entries) if v]
    cudas = [v for v in (parse_version(e.cuda) for e in compat.cuda_toolkit_drivers.entries) if v]
    branches = [e.branch for e in compat.driver_branches.entries]
    ccs = [c for c in (parse_cc(e.newest) for e in compat.nvcc_targets.entries) if c is not None]
    ccs += list(card_ccs)
    return Reach(
        current_to=meta,
        torch=max(releases, default=None),
        cuda=max((Version(f"{v.major}.{v.minor}") for v in cudas), default=None),
        branch=max(branches, default=None),
        cc=max(ccs, default=None),
    )


def newest_known_arch_list(
    compat: CompatTables, release: str, variant: str, platform: Platform
) -> TorchArchList | None:
    """For a torch release newer than every release in the tables: the arch list of the newest known
    release that shipped the same variant on the same platform. A build system keeps a variant's list
    from release to release unless the toolkit forces a change, and a CUDA-13 variant can never hold code
    below CC 7.5, so this is the best evidence there is; callers must treat it as uncertain.
    None when the release is not newer than the tables or the variant was never seen."""
    want = parse_version(release)
    newest = reach(compat).torch
    if want is None or newest is None or Version(f"{want.major}.{want.minor}") <= newest:
        return None
    best: tuple[Version, TorchArchList] | None = None
    for entry in compat.torch_arch_lists.entries:
        if entry.variant != variant or entry.platform != platform:
            continue
        top = max((v for v in (parse_version(r) for r in entry.releases) if v), default=None)
        if top is not None and (best is None or top > best[0]):
            best = (top, entry)
    return None if best is None else best[1]


def shipped_current_to(catalog_dir: Path) -> str | None:
    """``current_to`` read straight from ``compat/meta.yaml`` (for ``advisor --version``: no validation,
    no pydantic, so the flag stays instant). None when the file or the field is missing."""
    import yaml

    path = catalog_dir / "compat" / "meta.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        entry = data["knowledge_meta"]["entries"][0]
        value = entry["current_to"]
    except (OSError, yaml.YAMLError, KeyError, IndexError, TypeError):
        return None
    return str(value)
