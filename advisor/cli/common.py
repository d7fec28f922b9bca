"""Options and helpers shared by every command (defined once, as sqlite-utils does)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from pydantic import BaseModel
    from rich.console import Console

    from advisor.knowledge.base import Knowledge

JSON_OPTION = typer.Option(False, "--json", help="Print machine-readable JSON on stdout, nothing else.")
CATALOG_OPTION = typer.Option(
    None,
    "--catalog",
    envvar="ADVISOR_CATALOG",
    help="A directory of your own catalog YAML (cards/, compat/, models/) "
    "that extends or overrides the shipped one.",
    file_okay=False,
)


def console(stderr: bool = False) -> Console:
    """A rich console that honours NO_COLOR and plain pipes."""
    from rich.console import Console

    # emoji=False: a GPU or host name containing ":name:" must print as written.
    return Console(stderr=stderr, no_color="NO_COLOR" in os.environ, highlight=False, emoji=False)


def get_knowledge(catalog_dir: Path | None) -> Knowledge:
    from advisor.knowledge.loader import load_knowledge

    return load_knowledge(catalog_dir)


def emit_json(data: BaseModel | list[Any] | dict[str, Any]) -> None:
    """Write JSON to stdout: a pydantic model via its JSON mode, or plain data."""
    from pydantic import BaseModel

    if isinstance(data, BaseModel):
        text = data.model_dump_json(indent=2)
    else:
        text = json.dumps(data, indent=2, default=_default)
    sys.stdout.write(text + "\n")


def _default(obj: object) -> object:
    from pydantic import BaseModel

    if isinstance(obj, BaseModel):
        return obj.model_dump(mode="json")
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
