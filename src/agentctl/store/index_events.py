"""The index's view of the append-only logs: events, notifications, subscriptions, read-state.

Sources (all union-merged JSONL, so two machines never conflict in git):

* ``.agentctl/events/<day>.jsonl``: every event; an event's ``notify`` list *is* its
  notifications (one per named agent), so notifications need no storage of their own.
* ``.agentctl/inbox/<agent>.jsonl``: the agent's read-state, kept apart from the
  notifications: lines ``{"ts": ..., "delivered": [event ids]}`` or ``{"ts": ..., "read": [...]}``.

Logs only grow, so each file is ingested from the byte offset reached last time; a file that
shrank or was replaced (a merge rewrites it) is re-read whole. Subscriptions are folded from
events with last-writer-wins by (timestamp, event id), so the result does not depend on the
order in which merged lines arrive.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from stat import S_ISLNK, S_ISREG
from typing import TYPE_CHECKING, Any, assert_never, cast

from agentctl.core.checks import event_problem, inbox_entry_problem
from agentctl.errors import ValidationError
from agentctl.paths import NAME_RE
from agentctl.store.reading import open_nofollow

if TYPE_CHECKING:
    from agentctl.core import events as ev
    from agentctl.core.records import EventRecord
    from agentctl.core.rows import EventRow, NotificationRow, SubscriptionRow

EVENT_TABLES = """
CREATE TABLE IF NOT EXISTS logs (
    path TEXT PRIMARY KEY, ino INTEGER NOT NULL, size INTEGER NOT NULL, tail TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    id TEXT PRIMARY KEY, day TEXT NOT NULL, ts TEXT NOT NULL, actor TEXT NOT NULL, type TEXT NOT NULL,
    subject TEXT, data TEXT NOT NULL, notify TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_ts ON events (ts, id);
CREATE INDEX IF NOT EXISTS events_subject ON events (subject, ts);
CREATE INDEX IF NOT EXISTS events_day ON events (day);
CREATE INDEX IF NOT EXISTS events_attention ON events (subject, ts) WHERE type = 'attention.raised';
CREATE TABLE IF NOT EXISTS notifications (
    agent TEXT NOT NULL, event TEXT NOT NULL, ts TEXT NOT NULL, delivered TEXT, read TEXT,
    PRIMARY KEY (agent, event));
CREATE INDEX IF NOT EXISTS notifications_unread ON notifications (agent, ts) WHERE read IS NULL;
CREATE INDEX IF NOT EXISTS notifications_ts ON notifications (agent, ts);
CREATE TABLE IF NOT EXISTS notification_state (
    agent TEXT NOT NULL, event TEXT NOT NULL, delivered TEXT, read TEXT, PRIMARY KEY (agent, event));
CREATE TABLE IF NOT EXISTS subscriptions (
    task TEXT NOT NULL, agent TEXT NOT NULL, stamp TEXT NOT NULL, active INTEGER NOT NULL, reason TEXT,
    PRIMARY KEY (task, agent));
"""

_DECODER = json.JSONDecoder()  # json.loads's own settings
TAIL_BYTES = 4096  # the bytes before a log's read offset that must be unchanged to read on from it


def _tail_digest(data: bytes) -> str:
    import hashlib

    return hashlib.blake2b(data, digest_size=8).hexdigest()


_EVENT_JSON = (
    "SELECT json_object('id', id, 'ts', ts, 'actor', actor, 'type', type, 'subject', subject,"
    " 'data', json(data), 'notify', json(notify)) FROM events"
)


def subscription_effects(event: dict[str, Any]) -> list[tuple[str, bool, str]]:
    """(agent, subscribed?, reason) implied by one event about a task."""
    kind = cast("ev.KnownEventType", event.get("type"))
    raw = event.get("data")
    data: dict[str, Any] = raw if isinstance(raw, dict) else {}
    actor = str(event.get("actor", ""))
    effects: list[tuple[str, bool, str]] = []
    match kind:  # a type not known to this version (a newer log) has no effect
        case "task.created":
            # older logs name the assignees in the payload; now the notify list does
            assignees = cast("ev.TaskCreated", data).get("assignees")
            effects.append((actor, True, "created"))
            effects.extend(
                (name, True, "assigned") for name in assignees or event.get("notify") or []
            )
        case "task.assigned":
            added = cast("ev.TaskAssigned", data).get("added")
            effects.extend((name, True, "assigned") for name in added or [])
        case "task.claimed":
            effects.append((actor, True, "claimed"))
        case "message.added":
            mentions = cast("ev.MessageAdded", data).get("mentions")
            effects.append((actor, True, "commented"))
            effects.extend((name, True, "mentioned") for name in mentions or [])
        case "task.subscribed":
            effects.append(
                (str(cast("ev.Subscription", data).get("agent", "")), True, "subscribed")
            )
        case "task.unsubscribed":
            agent = str(cast("ev.Subscription", data).get("agent", ""))
            effects.append((agent, False, "unsubscribed"))
        case (
            "workspace.init" | "note.added" | "task.edited" | "task.moved" | "task.unassigned"
            | "task.released" | "task.dep_added" | "task.dep_removed" | "task.removed"
            | "task.gate_refused" | "message.direct" | "doc.added" | "doc.edited" | "doc.removed"
            | "spec.created" | "spec.edited" | "spec.removed" | "spec.expanded" | "spec.drift"
            | "agent.added" | "agent.edited" | "agent.removed" | "agent.status" | "agent.reset" | "agent.moved"
            | "agent.heartbeat" | "agent.contained" | "agent.proposed" | "agent.approved" | "agent.rejected" | "memory.added" | "memory.compacted"
            | "attention.raised" | "record.adopted" | "record.lost" | "working.applied" | "config.changed"
        ):  # fmt: skip
            pass
        case _:
            if TYPE_CHECKING:
                assert_never(kind)  # a known type without a case above
    return [
        (name, on, why)
        for name, on, why in effects
        if isinstance(name, str) and NAME_RE.match(name)
    ]


_INSERT_EVENT = "INSERT OR IGNORE INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
_INSERT_NOTIFICATION = "INSERT OR IGNORE INTO notifications VALUES (?, ?, ?, ?, ?)"
_UPSERT_SUBSCRIPTION = (
    "INSERT INTO subscriptions VALUES (?, ?, ?, ?, ?) ON CONFLICT (task, agent) DO UPDATE SET"
    " stamp=excluded.stamp, active=excluded.active, reason=excluded.reason"
    " WHERE excluded.stamp > subscriptions.stamp"
)


def event_notify(event: dict[str, Any]) -> list[str]:
    """The agents an event notifies (names that are not agent names are ignored)."""
    return [n for n in event.get("notify") or [] if NAME_RE.match(n)]


def event_row(day: str, event: dict[str, Any], notify: list[str]) -> tuple[Any, ...]:
    """The ``events`` row of one valid log line (``notify``: its :func:`event_notify`)."""
    return (
        event["id"],
        day,
        event["ts"],
        str(event.get("actor", "")),
        event["type"],
        event.get("subject"),
        json.dumps(event.get("data") or {}),
        json.dumps(notify) if notify else "[]",
    )


def event_subscriptions(
    event: dict[str, Any], row: tuple[Any, ...], notify: list[str]
) -> list[tuple[Any, ...]]:
    """The ``subscriptions`` rows an event about a task implies (upserted in this order)."""
    event_id, _, ts, _, _, subject, _, _ = row
    if not (subject and subject.startswith("t-")):
        return []
    stamp = f"{ts}|{event_id}"
    effects = subscription_effects({**event, "data": event.get("data") or {}, "notify": notify})
    return [(subject, agent, stamp, int(active), reason) for agent, active, reason in effects]


class _EventRows:
    """The rows of every event of the logs, gathered for a build into empty tables and
    inserted with one ``executemany`` per table: the rows and their order are those of
    :meth:`EventIndex._ingest_event` called line by line (the first line of an ID wins, a
    subscription keeps its first row's place and the effect with the latest stamp)."""

    def __init__(self) -> None:
        self.ids: set[str] = set()
        self.events: list[tuple[Any, ...]] = []
        self.notifications: list[tuple[Any, ...]] = []
        self.subscriptions: dict[tuple[str, str], tuple[Any, ...]] = {}

    def add(self, day: str, event: dict[str, Any]) -> None:
        if event_problem(event) is not None or event["id"] in self.ids:  # as _ingest_event
            return
        notify = event_notify(event)
        row = event_row(day, event, notify)
        event_id, ts = row[0], row[2]
        self.ids.add(event_id)
        self.events.append(row)
        for agent in notify:  # no read-state yet: the inbox logs come after
            self.notifications.append((agent, event_id, ts, None, None))
        subscriptions = self.subscriptions
        for subscription in event_subscriptions(event, row, notify):
            key = (subscription[0], subscription[1])
            before = subscriptions.get(key)
            if before is None or subscription[2] > before[2]:
                subscriptions[key] = subscription

    def insert(self, db: sqlite3.Connection) -> None:
        from agentctl.store.index_build import insert_then_index

        def insert_rows() -> None:
            db.executemany(_INSERT_EVENT, self.events)
            db.executemany(_INSERT_NOTIFICATION, self.notifications)
            db.executemany(_UPSERT_SUBSCRIPTION, self.subscriptions.values())

        insert_then_index(db, ("events", "notifications", "subscriptions"), insert_rows)


class EventIndex:
    """Mixed into :class:`agentctl.store.index.Index` (uses its ``db`` and ``layout``)."""

    layout: Any

    @property
    def db(self) -> sqlite3.Connection:  # provided by Index
        raise NotImplementedError

    # -- ingestion ---------------------------------------------------------------------

    def refresh_logs(self) -> None:
        """Ingest new lines of every event log and inbox state file."""
        self._refresh_dir(self.layout.events, "event")
        self._refresh_dir(self.layout.inbox, "inbox")

    def _refresh_dir(self, directory: Path, kind: str) -> None:
        try:
            symlinked = S_ISLNK(os.stat(directory, follow_symlinks=False).st_mode)
            names = (
                []
                if symlinked
                else sorted(
                    n
                    for n in os.listdir(directory)
                    if n.endswith(".jsonl") and not n.startswith(".")
                )
            )
        except FileNotFoundError:
            names = []
        db = self.db
        rel_dir = self.layout.relative(directory)
        known = {
            path: (ino, size, tail)
            for path, ino, size, tail in db.execute(
                "SELECT path, ino, size, tail FROM logs WHERE path >= ? AND path < ?",
                (rel_dir + "/", rel_dir + "0"),
            )
        }
        first_read = not known  # no log of this directory read yet (a new or deleted index)
        work: list[
            tuple[str, Path, int, int, str]
        ] = []  # rel, path, ino, offset, tail before offset
        for name in names:
            path = directory / name
            try:
                st = os.stat(path, follow_symlinks=False)
            except FileNotFoundError:
                continue
            if not S_ISREG(st.st_mode):  # a symlinked log is never read (validate reports it)
                continue
            rel = f"{rel_dir}/{name}"
            before = known.pop(rel, None)
            if before is not None and before[:2] == (st.st_ino, st.st_size):
                continue
            # git often gives a rewritten file the inode it just freed, so a grown file with
            # the same inode may still have been rewritten (a merge or rebase puts lines
            # before ours): _ingest_file checks the bytes before the offset.
            if before is not None and before[0] == st.st_ino and st.st_size > before[1]:
                work.append((rel, path, st.st_ino, before[1], before[2]))
            else:
                work.append((rel, path, st.st_ino, 0, ""))
        if not work and not known:
            return
        db.execute("BEGIN IMMEDIATE")
        try:
            for rel in known:  # files that disappeared
                db.execute("DELETE FROM logs WHERE path=?", (rel,))
                if kind == "event":
                    self._drop_events_of_day(
                        rel.rsplit("/", 1)[-1].removesuffix(".jsonl"), keep=set()
                    )
            cold = kind == "event" and first_read and self._no_events()
            bulk = _EventRows() if cold else None
            for rel, path, ino, offset, tail in work:
                consumed, new_tail = self._ingest_file(path, kind, offset, tail, bulk)
                db.execute(
                    "INSERT OR REPLACE INTO logs VALUES (?, ?, ?, ?)",
                    (rel, ino, consumed, new_tail),
                )
            if bulk is not None:
                bulk.insert(db)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _no_events(self) -> bool:
        """Nothing ingested from the event logs yet (a new or deleted index)."""
        db = self.db
        return not any(
            db.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone()
            for table in ("events", "notifications", "notification_state", "subscriptions")
        )

    def _ingest_file(
        self, path: Path, kind: str, offset: int, tail: str, bulk: _EventRows | None = None
    ) -> tuple[int, str]:
        """Read complete lines from ``offset`` (from the start if the bytes before ``offset``
        are not the ones read last time); returns (bytes consumed from the start, their tail).
        ``bulk``: the index holds no events yet; their rows are gathered there."""
        try:
            with open_nofollow(path, str(path)) as handle:
                start = max(0, offset - TAIL_BYTES)
                handle.seek(start)
                data = handle.read()
                if offset and _tail_digest(data[: offset - start]) != tail:
                    offset = start = 0
                    handle.seek(0)
                    data = handle.read()
        except (FileNotFoundError, ValidationError):  # gone, or replaced by a symlink meanwhile
            return 0, ""
        skip = offset - start
        end = skip + data[skip:].rfind(b"\n") + 1  # a torn last line waits until it is complete
        new_tail = _tail_digest(data[max(0, end - TAIL_BYTES) : end])
        lines = data[skip:end].decode("utf-8", errors="replace").split("\n")
        parsed: list[dict[str, Any]] = []
        decode = _DECODER.raw_decode
        for line in lines:
            if not line.strip():
                continue
            try:
                # json.loads without its whitespace handling (~40% of its time on a line);
                # a line with whitespace around its value or anything after it goes
                # through json.loads itself
                value, stop = decode(line)
                if stop != len(line):
                    value = json.loads(line)
            except json.JSONDecodeError:
                try:
                    value = json.loads(line)
                except json.JSONDecodeError:
                    continue
            if isinstance(value, dict):
                parsed.append(value)
        if kind == "event":
            day = path.name.removesuffix(".jsonl")
            if bulk is not None:
                for event in parsed:
                    bulk.add(day, event)
                return start + end, new_tail
            if offset == 0:
                self._drop_events_of_day(day, keep={str(e.get("id")) for e in parsed})
            for event in parsed:
                self._ingest_event(day, event)
        else:
            agent = path.name.removesuffix(".jsonl")
            if NAME_RE.match(agent):
                for entry in parsed:
                    self._ingest_state(agent, entry)
        return start + end, new_tail

    def _drop_events_of_day(self, day: str, keep: set[str]) -> None:
        db = self.db
        gone = [
            row[0]
            for row in db.execute("SELECT id FROM events WHERE day=?", (day,))
            if row[0] not in keep
        ]
        for event_id in gone:
            db.execute("DELETE FROM events WHERE id=?", (event_id,))
            db.execute("DELETE FROM notifications WHERE event=?", (event_id,))

    def _ingest_event(self, day: str, event: dict[str, Any]) -> None:
        if event_problem(event) is not None:  # the Event model's verdict, as validate's
            return
        notify = event_notify(event)
        row = event_row(day, event, notify)
        event_id, _, ts, _, _, subject, _, _ = row
        db = self.db
        cursor = db.execute(_INSERT_EVENT, row)
        if cursor.rowcount != 1:
            return
        for agent in notify:
            state = db.execute(
                "SELECT delivered, read FROM notification_state WHERE agent=? AND event=?",
                (agent, event_id),
            ).fetchone()
            delivered, read = state or (None, None)
            db.execute(_INSERT_NOTIFICATION, (agent, event_id, ts, delivered, read))
        for subscription in event_subscriptions(event, row, notify):
            db.execute(_UPSERT_SUBSCRIPTION, subscription)

    def _ingest_state(self, agent: str, entry: dict[str, Any]) -> None:
        if inbox_entry_problem(entry) is not None:  # the InboxEntry model's verdict
            return
        ts = entry["ts"]
        db = self.db
        for column in ("delivered", "read"):
            for event_id in entry.get(column) or []:
                db.execute(
                    f"INSERT INTO notification_state (agent, event, {column}) VALUES (?, ?, ?)"
                    f" ON CONFLICT (agent, event) DO UPDATE SET {column}=min(coalesce({column}, excluded.{column}),"
                    f" excluded.{column})",
                    (agent, event_id, ts),
                )
                db.execute(
                    f"UPDATE notifications SET {column}=? WHERE agent=? AND event=? AND ({column} IS NULL OR {column} > ?)",
                    (ts, agent, event_id, ts),
                )

    # -- queries -----------------------------------------------------------------------

    def events(
        self,
        *,
        actor: str | None = None,
        subject: str | None = None,
        types: Iterable[str] = (),
        since: str | None = None,
        after_rowid: int | None = None,
        limit: int | None = None,
    ) -> list[EventRow]:
        """Events oldest first; with ``limit`` the newest ``limit`` of them."""
        clauses, params = self._event_filter(actor, subject, types, since)
        if after_rowid is not None:
            clauses.append("rowid > ?")
            params.append(after_rowid)
        sql = _EVENT_JSON.replace("SELECT json_object(", "SELECT rowid, json_object(")
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        sql += " ORDER BY ts DESC, id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        rows = self.db.execute(sql, params).fetchall()
        result = []
        for rowid, text in reversed(rows):
            event: EventRow = json.loads(text)
            event["_rowid"] = rowid
            result.append(event)
        return result

    @staticmethod
    def _event_filter(
        actor: str | None, subject: str | None, types: Iterable[str], since: str | None
    ) -> tuple[list[str], list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if actor is not None:
            clauses.append(
                "(actor = ? OR EXISTS (SELECT 1 FROM json_each(events.notify) WHERE value = ?))"
            )
            params.extend([actor, actor])
        if subject is not None:
            clauses.append("subject = ?")
            params.append(subject)
        wanted = list(types)
        if wanted:
            parts = []
            for kind in wanted:
                if kind.endswith("*"):
                    parts.append("type LIKE ?")
                    params.append(kind[:-1] + "%")
                else:
                    parts.append("type = ?")
                    params.append(kind)
            clauses.append("(" + " OR ".join(parts) + ")")
        if since is not None:
            clauses.append("ts >= ?")
            params.append(since)
        return clauses, params

    def max_event_rowid(self) -> int:
        row = self.db.execute("SELECT max(rowid) FROM events").fetchone()
        return int(row[0] or 0)

    def event(self, event_id: str) -> EventRecord | None:
        row = self.db.execute(_EVENT_JSON + " WHERE id=?", (event_id,)).fetchone()
        return cast("EventRecord", json.loads(row[0])) if row else None

    def notifications(
        self,
        agent: str,
        include_read: bool = False,
        limit: int | None = None,
        undelivered_only: bool = False,
    ) -> list[NotificationRow]:
        """The agent's notifications, oldest first (the newest ``limit`` when limited)."""
        sql = (
            "SELECT json_object('id', e.id, 'ts', e.ts, 'actor', e.actor, 'type', e.type, 'subject', e.subject,"
            " 'data', json(e.data), 'delivered', n.delivered, 'read', n.read)"
            " FROM notifications AS n JOIN events AS e ON e.id = n.event WHERE n.agent = ?"
        )
        params: list[Any] = [agent]
        if not include_read:
            sql += " AND n.read IS NULL"
        if undelivered_only:
            sql += " AND n.delivered IS NULL"
        sql += " ORDER BY n.ts DESC, n.event DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        rows = self.db.execute(sql, params).fetchall()
        return [json.loads(row[0]) for row in reversed(rows)]

    def notification_ids(
        self, agent: str, prefix: str = "", unread_only: bool = False
    ) -> list[str]:
        sql = "SELECT event FROM notifications WHERE agent = ? AND event >= ? AND event < ?"
        if unread_only:
            sql += " AND read IS NULL"
        rows = self.db.execute(sql + " ORDER BY event", (agent, prefix, prefix + "\uffff"))
        return [row[0] for row in rows]

    def unread_counts(self) -> dict[str, int]:
        rows = self.db.execute(
            "SELECT agent, COUNT(*) FROM notifications WHERE read IS NULL GROUP BY agent"
        )
        return dict(rows.fetchall())

    def undelivered(self, agent: str) -> list[str]:
        rows = self.db.execute(
            "SELECT event FROM notifications WHERE agent=? AND read IS NULL AND delivered IS NULL ORDER BY ts, event",
            (agent,),
        )
        return [row[0] for row in rows]

    def subscribers(self, task_id: str) -> list[str]:
        rows = self.db.execute(
            "SELECT agent FROM subscriptions WHERE task=? AND active=1 ORDER BY agent", (task_id,)
        )
        return [row[0] for row in rows]

    def subscription(self, task_id: str, agent: str) -> SubscriptionRow | None:
        row = self.db.execute(
            "SELECT active, reason FROM subscriptions WHERE task=? AND agent=?", (task_id, agent)
        ).fetchone()
        return {"active": bool(row[0]), "reason": row[1]} if row else None

    def last_activity(self, task_ids: Iterable[str]) -> dict[str, str]:
        wanted = list(task_ids)
        if not wanted:
            return {}
        marks = ", ".join("?" * len(wanted))
        rows = self.db.execute(
            f"SELECT subject, max(ts) FROM events WHERE subject IN ({marks}) GROUP BY subject",
            wanted,
        )
        return dict(rows.fetchall())
