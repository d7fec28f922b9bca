"""TensorFlow / JAX rules on recorded probe facts: each fires where it must, stays silent where it must not.

The framework records are what the child probes return (the TensorFlow CPU record is this machine's, recorded
2026-12-05); GPUs and drivers are real cards and driver releases from the catalog and the CUDA tables.
"""

from __future__ import annotations

from typing import Any

from advisor.knowledge.loader import load_knowledge
from advisor.machine import GPU, DriverInfo, FrameworkDevice, HostInfo, JaxInfo, Machine, TensorflowInfo
from advisor.report import Finding
from advisor.rules.software import check_software

RTX_3090 = GPU(index=0, name="NVIDIA GeForce RTX 3090", compute_capability="8.6")
GTX_1080 = GPU(index=0, name="NVIDIA GeForce GTX 1080", compute_capability="6.1")
K80 = GPU(index=0, name="Tesla K80", compute_capability="3.7")
LINUX = HostInfo(os="Linux", machine_arch="x86_64", python_version="3.11.7")
TF_CPU = TensorflowInfo(
    installed=True,
    version="2.21.0",
    package="tensorflow-cpu",
    is_cuda_build=False,
    is_rocm_build=False,
    gpus=[],
)
TF_216 = TensorflowInfo(
    installed=True,
    version="2.16.1",
    package="tensorflow",
    is_cuda_build=True,
    is_rocm_build=False,
    cuda_version="12.3",
    cudnn_version="8",
    cuda_compute_capabilities=["sm_60", "sm_70", "sm_80", "sm_89", "compute_90"],
)


def machine(**kw: Any) -> Machine:
    kw.setdefault("host", LINUX)
    kw.setdefault("driver", DriverInfo(version="550.54.15", cuda_version="12.4", nvml_ok=True))
    return Machine(source="live", **kw)


def findings(m: Machine, subject: str) -> list[Finding]:
    return [f for f in check_software(m, load_knowledge()) if f.subject == subject]


def codes(m: Machine, subject: str) -> list[str]:
    return [f.code for f in findings(m, subject)]


# ---------------------------------------------------------------- TensorFlow


def test_tf_cpu_build_on_an_nvidia_machine() -> None:
    (f,) = findings(machine(gpus=[RTX_3090], tensorflow=TF_CPU), "tensorflow")
    assert f.code == "torch-cpu-only" and f.severity == "error" and "TensorFlow" in f.title
    assert f.fix == 'pip uninstall -y tensorflow-cpu && pip install "tensorflow[and-cuda]==2.21.0"'


def test_tf_cpu_build_without_a_gpu_is_fine() -> None:
    assert codes(machine(gpus=[], driver=DriverInfo(nvml_ok=False), tensorflow=TF_CPU), "tensorflow") == []


def test_tf_cuda_build_that_sees_its_gpu_is_healthy() -> None:
    tf = TF_216.model_copy(
        update={"gpus": [FrameworkDevice(index=0, platform="gpu", compute_capability="8.6")]}
    )
    assert codes(machine(gpus=[RTX_3090], tensorflow=tf), "tensorflow") == []


def test_tf_cuda_12_with_a_cuda_11_driver() -> None:
    old = DriverInfo(version="470.82.01", cuda_version="11.4", nvml_ok=True)
    (f,) = findings(
        machine(gpus=[RTX_3090], driver=old, tensorflow=TF_216.model_copy(update={"gpus": []})), "tensorflow"
    )
    assert f.code == "driver-too-old" and "525.60.13" in f.detail
    # The newest TensorFlow whose CUDA (11.8) driver 470 runs through minor-version compatibility.
    assert 'pip install "tensorflow[and-cuda]==2.14.1"' in (f.fix or "")


def test_tf_build_without_kernels_for_the_gpu() -> None:
    m = machine(
        gpus=[K80],
        driver=DriverInfo(version="470.82.01", cuda_version="11.4"),
        tensorflow=TF_216.model_copy(update={"cuda_version": "11.8", "gpus": []}),
    )
    assert "arch-not-in-build" in codes(m, "tensorflow")
    fine = machine(gpus=[RTX_3090], tensorflow=TF_216.model_copy(update={"gpus": []}))
    assert "arch-not-in-build" not in codes(fine, "tensorflow")


