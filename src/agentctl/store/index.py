"""The local SQLite index (``.agentctl/local/index.sqlite``): a disposable cache of records.

Reads are served from here so their cost grows with the answer, not with the number of
files. :meth:`Index.refresh` compares every record file's stat signature (mtime, size, inode,
ctime) with the one recorded and re-parses only what changed, so hand edits and ``git pull``
are picked up without a rebuild. The file can be deleted at any time; it is rebuilt on use.

Only light structural checks run here (no pydantic: it costs ~100 ms to import). Files that
fail them are recorded with their problem and left out of results; read commands warn about
them on stderr, and ``agentctl validate`` runs the full schema.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from pathlib import Path
from stat import S_ISLNK
from typing import TYPE_CHECKING, Any, cast

from agentctl.core import clock
from agentctl.core.ids import MIN_PREFIX
from agentctl.errors import ValidationError
from agentctl.frozen import Frozen
from agentctl.paths import Layout
from agentctl.store.index_events import EVENT_TABLES, EventIndex
from agentctl.store.index_fresh import THREADS, FreshIndex, dir_signature, slice_size
from agentctl.store.index_text import TEXT_TABLES, TextIndex
from agentctl.store.reading import read_record_bytes

if TYPE_CHECKING:
    from agentctl.core.records import AgentRecord, AgentStateRecord, TaskRecord
    from agentctl.core.rows import PlanTask

SCHEMA = (
    19  # 11: tasks.spec_hash; 12: docs.source_url, docs.fetched_at; 13: an index on tasks.path;
)
# 14: tasks_depends (dependents of a task); 15: files_problems (the files with a problem),
# tasks_status ends with id (a page of one status in work order comes from the index alone);
# 16: tasks_order (work order without a sort) and the width indexes of a plain task table;
# 17: the width indexes keyed by an expression of the status (see _WIDTH_KEY); 18: task_agents;
# 19: short_ids (the IDs whose short ID is longer than the minimum)

# len(",".join(assignees) or "-") of the JSON the index writes (json.dumps: '", "' between
# items), for lists without an escape or a '","' (those are measured by _joined_length).
_PLAIN_ASSIGNEES_WIDTH = (
    "CASE WHEN assignees = '[]' OR instr(assignees, '\\') OR instr(assignees, '\",\"') THEN 1"
    " ELSE max(1, length(replace(substr(assignees, 3, length(assignees) - 4), '\", \"', ',')))"
    " END"
)

# A task row whose assignees hold an escape or are written without spaces ('","'): measured by
# _joined_length, not by _PLAIN_ASSIGNEES_WIDTH (a partial index finds them).
_ODD_ASSIGNEES = "(instr(assignees, '\\') OR instr(assignees, '\",\"'))"
# A task ID not of the form "t-" + at least MIN_PREFIX characters (a hand-made file name):
# the others' shortest short ID is _BASE_LENGTH characters (a partial index finds the odd ones).
_BASE_LENGTH = 2 + MIN_PREFIX
_ODD_IDS = f"(instr(id, '-') != 2 OR length(id) < {_BASE_LENGTH})"
# The status as the width indexes key it: an expression, so that only the width queries (which
# spell it the same way) use those indexes. Keyed by the bare column they looked as good as
# tasks_status to the planner for any "status IN (...)", which then lost tasks_status's order
# (task ready --limit 50 at 100,000 tasks: 3 -> 120 ms).
_WIDTH_KEY = "(status || '')"
_WORK_ORDER = "priority, created_at, id"  # the default order of task lists (tasks_order)
_MAX_STATUSES_MEASURED = 64  # distinct statuses measured one by one from the width indexes

_TABLES = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY, kind TEXT NOT NULL, sig INTEGER NOT NULL,
    problem TEXT, line INTEGER);
CREATE TABLE IF NOT EXISTS tasks (
    id TEXT PRIMARY KEY, path TEXT NOT NULL, title TEXT NOT NULL, status TEXT NOT NULL,
    priority INTEGER NOT NULL, assignees TEXT NOT NULL, labels TEXT NOT NULL, parent TEXT,
    depends_on TEXT NOT NULL, spec TEXT, spec_hash TEXT, estimate TEXT, due TEXT, source TEXT, created_by TEXT NOT NULL,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL, claim TEXT);
CREATE INDEX IF NOT EXISTS files_problems ON files (path) WHERE problem IS NOT NULL;
CREATE INDEX IF NOT EXISTS tasks_status ON tasks (status, priority, created_at, id);
CREATE INDEX IF NOT EXISTS tasks_updated ON tasks (updated_at);
CREATE INDEX IF NOT EXISTS tasks_source ON tasks (source) WHERE source IS NOT NULL;
CREATE INDEX IF NOT EXISTS tasks_parent ON tasks (parent) WHERE parent IS NOT NULL;
CREATE INDEX IF NOT EXISTS tasks_path ON tasks (path);
CREATE INDEX IF NOT EXISTS tasks_depends ON tasks (depends_on, id) WHERE depends_on != '[]';
CREATE INDEX IF NOT EXISTS tasks_order ON tasks (priority, created_at, id);
CREATE INDEX IF NOT EXISTS tasks_title_width ON tasks ({_WIDTH_KEY}, length(title));
CREATE INDEX IF NOT EXISTS tasks_assignees_width ON tasks ({_WIDTH_KEY}, {_PLAIN_ASSIGNEES_WIDTH});
CREATE INDEX IF NOT EXISTS tasks_odd_assignees ON tasks (status) WHERE {_ODD_ASSIGNEES};
CREATE INDEX IF NOT EXISTS tasks_odd_ids ON tasks (status) WHERE {_ODD_IDS};
CREATE TABLE IF NOT EXISTS short_ids (task TEXT PRIMARY KEY, length INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS task_agents (
    agent TEXT NOT NULL, task TEXT NOT NULL, PRIMARY KEY (agent, task)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS task_agents_task ON task_agents (task);
CREATE TABLE IF NOT EXISTS agents (name TEXT PRIMARY KEY, path TEXT NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS states (name TEXT PRIMARY KEY, path TEXT NOT NULL, data TEXT NOT NULL);
"""


def _longer_than_base(x: str, other: str) -> str:
    """SQL: the length of ``x``'s short ID given the ID ``other`` next to it when that is
    longer than _BASE_LENGTH (they share _BASE_LENGTH characters or more), else 0. For IDs of
    the usual form ("t-" and 12 characters; the checks admit no other), so at most 14."""
    ladder = " ".join(
        f"WHEN substr({x}, 1, {n}) = substr({other}, 1, {n}) THEN {n + 1}"
        for n in range(13, _BASE_LENGTH - 1, -1)
    )
    return f"CASE WHEN {other} IS NULL THEN 0 {ladder} ELSE 0 END"


def _short_id_rows(ids: str) -> str:
    """SQL: the short_ids rows of the IDs ``ids`` (a SELECT of one column ``x``), from each
    one's neighbours in ID order."""
    return (
        "SELECT x, n FROM (SELECT x,"
        f" max({_longer_than_base('x', 'p')}, {_longer_than_base('x', 'q')}) AS n FROM (SELECT x,"
        " (SELECT b.id FROM tasks AS b WHERE b.id < x ORDER BY b.id DESC LIMIT 1) AS p,"
        " (SELECT b.id FROM tasks AS b WHERE b.id > x ORDER BY b.id LIMIT 1) AS q"
        f" FROM ({ids}))) WHERE n > 0"
    )


def _short_id_recompute(ids: str) -> str:
    """SQL (trigger body): the short_ids rows of the IDs ``ids`` (a SELECT of one column,
    NULLs and IDs no longer in tasks ignored) recomputed from their neighbours."""
    return (
        f" DELETE FROM short_ids WHERE task IN ({ids});"
        " INSERT INTO short_ids "
        + _short_id_rows(
            f"SELECT x FROM ({ids}) WHERE x IS NOT NULL AND x IN (SELECT id FROM tasks)"
        )
        + ";"
    )


