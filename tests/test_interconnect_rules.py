"""Interconnect rules and facts on recorded numbers: slow links, fabric below PCIe, NCCL transport."""

from __future__ import annotations

from pathlib import Path

import pytest

from advisor.bench.collective import iterations, ring_pairs
from advisor.bench.collective_records import (
    CollectiveResult,
    CollectiveRun,
    InterconnectEnv,
    LinkResult,
    RankInfo,
    bus_factor,
)
from advisor.knowledge.loader import load_knowledge
from advisor.probe.interconnect import ib_devices, nccl_env, parse_nccl_log
from advisor.rules.interconnect import (
    below_expected,
    check_interconnect,
    expected_busbw_gbs,
    slow_links,
    transport_fallback,
)

# NCCL_DEBUG=INFO lines as users pasted them: sockets on AWS nodes without RDMA
# (https://github.com/NVIDIA/nccl/issues/226) and RoCE on a DGX-A100 (https://github.com/NVIDIA/nccl/issues/676).
NCCL_SOCKET_LOG = """\
ip-172-31-12-21:45361:45361 [0] NCCL INFO NET/IB : No device found.
ip-172-31-12-210:45305:45305 [0] NCCL INFO NET/Socket : Using [0]ens3:172.31.12.210<0>
ip-172-31-8-153:45343:45343 [0] NCCL INFO NET/Plugin : No plugin found (libnccl-net.so).
"""
NCCL_ROCE_LOG = """\
gpu01:351578:351578 [0] NCCL INFO Bootstrap : Using enp225s0f1:10.10.10.2<0>
gpu01:351578:351578 [0] NCCL INFO P2P plugin IBext
gpu01:351578:351578 [0] NCCL INFO NCCL_IBEXT_DISABLE set by environment to 1.
gpu01:351578:351578 [0] NCCL INFO NET/IB : Using [0]mlx5_9:1/RoCE [RO]; OOB enp225s0f1:10.10.10.2<0>
"""


def _link(a: int, b: int, gbs: float, host_a: str = "n", host_b: str = "n") -> LinkResult:
    return LinkResult(a=a, b=b, host_a=host_a, host_b=host_b, size_bytes=16 << 20, gbs=gbs)


def _run(**kw: object) -> CollectiveRun:
    base: dict[str, object] = dict(
        backend="nccl", world_size=4, nodes=1, mode="quick", launcher="torchrun",
        ranks=[RankInfo(rank=i, local_rank=i, host="n", device=f"cuda:{i}") for i in range(4)],
    )  # fmt: skip
    base.update(kw)
    return CollectiveRun.model_validate(base)


def test_bus_factors_follow_nccl_tests() -> None:
    # nccl-tests doc/PERFORMANCE.md: allreduce 2(n-1)/n, allgather (n-1)/n, sendrecv 1
    assert bus_factor("all-reduce", 8) == pytest.approx(1.75)
    assert bus_factor("all-gather", 8) == pytest.approx(0.875)
    assert bus_factor("send-recv", 8) == 1.0
    assert bus_factor("all-reduce", 2) == pytest.approx(1.0)


def test_iterations_shrink_for_big_messages() -> None:
    assert iterations(1 << 20, "quick")[1] > iterations(64 << 20, "quick")[1]
    assert iterations(1 << 30, "full")[1] < iterations(1 << 20, "full")[1]


def test_ring_pairs_within_one_node_and_across_nodes() -> None:
    one = [RankInfo(rank=i, local_rank=i, host="a", device="cpu") for i in range(4)]
    assert ring_pairs(one) == [(0, 1), (1, 2), (2, 3), (3, 0)]
    assert ring_pairs(one[:2]) == [(0, 1)]
    assert ring_pairs(one[:1]) == []
    # 3 nodes × 2 ranks: the ring joins the nodes' first ranks only
    many = [RankInfo(rank=i, local_rank=i % 2, host=f"h{i // 2}", device="cuda:0") for i in range(6)]
    assert ring_pairs(many) == [(0, 2), (2, 4), (4, 0)]


def test_a_rank_in_two_slow_links_is_named() -> None:
    links = [_link(0, 1, 3.1), _link(1, 2, 0.4), _link(2, 3, 0.5), _link(3, 0, 3.3)]
    findings = slow_links(links)
    assert [f.code for f in findings] == ["interconnect-slow"]
    assert findings[0].subject == "rank 2"
    assert "0.4" in findings[0].detail and "median" in findings[0].detail


def test_a_single_slow_link_is_named_as_a_link() -> None:
    links = [_link(0, 1, 3.1), _link(1, 2, 3.0), _link(2, 3, 0.3), _link(3, 0, 3.3)]
    (finding,) = slow_links(links)
    assert finding.subject == "rank 2 ↔ rank 3"


def test_slow_node_across_nodes_is_named_by_host() -> None:
    links = [
        _link(0, 8, 22.0, "a", "b"),
        _link(8, 16, 2.1, "b", "c"),
        _link(16, 24, 1.9, "c", "d"),
        _link(24, 0, 23.5, "d", "a"),
    ]
    (finding,) = slow_links(links)
    assert finding.subject == "node c"


def test_even_links_and_too_few_links_are_quiet() -> None:
    assert slow_links([_link(0, 1, 3.0), _link(1, 2, 2.6), _link(2, 0, 2.2)]) == []
    assert slow_links([_link(0, 1, 3.0), _link(1, 0, 0.1)]) == []  # two links: nothing to compare with


