"""Facts people state in sentences and in the commands they ran, when no tool output says them.

Many reports hold no environment dump at all, only "I have a GTX 1050 Ti", ``gpu="Nvidia T4"``, "torch
was installed with ``+rocm5.2``" or the ``pip install ... --index-url`` line that installed the wheel.
Read here, each as what it names and no more:

- NVIDIA GPU models named in text ("GeForce 930MX", "RTX 4090", "Nvidia T4"), accepted only when the
  GPU identity table (advisor.knowledge.identity, built from NVIDIA's and the PCI ids' lists) knows the
  name, not negated in the words before it ("not using an NVIDIA GPU"), and only when the paste holds no
  GPU list of a tool (nvidia-smi, collect_env), which always wins;
- Intel and AMD graphics named in text ("Intel HD graphics 4000", "Radeon RX 6800") as the machine's
  other accelerators, only when the text does not also speak of an NVIDIA GPU;
- the torch build a command installed: PyTorch's wheel indexes are
  ``https://download.pytorch.org/whl/[nightly/|test/]<cu121|rocm6.0|cpu|xpu>`` (the index layout of
  https://pytorch.org/get-started/locally/ and https://pytorch.org/get-started/previous-versions/), and a
  local version tag (``+cu121``, ``+rocm5.2``, ``+cpu``, PEP 440 local versions) named beside the word
  torch; only when no tool in the paste reports torch's version.
"""

from __future__ import annotations

import re
from typing import Any

from advisor.dumps.detect import hit_lines
from advisor.dumps.lazy_re import LazyPattern
from advisor.dumps.partial import Partial
from advisor.machine import GPU, DriverInfo, DriverRefusal, HostInfo, Machine, TorchInfo

KIND = "prose"
_MAX_LINE = 1000
_MAX_HITS = 500
_MAX_GPUS = 8  # a sentence names a handful of GPUs; more is a list of models, not this machine

# Cheap pre-checks (on the lower-cased paste) before any pattern is compiled.
_GPU_WORDS = ("nvidia", "geforce", "rtx", "gtx", "quadro", "tesla", "titan")
_OTHER_WORDS = ("intel", "radeon")
_TORCH_WORDS = ("download.pytorch.org/whl", "+rocm", "+cu", "+cpu")

# A GPU model named in text: a family word and up to five tokens after it (trimmed to what the identity
# table knows), or NVIDIA followed by a data-centre name ("Nvidia T4", "NVIDIA A100 80GB").
_GPU = LazyPattern(
    r"(?:\b(?i:nvidia)[ \t]+)?\b(?P<name>(?:GeForce|Quadro|Tesla|TITAN|Titan|(?i:rtx|gtx)|GT|MX)\b"
    r"(?:[ \t]+[\w-]{1,12}){1,5})"
    r"|\b(?i:nvidia)[ \t]+(?P<bare>[A-Z]{1,2}\d{1,4}[A-Za-z]{0,3}\b(?:[ \t]+[\w-]{1,12}){0,2})"
)
_NEGATION = LazyPattern(r"(?i:\b(?:not|no|without|never|instead of|non|neither|nor)\b|n't\b)")
# Lines other scanners read for GPU names (torch's own warnings, nvidia-smi -L): not prose.
_READ_ELSEWHERE = ("CUDA capability", "cuda capability", "compute capability", "(UUID:", "GPU 0:")
# "a Nvidia GPU", "my NVIDIA card": an NVIDIA GPU whose model the text does not name.
_UNNAMED = LazyPattern(
    r"\b(?i:an?|my|one|two|the|this|our)[ \t]+(?i:nvidia)[ \t]+(?i:gpu|card|graphics card|graphics)s?\b"
)
# What the driver or CUDA says when it fails: GPUs named in prose must not make it look like a tool
# listed them (the driver rules read a GPU list as "the driver answered").
_DRIVER_FAILURES = (
    "nvidia-smi has failed",
    "failed to initialize nvml",
    "couldn't communicate with the nvidia driver",
    "found no nvidia driver",
    "driver not loaded",
    "no nvidia gpu found",
    "driver on your system is too old",
    "cuda driver version is insufficient",
    "no cuda-capable device",
    "no cuda gpus are available",
    "driver/library version mismatch",
    "nvidia-smi: command not found",
    "'nvidia-smi' is not recognized",
    "cuda unknown error",
    "unable to determine the device handle",
)
# A tool's GPU list in the paste (nvidia-smi, collect_env, lspci, a kernel log, a graphics inventory):
# prose never adds GPUs to it.
_GPU_LIST = LazyPattern(
    r"^[ \t]*(?:GPU \d{1,3}:[ \t]|GPU models and configuration|Product Name[ \t]*:|\|[ \t]*NVIDIA-SMI"
    r"|Graphics:|\*-display|Card name:|Chipset Model:|(?:[-*][ \t]+)?Accelerator:)"
    r"|NVIDIA Corporation|NVRM:|\(device: \d|(?i:win32_videocontroller)",
    re.MULTILINE,
)

