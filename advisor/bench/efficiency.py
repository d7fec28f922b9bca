"""Measured ÷ catalog peak: find each benchmarked device's card and fill peak, efficiency, achievable."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from advisor.bench.cpu_peak import cpu_peak
from advisor.bench.records import DeviceFacts
from advisor.report import BenchResult

if TYPE_CHECKING:
    from advisor.knowledge.cards import Card
    from advisor.machine import GPU, Machine


def normalize_bus_id(bus: str | None) -> str | None:
    """``0000:3B:00.0`` and ``00000000:3b:00.0`` → ``0000:3b:00.0`` (NVML pads the domain to 8 digits)."""
    if not bus:
        return None
    parts = bus.strip().lower().split(":")
    if len(parts) != 3:
        return bus.strip().lower()
    domain, b, devfn = parts
    return f"{int(domain, 16):04x}:{b}:{devfn}"


def find_gpu(facts: DeviceFacts, machine: Machine) -> GPU | None:
    """The probed GPU behind a torch device: same PCI bus id; else the same index when names agree."""
    bus = normalize_bus_id(facts.pci_bus_id)
    if bus is not None:
        for gpu in machine.gpus:
            if normalize_bus_id(gpu.pci_bus_id) == bus:
                return gpu
    # torch and NVML orders differ unless CUDA_DEVICE_ORDER=PCI_BUS_ID, so an index alone is not enough.
    for gpu in machine.gpus:
        if gpu.index == facts.device and gpu.name and facts.name and _same_name(gpu.name, facts.name):
            return gpu
    return None


def find_card(facts: DeviceFacts, gpu: GPU | None, cards: Sequence[Card]) -> Card | None:
    """The catalog card for a device, by the catalog helper's matcher (None when unknown)."""
    try:
        from advisor.knowledge.match import match_gpu, match_name
    except ImportError:  # the matcher is not there (older tree): no peak rather than a guess
        return None
    if gpu is not None:
        card = match_gpu(gpu, cards)
        if card is not None:
            return card
    if facts.name is None:
        return None
    return match_name(facts.name, cards, memory_total_bytes=facts.memory_total_bytes)


def annotate(result: BenchResult, card: Card | None) -> BenchResult:
    """Fill ``peak``/``efficiency``/``achievable`` from the card for GPU results."""
    peak: float | None = None
    achievable: float | None = None
    if card is not None:
        if result.test == "matmul" and result.dtype is not None:
            peak = card.peak(result.dtype)
            reference = card.achievable.get(result.dtype)
            achievable = reference.tflops if reference else None
        elif result.test == "memory-bandwidth":
            peak = card.memory_bandwidth_gbs
    return _with_peak(result, peak, achievable)


def annotate_cpu(result: BenchResult, machine: Machine, facts: DeviceFacts | None) -> BenchResult:
    """CPU matmul: the derived theoretical peak, with the derivation appended to ``method``."""
    if result.test != "matmul":
        return result
    derived = cpu_peak(machine.host, result.dtype, facts.simd if facts else None)
    method = f"{result.method}; {derived.how}" if result.method else derived.how
    return _with_peak(result.model_copy(update={"method": method}), derived.tflops, None)


def _with_peak(result: BenchResult, peak: float | None, achievable: float | None) -> BenchResult:
    efficiency = result.value / peak if peak else None
    return result.model_copy(
        update={
            "peak": peak,
            "efficiency": None if efficiency is None else round(efficiency, 4),
            "achievable": achievable,
        }
    )


def _same_name(a: str, b: str) -> bool:
    def norm(s: str) -> str:
        s = s.lower().strip()
        return s[len("nvidia ") :] if s.startswith("nvidia ") else s

    return norm(a) == norm(b)
