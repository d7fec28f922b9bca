"""deploy/: the Kubernetes manifests and Slurm scripts are valid, and the advisor commands in them run."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from advisor.probe.scheduler import probe_scheduler
from tests.conftest import REPO

DEPLOY = REPO / "deploy"
H100X8 = REPO / "tests" / "data" / "dumps" / "12-h100x8-torch251-cu124-driver550-healthy" / "input.txt"


def _docs(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((DEPLOY / "kubernetes" / name).read_text()) if d]


def _pod_spec(doc: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = doc["spec"]["template"]["spec"]
    return spec


def _advisor(args: list[str]) -> subprocess.CompletedProcess[str]:
    """Run advisor with a manifest's arguments, on a recorded dump instead of the live machine."""
    cmd = [sys.executable, "-m", "advisor", *args, "--from", str(H100X8)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def _env_names(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e for e in container.get("env", [])}


@pytest.mark.parametrize("name", ["advisor-job.yaml", "advisor-daemonset.yaml"])
def test_manifests_target_gpu_nodes_and_pass_the_node_name(name: str) -> None:
    (doc,) = _docs(name)
    spec = _pod_spec(doc)
    assert spec["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    assert any(t["key"] == "nvidia.com/gpu" for t in spec["tolerations"])
    (container,) = spec["containers"]
    env = _env_names(container)
    assert env["NODE_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "spec.nodeName"
    assert env["POD_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    labels = doc["spec"]["template"]["metadata"]["labels"]
    assert labels["app.kubernetes.io/name"] == "gpu-advisor"


def test_job_takes_whole_nodes_one_pod_each_and_its_command_runs() -> None:
    (job,) = _docs("advisor-job.yaml")
    assert job["kind"] == "Job" and job["apiVersion"] == "batch/v1"
    spec = _pod_spec(job)
    assert spec["restartPolicy"] == "Never"
    (spread,) = spec["topologySpreadConstraints"]
    assert spread["topologyKey"] == "kubernetes.io/hostname" and spread["maxSkew"] == 1
    (container,) = spec["containers"]
    assert container["resources"]["limits"]["nvidia.com/gpu"] >= 1
    done = _advisor(container["args"])
    assert done.returncode in (0, 1), done.stderr
    assert json.loads(done.stdout)["schema_version"]


def test_daemonset_requests_no_gpu_and_its_command_runs() -> None:
    (ds,) = _docs("advisor-daemonset.yaml")
    assert ds["kind"] == "DaemonSet"
    (container,) = _pod_spec(ds)["containers"]
    assert "nvidia.com/gpu" not in str(container.get("resources", {}))
    assert _env_names(container)["NVIDIA_VISIBLE_DEVICES"]["value"] == "all"
    loop = container["args"][0]
    command = loop.split("do ", 1)[1].split(" ||", 1)[0]
    words = shlex.split(command)
    assert words[:2] == ["advisor", "check"] and "--no-bench" in words
    done = _advisor(words[1:])
    assert done.returncode in (0, 1), done.stderr
    json.loads(done.stdout)


@pytest.mark.parametrize("script", sorted((DEPLOY / "slurm").iterdir()))
def test_slurm_scripts_are_valid_bash(script: Path) -> None:
    assert subprocess.run(["bash", "-n", str(script)], capture_output=True).returncode == 0


def test_sbatch_exports_one_report_per_node_and_merges_them() -> None:
    text = (DEPLOY / "slurm" / "advisor-check.sbatch").read_text()
    assert "#SBATCH --ntasks-per-node=1" in text
    assert "advisor check" in text and "--export reports/" in text
    assert "advisor report fleet" in text


def test_prolog_gates_fail_a_node_that_misses_them() -> None:
    text = (DEPLOY / "slurm" / "prolog.sh").read_text()
    command = text.split("advisor check", 1)[1].split(">/tmp", 1)[0].replace("\\\n", " ")
    gates = shlex.split(command)
    # The recorded 8× H100 80GB node on driver 550 passes these gates; one with fewer GPUs would not.
    done = _advisor(["check", *gates])
    assert done.returncode == 0, done.stdout[-2000:]
    stricter = [*gates, "--require", "gpus>=16"]
    assert _advisor(["check", *stricter]).returncode == 1


def test_scheduler_context_from_slurm_and_kubernetes_variables() -> None:
    slurm = probe_scheduler({"SLURM_JOB_ID": "4242", "SLURMD_NODENAME": "gpu-17", "SLURM_PROCID": "3"})
    assert slurm is not None and (slurm.kind, slurm.job_id, slurm.node_name, slurm.rank) == (
        "slurm", "4242", "gpu-17", 3,
    )  # fmt: skip
    pod = probe_scheduler(
        {"KUBERNETES_SERVICE_HOST": "10.96.0.1", "NODE_NAME": "node-a", "POD_NAME": "gpu-advisor-x1"}
    )
    assert pod is not None and (pod.kind, pod.node_name, pod.job_id) == (
        "kubernetes",
        "node-a",
        "gpu-advisor-x1",
    )
    assert probe_scheduler({"PATH": "/usr/bin"}) is None


def test_scheduler_node_names_are_redacted_like_host_names() -> None:
    from advisor.machine import HostInfo, Machine, SchedulerInfo
    from advisor.report import Report
    from advisor.reports.redact import redact_report

    machine = Machine(
        host=HostInfo(hostname="gpu-17.cluster.example"),
        scheduler=SchedulerInfo(kind="slurm", job_id="4242", node_name="gpu-17"),
    )
    report = Report(advisor_version="0", created="2026-12-05T00:00:00+00:00", source="live", machine=machine)
    text = redact_report(report).model_dump_json()
    assert "gpu-17" not in text and '"4242"' in text
