"""The ``Accelerator`` field of ``diffusers-cli env``: the GPU list nvidia-smi printed for it.

diffusers' environment report (https://github.com/huggingface/diffusers/blob/main/src/diffusers/commands/env.py)
fills ``- Accelerator: …`` on Linux and Windows with the output of
``nvidia-smi --query-gpu=gpu_name,memory.total --format=csv,noheader`` followed by `` VRAM`` (one
``<name>, <n> MiB`` line per GPU, the later ones unbulleted), on macOS with system_profiler's
``Chipset Model`` (and `` VRAM: …`` when it has one), and ``NA`` when neither answered. The rest of the
report (torch version, platform) is read by advisor.dumps.reports.
"""

from __future__ import annotations

import re

from advisor.dumps.detect import hit_lines
from advisor.dumps.lazy_re import LazyPattern
from advisor.dumps.partial import MAX_GPUS, Partial
from advisor.machine import GPU, DriverInfo, HostInfo, Machine

KIND = "nvidia-smi-csv"  # what the field holds: nvidia-smi's CSV rows
_MAX_LINE = 300

_FIELD = LazyPattern(r"^[ \t]*(?:[-*][ \t]+)?Accelerator:[ \t]*(?P<v>\S[^\n]{0,250})$", re.MULTILINE)
_ROW = LazyPattern(
    r"^[ \t]*(?P<name>[A-Za-z][^,\n]{1,80}?),[ \t]*(?P<mib>\d{2,7})[ \t]*MiB(?P<end>[ \t]+VRAM)?[ \t]*$"
)
_APPLE = LazyPattern(r"^(?P<name>Apple[ \t]+M\d[\w ]{0,20}?)(?:[ \t]+VRAM:.*)?$")


def scan(lines: list[str], mask: bytearray) -> list[Partial]:
    """A partial with the GPUs (or the Apple chip) the field names, or none."""
    for i in hit_lines(lines, mask, _FIELD.compiled, 20):
        m = _FIELD.match(lines[i][:_MAX_LINE])
        if m is None:
            continue
        value = m["v"].strip()
        apple = _APPLE.match(value)
        if apple is not None:
            host = HostInfo(os="Darwin", accelerators=[f"{apple['name'].strip()} (Apple MPS)"])
            return [Partial("inventory", i, Machine(source="inventory", host=host, gpus_known=True))]
        gpus = _rows([value, *(s[:_MAX_LINE] for s in lines[i + 1 : i + 1 + MAX_GPUS])])
        if gpus:
            machine = Machine(source=KIND, driver=DriverInfo(nvml_ok=True), gpus=gpus)
            return [Partial(KIND, i, machine)]
    return []


def _rows(texts: list[str]) -> list[GPU]:
    gpus: list[GPU] = []
    for text in texts:
        m = _ROW.match(text)
        if m is None:
            break
        gpus.append(GPU(index=len(gpus), name=m["name"].strip(), memory_total_bytes=int(m["mib"]) * 2**20))
        if m["end"]:
            break  # " VRAM" ends the field
    return gpus
