"""TensorFlow and JAX compatibility tables (catalog/compat/tensorflow.yaml, jax.yaml): models and lookups.

The facts: TensorFlow's tested build configurations (release ⇄ CUDA ⇄ cuDNN ⇄ Python, native-Windows GPU
support), and JAX's CUDA plugin lines (CUDA major ⇄ plugin package ⇄ pip extra ⇄ the CUDA runtime and
cuDNN the wheels ask for) with the rule that pairs a CUDA plugin with jaxlib. The driver a CUDA
version needs comes from the shared CUDA ⇄ driver tables (advisor.knowledge.cuda_driver), never
from here. A question the tables cannot answer returns None, never a guess.
"""

from __future__ import annotations

import re
from typing import Literal

from packaging.version import InvalidVersion, Version
from pydantic import Field, field_validator

from advisor.knowledge.compat import Table, _check_version, _Entry


class TensorflowBuild(_Entry):
    """One TensorFlow release line as its tested build configuration lists it (Linux GPU row)."""

    release: str  # "2.16"
    latest: str | None = None  # newest patch on PyPI, "2.16.2"; None: pin "2.16.*"
    python_min: str  # "3.9"
    python_max: str  # "3.12"
    cuda: str | None  # the CUDA it was built and tested with, "12.3"; None: no CUDA build
    cudnn: str | None  # "8.9"
    and_cuda: bool = False  # `pip install "tensorflow[and-cuda]"` brings the NVIDIA libraries (2.14+)
    windows_gpu: bool = False  # a native-Windows GPU build exists (ended after 2.10)
    windows_cuda: str | None = None
    windows_cudnn: str | None = None

    _v = field_validator("release", "latest", "python_min", "python_max", "cuda", "cudnn")(_check_version)


class JaxCudaLine(_Entry):
    """The JAX CUDA wheels of one CUDA major, over a range of releases."""

    cuda_major: int  # 12, 13
    first: str  # first jax/jaxlib release of this row, "0.4.31"
    last: str | None = None  # last release of this row; None: still current
    plugin: str | None  # the plugin distribution, "jax-cuda12-plugin"; None: monolithic jaxlib+cuda wheels
    extra: str  # the pip extra: `pip install -U "jax[cuda12]"`
    cuda_runtime_min: str  # the CUDA runtime the wheels ask for, "12.1"
    cudnn_min: str  # "9.1"
    cudnn_below: str | None = None  # exclusive upper bound, "9.0" for the cuDNN 8.9 wheels
    min_cc: str | None = None  # the oldest GPU the wheels run on ("5.2"); None: from the nvcc table

    _v = field_validator("first", "last", "cuda_runtime_min", "cudnn_min", "cudnn_below")(_check_version)


class JaxPluginRule(_Entry):
    """How a plugin distribution must pair with jaxlib."""

    pattern: str  # a regular expression over distribution names: "^jax-cuda\\d+-(plugin|pjrt)$"
    rule: Literal["same-release", "none"]  # same-release: the dotted numeric prefixes are equal

    @field_validator("pattern")
    @classmethod
    def _pattern(cls, v: str) -> str:
        try:
            re.compile(v)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from exc
        return v


class TensorflowBuildTable(Table):
    entries: list[TensorflowBuild] = Field(min_length=1)


class JaxCudaTable(Table):
    entries: list[JaxCudaLine] = Field(min_length=1)


class JaxPluginRuleTable(Table):
    entries: list[JaxPluginRule] = Field(min_length=1)


# ---------------------------------------------------------------- lookups


def release_version(text: str | None) -> Version | None:
    """``text`` as a release version, or None when it is not one."""
    if not text:
        return None
    try:
        return Version(text.strip())
    except InvalidVersion:
        return None


def release_of(version: str | None) -> str | None:
    """``"2.16.1"`` → ``"2.16"``; ``"2.17.0-rc1"`` → ``"2.17"``; None when it is no version."""
    v = release_version(version)
    return None if v is None else f"{v.major}.{v.minor}"


def tensorflow_build(table: TensorflowBuildTable | None, version: str | None) -> TensorflowBuild | None:
    """The table row of an installed TensorFlow version (first match wins: user rows come first)."""
    want = release_of(version)
    if table is None or want is None:
        return None
    return next((e for e in table.entries if release_of(e.release) == want), None)


def tensorflow_releases_newest_first(table: TensorflowBuildTable | None) -> list[TensorflowBuild]:
    """One row per release, newest first."""
    if table is None:
        return []
    seen: dict[str, TensorflowBuild] = {}
    for e in table.entries:
        seen.setdefault(e.release, e)
    return sorted(seen.values(), key=lambda e: Version(e.release), reverse=True)


def python_fits(build: TensorflowBuild, python: str | None) -> bool | None:
    """Whether the host Python is inside the release's tested range; None when Python is unknown."""
    v = release_version(python)
    if v is None:
        return None
    mine = Version(f"{v.major}.{v.minor}")
    return Version(build.python_min) <= mine <= Version(build.python_max)


def numeric_prefix(version: str | None) -> tuple[int, ...] | None:
    """The dotted numeric prefix jaxlib compares: ``"0.4.38.dev20260317"`` → (0, 4, 38)."""
    m = re.match(r"\s*(\d+(?:\.\d+)*)", version or "")
    return tuple(int(x) for x in m.group(1).split(".")) if m else None


def plugin_rule(table: JaxPluginRuleTable | None, distribution: str) -> JaxPluginRule | None:
    """The pairing rule of a plugin distribution name ("jax-cuda12-plugin"); None when no row names it."""
    if table is None:
        return None
    name = distribution.lower().replace("_", "-")
    return next((r for r in table.entries if re.search(r.pattern, name)), None)


def jax_cuda_line(table: JaxCudaTable | None, version: str | None, cuda_major: int) -> JaxCudaLine | None:
    """The row for a jax/jaxlib release and CUDA major; None when the tables do not cover it."""
    v = release_version(version)
    if table is None or v is None:
        return None
    base = Version(v.base_version)
    for e in table.entries:
        if e.cuda_major != cuda_major or base < Version(e.first):
            continue
        if e.last is None or base <= Version(e.last):
            return e
    return None


def jax_current_lines(table: JaxCudaTable | None) -> list[JaxCudaLine]:
    """The rows still current (no ``last``), newest CUDA major first: what `pip install -U` gets today."""
    if table is None:
        return []
    return sorted((e for e in table.entries if e.last is None), key=lambda e: -e.cuda_major)
