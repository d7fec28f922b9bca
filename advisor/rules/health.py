"""Health rules: what NVML says about each GPU's state (ECC, clocks, PCIe link, power limit, MIG, load).

Pure: ``check_health(machine, knowledge) -> list[Finding]``. Every rule reads only facts in the Machine;
an unknown fact (None) never fires a rule. The judgement follows what an operator would conclude:
power-saving states of an idle GPU (P8, Gen1 link, "Idle" or "SW Power Cap" reasons) are normal, while
hardware slowdowns, a link trained narrower than the slot, pending ECC repairs and a probe that hung are not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from advisor.machine import GPU, Machine
from advisor.report import Finding
from advisor.rules.evidence import evidence_findings, gpu_evidence
from advisor.rules.health_ecc import check_ecc
from advisor.units import format_bytes

if TYPE_CHECKING:
    from advisor.knowledge.base import Knowledge

# Active clock-event reasons that really cost speed. Left out on purpose: gpu_idle (nothing to do),
# sw_power_cap (the board's normal power management: active both at idle with ~20 W drawn and at full
# load against the limit, fixtures 53 and 55), applications_clocks_setting (clocks pinned by the
# admin with `nvidia-smi -ac`, fixture 43), sync_boost and display_clock_setting (configuration).
# Names: NVML nvmlClocksEventReasons (nvml.h), normalised in advisor/machine.py ThrottleReason.
_SLOWDOWN_REASONS: dict[str, str] = {
    "hw_power_brake_slowdown": "HW Power Brake Slowdown (an external power-brake signal from the system/PSU)",
    "hw_thermal_slowdown": "HW Thermal Slowdown (GPU or memory over its hardware temperature limit)",
    "sw_thermal_slowdown": "SW Thermal Slowdown (the driver lowers clocks to cool the GPU)",
    "hw_slowdown": "HW Slowdown (clocks cut by half or more, by heat or an external power brake)",
}

# A link trained at x4 or narrower while the card can do more is a riser, a chipset slot or a bad
# seat: host<->device copies run at a quarter or less of the card's bandwidth (fixture 44: x1 mining
# risers). x8 of x16 is commonly a deliberate x8/x8 slot split, so it is only reported as info.
NARROW_LINK_MAX_LANES = 4

# Above this utilization the GPU is under load, so its PCIe link must be at full generation: idle
# GPUs drop the link to Gen1 to save power and return to full speed within milliseconds of load
# (fixtures 53, 54, 57), so a lower generation says nothing while idle. Chosen, not sourced.
LOADED_UTILIZATION_PERCENT = 50.0

# Power limit this far below the board's default counts as reduced: the enforced and default limits
# are reported in whole or tenth watts and some boards sit a watt or two apart. Chosen, not sourced.
POWER_LIMIT_TOLERANCE = 0.05

# gpu-busy: another workload is on the GPU when it uses this much of the memory or compute.
BUSY_MEMORY_FRACTION = 0.10
BUSY_UTILIZATION_PERCENT = 20.0


# The codes of this area a message in the paste can establish on its own (Xid lines, CUDA errors).
HEALTH_CODES = frozenset({"ecc-errors", "gpu-hang", "gpu-busy", "gpu-throttled"})


def check_health(machine: Machine, knowledge: Knowledge) -> list[Finding]:
    """Health findings for every GPU, plus gpu-hang when a probe source timed out."""
    findings = _hangs(machine)
    for gpu in machine.gpus:
        if gpu.lost:
            findings.append(_lost(gpu))
            continue
        findings += check_ecc(gpu)
        throttled = _throttle(gpu)
        findings += throttled or _hot(gpu)
        findings += _pcie(gpu)
        findings += _power_limit(gpu)
        findings += _exclusive(gpu) or _busy(gpu)
        findings += _mig(gpu)
    present = bool(machine.gpus) or bool(gpu_evidence(machine))
    findings += evidence_findings(machine, HEALTH_CODES, findings, present)
    return findings


def _label(gpu: GPU) -> str:
    return f"GPU {gpu.index}" + (f" ({gpu.name})" if gpu.name else "")


def _hangs(machine: Machine) -> list[Finding]:
    sources = list(dict.fromkeys(machine.probe_timeouts + (["torch"] if machine.torch.timed_out else [])))
    if not sources:
        return []
    names = ", ".join(sources)
    return [
        Finding(
            code="gpu-hang",
            severity="error",
            title=f"The GPU probe hung ({names})",
            detail=(
                f"Querying {names} did not answer within the time limit, so it was stopped. A driver or GPU "
                "that does not answer a simple query will hang training jobs too (often after an Xid error)."
            ),
            fix=(
                "Check the kernel log for Xid errors (`sudo dmesg -T | grep -i xid`), stop the processes "
                "using the GPU and reset it (`sudo nvidia-smi -r -i <index>`) or reboot the node."
            ),
        )
    ]


def _lost(gpu: GPU) -> Finding:
    why = f" NVML said: {gpu.error}." if gpu.error else ""
    if gpu.pci_bus_id:
        why = f" PCI bus id {gpu.pci_bus_id}." + why
    return Finding(
        code="gpu-hang",
        severity="error",
        gpu=gpu.index,
        title=f"{_label(gpu) if gpu.name or not gpu.pci_bus_id else 'GPU at ' + gpu.pci_bus_id} is lost: "
        "it does not answer the driver",
        detail=f"NVML reports the GPU as lost or inaccessible (fallen off the bus, Xid 79 class).{why}",
        fix=(
            "Drain the node, check `sudo dmesg -T | grep -i xid`, then reboot; if it recurs, reseat the GPU, "
            "check its power cables and PCIe slot, or RMA it."
        ),
    )


def _throttle(gpu: GPU) -> list[Finding]:
    active = [r for r in (gpu.throttle_reasons or []) if r in _SLOWDOWN_REASONS]
    if not active:
        return []
    # hw_slowdown is the umbrella of the power-brake and thermal ones; name the specific cause first.
    specific = [r for r in active if r != "hw_slowdown"]
    reasons = "; ".join(_SLOWDOWN_REASONS[r] for r in (specific or active))
    facts = [f"active: {reasons}"]
    if gpu.sm_clock_mhz is not None:
        clock = f"SM clock {gpu.sm_clock_mhz} MHz"
        if gpu.sm_clock_max_mhz:
            clock += f" of {gpu.sm_clock_max_mhz} MHz max ({gpu.sm_clock_mhz / gpu.sm_clock_max_mhz:.0%})"
        facts.append(clock)
    if gpu.temperature_c is not None:
        facts.append(f"temperature {gpu.temperature_c:g} C")
    if gpu.power_draw_watts is not None:
        power = f"power draw {gpu.power_draw_watts:g} W"
        if gpu.power_limit_watts is not None:
            power += f" of a {gpu.power_limit_watts:g} W limit"
        facts.append(power)
    if "hw_power_brake_slowdown" in active:
        fix = (
            "The system asserts the power-brake signal: check the PSUs (redundancy lost, "
            "undersized), the GPU power cables and the BMC/iDRAC GPU power policy; "
            "`nvidia-smi -q -d PERFORMANCE` shows it live."
        )
    elif any(r in active for r in ("hw_thermal_slowdown", "sw_thermal_slowdown")):
        fix = (
            "Improve cooling: check fans, airflow, blanking panels and inlet temperature; "
            "`nvidia-smi -q -d TEMPERATURE,PERFORMANCE` shows the limits and the reason live."
        )
    else:
        fix = (
            "Check temperatures and the power supply (`nvidia-smi -q -d TEMPERATURE,POWER,PERFORMANCE`); "
            "HW Slowdown comes from over-temperature or an external power brake."
        )
    return [
        Finding(
            code="gpu-throttled",
            severity="warning",
            gpu=gpu.index,
            title=f"{_label(gpu)} is held at low clocks by a hardware/thermal slowdown",
            detail="; ".join(facts) + ". The GPU runs far below its normal speed while this lasts.",
            fix=fix,
        )
    ]


# How close to "GPU Max Operating Temp" counts as at it: the GPU lowers its boost clocks to hold
# that temperature, and nvidia-smi rounds to whole degrees. Chosen, not sourced.
MAX_OPERATING_MARGIN_C = 2.0


def _hot(gpu: GPU) -> list[Finding]:
    """gpu-throttled from the temperature section alone: the current temperature against the card's own
    limits (nvidia-smi -q -d TEMPERATURE), when no clocks-event reasons were shown."""
    t = gpu.temperature_c
    if t is None:
        return []
    slow, limit = gpu.temperature_slowdown_c, gpu.temperature_max_operating_c
    if slow is not None and t >= slow:
        what = f"at or above its slowdown threshold of {slow:g} C: the hardware cuts clocks"
    elif limit is not None and t >= limit - MAX_OPERATING_MARGIN_C:
        what = (
            f"at its own max operating temperature of {limit:g} C, where it lowers its boost clocks to "
            "stay below it"
        )
        if slow is not None and limit < slow - 30:
            what += f" (a low limit for a {slow:g} C slowdown threshold: the system's thermal configuration)"
    else:
        return []
    return [
        Finding(
            code="gpu-throttled",
            severity="warning",
            gpu=gpu.index,
            title=f"{_label(gpu)} runs at {t:g} C, {what.split(':')[0]}",
            detail=f"The GPU is at {t:g} C, {what}. Sustained load runs below its normal speed.",
            fix="Improve cooling (fans, airflow, inlet temperature; on laptops the vendor's thermal profile "
            "or thermald settings); `nvidia-smi -q -d TEMPERATURE,PERFORMANCE` shows the limits and the "
            "active clocks-event reasons.",
        )
    ]


def _loaded(gpu: GPU) -> bool:
    return (
        gpu.utilization_gpu_percent is not None and gpu.utilization_gpu_percent >= LOADED_UTILIZATION_PERCENT
    )


def _pcie(gpu: GPU) -> list[Finding]:
    findings: list[Finding] = []
    width, width_max = gpu.pcie_width_current, gpu.pcie_width_max
    gen, gen_max = gpu.pcie_gen_current, gpu.pcie_gen_max
    link = f"PCIe Gen{gen if gen is not None else '?'} x{width if width is not None else '?'}"
    link_max = f"Gen{gen_max if gen_max is not None else '?'} x{width_max if width_max is not None else '?'}"
    if width is not None and width_max is not None and width < width_max:
        narrow = width <= NARROW_LINK_MAX_LANES
        findings.append(
            Finding(
                code="pcie-link-degraded",
                severity="warning" if narrow else "info",
                gpu=gpu.index,
                title=f"{_label(gpu)} PCIe link runs at x{width} of x{width_max} lanes",
                detail=(
                    f"The link trained at {link} (max {link_max}). Link width does not drop to save power, "
                    f"so this is the slot, a riser or the seating: host<->GPU copies get {width}/{width_max} "
                    "of the bandwidth"
                    + (
                        ", which starves data loading and multi-GPU traffic."
                        if narrow
                        else " (a deliberate x8/x8 slot split is common and usually fine)."
                    )
                ),
                fix=(
                    "Move the GPU to a full x16 slot wired to the CPU (not via a riser or chipset), "
                    "reseat it, and check the BIOS PCIe bifurcation; `nvidia-smi -q -d PCIE` or "
                    "`sudo lspci -vv | grep -i lnksta` shows the trained link."
                ),
            )
        )
    if gen is not None and gen_max is not None and gen < gen_max and _loaded(gpu):
        findings.append(
            Finding(
                code="pcie-link-degraded",
                severity="warning",
                gpu=gpu.index,
                title=f"{_label(gpu)} PCIe link at Gen{gen} of Gen{gen_max} under load",
                detail=(
                    f"The link runs at {link} (max {link_max}) while the GPU is "
                    f"{gpu.utilization_gpu_percent:g}% busy. Idle GPUs drop to Gen1 to save power, but a "
                    "loaded one should be at full generation: a lower one means signal problems "
                    "(riser, slot, cable) or a BIOS limit."
                ),
                fix=(
                    "Check the BIOS PCIe speed setting, reseat the GPU or remove the riser; compare with "
                    "`nvidia-smi -q -d PCIE` while a job runs."
                ),
            )
        )
    return findings


def _power_limit(gpu: GPU) -> list[Finding]:
    limit, default = gpu.power_limit_watts, gpu.power_default_limit_watts
    if limit is None or default is None or default <= 0 or limit >= default * (1 - POWER_LIMIT_TOLERANCE):
        return []
    return [
        Finding(
            code="power-limit-reduced",
            severity="warning",
            gpu=gpu.index,
            title=f"{_label(gpu)} power limit is {limit:g} W, below its {default:g} W default",
            detail=(
                f"The enforced power limit is {limit:g} W, {1 - limit / default:.0%} below the board "
                f"default of {default:g} W, so clocks drop under heavy load (SW Power Cap). "
                "Someone set it with `nvidia-smi -pl`, or the system/BMC enforces a lower cap."
            ),
            fix=f"sudo nvidia-smi -i {gpu.index} -pl {default:g}  (if the lower limit was not deliberate)",
        )
    ]


def _exclusive(gpu: GPU) -> list[Finding]:
    """The compute mode lets no new CUDA context in: Prohibited, or Exclusive_Process/Thread with a
    compute process already on the GPU. A job started here fails ("all CUDA-capable devices are busy or
    unavailable", CUDA error 46), so it is an error for the user's job, not a note about load."""
    mode = gpu.compute_mode
    procs = [p for p in (gpu.processes or []) if p.kind != "graphics"]
    if mode == "Prohibited":
        why = "its compute mode is Prohibited: no process may create a CUDA context on it"
    elif mode in ("Exclusive_Process", "Exclusive_Thread") and procs:
        who = ", ".join(f"{p.name or '?'} (pid {p.pid if p.pid is not None else '?'})" for p in procs[:4])
        why = f"its compute mode is {mode} and {who} already holds it"
    else:
        return []
    return [
        Finding(
            code="gpu-busy",
            severity="error",
            gpu=gpu.index,
            title=f"{_label(gpu)} accepts no new CUDA job",
            detail=f'{_label(gpu)}: {why}, so a new job fails with "all CUDA-capable devices are busy or '
            'unavailable" (CUDA error 46).',
            fix=f"Use another GPU (CUDA_VISIBLE_DEVICES), wait for the holder to finish, or (as root) "
            f"`sudo nvidia-smi -i {gpu.index} -c DEFAULT` to allow several processes.",
        )
    ]


def _busy(gpu: GPU) -> list[Finding]:
    """Info only: a check cannot tell whether the load is the node's own job (fixtures 44 and 55)."""
    procs = [p for p in (gpu.processes or []) if p.kind != "graphics"]
    used, total = gpu.memory_used_bytes, gpu.memory_total_bytes
    if gpu.processes:
        proc_mem = [p.used_memory_bytes for p in procs if p.used_memory_bytes is not None]
        if proc_mem:
            used = sum(proc_mem)
    mem_busy = used is not None and total is not None and total > 0 and used >= BUSY_MEMORY_FRACTION * total
    util_busy = (
        gpu.utilization_gpu_percent is not None and gpu.utilization_gpu_percent >= BUSY_UTILIZATION_PERCENT
    )
    if gpu.mig_enabled:  # per-slice usage is not comparable with the whole GPU's total
        mem_busy = False
    if not (mem_busy or util_busy):
        return []
    facts = []
    if gpu.utilization_gpu_percent is not None:
        facts.append(f"utilization {gpu.utilization_gpu_percent:g}%")
    if used is not None and total is not None:
        facts.append(f"{format_bytes(used)} of {format_bytes(total)} memory in use")
    if procs:
        names = ", ".join(f"{p.name or '?'} (pid {p.pid if p.pid is not None else '?'})" for p in procs[:4])
        facts.append(f"{len(procs)} process(es): {names}" + (", ..." if len(procs) > 4 else ""))
    return [
        Finding(
            code="gpu-busy",
            severity="info",
            gpu=gpu.index,
            title=f"{_label(gpu)} is in use by another workload",
            detail=(
                "; ".join(facts) + ". A new job here shares compute and gets only the free memory, and "
                "benchmark figures for this GPU are not representative."
            ),
            fix=(
                "See who uses it: "
                "`nvidia-smi --query-compute-apps=pid,process_name,used_memory --format=csv`; "
                "pick a free GPU with CUDA_VISIBLE_DEVICES=<index>."
            ),
        )
    ]


def _mig(gpu: GPU) -> list[Finding]:
    """Warning: a process sees one MIG slice, not the GPU, which surprises a torch user (fixture 49)."""
    if not gpu.mig_enabled:
        return []
    instances = gpu.mig_instances or []
    parts = []
    if instances:
        listed = ", ".join(
            " ".join(
                x
                for x in (i.profile, format_bytes(i.memory_total_bytes) if i.memory_total_bytes else None)
                if x
            )
            or "size unknown"
            for i in instances
        )
        parts.append(f"{len(instances)} MIG instance(s): {listed}")
    else:
        parts.append("no MIG instance listed")
    if gpu.memory_total_bytes is not None:
        parts.append(f"the whole GPU has {format_bytes(gpu.memory_total_bytes)}")
    # pending_mig is the mode after the next reset; it differs from the current mode only mid-change.
    change = (
        " Disabling MIG is pending (takes effect at the next GPU reset)." if gpu.mig_pending is False else ""
    )
    return [
        Finding(
            code="mig-enabled",
            severity="warning",
            gpu=gpu.index,
            title=f"{_label(gpu)} is partitioned with MIG: a process sees one slice, not the GPU",
            detail=(
                "; ".join(parts) + ". A CUDA process (torch) can use only the one MIG device it is given "
                "(CUDA_VISIBLE_DEVICES=MIG-<uuid>), with that slice's memory and SMs; several slices cannot "
                "be combined in one process and NCCL does not run across them." + change
            ),
            fix=(
                f"If you want the whole GPU: `sudo nvidia-smi mig -i {gpu.index} -dci && "
                f"sudo nvidia-smi mig -i {gpu.index} -dgi && "
                f"sudo nvidia-smi -i {gpu.index} -mig 0` (then reset the GPU); "
                "otherwise size the job for one slice."
            ),
        )
    ]
