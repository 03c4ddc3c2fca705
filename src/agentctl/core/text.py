"""The one rule for text that people and agents put into records, and for printing it back.

Text written through agentctl (titles, descriptions, notes, comments, labels, documents,
memory, agent roles and personas, WORKING.md notes) is refused when it holds a character that
can drive a terminal or disguise what it shows: C0 controls other than tab and newline, DEL,
C1 controls (U+0080-U+009F, e.g. the one-byte CSI), and the bidi embeddings, overrides and
isolates (U+202A-U+202E, U+2066-U+2069). One-line fields refuse tabs and line breaks too.

Text that reaches a terminal from a file written by hand or pulled from git has not passed
this rule: :func:`neutralise` shows those characters as ``\\uXXXX`` escapes instead.
Pure: no I/O, no third-party imports.
"""

from __future__ import annotations

import re
from typing import Any

from agentctl.errors import UsageError

# C0 controls but tab and newline, DEL, C1 controls, bidi embeddings/overrides/isolates.
CONTROL_CHARS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# What a one-line field refuses on top: tab, newline and the Unicode line/paragraph separators.
_LINE_BREAKING = re.compile("[\t\n\u2028\u2029]")
_ASCII_CONTROLS = bytes([*(c for c in range(32) if c not in (9, 10)), 127])
_NEUTRALISE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")

# The one token estimate (prompt budgets, memory summaries, runtimes without a tokenizer):
# cheap and deterministic, about four characters per token.
CHARS_PER_TOKEN = 4


def tokens_for(chars: int) -> int:
    """Tokens that ``chars`` characters of text are estimated to take (rounded up)."""
    return (chars + CHARS_PER_TOKEN - 1) // CHARS_PER_TOKEN


def estimate_tokens(text: str) -> int:
    return tokens_for(len(text))


def chars_for(tokens: int) -> int:
    """Characters of text that fit in ``tokens`` tokens."""
    return tokens * CHARS_PER_TOKEN


_NAMES = {
    0x00: "NUL", 0x07: "BEL", 0x08: "BS", 0x09: "TAB", 0x0A: "LF", 0x0D: "CR", 0x1B: "ESC", 0x7F: "DEL",
    0x9B: "CSI", 0x9D: "OSC", 0x202E: "RIGHT-TO-LEFT OVERRIDE", 0x202D: "LEFT-TO-RIGHT OVERRIDE",
}  # fmt: skip


def _describe(char: str) -> str:
    name = _NAMES.get(ord(char))
    return f"U+{ord(char):04X} {name}" if name else f"U+{ord(char):04X}"


def check_text(value: str, field: str) -> str:
    """``value`` if it holds no control character (tabs and newlines are fine); else a
    UsageError naming ``field`` and the first offending character. Windows line ends
    (CR LF) count as newlines, as in agents' answers."""
    found = CONTROL_CHARS.search(value.replace("\r\n", "\n") if "\r" in value else value)
    if found:
        raise UsageError(
            f"refused: the {field} contains a control character ({_describe(found.group())}); "
            "only tabs and newlines are allowed",
            hint="terminal escapes and bidi overrides are never stored",
        )
    return value


def check_line(value: str, field: str) -> str:
    """Like :func:`check_text` for a one-line field: tabs and line breaks are refused too."""
    check_text(value, field)
    found = _LINE_BREAKING.search(value)
    if found:
        raise UsageError(
            f"refused: the {field} contains a control character ({_describe(found.group())}); "
            f"a {field} is one line without tabs"
        )
    return value


def check_lines(values: list[str] | None, field: str) -> None:
    for value in values or []:
        check_line(value, field)


def neutralise(text: str) -> str:
    """``text`` safe to show on a terminal: every control character but tab and newline
    becomes a visible ``\\uXXXX`` escape (which JSON also reads back as the character);
    Windows line ends stay line ends."""
    if text.isascii():  # the common case, checked in C at memory speed (big --json listings)
        data = text.encode("ascii")
        if len(data.translate(None, _ASCII_CONTROLS)) == len(data):
            return text
    elif not _NEUTRALISE.search(text):
        return text
    return _NEUTRALISE.sub(lambda m: f"\\u{ord(m.group()):04x}", text.replace("\r\n", "\n"))


def neutralise_data(value: Any) -> Any:
    """:func:`neutralise` applied to every string inside dicts, lists and tuples (for views
    that render record data directly, such as the board's screens)."""
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, dict):
        return {key: neutralise_data(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(neutralise_data(item) for item in value)
    return value