_INTEL = LazyPattern(
    r"\bIntel(?:\(R\))?[ \t]+(?P<m>(?:(?i:U?HD|Iris)(?:[ \t]+(?:Xe|Plus|Pro))?(?:[ \t]+(?i:graphics))?"
    r"(?:[ \t]+\d{3,4})?|Arc(?:\(TM\))?[ \t]+[AB]\d{3}M?))"
)
_AMD = LazyPattern(
    r"\b(?:AMD[ \t]+)?(?P<m>Radeon(?:\(TM\))?(?:[ \t]+(?:RX|Pro|R9|R7|Vega|HD))?[ \t]+[A-Z]?\d{2,4}[A-Z]{0,2}"
    r"(?:[ \t]+XTX?)?|Instinct[ \t]+MI\d{2,3}X?)"
)
# An NVIDIA mention that is not a GPU this machine has: error texts that name NVIDIA by themselves.
_NVIDIA_IN_MESSAGES = (
    "found no nvidia driver",
    "have an nvidia gpu and installed a driver",
    "nvidia.com",
    "nvidia-smi has failed",
    "nvidia driver on your system",
    "check cuda/mps drivers",
)

# The kernel driver's legacy refusal ("NVRM: The NVIDIA GeForce GTX 680 GPU installed in this system is
# supported through the NVIDIA 470.xx Legacy drivers", open-gpu-kernel-modules' nv.c) quoted or retyped
# by a person, so with typos ("NVIDA 390.xx Legacy"); the exact kernel-log line is the evidence
# catalogue's (nvrm-legacy-gpu), which wins at merge.
_LEGACY = LazyPattern(
    r"(?i:\bthe[ \t]+(?P<name>[\w .()/+-]{3,60}?)(?:[ \t]+GPU)?[ \t]+installed[ \t]+in[ \t]+this[ \t]+system"
    r"[ \t]+is[ \t]+supported[ \t]+through[ \t]+the[ \t]+\w{4,8}[ \t]+(?P<branch>\d{2,3}(?:\.\d{1,3})?)\.xx"
    r"[ \t]+legacy)"
)

_PIP = LazyPattern(
    r"^[ \t]*(?:[$#>%!][ \t]*|RUN[ \t]+|[^\n]{0,200}?&&[ \t]*)?(?:python3?(?:\.\d{1,2})?[ \t]+-m[ \t]+)?"
    r"(?:uv[ \t]+)?pip3?[ \t]+install\b(?P<args>[^\n]{0,800})",
    re.MULTILINE,
)
_INDEX = LazyPattern(
    r"https?://download\.pytorch\.org/whl/(?:nightly/|test/)?(?P<tag>rocm\d{1,2}(?:\.\d{1,2}){0,2}|cu\d{2,3}|cpu|xpu)\b"
)
_PIN = LazyPattern(r"\btorch==(?P<v>\d{1,2}\.\d{1,3}(?:\.\d{1,3})?(?:\+[a-z]{2,4}[\d.]{0,8})?)")
_TAG = LazyPattern(r"(?<![\w.])\+(?P<tag>rocm\d{1,2}(?:\.\d{1,2}){0,2}|cu\d{2,3}|cpu)\b")
# Another tool in the paste says which torch it is: its word wins, prose adds nothing about torch.
_TORCH_REPORTED = LazyPattern(
    r"(?i:pytorch version|torch version)[ \t]*[:=]|torch\.__version__|\[pip3?\][ \t]+torch=="
    r"|^torch(?:==|[ \t]+\d)|['\"]torch['\"]:|\btorch: \d",
    re.MULTILINE,
)


