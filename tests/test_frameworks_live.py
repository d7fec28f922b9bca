"""Opt-in: install the CPU builds of TensorFlow and JAX in a temporary venv and run the live children on them.

Downloads a few hundred MB from PyPI, so it is skipped unless asked for:
``ADVISOR_FRAMEWORKS_LIVE=1 python -m pytest -m frameworks_live tests/test_frameworks_live.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from advisor.machine import JaxInfo, TensorflowInfo
from advisor.probe.framework_probe import FrameworkChild, child_source

pytestmark = [
    pytest.mark.frameworks_live,
    pytest.mark.skipif(
        os.environ.get("ADVISOR_FRAMEWORKS_LIVE") != "1",
        reason="installs tensorflow-cpu and jax from PyPI; set ADVISOR_FRAMEWORKS_LIVE=1 to run",
    ),
]


@pytest.fixture(scope="module")
def cpu_frameworks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fw-venv")
    venv.EnvBuilder(with_pip=True).create(root)
    python = root / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "tensorflow-cpu", "jax"], check=True, timeout=1800
    )
    return python


@pytest.mark.frameworks_live
def test_live_children_on_cpu_tensorflow_and_jax(cpu_frameworks: Path) -> None:
    tf = FrameworkChild(
        "tensorflow", 300, argv=[str(cpu_frameworks), "-c", child_source("tensorflow")]
    ).result()
    jx = FrameworkChild("jax", 300, argv=[str(cpu_frameworks), "-c", child_source("jax")]).result()
    assert isinstance(tf, TensorflowInfo) and isinstance(jx, JaxInfo)
    assert tf.installed is True and tf.version and tf.package == "tensorflow-cpu"
    assert tf.is_cuda_build is False and tf.gpus == [] and tf.import_error is None
    assert jx.installed is True and jx.version and jx.jaxlib_version and jx.plugins == {}
    assert jx.backend == "cpu" and jx.devices and all(d.platform == "cpu" for d in jx.devices)
