"""The TensorFlow / JAX child probes: answers → Machine records, crashes, hangs, log lines on stderr."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from advisor.machine import JaxInfo, TensorflowInfo
from advisor.probe.framework_probe import (
    MARKERS,
    FrameworkChild,
    child_source,
    jax_info_from_facts,
    tensorflow_info_from_facts,
)

TIMEOUT_S = 60.0


def _answer(framework: str, facts: dict[str, object], stderr: str = "") -> list[str]:
    code = f"import sys\nsys.stderr.write({stderr!r})\nprint({MARKERS[framework]!r} + {json.dumps(facts)!r})"  # type: ignore[index]
    return [sys.executable, "-c", code]


def test_tensorflow_cpu_build_as_the_child_reports_it() -> None:
    # What tf_child printed for tensorflow-cpu 2.21.0 on this machine (recorded 2026-12-05).
    facts = {
        "messages": [],
        "packages": {"tensorflow-cpu": "2.21.0"},
        "installed": True,
        "version": "2.21.0",
        "build_info": {"is_cuda_build": False, "is_rocm_build": False, "is_tensorrt_build": False},
        "gpus": [],
    }
    info = FrameworkChild("tensorflow", TIMEOUT_S, argv=_answer("tensorflow", facts)).result()
    assert isinstance(info, TensorflowInfo)
    assert (info.installed, info.version, info.package, info.is_cuda_build) == (
        True,
        "2.21.0",
        "tensorflow-cpu",
        False,
    )
    assert info.gpus == [] and info.nvidia_wheels == {} and info.missing_libraries is None


def test_tensorflow_log_lines_on_stderr_become_facts() -> None:
    # Lines from tensorflow/tensorflow#45930-style logs and tensorflow/text#1167 (see tests/data/frameworks).
    stderr = (
        "2021-08-28 11:45:39.292524: W "
        "tensorflow/stream_executor/platform/default/dso_loader.cc:60] Could not "
        "load dynamic library 'libcudart.so.11.0'; dlerror: "
        "libcudart.so.11.0: cannot open shared object file\n"
        "2023-06-19 17:03:27.840554: E tensorflow/compiler/xla/stream_executor/cuda/cuda_dnn.cc:417] Loaded "
        "runtime CuDNN library: 8.0.5 but source was compiled with: "
        "8.6.0.  CuDNN library needs to have matching "
        "major version and equal or higher minor version.\n"
        "E external/local_xla/xla/stream_executor/cuda/cuda_dnn.cc:9261] Unable to register cuDNN factory: "
        "Attempting to register factory for plugin cuDNN when one has already been registered\n"
    )
    facts = {
        "installed": True,
        "version": "2.12.0",
        "build_info": {"is_cuda_build": True, "cuda_version": "11.8"},
    }
    info = FrameworkChild("tensorflow", TIMEOUT_S, argv=_answer("tensorflow", facts, stderr)).result()
    assert isinstance(info, TensorflowInfo)
    assert info.missing_libraries == ["libcudart.so.11.0"]
    assert (info.cudnn_loaded, info.cudnn_compiled) == ("8.0.5", "8.6.0")
    assert not any("register cuDNN factory" in m for m in info.messages)  # harmless noise is dropped


def test_jax_child_answer_with_a_mismatched_plugin() -> None:
    facts = {
        "installed": True,
        "version": "0.9.0.1",
        "jaxlib_version": "0.9.0.1",
        "packages": {
            "jax": "0.9.0.1",
            "jaxlib": "0.9.0.1",
            "jax-cuda12-plugin": "0.9.2",
            "jax-cuda12-pjrt": "0.9.2",
        },
        "backend": "cpu",
        "devices": [{"index": 0, "platform": "cpu", "name": "cpu"}],
        "messages": [
            "JAX plugin jax_cuda12_plugin version 0.9.2 is installed, "
            "but it is not compatible with the installed "
            "jaxlib version 0.9.0.1, so it will not be used."
        ],
    }
    info = FrameworkChild("jax", TIMEOUT_S, argv=_answer("jax", facts)).result()
    assert isinstance(info, JaxInfo)
    assert info.plugins == {"jax-cuda12-plugin": "0.9.2", "jax-cuda12-pjrt": "0.9.2"}
    assert info.backend == "cpu" and info.devices is not None and info.devices[0].platform == "cpu"
    assert any("not compatible with the installed jaxlib" in m for m in info.messages)


def test_a_hung_child_times_out_and_a_crash_leaves_its_last_lines() -> None:
    hung = FrameworkChild("jax", 0.5, argv=[sys.executable, "-c", "import time; time.sleep(60)"]).result()
    assert hung.timed_out is True
    crash = [sys.executable, "-c", "import sys; sys.stderr.write('Segmentation fault\\n'); sys.exit(139)"]
    crashed = FrameworkChild("tensorflow", TIMEOUT_S, argv=crash).result()
    assert crashed.installed is None and any("status 139" in m for m in crashed.messages)
    assert "Segmentation fault" in crashed.messages


def test_the_real_children_say_not_installed_where_the_framework_is_absent() -> None:
    # -I -S: an isolated interpreter without site-packages, where neither framework can be found.
    for framework in ("tensorflow", "jax"):
        argv = [sys.executable, "-I", "-S", "-c", child_source(framework)]  # type: ignore[arg-type]
        info = FrameworkChild(framework, TIMEOUT_S, argv=argv).result()  # type: ignore[arg-type]
        assert info.installed is False, info


def test_wrong_types_in_an_answer_become_unknown() -> None:
    tf = tensorflow_info_from_facts(
        {"installed": "yes", "version": 2, "build_info": {"cuda_version": 12}, "gpus": 3}
    )
    assert tf.installed is None and tf.version is None and tf.cuda_version is None and tf.gpus is None
    jx = jax_info_from_facts({"installed": True, "devices": [{"index": True, "platform": 1}], "packages": []})
    assert jx.devices is not None and jx.devices[0].index == 0 and jx.devices[0].platform is None


def test_texts_across_releases() -> None:
    from advisor.dumps.framework_text import (
        IGNORED_GPU,
        OUTDATED,
        PLUGIN_MISMATCH,
        cudnn_text,
        jax_cudnn_mismatch,
    )

    # TensorFlow 1.x and 2.x wordings of the "too old GPU" line (gpu_device.cc).
    old = (
        "Ignoring gpu device (device: 0, name: GRID K520, pci bus id: 0000:00:03.0) with Cuda "
        "compute capability 3.0. The minimum required Cuda capability is 3.5."
    )
    new = (
        "Ignoring visible gpu device (device: 0, name: Quadro K2000M, pci bus id: "
        "0000:01:00.0, compute capability: 3.0) with Cuda compute capability 3.0. "
        "The minimum required Cuda capability is 3.5."
    )
    assert [(m["name"], m["cc"], m["min"]) for m in map(IGNORED_GPU.search, (old, new)) if m] == [
        ("GRID K520", "3.0", "3.5"),
        ("Quadro K2000M", "3.0", "3.5"),
    ]
    # cuDNN versions as TensorFlow and jaxlib print them.
    assert [cudnn_text(x) for x in ("7201", "5005", "8906", "90100", "8.6.0")] == [
        "7.2.1",
        "5.0.5",
        "8.9.6",
        "9.1.0",
        "8.6.0",
    ]
    joined = "Outdated cuDNN installation found. (installed 8907, minimum supported 9100)"
    assert OUTDATED.search(joined) and jax_cudnn_mismatch([joined]) == ("8.9.7", "9.1.0")
    assert (
        jax_cudnn_mismatch(
            ["Outdated cuSPARSE installation found. (installed 12002, minimum supported 12100)"]
        )
        is None
    )
    m = PLUGIN_MISMATCH.search(
        "JAX plugin jax_cuda12_plugin version 0.4.38.dev20260317 is installed,\n  but it is not "
        "compatible with the installed jaxlib version 0.9.1, so it will not be used."
    )
    assert m is not None and (m["plugin_version"], m["jaxlib"]) == ("0.4.38.dev20260317", "0.9.1")


def _fake_tensorflow(root: Path, build_info: str) -> Path:
    """A site folder with a TensorFlow 2.16.1 that must never be imported (its __init__ raises)."""
    pkg = root / "tensorflow"
    (pkg / "python" / "platform").mkdir(parents=True)
    (pkg / "__init__.py").write_text("raise SystemExit('imported')\n")
    (pkg / "python" / "platform" / "build_info.py").write_text(build_info)
    meta = root / "tensorflow-2.16.1.dist-info"
    meta.mkdir()
    (meta / "METADATA").write_text("Metadata-Version: 2.1\nName: tensorflow\nVersion: 2.16.1\n")
    return root


def test_light_children_read_metadata_and_build_info_without_importing(tmp_path: Path) -> None:
    # build_info.py as TensorFlow 2.16's wheel generates it (an OrderedDict of pairs).
    site = _fake_tensorflow(
        tmp_path,
        "import collections\nbuild_info = collections.OrderedDict(["
        "('cpu_compiler', '/usr/bin/clang-17'), "
        "('cuda_compute_capabilities', ['sm_50', 'sm_60', 'sm_70', 'sm_80', 'compute_90']), "
        "('cuda_version', '12.3'), ('cudnn_version', '8'), ('is_cuda_build', True), "
        "('is_rocm_build', False)])\n",
    )
    argv = [sys.executable, "-S", "-c", child_source("tensorflow"), "--light"]
    info = FrameworkChild("tensorflow", TIMEOUT_S, argv=argv, env={"PYTHONPATH": str(site)}).result()
    assert isinstance(info, TensorflowInfo)
    assert (info.installed, info.version, info.package, info.is_cuda_build) == (
        True,
        "2.16.1",
        "tensorflow",
        True,
    )
    assert info.cuda_version == "12.3" and info.cuda_compute_capabilities == [
        "sm_50",
        "sm_60",
        "sm_70",
        "sm_80",
        "compute_90",
    ]
    assert info.gpus is None  # not probed: unknown, not "none"
    jx = FrameworkChild(
        "jax",
        TIMEOUT_S,
        argv=[sys.executable, "-S", "-c", child_source("jax"), "--light"],
        env={"PYTHONPATH": str(site)},
    ).result()
    assert jx.installed is False


def test_signs_of_an_nvidia_gpu(tmp_path: Path) -> None:
    from advisor.probe.framework_probe import nvidia_gpu_possible

    sysfs = tmp_path / "sys"
    dev = sysfs / "bus" / "pci" / "devices" / "0000:00:02.0"
    dev.mkdir(parents=True)
    (dev / "vendor").write_text("0x8086\n")
    (dev / "class").write_text("0x030000\n")
    assert nvidia_gpu_possible(sysfs, tmp_path) is False  # an Intel iGPU only
    nv = sysfs / "bus" / "pci" / "devices" / "0000:01:00.0"
    nv.mkdir()
    (nv / "vendor").write_text("0x10de\n")
    (nv / "class").write_text("0x040300\n")  # the card's HDMI audio function is no GPU
    assert nvidia_gpu_possible(sysfs, tmp_path) is False
    (nv / "class").write_text("0x030200\n")
    assert nvidia_gpu_possible(sysfs, tmp_path) is True
    (nv / "class").write_text("0x040300\n")
    (tmp_path / "dev").mkdir()
    (tmp_path / "dev" / "dxg").write_text("")  # WSL2 shows no PCI GPU, only /dev/dxg
    assert nvidia_gpu_possible(sysfs, tmp_path) is True
    assert nvidia_gpu_possible(tmp_path / "unreadable", tmp_path / "dev") is True  # cannot rule a GPU out


# ---------------------------------------------------------------- the dump reader under fuzzing

_LINES = [
    p.read_text(encoding="utf-8").splitlines()
    for p in sorted((Path(__file__).parent / "data" / "frameworks").glob("*/input.txt"))
]


def test_mutated_framework_pastes_give_a_machine_or_a_clear_refusal() -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from advisor.dumps import parse_dump
    from advisor.errors import InputError

    pool = [line for lines in _LINES for line in lines]

    @settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(st.sampled_from(pool) | st.text(max_size=120), max_size=40), st.integers(0, 10**6))
    def run(lines: list[str], cut: int) -> None:
        text = "\n".join(lines)
        text = text[: cut % (len(text) + 1)] if text else text
        try:
            m = parse_dump(text)
        except InputError as e:
            assert str(e)
            return
        m.model_dump_json()
        assert m.tensorflow.messages == list(dict.fromkeys(m.tensorflow.messages))

    run()
