"""Loading and validating catalogs: broken files give one clear line each (file, card, field), all at once."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from advisor.errors import CatalogError
from advisor.knowledge.loader import clear_cache, load_cards, load_knowledge, shipped_catalog_dir


@pytest.fixture(scope="module", autouse=True)
def _private_parse_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep the on-disk parse cache of these tests out of the user's ~/.cache."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ADVISOR_CACHE_DIR", str(tmp_path_factory.mktemp("parse-cache")))
        yield


GOOD_CARD = """\
  - id: test-gpu
    name: Test GPU 24GB
    vendor: nvidia
    architecture: Ampere
    compute_capability: "8.6"
    segment: workstation
    memory_gb: 24
    memory_bandwidth_gbs: 900
    tflops: {fp32: 30, bf16: 120}
    nvml_names: [NVIDIA Test GPU]
    sources: ["made up for a test"]
"""


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def problems_of(dirs: list[Path]) -> list[str]:
    with pytest.raises(CatalogError) as info:
        load_cards(dirs)
    return info.value.problems


def test_good_card_file_loads(tmp_path: Path) -> None:
    write(tmp_path, "cards/a.yaml", "cards:\n" + GOOD_CARD)
    (card,) = load_cards([tmp_path])
    assert (card.id, card.memory_gb, card.tflops.bf16) == ("test-gpu", 24, 120)


def test_bad_yaml_syntax_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "cards/broken.yaml", "cards:\n  - id: x\n    name: [unclosed\n")
    (problem,) = problems_of([tmp_path])
    assert str(path) in problem and "invalid YAML" in problem and "line " in problem


def test_wrong_type_names_file_card_and_field(tmp_path: Path) -> None:
    path = write(tmp_path, "cards/a.yaml", "cards:\n" + GOOD_CARD.replace("memory_gb: 24", "memory_gb: lots"))
    (problem,) = problems_of([tmp_path])
    assert problem.startswith(f"{path}: card 'test-gpu' (#1): memory_gb:")
    assert "'lots'" in problem


def test_negative_bandwidth_is_rejected(tmp_path: Path) -> None:
    write(tmp_path, "cards/a.yaml", "cards:\n" + GOOD_CARD.replace("bandwidth_gbs: 900", "bandwidth_gbs: -5"))
    (problem,) = problems_of([tmp_path])
    assert "card 'test-gpu'" in problem and "memory_bandwidth_gbs" in problem and "greater than 0" in problem


def test_unknown_field_is_named(tmp_path: Path) -> None:
    write(tmp_path, "cards/a.yaml", "cards:\n" + GOOD_CARD + "    memroy_gb: 24\n")
    (problem,) = problems_of([tmp_path])
    assert "card 'test-gpu'" in problem and "memroy_gb: unknown field" in problem


def test_nested_field_path_is_named(tmp_path: Path) -> None:
    write(tmp_path, "cards/a.yaml", "cards:\n" + GOOD_CARD.replace("bf16: 120", "bf16: 0"))
    (problem,) = problems_of([tmp_path])
    assert "tflops.bf16:" in problem


def test_missing_required_field_is_named(tmp_path: Path) -> None:
    write(tmp_path, "cards/a.yaml", "cards:\n" + GOOD_CARD.replace("    vendor: nvidia\n", ""))
    (problem,) = problems_of([tmp_path])
    assert "card 'test-gpu' (#1): vendor: missing required field" in problem


def test_duplicate_id_across_files_names_both(tmp_path: Path) -> None:
    first = write(tmp_path, "cards/a.yaml", "cards:\n" + GOOD_CARD)
    second = write(tmp_path, "cards/b.yaml", "cards:\n" + GOOD_CARD)
    (problem,) = problems_of([tmp_path])
    assert str(second) in problem and "duplicate id 'test-gpu'" in problem and str(first) in problem


def test_duplicate_key_inside_a_card_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "cards/a.yaml", "cards:\n" + GOOD_CARD + "    memory_gb: 48\n")
    (problem,) = problems_of([tmp_path])
    assert "duplicate key 'memory_gb'" in problem


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- id: x\n", "top level must be a mapping"),
        ("just text\n", "top level must be a mapping"),
        ("gpus: []\n", "unknown top-level key(s) 'gpus'"),
        ("cards: {id: x}\n", "'cards' must be a list"),
        ("cards:\n  - 42\n", "card #1: must be a mapping"),
        ("", "empty file"),
    ],
)
def test_bad_top_level(tmp_path: Path, text: str, expected: str) -> None:
    write(tmp_path, "cards/a.yaml", text)
    problems = problems_of([tmp_path])
    assert any(expected in p for p in problems), problems


def test_unverified_must_name_a_real_field(tmp_path: Path) -> None:
    write(tmp_path, "cards/a.yaml", "cards:\n" + GOOD_CARD + "    unverified: [tflops.bf16, bandwith]\n")
    (problem,) = problems_of([tmp_path])
    assert "unverified: 'bandwith' is not a card field" in problem


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    write(tmp_path, "cards/a.yaml", "cards:\n" + GOOD_CARD.replace("memory_gb: 24", "memory_gb: -1"))
    write(tmp_path, "cards/b.yaml", "cards:\n" + GOOD_CARD.replace("test-gpu", "Bad Id"))
    write(tmp_path, "cards/c.yaml", "cards: [\n")
    problems = problems_of([tmp_path])
    assert len(problems) == 3
    assert [Path(p.split(":")[0]).name for p in problems] == ["a.yaml", "b.yaml", "c.yaml"]
    message = str(CatalogError(problems))
    assert message.count("\n  - ") == 3


def test_user_card_with_existing_id_replaces_the_shipped_one(tmp_path: Path) -> None:
    shipped = tmp_path / "shipped"
    user = tmp_path / "user"
    write(shipped, "cards/a.yaml", "cards:\n" + GOOD_CARD + GOOD_CARD.replace("test-gpu", "other-gpu"))
    write(user, "cards/mine.yaml", "cards:\n" + GOOD_CARD.replace("memory_gb: 24", "memory_gb: 48"))
    write(user, "cards/new.yaml", "cards:\n" + GOOD_CARD.replace("test-gpu", "new-gpu"))
    cards = load_cards([shipped, user])
    assert [(c.id, c.memory_gb) for c in cards] == [("test-gpu", 48), ("other-gpu", 24), ("new-gpu", 24)]


def test_load_knowledge_with_a_user_directory(tmp_path: Path) -> None:
    write(tmp_path, "cards/mine.yaml", "cards:\n" + GOOD_CARD.replace("test-gpu", "rtx-3090"))
    knowledge = load_knowledge(tmp_path)
    ours = [c for c in knowledge.cards if c.id == "rtx-3090"]
    assert len(ours) == 1 and ours[0].name == "Test GPU 24GB"
    assert len(knowledge.cards) == len(load_knowledge().cards)
    assert knowledge.sources == (str(shipped_catalog_dir()), str(tmp_path))


def test_user_compat_entries_come_first_and_win_on_lookup(tmp_path: Path) -> None:
    from advisor.knowledge.features import find_feature

    shipped = load_knowledge().compat.features
    write(
        tmp_path,
        "compat/mine.yaml",
        """\
        features:
          reviewed: "2026-01-01"
          source: my own notes
          entries:
            - {id: bf16, name: My BF16, min_cc: "7.0", source: mine}
        """,
    )
    merged = load_knowledge(tmp_path).compat.features
    assert len(merged.entries) == len(shipped.entries) + 1
    assert merged.entries[0].name == "My BF16"
    found = find_feature(merged.entries, "bf16")
    assert found is not None and found.min_cc == "7.0"


def test_bad_user_compat_entry_names_file_table_entry_and_field(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "compat/mine.yaml",
        """\
        features:
          reviewed: "2026-01-01"
          source: x
          entries:
            - {id: bf16, name: My BF16, min_cc: "eight", source: mine}
        """,
    )
    with pytest.raises(CatalogError) as info:
        load_knowledge(tmp_path)
    (problem,) = info.value.problems
    assert problem.startswith(f"{path}: table 'features' entry 'bf16' (#1): min_cc: ")


def test_unknown_compat_table_is_named(tmp_path: Path) -> None:
    path = write(
        tmp_path, "compat/mine.yaml", "featurez:\n  reviewed: '2026-01-01'\n  source: x\n  entries: []\n"
    )
    with pytest.raises(CatalogError) as info:
        load_knowledge(tmp_path)
    assert info.value.problems == [f"{path}: table 'featurez': unknown table"]


def test_missing_user_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="catalog directory not found"):
        load_knowledge(tmp_path / "nope")


def test_user_directory_without_catalog_folders_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "stuff.yaml").write_text("cards: []\n")
    with pytest.raises(CatalogError, match="not a catalog directory"):
        load_knowledge(tmp_path)


def test_cache_reloads_an_edited_file(tmp_path: Path) -> None:
    clear_cache()
    path = write(tmp_path, "cards/mine.yaml", "cards:\n" + GOOD_CARD)
    first = load_knowledge(tmp_path)
    assert load_knowledge(tmp_path) is first
    path.write_text("cards:\n" + GOOD_CARD.replace("memory_gb: 24", "memory_gb: 32"))
    os.utime(path, ns=(1, 1))  # a different mtime even on coarse filesystem clocks
    again = load_knowledge(tmp_path)
    assert again is not first
    assert next(c for c in again.cards if c.id == "test-gpu").memory_gb == 32


def test_unquoted_dates_stay_text(tmp_path: Path) -> None:
    write(tmp_path, "cards/a.yaml", "cards:\n" + GOOD_CARD.replace("made up for a test", "seen 2026-01-01"))
    write(
        tmp_path,
        "cards/b.yaml",
        "cards:\n" + GOOD_CARD.replace("test-gpu", "gpu-two") + "    notes: 2026-01-01\n",
    )
    cards = load_cards([tmp_path])
    assert cards[1].notes == "2026-01-01"
