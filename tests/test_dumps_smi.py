"""nvidia-smi formats: every recorded -q / -q -x file, the table, and hostile XML."""

from __future__ import annotations

import pytest

from advisor.dumps import parse_dump
from advisor.errors import InputError
from advisor.machine import Machine
from tests.conftest import SMI

MiB = 2**20


def load(name: str) -> Machine:
    return parse_dump((SMI / name).read_text(errors="replace"))


@pytest.mark.parametrize(
    ("name", "source", "driver", "cuda", "count", "gpu_name"),
    [
        ("q-10x-a40-driver550.txt", "nvidia-smi-q", "550.127.05", "12.4", 10, "NVIDIA A40"),
        ("q-2x-h100-nvl-driver550.txt", "nvidia-smi-q", "550.54.14", "12.4", 2, "NVIDIA H100 NVL"),
        (
            "q-4x-a100-sxm4-80gb-driver555.txt",
            "nvidia-smi-q",
            "555.42.02",
            "12.5",
            4,
            "NVIDIA A100-SXM4-80GB",
        ),
        ("q-8x-h100-sxm-80gb-driver565.txt", "nvidia-smi-q", "565.57.01", "12.7", 8, "NVIDIA H100 80GB HBM3"),
        (
            "q-8x-rtx6000-ada-driver550.txt",
            "nvidia-smi-q",
            "550.127.05",
            "12.4",
            8,
            "NVIDIA RTX 6000 Ada Generation",
        ),
        ("qx-2x-rtx-2080-driver590.xml", "nvidia-smi-xml", "590.44.01", "13.1", 2, "NVIDIA GeForce RTX 2080"),
        ("qx-2x-rtx-a5000-driver590.xml", "nvidia-smi-xml", "590.44.01", "13.1", 2, "NVIDIA RTX A5000"),
        (
            "qx-a100-sxm4-80gb-mig-driver535.xml",
            "nvidia-smi-xml",
            "535.54.03",
            "12.2",
            1,
            "NVIDIA A100-SXM4-80GB",
        ),
        (
            "qx-rtx-pro-6000-blackwell-maxq-driver590.xml",
            "nvidia-smi-xml",
            "590.44.01",
            "13.1",
            1,
            "NVIDIA RTX PRO 6000 Blackwell Max-Q Workstation Edition",
        ),
        ("qx-tesla-t4-driver515.xml", "nvidia-smi-xml", "515.105.01", "11.7", 1, "Tesla T4"),
    ],
)
def test_recorded_outputs(name: str, source: str, driver: str, cuda: str, count: int, gpu_name: str) -> None:
    m = load(name)
    assert m.source == source
    assert (m.driver.version, m.driver.cuda_version, m.driver.nvml_ok) == (driver, cuda, True)
    assert len(m.gpus) == count and all(g.name == gpu_name for g in m.gpus)
    assert [g.index for g in m.gpus] == list(range(count))
    assert len({g.pci_bus_id for g in m.gpus}) == count  # the 2080 file repeats one placeholder UUID
    assert m.torch.installed is None and "torch section" in m.missing


def test_a40_first_gpu() -> None:
    g = load("q-10x-a40-driver550.txt").gpus[0]
    assert g.pci_bus_id == "00000000:4F:00.0" and g.performance_state == "P8"
    assert g.power_draw_watts == 29.7 and g.power_limit_watts == 300
    assert g.ecc_enabled is True and g.remapped_rows_uncorrectable == 0 and g.remapped_rows_pending is False
    assert g.mig_enabled is None  # "Current : N/A"


def test_h100_nvl_first_gpu() -> None:
    g = load("q-2x-h100-nvl-driver550.txt").gpus[0]
    assert g.pci_bus_id == "00000000:AD:00.0" and g.performance_state == "P0"
    assert g.power_draw_watts == 61.62 and g.power_limit_watts == 310
    assert g.mig_enabled is False and g.ecc_enabled is True


