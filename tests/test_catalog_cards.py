"""The shipped card catalog: it validates, ids are unique, and it holds the cards the reference describes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from advisor.knowledge.cards import Card
from advisor.knowledge.loader import load_cards, shipped_catalog_dir
from tests.conftest import REPO


@pytest.fixture(scope="module", autouse=True)
def _private_parse_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep the on-disk parse cache of these tests out of the user's ~/.cache."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ADVISOR_CACHE_DIR", str(tmp_path_factory.mktemp("parse-cache")))
        yield


CATALOG = REPO / "catalog"


@pytest.fixture(scope="module")
def cards() -> tuple[Card, ...]:
    return load_cards([CATALOG])


def test_shipped_catalog_dir_is_the_repo_catalog_in_a_checkout() -> None:
    assert shipped_catalog_dir().resolve() == CATALOG.resolve()


def test_every_card_file_is_split_by_vendor_or_segment() -> None:
    names = sorted(p.name for p in (CATALOG / "cards").glob("*.yaml"))
    assert names == [
        "amd.yaml",
        "embedded.yaml",
        "nvidia-consumer.yaml",
        "nvidia-datacenter.yaml",
        "nvidia-workstation.yaml",
    ]


def test_at_least_forty_cards_with_unique_ids(cards: tuple[Card, ...]) -> None:
    ids = [c.id for c in cards]
    assert len(ids) >= 40
    assert len(set(ids)) == len(ids)


# Cards the issue names explicitly, and the ones the real fixtures show.
REQUIRED = [
    "tesla-v100-pcie-16gb", "tesla-v100-pcie-32gb", "tesla-v100-sxm2-16gb", "tesla-v100-sxm2-32gb",
    "titan-rtx", "rtx-3090", "tesla-p100-pcie-16gb", "tesla-t4", "rtx-2080-ti",
    "a100-pcie-40gb", "a100-pcie-80gb", "a100-sxm4-40gb", "a100-sxm4-80gb", "a10", "a10g", "l4", "l40s",
    "rtx-4090", "h100-pcie", "h100-sxm5-80gb", "h100-nvl", "h200-sxm", "b200", "rtx-5090", "mi300x",
    # from the fixtures
    "tesla-k80", "gtx-1070", "titan-v", "jetson-agx-orin-64gb", "rtx-2080", "rtx-a5000",
    "rtx-pro-6000-blackwell-max-q", "a40", "tesla-v100-sxm3-32gb",
]  # fmt: skip


@pytest.mark.parametrize("card_id", REQUIRED)
def test_required_card_present(cards: tuple[Card, ...], card_id: str) -> None:
    assert card_id in {c.id for c in cards}


def by_id(cards: tuple[Card, ...], card_id: str) -> Card:
    return next(c for c in cards if c.id == card_id)


# Figures straight from shared/reference/card-specs.md tables 1-3 (dense; GeForce FP32-accumulate rates).
SPEC_FACTS = [
    ("tesla-v100-sxm2-32gb", "tflops.fp16", 125), ("tesla-v100-pcie-16gb", "tflops.fp16", 112),
    ("tesla-v100-sxm2-16gb", "memory_bandwidth_gbs", 900), ("titan-rtx", "tflops.fp16", 130.5),
    ("titan-rtx", "compute_capability", "7.5"), ("rtx-3090", "tflops.bf16", 71),
    ("rtx-3090", "tflops.fp16_fp16acc", 142), ("rtx-3090", "memory_bandwidth_gbs", 936),
    ("rtx-2080-ti", "tflops.fp16", 53.8), ("rtx-4090", "tflops.fp8", 330.3),
    ("a100-sxm4-80gb", "memory_bandwidth_gbs", 2039), ("a100-pcie-80gb", "memory_bandwidth_gbs", 1935),
    ("h100-sxm5-80gb", "tflops.bf16", 989.4), ("h100-nvl", "tflops.bf16", 835.5),
    ("b200", "tflops.bf16", 2250),
    ("mi300x", "tflops.bf16", 1307.4), ("mi300x", "gfx_arch", "gfx942"), ("l4", "tdp_watts", 72),
    ("rtx-5090", "compute_capability", "12.0"), ("tesla-p100-pcie-16gb", "tflops.fp16", None),
    ("tesla-v100-sxm2-32gb", "tflops.bf16", None), ("rtx-3090", "launch_price_usd", 1499),
    # audit-2026-12 §2: HGX B200 column, NVIDIA 150 W, total board power, one AMD FP32 convention
    ("b200", "tflops.fp32", 75), ("b200", "tflops.tf32", 1100), ("b200", "memory_bandwidth_gbs", 7700),
    ("gtx-1070", "tdp_watts", 150), ("quadro-rtx-8000", "tdp_watts", 295), ("mi300x", "tflops.fp32", 81.7),
    ("mi250x", "tflops.fp32", 47.9), ("rtx-2080", "pci_device_ids", ["0x1e82", "0x1e87"]),
]  # fmt: skip


@pytest.mark.parametrize(("card_id", "path", "expected"), SPEC_FACTS)
def test_spec_fact(cards: tuple[Card, ...], card_id: str, path: str, expected: object) -> None:
    value: object = by_id(cards, card_id)
    for part in path.split("."):
        value = getattr(value, part)
    assert value == expected


def test_achievable_figures_from_the_mamf_table(cards: tuple[Card, ...]) -> None:
    expected = {
        ("a100-sxm4-80gb", "bf16"): 271.2, ("a100-pcie-40gb", "bf16"): 252.9,
        ("h100-sxm5-80gb", "bf16"): 794.5,
        ("h100-sxm5-80gb", "fp8"): 1402.6, ("h200-sxm", "fp8"): 1453.4, ("b200", "bf16"): 1745.0,
        ("b200", "fp8"): 3432.5, ("mi300x", "bf16"): 668.4,
    }  # fmt: skip
    for (card_id, dtype), tflops in expected.items():
        ach = by_id(cards, card_id).achievable[dtype]
        assert ach.tflops == tflops
        assert "MAMF" in ach.source


def test_unverified_values_are_marked(cards: tuple[Card, ...]) -> None:
    # card-specs.md caveat 5: A10G tensor rates and some NVLink figures stay unverified.
    assert "tflops.fp16" in by_id(cards, "a10g").unverified
    assert "nvlink_gbs" in by_id(cards, "titan-rtx").unverified


def test_audit_2026_12_resolved_marks_are_gone(cards: tuple[Card, ...]) -> None:
    # The audit found sources for these (datasheets, the RTX Blackwell whitepaper, NVIDIA's CC pages).
    resolved = {
        "rtx-5090": "tflops.bf16",
        "a30": "nvlink_gbs",
        "a100-pcie-40gb": "nvlink_gbs",
        "l4": "pcie_gen",
        "gtx-1070": "compute_capability",
        "rtx-2080": "compute_capability",
        "rtx-a5000": "compute_capability",
    }
    for card_id, field in resolved.items():
        assert field not in by_id(cards, card_id).unverified, card_id


def test_fixture_only_cards_leave_throughput_unknown(cards: tuple[Card, ...]) -> None:
    for card_id in ("tesla-k80", "gtx-1070", "rtx-2080", "rtx-a5000", "tesla-v100-sxm3-32gb"):
        card = by_id(cards, card_id)
        assert card.tflops.model_dump(exclude_none=True) == {}, card_id
        assert any(s.startswith("fixture tests/data/") for s in card.sources), card_id


def test_every_card_cites_a_source(cards: tuple[Card, ...]) -> None:
    for card in cards:
        assert card.sources and all(s.strip() for s in card.sources)


def test_repo_catalog_matches_pyproject_force_include() -> None:
    assert '"catalog" = "advisor/_catalog"' in (REPO / "pyproject.toml").read_text()
    assert Path(CATALOG / "README.md").is_file()
