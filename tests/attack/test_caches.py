"""Cache poisoning and special files in the cache folder (issue 11 item 2; red-team F3, F17)."""

from __future__ import annotations

import json
import os
import pickle
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from advisor.knowledge import parse_cache, validated_cache
from tests.attack.conftest import run_cli

DUMP = Path(__file__).parents[1] / "data" / "dumps" / "02-h100pcie-torch201-cu117-sm90" / "input.txt"


def _catalog_files() -> dict[str, object]:
    import yaml

    from advisor.knowledge.loader import shipped_catalog_dir

    files: dict[str, object] = {}
    for p in sorted(shipped_catalog_dir().glob("*/*.yaml")):
        st = p.stat()
        data = yaml.safe_load(p.read_text())
        if p.name == "torch.yaml" and isinstance(data, dict) and "torch_index" in data:
            data["torch_index"]["entries"][0]["url_pattern"] = "https://evil.example/simple/{variant}"
        files[os.path.abspath(p)] = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "data": data}
    return files


def test_a_parse_cache_others_can_write_is_ignored(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    folder.mkdir(mode=0o700)
    planted = folder / "catalog-parsed-v1.json"
    planted.write_text(json.dumps({"format": 1, "files": _catalog_files()}))
    planted.chmod(0o666)  # as a file another local user could have written
    result = run_cli("check", "--from", str(DUMP), env={"ADVISOR_CACHE_DIR": str(folder), "COLUMNS": "300"})
    assert b"evil.example" not in result.stdout
    assert b"download.pytorch.org" in result.stdout


def test_a_shared_cache_folder_is_not_used(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o777)
    planted = folder / "catalog-parsed-v1.json"
    planted.write_text(json.dumps({"format": 1, "files": _catalog_files()}))
    planted.chmod(0o600)
    assert parse_cache.read_private(planted) is None
    result = run_cli("check", "--from", str(DUMP), env={"ADVISOR_CACHE_DIR": str(folder), "COLUMNS": "300"})
    assert b"evil.example" not in result.stdout


def test_the_cache_folder_is_created_private(tmp_path: Path) -> None:
    folder = tmp_path / "new" / "advisor"
    run_cli("catalog", "list", env={"ADVISOR_CACHE_DIR": str(folder)})
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in folder.iterdir())


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_or_a_dev_zero_link_in_the_cache_never_hangs(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    folder.mkdir(mode=0o700)
    os.mkfifo(folder / "catalog-parsed-v1.json")
    for kind in ("cards", "knowledge"):
        target = validated_cache.cache_file(kind, [Path("x")])
        assert target is not None
    result = run_cli("catalog", "list", env={"ADVISOR_CACHE_DIR": str(folder)}, timeout=30)
    assert result.returncode == 0
    zero = tmp_path / "z"
    zero.mkdir(mode=0o700)
    (zero / "catalog-parsed-v1.json").symlink_to("/dev/zero")
    assert parse_cache.read_private(zero / "catalog-parsed-v1.json") is None
    result = run_cli("catalog", "list", env={"ADVISOR_CACHE_DIR": str(zero)}, timeout=30)
    assert result.returncode == 0


class _Boom:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("echo PWNED > pwned.txt",))


def test_a_planted_pickle_cannot_run_code_even_when_it_looks_like_ours(tmp_path: Path) -> None:
    """Same owner, mode 0600: the allowlist unpickler still refuses os.system."""
    folder = tmp_path / "c"
    folder.mkdir(mode=0o700)
    env = {"ADVISOR_CACHE_DIR": str(folder)}
    run_cli("catalog", "list", env=env)  # builds the real cache files
    pickles = list(folder.glob("*.pickle"))
    assert pickles
    for p in pickles:
        with p.open("rb") as f:
            key = pickle.load(f)
        p.write_bytes(pickle.dumps(key) + pickle.dumps(_Boom()))
        p.chmod(0o600)
    result = subprocess.run(
        [sys.executable, "-m", "advisor", "catalog", "list"],
        cwd=tmp_path,
        env={**os.environ, **env},
        capture_output=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0
    assert not (tmp_path / "pwned.txt").exists()


def test_oversized_cache_files_are_ignored(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    folder.mkdir(mode=0o700)
    big = folder / "catalog-parsed-v1.json"
    with big.open("wb") as f:
        f.truncate(parse_cache.MAX_CACHE_BYTES + 1)
    assert parse_cache.read_private(big) is None
