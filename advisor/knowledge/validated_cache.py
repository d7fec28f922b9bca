"""A pickle of the *validated* catalog (``Knowledge``, or the cards alone), so a warm start skips validation.

Validating the catalog means building pydantic validators for ~25 models, which costs more than the
rest of a ``catalog`` or ``check --from`` command together. The knowledge models use ``defer_build``,
so when the validated objects come from this cache their validators are never built at all.

Key (stored in the file and compared on read): every catalog file's path, size and mtime (the loader's
fingerprint of each directory, user ``--catalog`` directories included), the source files that define
the schema and the loading rules (their size and mtime), and the advisor, pydantic and Python
versions. Any difference means a full load, whose result replaces the file. Only a load that raised
no ``CatalogError`` is ever written, so a broken catalog reports its problems on every run.

Trust: a plain pickle can run any code on load. This one is read by an allowlist unpickler: the only
names it may resolve are advisor's own catalog classes (pydantic models, enums and dataclasses of
``advisor.knowledge``) and a few plain built-in types, so a planted file can at worst build wrong
catalog objects, never call ``os.system``. And it is read only from the private cache folder, only
when the file is a regular file, ours, not writable by group/others and under a size cap
(``parse_cache.read_private``). ``ADVISOR_NO_CACHE=1`` turns it off. Writes are atomic (temp file +
rename); a missing, stale, corrupt, refused or unreadable file silently means a full load.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import io
import os
import pickle
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from advisor.knowledge.parse_cache import cache_dir, read_private, trusted, write_private

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


_PLAIN = {("builtins", n) for n in ("set", "frozenset", "bytearray", "complex", "slice", "range")} | {
    ("datetime", "date"),
    ("datetime", "datetime"),
    ("datetime", "timezone"),
    ("datetime", "timedelta"),
    ("pathlib", "PosixPath"),
    ("pathlib", "WindowsPath"),
    ("collections", "OrderedDict"),
}


class _CatalogUnpickler(pickle.Unpickler):
    """Resolves only advisor's catalog data classes and plain types; anything else is refused."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _PLAIN:
            return super().find_class(module, name)
        if module.startswith("advisor.knowledge.") and name.isidentifier():
            obj = super().find_class(module, name)
            if isinstance(obj, type) and _data_class(obj):
                return obj
        raise pickle.UnpicklingError(f"refused to load {module}.{name} from the catalog cache")


def _data_class(cls: type) -> bool:
    from pydantic import BaseModel

    return issubclass(cls, BaseModel | enum.Enum) or dataclasses.is_dataclass(cls)


def _read(path: Path, key: tuple[object, ...]) -> object:
    raw = read_private(path)
    if raw is None:
        return None
    try:
        f = io.BytesIO(raw)
        if _CatalogUnpickler(f).load() != key:  # the key is plain data: cheap to read before the objects
            return None
        return _CatalogUnpickler(f).load()
    except Exception:  # any corrupt, refused or incompatible pickle just means a full load
        return None


def _trusted(st: os.stat_result) -> bool:
    """Ours and not writable by anyone else (kept for callers of the old name)."""
    return trusted(st)


def _write(path: Path, key: tuple[object, ...], value: object) -> None:
    try:
        buffer = io.BytesIO()
        pickle.dump(key, buffer, protocol=pickle.HIGHEST_PROTOCOL)
        pickle.dump(value, buffer, protocol=pickle.HIGHEST_PROTOCOL)
        write_private(path, buffer.getvalue())
    except (OSError, pickle.PicklingError, TypeError, AttributeError):
        return  # no cache this time; the next run tries again
