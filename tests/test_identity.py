"""The identity table of every NVIDIA GPU (catalog/identity/, advisor.knowledge.identity).

Expected facts come from NVIDIA's recorded lists (tests/data/sources/identity/), the spec catalog and real
dumps, never from the code under test: the build is checked to reproduce the committed files, the spec
catalog's 52 cards must resolve the same through identity, and names seen in real dumps must resolve.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from advisor.knowledge.base import Knowledge
from advisor.knowledge.identity import load_identity, lookup, name_key
from advisor.knowledge.loader import load_knowledge
from advisor.machine import GPU, DriverInfo, HostInfo, Machine, PciDevice
from advisor.report import Finding
from advisor.rules.software import check_software
from advisor.units import parse_cc

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def knowledge() -> Knowledge:
    return load_knowledge()


def _build_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_identity", ROOT / "scripts" / "build_identity.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_identity"] = module
    spec.loader.exec_module(module)
    return module


def test_the_build_reproduces_the_committed_tables_byte_for_byte() -> None:
    build = _build_script()
    files = build.outputs()
    assert len(files) >= 11  # Tesla … Blackwell
    folder = ROOT / "catalog" / "identity"
    committed = sorted([*folder.glob("gpus-*.yaml"), folder / "index.json"])
    assert sorted(files) == committed
    for path, text in files.items():
        assert path.read_text(encoding="utf-8") == text, f"{path.name}: run scripts/build_identity.py"


def test_sources_are_recorded_with_url_and_date() -> None:
    sources = (ROOT / "tests" / "data" / "sources" / "identity" / "SOURCES").read_text(encoding="utf-8")
    for name in ("nvidia-550.163.01-readme-appendix-a.txt", "pci.ids-10de.txt", "cuda-gpus-excerpt.txt"):
        assert name in sources
    assert "https://pci-ids.ucw.cz/" in sources and "https://developer.nvidia.com/cuda-gpus" in sources
    assert "2026-" in sources


def test_every_spec_card_resolves_the_same_through_identity(knowledge: Knowledge) -> None:
    """Each PCI id and NVML name of the 52-card catalog gives the card's architecture and CC."""
    checked = 0
    for card in knowledge.cards:
        if card.vendor != "nvidia":
            continue
        for pci in card.pci_device_ids:
            ident = lookup(pci_device_id=pci)
            assert ident is not None, f"{card.id}: {pci}"
            # (the die may differ per board: RTX 3060 0x2487 is a GA104, the card's usual die is GA106)
            assert (ident.architecture, ident.compute_capability) == (
                card.architecture,
                card.compute_capability,
            )
            checked += 1
        for name in card.nvml_names:
            ident = lookup(name=name)
            assert ident is not None, f"{card.id}: {name}"
            assert ident.architecture == card.architecture, name
            assert ident.compute_capability == card.compute_capability, name
            checked += 1
    assert checked > 100


@pytest.mark.parametrize(
    ("name", "architecture", "cc", "last_branch"),
    [
        # fixtures 09, 11/49 (A100-SXM-64GB), 43 (K80), 03 (P100), 42 (V100 SXM3), 29 (Jetson Orin)
        ("NVIDIA GeForce RTX 4080 Laptop GPU", "Ada Lovelace", "8.9", None),
        ("NVIDIA A100-SXM-64GB", "Ampere", "8.0", None),
        ("Tesla K80", "Kepler", "3.7", "470"),
        ("Tesla P100-PCIE-16GB", "Pascal", "6.0", "580"),
        ("Tesla V100-SXM3-32GB", "Volta", "7.0", "580"),
        ("Orin (nvgpu)", "Ampere", "8.7", None),
        ("Orin", "Ampere", "8.7", None),
        ("NVIDIA Tegra X1", "Maxwell", "5.3", None),
        ("Xavier", "Volta", "7.2", None),
        # NVIDIA README names
        ("GeForce GTX 680", "Kepler", "3.0", "470"),
        ("NVIDIA GeForce GTX 680", "Kepler", "3.0", "470"),
        ("Quadro K2200", "Maxwell", "5.0", "580"),
        ("NVIDIA GeForce GTX 1080 Ti", "Pascal", "6.1", "580"),
        ("NVIDIA TITAN V", "Volta", "7.0", "580"),
        ("GeForce GTX 480", "Fermi", "2.0", "390"),
        ("GeForce 8800 GTX", "Tesla", "1.0", "340"),
        ("GRID K2", "Kepler", "3.0", "367"),
        # China SKUs and data-centre parts
        ("NVIDIA GeForce RTX 4090 D", "Ada Lovelace", "8.9", None),
        ("NVIDIA H20", "Hopper", "9.0", None),
        ("NVIDIA H800", "Hopper", "9.0", None),
        ("NVIDIA A800 80GB PCIe", "Ampere", "8.0", None),
        ("NVIDIA L20", "Ada Lovelace", "8.9", None),
        ("NVIDIA B200", "Blackwell", "10.0", None),
        ("NVIDIA GeForce RTX 5090", "Blackwell", "12.0", None),
        ("NVIDIA GeForce RTX 5090 Laptop GPU", "Blackwell", "12.0", None),
        # laptop spellings across driver generations
        ("GeForce RTX 2080 with Max-Q Design", "Turing", "7.5", None),
        ("NVIDIA GeForce GTX 1060 with Max-Q Design", "Pascal", "6.1", "580"),
        ("GeForce GTX 980M", "Maxwell", "5.2", "580"),
    ],
)
def test_real_names_resolve(name: str, architecture: str, cc: str, last_branch: str | None) -> None:
    ident = lookup(name=name)
    assert ident is not None, name
    assert (ident.architecture, ident.compute_capability, ident.last_branch) == (
        architecture,
        cc,
        last_branch,
    )


