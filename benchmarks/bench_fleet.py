"""How long `advisor report fleet` takes to merge 10,000 node reports.

    python benchmarks/bench_fleet.py [--nodes 10000] [--keep DIR]

Generates the reports into a temp directory (8-GPU A100 and H100 nodes, 4-GPU RTX 4090 boxes, each with a
quick bench; a few slow GPUs, old drivers and ECC errors planted as outliers), then times separately:
finding + parsing the files, merging and flagging, rendering each output, the whole CLI in a child process.
Figures go to benchmarks/README.md by hand.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from advisor.machine import GPU, DriverInfo, HostInfo, Machine, TorchInfo
from advisor.report import BenchResult, Finding, Report

# name, GPUs per node, memory GiB, CC, dense peaks (fp32, tf32, bf16) in TFLOP/s, memory bandwidth GB/s
CARDS = [
    ("NVIDIA A100-SXM4-80GB", 8, 80, "8.0", (19.5, 156.0, 312.0), 2039.0),
    ("NVIDIA H100 80GB HBM3", 8, 80, "9.0", (66.9, 494.7, 989.4), 3350.0),
    ("NVIDIA GeForce RTX 4090", 4, 24, "8.9", (82.6, 82.6, 165.2), 1008.0),
]


def template(card: tuple[Any, ...], rng: random.Random) -> dict[str, Any]:
    """One node's report as plain JSON data (validated once through the model, then copied with edits)."""
    name, count, mem, cc, peaks, bw = card
    gpus = [
        GPU(
            index=i,
            name=name,
            uuid=f"GPU-{i:08x}-aaaa-bbbb-cccc-000000000000",
            compute_capability=cc,
            memory_total_bytes=mem * 2**30,
            memory_used_bytes=2**28,
            temperature_c=35.0,
            power_draw_watts=70.0,
            power_limit_watts=400.0,
            sm_clock_mhz=1410,
            sm_clock_max_mhz=1980,
            pcie_gen_current=4,
            pcie_gen_max=4,
            pcie_width_current=16,
            pcie_width_max=16,
            ecc_enabled=True,
            ecc_uncorrected_volatile=0,
            throttle_reasons=[],
            persistence_mode=True,
            processes=[],
        )
        for i in range(count)
    ]
    bench = []
    for i in range(count):
        for dtype, peak in zip(("fp32", "tf32", "bf16"), peaks, strict=True):
            v = peak * rng.uniform(0.70, 0.74)
            bench.append(
                BenchResult(
                    device=i,
                    test="matmul",
                    dtype=dtype,
                    value=v,
                    unit="TFLOP/s",
                    peak=peak,
                    efficiency=v / peak,
                    median=v,
                    best=v * 1.01,
                    spread=0.02,
                    samples=10,
                    shape=[8192, 8192, 8192],
                    seconds=1.0,
                )
            )
        v = bw * 0.9
        bench.append(
            BenchResult(
                device=i,
                test="memory-bandwidth",
                value=v,
                unit="GB/s",
                peak=bw,
                efficiency=0.9,
                median=v,
                best=v,
                spread=0.01,
                samples=10,
                seconds=0.5,
            )
        )
    report = Report(
        advisor_version="0.1.0",
        created="2026-01-05T10:20:30+00:00",
        source="live",
        machine=Machine(
            host=HostInfo(hostname="x", os="Linux", os_release="Ubuntu 22.04.4 LTS", python_version="3.11.7"),
            driver=DriverInfo(version="550.54.15", cuda_version="12.4", nvml_ok=True),
            gpus=gpus,
            torch=TorchInfo(installed=True, version="2.5.1+cu124", cuda_version="12.4", cuda_available=True),
        ),
        benchmarks=bench,
    )
    data: dict[str, Any] = json.loads(report.model_dump_json())
    return data


def generate(directory: Path, nodes: int, seed: int = 7) -> dict[str, int]:
    """Write ``nodes`` reports; returns how many outliers of each kind were planted."""
    rng = random.Random(seed)
    templates = [template(card, rng) for card in CARDS]
    planted = {"slow": 0, "driver": 0, "error": 0}
    for n in range(nodes):
        data = json.loads(json.dumps(templates[n % len(templates)]))  # a cheap deep copy
        data["machine"]["host"]["hostname"] = f"node-{n:05d}"
        for b in data["benchmarks"]:
            b["value"] = b["median"] = b["value"] * rng.uniform(0.98, 1.02)
        if n % 997 == 5:
            data["benchmarks"][2]["value"] *= 0.6  # GPU 0 bf16 far below its peers
            planted["slow"] += 1
        if n % 1499 == 11:
            data["machine"]["driver"]["version"] = "535.183.01"
            planted["driver"] += 1
        if n % 2003 == 17:
            data["findings"] = [
                Finding(
                    code="ecc-errors",
                    severity="error",
                    gpu=3,
                    title="uncorrectable ECC errors",
                    detail="2 volatile double-bit errors",
                ).model_dump(mode="json")
            ]
            planted["error"] += 1
        (directory / f"node-{n:05d}.json").write_text(json.dumps(data, indent=2))
    return planted


def timed(label: str, fn: Any) -> Any:
    start = time.perf_counter()
    result = fn()
    print(f"{label:<42} {time.perf_counter() - start:7.2f} s")
    return result


def main() -> None:
    """Generate, then time each stage once (no loops: figures are indicative, on whatever machine runs it)."""
    from advisor.render.fleet import render_fleet_html, render_fleet_markdown
    from advisor.reports.fleet import build_fleet, collect_files, load_reports

    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--keep", type=Path, help="generate into this directory and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = args.keep or Path(tmp)
        directory.mkdir(parents=True, exist_ok=True)
        planted = timed(f"generate {args.nodes} reports", lambda: generate(directory, args.nodes))
        size = sum(p.stat().st_size for p in directory.iterdir()) / 1e6
        print(f"  {size:.0f} MB on disk, planted outliers: {planted}")
        files = timed("find files", lambda: collect_files([directory]))
        loaded, skipped = timed("parse + validate (load_reports)", lambda: load_reports(files))
        fleet = timed("merge + flag outliers (build_fleet)", lambda: build_fleet(loaded, skipped=skipped))
        kinds: dict[str, int] = {}
        for o in fleet.outliers:
            kinds[o.kind] = kinds.get(o.kind, 0) + 1
        print(f"  {len(fleet.nodes)} nodes, outliers by kind: {kinds}")
        timed("render JSON", fleet.model_dump_json)
        timed("render Markdown", lambda: render_fleet_markdown(fleet))
        timed("render HTML", lambda: render_fleet_html(fleet))
        cmd = [sys.executable, "-m", "advisor", "report", "fleet", str(directory), "--to", "json"]
        timed(
            "CLI end to end: report fleet DIR --to json",
            lambda: subprocess.run(cmd, capture_output=True, check=True),
        )


if __name__ == "__main__":
    main()
