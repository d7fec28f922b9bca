"""The plain ``nvidia-smi`` table → driver/CUDA versions, one GPU per row block, MIG devices, processes.

Layouts from R384 to R580 are read by cells rather than by column positions: each GPU block is two or
three ``| a | b | c |`` lines (name / persistence, bus id / display, ECC; then fan, temperature, perf,
power; memory; utilisation, compute mode; then MIG mode on R450+). Names may be cut ("Tesla V100-SXM2...");
the merge step prefers a full name from another source.
"""

from __future__ import annotations

import re
from typing import Any

from advisor.dumps import values as v
from advisor.dumps.partial import MAX_GPUS, Partial
from advisor.machine import GPU, DriverInfo, GPUProcess, HostInfo, Machine, MigInstance

KIND = "nvidia-smi"

_HEADER = re.compile(
    r"NVIDIA-SMI\s+(?P<smi>\S+)(?:.*?Driver Version:\s*(?P<driver>\S+))?(?:.*?CUDA Version:\s*(?P<cuda>\S+))?"
)
_ROW1_LEFT = re.compile(r"^\s*(\d{1,4})\s+(.*?)\s+(On|Off|WDDM|TCC|N/A|ERR!)\s*$")
_ROW1_LEFT_LOOSE = re.compile(r"^\s*(\d{1,4})\s+(.*?)\s*$")
_ROW1_MID = re.compile(r"^\s*([0-9A-Fa-f]{4,8}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\.[0-7])\s*(\S+)?\s*$")
_ROW2_LEFT = re.compile(r"^\s*(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s*/\s*(\S+)\s*$")
_MEMORY = re.compile(r"^\s*(\S+?)\s*/\s*(\S+?)\s*$")
_ROW2_RIGHT = re.compile(r"^\s*(\S+)\s+(.+?)\s*$")
_PROCESS = re.compile(
    r"^\|\s*(\d{1,4})\s+(?:(\S+)\s+(\S+)\s+)?(\d{1,10}|N/A)\s+(C\+G|M\+C|C|G|M)\s+(.*?)\s+(\d{1,10}\s*MiB|N/A)\s*\|?\s*$"
)
_MAX_LINE = 400
_MIG_ROW = re.compile(
    r"^\|\s*(\d{1,4})\s+(\d{1,4})\s+(\d{1,4})\s+(\d{1,4})\s*\|\s*(\d{1,10})\s*MiB\s*/\s*(\d{1,10})\s*MiB"
)


def parse_table(lines: list[str], position: int) -> Partial:
    """Parse one table span (its lines) that starts at line ``position`` of the paste."""
    driver = DriverInfo(nvml_ok=True)
    gpus: dict[int, dict[str, Any]] = {}
    processes: dict[int, list[GPUProcess]] | None = None
    mig: dict[int, list[MigInstance]] = {}
    current: dict[str, Any] | None = None
    row = 0
    box = ""
    for line in lines:
        s = line.strip()
        if len(s) > _MAX_LINE:
            continue  # real table lines are under 100 characters; long ones would only cost regex time
        if "NVIDIA-SMI" in s and (m := _HEADER.search(s)):
            driver = DriverInfo(version=v.clean(m["driver"]), cuda_version=v.clean(m["cuda"]), nvml_ok=True)
            continue
        if s.startswith("+") or s.startswith("|=") or s.startswith("|-"):
            current = None  # a rule ends the block in progress
            continue
        if s.startswith("| Processes") or s.startswith("|  Processes"):
            box, processes = "processes", {}
            continue
        if "MIG devices" in s:
            box = "mig"
            continue
        if box == "processes" and processes is not None:
            if m := _PROCESS.match(s):
                processes.setdefault(int(m[1]), []).append(
                    GPUProcess(
                        pid=v.integer(m[4]),
                        name=v.clean(m[6]),
                        used_memory_bytes=v.size_bytes(m[7]),
                        kind=v.process_kind(m[5]),
                    )
                )
            continue
        if box == "mig":
            if m := _MIG_ROW.match(s):
                mig.setdefault(int(m[1]), []).append(
                    MigInstance(
                        gpu_instance_id=int(m[2]),
                        compute_instance_id=int(m[3]),
                        memory_total_bytes=int(m[6]) * 2**20,
                    )
                )
            continue
        cells = [c for c in s.strip("|").split("|")]
        if len(cells) < 3:
            continue
        if current is None:
            fields = _first_row(cells)
            if fields is not None and (fields["index"] in gpus or len(gpus) < MAX_GPUS):
                current = gpus.setdefault(fields["index"], {})
                current.update(fields)
                row = 1
            continue
        row += 1
        if row == 2:
            current.update(_second_row(cells))
        elif row == 3:
            current["mig_enabled"] = v.flag(cells[2])

    windows = any([f.pop("windows", False) for f in gpus.values()])  # a list: pop from every GPU
    machine = Machine(
        source=KIND,
        host=HostInfo(os="Windows") if windows else HostInfo(),
        driver=driver,
        gpus=[_build(f, processes, mig) for _, f in sorted(gpus.items())],
        gpus_known=bool(gpus),  # a header without rows is a cut-off table, not an empty one
    )
    return Partial(KIND, position, machine)


def _build(
    fields: dict[str, Any], processes: dict[int, list[GPUProcess]] | None, mig: dict[int, list[MigInstance]]
) -> GPU:
    index = fields["index"]
    if processes is not None:
        fields["processes"] = processes.get(index, [])
    if index in mig:
        fields["mig_instances"] = mig[index]
    return GPU(**fields)


def _first_row(cells: list[str]) -> dict[str, Any] | None:
    mid = _ROW1_MID.match(cells[1])
    if mid is None:
        return None
    left = _ROW1_LEFT.match(cells[0]) or _ROW1_LEFT_LOOSE.match(cells[0])
    if left is None:
        return None
    persistence = left[3] if left.re is _ROW1_LEFT else None
    fields: dict[str, Any] = {
        "windows": persistence in {"WDDM", "TCC"},  # the driver-model column exists only on Windows
        "index": int(left[1]),
        "name": v.clean(left[2]),
        "pci_bus_id": v.bus_id(mid[1]),
        "persistence_mode": v.flag(persistence) if persistence in {"On", "Off"} else None,
    }
    ecc = cells[2].strip()
    if ecc.isdigit():
        fields.update(ecc_enabled=True, ecc_uncorrected_volatile=int(ecc))
    elif ecc == "Off":
        fields["ecc_enabled"] = False
    if "ERR!" in "|".join(cells):
        fields["error"] = "nvidia-smi printed ERR! for this GPU"
    return fields


def _second_row(cells: list[str]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if m := _ROW2_LEFT.match(cells[0]):
        if "ERR!" in (m[2], m[4]):
            # Temperature and power come from the GPU itself: ERR! there means NVML cannot reach it
            # (after an Xid, "GPU requires reset"). A lone ERR! fan reading is a missing fan sensor.
            fields.update(lost=True, error="nvidia-smi printed ERR! for the GPU's temperature/power")
        fields.update(
            temperature_c=v.number(m[2]),
            performance_state=v.clean(m[3]),
            power_draw_watts=v.number(m[4]),
            power_limit_watts=v.number(m[5]),
        )
    if m := _MEMORY.match(cells[1]):
        fields.update(memory_used_bytes=v.size_bytes(m[1]), memory_total_bytes=v.size_bytes(m[2]))
    if m := _ROW2_RIGHT.match(cells[2]):
        fields.update(utilization_gpu_percent=v.number(m[1]), compute_mode=v.compute_mode(m[2]))
    return fields
