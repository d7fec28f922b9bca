"""Load and validate the YAML catalog (shipped, plus an optional user directory) into ``Knowledge``.

Layout of a catalog directory: ``cards/*.yaml`` (top-level ``cards:`` list), ``compat/*.yaml`` (each
top-level key is one table ``{reviewed, source, entries}``) and ``models/*.yaml`` (``models:`` list).
Every problem found is collected and raised at once as one ``CatalogError`` whose lines name the file,
the entry and the field. YAML is read with the safe loader only (the C one when available).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from advisor.errors import CatalogError

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError

    from advisor.knowledge.base import Knowledge
    from advisor.knowledge.cards import Card
    from advisor.knowledge.models import ModelPreset
    from advisor.knowledge.parse_cache import ParseCache

SECTIONS = ("cards", "compat", "models")
_CACHE: dict[tuple[object, ...], Any] = {}  # per process, keyed on (kind, *fingerprints)
_T = TypeVar("_T")


@dataclass(frozen=True)
class CardsAndModels:
    """The catalog without its compat tables: all ``advisor recommend`` needs (loads faster)."""

    cards: tuple[Card, ...]
    models: tuple[ModelPreset, ...]


def shipped_catalog_dir() -> Path:
    """The catalog that ships with advisor: ``advisor/_catalog`` in a wheel, else the repo's ``catalog/``."""
    import advisor

    package = Path(advisor.__file__).resolve().parent
    bundled = package / "_catalog"
    return bundled if bundled.is_dir() else package.parent / "catalog"


def catalog_dirs(extra_dir: Path | str | None = None) -> list[Path]:
    """The shipped catalog, then ``extra_dir`` (--catalog / ADVISOR_CATALOG) if given; it must exist."""
    dirs = [shipped_catalog_dir()]
    if extra_dir is not None and str(extra_dir) != "":
        extra = Path(extra_dir).expanduser()
        if not extra.is_dir():
            raise CatalogError([f"{extra}: catalog directory not found (from --catalog or ADVISOR_CATALOG)"])
        dirs.append(extra)
    return dirs


def load_knowledge(extra_dir: Path | str | None = None) -> Knowledge:
    """The shipped catalog extended (and overridden, id by id) by ``extra_dir``; cached per directory.

    The cache key includes every YAML file's path, size and mtime, so an edited file is reloaded.
    Raises ``CatalogError`` listing every problem found.
    """
    return load_catalog_dirs(catalog_dirs(extra_dir))


def load_catalog_cards(extra_dir: Path | str | None = None) -> tuple[Card, ...]:
    """Only the cards (shipped + ``extra_dir``): what ``advisor catalog`` needs, without compat and models."""
    dirs = catalog_dirs(extra_dir)
    return _cached("cards", dirs, lambda: load_cards(dirs), tuple)


def load_cards_and_models(extra_dir: Path | str | None = None) -> CardsAndModels:
    """Cards and model presets (shipped + ``extra_dir``) without the compat tables: for ``recommend``.

    Same rules and caches as ``load_knowledge``; the compat files are neither imported nor validated.
    """
    dirs = catalog_dirs(extra_dir)
    return _cached("cards-models", dirs, lambda: _load_without_compat(dirs, with_models=True), CardsAndModels)


def load_catalog_dirs(dirs: Sequence[Path]) -> Knowledge:
    """Load catalog directories in order: the first is the base, each later one extends/overrides it.

    Cached in this process and on disk (advisor.knowledge.validated_cache), both keyed on every file's
    size and mtime.
    """
    from advisor.knowledge.base import Knowledge

    return _cached("knowledge", dirs, lambda: _load_uncached(dirs), Knowledge)


def _cached(kind: str, dirs: Sequence[Path], build: Callable[[], _T], expected: type) -> _T:
    """``build()``'s result for these directories: from this process, else the on-disk cache, else built."""
    from advisor.knowledge.validated_cache import load_or_build

    fingerprints = tuple(_fingerprint(d) for d in dirs)
    key = (kind, *fingerprints)
    if key not in _CACHE:
        _CACHE[key] = load_or_build(kind, dirs, fingerprints, build, expected)
    cached: _T = _CACHE[key]
    return cached


def clear_cache() -> None:
    """Forget every catalog loaded in this process (the on-disk caches are checked by mtime anyway)."""
    _CACHE.clear()


# --- the pieces --------------------------------------------------------------------------------------


