"""Undo what pasting into a bug report does to tool output: BOMs, CRLF, markdown fences and quotes, HTML tags.

The work is done with whole-text regular expressions (C speed, linear) so a 50 MB paste costs little.
Relative indentation is preserved: ``nvidia-smi -q`` nests its sections by indentation.
"""

from __future__ import annotations

import re

from advisor.dumps.lazy_re import LazyPattern

# Compiled on first use: most pastes hold no quotes, fences or tags.
_QUOTE = LazyPattern(r"^(?:[ \t]{0,3}>[ \t]?)+", re.MULTILINE)
# A fence line, with or without an info string ("```text"); a fence glued to content ("```Error: …```")
# keeps the content.
_FENCE = LazyPattern(r"^[ \t]*(?:```|~~~)[ \t]*[\w+#.-]{0,30}[ \t]*$", re.MULTILINE)
_INLINE_FENCE = LazyPattern(r"^([ \t]*)(?:```|~~~)(?=\S)|(?<=\S)(?:```|~~~)[ \t]*$", re.MULTILINE)
# GitHub issue markup around pasted output; nvidia-smi's XML uses none of these tag names.
_HTML = LazyPattern(r"</?(?:details|summary|pre|code|br|p|b|sup|sub)\b[^<>\n]{0,200}>", re.IGNORECASE)
# Two or more blank lines (a single character class: a repeated group costs ~200 ns per repeat in sre).
_BLANK_RUN = re.compile(r"\n[ \t]*\n[ \t\n]*\n")
# Terminal colours pasted as text: real escapes ("\x1b[0;36m") or their caret form ("^[[0;36m").
_ANSI = LazyPattern(r"(?:\x1b|\^\[)\[[0-9;?]{0,30}[A-Za-z]")
_ENTITIES = (("&gt;", ">"), ("&lt;", "<"), ("&amp;", "&"))
# A whole line wrapped in inline-code backticks ("`GPU 0: NVIDIA ...`"), as chat and issue editors do.
_TICKED_LINE = LazyPattern(r"^([ \t]*)`([^`\n]{1,2000})`[ \t]*$", re.MULTILINE)


def normalise(text: str) -> str:
    """Return the paste with line endings unified and markdown/HTML wrapping removed."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    if "```" in text or "~~~" in text:
        text = _FENCE.sub("", text)
        text = _INLINE_FENCE.sub(r"\1", text)
    if "</" in text or "<b" in text or "<p" in text:
        text = _HTML.sub("", text)
    if "\n>" in text or text.startswith(">"):
        text = _QUOTE.sub("", text)
    if "\x1b[" in text or "^[[" in text:
        text = _ANSI.sub("", text)
    if "#012" in text:
        text = text.replace("#012", "\n")  # rsyslog writes a message's newlines as "#012"
    text = _BLANK_RUN.sub("\n\n", text)  # parsers treat one blank line like many; this bounds line count
    if "&gt;" in text and "<nvidia_smi_log" not in text:
        # Issue pages copied as HTML escape '>' in tracebacks; XML keeps its entities untouched.
        for entity, char in _ENTITIES:
            text = text.replace(entity, char)
    if "`" in text:
        text = _TICKED_LINE.sub(r"\1\2", text)
    return text
