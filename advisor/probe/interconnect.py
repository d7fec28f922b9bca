"""What decides NCCL's transport on this node: RDMA devices, NCCL_* variables, NCCL's own log lines.

NCCL writes which network it chose when ``NCCL_DEBUG=INFO`` (``NCCL INFO NET/IB : Using [0]mlx5_0:1/IB ...``,
``NCCL INFO NET/Socket : Using [0]eth0:10.0.0.1<0>``, ``NCCL INFO Using network Socket``); the collective
benchmark points ``NCCL_DEBUG_FILE`` at a temp file and reads those lines back here.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Iterable, Mapping
from pathlib import Path

from advisor.bench.collective_records import InterconnectEnv

IB_CLASS_DIR = Path("/sys/class/infiniband")
# "NCCL INFO Using network IB" and "NET/IB : Using [0]mlx5_0:1/RoCE" / "NET/Socket : Using ..."
_NET_LINE = re.compile(r"NCCL INFO (?:Using network (?P<net>\w+)|NET/(?P<plugin>\w+) ?: Using )")
_NCCL_VERSION = re.compile(r"NCCL version (?P<v>\d+\.\d+\.\d+)")


def ib_devices(class_dir: Path = IB_CLASS_DIR) -> list[str]:
    """The RDMA devices the kernel exposes (InfiniBand and RoCE HCAs alike), sorted; [] when none."""
    try:
        return sorted(p.name for p in class_dir.iterdir())
    except OSError:
        return []


def nccl_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Every NCCL_* variable that is set (they steer transports: NCCL_IB_DISABLE, NCCL_P2P_DISABLE, ...)."""
    env = os.environ if environ is None else environ
    return {k: v for k, v in sorted(env.items()) if k.startswith("NCCL_")}


def parse_nccl_log(lines: Iterable[str]) -> tuple[str | None, str | None, list[str]]:
    """(network NCCL chose, NCCL version, the lines that said so) from NCCL_DEBUG=INFO output."""
    net: str | None = None
    version: str | None = None
    said: list[str] = []
    for line in lines:
        if version is None and (v := _NCCL_VERSION.search(line)):
            version = v.group("v")
        m = _NET_LINE.search(line)
        if m:
            net = m.group("net") or m.group("plugin")
            said.append(line.strip()[:300])
    return net, version, said[:8]


def probe_interconnect(
    log_files: Iterable[Path] = (), *, gpus_on_node: int | None = None, class_dir: Path = IB_CLASS_DIR
) -> InterconnectEnv:
    """This node's interconnect facts; ``log_files`` are NCCL_DEBUG_FILE outputs of this node's ranks."""
    lines: list[str] = []
    for f in log_files:
        try:
            with f.open(encoding="utf-8", errors="replace") as fh:
                lines += fh.read(1 << 20).splitlines()
        except OSError:
            continue
    net, version, said = parse_nccl_log(lines)
    return InterconnectEnv(
        host=socket.gethostname(),
        ib_devices=ib_devices(class_dir),
        nccl_env=nccl_env(),
        nccl_version=version,
        nccl_net=net,
        nccl_net_lines=said,
        gpus_on_node=gpus_on_node,
    )
