"""The on-disk cache of the validated catalog: reused when nothing changed, rebuilt when anything did."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from advisor.errors import CatalogError
from advisor.knowledge import loader
from advisor.knowledge.loader import (
    clear_cache,
    load_cards_and_models,
    load_catalog_cards,
    load_knowledge,
)
from advisor.knowledge.validated_cache import cache_file
from tests.conftest import REPO

CARD = """\
cards:
  - {id: cache-test-gpu, name: Cache Test GPU, vendor: nvidia, architecture: Ampere, segment: consumer,
     memory_gb: 24, memory_bandwidth_gbs: 900, sources: [made up for a test]}
"""


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "cache"
    monkeypatch.setenv("ADVISOR_CACHE_DIR", str(path))
    monkeypatch.delenv("ADVISOR_NO_CACHE", raising=False)
    clear_cache()
    yield path
    clear_cache()  # later tests must not see objects loaded under this private cache


def user_catalog(root: Path, text: str = CARD) -> Path:
    (root / "cards").mkdir(parents=True, exist_ok=True)
    (root / "cards" / "a.yaml").write_text(textwrap.dedent(text))
    return root


def pickle_of(catalog: Path | None, kind: str = "knowledge") -> Path:
    dirs = loader.catalog_dirs(catalog)
    path = cache_file(kind, dirs)
    assert path is not None
    return path


def forbid_full_load(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any real (uncached) load fail loudly, so a passing load proves it came from the cache."""

    def _no(*args: object) -> object:
        raise AssertionError("the catalog was loaded again instead of coming from the cache")

    monkeypatch.setattr(loader, "_load_uncached", _no)
    monkeypatch.setattr(loader, "load_cards", _no)
    monkeypatch.setattr(loader, "_load_without_compat", _no)


