"""When the index may skip stat-ing every record file: directory signatures with a bounded
full-scan cadence.

Creating, deleting or renaming a file changes its directory's mtime and ctime. agentctl
writes through a temporary file and a link or rename, git checks files out by removing and
creating them (pull, checkout, merge, rebase, reset, stash), and editors that save through a
rename do the same, so each of them changes the record directory. A directory whose signature
is the one recorded after its last scan is not scanned again: a command on a 100,000-task
workspace then costs three ``stat`` calls for its freshness, not 100,000.

An edit made in place (``>>``, editors that truncate and rewrite the same file) leaves the
directory as it was. For those, each refresh that skips a directory stats the next
:func:`slice_size` files of it in turn (2,000 by default, a few ms), so such an edit is found
within ``files / 2,000`` commands (50 at 100,000 tasks; at once below 2,000), and a full scan
comes back at the latest :func:`rescan_seconds` after the last one (default an hour).
``agentctl reindex`` sees everything at once, and ``task show`` reads the task's file itself.

What else is not seen at once (docs/decisions.md, "Freshness without stat-ing everything"):
a file created or replaced by another program while an agentctl mutation writes into the
same directory (between the mutation's check under its lock and its last write), or in the
same clock tick (a few milliseconds) as a scan; the same bound applies.

Directories holding fewer than :func:`scan_below` files are always scanned (a few ms), so
small workspaces see every edit at once as before. A message thread is one directory per task;
instead of stat-ing every thread directory, the threads are rescanned when the threads
directory or the event log directory changed (a pulled message arrives with its event line,
and git replaces the log file), or at the full-scan cadence for hand-made message files.

Signatures live in the index's ``meta`` table as ``fresh:<name>`` = ``"sig scanned_ns count"``.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from stat import S_ISDIR

RESCAN_ENV = "AGENTCTL_INDEX_RESCAN"
SCAN_BELOW_ENV = "AGENTCTL_INDEX_SCAN_BELOW"
SLICE_ENV = "AGENTCTL_INDEX_SLICE"
DEFAULT_RESCAN = 3600.0
DEFAULT_SCAN_BELOW = 2000
DEFAULT_SLICE = 2000
THREADS = "threads"  # the name of the threads' signal


def rescan_seconds() -> float:
    """The longest a directory goes without a full scan (``$AGENTCTL_INDEX_RESCAN``)."""
    try:
        return max(0.0, float(os.environ.get(RESCAN_ENV, DEFAULT_RESCAN)))
    except ValueError:
        return DEFAULT_RESCAN


def scan_below() -> int:
    """Directories with fewer files than this are scanned every time
    (``$AGENTCTL_INDEX_SCAN_BELOW``)."""
    try:
        return max(0, int(os.environ.get(SCAN_BELOW_ENV, DEFAULT_SCAN_BELOW)))
    except ValueError:
        return DEFAULT_SCAN_BELOW


def slice_size() -> int:
    """How many files of a skipped directory each refresh stats in turn
    (``$AGENTCTL_INDEX_SLICE``)."""
    try:
        return max(0, int(os.environ.get(SLICE_ENV, DEFAULT_SLICE)))
    except ValueError:
        return DEFAULT_SLICE


def dir_signature(path: Path | str) -> int | None:
    """A directory's signature (None if missing or not a real directory: always rescanned)."""
    try:
        st = os.stat(path, follow_symlinks=False)
    except (FileNotFoundError, NotADirectoryError):
        return None
    if not S_ISDIR(st.st_mode):
        return None
    return hash((st.st_mtime_ns, st.st_ctime_ns, st.st_ino))


class FreshIndex:
    """Mixin of :class:`agentctl.store.index.Index`: the recorded directory signatures."""

    @property
    def db(self) -> sqlite3.Connection:  # provided by Index
        raise NotImplementedError

    # Signals whose recorded signature matched the disk at this process's last check (or
    # that it just scanned), with that signature: only these may follow our own writes.
    _verified: dict[str, int]

    def fresh_entry(self, name: str) -> tuple[int, int, int] | None:
        """(signature, scanned at ns, files) recorded for ``name``, or None."""
        row = self.db.execute("SELECT value FROM meta WHERE key=?", ("fresh:" + name,)).fetchone()
        if row is None:
            return None
        try:
            sig, scanned, count = (int(part) for part in row[0].split())
        except ValueError:
            return None
        return sig, scanned, count

    def may_skip(self, name: str, sig: int | None, now_ns: int) -> bool:
        """True when ``name`` need not be scanned: its signature is the recorded one, it is
        large enough to be worth skipping, and its last full scan is recent."""
        if sig is None:
            return False
        entry = self.fresh_entry(name)
        if entry is None or entry[0] != sig:
            return False
        if entry[2] < scan_below():
            return False
        if now_ns - entry[1] > rescan_seconds() * 1e9 or now_ns < entry[1]:
            return False
        self._verified[name] = sig
        return True

    def same_as_recorded(self, name: str, sig: int | None, count: int) -> bool:
        """True when a full scan of ``name`` found what its record says (signature and file
        count) and ``name`` is small enough to be scanned every time, so that the time of its
        last scan decides nothing: the record need not be written again (a read of a small
        workspace then writes nothing to the index)."""
        entry = self.fresh_entry(name)
        if sig is None or entry is None or entry[0] != sig or entry[2] != count:
            return False
        if count >= scan_below():
            return False
        self._verified[name] = sig
        return True

    def record_scan(self, name: str, sig: int | None, now_ns: int, count: int) -> None:
        """``name`` was scanned in full; ``sig`` is its signature from before the scan."""
        if sig is None:
            self.db.execute("DELETE FROM meta WHERE key=?", ("fresh:" + name,))
            self._verified.pop(name, None)
            return
        self.db.execute(
            "INSERT OR REPLACE INTO meta VALUES (?, ?)",
            ("fresh:" + name, f"{sig} {now_ns} {count}"),
        )
        self._verified[name] = sig

    def cursor(self, name: str) -> str:
        """Where the rolling check of ``name`` goes on from (a relative path, '' at first)."""
        row = self.db.execute("SELECT value FROM meta WHERE key=?", ("slice:" + name,)).fetchone()
        return str(row[0]) if row else ""

    def set_cursor(self, name: str, path: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", ("slice:" + name, path))

    def verify(self, name: str, sig: int | None) -> None:
        """Note whether ``name``'s recorded signature is ``sig`` (the disk's, just taken)."""
        entry = self.fresh_entry(name)
        if sig is not None and entry is not None and entry[0] == sig:
            self._verified[name] = sig
        else:
            self._verified.pop(name, None)

    def follow_own_write(self, name: str, sig: int | None, added: int = 0) -> None:
        """This process (holding the workspace lock) has written into ``name``: record its new
        signature, but only if the old one was verified against the disk before the write, so
        a change by someone else that came first is still found by the next scan."""
        before = self._verified.get(name)
        entry = self.fresh_entry(name)
        if before is None or entry is None or entry[0] != before or sig is None:
            return
        self.db.execute(
            "INSERT OR REPLACE INTO meta VALUES (?, ?)",
            ("fresh:" + name, f"{sig} {entry[1]} {entry[2] + added}"),
        )
        self._verified[name] = sig