def _load_uncached(dirs: Sequence[Path]) -> Knowledge:
    from advisor.knowledge.base import Knowledge
    from advisor.knowledge.cards import Card

    problems: list[str] = []
    parsed = _parse_cache()
    _check_dirs(dirs, problems)
    cards = _load_entry_lists(dirs, "cards", "card", Card, problems, _card_checks, parsed)
    compat = _load_compat(dirs, problems, parsed)
    models = _load_models(dirs, problems, parsed)
    parsed.save()
    if problems:
        raise CatalogError(problems)
    assert compat is not None  # no problems means it validated
    return Knowledge(
        cards=tuple(cards),  # type: ignore[arg-type]  # validated as Card above
        compat=compat,
        models=tuple(models),  # type: ignore[arg-type]
        sources=tuple(str(d) for d in dirs),
    )


def load_cards(dirs: Sequence[Path]) -> tuple[Card, ...]:
    """Only the cards of these catalog directories (no compat tables or models needed)."""
    return _load_without_compat(dirs, with_models=False).cards


def _load_without_compat(dirs: Sequence[Path], *, with_models: bool) -> CardsAndModels:
    from advisor.knowledge.cards import Card

    problems: list[str] = []
    parsed = _parse_cache()
    _check_dirs(dirs, problems)
    cards = _load_entry_lists(dirs, "cards", "card", Card, problems, _card_checks, parsed)
    models = _load_models(dirs, problems, parsed) if with_models else []
    parsed.save()
    if problems:
        raise CatalogError(problems)
    return CardsAndModels(
        cards=tuple(cards),  # type: ignore[arg-type]  # validated as Card above
        models=tuple(models),  # type: ignore[arg-type]  # validated as ModelPreset
    )


def _check_dirs(dirs: Sequence[Path], problems: list[str]) -> None:
    for d in dirs[1:]:  # a user directory must look like a catalog (a typo in --catalog is likely)
        if not any((d / s).is_dir() for s in SECTIONS):
            problems.append(
                f"{d}: not a catalog directory (it has none of {', '.join(s + '/' for s in SECTIONS)})"
            )


def _parse_cache() -> ParseCache:
    from advisor.knowledge.parse_cache import ParseCache, cache_path

    return ParseCache(cache_path())


def _load_models(dirs: Sequence[Path], problems: list[str], parsed: ParseCache) -> list[BaseModel]:
    try:
        from advisor.knowledge.models import ModelPreset
    except ImportError as exc:  # a packaging bug, not a user error: say exactly what is missing
        raise ImportError(
            f"advisor.knowledge.models (ModelPreset) is needed to load catalog models/: {exc}"
        ) from exc
    return _load_entry_lists(dirs, "models", "model", ModelPreset, problems, None, parsed)


@dataclass
class _Origin:
    path: Path
    index: int  # position in its file's list


def _load_entry_lists(
    dirs: Sequence[Path],
    section: str,
    kind: str,
    model: type[BaseModel],
    problems: list[str],
    extra_checks: Any,
    parsed: ParseCache,
) -> list[BaseModel]:
    """Load ``<dir>/<section>/*.yaml`` lists of id'd entries; later dirs replace entries with the same id."""
    from pydantic import ValidationError

    merged: dict[str, BaseModel] = {}
    for d in dirs:
        seen: dict[str, Path] = {}  # id → file, within this one directory
        for path in _yaml_files(d / section):
            data = _read_yaml(path, problems, parsed)
            if data is None:
                continue
            entries = _top_list(path, data, section, problems)
            for index, raw in enumerate(entries):
                where = f"{path}: {kind} #{index + 1}"
                if not isinstance(raw, dict):
                    problems.append(f"{where}: must be a mapping of fields, got {type(raw).__name__}")
                    continue
                raw_id = raw.get("id")
                if isinstance(raw_id, str):
                    where = f"{path}: {kind} '{raw_id}' (#{index + 1})"
                try:
                    entry = model.model_validate(raw)
                except ValidationError as exc:
                    problems.extend(f"{where}: {msg}" for msg in _describe(exc))
                    continue
                if extra_checks is not None:
                    problems.extend(f"{where}: {msg}" for msg in extra_checks(entry))
                entry_id = str(getattr(entry, "id", ""))
                if entry_id in seen:
                    problems.append(
                        f"{where}: duplicate id '{entry_id}' (already defined in {seen[entry_id]})"
                    )
                    continue
                seen[entry_id] = path
                merged[entry_id] = entry  # a later directory's entry replaces the earlier one in place
    return list(merged.values())


