"""A JSON copy of the parsed catalog YAML, keyed on each file's size and mtime, so start-up skips YAML.

Parsing the whole catalog with PyYAML (plus importing it) costs tens of milliseconds on every command;
reading the same data back from JSON costs under one. Only the *parsed* data is cached: it is still
validated on every load, so a stale or tampered cache cannot smuggle in an invalid entry, and an edited
file (new size or mtime) is parsed again. Files with YAML errors are never cached, so their errors are
reported every time.

Location: ``$ADVISOR_CACHE_DIR``, else ``$XDG_CACHE_HOME/advisor``, else ``~/.cache/advisor``.
``ADVISOR_NO_CACHE=1`` turns it off. Any problem reading or writing it just means no cache.

Trust (both caches): the cached data decides the fix lines advisor prints (``pip install … --index-url``),
so another local user must not be able to plant it. The folder is created private (0700) and used only
while it is ours and not writable by group/others; a cache file is read only when it is a regular file
(never a FIFO that would hang, or a link to /dev/zero), ours, not group/other-writable, and under a
size cap (``read_private``).
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

MAX_CACHE_BYTES = 64 * 2**20

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


def trusted(st: os.stat_result) -> bool:
    """Ours and not writable by anyone else (where the platform has owners)."""
    if not hasattr(os, "getuid"):
        return True
    return st.st_uid == os.getuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def private_dir(folder: Path, *, create: bool) -> bool:
    """True when ``folder`` is a directory we may trust (created 0700 when ``create`` and missing)."""
    try:
        if create:
            folder.parent.mkdir(parents=True, exist_ok=True)
            folder.mkdir(mode=0o700, exist_ok=True)
        st = os.lstat(folder)  # a symlinked cache folder could point anywhere: not ours to judge
    except OSError:
        return False
    return stat.S_ISDIR(st.st_mode) and trusted(st)


def read_private(path: Path, max_bytes: int = MAX_CACHE_BYTES) -> bytes | None:
    """The bytes of a cache file we can trust, else None (see the module docstring). Never blocks."""
    if not private_dir(path.parent, create=False):
        return None
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
    flags |= getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or not trusted(st) or st.st_size > max_bytes:
            return None
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(max_bytes + 1)
        return data if len(data) <= max_bytes else None
    except OSError:
        return None
    finally:
        os.close(fd)


def write_private(path: Path, data: bytes) -> None:
    """Write atomically (temp file, 0600, rename) into the private cache folder; OSError when impossible."""
    if not private_dir(path.parent, create=True):
        raise PermissionError(f"cache folder {path.parent} is not private to this user")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


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
        raw = read_private(path)
        if raw is None:
            return
        try:
            loaded = json.loads(raw)
        except (ValueError, RecursionError):
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
            if len(text) > MAX_CACHE_BYTES or json.loads(text) != data:
                return
            st = file.stat()
        except (TypeError, ValueError, OSError, RecursionError):
            return
        self.entries[os.path.abspath(file)] = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "data": data}
        self.dirty = True

    def save(self) -> None:
        """Write atomically (temp file + rename) if anything changed; forget files that no longer exist."""
        if self.path is None or not self.dirty:
            return
        files = {k: v for k, v in self.entries.items() if os.path.exists(k)}
        try:
            write_private(self.path, json.dumps({"format": FORMAT, "files": files}).encode())
        except (OSError, ValueError, RecursionError):
            return
        self.dirty = False
