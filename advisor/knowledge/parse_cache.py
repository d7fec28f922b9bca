"""A JSON copy of the parsed catalog YAML, keyed on each file's size and mtime, so start-up skips YAML.

Parsing the whole catalog with PyYAML (plus importing it) costs tens of milliseconds on every command;
reading the same data back from JSON costs under one. Only the *parsed* data is cached: it is still
validated on every load, so a stale or tampered cache cannot smuggle in an invalid entry, and an edited
file (new size or mtime) is parsed again. Files with YAML errors are never cached, so their errors are
reported every time.

Location: ``$ADVISOR_CACHE_DIR``, else ``$XDG_CACHE_HOME/advisor``, else ``~/.cache/advisor``.
``ADVISOR_NO_CACHE=1`` turns it off. Any problem reading or writing it just means no cache.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

# Bump when the YAML → data conversion changes (e.g. how dates or duplicate keys are handled).
FORMAT = 1
_NAME = f"catalog-parsed-v{FORMAT}.json"


def cache_dir() -> Path | None:
    """The folder of advisor's caches (this one and validated_cache's), or None when caching is off."""
    if os.environ.get("ADVISOR_NO_CACHE"):
        return None
    if os.environ.get("ADVISOR_CACHE_DIR"):
        return Path(os.environ["ADVISOR_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "advisor"


def cache_path() -> Path | None:
    """Where the cache lives, or None when it is turned off."""
    folder = cache_dir()
    return None if folder is None else folder / _NAME


class ParseCache:
    """Parsed YAML by absolute file path. ``get`` → (hit, data); ``put`` then ``save`` once at the end."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.entries: dict[str, dict[str, Any]] = {}
        self.dirty = False
        if path is None:
            return
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        if (
            isinstance(loaded, dict)
            and loaded.get("format") == FORMAT
            and isinstance(loaded.get("files"), dict)
        ):
            self.entries = loaded["files"]

    def get(self, file: Path) -> tuple[bool, Any]:
        entry = self.entries.get(os.path.abspath(file))
        if not isinstance(entry, dict) or self.path is None:
            return False, None
        try:
            st = file.stat()
        except OSError:
            return False, None
        if entry.get("size") != st.st_size or entry.get("mtime_ns") != st.st_mtime_ns:
            return False, None
        return True, entry.get("data")

    def put(self, file: Path, data: Any) -> None:
        """Remember ``data`` for ``file`` if it survives a JSON round trip unchanged (no int keys, sets)."""
        if self.path is None:
            return
        try:
            text = json.dumps(data)
            if json.loads(text) != data:
                return
            st = file.stat()
        except (TypeError, ValueError, OSError):
            return
        self.entries[os.path.abspath(file)] = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "data": data}
        self.dirty = True

    def save(self) -> None:
        """Write atomically (temp file + rename) if anything changed; forget files that no longer exist."""
        if self.path is None or not self.dirty:
            return
        files = {k: v for k, v in self.entries.items() if os.path.exists(k)}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".catalog-", suffix=".tmp")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    json.dump({"format": FORMAT, "files": files}, out)
                os.replace(tmp, self.path)
            except BaseException:
                os.unlink(tmp)
                raise
        except OSError:
            return
        self.dirty = False
