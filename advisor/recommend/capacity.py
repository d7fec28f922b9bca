"""The question people ask most: the longest context and the largest batch that fit a given GPU setup."""

from __future__ import annotations

from dataclasses import dataclass

from advisor.recommend.memory import components, per_gpu_bytes
from advisor.recommend.resolve import Resolved
from advisor.recommend.workload import MAX_BATCH, MAX_SEQ_LEN


@dataclass(frozen=True)
class Limits:
    max_seq_len: int | None  # at the workload's batch; None: not even the shortest fits
    max_batch: int | None  # at the workload's sequence length; None: not even one fits
    seq_len: int  # the sequence length max_batch was found at
    batch: int  # the batch max_seq_len was found at
    capped_at_model: bool  # max_seq_len stopped at the model's trained context


def _variant(r: Resolved, **update: object) -> Resolved:
    return Resolved(
        workload=r.workload.model_copy(update=update), model=r.model, assumptions=(), engine=r.engine
    )


def _fits(r: Resolved, capacity: int, gpus: int) -> bool:
    return per_gpu_bytes(components(r), r.workload.batch, gpus) <= capacity


class _Probe:
    def __init__(self, r: Resolved, capacity: int, gpus: int, field: str) -> None:
        self.r, self.capacity, self.gpus, self.field = r, capacity, gpus, field

    def __call__(self, n: int) -> bool:
        return _fits(_variant(self.r, **{self.field: n}), self.capacity, self.gpus)


def _largest(ok: _Probe, lo: int, hi: int) -> int | None:
    """The largest n in [lo, hi] with ok(n), for ok monotone (true then false); None if ok(lo) is false."""
    if not ok(lo):
        return None
    if ok(hi):
        return hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(mid):
            lo = mid
        else:
            hi = mid
    return lo


def limits(r: Resolved, capacity: int, gpus: int, *, beyond_model: bool = False) -> Limits:
    """Longest sequence (at the workload's batch) and largest batch (at its sequence) on ``gpus`` GPUs of
    ``capacity`` usable bytes each. The context stops at the model's trained length unless
    ``beyond_model``."""
    seq_cap = MAX_SEQ_LEN
    capped = False
    if r.model.max_seq_len and not beyond_model:
        seq_cap = r.model.max_seq_len
    max_seq = None
    if r.tokens_per_sample is not None and r.workload.seq_len is not None:
        max_seq = _largest(_Probe(r, capacity, gpus, "seq_len"), 1, seq_cap)
        capped = max_seq == seq_cap and seq_cap != MAX_SEQ_LEN
    max_batch = _largest(_Probe(r, capacity, gpus, "batch"), 1, MAX_BATCH)
    return Limits(
        max_seq_len=max_seq,
        max_batch=max_batch,
        seq_len=r.workload.seq_len or 0,
        batch=r.workload.batch,
        capped_at_model=capped,
    )


# Host memory bandwidth assumed for layers left in CPU RAM: dual-channel DDR5-5600 (2 x 44.8 GB/s peak),
# of which CPU matrix-vector code reaches about 60%.
HOST_BANDWIDTH_GBS = 89.6
HOST_EFFICIENCY = 0.60


@dataclass(frozen=True)
class Offload:
    gpu_layers: int  # llama.cpp -ngl
    layers: int
    host_bytes: float  # weights and KV cache left in CPU RAM
    tokens_per_s: float | None


def partial_offload(r: Resolved, capacity: int, gpus: int, bandwidth_gbs: float | None) -> Offload | None:
    """llama.cpp with only some layers on the GPU(s) (-ngl N), the rest in CPU RAM: the most layers that
    fit and the decode speed that gives (each token reads the GPU layers at GPU bandwidth and the rest at
    host bandwidth). None when it is not a llama.cpp decoder job or every layer already fits."""
    import dataclasses

    from advisor.recommend.throughput import BANDWIDTH_EFFICIENCY, DECODE_TOKEN_OVERHEAD_S

    if r.engine != "llama.cpp" or r.model.kind != "decoder" or not r.model.layers:
        return None
    c = components(r)
    if per_gpu_bytes(c, r.workload.batch, gpus) <= capacity:
        return None
    layers = r.model.layers
    per_layer = (c.weights + c.kv_per_sample * r.workload.batch) / layers
    best = 0
    for k in range(layers - 1, 0, -1):
        part = dataclasses.replace(
            c, weights=c.weights * k / layers, kv_per_sample=c.kv_per_sample * k / layers
        )
        part = dataclasses.replace(part, layers=k)
        if per_gpu_bytes(part, r.workload.batch, gpus) <= capacity:
            best = k
            break
    host = per_layer * (layers - best)
    speed = None
    if bandwidth_gbs:
        t = per_layer * best / (bandwidth_gbs * 1e9 * BANDWIDTH_EFFICIENCY)
        t += host / (HOST_BANDWIDTH_GBS * 1e9 * HOST_EFFICIENCY) + DECODE_TOKEN_OVERHEAD_S
        speed = r.workload.batch / t
    return Offload(gpu_layers=best, layers=layers, host_bytes=host, tokens_per_s=speed)
