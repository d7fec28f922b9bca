"""The card schema: one accelerator model as the catalog describes it (catalog/cards/*.yaml).

Figures are per GPU and dense. Tensor figures are the rate PyTorch reaches: FP16/BF16 with FP32
accumulate (half rate on GeForce parts). Unknown values are None, never invented.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeFloat, PositiveFloat, field_validator

from advisor.units import parse_cc


class _Strict(BaseModel):
    # defer_build: validators are built only when a catalog is validated, not when a cached one is
    # unpickled (advisor.knowledge.validated_cache).
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Throughput(_Strict):
    """Dense peak throughput, TFLOP/s (INT8 in TOPS). Absent = the card has no such path or it is unknown."""

    fp32: PositiveFloat | None = None  # non-tensor FP32
    tf32: PositiveFloat | None = None
    fp16: PositiveFloat | None = None  # tensor, FP32 accumulate (what torch GEMMs use)
    fp16_fp16acc: PositiveFloat | None = None  # tensor, FP16 accumulate, where it differs (GeForce)
    bf16: PositiveFloat | None = None  # tensor, FP32 accumulate
    fp8: PositiveFloat | None = None  # tensor, FP32 accumulate where the rates differ
    int8: PositiveFloat | None = None  # TOPS


class Achievable(_Strict):
    """A published *measured* ceiling (e.g. the MAMF finder table), kept beside the peak."""

    tflops: PositiveFloat
    source: str
    shape: str | None = None  # "1024x10240x5120"
    torch: str | None = None  # torch version it was measured with


class Card(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str
    aliases: list[str] = Field(default_factory=list)  # names for `catalog show` ("h100 sxm"), not for probes
    vendor: Literal["nvidia", "amd"]
    architecture: str  # "Volta", "Ampere", "CDNA3"
    chip: str | None = None  # "GV100"
    compute_capability: str | None = None  # NVIDIA only, "8.6"
    gfx_arch: str | None = None  # AMD only, "gfx942"
    segment: Literal["datacenter", "workstation", "consumer", "embedded"]
    form_factor: str | None = None  # "PCIe", "SXM4", "OAM"
    memory_gb: PositiveFloat  # as marketed (GB)
    memory_type: str | None = None
    memory_bandwidth_gbs: PositiveFloat | None = None  # GB/s
    host_interface: str | None = None  # "PCIe 4.0 x16"
    pcie_gen: int | None = Field(default=None, ge=1, le=7)
    pcie_width: int | None = Field(default=None, ge=1, le=32)
    nvlink_gbs: NonNegativeFloat | None = None  # total per GPU, GB/s; 0 = none
    tdp_watts: PositiveFloat | None = None
    sm_count: int | None = Field(default=None, gt=0)  # SMs (CUs for AMD)
    boost_clock_mhz: PositiveFloat | None = None
    launch_year: int | None = Field(default=None, ge=2000, le=2100)
    launch_price_usd: PositiveFloat | None = None
    tflops: Throughput = Field(default_factory=Throughput)
    achievable: dict[Literal["fp32", "tf32", "fp16", "bf16", "fp8"], Achievable] = Field(default_factory=dict)
    part_of: str | None = None  # id of the board this device is one of (an MI250X GCD): what a process sees
    nvml_names: list[str] = Field(default_factory=list)  # exact names NVML / nvidia-smi / torch report
    pci_device_ids: list[str] = Field(default_factory=list)  # "0x2204"
    unverified: list[str] = Field(default_factory=list)  # fields whose value is unverified (u)
    derived: list[str] = Field(default_factory=list)  # fields whose value is derived by arithmetic (d)
    notes: str | None = None
    sources: list[str] = Field(min_length=1)

    @field_validator("compute_capability")
    @classmethod
    def _cc_form(cls, v: str | None) -> str | None:
        if v is not None and parse_cc(v) is None:
            raise ValueError(f"compute capability must look like '8.6', got {v!r}")
        return v

    @field_validator("pci_device_ids")
    @classmethod
    def _pci_form(cls, v: list[str]) -> list[str]:
        out = []
        for item in v:
            s = item.strip().lower()
            if not s.startswith("0x") or len(s) != 6:
                raise ValueError(f"PCI device id must look like '0x2204', got {item!r}")
            int(s, 16)
            out.append(s)
        return out

    @property
    def cc(self) -> tuple[int, int] | None:
        return parse_cc(self.compute_capability)

    @property
    def memory_bytes(self) -> int:
        """The card's memory in bytes: marketed GPU "GB" are binary (a 24 GB RTX 3090 reports 24576 MiB)."""
        return int(self.memory_gb * 2**30)

    def peak(self, dtype: str) -> float | None:
        """Dense peak for a bench dtype (fp32/tf32/fp16/bf16/fp8), TFLOP/s."""
        value = getattr(self.tflops, dtype, None)
        return float(value) if value is not None else None
