"""Assemble the live Machine: the torch, TensorFlow and JAX children, NVML and the host/PCI probes run
side by side.

The torch child starts first (it takes a second or two to import torch); NVML runs in a daemon thread
so that a wedged driver costs at most ``nvml_timeout_s`` (a thread stuck inside NVML cannot be killed,
but a daemon thread does not keep the advisor from exiting); host and PCI facts are read meanwhile.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Generic, TypeVar

from advisor.machine import DriverInfo, JaxInfo, Machine, TensorflowInfo, TorchInfo
from advisor.probe.framework_probe import FrameworkChild, nvidia_gpu_possible
from advisor.probe.host import probe_host
from advisor.probe.nvml import NvmlResult, probe_nvml
from advisor.probe.pci import read_kernel_module_version, read_nvidia_pci_devices
from advisor.probe.scheduler import probe_scheduler
from advisor.probe.torch_probe import TorchChild

T = TypeVar("T")


class _Background(Generic[T]):
    """Run ``func`` in a daemon thread; :meth:`wait` gives its value, its exception, or a timeout."""

    def __init__(self, func: Callable[[], T], name: str) -> None:
        self._func = func
        self.value: T | None = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self.value = self._func()
        except BaseException as e:  # reported by wait(); a probe thread must not die silently
            self.error = e

    def wait(self, timeout_s: float) -> bool:
        """True when the function finished (with a value or an error) within ``timeout_s``."""
        self._thread.join(timeout_s)
        return not self._thread.is_alive()


def probe_machine(
    *,
    torch_timeout_s: float = 30.0,
    nvml_timeout_s: float = 20.0,
    nvml: Any | None = None,
    sysfs_root: Path = Path("/sys"),
    proc_root: Path = Path("/proc"),
) -> Machine:
    """Probe this machine: driver and GPUs (NVML, PCI bus), the installed PyTorch, and the host.

    Never raises for what it finds: an unreadable source is recorded in the Machine (``nvml_error``,
    ``torch.import_error``, ``probe_timeouts``). ``nvml`` replaces the ``pynvml`` module (tests pass a fake).
    """
    started = time.monotonic()
    from advisor.probe.early import take_torch_child

    torch_child = TorchChild(torch_timeout_s, started=take_torch_child())
    # TensorFlow and JAX each import in their own child, started now so `check` waits for the slowest only.
    # Without any sign of an NVIDIA GPU they read package metadata only instead of importing (seconds of CPU).
    light = not nvidia_gpu_possible(sysfs_root, proc_root.parent)
    tf_child = FrameworkChild("tensorflow", torch_timeout_s, light=light)
    jax_child = FrameworkChild("jax", torch_timeout_s, light=light)
    torch_job = _Background(torch_child.result, "advisor-torch-probe")
    nvml_job = _Background(lambda: probe_nvml(nvml, proc_root=proc_root), "advisor-nvml-probe")

    host = probe_host()
    pci_devices = read_nvidia_pci_devices(sysfs_root)
    kernel_module = read_kernel_module_version(proc_root)

    timeouts: list[str] = []
    gpus_known = True
    if not nvml_job.wait(max(0.0, nvml_timeout_s - (time.monotonic() - started))):
        timeouts.append("nvml")
        gpus_known = False  # NVML hung: whether GPUs answer is unknown, not "none"
        nvml_result = NvmlResult(
            DriverInfo(nvml_ok=False, nvml_error=f"NVML did not answer within {nvml_timeout_s:g} s")
        )
    elif nvml_job.error is not None or nvml_job.value is None:
        error = nvml_job.error
        if isinstance(error, AssertionError):  # a bug (or the test suite's real-NVML guard): stay loud
            raise error
        text = f"{type(error).__name__}: {error}" if error is not None else "no result"
        nvml_result = NvmlResult(DriverInfo(nvml_ok=False, nvml_error=f"NVML probe failed: {text}"))
    else:
        nvml_result = nvml_job.value

    # The child has its own timeout and is killed on expiry; the extra seconds cover the kill.
    if not torch_job.wait(torch_timeout_s + 10.0):
        torch_info = TorchInfo(timed_out=True)
    elif torch_job.value is None:
        torch_info = TorchInfo(init_messages=[f"torch probe failed: {torch_job.error!r}"])
    else:
        torch_info = torch_job.value
    if torch_info.timed_out:
        timeouts.append("torch")
    tf_info = tf_child.result()
    jax_info = jax_child.result()
    assert isinstance(tf_info, TensorflowInfo) and isinstance(jax_info, JaxInfo)
    timeouts += [name for name, info in (("tensorflow", tf_info), ("jax", jax_info)) if info.timed_out]

    driver = nvml_result.driver.model_copy(
        update={"kernel_module_version": kernel_module, "pci_devices": pci_devices}
    )
    return Machine(
        source="live",
        host=host,
        driver=driver,
        gpus=nvml_result.gpus,
        gpus_known=gpus_known,
        torch=torch_info,
        tensorflow=tf_info,
        jax=jax_info,
        probe_timeouts=timeouts,
        scheduler=probe_scheduler(),
    )
