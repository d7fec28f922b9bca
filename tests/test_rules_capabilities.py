"""capabilities(): what each GPU is good for, from the features table and the card catalog.

GPU names and torch CUDA versions are copied from the fixture dumps cited next to each case.
"""

from __future__ import annotations

import pytest

from advisor.knowledge.base import Knowledge
from advisor.knowledge.features import Feature
from advisor.knowledge.loader import load_knowledge
from advisor.machine import GPU, HostInfo, Machine, TorchInfo
from advisor.report import Recommendation
from advisor.rules.capabilities import capabilities


@pytest.fixture(scope="module")
def knowledge() -> Knowledge:
    return load_knowledge()


def _by_topic(recs: list[Recommendation], gpu: int | None = None) -> dict[str, Recommendation]:
    return {r.topic: r for r in recs if r.gpu == gpu}


def _machine(*names: str, cuda: str | None = "12.4", cc: str | None = None) -> Machine:
    gpus = [GPU(index=i, name=n, compute_capability=cc) for i, n in enumerate(names)]
    return Machine(gpus=gpus, torch=TorchInfo(installed=True, cuda_version=cuda))


def test_h100_node_supports_everything_once_machine_wide(knowledge: Knowledge) -> None:
    # dumps/12-h100x8-torch251-cu124-driver550-healthy: 8x "NVIDIA H100 80GB HBM3", torch CUDA 12.4.
    recs = capabilities(_machine(*["NVIDIA H100 80GB HBM3"] * 8, cuda="12.4"), knowledge)
    assert all(r.gpu is None for r in recs)  # identical GPUs: answered once
    topics = _by_topic(recs)
    assert topics["precision"].value == "bf16"
    for topic in ("tf32", "flash-attention-2", "flash-attention-3", "fp8", "torch-compile"):
        assert topics[topic].supported is True, topic
    assert "all 8 GPUs" in topics["precision"].reason and "CC 9.0" in topics["precision"].reason


def test_flash_attention_3_needs_cuda_12_3(knowledge: Knowledge) -> None:
    # dumps/02-h100pcie-torch201-cu117-sm90: "NVIDIA H100 PCIe", torch built with CUDA 11.7.
    topics = _by_topic(capabilities(_machine("NVIDIA H100 PCIe", cuda="11.7"), knowledge), 0)
    assert topics["flash-attention-3"].supported is False
    assert "12.3" in topics["flash-attention-3"].reason and "11.7" in topics["flash-attention-3"].reason
    assert topics["flash-attention-2"].supported is True


def test_flash_attention_3_unknown_without_torch_cuda(knowledge: Knowledge) -> None:
    topics = _by_topic(capabilities(_machine("NVIDIA H100 PCIe", cuda=None), knowledge), 0)
    assert topics["flash-attention-3"].supported is None


def test_turing_gets_fp16_with_loss_scaling(knowledge: Knowledge) -> None:
    # dumps/30-rtx2080ti-torch131-cpu-build-indented: "GeForce RTX 2080 Ti" (CC 7.5).
    topics = _by_topic(capabilities(_machine("GeForce RTX 2080 Ti", cc="7.5"), knowledge), 0)
    assert topics["precision"].value == "fp16" and "GradScaler" in topics["precision"].reason
    assert topics["tf32"].supported is False
    assert topics["flash-attention-2"].supported is False
    assert topics["fp8"].supported is False
    assert topics["torch-compile"].supported is True


def test_volta_compile_works_but_not_officially(knowledge: Knowledge) -> None:
    # dumps/57-titan-v-idle-gen1-p8-healthy: "NVIDIA TITAN V" (CC 7.0 from the catalog).
    topics = _by_topic(capabilities(_machine("NVIDIA TITAN V"), knowledge), 0)
    assert topics["precision"].value == "fp16"
    assert topics["torch-compile"].supported is True and "8.0" in topics["torch-compile"].reason


def test_pascal_has_no_tensor_cores_and_no_triton(knowledge: Knowledge) -> None:
    # dumps/44-gtx1070x6-ethminer-pcie-x1-risers-xml: "GeForce GTX 1070" (CC 6.1).
    topics = _by_topic(capabilities(_machine("GeForce GTX 1070", cc="6.1"), knowledge), 0)
    assert topics["precision"].value == "fp32"
    assert topics["torch-compile"].supported is False and "7.0" in topics["torch-compile"].reason


