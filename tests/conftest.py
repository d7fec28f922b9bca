"""Shared test helpers: paths to the recorded real-world fixtures; guards against touching real hardware."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
DUMPS = DATA / "dumps"
SMI = DATA / "nvidia-smi"
REPO = Path(__file__).parent.parent


def dump_dirs() -> list[Path]:
    return sorted(p for p in DUMPS.iterdir() if p.is_dir())


@pytest.fixture(autouse=True)
def _private_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Keep the catalog parse cache of each test in its own folder, never in ~/.cache."""
    monkeypatch.setenv("ADVISOR_CACHE_DIR", str(tmp_path / "advisor-cache"))


@pytest.fixture(autouse=True)
def _no_real_hardware(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    """Unless a test is marked `gpu`, make any real NVML initialisation fail loudly."""
    if request.node.get_closest_marker("gpu"):
        return
    try:
        import pynvml
    except ImportError:  # pragma: no cover
        return

    def _forbidden(*_a: object, **_k: object) -> None:
        raise AssertionError("test touched the real NVML; use tests/fakes/fake_nvml.py")

    monkeypatch.setattr(pynvml, "nvmlInit", _forbidden, raising=False)
    monkeypatch.setattr(pynvml, "nvmlInitWithFlags", _forbidden, raising=False)


@pytest.fixture(autouse=True)
def _quick_framework_children(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    """The live probe's TensorFlow and JAX children answer "not installed" at once, so a test of another
    source never imports a framework that happens to be installed (tests of those children pass argv)."""
    if request.node.get_closest_marker("frameworks_live"):
        return
    import sys

    from advisor.probe import framework_probe

    def quick(framework: framework_probe.Framework, light: bool = False) -> list[str]:
        answer = f"print({framework_probe.MARKERS[framework]!r} + '{{\"installed\": false}}')"
        return [sys.executable, "-c", answer]

    monkeypatch.setattr(framework_probe, "child_command", quick)
