"""Which scheduler this check runs under (Slurm, Kubernetes), read from the variables it sets for a job.

Slurm: SLURM_JOB_ID, SLURMD_NODENAME, SLURM_PROCID (srun output environment: slurm.schedmd.com/srun.html).
Kubernetes: KUBERNETES_SERVICE_HOST is set in every pod; NODE_NAME and POD_NAME are what deploy/'s manifests
pass through the downward API (HOSTNAME is the pod name by default).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from advisor.machine import SchedulerInfo


def probe_scheduler(env: Mapping[str, str] | None = None) -> SchedulerInfo | None:
    """The Slurm job or Kubernetes pod this process runs in, or None outside either."""
    env = os.environ if env is None else env
    if env.get("SLURM_JOB_ID"):
        rank = env.get("SLURM_PROCID", "")
        return SchedulerInfo(
            kind="slurm",
            job_id=env["SLURM_JOB_ID"],
            node_name=env.get("SLURMD_NODENAME") or None,
            rank=int(rank) if rank.isdigit() else None,
        )
    if env.get("KUBERNETES_SERVICE_HOST"):
        return SchedulerInfo(
            kind="kubernetes",
            job_id=env.get("POD_NAME") or env.get("HOSTNAME") or None,
            node_name=env.get("NODE_NAME") or None,
        )
    return None
