"""PyTorch's cuDNN version check (catalog/evidence/cudnn.yaml): its three wordings over the releases
must establish cudnn-version-mismatch with both versions; printing the version or prose must not."""

from __future__ import annotations

import pytest

from advisor.diagnose import build_report
from advisor.dumps import parse_dump
from advisor.errors import InputError
from advisor.knowledge.base import Knowledge
from advisor.knowledge.loader import load_knowledge
from advisor.report import Report
from tests.conftest import DATA

REAL = DATA / "real"


@pytest.fixture(scope="module")
def knowledge() -> Knowledge:
    return load_knowledge()


def _report(text: str, knowledge: Knowledge) -> Report:
    return build_report(parse_dump(text), knowledge)


@pytest.mark.parametrize(
    ("slug", "compiled", "runtime"),
    [
        # torch 0.4: integer versions, "mismatch ... linked against"
        ("centernet-119-cudnn-mismatch-7102-vs-7605-old-format", "7102", "7605"),
        # torch 1.12: tuples, "incompatibility ... linked against"
        ("functorch-926-cudnn-ld-library-path-803-vs-832", "(8, 3, 2)", "(8, 0, 3)"),
        # torch 1.13+: "found runtime version", the LD_LIBRARY_PATH advice, "compiled  against"
        ("gladia-928-cudnn-850-vs-841-repl", "(8, 5, 0)", "(8, 4, 1)"),
    ],
)
def test_torch_cudnn_mismatch_wordings(slug: str, compiled: str, runtime: str, knowledge: Knowledge) -> None:
    text = (REAL / slug / "input.txt").read_text()
    m = parse_dump(text)
    ev = [e for e in m.evidence if e.code == "cudnn-version-mismatch"]
    assert ev and ev[0].facts["cudnn_compiled"] == compiled and ev[0].facts["cudnn_runtime"] == runtime
    report = _report(text, knowledge)
    found = [f for f in report.findings if f.code == "cudnn-version-mismatch"]
    assert len(found) == 1 and found[0].severity == "error"
    assert compiled in found[0].title and runtime in found[0].title
    assert found[0].fix and "LD_LIBRARY_PATH" in found[0].fix
    assert not {f.code for f in report.findings} & {"driver-too-old", "no-driver", "torch-cpu-only"}


@pytest.mark.parametrize(
    "text",
    [
        # the version printed by a working install
        ">>> import torch\n>>> torch.backends.cudnn.version()\n8902\n>>> torch.cuda.is_available()\nTrue\n",
        # someone asking about the message, with no versions
        "RuntimeError: cuDNN version incompatibility: PyTorch was compiled against ... (see above)\n",
        # collect_env's cuDNN line
        "cuDNN version: Probably one of the following:\n/usr/lib/x86_64-linux-gnu/libcudnn.so.8.9.2\n",
    ],
)
def test_no_mismatch_without_both_versions(text: str, knowledge: Knowledge) -> None:
    try:
        report = _report(text, knowledge)
    except InputError:
        return  # nothing recognisable: refused, which is not a finding either
    assert "cudnn-version-mismatch" not in {f.code for f in report.findings}
