"""The tick side of containing a ``command`` agent's child (see docs/security.md).

Before the child runs, :class:`Guard` opens a containment window (workspace/containment.py)
and snapshots the protected files: everything under ``.agentctl/`` except ``local/``, plus
WORKING.md. After the child exits it kills descendants that escaped the child's process group,
closes the window and, under the workspace lock, compares: a file whose final content is not
the one the last journaled agentctl mutation wrote is a direct change. Direct changes are
restored from the snapshot (files the child created are deleted; lines appended to a log that
no mutation wrote are dropped), the agent is blocked and an ``agent.contained`` event with a
bounded diff notifies the leads; one agentctl mutation does all of it.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import os
import signal
import stat
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentctl.store.atomic import TEMP_SUFFIX
from agentctl.workspace import containment

if TYPE_CHECKING:
    from agentctl.workspace import Workspace

DIFF_LIMIT = 4000  # characters of diff in the event
DIFF_FILE_LIMIT = 1500  # characters of diff per file
_PR_SET_CHILD_SUBREAPER = 36
_LOG_DIRS = ("events", "inbox")  # append-only JSON-lines logs: lines are checked one by one


@dataclass(frozen=True)
class Entry:
    signature: tuple[int, ...]  # what changes with any write: size, mtime, ctime, inode, mode
    data: bytes | None  # None for a symlink or a special file


@dataclass
class Findings:
    restore: dict[Path, bytes | None] = field(default_factory=dict)  # None = delete
    reverted: list[str] = field(default_factory=list)
    diff: str = ""


def _signature(st: os.stat_result) -> tuple[int, ...]:
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_mode)


def _walk(root: str, skip: str) -> dict[str, os.stat_result]:
    """Every non-directory entry below ``root`` except the ``skip`` directory (lstat: links
    are not followed). Plain strings: at 10,000 files, Path objects cost more than the stats."""
    found: dict[str, os.stat_result] = {}
    stack = [root]
    while stack:
        directory = stack.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        for entry in entries:
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue  # removed meanwhile
            if stat.S_ISDIR(st.st_mode):
                if entry.path != skip:
                    stack.append(entry.path)
            elif not entry.name.endswith(TEMP_SUFFIX):  # readers ignore them; validate sweeps them
                found[entry.path] = st
    return found


def protected_files(layout: Any) -> dict[str, os.stat_result]:
    found = _walk(str(layout.dir), str(layout.local))
    try:
        found[str(layout.working)] = os.lstat(layout.working)
    except OSError:
        pass
    return found


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return None


def snapshot(layout: Any) -> dict[str, Entry]:
    taken: dict[str, Entry] = {}
    for path, st in protected_files(layout).items():
        data = _read(path) if stat.S_ISREG(st.st_mode) else None
        taken[path] = Entry(_signature(st), data)
    return taken


def _read_journal(path: Path) -> tuple[dict[str, str | None], dict[str, set[str]]]:
    """The last hash each journaled mutation left per file, and the appended line hashes."""
    files: dict[str, str | None] = {}
    lines: dict[str, set[str]] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return files, lines
    for raw in text.splitlines():
        try:
            entry = json.loads(raw)
            files.update({str(k): v for k, v in dict(entry.get("files") or {}).items()})
            for rel, hashes in dict(entry.get("lines") or {}).items():
                lines.setdefault(str(rel), set()).update(str(h) for h in hashes)
        except (ValueError, TypeError, AttributeError):
            continue  # a line the child mangled accounts for nothing
    return files, lines


def _text(data: bytes | None) -> list[str]:
    if data is None:
        return []
    return data.decode("utf-8", errors="replace").splitlines(keepends=True)


def _diff(rel: str, before: bytes | None, after: bytes | None) -> str:
    lines = difflib.unified_diff(_text(before), _text(after), f"a/{rel}", f"b/{rel}", n=1)
    text = "".join(line if line.endswith("\n") else line + "\n" for line in lines)
    if not text:
        text = f"--- a/{rel}\n+++ b/{rel}\n(type or mode changed)\n"
    if len(text) > DIFF_FILE_LIMIT:
        text = text[: DIFF_FILE_LIMIT - 12] + "\n[…cut]\n"
    return text


def compare(layout: Any, taken: dict[str, Entry], journal: Path) -> Findings:
    """What changed since the snapshot without a journaled agentctl mutation, and how to undo it."""
    files, lines = _read_journal(journal)
    findings = Findings()
    now = protected_files(layout)
    diffs: list[str] = []
    for path in sorted(set(taken) | set(now)):
        before, st = taken.get(path), now.get(path)
        if before is not None and st is not None and before.signature == _signature(st):
            continue
        current = _read(path) if st is not None and stat.S_ISREG(st.st_mode) else None
        was = before.data if before is not None else None
        if (
            before is not None
            and st is not None
            and stat.S_IFMT(st.st_mode) == stat.S_IFMT(before.signature[4])
            and current == was
        ):
            continue  # touched but not changed
        rel = layout.relative(Path(path))
        journaled = rel in files and files[rel] == (
            containment.digest(current) if current is not None else None
        )
        if journaled and (st is None or stat.S_ISREG(st.st_mode)):
            continue
        restore = was
        # A log another writer's mutation started during the window (a first notification,
        # a new day's events) is checked line by line like one that grew.
        log_before = b"" if before is None else was
        if (
            log_before is not None and current is not None and current.startswith(log_before)
            and Path(path).parent.name in _LOG_DIRS and Path(path).parent.parent == Path(layout.dir)
        ):  # fmt: skip
            allowed = lines.get(rel, set())
            added = (
                current[len(log_before) :]
                .decode("utf-8", errors="replace")
                .splitlines(keepends=True)
            )
            kept = [
                line
                for line in added
                if line.strip() and containment.digest(line.strip("\n").encode("utf-8")) in allowed
            ]
            if len(kept) == len([line for line in added if line.strip()]):
                continue  # every appended line was written by a mutation
            restore = log_before + "".join(
                line if line.endswith("\n") else line + "\n" for line in kept
            ).encode("utf-8")
            if before is None and not kept:
                restore = None  # the child created it: delete it
        findings.restore[Path(path)] = restore
        findings.reverted.append(rel)
        diffs.append(_diff(rel, was, current))
    diff = "".join(diffs)
    findings.diff = (
        diff
        if len(diff) <= DIFF_LIMIT
        else diff[: DIFF_LIMIT - 40] + f"\n[…{len(diff):,} characters in all]\n"
    )
    return findings


def root_entries(root: Path) -> set[str]:
    """The names directly in the workspace root (directories end with '/')."""
    try:
        return {e.name + ("/" if e.is_dir(follow_symlinks=False) else "") for e in os.scandir(root)}
    except OSError:
        return set()


# -- processes -----------------------------------------------------------------------------


def _subreaper(on: bool) -> None:
    """Orphaned descendants of the child are re-parented to this process, not to init, so a
    double fork does not leave the tree (Linux only)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1 if on else 0, 0, 0, 0)


