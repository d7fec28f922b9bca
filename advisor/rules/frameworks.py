"""Findings about TensorFlow and JAX: the torch software codes applied to them, plus their own two.

Pure: takes the shared ``Facts`` (advisor.rules.software_facts); advisor.rules.software runs it. The
codes keep their names (DESIGN.md): ``torch-cpu-only`` for a CPU-only TensorFlow/JAX build on an
NVIDIA machine, ``torch-not-installed`` for one that is broken or cannot load its CUDA libraries,
``driver-too-old``, ``arch-not-in-build``, and the new ``cudnn-version-mismatch`` and
``jaxlib-plugin-mismatch``. Every finding names the framework in its title and in ``subject``. The
checks live in advisor.rules.frameworks_tf and frameworks_jax; the helpers they share are here.
"""

from __future__ import annotations

from packaging.version import Version

from advisor.knowledge.cuda_driver import DriverVerdict, driver_runs_cuda
from advisor.knowledge.framework_tables import release_version
from advisor.knowledge.gpu_code import runs_on
from advisor.report import Finding
from advisor.rules.software_facts import Facts, Gpu
from advisor.units import format_cc, parse_cc


def check_frameworks(f: Facts) -> list[Finding]:
    """TensorFlow's findings, then JAX's."""
    from advisor.rules.frameworks_jax import check_jax
    from advisor.rules.frameworks_tf import check_tensorflow

    return check_tensorflow(f) + check_jax(f)


def native_windows(f: Facts) -> bool:
    """Windows itself, not WSL (whose Linux wheels do have CUDA)."""
    return f.platform == "windows" and not f.machine.host.is_wsl


def gpu_names(f: Facts) -> str:
    """``GPU 0 (NVIDIA GeForce RTX 3090, CC 8.6)``, or a phrase when only the PCI bus shows one."""
    return ", ".join(g.who for g in f.gpus) or "an NVIDIA GPU"


def quote(messages: list[str], limit: int = 2) -> str:
    """The first framework messages, quoted, for a finding's detail."""
    picked = messages[:limit]
    return " ".join(f'"{m.strip()}"' for m in picked)


def driver_verdict(f: Facts, cuda: str | None) -> DriverVerdict | None:
    """Whether this driver runs code built with ``cuda``; None when the CUDA or the driver is unknown."""
    drv = f.machine.driver
    if not cuda or (drv.version is None and drv.cuda_version is None):
        return None
    verdict = driver_runs_cuda(
        f.compat, cuda, os=f.os, driver_version=drv.version, driver_cuda=drv.cuda_version
    )
    return verdict if verdict.ok is not None else None


def driver_label(f: Facts) -> str:
    drv = f.machine.driver
    text = f"driver {drv.version}" if drv.version else "this driver"
    return text + (f" (CUDA {drv.cuda_version})" if drv.cuda_version else "")


def gpus_without_code(f: Facts, arch_list: list[str]) -> list[Gpu]:
    """The GPUs no cubin and no PTX of ``arch_list`` runs on (TensorFlow's build_info list has the
    same sm_XY / compute_XY form as torch's)."""
    return [g for g in f.gpus if g.cc is not None and runs_on(f.compat, arch_list, g.cc) == "none"]


def below_min_cc(f: Facts, min_cc: str | None) -> list[Gpu]:
    """The GPUs older than a framework's oldest supported compute capability."""
    floor = parse_cc(min_cc)
    if floor is None:
        return []
    return [g for g in f.gpus if g.cc is not None and g.cc < floor]


def cc_text(cc: tuple[int, int] | None) -> str:
    return format_cc(cc) or "?"


def version_of(text: str | None) -> Version | None:
    """A framework version, or None when it is not one (the tables' own reading)."""
    return release_version(text)


def framework_finding(
    subject: str, code: str, severity: str, title: str, detail: str, fix: str, gpu: int | None = None
) -> Finding:
    """A software finding about one framework (``subject``: "tensorflow", "jax")."""
    return Finding.model_validate(
        {"code": code, "severity": severity, "gpu": gpu, "subject": subject, "title": title,
         "detail": detail, "fix": fix}
    )  # fmt: skip