def _short_id_triggers() -> tuple[str, ...]:
    """Triggers that keep short_ids: the IDs whose short ID (:func:`agentctl.core.ids.short_id`)
    is longer than _BASE_LENGTH, with its length. Adding or removing an ID changes at most its
    own and its two neighbours' short IDs; a whole list measures its ID column from this
    table instead of a pass over every ID."""

    def around(ref: str) -> str:
        return (
            f"SELECT {ref} AS x"
            f" UNION SELECT (SELECT b.id FROM tasks AS b WHERE b.id < {ref} ORDER BY b.id DESC LIMIT 1)"
            f" UNION SELECT (SELECT b.id FROM tasks AS b WHERE b.id > {ref} ORDER BY b.id LIMIT 1)"
        )

    return (
        "CREATE TRIGGER IF NOT EXISTS short_ids_put AFTER INSERT ON tasks BEGIN"
        + _short_id_recompute(around("new.id"))
        + " END",
        "CREATE TRIGGER IF NOT EXISTS short_ids_gone AFTER DELETE ON tasks BEGIN"
        + _short_id_recompute(around("old.id"))
        + " END",
        "CREATE TRIGGER IF NOT EXISTS short_ids_change AFTER UPDATE OF id ON tasks BEGIN"
        + _short_id_recompute(around("old.id"))
        + _short_id_recompute(around("new.id"))
        + " END",
    )


# short_ids of every task at once (a cold build fills it after its rows, without the triggers).
SHORT_IDS_FILL = "INSERT INTO short_ids " + _short_id_rows("SELECT id AS x FROM tasks")

# task_agents holds each task's assignees, one row each, so "the tasks of agent X" is an index
# seek instead of a json_each over every task. Kept by SQLite itself on every write of tasks
# (an INSERT OR REPLACE of a task deletes its old rows first: REPLACE fires no DELETE trigger).
_TRIGGERS = (
    "CREATE TRIGGER IF NOT EXISTS task_agents_put AFTER INSERT ON tasks BEGIN"
    " DELETE FROM task_agents WHERE task = new.id;"
    " INSERT OR IGNORE INTO task_agents SELECT value, new.id FROM json_each(new.assignees); END",
    "CREATE TRIGGER IF NOT EXISTS task_agents_change AFTER UPDATE OF id, assignees ON tasks BEGIN"
    " DELETE FROM task_agents WHERE task = old.id;"
    " INSERT OR IGNORE INTO task_agents SELECT value, new.id FROM json_each(new.assignees); END",
    "CREATE TRIGGER IF NOT EXISTS task_agents_gone AFTER DELETE ON tasks BEGIN"
    " DELETE FROM task_agents WHERE task = old.id; END",
    *_short_id_triggers(),
)

TASK_COLUMNS = (
    "id", "title", "status", "priority", "assignees", "labels", "parent", "depends_on", "spec",
    "spec_hash", "estimate", "due", "source", "created_by", "created_at", "updated_at", "claim",
)  # fmt: skip
_JSON_COLUMNS = frozenset({"assignees", "labels", "depends_on", "claim"})


class Problem(Frozen):
    """A record file that could not be indexed: where, and why. Immutable, compared and
    hashed by its fields (a frozen dataclass written out: building a dataclass costs ~0.5 ms
    at every start)."""

    _fields = ("path", "line", "message")
    path: str
    line: int | None
    message: str

    def __init__(self, path: str, line: int | None, message: str) -> None:
        object.__setattr__(self, "path", path)
        object.__setattr__(self, "line", line)
        object.__setattr__(self, "message", message)

    def __str__(self) -> str:
        return (
            f"{self.path}:{self.line}: {self.message}"
            if self.line
            else f"{self.path}: {self.message}"
        )


def signature(st: os.stat_result) -> int:
    """Changes whenever the file is replaced or edited in place (hash of small ints is stable)."""
    return hash((st.st_mtime_ns, st.st_size, st.st_ino, st.st_ctime_ns))


_SCALARS = frozenset({str, int, bool, float, type(None)})  # exact types plain_value keeps


