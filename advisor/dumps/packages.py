"""Python package lists: ``pip list``, ``pip freeze``, ``conda list`` and collect_env's ``[pip3]`` /
``[conda]`` lines → ``Machine.packages`` (name → version), and the torch build they show.

A line counts when it sits in a run of at least three package lines, under a ``pip list`` / ``conda
list`` header, or names a package this tool reads anyway (torch, tensorflow, jax, nvidia-* wheels):
prose such as "Python 3.10" alone is not a package list. conda's build string tells the variant
(``py3.10_cuda12.1_cudnn8.9.2_0``, ``cpu_py310…``), as does the ``cpuonly`` package.
"""

from __future__ import annotations

import re
from typing import Any

from advisor.dumps.detect import hit_lines
from advisor.dumps.lazy_re import LazyPattern
from advisor.dumps.partial import Partial
from advisor.machine import Machine, TorchInfo

KIND = "packages"
MAX_PACKAGES = 2_000
_RUN = 3

_LINE = re.compile(
    r"^[ \t]*(?:\[(?:pip3?|conda)\][ \t]+)?[A-Za-z0-9][A-Za-z0-9._-]{0,80}(?:==|[ \t]+)\d[\w.+!-]{0,40}"
    r"(?:[ \t]+[^\s]{1,80}){0,3}[ \t]*$",
    re.MULTILINE,
)
_PARSE = LazyPattern(
    r"^[ \t]*(?:\[(?P<tool>pip3?|conda)\][ \t]+)?(?P<name>[A-Za-z0-9][A-Za-z0-9._-]{0,80})(?:==|[ \t]+)"
    r"(?P<version>\d[\w.+!-]{0,40})(?:[ \t]+(?P<build>[^\s]{1,80}))?(?:[ \t]+(?P<channel>[^\s]{1,80}))?"
)
_HEADER = LazyPattern(r"^[ \t]*(?:Package[ \t]+Version|#[ \t]*Name[ \t]+Version[ \t]+Build)", re.MULTILINE)
# Names worth reading even alone on a line (what the rules use).
_KNOWN = LazyPattern(
    r"^(?:torch|pytorch|torchvision|torchaudio|xformers|triton|tensorflow(?:-\w+)?|tf-nightly|jax|jaxlib"
    r"|jax-cuda\d+-(?:plugin|pjrt)|nvidia-[\w-]+|pytorch-cuda|cpuonly|cudatoolkit|cuda-version|cudnn"
    r"|vllm|transformers|accelerate|deepspeed|onnxruntime(?:-gpu)?|paddlepaddle(?:-gpu)?)$"
)
_CONDA_CUDA = LazyPattern(r"cuda(\d{2})\.?(\d)")


def scan(lines: list[str], mask: bytearray) -> list[Partial]:
    """One partial with the packages, or none."""
    hits = hit_lines(lines, mask, _LINE, 20_000)
    if not hits:
        return []
    header = bool(hit_lines(lines, mask, _HEADER.compiled, 1))
    packages: dict[str, str] = {}
    builds: dict[str, str] = {}
    position: int | None = None
    run_start = 0
    for k, i in enumerate(hits):
        if k == 0 or hits[k - 1] != i - 1:
            run_start = k
        run_end = k
        while run_end + 1 < len(hits) and hits[run_end + 1] == hits[run_end] + 1:
            run_end += 1
        m = _PARSE.match(lines[i])
        if m is None:
            continue
        name = m["name"].lower().replace("_", "-")
        in_run = run_end - run_start + 1 >= _RUN
        if not (in_run or header or m["tool"] or _KNOWN.match(name)):
            continue
        if len(packages) >= MAX_PACKAGES:
            break
        packages.setdefault(name, m["version"])
        if m["build"] and m["build"] not in builds:
            builds[name] = m["build"]
        position = i if position is None else position
    if position is None:
        return []
    machine = Machine(source=KIND, gpus_known=False, torch=_torch(packages, builds), packages=packages)
    return [Partial(KIND, position, machine)]


def _torch(packages: dict[str, str], builds: dict[str, str]) -> TorchInfo:
    name = "torch" if "torch" in packages else "pytorch" if "pytorch" in packages else None
    if name is None:
        return TorchInfo()
    version = packages[name]
    fields: dict[str, Any] = {"installed": True, "version": version}
    build = builds.get(name, "")
    tag = re.search(r"\+cu(\d{2,3})\b", version)
    conda_cuda = _CONDA_CUDA.search(build)
    if tag:
        fields.update(cuda_version=f"{tag[1][:-1]}.{tag[1][-1]}", built_with_cuda=True)
    elif conda_cuda:
        fields.update(cuda_version=f"{int(conda_cuda[1])}.{conda_cuda[2]}", built_with_cuda=True)
    elif "pytorch-cuda" in packages and re.match(r"\d+\.\d+", packages["pytorch-cuda"]):
        fields.update(cuda_version=packages["pytorch-cuda"], built_with_cuda=True)
    elif version.endswith("+cpu") or "cpuonly" in packages or build.startswith("cpu") or "_cpu" in build:
        fields["built_with_cuda"] = False
    return TorchInfo(**fields)
