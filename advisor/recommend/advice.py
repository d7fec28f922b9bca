"""What would make a workload fit: try one change at a time (then all together) and report what works."""

from __future__ import annotations

from collections.abc import Callable

from advisor.recommend.memory import Components, components
from advisor.recommend.resolve import Resolved
from advisor.recommend.workload import DEFAULT_LORA_RANK

# Given a variant, say where it fits ("1 x NVIDIA H100 80GB"), or None when it fits nowhere.
FitsWhere = Callable[[Resolved, Components], str | None]

MIN_SEQ_LEN = 512
# QLoRA as its paper runs it: 4-bit base, bf16 compute, gradient checkpointing on
_QLORA_FLAG = "--task qlora --grad-checkpointing (4-bit base model)"
_QLORA: dict[str, object] = {
    "task": "qlora",
    "lora_rank": DEFAULT_LORA_RANK,
    "precision": "bf16",
    "grad_checkpointing": True,
}
MULTI_NODE_GPUS = (16, 32, 64)


def _variants(r: Resolved) -> list[tuple[str, dict[str, object]]]:
    """(flag text, workload update) for every single change that lowers memory."""
    w = r.workload
    out: list[tuple[str, dict[str, object]]] = []
    if w.task == "inference":
        for p in ("q8_0", "q4_k_m", "q3_k_m"):
            if _weight_bits(p) < _weight_bits(w.precision):
                out.append((f"--precision {p} (quantised weights)", {"precision": p}))
        if w.kv_dtype is None and r.model.kind == "decoder":
            out.append(("--kv-dtype q8_0 (8-bit KV cache)", {"kv_dtype": "q8_0"}))
    elif w.task in ("finetune", "pretrain"):
        out.append(("--task lora", {"task": "lora", "lora_rank": DEFAULT_LORA_RANK}))
        out.append((_QLORA_FLAG, _QLORA))
    elif w.task == "lora" and w.precision not in ("int4",):
        out.append((_QLORA_FLAG, _QLORA))
    if w.is_training and not w.grad_checkpointing:
        out.append(("--grad-checkpointing", {"grad_checkpointing": True}))
    if w.is_training and w.optimizer == "adamw":
        out.append(("--optimizer adamw-8bit", {"optimizer": "adamw-8bit"}))
    if w.batch > 1:
        out.append(
            ("--batch 1 (accumulate gradients instead)" if w.is_training else "--batch 1", {"batch": 1})
        )
    if w.seq_len is not None and w.seq_len > MIN_SEQ_LEN:
        seq = w.seq_len // 2
        while seq > MIN_SEQ_LEN:
            out.append((f"--seq-len {seq}", {"seq_len": seq}))
            seq //= 2
        out.append((f"--seq-len {MIN_SEQ_LEN}", {"seq_len": MIN_SEQ_LEN}))
    return out


def _weight_bits(precision: str) -> float:
    from advisor.recommend.formats import WEIGHT_FORMATS

    return WEIGHT_FORMATS[precision].bits


def _variant(r: Resolved, update: dict[str, object]) -> Resolved:
    from advisor.recommend.resolve import default_engine

    w = r.workload.model_copy(update=update)
    if "precision" in update and r.workload.engine is None:
        # a new weight format may need another runtime (q4_k_m: llama.cpp)
        w = w.model_copy(update={"engine": None})
        return Resolved(workload=w, model=r.model, assumptions=(), engine=default_engine(w, r.model))
    if "task" in update and update["task"] != r.workload.task:
        return Resolved(workload=w, model=r.model, assumptions=(), engine=default_engine(w, r.model))
    return Resolved(workload=w, model=r.model, assumptions=(), engine=r.engine)


def advise(r: Resolved, fits_where: FitsWhere, *, more_gpus: bool = True) -> list[str]:
    """Changes that make the workload fit (each alone, the first that works of each kind), then all the
    memory savers together, then more GPUs. Empty when nothing helps."""
    advice: list[str] = []
    seen_seq = False
    combined: dict[str, object] = {}
    for flag, update in _variants(r):
        combined.update(update)  # later variants are the stronger savers (int4 after int8, qlora after lora)
        is_seq = "seq_len" in update
        if is_seq and seen_seq:
            continue
        v = _variant(r, update)
        where = fits_where(v, components(v))
        if where:
            advice.append(f"{flag}: fits {where}")
            seen_seq = seen_seq or is_seq
    if not advice and len(combined) > 1:
        v = _variant(r, combined)
        where = fits_where(v, components(v))
        if where:
            advice.append(f"all together ({_flags(combined)}): fits {where}")
    if more_gpus and r.workload.max_gpus < MULTI_NODE_GPUS[-1]:
        for n in MULTI_NODE_GPUS:
            if n <= r.workload.max_gpus:
                continue
            v = _variant(r, {"max_gpus": n, "gpus": None})
            where = fits_where(v, components(v))
            if where:
                advice.append(f"more GPUs (--max-gpus {n}, several nodes): fits {where}")
                break
    return advice


def _flags(update: dict[str, object]) -> str:
    parts = []
    for key, value in update.items():
        if key == "lora_rank":
            continue
        flag = "--" + key.replace("_", "-")
        parts.append(flag if value is True else f"{flag} {value}")
    return " ".join(parts)


def recipe_variants(r: Resolved) -> list[tuple[str, Resolved]]:
    """Cheaper recipes for a job that already fits somewhere: the strongest saver of each kind, as a flag
    and the variant it gives (QLoRA for full training or LoRA, checkpointing, 8-bit Adam, a 4-bit or
    KV-cache format for inference)."""
    w = r.workload
    out: list[tuple[str, dict[str, object]]] = []
    if w.task in ("finetune", "pretrain", "lora"):
        out.append(("QLoRA (--task qlora)", _QLORA))
        if w.task != "lora":
            out.append(("LoRA (--task lora)", {"task": "lora", "lora_rank": DEFAULT_LORA_RANK}))
    if w.is_training and not w.grad_checkpointing:
        out.append(("--grad-checkpointing", {"grad_checkpointing": True}))
    if w.is_training and w.optimizer == "adamw" and w.task in ("finetune", "pretrain"):
        out.append(("--optimizer adamw-8bit", {"optimizer": "adamw-8bit"}))
    if w.task == "inference" and r.model.kind == "decoder":
        if _weight_bits(w.precision) > 5:
            out.append(("4-bit weights (--precision q4_k_m)", {"precision": "q4_k_m"}))
        if w.kv_dtype is None and (w.seq_len or 0) * w.batch >= 8192:
            out.append(("an 8-bit KV cache (--kv-dtype q8_0)", {"kv_dtype": "q8_0"}))
    return [(flag, _variant(r, update)) for flag, update in out]