def plain_value(value: Any) -> Any:
    """YAML scalars as JSON-friendly values (timestamps as ISO strings); mappings and lists
    are copied."""
    if isinstance(value, dict):
        return {k: v if type(v) in _SCALARS else plain_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [v if type(v) in _SCALARS else plain_value(v) for v in value]
    if isinstance(value, datetime):
        return clock.iso(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


# Printable ASCII but '"' and '\\': json.dumps writes such a string as itself in quotes.
_JSON_AS_IS = re.compile(r"[ !#-\[\]-~]*")


def json_list(value: Any) -> str:
    """``json.dumps(value or [])`` of a list of names, IDs or labels, without the encoder
    for the usual ones (checked items written as themselves: ~0.3 us instead of ~1.5 us)."""
    if not value:
        return "[]"
    if type(value) is list and all(type(item) is str for item in value):
        if _JSON_AS_IS.fullmatch("".join(value)):
            return '["' + '", "'.join(value) + '"]'
    return json.dumps(value)


def _task_json_sql() -> str:
    """One JSON object per task row, built by SQLite (far faster than decoding columns)."""
    parts = []
    for column in TASK_COLUMNS:
        value = f"json({column})" if column in _JSON_COLUMNS else column
        parts.append(f"'{column}', {value}")
    return "SELECT json_object(" + ", ".join(parts) + ") FROM tasks"


_SELECT_TASK_JSON = _task_json_sql()
_PICK = "SELECT rowid FROM tasks"  # a page of tasks picked before its rows are built
_INSERT_TASK = (
    f"INSERT OR REPLACE INTO tasks (path, {', '.join(TASK_COLUMNS)})"
    f" VALUES (?{', ?' * len(TASK_COLUMNS)})"
)


def ready_query(candidates: str, done_count: int) -> str:
    """SELECT of the tasks matching ``candidates`` (a WHERE condition) that wait for
    nothing: no unfinished or missing dependency of their own or of any task enclosing them.
    Parameters: the done statuses, the candidates', the done statuses again.

    The tasks held by an enclosing task are found top-down: the parents with an unfinished
    dependency, then their descendants through the parent index (UNION ends a loop of
    parents), so a workspace without parents pays nothing for them."""
    done = ", ".join("?" * done_count)
    unfinished = (
        "SELECT 1 FROM json_each({table}.depends_on) AS dep LEFT JOIN tasks AS other ON other.id = dep.value"
        f" WHERE other.id IS NULL OR other.status NOT IN ({done})"
    )
    return (
        "WITH RECURSIVE held(id) AS ("
        "SELECT c.id FROM tasks AS a JOIN tasks AS c ON c.parent = a.id"
        f" WHERE a.depends_on != '[]' AND EXISTS ({unfinished.format(table='a')})"
        " UNION SELECT c.id FROM held JOIN tasks AS c ON c.parent = held.id) "
        + _SELECT_TASK_JSON
        + f" WHERE {candidates} AND NOT EXISTS ({unfinished.format(table='tasks')}) AND id NOT IN held"
    )


def _json_array(rows: Iterable[Sequence[Any]]) -> str:
    """Rows of one JSON object each, joined into JSON array text."""
    return "[" + ",".join(row[0] for row in rows) + "]"


def _decode_rows(rows: Iterable[Sequence[Any]]) -> list[dict[str, Any]]:
    """Rows of one JSON object each, decoded with a single json.loads call."""
    result: list[dict[str, Any]] = json.loads(_json_array(rows))
    return result


class Index(EventIndex, TextIndex, FreshIndex):
    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self._root_prefix = str(layout.root).rstrip(os.sep) + os.sep
        self._verified = {}
        self._db: sqlite3.Connection | None = None
        # During a build into an empty index: rows to insert, by statement (see _bulk_load).
        self.bulk_rows: dict[str, list[tuple[Any, ...]]] | None = None

    def put(self, sql: str, params: tuple[Any, ...]) -> None:
        """Run one INSERT now, or batch it during a bulk build (same order per statement,
        so INSERT OR REPLACE keeps the last of two files claiming one key, as before)."""
        if self.bulk_rows is not None:
            self.bulk_rows.setdefault(sql, []).append(params)
        else:
            self.db.execute(sql, params)

    # -- connection --------------------------------------------------------------------

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = self._open()
        return self._db

    def _open(self) -> sqlite3.Connection:
        self.layout.local.mkdir(parents=True, exist_ok=True)
        for attempt in range(2):
            db = sqlite3.connect(self.layout.index, timeout=30, isolation_level=None)
            try:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                version = self._schema_version(db)
                if version != SCHEMA:
                    db.execute("BEGIN IMMEDIATE")
                    if self._schema_version(db) != SCHEMA:  # re-check under the write lock
                        tables = db.execute(
                            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
                            " AND name NOT LIKE 'fts_%'"
                        ).fetchall()
                        for (table,) in tables:
                            db.execute(f'DROP TABLE IF EXISTS "{table}"')
                        for statement in (_TABLES + EVENT_TABLES + TEXT_TABLES).split(";"):
                            if statement.strip():
                                db.execute(statement)
                        for trigger in _TRIGGERS:
                            db.execute(trigger)
                        db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA),))
                    db.execute("COMMIT")
                return db
            except sqlite3.DatabaseError:
                db.close()
                if attempt:
                    raise
                # A corrupt cache is thrown away and rebuilt from the records.
                for suffix in ("", "-wal", "-shm"):
                    Path(str(self.layout.index) + suffix).unlink(missing_ok=True)
        raise AssertionError("unreachable")

    @staticmethod
    def _schema_version(db: sqlite3.Connection) -> int | None:
        try:
            row = db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        except sqlite3.OperationalError:
            return None
        return int(row[0]) if row else None

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def rebuild(self, progress: Callable[[int, int], None] | None = None) -> list[Problem]:
        """Delete the index and build it again from the files; ``progress(done, total)`` is
        called now and then while record files are read."""
        self.close()
        for suffix in ("", "-wal", "-shm"):
            Path(str(self.layout.index) + suffix).unlink(missing_ok=True)
        self.refresh_records(progress=progress)
        self.refresh_logs()
        # Messages too: left to the first `search`, 500,000 of them took it ~8 minutes.
        self.refresh_threads(full=True)
        return self.problems()

    # -- refresh -----------------------------------------------------------------------

    def _record_dirs(self, agents_only: bool = False) -> list[tuple[Path, tuple[str, ...]]]:
        """The record directories (or just the agents') and the file kinds each holds."""
        layout = self.layout
        if agents_only:
            return [(layout.agents, ("agent", "state"))]
        return [
            (layout.tasks, ("task",)),
            (layout.agents, ("agent", "state")),
            (layout.docs, ("doc",)),
        ]

    def _scan_dir(self, directory: Path, signatures: bool = True) -> dict[str, tuple[str, int]]:
        """relative path -> (kind, signature) for every record file of one record directory
        (signature 0 without ``signatures``: for a build into an empty index, which has none
        to compare with and takes each file's from the file it reads)."""
        found: dict[str, tuple[str, int]] = {}
        stat = os.stat
        is_tasks = directory == self.layout.tasks
        is_docs = directory == self.layout.docs
        try:
            dir_st = stat(directory, follow_symlinks=False)
        except FileNotFoundError:
            return found
        if S_ISLNK(dir_st.st_mode):
            # Recorded as a problem of the directory itself (loading it is refused).
            kind = "task" if is_tasks else "doc" if is_docs else "agent"
            found[self.layout.relative(directory)] = (kind, signature(dir_st))
            return found
        try:
            names = os.listdir(directory)
        except (FileNotFoundError, NotADirectoryError):
            return found
        base = str(directory) + os.sep
        if is_docs:
            for name in names:
                if name[0] != "." and name.endswith(".md"):
                    try:
                        sig = (
                            signature(stat(base + name, follow_symlinks=False)) if signatures else 0
                        )
                    except FileNotFoundError:
                        continue
                    found[f".agentctl/docs/{name}"] = ("doc", sig)
            return found
        rel_dir = "/".join(directory.relative_to(self.layout.root).parts)
        for name in names:
            if name[0] == ".":
                continue
            if is_tasks:
                if not name.endswith(".md"):
                    continue
                kind = "task"
            elif name.endswith(".state.yaml"):
                kind = "state"
            elif name.endswith(".md"):
                kind = "agent"
            else:
                continue
            if not signatures:
                found[f"{rel_dir}/{name}"] = (kind, 0)
                continue
            try:
                st = stat(base + name, follow_symlinks=False)
            except FileNotFoundError:
                continue
            found[f"{rel_dir}/{name}"] = (
                kind,
                hash((st.st_mtime_ns, st.st_size, st.st_ino, st.st_ctime_ns)),
            )
        return found

    def refresh(
        self, logs: bool = True, threads: bool = False, full: bool = False
    ) -> list[Problem]:
        """Bring the index up to date with the record files (and the event/inbox logs, and
        with ``threads`` every thread's messages); returns current record file problems.
        ``full`` scans every file even where the directory signatures say nothing changed
        (see :mod:`agentctl.store.index_fresh`)."""
        self.refresh_records(full=full)
        if logs:
            self.refresh_logs()
        if threads:
            self.refresh_threads(full=full)
        return self.problems()

    def refresh_records(
        self,
        agents_only: bool = False,
        progress: Callable[[int, int], None] | None = None,
        full: bool = False,
    ) -> None:
        """Re-index changed record files: all of them, or (cheap, for finding who acts) only
        the agent definitions and states. A big directory whose signature has not changed
        since its last scan (within the rescan cadence) is not scanned unless ``full``."""
        db = self.db
        now = time.time_ns()
        on_disk: dict[str, tuple[str, int]] = {}
        kinds: list[str] = []
        scanned: list[tuple[str, int | None, int]] = []
        skipped: list[tuple[str, tuple[str, ...]]] = []
        # No file indexed yet (a build): the scan's signatures would be compared with none
        cold: bool | None = None
        for directory, dir_kinds in self._record_dirs(agents_only):
            name = self.layout.relative(directory)
            sig = dir_signature(directory)
            if not full and self.may_skip(name, sig, now):
                skipped.append((name, dir_kinds))
                continue
            if cold is None:
                cold = (
                    not agents_only and db.execute("SELECT 1 FROM files LIMIT 1").fetchone() is None
                )
            found = self._scan_dir(directory, signatures=not cold)
            on_disk.update(found)
            kinds.extend(dir_kinds)
            scanned.append((name, sig, len(found)))
        if skipped:
            self._check_slices(skipped)
        if not scanned:
            return
        wanted = ", ".join(f"'{kind}'" for kind in kinds)
        known = {
            path: sig
            for path, sig in db.execute(f"SELECT path, sig FROM files WHERE kind IN ({wanted})")
        }
        changed = [p for p, (_, sig) in on_disk.items() if known.get(p) != sig]
        removed = [p for p in known if p not in on_disk]
        if not changed and not removed:
            scanned = [entry for entry in scanned if not self.same_as_recorded(*entry)]
            if not scanned:
                return
        if changed and not known and not agents_only and self._empty():
            self._bulk_load(changed, on_disk, progress)
            db.execute("BEGIN IMMEDIATE")
        else:
            db.execute("BEGIN IMMEDIATE")
            try:
                for path in removed:
                    self._forget(path)
                for path in changed:
                    kind, _ = on_disk[path]
                    self._load_file(path, kind)
            except BaseException:
                db.execute("ROLLBACK")
                raise
        try:
            for name, sig, count in scanned:
                self.record_scan(name, sig, now, count)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def recheck_file(self, rel: str, kind: str) -> bool:
        """Re-index one record file if its stat differs from the indexed one; True if it
        did (a command about one task sees an edit made in place at once)."""
        db = self.db
        row = db.execute("SELECT sig FROM files WHERE path=?", (rel,)).fetchone()
        try:
            st = os.stat(str(self.layout.root) + os.sep + rel, follow_symlinks=False)
        except FileNotFoundError:
            st = None
        if row is not None and st is not None and signature(st) == row[0]:
            return False
        if row is None and st is None:
            return False
        db.execute("BEGIN IMMEDIATE")
        try:
            if st is None:
                self._forget(rel)
            else:
                self._load_file(rel, kind)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return True

    def _check_slices(self, skipped: list[tuple[str, tuple[str, ...]]]) -> None:
        """Stat the next slice of the files of each directory that was not scanned, in turn,
        so an edit made in place is found within (files / slice) commands even where the
        directory never changes."""
        size = slice_size()
        if not size:
            return
        db = self.db
        base = str(self.layout.root) + os.sep
        db.execute("BEGIN IMMEDIATE")
        try:
            for name, kinds in skipped:
                cursor = self.cursor(name)
                marks = ", ".join("?" * len(kinds))
                rows = db.execute(
                    f"SELECT path, kind, sig FROM files WHERE kind IN ({marks}) AND path > ?"
                    " ORDER BY path LIMIT ?",
                    (*kinds, cursor, size),
                ).fetchall()
                for rel, kind, sig in rows:
                    try:
                        st = os.stat(base + rel, follow_symlinks=False)
                    except FileNotFoundError:
                        self._forget(rel)
                        continue
                    if signature(st) != sig:
                        self._load_file(rel, kind)
                self.set_cursor(name, rows[-1][0] if len(rows) == size else "")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def threads_signature(self) -> int | None:
        """The threads' signal: the threads and event log directories' signatures."""
        threads = dir_signature(self.layout.threads)
        if threads is None:
            return None
        return hash((threads, dir_signature(self.layout.events)))

    def refresh_threads(self, task_id: str | None = None, full: bool = False) -> int:
        """Every thread's new and removed messages (or one thread's, deeply); all threads are
        looked at only when the threads' signal changed or the cadence is due (``full``:
        always)."""
        if task_id is not None:
            return super().refresh_threads(task_id)
        now = time.time_ns()
        sig = self.threads_signature()
        if not full and self.may_skip(THREADS, sig, now):
            return 0
        count = super().refresh_threads()
        self.record_scan(THREADS, sig, now, count)
        return count

    def verify_threads(self) -> None:
        """Before this process writes (holding the lock): note whether the threads' recorded
        signal is still the disk's, so :meth:`note_own_writes` may follow it."""
        self.verify(THREADS, self.threads_signature())

    def note_own_writes(self, paths: Iterable[Path]) -> None:
        """Record the new signatures of the directories this process just wrote into (holding
        the workspace lock), so the next command need not rescan them."""
        layout = self.layout
        dirs = {path.parent for path in paths}
        record_dirs = {directory for directory, _ in self._record_dirs()}
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            for directory in dirs & record_dirs:
                self.follow_own_write(layout.relative(directory), dir_signature(directory))
            if any(
                d == layout.events or d.parent == layout.threads or d == layout.threads
                for d in dirs
            ):
                self.follow_own_write(THREADS, self.threads_signature())
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _empty(self) -> bool:
        """No record rows at all (a new or deleted index)."""
        db = self.db
        return not any(
            db.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone()
            for table in ("files", "tasks", "agents", "states", "docs", "search_rows")
        )

    def _bulk_load(
        self,
        paths: list[str],
        on_disk: dict[str, tuple[str, int]],
        progress: Callable[[int, int], None] | None,
    ) -> None:
        """Index every record file into empty tables (see :mod:`agentctl.store.index_build`)."""
        from agentctl.store import index_build

        index_build.build(self, [(path, on_disk[path][0]) for path in paths], progress)

    def _forget(self, rel: str) -> None:
        db = self.db
        db.execute("DELETE FROM files WHERE path=?", (rel,))
        db.execute("DELETE FROM tasks WHERE path=?", (rel,))
        db.execute("DELETE FROM agents WHERE path=?", (rel,))
        db.execute("DELETE FROM states WHERE path=?", (rel,))
        db.execute("DELETE FROM docs WHERE path=?", (rel,))
        self.fts_forget(rel)

    def _load_file(self, rel: str, kind: str, fresh: bool = False) -> None:
        """(Re)read one record file into the index, recording a problem if it is invalid
        (``fresh``: the index holds nothing of it yet)."""
        path = self._root_prefix + rel  # a str: pathlib costs ~2 us a file here
        if not fresh:
            self._forget(rel)
        problem: Problem | None = None
        try:
            # No symlink, nothing but a regular file, at most MAX_RECORD_BYTES (see reading).
            raw, st = read_record_bytes(path, rel)
        except FileNotFoundError:
            return
        except ValidationError as exc:
            try:
                st = os.stat(path, follow_symlinks=False)
            except FileNotFoundError:
                return
            raw, problem = b"", Problem(rel, None, exc.problem)
        if problem is None:
            try:
                self._parse_file(rel, kind, rel.rpartition("/")[2], raw)
            except UnicodeDecodeError:
                problem = Problem(rel, None, "not valid UTF-8")
            except ValidationError as exc:
                problem = Problem(exc.path or rel, exc.line, exc.problem)
        self.put(
            "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?)",
            (
                rel,
                kind,
                signature(st),
                problem.message if problem else None,
                problem.line if problem else None,
            ),
        )

    def _parse_file(self, rel: str, kind: str, name: str, raw: bytes) -> None:
        """Check one record file's bytes and store its rows (raises for a problem)."""
        from agentctl.core.checks import check_agent, check_doc, check_state, check_task
        from agentctl.store import frontmatter

        text = raw.decode("utf-8")
        stem = name.removesuffix(".state.yaml").removesuffix(".md")
        if kind == "state":
            loaded = frontmatter.load_yaml_fast(text, rel)
            data = plain_value(loaded if loaded is not None else {})
            check_state(data, rel)
            self.store_state(stem, rel, data)
        else:
            fields, body = frontmatter.load_fast(text, rel)
            data = plain_value(fields)
            if kind == "task":
                check_task(data, stem, rel)
                self.store_task(rel, data)
                self.fts_put(rel, "task", data["id"], data["id"], data["title"], body)
            elif kind == "doc":
                check_doc(data, stem, rel)
                self.store_doc(rel, data, body)
            else:
                check_agent(data, stem, rel)
                self.store_agent(rel, data)

    def record_file(self, path: Path) -> None:
        """Index one record file just written by this process (inside the caller's lock)."""
        self.record_files([path])

    def record_files(
        self, paths: list[Path], known: dict[Path, tuple[dict[str, Any], str]] | None = None
    ) -> None:
        """Index record files just written by this process (inside the caller's lock), in one
        SQLite transaction. ``known`` gives the fields and body of task files the caller has
        just written from that data, so they need not be read and parsed back (an import
        writes a thousand)."""
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            for path in paths:
                rel = self.layout.relative(path)
                if path.name.endswith(".state.yaml"):
                    kind = "state"
                elif path.parent == self.layout.tasks:
                    kind = "task"
                elif path.parent == self.layout.docs:
                    kind = "doc"
                else:
                    kind = "agent"
                parsed = (known or {}).get(path) if kind == "task" else None
                if parsed is not None:
                    self._store_known_task(path, rel, *parsed)
                elif path.exists():
                    self._load_file(rel, kind)
                else:
                    self._forget(rel)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _store_known_task(self, path: Path, rel: str, fields: dict[str, Any], body: str) -> None:
        """A task file written from ``fields`` and ``body`` by this process: checked and
        stored like a parsed one, with the file's signature."""
        from agentctl.core.checks import check_task

        st = os.stat(path, follow_symlinks=False)
        data = plain_value(dict(fields))
        self._forget(rel)
        check_task(data, path.name.removesuffix(".md"), rel)
        self.store_task(rel, data)
        self.fts_put(rel, "task", data["id"], data["id"], data["title"], body)
        self.db.execute(
            "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?)",
            (rel, "task", signature(st), None, None),
        )

    def store_task(self, rel: str, data: dict[str, Any]) -> None:
        """The row of one checked task: lists and the claim as JSON text, the priority as
        an int (2 when absent), other values as text (in the order of TASK_COLUMNS)."""
        get = data.get
        priority = get("priority")
        claim = get("claim")
        self.put(
            _INSERT_TASK,
            (rel, _text(get("id")), _text(get("title")), _text(get("status")),
             int(priority if priority is not None else 2), json_list(get("assignees")),
             json_list(get("labels")), _text(get("parent")), json_list(get("depends_on")),
             _text(get("spec")), _text(get("spec_hash")), _text(get("estimate")),
             _text(get("due")), _text(get("source")), _text(get("created_by")),
             _text(get("created_at")), _text(get("updated_at")),
             json.dumps(claim) if claim else None),
        )  # fmt: skip

    def store_agent(self, rel: str, data: dict[str, Any]) -> None:
        self.put(
            "INSERT OR REPLACE INTO agents VALUES (?, ?, ?)", (data["name"], rel, json.dumps(data))
        )

    def store_state(self, name: str, rel: str, data: dict[str, Any]) -> None:
        self.put("INSERT OR REPLACE INTO states VALUES (?, ?, ?)", (name, rel, json.dumps(data)))

    # -- queries -----------------------------------------------------------------------

    def problems(self) -> list[Problem]:
        rows = self.db.execute(
            "SELECT path, line, problem FROM files INDEXED BY files_problems"
            " WHERE problem IS NOT NULL AND kind != 'message' ORDER BY path"
        )
        return [Problem(path, line, message) for path, line, message in rows]

    def problem_of(self, rel: str) -> Problem | None:
        """The recorded problem of one record file (or record directory), if it has one."""
        row = self.db.execute(
            "SELECT line, problem FROM files WHERE path=? AND problem IS NOT NULL", (rel,)
        ).fetchone()
        return Problem(rel, row[0], row[1]) if row else None

    def task_ids(self) -> list[str]:
        return [row[0] for row in self.db.execute("SELECT id FROM tasks ORDER BY id")]

    def neighbours(self, task_id: str) -> list[str]:
        """The IDs just before and after ``task_id`` in sort order (for short-ID display)."""
        db = self.db
        before = db.execute(
            "SELECT id FROM tasks WHERE id < ? ORDER BY id DESC LIMIT 1", (task_id,)
        ).fetchone()
        after = db.execute(
            "SELECT id FROM tasks WHERE id > ? ORDER BY id LIMIT 1", (task_id,)
        ).fetchone()
        return [row[0] for row in (before, after) if row]

    def ids_with_prefix(self, prefix: str, limit: int = 12) -> list[str]:
        upper = prefix + "\uffff"
        rows = self.db.execute(
            "SELECT id FROM tasks WHERE id >= ? AND id < ? ORDER BY id LIMIT ?",
            (prefix, upper, limit),
        )
        return [row[0] for row in rows]

    def task(self, task_id: str) -> TaskRecord | None:
        rows = self.db.execute(_SELECT_TASK_JSON + " WHERE id=?", (task_id,)).fetchall()
        return cast("TaskRecord", _decode_rows(rows)[0]) if rows else None

    def tasks_by_source(self, prefix: str) -> list[TaskRecord]:
        """Tasks whose ``source`` starts with ``prefix`` (an importer's ``<file>#``), by
        source; a range scan on the source index."""
        upper = prefix[:-1] + chr(ord(prefix[-1]) + 1) if prefix else "\U0010ffff"
        rows = self.db.execute(
            _SELECT_TASK_JSON + " WHERE source >= ? AND source < ? ORDER BY source, id",
            (prefix, upper),
        )
        return cast("list[TaskRecord]", _decode_rows(rows))

    def tasks_with_spec(self, prefix: str = "") -> list[dict[str, Any]]:
        """Tasks with a ``spec:`` link starting with ``prefix`` (all linked tasks for ''), by
        link and ID."""
        rows = self.db.execute(
            _SELECT_TASK_JSON
            + " WHERE spec IS NOT NULL AND substr(spec, 1, ?) = ? ORDER BY spec, id",
            (len(prefix), prefix),
        )
        return _decode_rows(rows)

    def _task_query(
        self,
        statuses: Iterable[str] | None,
        assignee: str | None,
        label: str | None,
        parent: str | None,
        order: str,
        limit: int | None,
        status_rank: Sequence[str] = (),
        in_order: bool = False,
    ) -> tuple[str, list[Any]]:
        """The SELECT of a task list; ``in_order``: most tasks are listed, so walk them in work
        order through ``tasks_order`` (the first row comes at once) rather than pick them by
        status and sort them all first."""
        clauses: list[str] = []
        params: list[Any] = []
        if statuses is not None:
            wanted = list(statuses)
            unary = "+" if in_order else ""  # "+status": not by the status index
            clauses.append(f"{unary}status IN ({', '.join('?' * len(wanted))})")
            params.extend(wanted)
        if assignee is not None:
            clauses.append("tasks.id IN (SELECT task FROM task_agents WHERE agent = ?)")
            params.append(assignee)
        if label is not None:
            clauses.append("EXISTS (SELECT 1 FROM json_each(tasks.labels) WHERE value = ?)")
            params.append(label)
        if parent is not None:
            clauses.append("parent = ?")
            params.append(parent)
        where = " WHERE " + " AND ".join(clauses) if clauses else ""
        sql = _SELECT_TASK_JSON + where
        order_params: list[Any] = []
        if status_rank:  # workflow order of statuses, then the given order
            cases = " ".join("WHEN ? THEN ?" for _ in status_rank)
            order = f"CASE status {cases} ELSE {len(status_rank)} END, {order}"
            for rank, status in enumerate(status_rank):
                order_params.extend([status, rank])
        params.extend(order_params)
        if limit is not None:
            # A page: its rows are picked first (see tasks_json), so SQLite builds the JSON of
            # those rows only; a top-N sort of the full select builds it for every match.
            sql = f"{_PICK}{where} ORDER BY {order} LIMIT ?"
            params.append(limit)
        else:
            sql += f" ORDER BY {order}"
        return sql, params

    def tasks_json(
        self,
        statuses: Iterable[str] | None = None,
        assignee: str | None = None,
        label: str | None = None,
        parent: str | None = None,
        order: str = "priority, created_at, id",
        limit: int | None = None,
        status_rank: Sequence[str] = (),
    ) -> str:
        """The same result as :meth:`tasks`, as JSON array text built by SQLite, for output
        that is JSON anyway (decoding and re-encoding 10,000 tasks costs ~60 ms)."""
        sql, params = self._task_query(statuses, assignee, label, parent, order, limit, status_rank)
        db = self.db
        if limit is None:
            return _json_array(db.execute(sql, params))
        return self._json_of_rowids([row[0] for row in db.execute(sql, params)])

    def _json_texts_of_rowids(self, picked: list[int]) -> list[str]:
        """The JSON object text of each task with these rowids, in this order (a page picked
        by a query that built no JSON)."""
        if not picked:
            return []
        marks = ", ".join("?" * len(picked))
        by_rowid = dict(
            self.db.execute(
                _SELECT_TASK_JSON.replace("SELECT ", "SELECT rowid, ", 1)
                + f" WHERE rowid IN ({marks})",
                picked,
            )
        )
        return [by_rowid[rowid] for rowid in picked]

    def _json_of_rowids(self, picked: list[int]) -> str:
        return "[" + ",".join(self._json_texts_of_rowids(picked)) + "]"

    def tasks(
        self,
        statuses: Iterable[str] | None = None,
        assignee: str | None = None,
        label: str | None = None,
        parent: str | None = None,
        order: str = "priority, created_at, id",
        limit: int | None = None,
        status_rank: Sequence[str] = (),
    ) -> list[TaskRecord]:
        result: list[TaskRecord] = json.loads(
            self.tasks_json(statuses, assignee, label, parent, order, limit, status_rank)
        )
        return result

    def count_by_status(self) -> dict[str, int]:
        return dict(
            self.db.execute("SELECT status, COUNT(*) FROM tasks GROUP BY status").fetchall()
        )

    def graph(self, exclude_statuses: Sequence[str] = ()) -> dict[str, PlanTask]:
        """Task data for graph and planning work: id, status, priority, created_at, updated_at,
        depends_on, assignees, labels, parent, estimate, due, title (of the tasks not in
        ``exclude_statuses``)."""
        sql = (
            "SELECT json_object('id', id, 'status', status, 'priority', priority, 'created_at', created_at,"
            " 'updated_at', updated_at, 'depends_on', json(depends_on), 'assignees', json(assignees),"
            " 'labels', json(labels), 'parent', parent, 'estimate', estimate, 'due', due, 'title', title)"
            " FROM tasks"
        )
        if exclude_statuses:
            sql += f" WHERE status NOT IN ({', '.join('?' * len(exclude_statuses))})"
        rows = self.db.execute(sql, list(exclude_statuses))
        return {task["id"]: task for task in cast("list[PlanTask]", _decode_rows(rows))}

    def plan_text(self, done_statuses: Sequence[str]) -> str:
        """``id|parent|depends_on|estimate`` of every task not in ``done_statuses``, one per
        line: the whole input of the critical path in one string built by SQLite, cheap
        enough to key a cache by on every mutation (none of the fields can hold ``|`` or a
        line break: they are validated IDs, JSON arrays of IDs and estimates)."""
        marks = ", ".join("?" * len(done_statuses))
        row = self.db.execute(
            "SELECT group_concat(id || '|' || ifnull(parent, '') || '|' || depends_on || '|' || ifnull(estimate, ''),"
            f" char(10)) FROM tasks WHERE status NOT IN ({marks})",
            list(done_statuses),
        ).fetchone()
        return str(row[0] or "")

    def ready(
        self,
        ready_statuses: Sequence[str],
        done_statuses: Sequence[str],
        limit: int | None = None,
    ) -> list[TaskRecord]:
        """Tasks in a ready status whose dependencies, and those of every task enclosing
        them, all exist and are done, in work order.

        The same rule as :func:`agentctl.core.graph.ready_tasks`, evaluated inside SQLite so
        only candidate rows are decoded (tests check both against each other and a model).
        """
        ready_marks = ", ".join("?" * len(ready_statuses))
        sql = (
            ready_query(f"status IN ({ready_marks})", len(done_statuses))
            + " ORDER BY priority, created_at, id"
        )
        params: list[Any] = [*done_statuses, *ready_statuses, *done_statuses]
        if limit is not None:  # the page's rows are picked first, then built (see tasks_json)
            pick = sql.replace(_SELECT_TASK_JSON, "SELECT tasks.rowid FROM tasks", 1)
            picked = [row[0] for row in self.db.execute(pick + " LIMIT ?", [*params, limit])]
            return cast("list[TaskRecord]", json.loads(self._json_of_rowids(picked)))
        return cast("list[TaskRecord]", _decode_rows(self.db.execute(sql, params)))

    def ancestors(self, task_id: str) -> list[TaskRecord]:
        """The tasks enclosing ``task_id`` (its parent, the parent's parent, ...), nearest
        first; a loop of parents is followed once round."""
        rows = self.db.execute(
            "WITH RECURSIVE up(id, depth) AS (SELECT parent, 1 FROM tasks WHERE id = ? AND parent IS NOT NULL"
            " UNION SELECT t.parent, up.depth + 1 FROM up JOIN tasks AS t ON t.id = up.id"
            " WHERE t.parent IS NOT NULL AND up.depth < 1000)"
            " SELECT id, min(depth) FROM up GROUP BY id ORDER BY min(depth)",
            (task_id,),
        ).fetchall()
        found = []
        for ancestor_id, _depth in rows:
            row = self.task(ancestor_id) if ancestor_id != task_id else None
            if row is not None:
                found.append(row)
        return found

    def statuses_of(self, task_ids: Sequence[str]) -> dict[str, str]:
        if not task_ids:
            return {}
        marks = ", ".join("?" * len(task_ids))
        return dict(
            self.db.execute(
                f"SELECT id, status FROM tasks WHERE id IN ({marks})", list(task_ids)
            ).fetchall()
        )

    def open_load(self, statuses: Sequence[str]) -> dict[str, int]:
        """Open tasks per assignee."""
        placeholders = ", ".join("?" * len(statuses))
        rows = self.db.execute(
            f"SELECT value, COUNT(*) FROM tasks, json_each(tasks.assignees) WHERE status IN ({placeholders}) GROUP BY value",
            list(statuses),
        )
        return dict(rows.fetchall())

    def graph_parents(self) -> dict[str, str | None]:
        return dict(self.db.execute("SELECT id, parent FROM tasks").fetchall())

    def dependents(self, task_id: str) -> list[str]:
        """The tasks that depend on ``task_id``, by ID. A scan of the small covering index
        ``tasks_depends`` (only tasks with dependencies), where instr() on the JSON text skips
        rows before json_each parses them: ~1 ms at 10,000 tasks (a scan of the table with
        json_each took ~25 ms). An ID is JSON-encoded as itself in quotes."""
        rows = self.db.execute(
            "SELECT id FROM tasks WHERE depends_on != '[]' AND instr(depends_on, ?) > 0"
            " AND EXISTS (SELECT 1 FROM json_each(tasks.depends_on) WHERE value = ?)",
            (f'"{task_id}"', task_id),
        )
        return sorted(row[0] for row in rows)

    def children(self, task_id: str) -> list[str]:
        return [
            row[0]
            for row in self.db.execute(
                "SELECT id FROM tasks WHERE parent=? ORDER BY id", (task_id,)
            )
        ]

    def agents(self) -> list[AgentRecord]:
        return [
            json.loads(row[0]) for row in self.db.execute("SELECT data FROM agents ORDER BY name")
        ]

    def agent(self, name: str) -> AgentRecord | None:
        row = self.db.execute("SELECT data FROM agents WHERE name=?", (name,)).fetchone()
        return cast("AgentRecord", json.loads(row[0])) if row else None

    def states(self) -> dict[str, AgentStateRecord]:
        return {
            name: json.loads(data)
            for name, data in self.db.execute("SELECT name, data FROM states")
        }

    # -- cached config -----------------------------------------------------------------

    def cached(self, key: str, sig: int, compute: Callable[[], Any]) -> Any:
        """A JSON value cached in meta under ``key`` while the source signature is ``sig``."""
        db = self.db
        row = db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        if row:
            stored = json.loads(row[0])
            if stored.get("sig") == sig:
                return stored["value"]
        value = compute()
        db.execute(
            "INSERT OR REPLACE INTO meta VALUES (?, ?)",
            (key, json.dumps({"sig": sig, "value": value})),
        )
        return value

    # -- the board: what one screen shows, never the whole table -------------------------

    def board_filter(
        self,
        text: str | None = None,
        text_match: Callable[[str, str, str], bool] | None = None,
        assignee: str | None = None,
        label: str | None = None,
        priority: int | None = None,
    ) -> dict[str, int]:
        """Mark the tasks matching the board's filter for the next :meth:`board_tasks` calls
        with ``matched=True`` (in a temporary table of this connection: the filter reads
        each task once, however many columns follow) and return how many match per status.

        Free text goes through ``text_match`` (the board's own predicate, registered as an
        SQL function), so the index and the board agree on case folding beyond ASCII."""
        clauses: list[str] = []
        params: list[Any] = []
        for column, value in (("assignees", assignee), ("labels", label)):
            if value is None:
                continue
            if value.isascii() and value.isprintable() and not set(value) & set('"\\'):
                # written as itself in the JSON text: a substring test skips most rows cheaply
                clauses.append(f"instr({column}, ?) > 0")
                params.append(f'"{value}"')
            clauses.append(f"EXISTS (SELECT 1 FROM json_each(tasks.{column}) WHERE value = ?)")
            params.append(value)
        if priority is not None:
            clauses.append("priority = ?")
            params.append(priority)
        if text and text_match is not None:
            self.db.create_function("agentctl_text_match", 3, text_match, deterministic=True)
            clauses.append("agentctl_text_match(id, title, ?)")
            params.append(text)
        db = self.db
        db.execute("CREATE TEMP TABLE IF NOT EXISTS board_match (rid INTEGER PRIMARY KEY)")
        db.execute("DELETE FROM board_match")
        where = " WHERE " + " AND ".join(clauses) if clauses else ""
        db.execute(f"INSERT INTO board_match SELECT rowid FROM tasks{where}", params)
        rows = db.execute(
            "SELECT status, COUNT(*) FROM tasks WHERE rowid IN (SELECT rid FROM board_match)"
            " GROUP BY status"
        )
        return dict(rows.fetchall())

    def board_tasks(
        self,
        status: str,
        newest_first: bool,
        limit: int,
        matched: bool = False,
        sizes: tuple[int, int] = (0, 0),
    ) -> list[TaskRecord]:
        """The first ``limit`` tasks of one board column: in work order (priority, age, ID),
        or most recently updated first (``newest_first``, done columns); only those the last
        :meth:`board_filter` matched if ``matched``.

        Work order is the ``tasks_status`` index's own order. Recency is not: sorting a done
        column of 44,000 tasks by it costs ~0.25 s, while walking ``tasks_updated`` from the
        newest end and skipping other statuses visits about ``limit * tasks / column`` rows
        (``sizes``: the tasks the column holds and all tasks, as the caller counted them). So
        the walk is taken when that is fewer rows than the column has (a big column); a
        small one is sorted."""
        order = "updated_at DESC, id DESC" if newest_first else "priority, created_at, id"
        where = "status = ?"
        if matched:
            where += " AND rowid IN (SELECT rid FROM board_match)"
        column, tasks = sizes
        walk = newest_first and column * column > limit * tasks
        source = "tasks INDEXED BY tasks_updated" if walk else "tasks"
        select = _SELECT_TASK_JSON.removesuffix(" FROM tasks") + f" FROM {source}"
        rows = self.db.execute(f"{select} WHERE {where} ORDER BY {order} LIMIT ?", (status, limit))
        return cast("list[TaskRecord]", _decode_rows(rows))

    def neighbours_of(self, task_ids: Sequence[str]) -> dict[str, list[str]]:
        """:meth:`neighbours` of many IDs in one query (short IDs of the cards on a screen);
        IDs that are not tasks are left out."""
        rows = self.db.execute(
            "SELECT w.value,"
            " (SELECT id FROM tasks WHERE id < w.value ORDER BY id DESC LIMIT 1),"
            " (SELECT id FROM tasks WHERE id > w.value ORDER BY id LIMIT 1)"
            " FROM json_each(?) AS w WHERE EXISTS (SELECT 1 FROM tasks WHERE id = w.value)",
            (json.dumps(list(task_ids)),),
        )
        return {task_id: [n for n in (before, after) if n] for task_id, before, after in rows}

    def load_by_status(self, statuses: Sequence[str]) -> dict[str, dict[str, int]]:
        """Per status of ``statuses``, the tasks per assignee (as :meth:`open_load` counts
        them, for several status sets in one scan): rows are grouped by their assignees'
        JSON text in SQLite, so only the distinct lists are decoded, not every row's."""
        marks = ", ".join("?" * len(statuses))
        rows = self.db.execute(
            f"SELECT status, assignees, COUNT(*) FROM tasks WHERE status IN ({marks})"
            " AND assignees != '[]' GROUP BY status, assignees",
            list(statuses),
        )
        result: dict[str, dict[str, int]] = {}
        for status, assignees, count in rows:
            per_agent = result.setdefault(status, {})
            for name in json.loads(assignees):
                per_agent[name] = per_agent.get(name, 0) + count
        return result

    # -- streamed task lists -----------------------------------------------------------

    def task_json_rows(
        self,
        statuses: Iterable[str] | None = None,
        assignee: str | None = None,
        label: str | None = None,
        parent: str | None = None,
        order: str = "priority, created_at, id",
        limit: int | None = None,
        status_rank: Sequence[str] = (),
    ) -> Iterator[str]:
        """The items of :meth:`tasks_json`'s array, one JSON object text each, as SQLite
        yields them (nothing is held but the row at hand)."""
        wanted = None if statuses is None else list(statuses)
        in_order = self._in_work_order(wanted, order, limit, status_rank)
        sql, params = self._task_query(
            wanted, assignee, label, parent, order, limit, status_rank, in_order
        )
        if limit is not None:  # a page: picked, then built
            return iter(
                self._json_texts_of_rowids([row[0] for row in self.db.execute(sql, params)])
            )
        return (row[0] for row in self.db.execute(sql, params))

    def task_table(
        self,
        statuses: Iterable[str] | None = None,
        assignee: str | None = None,
        label: str | None = None,
        parent: str | None = None,
        order: str = "priority, created_at, id",
        limit: int | None = None,
        status_rank: Sequence[str] = (),
    ) -> TaskTable:
        """The rows of :meth:`tasks` as table cells (short ID, ``p<priority>``, status, title,
        assignees, labels), streamed in order, with the width of every column measured first
        (so a plain table can be aligned before its first row is written). Short IDs are those
        of :func:`agentctl.core.ids.short_ids` over every task: the neighbours of each ID in ID
        order decide it.

        A whole list filtered by status only (the usual one) is measured from indexes, a few
        seeks a status whatever the number of tasks, and streamed in work order from
        ``tasks_order`` when most tasks are listed, so its first row comes before SQLite has
        read the rest; other lists are measured by aggregate passes."""
        wanted = None if statuses is None else list(dict.fromkeys(statuses))
        by_status = None
        if limit is None and assignee is None and label is None and parent is None:
            by_status = self._widths_by_status(wanted)
        in_order = self._in_work_order(
            wanted, order, limit, status_rank, None if by_status is None else by_status[0]
        )
        sql, params = self._task_query(
            wanted, assignee, label, parent, order, limit, status_rank, in_order
        )
        where_and_order = sql[len(_PICK if limit is not None else _SELECT_TASK_JSON) :]
        db = self.db
        if limit is not None:  # a page: at most ``limit`` rows, measured once fetched
            page = [
                _cells(row)
                for row in db.execute(_SELECT_ROW_CELLS + where_and_order + ") AS t", params)
            ]
            widths = [max((len(cells[i]) for cells in page), default=0) for i in range(5)]
            return TaskTable(len(page), widths, iter(page))
        where = where_and_order.split(" ORDER BY ", 1)[0]
        where_params = params[: where.count("?")]
        if by_status is not None:
            count, status, title, priority, base, assignees = by_status
        else:  # measured by SQL in passes that hold nothing
            count, status, title, priority, base, assignees = db.execute(
                "SELECT count(*), max(length(status)), max(length(title)), max(length(priority)),"
                f" max(min(length(id), instr(id, '-') + {MIN_PREFIX})),"
                f" max({_PLAIN_ASSIGNEES_WIDTH}) FROM tasks{where}",
                where_params,
            ).fetchone()
            odd = f"{where} AND" if where else " WHERE"
            for (names,) in db.execute(
                f"SELECT assignees FROM tasks{odd} {_ODD_ASSIGNEES}", where_params
            ):
                assignees = max(assignees or 0, _joined_length(names))
        # Short IDs longer than the minimum are rare: the index keeps them (short_ids); the
        # longest among the listed rows is one join. IDs of another form (which the checks
        # do not admit) are measured by a pass over the ID index instead.
        if db.execute(f"SELECT 1 FROM tasks INDEXED BY tasks_odd_ids WHERE {_ODD_IDS}").fetchone():
            (short,) = db.execute(
                f"SELECT max(j.value) FROM json_each(?) AS j JOIN tasks ON tasks.id = j.key{where}",
                [json.dumps(_longer_short_ids(db)), *where_params],
            ).fetchone()
        else:
            (short,) = db.execute(
                "SELECT max(short_ids.length) FROM short_ids"
                f" JOIN tasks ON tasks.id = short_ids.task{where}",
                where_params,
            ).fetchone()
        rows = db.execute(_SELECT_ROW_CELLS + where_and_order + ") AS t", params)
        return TaskTable(
            count,
            [
                max(short or 0, base or 0),
                1 + (priority or 0),
                status or 0,
                title or 0,
                assignees or 0,
            ],
            (_cells(row) for row in rows),
        )

    def _in_work_order(
        self,
        statuses: list[str] | None,
        order: str,
        limit: int | None,
        status_rank: Sequence[str],
        listed: int | None = None,
    ) -> bool:
        """Whether a whole list in work order should walk ``tasks_order``: when it lists at
        least half of the tasks (else picking them by status and sorting them is cheaper)."""
        if limit is not None or status_rank or order != _WORK_ORDER:
            return False
        if statuses is None:
            return True
        db = self.db
        if listed is None:
            listed = sum(
                _one(db, "SELECT count(*) FROM tasks WHERE status = ?", (name,))
                for name in set(statuses)
            )
        return bool(listed * 2 > _one(db, "SELECT count(*) FROM tasks", ()))

    def _widths_by_status(
        self, statuses: list[str] | None
    ) -> tuple[int, int, int, int, int, int] | None:
        """(count, and the widest status, title, priority, base short ID and assignees) of the
        tasks in ``statuses`` (every status when None), from the width indexes: a few seeks a
        status. None when there are too many statuses for that to pay (hand-made files)."""
        db = self.db
        if statuses is None:
            statuses = []
            row = db.execute("SELECT min(status) FROM tasks").fetchone()
            while row[0] is not None:  # each distinct status, by seeks in tasks_status
                statuses.append(row[0])
                if len(statuses) > _MAX_STATUSES_MEASURED:
                    return None
                row = db.execute("SELECT min(status) FROM tasks WHERE status > ?", row).fetchone()
        elif len(statuses) > _MAX_STATUSES_MEASURED:
            return None
        count = status = title = priority = base = assignees = 0
        for name in statuses:
            (n,) = db.execute("SELECT count(*) FROM tasks WHERE status = ?", (name,)).fetchone()
            if not n:
                continue
            count += n
            status = max(status, len(name))
            one = (name,)
            title = max(
                title, _one(db, f"SELECT max(length(title)) FROM tasks WHERE {_WIDTH_KEY} = ?", one)
            )
            lowest = _one(db, "SELECT min(priority) FROM tasks WHERE status = ?", one)
            highest = _one(db, "SELECT max(priority) FROM tasks WHERE status = ?", one)
            priority = max(priority, len(str(lowest)), len(str(highest)))
            assignees = max(
                assignees,
                _one(
                    db,
                    f"SELECT max({_PLAIN_ASSIGNEES_WIDTH}) FROM tasks WHERE {_WIDTH_KEY} = ?",
                    one,
                ),
            )
            for (names,) in db.execute(
                "SELECT assignees FROM tasks INDEXED BY tasks_odd_assignees"
                f" WHERE status = ? AND {_ODD_ASSIGNEES}",
                one,
            ):
                assignees = max(assignees, _joined_length(names))
            odd_count, odd_base = db.execute(
                f"SELECT count(*), max(min(length(id), instr(id, '-') + {MIN_PREFIX}))"
                f" FROM tasks INDEXED BY tasks_odd_ids WHERE status = ? AND {_ODD_IDS}",
                one,
            ).fetchone()
            if odd_count < n:  # an ID of the usual form is listed
                base = max(base, _BASE_LENGTH)
            base = max(base, odd_base or 0)
        return count, status, title, priority, base, assignees

    def short_ids_of(self, task_ids: Iterable[str]) -> dict[str, str]:
        """The short IDs of ``task_ids`` among every task (as :func:`agentctl.core.ids.short_ids`
        gives them), from each ID's neighbours in the ID index: two index seeks per ID instead of
        reading every ID."""
        from agentctl.core.ids import short_id

        rows = self.db.execute(
            "SELECT value,"
            " (SELECT b.id FROM tasks AS b WHERE b.id < value ORDER BY b.id DESC LIMIT 1),"
            " (SELECT b.id FROM tasks AS b WHERE b.id > value ORDER BY b.id LIMIT 1)"
            " FROM json_each(?)",
            (json.dumps(list(task_ids)),),
        )
        return {
            task_id: short_id(task_id, [n for n in (before, after) if n is not None])
            for task_id, before, after in rows
        }