def _parents() -> dict[int, int]:
    """pid -> parent pid for every process, from one pass over /proc (empty without it)."""
    from agentctl.procs import proc_stat

    table: dict[int, int] = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return table
    for name in names:
        if name.isdigit():
            fields = proc_stat(int(name))
            if fields is not None and len(fields) > 1:
                table[int(name)] = int(fields[1])
    return table


def _top(parents: dict[int, int], pid: int, ancestor: int) -> int | None:
    """The child of ``ancestor`` that ``pid`` descends from (or is); None when ``pid`` does
    not descend from ``ancestor``."""
    current = pid
    for _ in range(4096):
        parent = parents.get(current)
        if parent is None or parent <= 1:
            return None
        if parent == ancestor:
            return current
        current = parent
    return None


def _children(pid: int) -> set[int]:
    return {child for child, parent in _parents().items() if parent == pid}


def kill_escaped(before: set[int]) -> int:
    """SIGKILL the descendants re-parented to this process during the run (they escaped the
    child's process group, which the runner already killed) and reap them. Each pass reads
    the process table once (a walk up /proc per process cost ~30 ms a tick)."""
    me, killed = os.getpid(), 0
    for _ in range(5):
        parents = _parents()
        victims = []
        for pid in parents:
            if pid == me:
                continue
            top = _top(parents, pid, me)
            if top is not None and top not in before:
                victims.append(pid)
        if not victims:
            break
        for pid in victims:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
            killed += 1
        for pid in victims:
            with contextlib.suppress(OSError):
                os.waitpid(
                    pid, 0
                )  # only direct children can be reaped; the rest are re-parented here
    return killed


class Guard:
    """One containment window around one run of a command agent's child."""

    def __init__(self, ws: Workspace, agent: str) -> None:
        self.ws, self.agent = ws, agent
        self.layout = ws.layout
        self.taken: dict[str, Entry] = {}
        self.env: dict[str, str] = {}
        self._before: set[int] = set()
        self.leads: list[str] = []
        self._root_before: set[str] = set()
        self.new_root_files: list[str] = []  # top-level entries the child created (reported)

    def open(self) -> None:
        from agentctl.store import atomic, locks

        run = containment.run_dir(self.layout)
        run.mkdir(parents=True, exist_ok=True)
        window = {"agent": self.agent, "tick_pid": os.getpid()}
        with locks.hold(self.layout.lock, float(self.ws.config["lock"]["timeout"])):
            atomic.write_text(containment.journal_path(self.layout, self.agent), "")
            atomic.write_text(
                containment.window_path(self.layout, self.agent), json.dumps(window) + "\n"
            )
            self.taken = snapshot(self.layout)
            self.leads = self._leads()  # as they were: the child may have edited agent files
        self._root_before = root_entries(self.ws.root)
        self._before = _children(os.getpid())
        _subreaper(True)

    def wrap(self, argv: list[str]) -> list[str]:
        return argv

    def close(self) -> Findings | None:
        """End the window; returns what was reverted, or None when the run was clean."""
        try:
            kill_escaped(self._before)
        finally:
            _subreaper(False)
        self.new_root_files = sorted(root_entries(self.ws.root) - self._root_before - self._own())
        found: Findings | None = self.ws.contain_agent(self.agent, self._inspect, notify=self.leads)
        return found

    def _own(self) -> set[str]:
        """Top-level names agentctl itself writes: its directory, git's, WORKING.md."""
        names = {".agentctl/", ".git/", ".git"}
        with contextlib.suppress(ValueError, IndexError):
            parts = Path(self.layout.working).relative_to(self.ws.root).parts
            names.add(parts[0] if len(parts) == 1 else parts[0] + "/")
        return names

    def abandon(self) -> None:
        """Close the window without inspecting (the tick is failing before the child ran)."""
        _subreaper(False)
        with contextlib.suppress(OSError):
            containment.window_path(self.layout, self.agent).unlink()

    def _inspect(self) -> Findings | None:
        """Runs under the workspace lock, inside the containment mutation."""
        with contextlib.suppress(OSError):
            containment.window_path(self.layout, self.agent).unlink()
        findings = compare(
            self.layout, self.taken, containment.journal_path(self.layout, self.agent)
        )
        return findings if findings.reverted else None

    def _leads(self) -> list[str]:
        return [
            a["name"]
            for a in self.ws.index.agents()
            if a.get("level") == "lead" and a["name"] != self.agent
        ]
