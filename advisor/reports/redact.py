"""Redaction of host names, GPU UUIDs and serials in reports that leave the machine.

Each identifier is replaced by a stable short hash of its value (``host-3f9a1c07e2``, ``GPU-redacted-…``), so
reports of the same node still match in `report diff` and `report fleet` while the name itself is not written.
This is pseudonymisation, not anonymisation: a guessable host name can be confirmed by hashing candidates.
Set ``ADVISOR_REDACT_SALT`` to a secret shared by your fleet to key the hash and prevent that.
The identifiers are also replaced inside other text (a finding detail, CUDA_VISIBLE_DEVICES), host names
in any letter case and as the short name of an FQDN. Beyond the recorded identifiers, every string is
scrubbed of what would name a person or a network: user names in home-directory paths
(``/home/alice/…`` → ``/home/<user>/…``, ``C:\\Users\\alice`` and ``/Users/alice`` too) and IPv4/IPv6
addresses (``<ip>``). One pass (``Redactor``) serves every output path: ``--export``, ``--json``,
``report render``, ``report fleet``.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from advisor.report import Report

if TYPE_CHECKING:
    from advisor.reports.fleet import Fleet

SALT_ENV = "ADVISOR_REDACT_SALT"
_UUID_RE = re.compile(r"\b(GPU|MIG)-[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}\b")
_REDACTED_RE = re.compile(r"^(host|GPU-redacted|MIG-redacted|serial)-[0-9a-f]{10}$")
_MIN_EMBEDDED = 4  # shorter identifiers are only replaced in their own field, not inside other text
_HOME_RE = re.compile(
    r"(?P<pre>(?:/home|/Users|/export/home|/u|[A-Za-z]:\\\\?Users)[/\\]+)(?P<user>[^/\\\s:;,'\"()<>|]+)"
)
_IPV4_RE = re.compile(r"(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![\w.])")
# Candidates only; ipaddress decides (so `torch::jit`, times and PCI bus ids stay).
_IPV6_RE = re.compile(r"(?<![\w:.])(?=[0-9a-fA-F:]*::|(?:[0-9a-fA-F]{1,4}:){7})[0-9a-fA-F:]{2,39}(?![\w:])")
# Four-part version numbers (cuDNN 8.9.7.29) look like IPv4 addresses: not after these words.
_VERSION_CONTEXT = re.compile(r"(?:version|cudnn|driver|build|release|\bv|==|>=|<=|@)\W{0,3}$", re.IGNORECASE)
_KEEP_USERS = {"<user>", "runner", "shared", "Public", "Default", "All Users"}


def pseudonym(kind: str, value: str) -> str:
    """The stable replacement for one identifier (``kind`` is ``host``, ``GPU``, ``MIG`` or ``serial``)."""
    if _REDACTED_RE.match(value):
        return value  # already redacted: redaction is idempotent
    key = os.environ.get(SALT_ENV, "").encode()
    digest = hashlib.blake2b(value.encode(), digest_size=5, key=key[:64]).hexdigest()
    prefix = {"GPU": "GPU-redacted", "MIG": "MIG-redacted"}.get(kind, kind)
    return f"{prefix}-{digest}"


class Redactor:
    """Replaces a set of identifiers (host names, UUIDs, serials) and any user name or IP address in text."""

    def __init__(self) -> None:
        self.mapping: dict[str, str] = {}  # lower-cased identifier → pseudonym

    def add_host(self, name: str | None) -> None:
        if not name:
            return
        full = name.strip()
        self.mapping[full.lower()] = pseudonym("host", full)
        short = full.split(".", 1)[0]
        if short and short != full and not short.isdigit():
            self.mapping.setdefault(short.lower(), pseudonym("host", short))

    def add(self, kind: str, value: str | None) -> None:
        if value:
            self.mapping[value.lower()] = pseudonym(kind, value)

    def _pattern(self) -> re.Pattern[str] | None:
        embedded = [k for k, v in self.mapping.items() if len(k) >= _MIN_EMBEDDED and k != v.lower()]
        if not embedded:
            return None
        alternatives = "|".join(re.escape(k) for k in sorted(embedded, key=len, reverse=True))
        return re.compile(r"(?<![A-Za-z0-9])(" + alternatives + r")(?![A-Za-z0-9])", re.IGNORECASE)

    def scrub_all(self, value: Any) -> Any:
        """``value`` (JSON-like data) with every string scrubbed."""
        pattern = self._pattern()
        return _walk(value, self.mapping, pattern)

    def field(self, value: str) -> str:
        """One identifier field: its pseudonym, whatever its length (short ones too)."""
        return self.mapping.get(value.lower(), value)


def redact_report(report: Report) -> Report:
    """A copy of ``report`` with host names, GPU UUIDs, serials, user names and IPs replaced."""
    m = report.machine
    red = Redactor()
    red.add_host(m.host.hostname)
    node = m.scheduler.node_name if m.scheduler is not None else None
    red.add_host(node)  # a Slurm / Kubernetes node name is a host name
    for g in m.gpus:
        if g.uuid:
            red.add("MIG" if g.uuid.startswith("MIG-") else "GPU", g.uuid)
        if g.serial:
            red.add("serial", g.serial)
    data = report.model_dump(mode="json")
    machine = data["machine"]
    if m.host.hostname:
        machine["host"]["hostname"] = red.field(m.host.hostname)
    if node:
        machine["scheduler"]["node_name"] = red.field(node)
    for g in machine["gpus"]:
        for key in ("uuid", "serial"):
            if g.get(key):
                g[key] = red.field(g[key])
    return Report.model_validate(red.scrub_all(data))


def _walk(value: Any, mapping: dict[str, str], pattern: re.Pattern[str] | None) -> Any:
    if isinstance(value, str):
        return _scrub(value, mapping, pattern)
    if isinstance(value, list):
        return [_walk(v, mapping, pattern) for v in value]
    if isinstance(value, dict):
        # A version field is a version, however much it looks like an IPv4 address (8.9.7.29).
        return {
            k: v if isinstance(v, str) and k.endswith("version") else _walk(v, mapping, pattern)
            for k, v in value.items()
        }
    return value


def _home(m: re.Match[str]) -> str:
    return m.group(0) if m.group("user") in _KEEP_USERS else m.group("pre") + "<user>"


def _scrub(text: str, mapping: dict[str, str], pattern: re.Pattern[str] | None) -> str:
    if _REDACTED_RE.match(text):
        return text
    if pattern is not None:
        text = pattern.sub(lambda m: mapping[m.group(1).lower()], text)
    # UUIDs of GPUs this report does not list (CUDA_VISIBLE_DEVICES, a message about another device).
    text = _UUID_RE.sub(lambda m: pseudonym(m.group(1), m.group(0)), text)
    if "/" in text or "\\" in text:
        text = _HOME_RE.sub(_home, text)
    if "." in text:
        text = _IPV4_RE.sub(lambda m: _ipv4(m, text), text)
    if "::" in text or text.count(":") >= 7:
        text = _IPV6_RE.sub(_ipv6, text)
    return text


def _ipv4(m: re.Match[str], text: str) -> str:
    return m.group(0) if _VERSION_CONTEXT.search(text[max(0, m.start() - 12) : m.start()]) else "<ip>"


def _ipv6(m: re.Match[str]) -> str:
    import ipaddress

    try:
        ipaddress.IPv6Address(m.group(0))
    except ValueError:
        return m.group(0)
    return "<ip>"


def redact_fleet(fleet: Fleet) -> Fleet:
    """A copy of a merged fleet with every node's host name (in file names and text too), user names
    in paths and IP addresses replaced, as in a single report."""
    from advisor.reports.fleet import Fleet

    red = Redactor()
    for node in fleet.nodes:
        if node.host != Path(node.file).name:  # a node without a host name is called by its file name
            red.add_host(node.host)
    data = fleet.model_dump(mode="json")
    for node in data["nodes"]:
        node["host"] = red.field(node["host"])
    for outlier in data["outliers"]:
        outlier["host"] = red.field(outlier["host"])
    return Fleet.model_validate(red.scrub_all(data))