def test_a100_one_gpu_with_pending_remap() -> None:
    m = load("q-4x-a100-sxm4-80gb-driver555.txt")
    pending = [g.pci_bus_id for g in m.gpus if g.remapped_rows_pending]
    assert pending == ["00000000:9E:00.0"]  # SOURCES.md: one A100 shows "Pending : Yes"
    g1 = m.gpus[1]
    assert (g1.remapped_rows_correctable, g1.remapped_rows_uncorrectable) == (1, 0)
    assert m.gpus[0].power_draw_watts == 59.77 and m.gpus[0].power_limit_watts == 500


def test_h100_sxm_reads_gpu_power_not_memory_power() -> None:
    g = load("q-8x-h100-sxm-80gb-driver565.txt").gpus[0]
    assert g.power_draw_watts == 100.89  # "GPU Memory Power Readings" shows 69.61 W below it
    assert g.power_limit_watts == 700
    assert g.pci_device_id == 0x2330 and g.pci_bus_id == "00000000:18:00.0"
    assert (g.pcie_gen_current, g.pcie_gen_max, g.pcie_width_max) == (5, 5, 16)
    assert g.memory_total_bytes == 81559 * MiB and g.temperature_c == 30
    assert g.throttle_reasons == ["gpu_idle"]


def test_rtx6000_ada_first_gpu() -> None:
    g = load("q-8x-rtx6000-ada-driver550.txt").gpus[0]
    assert g.pci_bus_id == "00000000:01:00.0" and g.performance_state == "P8"
    assert g.power_draw_watts == 23.83 and g.power_limit_watts == 300
    assert g.ecc_enabled is False


def test_v13_xml_instant_power_and_processes() -> None:
    g = load("qx-rtx-pro-6000-blackwell-maxq-driver590.xml").gpus[0]
    assert (
        g.power_draw_watts == 3.99 and g.power_limit_watts == 300
    )  # instant_power_draw / current_power_limit
    assert g.pci_device_id == 0x2BB4 and g.architecture == "Blackwell"
    assert (g.pcie_gen_current, g.pcie_gen_max) == (1, 4)
    assert g.ecc_enabled is False and g.mig_enabled is None and g.mig_instances == []
    assert g.processes is not None
    assert [(p.pid, p.kind, p.used_memory_bytes) for p in g.processes] == [(116860, "compute", 65710 * MiB)]
    assert g.throttle_reasons == []


def test_v13_xml_two_gpus() -> None:
    m = load("qx-2x-rtx-a5000-driver590.xml")
    assert [g.pci_bus_id for g in m.gpus] == ["00000000:81:00.0", "00000000:C1:00.0"]
    assert [g.power_draw_watts for g in m.gpus] == [6.52, 13.59]
    assert all(g.power_limit_watts == 230 and g.pci_device_id == 0x2231 for g in m.gpus)
    assert [p.used_memory_bytes for g in m.gpus for p in g.processes or []] == [22430 * MiB, 17246 * MiB]
    m2 = load("qx-2x-rtx-2080-driver590.xml")
    assert [g.power_draw_watts for g in m2.gpus] == [1.0, 1.62]
    assert all(g.ecc_enabled is None and g.power_limit_watts == 215 for g in m2.gpus)


def test_v12_mig_xml() -> None:
    m = load("qx-a100-sxm4-80gb-mig-driver535.xml")
    (g,) = m.gpus
    assert g.mig_enabled is True and g.mig_instances is not None and len(g.mig_instances) == 4
    assert [i.gpu_instance_id for i in g.mig_instances] == [3, 4, 5, 6]
    assert all(i.memory_total_bytes == 19968 * MiB for i in g.mig_instances)
    assert g.power_draw_watts == 67.03 and g.power_limit_watts == 500
    assert any(x.startswith("3 of 4 attached GPUs") for x in m.missing)


def test_v11_xml_t4() -> None:
    (g,) = load("qx-tesla-t4-driver515.xml").gpus
    assert g.power_draw_watts == 26.78 and g.power_limit_watts == 70  # enforced_power_limit
    assert g.ecc_enabled is True and g.pci_bus_id == "00000000:00:1E.0"
    assert g.processes is not None
    assert [(p.pid, p.kind) for p in g.processes] == [(675, "graphics"), (5762, "compute")]


