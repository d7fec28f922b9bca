"""Redaction: stable pseudonyms that keep nodes distinguishable, applied everywhere an identifier appears."""

from __future__ import annotations

import pytest

from advisor.machine import HostInfo
from advisor.report import Finding
from advisor.reports.redact import SALT_ENV, pseudonym, redact_report
from tests.test_reports_samples import a5000_report

UUID0 = "GPU-12345678-aaaa-bbbb-cccc-0123456789ab"


def test_pseudonyms_are_stable_distinct_and_idempotent() -> None:
    a, b = pseudonym("host", "node-01"), pseudonym("host", "node-02")
    assert a == pseudonym("host", "node-01") and a != b
    assert a.startswith("host-") and len(a) == len("host-") + 10
    assert pseudonym("host", a) == a
    assert pseudonym("GPU", UUID0).startswith("GPU-redacted-")


def test_salt_changes_the_pseudonym(monkeypatch: pytest.MonkeyPatch) -> None:
    plain = pseudonym("host", "node-01")
    monkeypatch.setenv(SALT_ENV, "fleet secret")
    assert pseudonym("host", "node-01") != plain


def test_identifiers_are_replaced_everywhere() -> None:
    report = a5000_report()
    machine = report.machine.model_copy(
        update={
            "host": HostInfo(
                hostname="gpu-node-07",
                cuda_visible_devices=f"{UUID0},GPU-99999999-aaaa-bbbb-cccc-000000000000",
            )
        }
    )
    detail = f"on gpu-node-07, {UUID0} (serial 0123456789012) is busy; gpu-node-070 is not ours"
    finding = Finding(code="gpu-busy", severity="info", gpu=0, title="busy", detail=detail)
    redacted = redact_report(report.model_copy(update={"machine": machine, "findings": [finding]}))
    text = redacted.model_dump_json()
    for ident in ("gpu-node-07,", "gpu-node-07 ", UUID0, "0123456789012", "1234567890123", "GPU-99999999"):
        assert ident not in text
    assert "gpu-node-070" in text  # a longer name that merely starts with the host's is left alone
    assert redacted.machine.host.hostname == pseudonym("host", "gpu-node-07")
    assert redacted.machine.gpus[0].uuid == pseudonym("GPU", UUID0)
    assert pseudonym("GPU", UUID0) in (redacted.machine.host.cuda_visible_devices or "")
    assert redact_report(redacted) == redacted


def test_short_identifiers_stay_in_their_own_field() -> None:
    report = a5000_report(hostname="gpu")
    finding = Finding(code="gpu-busy", severity="info", title="GPU 0 is busy", detail="gpu util 100%")
    redacted = redact_report(report.model_copy(update={"findings": [finding]}))
    assert redacted.machine.host.hostname == pseudonym("host", "gpu")
    assert redacted.findings[0].detail == "gpu util 100%"
