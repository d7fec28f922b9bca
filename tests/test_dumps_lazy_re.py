"""LazyPattern: compiled on first use, and then the same answers as the compiled pattern."""

from __future__ import annotations

import re

import pytest

from advisor.dumps.lazy_re import LazyPattern

NVML = r"Failed to initialize NVML:\s*(.+?)\s*$"
LINES = [
    "Failed to initialize NVML: Driver/library version mismatch",
    "  Failed to initialize NVML:   Unknown Error  ",
    "NVML library version: 570.124",
    "",
]


def test_nothing_is_compiled_before_first_use(monkeypatch: pytest.MonkeyPatch) -> None:
    compiled: list[str] = []
    real = re.compile

    def spy(pattern: str, flags: int = 0) -> re.Pattern[str]:
        compiled.append(pattern)
        return real(pattern, flags)

    monkeypatch.setattr(re, "compile", spy)
    lazy = LazyPattern(NVML)
    assert compiled == []
    assert lazy.search(LINES[0]) is not None
    assert lazy.search(LINES[1]) is not None
    assert compiled == [NVML]  # once, on the first search


@pytest.mark.parametrize("line", LINES)
def test_match_search_and_groups_agree_with_re(line: str) -> None:
    lazy, eager = LazyPattern(NVML), re.compile(NVML)
    for mine, theirs in ((lazy.search(line), eager.search(line)), (lazy.match(line), eager.match(line))):
        assert (mine and mine.groups()) == (theirs and theirs.groups())


def test_flags_positions_findall_and_sub() -> None:
    arch = LazyPattern(r"(?:SM|compute)_\d+[a-z]?", re.IGNORECASE)
    text = "arch list: sm_80 sm_86 compute_90a"
    assert arch.findall(text) == ["sm_80", "sm_86", "compute_90a"]
    assert arch.findall(text, 17) == ["sm_86", "compute_90a"]
    assert arch.search(text, 0, 14) is None  # endpos cuts "sm_80" short of its digits
    assert arch.sub("X", text) == "arch list: X X X"
    assert arch.sub("X", text, count=1) == "arch list: X sm_86 compute_90a"
