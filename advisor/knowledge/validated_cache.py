"""A pickle of the *validated* catalog (``Knowledge``, or the cards alone), so a warm start skips validation.

Validating the catalog means building pydantic validators for ~25 models, which costs more than the
rest of a ``catalog`` or ``check --from`` command together. The knowledge models use ``defer_build``,
so when the validated objects come from this cache their validators are never built at all.

Key (stored in the file and compared on read): every catalog file's path, size and mtime (the loader's
fingerprint of each directory, user ``--catalog`` directories included), the source files that define
the schema and the loading rules (their size and mtime), and the advisor, pydantic and Python
versions. Any difference means a full load, whose result replaces the file. Only a load that raised
no ``CatalogError`` is ever written, so a broken catalog reports its problems on every run.

Trust: pickle runs code on load, so this cache is only as trusted as the directory it lives in. It
is the user's own (``$ADVISOR_CACHE_DIR``, else ``$XDG_CACHE_HOME/advisor``, else ``~/.cache/advisor``,
the same trust as their site-packages); a file owned by another user or writable by group/others is
ignored. ``ADVISOR_NO_CACHE=1`` turns it off. Writes are atomic (temp file + rename); a missing,
stale, corrupt or unreadable file silently means a full load.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from advisor.knowledge.parse_cache import cache_dir

# Bump when what is pickled changes shape in a way the key below would not notice.
FORMAT = 1
T = TypeVar("T")

# The modules whose code decides what a validated catalog looks like: an edit to any of them (a
# development checkout, where the version number does not move) must invalidate the cache.
_SCHEMA_MODULES = (
    "base",
    "cards",
    "compat",
    "compat_parse",
    "features",
    "framework_tables",
    "models",
    "loader",
    "validated_cache",
)


def cache_file(kind: str, dirs: Sequence[Path]) -> Path | None:
    """The cache file for ``kind`` ("knowledge" or "cards") of these catalog dirs; None when it is off."""
    folder = cache_dir()
    if folder is None:
        return None
    # One file per set of directories (not per content), so edits replace it instead of piling up.
    digest = hashlib.sha256("\0".join(os.path.abspath(d) for d in dirs).encode()).hexdigest()[:16]
    return folder / f"{kind}-v{FORMAT}-{digest}.pickle"


def cache_key(kind: str, fingerprints: Sequence[object]) -> tuple[object, ...]:
    """What must be equal for a cached object to be reused (see the module docstring)."""
    from pydantic.version import VERSION as pydantic_version

    from advisor import __version__

    here = Path(__file__).resolve().parent
    code: list[object] = []
    for name in _SCHEMA_MODULES:
        try:
            st = (here / f"{name}.py").stat()
            code.append((name, st.st_size, st.st_mtime_ns))
        except OSError:
            code.append((name, None))
    return (FORMAT, kind, __version__, pydantic_version, sys.version, tuple(code), tuple(fingerprints))


def load_or_build(
    kind: str,
    dirs: Sequence[Path],
    fingerprints: Sequence[object],
    build: Callable[[], T],
    expected: type,
) -> T:
    """The cached object for this key if there is a valid one (an instance of ``expected``), else ``build()``.

    ``build`` raising (a ``CatalogError``) propagates and nothing is written.
    """
    path = cache_file(kind, dirs)
    if path is None:
        return build()
    key = cache_key(kind, fingerprints)
    cached = _read(path, key)
    if isinstance(cached, expected):
        return cached  # type: ignore[return-value]  # T is the type `expected` stands for
    value = build()
    _write(path, key, value)
    return value


def _read(path: Path, key: tuple[object, ...]) -> object:
    try:
        with path.open("rb") as f:
            st = os.fstat(f.fileno())
            if not _trusted(st):
                return None
            if pickle.load(f) != key:  # the key is plain data: cheap to read before the objects
                return None
            return pickle.load(f)
    except Exception:  # any unreadable, corrupt or incompatible pickle just means a full load
        return None


def _trusted(st: os.stat_result) -> bool:
    """Ours and not writable by anyone else (where the platform has owners)."""
    if not hasattr(os, "getuid"):
        return True
    return st.st_uid == os.getuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _write(path: Path, key: tuple[object, ...], value: object) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".knowledge-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                pickle.dump(key, out, protocol=pickle.HIGHEST_PROTOCOL)
                pickle.dump(value, out, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except (OSError, pickle.PicklingError, TypeError, AttributeError):
        return  # no cache this time; the next run tries again
