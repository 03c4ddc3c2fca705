"""The write-ahead journal: what a mutation is about to write, kept until it is committed.

A mutation writes one entry under ``.agentctl/local/journal/`` *before* it touches a record:
the full new text of every file it writes (with a hash of what it replaces), the lines it
appends, its event and the commit it will make. The entry is removed once the change is
committed (or, without auto-commit, once the files and the event are written). An entry
whose writer is gone (killed, or failed in git after writing) is therefore the complete
description of an interrupted change, and :func:`redo` can finish it: write what is
missing, append the event if it is not in the log yet; the caller then commits the paths.

Redo never overwrites a file that someone changed since: a file is written only if it
still holds the text the entry replaced (or already holds the new text).

Entries belong to a process (pid plus its start time, so a reused pid is not mistaken for
the writer); an entry of a live process is never touched by another one.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentctl.procs import proc_stat
from agentctl.store import atomic

if TYPE_CHECKING:
    from agentctl.core.records import EventRecord

VERSION = 1
_PREFIX = "j-"
_SUFFIX = ".json"
# Entries this process wrote and has not finished: never recovered by this process itself
# while their mutation (or batch) is still under way.
_ACTIVE: set[str] = set()


def digest(data: bytes | None) -> str | None:
    return None if data is None else hashlib.sha256(data).hexdigest()


def _read_bytes(path: Path) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def _start_time(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (Linux), telling a reused pid from the writer."""
    fields = proc_stat(pid)
    return fields[19] if fields is not None and len(fields) > 19 else None


def process_alive(pid: int, started: str | None) -> bool:
    """True if ``pid`` runs and (where the platform tells) is the same process as then."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    if started is None:
        return True
    now = _start_time(pid)
    return now is None or now == started


@dataclass(frozen=True)
class _Owner:
    pid: int
    started: str | None


_OWNERS: dict[int, _Owner] = {}


def _me() -> _Owner:
    """This process (looked up per pid: a forked child is a different owner)."""
    pid = os.getpid()
    owner = _OWNERS.get(pid)
    if owner is None:
        owner = _OWNERS[pid] = _Owner(pid, _start_time(pid))
    return owner


def owner_marker() -> str:
    """A one-line description of this process, for lock files it leaves behind if killed."""
    me = _me()
    return f"agentctl pid={me.pid} started={me.started or '-'}\n"


def marker_is_dead(text: str) -> bool:
    """True if ``text`` is an :func:`owner_marker` of a process that no longer runs."""
    if not text.startswith("agentctl pid="):
        return False
    parts = dict(item.split("=", 1) for item in text.split()[1:] if "=" in item)
    try:
        pid = int(parts.get("pid", ""))
    except ValueError:
        return False
    started = parts.get("started")
    if started == "-":
        started = None
    if pid == os.getpid() and started == _me().started:
        return False
    return not process_alive(pid, started)


@dataclass
class Entry:
    """One journal entry (see the module docstring). Paths are relative to the workspace root."""

    id: str
    writes: list[dict[str, Any]] = field(default_factory=list)  # {path, before, after}
    appends: list[dict[str, Any]] = field(default_factory=list)  # {path, lines}
    events: list[EventRecord] = field(default_factory=list)  # one, or an event batch
    events_path: str | None = None
    commit: dict[str, Any] | None = None  # {message, author_name, author_email}
    paths: list[str] = field(default_factory=list)  # every path the change commits
    pid: int = 0
    started: str | None = None
    created: float = 0.0
    file: Path | None = None

    def to_json(self) -> str:
        return json.dumps(
            {
                "v": VERSION,
                "id": self.id,
                "pid": self.pid,
                "started": self.started,
                "created": self.created,
                "writes": self.writes,
                "appends": self.appends,
                "events": self.events,
                "events_path": self.events_path,
                "commit": self.commit,
                "paths": self.paths,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str, file: Path) -> Entry:
        raw = json.loads(text)
        if not isinstance(raw, dict) or raw.get("v") != VERSION:
            raise ValueError("not a journal entry of this version")
        return cls(
            id=str(raw["id"]),
            writes=list(raw.get("writes") or []),
            appends=list(raw.get("appends") or []),
            events=list(raw.get("events") or ([raw["event"]] if raw.get("event") else [])),
            events_path=raw.get("events_path"),
            commit=raw.get("commit"),
            paths=list(raw.get("paths") or []),
            pid=int(raw.get("pid") or 0),
            started=raw.get("started"),
            created=float(raw.get("created") or 0.0),
            file=file,
        )

    @property
    def owner_alive(self) -> bool:
        if self.id in _ACTIVE:
            return True
        me = _me()
        if self.pid == me.pid and self.started == me.started:
            return False  # ours, and no longer active: a failed commit of this process
        return process_alive(self.pid, self.started)

    @property
    def event(self) -> EventRecord | None:
        """The (first) event of the change."""
        return self.events[0] if self.events else None

    def describe(self) -> str:
        if self.event is not None:
            return f"{self.event.get('type')} {self.event.get('subject') or ''} ({self.event.get('id')})".replace(
                "  ", " "
            )
        if self.commit is not None:
            return str(self.commit.get("message", "")).splitlines()[0]
        return self.id


def begin(
    directory: Path,
    root: Path,
    writes: Iterable[tuple[Path, str | None]],
    appends: Iterable[tuple[Path, list[str]]],
    events: list[EventRecord],
    events_path: Path | None,
    commit: dict[str, Any] | None,
    extra_paths: Iterable[Path] = (),
) -> Entry:
    """Write (durably) and return the entry for a change that is about to be applied."""

    root_text = os.fspath(root)
    prefix = root_text if root_text.endswith(os.sep) else root_text + os.sep

    def rel(path: Path) -> str:
        text = os.fspath(path)  # strings, not pathlib: an import journals ten thousand files
        if text.startswith(prefix):
            return text[len(prefix) :].replace(os.sep, "/")
        return path.relative_to(root).as_posix()  # raises ValueError, as for any outsider

    entry = Entry(id=f"{_PREFIX}{time.time_ns():x}-{os.urandom(4).hex()}", pid=_me().pid,
                  started=_me().started, created=time.time(), commit=commit, events=list(events))  # fmt: skip
    for path, text in writes:
        entry.writes.append({"path": rel(path), "before": digest(_read_bytes(path)), "after": text})
    for path, lines in appends:
        entry.appends.append({"path": rel(path), "lines": list(lines)})
    if events_path is not None:
        entry.events_path = rel(events_path)
    seen = (
        [w["path"] for w in entry.writes]
        + [a["path"] for a in entry.appends]
        + [rel(p) for p in extra_paths]
    )
    if entry.events_path:
        seen.append(entry.events_path)
    entry.paths = list(dict.fromkeys(seen))
    directory.mkdir(parents=True, exist_ok=True)
    entry.file = directory / f"{entry.id}{_SUFFIX}"
    _write_durably(entry.file, entry.to_json().encode("utf-8"))
    _ACTIVE.add(entry.id)
    return entry


def _write_durably(path: Path, data: bytes) -> None:
    """Create ``path`` with ``data``, in place (no temp file). A writer killed mid-write
    leaves a torn entry, which :func:`pending` skips: no record was touched before the entry
    was complete.

    No fsync: the entry must outlive its process (the page cache does that) and a failing
    git, not a power cut; the records themselves are still written with fsync. An fsync here
    cost each mutation 10-20 % (bench/bench_journal.py); see docs/decisions.md."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def release(entry: Entry) -> None:
    """The change is out of this process's hands (finished or failed): a failed one is now
    recoverable by the next mutation, in this process or another."""
    _ACTIVE.discard(entry.id)