def scan(lines: list[str], mask: bytearray) -> list[Partial]:
    """One partial with the GPUs, other graphics and torch build the text states, or none."""
    text = "\n".join(lines)
    low = text.lower()
    listed = tool_gpu_list(text, mask)
    want_gpus = any(w in low for w in _GPU_WORDS) and not listed and not driver_failed(low)
    want_other = any(w in low for w in _OTHER_WORDS) and not listed
    want_torch = any(w in low for w in _TORCH_WORDS)
    if not (want_gpus or want_other or want_torch):
        return []
    gpus, first = _gpus(lines, mask) if want_gpus else ([], None)
    accelerators: list[str] = []
    if want_other and not gpus and not _speaks_of_nvidia(lines, mask):
        accelerators, where = _others(lines, mask)
        first = where if first is None else first
    torch: dict[str, Any] = {}
    if want_torch and not _TORCH_REPORTED.search(text):
        torch, where = _torch(lines, mask)
        first = where if first is None else first
    refused: list[DriverRefusal] = []
    if "installed in this system" in low:
        refused, where = _legacy(lines, mask)
        first = where if first is None else first
    if first is None or not (gpus or accelerators or torch or refused):
        return []
    machine = Machine(
        source=KIND,
        gpus=gpus,
        gpus_known=False,
        host=HostInfo(accelerators=accelerators or None),
        driver=DriverInfo(refused_gpus=refused or None),
        torch=TorchInfo(**torch),
    )
    return [Partial(KIND, first, machine, match="name")]


def driver_failed(low: str) -> bool:
    """The (lower-cased) paste holds a driver or CUDA failure message."""
    return any(t in low for t in _DRIVER_FAILURES)


def tool_gpu_list(text: str, mask: bytearray) -> bool:
    """The paste holds a tool's GPU list (a span another parser read, collect_env, lspci, a kernel log)."""
    return mask.find(1) != -1 or _GPU_LIST.search(text) is not None


def _gpus(lines: list[str], mask: bytearray) -> tuple[list[GPU], int | None]:
    from advisor.knowledge.identity import lookup  # the table loads only when a name is in the text

    names: list[str] = []
    first: int | None = None
    known: dict[str, str | None] = {}  # a pasted log repeats the same few names
    for i in hit_lines(lines, mask, _GPU.compiled, _MAX_HITS):
        s = lines[i][:_MAX_LINE]
        if any(t in s for t in _READ_ELSEWHERE):
            continue
        for m in _GPU.compiled.finditer(s):
            if _negated(s, m.start()):
                continue
            candidate = m["name"] or m["bare"]
            if candidate not in known:
                known[candidate] = _known(candidate, lookup)
            name = known[candidate]
            if name is not None and name not in names:
                names.append(name)
                first = i if first is None else first
            if len(names) >= _MAX_GPUS:
                break
    gpus = [GPU(index=k, name=n, vendor="nvidia") for k, n in enumerate(names)]
    if not gpus:
        for i in hit_lines(lines, mask, _UNNAMED.compiled, _MAX_HITS):
            said = _UNNAMED.search(lines[i][:_MAX_LINE])
            if said is not None and not _negated(lines[i], said.start()):
                return [GPU(index=0, name=None, vendor="nvidia")], i
    return gpus, first


def known_gpu_name(candidate: str) -> str | None:
    """The NVIDIA GPU a typed name means, spelled as the identity table spells it, or None."""
    from advisor.knowledge.identity import lookup

    return _known(candidate, lookup)


def _known(candidate: str, lookup: Any) -> str | None:
    """The longest leading run of the candidate's tokens that names one GPU the identity table knows."""
    tokens = candidate.split()
    for k in range(len(tokens), 0, -1):
        name = " ".join(tokens[:k])
        if not any(c.isdigit() for c in name) and "TITAN" not in name.upper():
            continue  # a model has a number (TITAN X, TITAN V excepted): plain words never name one
        ident = lookup(name=name)
        if ident is None:
            continue
        if not ident.ambiguous and ident.names:
            return str(ident.names[0])
        return name if name.upper().startswith("NVIDIA") else f"NVIDIA {name}"
    return None


