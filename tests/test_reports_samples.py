"""Sample Reports for the render and reports tests, built by hand from facts in the real fixtures.

Values are copied from tests/data/nvidia-smi/qx-2x-rtx-a5000-driver590.xml and
tests/data/dumps/42-v100-sxm3-dbe-retired-pages-pending-xml/input.txt; the tests at the bottom check that the
copied facts really are in those files, so the samples cannot drift into invention.
"""

from __future__ import annotations

from advisor.machine import GPU, DriverInfo, GPUProcess, HostInfo, Machine, TorchInfo
from advisor.report import BenchResult, Finding, Recommendation, Report
from tests.conftest import DUMPS, SMI

MIB = 2**20
A5000_XML = SMI / "qx-2x-rtx-a5000-driver590.xml"
V100_XML = DUMPS / "42-v100-sxm3-dbe-retired-pages-pending-xml" / "input.txt"


def a5000_gpu(index: int) -> GPU:
    """One of the two RTX A5000s of the qx-2x-rtx-a5000-driver590 capture (idle, P8, Gen1 at idle)."""
    per_gpu = [
        ("0123456789012", "GPU-12345678-aaaa-bbbb-cccc-0123456789ab", "00000000:81:00.0", 22437, 13.0, 6.52),
        ("1234567890123", "GPU-12345678-aaaa-bbbb-cccc-0123456789cd", "00000000:C1:00.0", 17253, 15.0, 13.59),
    ]
    serial, uuid, bus, used_mib, temp, power = per_gpu[index]
    return GPU(
        index=index,
        name="NVIDIA RTX A5000",
        uuid=uuid,
        serial=serial,
        pci_bus_id=bus,
        pci_device_id=0x2231,
        architecture="Ampere",
        compute_capability="8.6",
        memory_total_bytes=24564 * MIB,
        memory_used_bytes=used_mib * MIB,
        sm_clock_mhz=210,
        sm_clock_max_mhz=2100,
        power_draw_watts=power,
        power_limit_watts=230.0,
        power_default_limit_watts=230.0,
        power_max_limit_watts=230.0,
        temperature_c=temp,
        utilization_gpu_percent=0.0,
        performance_state="P8",
        pcie_gen_current=1,
        pcie_gen_max=4,
        pcie_width_current=16,
        pcie_width_max=16,
        ecc_enabled=False,
        remapped_rows_correctable=0,
        remapped_rows_uncorrectable=0,
        remapped_rows_pending=False,
        remapped_rows_failure=False,
        throttle_reasons=["gpu_idle"],
        persistence_mode=True,
        compute_mode="Default",
        processes=[GPUProcess(pid=100477, name="/root/src/llama.cpp/build/bin/llama-server", kind="compute")],
    )


def a5000_machine(hostname: str = "gpu-node-07") -> Machine:
    """The two-A5000 box; host and torch facts are not in the XML, so they are sample values."""
    return Machine(
        source="nvidia-smi-xml",
        host=HostInfo(hostname=hostname, os="Linux"),
        driver=DriverInfo(version="590.44.01", cuda_version="13.1", nvml_ok=True),
        gpus=[a5000_gpu(0), a5000_gpu(1)],
        torch=TorchInfo(installed=True, version="2.9.1+cu128", cuda_version="12.8", cuda_available=True),
    )


def v100_machine() -> Machine:
    """The DGX-2-class V100-SXM3 with double-bit ECC errors and a pending page retirement."""
    return Machine(
        source="nvidia-smi-xml",
        host=HostInfo(hostname="pai-worker-3"),
        driver=DriverInfo(version="410.104", nvml_ok=True),
        gpus=[
            GPU(
                index=0,
                name="Tesla V100-SXM3-32GB",
                uuid="GPU-ef23ffa6-c9fd-93d5-aeb8-612c087255ff",
                serial="0323218034307",
                compute_capability="7.0",
                ecc_enabled=True,
                ecc_uncorrected_volatile=1,
                ecc_corrected_volatile=1,
                ecc_uncorrected_aggregate=7627,
                retired_pages_sbe=0,
                retired_pages_dbe=2,
                retired_pages_pending=True,
                power_limit_watts=350.0,
                pcie_gen_current=3,
                pcie_width_current=16,
            )
        ],
        torch=TorchInfo(installed=None),
        missing=["torch section"],
    )


def matmul(device: int, dtype: str, value: float, peak: float | None) -> BenchResult:
    """A matmul result; the peaks used below are the RTX A5000's dense figures from its datasheet."""
    return BenchResult(
        device=device,
        test="matmul",
        dtype=dtype,  # type: ignore[arg-type]
        value=value,
        unit="TFLOP/s",
        peak=peak,
        efficiency=None if peak is None else value / peak,
        median=value,
        best=value * 1.02,
        spread=0.03,
        samples=10,
        shape=[8192, 8192, 8192],
        seconds=1.5,
    )


