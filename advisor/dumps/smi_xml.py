"""``nvidia-smi -q -x`` XML → GPUs and driver facts, parsed with defusedxml only.

DTDs may be named (every real file has ``<!DOCTYPE nvidia_smi_log SYSTEM "nvsmi_device_vNN.dtd">``) but
entity declarations and external references are refused before anything expands, so an XML bomb costs
nothing and raises InputError. Schemas v9-v13 differ in tag names; each lookup lists the alternatives:
``clocks_throttle_reasons`` (≤ v11) / ``clocks_event_reasons`` (v12+), ``power_readings`` with
``power_limit``/``enforced_power_limit`` (≤ v11) / ``gpu_power_readings`` with ``current_power_limit`` and,
from v13, ``instant_power_draw``/``average_power_draw``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from advisor.dumps import values as v
from advisor.dumps.partial import MAX_GPUS, Partial
from advisor.errors import InputError
from advisor.machine import GPU, DriverInfo, GPUProcess, Machine, MigInstance, ThrottleReason

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

KIND = "nvidia-smi-xml"
_CLOCKS_OPEN, _CLOCKS_CLOSE = "<supported_clocks>", "</supported_clocks>"
_MAX_TAGS = 200_000  # a 16-GPU file has ~10k tags once its clock tables are gone


class XmlUnreadable(ValueError):
    """The document is not well-formed even after cutting it at its last complete ``<gpu>``."""


def parse_xml(text: str, position: int) -> Partial:
    """Parse one ``nvidia_smi_log`` document; raises InputError on entities, XmlUnreadable on bad XML."""
    if "<!ENTITY" in text:  # refuse before even building a parser (defusedxml would refuse too)
        raise InputError("nvidia-smi XML declares entities (<!ENTITY>); refusing to expand them")
    text = _drop_supported_clocks(text)
    if text.count("<") > _MAX_TAGS:
        raise XmlUnreadable(
            f"nvidia-smi XML has more than {_MAX_TAGS} tags; not a real nvidia-smi -q -x output"
        )
    root = _load(text)
    gpus = [_gpu(el, i) for i, el in enumerate(root.findall("gpu")[:MAX_GPUS])]
    attached = v.integer(root.findtext("attached_gpus"))
    driver = DriverInfo(
        version=v.clean(root.findtext("driver_version")),
        cuda_version=v.clean(root.findtext("cuda_version")),
        nvml_ok=True,
    )
    missing = []
    if attached is not None and attached > len(gpus):
        missing.append(f"{attached - len(gpus)} of {attached} attached GPUs (not in the dump)")
    known = bool(gpus) or attached is not None
    machine = Machine(source=KIND, driver=driver, gpus=gpus, gpus_known=known, missing=missing)
    return Partial(KIND, position, machine, match="position")


def parse_fragment(text: str, position: int) -> Partial:
    """A piece of one GPU's ``-q -x`` output without the document around it (a section pasted alone):
    wrapped into a document; it describes one GPU, not the machine's GPU list."""
    body = _balance(text.strip())
    if not body.startswith("<gpu"):
        body = f"<gpu>{body}</gpu>"
    part = parse_xml(f"<nvidia_smi_log>{body}</nvidia_smi_log>", position)
    m = part.machine
    machine = m.model_copy(
        update={"gpus_known": False, "driver": m.driver.model_copy(update={"nvml_ok": None})}
    )
    return Partial(KIND, position, machine, match="position")


_TAG = re.compile(r"<(/?)([A-Za-z_][\w.-]{0,80})[^<>]{0,2000}?(/?)>")


def _balance(fragment: str) -> str:
    """Close the elements a cut paste leaves open and drop closing tags whose opening was cut off."""
    stack: list[str] = []
    parts: list[str] = []
    pos = 0
    for m in _TAG.finditer(fragment):
        closing, name, empty = m[1], m[2], m[3]
        if closing:
            if name not in stack:
                parts.append(fragment[pos : m.start()])
                pos = m.end()
                continue
            while stack and stack[-1] != name:
                parts.append(f"{fragment[pos : m.start()]}</{stack.pop()}>")
                pos = m.start()
            stack.pop()
        elif not empty and not m[0].startswith("<?"):
            stack.append(name)
    parts.append(fragment[pos:])
    parts += [f"</{name}>" for name in reversed(stack)]
    return "".join(parts)


