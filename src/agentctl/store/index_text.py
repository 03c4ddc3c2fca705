"""The index's text side: thread messages, documents, and full-text search (SQLite FTS5).

Messages are append-only files, one per message, under ``threads/<task-id>/``. A thread
directory's own stat signature changes whenever a message is added or removed (also by
``git pull``), so a full refresh stats one directory per thread, not one file per message;
refreshing a single thread (``thread``, ``task show``) also stats its files, which catches
hand edits there. Message file signatures have their own table, so the record scan that every
command makes never reads them. Every task, message and document body goes into one FTS5 table.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from stat import S_ISDIR
from typing import TYPE_CHECKING, Any

from agentctl.core.checks import check_message
from agentctl.errors import UsageError, ValidationError
from agentctl.paths import MESSAGE_FILE_RE, NAME_RE
from agentctl.store.reading import read_record_bytes

if TYPE_CHECKING:
    from agentctl.core.rows import DocumentRow, MessageRow, SearchHit

# The rank of a search hit: title matches weigh 4, body matches 1 (kind, ref, task: none).
_RANK = "bm25(fts, 0.0, 0.0, 0.0, 4.0, 1.0)"

TEXT_TABLES = """
CREATE TABLE IF NOT EXISTS dirs (path TEXT PRIMARY KEY, sig INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS message_files (path TEXT PRIMARY KEY, sig INTEGER NOT NULL, problem TEXT, line INTEGER);
CREATE TABLE IF NOT EXISTS messages (
    id TEXT PRIMARY KEY, task TEXT NOT NULL, path TEXT NOT NULL, author TEXT NOT NULL,
    created_at TEXT NOT NULL, kind TEXT NOT NULL, mentions TEXT NOT NULL, reply_to TEXT, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS messages_task ON messages (task, created_at, id);
CREATE INDEX IF NOT EXISTS messages_path ON messages (path);
CREATE TABLE IF NOT EXISTS docs (
    id TEXT PRIMARY KEY, path TEXT NOT NULL, title TEXT NOT NULL, type TEXT NOT NULL, task TEXT,
    author TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, source_url TEXT,
    fetched_at TEXT);
CREATE INDEX IF NOT EXISTS docs_task ON docs (task);
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(
    kind UNINDEXED, ref UNINDEXED, task UNINDEXED, title, body, tokenize = 'porter unicode61');
CREATE TABLE IF NOT EXISTS search_rows (path TEXT PRIMARY KEY, fts INTEGER NOT NULL);
"""

_MESSAGE_JSON = (
    "SELECT json_object('id', id, 'task', task, 'author', author, 'created_at', created_at, 'kind', kind,"
    " 'mentions', json(mentions), 'reply_to', reply_to, 'body', body, 'path', path) FROM messages"
)
_DOC_JSON = (
    "SELECT json_object('id', id, 'title', title, 'type', type, 'task', task, 'author', author,"
    " 'created_at', created_at, 'updated_at', updated_at, 'source_url', source_url,"
    " 'fetched_at', fetched_at, 'path', path) FROM docs"
)


def _dir_sig(st: os.stat_result) -> int:
    return hash((st.st_mtime_ns, st.st_ino, st.st_ctime_ns))


def _file_sig(st: os.stat_result) -> int:
    return hash((st.st_mtime_ns, st.st_size, st.st_ino, st.st_ctime_ns))


# A phrase (closed or not), a parenthesis, a comma (inside NEAR), or a run of anything else.
_QUERY_TOKEN = re.compile(r'"(?:[^"]|"")*"?|[(),]|[^\s(),"]+')
# [0-9A-Za-z_] and every non-ASCII character, written as the complement of the rest of ASCII:
# the same set, but a class that spans up to U+10FFFF costs ~3 ms to compile on every start.
_BAREWORD = re.compile(r"[^\x00-/:-@\[-^`{-\x7f]+")
_OPERATORS = frozenset({"AND", "OR", "NOT"})


def fts_query(query: str) -> str:
    """``query`` as FTS5 syntax: words that FTS5 would read as syntax (``dev-1``, ``@alice``,
    ``C++``, ``it's``, a task ID) become quoted phrases, matched as the words they contain;
    "phrases", ``prefix*``, ``AND``/``OR``/``NOT``, ``NEAR(...)`` and parentheses are kept,
    so a query that uses them means what FTS5 says it means. A trailing ``*`` stays a prefix
    (``dev-*`` → ``"dev-"*``); a bare ``*`` is left for FTS5 to refuse."""
    out: list[str] = []
    near_depth = 0  # inside NEAR(...), where "," separates the distance
    for token in _QUERY_TOKEN.findall(query):
        stem = token.removesuffix("*")
        if token == "(":
            near_depth += 1 if near_depth or (out and out[-1] == "NEAR") else 0
            out.append(token)
        elif token == ")":
            near_depth = max(0, near_depth - 1)
            out.append(token)
        elif token == ",":
            if near_depth:  # elsewhere a comma only separates words
                out.append(token)
        elif (
            token.startswith('"')
            or token in _OPERATORS
            or token == "NEAR"
            or not stem
            or _BAREWORD.fullmatch(stem)
        ):
            out.append(token)
        else:
            out.append('"' + stem.replace('"', '""') + '"' + token[len(stem) :])
    return " ".join(out)


class TextIndex:
    """Mixed into :class:`agentctl.store.index.Index` (uses its ``db`` and ``layout``)."""

    layout: Any
    bulk_rows: dict[str, list[tuple[Any, ...]]] | None  # provided by Index

    @property
    def db(self) -> sqlite3.Connection:  # provided by Index
        raise NotImplementedError

    def put(self, sql: str, params: tuple[Any, ...]) -> None:  # provided by Index
        raise NotImplementedError

    # -- full-text rows ----------------------------------------------------------------

    def fts_put(
        self, rel: str, kind: str, ref: str, task: str | None, title: str, body: str
    ) -> None:
        bulk = self.bulk_rows
        if bulk is not None:  # a build into an empty index: nothing to forget (index_build)
            bulk["fts"].append((rel, kind, ref, task, title, body))
            return
        self.fts_forget(rel)
        cursor = self.db.execute(
            "INSERT INTO fts (kind, ref, task, title, body) VALUES (?, ?, ?, ?, ?)",
            (kind, ref, task, title, body),
        )
        self.db.execute("INSERT OR REPLACE INTO search_rows VALUES (?, ?)", (rel, cursor.lastrowid))

    def fts_forget(self, rel: str) -> None:
        row = self.db.execute("SELECT fts FROM search_rows WHERE path=?", (rel,)).fetchone()
        if row:
            self.db.execute("DELETE FROM fts WHERE rowid=?", (row[0],))
            self.db.execute("DELETE FROM search_rows WHERE path=?", (rel,))

    # -- documents (called from the record scan) ---------------------------------------

    def store_doc(self, rel: str, data: dict[str, Any], body: str) -> None:
        self.put(
            "INSERT OR REPLACE INTO docs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (data["id"], rel, data["title"], data["type"], data.get("task"), str(data["author"]),
             str(data["created_at"]), str(data["updated_at"]), data.get("source_url"),
             str(data["fetched_at"]) if data.get("fetched_at") is not None else None),
        )  # fmt: skip
        self.fts_put(rel, "doc", data["id"], data.get("task"), data["title"], body)

    # -- messages ----------------------------------------------------------------------

    def thread_problems(self, task_id: str) -> list[tuple[str, int | None, str]]:
        """``(path, line, problem)`` of each message file of a task's thread that could not be
        read (left out of the thread; ``validate`` reports the same files)."""
        prefix = f"{self.layout.relative(self.layout.threads)}/{task_id}/"
        rows = self.db.execute(
            "SELECT path, line, problem FROM message_files WHERE problem IS NOT NULL"
            " AND substr(path, 1, ?) = ? ORDER BY path",
            (len(prefix), prefix),
        )
        return [(str(path), line, str(problem)) for path, line, problem in rows]

    def refresh_threads(self, task_id: str | None = None) -> int:
        """Index new, changed and removed message files: every thread, or just one (deeply);
        returns the number of threads looked at."""
        threads = self.layout.threads
        if task_id is not None:
            dirs = [task_id]
        else:
            try:
                dirs = [n for n in os.listdir(threads) if NAME_RE.match(n)]
            except FileNotFoundError:
                dirs = []
        db = self.db
        known_dirs = (
            dict(db.execute("SELECT path, sig FROM dirs").fetchall()) if task_id is None else {}
        )
        rel_root = self.layout.relative(threads)
        base = str(threads) + os.sep  # plain strings: pathlib costs more than the stat itself
        changed: list[tuple[str, str, int | None]] = []
        for name in dirs:
            rel = f"{rel_root}/{name}"
            try:
                st = os.stat(base + name, follow_symlinks=False)
            except FileNotFoundError:
                changed.append((name, rel, None))
                continue
            if not S_ISDIR(st.st_mode):  # a symlinked thread is never read (validate reports it)
                changed.append((name, rel, None))
                continue
            sig = _dir_sig(st)
            if task_id is None and known_dirs.pop(rel, None) == sig:
                continue
            changed.append((name, rel, sig))
        gone = list(known_dirs) if task_id is None else []
        if not changed and not gone:
            return len(dirs)
        # No message indexed yet (a new or deleted index): rows are gathered and inserted in
        # one batch per statement, as a build does with the records (see index_build)
        fresh = task_id is None and not gone and self._no_messages()
        db.execute("BEGIN IMMEDIATE")
        try:
            for rel in gone:
                self._sync_thread(rel.rsplit("/", 1)[-1], rel, None)
            if fresh:
                self.bulk_rows = {"fts": []}
            for thread_name, thread_rel, thread_sig in changed:
                self._sync_thread(
                    thread_name, thread_rel, thread_sig, deep=task_id is not None, fresh=fresh
                )
            if fresh:
                rows, self.bulk_rows = self.bulk_rows, None
                self._insert_message_rows(rows or {})
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        finally:
            if fresh:
                self.bulk_rows = None
        return len(dirs)

    def _no_messages(self) -> bool:
        """No message file indexed yet (a new or deleted index)."""
        return self.db.execute("SELECT 1 FROM message_files LIMIT 1").fetchone() is None

    def _insert_message_rows(self, rows: dict[str, list[tuple[Any, ...]]]) -> None:
        """The rows of every message, gathered by :meth:`load_message`, into the (message-
        free) tables: full-text rows numbered on from the last one, as one by one."""
        from agentctl.store.index_build import insert_then_index

        db = self.db
        fts = rows.pop("fts", [])
        (last,) = db.execute("SELECT coalesce(max(rowid), 0) FROM fts").fetchone()

        def insert_rows() -> None:
            for sql, params in rows.items():
                db.executemany(sql, params)
            db.executemany(
                "INSERT INTO fts (rowid, kind, ref, task, title, body) VALUES (?, ?, ?, ?, ?, ?)",
                ((last + n, *row[1:]) for n, row in enumerate(fts, 1)),
            )
            db.executemany(
                "INSERT OR REPLACE INTO search_rows VALUES (?, ?)",
                ((row[0], last + n) for n, row in enumerate(fts, 1)),
            )

        insert_then_index(db, ("messages", "message_files"), insert_rows)

    def _sync_thread(
        self, task_id: str, rel_dir: str, sig: int | None, deep: bool = False, fresh: bool = False
    ) -> None:
        """Index a thread's new, changed and removed message files (``fresh``: the index holds
        no message yet, so there is nothing to compare with or to forget)."""
        db = self.db
        known = (
            {}
            if fresh
            else dict(
                db.execute(
                    "SELECT path, sig FROM message_files WHERE path >= ? AND path < ?",
                    (rel_dir + "/", rel_dir + "0"),
                )
            )
        )
        directory = self.layout.threads / task_id
        names: list[str] = []
        if sig is not None:
            try:
                names = [n for n in os.listdir(directory) if MESSAGE_FILE_RE.match(n)]
            except (FileNotFoundError, NotADirectoryError):
                names = []
        if fresh:
            base = str(directory) + os.sep
            for name in names:  # each file's signature comes from the fstat of its read
                self.load_message(f"{rel_dir}/{name}", base + name, fresh=True, thread=task_id)
            names = []
        for name in names:
            rel = f"{rel_dir}/{name}"
            before = known.pop(rel, None)
            if before is not None and not deep:
                continue
            try:
                st = os.stat(directory / name, follow_symlinks=False)
            except FileNotFoundError:
                continue
            if before == _file_sig(st):
                continue
            self.load_message(rel, directory / name, st)
        for rel in known:
            self.forget_message(rel)
        if sig is None:
            db.execute("DELETE FROM dirs WHERE path=?", (rel_dir,))
        else:
            db.execute("INSERT OR REPLACE INTO dirs VALUES (?, ?)", (rel_dir, sig))

    def forget_message(self, rel: str) -> None:
        self.db.execute("DELETE FROM message_files WHERE path=?", (rel,))
        self.db.execute("DELETE FROM messages WHERE path=?", (rel,))
        self.fts_forget(rel)

    def load_message(
        self,
        rel: str,
        path: Path | str,
        st: os.stat_result | None = None,
        fresh: bool = False,
        thread: str | None = None,
    ) -> None:
        """(Re)index one message file of the thread ``thread`` (else its directory's name);
        ``fresh``: the index holds nothing of it yet."""
        from agentctl.store import frontmatter
        from agentctl.store.index import plain_value

        if not fresh:
            self.forget_message(rel)
        problem: tuple[str | None, int | None] = (None, None)
        try:
            raw, st = read_record_bytes(path, rel)
            fields, body = frontmatter.load_fast(raw.decode("utf-8"), rel)
            data = plain_value(fields)
            check_message(data, thread if thread is not None else Path(path).parent.name, rel)
            self.put(
                "INSERT OR REPLACE INTO messages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (data["id"], data["task"], rel, str(data["author"]), str(data["created_at"]), data.get("kind", "comment"),
                 json.dumps(data.get("mentions") or []), data.get("reply_to"), body),
            )  # fmt: skip
            self.fts_put(rel, "message", data["id"], data["task"], "", body)
        except FileNotFoundError:
            return
        except UnicodeDecodeError:
            problem = ("not valid UTF-8", None)
        except ValidationError as exc:
            problem = (exc.problem, exc.line)
        if st is None:  # refused before it was opened (a symlink)
            try:
                st = os.stat(path, follow_symlinks=False)
            except FileNotFoundError:
                return
        self.put(
            "INSERT OR REPLACE INTO message_files VALUES (?, ?, ?, ?)",
            (rel, _file_sig(st), problem[0], problem[1]),
        )

    def record_message(self, path: Path) -> None:
        """Index one message file just written by this process (inside the caller's lock)."""
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            self.load_message(self.layout.relative(path), path)
            directory = path.parent
            # The rest of the thread too: recording the directory's new signature alone
            # would hide a message that came into it just before (a pull, a hand-made file).
            self._sync_thread(
                directory.name,
                self.layout.relative(directory),
                _dir_sig(os.stat(directory, follow_symlinks=False)),
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    # -- queries -----------------------------------------------------------------------

    def thread(self, task_id: str, since: str | None = None) -> list[MessageRow]:
        sql = _MESSAGE_JSON + " WHERE task = ?"
        params: list[Any] = [task_id]
        if since is not None:
            sql += " AND created_at >= ?"
            params.append(since)
        rows = self.db.execute(sql + " ORDER BY created_at, id", params)
        return [json.loads(row[0]) for row in rows]

    def recent_messages(self, task_id: str, limit: int) -> list[MessageRow]:
        rows = self.db.execute(
            _MESSAGE_JSON + " WHERE task = ? ORDER BY created_at DESC, id DESC LIMIT ?",
            (task_id, limit),
        )
        return [json.loads(row[0]) for row in reversed(rows.fetchall())]

    def message_counts(self, task_ids: Sequence[str]) -> dict[str, int]:
        if not task_ids:
            return {}
        marks = ", ".join("?" * len(task_ids))
        rows = self.db.execute(
            f"SELECT task, COUNT(*) FROM messages WHERE task IN ({marks}) GROUP BY task",
            list(task_ids),
        )
        return dict(rows.fetchall())

    def docs(self, type_: str | None = None, task: str | None = None) -> list[DocumentRow]:
        clauses, params = [], []
        if type_ is not None:
            clauses.append("type = ?")
            params.append(type_)
        if task is not None:
            clauses.append("task = ?")
            params.append(task)
        sql = (
            _DOC_JSON
            + (" WHERE " + " AND ".join(clauses) if clauses else "")
            + " ORDER BY created_at, id"
        )
        return [json.loads(row[0]) for row in self.db.execute(sql, params)]

    def doc(self, doc_id: str) -> DocumentRow | None:
        row = self.db.execute(_DOC_JSON + " WHERE id = ?", (doc_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def doc_ids_with_prefix(self, prefix: str, limit: int = 12) -> list[str]:
        rows = self.db.execute(
            "SELECT id FROM docs WHERE id >= ? AND id < ? ORDER BY id LIMIT ?",
            (prefix, prefix + "\uffff", limit),
        )
        return [row[0] for row in rows]

    def search(
        self, query: str, kinds: Sequence[str] = (), statuses: Sequence[str] = (), limit: int = 20
    ) -> list[SearchHit]:
        """Ranked hits (best first) with a snippet whose matches are wrapped in ``**``.

        The matches are ranked first and only the ``limit`` best get their snippets (a
        snippet re-reads and tokenises a body: computed for every match before the sort, it
        was half of a search over 20,000 matches)."""
        matched = fts_query(query)
        best = (
            "SELECT f.rowid FROM fts AS f LEFT JOIN tasks AS t ON t.id = f.task WHERE fts MATCH ?"
        )
        params: list[Any] = [matched, matched]
        if kinds:
            best += f" AND f.kind IN ({', '.join('?' * len(kinds))})"
            params.extend(kinds)
        if statuses:
            best += f" AND t.status IN ({', '.join('?' * len(statuses))})"
            params.extend(statuses)
        best += f" ORDER BY {_RANK}, f.ref LIMIT ?"
        params.append(limit)
        sql = (
            "SELECT f.kind, f.ref, f.task, f.title, snippet(fts, 4, '**', '**', '…', 16),"
            f" snippet(fts, 3, '**', '**', '…', 16), {_RANK} AS rank, t.status, t.title"
            " FROM fts AS f LEFT JOIN tasks AS t ON t.id = f.task"
            f" WHERE fts MATCH ? AND f.rowid IN ({best}) ORDER BY rank, f.ref"
        )
        try:
            rows = self.db.execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:
            message = str(exc).removeprefix("fts5: ")
            raise UsageError(
                f"bad search query {query!r}: {message}",
                hint='quote phrases ("exact words"), use prefix* for prefixes, AND/OR/NOT in capitals',
            ) from None
        hits: list[SearchHit] = []
        for kind, ref, task, title, body_snippet, title_snippet, rank, status, task_title in rows:
            snippet = body_snippet if "**" in body_snippet or not title else title_snippet
            hits.append(
                {
                    "type": "task" if kind == "task" else kind,
                    "id": ref,
                    "task": task,
                    "title": title or task_title or "",
                    "status": status,
                    "snippet": " ".join(snippet.split()),
                    "score": round(-rank, 4),
                }
            )
        return hits