def _allreduce(busbw: float, size: int = 256 << 20) -> CollectiveResult:
    return CollectiveResult(
        op="all-reduce", size_bytes=size, iterations=5, time_us=1.0, slowest_rank_time_us=1.0,
        algbw_gbs=busbw / 1.5, busbw_gbs=busbw,
    )  # fmt: skip


def test_fabric_below_pcie_fires_on_known_cards_only() -> None:
    k = load_knowledge(None)
    a5000 = next(c for c in k.cards if c.id == "rtx-a5000")  # PCIe 4.0 x16: 31.5 GB/s per direction
    bar = expected_busbw_gbs([a5000] * 4)
    assert bar is not None and bar[0] == pytest.approx(15.75, rel=0.01)
    slow = below_expected(_run(results=[_allreduce(6.0)]), [a5000] * 4)
    assert [f.code for f in slow] == ["interconnect-slow"]
    assert below_expected(_run(results=[_allreduce(22.0)]), [a5000] * 4) == []  # typical PCIe all-reduce
    assert below_expected(_run(results=[_allreduce(6.0)]), [a5000, None, a5000, a5000]) == []  # unknown card
    assert below_expected(_run(results=[_allreduce(6.0, 8 << 20)]), [a5000] * 4) == []  # too small to judge
    assert below_expected(_run(backend="gloo", results=[_allreduce(0.5)]), [a5000] * 4) == []


def test_nccl_log_lines_tell_the_network() -> None:
    assert parse_nccl_log(NCCL_SOCKET_LOG.splitlines())[0] == "Socket"
    net, _, said = parse_nccl_log(NCCL_ROCE_LOG.splitlines())
    assert net == "IB" and any("mlx5_9:1/RoCE" in s for s in said)
    assert parse_nccl_log(["NCCL version 2.18.5+cuda12.2"])[1] == "2.18.5"
    assert parse_nccl_log(["nothing here"]) == (None, None, [])


def test_sockets_with_rdma_devices_is_a_fallback_across_nodes() -> None:
    env = InterconnectEnv(host="gpu-node-3", ib_devices=["mlx5_0"], nccl_net="Socket", gpus_on_node=8)
    findings = transport_fallback(_run(nodes=2, env=[env]))
    assert [f.code for f in findings] == ["nccl-transport-fallback"]
    assert "mlx5_0" in findings[0].detail
    # no RDMA device: sockets are all there is, not a fallback
    plain = env.model_copy(update={"ib_devices": []})
    assert transport_fallback(_run(nodes=2, env=[plain])) == []
    # IB in use: fine
    ib = env.model_copy(update={"nccl_net": "IB"})
    assert transport_fallback(_run(nodes=2, env=[ib])) == []


def test_disabling_variables_fire_only_where_they_take_something_away() -> None:
    p2p = InterconnectEnv(host="n", nccl_env={"NCCL_P2P_DISABLE": "1"}, gpus_on_node=4)
    (finding,) = transport_fallback(_run(env=[p2p]))
    assert "NCCL_P2P_DISABLE=1" in finding.title
    one_gpu = p2p.model_copy(update={"gpus_on_node": 1})
    assert transport_fallback(_run(env=[one_gpu])) == []
    ib_off_no_ib = InterconnectEnv(host="n", nccl_env={"NCCL_IB_DISABLE": "1"}, gpus_on_node=4)
    assert transport_fallback(_run(env=[ib_off_no_ib])) == []
    zero = InterconnectEnv(host="n", nccl_env={"NCCL_P2P_DISABLE": "0"}, gpus_on_node=4)
    assert transport_fallback(_run(env=[zero])) == []
    assert transport_fallback(_run(backend="gloo", env=[p2p])) == []


def test_check_interconnect_combines_the_rules() -> None:
    env = InterconnectEnv(host="n", nccl_env={"NCCL_P2P_DISABLE": "1"}, gpus_on_node=4)
    links = [_link(0, 1, 3.1), _link(1, 2, 0.4), _link(2, 3, 0.5), _link(3, 0, 3.3)]
    codes = sorted(f.code for f in check_interconnect(_run(env=[env], links=links)))
    assert codes == ["interconnect-slow", "nccl-transport-fallback"]


def test_interconnect_probe_reads_rdma_devices_and_nccl_variables(tmp_path: Path) -> None:
    (tmp_path / "mlx5_1").mkdir()
    (tmp_path / "mlx5_0").mkdir()
    assert ib_devices(tmp_path) == ["mlx5_0", "mlx5_1"]
    assert ib_devices(tmp_path / "absent") == []
    env = {"NCCL_IB_HCA": "mlx5_0", "PATH": "/bin", "NCCL_DEBUG": "WARN"}
    assert nccl_env(env) == {"NCCL_DEBUG": "WARN", "NCCL_IB_HCA": "mlx5_0"}


def test_ring_of_four_with_one_slow_rank_measured_here() -> None:
    # Link figures measured by tests/test_collective_gloo.py on this 2-core sandbox with rank 2 delayed:
    # half the links are slow, so the reference must be a fast one (the upper median).
    links = [_link(0, 1, 1.6944), _link(1, 2, 0.5696), _link(2, 3, 0.563), _link(3, 0, 4.0551)]
    assert [f.subject for f in slow_links(links)] == ["rank 2"]
