"""The Workload: what the user wants to run, and the parsing shared by `recommend` and `check --workload`.

Options arrive as strings (CLI flags or a ``key=value,...`` spec); every bad value becomes an InputError
naming the option, so the CLI exits 2 with one clear line.
"""

from __future__ import annotations

import math
import re
from contextvars import ContextVar
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, PositiveFloat, PositiveInt, ValidationError

from advisor.errors import InputError
from advisor.recommend.formats import KV_FORMATS, WEIGHT_FORMATS, normalise_precision

Task = Literal["inference", "lora", "qlora", "finetune", "pretrain"]
Optimizer = Literal["adamw", "adamw-8bit", "sgd", "adafactor"]
# Runtimes whose memory and speed differ: inference (llama.cpp, transformers, vllm) and training
# (pytorch = plain PyTorch / HF Trainer with autocast; deepspeed ZeRO 1-3; fsdp)
Engine = Literal[
    "llama.cpp", "transformers", "vllm", "pytorch", "pytorch-16bit", "zero1", "zero2", "zero3", "fsdp"
]

TASKS: tuple[str, ...] = get_args(Task)
PRECISIONS: tuple[str, ...] = tuple(WEIGHT_FORMATS)
OPTIMIZERS: tuple[str, ...] = get_args(Optimizer)
ENGINES: tuple[str, ...] = get_args(Engine)
INFERENCE_ENGINES = ("llama.cpp", "transformers", "vllm")
# pytorch-16bit: the model cast to bf16/fp16 (model.to(torch.bfloat16)), trained without fp32 master weights
TRAINING_ENGINES = ("pytorch", "pytorch-16bit", "zero1", "zero2", "zero3", "fsdp")
KV_DTYPES: tuple[str, ...] = tuple(KV_FORMATS)
# Spellings people type (pip, HF Trainer, papers) mapped to ours
TASK_ALIASES = {
    "infer": "inference", "serve": "inference", "serving": "inference", "generate": "inference",
    "fine-tune": "finetune", "fine_tune": "finetune", "finetuning": "finetune", "fine-tuning": "finetune",
    "full": "finetune", "full-finetune": "finetune", "sft": "finetune", "train": "finetune",
    "training": "finetune", "pre-train": "pretrain", "pretraining": "pretrain", "q-lora": "qlora",
}  # fmt: skip
OPTIMIZER_ALIASES = {
    "adam": "adamw", "adamw_torch": "adamw", "adamw_torch_fused": "adamw", "adamw-torch": "adamw",
    "adamw8bit": "adamw-8bit", "adamw_8bit": "adamw-8bit", "adamw_bnb_8bit": "adamw-8bit",
    "paged_adamw_8bit": "adamw-8bit", "paged-adamw-8bit": "adamw-8bit", "adam8bit": "adamw-8bit",
}  # fmt: skip
ENGINE_ALIASES = {
    "llamacpp": "llama.cpp", "llama-cpp": "llama.cpp", "gguf": "llama.cpp", "ollama": "llama.cpp",
    "hf": "transformers", "huggingface": "transformers", "accelerate": "transformers",
    "pure-bf16": "pytorch-16bit", "pure-16bit": "pytorch-16bit", "torch": "pytorch", "trainer": "pytorch",
    "hf-trainer": "pytorch", "ddp": "pytorch",
    "deepspeed": "zero3", "zero-1": "zero1", "zero-2": "zero2", "zero-3": "zero3",
    "deepspeed-zero1": "zero1", "deepspeed-zero2": "zero2", "deepspeed-zero3": "zero3",
}  # fmt: skip
# Bounds: far beyond any real job, small enough that every figure stays a finite float
MAX_PARAMS = 10**15
MAX_SEQ_LEN = 2**24
MAX_BATCH = 2**20
MAX_GPUS = 2**16
MAX_MONEY = 1e12
TRAINING_TASKS = ("lora", "qlora", "finetune", "pretrain")
FULL_TRAINING_TASKS = ("finetune", "pretrain")

DEFAULT_MAX_GPUS = 8  # one node: the most GPUs the ranking considers per card
DEFAULT_LORA_RANK = 16


