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
from collections.abc import Callable, Iterable, Mapping, Sequence
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
    lines = [_plain_row(columns, widths)]
    lines += [_plain_row(row, widths) for row in rows]
    return "\n".join(lines) + "\n"


def _plain_row(cells: Sequence[str], widths: Sequence[int]) -> str:
    last = len(cells) - 1
    return "  ".join(
        cell.ljust(widths[i]) if i < last else cell for i, cell in enumerate(cells)
    ).rstrip()


STREAM_LINES = 512  # lines per write of a streamed table or JSON array


def stream_table(
    columns: Sequence[str], widths: Sequence[int], rows: Iterable[Sequence[str]]
) -> None:
    """:func:`plain_table` of ``rows`` written as they come, given the widest cell of every
    column but the last (measured beforehand): the same text, with its first row out before
    the last is read. The header and first row go out at once, then every STREAM_LINES rows."""
    full = [max(len(c), w) for c, w in zip(columns, [*widths, 0], strict=False)]
    lines = [_plain_row(columns, full)]
    wanted = 2
    for row in rows:
        lines.append(_plain_row(row, full))
        if len(lines) >= wanted:
            write("\n".join(lines) + "\n")
            lines = []
            wanted = STREAM_LINES
    if lines:
        write("\n".join(lines) + "\n")


def emit_json_items(key: str, items: Iterable[str]) -> None:
    """:func:`emit_json_raw` of a JSON array given as the text of its items, written as they
    come (the same bytes when piped; on a terminal it is collected and indented)."""
    if is_terminal():
        emit_json_raw(key, "[" + ",".join(items) + "]")
        return
    chunk = [f'{{"schema_version":{SCHEMA_VERSION},"{key}":[']
    first = True
    for item in items:
        chunk.append(item if first else "," + item)
        first = False
        if len(chunk) >= STREAM_LINES:
            write("".join(chunk))
            chunk = []
    chunk.append("]}\n")
    write("".join(chunk))


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


PROGRESS_AFTER_SECONDS = 1.0  # a bar appears once a long job has run this long ...
PROGRESS_AFTER_ITEMS = 2000  # ... or at once when it has at least this many items


class LongProgress:
    """A progress bar on stderr for a job that turns out to be long: ``update(done, total)``
    is called as it goes; rich is imported only once the job has run more than
    :data:`PROGRESS_AFTER_SECONDS` or counts :data:`PROGRESS_AFTER_ITEMS` items, and never
    when stderr is not a terminal or the output is ``--json`` (see :func:`long_progress`)."""

    def __init__(self, label: str) -> None:
        import time

        self._clock = time.monotonic
        self._start = self._clock()
        self._label = label
        self._bar: Any = None
        self._task: Any = None

    def update(self, done: int, total: int) -> None:
        if self._bar is None:
            if (
                total < PROGRESS_AFTER_ITEMS
                and self._clock() - self._start < PROGRESS_AFTER_SECONDS
            ):
                return
            self._open(total)
        self._bar.update(self._task, completed=done, total=total)

    def _open(self, total: int) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        stderr = Console(stderr=True, highlight=False, no_color=bool(os.environ.get("NO_COLOR")))
        self._bar = Progress(
            TextColumn(self._label),
            BarColumn(),
            MofNCompleteColumn(),
            console=stderr,
            transient=True,
        )
        self._bar.start()
        self._task = self._bar.add_task(self._label, total=total)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def long_progress(json_: bool, label: str) -> LongProgress | None:
    """A :class:`LongProgress` for people at a terminal, else None."""
    if json_ or not sys.stderr.isatty():
        return None
    return LongProgress(label)


def notice(message: str) -> None:
    """A diagnostic for people: stderr, so it never pollutes piped data."""
    sys.stderr.write(neutralise(mask(f"agentctl: {message}\n")))
