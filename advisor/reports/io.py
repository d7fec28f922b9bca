"""Writing and reading saved reports. Writes are atomic: a crash mid-export leaves no partial file.

Format follows the suffix: ``.json``, ``.md`` (``.markdown``), ``.html`` (``.htm``).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from advisor.errors import InputError
from advisor.render.safe import safe_text
from advisor.report import SCHEMA_VERSION, Report

if TYPE_CHECKING:
    from rich.console import Console

FORMATS = {
    ".json": "json",
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
    ".txt": "text",
}
DEFAULT_DIR = Path("reports")
# Reports are small (a 10,000-GPU fleet node is a few MB); a cap keeps /dev/zero or a runaway FIFO
# from eating all memory before the parser even starts.
MAX_REPORT_BYTES = 64 * 2**20


def render_as(report: Report, fmt: str, *, include_ids: bool = False) -> str:
    """The report as ``json``, ``md`` or ``html`` text (redacted unless ``include_ids``)."""
    if not include_ids:
        from advisor.reports.redact import redact_report

        report = redact_report(report)
    if fmt == "json":
        return report.model_dump_json(indent=2) + "\n"
    if fmt == "md":
        from advisor.render.markdown import render_markdown

        return render_markdown(report)
    if fmt == "html":
        from advisor.render.html import render_html

        return render_html(report)
    if fmt == "text":
        from advisor.render.terminal import render_report

        return terminal_text(lambda c: render_report(report, c))
    raise InputError(f"unknown report format {fmt!r} (use json, md, html or text)")


def terminal_text(draw: Callable[[Console], None], width: int = 120) -> str:
    """What a terminal renderer prints, captured as plain text (for a .txt file)."""
    import io

    from rich.console import Console

    buffer = io.StringIO()
    draw(Console(file=buffer, no_color=True, width=width, highlight=False, markup=False, emoji=False))
    return buffer.getvalue()


def format_for(path: Path) -> str:
    """The format a path's suffix asks for; InputError for any other suffix."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(
            f"cannot tell the report format of {safe_text(str(path))!r}: use a .json, .md, .html or .txt "
            "file name"
        )
    return fmt


def write_report(report: Report, path: str | Path, *, include_ids: bool = False) -> Path:
    """Write ``report`` to ``path`` atomically, format from the suffix; a directory gets the default name.

    Host names, GPU UUIDs and serials are redacted unless ``include_ids``. Returns the path written.
    """
    target = Path(path)
    if target.is_dir() or str(path).endswith(("/", os.sep)):
        target = target / default_report_path(report, "json", include_ids=include_ids).name
    fmt = format_for(target)
    check_writable(target)
    text = render_as(report, fmt, include_ids=include_ids)
    atomic_write_text(target, text)
    return target


