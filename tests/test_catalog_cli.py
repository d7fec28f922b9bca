"""`advisor catalog list/show/compare/search` through the real CLI entry, with the JSON parsed and checked."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from advisor.cli.app import app
from advisor.knowledge.cards import Card
from tests.conftest import REPO


@pytest.fixture(scope="module", autouse=True)
def _private_parse_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep the on-disk parse cache of these tests out of the user's ~/.cache."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ADVISOR_CACHE_DIR", str(tmp_path_factory.mktemp("parse-cache")))
        yield


def run(*args: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(app, ["catalog", *args], env=env)


def run_json(*args: str, env: dict[str, str] | None = None) -> Any:
    result = run(*args, "--json", env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def ids(data: dict[str, Any]) -> list[str]:
    return [c["id"] for c in data["cards"]]


# --- list -----------------------------------------------------------------------------------------


def test_list_json_shape() -> None:
    data = run_json("list")
    assert set(data) == {"count", "cards"}
    assert data["count"] == len(data["cards"]) >= 40
    assert all(set(card) == set(Card.model_fields) for card in data["cards"])


def test_list_human_table_names_the_cards() -> None:
    result = run("list", "--vendor", "amd")
    assert result.exit_code == 0
    assert "mi300x" in result.stdout and "rtx-3090" not in result.stdout
    assert "\x1b[" not in result.stdout


def test_list_filter_vendor() -> None:
    data = run_json("list", "--vendor", "amd")
    assert set(ids(data)) == {"mi250x", "mi250x-gcd", "mi300x"}


def test_list_filter_min_memory_reads_marketed_gb_as_gib() -> None:
    for size in ("24GiB", "24GB"):
        got = set(ids(run_json("list", "--min-memory", size)))
        assert {"rtx-3090", "titan-rtx", "a10", "h100-sxm5-80gb"} <= got
        assert not {"rtx-2080-ti", "tesla-t4", "rtx-4080"} & got
    assert "rtx-3090" not in ids(run_json("list", "--min-memory", "25GiB"))


def test_list_filter_min_cc_and_arch_and_segment() -> None:
    hopper_up = set(ids(run_json("list", "--min-cc", "9.0")))
    assert {"h100-pcie", "h200-sxm", "b200", "rtx-5090"} <= hopper_up
    assert not {"a100-sxm4-80gb", "rtx-4090", "mi300x"} & hopper_up
    ada = set(ids(run_json("list", "--arch", "ada")))
    assert {"rtx-4090", "l40s", "l4", "rtx-6000-ada"} <= ada and "rtx-3090" not in ada
    consumer = run_json("list", "--segment", "consumer")
    assert {c["segment"] for c in consumer["cards"]} == {"consumer"}


def test_list_filter_feature_needs_a_dense_figure() -> None:
    fp8 = set(ids(run_json("list", "--feature", "fp8")))
    assert {"h100-sxm5-80gb", "rtx-4090", "l40s", "mi300x"} <= fp8
    assert not {"a100-sxm4-80gb", "rtx-3090", "tesla-v100-sxm2-32gb"} & fp8
    bf16 = set(ids(run_json("list", "--feature", "bf16")))
    assert "rtx-3090" in bf16 and "tesla-v100-sxm2-32gb" not in bf16 and "titan-rtx" not in bf16


def test_list_sort_desc_and_asc_with_unknown_last() -> None:
    by_memory = run_json("list", "--sort", "memory")["cards"]
    assert by_memory[0]["id"] == "mi300x"  # 192 GB, the largest in card-specs.md
    by_bw = run_json("list", "--sort", "bandwidth", "--asc")["cards"]
    values = [c["memory_bandwidth_gbs"] for c in by_bw]
    known = [v for v in values if v is not None]
    assert known == sorted(known) and values[: len(known)] == known
    assert by_bw[0]["id"] == "rtx-4060-ti-16gb"  # 288 GB/s
    by_price = run_json("list", "--sort", "price", "--asc")["cards"]
    assert by_price[0]["id"] == "rtx-3060-12gb"  # $329


def test_list_sort_accepts_field_names() -> None:
    assert ids(run_json("list", "--sort", "memory_gb")) == ids(run_json("list", "--sort", "memory"))


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--sort", "colour"], "cannot sort by 'colour'"),
        (["--feature", "fp4"], "unknown feature 'fp4'"),
        (["--min-cc", "eight"], "not a compute capability"),
        (["--min-memory", "lots"], "not a size"),
    ],
)
def test_list_bad_options_exit_2_with_one_line(args: list[str], expected: str) -> None:
    result = run("list", *args)
    assert result.exit_code == 2
    assert expected in result.stderr and "Traceback" not in result.output


# --- show -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("v100 sxm2 32gb", "tesla-v100-sxm2-32gb"),
        ("3090", "rtx-3090"),
        ("titan rtx", "titan-rtx"),
        ("TITAN RTX", "titan-rtx"),
        ("h100 sxm", "h100-sxm5-80gb"),
        ("rtx3090", "rtx-3090"),
        ("3090 ti", "rtx-3090-ti"),
        ("l4", "l4"),
        ("NVIDIA A100 80GB PCIe", "a100-pcie-80gb"),
        ("rtx-4090", "rtx-4090"),
        ("mi300x", "mi300x"),
    ],
)
def test_show_forgiving_names(name: str, expected: str) -> None:
    assert run_json("show", name)["id"] == expected


def test_show_json_is_the_card() -> None:
    card = run_json("show", "3090")
    assert set(card) == set(Card.model_fields)
    assert card["tflops"]["bf16"] == 71 and card["tflops"]["fp16_fp16acc"] == 142
    assert card["pci_device_ids"] == ["0x2204"]


def test_show_human_lists_sources_and_markers() -> None:
    result = run("show", "a10g")
    assert result.exit_code == 0
    assert "Sources:" in result.stdout and "(u)" in result.stdout
    assert "[DRV]" in result.stdout  # source tags are printed literally, never read as markup


@pytest.mark.parametrize(
    ("name", "some"), [("v100", "tesla-v100-sxm2-32gb"), ("h100", "h100-nvl"), ("a100", "a100-pcie-40gb")]
)
def test_show_ambiguous_name_lists_candidates_and_exits_2(name: str, some: str) -> None:
    result = run("show", name, "--json")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "matches" in result.stderr and some in result.stderr


def test_show_unknown_name_suggests_the_closest() -> None:
    result = run("show", "rtx 3099")
    assert result.exit_code == 2
    assert "no card matches 'rtx 3099'" in result.stderr and "rtx-3090" in result.stderr


# --- compare --------------------------------------------------------------------------------------


def test_compare_ratios_against_the_first_card() -> None:
    data = run_json("compare", "tesla-v100-sxm2-32gb", "titan rtx", "3090")
    assert data["baseline"] == "tesla-v100-sxm2-32gb"
    assert [c["id"] for c in data["cards"]] == ["tesla-v100-sxm2-32gb", "titan-rtx", "rtx-3090"]
    metrics = {m["key"]: m for m in data["metrics"]}
    assert set(metrics["memory_bandwidth_gbs"]) == {"key", "label", "unit", "values", "ratios"}
    # card-specs.md: V100 SXM2 900 GB/s, 125 TFLOP/s FP16, 300 W; TITAN RTX 672, 130.5; RTX 3090 936, 71.
    assert metrics["memory_bandwidth_gbs"]["values"] == [900, 672, 936]
    assert metrics["memory_bandwidth_gbs"]["ratios"] == [1.0, round(672 / 900, 4), round(936 / 900, 4)]
    assert metrics["tflops.fp16"]["ratios"] == [1.0, round(130.5 / 125, 4), round(71 / 125, 4)]
    assert metrics["tflops.bf16"]["ratios"] == [None, None, None]  # Volta has no BF16
    assert metrics["fp16_tflops_per_watt"]["values"][0] == pytest.approx(125 / 300)
    assert metrics["fp16_tflops_per_kusd"]["values"] == [
        None,
        pytest.approx(130.5 / 2.499),
        pytest.approx(71 / 1.499),
    ]


def test_compare_human_table() -> None:
    result = run("compare", "3090", "4090")
    assert result.exit_code == 0
    assert "rtx-3090" in result.stdout and "x)" in result.stdout


def test_compare_needs_two_cards() -> None:
    result = run("compare", "3090")
    assert result.exit_code == 2 and "at least two" in result.stderr


def test_compare_unknown_card_exits_2() -> None:
    result = run("compare", "3090", "gtx 9999")
    assert result.exit_code == 2 and "gtx 9999" in result.stderr


# --- search ---------------------------------------------------------------------------------------


def test_search_json_shape_and_fields() -> None:
    data = run_json("search", "hopper")
    assert set(data) == {"query", "count", "cards"} and data["query"] == "hopper"
    assert {"h100-pcie", "h100-sxm5-80gb", "h100-nvl", "h200-sxm"} <= set(ids(data))
    assert ids(run_json("search", "gfx942")) == ["mi300x"]
    assert "rtx-4080" in ids(run_json("search", "laptop"))  # its notes say the laptop part is another card


def test_search_needs_every_word() -> None:
    got = set(ids(run_json("search", "nvidia 8.9")))
    assert {"rtx-4090", "l40s", "l4"} <= got and "rtx-3090" not in got
    assert ids(run_json("search", "amd hopper")) == []
    assert ids(run_json("search", "no-such-word-anywhere")) == []


# --- user catalogs --------------------------------------------------------------------------------


def test_catalog_option_and_env_add_and_override_cards(tmp_path: Path) -> None:
    (tmp_path / "cards").mkdir()
    (tmp_path / "cards" / "mine.yaml").write_text(
        "cards:\n"
        "  - {id: rtx-3090, name: My 3090, vendor: nvidia, architecture: Ampere, segment: consumer,\n"
        "     memory_gb: 24, sources: [me]}\n"
        "  - {id: lab-gpu, name: Lab GPU, vendor: nvidia, architecture: Hopper, segment: datacenter,\n"
        "     memory_gb: 96, sources: [me]}\n"
    )
    assert run_json("show", "rtx-3090", "--catalog", str(tmp_path))["name"] == "My 3090"
    assert run_json("show", "lab-gpu", env={"ADVISOR_CATALOG": str(tmp_path)})["memory_gb"] == 96


def test_broken_user_catalog_exits_2_naming_file_card_and_field(tmp_path: Path) -> None:
    (tmp_path / "cards").mkdir()
    bad = tmp_path / "cards" / "bad.yaml"
    bad.write_text(
        "cards:\n  - {id: lab-gpu, name: Lab, vendor: nvidia, architecture: X, segment: datacenter,\n"
        "     memory_gb: 96, memory_bandwidth_gbs: -1, sources: [me]}\n"
    )
    result = run("list", "--catalog", str(tmp_path))
    assert result.exit_code == 2
    assert f"{bad}: card 'lab-gpu' (#1): memory_bandwidth_gbs:" in result.stderr
    assert result.stdout == ""


def test_python_m_advisor_turns_catalog_errors_into_exit_2(tmp_path: Path) -> None:
    """The console path (main), not only CliRunner: one line on stderr, no traceback."""
    proc = subprocess.run(
        [sys.executable, "-m", "advisor", "catalog", "show", "v100", "--json"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "tesla-v100-pcie-16gb" in proc.stderr and "Traceback" not in proc.stderr


def test_a_family_name_shows_the_family_side_by_side() -> None:
    result = CliRunner().invoke(app, ["catalog", "show", "v100"], env={"COLUMNS": "80"})
    assert result.exit_code == 0
    assert "tesla-v100-pcie-16gb" in result.stdout and "tesla-v100-sxm2-32gb" in result.stdout
    assert "is 5 cards" in result.stderr


@pytest.mark.parametrize(
    ("name", "means"), [("l40", None), ("rtx 6000", None), ("3090", "rtx-3090"), ("l4", "l4")]
)
def test_model_numbers_are_never_guessed(name: str, means: str | None) -> None:
    """'l40' is not the L40S (twice its tensor rate); 'rtx 6000' is Ada or PRO Blackwell, not a guess."""
    from advisor.knowledge.loader import load_catalog_cards
    from advisor.knowledge.query import lookup

    found = lookup(load_catalog_cards(None), name)
    assert (found.card.id if found.card else None) == means
    if name == "l40":
        assert "l40s" in found.suggestions


@pytest.mark.parametrize("query", ["48gb", "48 GB", "0x2204", "10de:2204"])
def test_search_finds_what_show_prints(query: str) -> None:
    result = CliRunner().invoke(app, ["catalog", "search", query, "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["count"] >= 1
