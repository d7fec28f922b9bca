"""`advisor report diff` for people: one table of what changed, regressions marked."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich import box
from rich.table import Table
from rich.text import Text

from advisor.render.common import UNKNOWN, printable

if TYPE_CHECKING:
    from rich.console import Console

    from advisor.reports.diff import ReportDiff


# Field names in the JSON stay stable; people read these words instead.
_WORDS = {
    "ecc_uncorrected_volatile": "ECC uncorrected (volatile)",
    "ecc_corrected_volatile": "ECC corrected (volatile)",
    "ecc_uncorrected_aggregate": "ECC uncorrected (lifetime)",
    "ecc_corrected_aggregate": "ECC corrected (lifetime)",
    "retired_pages_sbe": "retired pages (single bit)",
    "retired_pages_dbe": "retired pages (double bit)",
    "retired_pages_pending": "page retirement pending",
    "remapped_rows_correctable": "remapped rows (correctable)",
    "remapped_rows_uncorrectable": "remapped rows (uncorrectable)",
    "remapped_rows_pending": "row remap pending",
    "remapped_rows_failure": "row remap failed",
    "lost": "lost (fell off the bus)",
    "memory_total_bytes": "memory (bytes)",
    "compute_capability": "compute capability",
    "power_limit_watts": "power limit (W)",
    "pcie_gen_max": "PCIe max gen",
    "pcie_width_max": "PCIe max width",
    "ecc_enabled": "ECC enabled",
    "mig_enabled": "MIG enabled",
    "persistence_mode": "persistence mode",
    "compute_mode": "compute mode",
}
_VALUES = {"True": "yes", "False": "no"}


def render_diff(diff: ReportDiff, console: Console) -> None:
    """Print the changes between two reports, alarms in red."""
    line = f"before {printable(diff.before, one_line=True)}  →  after {printable(diff.after, one_line=True)}"
    console.print(Text(line, style="dim"))
    if diff.same_host is False:
        console.print(Text("note: the two reports come from different hosts", style="yellow"))
    if not diff.changes:
        console.print(Text("No change.", style="green"))
        return
    table = Table(box=box.SIMPLE_HEAD, show_edge=False)
    for title in ("", "subject", "what", "before", "after", "note"):
        table.add_column(title)
    for c in diff.changes:
        mark = Text("!", style="bold red") if c.alarm else Text(" ")
        before, after = (_VALUES.get(v, v) if v is not None else UNKNOWN for v in (c.before, c.after))
        cells = (c.subject, _WORDS.get(c.what, c.what), before, after, c.note)
        table.add_row(mark, *(Text(printable(v, one_line=True)) for v in cells))
    console.print(table)
    alarms = sum(c.alarm for c in diff.changes)
    summary = f"{len(diff.changes)} change{'s' if len(diff.changes) != 1 else ''}, {alarms} worth a look"
    console.print(Text(summary, style="bold red" if alarms else "bold"))