def test_tf_import_error_and_absent_tf() -> None:
    broken = TensorflowInfo(
        installed=True, import_error="ImportError: libcudart.so.12: cannot open shared object file"
    )
    (f,) = findings(machine(gpus=[RTX_3090], tensorflow=broken), "tensorflow")
    assert f.code == "torch-not-installed" and f.severity == "warning" and "libcudart.so.12" in f.detail
    assert codes(machine(gpus=[RTX_3090], tensorflow=TensorflowInfo(installed=False)), "tensorflow") == []


def test_tf_on_native_windows_after_2_10_versus_wsl() -> None:
    windows = HostInfo(os="Windows", machine_arch="AMD64")
    tf = TensorflowInfo(installed=True, version="2.15.0", package="tensorflow", gpus=[])
    (f,) = findings(machine(host=windows, gpus=[RTX_3090], tensorflow=tf), "tensorflow")
    assert f.code == "torch-cpu-only" and "WSL2" in (f.fix or "")
    wsl = HostInfo(os="Linux", machine_arch="x86_64", is_wsl=True)
    ok = tf.model_copy(update={"is_cuda_build": True, "gpus": [FrameworkDevice(index=0, platform="gpu")]})
    assert codes(machine(host=wsl, gpus=[RTX_3090], tensorflow=ok), "tensorflow") == []
    tf210 = TensorflowInfo(
        installed=True, version="2.10.1", is_cuda_build=True, gpus=[FrameworkDevice(index=0)]
    )
    assert codes(machine(host=windows, gpus=[RTX_3090], tensorflow=tf210), "tensorflow") == []


# ---------------------------------------------------------------- JAX


def jax(**kw: Any) -> JaxInfo:
    base: dict[str, Any] = {"installed": True, "version": "0.10.2", "jaxlib_version": "0.10.2"}
    return JaxInfo(**{**base, **kw})


CUDA12 = {"jax-cuda12-plugin": "0.10.2", "jax-cuda12-pjrt": "0.10.2"}
ON_GPU = [FrameworkDevice(index=0, platform="gpu", name="NVIDIA GeForce RTX 3090", compute_capability="8.6")]


def test_jax_with_a_working_cuda_plugin_is_healthy() -> None:
    assert (
        codes(machine(gpus=[RTX_3090], jax=jax(plugins=CUDA12, backend="gpu", devices=ON_GPU)), "jax") == []
    )


def test_jax_cpu_only_on_an_nvidia_machine_and_not_without_one() -> None:
    cpu = jax(plugins={}, backend="cpu", devices=[FrameworkDevice(index=0, platform="cpu")])
    (f,) = findings(machine(gpus=[RTX_3090], jax=cpu), "jax")
    # Driver 550 is below CUDA 13's 580 floor: the CUDA 12 wheels are the ones that run here.
    assert f.code == "torch-cpu-only" and f.fix == 'pip install -U "jax[cuda12]"'
    assert codes(machine(gpus=[], driver=DriverInfo(nvml_ok=False), jax=cpu), "jax") == []


def test_jax_plugin_of_another_release() -> None:
    m = machine(
        gpus=[RTX_3090],
        jax=jax(
            jaxlib_version="0.4.35", plugins={"jax-cuda12-plugin": "0.4.38", "jax-cuda12-pjrt": "0.4.38"}
        ),
    )
    (f,) = findings(m, "jax")
    assert f.code == "jaxlib-plugin-mismatch"
    assert (f.fix or "").startswith('pip install "jax-cuda12-pjrt==0.4.35" "jax-cuda12-plugin==0.4.35"')
    # A dev suffix on the same release is the same release for jaxlib's check; ROCm plugins are not checked.
    dev = jax(jaxlib_version="0.4.38", plugins={"jax-cuda12-plugin": "0.4.38.dev20260317"}, devices=ON_GPU)
    assert codes(machine(gpus=[RTX_3090], jax=dev), "jax") == []
    rocm = jax(plugins={"jax-rocm7-plugin": "0.10.1"}, devices=ON_GPU)
    assert codes(machine(gpus=[RTX_3090], jax=rocm), "jax") == []


