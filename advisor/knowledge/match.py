"""Match a probed GPU (or a name read from a dump) to its catalog card.

Order: PCI device id, then the exact NVML name (case-insensitive, with or without the "NVIDIA " prefix),
then a tolerant name match on normalised tokens. One name can cover several SKUs (RTX 3060 8/12 GB,
RTX 3080 10/12 GB, RTX 4060 Ti 8/16 GB): the reported memory size picks the SKU. A match is only ever
returned when it is unambiguous: a wrong card is worse than none.

A GPU the spec catalog lacks still has an identity (``identify_gpu``): architecture, compute capability and
the last driver branch from the generated table of every NVIDIA GPU (advisor.knowledge.identity); only a
GPU unknown to both gets ``unknown-gpu``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from advisor.knowledge.cards import Card
    from advisor.knowledge.identity import GpuIdentity
    from advisor.machine import GPU, PciDevice

# Brand words that NVML adds or drops between driver versions ("GeForce RTX 2080 Ti" on 410,
# "NVIDIA GeForce RTX 2080 Ti" on newer drivers) and that never tell two cards apart.
_BRAND_WORDS = frozenset({"nvidia", "geforce", "tesla", "amd", "instinct"})
_PCI_VENDORS = {0x10DE: "nvidia", 0x1002: "amd"}
# Reported memory / marketed size. Marketed GPU "GB" are binary (a "24 GB" card reports 24576 MiB, less
# what ECC or the driver reserves: an A10 reports 23028 MiB, a T4 15360 MiB of "16 GB").
_MEMORY_RATIO = (0.85, 1.10)


def match_gpu(gpu: GPU, cards: Sequence[Card]) -> Card | None:
    """The catalog card for a probed GPU, or None when no card matches unambiguously."""
    return match_name(
        gpu.name,
        cards,
        memory_total_bytes=gpu.memory_total_bytes,
        pci_device_id=gpu.pci_device_id,
        vendor=gpu.vendor,
    )


def with_bus_device_id(gpu: GPU, pci_devices: Sequence[PciDevice] | None) -> GPU:
    """The GPU with its PCI device id filled from the bus listing (``lspci -nn``) at the same address, when
    the GPU list itself (the nvidia-smi table) gave only the bus id and, often, a cut name."""
    if gpu.pci_device_id is not None or not gpu.pci_bus_id or not pci_devices:
        return gpu
    here = _bus(gpu.pci_bus_id)
    for dev in pci_devices:
        if dev.vendor_id == 0x10DE and dev.device_id is not None and _bus(dev.address) == here:
            return gpu.model_copy(update={"pci_device_id": dev.device_id})
    return gpu


def _bus(address: str) -> str:
    """``00000000:02:00.0`` (NVML) and ``0000:02:00.0`` / ``02:00.0`` (lspci) → ``02:00.0``."""
    return ":".join(address.strip().lower().split(":")[-2:])


def identify_gpu(gpu: GPU) -> GpuIdentity | None:
    """The identity of an NVIDIA GPU (by PCI device id, then by name); None for other vendors or when
    neither is known."""
    if gpu.vendor != "nvidia":
        return None
    return identify(gpu.name, gpu.pci_device_id)


def identify(name: str | None, pci_device_id: int | str | None = None) -> GpuIdentity | None:
    """The identity of an NVIDIA GPU known by name (nvidia-smi, torch or lspci spelling) and/or PCI id."""
    from advisor.knowledge.identity import lookup

    return lookup(name=name, pci_device_id=pci_device_id)


def match_name(
    name: str | None,
    cards: Sequence[Card],
    memory_total_bytes: int | None = None,
    pci_device_id: int | str | None = None,
    vendor: str | None = None,
) -> Card | None:
    """The card for a GPU known by name and/or PCI device id (``0x2204``, or NVML's ``0x220410DE``)."""
    device, pci_vendor = _split_pci(pci_device_id)
    vendor = pci_vendor or (vendor if vendor in ("nvidia", "amd") else None)
    pool = [c for c in cards if vendor is None or c.vendor == vendor]

    if device is not None:
        wanted = f"0x{device:04x}"
        by_pci = [c for c in pool if wanted in c.pci_device_ids]
        if len(by_pci) > 1 and name:
            by_pci = _narrow_by_name(by_pci, name) or by_pci
        found = _pick(by_pci, memory_total_bytes)
        if found is not None:
            return found

    if not name or not name.strip():
        return None
    key = _exact_key(name)
    exact = [c for c in pool if any(_exact_key(n) == key for n in c.nvml_names)]
    if exact:
        return _pick(exact, memory_total_bytes)
    tokens = name_tokens(name)
    if not tokens:
        return None
    tolerant = [c for c in pool if any(name_tokens(n) == tokens for n in (c.name, *c.nvml_names))]
    return _pick(tolerant, memory_total_bytes)


def name_tokens(name: str) -> frozenset[str]:
    """Normalised tokens of a GPU name: lower case, brand words dropped, ``80 GB`` joined to ``80gb``.

    Equal token sets mean the same card; a laptop part ("RTX 4080 Laptop GPU") or a "Ti" keeps the
    token that sets it apart, so it never equals the desktop / non-Ti card.
    """
    text = re.sub(r"(\d+)\s*gb\b", r"\1gb", name.casefold())
    return frozenset(t for t in re.findall(r"[a-z0-9]+", text) if t not in _BRAND_WORDS)


def _exact_key(name: str) -> str:
    key = " ".join(name.casefold().split())
    return key.removeprefix("nvidia ")


def _narrow_by_name(cards: list[Card], name: str) -> list[Card]:
    key = _exact_key(name)
    return [c for c in cards if any(_exact_key(n) == key for n in c.nvml_names)]


def _pick(candidates: list[Card], memory_total_bytes: int | None) -> Card | None:
    """The single candidate, or the one whose memory size fits the reported memory; else None."""
    if len(candidates) == 1:
        return candidates[0]
    if not candidates or not memory_total_bytes:
        return None
    gib = memory_total_bytes / 2**30
    fitting = [c for c in candidates if _MEMORY_RATIO[0] <= gib / c.memory_gb <= _MEMORY_RATIO[1]]
    return fitting[0] if len(fitting) == 1 else None


def _split_pci(value: int | str | None) -> tuple[int | None, str | None]:
    """``0x2204`` → (0x2204, None); NVML's ``0x220410DE`` (device << 16 | vendor) → (0x2204, "nvidia")."""
    if value is None:
        return None, None
    if isinstance(value, str):
        try:
            value = int(value.strip(), 16)
        except ValueError:
            return None, None
    if value > 0xFFFF:
        return value >> 16, _PCI_VENDORS.get(value & 0xFFFF)
    return value, None