def test_pci_ids_resolve_in_every_spelling() -> None:
    for value in (0x1B06, "0x1b06", "1B06", 0x1B0610DE):
        ident = lookup(pci_device_id=value)
        assert ident is not None and ident.chip == "GP102" and ident.last_branch == "580"
    assert lookup(pci_device_id=0x1B061002) is None  # another vendor's device 0x1b06
    assert lookup(pci_device_id="not hex") is None


def test_lspci_lines_resolve_by_bracket_name_or_die() -> None:
    ident = lookup(
        name="01:00.0 VGA compatible controller: NVIDIA Corporation GA102 [GeForce RTX 3090] (rev a1)"
    )
    assert ident is not None and (ident.chip, ident.compute_capability) == ("GA102", "8.6")
    # A product pci.ids does not name yet: the die still gives architecture and CC.
    ident = lookup(name="NVIDIA Corporation AD104 [Some Future Board]")
    assert ident is not None and (ident.architecture, ident.compute_capability) == ("Ada Lovelace", "8.9")


def test_a_name_shared_by_different_dies_keeps_only_common_facts() -> None:
    """GeForce GT 730 is a Kepler GK208 and a Fermi GF108 board (NVIDIA README: 470.xx and 390.xx lists)."""
    ident = lookup(name="NVIDIA GeForce GT 730")
    assert ident is not None and ident.ambiguous
    assert ident.compute_capability is None and ident.architecture is None


def test_nvidia_names_win_over_names_only_pci_ids_gives() -> None:
    """pci.ids also lists a Kepler "GeForce GT 1030" (0x0fc5); NVIDIA's README knows only the Pascal one."""
    ident = lookup(name="NVIDIA GeForce GT 1030")
    assert ident is not None and (ident.chip, ident.compute_capability) == ("GP108", "6.1")
    kepler = lookup(pci_device_id=0x0FC5)
    assert kepler is not None and kepler.compute_capability == "3.0"  # the id still decides
    assert lookup(name="NVIDIA GeForce") is None  # README's "NVIDIA GeForce GPU" names nothing


def test_unknown_and_cut_names_stay_unknown() -> None:
    assert lookup(name="NVIDIA Graphics Device") is None
    assert lookup(name="NVIDIA GeForce ...") is None  # cut: every GeForce shares nothing
    assert lookup(name="") is None and lookup() is None


@pytest.mark.parametrize(
    ("name", "architecture", "cc"),
    [
        ("Tesla V100-SXM2...", "Volta", "7.0"),  # nvidia-smi's table cut the name (real pastes)
        ("NVIDIA GeForce RTX 4090...", "Ada Lovelace", "8.9"),
        ("NVIDIA L40S-48C", "Ada Lovelace", "8.9"),  # vGPU guests name the profile after the GPU
        ("GRID T4-16Q", "Turing", "7.5"),
        ("NVIDIA A100-4C", "Ampere", "8.0"),
    ],
)
def test_cut_and_vgpu_names_keep_what_their_gpus_share(name: str, architecture: str, cc: str) -> None:
    ident = lookup(name=name)
    assert ident is not None and (ident.architecture, ident.compute_capability) == (architecture, cc)


def test_laptop_parts_never_equal_the_desktop_card() -> None:
    assert name_key("NVIDIA GeForce RTX 4080 Laptop GPU") == name_key("GeForce RTX 4080 Max-Q")
    assert name_key("NVIDIA GeForce RTX 4080 Laptop GPU") != name_key("NVIDIA GeForce RTX 4080")
    desktop, laptop = lookup(name="NVIDIA GeForce RTX 4080"), lookup(name="RTX 4080 Laptop GPU")
    assert desktop is not None and laptop is not None and desktop.chip == "AD103" and laptop.chip != "AD103"


