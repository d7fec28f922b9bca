"""Facts typed into issue-template fields and Markdown tables (advisor/dumps/fields.py): real answers
must be read; documentation tables, headings over paragraphs and compatibility tables must not become
facts about the machine; any mix of table and field lines parses or is refused (hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from advisor.diagnose import build_report
from advisor.dumps import fields, parse_dump
from advisor.knowledge.base import Knowledge
from advisor.knowledge.loader import load_knowledge
from advisor.machine import Machine
from tests.conftest import DATA

# https://github.com/sshaoshuai/PointRCNN/issues/128 (the description's environment list, verbatim)
POINTRCNN = """\
I am trying to run the training of RCNN network (train_rcnn.py). However, I get the following error: \
"no kernel image is available for execution on the device". The details of the system are as follows:

- CUDA : 10.0

- Python 3.6.9

- PyTorch : '1.3.0+cu92'

- GPU : GeForce GTX TITAN X

Could you please let me know any pointers to resolve this issue? Thank you in advance.
"""

# https://github.com/salesforce/decaNLP/blob/master/README.md: a heading over a paragraph
DECANLP = """\
### PyTorch Version
The research associated with the original paper was done using Pytorch 0.3, but we have since migrated \
to 0.4. If you want to replicate results from the paper, then to be safe, you should use the code at a \
commit on or before 3c4f94b.
"""

# Documentation tables in public repositories: a column glossary and a compatibility table.
GLOSSARY = """\
| Column | Description |
|--------|-------------|
| GPU | Primary GPU name |
| Driver | NVIDIA driver version |
| CUDA | System CUDA toolkit version |
| PyTorch | Installed PyTorch version |
"""
COMPATIBILITY = """\
| NVIDIA Driver Version | Supported CUDA Version | Flash Attention Support |
|----------------------|------------------------|----------------------|
| **550.54.14+** | **CUDA 12.4** | **Full Support** |
| 545.23.06+ | CUDA 12.3 | Full Support |
"""


@pytest.fixture(scope="module")
def knowledge() -> Knowledge:
    return load_knowledge()


def _scan(text: str) -> list[Machine]:
    lines = text.split("\n")
    return [p.machine for p in fields.scan(lines, bytearray(len(lines)))]


def test_template_fields_of_a_real_report() -> None:
    m = parse_dump(POINTRCNN)
    assert m.torch.version == "1.3.0+cu92"
    assert m.host.system_cuda_version == "10.0"  # the toolkit they named, not torch's or the driver's
    assert [g.name for g in m.gpus] == ["NVIDIA GeForce GTX TITAN X"]
    assert m.driver.cuda_version is None and m.torch.cuda_version in (None, "9.2")


def test_comfyui_report_fields_and_the_arch_verdict(knowledge: Knowledge) -> None:
    text = (DATA / "real/comfyui-7126-rtx5070ti-torch260-cu126/input.txt").read_text()
    report = build_report(parse_dump(text), knowledge)
    assert "arch-not-in-build" in {f.code for f in report.findings if f.severity in ("error", "warning")}


def test_issue_form_headings_and_a_header_table() -> None:
    (m,) = _scan("### GPU\n\nRTX 5090\n\n### PyTorch version\n\n2.6.0+cu124\n\n### OS\n\nWindows 11\n")
    assert m.torch.version == "2.6.0+cu124" and m.host.os == "Windows"
    assert [g.name for g in m.gpus] and "5090" in (m.gpus[0].name or "")
    (m,) = _scan(
        "| GPU | Driver | CUDA | torch |\n|---|---|---|---|\n| RTX 4090 | 550.54.14 | 12.4 | 2.3.0+cu121 |\n"
    )
    assert (m.driver.version, m.host.system_cuda_version, m.torch.version) == (
        "550.54.14",
        "12.4",
        "2.3.0+cu121",
    )


def test_other_accelerators_typed_as_the_gpu() -> None:
    (m,) = _scan("- OS: Linux\n- GPU: Intel UHD Graphics 620\n")
    assert m.host.accelerators == ["Intel integrated GPU (Intel UHD Graphics 620)"] and not m.gpus


@pytest.mark.parametrize("text", [DECANLP, GLOSSARY, COMPATIBILITY])
def test_documentation_is_not_the_machine(text: str) -> None:
    for m in _scan(text):
        assert m.torch.version is None and m.driver.version is None and not m.gpus
        assert m.host.system_cuda_version is None


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "| GPU | RTX 3090 |",
                "|---|---|",
                "| Driver | 535.1 |",
                "| a | b | c |",
                "|",
                "||",
                "- GPU: ",
                "- CUDA: 12.",
                "### GPU",
                "### ",
                "**Driver Version**: 999.99.99",
                "- PyTorch version - 2.1.0+cpu",
                "",
            ]
        ),
        max_size=14,
    ),
    st.text(alphabet="|-: #*`0123456789.GPU", max_size=120),
)
def test_any_mix_of_rows_and_fields(parts: list[str], noise: str) -> None:
    for m in _scan("\n".join([*parts, noise])):
        Machine.model_validate(m.model_dump())


def test_whole_lines_in_inline_code_are_unwrapped() -> None:
    from advisor.dumps.text import normalise

    # https://github.com/thuml/Autoformer/issues/25: the command and the call each wrapped in backticks
    text = normalise((DATA / "real/autoformer-25-cvd-1-on-single-gpu/input.txt").read_text())
    assert "\nexport CUDA_VISIBLE_DEVICES=1\n" in text and "\ntorch.cuda.is_available()\n" in text
    # a code span inside a sentence stays as written
    assert normalise("run `nvidia-smi` first\n") == "run `nvidia-smi` first\n"
    assert (
        parse_dump("`GPU 0: NVIDIA GeForce RTX 4090 (UUID: GPU-1234)`\n").gpus[0].name
        == "NVIDIA GeForce RTX 4090"
    )


# https://github.com/deepgenteam/deepgen/pull/4 (the test machine of a merged PR, bold keys)
DEEPGEN = """\
| Item | Configuration |
|---|---|
| **GPU** | NVIDIA L20 (14 GB VRAM) |
| **Driver** | 535.161.07 |
| **OS** | Linux 5.4.119 (glibc 2.28) |
| **Python** | 3.12.4 |
| **PyTorch** | 2.8.0+cu128 |
| **CUDA** | 12.8 |
| **cuDNN** | 9.10.02 |
"""


def test_spec_table_of_a_working_machine_is_read_and_healthy(knowledge: Knowledge) -> None:
    m = parse_dump(DEEPGEN)
    assert (m.driver.version, m.torch.version, m.host.system_cuda_version) == (
        "535.161.07",
        "2.8.0+cu128",
        "12.8",
    )
    assert [g.name for g in m.gpus] == ["NVIDIA L20"] and m.host.os == "Linux"
    report = build_report(m, knowledge)
    assert not [f for f in report.findings if f.severity in ("error", "warning")]


def test_diffusers_env_accelerator_field_is_nvidia_smi_csv() -> None:
    # diffusers' env.py: "- Accelerator: " + nvidia-smi --query-gpu=gpu_name,memory.total csv + " VRAM"
    text = (
        "- PyTorch version (GPU?): 2.4.1+cu121 (True)\n"
        "- Accelerator: NVIDIA GeForce RTX 3090, 24576 MiB\n"
        "NVIDIA GeForce RTX 3090, 24576 MiB VRAM\n"
        "- Using GPU in script?: <fill in>\n"
    )
    m = parse_dump(text)
    assert [g.name for g in m.gpus] == ["NVIDIA GeForce RTX 3090"] * 2
    assert m.gpus[0].memory_total_bytes == 24576 * 2**20 and m.driver.nvml_ok is True
    mac = parse_dump("- PyTorch version (GPU?): 2.2.1 (False)\n- Accelerator: Apple M2 Max VRAM: 32 GB\n")
    assert mac.host.os == "Darwin" and mac.host.accelerators == ["Apple M2 Max (Apple MPS)"] and not mac.gpus
    none = parse_dump("- PyTorch version (GPU?): 2.4.1+cu121 (True)\n- Accelerator: NA\n")
    assert not none.gpus


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "- Accelerator: ",
                "- Accelerator: NA",
                "Accelerator: Apple M1",
                "X, 12 MiB",
                "A, 1 MiB VRAM",
                ",",
                "",
            ]
        ),
        max_size=10,
    ),
    st.text(alphabet="ABC ,0123456789MiBVRA\n", max_size=80),
)
def test_accelerator_field_survives_any_mix(parts: list[str], noise: str) -> None:
    from advisor.dumps import hf_accelerator

    lines = [*parts, noise]
    for p in hf_accelerator.scan(lines, bytearray(len(lines))):
        Machine.model_validate(p.machine.model_dump())
        assert len(p.machine.gpus) <= 256
