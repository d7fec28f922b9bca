"""Typed errors. The CLI turns each into one clear line on stderr and exit status 2."""

from __future__ import annotations


class AdvisorError(Exception):
    """Base class for errors the user can act on (bad input, bad usage)."""

    exit_code = 2


class InputError(AdvisorError):
    """Unreadable or unparseable input: a dump, a saved report, a requirement expression."""


class CatalogError(AdvisorError):
    """The knowledge catalog (shipped or the user's) failed validation.

    ``problems`` holds every problem found, each naming the file, the entry and the field.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid catalog:\n" + "\n".join(f"  - {p}" for p in problems))


class UsageError(AdvisorError):
    """A command was called with options that do not make sense together."""
