"""Docs cannot drift: every command, finding code and catalog field is documented."""

from __future__ import annotations

import subprocess
import typing

import typer.main

from advisor.cli.app import app
from advisor.report import FindingCode
from tests.conftest import REPO

README = (REPO / "README.md").read_text()
CATALOG_README = (REPO / "catalog" / "README.md").read_text()


def _commands(group: object, prefix: str = "advisor") -> list[str]:
    out = []
    for name, cmd in group.commands.items():  # type: ignore[attr-defined]
        path = f"{prefix} {name}"
        if hasattr(cmd, "commands"):
            out += _commands(cmd, path)
        else:
            out.append(path)
    return out


def test_every_command_is_in_the_readme() -> None:
    commands = _commands(typer.main.get_group(app))
    assert len(commands) >= 10
    missing = [c for c in commands if c not in README]
    assert not missing, f"commands missing from README.md: {missing}"


def test_every_finding_code_is_in_the_readme() -> None:
    missing = [c for c in typing.get_args(FindingCode) if f"`{c}`" not in README]
    assert not missing, f"finding codes missing from README.md: {missing}"


def test_every_card_field_is_in_the_catalog_readme() -> None:
    from advisor.knowledge.cards import Card, Throughput

    fields = list(Card.model_fields) + [f"tflops.{f}" for f in Throughput.model_fields]
    missing = [f for f in fields if f"`{f}`" not in CATALOG_README]
    assert not missing, f"card fields missing from catalog/README.md: {missing}"


def test_every_compat_table_and_model_field_is_in_the_catalog_readme() -> None:
    from advisor.knowledge.compat import CompatTables
    from advisor.knowledge.models import ModelPreset

    names = list(CompatTables.model_fields) + list(ModelPreset.model_fields)
    missing = [f for f in names if f"`{f}`" not in CATALOG_README]
    assert not missing, f"fields missing from catalog/README.md: {missing}"


def test_ci_runs_the_readme_commands() -> None:
    """.ci/run extracts its commands from README's ci blocks: both blocks must exist and be non-empty."""
    script = (
        'block() { sed -n "/<!-- ci:$1 -->/,/<!-- \\/ci:$1 -->/p" README.md '
        "| grep -v -e '^<!--' -e '^```' -e '^[[:space:]]*$'; }; block setup; echo ===; block test"
    )
    out = subprocess.run(["bash", "-c", script], cwd=REPO, capture_output=True, text=True, check=True).stdout
    setup, tests = out.split("===")
    assert "pip install" in setup and "advisor check" in setup
    assert "pytest" in tests
    assert "block setup" in (REPO / ".ci" / "run").read_text()
