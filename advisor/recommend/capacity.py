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
