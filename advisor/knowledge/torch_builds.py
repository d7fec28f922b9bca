"""Installed PyTorch builds: ``torch.__version__`` taken apart, its wheel variant, its arch list.

Pure predicates over the compat tables (advisor.knowledge.compat); a question the tables cannot
answer returns None, never a guess. Lookups take the first matching entry: user catalog entries
come first, so they win.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from packaging.version import Version

from advisor.knowledge.compat import CompatTables, TorchArchList, TorchRelease
from advisor.knowledge.compat_parse import Platform, cuda_variant, parse_version, variant_cuda

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
