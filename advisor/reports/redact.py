"""Redaction of host names, GPU UUIDs and serials in reports that leave the machine.

Each identifier is replaced by a stable short hash of its value (``host-3f9a1c07e2``, ``GPU-redacted-…``), so
reports of the same node still match in `report diff` and `report fleet` while the name itself is not written.
This is pseudonymisation, not anonymisation: a guessable host name can be confirmed by hashing candidates.
Set ``ADVISOR_REDACT_SALT`` to a secret shared by your fleet to key the hash and prevent that.
The identifiers are also replaced inside other text (a finding detail, CUDA_VISIBLE_DEVICES).
"""

from __future__ import annotations

import hashlib
import os
import re
from typing import Any

from advisor.report import Report

SALT_ENV = "ADVISOR_REDACT_SALT"
_UUID_RE = re.compile(r"\b(GPU|MIG)-[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}\b")
_REDACTED_RE = re.compile(r"^(host|GPU-redacted|MIG-redacted|serial)-[0-9a-f]{10}$")
_MIN_EMBEDDED = 4  # shorter identifiers are only replaced in their own field, not inside other text


def pseudonym(kind: str, value: str) -> str:
    """The stable replacement for one identifier (``kind`` is ``host``, ``GPU``, ``MIG`` or ``serial``)."""
    if _REDACTED_RE.match(value):
        return value  # already redacted: redaction is idempotent
    key = os.environ.get(SALT_ENV, "").encode()
    digest = hashlib.blake2b(value.encode(), digest_size=5, key=key[:64]).hexdigest()
    prefix = {"GPU": "GPU-redacted", "MIG": "MIG-redacted"}.get(kind, kind)
    return f"{prefix}-{digest}"


def redact_report(report: Report) -> Report:
    """A copy of ``report`` with host names, GPU UUIDs and serials replaced by their pseudonyms."""
    m = report.machine
    mapping: dict[str, str] = {}
    if m.host.hostname:
        mapping[m.host.hostname] = pseudonym("host", m.host.hostname)
    for g in m.gpus:
        if g.uuid:
            mapping[g.uuid] = pseudonym("MIG" if g.uuid.startswith("MIG-") else "GPU", g.uuid)
        if g.serial:
            mapping[g.serial] = pseudonym("serial", g.serial)
    data = report.model_dump(mode="json")
    machine = data["machine"]
    if m.host.hostname:
        machine["host"]["hostname"] = mapping[m.host.hostname]
    for g in machine["gpus"]:
        for key in ("uuid", "serial"):
            if g.get(key):
                g[key] = mapping[g[key]]
    embedded = {k: v for k, v in mapping.items() if len(k) >= _MIN_EMBEDDED and k != v}
    pattern = (
        re.compile(
            r"(?<![A-Za-z0-9])("
            + "|".join(re.escape(k) for k in sorted(embedded, key=len, reverse=True))
            + r")(?![A-Za-z0-9])"
        )
        if embedded
        else None
    )
    return Report.model_validate(_walk(data, embedded, pattern))


def _walk(value: Any, mapping: dict[str, str], pattern: re.Pattern[str] | None) -> Any:
    if isinstance(value, str):
        return _scrub(value, mapping, pattern)
    if isinstance(value, list):
        return [_walk(v, mapping, pattern) for v in value]
    if isinstance(value, dict):
        return {k: _walk(v, mapping, pattern) for k, v in value.items()}
    return value


def _scrub(text: str, mapping: dict[str, str], pattern: re.Pattern[str] | None) -> str:
    if pattern is not None:
        text = pattern.sub(lambda m: mapping[m.group(1)], text)
    # UUIDs of GPUs this report does not list (CUDA_VISIBLE_DEVICES, a message about another device).
    return _UUID_RE.sub(lambda m: pseudonym(m.group(1), m.group(0)), text)
