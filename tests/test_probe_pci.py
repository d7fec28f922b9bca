"""The PCI-bus fallback and the kernel module version, on fake sysfs/procfs trees."""

from __future__ import annotations

from pathlib import Path

from advisor.probe.pci import parse_kernel_module_version, read_kernel_module_version, read_nvidia_pci_devices


def _device(sys_root: Path, address: str, vendor: str, device: str, cls: str, driver: str | None) -> None:
    entry = sys_root / "bus" / "pci" / "devices" / address
    entry.mkdir(parents=True)
    (entry / "vendor").write_text(vendor + "\n", encoding="ascii")
    (entry / "device").write_text(device + "\n", encoding="ascii")
    (entry / "class").write_text(cls + "\n", encoding="ascii")
    if driver:
        (entry / "driver").symlink_to(f"../../../../bus/pci/drivers/{driver}")


def test_nvidia_gpus_without_driver_told_apart_from_other_devices(tmp_path: Path) -> None:
    _device(tmp_path, "0000:00:02.0", "0x8086", "0x9bc4", "0x030000", "i915")  # Intel iGPU
    _device(tmp_path, "0000:3b:00.0", "0x10de", "0x2204", "0x030000", None)  # RTX 3090, no driver bound
    _device(tmp_path, "0000:3b:00.1", "0x10de", "0x1aef", "0x040300", "snd_hda_intel")  # its HDMI audio
    _device(tmp_path, "0000:5e:00.0", "0x10de", "0x20b0", "0x030200", "nouveau")  # A100 (3D controller)

    devices = read_nvidia_pci_devices(tmp_path)

    assert devices is not None
    assert [(d.address, d.device_id, d.driver) for d in devices] == [
        ("0000:3b:00.0", 0x2204, None),
        ("0000:5e:00.0", 0x20B0, "nouveau"),
    ]
    assert devices[0].vendor_id == 0x10DE
    assert devices[1].class_code == 0x030200


def test_no_nvidia_device_is_an_empty_list(tmp_path: Path) -> None:
    _device(tmp_path, "0000:00:02.0", "0x8086", "0x9bc4", "0x030000", "i915")
    assert read_nvidia_pci_devices(tmp_path) == []


def test_unreadable_bus_is_unknown(tmp_path: Path) -> None:
    assert read_nvidia_pci_devices(tmp_path / "missing") is None


def test_kernel_module_versions() -> None:
    proprietary = "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.15  Tue Mar  5 22:23:56 UTC 2024\n"
    proprietary += "GCC version:  gcc version 12.3.0 (Ubuntu 12.3.0-1ubuntu1~22.04)\n"
    open_modules = "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  570.124.06  Release Build  (dvs-builder@U16-I3-B03-4-3)  Wed Feb 26 01:54:30 UTC 2025\n"  # noqa: E501
    jetson = "NVRM version: NVIDIA UNIX Open Kernel Module for aarch64  540.4.0  Release Build  (buildbrain@mobile-u64-6519-d8000)  Tue Jan  7 17:35:12 PST 2025\n"  # noqa: E501
    assert parse_kernel_module_version(proprietary) == "550.54.15"
    assert parse_kernel_module_version(open_modules) == "570.124.06"
    assert parse_kernel_module_version(jetson) == "540.4.0"
    assert parse_kernel_module_version("") is None


def test_kernel_module_version_file(tmp_path: Path) -> None:
    assert read_kernel_module_version(tmp_path) is None
    (tmp_path / "driver" / "nvidia").mkdir(parents=True)
    (tmp_path / "driver" / "nvidia" / "version").write_text(
        "NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.104.12  Wed Aug 30 18:29:46 UTC 2023\n",
        encoding="utf-8",
    )
    assert read_kernel_module_version(tmp_path) == "535.104.12"