TABLE_535 = """\
Wed Jul 31 11:22:39 2024
+---------------------------------------------------------------------------------------+
| NVIDIA-SMI 535.161.08             Driver Version: 535.161.08   CUDA Version: 12.2     |
|-----------------------------------------+----------------------+----------------------+
| GPU  Name                 Persistence-M | Bus-Id        Disp.A | Volatile Uncorr. ECC |
| Fan  Temp   Perf          Pwr:Usage/Cap |         Memory-Usage | GPU-Util  Compute M. |
|                                         |                      |               MIG M. |
|=========================================+======================+======================|
|   0  NVIDIA A100-SXM4-80GB          On  | 00000000:07:00.0 Off |                    0 |
| N/A   33C    P0              63W / 400W |      4MiB / 81920MiB |      0%      Default |
|                                         |                      |             Disabled |
+-----------------------------------------+----------------------+----------------------+
|   1  NVIDIA A100-SXM4-80GB          On  | 00000000:0F:00.0 Off |                    2 |
| N/A   35C    P0             250W / 400W |  40000MiB / 81920MiB |     98%   E. Process |
|                                         |                      |              Enabled |
+-----------------------------------------+----------------------+----------------------+

+---------------------------------------------------------------------------------------+
| Processes:                                                                            |
|  GPU   GI   CI        PID   Type   Process name                            GPU Memory |
|        ID   ID                                                             Usage      |
|=======================================================================================|
|    1   N/A  N/A     12345      C   python train.py                           39990MiB |
|    1   N/A  N/A      2345      G   /usr/lib/xorg/Xorg                            4MiB |
+---------------------------------------------------------------------------------------+
"""

TABLE_418 = """\
+-----------------------------------------------------------------------------+
| NVIDIA-SMI 418.67       Driver Version: 418.67       CUDA Version: 10.1     |
|-------------------------------+----------------------+----------------------+
| GPU  Name        Persistence-M| Bus-Id        Disp.A | Volatile Uncorr. ECC |
| Fan  Temp  Perf  Pwr:Usage/Cap|         Memory-Usage | GPU-Util  Compute M. |
|===============================+======================+======================|
|   0  Tesla V100-SXM2...  On   | 00000000:00:1E.0 Off |                    0 |
| N/A   40C    P0    38W / 300W |      0MiB / 16130MiB |      0%      Default |
+-------------------------------+----------------------+----------------------+
|   1  GeForce GTX 108...  Off  | 00000000:02:00.0  On |                  N/A |
| 23%   34C    P8    10W / 250W |    300MiB / 11178MiB |      1%      Default |
+-------------------------------+----------------------+----------------------+

+-----------------------------------------------------------------------------+
| Processes:                                                       GPU Memory |
|  GPU       PID   Type   Process name                             Usage      |
|=============================================================================|
|  No running processes found                                                 |
+-----------------------------------------------------------------------------+
"""

TABLE_WINDOWS = """\
+-----------------------------------------------------------------------------------------+
| NVIDIA-SMI 551.86                 Driver Version: 551.86         CUDA Version: 12.4     |
|-----------------------------------------+------------------------+----------------------+
| GPU  Name                     TCC/WDDM  | Bus-Id          Disp.A | Volatile Uncorr. ECC |
| Fan  Temp   Perf          Pwr:Usage/Cap |           Memory-Usage | GPU-Util  Compute M. |
|                                         |                        |               MIG M. |
|=========================================+========================+======================|
|   0  NVIDIA GeForce RTX 4080 ...  WDDM  |   00000000:01:00.0  On |                  N/A |
| N/A   45C    P8              3W /  150W |       0MiB /  12282MiB |      0%      Default |
|                                         |                        |                  N/A |
+-----------------------------------------+------------------------+----------------------+
"""