def _drop_supported_clocks(text: str) -> str:
    """Cut the supported-clocks tables: most of a real file, and nothing we use (a linear scan)."""
    parts = []
    pos = 0
    while (start := text.find(_CLOCKS_OPEN, pos)) != -1:
        end = text.find(_CLOCKS_CLOSE, start)
        if end == -1:
            break
        parts.append(text[pos:start])
        pos = end + len(_CLOCKS_CLOSE)
    parts.append(text[pos:])
    return "".join(parts)


def _load(text: str) -> Element:
    import defusedxml
    from defusedxml.ElementTree import ParseError, fromstring

    def parse(doc: str) -> Element:
        try:
            return fromstring(doc, forbid_dtd=False, forbid_entities=True, forbid_external=True)  # type: ignore[no-any-return]
        except defusedxml.DefusedXmlException as e:
            raise InputError(
                f"nvidia-smi XML declares entities or external references ({type(e).__name__}); "
                "refusing to expand them"
            ) from None

    try:
        return parse(text)
    except ParseError as first:
        # A cut-off paste: keep every complete <gpu> element and close the document.
        cut = text.rfind("</gpu>")
        if cut != -1:
            try:
                return parse(text[: cut + len("</gpu>")] + "\n</nvidia_smi_log>")
            except ParseError:
                pass
        raise XmlUnreadable(f"nvidia-smi XML is not well-formed ({first})") from None


def _t(el: Element | None, *paths: str) -> str | None:
    """The first non-placeholder text among alternative child paths."""
    if el is None:
        return None
    for p in paths:
        text = v.clean(el.findtext(p))
        if text is not None:
            return text
    return None


def _gpu(el: Element, index: int) -> GPU:
    pci = el.find("pci")
    fields: dict[str, Any] = {
        "index": index,
        "name": _t(el, "product_name"),
        "architecture": _t(el, "product_architecture"),
        "serial": _t(el, "serial"),
        "uuid": _t(el, "uuid"),
        "pci_bus_id": v.bus_id(_t(pci, "pci_bus_id")) or v.bus_id(el.get("id")),
        "pci_device_id": v.pci_device_id(_t(pci, "pci_device_id")),
        "pci_subsystem_id": v.hex_int(_t(pci, "pci_sub_system_id")),
        "pcie_gen_current": v.integer(_t(pci, "pci_gpu_link_info/pcie_gen/current_link_gen")),
        "pcie_gen_max": v.integer(_t(pci, "pci_gpu_link_info/pcie_gen/max_link_gen")),
        "pcie_width_current": v.integer(_t(pci, "pci_gpu_link_info/link_widths/current_link_width")),
        "pcie_width_max": v.integer(_t(pci, "pci_gpu_link_info/link_widths/max_link_width")),
        "memory_total_bytes": v.size_bytes(_t(el, "fb_memory_usage/total")),
        "memory_used_bytes": v.size_bytes(_t(el, "fb_memory_usage/used")),
        "memory_free_bytes": v.size_bytes(_t(el, "fb_memory_usage/free")),
        "sm_clock_mhz": v.whole(_t(el, "clocks/sm_clock")),
        "sm_clock_max_mhz": v.whole(_t(el, "max_clocks/sm_clock")),
        "memory_clock_mhz": v.whole(_t(el, "clocks/mem_clock")),
        "memory_clock_max_mhz": v.whole(_t(el, "max_clocks/mem_clock")),
        "temperature_c": v.number(_t(el, "temperature/gpu_temp")),
        "temperature_slowdown_c": v.number(_t(el, "temperature/gpu_temp_slow_threshold")),
        "temperature_shutdown_c": v.number(_t(el, "temperature/gpu_temp_max_threshold")),
        "temperature_max_operating_c": v.number(_t(el, "temperature/gpu_temp_max_gpu_threshold")),
        "utilization_gpu_percent": v.number(_t(el, "utilization/gpu_util")),
        "performance_state": _t(el, "performance_state"),
        "persistence_mode": v.flag(_t(el, "persistence_mode")),
        "compute_mode": v.compute_mode(_t(el, "compute_mode")),
        "ecc_enabled": v.flag(_t(el, "ecc_mode/current_ecc")),
        "mig_enabled": v.flag(_t(el, "mig_mode/current_mig")),
        "mig_pending": v.flag(_t(el, "mig_mode/pending_mig")),
        "mig_instances": _mig(el.find("mig_devices")),
        "throttle_reasons": _reasons(el),
        "processes": _processes(el.find("processes")),
    }
    power = el.find("gpu_power_readings")
    if power is None:
        power = el.find("power_readings")
    fields.update(
        power_draw_watts=v.number(_t(power, "power_draw", "instant_power_draw", "average_power_draw")),
        power_limit_watts=v.number(_t(power, "enforced_power_limit", "current_power_limit", "power_limit")),
        power_default_limit_watts=v.number(_t(power, "default_power_limit")),
        power_max_limit_watts=v.number(_t(power, "max_power_limit")),
    )
    fields.update(_ecc(el.find("ecc_errors")))
    retired = el.find("retired_pages")
    fields.update(
        retired_pages_sbe=v.integer(_t(retired, "multiple_single_bit_retirement/retired_count")),
        retired_pages_dbe=v.integer(_t(retired, "double_bit_retirement/retired_count")),
        retired_pages_pending=v.flag(_t(retired, "pending_retirement", "pending_blacklist")),
    )
    remapped = el.find("remapped_rows")
    fields.update(
        remapped_rows_correctable=v.integer(_t(remapped, "remapped_row_corr")),
        remapped_rows_uncorrectable=v.integer(_t(remapped, "remapped_row_unc")),
        remapped_rows_pending=v.flag(_t(remapped, "remapped_row_pending")),
        remapped_rows_failure=v.flag(_t(remapped, "remapped_row_failure")),
    )
    return GPU(**fields)


