"""The Workload: what the user wants to run, and the parsing shared by `recommend` and `check --workload`.

Options arrive as strings (CLI flags or a ``key=value,...`` spec); every bad value becomes an InputError
naming the option, so the CLI exits 2 with one clear line.
"""

from __future__ import annotations

import re
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, PositiveFloat, PositiveInt, ValidationError

from advisor.errors import InputError

Task = Literal["inference", "lora", "qlora", "finetune", "pretrain"]
Precision = Literal["fp32", "bf16", "fp16", "fp8", "int8", "int4"]
Optimizer = Literal["adamw", "adamw-8bit", "sgd", "adafactor"]

TASKS: tuple[str, ...] = get_args(Task)
PRECISIONS: tuple[str, ...] = get_args(Precision)
OPTIMIZERS: tuple[str, ...] = get_args(Optimizer)
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
    precision: Precision = "bf16"
    seq_len: PositiveInt | None = None  # tokens per sequence (context for inference)
    batch: PositiveInt = 1  # sequences or images per step (all GPUs together)
    optimizer: Optimizer | None = None  # training only; default adamw
    grad_checkpointing: bool | None = None  # training only; default off (on for qlora)
    lora_rank: PositiveInt | None = None  # lora/qlora only; default 16
    gpus: PositiveInt | None = None  # None: the fewest that fit, up to max_gpus
    max_gpus: PositiveInt = DEFAULT_MAX_GPUS
    budget_usd: PositiveFloat | None = None  # cap on launch price x GPUs needed
    min_throughput: PositiveFloat | None = None  # in the workload's unit (tokens/s or images/s)

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
        if self.gpus:
            parts.append(f"{self.gpus} GPU(s)")
        return ", ".join(parts)


_PARAMS_RE = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:e[0-9]+)?)\s*([kmbgt]?)\s*$", re.IGNORECASE)
_PARAM_FACTORS = {"": 1, "k": 10**3, "m": 10**6, "b": 10**9, "g": 10**9, "t": 10**12}


def parse_params(text: str | int | float) -> int:
    """Parse a parameter count: ``7B``, ``1.5b``, ``125M``, ``70e9`` or a plain number."""
    if isinstance(text, int | float):
        value = float(text)
    else:
        m = _PARAMS_RE.match(text)
        if not m:
            raise InputError(f"not a parameter count: {text!r} (try 7B, 125M or 1.5e9)")
        value = float(m.group(1)) * _PARAM_FACTORS[m.group(2).lower()]
    if value < 1:
        raise InputError(f"parameter count must be positive, got {text!r}")
    return round(value)


def format_params(n: int | None) -> str:
    """``8030261248`` → ``8.03B``."""
    if n is None:
        return "unknown"
    for factor, suffix in ((10**12, "T"), (10**9, "B"), (10**6, "M"), (10**3, "K")):
        if n >= factor:
            return f"{n / factor:.3g}{suffix}"
    return str(n)


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> str:
    v = value.strip().lower()
    if v not in allowed:
        raise InputError(f"--{name} must be one of {', '.join(allowed)}; got {value!r}")
    return v


def _positive_int(name: str, value: object) -> int:
    try:
        n = int(str(value).strip())
    except ValueError:
        raise InputError(f"--{name} must be a whole number, got {value!r}") from None
    if n < 1:
        raise InputError(f"--{name} must be at least 1, got {value!r}")
    return n


def _positive_float(name: str, value: object) -> float:
    try:
        x = float(str(value).strip().lstrip("$").replace(",", ""))
    except ValueError:
        raise InputError(f"--{name} must be a number, got {value!r}") from None
    if x <= 0:
        raise InputError(f"--{name} must be positive, got {value!r}")
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
) -> Workload:
    """Build a Workload from option values (strings or numbers), raising InputError on bad input."""
    if (model is None) == (params is None):
        raise InputError("give the model either by name (--model llama-3-8b) or by size (--params 7B)")
    t = _choice("task", task, TASKS)
    p = _choice("precision", precision, PRECISIONS)
    opt = _choice("optimizer", optimizer, OPTIMIZERS) if optimizer is not None else None
    if t in FULL_TRAINING_TASKS and p in ("int8", "int4"):
        raise InputError(
            f"--task {t} trains every weight, which needs 16- or 32-bit weights; for a quantised base "
            "model use --task qlora (4-bit) or --task lora --precision int8"
        )
    if t == "qlora" and p in ("fp8", "int8"):
        raise InputError("--task qlora keeps the base model in 4-bit NF4; use --precision bf16, fp16 or int4")
    if t not in ("lora", "qlora") and lora_rank is not None:
        raise InputError("--lora-rank applies to --task lora or qlora only")
    if t == "inference" and (optimizer is not None or grad_checkpointing is not None):
        raise InputError("--optimizer and --grad-checkpointing apply to training tasks only")
    try:
        return Workload(
            model=model.strip() if model is not None else None,
            params=parse_params(params) if params is not None else None,
            task=t,
            precision=p,
            seq_len=_positive_int("seq-len", seq_len) if seq_len is not None else None,
            batch=_positive_int("batch", batch),
            optimizer=opt,
            grad_checkpointing=grad_checkpointing,
            lora_rank=_positive_int("lora-rank", lora_rank) if lora_rank is not None else None,
            gpus=_positive_int("gpus", gpus) if gpus is not None else None,
            max_gpus=_positive_int("max-gpus", max_gpus),
            budget_usd=_positive_float("budget", budget) if budget is not None else None,
            min_throughput=_positive_float("min-throughput", min_throughput)
            if min_throughput is not None
            else None,
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
    return workload_from_options(**options)  # type: ignore[arg-type]
