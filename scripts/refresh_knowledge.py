"""Rebuild the generated compatibility tables from the recorded copies of their sources.

    python scripts/refresh_knowledge.py            # regenerate offline, print the diff against catalog/
    python scripts/refresh_knowledge.py --write    # ... and write the regenerated files
    python scripts/refresh_knowledge.py --online   # refresh the recorded copies from the network first

Generated (do not edit by hand; edit the sources under tests/data/sources/compat/ and re-run):
  catalog/compat/cuda-drivers.yaml  cuda_toolkit_drivers (NVIDIA's release-notes Table 3 + rows beyond
                                    it), driver_branches (derived from that table + nvidia-smi reports)
  catalog/compat/torch.yaml         torch_releases (wheel index + curated release facts),
                                    torch_arch_lists (build scripts' TORCH_CUDA_ARCH_LIST per variant)
  catalog/compat/meta.yaml          knowledge_meta: the date the tables are current to, what they cover
Hand-reviewed tables stay in their own files (cuda-families.yaml, gpu-code.yaml, torch-index.yaml, ...).

Offline (the default, and in the tests) reads only tests/data/sources/compat/. --online fetches NVIDIA's
current release notes and PyTorch's wheel index with urllib and rewrites the two machine extracts
(nvidia-cuda-toolkit-driver-table.md, pytorch-wheel-index.txt); the curated files (rows beyond the
table, nvidia-smi reports, release facts, arch lists) are reviewed by hand, and --online prints what
the current build scripts say so a reviewer can update them. Exit status: 0 when the catalog matches
(or was written), 1 when it differs, 2 on bad input or no network.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from packaging.version import Version

REPO = Path(__file__).resolve().parent.parent
SOURCES = REPO / "tests" / "data" / "sources" / "compat"
CATALOG = REPO / "catalog" / "compat"

TABLE3 = "nvidia-cuda-toolkit-driver-table.md"
TABLE3_EXTRA = "cuda-toolkit-rows-beyond-the-table.yaml"
SMI_REPORTS = "nvidia-smi-cuda-version-reports.yaml"
WHEEL_INDEX = "pytorch-wheel-index.txt"
RELEASES = "pytorch-releases.yaml"
ARCH_LISTS = "pytorch-arch-lists.yaml"

NOTES_URL = "https://docs.nvidia.com/cuda/cuda-toolkit-release-notes/index.html"
WHEEL_INDEX_URL = "https://download.pytorch.org/whl/torch/"
BUILD_SCRIPTS = {
    "linux-x86_64": "https://raw.githubusercontent.com/pytorch/pytorch/main/.ci/manywheel/build_cuda.sh",
    "windows": "https://raw.githubusercontent.com/pytorch/pytorch/main/.ci/pytorch/windows/build_env_setup.py",
}
PLATFORMS = ("linux-x86_64", "windows", "linux-aarch64")


class SourceError(Exception):
    """A recorded source that does not parse: one line naming the file and what is wrong."""


# ---------------------------------------------------------------- reading the recorded sources


def _header(text: str) -> dict[str, str]:
    """``# key: value`` lines at the top of a recorded extract."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        m = re.match(r"#\s*([a-z]+):\s*(.*)$", line)
        if m and m.group(1) not in out:
            out[m.group(1)] = m.group(2).strip()
    return out