def test_jax_cuda13_plugin_with_a_r550_driver() -> None:
    cuda13 = {"jax-cuda13-plugin": "0.10.2", "jax-cuda13-pjrt": "0.10.2"}
    m = machine(
        gpus=[RTX_3090],
        jax=jax(plugins=cuda13, backend="cpu", devices=[FrameworkDevice(index=0, platform="cpu")]),
    )
    (f,) = findings(m, "jax")
    assert f.code == "driver-too-old" and "580.65.06" in f.detail and "jax[cuda12]" in (f.fix or "")
    new = DriverInfo(version="580.82.07", cuda_version="13.0")
    assert codes(machine(gpus=[RTX_3090], driver=new, jax=jax(plugins=cuda13, devices=ON_GPU)), "jax") == []


def test_jax_cudnn_older_than_its_build() -> None:
    said = (
        "CUDA backend failed to initialize: Found cuDNN version 8600, but JAX was built against "
        "version 8906, "
        "which is newer."
    )
    (f,) = findings(
        machine(
            gpus=[RTX_3090],
            jax=jax(jaxlib_version="0.4.25", plugins={"jax-cuda12-plugin": "0.4.25"}, messages=[said]),
        ),
        "jax",
    )
    assert f.code == "cudnn-version-mismatch" and "8.6.0" in f.title and "8.9.6" in f.title


def test_jax_install_hint_keeps_pascal_on_cuda12_even_with_a_new_driver() -> None:
    new = DriverInfo(version="580.82.07", cuda_version="13.0")
    cpu = jax(plugins={}, backend="cpu", devices=[FrameworkDevice(index=0, platform="cpu")])
    (f,) = findings(machine(gpus=[GTX_1080], driver=new, jax=cpu), "jax")
    assert f.fix == 'pip install -U "jax[cuda12]"'  # CUDA 13 dropped Pascal (nvcc_targets)
    (g,) = findings(machine(gpus=[RTX_3090], driver=new, jax=cpu), "jax")
    assert g.fix == 'pip install -U "jax[cuda13]"'


def test_jax_on_native_windows() -> None:
    windows = HostInfo(os="Windows", machine_arch="AMD64")
    cpu = jax(plugins={}, backend="cpu", devices=[FrameworkDevice(index=0, platform="cpu")])
    (f,) = findings(machine(host=windows, gpus=[RTX_3090], jax=cpu), "jax")
    assert f.code == "torch-cpu-only" and "WSL2" in (f.fix or "")


# ---------------------------------------------------------------- --require gates


def unmet(m: Machine, *exprs: str) -> list[str]:
    from advisor.rules.require import check_requirements

    return [
        f.title.removeprefix("Requirement not met: ")
        for f in check_requirements(m, load_knowledge(), list(exprs))
    ]


def test_require_framework_versions_and_gpu_gates() -> None:
    on_gpu = machine(
        gpus=[RTX_3090],
        tensorflow=TF_216.model_copy(update={"gpus": [FrameworkDevice(index=0, platform="gpu")]}),
        jax=jax(plugins=CUDA12, backend="gpu", devices=ON_GPU),
    )
    assert unmet(on_gpu, "tensorflow>=2.16", "tf>=2.16.1", "jax>=0.4.30", "tf-gpu", "jax-gpu") == []
    assert unmet(on_gpu, "tensorflow>=2.17", "jax<0.10") == ["tensorflow>=2.17", "jax<0.10"]
    cpu = machine(
        gpus=[], tensorflow=TF_CPU, jax=jax(plugins={}, devices=[FrameworkDevice(index=0, platform="cpu")])
    )
    assert unmet(cpu, "tf-gpu", "jax-gpu", "tensorflow>=2.16") == ["tf-gpu", "jax-gpu"]
    # Unknown is unmet: a dump that never mentions the frameworks cannot pass a framework gate.
    assert unmet(machine(gpus=[RTX_3090]), "jax-gpu", "tensorflow>=2.0") == ["jax-gpu", "tensorflow>=2.0"]


def test_require_rejects_a_bare_framework_version_key() -> None:
    import pytest

    from advisor.errors import InputError
    from advisor.rules.require import parse_requirement

    with pytest.raises(InputError, match="needs a comparison"):
        parse_requirement("tensorflow")
    assert parse_requirement("TF-GPU").key == "tf-gpu" and parse_requirement("jax >= 0.4.30").key == "jax"


