"""Rendering: ``--json`` documents, plain text when piped, rich on a terminal.

stdout carries data only; diagnostics go to stderr. Plain output is written in one call so a
slow pipe still receives every line. Everything printed passes through
:func:`agentctl.core.text.neutralise`: a record written by hand or pulled from git may hold
terminal escapes or bidi overrides, and they are shown as ``\\uXXXX`` instead of obeyed (in
JSON that is the standard escape, so the data stays exact). rich is imported only for a terminal, and big tables are
printed as plain aligned text even there (a rich table of 10,000 rows takes seconds).
Everything printed is masked (core/secrets.py): records are masked when written, but a
command may echo what it was given.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from agentctl.core.secrets import mask
from agentctl.core.text import neutralise

SCHEMA_VERSION = 1
RICH_ROW_LIMIT = 300


def emit_json(document: Mapping[str, Any]) -> None:
    """One JSON document: indented on a terminal, compact (C-encoded, fast) when piped."""
    indent = 2 if is_terminal() else None
    write(
        json.dumps(
            {"schema_version": SCHEMA_VERSION, **document},
            ensure_ascii=False,
            indent=indent,
            default=str,
        )
        + "\n"
    )


def emit_json_raw(key: str, json_text: str) -> None:
    """A document whose one payload is JSON text already (the index builds it); on a terminal
    it is re-parsed so it can be indented like every other document."""
    if is_terminal():
        emit_json({key: json.loads(json_text)})
        return
    write(f'{{"schema_version":{SCHEMA_VERSION},"{key}":{json_text}}}\n')


def write(text: str) -> None:
    sys.stdout.write(neutralise(mask(text)))
    sys.stdout.flush()


def is_terminal() -> bool:
    return sys.stdout.isatty()


def use_colour() -> bool:
    return is_terminal() and not os.environ.get("NO_COLOR")


def console() -> Any:
    from rich.console import Console

    return Console(highlight=False, no_color=bool(os.environ.get("NO_COLOR")))


def table(
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    title: str | None = None,
    styles: Sequence[str] | None = None,
) -> None:
    """Rows as a table: rich on a terminal (for modest sizes), aligned plain text otherwise."""
    if is_terminal() and len(rows) <= RICH_ROW_LIMIT:
        from rich.table import Table

        grid = Table(title=title, box=None, header_style="bold", pad_edge=False)
        for i, column in enumerate(columns):
            grid.add_column(column, style=(styles[i] if styles else None) or None, overflow="fold")
        for row in rows:
            grid.add_row(*(neutralise(mask(cell)) for cell in row))
        console().print(grid)
        return
    write(plain_table(columns, rows))


def plain_table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [len(c) for c in columns]
    for row in rows:
        for i, cell in enumerate(row[:-1]):
            if len(cell) > widths[i]:
                widths[i] = len(cell)
    lines = ["  ".join(c.ljust(widths[i]) for i, c in enumerate(columns)).rstrip()]
    for row in rows:
        lines.append(
            "  ".join(
                cell.ljust(widths[i]) if i < len(row) - 1 else cell for i, cell in enumerate(row)
            ).rstrip()
        )
    return "\n".join(lines) + "\n"


def say(message: str) -> None:
    """A human-oriented confirmation line (stdout, since it is the command's result)."""
    write(message + "\n")


def git_progress(json_: bool) -> Callable[[bytes], None] | None:
    """Where git's fetch and push progress goes: stderr when it is a terminal and the output
    is for people (not --json), else nowhere (git runs quietly). The remote's words are
    untrusted: control characters are escaped (the carriage returns of the meter are kept)
    and secrets masked."""
    if json_ or not sys.stderr.isatty():
        return None
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")("replace")  # a character split by a read

    def show(chunk: bytes) -> None:
        text = decoder.decode(chunk)
        safe = "\r".join(neutralise(mask(part)) for part in text.split("\r"))
        sys.stderr.write(safe)
        sys.stderr.flush()

    return show


def notice(message: str) -> None:
    """A diagnostic for people: stderr, so it never pollutes piped data."""
    sys.stderr.write(neutralise(mask(f"agentctl: {message}\n")))
