"""The compat tables validate and agree with each other; the predicates give compat.md's answers.

Expected values are copied from reference/compat.md (the facts) and from real dumps, never from
what the code returns.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import yaml
from packaging.version import Version

from advisor.knowledge import compat as cx
from advisor.knowledge.compat_parse import (
    CC,
    OS,
    Platform,
    cuda_variant,
    parse_arch,
    platform_of,
    variant_cuda,
)
from advisor.knowledge.cuda_driver import driver_drops_gpu, driver_max_cuda, driver_runs_cuda, min_driver_for
from advisor.knowledge.gpu_code import nvcc_can_target, runs_on
from advisor.knowledge.torch_builds import (
    arch_list_for,
    find_release,
    parse_torch_version,
    pip_command,
    resolve_variant,
)
from advisor.knowledge.torch_install import best_install
from tests.conftest import REPO

COMPAT_DIR = REPO / "catalog" / "compat"


def _load_tables() -> cx.CompatTables:
    merged: dict[str, object] = {}
    for path in sorted(COMPAT_DIR.glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        assert isinstance(data, dict), path
        overlap = set(merged) & set(data)
        assert not overlap, f"{path.name} redefines tables {overlap}"
        merged.update(data)
    return cx.CompatTables.model_validate(merged)


@pytest.fixture(scope="module")
def tables() -> cx.CompatTables:
    return _load_tables()


# ---------------------------------------------------------------- tables


def test_every_compat_file_validates_and_every_table_is_sourced(tables: cx.CompatTables) -> None:
    for name in cx.CompatTables.model_fields:
        table = getattr(tables, name)
        assert table.entries, f"{name} is empty"
        assert table.source.strip()
        assert all(e.source.strip() for e in table.entries), name


def test_bad_entries_are_rejected() -> None:
    with pytest.raises(ValueError, match="sm_86"):
        cx.TorchArchList(
            releases=["2.1"], variant="cu121", platform="linux-x86_64", arch_list=["8.6"], source="x"
        )
    with pytest.raises(ValueError, match="cu121"):
        cx.TorchRelease(release="2.1", date="2023-10", variants=["cuda12"], source="x")
    with pytest.raises(ValueError):
        cx.ToolkitDriver(
            cuda="12.x", update=0, label="x", linux_min_driver="1", windows_min_driver=None, source="x"
        )
    with pytest.raises(ValueError):
        cx.DriverBranchTable.model_validate({"reviewed": "someday", "source": "x", "entries": []})


def test_newer_toolkit_never_needs_an_older_driver(tables: cx.CompatTables) -> None:
    rows = sorted(tables.cuda_toolkit_drivers.entries, key=lambda e: (Version(e.cuda), e.update))
    for column in ("linux_min_driver", "windows_min_driver"):
        values = [Version(getattr(r, column)) for r in rows if getattr(r, column)]
        assert values == sorted(values), column


def test_family_floor_sits_between_the_x0_driver_and_every_later_minor(tables: cx.CompatTables) -> None:
    """The floor is never below the X.0 toolkit's own driver, and every later minor's driver is at or
    above it (11.0's drivers, 450.51.x, are below the 11.x floor 450.80.02: that is the fact)."""
    for fam in tables.cuda_families.entries:
        if not fam.minor_compat:
            continue
        rows = [r for r in tables.cuda_toolkit_drivers.entries if Version(r.cuda).major == fam.major]
        assert rows
        for column, floor in (
            ("linux_min_driver", fam.linux_floor),
            ("windows_min_driver", fam.windows_floor),
        ):
            assert floor is not None
            for r in rows:
                driver = getattr(r, column)
                if driver is None:
                    continue
                if Version(r.cuda).minor == 0 and r.update == 0:
                    assert Version(driver) <= Version(floor), r.label
                elif Version(r.cuda).minor > 0:
                    assert Version(floor) <= Version(driver), r.label


def test_branch_table_agrees_with_the_toolkit_rows(tables: cx.CompatTables) -> None:
    branches = sorted(tables.driver_branches.entries, key=lambda e: e.branch)
    assert [Version(b.max_cuda) for b in branches] == sorted(Version(b.max_cuda) for b in branches)
    known = [r for r in tables.cuda_toolkit_drivers.entries if r.linux_min_driver]
    for b in branches:
        # No toolkit whose driver belongs to this branch (or an older one) is newer than the branch's CUDA...
        within = [Version(r.cuda) for r in known if Version(r.linux_min_driver or "0").major <= b.branch]
        assert max(within) <= Version(b.max_cuda), b
        # ...and the GA toolkit of the branch's CUDA, where its driver is known, runs on the branch.
        ga = [r for r in known if Version(r.cuda) == Version(b.max_cuda) and r.update == 0]
        assert all(Version(r.linux_min_driver or "0").major <= b.branch for r in ga), b


def test_every_release_variant_has_a_linux_arch_list_and_no_orphans(tables: cx.CompatTables) -> None:
    releases = {r.release: r for r in tables.torch_releases.entries}
    for rel in releases.values():
        assert rel.pypi_default is None or rel.pypi_default in rel.variants  # None: no source states it
        for variant in rel.variants:
            assert arch_list_for(tables, rel.release, variant, "linux-x86_64"), (rel.release, variant)
    seen: set[tuple[str, str, str]] = set()
    for entry in tables.torch_arch_lists.entries:
        for release in entry.releases:
            assert release in releases, (release, entry.variant)
            assert entry.variant in releases[release].variants, (release, entry.variant)
            key = (release, entry.variant, entry.platform)
            assert key not in seen, key
            seen.add(key)


def test_every_arch_in_a_wheel_is_a_target_its_nvcc_can_compile(tables: cx.CompatTables) -> None:
    """Cross-check of two independent tables: torch's arch lists and nvcc's target ranges."""
    for entry in tables.torch_arch_lists.entries:
        cuda = variant_cuda(entry.variant)
        assert cuda is not None
        for arch_text in entry.arch_list:
            arch = parse_arch(arch_text)
            assert arch is not None, arch_text
            ok = nvcc_can_target(tables, str(cuda), arch.cc)
            assert ok is True, (entry.releases, entry.variant, entry.platform, arch_text)


def test_islands_do_not_overlap(tables: cx.CompatTables) -> None:
    ccs = [c for island in tables.cc_islands.entries for c in island.ccs]
    assert len(ccs) == len(set(ccs))


def test_the_fixture_warning_arch_list_matches_the_table() -> None:
    """Dump 02 prints the real 2.0.1+cu117 arch list; the table for 2.0 cu117 Linux must say the same."""
    text = (REPO / "tests/data/dumps/02-h100pcie-torch201-cu117-sm90/input.txt").read_text()
    line = next(x for x in text.splitlines() if x.startswith("The current PyTorch install supports"))
    printed = line.rstrip(".").split("capabilities ")[1].split()
    entry = arch_list_for(_load_tables(), "2.0", "cu117", "linux-x86_64")
    assert entry is not None and sorted(entry.arch_list) == sorted(printed)


# ---------------------------------------------------------------- driver ⇄ CUDA


@pytest.mark.parametrize(
    ("cuda", "os", "driver"),
    [
        ("12.8", "linux", "525.60.13"),  # minor-version compat floor is below the 12.8 GA driver 570.26
        ("12.8", "windows", "527.41"),
        ("11.8", "linux", "450.80.02"),
        ("11.0", "linux", "450.51.05"),  # its own GA driver is below the 11.x family floor
        ("10.2", "linux", "440.33"),  # no minor compat before CUDA 11
        ("10.2", "windows", "441.22"),
        ("13.0", "linux", "580.65.06"),
        ("13.2", "linux", "580.65.06"),
    ],
)
def test_min_driver_for(tables: cx.CompatTables, cuda: str, os: OS, driver: str) -> None:
    req = min_driver_for(tables, cuda, os)
    assert req is not None and req.driver == Version(driver)


def test_min_driver_for_unknown_cuda_is_none(tables: cx.CompatTables) -> None:
    assert min_driver_for(tables, "6.5", "linux") is None
    assert min_driver_for(tables, "not a version", "linux") is None


@pytest.mark.parametrize(
    ("driver", "max_cuda", "status"),
    [
        ("550.54.15", "12.4", "secondary"),
        ("410.104", "10.0", "secondary"),
        ("565.57.01", "12.7", "secondary"),
        ("430.26", "10.1", "secondary"),
        ("615.71.09", "13.4", "secondary"),
    ],
)
def test_driver_max_cuda_from_the_branch_table(
    tables: cx.CompatTables, driver: str, max_cuda: str, status: str
) -> None:
    got = driver_max_cuda(tables, driver)
    assert got is not None and got.cuda == Version(max_cuda) and got.status == status


def test_driver_reported_cuda_wins_and_unknown_branches(tables: cx.CompatTables) -> None:
    got = driver_max_cuda(tables, "535.104.12", "12.2")
    assert got is not None and got.source == "driver"
    newer = driver_max_cuda(tables, "700.10")
    assert newer is not None and newer.at_least
    assert driver_max_cuda(tables, "300.1") is None
    assert driver_max_cuda(tables, None) is None


@pytest.mark.parametrize(
    ("cuda", "driver", "driver_cuda", "ok"),
    [
        ("13.0", "550.54.15", None, False),  # cu130 wheel on R550: "found version 12040" (compat.md §6.2)
        ("13.0", None, "12.4", False),
        ("12.8", "570.26", None, True),  # 12.8 GA driver
        ("12.6", None, "12.4", True),  # minor-version compatibility
        ("12.1", "470.82.01", None, False),  # cu12x wheel on R470: "found 11040"
        ("11.8", "580.65.06", None, True),  # a newer driver runs older majors
        ("10.2", "410.104", None, False),  # dump 03: torch 1.5.0 (CUDA 10.2) on 410.104
        ("10.2", None, "10.1", False),  # no minor compat before 11
        ("12.4", "565.57.01", None, True),  # dump 14
        ("11.7", "535.104.12", None, True),  # dump 02
    ],
)
def test_driver_runs_cuda(
    tables: cx.CompatTables, cuda: str, driver: str | None, driver_cuda: str | None, ok: bool
) -> None:
    assert driver_runs_cuda(tables, cuda, os="linux", driver_version=driver, driver_cuda=driver_cuda).ok is ok


def test_newer_major_on_old_driver_needs_forward_compat(tables: cx.CompatTables) -> None:
    verdict = driver_runs_cuda(tables, "13.0", os=None, driver_version=None, driver_cuda="12.8")
    assert verdict.via == "forward-compat-needed" and "data-center" in verdict.detail


def test_unknown_driver_is_unknown_not_a_verdict(tables: cx.CompatTables) -> None:
    assert driver_runs_cuda(tables, "12.1", os="linux", driver_version=None).ok is None


# ---------------------------------------------------------------- torch versions


@pytest.mark.parametrize(
    ("text", "release", "kind", "variant"),
    [
        ("2.1.0+cu121", "2.1", "cuda", "cu121"),
        ("2.0.1+cu117", "2.0", "cuda", "cu117"),
        ("2.11.0+cpu", "2.11", "cpu", None),
        ("2.2.2", "2.2", "untagged", None),
        ("1.5.0", "1.5", "untagged", None),
        ("2.5.1+rocm6.2", "2.5", "rocm", None),
        ("2.0.0a0+ec3941ad.nv23.02", "2.0", "nvidia", None),
        ("2.1.0a0+git7bcf7da", "2.1", "other", None),
    ],
)
def test_parse_torch_version(text: str, release: str, kind: str, variant: str | None) -> None:
    build = parse_torch_version(text)
    assert build is not None
    assert (build.release, build.kind, build.variant) == (release, kind, variant)


def test_parse_torch_version_rejects_junk() -> None:
    assert parse_torch_version("Could not collect") is None
    assert parse_torch_version(None) is None


def test_resolve_variant_of_untagged_wheels(tables: cx.CompatTables) -> None:
    pypi = parse_torch_version("2.2.2")
    assert pypi is not None
    win = resolve_variant(tables, pypi, "windows", None)
    assert win is not None and win.variant == "cpu" and win.inferred
    linux = resolve_variant(tables, pypi, "linux-x86_64", "12.1")
    assert linux is not None and linux.variant == "cu121"
    # torch.version.cuda differs from the PyPI default: a conda/source build, arch list unknown
    assert resolve_variant(tables, pypi, "linux-x86_64", "11.8") is None
    old = parse_torch_version("0.4.1")
    assert old is not None and resolve_variant(tables, old, "linux-x86_64", "9.0") is None
    pypi_15 = parse_torch_version("1.5.0")
    assert pypi_15 is not None
    got = resolve_variant(tables, pypi_15, "linux-x86_64", "10.2")
    assert got is not None and got.variant == "cu102"


def test_variant_cuda_and_back() -> None:
    assert variant_cuda("cu102") == Version("10.2")
    assert variant_cuda("cu130") == Version("13.0")
    assert variant_cuda("cpu") is None
    assert cuda_variant("12.8") == "cu128"


def test_platform_of() -> None:
    assert platform_of("Linux", "x86_64") == "linux-x86_64"
    assert platform_of("Linux", "aarch64") == "linux-aarch64"
    assert platform_of("Windows", "AMD64") == "windows"
    assert platform_of("Darwin", "arm64") == "macos"
    assert platform_of(None, "x86_64") is None


# ---------------------------------------------------------------- binary compatibility


def _runs(
    tables: cx.CompatTables, release: str, variant: str, cc: CC, platform: Platform = "linux-x86_64"
) -> str:
    entry = arch_list_for(tables, release, variant, platform)
    assert entry is not None, (release, variant, platform)
    return runs_on(tables, entry.arch_list, cc)


@pytest.mark.parametrize(
    ("release", "variant", "cc", "verdict"),
    [
        ("2.11", "cu128", (7, 0), "none"),  # V100 on 2.11 cu128: Volta dropped (compat.md §3.2)
        ("2.10", "cu128", (7, 0), "sass"),
        ("2.0", "cu117", (9, 0), "none"),  # H100 on 2.0.1+cu117 (dump 02)
        ("2.0", "cu118", (9, 0), "sass"),  # fixed by cu118
        ("2.6", "cu126", (12, 0), "none"),  # RTX 5090 on cu126
        ("2.7", "cu128", (12, 0), "sass"),
        ("2.9", "cu130", (12, 1), "sass"),  # GB10 runs sm_120 cubins
        ("2.9", "cu130", (10, 3), "sass"),  # B300 runs sm_100 cubins
        ("2.5", "cu124", (8, 9), "sass"),  # Ada through sm_86
        ("2.9", "cu130", (6, 1), "none"),  # GTX 10xx on cu13x
        ("2.14", "cu126", (6, 1), "sass"),  # Pascal consumer runs the sm_60 cubin
        ("2.5", "cu121", (3, 7), "none"),  # K80: cu12x never had sm_37
        ("2.5", "cu118", (3, 7), "sass"),
    ],
)
def test_runs_on_linux_wheels(
    tables: cx.CompatTables, release: str, variant: str, cc: CC, verdict: str
) -> None:
    assert _runs(tables, release, variant, cc) == verdict


def test_windows_cu11x_wheels_reach_new_gpus_through_compute_37_ptx(tables: cx.CompatTables) -> None:
    assert _runs(tables, "2.0", "cu117", (9, 0), "windows") == "ptx"


def test_jetson_orin_is_an_island(tables: cx.CompatTables) -> None:
    # Desktop/SBSA 8.0 cubins do not run on Orin (8.7); compute_120 PTX cannot JIT down to 8.7.
    assert _runs(tables, "2.11", "cu130", (8, 7), "linux-aarch64") == "none"
    assert runs_on(tables, ["sm_87"], (8, 7)) == "sass"
    assert runs_on(tables, ["sm_87"], (8, 9)) == "none"
    assert runs_on(tables, ["compute_80"], (8, 7)) == "ptx"


def test_thor_and_arch_specific_targets(tables: cx.CompatTables) -> None:
    assert runs_on(tables, ["sm_100"], (10, 1)) == "none"  # the 10.0 interval excludes 10.1
    assert runs_on(tables, ["sm_101"], (11, 0)) == "sass"
    assert runs_on(tables, ["sm_90a"], (9, 0)) == "sass"
    assert runs_on(tables, ["sm_90a"], (10, 0)) == "none"
    assert runs_on(tables, ["sm_86"], (9, 0)) == "none"
    assert runs_on(tables, ["sm_100"], (12, 0)) == "none"
    assert runs_on(tables, ["sm_80", "compute_90"], (10, 0)) == "ptx"


def test_unknown_release_has_no_arch_list(tables: cx.CompatTables) -> None:
    assert arch_list_for(tables, "0.4", "cu90", "linux-x86_64") is None
    assert find_release(tables, "0.4") is None
    assert arch_list_for(tables, "2.8", "cu128", "linux-aarch64") is None  # aarch64 2.6-2.10: a known gap
    assert arch_list_for(tables, "2.15", "cu126", "linux-x86_64") is None  # 2.15 has no cu126


def test_nvcc_targets(tables: cx.CompatTables) -> None:
    assert nvcc_can_target(tables, "13.0", (7, 0)) is False  # CUDA 13 removed Volta
    assert nvcc_can_target(tables, "12.8", (7, 0)) is True
    assert nvcc_can_target(tables, "12.0", (3, 7)) is False
    assert nvcc_can_target(tables, "8.0", (3, 7)) is True
    assert nvcc_can_target(tables, "7.5", (3, 7)) is None  # no row for CUDA 7.5


def test_driver_drops_kepler_after_r470(tables: cx.CompatTables) -> None:
    entry = driver_drops_gpu(tables, (3, 7), "535.104.05")
    assert entry is not None and entry.last_branch == 470 and entry.status == "verified"
    assert driver_drops_gpu(tables, (3, 7), "430.26") is None  # dump 43's K80 driver


@pytest.mark.parametrize("cc", [(5, 2), (6, 0), (6, 1), (7, 0)])
def test_r590_drops_maxwell_pascal_volta(tables: cx.CompatTables, cc: tuple[int, int]) -> None:
    # NVIDIA's deprecation schedule: R580 is the last branch for Maxwell, Pascal, Volta (audit §2 #5).
    entry = driver_drops_gpu(tables, cc, "590.44.01")
    assert entry is not None and entry.last_branch == 580 and entry.status == "verified"
    assert driver_drops_gpu(tables, cc, "580.126.20") is None


@pytest.mark.parametrize("cc", [(5, 3), (6, 2), (7, 2), (7, 5)])
def test_r590_keeps_turing_and_leaves_tegra_alone(tables: cx.CompatTables, cc: tuple[int, int]) -> None:
    assert driver_drops_gpu(tables, cc, "595.71.05") is None


# ---------------------------------------------------------------- best install


def test_best_install_for_a_v100_and_a_b200_together(tables: cx.CompatTables) -> None:
    advice = best_install(tables, [(7, 0), (10, 0)], "linux-x86_64", driver_version="550.54.15")
    assert advice.choice is not None
    assert advice.choice.pip == "pip install torch==2.10.0 --index-url https://download.pytorch.org/whl/cu128"


def test_best_install_respects_the_driver(tables: cx.CompatTables) -> None:
    # RTX 5090 on a 570.26 driver (CUDA 12.8): cu13x needs R580, so 2.11 cu128 is the newest it runs.
    advice = best_install(tables, [(12, 0)], "linux-x86_64", driver_version="570.26")
    assert advice.choice is not None and (advice.choice.release.release, advice.choice.variant) == (
        "2.11",
        "cu128",
    )
    assert advice.newest is not None and advice.newest.cuda >= Version("13.0")


@pytest.mark.parametrize("platform", ["linux-x86_64", "windows"])
@pytest.mark.parametrize("cc", [(5, 2), (6, 1), (7, 0)])
def test_best_install_for_pre_turing_is_the_last_release_with_cu126(
    tables: cx.CompatTables, cc: tuple[int, int], platform: Platform
) -> None:
    # 2.15 dropped cu126, the last variant with Maxwell/Pascal/Volta kernels (RFC pytorch#190385): the
    # advice must be 2.14.x +cu126, never a 2.15 wheel without kernels for the GPU.
    advice = best_install(tables, [cc], platform, driver_version="580.126.20")
    for item in (advice.choice, advice.newest):
        assert item is not None and (item.release.release, item.variant) == ("2.14", "cu126")
        assert item.pip == "pip install torch==2.14.1 --index-url https://download.pytorch.org/whl/cu126"


def test_best_install_for_turing_and_newer_is_2_15(tables: cx.CompatTables) -> None:
    advice = best_install(tables, [(7, 5), (12, 0)], "linux-x86_64", driver_version="580.126.20")
    assert advice.choice is not None
    assert advice.choice.pip == "pip install torch==2.15.0 --index-url https://download.pytorch.org/whl/cu132"


def test_best_install_on_an_old_driver_is_the_newest_old_build_it_runs(tables: cx.CompatTables) -> None:
    # dump 03: P100 on 410.104 (CUDA 10.0): the newest build it runs is 1.7's CUDA 9.2 wheel.
    advice = best_install(tables, [(6, 0)], "linux-x86_64", driver_version="410.104")
    assert advice.choice is not None
    assert (advice.choice.release.release, advice.choice.variant) == ("1.7", "cu92")
    assert advice.newest is not None and advice.newest.release.release == "2.14"


def test_best_install_never_offers_old_ptx_for_a_gpu_its_toolkit_never_knew(tables: cx.CompatTables) -> None:
    # torch 1.4 cu101 carries compute_50 PTX, which JITs for an A100, but CUDA 10.1 and its libraries
    # predate Ampere: a driver that stops at CUDA 10.1 gets no install command for an A100.
    advice = best_install(tables, [(8, 0)], "linux-x86_64", driver_version="418.39")
    assert advice.choice is None


def test_best_install_when_the_driver_runs_nothing(tables: cx.CompatTables) -> None:
    advice = best_install(tables, [(6, 0)], "linux-x86_64", driver_version="352.99")  # CUDA 7.5: no wheel
    assert advice.choice is None
    assert advice.newest is not None and advice.newest.requirement is not None
    assert advice.newest.requirement.driver > Version("410.104")


def test_best_install_when_no_wheel_covers_all_gpus(tables: cx.CompatTables) -> None:
    advice = best_install(tables, [(3, 7), (10, 0)], "linux-x86_64", driver_version="580.65.06")
    assert advice.choice is None and advice.newest is None
    assert "no PyTorch wheel" in advice.note


def test_pip_command_pins_unknown_patches_with_a_star(tables: cx.CompatTables) -> None:
    rel = find_release(tables, "1.12")
    assert rel is not None and rel.latest == "1.12.1"
    assert pip_command(tables, rel, "cu116") == (
        "pip install torch==1.12.1 --index-url https://download.pytorch.org/whl/cu116"
    )
    unknown_patch = rel.model_copy(update={"latest": None})
    assert pip_command(tables, unknown_patch, "cu116") == (
        "pip install torch==1.12.* --index-url https://download.pytorch.org/whl/cu116"
    )


def test_the_shipped_catalog_directory_is_the_one_tested() -> None:
    assert Path(COMPAT_DIR).is_dir()
    assert any(p.name == "torch.yaml" for p in COMPAT_DIR.iterdir())


def test_release_dates_and_patches_are_ordered(tables: cx.CompatTables) -> None:
    rels = sorted(tables.torch_releases.entries, key=lambda r: Version(r.release))
    assert [r.date for r in rels] == sorted(r.date for r in rels)
    for a, b in itertools.pairwise(rels):
        if a.latest and b.latest:
            assert Version(a.latest) < Version(b.latest)


def test_every_compat_entry_field_is_documented() -> None:
    readme = (REPO / "catalog" / "README.md").read_text()
    section = readme[readme.index("## Compatibility tables") :]
    models = [
        cx.ToolkitDriver,
        cx.CudaFamily,
        cx.DriverBranch,
        cx.NvccTargets,
        cx.CcIsland,
        cx.DriverGpuSupport,
        cx.TorchRelease,
        cx.TorchIndex,
        cx.TorchArchList,
    ]
    missing = [f"{m.__name__}.{f}" for m in models for f in m.model_fields if f"`{f}`" not in section]
    assert not missing


def test_user_entries_come_first_and_win(tables: cx.CompatTables) -> None:
    mine = cx.DriverBranch(branch=565, max_cuda="12.8", status="verified", source="my own nvidia-smi")
    merged = tables.model_copy(
        update={
            "driver_branches": tables.driver_branches.model_copy(
                update={"entries": [mine, *tables.driver_branches.entries]}
            )
        }
    )
    got = driver_max_cuda(merged, "565.57.01")
    assert got is not None and got.cuda == Version("12.8") and got.status == "verified"
