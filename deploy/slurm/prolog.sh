#!/bin/bash
# Slurm Prolog / HealthCheckProgram: refuse a node whose GPUs, driver or stack are broken.
# A non-zero exit from a Prolog drains the node (slurm.conf: Prolog=/etc/slurm/prolog.d/advisor.sh).
# Adjust the gates to your nodes; --no-bench keeps it to a couple of seconds.
set -u
log=/var/log/advisor-prolog.log
if ! advisor check --no-bench --json \
    --require "gpus>=8" --require "driver>=550" --require "memory>=80GiB" >/tmp/advisor-prolog.json 2>>"$log"; then
  echo "$(date -Is) ${SLURMD_NODENAME:-$(hostname)}: advisor check failed (see /tmp/advisor-prolog.json)" >>"$log"
  exit 1
fi
exit 0
