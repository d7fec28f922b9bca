"""The one evidence matcher: every message of ``catalog/evidence/*.yaml`` found anywhere in a paste.

Kernel logs, tracebacks, container and application logs all print the same few hundred messages the
driver, CUDA, NVML and PyTorch really emit. The catalogue lists them as data (a literal ``match`` text,
an optional ``regex`` that captures facts, the facts the message implies, the finding code it is
evidence for, its source). This module finds them with ONE search over the paste (an alternation of
the literal texts, C speed, linear), reads each hit line (joined with the lines a wrapped message
continues on, kernel-log prefixes removed), and turns what it found into ``Machine.evidence`` plus the
facts the messages imply (NVML state, driver versions, torch availability, other accelerators).
"""

from __future__ import annotations

import functools
import re
from typing import Any, Literal

from advisor.dumps import values as v
from advisor.dumps.detect import needle_lines
from advisor.dumps.lazy_re import LazyPattern
from advisor.dumps.partial import Partial
from advisor.knowledge.evidence import FACTS, Entry, entries
from advisor.machine import (
    GPU,
    DriverInfo,
    DriverRefusal,
    Evidence,
    HostInfo,
    Machine,
    TorchDevice,
    TorchInfo,
)

KIND = "evidence"
MAX_EVIDENCE = 200
_MAX_MESSAGES = 50  # a log repeating one message hundreds of times says nothing new after a few
_MAX_HITS = 5_000
_MAX_LINE = 2_000
_TEXT = 300

# What a kernel-log line starts with before the message: "[  12.3]", "[Sun May 17 15:55:50 2026]",
# "May 17 15:55:50 host kernel: ", "kernel: ", then "NVRM: " on continuation lines.
_PREFIX = LazyPattern(
    r"^[ \t]*(?:\[[^\]\n]{1,40}\][ \t]*)?"
    r"(?:[A-Z][a-z]{2}[ \t]+\d{1,2}[ \t]+\d\d:\d\d:\d\d[ \t]+\S{1,64}[ \t]+kernel:[ \t]*"
    r"(?:\[[^\]\n]{1,40}\][ \t]*)?)?"
    r"(?:kernel:[ \t]*)?(?:NVRM:[ \t]*)?"
)


@functools.cache
def _by_needle() -> dict[str, tuple[Entry, ...]]:
    table: dict[str, list[Entry]] = {}
    for e in entries():
        for n in e.needles:
            table.setdefault(n, []).append(e)
    return {k: tuple(v) for k, v in table.items()}


@functools.cache
def _compiled(regex: str) -> re.Pattern[str]:
    """An entry's regex, compiled on first use; its named groups must be known fact names."""
    pattern = re.compile(regex)
    unknown = set(pattern.groupindex) - FACTS
    if unknown:
        raise ValueError(f"evidence catalogue: regex {regex!r} captures unknown fact(s) {sorted(unknown)}")
    return pattern


def _window(lines: list[str], i: int, entry: Entry) -> str:
    """The hit line joined with the lines a wrapped message continues on, prefixes and spacing removed."""
    start = max(0, i - entry.before)
    parts = []
    for k in range(start, min(len(lines), i + entry.lines)):
        s = lines[k][:_MAX_LINE]
        parts.append(_PREFIX.sub("", s, count=1) if k != i or entry.before else s)
    return " ".join(" ".join(parts).split())


def _hits(lines: list[str], mask: bytearray) -> dict[int, list[str]]:
    return needle_lines(lines, mask, _by_needle(), _MAX_HITS)


def find(lines: list[str], mask: bytearray) -> list[Evidence]:
    """Every catalogue message in the unmasked lines, in paste order (each entry once per text)."""
    table = _by_needle()
    found: list[Evidence] = []
    seen: set[tuple[str, str]] = set()
    hits = _hits(lines, mask)
    for i in sorted(hits)[:_MAX_HITS]:
        line = lines[i][:_MAX_LINE]
        candidates: dict[str, Entry] = {}
        for needle in hits[i]:
            for e in table[needle]:
                candidates.setdefault(e.id, e)
        for e in candidates.values():
            window = _window(lines, i, e) if (e.lines > 1 or e.before or e.regex) else line.strip()
            facts = dict(e.facts)
            if e.regex is not None:
                m = _compiled(e.regex).search(window)
                if m is None:
                    continue
                facts.update({k: val for k, val in m.groupdict().items() if val is not None})
            text = window[:_TEXT] if e.lines > 1 or e.before else line.strip()[:_TEXT]
            key = (e.id, text)
            if key in seen:
                continue
            seen.add(key)
            xid = facts.get("xid")
            found.append(
                Evidence(
                    id=e.id,
                    code=e.code,
                    text=text,
                    line=i,
                    xid=int(xid) if xid and xid.isdigit() else None,
                    pci_bus_id=_bus(facts.get("bus")),
                    facts={k: v[:120] for k, v in facts.items()},
                )
            )
            if len(found) >= MAX_EVIDENCE:
                return found
    return found


