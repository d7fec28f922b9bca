"""The on-disk parse cache: skips YAML when files are unchanged, never skips validation."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from advisor.errors import CatalogError
from advisor.knowledge.loader import clear_cache, load_cards
from advisor.knowledge.parse_cache import FORMAT, ParseCache, cache_path
from tests.conftest import REPO

CARD = """\
cards:
  - {id: test-gpu, name: Test GPU, vendor: nvidia, architecture: Ampere, segment: consumer,
     memory_gb: 24, memory_bandwidth_gbs: 900, sources: [test]}
"""


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cache"
    monkeypatch.setenv("ADVISOR_CACHE_DIR", str(path))
    monkeypatch.delenv("ADVISOR_NO_CACHE", raising=False)
    clear_cache()
    return path


def catalog(tmp_path: Path, text: str = CARD) -> Path:
    root = tmp_path / "cat"
    (root / "cards").mkdir(parents=True, exist_ok=True)
    (root / "cards" / "a.yaml").write_text(textwrap.dedent(text))
    return root


def test_location_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("ADVISOR_NO_CACHE", raising=False)
    monkeypatch.delenv("ADVISOR_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_path() == tmp_path / "advisor" / f"catalog-parsed-v{FORMAT}.json"
    monkeypatch.setenv("ADVISOR_CACHE_DIR", str(tmp_path / "x"))
    assert cache_path() == tmp_path / "x" / f"catalog-parsed-v{FORMAT}.json"
    monkeypatch.setenv("ADVISOR_NO_CACHE", "1")
    assert cache_path() is None


def test_load_writes_the_parsed_data(cache_dir: Path, tmp_path: Path) -> None:
    root = catalog(tmp_path)
    load_cards([root])
    stored = json.loads((cache_dir / f"catalog-parsed-v{FORMAT}.json").read_text())
    entry = stored["files"][os.path.abspath(root / "cards" / "a.yaml")]
    assert entry["data"]["cards"][0]["id"] == "test-gpu"


def test_cached_data_is_still_validated(cache_dir: Path, tmp_path: Path) -> None:
    root = catalog(tmp_path)
    load_cards([root])
    file = cache_dir / f"catalog-parsed-v{FORMAT}.json"
    stored = json.loads(file.read_text())
    entry = stored["files"][os.path.abspath(root / "cards" / "a.yaml")]
    entry["data"]["cards"][0]["memory_bandwidth_gbs"] = -1  # a tampered cache, same size and mtime
    file.write_text(json.dumps(stored))
    clear_cache()
    with pytest.raises(CatalogError, match="memory_bandwidth_gbs"):
        load_cards([root])


def test_an_edited_file_is_parsed_again(cache_dir: Path, tmp_path: Path) -> None:
    root = catalog(tmp_path)
    assert load_cards([root])[0].memory_gb == 24
    path = root / "cards" / "a.yaml"
    path.write_text(CARD.replace("memory_gb: 24", "memory_gb: 48"))
    os.utime(path, ns=(1, 1))
    clear_cache()
    assert load_cards([root])[0].memory_gb == 48


def test_yaml_errors_are_never_cached(cache_dir: Path, tmp_path: Path) -> None:
    root = catalog(tmp_path, "cards: [\n")
    for _ in range(2):
        clear_cache()
        with pytest.raises(CatalogError, match="invalid YAML"):
            load_cards([root])
    assert not (cache_dir / f"catalog-parsed-v{FORMAT}.json").exists()


def test_data_that_json_would_change_is_not_cached(tmp_path: Path) -> None:
    cache = ParseCache(tmp_path / "c.json")
    f = tmp_path / "f.yaml"
    f.write_text("x")
    cache.put(f, {1: "int key"})
    assert cache.get(f) == (False, None)
    cache.put(f, {"ok": [1, 2.5, None]})
    assert cache.get(f) == (True, {"ok": [1, 2.5, None]})


def test_a_corrupt_cache_file_is_ignored(cache_dir: Path, tmp_path: Path) -> None:
    cache_dir.mkdir(parents=True)
    (cache_dir / f"catalog-parsed-v{FORMAT}.json").write_text("{not json")
    assert load_cards([catalog(tmp_path)])[0].id == "test-gpu"


def test_warm_cache_means_no_yaml_import(cache_dir: Path) -> None:
    code = (
        "import sys; from advisor.knowledge.loader import load_catalog_cards; "
        "n = len(load_catalog_cards()); print(n, 'yaml' in sys.modules)"
    )
    env = {**os.environ, "ADVISOR_CACHE_DIR": str(cache_dir)}
    first = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True)
    second = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True)
    assert first.stdout.split()[1] == "True"
    assert second.stdout.split() == [first.stdout.split()[0], "False"]
