"""Rent data and the software floor the ranking relies on: sourced, dated, consistent with the catalog."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from advisor.errors import InputError
from advisor.knowledge.loader import load_cards_and_models
from advisor.recommend.prices import load_rates
from advisor.recommend.rank import TORCH_MIN_CC, TORCH_NEWEST, TORCH_NEWEST_MIN_CC
from tests.conftest import REPO


def test_every_rate_names_a_catalog_card_a_source_and_a_date() -> None:
    rates = load_rates()
    cards = {c.id for c in load_cards_and_models().cards}
    assert len(rates) >= 10 and set(rates) <= cards
    for rate in rates.values():
        assert 0.05 < rate.usd_per_hour < 100
        assert re.fullmatch(r"20\d\d-\d\d", rate.date) and rate.source.startswith("https://")
    # data-centre cards, not only consumer ones, have a price now
    assert {"h100-sxm5-80gb", "a100-sxm4-80gb", "l40s", "h200-sxm", "b200"} <= set(rates)


def test_a_user_price_list_overrides_and_a_broken_one_is_one_error(tmp_path: Path) -> None:
    (tmp_path / "prices").mkdir()
    (tmp_path / "prices" / "mine.yaml").write_text(
        "rates:\n  - {card: rtx-4090, usd_per_hour: 0.25, provider: me, date: 2026-12, source: 'https://x'}\n"
    )
    assert load_rates(tmp_path)["rtx-4090"].usd_per_hour == 0.25
    (tmp_path / "prices" / "bad.yaml").write_text("rates:\n  - {card: x, usd_per_hour: .inf}\n")
    with pytest.raises(InputError, match="not a price list"):
        load_rates(tmp_path)


def test_the_pytorch_floors_match_the_compat_tables() -> None:
    # catalog/compat/torch.yaml: the lowest sm_XY the two newest Linux releases carry
    compat = yaml.safe_load((REPO / "catalog" / "compat" / "torch.yaml").read_text())
    rows = [r for r in compat["torch_arch_lists"]["entries"] if r["platform"] == "linux-x86_64"]
    releases = sorted({tuple(int(x) for x in rel.split(".")) for r in rows for rel in r["releases"]})

    def floor(release: tuple[int, ...]) -> tuple[int, int]:
        name = ".".join(map(str, release))
        archs = [a for r in rows if name in r["releases"] for a in r["arch_list"] if a.startswith("sm_")]
        return min((int(a[3:-1]), int(a[-1])) for a in archs)

    assert ".".join(map(str, releases[-1])) == TORCH_NEWEST
    assert floor(releases[-1]) == TORCH_NEWEST_MIN_CC
    assert floor(releases[-2]) == TORCH_MIN_CC


def test_a_warm_start_reads_rates_without_pyyaml(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "ADVISOR_CACHE_DIR": str(tmp_path / "cache")}
    code = (
        "import sys\nfrom advisor.recommend.prices import load_rates\n"
        "r = load_rates()\nprint(len(r), 'yaml' in sys.modules)\n"
    )
    first = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    second = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert first.stdout.split()[0] == second.stdout.split()[0] != "0"
    assert second.stdout.split()[1] == "False"
    # a cache another user could write is ignored (the catalog caches' trust rules)
    (tmp_path / "cache").chmod(0o777)
    third = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert third.stdout.split()[0] == first.stdout.split()[0]