def _refusal(ev: Evidence) -> DriverRefusal:
    """An NVRM line saying the driver will not drive a GPU: legacy branch, open module, too new."""
    f = ev.facts
    name = " ".join(f.get("gpu_name", "").split()) or None
    if name and not name.upper().startswith("NVIDIA"):
        name = f"NVIDIA {name}"  # "The NVIDIA GeForce GTX 680 GPU installed ..."
    pci_id = f.get("pci_id", "")
    reason: Literal["legacy", "open-module-unsupported", "other"] = (
        "legacy"
        if f["refusal"] == "legacy"
        else "open-module-unsupported"
        if "open" in f["refusal"]
        else "other"
    )
    return DriverRefusal(
        message=ev.text,
        name=name,
        pci_bus_id=ev.pci_bus_id,
        pci_device_id=int(pci_id, 16) if re.fullmatch(r"[0-9a-fA-F]{4}", pci_id) else None,
        legacy_branch=f.get("legacy_branch"),
        driver_version=f.get("driver_version"),
        reason=reason,
    )


def _bus(text: str | None) -> str | None:
    """A bus id in nvidia-smi's form ("00000000:3B:00.0"); Xid lines omit the function."""
    if not text:
        return None
    return v.bus_id(text if text.count(".") else text + ".0")


def scan(lines: list[str], mask: bytearray) -> list[Partial]:
    """The evidence partials: what nvidia-smi/NVML said about the driver (kind ``nvidia-smi``), every
    other message and the facts it implies, and the GPUs the messages name (matched by name)."""
    found = find(lines, mask)
    if not found:
        return []
    first = found[0].line or 0
    parts = [Partial(KIND, first, machine_from(found, lines), match="bus")]
    nvml = _nvml_state(found)
    if nvml is not None:
        parts.append(nvml)
    named = _named_gpus(found)
    if named:
        parts.append(Partial(KIND, first, Machine(source=KIND, gpus=named, gpus_known=False), match="name"))
    return parts


def _nvml_state(found: list[Evidence]) -> Partial | None:
    """The driver's state as nvidia-smi/NVML/the kernel reported it, and the GPUs it could not reach.

    Its position is the first such line: when a paste shows an NVML error and later a working nvidia-smi
    (after a reboot), the later output wins in the merge.
    """
    driver: dict[str, Any] = {}
    lost: dict[str, GPU] = {}
    no_devices = False
    position: int | None = None
    for ev in found:
        f = ev.facts
        before = len(driver) + len(lost) + no_devices
        if f.get("nvml_ok") == "false":
            driver["nvml_ok"] = False
            if "nvml_error" in f:
                driver["nvml_error"] = f["nvml_error"]
            elif ev.id == "nvidia-smi-failed":
                driver["nvml_error"] = ev.text  # the line says which failure
            else:
                driver.setdefault("nvml_error", ev.text)
        elif f.get("gpu_list") == "empty":
            no_devices = True
        for key in ("library_version", "kernel_module_version"):
            if key in f:
                driver[key] = f[key]
        bus = _bus(f.get("bus"))
        if "handle_error" in f and bus and bus not in lost:
            error = f["handle_error"]
            lost[bus] = GPU(index=len(lost), pci_bus_id=bus, lost=_unreachable(error), error=error)
        elif f.get("gpu_lost") == "true" and bus and bus not in lost:
            lost[bus] = GPU(index=len(lost), pci_bus_id=bus, lost=True, error="GPU has fallen off the bus")
        if position is None and len(driver) + len(lost) + no_devices > before:
            position = ev.line or 0
    if position is None:
        return None
    if no_devices and "nvml_ok" not in driver:
        driver["nvml_ok"] = True  # NVML answered; it found no GPU
    machine = Machine(
        source="nvidia-smi", driver=DriverInfo(**driver), gpus=list(lost.values()), gpus_known=no_devices
    )
    return Partial("nvidia-smi", position, machine, match="bus")


