"""The `features` compat table: which compute capabilities (and CUDA versions) a feature needs.

One entry per feature (catalog/compat/features.yaml, facts from compat.md §4). The rules ask
``feature.supports(cc, cuda)``: True, False, or None when a needed fact is unknown.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from packaging.version import InvalidVersion, Version
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from advisor.units import parse_cc

FeatureId = str  # kebab-case: "bf16", "tf32", "fp8", "flash-attention-2", "torch-compile", ...


class Feature(BaseModel):
    """A feature gated by compute capability: supported on ``min_cc`` ≤ CC ≤ ``max_cc``."""

    # defer_build: validators are built only when a catalog is validated, not when a cached one is
    # unpickled (advisor.knowledge.validated_cache).
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    id: FeatureId = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str  # for people: "FlashAttention-2 (flash-attn 2.x)"
    min_cc: str  # lowest compute capability that supports it, "8.0"
    max_cc: str | None = None  # highest supported CC (inclusive), when newer GPUs are rejected
    official_min_cc: str | None = None  # where upstream *officially* supports less than what works
    min_cuda: str | None = None  # CUDA version (of the torch build) it also needs, "12.3"
    except_chips: list[str] = Field(default_factory=list)  # chips in the CC range that lack it ("TU116")
    how: str | None = None  # how to use it in PyTorch: "torch.set_float32_matmul_precision('high')"
    notes: str | None = None  # caveats, shown in the reason
    status: Literal["verified", "secondary", "unverified"] = "secondary"  # compat.md's V / S / unverified
    source: str

    @field_validator("min_cc", "max_cc", "official_min_cc")
    @classmethod
    def _cc_form(cls, v: str | None) -> str | None:
        if v is not None and parse_cc(v) is None:
            raise ValueError(f"compute capability must look like '8.0', got {v!r}")
        return v

    @field_validator("min_cuda")
    @classmethod
    def _cuda_form(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                Version(v)
            except InvalidVersion as exc:
                raise ValueError(f"CUDA version must look like '12.3', got {v!r}") from exc
        return v

    @model_validator(mode="after")
    def _range(self) -> Feature:
        if self.max_cc is not None and self.cc_range[1] is not None and self.cc_range[1] < self.cc_range[0]:
            raise ValueError(f"max_cc {self.max_cc} is below min_cc {self.min_cc}")
        return self

    @property
    def cc_range(self) -> tuple[tuple[int, int], tuple[int, int] | None]:
        """(lowest, highest-or-None) supported compute capability as tuples."""
        low = parse_cc(self.min_cc)
        assert low is not None  # validated above
        return low, parse_cc(self.max_cc)

    def supports_cc(self, cc: tuple[int, int] | None) -> bool | None:
        """Whether a GPU of compute capability ``cc`` has this feature (None: CC unknown)."""
        if cc is None:
            return None
        low, high = self.cc_range
        return cc >= low and (high is None or cc <= high)

    def supports(self, cc: tuple[int, int] | None, cuda: str | None = None) -> bool | None:
        """CC gate and, when the feature needs one, the CUDA gate. None when a needed fact is unknown."""
        by_cc = self.supports_cc(cc)
        if by_cc is False or self.min_cuda is None:
            return by_cc
        cuda_ok = cuda_at_least(cuda, self.min_cuda)
        if cuda_ok is False:
            return False
        if by_cc is None or cuda_ok is None:
            return None
        return True

    def excludes_chip(self, chip: str | None) -> bool:
        """Whether a chip (the catalog card's ``chip``) is listed as lacking this feature."""
        return chip is not None and chip.strip().upper() in {c.upper() for c in self.except_chips}

    def officially_supported(self, cc: tuple[int, int] | None) -> bool | None:
        """Whether ``cc`` is inside upstream's *official* range (``official_min_cc``, else ``min_cc``)."""
        if cc is None:
            return None
        official = parse_cc(self.official_min_cc) if self.official_min_cc else self.cc_range[0]
        return official is not None and cc >= official and bool(self.supports_cc(cc))


def cuda_at_least(cuda: str | None, minimum: str) -> bool | None:
    """``"12.4" >= "12.3"``; None when ``cuda`` is unknown or unparseable."""
    if cuda is None:
        return None
    try:
        return Version(cuda) >= Version(minimum)
    except InvalidVersion:
        return None


def find_feature(features: Iterable[Feature], feature_id: str) -> Feature | None:
    """The first entry with this id (user entries come first, so they win)."""
    wanted = feature_id.strip().lower()
    for feature in features:
        if feature.id == wanted:
            return feature
    return None
