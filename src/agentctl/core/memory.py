"""The memory entry format (pure): ``.agentctl/memory/<agent>/MEMORY.md`` (long-term) and
daily notes ``<yyyy-mm-dd>.md``.

An entry is a markdown bullet that starts with its UTC timestamp (``- 2026-03-01T09:30:00Z
text``); continuation lines are indented by two spaces, so no entry line can start a heading,
a new bullet or a git conflict marker. No I/O here: the workspace reads and writes the files.
"""

from __future__ import annotations

import re
from datetime import date

from agentctl.core.text import check_text
from agentctl.errors import UsageError

LONG_TERM = "MEMORY.md"
DAILY_RE = re.compile(r"(\d{4}-\d{2}-\d{2})\.md")
ENTRY_TIME_RE = re.compile(r"- (\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)(?=\s|$)")
MAX_ENTRY_CHARS = 2000
DEFAULT_KEEP_DAYS = 7
DEFAULT_MAX_CHARS = 8000
MIN_MAX_CHARS = 500
TRUNCATED = "[… truncated]"
MIN_PIECE = 40  # shortest piece of a cut line worth showing


def long_term_header(agent: str) -> str:
    return f"# {agent}: long-term memory\n"


def daily_header(agent: str, day: str) -> str:
    return f"# {agent}: notes of {day}\n"


def clean_entry_text(text: str) -> list[str]:
    """The lines of an entry's text: stripped, without blank lines; refuses bad input."""
    check_text(text, "memory text")
    lines = [line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    lines = [line for line in lines if line]
    if not lines:
        raise UsageError("the memory text is empty")
    size = sum(len(line) for line in lines)
    if size > MAX_ENTRY_CHARS:
        raise UsageError(
            f"a memory entry can be at most {MAX_ENTRY_CHARS} characters (this one has {size})",
            hint="split it, or keep the details in a document and remember where it is",
        )
    return lines


def format_entry(stamp: str, lines: list[str]) -> str:
    """``- <stamp> first line`` plus continuation lines indented by two spaces."""
    return "\n".join([f"- {stamp} {lines[0]}", *(f"  {line}" for line in lines[1:])])


def parse_entries(text: str) -> tuple[str, list[str]]:
    """(preamble, entries): the preamble is everything before the first top-level bullet;
    each entry is a ``- `` line plus the lines up to the next one (trailing blanks dropped)."""
    preamble: list[str] = []
    entries: list[list[str]] = []
    for line in text.splitlines():
        if line.startswith("- ") or line == "-":
            entries.append([line])
        elif entries:
            entries[-1].append(line)
        else:
            preamble.append(line)
    result = []
    for lines in entries:
        while lines and not lines[-1].strip():
            lines.pop()
        result.append("\n".join(lines))
    return "\n".join(preamble).strip("\n"), result


def entry_time(entry: str) -> str | None:
    match = ENTRY_TIME_RE.match(entry)
    return match.group(1) if match else None


def sort_entries(entries: list[str]) -> list[str]:
    """Oldest first by timestamp; an entry without one keeps its place after the previous."""
    keyed = []
    last = ""
    for position, entry in enumerate(entries):
        last = entry_time(entry) or last
        keyed.append((last, position, entry))
    return [entry for _, _, entry in sorted(keyed)]


def render_memory(preamble: str, entries: list[str]) -> str:
    text = preamble.strip("\n") + "\n" if preamble.strip() else ""
    if entries:
        text += ("\n" if text else "") + "\n".join(entries) + "\n"
    return text


def trim_entries(preamble: str, entries: list[str], max_chars: int) -> tuple[str, list[str], bool]:
    """Drop the oldest entries until the rendered file fits ``max_chars``; as a last resort
    (a preamble over the cap on its own) cut the preamble at a line with a marker.
    Returns (preamble, kept entries, preamble_was_cut)."""
    head = len(render_memory(preamble, []))
    sizes = [len(entry) + 1 for entry in entries]
    total = head + (1 if head and entries else 0) + sum(sizes)
    start = 0
    while start < len(entries) and total > max_chars:
        total -= sizes[start]
        start += 1
        if start == len(entries) and head:
            total -= 1  # no blank line between preamble and entries any more
    kept = entries[start:]
    if total <= max_chars:
        return preamble, kept, False
    return cut_text(preamble, max_chars - 1, keep="head"), [], True


def cut_text(text: str, limit: int, keep: str) -> str:
    """``text`` cut to at most ``limit`` characters at line boundaries, with a marker line
    where text was removed (``keep``: "head" keeps the first lines, "tail" the last ones).
    When not even one whole line fits, that line's start is kept if at least
    :data:`MIN_PIECE` characters of it fit; otherwise the result is ''."""
    if len(text) <= limit:
        return text
    room = limit - len(TRUNCATED) - 1
    lines = text.splitlines()
    kept: list[str] = []
    used = 0
    for line in lines if keep == "head" else reversed(lines):
        if used + len(line) + (1 if kept else 0) > room:
            break
        used += len(line) + (1 if kept else 0)
        kept.append(line)
    if not kept:
        if room < MIN_PIECE:
            return ""
        kept = [(lines[0] if keep == "head" else lines[-1])[: room - 1] + "…"]
    if keep == "head":
        return "\n".join([*kept, TRUNCATED])
    return "\n".join([TRUNCATED, *reversed(kept)])


def without_title(text: str) -> str:
    """A memory file without its title line (for prompts)."""
    lines = text.splitlines()
    if lines and lines[0].startswith("# "):
        lines = lines[1:]
    return "\n".join(lines).strip("\n")


def left_out(count: int) -> str:
    return f"[{count} older daily note{'s' if count != 1 else ''} left out]" if count else ""


def is_valid_day(day: str) -> bool:
    try:
        date.fromisoformat(day)
    except ValueError:
        return False
    return True
