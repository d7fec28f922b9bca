"""Untrusted strings never drive the terminal and are never parsed as rich markup (issue 11 item 1)."""

from __future__ import annotations

import copy
import unicodedata
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given
from hypothesis import strategies as st

from advisor.render.safe import safe_text
from tests.attack.conftest import ESC, POWER_BRAKE, invoke, write_json

BAD = set(range(0x00, 0x09)) | set(range(0x0B, 0x20)) | set(range(0x7F, 0xA0))


def _clean(text: str) -> bool:
    return not any(ord(ch) in BAD or unicodedata.category(ch) == "Cf" for ch in text)


@given(
    st.text()
    | st.lists(st.sampled_from(["\x1b", "]", "[", "\U000e0041", "\u202e", "a", "\x9b", "\x07"])).map("".join)
)
def test_safe_text_leaves_no_control_or_invisible_character(text: str) -> None:
    assert _clean(safe_text(text))
    assert "\n" not in safe_text(text, one_line=True)


def test_safe_text_removes_whole_sequences_and_keeps_the_words() -> None:
    assert safe_text(f"NVIDIA {ESC} H100") == "NVIDIA BLINKlink H100"
    assert safe_text("NVIDIA \u202e08A 001H\u200b") == "NVIDIA 08A 001H"
    assert safe_text("plain [bold]x[/]") == "plain [bold]x[/]"


def test_report_diff_and_errors_carry_no_escape(tmp_path: Path, base_report: dict[str, Any]) -> None:
    base = write_json(tmp_path / "base.json", base_report)
    esc = copy.deepcopy(base_report)
    esc["created"] = "2026-01-01" + ESC
    code, out, _ = invoke("report", "diff", str(base), str(write_json(tmp_path / "esc.json", esc)))
    assert code == 0 and "\x1b" not in out and "BLINK" in out

    key = copy.deepcopy(base_report)
    key["machine"]["host"][ESC] = 1
    code, out, err = invoke("report", "render", str(write_json(tmp_path / "key.json", key)))
    assert code == 2 and "\x1b" not in err and "\x07" not in err


def test_fleet_majority_line_carries_no_escape(tmp_path: Path, base_report: dict[str, Any]) -> None:
    for i in range(3):
        node = copy.deepcopy(base_report)
        node["machine"]["host"]["hostname"] = f"n{i}"
        node["machine"]["driver"]["version"] = "550" + ESC
        write_json(tmp_path / f"n{i}.json", node)
    for to in ("text", "csv"):
        code, out, _ = invoke("report", "fleet", str(tmp_path), "--to", to, "--all")
        assert code == 0 and "\x1b" not in out and "550" in out, to


def test_bidi_override_in_a_gpu_name_is_removed(tmp_path: Path, base_report: dict[str, Any]) -> None:
    bidi = copy.deepcopy(base_report)
    bidi["machine"]["gpus"][0]["name"] = "NVIDIA \u202e08A 001H\u200b"
    code, out, _ = invoke("report", "render", str(write_json(tmp_path / "bidi.json", bidi)))
    assert code == 0 and "\u202e" not in out and "\u200b" not in out


def test_markup_in_a_search_is_printed_as_written() -> None:
    code, _, err = invoke("catalog", "search", "[/]")
    assert code == 0 and "[/]" in err and "Traceback" not in err


def _catalog(tmp_path: Path, name: str, extra: str = "") -> Path:
    cards = tmp_path / "cat" / "cards"
    cards.mkdir(parents=True)
    card = {
        "id": "h100-sxm5-80gb",
        "name": name,
        "vendor": "nvidia",
        "architecture": "Hopper",
        "segment": "datacenter",
        "memory_gb": 1,
        "compute_capability": "9.0",
        "notes": "n" + extra,
        "sources": ["s" + extra],
        "tflops": {"bf16": 1.0, "fp16": 1.0},
    }
    (cards / "x.yaml").write_text(yaml.safe_dump({"cards": [card]}, allow_unicode=True))
    return tmp_path / "cat"


def test_a_card_named_with_markup_and_escapes(tmp_path: Path) -> None:
    cat = _catalog(tmp_path, f"Weird [/] Card {ESC}", ESC)
    for args in (["show", "h100-sxm5-80gb"], ["compare", "h100-sxm5-80gb", "a100-sxm4-80gb"], ["list"]):
        code, out, err = invoke("catalog", *args, "--catalog", str(cat), env={"COLUMNS": "200"})
        assert code == 0, err
        assert "\x1b" not in out and "\x07" not in out
        if args[0] != "list":
            assert "Weird [/] Card" in out


def test_an_export_path_with_markup_is_reported_as_written(tmp_path: Path) -> None:
    target = tmp_path / "logs[/bold]" / "results [run 2]" / "n.json"
    code, _, err = invoke("check", "--from", str(POWER_BRAKE), "--export", str(target))
    assert code == 0 and target.is_file()
    assert str(target) in err
