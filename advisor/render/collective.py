"""The collective benchmark as a terminal view: one table per operation, the links, the findings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from advisor.render.common import printable

if TYPE_CHECKING:
    from rich.console import Console

    from advisor.bench.collective_records import CollectiveRun


def _size(n: int) -> str:
    return f"{n >> 30} GB" if n >= 1 << 30 else f"{n >> 20} MB"


def render_collective(run: CollectiveRun, out: Console) -> None:
    """Print what was measured, nccl-tests style (size, time, algbw, busbw), then links, findings, notes."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    hosts = sorted({r.host for r in run.ranks})
    out.print(
        Text(
            f"advisor bench --collective ({run.mode}, {run.backend}, {run.world_size} ranks on "
            f"{len(hosts)} node{'s' if len(hosts) != 1 else ''}, launched by {run.launcher}, "
            f"{run.seconds:.1f} s)"
        )
    )
    table = Table(box=box.SIMPLE_HEAD, show_edge=False)
    for title in ("operation", "size", "time (us)", "algbw GB/s", "busbw GB/s"):
        table.add_column(title, justify="left" if title == "operation" else "right")
    for r in run.results:
        table.add_row(
            r.op, _size(r.size_bytes), f"{r.time_us:,.1f}", f"{r.algbw_gbs:.3g}", f"{r.busbw_gbs:.3g}"
        )
    if run.results:
        out.print(table)
    if run.links:
        links = Table(title="links, each measured alone", title_justify="left", box=box.SIMPLE_HEAD)
        for title in ("link", "hosts", "size", "GB/s"):
            links.add_column(title, justify="right" if title == "GB/s" else "left")
        for link in run.links:
            hosts_cell = link.host_a if link.host_a == link.host_b else f"{link.host_a} ↔ {link.host_b}"
            links.add_row(
                f"rank {link.a} ↔ rank {link.b}",
                Text(printable(hosts_cell, one_line=True)),
                _size(link.size_bytes),
                f"{link.gbs:.3g}",
            )
        out.print(links)
    for env in run.env:
        facts = [f"RDMA devices: {', '.join(env.ib_devices) or 'none'}"]
        if env.nccl_net:
            facts.append(f"NCCL network: {env.nccl_net}")
        if env.nccl_env:
            facts.append(" ".join(f"{k}={v}" for k, v in env.nccl_env.items()))
        out.print(Text(printable(f"{env.host or 'node'}: " + " · ".join(facts), one_line=True), style="dim"))
    out.print(Text("busbw: nccl-tests' bus bandwidth (all-reduce: algbw × 2(n−1)/n)", "dim"))
    for f in run.findings:
        out.print(Text.assemble(("! " if f.severity != "error" else "✗ ", "bold"), (f.title, "bold"),
                                f" [{f.code}]"))  # fmt: skip
        out.print(Text(printable("    " + f.detail)))
        if f.fix:
            out.print(Text(printable("    fix: " + f.fix)))
    for note in run.notes:
        out.print(Text(printable(f"note: {note}")))
