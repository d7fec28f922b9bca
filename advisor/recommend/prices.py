"""Cloud rent per GPU-hour from catalog/prices/*.yaml (sourced and dated), keyed by card id."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from advisor.errors import InputError
from advisor.recommend.rank import Rate


def load_rates(catalog_dir: Path | None = None) -> dict[str, Rate]:
    """Every rate in the shipped catalog's prices/ folder (and a user catalog's, which wins)."""
    import yaml

    from advisor.knowledge.loader import shipped_catalog_dir

    # the C-accelerated safe loader where PyYAML has it (10x faster; this runs on every `recommend`)
    safe: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    dirs = [shipped_catalog_dir() / "prices"]
    if catalog_dir is not None:
        dirs.append(Path(catalog_dir) / "prices")
    out: dict[str, Rate] = {}
    for folder in dirs:
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.yaml")):
            try:
                doc = yaml.load(path.read_text(encoding="utf-8")[:1_000_000], Loader=safe) or {}
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
            except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError, AttributeError) as exc:
                raise InputError(f"{path}: not a price list ({exc})") from None
    return out