def _unreachable(error: str) -> bool:
    """NVML could not get a handle for a GPU on the bus: lost, or in a state only a reset clears.

    "GPU is lost" is Xid 79 (fallen off the bus); "Unknown Error" and "GPU requires reset" are what
    the same state prints on other drivers. A permission error (a container's device cgroup) is not.
    """
    low = error.lower()
    return any(t in low for t in ("lost", "unknown error", "requires reset", "reset required"))


def _named_gpus(found: list[Evidence]) -> list[GPU]:
    """GPUs a message names with their capability (torch's warnings, llama.cpp's device list)."""
    gpus: dict[str, GPU] = {}
    for ev in found:
        f = ev.facts
        name = " ".join(f.get("gpu_name", "").split())
        if not name or "refusal" in f:
            continue
        cc = f.get("cc") or (f"{f['sm'][:-1]}.{f['sm'][-1]}" if f.get("sm", "").isdigit() else None)
        if cc is None or name in gpus or len(gpus) >= 64:
            continue
        gpus[name] = GPU(index=len(gpus), name=name, compute_capability=cc)
    return list(gpus.values())


def machine_from(found: list[Evidence], lines: list[str] | None = None) -> Machine:
    """The facts the messages imply besides the driver's state (torch, host, refusals, accelerators)."""
    driver: dict[str, Any] = {}
    torch: dict[str, Any] = {}
    host: dict[str, Any] = {}
    messages: list[str] = []
    accelerators: list[str] = []
    build_ccs: list[str] = []
    devices: dict[int, TorchDevice] = {}
    refused: list[DriverRefusal] = []
    for ev in found:
        f = ev.facts
        if "found_version" in f and f["found_version"].isdigit():
            n = int(f["found_version"])
            driver["cuda_version"] = f"{n // 1000}.{(n % 1000) // 10}"
        if "cuda_available" in f:
            torch.setdefault("cuda_available", f["cuda_available"] == "true")
        if "built_with_cuda" in f:
            torch["built_with_cuda"] = f["built_with_cuda"] == "true"
        if "torch_installed" in f:
            torch.setdefault("installed", f["torch_installed"] == "true")
        if f.get("import_error") == "true":
            torch.setdefault("import_error", ev.text)
        if f.get("device_count", "").isdigit():
            torch.setdefault("device_count", int(f["device_count"]))
        if f.get("torch_message") == "true":
            # torch's messages are kept as the line itself (the torch rules read them)
            text = lines[ev.line].strip()[:1000] if lines is not None and ev.line is not None else ev.text
            if text not in messages and len(messages) < _MAX_MESSAGES:
                messages.append(text)
        if "build_cc" in f and re.fullmatch(r"\d{1,2}\.\d{1,2}", f["build_cc"]):
            major, minor = f["build_cc"].split(".")
            arch = f"sm_{major}{minor}"
            if arch not in build_ccs:
                build_ccs.append(arch)
        if "arches" in f:
            build_ccs += [
                a for a in re.findall(r"(?:sm|compute)_\d{2,3}[a-z]?", f["arches"]) if a not in build_ccs
            ]
        if f.get("index", "").isdigit() and f.get("gpu_name") and f.get("cc") and "torch_message" in f:
            index = int(f["index"])
            name = " ".join(f["gpu_name"].split())
            devices.setdefault(index, TorchDevice(index=index, name=name, compute_capability=f["cc"]))
        if "accelerator" in f and f["accelerator"] not in accelerators:
            accelerators.append(f["accelerator"])
        if "container" in f:
            host["container"] = f["container"]
        if f.get("os_hint") in {"Windows", "Darwin", "Linux"}:
            host.setdefault("os", f["os_hint"])
        if "cuda_visible_devices" in f:
            host.setdefault("cuda_visible_devices", f["cuda_visible_devices"])
        if "refusal" in f and len(refused) < 64:
            refused.append(_refusal(ev))
    if accelerators:
        host["accelerators"] = accelerators
    if refused:
        driver["refused_gpus"] = refused
    if build_ccs:
        torch["arch_list"] = build_ccs
    if devices:
        torch["devices"] = list(devices.values())
    return Machine(
        source=KIND,
        host=HostInfo(**host),
        driver=DriverInfo(**driver),
        gpus=[],
        gpus_known=False,
        torch=TorchInfo(init_messages=messages, **torch),
        evidence=found,
    )