def test_second_load_comes_from_the_cache(
    cache_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = user_catalog(tmp_path / "cat")
    first = load_knowledge(catalog)
    assert pickle_of(catalog).is_file()
    clear_cache()  # a new process, as far as the loader can tell
    forbid_full_load(monkeypatch)
    second = load_knowledge(catalog)
    assert second == first
    assert second.cards[-1].id == "cache-test-gpu"
    assert [f.id for f in second.compat.features.entries] == [f.id for f in first.compat.features.entries]


def test_cards_only_load_is_cached_too(
    cache_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = user_catalog(tmp_path / "cat")
    first = load_catalog_cards(catalog)
    assert pickle_of(catalog, "cards").is_file()
    clear_cache()
    forbid_full_load(monkeypatch)
    assert load_catalog_cards(catalog) == first


MODEL = """\
models:
  - {id: cache-test-model, name: Cache Test Model, kind: decoder, params: 1000000000, layers: 16,
     hidden_size: 2048, heads: 16, vocab_size: 32000, max_seq_len: 4096, source: made up for a test}
"""


def test_cards_and_models_load_is_cached_and_matches_the_full_load(
    cache_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = user_catalog(tmp_path / "cat")
    (catalog / "models").mkdir()
    (catalog / "models" / "m.yaml").write_text(MODEL)
    first = load_cards_and_models(catalog)
    assert pickle_of(catalog, "cards-models").is_file()
    full = load_knowledge(catalog)
    assert (first.cards, first.models) == (full.cards, full.models)
    assert first.cards[-1].id == "cache-test-gpu" and first.models[-1].id == "cache-test-model"
    clear_cache()
    forbid_full_load(monkeypatch)
    assert load_cards_and_models(catalog) == first


def test_a_broken_model_is_reported_by_the_cards_and_models_load(cache_dir: Path, tmp_path: Path) -> None:
    catalog = user_catalog(tmp_path / "cat")
    (catalog / "models").mkdir()
    (catalog / "models" / "m.yaml").write_text(MODEL.replace("layers: 16", "layers: -16"))
    with pytest.raises(CatalogError, match=r"cache-test-model.*layers"):
        load_cards_and_models(catalog)
    assert not pickle_of(catalog, "cards-models").exists()


def test_cards_and_models_load_never_imports_the_compat_tables(cache_dir: Path) -> None:
    """What makes it quicker than load_knowledge for `advisor recommend`, cold or warm."""
    code = (
        "import sys\n"
        "from advisor.knowledge.loader import load_cards_and_models\n"
        "k = load_cards_and_models()\n"
        "print(len(k.cards) > 0, len(k.models) > 0, 'advisor.knowledge.compat' in sys.modules)\n"
    )
    env = {**os.environ, "ADVISOR_CACHE_DIR": str(cache_dir)}
    env.pop("ADVISOR_NO_CACHE", None)
    for _ in range(2):  # cold (validates and writes the cache), then warm (reads it)
        run = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True)
        assert run.stdout.split() == ["True", "True", "False"], run.stderr


def test_an_edited_file_invalidates_the_cache(cache_dir: Path, tmp_path: Path) -> None:
    catalog = user_catalog(tmp_path / "cat")
    assert load_knowledge(catalog).cards[-1].memory_gb == 24
    path = catalog / "cards" / "a.yaml"
    path.write_text(CARD.replace("memory_gb: 24", "memory_gb: 48"))
    os.utime(path, ns=(1, 1))  # a different mtime even on a coarse clock
    clear_cache()
    assert load_knowledge(catalog).cards[-1].memory_gb == 48


def test_a_new_file_invalidates_the_cache(cache_dir: Path, tmp_path: Path) -> None:
    catalog = user_catalog(tmp_path / "cat")
    count = len(load_knowledge(catalog).cards)
    (catalog / "cards" / "b.yaml").write_text(CARD.replace("cache-test-gpu", "cache-test-gpu-2"))
    clear_cache()
    assert len(load_knowledge(catalog).cards) == count + 1


def test_the_user_directory_is_part_of_the_key(cache_dir: Path, tmp_path: Path) -> None:
    one = user_catalog(tmp_path / "one")
    two = user_catalog(tmp_path / "two", CARD.replace("cache-test-gpu", "other-test-gpu"))
    assert load_knowledge(one).cards[-1].id == "cache-test-gpu"
    clear_cache()
    assert load_knowledge(two).cards[-1].id == "other-test-gpu"
    clear_cache()
    shipped = load_knowledge(None)
    assert "cache-test-gpu" not in {c.id for c in shipped.cards}
    assert "other-test-gpu" not in {c.id for c in shipped.cards}
    assert len({pickle_of(one), pickle_of(two), pickle_of(None)}) == 3


def test_a_corrupt_cache_file_means_a_full_load(cache_dir: Path, tmp_path: Path) -> None:
    catalog = user_catalog(tmp_path / "cat")
    expected = load_knowledge(catalog)
    path = pickle_of(catalog)
    path.write_bytes(b"\x80\x05not a pickle at all")
    clear_cache()
    assert load_knowledge(catalog) == expected
    clear_cache()
    path.write_bytes(path.read_bytes()[:100])  # a cut-off file: the key reads, the objects do not
    assert load_knowledge(catalog) == expected


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX file modes")
def test_a_cache_file_others_can_write_is_ignored(
    cache_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = user_catalog(tmp_path / "cat")
    load_knowledge(catalog)
    pickle_of(catalog).chmod(0o666)
    clear_cache()
    forbid_full_load(monkeypatch)
    with pytest.raises(AssertionError, match="loaded again"):
        load_knowledge(catalog)


def test_a_broken_catalog_is_never_cached(cache_dir: Path, tmp_path: Path) -> None:
    catalog = user_catalog(
        tmp_path / "cat", CARD.replace("memory_bandwidth_gbs: 900", "memory_bandwidth_gbs: -1")
    )
    for _ in range(2):  # the second run must report the problem again, not reuse anything
        clear_cache()
        with pytest.raises(CatalogError, match="memory_bandwidth_gbs"):
            load_knowledge(catalog)
    assert not pickle_of(catalog).exists()


def test_fixing_a_broken_catalog_loads_it(cache_dir: Path, tmp_path: Path) -> None:
    catalog = user_catalog(tmp_path / "cat")
    load_knowledge(catalog)
    path = catalog / "cards" / "a.yaml"
    path.write_text(CARD.replace("vendor: nvidia", "vendor: 3dfx"))
    os.utime(path, ns=(1, 1))
    clear_cache()
    with pytest.raises(CatalogError, match="vendor"):  # the old, valid pickle is not served
        load_knowledge(catalog)


def test_no_cache_writes_nothing(cache_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADVISOR_NO_CACHE", "1")
    assert load_knowledge(user_catalog(tmp_path / "cat")).cards[-1].id == "cache-test-gpu"
    assert not cache_dir.exists()


def test_warm_start_builds_no_catalog_validator(cache_dir: Path) -> None:
    """The point of the cache: a warm process never builds the catalog models' validators."""
    code = (
        "from advisor.knowledge.loader import load_knowledge\n"
        "from advisor.knowledge.cards import Card\n"
        "from advisor.knowledge.compat import CompatTables\n"
        "k = load_knowledge()\n"
        "print(len(k.cards), Card.__pydantic_complete__, CompatTables.__pydantic_complete__)\n"
    )
    env = {**os.environ, "ADVISOR_CACHE_DIR": str(cache_dir)}
    env.pop("ADVISOR_NO_CACHE", None)
    runs = [
        subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True)
        for _ in range(2)
    ]
    cold, warm = (r.stdout.split() for r in runs)
    assert cold[1:] == ["True", "True"], runs[0].stderr  # validated: the validators were built
    assert warm == [cold[0], "False", "False"], runs[1].stderr
