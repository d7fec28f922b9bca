"""Facts stated in sentences and commands (advisor/dumps/prose.py): real pastes that hold only prose
must be read; a tool's own output always wins, and negations, suggestions and error texts must not
become facts."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from advisor.diagnose import build_report
from advisor.dumps import parse_dump, prose
from advisor.knowledge.base import Knowledge
from advisor.knowledge.loader import load_knowledge
from advisor.machine import Machine
from advisor.report import Report
from tests.conftest import DATA

REAL = DATA / "real"


@pytest.fixture(scope="module")
def knowledge() -> Knowledge:
    return load_knowledge()


def _real(slug: str) -> str:
    return (REAL / slug / "input.txt").read_text()


def _report(text: str, knowledge: Knowledge) -> Report:
    return build_report(parse_dump(text), knowledge)


def _alarms(report: Report) -> set[str]:
    return {f.code for f in report.findings if f.severity in ("error", "warning")}


def _scan(text: str) -> list[Machine]:
    lines = text.split("\n")
    return [p.machine for p in prose.scan(lines, bytearray(len(lines)))]


def test_modal_t4_with_a_rocm_nightly_index_is_rocm_build_on_nvidia(knowledge: Knowledge) -> None:
    text = _real("modal-examples-681-rocm-torch-on-t4")
    m = parse_dump(text)
    assert [g.name for g in m.gpus] == ["Tesla T4"] and m.torch.hip_version == "6.0"
    assert "rocm-build-on-nvidia" in _alarms(_report(text, knowledge))


def test_rocm_tag_in_a_sentence_with_an_nvidia_gpu(knowledge: Knowledge) -> None:
    text = _real("a1111-759-rocm-torch-on-ryzen-igpu-plus-nvidia")
    assert parse_dump(text).torch.hip_version == "5.2"
    alarms = _alarms(_report(text, knowledge))
    assert "rocm-build-on-nvidia" in alarms and "no-gpu" not in alarms


def test_intel_graphics_in_prose_with_nvidia_negated_is_no_gpu(knowledge: Knowledge) -> None:
    text = _real("pytorch-39028-intel-hd4000-found-no-nvidia-driver")
    m = parse_dump(text)
    assert m.host.accelerators == ["Intel integrated GPU (HD graphics 4000)"] and not m.gpus
    report = _report(text, knowledge)
    assert "no-gpu" in {f.code for f in report.findings}
    assert not _alarms(report) & {"no-driver", "driver-too-old", "torch-cpu-only"}


def test_app_naming_the_gpu_is_read_and_its_cpu_fallback_is_not_no_gpu(knowledge: Knowledge) -> None:
    text = _real("voicestudio-1285-rtx4060-sm89-app-exact-match-trap")
    assert [g.name for g in parse_dump(text).gpus] == ["NVIDIA GeForce RTX 4060"]
    # the app's suggestion "Try: pip install torch --index-url .../cu128" is not what is installed
    assert parse_dump(text).torch.cuda_version is None
    assert not _alarms(_report(text, knowledge))


@pytest.mark.parametrize(
    "slug",
    [
        "ccminer-msvc2015-9-nouveau-920m",  # lspci names the GeForce 920M: the bus view wins
        "wsl-3847-wsl1-no-gpu-access",  # "NVIDIA GeForce 930MX" in prose + nvidia-smi failing
    ],
)
def test_a_gpu_named_in_prose_does_not_hide_a_driver_failure(slug: str, knowledge: Knowledge) -> None:
    assert "no-driver" in _alarms(_report(_real(slug), knowledge))


@pytest.mark.parametrize(
    "text",
    [
        "I don't have an NVIDIA GPU, only the CPU. Is there a GTX-free way?",
        "This does not work without an RTX 4090?",
        "Install the CUDA wheel: pip install torch --index-url https://download.pytorch.org/whl/cu121 if you "
        "want the GPU",  # advice in a sentence, not a command that ran
        "The paper used NVIDIA A100 80GB GPUs; I have no nvidia card and use an Intel Arc A770 instead",
    ],
)
def test_negations_and_advice_are_not_facts(text: str) -> None:
    for m in _scan(text):
        assert all(g.name is None or "A100" not in g.name for g in m.gpus)
        assert not any(g.name and ("4090" in g.name or "GTX" in g.name) for g in m.gpus)
        assert m.torch.cuda_version is None


def test_a_tool_reporting_torch_wins_over_an_install_command() -> None:
    text = (
        "pip install torch --index-url https://download.pytorch.org/whl/rocm6.0\n"
        "PyTorch version: 2.3.0+cu121\nIs CUDA available: True\n"
    )
    assert all(m.torch.hip_version is None for m in _scan(text))


def test_pinned_install_command_gives_the_version() -> None:
    (m,) = _scan(
        "$ pip3 install torch==2.1.2 torchvision --index-url https://download.pytorch.org/whl/cu118\n"
    )
    assert m.torch.version == "2.1.2+cu118" and m.torch.cuda_version == "11.8"


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "I have an NVIDIA GeForce RTX 3060",
                "not using nvidia",
                'gpu="Nvidia T4",',
                "pip install torch --index-url https://download.pytorch.org/whl/rocm6.0",
                "cd x && pip install torch==2.0.1+cu117",
                "torch +cpu",
                "Intel HD graphics 4000",
                "AMD Radeon RX 6800 XT",
                "NVIDIA-SMI has failed",
                "",
                "GeForce",
                "Radeon",
            ]
        ),
        max_size=12,
    ),
    st.text(max_size=200),
)
def test_prose_scanner_survives_any_mix(parts: list[str], noise: str) -> None:
    for m in _scan("\n".join([*parts, noise])):
        Machine.model_validate(m.model_dump())
        assert len(m.gpus) <= 8


def test_retyped_legacy_refusal_is_driver_drops_gpu(knowledge: Knowledge) -> None:
    text = _real("bazzite-3972-gt710m-390-legacy-handtyped")  # "NVIDA 390.xx Legacy", "GT 7170M" as typed
    (refusal,) = parse_dump(text).driver.refused_gpus or []
    assert refusal.legacy_branch == "390" and refusal.name == "NVIDIA GeForce GT 7170M"
    found = [f for f in _report(text, knowledge).findings if f.code == "driver-drops-gpu"]
    assert len(found) == 1 and "390" in found[0].title


def test_a_kernel_log_legacy_line_is_left_to_the_evidence_catalogue() -> None:
    text = _real("nixos-hardware-1828-xps9550-legacy-580-journal")
    assert all(not m.driver.refused_gpus for m in _scan(text))
    line = (
        "kernel: NVRM: The NVIDIA GeForce GTX 680 GPU installed in this system is supported through the "
        "NVIDIA 470.xx Legacy drivers. Please visit http://www.nvidia.com/object/unix.html\n"
    )
    assert all(not m.driver.refused_gpus for m in _scan(line))


def test_legacy_words_without_a_branch_are_not_a_refusal() -> None:
    text = "The driver installed in this system is supported through the vendor's legacy channel.\n"
    assert all(not m.driver.refused_gpus for m in _scan(text))
