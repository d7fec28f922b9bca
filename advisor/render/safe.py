"""Making untrusted text safe for a terminal: the one place that decides what may reach it.

Strings from dumps, saved reports, fleet files and user catalogs are data written by someone else. An ESC
in a GPU name could set the window title, draw an OSC 8 hyperlink or recolour the screen; a right-to-left
override makes ``H100 A80`` display as something else; zero-width characters make two ids look equal.
Everything shown on a terminal passes ``safe_text`` first. Deliberately imports nothing heavy, so every
command (``recommend`` and ``catalog`` included) can use it without slowing its start.
"""

from __future__ import annotations

import re

# Whole escape sequences first (so their parameters do not survive as visible junk): OSC ... BEL/ST,
# DCS/SOS/PM/APC ... ST, CSI ... final byte, and two-byte ESC sequences. 8-bit C1 forms too.
_SEQUENCES = re.compile(
    r"(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"  # OSC (titles, hyperlinks)
    r"|(?:\x1b[P_^X]|[\x90\x98\x9e\x9f])[^\x1b\x9c]*(?:\x1b\\|\x9c)?"  # DCS, SOS, PM, APC
    r"|(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"  # CSI (colours, cursor moves)
    r"|\x1b[ -/]*[0-~]?"  # other ESC sequences
)
# C0 (but tab and newline), DEL, C1, and the Unicode format characters that change how text displays
# without being visible: bidi embeddings/overrides/isolates, zero-width space/joiners, word joiner,
# invisible operators, the BOM, interlinear annotations, and the line/paragraph separators.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]"
)


def safe_text(text: object, *, one_line: bool = False) -> str:
    """``text`` with escape sequences, control and invisible format characters removed.

    ``one_line`` also turns line breaks into spaces (a value inside a table cell or a one-line message).
    Tabs become spaces. Non-string values are converted with ``str`` first.
    """
    s = text if isinstance(text, str) else str(text)
    if s.isascii() and s.isprintable():
        return s  # the common case, kept cheap
    s = s.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    s = _INVISIBLE.sub("", _SEQUENCES.sub("", s))
    if not s.isascii():
        # Every other format character too (Unicode "Cf": tag characters that hide text, and the rest).
        import unicodedata

        s = "".join(ch for ch in s if ch < "\u00ad" or unicodedata.category(ch) != "Cf")
    return " ".join(s.split("\n")) if one_line else s
