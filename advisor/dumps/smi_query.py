"""``nvidia-smi -q`` / ``nvidia-smi -a`` text → GPUs and driver facts.

Handles the old and new schemas side by side: "Clocks Throttle Reasons" (≤ R530) and "Clocks Event
Reasons" (R535+); "Power Readings" with "Power Limit"/"Enforced Power Limit" and "GPU Power Readings"
with "Current Power Limit"; ECC counters as "Single Bit"/"Double Bit" totals (≤ Volta) or
"SRAM/DRAM Correctable/Uncorrectable" (Ampere+, with "Parity"/"SEC-DED" splits from R535).
A fragment without the "GPU <bus id>" header (a pasted section) becomes one GPU of unknown identity.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from advisor.dumps import values as v
from advisor.dumps.merge import fill
from advisor.dumps.partial import MAX_GPUS, MAX_SPAN_LINES, Partial
from advisor.dumps.tree import Node, parse_tree
from advisor.machine import GPU, DriverInfo, GPUProcess, Machine, MigInstance, ThrottleReason

KIND = "nvidia-smi-q"
_TOP_LEVEL = {"timestamp", "driver version", "cuda version", "attached gpus"}


def parse_query(lines: list[str], position: int) -> Partial:
    """Parse one ``-q`` span (its lines) that starts at line ``position`` of the paste."""
    root = parse_tree(lines[:MAX_SPAN_LINES])
    gpus: list[GPU] = []
    by_bus: dict[str, int] = {}
    loose: list[Node] = []  # GPU sections pasted without their "GPU <bus id>" header
    seen = 0
    for node in root.children:
        key = node.key
        bus = v.bus_id(key[4:]) if key.startswith("GPU ") else None
        seen += bus is not None
        if seen > MAX_GPUS:
            break
        if bus is not None and bus in by_bus:  # the same GPU again (two -q runs pasted one after the other)
            gpus[by_bus[bus]] = fill(gpus[by_bus[bus]], _gpu(node, by_bus[bus], bus))
        elif bus is not None and len(gpus) < MAX_GPUS:
            by_bus[bus] = len(gpus)
            gpus.append(_gpu(node, len(gpus), bus))
        elif bus is None and node.lkey not in _TOP_LEVEL and not key.startswith("="):
            loose.append(node)
    if loose and not gpus:
        fragment = _gpu(Node("", children=loose), 0, None)
        if _has_facts(fragment):
            gpus.append(fragment)

    attached = v.integer(root.value_of("Attached GPUs"))
    driver = DriverInfo(
        version=v.clean(root.value_of("Driver Version")),
        cuda_version=v.clean(root.value_of("CUDA Version")),
        nvml_ok=True,
    )
    missing = (
        [f"nvidia-smi -q lines after line {MAX_SPAN_LINES} (ignored)"] if len(lines) > MAX_SPAN_LINES else []
    )
    if attached is not None and attached > len(gpus):
        missing.append(f"{attached - len(gpus)} of {attached} attached GPUs (not in the dump)")
    known = bool(gpus) or attached is not None
    machine = Machine(source=KIND, driver=driver, gpus=gpus, gpus_known=known, missing=missing)
    return Partial(KIND, position, machine, match="position")


def _has_facts(gpu: GPU) -> bool:
    return any(value is not None for name, value in gpu if name not in {"index", "vendor", "lost"})


def _gpu(node: Node, index: int, bus_id: str | None) -> GPU:
    pci = node.get("PCI") or Node("")
    link = pci.get("GPU Link Info") or Node("")
    fields: dict[str, Any] = {
        "index": index,
        "name": v.clean(node.value_of("Product Name")),
        "architecture": v.clean(node.value_of("Product Architecture")),
        "serial": v.clean(node.value_of("Serial Number")),
        "uuid": v.clean(node.value_of("GPU UUID")),
        "pci_bus_id": bus_id or v.bus_id(pci.value_of("Bus Id")),
        "pci_device_id": v.pci_device_id(pci.value_of("Device Id")),
        "pci_subsystem_id": v.hex_int(pci.value_of("Sub System Id")),
        "pcie_gen_current": v.integer(link.value_of("PCIe Generation", "Current")),
        "pcie_gen_max": v.integer(link.value_of("PCIe Generation", "Max")),
        "pcie_width_current": v.integer(link.value_of("Link Width", "Current")),
        "pcie_width_max": v.integer(link.value_of("Link Width", "Max")),
        "memory_total_bytes": v.size_bytes(node.value_of("FB Memory Usage", "Total")),
        "memory_used_bytes": v.size_bytes(node.value_of("FB Memory Usage", "Used")),
        "memory_free_bytes": v.size_bytes(node.value_of("FB Memory Usage", "Free")),
        "sm_clock_mhz": v.whole(node.value_of("Clocks", "SM")),
        "sm_clock_max_mhz": v.whole(node.value_of("Max Clocks", "SM")),
        "memory_clock_mhz": v.whole(node.value_of("Clocks", "Memory")),
        "memory_clock_max_mhz": v.whole(node.value_of("Max Clocks", "Memory")),
        "temperature_c": v.number(node.value_of("Temperature", "GPU Current Temp")),
        "temperature_slowdown_c": v.number(node.value_of("Temperature", "GPU Slowdown Temp")),
        "temperature_shutdown_c": v.number(node.value_of("Temperature", "GPU Shutdown Temp")),
        "temperature_max_operating_c": v.number(node.value_of("Temperature", "GPU Max Operating Temp")),
        "utilization_gpu_percent": v.number(node.value_of("Utilization", "Gpu")),
        "performance_state": v.clean(node.value_of("Performance State")),
        "persistence_mode": v.flag(node.value_of("Persistence Mode")),
        "compute_mode": v.compute_mode(node.value_of("Compute Mode")),
        "ecc_enabled": v.flag(node.value_of("ECC Mode", "Current")),
        "mig_enabled": v.flag(node.value_of("MIG Mode", "Current")),
        "mig_pending": v.flag(node.value_of("MIG Mode", "Pending")),
        "throttle_reasons": _reasons(node),
        "processes": _processes(node.get("Processes")),
        "mig_instances": _mig(node.get("MIG devices")),
    }
    fields.update(_power(node))
    fields.update(_ecc(node.get("ECC Errors")))
    fields.update(_retired(node.get("Retired Pages")))
    fields.update(_remapped(node.get("Remapped Rows")))
    return GPU(**fields)


def _power(node: Node) -> dict[str, Any]:
    section = node.get("GPU Power Readings") or node.get("Power Readings") or Node("")
    draw = section.value_of("Power Draw|Instantaneous Power Draw|Average Power Draw")
    limit = section.value_of("Enforced Power Limit") or section.value_of("Current Power Limit|Power Limit")
    return {
        "power_draw_watts": v.number(draw),
        "power_limit_watts": v.number(limit),
        "power_default_limit_watts": v.number(section.value_of("Default Power Limit")),
        "power_max_limit_watts": v.number(section.value_of("Max Power Limit")),
    }


def _reasons(node: Node) -> list[ThrottleReason] | None:
    section = next(
        (c for c in node.children if "reason" in c.key.lower() and "clocks" in c.key.lower()), None
    )
    if section is None:
        return None

    def walk(nodes: list[Node]) -> Iterator[tuple[str | None, str | None]]:
        # HW Thermal / HW Power Brake Slowdown nest under HW Slowdown in newer drivers
        for c in nodes:
            yield c.key, c.value
            yield from walk(c.children)

    return v.active_reasons(walk(section.children))


def _ecc(section: Node | None) -> dict[str, int | None]:
    out: dict[str, int | None] = {}
    for scope in ("volatile", "aggregate"):
        corrected, uncorrected = _ecc_scope(section.get(scope) if section else None)
        out[f"ecc_corrected_{scope}"] = corrected
        out[f"ecc_uncorrected_{scope}"] = uncorrected
    return out


def _ecc_scope(node: Node | None) -> tuple[int | None, int | None]:
    if node is None:
        return None, None
    single, double = node.get("Single Bit"), node.get("Double Bit")
    if single is not None or double is not None:
        return _total(single), _total(double)
    corrected = [
        c.value for c in node.children if "correctable" in c.key.lower() and "uncorr" not in c.key.lower()
    ]
    uncorrected = [c.value for c in node.children if "uncorrectable" in c.key.lower()]
    return _sum(corrected), _sum(uncorrected)


def _total(node: Node | None) -> int | None:
    if node is None:
        return None
    total = v.integer(node.value_of("Total"))
    if total is not None:
        return total
    return _sum([c.value for c in node.children if c.key.lower() != "total"])


def _sum(texts: list[str | None]) -> int | None:
    counts = [n for n in (v.integer(t) for t in texts) if n is not None]
    return sum(counts) if counts else None


def _retired(node: Node | None) -> dict[str, Any]:
    if node is None:
        return {}
    pending = next((c.value for c in node.children if c.key.lower().startswith("pending")), None)
    return {
        "retired_pages_sbe": v.integer(node.value_of("Single Bit ECC")),
        "retired_pages_dbe": v.integer(node.value_of("Double Bit ECC")),
        "retired_pages_pending": v.flag(pending),
    }


def _remapped(node: Node | None) -> dict[str, Any]:
    if node is None:
        return {}
    return {
        "remapped_rows_correctable": v.integer(node.value_of("Correctable Error")),
        "remapped_rows_uncorrectable": v.integer(node.value_of("Uncorrectable Error")),
        "remapped_rows_pending": v.flag(node.value_of("Pending")),
        "remapped_rows_failure": v.flag(node.value_of("Remapping Failure Occurred")),
    }


def _processes(node: Node | None) -> list[GPUProcess] | None:
    if node is None:
        return None
    if not node.children:
        return [] if (node.value or "").strip().lower() == "none" else None
    out = []
    for c in node.children:
        if c.key.lower() != "process id":
            continue
        out.append(
            GPUProcess(
                pid=v.integer(c.value),
                name=v.clean(c.value_of("Name|Process Name")),
                used_memory_bytes=v.size_bytes(c.value_of("Used GPU Memory|Used Memory")),
                kind=v.process_kind(c.value_of("Type")),
            )
        )
    return out


def _mig(node: Node | None) -> list[MigInstance] | None:
    if node is None:
        return None
    if not node.children:
        return [] if (node.value or "").strip().lower() == "none" else None
    devices = [c for c in node.children if c.key.lower().startswith("mig device")] or [node]
    return [
        MigInstance(
            gpu_instance_id=v.integer(d.value_of("GPU Instance ID")),
            compute_instance_id=v.integer(d.value_of("Compute Instance ID")),
            memory_total_bytes=v.size_bytes(d.value_of("FB Memory Usage", "Total")),
        )
        for d in devices
    ]