def _yaml(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise SourceError(f"{path.name}: top level must be a mapping")
    return data


def _date(value: object, where: str) -> str:
    text = str(value or "")
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise SourceError(f"{where}: retrieved must be a date YYYY-MM-DD, got {value!r}")
    return text


@dataclass(frozen=True)
class ToolkitRow:
    """One row of NVIDIA's Table 3 ("CUDA 12.8 Update 1 | >=570.124.06 | >=572.61")."""

    label: str  # as printed, without "CUDA "
    cuda: str  # "12.8"
    update: int
    linux: str | None
    windows: str | None
    status: str
    source: str


_ROW_RE = re.compile(
    r"^\|\s*(?P<label>CUDA [^|]+?)\s*\|\s*(?P<linux>[^|]*?)\s*\|\s*(?P<windows>[^|]*?)\s*\|\s*$"
)


def _driver(cell: str | None) -> str | None:
    """``">= 450.51.06"`` → ``"450.51.06"``; ``"N/A"`` or empty → None."""
    text = (cell or "").replace(">=", "").strip()
    return text if re.fullmatch(r"\d+(\.\d+)+", text) else None


def parse_row_label(label: str) -> tuple[str, int] | None:
    """``"CUDA 11.3.1 Update 1"`` → ("11.3", 1); ``"CUDA 9.2 (9.2.88)"`` → ("9.2", 0); RC rows → None."""
    if re.search(r"\bRC\b", label):
        return None  # release candidates are not toolkits anyone ships against
    m = re.match(r"CUDA (\d+)\.(\d+)", label)
    if not m:
        return None
    update = re.search(r"Update (\d+)", label)
    n = int(update.group(1)) if update else (1 if "GA2" in label else 0)
    return f"{m.group(1)}.{m.group(2)}", n


def read_table3(sources: Path) -> tuple[dict[str, str], list[ToolkitRow]]:
    text = (sources / TABLE3).read_text(encoding="utf-8")
    head = _header(text)
    edition, url = head.get("edition", "?"), head.get("url", NOTES_URL)
    rows: list[ToolkitRow] = []
    for line in text.splitlines():
        m = _ROW_RE.match(line)
        if not m:
            continue
        parsed = parse_row_label(m.group("label"))
        if parsed is None:
            continue
        cuda, update = parsed
        rows.append(
            ToolkitRow(
                label=m.group("label").removeprefix("CUDA "),
                cuda=cuda,
                update=update,
                linux=_driver(m.group("linux")),
                windows=_driver(m.group("windows")),
                status="verified",
                source=f"NVIDIA CUDA release notes Table 3, {edition} edition ({url})",
            )
        )
    if not rows:
        raise SourceError(f"{TABLE3}: no table rows found")
    extra = _yaml(sources / TABLE3_EXTRA)
    seen = {(r.cuda, r.update) for r in rows}
    for i, raw in enumerate(extra.get("rows") or []):
        parsed = parse_row_label(str(raw.get("label", "")))
        if parsed is None:
            raise SourceError(f"{TABLE3_EXTRA}: row {i + 1}: label {raw.get('label')!r} is not a toolkit row")
        if parsed in seen:
            continue  # the recorded table has it now: the primary source wins
        rows.append(
            ToolkitRow(
                label=str(raw["label"]).removeprefix("CUDA "),
                cuda=parsed[0],
                update=parsed[1],
                linux=_driver(raw.get("linux")),
                windows=_driver(raw.get("windows")),
                status=str(raw["status"]),
                source=" ".join(str(raw["source"]).split()),
            )
        )
    rows.sort(key=lambda r: (Version(r.cuda), r.update), reverse=True)
    dates = [_date(head.get("retrieved"), TABLE3), _date(extra.get("retrieved"), TABLE3_EXTRA)]
    return {"retrieved": max(dates), "url": url, "edition": edition}, rows


@dataclass(frozen=True)
class WheelRow:
    release: str
    platform: str
    latest: str
    variants: tuple[str, ...]
    where: str


def read_wheel_index(sources: Path) -> tuple[dict[str, str], list[WheelRow]]:
    text = (sources / WHEEL_INDEX).read_text(encoding="utf-8")
    rows = []
    for n, line in enumerate(text.splitlines(), 1):
        body, _, where = line.partition("#")
        parts = body.split()
        if not parts:
            continue
        if (
            len(parts) < 4
            or parts[1] not in PLATFORMS
            or not all(re.fullmatch(r"cu\d+", v) for v in parts[3:])
        ):
            raise SourceError(f"{WHEEL_INDEX}:{n}: expected '<release> <platform> <newest patch> <cuXYZ...>'")
        rows.append(WheelRow(parts[0], parts[1], parts[2], tuple(parts[3:]), where.strip()))
    return _header(text), rows


# ---------------------------------------------------------------- building the tables


def toolkit_entries(rows: list[ToolkitRow]) -> list[dict[str, Any]]:
    return [
        {
            "cuda": r.cuda,
            "update": r.update,
            "label": r.label,
            "linux_min_driver": r.linux,
            "windows_min_driver": r.windows,
            "status": r.status,
            "source": r.source,
        }
        for r in rows
    ]


def branch_entries(rows: list[ToolkitRow], reports: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each driver branch and the highest CUDA it supports.

    From the table: a branch supports every toolkit whose driver belongs to it or an older branch.
    From nvidia-smi reports: what a branch's driver says of itself, unless the table contradicts it
    (it lists that CUDA with a driver of a newer branch), in which case the table wins."""
    known = [r for r in rows if r.linux]
    by_branch: dict[int, dict[str, Any]] = {}

    def table_max(branch: int) -> ToolkitRow | None:
        within = [r for r in known if Version(r.linux or "0").major <= branch]
        return max(within, key=lambda r: (Version(r.cuda), -r.update), default=None)

    for r in known:
        branch = Version(r.linux or "0").major
        best = table_max(branch)
        if best is None or branch in by_branch:
            continue
        first = min(
            (x for x in known if Version(x.linux or "0").major == branch),
            key=lambda x: (Version(x.linux or "0"), Version(x.cuda), x.update),
        )
        by_branch[branch] = {
            "branch": branch,
            "max_cuda": best.cuda,
            "status": "secondary",
            "source": f"derived from Table 3: R{branch} drivers meet the CUDA {best.cuda} rows "
            f"(first: {first.label}, >= {first.linux})",
        }
    for rep in reports:
        branch = Version(str(rep["driver"])).major
        cuda = Version(str(rep["cuda"]))
        contradicted = [
            r
            for r in known
            if Version(r.cuda) == cuda and r.update == 0 and Version(r.linux or "0").major > branch
        ]
        best = table_max(branch)
        entry: dict[str, Any] = {"branch": branch, "status": "secondary"}
        source = " ".join(str(rep["source"]).split())
        if contradicted and best is not None:
            entry["max_cuda"] = best.cuda
            entry["notes"] = (
                f"nvidia-smi of {rep['driver']} prints 'CUDA Version: {rep['cuda']}', but Table 3 asks "
                f">= {contradicted[0].linux} for CUDA {rep['cuda']}, so the table's answer is {best.cuda}; a "
                "driver's own report is preferred when shown"
            )
            entry["source"] = f"derived from Table 3 (R{branch} meets the CUDA {best.cuda} rows); {source}"
        else:
            entry["max_cuda"] = f"{cuda.major}.{cuda.minor}"
            if rep.get("note"):
                entry["notes"] = " ".join(str(rep["note"]).split())
            derived = by_branch.get(branch)
            agrees = derived is not None and Version(derived["max_cuda"]) == cuda
            entry["source"] = f"{derived['source']}; {source}" if agrees and derived else source
        by_branch[branch] = entry
    out = []
    for branch in sorted(by_branch):
        e = by_branch[branch]
        out.append({k: e[k] for k in ("branch", "max_cuda", "notes", "status", "source") if k in e})
    return out


_ARCH_ITEM = re.compile(r"^(\d+)\.(\d+)(\+PTX)?$")


def arch_list_from_script(value: str, where: str) -> list[str]:
    """A build script's TORCH_CUDA_ARCH_LIST ("3.7;5.0+PTX;6.0") → get_arch_list() form
    (["sm_37", "sm_50", "sm_60", "compute_50"]): every item a cubin, +PTX items also as PTX, PTX last."""
    sass, ptx = [], []
    for item in re.split(r"[;\s]+", value.strip()):
        m = _ARCH_ITEM.match(item)
        if not m:
            raise SourceError(f"{where}: {item!r} is not an arch like '8.6' or '9.0+PTX'")
        sass.append(f"sm_{m.group(1)}{m.group(2)}")
        if m.group(3):
            ptx.append(f"compute_{m.group(1)}{m.group(2)}")
    return sass + ptx


def torch_tables(
    wheels: list[WheelRow], releases: dict[str, Any], arch_lists: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    facts = {str(r["release"]): r for r in releases.get("releases") or []}
    by_release: dict[str, list[WheelRow]] = {}
    for w in wheels:
        by_release.setdefault(w.release, []).append(w)
    missing = sorted(set(by_release) - set(facts), key=Version)
    if missing:
        raise SourceError(
            f"{WHEEL_INDEX} lists torch {', '.join(missing)}, which {RELEASES} does not describe: add each "
            "release's month, PyPI default, status and source there"
        )
    release_entries = []
    for rel in sorted(by_release, key=Version):
        rows = by_release[rel]
        linux = next((w for w in rows if w.platform == "linux-x86_64"), None)
        if linux is None:
            raise SourceError(f"{WHEEL_INDEX}: torch {rel} has no linux-x86_64 row")
        f = facts[rel]
        entry: dict[str, Any] = {
            "release": rel,
            "date": str(f["date"]),
            "latest": max((w.latest for w in rows), key=Version),
            "variants": list(linux.variants),
            "pypi_default": f.get("pypi_default"),
        }
        if f.get("notes"):
            entry["notes"] = " ".join(str(f["notes"]).split())
        entry["status"] = str(f["status"])
        entry["source"] = " ".join(str(f["source"]).split())
        release_entries.append(entry)
    exists = {(w.release, w.platform, v) for w in wheels for v in w.variants}
    arch_entries = []
    for i, raw in enumerate(arch_lists.get("entries") or []):
        where = f"{ARCH_LISTS}: entry {i + 1}"
        if "torch_cuda_arch_list" in raw:
            arches = arch_list_from_script(str(raw["torch_cuda_arch_list"]), where)
        else:
            arches = [str(a) for a in raw["arch_list"]]
        releases_ = [str(r) for r in raw["releases"]]
        for rel in releases_:
            if (rel, raw["platform"], raw["variant"]) not in exists:
                raise SourceError(
                    f"{where}: torch {rel} {raw['variant']} on {raw['platform']} is not in {WHEEL_INDEX}"
                )
        arch_entries.append(
            {
                "releases": releases_,
                "variant": str(raw["variant"]),
                "platform": str(raw["platform"]),
                "arch_list": arches,
                "status": str(raw["status"]),
                "source": " ".join(str(raw["source"]).split()),
            }
        )
    return release_entries, arch_entries


def meta_entry(
    current_to: str,
    toolkits: list[dict[str, Any]],
    branches: list[dict[str, Any]],
    torch: list[dict[str, Any]],
) -> dict[str, Any]:
    newest_cuda = max((Version(t["cuda"]) for t in toolkits), default=None)
    with_driver = [t for t in toolkits if t["linux_min_driver"]]
    newest_known = max(with_driver, key=lambda t: (Version(t["cuda"]), t["update"])) if with_driver else None
    newest_torch = max((Version(r["release"]) for r in torch), default=None)
    newest_branch = max((b["branch"] for b in branches), default=None)
    gpu_code = _yaml(CATALOG / "gpu-code.yaml")
    ccs = [Version(str(e["newest"])) for e in gpu_code["nvcc_targets"]["entries"]]
    known_label = newest_known["label"] if newest_known else "?"
    covers = (
        f"PyTorch releases up to {newest_torch} (wheel variants and arch lists), CUDA toolkits up to "
        f"{newest_cuda} (minimum drivers known up to {known_label}), NVIDIA driver branches up to "
        f"R{newest_branch}, GPUs up to compute capability {max(ccs, default='?')}."
    )
    return {
        "current_to": current_to,
        "covers": covers,
        "status": "verified",
        "source": f"the newest retrieval date of tests/data/sources/compat/ ({current_to}); audit 2026-12",
    }


# ---------------------------------------------------------------- writing YAML


_PLAIN = re.compile(r"^[a-z][a-z0-9_]*(-[a-z0-9_]+)*$")
_RESERVED = {"yes", "no", "on", "off", "null", "true", "false", "y", "n", "none"}


def _scalar(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if _PLAIN.match(text) and text not in _RESERVED:
        return text
    return json.dumps(text, ensure_ascii=False)


def _flow(value: object) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    return _scalar(value)


def _folded(text: str, indent: int) -> str:
    pad = " " * indent
    lines = textwrap.wrap(
        " ".join(text.split()), width=100 - indent, break_long_words=False, break_on_hyphens=False
    )
    return ">-\n" + "\n".join(pad + line for line in lines)


def render_file(comment: str, tables: dict[str, tuple[str, str, list[dict[str, Any]]]]) -> str:
    """``comment`` lines, then each table as {reviewed, source, entries} with one flow mapping per entry."""
    out = [f"# {line}".rstrip() for line in comment.splitlines()]
    for name, (reviewed, source, entries) in tables.items():
        out += ["", f"{name}:", f'  reviewed: "{reviewed}"', f"  source: {_folded(source, 4)}", "  entries:"]
        out += [f"    - {_flow(e)}" for e in entries]
    text = "\n".join(out) + "\n"
    parsed = yaml.safe_load(text)  # the emitter must round-trip exactly, or the catalog would lie
    for name, (reviewed, source, entries) in tables.items():
        want = {"reviewed": reviewed, "source": " ".join(source.split()), "entries": entries}
        if parsed[name] != want:
            raise AssertionError(f"YAML emitter does not round-trip table {name}")
    return text


_GENERATED = (
    "GENERATED by scripts/refresh_knowledge.py from tests/data/sources/compat/. Do not edit by hand:\n"
    "change the recorded sources (or the script), run it with --write, review the diff.\n"
)


def build(sources: Path = SOURCES) -> dict[Path, str]:
    """Every generated catalog file, as text, from the recorded sources alone (no network)."""
    table3_head, rows = read_table3(sources)
    smi = _yaml(sources / SMI_REPORTS)
    wheel_head, wheels = read_wheel_index(sources)
    releases = _yaml(sources / RELEASES)
    arch_lists = _yaml(sources / ARCH_LISTS)
    toolkits = toolkit_entries(rows)
    branches = branch_entries(rows, list(smi.get("reports") or []))
    torch_releases, torch_arch = torch_tables(wheels, releases, arch_lists)
    dates = {
        "table3": table3_head["retrieved"],
        "smi": _date(smi.get("retrieved"), SMI_REPORTS),
        "wheels": _date(wheel_head.get("retrieved"), WHEEL_INDEX),
        "releases": _date(releases.get("retrieved"), RELEASES),
        "arch": _date(arch_lists.get("retrieved"), ARCH_LISTS),
    }
    current_to = max(dates.values())
    cuda_file = render_file(
        _GENERATED
        + "CUDA toolkit ⇄ NVIDIA driver (reference/compat.md §1). Driver versions as nvidia-smi prints\n"
        "them; CUDA versions major.minor. status: verified = NVIDIA's table, secondary = other copies or\n"
        "derived.",
        {
            "cuda_toolkit_drivers": (
                dates["table3"],
                "NVIDIA CUDA Toolkit Release Notes, Table 3 'CUDA Toolkit and Corresponding Driver "
                f"Versions' ({table3_head['edition']} edition, {table3_head['url']}), recorded in "
                f"tests/data/sources/compat/{TABLE3}, plus the rows beyond that edition in "
                f"{TABLE3_EXTRA}. update: 0 = GA, 1 = Update 1, ...; a driver null = N/A or unknown (the "
                "family's minor-version floor then applies). The 11.0.1 RC row is left out.",
                toolkits,
            ),
            "driver_branches": (
                max(dates["table3"], dates["smi"]),
                "Each driver branch and the highest CUDA it supports: derived from Table 3 (a branch runs "
                "every toolkit whose driver belongs to it or an older branch) and from nvidia-smi reports "
                f"({SMI_REPORTS}) where the table has no row. Prefer the driver's own reported CUDA "
                "Version over this lookup.",
                branches,
            ),
        },
    )
    torch_file = render_file(
        _GENERATED
        + "PyTorch official binaries (reference/compat.md §3): release → CUDA variants → compiled arch\n"
        "list, as torch.cuda.get_arch_list() prints it (sm_XY cubin, compute_XY PTX). A (release,\n"
        "variant, platform) with no arch-list entry is unknown (the table may be stale), never assumed\n"
        "to work or to fail.",
        {
            "torch_releases": (
                max(dates["wheels"], dates["releases"]),
                "Variants and newest patch per release from the PyTorch wheel index "
                f"({WHEEL_INDEX_URL}, recorded in tests/data/sources/compat/{WHEEL_INDEX}); month, PyPI "
                "default (the variant a plain `pip install torch` gets on Linux x86_64; Windows and macOS "
                f"get CPU), status and source from {RELEASES} (RELEASE.md, the CUDA matrix RFCs, "
                "pytorch.org previous versions, PyPI history).",
                torch_releases,
            ),
            "torch_arch_lists": (
                dates["arch"],
                "PyTorch's build scripts per release (TORCH_CUDA_ARCH_LIST), real get_arch_list() output "
                f"and cuobjdump scans, recorded in tests/data/sources/compat/{ARCH_LISTS} with a source per "
                "entry. linux-aarch64 is SBSA servers (GH200, GB200, DGX Spark), not Jetson. "
                + " ".join(str(arch_lists.get("gaps") or "").split()),
                torch_arch,
            ),
        },
    )
    meta_file = render_file(
        _GENERATED
        + "How current the compatibility tables are (one place). `advisor --version` and every report show\n"
        "current_to; anything newer gets a knowledge-outdated finding. A user catalog's entry comes first.",
        {
            "knowledge_meta": (
                current_to,
                "The recorded sources behind the generated tables (tests/data/sources/compat/README.md) and "
                "shared/reference/audit-2026-12.md.",
                [meta_entry(current_to, toolkits, branches, torch_releases)],
            )
        },
    )
    return {
        CATALOG / "cuda-drivers.yaml": cuda_file,
        CATALOG / "torch.yaml": torch_file,
        CATALOG / "meta.yaml": meta_file,
    }


def diff(generated: dict[Path, str]) -> str:
    """Unified diff of the committed files against what the sources generate ('' when identical)."""
    out = []
    for path, text in generated.items():
        old = path.read_text(encoding="utf-8") if path.exists() else ""
        rel = path.relative_to(REPO)
        out += difflib.unified_diff(
            old.splitlines(keepends=True), text.splitlines(keepends=True), f"a/{rel}", f"b/{rel}"
        )
    return "".join(out)


# ---------------------------------------------------------------- --online: refreshing the recorded copies


def _fetch(url: str) -> str:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=30) as resp:  # fixed https URLs above
            return resp.read().decode("utf-8", errors="replace")
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise SourceError(f"cannot fetch {url} ({exc}); --online needs network access") from exc


def table3_from_html(html: str) -> list[tuple[str, str, str]]:
    """(label, linux, windows) rows of the "CUDA Toolkit and Corresponding Driver Versions" table."""
    start = html.find("Corresponding Driver Versions")
    if start < 0:
        raise SourceError(
            "release notes: the 'CUDA Toolkit and Corresponding Driver Versions' table is missing"
        )
    end = html.find("</table>", start)
    rows = []
    for tr in re.findall(r"<tr.*?</tr>", html[start:end], flags=re.S):
        cells = [
            re.sub(r"<[^>]+>", "", c).replace("&gt;", ">").strip()
            for c in re.findall(r"<t[dh].*?</t[dh]>", tr, flags=re.S)
        ]
        cells = [" ".join(c.split()) for c in cells]
        if len(cells) == 3 and cells[0].startswith("CUDA "):
            rows.append((cells[0], cells[1], cells[2]))
    if not rows:
        raise SourceError("release notes: no rows found in the driver table")
    return rows


_WHEEL_RE = re.compile(
    r"torch-(?P<ver>\d+\.\d+\.\d+)(?:%2B|\+)(?P<variant>cu\d+)-cp\d+-[^-]+-(?P<plat>[A-Za-z0-9_]+)\.whl"
)


def wheel_rows_from_index(html: str) -> list[WheelRow]:
    """(release, platform, newest patch, variants) from the wheel file names of the index page."""
    found: dict[tuple[str, str], tuple[Version, set[str]]] = {}
    for m in _WHEEL_RE.finditer(html):
        plat = m.group("plat")
        platform = (
            "windows"
            if plat.startswith("win")
            else "linux-aarch64"
            if plat.endswith("aarch64")
            else "linux-x86_64"
            if plat.endswith("x86_64")
            else None
        )
        if platform is None:
            continue
        v = Version(m.group("ver"))
        key = (f"{v.major}.{v.minor}", platform)
        latest, variants = found.get(key, (v, set()))
        variants.add(m.group("variant"))
        found[key] = (max(latest, v), variants)
    rows = []
    for (rel, platform), (latest, variants) in sorted(
        found.items(), key=lambda kv: (Version(kv[0][0]), PLATFORMS.index(kv[0][1]))
    ):
        ordered = tuple(sorted(variants, key=lambda s: int(s[2:])))
        rows.append(WheelRow(rel, platform, str(latest), ordered, f"{WHEEL_INDEX_URL}"))
    return rows


def script_arch_lists(text: str) -> dict[str, str]:
    """CUDA version → TORCH_CUDA_ARCH_LIST as a build script states it (for review, not rewritten)."""
    out: dict[str, str] = {}
    for m in re.finditer(r'"(\d{3})"\s*:\s*"([0-9.;+PTX]+)"', text):  # Windows build_env_setup.py table
        out[f"{m.group(1)[:-1]}.{m.group(1)[-1]}"] = m.group(2)
    case = None
    for line in text.splitlines():  # Linux build_cuda.sh: `12.8)` case arms, then TORCH_CUDA_ARCH_LIST=
        arm = re.match(r"\s*([\d.]+\*?)\)", line)
        if arm:
            case = arm.group(1)
        assign = re.search(r'TORCH_CUDA_ARCH_LIST="([^"]+)"', line)
        if assign and case:
            out.setdefault(case, assign.group(1))
    return out


def refresh_online(sources: Path) -> list[str]:
    """Rewrite the machine extracts from the network; return lines for the reviewer."""
    import datetime as dt

    today = dt.date.today().isoformat()
    notes = []
    html = _fetch(NOTES_URL)
    edition = re.search(r"CUDA Toolkit ([\d.]+(?: Update \d+)?)\s*-\s*Release Notes", html)
    rows = table3_from_html(html)
    head = [
        "# title: NVIDIA CUDA Toolkit Release Notes, Table 3 "
        '"CUDA Toolkit and Corresponding Driver Versions"',
        f"# url: {NOTES_URL}",
        f"# edition: {edition.group(1) if edition else 'current'}",
        f"# retrieved: {today}",
        "# how: scripts/refresh_knowledge.py --online",
        "# extract: the table's rows exactly as printed: "
        "CUDA Toolkit | Linux x86_64 driver | Windows x86_64 driver",
    ]
    (sources / TABLE3).write_text(
        "\n".join(head + [f"| {a} | {b} | {c} |" for a, b, c in rows]) + "\n", encoding="utf-8"
    )
    notes.append(f"{TABLE3}: {len(rows)} rows from {NOTES_URL}")
    wheels = wheel_rows_from_index(_fetch(WHEEL_INDEX_URL))
    head = [
        "# title: PyTorch wheel index: which feature release has CUDA wheels for which variant and platform",
        f"# url: {WHEEL_INDEX_URL}",
        f"# retrieved: {today}",
        "# how: scripts/refresh_knowledge.py --online (wheel file names of the index page)",
        "# extract: <release> <platform> <newest patch> <variants...>   # where the row was read",
    ]
    lines = [f"{w.release} {w.platform} {w.latest} {' '.join(w.variants)}  # {w.where}" for w in wheels]
    (sources / WHEEL_INDEX).write_text("\n".join(head + lines) + "\n", encoding="utf-8")
    notes.append(f"{WHEEL_INDEX}: {len(wheels)} rows from {WHEEL_INDEX_URL}")
    for platform, url in BUILD_SCRIPTS.items():
        for cuda, arch in script_arch_lists(_fetch(url)).items():
            notes.append(
                f"review {ARCH_LISTS}: current {platform} script, CUDA {cuda}: TORCH_CUDA_ARCH_LIST={arch}"
            )
    return notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="write the regenerated catalog files")
    parser.add_argument(
        "--online", action="store_true", help="refresh the recorded copies from the network first"
    )
    args = parser.parse_args(argv)
    try:
        if args.online:
            for line in refresh_online(SOURCES):
                print(line)
        generated = build()
    except SourceError as exc:
        print(f"refresh_knowledge: {exc}", file=sys.stderr)
        return 2
    changes = diff(generated)
    if args.write:
        for path, text in generated.items():
            path.write_text(text, encoding="utf-8")
        print(changes or "catalog already matches the recorded sources", end="" if changes else "\n")
        return 0
    if changes:
        print(changes, end="")
        return 1
    print("catalog matches the recorded sources")
    return 0


if __name__ == "__main__":
    sys.exit(main())
