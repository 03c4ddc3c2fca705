"""Building the index into empty tables (``agentctl reindex``, a deleted index).

Every record file is read, parsed and checked into rows without touching SQLite
(:meth:`Index.put` batches them), then the rows go in with one ``executemany`` per statement
in one transaction without fsync (the index is a cache: a crash loses nothing the files do
not hold). With many files and more than one CPU, forked worker processes parse chunks of
files in parallel and send their rows back; the parent inserts them in file order, so the
result is the same as a serial build (and as indexing file by file).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentctl.store.index import Index

FTS = "fts"  # bulk_rows key of full-text rows: (path, kind, ref, task, title, body)
_FTS_SQL = "INSERT INTO fts (rowid, kind, ref, task, title, body) VALUES (?, ?, ?, ?, ?, ?)"
_SEARCH_SQL = "INSERT INTO search_rows VALUES (?, ?)"
PARALLEL_MIN_FILES = 2000  # below this a pool costs more than it saves (measured)
_CHUNK = 500

Rows = dict[str, list[tuple[Any, ...]]]
_worker_index: Index | None = None  # set in the parent before forking


def workers() -> int:
    """Worker processes for a large build: ``AGENTCTL_INDEX_WORKERS``, else one fewer than
    the usable CPUs (at most 4) from 3 CPUs on, else 1 (serial): on 2 shared cores two
    workers did not beat one (docs/decisions.md, "Cold index build")."""
    value = os.environ.get("AGENTCTL_INDEX_WORKERS", "")
    if value.isdigit():
        return max(1, int(value))
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return min(cpus - 1, 4) if cpus >= 3 else 1


def parse_files(index: Index, files: list[tuple[str, str]]) -> Rows:
    """Rows for ``(path, kind)`` files, by statement, in file order (no SQLite access)."""
    index.bulk_rows = {FTS: []}
    try:
        for rel, kind in files:
            index._load_file(rel, kind, fresh=True)
        return index.bulk_rows
    finally:
        index.bulk_rows = None


def _parse_chunk(files: list[tuple[str, str]]) -> Rows:
    assert _worker_index is not None
    return parse_files(_worker_index, files)


def build(
    index: Index,
    files: list[tuple[str, str]],
    progress: Callable[[int, int], None] | None,
) -> None:
    """Index ``files`` into the (empty) record tables."""
    total = len(files)
    if progress is not None:
        progress(0, total)
    count = workers()
    if total >= PARALLEL_MIN_FILES and count > 1 and _can_fork():
        rows = _parse_parallel(index, files, count, progress)
    else:
        rows = {}
        for start in range(0, total, _CHUNK):
            _merge(rows, parse_files(index, files[start : start + _CHUNK]))
            if progress is not None:
                progress(min(start + _CHUNK, total), total)
    insert(index, rows)


def _can_fork() -> bool:
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()


def _parse_parallel(
    index: Index,
    files: list[tuple[str, str]],
    count: int,
    progress: Callable[[int, int], None] | None,
) -> Rows:
    import multiprocessing

    from agentctl.store import frontmatter  # noqa: F401  (imported once, before the fork)

    global _worker_index
    chunks = [files[start : start + _CHUNK] for start in range(0, len(files), _CHUNK)]
    rows: Rows = {}
    done = 0
    _worker_index = index
    try:
        with multiprocessing.get_context("fork").Pool(count) as pool:
            for chunk, result in zip(chunks, pool.imap(_parse_chunk, chunks), strict=True):
                _merge(rows, result)
                done += len(chunk)
                if progress is not None:
                    progress(done, len(files))
    finally:
        _worker_index = None
    return rows


def _merge(rows: Rows, more: Rows) -> None:
    for sql, params in more.items():
        rows.setdefault(sql, []).extend(params)


_RECORD_TABLES = ("files", "tasks", "agents", "states", "docs", "search_rows")


def secondary_indexes(db: sqlite3.Connection, tables: Sequence[str]) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the non-unique indexes of ``tables`` as the schema made
    them (not those SQLite makes for a primary key, which have no statement)."""
    marks = ", ".join("?" * len(tables))
    rows = db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        f" AND tbl_name IN ({marks}) ORDER BY rowid",
        list(tables),
    )
    return [(name, sql) for name, sql in rows if not sql.upper().startswith("CREATE UNIQUE")]


def insert_then_index(
    db: sqlite3.Connection, tables: Sequence[str], insert_rows: Callable[[], None]
) -> None:
    """Run ``insert_rows`` into empty ``tables`` with their secondary indexes dropped, then
    create the indexes again from their own statements (inside the caller's transaction):
    building an index from the whole table once is faster than updating it row by row, and
    no statement of the schema is repeated here. Unique indexes stay (they decide conflicts)."""
    indexes = secondary_indexes(db, tables)
    for name, _ in indexes:
        db.execute(f'DROP INDEX "{name}"')
    insert_rows()
    for _, sql in indexes:
        db.execute(sql)


def insert(index: Index, rows: Rows) -> None:
    """Insert batched rows in one transaction, without fsync."""
    db = index.db
    fts = rows.pop(FTS, [])

    def insert_rows() -> None:
        for sql, params in rows.items():
            db.executemany(sql, params)
        db.executemany(_FTS_SQL, ((n, *row[1:]) for n, row in enumerate(fts, 1)))
        db.executemany(_SEARCH_SQL, ((row[0], n) for n, row in enumerate(fts, 1)))

    from agentctl.store.index import SHORT_IDS_FILL

    db.execute("PRAGMA synchronous=OFF")
    db.execute("BEGIN IMMEDIATE")
    try:
        # The short_ids triggers look up two neighbours a row (~25 µs: a quarter of a cold
        # build); on empty tables the table is filled once, from every ID, after the rows.
        triggers = db.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'short_ids_%'"
        ).fetchall()
        for name, _ in triggers:
            db.execute(f'DROP TRIGGER "{name}"')
        insert_then_index(db, _RECORD_TABLES, insert_rows)
        for _, sql in triggers:
            db.execute(sql)
        if triggers:
            db.execute(SHORT_IDS_FILL)
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    finally:
        db.execute("PRAGMA synchronous=NORMAL")
