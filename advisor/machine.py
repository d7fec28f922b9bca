"""Machine: plain, serialisable facts about one machine, as seen by the live probe or read from a dump.

Every field the source could not read is ``None`` (unknown), never a guess. Units are in field names.
Rules cannot tell a live probe from a dump: both produce this record.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ThrottleReason = Literal[
    "gpu_idle",
    "applications_clocks_setting",
    "sw_power_cap",
    "hw_slowdown",
    "sync_boost",
    "sw_thermal_slowdown",
    "hw_thermal_slowdown",
    "hw_power_brake_slowdown",
    "display_clock_setting",
]

# The SIMD extensions worth reporting in HostInfo.cpu_flags: they decide which CPU kernels a framework can use
# (x86 /proc/cpuinfo flags and aarch64 Features).
SIMD_FLAGS = (
    "sse4_2",
    "avx",
    "avx2",
    "fma",
    "avx512f",
    "avx512_bf16",
    "avx512_fp16",
    "amx_bf16",
    "amx_tile",
    "asimd",
    "sve",
    "bf16",
)


class _Record(BaseModel):
    # defer_build: a validator is built on first use, so a command that never builds one of these
    # records (`advisor recommend` never builds a Machine) does not pay for it at start-up.
    # NaN/Infinity are written as the strings "NaN"/"Infinity" (not null), so advisor reads its output back.
    model_config = ConfigDict(extra="forbid", defer_build=True, ser_json_inf_nan="strings")


class GPUProcess(_Record):
    pid: int | None = None
    name: str | None = None
    used_memory_bytes: int | None = None
    kind: Literal["compute", "graphics", "unknown"] = "unknown"


class MigInstance(_Record):
    gpu_instance_id: int | None = None
    compute_instance_id: int | None = None
    profile: str | None = None  # e.g. "3g.20gb"
    memory_total_bytes: int | None = None


class GPU(_Record):
    """One GPU. ``index`` is the NVML / nvidia-smi / torch ordinal as the source gave it."""

    index: int
    name: str | None = None
    vendor: Literal["nvidia", "amd", "unknown"] = "nvidia"
    uuid: str | None = None
    serial: str | None = None
    pci_bus_id: str | None = None  # "00000000:3B:00.0"
    pci_device_id: int | None = None  # 16-bit PCI device id, e.g. 0x2204 (NVML's pciDeviceId >> 16)
    pci_subsystem_id: int | None = None  # 32-bit subsystem id as NVML reports it
    architecture: str | None = None  # as the source named it ("Ampere"); the catalog's is authoritative
    compute_capability: str | None = None  # "8.6"
    memory_total_bytes: int | None = None
    memory_used_bytes: int | None = None
    memory_free_bytes: int | None = None
    sm_clock_mhz: int | None = None
    sm_clock_max_mhz: int | None = None
    memory_clock_mhz: int | None = None
    memory_clock_max_mhz: int | None = None
    power_draw_watts: float | None = None
    power_limit_watts: float | None = None  # the enforced limit
    power_default_limit_watts: float | None = None
    power_max_limit_watts: float | None = None
    temperature_c: float | None = None
    temperature_slowdown_c: float | None = None  # "GPU Slowdown Temp": clocks drop at or above it
    temperature_shutdown_c: float | None = None  # "GPU Shutdown Temp"
    temperature_max_operating_c: float | None = None  # "GPU Max Operating Temp" (target for sustained load)
    utilization_gpu_percent: float | None = None
    performance_state: str | None = None  # "P0".."P12"
    pcie_gen_current: int | None = None
    pcie_gen_max: int | None = None  # the max of GPU and slot, as NVML reports it
    pcie_width_current: int | None = None
    pcie_width_max: int | None = None
    ecc_enabled: bool | None = None  # None: unknown or not supported (GeForce)
    ecc_uncorrected_volatile: int | None = None
    ecc_corrected_volatile: int | None = None
    ecc_uncorrected_aggregate: int | None = None
    ecc_corrected_aggregate: int | None = None
    retired_pages_sbe: int | None = None
    retired_pages_dbe: int | None = None
    retired_pages_pending: bool | None = None
    remapped_rows_correctable: int | None = None
    remapped_rows_uncorrectable: int | None = None
    remapped_rows_pending: bool | None = None
    remapped_rows_failure: bool | None = None
    throttle_reasons: list[ThrottleReason] | None = None  # the *active* reasons; [] = none active
    mig_enabled: bool | None = None
    mig_pending: bool | None = None
    mig_instances: list[MigInstance] | None = None
    persistence_mode: bool | None = None
    compute_mode: str | None = None  # "Default", "Exclusive_Process", "Prohibited"
    processes: list[GPUProcess] | None = None  # None: unknown; [] = none running
    lost: bool = False  # NVML says the GPU fell off the bus / is inaccessible
    error: str | None = None  # why this GPU is a placeholder or partly unread


class PciDevice(_Record):
    """An NVIDIA display/3D controller seen on the PCI bus (read when no driver answers)."""

    address: str  # "0000:3b:00.0"
    vendor_id: int
    device_id: int | None = None  # None: a plain `lspci` line that named the vendor but not the id
    class_code: int | None = None
    driver: str | None = None  # the kernel driver bound to it, if any ("nvidia", "nouveau", "vfio-pci")


class DriverRefusal(_Record):
    """The kernel driver saw an NVIDIA GPU and would not drive it (NVRM lines of a kernel log)."""

    message: str  # verbatim, the NVRM lines joined
    name: str | None = None  # "NVIDIA GeForce GTX 680"
    pci_bus_id: str | None = None
    pci_device_id: int | None = None
    legacy_branch: str | None = None  # "470" from "supported through the NVIDIA 470.xx Legacy drivers"
    driver_version: str | None = None  # "535.54.03" from "The 535.54.03 NVIDIA driver will ignore this GPU"
    reason: Literal["legacy", "open-module-unsupported", "other"] = "legacy"


class DriverInfo(_Record):
    version: str | None = None  # "550.54.15"
    cuda_version: str | None = None  # the highest CUDA the driver supports, "12.4"
    nvml_ok: bool | None = None  # None: not probed (a dump without nvidia-smi)
    nvml_error: str | None = None  # exact text, e.g. "Driver/library version mismatch"
    library_version: str | None = None  # NVML user-space library version when it is known to differ
    kernel_module_version: str | None = None  # /proc/driver/nvidia/version
    pci_devices: list[PciDevice] | None = None  # NVIDIA devices on the bus (None: not read)
    refused_gpus: list[DriverRefusal] | None = None  # None: no kernel log seen; []: a log without refusals


class TorchDevice(_Record):
    """A device as torch sees it (names and capabilities from torch.cuda / collect_env)."""

    index: int
    name: str | None = None
    compute_capability: str | None = None
    memory_total_bytes: int | None = None


class TorchInfo(_Record):
    installed: bool | None = None  # None: the source does not say
    version: str | None = None  # "2.1.0+cu121"
    cuda_version: str | None = None  # torch.version.cuda; None for CPU/ROCm builds
    hip_version: str | None = None  # torch.version.hip for ROCm builds
    cudnn_version: str | None = None  # "8.9.2"
    debug_build: bool | None = None
    built_with_cuda: bool | None = None  # torch.backends.cuda.is_built()
    arch_list: list[str] | None = None  # torch.cuda.get_arch_list(): ["sm_80", "compute_90"]
    cuda_available: bool | None = None
    device_count: int | None = None
    devices: list[TorchDevice] | None = None
    import_error: str | None = None  # exact message when `import torch` raised
    init_messages: list[str] = Field(default_factory=list)  # CUDA-init warnings/errors, verbatim
    timed_out: bool = False  # the torch child process did not answer in time


class FrameworkDevice(_Record):
    """A device as TensorFlow or JAX lists it (``/physical_device:GPU:0``, ``CudaDevice(id=0)``)."""

    index: int
    platform: str | None = None  # "gpu", "cuda", "rocm", "cpu", "tpu"
    name: str | None = None  # the device kind when the framework gives one ("NVIDIA A100-SXM4-80GB")
    compute_capability: str | None = None


class TensorflowInfo(_Record):
    """The installed TensorFlow as its child probe or a pasted log saw it; None: the source does not say."""

    installed: bool | None = None
    version: str | None = None  # tf.__version__, "2.16.1"
    package: str | None = (
        None  # the distribution: "tensorflow", "tensorflow-cpu", "tensorflow-gpu", "tf-nightly"
    )
    is_cuda_build: bool | None = None  # tf.sysconfig.get_build_info()
    is_rocm_build: bool | None = None
    cuda_version: str | None = None  # the CUDA the build was compiled with, "12.3"
    cudnn_version: str | None = None  # the cuDNN the build was compiled with, "8" or "8.9"
    cuda_compute_capabilities: list[str] | None = None  # build_info's list: ["sm_60", "compute_80"]
    gpus: list[FrameworkDevice] | None = None  # tf.config.list_physical_devices('GPU'); [] = none seen
    nvidia_wheels: dict[str, str] | None = None  # the tensorflow[and-cuda] nvidia-* wheels present
    cudnn_loaded: str | None = None  # "Loaded runtime CuDNN library: X but source was compiled with: Y"
    cudnn_compiled: str | None = None
    missing_libraries: list[str] | None = None  # "Could not load dynamic library 'libcudart.so.11.0'"
    import_error: str | None = None  # exact message when `import tensorflow` raised
    messages: list[str] = Field(default_factory=list)  # TF/XLA CUDA log lines, verbatim
    timed_out: bool = False


class JaxInfo(_Record):
    """The installed JAX as its child probe or a pasted log saw it; None: the source does not say."""

    installed: bool | None = None
    version: str | None = None  # jax.__version__
    jaxlib_version: str | None = None
    plugins: dict[str, str] | None = None  # {"jax-cuda12-plugin": "0.4.30", "jax-cuda12-pjrt": "0.4.30"}
    backend: str | None = None  # jax.default_backend(): "cpu", "gpu", "tpu"
    devices: list[FrameworkDevice] | None = None  # jax.devices()
    import_error: str | None = None
    messages: list[str] = Field(default_factory=list)  # plugin / backend initialisation errors, verbatim
    timed_out: bool = False


class HostInfo(_Record):
    hostname: str | None = None
    os: str | None = None  # "Linux", "Windows", "Darwin"
    os_release: str | None = None  # "Ubuntu 22.04.3 LTS"
    kernel: str | None = None
    machine_arch: str | None = None  # "x86_64", "aarch64"
    is_wsl: bool | None = None
    container: str | None = None  # "docker", "podman", "kubernetes", ... ; None: not in one / unknown
    cpu_model: str | None = None
    cpu_cores: int | None = None  # physical
    cpu_threads: int | None = None  # logical
    cpu_max_mhz: float | None = None
    cpu_flags: list[str] | None = None  # the SIMD-relevant ones (avx2, avx512f, amx_bf16, ...)
    memory_total_bytes: int | None = None
    python_version: str | None = None
    cuda_visible_devices: str | None = None  # None: unset; "" means set to empty
    system_cuda_version: str | None = None  # nvcc / "CUDA runtime version" in collect_env (not torch's)
    jetson: bool | None = None  # Tegra / JetPack
    accelerators: list[str] | None = (
        None  # non-NVIDIA accelerators seen ("Apple MPS", "AMD ROCm", "Intel XPU")
    )


class Evidence(_Record):
    """One recognised message line (kernel log, traceback, CUDA/NVML error), from catalog/evidence/."""

    id: str  # the catalogue entry, e.g. "xid-79", "cuda-error-35-insufficient-driver"
    code: str | None = None  # the finding code it is evidence for (None: informative only)
    text: str  # the line as pasted (joined when the message wraps), at most 300 characters
    line: int | None = None  # 0-based line in the paste
    xid: int | None = None
    pci_bus_id: str | None = None
    facts: dict[str, str] = Field(default_factory=dict)  # what the line says (gpu_name, legacy_branch, ...)


class SchedulerInfo(_Record):
    """The job scheduler or cluster engine this check ran under, from its environment variables."""

    kind: Literal["slurm", "kubernetes", "ray"]
    job_id: str | None = None  # SLURM_JOB_ID; the pod name on Kubernetes
    node_name: str | None = None  # SLURMD_NODENAME; NODE_NAME (downward API) on Kubernetes; the Ray node IP
    rank: int | None = None  # SLURM_PROCID
    ray_node_id: str | None = None


class Machine(_Record):
    """Everything one source saw. ``source`` is ``live`` or the dump kinds that were merged."""

    source: str = "live"
    host: HostInfo = Field(default_factory=HostInfo)
    driver: DriverInfo = Field(default_factory=DriverInfo)
    gpus: list[GPU] = Field(default_factory=list)
    gpus_known: bool = True  # False when the source says nothing about GPUs (a cut-off dump)
    torch: TorchInfo = Field(default_factory=TorchInfo)
    tensorflow: TensorflowInfo = Field(default_factory=TensorflowInfo)
    jax: JaxInfo = Field(default_factory=JaxInfo)
    missing: list[str] = Field(default_factory=list)  # what the source lacked, in words ("torch section")
    probe_timeouts: list[str] = Field(default_factory=list)  # sources that hung ("nvml", "torch")
    evidence: list[Evidence] = Field(default_factory=list)  # recognised messages, in paste order
    packages: dict[str, str] | None = None  # Python packages seen (pip/conda lists): name → version
    notes: list[str] = Field(default_factory=list)  # what a dump parser assumed, in words
    scheduler: SchedulerInfo | None = None  # Slurm job / Kubernetes pod / Ray node this check ran in