def _speaks_of_nvidia(lines: list[str], mask: bytearray) -> bool:
    """The text names NVIDIA outside the error messages that mention it and outside a negation."""
    for i, s in enumerate(lines):
        if mask[i] or "nvidia" not in s.lower():
            continue
        low = s[:_MAX_LINE].lower()
        for t in _NVIDIA_IN_MESSAGES:
            low = low.replace(t, "")
        pos = low.find("nvidia")
        while pos != -1:
            if not _negated(low, pos):
                return True
            pos = low.find("nvidia", pos + 6)
    return False


def _negated(s: str, start: int) -> bool:
    """A negation in the clause before ``start`` ("I am not using an NVIDIA GPU, but I have ...")."""
    window = s[max(0, start - 40) : start]
    cut = max(window.rfind(c) for c in (",", ".", ";", ":", " but ", "(")) + 1
    return _NEGATION.search(window[cut:]) is not None


def _others(lines: list[str], mask: bytearray) -> tuple[list[str], int | None]:
    found: list[str] = []
    first: int | None = None
    for pattern, label in ((_INTEL, "Intel GPU"), (_AMD, "AMD GPU")):
        for i in hit_lines(lines, mask, pattern.compiled, _MAX_HITS):
            m = pattern.search(lines[i][:_MAX_LINE])
            if m is None or _negated(lines[i], m.start()):
                continue
            model = " ".join(m["m"].split())
            # HD/UHD/Iris are integrated (the name the evidence catalogue uses too); Arc is a card
            kind = "Intel integrated GPU" if label == "Intel GPU" and not model.startswith("Arc") else label
            entry = f"{kind} ({model})"
            if entry not in found and len(found) < _MAX_GPUS:
                found.append(entry)
                first = i if first is None or i < first else first
    return found, first


def _legacy(lines: list[str], mask: bytearray) -> tuple[list[DriverRefusal], int | None]:
    """The legacy refusal as a person quoted it (the GPU's name as they typed it, the legacy branch)."""
    for i, s in enumerate(lines):
        if mask[i] or "installed in this system" not in s or "NVRM" in s:
            continue  # a kernel-log line is the evidence catalogue's
        m = _LEGACY.search(s[:_MAX_LINE])
        if m is not None:
            name = " ".join(m["name"].strip("\"'`").split())
            refusal = DriverRefusal(message=m[0].strip(), name=name or None, legacy_branch=m["branch"])
            return [refusal], i
    return [], None


def _torch(lines: list[str], mask: bytearray) -> tuple[dict[str, Any], int | None]:
    """The build the last install command chose, else a version tag named beside the word torch."""
    facts: dict[str, Any] = {}
    where: int | None = None
    for i in hit_lines(lines, mask, _PIP.compiled, _MAX_HITS):
        m = _PIP.match(lines[i][:_MAX_LINE])
        if m is None or "torch" not in m["args"]:
            continue
        index, pin = _INDEX.search(m["args"]), _PIN.search(m["args"])
        if index is None and (pin is None or "+" not in pin["v"]):
            continue
        tag = index["tag"] if index else pin["v"].split("+", 1)[1] if pin else ""
        facts = _from_tag(tag)
        if pin is not None:
            facts["version"] = pin["v"] if "+" in pin["v"] else f"{pin['v']}+{tag}"
        where = i
    if facts:
        return facts, where
    for i in hit_lines(lines, mask, _TAG.compiled, _MAX_HITS):
        s = lines[i][:_MAX_LINE]
        m = _TAG.search(s)
        if m is not None and "torch" in s.lower():
            return _from_tag(m["tag"]), i
    return {}, None


def _from_tag(tag: str) -> dict[str, Any]:
    if tag.startswith("rocm"):
        return {"installed": True, "hip_version": tag[4:] or None}
    if tag.startswith("cu") and tag[2:].isdigit():
        digits = tag[2:]
        return {"installed": True, "built_with_cuda": True, "cuda_version": f"{digits[:-1]}.{digits[-1]}"}
    if tag == "cpu":
        return {"installed": True, "built_with_cuda": False}
    return {}