class Workload(BaseModel):
    """A workload. Fields left None are filled with defaults by :func:`advisor.recommend.resolve`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str | None = None  # preset id or any of its names
    params: PositiveInt | None = None  # total parameters (instead of, or filled from, the model)
    task: Task = "inference"
    precision: str = "bf16"  # a key of advisor.recommend.formats.WEIGHT_FORMATS
    seq_len: PositiveInt | None = None  # tokens per sequence (context for inference)
    batch: PositiveInt = 1  # sequences or images per step (all GPUs together)
    optimizer: Optimizer | None = None  # training only; default adamw
    grad_checkpointing: bool | None = None  # training only; default off (on for qlora)
    lora_rank: PositiveInt | None = None  # lora/qlora only; default 16
    gpus: PositiveInt | None = None  # None: the fewest that fit, up to max_gpus
    max_gpus: PositiveInt = DEFAULT_MAX_GPUS
    budget_usd: PositiveFloat | None = None  # cap on launch price x GPUs needed
    min_throughput: PositiveFloat | None = None  # in the workload's unit (tokens/s or images/s)
    engine: Engine | None = None  # None: the usual runtime for the task and format (see resolve)
    kv_dtype: str | None = None  # KV-cache element format (KV_FORMATS); None: 16-bit (fp32 for fp32)

    @property
    def is_training(self) -> bool:
        return self.task in TRAINING_TASKS

    def describe(self) -> str:
        """One line for people: ``llama-3-8b lora bf16, seq 4096, batch 1``."""
        who = self.model or (f"{format_params(self.params)} params" if self.params else "model?")
        parts = [who, self.task, self.precision]
        if self.seq_len:
            parts.append(f"seq {self.seq_len}")
        parts.append(f"batch {self.batch}")
        if self.is_training and self.optimizer:
            parts.append(self.optimizer)
        if self.is_training and self.grad_checkpointing is not None:
            parts.append("grad checkpointing " + ("on" if self.grad_checkpointing else "off"))
        if self.kv_dtype:
            parts.append(f"KV cache {self.kv_dtype}")
        if self.engine:
            parts.append(self.engine)
        if self.gpus:
            parts.append(f"{self.gpus} GPU(s)")
        return ", ".join(parts)


_PARAMS_RE = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:e[0-9]+)?)\s*([kmbgt]?)\s*$", re.IGNORECASE)
_PARAM_FACTORS = {"": 1, "k": 10**3, "m": 10**6, "b": 10**9, "g": 10**9, "t": 10**12}
_BARE_MIN = 10**6  # a bare number below a million is a missing unit (7 means 7B), not a model


def parse_params(text: str | int | float) -> int:
    """Parse a parameter count: ``7B``, ``1.5b``, ``125M``, ``70e9`` (a unit is required below a million)."""
    raw = str(text)
    m = _PARAMS_RE.match(raw[:64])
    if not m or len(raw) > 64:
        raise InputError(f"not a parameter count: {raw[:40]!r} (try 7B, 125M or 1.5e9)")
    try:
        value = float(m.group(1)) * _PARAM_FACTORS[m.group(2).lower()]
    except OverflowError:  # pragma: no cover - float() gives inf rather than raising
        value = float("inf")
    if not math.isfinite(value) or value > MAX_PARAMS:
        raise InputError(f"parameter count {raw[:40]!r} is beyond any model (at most 1000T)")
    if value < 1:
        raise InputError(f"parameter count must be positive, got {raw!r}")
    if not m.group(2) and value < _BARE_MIN:
        raise InputError(
            f"--params {raw.strip()} needs a unit: 7B, 125M or 350K ({raw.strip()} alone would be "
            f"{raw.strip()} parameters)"
        )
    return round(value)


def format_params(n: int | None) -> str:
    """``8030261248`` → ``8.03B``."""
    if n is None:
        return "unknown"
    for factor, suffix in ((10**12, "T"), (10**9, "B"), (10**6, "M"), (10**3, "K")):
        if n >= factor:
            return f"{n / factor:.3g}{suffix}"
    return str(n)


# Errors name the option as the user wrote it: a flag for `recommend` (--seq-len), a key for a
# `check --workload` spec (workload key seq_len).
_SPEC_STYLE: ContextVar[bool] = ContextVar("_SPEC_STYLE", default=False)


def _opt(name: str) -> str:
    return f"workload key {name.replace('-', '_')}" if _SPEC_STYLE.get() else f"--{name}"


def _choice(name: str, value: str, allowed: tuple[str, ...], aliases: dict[str, str] | None = None) -> str:
    v = str(value).strip().lower()
    v = (aliases or {}).get(v, v)
    if v not in allowed:
        raise InputError(f"{_opt(name)} must be one of {', '.join(allowed)}; got {str(value)[:40]!r}")
    return v


def _precision(value: str) -> str:
    p = normalise_precision(str(value))
    if p is None:
        raise InputError(
            f"{_opt('precision')} must be one of {', '.join(PRECISIONS)} (or float16, bfloat16, 4bit ...); "
            f"got {str(value)[:40]!r}"
        )
    return p


def _positive_int(name: str, value: object, limit: int = MAX_BATCH) -> int:
    text = str(value).strip()
    try:
        n = int(text) if len(text) <= 30 else None
    except ValueError:
        raise InputError(f"{_opt(name)} must be a whole number, got {text[:40]!r}") from None
    if n is None or n > limit:
        raise InputError(
            f"{_opt(name)} {text[:20]}{'...' if len(text) > 20 else ''} is too large (at most {limit})"
        )
    if n < 1:
        raise InputError(f"{_opt(name)} must be at least 1, got {value!r}")
    return n


def _positive_float(name: str, value: object) -> float:
    text = str(value).strip()
    try:
        x = float(text.lstrip("$").replace(",", "")) if len(text) <= 40 else math.inf
    except ValueError:
        raise InputError(f"{_opt(name)} must be a number, got {text[:40]!r}") from None
    if not math.isfinite(x) or x > MAX_MONEY:
        raise InputError(f"{_opt(name)} must be a finite number below {MAX_MONEY:g}, got {text[:40]!r}")
    if x <= 0:
        raise InputError(f"{_opt(name)} must be positive, got {value!r}")
    return x


def _bool(name: str, value: object) -> bool:
    v = str(value).strip().lower()
    if v in ("1", "true", "yes", "on", "y"):
        return True
    if v in ("0", "false", "no", "off", "n"):
        return False
    raise InputError(f"{name} must be on or off, got {value!r}")


def workload_from_options(
    *,
    model: str | None = None,
    params: str | int | None = None,
    task: str = "inference",
    precision: str = "bf16",
    seq_len: int | str | None = None,
    batch: int | str = 1,
    optimizer: str | None = None,
    grad_checkpointing: bool | None = None,
    lora_rank: int | str | None = None,
    gpus: int | str | None = None,
    max_gpus: int | str = DEFAULT_MAX_GPUS,
    budget: float | str | None = None,
    min_throughput: float | str | None = None,
    engine: str | None = None,
    kv_dtype: str | None = None,
) -> Workload:
    """Build a Workload from option values (strings or numbers), raising InputError on bad input."""
    if (model is None) == (params is None):
        raise InputError("give the model either by name (--model llama-3-8b) or by size (--params 7B)")
    t = _choice("task", task, TASKS, TASK_ALIASES)
    p = _precision(precision)
    opt = _choice("optimizer", optimizer, OPTIMIZERS, OPTIMIZER_ALIASES) if optimizer is not None else None
    eng = _choice("engine", engine, ENGINES, ENGINE_ALIASES) if engine is not None else None
    kv = (
        _choice("kv-dtype", kv_dtype, KV_DTYPES, {"f16": "fp16", "float16": "fp16", "f32": "fp32"})
        if kv_dtype
        else None
    )
    quantised = WEIGHT_FORMATS[p].bits < 16 and p != "fp8"
    if t in FULL_TRAINING_TASKS and quantised:
        raise InputError(
            f"--task {t} trains every weight, which needs 16- or 32-bit weights; for a quantised base "
            "model use --task qlora (4-bit) or --task lora --precision int8"
        )
    if t == "qlora" and p not in ("bf16", "fp16", "fp32", "nf4", "int4"):
        raise InputError("--task qlora keeps the base model in 4-bit NF4; use --precision bf16, fp16 or nf4")
    if t == "lora" and quantised and p != "int8":
        raise InputError(f"--task lora on {p} weights is QLoRA: use --task qlora")
    if t not in ("lora", "qlora") and lora_rank is not None:
        raise InputError("--lora-rank applies to --task lora or qlora only")
    if t == "inference" and (optimizer is not None or grad_checkpointing is not None):
        raise InputError("--optimizer and --grad-checkpointing apply to training tasks only")
    if eng is not None:
        want = INFERENCE_ENGINES if t == "inference" else TRAINING_ENGINES
        if eng not in want:
            kind = "inference" if t == "inference" else "training"
            raise InputError(f"--engine {eng} is not a {kind} engine; use one of {', '.join(want)}")
        if eng == "llama.cpp" and WEIGHT_FORMATS[p].bits < 16 and WEIGHT_FORMATS[p].engine != "llama.cpp":
            raise InputError(f"llama.cpp runs GGUF formats (q4_k_m, q8_0 ...), not {p}")
    if kv is not None and t != "inference":
        raise InputError("--kv-dtype applies to inference (training keeps no KV cache)")
    try:
        return Workload(
            model=model.strip() if model is not None else None,
            params=parse_params(params) if params is not None else None,
            task=t,
            precision=p,
            seq_len=_positive_int("seq-len", seq_len, MAX_SEQ_LEN) if seq_len is not None else None,
            batch=_positive_int("batch", batch),
            optimizer=opt,
            grad_checkpointing=grad_checkpointing,
            lora_rank=_positive_int("lora-rank", lora_rank, 65536) if lora_rank is not None else None,
            gpus=_positive_int("gpus", gpus, MAX_GPUS) if gpus is not None else None,
            max_gpus=_positive_int("max-gpus", max_gpus, MAX_GPUS),
            budget_usd=_positive_float("budget", budget) if budget is not None else None,
            min_throughput=_positive_float("min-throughput", min_throughput)
            if min_throughput is not None
            else None,
            engine=eng,
            kv_dtype=kv,
        )
    except ValidationError as exc:  # pragma: no cover - every field is checked above
        raise InputError(f"bad workload: {exc.errors()[0]['msg']}") from None


# spec key → workload_from_options argument (both spellings accepted)
_SPEC_KEYS = {
    "model": "model",
    "params": "params",
    "task": "task",
    "precision": "precision",
    "dtype": "precision",
    "seq_len": "seq_len",
    "seq": "seq_len",
    "context": "seq_len",
    "batch": "batch",
    "optimizer": "optimizer",
    "grad_checkpointing": "grad_checkpointing",
    "gc": "grad_checkpointing",
    "lora_rank": "lora_rank",
    "gpus": "gpus",
    "max_gpus": "max_gpus",
    "budget": "budget",
    "min_throughput": "min_throughput",
    "engine": "engine",
    "kv_dtype": "kv_dtype",
    "kv": "kv_dtype",
}


def parse_workload_spec(spec: str) -> Workload:
    """Parse ``"model=llama-3-8b,task=lora,precision=bf16,seq_len=4096"`` (``-`` or ``_`` in keys).

    A bare first item is the model (``"llama-3-8b,task=lora"``) or, when it looks like a size, the
    parameter count (``"7B,task=inference"``).
    """
    options: dict[str, object] = {}
    items = [item.strip() for item in spec.split(",") if item.strip()]
    if not items:
        raise InputError("empty workload spec (try model=llama-3-8b,task=lora)")
    for i, item in enumerate(items):
        if "=" not in item:
            if i == 0:
                options["params" if _PARAMS_RE.match(item) else "model"] = item
                continue
            raise InputError(f"workload spec item {item!r} is not key=value")
        key, _, value = item.partition("=")
        norm = key.strip().lower().replace("-", "_")
        if norm not in _SPEC_KEYS:
            raise InputError(
                f"unknown workload key {key.strip()!r}; known: {', '.join(sorted(set(_SPEC_KEYS)))}"
            )
        arg = _SPEC_KEYS[norm]
        if arg in options:
            raise InputError(f"workload key {key.strip()!r} given twice")
        options[arg] = _bool(key.strip(), value) if arg == "grad_checkpointing" else value.strip()
    token = _SPEC_STYLE.set(True)
    try:
        return workload_from_options(**options)  # type: ignore[arg-type]
    finally:
        _SPEC_STYLE.reset(token)