def test_tf_known_only_from_a_package_list_warns_instead() -> None:
    # A torch collect_env listing "[pip3] tensorflow==2.15.0" on Windows: true, maybe not what the work uses.
    windows = HostInfo(os="Windows", machine_arch="AMD64")
    listed = TensorflowInfo(installed=True, version="2.15.0", package="tensorflow")
    (f,) = findings(machine(host=windows, gpus=[RTX_3090], tensorflow=listed), "tensorflow")
    assert f.code == "torch-cpu-only" and f.severity == "warning" and "package list" in f.detail


def test_jax_cuda_plugin_that_lists_no_gpu() -> None:
    cpu_only = [FrameworkDevice(index=0, platform="cpu")]
    (f,) = findings(machine(gpus=[RTX_3090], jax=jax(plugins=CUDA12, backend="cpu", devices=cpu_only)), "jax")
    assert f.code == "torch-not-installed" and f.severity == "warning" and "lists no GPU" in f.title
    # Without an NVIDIA GPU the CPU is all there is to list.
    assert (
        codes(
            machine(gpus=[], driver=DriverInfo(nvml_ok=False), jax=jax(plugins=CUDA12, devices=cpu_only)),
            "jax",
        )
        == []
    )


def test_jax_cuda13_plugin_on_a_pascal_gpu() -> None:
    new = DriverInfo(version="580.82.07", cuda_version="13.0")
    cuda13 = {"jax-cuda13-plugin": "0.10.2", "jax-cuda13-pjrt": "0.10.2"}
    cpu_only = [FrameworkDevice(index=0, platform="cpu")]
    out = findings(machine(gpus=[GTX_1080], driver=new, jax=jax(plugins=cuda13, devices=cpu_only)), "jax")
    (f,) = [x for x in out if x.code == "arch-not-in-build"]
    assert (
        f.gpu == 0
        and f.fix == 'pip uninstall -y jax-cuda13-plugin jax-cuda13-pjrt && pip install -U "jax[cuda12]"'
    )
    assert "arch-not-in-build" not in codes(
        machine(gpus=[RTX_3090], driver=new, jax=jax(plugins=cuda13, devices=cpu_only)), "jax"
    )


def test_report_diff_names_framework_changes() -> None:
    from advisor.diagnose import build_report
    from advisor.reports.diff import diff_reports

    k = load_knowledge()
    before = build_report(machine(gpus=[RTX_3090], tensorflow=TF_CPU, jax=jax(plugins={})), k)
    after = build_report(
        machine(gpus=[RTX_3090], tensorflow=TF_216, jax=jax(plugins=CUDA12, backend="gpu")), k
    )
    changes = {(c.subject, c.what): (c.before, c.after) for c in diff_reports(before, after).changes}
    assert changes[("tensorflow", "version")] == ("2.21.0", "2.16.1")
    assert changes[("tensorflow", "CUDA build")] == ("False", "True")
    assert changes[("jax", "plugins")] == ("none", "jax-cuda12-pjrt 0.10.2, jax-cuda12-plugin 0.10.2")


def test_tf_install_hint_on_jetson_points_at_jetpack() -> None:
    jetson = HostInfo(os="Linux", machine_arch="aarch64", jetson=True)
    orin = GPU(index=0, name="Orin", compute_capability="8.7")
    (f,) = findings(machine(host=jetson, gpus=[orin], tensorflow=TF_CPU), "tensorflow")
    assert f.code == "torch-cpu-only" and "JetPack" in (f.fix or "")


def test_an_empty_cuda_visible_devices_is_left_to_its_own_finding() -> None:
    hidden = LINUX.model_copy(update={"cuda_visible_devices": ""})
    tf = TF_216.model_copy(update={"gpus": []})
    out = check_software(machine(host=hidden, gpus=[RTX_3090], tensorflow=tf), load_knowledge())
    assert "cuda-visible-devices-hides-gpu" in {f.code for f in out}
    assert not [f for f in out if f.subject == "tensorflow"]
    shown = machine(gpus=[RTX_3090], tensorflow=tf)
    assert codes(shown, "tensorflow") == ["torch-not-installed"]