def _load_compat(dirs: Sequence[Path], problems: list[str], parsed: ParseCache) -> Any:
    """Merge every compat file into one mapping of tables (user entries first) and validate it."""
    try:
        from advisor.knowledge.compat import CompatTables
    except ImportError as exc:
        raise ImportError(
            f"advisor.knowledge.compat (CompatTables) is needed to load catalog compat/: {exc}"
        ) from exc
    from pydantic import ValidationError

    tables: dict[str, dict[str, Any]] = {}
    origins: dict[str, list[_Origin]] = {}  # table → where each merged entry came from
    table_files: dict[str, Path] = {}
    for d in dirs:
        dir_tables: dict[str, Path] = {}
        for path in _yaml_files(d / "compat"):
            data = _read_yaml(path, problems, parsed)
            if data is None:
                continue
            if not isinstance(data, dict):
                problems.append(f"{path}: top level must be a mapping of tables, got {type(data).__name__}")
                continue
            for name, table in data.items():
                where = f"{path}: table '{name}'"
                if name in dir_tables:
                    problems.append(f"{where}: defined twice (also in {dir_tables[name]})")
                    continue
                if not isinstance(table, dict):
                    problems.append(f"{where}: must be a mapping with reviewed, source, entries")
                    continue
                entries = table.get("entries", [])
                if not isinstance(entries, list):
                    problems.append(f"{where}: field entries: must be a list, got {type(entries).__name__}")
                    continue
                dir_tables[name] = path
                new_origins = [_Origin(path, i) for i in range(len(entries))]
                if name in tables:  # a later (user) directory: its entries come first so they win on lookup
                    base = tables[name]
                    merged = {**base, **{k: v for k, v in table.items() if k != "entries"}}
                    merged["entries"] = list(entries) + list(base.get("entries", []))
                    tables[name] = merged
                    origins[name] = new_origins + origins[name]
                else:
                    tables[name] = dict(table)
                    origins[name] = new_origins
                table_files[name] = path
    try:
        return CompatTables.model_validate(tables)
    except ValidationError as exc:
        for err in exc.errors():
            problems.append(_compat_problem(err, tables, origins, table_files))
        return None


def _compat_problem(
    err: Any, tables: dict[str, dict[str, Any]], origins: dict[str, list[_Origin]], files: dict[str, Path]
) -> str:
    loc = list(err["loc"])
    table = str(loc[0]) if loc else "?"
    msg = _message(err)
    if len(loc) >= 3 and loc[1] == "entries" and isinstance(loc[2], int) and table in origins:
        origin = origins[table][loc[2]]
        raw = tables[table]["entries"][loc[2]]
        label = f"#{origin.index + 1}"
        if isinstance(raw, dict) and isinstance(raw.get("id"), str):
            label = f"'{raw['id']}' ({label})"
        field = ".".join(str(p) for p in loc[3:]) or "(entry)"
        return f"{origin.path}: table '{table}' entry {label}: {field}: {msg}"
    path = files.get(table)
    field = ".".join(str(p) for p in loc[1:]) or "(table)"
    if path is None:
        if err["type"] == "missing":
            return f"compat: table '{table}' is missing (no compat/*.yaml defines it)"
        return f"compat: table '{table}': {field}: {msg}"
    if err["type"] == "extra_forbidden" and len(loc) == 1:
        return f"{path}: table '{table}': unknown table"
    return f"{path}: table '{table}': {field}: {msg}"


def _card_checks(card: Any) -> list[str]:
    """Cross-field checks the schema cannot express: unverified/derived must name real fields."""
    from advisor.knowledge.cards import Achievable, Card, Throughput

    out = []
    valid = set(Card.model_fields) | {f"tflops.{k}" for k in Throughput.model_fields}
    valid |= {f"achievable.{k}" for k in ("fp32", "tf32", "fp16", "bf16", "fp8")}
    valid |= {
        f"achievable.{k}.{f}"
        for k in ("fp32", "tf32", "fp16", "bf16", "fp8")
        for f in Achievable.model_fields
    }
    for list_name in ("unverified", "derived"):
        for item in getattr(card, list_name):
            if item not in valid:
                out.append(f"{list_name}: '{item}' is not a card field (use e.g. tflops.fp16 or memory_gb)")
    return out


# --- YAML and messages -------------------------------------------------------------------------------


def _yaml_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    try:
        return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    except OSError as exc:  # an unreadable cards/ folder in a user catalog: one line, not a traceback
        from advisor.errors import InputError

        raise InputError(f"cannot read catalog folder {str(folder)!r}: {exc.strerror or exc}") from None