def test_identity_agrees_with_the_compat_tables_architecture_rows(knowledge: Knowledge) -> None:
    """driver_gpu_support (catalog/compat/gpu-code.yaml) gives an architecture's newest branch: identity's
    GPUs of that architecture end there (a few boards earlier: GRID K1/K2/K340 end with 367.xx)."""
    table = load_identity()
    for row in knowledge.compat.driver_gpu_support.entries:
        low, high = parse_cc(row.cc_min), parse_cc(row.cc_max)
        assert low is not None and high is not None
        arch = row.architecture.split(" (")[0]  # "Tesla (G80-GT200)" names the Tesla architecture
        branches = set()
        for e in table.entries:
            cc = parse_cc(e.compute_capability)
            if cc is None or e.integrated or not low <= cc <= high or e.architecture != arch:
                continue
            branches.add(e.last_branch_major)
        assert branches and max(b or 10_000 for b in branches) == row.last_branch, row.architecture


def test_counts_cover_every_architecture_geforce_8_onwards() -> None:
    table = load_identity()
    by_arch: dict[str | None, int] = {}
    for e in table.entries:
        by_arch[e.architecture] = by_arch.get(e.architecture, 0) + 1
    for arch in (
        "Tesla",
        "Fermi",
        "Kepler",
        "Maxwell",
        "Pascal",
        "Volta",
        "Turing",
        "Ampere",
        "Ada Lovelace",
    ):
        assert by_arch.get(arch, 0) >= 20, arch
    assert by_arch.get("Hopper", 0) >= 10 and by_arch.get("Blackwell", 0) >= 20
    assert len(table.by_pci) > 1000


@settings(max_examples=200, deadline=None)
@given(
    st.text(max_size=120),
    st.one_of(st.none(), st.integers(min_value=-5, max_value=2**40), st.text(max_size=12)),
)
def test_lookup_never_raises(name: str, pci: int | str | None) -> None:
    lookup(name=name, pci_device_id=pci)


# --- unknown-gpu with identity --------------------------------------------------------------------------


def _unknown(knowledge: Knowledge, gpu: GPU) -> list[Finding]:
    machine = Machine(host=HostInfo(os="Linux"), driver=DriverInfo(version="470.256.02"), gpus=[gpu])
    return [f for f in check_software(machine, knowledge) if f.code == "unknown-gpu"]


def test_a_gpu_without_a_spec_card_is_not_unknown(knowledge: Knowledge) -> None:
    assert _unknown(knowledge, GPU(index=0, name="NVIDIA L20")) == []
    assert _unknown(knowledge, GPU(index=0, name="Quadro K2200")) == []


def test_a_name_two_dies_share_says_what_decides(knowledge: Knowledge) -> None:
    (f,) = _unknown(knowledge, GPU(index=0, name="NVIDIA GeForce GT 730"))
    assert "several GPUs share this name" in f.title and "Kepler" in f.detail and "Fermi" in f.detail
    # The source's own CC settles it (voice-changer#447: "GeForce GT 720 which is of cuda capability 3.5").
    assert _unknown(knowledge, GPU(index=0, name="GeForce GT 720", compute_capability="3.5")) == []


def test_a_truly_unknown_name_is_still_reported(knowledge: Knowledge) -> None:
    (f,) = _unknown(knowledge, GPU(index=0, name="NVIDIA Graphics Device"))
    assert "unknown GPU" in f.title and "lspci -nn" in (f.fix or "")


def test_a_cut_name_is_identified_by_the_bus_listing(knowledge: Knowledge) -> None:
    """gpufetch#51: nvidia-smi shows "NVIDIA GeForce ..." at 00000000:02:00.0; `lspci -nn` shows
    02:00.0 ... [10de:128b] (a GeForce GT 710, Kepler GK208) — the same GPU."""
    bus = [PciDevice(address="0000:02:00.0", vendor_id=0x10DE, device_id=0x128B, class_code=0x030000)]
    machine = Machine(
        host=HostInfo(os="Linux"),
        driver=DriverInfo(version="470.239.06", pci_devices=bus),
        gpus=[GPU(index=0, name="NVIDIA GeForce ...", pci_bus_id="00000000:02:00.0")],
    )
    findings = check_software(machine, knowledge)
    assert not [f for f in findings if f.code in ("unknown-gpu", "driver-drops-gpu")]
    elsewhere = machine.model_copy(update={"driver": DriverInfo(version="470.239.06", pci_devices=[])})
    assert [f.code for f in check_software(elsewhere, knowledge) if f.code == "unknown-gpu"] == [
        "unknown-gpu"
    ]
