"""The knowledge tables must agree with one another.

Each check names the two tables it compares; a failure means one of them is stale or wrong (a torch
variant needing a CUDA the driver table does not know, a card whose compute capability no toolkit or
architecture row covers, an arch list naming a compute capability nothing else knows, a driver branch
whose CUDA version the toolkit table does not have and that says nothing about why).
"""

from __future__ import annotations

import pytest
from packaging.version import Version

from advisor.knowledge.base import Knowledge
from advisor.knowledge.compat_parse import parse_arch, variant_cuda
from advisor.knowledge.loader import load_knowledge
from advisor.knowledge.staleness import reach
from advisor.units import format_cc, parse_cc


@pytest.fixture(scope="module")
def knowledge() -> Knowledge:
    return load_knowledge()


def _toolkit_cudas(k: Knowledge) -> set[Version]:
    return {Version(e.cuda) for e in k.compat.cuda_toolkit_drivers.entries}


def _known_ccs(k: Knowledge) -> set[tuple[int, int]]:
    """CCs some table or card names: cards, Tegra islands, architecture ranges, nvcc ranges."""
    c = k.compat
    texts = [card.compute_capability for card in k.cards if card.compute_capability]
    texts += [cc for island in c.cc_islands.entries for cc in island.ccs]
    texts += [x for e in c.driver_gpu_support.entries for x in (e.cc_min, e.cc_max)]
    texts += [x for e in c.nvcc_targets.entries for x in (e.oldest, e.newest)]
    return {cc for cc in (parse_cc(t) for t in texts if t) if cc is not None}


def test_every_torch_variant_needs_a_cuda_the_driver_table_knows(knowledge: Knowledge) -> None:
    # torch_releases × cuda_toolkit_drivers
    known = _toolkit_cudas(knowledge)
    missing = [
        (r.release, v)
        for r in knowledge.compat.torch_releases.entries
        for v in r.variants
        if variant_cuda(v) not in known
    ]
    assert not missing, f"torch variants whose CUDA has no toolkit ⇄ driver row: {missing}"


def test_every_arch_list_names_a_known_compute_capability(knowledge: Knowledge) -> None:
    # torch_arch_lists × (cards, cc_islands, driver_gpu_support, nvcc_targets)
    known = _known_ccs(knowledge)
    unknown = [
        (e.releases[0], e.variant, e.platform, a)
        for e in knowledge.compat.torch_arch_lists.entries
        for a in e.arch_list
        if (arch := parse_arch(a)) is None or arch.cc not in known
    ]
    assert not unknown, f"arch lists naming a CC no other table knows: {unknown}"


def test_every_card_cc_is_covered_by_a_toolkit_and_its_architecture_row(knowledge: Knowledge) -> None:
    # cards × nvcc_targets, cards × driver_gpu_support
    c = knowledge.compat
    ranges = [(parse_cc(e.oldest), parse_cc(e.newest)) for e in c.nvcc_targets.entries]
    islands = {parse_cc(cc) for i in c.cc_islands.entries for cc in i.ccs}
    problems = []
    for card in knowledge.cards:
        cc = parse_cc(card.compute_capability or "")
        if cc is None:
            continue  # AMD
        if not any(lo is not None and hi is not None and lo <= cc <= hi for lo, hi in ranges):
            problems.append(f"{card.id}: no nvcc_targets row covers CC {format_cc(cc)}")
        for row in c.driver_gpu_support.entries:
            if row.architecture.lower() in (card.architecture or "").lower() and cc not in islands:
                lo, hi = parse_cc(row.cc_min), parse_cc(row.cc_max)
                if lo is None or hi is None or not lo <= cc <= hi:
                    problems.append(f"{card.id}: {row.architecture} row is CC {row.cc_min}-{row.cc_max}")
    assert not problems, problems


def test_every_driver_branch_has_a_cuda_version_the_tables_explain(knowledge: Knowledge) -> None:
    # driver_branches × cuda_toolkit_drivers
    known = {Version(f"{v.major}.{v.minor}") for v in _toolkit_cudas(knowledge)}
    unexplained = [
        b.branch
        for b in knowledge.compat.driver_branches.entries
        if Version(b.max_cuda) not in known and not b.notes
    ]
    assert not unexplained, f"branches whose CUDA has no toolkit row and no note saying why: {unexplained}"


def test_every_toolkit_driver_belongs_to_a_branch_row(knowledge: Knowledge) -> None:
    # cuda_toolkit_drivers × driver_branches
    branches = {b.branch for b in knowledge.compat.driver_branches.entries}
    orphans = [
        e.label
        for e in knowledge.compat.cuda_toolkit_drivers.entries
        if e.linux_min_driver and Version(e.linux_min_driver).major not in branches
    ]
    assert not orphans, orphans


def test_every_cuda_11_plus_toolkit_has_a_minor_compat_family(knowledge: Knowledge) -> None:
    # cuda_toolkit_drivers × cuda_families
    families = {f.major for f in knowledge.compat.cuda_families.entries}
    majors = {Version(e.cuda).major for e in knowledge.compat.cuda_toolkit_drivers.entries}
    assert {m for m in majors if m >= 9} <= families


def test_the_current_to_line_names_what_the_tables_reach(knowledge: Knowledge) -> None:
    # knowledge_meta × every generated table
    r = reach(knowledge.compat)
    covers = knowledge.compat.knowledge_meta.entries[0].covers
    assert f"up to {r.torch}" in covers and f"up to {r.cuda}" in covers and f"R{r.branch}" in covers


def test_a_broken_table_is_caught(knowledge: Knowledge) -> None:
    # The checks must be able to fail: a branch pointing at a CUDA no toolkit row has, without a note.
    c = knowledge.compat
    bad = c.driver_branches.entries[0].model_copy(update={"max_cuda": "14.9", "notes": None})
    broken = Knowledge(
        cards=knowledge.cards,
        compat=c.model_copy(
            update={"driver_branches": c.driver_branches.model_copy(update={"entries": [bad]})}
        ),
    )
    with pytest.raises(AssertionError):
        test_every_driver_branch_has_a_cuda_version_the_tables_explain(broken)
