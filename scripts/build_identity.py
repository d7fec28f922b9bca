"""Generate catalog/identity/gpus-*.yaml: every NVIDIA GPU by PCI device id and name, with its die,
architecture, compute capability and the last driver branch that drives it.

Inputs (offline, recorded copies; see tests/data/sources/identity/SOURCES):
- NVIDIA's Linux driver README, Appendix A "Supported NVIDIA GPU Products": current GPUs and one list per
  legacy branch (470.xx ... 71.86.xx), with PCI device ids and the names the driver (nvidia-smi) prints;
- the PCI ID Repository's pci.ids, vendor 10de: the die of each device id ("GA102 [GeForce RTX 3090]") and
  the names lspci prints, including GPUs newer than the recorded README;
- catalog/identity/families.yaml (hand-reviewed): die → architecture and compute capability,
  whole-architecture driver cuts (R580 for Maxwell/Pascal/Volta), and the integrated (Tegra) GPUs that
  have no PCI id;
- an excerpt of NVIDIA's compute-capability tables, used only as a cross-check: the build fails when a GPU
  named there resolves to another compute capability.

Usage: python scripts/build_identity.py [--check]   (--check: exit 1 if the committed files differ)
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "tests" / "data" / "sources" / "identity"
README = SOURCES / "nvidia-550.163.01-readme-appendix-a.txt"
PCI_IDS = SOURCES / "pci.ids-10de.txt"
CC_EXCERPT = SOURCES / "cuda-gpus-excerpt.txt"
OUT = ROOT / "catalog" / "identity"
FAMILIES = OUT / "families.yaml"
INDEX_NAME = "index.json"

# pci.ids writes board variants of a die as suffixes: GL (Quadro/Tesla), GLM (mobile workstation), M (mobile),
# BM, B, C, CM, S. The die is the code without them.
_CHIP_SUFFIX = re.compile(r"(?:GLM|GL|BM|CM|M|B|C|S)$")
_DEVICE_LINE = re.compile(r"^\t(?P<id>[0-9a-f]{4})  (?P<desc>.+)$")
_PCI_DESC = re.compile(
    r"^(?P<chip>[A-Z][A-Za-z0-9]*[0-9][A-Za-z0-9]*)(?: / [^\[]+?)? *(?:\[(?P<names>.+)\])?$"
)
_README_ROW = re.compile(
    r"^ (?P<name>\S.*?) {2,}(?P<dev>[0-9A-F]{4})(?: (?P<sv>[0-9A-F]{4}) (?P<sd>[0-9A-F]{4}))?(?: +\S+)? *$"
)
_README_BRANCH = re.compile(r"^The (?P<branch>[0-9.]+)\.xx driver supports the following set of GPUs")
_BRANDS = (
    *("GeForce", "Quadro", "Tesla", "TITAN", "NVIDIA", "RTX"),
    *("NVS", "GRID", "Jetson", "DRIVE", "CMP", "ION"),
)
# Bracket texts that name no product.
_NO_PRODUCT = re.compile(r"Reserved Dev ID|FPGA|Generic-GPU|Engineering Sample|NVSwitch", re.I)


@dataclass
class Device:
    pci: int
    chip: str | None = None  # the die as pci.ids names it, variant suffix removed
    chip_inferred: bool = False  # die unknown to pci.ids; architecture from neighbouring ids
    nvidia_names: list[str] = field(default_factory=list)
    lspci_names: list[str] = field(default_factory=list)
    branches: set[str | None] = field(default_factory=set)  # README lists the device is on (None = current)


def die_of(code: str) -> str:
    """``GA102GL`` → ``GA102``; ``GK208BM`` → ``GK208``; ``GT200b`` stays (a die of its own in pci.ids)."""
    while True:
        stripped = _CHIP_SUFFIX.sub("", code)
        if stripped == code or not re.search(r"\d", stripped):
            return code
        code = stripped


def read_readme(path: Path) -> dict[int, tuple[list[str], set[str | None]]]:
    """Device id → (NVIDIA's names, the branches whose list holds it; None = the current driver)."""
    out: dict[int, tuple[list[str], set[str | None]]] = {}
    branch: str | None = None
    seen_current = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("A1. CURRENT NVIDIA GPUS"):
            seen_current, branch = True, None
            continue
        m = _README_BRANCH.match(line)
        if m:
            branch = m.group("branch")
            continue
        if not seen_current:
            continue
        row = _README_ROW.match(line)
        if row is None or row.group("name").startswith(("NVIDIA GPU product", "---")):
            continue
        dev = int(row.group("dev"), 16)
        names, branches = out.setdefault(dev, ([], set()))
        name = row.group("name").strip()
        if name not in names:
            names.append(name)
        branches.add(branch)
    return out


def read_pci_ids(path: Path) -> dict[int, tuple[str, str | None]]:
    """Device id → (die code as written, bracket text) for vendor 10de's device lines that name a die."""
    out: dict[int, tuple[str, str | None]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        m = _DEVICE_LINE.match(line)
        if m is None:
            continue
        d = _PCI_DESC.match(m.group("desc").strip())
        if d is None:
            continue
        out[int(m.group("id"), 16)] = (d.group("chip"), d.group("names"))
    return out


def expand_alternatives(text: str) -> list[str]:
    """Full product names from a pci.ids bracket: ``GeForce 9600 GSO / 9800 GT`` → both names,
    ``GeForce GTX 1080 Max-Q / Mobile`` → both variants, ``GeForce 610M/710M`` → both models."""
    if _NO_PRODUCT.search(text):
        return []
    parts = [p.strip() for p in text.split(" / ") if p.strip()]
    if not parts:
        return []
    first = parts[0].split()
    brand = first[0] if first[0] in _BRANDS else None
    digit_at = next((i for i, w in enumerate(first) if re.search(r"\d", w)), None)
    prefix = first[:digit_at] if digit_at is not None else []
    base = first[: digit_at + 1] if digit_at is not None else first
    out: list[str] = []
    for i, part in enumerate(parts):
        words = part.split()
        if i and not any(re.search(r"\d", w) for w in words):
            # a variant word ("Mobile", "Max-Q") completes the first name; a full name ("TITAN Xp") stands
            full = words[0] in _BRANDS or words[0] == first[0]
            candidates = [words if full else [*base, *words]]
        else:
            candidates = []
            for piece in _split_slash(words):
                if i and re.search(r"\d", piece[0]):
                    piece = [*prefix, *piece]  # a model number: "9800 GT" after "GeForce 9600 GSO"
                elif brand and piece[0] not in _BRANDS:
                    piece = [brand, *piece]  # "GT 620M" after "GeForce 610M"
                candidates.append(piece)
        for words_ in candidates:
            name = " ".join(words_)
            if name not in out:
                out.append(name)
    return out


def _split_slash(words: list[str]) -> list[list[str]]:
    """``GeForce 610M/710M`` → [GeForce 610M], [GeForce 710M]: a word with slashes holds alternatives."""
    for i, w in enumerate(words):
        pieces = [p for p in w.split("/") if p]
        if len(pieces) > 1:
            return [[*words[:i], p, *words[i + 1 :]] for p in pieces]
    return [words]


def load_families(path: Path) -> dict[str, object]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def build(families: dict[str, object]) -> dict[str, list[dict[str, object]]]:
    """Architecture → entries, each a dict ready to write."""
    chips: dict[str, dict[str, object]] = families["chips"]  # type: ignore[assignment]
    archs: dict[str, dict[str, object]] = families["architectures"]  # type: ignore[assignment]
    readme = read_readme(README)
    pci = read_pci_ids(PCI_IDS)

    devices: dict[int, Device] = {}
    for dev, (code, text) in pci.items():
        die = die_of(code)
        if die not in chips:
            continue
        # A bare die code is a GPU without a product name (pre-release or reserved id), kept for lookups by
        # id; a chipset die (C77, MCP79) only counts where NVIDIA's README lists the device as a GPU.
        if chips[die].get("chipset") and dev not in readme:
            continue
        device = devices.setdefault(dev, Device(dev))
        device.chip = die
        if text:
            device.lspci_names = expand_alternatives(text)
    for dev, (names, branches) in readme.items():
        device = devices.get(dev)
        if device is None:
            if dev in pci:
                continue  # pci.ids names its die and it is no CUDA die (GeForce 7, nForce chipsets)
            inferred = _infer_chip(dev, pci, chips)
            if inferred is None:
                continue
            device = devices.setdefault(dev, Device(dev, chip=inferred, chip_inferred=True))
        device.nvidia_names = list(names)
        device.branches = set(branches)

    # A device the README does not list (pci.ids knows more boards than the driver names) shares the branch
    # of the README's devices of its die, else of its architecture: a Kepler board the README omits is no
    # more supported by the current driver than the Kepler boards it lists under 470.xx.
    by_die: dict[str, set[str | None]] = defaultdict(set)
    by_arch: dict[str, set[str | None]] = defaultdict(set)
    for d in devices.values():
        if d.branches and d.chip is not None:
            by_die[d.chip].add(_newest(d.branches))
            by_arch[str(chips[d.chip]["architecture"])].add(_newest(d.branches))
    for d in devices.values():
        if not d.branches and d.chip is not None:
            arch_name = str(chips[d.chip]["architecture"])
            known = by_die.get(d.chip) or by_arch.get(arch_name) or set()
            if known:
                d.branches = {_newest(known)}

    out: dict[str, list[dict[str, object]]] = defaultdict(list)
    for dev in sorted(devices):
        d = devices[dev]
        assert d.chip is not None
        fam = chips[d.chip]
        arch = str(fam["architecture"])
        entry: dict[str, object] = {"pci": f"0x{dev:04x}", "chip": d.chip}
        if d.chip_inferred:
            entry["chip_from"] = "neighbouring PCI ids"
        entry["cc"] = str(fam["cc"])
        branch = _last_branch(d.branches, archs.get(arch, {}))
        if branch is not None:
            entry["last_branch"] = branch
        if fam.get("integrated"):
            entry["integrated"] = True
        if d.nvidia_names:
            entry["names"] = d.nvidia_names
        lspci = [n for n in d.lspci_names if n not in d.nvidia_names]
        if lspci:
            entry["lspci"] = lspci
        out[arch].append(entry)
    for item in families["integrated"]:  # type: ignore[attr-defined]
        entry = {"chip": item["chip"], "cc": str(item["cc"]), "integrated": True}
        entry["names"] = list(item["names"])
        entry["products"] = list(item["products"])
        out[str(item["architecture"])].append(entry)
    return dict(out)


def _infer_chip(
    dev: int, pci: dict[int, tuple[str, str | None]], chips: dict[str, dict[str, object]]
) -> str | None:
    """The die of the nearest lower and higher ids of the same die family (same architecture and CC)."""
    lower = [d for d in pci if d < dev and die_of(pci[d][0]) in chips]
    higher = [d for d in pci if d > dev and die_of(pci[d][0]) in chips]
    if not lower or not higher:
        return None
    lo, hi = die_of(pci[max(lower)][0]), die_of(pci[min(higher)][0])
    if lo == hi:
        return lo
    same = chips[lo]["architecture"] == chips[hi]["architecture"] and chips[lo]["cc"] == chips[hi]["cc"]
    return lo if same else None


def _newest(branches: set[str | None]) -> str | None:
    """The newest of some branches; None (the current driver) is newer than any legacy branch."""
    if None in branches:
        return None
    return max((b for b in branches if b is not None), key=lambda b: tuple(int(x) for x in b.split(".")))


def _last_branch(branches: set[str | None], arch: dict[str, object]) -> str | None:
    """The newest branch whose README list holds the device; for a current one, the architecture's cut."""
    newest = _newest(branches) if branches else None
    if newest is None:
        cut = arch.get("last_branch")
        return None if cut is None else str(cut)
    return newest


# ---------------------------------------------------------------- output


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    plain = re.fullmatch(r"[A-Za-z][A-Za-z0-9 ._()+-]*[A-Za-z0-9.)+]|[A-Za-z]", text) and not re.match(
        r"^(?:true|false|yes|no|on|off|null|y|n)$", text, re.I
    )
    return text if plain and ": " not in text and " #" not in text else _quote(text)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render(arch: str, entries: list[dict[str, object]], families_source: str) -> str:
    lines = [
        "# GENERATED by scripts/build_identity.py from the recorded sources in tests/data/sources/identity/",
        "# (NVIDIA driver README Appendix A, pci.ids vendor 10de) and catalog/identity/families.yaml.",
        "# Do not edit by hand: change the inputs and run `python scripts/build_identity.py`.",
        "# Fields: pci (device id), chip (die), cc, last_branch (newest driver branch that drives it;",
        "# absent = the current driver), integrated (Tegra: no desktop driver), names (as NVIDIA's driver",
        "# and nvidia-smi print them), lspci (pci.ids names where they differ), chip_from (die not in",
        "# pci.ids: inferred from neighbouring ids).",
        f"architecture: {_scalar(arch)}",
        f"source: {_quote(families_source)}",
        "gpus:",
    ]
    for e in entries:
        parts = []
        for key, value in e.items():
            if isinstance(value, list):
                parts.append(f"{key}: [{', '.join(_quote(str(v)) for v in value)}]")
            elif key in ("pci", "cc", "last_branch"):
                parts.append(f"{key}: {_quote(str(value))}")
            else:
                parts.append(f"{key}: {_scalar(value)}")
        lines.append("  - {" + ", ".join(parts) + "}")
    return "\n".join(lines) + "\n"


def file_name(arch: str) -> str:
    return "gpus-" + arch.lower().replace(" ", "-") + ".yaml"


def outputs() -> dict[Path, str]:
    families = load_families(FAMILIES)
    built = build(families)
    archs: dict[str, dict[str, object]] = families["architectures"]  # type: ignore[assignment]
    cross_check(built, {str(d["name"]) for d in families.get("cc_table_disagreements", [])})  # type: ignore[attr-defined]
    files = {
        OUT / file_name(arch): render(arch, built[arch], str(archs[arch].get("source", "")).strip())
        for arch in archs
        if arch in built
    }
    files[OUT / INDEX_NAME] = index_json(files)
    return files


def index_json(files: dict[Path, str]) -> str:
    """The runtime form: the rows of the YAML just rendered, read back the way the advisor reads them,
    with the lookup indexes precomputed (advisor.knowledge.identity loads this, not the YAML)."""
    from advisor.knowledge.identity import IdentityTable, _row

    rows = []
    for text in files.values():
        data = yaml.safe_load(text)
        rows += [r for item in data["gpus"] if (r := _row(item, data["architecture"])) is not None]
    table = IdentityTable.build(rows)
    data = table.data()

    def dump(value: object) -> str:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)

    # One row and one index entry per line, so a rebuild's diff shows what changed.
    rows = ",\n".join(dump(r) for r in data["rows"])
    parts = [f'"format":{data["format"]}', f'"rows":[\n{rows}\n]']
    for name in ("by_pci", "by_key", "by_lspci", "by_chip"):
        items = ",\n".join(f"{dump(k)}:{dump(v)}" for k, v in data[name].items())
        parts.append(f'"{name}":{{\n{items}\n}}')
    return "{" + ",\n".join(parts) + "}\n"


# ---------------------------------------------------------------- cross-check with NVIDIA's CC tables


def _key(name: str) -> frozenset[str]:
    # The same normalisation as advisor.knowledge.identity.name_key (kept in step by a test).
    from advisor.knowledge.identity import name_key

    return name_key(name)


def cross_check(built: dict[str, list[dict[str, object]]], reviewed: set[str]) -> None:
    by_key: dict[frozenset[str], set[str]] = defaultdict(set)
    for entries in built.values():
        for e in entries:
            for n in [*e.get("names", []), *e.get("lspci", []), *e.get("products", [])]:  # type: ignore[misc]
                by_key[_key(str(n))].add(str(e["cc"]))
    problems = []
    for line in CC_EXCERPT.read_text(encoding="utf-8").splitlines():
        if "|" not in line or line.startswith("#"):
            continue
        cc, name = (s.strip() for s in line.split("|", 1))
        found = by_key.get(_key(name))
        if found and cc not in found and name not in reviewed:
            problems.append(f"{name}: NVIDIA's table says CC {cc}, identity gives {sorted(found)}")
    if problems:
        raise SystemExit("CC cross-check failed:\n  " + "\n  ".join(problems))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the committed files differ")
    args = parser.parse_args(argv)
    files = outputs()
    stale = [p for p in (*OUT.glob("gpus-*.yaml"), OUT / INDEX_NAME) if p not in files and p.exists()]
    if args.check:
        differ = [p for p, text in files.items() if not p.exists() or p.read_text(encoding="utf-8") != text]
        for p in differ + stale:
            print(f"{p.relative_to(ROOT)} is not what the build produces", file=sys.stderr)
        return 1 if differ or stale else 0
    for p in stale:
        p.unlink()
    for p, text in files.items():
        p.write_text(text, encoding="utf-8")
    counts = ", ".join(
        f"{p.stem[5:]} {t.count(chr(10) + '  - ')}" for p, t in files.items() if p.suffix == ".yaml"
    )
    print(f"wrote {len(files)} files: {counts}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
