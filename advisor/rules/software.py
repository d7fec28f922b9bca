"""Will the software stack work? GPUs ⇄ driver ⇄ CUDA ⇄ the installed PyTorch build.

Pure: ``check_software(machine, knowledge) -> list[Finding]`` and
``install_recommendations(machine, knowledge) -> list[Recommendation]``. Facts come from the compat
tables (catalog/compat/*.yaml); the reasoning (minor-version compatibility, SASS/PTX rules, the
newest build for every GPU at once) from advisor.knowledge.cuda_driver, gpu_code, torch_builds and
torch_install. The checks live in advisor.rules.driver, gpu_presence and torch_build; this module
runs them in order. What the source itself shows wins over the tables: "Is CUDA available: True"
means the driver is not too old for that torch, and torch's own warnings are evidence. A fact that
is missing is said in the detail, never guessed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from advisor.machine import Machine
from advisor.report import Finding, Recommendation
from advisor.rules.driver import driver_drops, driver_state
from advisor.rules.evidence import evidence_findings
from advisor.rules.frameworks import check_frameworks
from advisor.rules.gpu_presence import (
    no_gpu,
    torch_sees_none,
    unknown_gpus,
    unusable_gpus,
    visible_devices,
)
from advisor.rules.knowledge_age import check_knowledge_age
from advisor.rules.software_facts import gather, install_recommendation
from advisor.rules.torch_build import check_torch

if TYPE_CHECKING:
    from advisor.knowledge.base import Knowledge

# The codes of this area a message in the paste can establish on its own (advisor.rules.evidence).
SOFTWARE_CODES = frozenset(
    {
        "no-gpu",
        "no-driver",
        "driver-library-mismatch",
        "driver-too-old",
        "driver-drops-gpu",
        "arch-not-in-build",
        "torch-cpu-only",
        "torch-not-installed",
        "rocm-build-on-nvidia",
        "cuda-visible-devices-hides-gpu",
        "cudnn-version-mismatch",
    }
)

# ---------------------------------------------------------------- entry points


def check_software(machine: Machine, knowledge: Knowledge) -> list[Finding]:
    """Findings about the driver, CUDA and PyTorch stack (codes in DESIGN.md, software stack)."""
    facts = gather(machine, knowledge)
    out: list[Finding] = []
    driver_findings = driver_state(facts)
    out += driver_findings
    if not driver_findings:
        out += no_gpu(facts)
    out += unknown_gpus(facts)
    out += visible_devices(facts)
    out += check_torch(facts)
    out += check_frameworks(facts)
    out += driver_drops(facts)
    out += evidence_findings(machine, SOFTWARE_CODES, out, facts.nvidia_present)
    out += unusable_gpus(facts, out)
    out += torch_sees_none(facts, out)
    out += check_knowledge_age(facts)
    return out


def install_recommendations(machine: Machine, knowledge: Knowledge) -> list[Recommendation]:
    """One ``install`` recommendation: the exact pip command for the newest PyTorch that runs on
    every NVIDIA GPU here with this driver, or the driver to install first, or why none exists."""
    facts = gather(machine, knowledge)
    if facts.jetson:
        return [
            Recommendation(
                topic="install",
                supported=None,
                value="NVIDIA's JetPack PyTorch wheel for your JetPack release",
                reason="Desktop and SBSA wheels have no cubins for Jetson's integrated GPUs (CC 5.3, "
                "6.2, 7.2, 8.7 and Thor 10.1/11.0 form separate islands), so Jetson needs JetPack "
                "builds.",
            )
        ]
    if not facts.gpus:
        return []
    drv = machine.driver
    if not facts.ccs and drv.version is None and drv.cuda_version is None:
        return []  # neither the GPUs' CC nor the driver is known: any command would be a guess
    return [install_recommendation(facts)]
