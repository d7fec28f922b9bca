"""Plain option values converted without pydantic, so a command's start-up does not build validators.

typer (0.2x) converts every option through a pydantic ``TypeAdapter`` built on first use: about 10 ms of
schema generation per parameter, a fifth of ``advisor check --from``'s whole run. advisor's options are
plain: text, numbers, paths, enums and lists of them. For exactly those, ``install()`` has typer use the
small converter below; anything else (ranges, custom parsers, path checks) still goes through typer's
own code, so behaviour and messages there are typer's.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import typer.core
from typer._click.exceptions import BadParameter
from typer._coercion import RuntimeParam, TypeDescriptor

_SCALARS: dict[Any, str] = {str: "text", int: "integer", float: "number", Path: "path"}


def _unwrap_optional(annotation: Any) -> Any:
    args = typing.get_args(annotation)
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType) and len(args) == 2 and type(None) in args:
        return next(a for a in args if a is not type(None))
    return annotation


def _plain_info(info: Any) -> bool:
    """No constraint that typer's converter would enforce: ranges, parsers, path checks, files."""
    return (
        info.parser is None
        and getattr(info, "click_type", None) is None
        and info.min is None
        and info.max is None
        and not info.exists
        and not info.writable
        and not info.resolve_path
        and info.path_type is None
    )


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "t", "yes", "y", "on"):
        return True
    if text in ("0", "false", "f", "no", "n", "off"):
        return False
    raise ValueError(value)


def _converter(annotation: Any) -> Callable[[Any], Any] | None:
    if annotation is bool:
        return _to_bool
    if annotation in _SCALARS:
        return annotation  # type: ignore[no-any-return]
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return annotation
    return None


def _checked_path(*, file_okay: bool, dir_okay: bool) -> Callable[[Any], Path]:
    """A Path that, when it exists, is of the allowed kind (click's own checks, messages alike)."""

    def convert(value: Any) -> Path:
        path = Path(value)
        if not file_okay and path.is_file():
            raise _KindError(f"File {str(path)!r} is a file.")
        if not dir_okay and path.is_dir():
            raise _KindError(f"Directory {str(path)!r} is a directory.")
        return path

    return convert


class _KindError(ValueError):
    pass


@dataclass(frozen=True)
class PlainRuntimeParam(RuntimeParam):
    """Converts one value (or each of a list) with ``convert``; a bad value is click's BadParameter."""

    convert: Callable[[Any], Any]
    many: bool

    def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
        if self.many:
            items = value if isinstance(value, list | tuple) else [value]
            return [self._one(v, param, ctx) for v in items]
        return self._one(value, param, ctx)

    def _one(self, value: Any, param: Any, ctx: Any) -> Any:
        kind = self.convert
        if isinstance(kind, type) and isinstance(value, kind):
            return value
        try:
            return kind(value)
        except _KindError as exc:
            raise BadParameter(str(exc), ctx=ctx, param=param) from None
        except (TypeError, ValueError, OverflowError):
            if isinstance(kind, type) and issubclass(kind, Enum):
                allowed = ", ".join(str(m.value) for m in kind)
                raise BadParameter(f"{value!r} is not one of {allowed}", ctx=ctx, param=param) from None
            name = _SCALARS.get(kind, "value")
            raise BadParameter(f"{value!r} is not a valid {name}", ctx=ctx, param=param) from None


def plain_runtime_param(descriptor: TypeDescriptor) -> RuntimeParam | None:
    """The pydantic-free converter for a plain parameter, or None when typer's own is needed."""
    info = descriptor.parameter_info
    if descriptor.file_annotation is not None or not _plain_info(info):
        return None
    annotation = _unwrap_optional(descriptor.annotation)
    many = typing.get_origin(annotation) is list
    if many:
        (annotation,) = typing.get_args(annotation) or (None,)
    convert = _converter(annotation)
    if convert is None:
        return None
    if convert is Path and not (info.file_okay and info.dir_okay):
        convert = _checked_path(file_okay=info.file_okay, dir_okay=info.dir_okay)
    return PlainRuntimeParam(
        parameter_info=info, annotation=descriptor.annotation, convert=convert, many=many
    )


def install() -> None:
    """Make typer build plain converters for plain parameters (idempotent)."""
    core: Any = typer.core  # the name typer.core imported; patched there, where typer looks it up
    original = core.build_runtime_param
    if getattr(original, "_advisor_fast", False):
        return

    def build(descriptor: TypeDescriptor) -> RuntimeParam:
        return plain_runtime_param(descriptor) or original(descriptor)

    build._advisor_fast = True  # type: ignore[attr-defined]
    core.build_runtime_param = build