def _reasons(el: Element) -> list[ThrottleReason] | None:
    section = el.find("clocks_event_reasons")
    if section is None:
        section = el.find("clocks_throttle_reasons")
    if section is None:
        return None
    return v.active_reasons((child.tag, child.text) for child in section)


def _ecc(section: Element | None) -> dict[str, int | None]:
    out: dict[str, int | None] = {}
    for scope in ("volatile", "aggregate"):
        node = section.find(scope) if section is not None else None
        corrected = uncorrected = None
        if node is not None:
            single, double = node.find("single_bit"), node.find("double_bit")
            if single is not None or double is not None:
                corrected, uncorrected = _total(single), _total(double)
            else:
                corrected = _sum([c.text for c in node if c.tag.endswith("_correctable")])
                uncorrected = _sum([c.text for c in node if "_uncorrectable" in c.tag])
        out[f"ecc_corrected_{scope}"] = corrected
        out[f"ecc_uncorrected_{scope}"] = uncorrected
    return out


def _total(el: Element | None) -> int | None:
    if el is None:
        return None
    total = v.integer(el.findtext("total"))
    return total if total is not None else _sum([c.text for c in el if c.tag != "total"])


def _sum(texts: list[str | None]) -> int | None:
    counts = [n for n in (v.integer(t) for t in texts) if n is not None]
    return sum(counts) if counts else None


def _processes(el: Element | None) -> list[GPUProcess] | None:
    if el is None:
        return None
    return [
        GPUProcess(
            pid=v.integer(p.findtext("pid")),
            name=v.clean(p.findtext("process_name")),
            used_memory_bytes=v.size_bytes(p.findtext("used_memory")),
            kind=v.process_kind(p.findtext("type")),
        )
        for p in el.findall("process_info")
    ]


def _mig(el: Element | None) -> list[MigInstance] | None:
    if el is None:
        return None
    return [
        MigInstance(
            gpu_instance_id=v.integer(d.findtext("gpu_instance_id")),
            compute_instance_id=v.integer(d.findtext("compute_instance_id")),
            memory_total_bytes=v.size_bytes(d.findtext("fb_memory_usage/total")),
        )
        for d in el.findall("mig_device")
    ]