def _fingerprint(d: Path) -> tuple[object, ...]:
    parts: list[object] = [str(d)]
    for section in SECTIONS:
        for p in _yaml_files(d / section):
            try:
                st = p.stat()
            except OSError:
                parts.append((p.name, section, None, None))  # read (and reported) by the full load
                continue
            parts.append((p.name, section, st.st_size, st.st_mtime_ns))
    return tuple(parts)


# An anchor (&name) or alias (*name) where YAML would take it as one. Only a hint: confirmed on events.
_ALIAS_HINT = re.compile(r"(?:^|[\s\[{,:-])[&*][^\s\[\]{},]")
MAX_YAML_BYTES = 32 * 2**20


def _uses_aliases(text: str) -> bool:
    """True when the YAML uses anchors/aliases, which a catalog never needs and which let 350 bytes
    expand to gigabytes ("billion laughs") once the data is copied or cached."""
    if not _ALIAS_HINT.search(text):
        return False
    import yaml

    try:
        return any(isinstance(e, yaml.AliasEvent) for e in yaml.parse(text, Loader=_safe_loader()))
    except yaml.YAMLError:
        return False  # the real load reports the syntax error


def _read_yaml(path: Path, problems: list[str], parsed: ParseCache) -> Any:
    """Parse one file with the safe loader (or take it from the parse cache); a problem and None on error."""
    hit, data = parsed.get(path)
    if hit:
        return data
    import yaml

    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_YAML_BYTES + 1)
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(f"{path}: cannot read: {exc}")
        return None
    if len(raw) > MAX_YAML_BYTES:
        problems.append(f"{path}: larger than {MAX_YAML_BYTES // 2**20} MiB")
        return None
    if _uses_aliases(text):
        problems.append(f"{path}: YAML anchors and aliases (&name, *name) are not allowed in a catalog")
        return None
    try:
        data = yaml.load(text, Loader=_safe_loader())  # a SafeLoader subclass, see _safe_loader
    except yaml.YAMLError as exc:
        problems.append(f"{path}: invalid YAML: {_yaml_error(exc)}")
        return None
    if data is None:
        problems.append(f"{path}: empty file")
    else:
        parsed.put(path, data)
    return data


def _top_list(path: Path, data: Any, section: str, problems: list[str]) -> list[Any]:
    if not isinstance(data, dict):
        problems.append(
            f"{path}: top level must be a mapping with a '{section}:' list, got {type(data).__name__}"
        )
        return []
    extra = [k for k in data if k != section]
    if extra:
        problems.append(
            f"{path}: unknown top-level key(s) {', '.join(map(repr, extra))} (expected '{section}:')"
        )
    entries = data.get(section)
    if entries is None:
        problems.append(f"{path}: missing the top-level '{section}:' list")
        return []
    if not isinstance(entries, list):
        problems.append(f"{path}: '{section}' must be a list, got {type(entries).__name__}")
        return []
    return entries


_LOADER: Any = None


def _safe_loader() -> Any:
    """yaml's safe loader (C-accelerated when built) that rejects duplicate keys and keeps dates as text.

    Duplicate keys: PyYAML silently keeps the last one, which hides editing mistakes in the catalog.
    Dates: an unquoted ``reviewed: 2025-01-31`` would become a ``date``; the schema wants the string.
    """
    global _LOADER
    if _LOADER is not None:
        return _LOADER
    import yaml

    base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class _Loader(base):  # type: ignore[misc]
        pass

    def _mapping(loader: Any, node: Any, deep: bool = False) -> Any:
        keys: set[object] = set()
        for key_node, _ in node.value:
            key = loader.construct_object(key_node, deep=deep)
            if isinstance(key, str) and key in keys:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found duplicate key '{key}'",
                    key_node.start_mark,
                )
            keys.add(key)
        return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)

    def _timestamp_as_text(loader: Any, node: Any) -> Any:
        return loader.construct_scalar(node)

    _Loader.add_constructor("tag:yaml.org,2002:map", _mapping)
    _Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)
    _LOADER = _Loader
    return _LOADER


def _yaml_error(exc: Exception) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    return f"{where}{problem}" + (f" ({context})" if context else "")


def _describe(exc: ValidationError) -> Iterable[str]:
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "(entry)"
        yield f"{field}: {_message(err)}"


def _message(err: Any) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        return "unknown field (check the spelling; catalog/README.md lists the fields)"
    if kind == "missing":
        return "missing required field"
    shown = repr(err.get("input"))
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return f"{err['msg']} (got {shown})"
