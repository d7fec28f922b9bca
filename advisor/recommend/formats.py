"""Weight and KV-cache formats as people run them, with the bits each costs and where that figure comes from.

A format's ``bits`` is what one weight costs on the device, scales and zero points included. GGUF figures
are llama.cpp's own file-size bits per weight over the whole model (every tensor, embeddings included);
the others apply to the linear layers of the blocks, with embeddings and LM head kept 16-bit.
"""

from __future__ import annotations

from dataclasses import dataclass

GGUF_TABLE_SOURCE = (
    "llama.cpp examples/quantize/README.md, bits per weight for Llama 2 70B "
    "(https://github.com/ggerganov/llama.cpp/blob/b8c1476e44cc1f3a1811613f65251cf779067636/examples/quantize)"
)
GGML_BLOCKS_SOURCE = (
    "ggml block layouts: Q4_0 = 32 4-bit weights + one fp16 scale (18 bytes / 32 = 4.5 bits), Q8_0 = 32 "
    "8-bit weights + one fp16 scale (34 bytes / 32 = 8.5 bits)"
)


@dataclass(frozen=True)
class WeightFormat:
    name: str
    bits: float  # per weight, on the device
    whole_model: bool  # True: bits already cover embeddings and head (GGUF file size); False: blocks only
    engine: str  # the runtime that loads it: "llama.cpp" | "transformers" | "vllm"
    compute: str  # dtype the GEMMs run in: dequantised to bf16/fp16 unless the card has the native path
    source: str


_F = WeightFormat
WEIGHT_FORMATS: dict[str, WeightFormat] = {
    "fp32": _F("fp32", 32.0, True, "transformers", "fp32", "4 bytes per weight"),
    "bf16": _F("bf16", 16.0, True, "llama.cpp", "bf16", "2 bytes per weight"),
    "fp16": _F("fp16", 16.0, True, "llama.cpp", "fp16", "2 bytes per weight"),
    "fp8": _F(
        "fp8", 8.0, False, "vllm", "fp8", "1 byte per weight, per-tensor scales (vLLM/TensorRT-LLM FP8)"
    ),
    "int8": _F(
        "int8", 8.0, False, "transformers", "bf16",
        "bitsandbytes LLM.int8(): 1 byte per weight, outliers in 16-bit (Dettmers et al. 2022)",
    ),
    "nf4": _F(
        "nf4", 4.127, False, "transformers", "bf16",
        "bitsandbytes NF4 with double quantisation: 4.127 bits (Dettmers et al. 2023, QLoRA, section 3)",
    ),
    "int4": _F(
        "int4", 4.25, False, "transformers", "bf16",
        "GPTQ/AWQ 4-bit, group size 128: 4 bits + a 16-bit scale and a 16-bit zero per 128 weights",
    ),
    **{
        f"{kind}{'' if g == 128 else f'-g{g}'}": _F(
            f"{kind}{'' if g == 128 else f'-g{g}'}", 4 + 20 / g, False, engine, compute,
            f"{paper}: 4-bit weights packed in int32, per group of {g} one fp16 scale and one 4-bit zero "
            f"(4 + 20/{g} bits)",
        )
        for kind, engine, compute, paper in (
            ("gptq", "transformers", "bf16", "GPTQ (Frantar et al. 2022; AutoGPTQ qweight/qzeros/scales)"),
            ("awq", "vllm", "fp16", "AWQ (Lin et al. 2023; AutoAWQ GEMM layout)"),
        )
        for g in (32, 64, 128)
    },
    "q8_0": _F("q8_0", 8.5, True, "llama.cpp", "fp16", GGML_BLOCKS_SOURCE),
    "q6_k": _F("q6_k", 6.56, True, "llama.cpp", "fp16", GGUF_TABLE_SOURCE),
    "q5_k_m": _F("q5_k_m", 5.65, True, "llama.cpp", "fp16", GGUF_TABLE_SOURCE),
    "q5_k_s": _F("q5_k_s", 5.50, True, "llama.cpp", "fp16", GGUF_TABLE_SOURCE),
    "q4_k_m": _F("q4_k_m", 4.80, True, "llama.cpp", "fp16", GGUF_TABLE_SOURCE),
    "q4_k_s": _F("q4_k_s", 4.53, True, "llama.cpp", "fp16", GGUF_TABLE_SOURCE),
    "q4_0": _F("q4_0", 4.5, True, "llama.cpp", "fp16", GGML_BLOCKS_SOURCE),
    "q3_k_l": _F("q3_k_l", 4.19, True, "llama.cpp", "fp16", GGUF_TABLE_SOURCE),
    "q3_k_m": _F("q3_k_m", 3.85, True, "llama.cpp", "fp16", GGUF_TABLE_SOURCE),
    "q3_k_s": _F("q3_k_s", 3.47, True, "llama.cpp", "fp16", GGUF_TABLE_SOURCE),
    "q2_k": _F("q2_k", 3.40, True, "llama.cpp", "fp16", GGUF_TABLE_SOURCE),
}  # fmt: skip

# KV-cache element formats: bytes per element (llama.cpp's q8_0 / q4_0 blocks carry an fp16 scale per 32)
KV_FORMATS: dict[str, float] = {
    "fp32": 4.0,
    "fp16": 2.0,
    "bf16": 2.0,
    "fp8": 1.0,
    "q8_0": 34 / 32,
    "q4_0": 18 / 32,
}

# The spellings people type, mapped to ours (pip, HF and llama.cpp names)
PRECISION_ALIASES: dict[str, str] = {
    "float32": "fp32", "float": "fp32", "f32": "fp32", "full": "fp32",
    "bfloat16": "bf16", "float16": "fp16", "half": "fp16", "f16": "fp16",
    "float8": "fp8", "e4m3": "fp8", "fp8_e4m3": "fp8",
    "8bit": "int8", "8-bit": "int8", "llm.int8": "int8", "bnb-8bit": "int8", "bnb8": "int8",
    "4bit": "nf4", "4-bit": "nf4", "bnb-4bit": "nf4", "bnb4": "nf4",
    "gptq-int4": "gptq", "gptq-4bit": "gptq", "awq-int4": "awq", "awq-4bit": "awq",
    "gptq-g128": "gptq", "awq-g128": "awq",
    "q4_k": "q4_k_m", "q5_k": "q5_k_m", "q3_k": "q3_k_m", "q6": "q6_k", "q8": "q8_0",
}  # fmt: skip

GGUF_FORMATS = tuple(k for k, f in WEIGHT_FORMATS.items() if f.engine == "llama.cpp" and k.startswith("q"))


def normalise_precision(text: str) -> str | None:
    """``Q4_K_M`` → ``q4_k_m``, ``float16`` → ``fp16``; None when unknown."""
    v = (
        text.strip().lower().replace("-", "_")
        if text.strip().lower().startswith("q")
        else text.strip().lower()
    )
    v = PRECISION_ALIASES.get(v, v)
    return v if v in WEIGHT_FORMATS else None


def weight_bytes(precision: str) -> float:
    return WEIGHT_FORMATS[precision].bits / 8