def _text(value: Any) -> str | None:
    return value if value is None or type(value) is str else str(value)


class TaskTable:
    """A task list as table cells: how many rows, the widest cell of every column but the
    last, and the rows (an iterator: read it once). A plain class: a dataclass costs ~1 ms
    at import, on every command."""

    __slots__ = ("count", "rows", "widths")

    def __init__(self, count: int, widths: list[int], rows: Iterator[list[str]]) -> None:
        self.count = count
        self.widths = widths
        self.rows = rows


# The columns a table row needs, with the IDs next to each one in ID order (index seeks; an
# ORDER BY ... LIMIT 1 seek, as SQLite does not optimise max(id) under a WHERE). The rows are
# chosen and sorted inside (a co-routine whose order the outer scan keeps), so the seeks run
# only for the rows written, after the sort. Followed by the WHERE / ORDER BY / LIMIT of
# _task_query and a closing parenthesis.
_SELECT_ROW_CELLS = (
    "SELECT id, priority, status, title, assignees, labels,"
    " (SELECT b.id FROM tasks AS b WHERE b.id < t.id ORDER BY b.id DESC LIMIT 1),"
    " (SELECT b.id FROM tasks AS b WHERE b.id > t.id ORDER BY b.id LIMIT 1)"
    " FROM (SELECT id, priority, status, title, assignees, labels FROM tasks"
)


