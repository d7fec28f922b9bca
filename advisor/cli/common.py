"""Options and helpers shared by every command (defined once, as sqlite-utils does).

Output goes through here: ``console()`` (colour, ASCII mode, non-UTF-8 streams), ``say()`` for one plain
line, ``emit_json()``, and the bounded number parsers that turn absurd option values into one-line usage
errors instead of OverflowError tracebacks.
"""

from __future__ import annotations

import codecs
import json
import math
import os
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import typer

from advisor.render.safe import safe_text

if TYPE_CHECKING:
    from pydantic import BaseModel
    from rich.console import Console

    from advisor.knowledge.base import Knowledge

JSON_OPTION = typer.Option(False, "--json", help="Print machine-readable JSON on stdout, nothing else.")
CATALOG_OPTION = typer.Option(
    None,
    "--catalog",
    envvar="ADVISOR_CATALOG",
    help="A directory of your own catalog YAML (cards/, compat/, models/) "
    "that extends or overrides the shipped one.",
    file_okay=False,
)

# --- output streams: colour, ASCII mode, encodings -------------------------------------------------

# What advisor's own symbols become where the output cannot carry them (cp1252, ASCII, --ascii).
_ASCII = {
    "✗": "x", "✓": "v", "—": "-", "–": "-", "·": "-", "→": "->", "←": "<-", "…": "...", "≥": ">=",
    "≤": "<=", "×": "x", "±": "+/-", "µ": "u", "°": " ", "‘": "'", "’": "'", "“": '"', "”": '"',
    "█": "#", "▏": "|", "━": "-", "─": "-", "│": "|", "•": "*", "≈": "~", "⚠": "!", "\u00a0": " ",
}  # fmt: skip
_ERRORS = "advisor-ascii"


def _ascii_replace(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    bad = exc.object[exc.start : exc.end]
    return "".join(_ASCII.get(ch, "?") for ch in bad), exc.end


codecs.register_error(_ERRORS, _ascii_replace)


def _utf(stream: IO[str] | None) -> bool:
    encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "").replace("_", "")
    return encoding in ("utf8", "utf8sig", "utf16", "utf32")


def ascii_mode() -> bool:
    """True when output must stay ASCII: ``--ascii``/``ADVISOR_ASCII``, or stdout cannot encode Unicode."""
    return bool(os.environ.get("ADVISOR_ASCII")) or not _utf(sys.stdout)


def no_color() -> bool:
    """True under ``--no-color`` or the NO_COLOR convention (https://no-color.org)."""
    return "NO_COLOR" in os.environ or bool(os.environ.get("ADVISOR_NO_COLOR"))


def setup_streams() -> None:
    """Make stdout/stderr unable to crash on a character they cannot encode.

    A Windows console or a redirect in the ANSI code page (cp1252), ``PYTHONIOENCODING=ascii`` and
    ``--ascii`` get advisor's symbols in ASCII (``✗`` → ``x``, ``—`` → ``-``) and ``?`` for the rest,
    instead of a UnicodeEncodeError after all the work is done.
    """
    force = bool(os.environ.get("ADVISOR_ASCII"))
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is None:
            continue
        try:
            if force and _utf(stream):
                reconfigure(encoding="ascii", errors=_ERRORS)
            elif not _utf(stream):
                reconfigure(errors=_ERRORS)
        except (ValueError, OSError, LookupError):
            pass  # a stream that cannot be reconfigured keeps its settings


def sym(text: str) -> str:
    """``text`` with advisor's symbols in ASCII when output must be ASCII (for width-sensitive layout)."""
    if not ascii_mode():
        return text
    return "".join(_ASCII.get(ch, ch) if ord(ch) > 127 else ch for ch in text)


def console(stderr: bool = False, *, markup: bool = False) -> Console:
    """A rich console that honours --no-color/NO_COLOR, --ascii, plain pipes and the stream's encoding.

    Markup is off: data is never parsed as rich markup ("[/]" in a card name must print as written).
    Print untrusted strings as ``Text(safe_text(s))``. ``markup=True`` only for literal, trusted templates.
    """
    # emoji=False: a GPU or host name containing ":name:" must print as written.
    made: Console = _console_class()(
        stderr=stderr,
        no_color=no_color(),
        highlight=False,
        emoji=False,
        markup=markup,
        safe_box=True,
    )
    return made


_CONSOLE: Any = None


def _console_class() -> Any:
    """rich's Console, except that a closed pipe raises BrokenPipeError for app.py to turn into exit 141
    (rich's own handler exits 1, the code of an error finding)."""
    global _CONSOLE
    if _CONSOLE is None:
        from rich.console import Console

        class _Console(Console):
            def on_broken_pipe(self) -> None:
                raise BrokenPipeError

        _CONSOLE = _Console
    return _CONSOLE


def say(message: str, *, err: bool = True) -> None:
    """One plain line (stderr by default), made safe for the terminal; never parsed as markup."""
    stream = sys.stderr if err else sys.stdout
    stream.write(safe_text(message) + "\n")


def get_knowledge(catalog_dir: Path | None) -> Knowledge:
    from advisor.knowledge.loader import load_knowledge

    return load_knowledge(catalog_dir)


def emit_json(data: BaseModel | list[Any] | dict[str, Any]) -> None:
    """Write JSON to stdout: a pydantic model via its JSON mode, or plain data.

    Non-ASCII characters are written as ``\\uXXXX`` escapes when stdout cannot encode them, so the data
    survives a cp1252 or ASCII stream unchanged.
    """
    from pydantic import BaseModel

    if isinstance(data, BaseModel):
        text = data.model_dump_json(indent=2)
        if ascii_mode() and not text.isascii():
            text = json.dumps(json.loads(text), indent=2, ensure_ascii=True)
    else:
        text = json.dumps(data, indent=2, default=_default)
    sys.stdout.write(text + "\n")


def _default(obj: object) -> object:
    from pydantic import BaseModel

    if isinstance(obj, BaseModel):
        return obj.model_dump(mode="json")
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


# --- bounded numbers ------------------------------------------------------------------------------

# Far beyond any real GPU count, sequence length or batch, yet small enough for float arithmetic.
MAX_COUNT = 10**12


def whole_number(text: str | int, option: str, *, lo: int = 1, hi: int = MAX_COUNT) -> int:
    """``text`` as an int in ``lo..hi``; a UsageError naming ``option`` otherwise (400 digits included)."""
    from advisor.errors import UsageError

    s = str(text).strip().replace("_", "")
    if len(s) > 30 or not s.lstrip("+-").isdigit():
        if len(s) <= 30:
            raise UsageError(f"{option} must be a whole number, not {safe_text(str(text), one_line=True)!r}")
        raise UsageError(f"{option} must be a whole number from {lo} to {hi:,}")
    value = int(s)
    if not lo <= value <= hi:
        raise UsageError(f"{option} must be from {lo} to {hi:,}, not {value:,}")
    return value


def finite_float(text: str | float, option: str, *, lo: float = 0.0, hi: float = 1e9) -> float:
    """``text`` as a finite float in ``(lo, hi]``; a UsageError naming ``option`` otherwise (nan, inf)."""
    from advisor.errors import UsageError

    try:
        value = float(text)
    except (TypeError, ValueError, OverflowError):
        raise UsageError(f"{option} must be a number, not {safe_text(str(text), one_line=True)!r}") from None
    if not math.isfinite(value) or not lo < value <= hi:
        raise UsageError(f"{option} must be a number above {lo:g} and at most {hi:g}, not {text}")
    return value