def finish(entry: Entry) -> None:
    """The change is complete (committed, or written when nothing commits): drop the entry."""
    _ACTIVE.discard(entry.id)
    if entry.file is not None:
        entry.file.unlink(missing_ok=True)


def pending(directory: Path) -> list[Entry]:
    """Entries left by writers that are gone, oldest first. Unreadable entries (a torn temp
    file never becomes an entry: entries are created atomically) are skipped."""
    try:
        names = sorted(
            n for n in os.listdir(directory) if n.startswith(_PREFIX) and n.endswith(_SUFFIX)
        )
    except FileNotFoundError:
        return []
    found = []
    for name in names:
        path = directory / name
        try:
            entry = Entry.from_json(path.read_text(encoding="utf-8"), path)
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if not entry.owner_alive:
            found.append(entry)
    found.sort(key=lambda e: (e.created, e.id))
    return found


def any_pending(directory: Path) -> bool:
    """Cheap check (one listdir) that some entry exists, live or not."""
    try:
        return any(n.startswith(_PREFIX) and n.endswith(_SUFFIX) for n in os.listdir(directory))
    except FileNotFoundError:
        return False


@dataclass
class RedoReport:
    written: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # changed by someone else since
    event_appended: bool = False


def redo(entry: Entry, root: Path, inside: Any) -> RedoReport:
    """Finish ``entry``'s file writes, appends and event (idempotent). ``inside`` checks a path
    stays in the workspace (the layout's check: no escapes, no symlinks)."""
    report = RedoReport()
    for write in entry.writes:
        path = inside(root / write["path"])
        after: str | None = write["after"]
        current = _read_bytes(path)
        wanted = None if after is None else after.encode("utf-8")
        if current == wanted:
            continue
        if digest(current) != write["before"]:
            report.skipped.append(write["path"])
            continue
        if wanted is None:
            atomic.delete(path)
        else:
            atomic.write_text(path, after or "")
        report.written.append(write["path"])
    for append in entry.appends:
        path = inside(root / append["path"])
        text = (_read_bytes(path) or b"").decode("utf-8", "replace")
        present = set(text.splitlines())
        for line in append["lines"]:
            if line.rstrip("\n") not in present:
                atomic.append_line(path, line)
                report.written.append(append["path"])
    if entry.events and entry.events_path:
        from agentctl.store.events import encode

        path = inside(root / entry.events_path)
        text = (_read_bytes(path) or b"").decode("utf-8", "replace")
        missing = [event for event in entry.events if f'"id":"{event["id"]}"' not in text]
        if missing:
            atomic.append_line(path, "\n".join(encode(event) for event in missing))
            report.event_appended = True
    return report
