"""The torch child, run for real: the installed CPU build, absent torch, a broken import, a fake CUDA build,
a hang and a crash."""

from __future__ import annotations

import importlib.metadata
import os
import sys
from pathlib import Path

import pytest

from advisor.probe.torch_probe import TorchChild, child_source, cudnn_version_text, torch_info_from_facts
from tests.fakes.fake_torch import (
    H100_TORCH201_CU117_WARNING,
    write_broken_torch,
    write_h100_torch201_cu117,
)

CHILD_TIMEOUT_S = 120.0  # generous: the test machine is shared; a real answer comes in seconds


def _child_with_prelude(prelude: str) -> list[str]:
    """Run the real child source after ``prelude`` (the child keeps its own module namespace)."""
    run = "exec(compile(src, 'torch_child', 'exec'), {'__name__': '__main__'})"
    code = f"{prelude}\nsrc = {child_source()!r}\n{run}"
    return [sys.executable, "-c", code]


def _env_with_path(directory: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(directory)}


def test_installed_cpu_build_reports_cpu_only() -> None:
    info = TorchChild(CHILD_TIMEOUT_S).result()

    assert info.timed_out is False
    assert info.installed is True
    assert info.import_error is None
    assert info.version == importlib.metadata.version("torch")
    assert info.version is not None and info.version.endswith("+cpu")
    assert info.cuda_version is None
    assert info.hip_version is None
    assert info.built_with_cuda is False
    assert info.cuda_available is False
    assert info.device_count == 0
    assert info.arch_list == []
    assert info.cudnn_version is None


def test_absent_torch() -> None:
    argv = _child_with_prelude("import sys; sys.modules['torch'] = None")
    info = TorchChild(CHILD_TIMEOUT_S, argv=argv).result()

    assert info.installed is False
    assert info.import_error is None
    assert info.version is None
    assert info.timed_out is False


def test_import_raising_is_installed_but_broken(tmp_path: Path) -> None:
    message = "libcudart.so.12: cannot open shared object file: No such file or directory"
    env = _env_with_path(write_broken_torch(tmp_path, message))

    info = TorchChild(CHILD_TIMEOUT_S, env=env).result()

    assert info.installed is True
    assert info.import_error == f"OSError: {message}"
    assert info.version is None


def test_cuda_build_facts_and_init_warning_verbatim(tmp_path: Path) -> None:
    env = _env_with_path(write_h100_torch201_cu117(tmp_path))

    info = TorchChild(CHILD_TIMEOUT_S, env=env).result()

    assert info.import_error is None
    assert info.version == "2.0.1+cu117"
    assert info.cuda_version == "11.7"
    assert info.cudnn_version == "8.5.0"
    assert info.built_with_cuda is True
    assert info.arch_list == ["sm_37", "sm_50", "sm_60", "sm_70", "sm_75", "sm_80", "sm_86"]
    assert info.cuda_available is True
    assert info.device_count == 1
    assert info.devices is not None
    device = info.devices[0]
    assert (device.index, device.name, device.compute_capability) == (0, "NVIDIA H100 PCIe", "9.0")
    assert device.memory_total_bytes == 81559 * 1024 * 1024
    assert info.init_messages == [H100_TORCH201_CU117_WARNING]  # verbatim; deprecation noise dropped


def test_hung_child_times_out() -> None:
    info = TorchChild(0.5, argv=[sys.executable, "-c", "import time; time.sleep(60)"]).result()
    assert info.timed_out is True
    assert info.installed is None


def test_child_dying_without_an_answer() -> None:
    argv = [sys.executable, "-c", "import sys; sys.stderr.write('Segmentation fault\\n'); sys.exit(139)"]
    info = TorchChild(CHILD_TIMEOUT_S, argv=argv).result()
    assert info.timed_out is False
    assert info.installed is None
    assert info.init_messages[0] == "torch probe exited with status 139 without an answer"
    assert "Segmentation fault" in info.init_messages


def test_child_that_cannot_start() -> None:
    info = TorchChild(5.0, argv=["/nonexistent/python"]).result()
    assert info.timed_out is False
    assert info.init_messages and info.init_messages[0].startswith("could not start the torch probe")


@pytest.mark.parametrize(
    ("value", "text"),
    [(90100, "9.1.0"), (91002, "9.10.2"), (8902, "8.9.2"), (8500, "8.5.0"), (7605, "7.6.5")],
)
def test_cudnn_version_text(value: int, text: str) -> None:
    assert cudnn_version_text(value) == text


def test_facts_of_the_wrong_type_are_unknown() -> None:
    info = torch_info_from_facts(
        {"installed": "yes", "version": 2, "device_count": True, "arch_list": "sm_80", "cudnn_version": None}
    )
    assert info.installed is None
    assert info.version is None
    assert info.device_count is None
    assert info.arch_list is None
    assert info.cudnn_version is None
    assert info.init_messages == []
