"""`advisor cluster check` on a real multi-node Ray cluster started on this machine, loopback only.

Every node binds 127.0.0.1 (``node_ip_address``), with usage stats and the dashboard off, so no traffic
leaves the machine and no telemetry is sent. Nodes get recorded GPU facts (the fake NVML fed from real
``nvidia-smi -q -x`` dumps) or a check that hangs, through their raylet's environment and a test-only
``sitecustomize`` (tests/cluster_shim).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Before ray is imported: Ray reads these once, at import. With the first at "0", Ray resolves "localhost"
# and 127.0.0.1 to the loopback address instead of the machine's interface address; the second keeps usage
# statistics from being sent anywhere.
os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
ray = pytest.importorskip("ray")
cluster_utils = pytest.importorskip("ray.cluster_utils")

from advisor.cluster.check import run_cluster_check  # noqa: E402
from advisor.cluster.outcome import NodeOutcome  # noqa: E402
from tests.conftest import REPO  # noqa: E402

pytestmark = pytest.mark.slow
SHIM = REPO / "tests" / "cluster_shim"
A5000 = REPO / "tests" / "data" / "nvidia-smi" / "qx-2x-rtx-a5000-driver590.xml"  # driver 590.44.01
T4 = REPO / "tests" / "data" / "nvidia-smi" / "qx-tesla-t4-driver515.xml"  # driver 515
LOOPBACK = {"node_ip_address": "127.0.0.1", "num_cpus": 1, "object_store_memory": 80 << 20}


def _env(dump: Path | None = None, sleep_s: float | None = None) -> dict[str, str]:
    env = {"PYTHONPATH": str(SHIM), "ADVISOR_TEST_REPO": str(REPO)}
    if dump is not None:
        env["ADVISOR_TEST_FAKE_NVML"] = str(dump)
    if sleep_s is not None:
        env["ADVISOR_TEST_CHECK_SLEEP"] = str(sleep_s)
    return env


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """Head + 3 worker nodes: three with the same A5000 machine's facts, one with a T4 on an older driver."""
    from ray._private import ray_constants, services

    # Ray was imported before this module set the variables (another test imported it): refuse to start a
    # cluster that would talk to the machine's interface address instead of the loopback one.
    assert not ray_constants.ENABLE_RAY_CLUSTER, "Ray would resolve localhost to a non-loopback address"
    assert services.get_node_ip_address() == "127.0.0.1"
    c = cluster_utils.Cluster(
        initialize_head=True,
        connect=False,
        head_node_args={**LOOPBACK, "include_dashboard": False, "env_vars": _env(A5000)},
    )
    for dump in (A5000, A5000, T4):
        c.add_node(**LOOPBACK, env_vars=_env(dump))
    c.wait_for_nodes()
    yield c
    ray.shutdown()
    c.shutdown()


def test_cli_gathers_every_node_and_flags_the_odd_one(cluster: Any, tmp_path: Path) -> None:
    export = tmp_path / "reports"
    cmd = [sys.executable, "-m", "advisor", "cluster", "check", "--address", cluster.address,
           "--no-bench", "--json", "--include-ids", "--export", str(export), "--collective"]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr[-2000:]  # torch-cpu-only on the GPU nodes: an error finding
    data = json.loads(done.stdout)
    assert data["nodes"] == 4 and len(data["outcomes"]) == 4
    assert all(o["status"] == "ok" for o in data["outcomes"])
    assert all(o["report"]["machine"]["scheduler"]["kind"] == "ray" for o in data["outcomes"])
    fleet = data["fleet"]
    assert fleet["majority"]["driver"] == "590.44.01"
    odd = [o for o in fleet["outliers"] if o["kind"] == "version" and "515" in o["detail"]]
    assert len(odd) == 1
    t4_node = next(n for n in fleet["nodes"] if "T4" in n["gpus"])
    assert odd[0]["host"] == t4_node["host"]
    # --collective: one torchrun per node (one rank each: no GPUs for torch here), rendezvous set by advisor
    collective = data["collective"]
    assert collective["launcher"] == "ray" and collective["world_size"] == 4
    assert all(r["busbw_gbs"] > 0 for r in collective["results"])
    written = sorted(p.name for p in export.iterdir())
    assert "fleet.json" in written and "fleet.md" in written and len(written) == 6


def test_a_hung_node_and_a_killed_node_are_rows_with_reasons(cluster: Any) -> None:
    hung = cluster.add_node(**LOOPBACK, env_vars=_env(A5000, sleep_s=3600))
    doomed = cluster.add_node(**LOOPBACK, env_vars=_env(A5000, sleep_s=120))
    cluster.wait_for_nodes()
    seen: list[NodeOutcome] = []
    result: dict[str, Any] = {}

    def run() -> None:
        result["r"] = run_cluster_check(cluster.address, bench="none", timeout_s=25, on_outcome=seen.append)

    worker = threading.Thread(target=run)
    started = time.monotonic()
    worker.start()
    while len(seen) < 4 and time.monotonic() - started < 120:
        time.sleep(0.5)  # the four healthy nodes answer first: results stream before the slow ones end
    assert len(seen) == 4 and all(o.status == "ok" for o in seen)
    cluster.remove_node(doomed)
    worker.join(timeout=180)
    assert not worker.is_alive()
    outcomes = result["r"].outcomes
    assert len(outcomes) == 6
    failed = {o.node.node_id: o for o in outcomes if o.status == "failed"}
    assert set(failed) == {hung.node_id, doomed.node_id}
    assert "died" in (failed[doomed.node_id].reason or "")
    assert "did not finish" in (failed[hung.node_id].reason or "") or "no answer" in (
        failed[hung.node_id].reason or ""
    )
    for o in failed.values():
        assert [f.code for f in o.report.findings] == ["node-unreachable"]
        assert o.report.exit_code() == 1
    assert result["r"].exit_code() == 1
    cluster.remove_node(hung)


def test_no_cluster_is_one_clear_line(tmp_path: Path) -> None:
    env = dict(os.environ, RAY_ADDRESS="", RAY_USAGE_STATS_ENABLED="0")
    cmd = [sys.executable, "-m", "advisor", "cluster", "check", "--address", "127.0.0.1:1", "--no-bench"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("advisor: error: cannot connect to a Ray cluster")
    assert "Traceback" not in done.stderr
