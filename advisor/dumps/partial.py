"""What one parser found in one part of a paste, before the parts are merged into one Machine."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from advisor.machine import Machine

# How a part's GPUs are matched to GPUs already merged (a PCI bus id always matches first):
#   index    - the source names NVML indices (nvidia-smi table, nvidia-smi -L, collect_env);
#   position - indices are only the order of appearance (-q text, XML): a named index overrides them;
#   bus      - only by bus id, else a new GPU (an "Unable to determine the device handle" line);
#   name     - every GPU with that name (torch's "... with CUDA capability sm_90" warning).
Match = Literal["index", "position", "bus", "name"]

# Bounds that keep a hostile or mistaken 64 MB paste cheap; real machines are far below them.
MAX_GPUS = 256  # GPUs read from one output (a DGX-2 shows 16)
MAX_SPAN_LINES = 100_000  # lines of one nvidia-smi -q span (a full -q of one H100 is about 230)
MAX_SPANS = 32  # outputs of one kind in one paste


@dataclass
class Partial:
    """A part of a paste read as ``kind``.

    ``position`` is the part's first line: when two parts disagree about the driver's state (an NVML
    error, then a working nvidia-smi after a reboot), the later one wins.
    """

    kind: str
    position: int
    machine: Machine
    match: Match = "index"

    def is_empty(self) -> bool:
        """True when the part holds no fact worth merging (a marker matched, nothing parsed)."""
        m = self.machine
        return not (
            m.gpus
            or m.gpus_known
            or m.driver.version
            or m.driver.cuda_version
            or m.driver.nvml_ok is False
            or m.driver.pci_devices
            or m.driver.kernel_module_version
            or m.driver.refused_gpus
            or m.torch.version
            or m.torch.installed is not None
            or m.torch.init_messages
            or m.torch.arch_list
            or m.host.os
            or m.evidence
            or m.packages
            or m.host.accelerators
            or m.tensorflow.installed is not None
            or m.tensorflow.messages
            or m.jax.installed is not None
            or m.jax.messages
        )
