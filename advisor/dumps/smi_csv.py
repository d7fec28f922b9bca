"""``nvidia-smi --query-gpu=... --format=csv`` → GPUs (and the driver version when it was queried).

Only output with its header line is read: the header names each column (``memory.total [MiB]``), and
without it the values cannot be assigned. ``compute_cap`` is NVML's own answer, so it is kept.
"""

from __future__ import annotations

import re
from typing import Any

from advisor.dumps import values as v
from advisor.dumps.partial import MAX_GPUS, Partial
from advisor.machine import GPU, DriverInfo, Machine

KIND = "nvidia-smi"

# A header: two or more comma-separated query field names, one of them a field we read, one dotted or
# with an underscore (so prose such as "name, age" is not taken for one).
HEADER = re.compile(
    # (?=[^\n,]*,) first: a line without a comma fails in one linear pass, before the costlier lookaheads.
    r"^(?=[^\n,]*,)[ \t]*(?=[^\n]*\b(?:name|pci\.bus_id|uuid|compute_cap|driver_version|memory\.total)\b)"
    r"(?=[^\n]*[._])"
    r"[a-z_][a-z0-9_.]*(?: \[[^\],\n]{1,12}\])?(?:,[ \t]*[a-z_][a-z0-9_.]*(?: \[[^\],\n]{1,12}\])?)+[ \t]*$",
    re.MULTILINE,
)

_FIELDS: dict[str, tuple[str, Any]] = {
    "index": ("index", v.integer),
    "name": ("name", v.clean),
    "gpu_name": ("name", v.clean),
    "uuid": ("uuid", v.clean),
    "gpu_uuid": ("uuid", v.clean),
    "serial": ("serial", v.clean),
    "pci.bus_id": ("pci_bus_id", v.bus_id),
    "gpu_bus_id": ("pci_bus_id", v.bus_id),
    "pci.device_id": ("pci_device_id", v.pci_device_id),
    "pci.sub_device_id": ("pci_subsystem_id", v.hex_int),
    "compute_cap": ("compute_capability", v.clean),
    "memory.total": ("memory_total_bytes", v.size_bytes),
    "memory.used": ("memory_used_bytes", v.size_bytes),
    "memory.free": ("memory_free_bytes", v.size_bytes),
    "temperature.gpu": ("temperature_c", v.number),
    "utilization.gpu": ("utilization_gpu_percent", v.number),
    "power.draw": ("power_draw_watts", v.number),
    "power.draw.instant": ("power_draw_watts", v.number),
    "enforced.power.limit": ("power_limit_watts", v.number),
    "power.limit": ("power_limit_watts", v.number),
    "power.default_limit": ("power_default_limit_watts", v.number),
    "power.max_limit": ("power_max_limit_watts", v.number),
    "pstate": ("performance_state", v.clean),
    "clocks.sm": ("sm_clock_mhz", v.whole),
    "clocks.current.sm": ("sm_clock_mhz", v.whole),
    "clocks.max.sm": ("sm_clock_max_mhz", v.whole),
    "clocks.mem": ("memory_clock_mhz", v.whole),
    "clocks.current.memory": ("memory_clock_mhz", v.whole),
    "clocks.max.mem": ("memory_clock_max_mhz", v.whole),
    "clocks.max.memory": ("memory_clock_max_mhz", v.whole),
    "pcie.link.gen.current": ("pcie_gen_current", v.integer),
    "pcie.link.gen.gpucurrent": ("pcie_gen_current", v.integer),
    "pcie.link.gen.max": ("pcie_gen_max", v.integer),
    "pcie.link.width.current": ("pcie_width_current", v.integer),
    "pcie.link.width.max": ("pcie_width_max", v.integer),
    "ecc.mode.current": ("ecc_enabled", v.flag),
    "ecc.errors.uncorrected.volatile.total": ("ecc_uncorrected_volatile", v.integer),
    "ecc.errors.corrected.volatile.total": ("ecc_corrected_volatile", v.integer),
    "ecc.errors.uncorrected.aggregate.total": ("ecc_uncorrected_aggregate", v.integer),
    "ecc.errors.corrected.aggregate.total": ("ecc_corrected_aggregate", v.integer),
    "retired_pages.single_bit_ecc.count": ("retired_pages_sbe", v.integer),
    "retired_pages.double_bit.count": ("retired_pages_dbe", v.integer),
    "retired_pages.pending": ("retired_pages_pending", v.flag),
    "persistence_mode": ("persistence_mode", v.flag),
    "compute_mode": ("compute_mode", v.compute_mode),
    "mig.mode.current": ("mig_enabled", v.flag),
    "mig.mode.pending": ("mig_pending", v.flag),
}


def parse_csv(lines: list[str], position: int) -> Partial:
    """Parse one span: its first line is the header, the rest are rows with as many columns."""
    header = [h.strip().split(" [")[0].lower() for h in lines[0].split(",")]
    gpus: list[GPU] = []
    driver: str | None = None
    for line in lines[1 : MAX_GPUS + 1]:
        cells = [c.strip() for c in line.split(",")]
        fields: dict[str, Any] = {}
        for name, raw in zip(header, cells, strict=False):
            if name == "driver_version":
                driver = driver or v.clean(raw)
            elif name in _FIELDS:
                target, convert = _FIELDS[name]
                fields.setdefault(target, convert(raw))
        if fields.get("compute_capability") and not re.fullmatch(
            r"\d{1,2}\.\d", fields["compute_capability"]
        ):
            fields["compute_capability"] = None
        if fields.get("index") is None:
            fields["index"] = len(gpus)
        gpus.append(GPU(**fields))
    machine = Machine(
        source=KIND, driver=DriverInfo(version=driver, nvml_ok=True), gpus=gpus, gpus_known=bool(gpus)
    )
    return Partial(KIND, position, machine, match="index" if "index" in header else "position")


def extend(lines: list[str], start: int) -> int:
    """The span: the header and the following lines with the same number of columns."""
    header = lines[start].strip()
    columns = header.count(",")
    end = start + 1
    while end < len(lines) and end - start <= MAX_GPUS:
        row = lines[end].strip()
        if not row or row.count(",") != columns or row == header:  # a repeated header starts a new span
            break
        end += 1
    return end
