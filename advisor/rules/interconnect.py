"""Interconnect rules over a collective run: a slow link or node, a fabric below what the cards allow, and
NCCL falling back to sockets or with P2P disabled. Pure: facts in, findings out.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence

from advisor.bench.collective_records import CollectiveRun, InterconnectEnv, LinkResult
from advisor.knowledge.cards import Card
from advisor.report import Finding

SLOW_LINK_FRACTION = 0.5  # a link below half the median of its ring's links is slow
# A PCIe Gen3/4/5 x16 link moves 0.985 GB/s per lane per direction after 128b/130b encoding (PCI-SIG base
# specification rates: 8, 16, 32 GT/s). NCCL's all-reduce over PCIe typically reaches 70–80% of that; below
# half of it the fabric is not doing its job.
PCIE_LANE_GBS = {1: 0.25, 2: 0.5, 3: 0.985, 4: 1.969, 5: 3.938, 6: 7.563}
EXPECTED_FRACTION = 0.5
# NCCL variables that take a transport away (NCCL's environment-variable documentation).
_DISABLERS = {
    "NCCL_IB_DISABLE": "InfiniBand/RoCE",
    "NCCL_P2P_DISABLE": "GPU peer-to-peer (NVLink/PCIe P2P)",
    "NCCL_SHM_DISABLE": "shared memory between processes",
}


def check_interconnect(run: CollectiveRun, cards: Sequence[Card | None] = ()) -> list[Finding]:
    """Every interconnect finding of a run; ``cards``: the GPUs' catalog cards (None when unknown)."""
    return [*slow_links(run.links), *below_expected(run, cards), *transport_fallback(run)]


def slow_links(links: Sequence[LinkResult], fraction: float = SLOW_LINK_FRACTION) -> list[Finding]:
    """Links well below the median of the ring; a rank (or node) in two slow links is named as the cause."""
    if len(links) < 3:  # two links (or one) give no majority to be slow against
        return []
    # the upper median: with one slow node two links of a ring are slow, and a ring of four must not
    # take one of them as the reference
    median = statistics.median_high(link.gbs for link in links)
    slow = [link for link in links if link.gbs < median * fraction]
    if not slow or median <= 0:
        return []
    cross_node = any(link.host_a != link.host_b for link in links)
    counts = Counter(end for link in slow for end in (link.a, link.b))
    culprits = {end for end, n in counts.items() if n >= 2}
    findings = []
    for end in sorted(culprits):
        mine = [link for link in slow if end in (link.a, link.b)]
        host = mine[0].host_a if mine[0].a == end else mine[0].host_b
        who = f"node {host}" if cross_node else f"rank {end} ({host})"
        figures = ", ".join(f"{_link_name(link, cross_node)} {link.gbs:.3g} GB/s" for link in mine)
        findings.append(
            Finding(
                code="interconnect-slow",
                severity="warning",
                subject=f"node {host}" if cross_node else f"rank {end}",
                title=f"{who} is slow on every link it has",
                detail=f"Measured alone, {figures}; the median of the {len(links)} links in the ring is "
                f"{median:.3g} GB/s. Every link touching {who} is below half of that, so the cause is there, "
                "not in one cable.",
                fix=_fix(cross_node),
            )
        )
    for link in slow:
        if link.a in culprits or link.b in culprits:
            continue
        findings.append(
            Finding(
                code="interconnect-slow",
                severity="warning",
                subject=_link_name(link, cross_node),
                title=f"Link {_link_name(link, cross_node)} is slow",
                detail=f"Measured alone it moves {link.gbs:.3g} GB/s; the median of the {len(links)} "
                f"links in the ring is {median:.3g} GB/s.",
                fix=_fix(cross_node),
            )
        )
    return findings


def _link_name(link: LinkResult, cross_node: bool) -> str:
    if cross_node:
        return f"{link.host_a} ↔ {link.host_b}"
    return f"rank {link.a} ↔ rank {link.b}"


def _fix(cross_node: bool) -> str:
    if cross_node:
        return (
            "Compare the node's NIC and switch port with its peers (`ibstat`, `ethtool <nic>`), check that "
            "NCCL uses the same network there (NCCL_DEBUG=INFO prints NET/IB or NET/Socket)."
        )
    return (
        "Check the GPU pair's path with `nvidia-smi topo -m` and the link width with "
        "`nvidia-smi -q -d PCIE`; a GPU behind another CPU socket or a degraded link is the usual cause."
    )