def test_ada_has_fp8_but_no_fa3(knowledge: Knowledge) -> None:
    # dumps/54-rtx4090-idle-gen1-of-3-xml-healthy: "NVIDIA GeForce RTX 4090" (CC 8.9).
    topics = _by_topic(capabilities(_machine("NVIDIA GeForce RTX 4090", cc="8.9"), knowledge), 0)
    assert topics["fp8"].supported is True
    assert topics["flash-attention-2"].supported is True
    assert topics["flash-attention-3"].supported is False


def test_blackwell_is_rejected_by_flash_attention_2(knowledge: Knowledge) -> None:
    # compat.md §4: FA2's source check accepts only major 8 or exactly 9.0. RTX 5090 is CC 12.0.
    topics = _by_topic(
        capabilities(_machine("NVIDIA GeForce RTX 5090", cc="12.0", cuda="12.8"), knowledge), 0
    )
    assert topics["flash-attention-2"].supported is False and "newer" in topics["flash-attention-2"].reason
    assert topics["precision"].value == "bf16" and topics["fp8"].supported is True


def test_mixed_machine_answers_per_gpu(knowledge: Knowledge) -> None:
    recs = capabilities(_machine("NVIDIA GeForce RTX 4090", "GeForce GTX 1070"), knowledge)
    assert {r.gpu for r in recs} == {0, 1}
    assert _by_topic(recs, 0)["precision"].value == "bf16"
    assert _by_topic(recs, 1)["precision"].value == "fp32"


def test_unknown_gpu_says_unknown(knowledge: Knowledge) -> None:
    recs = capabilities(_machine("Imaginary GPU 9000"), knowledge)
    assert [(r.topic, r.supported, r.value) for r in recs] == [("precision", None, "unknown")]


def test_record_cc_is_used_when_card_is_unknown(knowledge: Knowledge) -> None:
    recs = capabilities(_machine("Imaginary GPU 9000", cc="8.0"), knowledge)
    assert _by_topic(recs, 0)["precision"].value == "bf16"


@pytest.mark.parametrize(
    "flags,value",
    [
        (["avx2", "avx512f", "amx_bf16", "amx_tile"], "bf16"),  # Sapphire Rapids flags (/proc/cpuinfo)
        (["avx2", "fma"], "fp32"),
        (None, "fp32"),
    ],
)
def test_cpu_only_machine(knowledge: Knowledge, flags: list[str] | None, value: str) -> None:
    recs = capabilities(Machine(host=HostInfo(cpu_flags=flags)), knowledge)
    assert [(r.topic, r.gpu, r.value) for r in recs] == [("precision", None, value)]


def test_unknown_gpu_list_gives_nothing(knowledge: Knowledge) -> None:
    assert capabilities(Machine(gpus_known=False), knowledge) == []


def test_features_table_loads_with_sources(knowledge: Knowledge) -> None:
    entries = list(knowledge.compat.features.entries)
    ids = {f.id for f in entries}
    assert {"bf16", "tf32", "fp8", "flash-attention-2", "flash-attention-3", "torch-compile"} <= ids
    assert all(f.source for f in entries)


def test_feature_predicates() -> None:
    fa3 = Feature(id="fa3", name="FA3", min_cc="9.0", max_cc="9.0", min_cuda="12.3", source="compat.md §4")
    assert fa3.supports((9, 0), "12.4") is True
    assert fa3.supports((9, 0), "12.1") is False
    assert fa3.supports((9, 0), None) is None
    assert fa3.supports((8, 0), None) is False
    assert fa3.supports(None, "12.4") is None
    fp16 = Feature(id="x", name="x", min_cc="7.0", except_chips=["TU116"], source="s")
    assert fp16.excludes_chip("tu116") and not fp16.excludes_chip("TU102")


def test_feature_rejects_bad_ranges() -> None:
    with pytest.raises(ValueError):
        Feature(id="x", name="x", min_cc="9.0", max_cc="8.0", source="s")
    with pytest.raises(ValueError):
        Feature(id="x", name="x", min_cc="nine", source="s")