def test_table_r535() -> None:
    m = parse_dump(TABLE_535)
    assert m.source == "nvidia-smi"
    assert (m.driver.version, m.driver.cuda_version, m.driver.nvml_ok) == ("535.161.08", "12.2", True)
    g0, g1 = m.gpus
    assert (g0.index, g0.name, g0.pci_bus_id) == (0, "NVIDIA A100-SXM4-80GB", "00000000:07:00.0")
    assert (g0.temperature_c, g0.performance_state, g0.power_draw_watts, g0.power_limit_watts) == (
        33,
        "P0",
        63,
        400,
    )
    assert (g0.memory_used_bytes, g0.memory_total_bytes) == (4 * MiB, 81920 * MiB)
    assert (g0.utilization_gpu_percent, g0.compute_mode, g0.mig_enabled) == (0, "Default", False)
    assert (g0.ecc_enabled, g0.ecc_uncorrected_volatile, g0.persistence_mode) == (True, 0, True)
    assert g0.processes == []
    assert (g1.ecc_uncorrected_volatile, g1.compute_mode, g1.mig_enabled) == (2, "Exclusive_Process", True)
    assert g1.processes is not None
    assert [(p.pid, p.name, p.kind, p.used_memory_bytes) for p in g1.processes] == [
        (12345, "python train.py", "compute", 39990 * MiB),
        (2345, "/usr/lib/xorg/Xorg", "graphics", 4 * MiB),
    ]


def test_table_r418_cut_names_and_no_processes() -> None:
    m = parse_dump(TABLE_418)
    assert (m.driver.version, m.driver.cuda_version) == ("418.67", "10.1")
    g0, g1 = m.gpus
    assert g0.name == "Tesla V100-SXM2..." and g1.name == "GeForce GTX 108..."
    assert g0.power_draw_watts == 38 and g1.utilization_gpu_percent == 1
    assert g1.ecc_enabled is None and g1.persistence_mode is False
    assert g0.mig_enabled is None  # no MIG row before R450
    assert g0.processes == [] and g1.processes == []


def test_table_windows_wddm() -> None:
    (g,) = parse_dump(TABLE_WINDOWS).gpus
    assert g.name == "NVIDIA GeForce RTX 4080 ..." and g.persistence_mode is None
    assert g.power_limit_watts == 150 and g.memory_total_bytes == 12282 * MiB
    assert g.processes is None  # the processes box was not pasted


def test_table_cut_name_completed_from_nvidia_smi_list() -> None:
    listing = "GPU 0: Tesla V100-SXM2-16GB (UUID: GPU-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee)\n"
    m = parse_dump(TABLE_418 + listing)
    assert m.gpus[0].name == "Tesla V100-SXM2-16GB"
    assert m.gpus[0].uuid == "GPU-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
    assert m.gpus[0].power_draw_watts == 38  # still the table's facts
    assert m.gpus[1].name == "GeForce GTX 108..."


def test_table_mig_devices_box() -> None:
    mig = """\
+-----------------------------------------------------------------------------+
| MIG devices:                                                                |
+------------------+----------------------+-----------+-----------------------+
| GPU  GI  CI  MIG |         Memory-Usage |        Vol|         Shared        |
|      ID  ID  Dev |           BAR1-Usage | SM     Unc| CE  ENC  DEC  OFA  JPG|
|                  |                      |        ECC|                       |
|==================+======================+===========+=======================|
|  0    1   0   0  |     19MiB / 19968MiB | 42      0 |  3   0    2    0    0 |
|                  |      0MiB / 32767MiB |           |                       |
+------------------+----------------------+-----------+-----------------------+
|  0    2   0   1  |     19MiB / 19968MiB | 42      0 |  3   0    2    0    0 |
|                  |      0MiB / 32767MiB |           |                       |
+------------------+----------------------+-----------+-----------------------+
"""
    m = parse_dump(TABLE_535.replace("\n\n+----", "\n" + mig + "\n+----", 1))
    g0 = m.gpus[0]
    assert g0.mig_instances is not None
    assert [(i.gpu_instance_id, i.compute_instance_id, i.memory_total_bytes) for i in g0.mig_instances] == [
        (1, 0, 19968 * MiB),
        (2, 0, 19968 * MiB),
    ]


BOMB = """<?xml version="1.0"?>
<!DOCTYPE nvidia_smi_log [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<nvidia_smi_log><driver_version>&lol9;</driver_version></nvidia_smi_log>
"""