def check_writable(path: Path) -> None:
    """InputError unless ``path`` is missing or a regular file (checked before any work is done).

    A report is written by replacing the file; a device node, FIFO or /proc/self/fd link must never be
    replaced (``-o /dev/null`` as root would otherwise turn /dev/null into a regular file).
    """
    try:
        st = path.stat()
    except FileNotFoundError:
        return
    except OSError as exc:
        raise InputError(f"cannot write {safe_text(str(path))!r}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"cannot write {safe_text(str(path))!r}: it is a directory")
    if not stat.S_ISREG(st.st_mode):
        raise InputError(
            f"refusing to write {safe_text(str(path))!r}: not a regular file (a device, FIFO or "
            "terminal); use '-o -' (or --json) for stdout"
        )


def default_report_path(report: Report, ext: str, *, include_ids: bool = False) -> Path:
    """``reports/<host>-<YYYYMMDD-HHMMSS>.<ext>`` under the CWD; host redacted unless ``include_ids``."""
    host = report.machine.host.hostname
    if host and not include_ids:
        from advisor.reports.redact import pseudonym

        host = pseudonym("host", host)
    safe_host = re.sub(r"[^A-Za-z0-9._-]+", "_", host or "unknown-host").strip("._") or "unknown-host"
    stamp = _timestamp(report.created)
    return DEFAULT_DIR / f"{safe_host}-{stamp}.{ext.lstrip('.')}"


def _timestamp(created: str) -> str:
    try:
        when = _dt.datetime.fromisoformat(created.replace("Z", "+00:00"))
    except ValueError:
        when = _dt.datetime.now(_dt.timezone.utc)
    if when.tzinfo is not None:
        when = when.astimezone(_dt.timezone.utc)
    return when.strftime("%Y%m%d-%H%M%S")


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temp file in the same directory, fsync, then ``os.replace``.

    Any failure (including KeyboardInterrupt and SIGTERM, which the CLI turns into SystemExit) removes
    the temp file and leaves an existing ``path`` untouched. Only regular files are ever replaced; an
    OSError (read-only directory, disk full, file too large) becomes one InputError line naming the path.
    """
    check_writable(path)
    try:
        _atomic_write(path, text)
    except OSError as exc:
        raise InputError(f"cannot write {safe_text(str(path))!r}: {exc.strerror or exc}") from None


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            _write_all(fh, text)
            fh.flush()
            os.fsync(fh.fileno())
        _set_mode(tmp, path)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _write_all(fh: IO[str], text: str) -> None:
    # A seam for the crash test: it replaces this with a write that stops half-way.
    fh.write(text)


def _set_mode(tmp: Path, target: Path) -> None:
    # mkstemp creates 0600; a report should get the usual permissions (an existing file keeps its own).
    try:
        mode = target.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    os.chmod(tmp, mode)


def _fsync_dir(directory: Path) -> None:
    # The rename is durable only once the directory entry is on disk; best effort (Windows cannot open a dir).
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def read_report_bytes(path: str | Path) -> bytes:
    """The bytes of a saved report (``-`` reads stdin), at most MAX_REPORT_BYTES; InputError names the file.

    Special files are allowed (``<(ssh node cat r.json)`` is a pipe) but never read past the cap, so
    ``/dev/zero`` or an endless FIFO ends in one line instead of exhausting memory.
    """
    import sys

    name = safe_text(str(path))
    try:
        if str(path) == "-":
            raw = sys.stdin.buffer.read(MAX_REPORT_BYTES + 1)
        else:
            with open(path, "rb") as fh:
                raw = fh.read(MAX_REPORT_BYTES + 1)
    except OSError as exc:
        raise InputError(f"cannot read report {name!r}: {exc.strerror or exc}") from None
    if len(raw) > MAX_REPORT_BYTES:
        raise InputError(f"{name!r} is larger than {MAX_REPORT_BYTES // 2**20} MiB; not a report")
    _refuse_huge_numbers(raw, name)
    return raw


# A JSON number token of this many digits or more (after ``:``, ``[`` or ``,``): no field of a report
# needs it, and such integers overflow every float conversion in the renderers.
_HUGE_NUMBER = re.compile(rb"[:\[,]\s*-?\d{40,}")


def _refuse_huge_numbers(raw: bytes, name: str) -> None:
    if not _HUGE_NUMBER.search(raw):
        return

    # Only a hint so far (the digits may sit inside a string): confirm with a real parse.
    def checked(token: str) -> int:
        if len(token.lstrip("-")) >= 40:
            raise InputError(f"{name!r} holds a number of {len(token)} digits; not a valid advisor report")
        return int(token)

    try:
        json.loads(raw, parse_int=checked)
    except (ValueError, RecursionError, UnicodeDecodeError):
        return  # not JSON: the parser's own error says so


def load_report(path: str | Path) -> Report:
    """Read a saved JSON report (``-``: stdin). InputError names the file for unreadable, malformed or
    too-new input, too large or too deeply nested files included."""
    return parse_report(read_report_bytes(path), "<stdin>" if str(path) == "-" else str(path))


def parse_report(raw: bytes | str, name: str) -> Report:
    """Parse report JSON; ``name`` is what the error messages call the input."""
    from pydantic import ValidationError

    name = safe_text(name, one_line=True)
    try:
        report = Report.model_validate_json(raw)
    except ValidationError as exc:
        data = _json_or_error(raw, name)
        check_version(data.get("schema_version"), name)
        lenient = _drop_unknown_fields(data, exc) if _newer_minor(data) else None
        if lenient is not None:
            return lenient
        raise invalid_report_error(raw, name, exc) from None
    check_version(report.schema_version, name)
    return report


def invalid_report_error(raw: bytes | str, name: str, exc: Exception) -> InputError:
    """The clearest error for input that failed validation: not JSON, not a report, too new, which field."""
    from pydantic import ValidationError

    data = _json_or_error(raw, name)
    check_version(data.get("schema_version"), name)
    assert isinstance(exc, ValidationError)
    first = exc.errors()[0]
    where = safe_text(".".join(str(p) for p in first["loc"]) or "(top)", one_line=True)[:200]
    msg = safe_text(first["msg"], one_line=True)[:300]
    return InputError(
        f"{name!r} is not a valid advisor report: {where}: {msg} ({exc.error_count()} problem(s))"
    )


def _json_or_error(raw: bytes | str, name: str) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except RecursionError:
        raise InputError(f"{name!r} is nested too deeply; not an advisor report") from None
    except (ValueError, UnicodeDecodeError) as exc:
        reason = safe_text(str(exc), one_line=True)[:200]
        raise InputError(
            f"{name!r} is not JSON ({reason}); expected a report written by `advisor check --export`"
        ) from None
    if not isinstance(data, dict) or "machine" not in data or "schema_version" not in data:
        raise InputError(f"{name!r} is JSON but not an advisor report (no schema_version / machine)")
    return data


def _version_tuple(value: object) -> tuple[int, int] | None:
    m = re.fullmatch(r"(\d+)(?:\.(\d+))?", str(value).strip())
    return (int(m.group(1)), int(m.group(2) or 0)) if m else None


def check_version(version: object, name: str) -> None:
    """InputError when a report's schema is unreadable or of a newer major version than this advisor reads."""
    theirs, ours = _version_tuple(version), _version_tuple(SCHEMA_VERSION)
    assert ours is not None
    if theirs is None:
        shown = safe_text(repr(version)[:60], one_line=True)
        raise InputError(f"{name!r} has an unreadable schema_version {shown}")
    if theirs[0] > ours[0]:
        raise InputError(
            f"{name!r} was written with report schema {version}, "
            "newer than this advisor reads "
            f"({SCHEMA_VERSION}); upgrade advisor (pip install -U gpu-advisor)"
        )


def _newer_minor(data: dict[str, Any]) -> bool:
    theirs, ours = _version_tuple(data.get("schema_version")), _version_tuple(SCHEMA_VERSION)
    return theirs is not None and ours is not None and theirs[0] == ours[0] and theirs[1] > ours[1]


def _drop_unknown_fields(data: dict[str, Any], exc: Exception) -> Report | None:
    """A newer minor schema only adds optional fields: drop those this version does not know, then retry."""
    from pydantic import ValidationError

    assert isinstance(exc, ValidationError)
    errors = exc.errors()
    if any(err["type"] != "extra_forbidden" for err in errors):
        return None
    for err in errors:
        *parents, key = err["loc"]
        node: Any = data
        for part in parents:
            node = node[part]
        node.pop(key, None)
    try:
        return Report.model_validate(data)
    except ValidationError:
        return None
