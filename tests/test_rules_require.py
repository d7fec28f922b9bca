"""`--require` gates: the parser (good, bad and fuzzed input) and the checks on recorded facts."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.version import Version

from advisor.errors import InputError
from advisor.knowledge.base import Knowledge
from advisor.knowledge.loader import load_knowledge
from advisor.machine import GPU, DriverInfo, Machine, TorchInfo
from advisor.rules.require import Requirement, check_requirements, parse_requirement

MIB = 2**20
GIB = 2**30


@pytest.fixture(scope="module")
def knowledge() -> Knowledge:
    return load_knowledge()


# --- parser ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expr,key,op,value",
    [
        ("memory>=24GiB", "memory", ">=", 24 * GIB),
        ("Memory >= 80 GB", "memory", ">=", 80 * 10**9),
        ("vram>512MiB", "memory", ">", 512 * MIB),
        ("cc>=8.0", "cc", ">=", (8, 0)),
        ("CC >= sm_90", "cc", ">=", (9, 0)),
        ("cc==8", "cc", "==", (8, 0)),
        ("compute_capability < 7.5", "cc", "<", (7, 5)),
        ("gpus>=2", "gpus", ">=", 2),
        ("GPUS = 1", "gpus", "==", 1),
        ("cuda>=12.1", "cuda", ">=", Version("12.1")),
        ("driver-cuda >= 12.4", "driver-cuda", ">=", Version("12.4")),
        ("driver_cuda>=12.4", "driver-cuda", ">=", Version("12.4")),
        ("driver>=535", "driver", ">=", Version("535")),
        ("driver != 550.54.14", "driver", "!=", Version("550.54.14")),
        ("torch>=2.1", "torch", ">=", Version("2.1")),
        ("torch<=2.5.1+cu124", "torch", "<=", Version("2.5.1+cu124")),
    ],
)
def test_parse_comparisons(expr: str, key: str, op: str, value: object) -> None:
    req = parse_requirement(expr)
    assert (req.key, req.op, req.value) == (key, op, value)


@pytest.mark.parametrize(
    "expr,feature",
    [("bf16", "bf16"), ("FP8", "fp8"), (" tf32 ", "tf32"), ("flash_attention_2", "flash-attention-2")],
)
def test_parse_bare_features(expr: str, feature: str) -> None:
    req = parse_requirement(expr, ["bf16", "fp8", "tf32", "flash-attention-2"])
    assert (req.key, req.feature) == ("feature", feature)


@pytest.mark.parametrize(
    "expr,words",
    [
        ("", "empty"),
        ("memory>=24", "unit"),
        ("memory>=lots", "size"),
        ("cc>=eight", "compute capability"),
        ("gpus>=two", "GPU count"),
        ("gpus>=-1", "GPU count"),
        ("driver>=latest", "version"),
        ("colour>=blue", "unknown key"),
        ("memory=>24GiB", "KEY OP VALUE"),
        ("memory", "needs a comparison"),
        (">=8.0", "KEY OP VALUE"),
        ("bf17", "unknown feature"),
        ("bf16; rm -rf /", "feature name"),
    ],
)
def test_parse_errors_are_clear(expr: str, words: str) -> None:
    with pytest.raises(InputError) as info:
        parse_requirement(expr, ["bf16", "fp8"])
    message = str(info.value)
    assert words in message and "Valid keys" in message


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_fuzzed_text_parses_or_raises_input_error(text: str) -> None:
    try:
        req = parse_requirement(text)
    except InputError:
        return
    assert isinstance(req, Requirement)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["memory", "cc", "gpus", "cuda", "driver", "torch", "driver-cuda", "Mem", "x"]),
    st.sampled_from([">=", ">", "<=", "<", "==", "!=", "=", "=>", "~"]),
    st.text(alphabet="0123456789.GiBMsm_ +-abc", max_size=12),
)
def test_fuzzed_comparisons(key: str, op: str, value: str) -> None:
    try:
        req = parse_requirement(f"{key}{op}{value}")
    except InputError:
        return
    assert req.key in {"memory", "cc", "gpus", "cuda", "driver", "torch", "driver-cuda"}


# --- checks ---------------------------------------------------------------------------------------------

# dumps/55-rtx4090x8-two-busy-swpowercap-idle-gen1-healthy: RTX 4090, 24564 MiB, driver 535.154.05,
# CUDA Version 12.2. Torch facts from dumps/12 (2.5.1+cu124, CUDA 12.4).
RTX4090 = GPU(
    index=0, name="NVIDIA GeForce RTX 4090", compute_capability="8.9", memory_total_bytes=24564 * MIB
)
# nvidia-smi/q-8x-h100-sxm-80gb-driver565.txt: "NVIDIA H100 80GB HBM3", FB Memory Total 81559 MiB.
H100 = GPU(index=1, name="NVIDIA H100 80GB HBM3", compute_capability="9.0", memory_total_bytes=81559 * MIB)
# dumps/53-rtx2080tix2-idle-swpowercap-gen1-xml-healthy: GeForce RTX 2080 Ti, 10989 MiB.
RTX2080TI = GPU(index=2, name="GeForce RTX 2080 Ti", compute_capability="7.5", memory_total_bytes=10989 * MIB)


def _machine(*gpus: GPU, torch: TorchInfo | None = None) -> Machine:
    return Machine(
        gpus=list(gpus),
        driver=DriverInfo(version="535.154.05", cuda_version="12.2"),
        torch=torch or TorchInfo(installed=True, version="2.5.1+cu124", cuda_version="12.4"),
    )


def _unmet(knowledge: Knowledge, machine: Machine, *exprs: str) -> list[str]:
    findings = check_requirements(machine, knowledge, list(exprs))
    assert all(f.code == "requirement-unmet" and f.severity == "error" for f in findings)
    return [f.title.removeprefix("Requirement not met: ") for f in findings]


def test_met_gates_produce_nothing(knowledge: Knowledge) -> None:
    machine = _machine(RTX4090, H100)
    gates = [
        "memory>=24GiB",  # 4090 reports 24564 MiB, 12 MiB short of 24 GiB: within the tolerance
        "memory>=24GB",
        "cc>=8.0",
        "bf16",
        "fp8",
        "tf32",
        "gpus>=2",
        "gpus>=1",
        "cuda>=12.1",
        "driver-cuda>=12.2",
        "driver>=535",
        "torch>=2.1",
        "torch==2.5.1",
        "torch<3",
    ]
    assert _unmet(knowledge, machine, *gates) == []


def test_h100_80gb_meets_80gib(knowledge: Knowledge) -> None:
    assert _unmet(knowledge, _machine(H100), "memory>=80GiB", "memory==80GiB", "flash-attention-3") == []


def test_unmet_gates_name_the_failing_gpu(knowledge: Knowledge) -> None:
    machine = _machine(RTX4090, RTX2080TI)
    findings = check_requirements(machine, knowledge, ["memory>=24GiB", "bf16", "cc>=8.0", "gpus>=4"])
    assert [f.title for f in findings] == [
        "Requirement not met: memory>=24GiB",
        "Requirement not met: bf16",
        "Requirement not met: cc>=8.0",
        "Requirement not met: gpus>=4",
    ]
    assert "GPU 2 (GeForce RTX 2080 Ti): 10.7 GiB" in findings[0].detail and "GPU 0" not in findings[0].detail
    assert "CC 7.5" in findings[1].detail
    assert "2 usable GPU(s)" in findings[3].detail


def test_flash_attention_2_rejects_blackwell(knowledge: Knowledge) -> None:
    rtx5090 = GPU(
        index=0, name="NVIDIA GeForce RTX 5090", compute_capability="12.0", memory_total_bytes=32607 * MIB
    )
    assert _unmet(knowledge, _machine(rtx5090), "flash-attention-2", "fp8") == ["flash-attention-2"]


def test_versions_below_the_gate(knowledge: Knowledge) -> None:
    # dumps/02-h100pcie-torch201-cu117-sm90: torch 2.0.1+cu117, CUDA 11.7.
    machine = _machine(H100, torch=TorchInfo(installed=True, version="2.0.1+cu117", cuda_version="11.7"))
    findings = check_requirements(
        machine, knowledge, ["torch>=2.1", "cuda>=12.1", "driver>=550", "flash-attention-3"]
    )
    assert len(findings) == 4
    assert "2.0.1+cu117" in findings[0].detail and "11.7" in findings[1].detail
    assert "535.154.05" in findings[2].detail


def test_prerelease_torch_counts_as_its_release(knowledge: Knowledge) -> None:
    # NGC containers ship torch versions like "2.2.0a0+81ea7a4".
    machine = _machine(H100, torch=TorchInfo(installed=True, version="2.2.0a0+81ea7a4", cuda_version="12.3"))
    assert _unmet(knowledge, machine, "torch>=2.2") == []


def test_unknown_facts_are_unmet_and_say_so(knowledge: Knowledge) -> None:
    # A bare nvidia-smi dump: no torch facts, a GPU of unknown memory and unknown CC.
    machine = Machine(gpus=[GPU(index=0, name="Imaginary GPU 9000")], driver=DriverInfo(version="535.154.05"))
    findings = check_requirements(
        machine, knowledge, ["torch>=2.1", "cuda>=12.1", "memory>=8GiB", "cc>=7.0", "bf16"]
    )
    assert len(findings) == 5
    assert all("could not verify" in f.detail for f in findings)


def test_memory_from_the_catalog_when_the_dump_lists_names_only(knowledge: Knowledge) -> None:
    # collect_env lists "GPU 0: NVIDIA H100 80GB HBM3" without sizes (fixture 12): the card is 80 GB.
    machine = Machine(gpus=[GPU(index=0, name="NVIDIA H100 80GB HBM3")])
    assert check_requirements(machine, knowledge, ["memory>=80GiB"]) == []
    [unmet] = check_requirements(machine, knowledge, ["memory>=96GiB"])
    assert "catalog size" in unmet.detail


def test_cpu_torch_build_has_no_cuda(knowledge: Knowledge) -> None:
    # dumps/30-rtx2080ti-torch131-cpu-build-indented: torch 1.3.1,
    # "CUDA used to build PyTorch: Could not collect".
    machine = _machine(RTX2080TI, torch=TorchInfo(installed=True, version="1.3.1", cuda_version=None))
    findings = check_requirements(machine, knowledge, ["cuda>=10.1"])
    assert len(findings) == 1 and "CPU-only" in findings[0].detail


def test_no_gpu_machine(knowledge: Knowledge) -> None:
    assert _unmet(knowledge, Machine(), "gpus>=1", "memory>=8GiB", "bf16") == [
        "gpus>=1",
        "memory>=8GiB",
        "bf16",
    ]
    assert _unmet(knowledge, Machine(), "gpus==0") == []


def test_lost_gpu_does_not_count(knowledge: Knowledge) -> None:
    machine = _machine(RTX4090, H100.model_copy(update={"lost": True}))
    assert _unmet(knowledge, machine, "gpus>=2") == ["gpus>=2"]


def test_unknown_gpu_list_is_unverifiable(knowledge: Knowledge) -> None:
    findings = check_requirements(Machine(gpus_known=False), knowledge, ["gpus>=1"])
    assert len(findings) == 1 and "could not verify" in findings[0].detail


def test_unknown_feature_is_input_error(knowledge: Knowledge) -> None:
    with pytest.raises(InputError, match="unknown feature"):
        check_requirements(_machine(RTX4090), knowledge, ["warp-drive"])


def test_no_requirements_no_findings(knowledge: Knowledge) -> None:
    assert check_requirements(_machine(RTX4090), knowledge, []) == []
