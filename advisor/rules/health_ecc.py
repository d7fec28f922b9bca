"""The ecc-errors rule: memory errors, retired pages and remapped rows of one GPU.

Severity follows what the GPU needs:
- error: a repair is *pending* (page retirement or row remap waits for a GPU reset, NVIDIA Xid 63/64),
  a row remap *failed* (a bank ran out of spare rows: RMA), or uncorrectable errors happened since the
  driver loaded (volatile count > 0: the job that touched the memory was killed; drain and reset).
- warning: uncorrectable errors in the lifetime history only (aggregate > 0, pages already retired or
  rows already remapped, nothing pending): the GPU works but has a record; watch it.
- info: correctable errors only (single-bit errors the hardware fixed).
Fields that are N/A (GeForce, no ECC) are None and never fire.
Sources: NVIDIA "Dynamic Page Retirement" and "GPU Memory Error Management" (row remapping) docs, and
the Xid catalogue (Xid 48 DBE, 63/64 row-remap/page-retirement events), as summarised in
tests/data/dumps/40-43 notes.
"""

from __future__ import annotations

from advisor.machine import GPU
from advisor.report import Finding

# NVIDIA's page-retirement document: the InfoROM records at most 64 retired pages, and NVIDIA's RMA
# guidance for page-retirement GPUs is around 60 retired pages. Used only to word the fix. unverified
RETIRED_PAGES_RMA = 60


def _positive(value: int | None) -> bool:
    return value is not None and value > 0


def check_ecc(gpu: GPU) -> list[Finding]:
    """One ecc-errors finding for the GPU (or none), severity by the worst fact seen."""
    facts: list[str] = []
    if gpu.retired_pages_pending:
        facts.append("page retirement is pending (waits for a GPU reset)")
    if gpu.remapped_rows_pending:
        facts.append("a row remap is pending (waits for a GPU reset)")
    if gpu.remapped_rows_failure:
        facts.append("a row remapping failure occurred (a memory bank has no spare rows left)")
    if _positive(gpu.ecc_uncorrected_volatile):
        facts.append(f"{gpu.ecc_uncorrected_volatile} uncorrectable ECC error(s) since the driver loaded")
    severe = bool(facts)

    history: list[str] = []
    if _positive(gpu.ecc_uncorrected_aggregate):
        history.append(f"{gpu.ecc_uncorrected_aggregate} uncorrectable ECC error(s) in the GPU's lifetime")
    if _positive(gpu.retired_pages_dbe):
        history.append(f"{gpu.retired_pages_dbe} page(s) retired for double-bit errors")
    if _positive(gpu.remapped_rows_uncorrectable):
        history.append(f"{gpu.remapped_rows_uncorrectable} row(s) remapped for uncorrectable errors")

    corrected: list[str] = []
    if _positive(gpu.ecc_corrected_volatile):
        corrected.append(f"{gpu.ecc_corrected_volatile} correctable since the driver loaded")
    if _positive(gpu.ecc_corrected_aggregate):
        corrected.append(f"{gpu.ecc_corrected_aggregate} correctable in its lifetime")
    if _positive(gpu.retired_pages_sbe):
        corrected.append(f"{gpu.retired_pages_sbe} page(s) retired for repeated single-bit errors")
    if _positive(gpu.remapped_rows_correctable):
        corrected.append(f"{gpu.remapped_rows_correctable} row(s) remapped for correctable errors")

    if not (facts or history or corrected):
        return []
    label = f"GPU {gpu.index}" + (f" ({gpu.name})" if gpu.name else "")
    retired = (gpu.retired_pages_sbe or 0) + (gpu.retired_pages_dbe or 0)
    detail = "; ".join(facts + history + corrected) + "."
    query = f"nvidia-smi -i {gpu.index} -q -d ECC,PAGE_RETIREMENT,ROW_REMAPPER"
    if gpu.remapped_rows_failure or retired >= RETIRED_PAGES_RMA:
        if retired >= RETIRED_PAGES_RMA:
            detail += f" {retired} retired pages is at NVIDIA's replacement level (~{RETIRED_PAGES_RMA})."
        return [
            Finding(
                code="ecc-errors",
                severity="error",
                gpu=gpu.index,
                title=f"{label} memory is failing: ECC repair capacity exhausted",
                detail=detail,
                fix=f"Drain the node and RMA the GPU (attach `{query}` and `nvidia-bug-report.sh` output).",
            )
        ]
    if severe:
        return [
            Finding(
                code="ecc-errors",
                severity="error",
                gpu=gpu.index,
                title=f"{label} has uncorrectable memory errors or a pending memory repair",
                detail=detail + " Until the GPU is reset, jobs on it can crash or compute on bad memory.",
                fix=(
                    f"Drain the GPU, stop its processes and reset it "
                    f"(`sudo nvidia-smi -r -i {gpu.index}`) or reboot, so the pending retirement/remap "
                    f"takes effect; then check `{query}`. "
                    "If errors keep coming back, RMA the GPU."
                ),
            )
        ]
    if history:
        return [
            Finding(
                code="ecc-errors",
                severity="warning",
                gpu=gpu.index,
                title=f"{label} has had uncorrectable memory errors (already repaired)",
                detail=detail
                + " Nothing is pending, so the GPU is usable, but it has a record of failing memory.",
                fix=f"Watch the counters (`{query}`); if they grow or jobs hit Xid 48/63/64, RMA the GPU.",
            )
        ]
    return [
        Finding(
            code="ecc-errors",
            severity="info",
            gpu=gpu.index,
            title=f"{label} reports correctable memory errors only",
            detail=detail + " ECC corrected them; no action is needed unless they grow quickly.",
            fix=f"Compare over time with `{query}`.",
        )
    ]