def a5000_report(
    hostname: str = "gpu-node-07", bf16: float = 42.0, created: str = "2026-01-05T10:20:30+00:00"
) -> Report:
    """A checked A5000 box with a quick bench, one info finding and recommendations."""
    bench = [
        matmul(0, "fp32", 24.1, 27.8),
        matmul(0, "bf16", bf16, 55.6),
        matmul(1, "fp32", 24.0, 27.8),
        matmul(1, "bf16", 43.0, 55.6),
        BenchResult(
            device=0, test="memory-bandwidth", value=690.0, unit="GB/s", peak=768.0, efficiency=690 / 768,
            median=690.0, best=700.0, spread=0.01, samples=10, seconds=0.8,
        ),
        BenchResult(
            device=0, test="launch-latency", value=4.1, unit="us", median=4.1, best=3.9, spread=0.05,
            samples=100, seconds=0.2,
        ),
    ]  # fmt: skip
    findings = [
        Finding(
            code="gpu-busy",
            severity="info",
            gpu=0,
            title="GPU 0 is in use by another process",
            detail="llama-server (pid 100477) holds 21.9 GiB of 24.0 GiB.",
            fix=None,
        )
    ]
    recs = [
        Recommendation(
            topic="precision", gpu=g, supported=True, value="bf16", reason="Ampere (CC 8.6) has bf16."
        )
        for g in (0, 1)
    ] + [
        Recommendation(topic="fp8", gpu=g, supported=False, value="no", reason="fp8 needs CC 8.9.")
        for g in (0, 1)
    ]
    return Report(
        advisor_version="0.1.0",
        created=created,
        source="live",
        machine=a5000_machine(hostname),
        benchmarks=bench,
        findings=findings,
        recommendations=recs,
    )


def v100_report() -> Report:
    """The V100 with the ECC error finding (exit 1)."""
    return Report(
        advisor_version="0.1.0",
        created="2019-08-27T08:00:00+00:00",
        source="nvidia-smi-xml",
        machine=v100_machine(),
        findings=[
            Finding(
                code="ecc-errors",
                severity="error",
                gpu=0,
                title="GPU 0 has uncorrectable ECC errors and a page retirement pending",
                detail="1 volatile double-bit error, 2 pages retired (double bit), retirement pending.",
                fix="Drain the node and reset the GPU (nvidia-smi -r -i 0) or reboot.",
            ),
            Finding(
                code="torch-not-installed",
                severity="info",
                title="torch: not in this dump",
                detail="The dump has no torch section.",
            ),
        ],
    )


HOSTILE = "<script>alert(1)</script> \"quoted\" 'single' & | pipe\nnew line [red]markup[/red] `tick` *star*"


def hostile_report() -> Report:
    """Machine-provided strings that try to break out of HTML, Markdown tables and rich markup."""
    report = a5000_report(hostname=f"host{HOSTILE}")
    gpu = report.machine.gpus[0].model_copy(update={"name": f"GPU {HOSTILE}"})
    machine = report.machine.model_copy(
        update={
            "gpus": [gpu, report.machine.gpus[1]],
            "driver": DriverInfo(version=f"590{HOSTILE}", cuda_version="13.1"),
            "torch": TorchInfo(installed=True, version=f"2.9{HOSTILE}"),
        }
    )
    finding = Finding(
        code="unknown-gpu", severity="warning", gpu=0, title=f"title {HOSTILE}", detail=f"detail {HOSTILE}",
        fix=f"fix {HOSTILE}",
    )  # fmt: skip
    rec = Recommendation(topic="install", value=f"pip install {HOSTILE}", reason=f"reason {HOSTILE}")
    return report.model_copy(
        update={"machine": machine, "findings": [finding], "recommendations": [*report.recommendations, rec]}
    )


def test_a5000_sample_facts_are_in_the_fixture() -> None:
    text = A5000_XML.read_text()
    for g in (a5000_gpu(0), a5000_gpu(1)):
        for fact in (g.serial, g.uuid, g.pci_bus_id, g.name):
            assert f">{fact}<" in text
        assert f"<used>{(g.memory_used_bytes or 0) // MIB} MiB</used>" in text
        assert f"<instant_power_draw>{g.power_draw_watts:.2f} W</instant_power_draw>" in text
    assert "<total>24564 MiB</total>" in text
    assert "<driver_version>590.44.01</driver_version>" in text


def test_v100_sample_facts_are_in_the_fixture() -> None:
    text = V100_XML.read_text()
    gpu = v100_machine().gpus[0]
    for fact in (gpu.serial, gpu.uuid, gpu.name):
        assert f">{fact}<" in text
    assert "<pending_retirement>Yes</pending_retirement>" in text
    assert "<retired_count>2</retired_count>" in text
