"""Cloud rent per GPU-hour from catalog/prices/*.yaml (sourced and dated), keyed by card id."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from advisor.errors import InputError
from advisor.recommend.rank import Rate

_CACHE_NAME = "prices-parsed-v1.json"


def load_rates(catalog_dir: Path | None = None) -> dict[str, Rate]:
    """Every rate in the shipped catalog's prices/ folder (and a user catalog's, which wins).

    The parsed YAML is kept in a small private JSON cache beside the catalog's caches (same trust rules:
    advisor/knowledge/parse_cache.py), keyed on each file's size and mtime, so a warm start neither
    imports PyYAML nor parses (that alone was 25 ms of every `recommend`)."""
    from advisor.knowledge.loader import shipped_catalog_dir

    dirs = [shipped_catalog_dir() / "prices"]
    if catalog_dir is not None:
        dirs.append(Path(catalog_dir) / "prices")
    cache = _read_cache()
    changed = False
    out: dict[str, Rate] = {}
    for folder in dirs:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.yaml")):
            try:
                st = path.stat()
                key = f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"
                doc = cache.get(key)
                if doc is None:
                    doc = _parse(path)
                    cache[key] = doc
                    changed = True
                for entry in doc.get("rates", []):
                    rate = float(entry["usd_per_hour"])
                    if not 0 < rate < 1e6:
                        raise ValueError(f"usd_per_hour out of range: {rate}")
                    out[str(entry["card"])] = Rate(
                        usd_per_hour=rate,
                        provider=str(entry["provider"]),
                        date=str(entry["date"]),
                        source=str(entry["source"]),
                    )
            except (OSError, KeyError, TypeError, ValueError, AttributeError) as exc:
                raise InputError(f"{path}: not a price list ({exc})") from None
    if changed:
        _write_cache(cache)
    return out


def _cache_file() -> Path | None:
    from advisor.knowledge.parse_cache import cache_dir

    folder = cache_dir()
    return None if folder is None else folder / _CACHE_NAME


def _read_cache() -> dict[str, Any]:
    import json

    from advisor.knowledge.parse_cache import read_private

    path = _cache_file()
    raw = read_private(path, 1_000_000) if path is not None else None
    try:
        data = json.loads(raw) if raw else {}
    except (ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_cache(cache: dict[str, Any]) -> None:
    import json

    from advisor.knowledge.parse_cache import write_private

    path = _cache_file()
    if path is None:
        return
    with contextlib.suppress(OSError, TypeError, ValueError):  # no cache: parse again next time
        write_private(path, json.dumps(cache).encode())


def _parse(path: Path) -> Any:
    import yaml

    # the C-accelerated safe loader where PyYAML has it (10x faster than the pure-Python one)
    safe: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        doc = yaml.load(path.read_text(encoding="utf-8")[:1_000_000], Loader=safe) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"invalid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(doc, dict):
        raise ValueError("the top level must be a mapping with a 'rates:' list")
    return doc
