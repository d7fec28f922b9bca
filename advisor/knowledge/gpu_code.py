"""Binary compatibility of GPU code: does a cubin (SASS) or PTX of an arch list run on a compute
capability, and can nvcc of a CUDA version compile for it (compat.md §2).

Pure predicates over the compat tables (advisor.knowledge.compat): Tegra islands and nvcc targets.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from packaging.version import Version

from advisor.knowledge.compat import CompatTables
from advisor.knowledge.compat_parse import CC, Arch, parse_arch, parse_version
from advisor.units import parse_cc

Verdict = Literal["sass", "ptx", "none"]


def _island(compat: CompatTables, cc: CC) -> int | None:
    return _islands(compat).get(cc)


_ISLANDS: dict[int, tuple[CompatTables, dict[CC, int]]] = {}


def _islands(compat: CompatTables) -> dict[CC, int]:
    """CC → its Tegra island, built once per tables object (the advice asks this thousands of times)."""
    cached = _ISLANDS.get(id(compat))
    if cached is not None and cached[0] is compat:
        return cached[1]
    table: dict[CC, int] = {}
    for i, entry in enumerate(compat.cc_islands.entries):
        for c in entry.ccs:
            parsed = parse_cc(c)
            if parsed is not None:
                table.setdefault(parsed, i)
    _ISLANDS[id(compat)] = (compat, table)
    return table


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


def toolkit_predates(compat: CompatTables, cuda: str | Version, cc: CC) -> bool:
    """True when nvcc of this CUDA knows no GPU as new as ``cc`` (CUDA 10.1 and an A100): a wheel built
    with it reaches that GPU through PTX JIT at best, and the CUDA libraries it bundles (cuBLAS, cuDNN)
    have no support for it. False when the toolkit knows the GPU or the table has no row for it."""
    want = parse_version(str(cuda))
    if want is None:
        return False
    want = Version(f"{want.major}.{want.minor}")
    for e in compat.nvcc_targets.entries:
        if Version(e.cuda_from) <= want <= Version(e.cuda_to):
            newest = parse_cc(e.newest)
            return newest is not None and cc > newest
    return False


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
