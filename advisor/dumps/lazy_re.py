"""Regular expressions compiled on first use, for patterns most pastes never need.

Compiling costs ~0.1 ms a pattern, paid by every ``advisor check --from`` at import time; a pattern that
only reads a rare line (an NVML error, an lspci line, a markdown fence) is better compiled when one
turns up. ``LazyPattern`` has the few ``re.Pattern`` methods the parsers use, with the same results.
"""

from __future__ import annotations

import re
import sys
from typing import Any


class LazyPattern:
    """``re.compile(pattern, flags)``, done on the first match, search, findall or sub."""

    __slots__ = ("_compiled", "_flags", "_pattern")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self._pattern = pattern
        self._flags = flags
        self._compiled: re.Pattern[str] | None = None

    @property
    def compiled(self) -> re.Pattern[str]:
        """The compiled pattern (compiled now if this is its first use)."""
        if self._compiled is None:
            self._compiled = re.compile(self._pattern, self._flags)
        return self._compiled

    def match(self, string: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        """As ``re.Pattern.match``."""
        return self.compiled.match(string, pos, endpos)

    def search(self, string: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        """As ``re.Pattern.search``."""
        return self.compiled.search(string, pos, endpos)

    def findall(self, string: str, pos: int = 0, endpos: int = sys.maxsize) -> list[Any]:
        """As ``re.Pattern.findall``."""
        return self.compiled.findall(string, pos, endpos)

    def sub(self, repl: str, string: str, count: int = 0) -> str:
        """As ``re.Pattern.sub`` (with a replacement string)."""
        return self.compiled.sub(repl, string, count)

    def __repr__(self) -> str:
        return f"LazyPattern({self._pattern!r}, {self._flags!r})"