def expected_busbw_gbs(cards: Sequence[Card | None]) -> tuple[float, str] | None:
    """The all-reduce bus bandwidth below which a single node's GPUs are not using their PCIe links, or None.

    Only PCIe is a floor every card has: NVLink bridges may be absent, so NVLink is never assumed.
    """
    known = [c for c in cards if c is not None]
    if not known or len(known) != len(cards):
        return None
    floors = [(c.pcie_width or 16) * PCIE_LANE_GBS[c.pcie_gen] for c in known if c.pcie_gen in PCIE_LANE_GBS]
    if len(floors) != len(known):
        return None
    low = min(floors)
    card = min(known, key=lambda c: (c.pcie_width or 16) * PCIE_LANE_GBS[c.pcie_gen or 3])
    return (
        low * EXPECTED_FRACTION,
        f"PCIe {card.pcie_gen}.0 x{card.pcie_width or 16} ({low:.3g} GB/s per direction)",
    )


def below_expected(run: CollectiveRun, cards: Sequence[Card | None]) -> list[Finding]:
    """Single-node NCCL all-reduce at its largest size below half of what the cards' PCIe links carry."""
    if run.backend != "nccl" or run.nodes != 1 or run.world_size < 2:
        return []
    expected = expected_busbw_gbs(cards)
    biggest = max((r for r in run.results if r.op == "all-reduce"), key=lambda r: r.size_bytes, default=None)
    if expected is None or biggest is None or biggest.size_bytes < 64 << 20:
        return []
    bar, link = expected
    if biggest.busbw_gbs >= bar:
        return []
    return [
        Finding(
            code="interconnect-slow",
            severity="warning",
            subject="GPU fabric",
            title=f"All-reduce between the {run.world_size} GPUs is slower than their PCIe links allow",
            detail=f"all-reduce of {biggest.size_bytes >> 20} MB: busbw {biggest.busbw_gbs:.3g} GB/s, "
            f"below half of {link}, the slowest path these cards have even without NVLink.",
            fix="Check `nvidia-smi topo -m` (GPUs across CPU sockets go through the host bridge), the PCIe "
            "link width (`nvidia-smi -q -d PCIE`), ACS/IOMMU settings that force P2P through the CPU, and "
            "NCCL_P2P_DISABLE / NCCL_P2P_LEVEL.",
        )
    ]


def transport_fallback(run: CollectiveRun) -> list[Finding]:
    """NCCL on sockets where RDMA devices exist, or a transport switched off by an NCCL_* variable."""
    if run.backend != "nccl":
        return []
    out: list[Finding] = []
    for env in run.env:
        out += _node_fallback(env, multi_node=run.nodes > 1)
    return out


def _node_fallback(env: InterconnectEnv, *, multi_node: bool) -> list[Finding]:
    where = env.host or "this node"
    out = []
    said = f" NCCL said: {env.nccl_net_lines[0]!s}" if env.nccl_net_lines else ""
    if multi_node and env.ib_devices and (env.nccl_net or "").lower() == "socket":
        out.append(
            Finding(
                code="nccl-transport-fallback",
                severity="warning",
                subject=f"node {where}",
                title=f"NCCL uses TCP sockets on {where} although RDMA devices are present",
                detail=f"RDMA devices {', '.join(env.ib_devices)} exist but NCCL chose the Socket network."
                f"{said} {_env_text(env)}",
                fix="Unset NCCL_IB_DISABLE, make sure the IB/RoCE user-space libraries (rdma-core, "
                "libibverbs) are in the container, and set NCCL_IB_HCA to the HCAs above if NCCL picks none.",
            )
        )
    for var, what in _DISABLERS.items():
        value = env.nccl_env.get(var, "").strip()
        if value in ("", "0"):
            continue
        if var == "NCCL_IB_DISABLE" and not env.ib_devices:
            continue  # nothing to disable: harmless
        if var == "NCCL_P2P_DISABLE" and (env.gpus_on_node or 0) < 2:
            continue
        out.append(
            Finding(
                code="nccl-transport-fallback",
                severity="warning",
                subject=f"node {where}",
                title=f"{var}={value} switches off {what} for NCCL on {where}",
                detail=f"With {var}={value}, NCCL routes around {what} and takes a slower path. "
                f"{_env_text(env)}",
                fix=f"Unset {var} unless it works around a known fault on this machine (then record why).",
            )
        )
    return out


def _env_text(env: InterconnectEnv) -> str:
    parts = [f"NCCL {env.nccl_version}" if env.nccl_version else "NCCL version unknown"]
    if env.nccl_env:
        parts.append("variables: " + ", ".join(f"{k}={v}" for k, v in env.nccl_env.items()))
    return "(" + "; ".join(parts) + ")"