def _joined_length(names: str) -> int:
    """``len(",".join(json.loads(names)) or "-")`` of a JSON list of names as the index
    writes it (``json.dumps``: ``", "`` between items) without decoding it: with no backslash
    no item holds an escaped quote, so the separators are the only ``", "``."""
    if names == "[]":
        return 1
    if "\\" in names or '","' in names:  # an escape, or written without spaces
        return len(",".join(json.loads(names))) or 1
    return len(names[2:-2].replace('", "', ",")) or 1


def _base_length(task_id: str) -> int:
    from agentctl.core.ids import MIN_PREFIX

    return min(len(task_id), task_id.find("-") + 1 + MIN_PREFIX)


def _longer_short_ids(db: sqlite3.Connection) -> dict[str, int]:
    """The length of the short ID of every ID whose short ID is longer than its minimum
    (:func:`agentctl.core.ids.short_ids`). Such an ID shares its first characters with a
    neighbour in ID order: SQLite finds the pairs of usual IDs that share _BASE_LENGTH in one
    pass over the ID index, and the pairs around each odd ID by seeks (the rest hold nothing
    in Python)."""
    from agentctl.core.ids import short_id

    pairs = db.execute(
        "SELECT id, n FROM (SELECT a.id AS id,"
        " (SELECT b.id FROM tasks AS b WHERE b.id > a.id ORDER BY b.id LIMIT 1) AS n"
        f" FROM tasks AS a) WHERE substr(n, 1, {_BASE_LENGTH}) = substr(id, 1, {_BASE_LENGTH})"
    ).fetchall()
    pairs += db.execute(
        "SELECT p, id FROM (SELECT o.id AS id,"
        " (SELECT b.id FROM tasks AS b WHERE b.id < o.id ORDER BY b.id DESC LIMIT 1) AS p"
        f" FROM tasks AS o INDEXED BY tasks_odd_ids WHERE {_ODD_IDS}) WHERE p IS NOT NULL"
        " UNION SELECT id, n FROM (SELECT o.id AS id,"
        " (SELECT b.id FROM tasks AS b WHERE b.id > o.id ORDER BY b.id LIMIT 1) AS n"
        f" FROM tasks AS o INDEXED BY tasks_odd_ids WHERE {_ODD_IDS}) WHERE n IS NOT NULL"
    ).fetchall()
    longer: dict[str, int] = {}
    for first, second in pairs:
        for one, other in ((first, second), (second, first)):
            length = len(short_id(one, [other]))
            if length > _base_length(one) and length > longer.get(one, 0):
                longer[one] = length
    return longer


def _one(db: sqlite3.Connection, sql: str, params: tuple[Any, ...]) -> Any:
    """The one value of a one-row, one-column query (0 for NULL)."""
    return db.execute(sql, params).fetchone()[0] or 0


def _cells(row: Sequence[Any]) -> list[str]:
    from agentctl.core.ids import short_id

    task_id, priority, status, title, assignees, labels, prev_id, next_id = row
    return [
        short_id(task_id, [n for n in (prev_id, next_id) if n is not None]),
        f"p{priority}",
        status,
        title,
        ",".join(json.loads(assignees)) or "-",
        ",".join(json.loads(labels)),
    ]
