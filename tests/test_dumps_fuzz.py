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
REAL_CORPUS = sorted((DUMPS.parent / "real").glob("*/input.txt"))
# Lines the evidence catalogue reads (kernel log, CUDA/NVML/torch errors), to be mangled below.
EVIDENCE_LINES = [
    "[   12.0] NVRM: API mismatch: the client has the version 570.153.02, but",
    "               NVRM: this kernel module has the version 570.144.  Please",
    "NVRM: The NVIDIA GeForce GTX 680 GPU installed in this system is",
    "NVRM:  supported through the NVIDIA 470.xx Legacy drivers. Please",
    "NVRM:  information.  The 550.54.14 NVIDIA driver will ignore",
    "NVRM: Xid (PCI:0000:3b:00): 79, pid=1, GPU has fallen off the bus.",
    "NVRM: GPU 0000:07:00.0: RmInitAdapter failed! (0x61:0x56:1770)",
    "NVRM: The NVIDIA GPU 0000:01:00.0 (PCI ID: 10de:1c82)",
    "NVRM: nvidia.ko because it does not include the required GPU",
    "RuntimeError: CUDA error: CUDA-capable device(s) is/are busy or unavailable",
    "cuda runtime error (999) : unknown error at THCGeneral.cpp:47",
    "Found GPU0 NVIDIA GeForce GTX 1060 which is of compute capability (CC) 6.1.",
    "- 7.5 which supports hardware CC >=7.5,<8.0",
    "NVIDIA GeForce RTX 5090 with CUDA capability sm_120 is not compatible with the current PyTorch"
    " installation.",
    "The current PyTorch install supports CUDA capabilities sm_50 sm_60 sm_70 sm_75 sm_80 sm_86 sm_90.",
    "CUDA_VISIBLE_DEVICES='' python train.py",
    "Device: cuda:0 NVIDIA GeForce RTX 4090 : cudaMallocAsync",
    "pytorch.version:                                   1.13.1+cu117",
    "torch version .................... 2.1.0+cu121",
    "<clocks_event_reasons><clocks_event_reason_gpu_idle>Active</clocks_event_reason_gpu_idle>",
    '        "nvidia_gpu_models": "GPU 0: Tesla T4\\nGPU 1: Tesla T4",',
    "torch                    2.1.0+cu121",
    "Collecting environment information...",
    "PyTorch version: 2.1.0+cu121",
    "|   0  NVIDIA A100-SXM4-80GB  On   | 00000000:07:00.0 Off |                    0 |",
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


def test_every_real_corpus_paste_parses_or_is_refused() -> None:
    for path in REAL_CORPUS:
        parse_or_refuse(path.read_text(errors="replace"))


@FUZZ
@given(
    st.lists(
        st.one_of(
            st.sampled_from(EVIDENCE_LINES),
            st.sampled_from(EVIDENCE_LINES).map(lambda s: s[: len(s) // 2]),
            st.sampled_from(EVIDENCE_LINES).map(lambda s: s.replace(" ", "  ")),
            st.text(max_size=80),
        ),
        max_size=40,
    )
)
def test_mangled_evidence_lines(lines: list[str]) -> None:
    parse_or_refuse("\n".join(lines))


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
