"""Fake ``torch`` packages written to a directory, for running the real torch child against recorded builds.

The child (advisor/probe/torch_child.py) imports ``torch`` from ``PYTHONPATH``; a fake package placed there
answers the calls the child makes with facts recorded from real machines, including the exact warning
text torch printed, so the child's handling runs end to end without a GPU.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

# torch 2.0.1+cu117 on an H100 PCIe, driver 535.104.12 (tests/data/dumps/02-h100pcie-torch201-cu117-sm90):
# the build has no sm_90 kernels, and torch warned on CUDA initialisation with this text.
H100_TORCH201_CU117_WARNING = (
    "\nNVIDIA H100 PCIe with CUDA capability sm_90 is not compatible with the current PyTorch installation.\n"
    "The current PyTorch install supports CUDA capabilities sm_37 sm_50 sm_60 sm_70 sm_75 sm_80 sm_86.\n"
    "If you want to use the NVIDIA H100 PCIe GPU with PyTorch, please check the instructions at "
    "https://pytorch.org/get-started/locally/\n"
)

_CUDA_BUILD = '''
"""Fake torch {version}: a CUDA build on one {device} (recorded facts)."""
import warnings
from types import SimpleNamespace

__version__ = "{version}"
version = SimpleNamespace(cuda="{cuda}", hip=None, debug=False)


class _C:
    @staticmethod
    def _cuda_getArchFlags():
        return "{arch_flags}"


class _Cuda:
    _initialised = False

    def is_available(self):
        return True

    def device_count(self):
        warnings.warn("an API deprecation unrelated to CUDA", FutureWarning)  # noise the child drops
        return 1

    def get_arch_list(self):
        return "{arch_flags}".split()

    def get_device_properties(self, i):
        if not self._initialised:  # torch warns once, on lazy CUDA initialisation
            self._initialised = True
            warnings.warn({warning!r}, UserWarning)
        return SimpleNamespace(name="{device}", major={major}, minor={minor}, total_memory={memory})


cuda = _Cuda()
backends = SimpleNamespace(
    cuda=SimpleNamespace(is_built=lambda: True),
    cudnn=SimpleNamespace(version=lambda: {cudnn}),
)
'''


def write_h100_torch201_cu117(directory: Path) -> Path:
    """A fake torch 2.0.1+cu117 seeing an H100 PCIe (80 GiB as torch reports 81559 MiB); returns the dir."""
    package = directory / "torch"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(
        _CUDA_BUILD.format(
            version="2.0.1+cu117",
            cuda="11.7",
            device="NVIDIA H100 PCIe",
            arch_flags="sm_37 sm_50 sm_60 sm_70 sm_75 sm_80 sm_86",
            major=9,
            minor=0,
            memory=81559 * 1024 * 1024,
            cudnn=8500,  # cuDNN 8.5.0.96, which the cu117 wheels of torch 2.0.1 depend on
            warning=H100_TORCH201_CU117_WARNING,
        ),
        encoding="utf-8",
    )
    return directory


def write_broken_torch(directory: Path, message: str) -> Path:
    """A torch package whose import raises OSError(message), as a missing libcudart does."""
    package = directory / "torch"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(
        textwrap.dedent(f"""
        raise OSError({message!r})
        """),
        encoding="utf-8",
    )
    return directory
