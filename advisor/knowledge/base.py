"""The Knowledge container handed to rules, recommendations and the catalog commands."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from advisor.knowledge.cards import Card
    from advisor.knowledge.compat import CompatTables
    from advisor.knowledge.models import ModelPreset


@dataclass(frozen=True)
class Knowledge:
    """Validated catalog content. Build it with ``advisor.knowledge.loader.load_knowledge``."""

    cards: tuple[Card, ...]
    compat: CompatTables
    models: tuple[ModelPreset, ...] = ()
    sources: tuple[str, ...] = field(default=())  # the directories it was loaded from, in order
