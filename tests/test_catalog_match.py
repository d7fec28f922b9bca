"""Matching probed GPUs to cards, on the NVML names and PCI ids recorded in shared/reference/card-specs.md.

The expected pairs below are written from the reference text (its Table 1 PCI ids and its NVML-name
table), not from what the matcher returns.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from advisor.knowledge.cards import Card
from advisor.knowledge.loader import load_cards
from advisor.knowledge.match import match_gpu, match_name, name_tokens
from advisor.machine import GPU
from tests.conftest import REPO


@pytest.fixture(scope="module", autouse=True)
def _private_parse_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep the on-disk parse cache of these tests out of the user's ~/.cache."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ADVISOR_CACHE_DIR", str(tmp_path_factory.mktemp("parse-cache")))
        yield


GIB = 2**30


@pytest.fixture(scope="module")
def cards() -> tuple[Card, ...]:
    return load_cards([REPO / "catalog"])


# (NVML / nvidia-smi / torch name, reported memory in GiB or None, expected card id or None)
NAMES = [
    ("Tesla P100-PCIE-16GB", None, "tesla-p100-pcie-16gb"),
    ("Tesla V100-PCIE-16GB", None, "tesla-v100-pcie-16gb"),
    ("Tesla V100-PCIE-32GB", None, "tesla-v100-pcie-32gb"),
    ("Tesla V100-SXM2-16GB", None, "tesla-v100-sxm2-16gb"),
    ("Tesla V100-SXM2-32GB", None, "tesla-v100-sxm2-32gb"),
    ("TITAN V", None, "titan-v"),
    ("NVIDIA TITAN V", None, "titan-v"),
    ("TITAN RTX", None, "titan-rtx"),
    ("NVIDIA TITAN RTX", None, "titan-rtx"),
    ("Quadro RTX 8000", None, "quadro-rtx-8000"),
    ("Tesla T4", None, "tesla-t4"),
    ("GeForce RTX 2080 Ti", None, "rtx-2080-ti"),
    ("NVIDIA GeForce RTX 2080 Ti", None, "rtx-2080-ti"),
    ("NVIDIA GeForce RTX 3060", 12, "rtx-3060-12gb"),
    ("NVIDIA GeForce RTX 3060", 8, "rtx-3060-8gb"),
    ("NVIDIA GeForce RTX 3060", None, None),  # one name, two SKUs, no memory: no guess
    ("NVIDIA GeForce RTX 3080", 10, "rtx-3080-10gb"),
    ("NVIDIA GeForce RTX 3080", 12, "rtx-3080-12gb"),
    ("NVIDIA GeForce RTX 3090", None, "rtx-3090"),
    ("NVIDIA GeForce RTX 3090 Ti", None, "rtx-3090-ti"),
    ("NVIDIA A10", None, "a10"),
    ("NVIDIA A10G", None, "a10g"),
    ("NVIDIA A30", None, "a30"),
    ("NVIDIA A40", None, "a40"),
    ("NVIDIA A100-PCIE-40GB", None, "a100-pcie-40gb"),
    ("NVIDIA A100 80GB PCIe", None, "a100-pcie-80gb"),
    ("NVIDIA A100-SXM4-40GB", None, "a100-sxm4-40gb"),
    ("A100-SXM4-40GB", None, "a100-sxm4-40gb"),  # early drivers, no prefix
    ("NVIDIA A100-SXM4-80GB", None, "a100-sxm4-80gb"),
    ("NVIDIA RTX A6000", None, "rtx-a6000"),
    ("NVIDIA GeForce RTX 4060 Ti", 16, "rtx-4060-ti-16gb"),
    ("NVIDIA GeForce RTX 4060 Ti", 8, "rtx-4060-ti-8gb"),
    ("NVIDIA GeForce RTX 4080", None, "rtx-4080"),
    ("NVIDIA GeForce RTX 4090", None, "rtx-4090"),
    ("NVIDIA RTX 6000 Ada Generation", None, "rtx-6000-ada"),
    ("NVIDIA L4", None, "l4"),
    ("NVIDIA L40S", None, "l40s"),
    ("NVIDIA H100 PCIe", None, "h100-pcie"),
    ("NVIDIA H100 80GB HBM3", None, "h100-sxm5-80gb"),
    ("NVIDIA H100 NVL", None, "h100-nvl"),
    ("NVIDIA H100", None, "h100-sxm5-94gb"),  # the bare name is the 94 GB SXM5, not the 80 GB one
    ("NVIDIA H200", None, "h200-sxm"),
    ("NVIDIA H200 NVL", None, None),  # a different card, not described
    ("NVIDIA B200", None, "b200"),
    ("NVIDIA GeForce RTX 5090", None, "rtx-5090"),
    ("NVIDIA RTX PRO 6000 Blackwell Workstation Edition", None, "rtx-pro-6000-blackwell"),
    ("NVIDIA RTX PRO 6000 Blackwell Max-Q Workstation Edition", None, "rtx-pro-6000-blackwell-max-q"),
    ("NVIDIA RTX PRO 6000 Blackwell Server Edition", None, "rtx-pro-6000-blackwell-server"),
    ("GeForce GTX 1080 Ti", None, "gtx-1080-ti"),
    ("NVIDIA GeForce GTX 1080 Ti", None, "gtx-1080-ti"),
    ("AMD Instinct MI250X/MI250", 64, "mi250x-gcd"),
    ("AMD Instinct MI300X OAM", None, "mi300x"),
    ("AMD Instinct MI300X", None, "mi300x"),
    ("AMD Radeon Graphics", None, None),  # generic ROCm name: no guess
    # names the real fixtures show
    ("Tesla K80", 11441 / 1024, "tesla-k80"),
    ("GeForce GTX 1070", 8112 / 1024, "gtx-1070"),
    ("Tesla V100-SXM3-32GB", 32, "tesla-v100-sxm3-32gb"),
    ("NVIDIA GeForce RTX 2080", 8, "rtx-2080"),
    ("NVIDIA RTX A5000", 24, "rtx-a5000"),
    ("NVIDIA A100-SXM-64GB", None, None),  # fixture 11: no source describes it
    ("NVIDIA GeForce RTX 4080 Laptop GPU", None, None),  # fixture 09: a laptop part is another card
]


@pytest.mark.parametrize(("name", "memory_gib", "expected"), NAMES)
def test_match_by_name(
    cards: tuple[Card, ...], name: str, memory_gib: float | None, expected: str | None
) -> None:
    memory = int(memory_gib * GIB) if memory_gib else None
    found = match_name(name, cards, memory_total_bytes=memory)
    assert (found.id if found else None) == expected


@pytest.mark.parametrize(
    "variant",
    [
        "nvidia geforce rtx 3090",
        "  NVIDIA  GeForce RTX 3090 ",
        "GeForce RTX 3090",
        "RTX 3090",
        "NVIDIA RTX-3090",
    ],
)
def test_name_match_tolerates_case_spacing_and_brand_words(cards: tuple[Card, ...], variant: str) -> None:
    found = match_name(variant, cards)
    assert found is not None and found.id == "rtx-3090"


@pytest.mark.parametrize(
    "name",
    ["NVIDIA GeForce RTX 3090 Ti", "NVIDIA GeForce RTX 4080 Laptop GPU", "NVIDIA GeForce RTX 4080 SUPER"],
)
def test_tolerant_match_never_drops_a_distinguishing_word(cards: tuple[Card, ...], name: str) -> None:
    found = match_name(name, cards)
    assert found is None or found.id not in ("rtx-3090", "rtx-4080")


# (PCI device id, expected card id or None), from card-specs.md Table 1 and the fixtures.
PCI_IDS = [
    (0x15F8, "tesla-p100-pcie-16gb"), (0x15F7, None), (0x15F9, None),
    (0x1DB4, "tesla-v100-pcie-16gb"), (0x1DB3, None), (0x1DB6, "tesla-v100-pcie-32gb"), (0x1DF6, None),
    (0x1DB1, "tesla-v100-sxm2-16gb"), (0x1DF5, "tesla-v100-sxm2-16gb"), (0x1DB5, "tesla-v100-sxm2-32gb"),
    (0x1D81, "titan-v"), (0x1E02, "titan-rtx"),
    (0x1E30, None), (0x1E78, None),  # shared by Quadro RTX 6000 and 8000: only the subsystem id tells
    (0x1EB8, "tesla-t4"), (0x1E04, "rtx-2080-ti"), (0x1E07, "rtx-2080-ti"),
    (0x2503, "rtx-3060-12gb"), (0x2504, "rtx-3060-12gb"), (0x2544, "rtx-3060-12gb"),
    (0x2487, "rtx-3060-12gb"),
    (0x2509, "rtx-3060-12gb"), (0x24C7, "rtx-3060-8gb"),
    (0x2206, "rtx-3080-10gb"), (0x2216, "rtx-3080-10gb"), (0x220A, "rtx-3080-12gb"),
    (0x2204, "rtx-3090"), (0x2203, "rtx-3090-ti"), (0x2236, "a10"), (0x2237, "a10g"), (0x20B7, "a30"),
    (0x2235, "a40"), (0x20F1, "a100-pcie-40gb"), (0x20B1, "a100-pcie-40gb"), (0x20B5, "a100-pcie-80gb"),
    (0x20B0, "a100-sxm4-40gb"), (0x20B2, "a100-sxm4-80gb"), (0x2230, "rtx-a6000"),
    (0x2805, "rtx-4060-ti-16gb"), (0x2803, "rtx-4060-ti-8gb"), (0x2788, "rtx-4060-ti-8gb"),
    (0x2704, "rtx-4080"), (0x2702, None), (0x2703, None), (0x2684, "rtx-4090"), (0x2685, None),
    (0x26B1, "rtx-6000-ada"), (0x27B8, "l4"), (0x26B9, "l40s"), (0x2331, "h100-pcie"),
    (0x2330, "h100-sxm5-80gb"), (0x2337, None), (0x2338, None), (0x2339, "h100-sxm5-94gb"),
    (0x2321, "h100-nvl"), (0x2335, "h200-sxm"), (0x233B, None), (0x2901, "b200"), (0x2909, None),
    (0x2B85, "rtx-5090"), (0x2B87, None), (0x2B8C, None),
    (0x2BB1, "rtx-pro-6000-blackwell"), (0x2BB4, "rtx-pro-6000-blackwell-max-q"),
    (0x2BB5, "rtx-pro-6000-blackwell-server"), (0x1B06, "gtx-1080-ti"), (0x1B01, None),
    # fixtures
    (0x102D, "tesla-k80"), (0x1B81, "gtx-1070"), (0x1DB8, "tesla-v100-sxm3-32gb"), (0x1E87, "rtx-2080"),
    (0x2231, "rtx-a5000"),
]  # fmt: skip


@pytest.mark.parametrize(("pci", "expected"), PCI_IDS)
def test_match_by_pci_device_id(cards: tuple[Card, ...], pci: int, expected: str | None) -> None:
    found = match_gpu(GPU(index=0, pci_device_id=pci), cards)
    assert (found.id if found else None) == expected


@pytest.mark.parametrize(
    ("pci", "expected"), [(0x740C, "mi250x-gcd"), (0x7408, "mi250x-gcd"), (0x74A1, "mi300x")]
)
def test_match_amd_pci_ids_only_for_amd_gpus(cards: tuple[Card, ...], pci: int, expected: str) -> None:
    found = match_gpu(GPU(index=0, vendor="amd", pci_device_id=pci), cards)
    assert found is not None and found.id == expected
    assert match_gpu(GPU(index=0, vendor="nvidia", pci_device_id=pci), cards) is None


def test_nvml_long_pci_form_carries_the_vendor(cards: tuple[Card, ...]) -> None:
    # nvidia-smi --query-gpu=pci.device_id prints 0x232110DE for an H100 NVL (card-specs.md).
    found = match_name(None, cards, pci_device_id="0x232110DE")
    assert found is not None and found.id == "h100-nvl"


def test_pci_id_wins_over_name(cards: tuple[Card, ...]) -> None:
    gpu = GPU(index=0, name="NVIDIA GeForce RTX 3060", pci_device_id=0x24C7, memory_total_bytes=None)
    found = match_gpu(gpu, cards)
    assert found is not None and found.id == "rtx-3060-8gb"


def test_unknown_pci_id_falls_back_to_the_name(cards: tuple[Card, ...]) -> None:
    gpu = GPU(index=0, name="NVIDIA GeForce RTX 3090", pci_device_id=0xFFFE)
    found = match_gpu(gpu, cards)
    assert found is not None and found.id == "rtx-3090"


def test_gpu_without_name_or_pci_id_is_unknown(cards: tuple[Card, ...]) -> None:
    assert match_gpu(GPU(index=0), cards) is None
    assert match_name("   ", cards) is None


def test_memory_far_from_every_sku_gives_no_match(cards: tuple[Card, ...]) -> None:
    assert match_name("NVIDIA GeForce RTX 3060", cards, memory_total_bytes=4 * GIB) is None


def test_name_tokens_join_memory_and_drop_brand_words() -> None:
    assert name_tokens("NVIDIA A100 80 GB PCIe") == frozenset({"a100", "80gb", "pcie"})
    assert name_tokens("Tesla V100-SXM2-16GB") == frozenset({"v100", "sxm2", "16gb"})
