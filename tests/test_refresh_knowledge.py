"""scripts/refresh_knowledge.py rebuilds the generated compat tables from the recorded sources, offline.

The committed catalog files must be exactly what the recorded sources generate (byte for byte), so a
hand edit to a generated table, or a source change not regenerated, fails here. The parsers the
--online mode uses are tested on small pieces of text in the shape the live pages have.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from tests.conftest import REPO

SCRIPT = REPO / "scripts" / "refresh_knowledge.py"


@pytest.fixture(scope="module")
def rk() -> ModuleType:
    spec = importlib.util.spec_from_file_location("refresh_knowledge", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["refresh_knowledge"] = module
    spec.loader.exec_module(module)
    return module


def test_the_committed_tables_are_exactly_what_the_recorded_sources_generate(rk: ModuleType) -> None:
    generated = rk.build()
    assert set(generated) == {rk.CATALOG / n for n in ("cuda-drivers.yaml", "torch.yaml", "meta.yaml")}
    for path, text in generated.items():
        assert path.read_text(encoding="utf-8") == text, f"{path.name} differs: run refresh_knowledge.py"
    assert rk.diff(generated) == ""
    assert rk.main([]) == 0


def test_every_recorded_source_names_where_it_comes_from_and_when(rk: ModuleType) -> None:
    for path in sorted(rk.SOURCES.iterdir()):
        if path.name == "README.md":
            continue
        text = path.read_text(encoding="utf-8")
        assert "retrieved" in text and ("http" in text or "url:" in text), path.name


def test_a_changed_source_shows_up_in_the_generated_table(rk: ModuleType, tmp_path: Path) -> None:
    sources = tmp_path / "compat"
    shutil.copytree(rk.SOURCES, sources)
    table = sources / rk.TABLE3
    table.write_text(table.read_text().replace(">=595.71.05", ">=595.99.99"))
    text = rk.build(sources)[rk.CATALOG / "cuda-drivers.yaml"]
    assert '"595.99.99"' in text and '"595.71.05"' not in text.split("driver_branches:")[0]


def test_a_release_without_curated_facts_is_refused(rk: ModuleType, tmp_path: Path) -> None:
    sources = tmp_path / "compat"
    shutil.copytree(rk.SOURCES, sources)
    with (sources / rk.WHEEL_INDEX).open("a") as fh:
        fh.write("2.16 linux-x86_64 2.16.0 cu132 cu134\n")
    with pytest.raises(rk.SourceError, match=r"torch 2\.16"):
        rk.build(sources)


def test_an_arch_list_for_a_wheel_that_does_not_exist_is_refused(rk: ModuleType, tmp_path: Path) -> None:
    sources = tmp_path / "compat"
    shutil.copytree(rk.SOURCES, sources)
    arch = yaml.safe_load((sources / rk.ARCH_LISTS).read_text())
    arch["entries"].append(
        {"releases": ["2.15"], "variant": "cu126", "platform": "linux-x86_64", "arch_list": ["sm_50"],
         "status": "verified", "source": "x"}
    )  # fmt: skip
    (sources / rk.ARCH_LISTS).write_text(yaml.safe_dump(arch))
    with pytest.raises(rk.SourceError, match="not in pytorch-wheel-index"):
        rk.build(sources)


@pytest.mark.parametrize(
    ("label", "want"),
    [
        ("CUDA 13.2 Update 2", ("13.2", 2)),
        ("CUDA 11.4.0 GA", ("11.4", 0)),
        ("CUDA 11.3.1 Update 1", ("11.3", 1)),
        ("CUDA 10.1 (10.1.105 general release, and updates)", ("10.1", 0)),
        ("CUDA 9.2 (9.2.148 Update 1)", ("9.2", 1)),
        ("CUDA 8.0 (8.0.61 GA2)", ("8.0", 1)),
        ("CUDA 11.0.1 RC", None),
    ],
)
def test_table3_row_labels(rk: ModuleType, label: str, want: tuple[str, int] | None) -> None:
    assert rk.parse_row_label(label) == want


def test_build_script_notation_becomes_get_arch_list_form(rk: ModuleType) -> None:
    assert rk.arch_list_from_script("3.5;5.0+PTX;6.0", "x") == ["sm_35", "sm_50", "sm_60", "compute_50"]
    with pytest.raises(rk.SourceError):
        rk.arch_list_from_script("3.5;Turing", "x")


def test_branch_reports_lose_to_a_contradicting_table_row(rk: ModuleType) -> None:
    rows = [
        rk.ToolkitRow("10.2.89", "10.2", 0, "440.33", "441.22", "verified", "t"),
        rk.ToolkitRow("10.1", "10.1", 0, "418.39", "418.96", "verified", "t"),
        rk.ToolkitRow("12.6 GA", "12.6", 0, "560.28.03", "560.76", "verified", "t"),
    ]
    reports = [
        {"driver": "430.26", "cuda": "10.2", "source": "log"},  # the table asks 440.33 for 10.2
        {"driver": "565.57.01", "cuda": "12.7", "source": "log"},  # the table has no 12.7 toolkit
    ]
    got = {e["branch"]: e for e in rk.branch_entries(rows, reports)}
    assert got[430]["max_cuda"] == "10.1" and "440.33" in got[430]["notes"]
    assert got[565]["max_cuda"] == "12.7"
    assert got[418]["max_cuda"] == "10.1" and got[560]["max_cuda"] == "12.6"


def test_online_parsers_read_the_shapes_of_the_live_pages(rk: ModuleType) -> None:
    html = (
        "<h2>CUDA Toolkit and Corresponding Driver Versions</h2><table>"
        "<tr><th>CUDA Toolkit</th><th>Toolkit Driver Version</th></tr>"
        "<tr><td><p>CUDA 13.5 GA</p></td><td><p>&gt;=620.12.01</p></td><td><p>N/A</p></td></tr>"
        "<tr><td>CUDA 12.8 GA</td><td>&gt;=570.26</td><td>&gt;=570.65</td></tr></table>"
    )
    assert rk.table3_from_html(html) == [
        ("CUDA 13.5 GA", ">=620.12.01", "N/A"),
        ("CUDA 12.8 GA", ">=570.26", ">=570.65"),
    ]
    index = (
        '<a href="/whl/cu132/torch-2.16.0%2Bcu132-cp312-cp312-manylinux_2_28_x86_64.whl">x</a>'
        '<a href="/whl/cu130/torch-2.16.1%2Bcu130-cp312-cp312-win_amd64.whl">x</a>'
        '<a href="/whl/cu130/torch-2.16.0%2Bcu130-cp312-cp312-manylinux_2_28_x86_64.whl">x</a>'
        '<a href="/whl/cu130/torch-2.16.0%2Bcu130-cp312-cp312-manylinux_2_28_aarch64.whl">x</a>'
        '<a href="/whl/cpu/torch-2.16.0%2Bcpu-cp312-cp312-manylinux_2_28_x86_64.whl">x</a>'
    )
    rows = rk.wheel_rows_from_index(index)
    assert [(r.release, r.platform, r.latest, r.variants) for r in rows] == [
        ("2.16", "linux-x86_64", "2.16.0", ("cu130", "cu132")),
        ("2.16", "windows", "2.16.1", ("cu130",)),
        ("2.16", "linux-aarch64", "2.16.0", ("cu130",)),
    ]
    script = 'TABLE = {\n    "130": "7.5;8.0;8.6;9.0;10.0;12.0",\n}\ncase ${CUDA_VERSION} in\n  12.6)\n' \
        '    TORCH_CUDA_ARCH_LIST="5.0;6.0;7.0;7.5;8.0;8.6;9.0"\n    ;;\nesac\n'  # fmt: skip
    assert rk.script_arch_lists(script) == {
        "13.0": "7.5;8.0;8.6;9.0;10.0;12.0",
        "12.6": "5.0;6.0;7.0;7.5;8.0;8.6;9.0",
    }


def test_online_without_network_is_one_clear_error(rk: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    import urllib.error
    import urllib.request

    def offline(*args: object, **kwargs: object) -> object:
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(rk.SourceError, match="--online needs network access"):
        rk._fetch(rk.NOTES_URL)
