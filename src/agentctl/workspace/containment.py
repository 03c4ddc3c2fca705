"""The mutation side of containing ``command`` agents (see docs/security.md).

While a heartbeat tick runs a command agent's child, it keeps a *window* open: a file
``.agentctl/local/run/<agent>.window.json`` naming the agent and the tick's process id.

- Identity: a process that descends from a tick with an open window (the tick makes itself
  the child subreaper on Linux, so double-forked, ``setsid`` descendants stay below it) acts
  only as that window's agent: naming another agent is refused, naming nobody (the human)
  means the agent.
- Journal: every mutation applied while a window is open, by any process, appends what it
  wrote to ``.agentctl/local/run/<agent>.journal.jsonl``: the SHA-256 of each file it wrote
  (None for a deletion) and of each line it appended to a log. After the child exits, the
  tick keeps the changes the journal accounts for and reverts the rest.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentctl.errors import PermissionDeniedError

if TYPE_CHECKING:
    from agentctl.paths import Layout

WINDOW_SUFFIX = ".window.json"
JOURNAL_SUFFIX = ".journal.jsonl"


def run_dir(layout: Layout) -> Path:
    return Path(layout.local) / "run"


def window_path(layout: Layout, agent: str) -> Path:
    return run_dir(layout) / f"{agent}{WINDOW_SUFFIX}"


def journal_path(layout: Layout, agent: str) -> Path:
    return run_dir(layout) / f"{agent}{JOURNAL_SUFFIX}"


def digest(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def _parent(pid: int) -> int | None:
    from agentctl.procs import proc_stat

    fields = proc_stat(pid)
    return int(fields[1]) if fields is not None and len(fields) > 1 else None


def descends_from(pid: int, ancestor: int) -> bool:
    """True if ``ancestor`` is a proper ancestor of ``pid`` (walks Linux's /proc)."""
    if not Path("/proc/self/stat").exists():
        return False  # no process tree to walk: only the snapshot check applies (docs/security.md)
    seen = 0
    current: int | None = _parent(pid)
    while current and current > 1 and seen < 4096:
        if current == ancestor:
            return True
        current = _parent(current)
        seen += 1
    return current == ancestor


def open_windows(layout: Layout) -> list[dict[str, Any]]:
    """The windows of ticks that are still running."""
    directory = run_dir(layout)
    try:
        names = [n for n in os.listdir(directory) if n.endswith(WINDOW_SUFFIX)]
    except OSError:
        return []
    windows = []
    for name in names:
        try:
            window = json.loads((directory / name).read_text(encoding="utf-8"))
            pid = int(window["tick_pid"])
            os.kill(pid, 0)
        except (OSError, ValueError, KeyError, TypeError):
            continue  # gone, unreadable or its tick died: not a window
        windows.append(window)
    return windows


def confined_agent(layout: Layout) -> str | None:
    """The agent this process must act as, if it descends from a tick running a command agent."""
    me = os.getpid()
    for window in open_windows(layout):
        if window["tick_pid"] != me and descends_from(me, int(window["tick_pid"])):
            return str(window["agent"])
    return None


def check_identity(layout: Layout, chosen: str | None) -> str | None:
    """The name to act as: ``chosen`` unless this process is confined to another agent."""
    confined = confined_agent(layout)
    if confined is None:
        return chosen
    if chosen and chosen != confined:
        raise PermissionDeniedError(
            f"refused to act as {chosen}: this process runs under {confined}'s heartbeat and acts only as {confined}"
        )
    return confined


def note(layout: Layout, touched: list[Path], appended: dict[Path, list[str]]) -> None:
    """Journal one applied mutation in every open window (called by the mutation path)."""
    windows = open_windows(layout)
    if not windows:
        return
    files: dict[str, str | None] = {}
    lines: dict[str, list[str]] = {}
    for path in touched:
        rel = layout.relative(path)
        if path in appended:
            lines[rel] = [digest(line.encode("utf-8")) for line in appended[path]]
            continue
        try:
            files[rel] = digest(path.read_bytes())
        except FileNotFoundError:
            files[rel] = None
        except OSError:
            continue
    me = os.getpid()
    confined = confined_agent(layout)
    entry = json.dumps(
        {"pid": me, "confined": confined, "files": files, "lines": lines}, separators=(",", ":")
    )
    from agentctl.store import atomic

    for window in windows:
        atomic.append_line(journal_path(layout, str(window["agent"])), entry)