def test_xml_bomb_is_refused() -> None:
    with pytest.raises(InputError, match="entities"):
        parse_dump(BOMB)


def test_external_entity_is_refused() -> None:
    xxe = (
        '<?xml version="1.0"?>\n<!DOCTYPE nvidia_smi_log [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
        "<nvidia_smi_log><driver_version>&xxe;</driver_version></nvidia_smi_log>\n"
    )
    with pytest.raises(InputError, match="entities"):
        parse_dump(xxe)


def test_entities_are_refused_by_defusedxml_too() -> None:
    from advisor.dumps.smi_xml import _load

    with pytest.raises(InputError, match="EntitiesForbidden"):
        _load(BOMB)


def test_named_dtd_is_not_fetched() -> None:
    doc = (
        '<?xml version="1.0"?>\n<!DOCTYPE nvidia_smi_log SYSTEM "http://198.51.100.1/nvsmi.dtd">\n'
        "<nvidia_smi_log><driver_version>550.54.15</driver_version><attached_gpus>0</attached_gpus>"
        "</nvidia_smi_log>\n"
    )
    m = parse_dump(doc)
    assert m.driver.version == "550.54.15" and m.gpus == [] and m.gpus_known is True


def test_cut_off_xml_keeps_complete_gpus() -> None:
    text = (SMI / "qx-2x-rtx-a5000-driver590.xml").read_text()
    second = text.index('<gpu id="00000000:C1:00.0">')
    m = parse_dump(text[: second + 500])
    assert [g.pci_bus_id for g in m.gpus] == ["00000000:81:00.0"]
    assert m.driver.version == "590.44.01"
    assert any(x.startswith("1 of 2 attached GPUs") for x in m.missing)


def test_broken_xml_alone_is_an_input_error() -> None:
    with pytest.raises(InputError, match="not well-formed"):
        parse_dump("<nvidia_smi_log><driver_version>1<</nvidia_smi_log>")


def test_query_fragment_old_throttle_names() -> None:
    text = """\
Clocks Throttle Reasons
    Idle                        : Not Active
    Applications Clocks Setting : Not Active
    SW Power Cap                : Active
    HW Slowdown                 : Not Active
    Sync Boost                  : Not Active
    Unknown                     : Not Active
Power Readings
    Power Management            : Supported
    Power Draw                  : 249.50 W
    Power Limit                 : 250.00 W
    Default Power Limit         : 300.00 W
    Enforced Power Limit        : 250.00 W
    Min Power Limit             : 125.00 W
    Max Power Limit             : 300.00 W
ECC Errors
    Volatile
        Single Bit
            Device Memory       : 3
            Total               : 3
        Double Bit
            Device Memory       : 0
            Total               : 0
    Aggregate
        Single Bit
            Total               : 12
        Double Bit
            Total               : 1
Retired Pages
    Single Bit ECC              : 2
    Double Bit ECC              : 1
    Pending                     : Yes
"""
    (g,) = parse_dump(text).gpus
    assert g.throttle_reasons == ["sw_power_cap"]
    assert (g.power_draw_watts, g.power_limit_watts, g.power_default_limit_watts) == (249.5, 250, 300)
    assert (g.ecc_corrected_volatile, g.ecc_uncorrected_volatile) == (3, 0)
    assert (g.ecc_corrected_aggregate, g.ecc_uncorrected_aggregate) == (12, 1)
    assert (g.retired_pages_sbe, g.retired_pages_dbe, g.retired_pages_pending) == (2, 1, True)


def test_repeated_query_output_merges_by_bus_id() -> None:
    text = (SMI / "q-2x-h100-nvl-driver550.txt").read_text()
    m = parse_dump(text + "\n" + text)
    assert len(m.gpus) == 2


def test_xml_with_too_many_tags_is_refused_before_parsing() -> None:
    text = "<nvidia_smi_log>" + "<a/>" * 300_000 + "</nvidia_smi_log>"
    with pytest.raises(InputError, match="more than"):
        parse_dump(text)
