"""Robustness: random text, mutated real dumps, binary junk, huge inputs → a Machine or an InputError."""

from __future__ import annotations

import random
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from advisor.dumps import parse_dump, read_dump
from advisor.errors import InputError
from advisor.machine import Machine
from tests.conftest import DUMPS, SMI

REAL = [p.read_text(errors="replace") for p in sorted(DUMPS.glob("*/input.txt"))] + [
    p.read_text(errors="replace") for p in sorted(SMI.glob("q*"))
]
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def parse_or_refuse(text: str) -> Machine | None:
    """The contract: a Machine, or InputError; any other exception fails the test."""
    try:
        m = parse_dump(text)
    except InputError as e:
        assert str(e)
        return None
    Machine.model_validate(m.model_dump())  # the result is a valid, serialisable record
    m.model_dump_json()
    return m


@FUZZ
@given(st.text(max_size=3000))
def test_random_text(text: str) -> None:
    parse_or_refuse(text)


@FUZZ
@given(st.binary(max_size=3000))
def test_binary_junk(data: bytes) -> None:
    parse_or_refuse(data.decode("utf-8", errors="replace"))


@st.composite
def mutated(draw: st.DrawFn) -> str:
    lines = draw(st.sampled_from(REAL)).splitlines()
    rng = random.Random(draw(st.integers(0, 2**32)))
    junk = [
        "",
        "   ",
        "[...]",
        "N/A",
        "GPU 0:",
        ": :",
        "|",
        "+---+",
        "<gpu>",
        "</gpu>",
        "\x00",
        "é",
        "  Pending : Yes",
    ]
    for _ in range(draw(st.integers(0, 12))):
        if not lines:
            break
        i = rng.randrange(len(lines))
        op = rng.choice(("delete", "duplicate", "swap", "junk", "cut", "indent"))
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "junk":
            lines.insert(i, rng.choice(junk))
        elif op == "cut":
            lines[i] = lines[i][: rng.randrange(len(lines[i]) + 1)]
        else:
            lines[i] = " " * rng.randrange(12) + lines[i].lstrip()
    text = "\n".join(lines)
    if draw(st.booleans()):
        text = text[: draw(st.integers(0, len(text)))]  # a paste cut at a random point
    return text


@FUZZ
@given(mutated())
def test_mutated_real_dumps(text: str) -> None:
    parse_or_refuse(text)


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(REAL), st.integers(0, 10**6))
def test_truncated_real_dumps_keep_their_kind(text: str, cut: int) -> None:
    head = text[: max(200, cut % (len(text) + 1))]
    m = parse_or_refuse(head)
    if m is not None:
        assert m.source != "live"


def test_fifty_megabytes(tmp_path: Path) -> None:
    """A 50 MB file (a real -q dump repeated, plus junk lines) is read in bounded time and memory."""
    real = (SMI / "q-8x-h100-sxm-80gb-driver565.txt").read_text()
    rng = random.Random(7)
    chunk = real + "\n" + "".join(rng.choice("abc :|+\t=-0123456789<>\n") for _ in range(20_000)) + "\n"
    path = tmp_path / "big.txt"
    with path.open("w") as f:
        for _ in range(50 * 2**20 // len(chunk) + 1):
            f.write(chunk)
    assert path.stat().st_size > 50 * 2**20
    m = read_dump(str(path))
    assert len(m.gpus) == 8 and m.driver.version == "565.57.01"


def test_fifty_megabytes_of_one_line() -> None:
    try:
        parse_dump("x" * (50 * 2**20))
    except InputError as e:
        assert "no collect_env" in str(e)
