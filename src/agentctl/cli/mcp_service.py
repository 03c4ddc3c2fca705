"""What the MCP server's tools do, without the MCP SDK: thin calls into the Workspace API.

``agentctl mcp`` (cli/mcp_cmd.py) serves these through the SDK (cli/mcp_tools.py). Every
method acts as the identity the server was started as, with the CLI's permissions, and raises
:class:`agentctl.errors.AgentctlError` with the CLI's message when refused. Mutations go
through the workspace's atomic methods, so a refusal never half-applies.

A long-running server must see what other processes change (CLI writers, ``git pull``,
hand edits). Before each call :meth:`McpService.fresh` compares a cheap signature (the stat of
the record directories, the config file, the newest event log and the read-state logs: every
creation, deletion or atomic rename changes one of them) and re-indexes when it changed. An
edit made in place changes no directory: a watcher thread (:meth:`McpService.start_watching`,
what the server runs) stats every record file every ``FULL_SCAN_EVERY`` seconds and marks the
index stale when one changed, so no call pays for that scan; without the watcher, a call
re-indexes when the last full scan is older than that.

Task lists (``tasks``: list and ready) are remembered between calls until the index changes
(its SQLite ``data_version`` for other processes' commits, ``total_changes`` for this one's):
at 10,000 tasks the ready query alone takes ~60 ms, and an agent asks again and again.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentctl.errors import PermissionDeniedError, UsageError
from agentctl.workspace.freshness import stat_key

if TYPE_CHECKING:
    from agentctl.core.rules import Actor
    from agentctl.workspace import Workspace

# The server's tools, in the order it lists them (cli/mcp_tools.py registers exactly these).
TOOLS = ("tasks", "show", "claim", "move", "comment", "inbox", "search", "prime", "add_task")
FULL_SCAN_EVERY = 2.0  # seconds: how stale an in-place edit (no rename) may be seen
DEFAULT_LIMIT = 50


def resolve_identity(as_agent: str | None) -> str | None:
    """The agent the server acts as: ``--as``, else $AGENTCTL_AGENT; ``--as`` another agent
    while $AGENTCTL_AGENT names one is refused, as on the CLI."""
    current = os.environ.get("AGENTCTL_AGENT") or None
    if current and as_agent and as_agent != current:
        raise PermissionDeniedError(
            f"--as {as_agent} is refused: this process acts as {current} ($AGENTCTL_AGENT)",
            hint="unset AGENTCTL_AGENT to act as someone else (outside a command agent's heartbeat)",
        )
    return as_agent or current


class McpService:
    """One workspace, one identity; every method returns JSON-ready data."""

    def __init__(
        self, workspace: str | None = None, as_agent: str | None = None, start: Path | None = None
    ) -> None:
        from agentctl.workspace import Workspace

        self.as_agent = resolve_identity(as_agent)
        self.ws: Workspace = Workspace.open(workspace, start)
        self._signature: tuple[Any, ...] | None = None
        self._config_key = stat_key(self.ws.layout.config)
        self._full_at = 0.0
        self._memo: dict[tuple[Any, ...], dict[str, Any]] = {}
        self._memo_key: tuple[int, int] | None = None
        self._stale = False  # set by the watcher thread: a record file changed in place
        self._watching: threading.Event | None = None
        self.actor()  # an unknown or pending agent is refused before the server starts

    # -- freshness -----------------------------------------------------------------------

    def signature(self) -> tuple[Any, ...]:
        """Cheap: see :meth:`agentctl.workspace.Workspace.change_signature`."""
        return self.ws.change_signature()

    def deep_signature(self) -> int:
        """Every record file's stat: see :meth:`agentctl.workspace.Workspace.records_signature`."""
        return self.ws.records_signature()

    def start_watching(self, every: float | None = None) -> None:
        """Scan every record file's stat in a background thread every ``every`` seconds
        (default ``FULL_SCAN_EVERY``); a change marks the index stale for the next call."""
        if self._watching is not None:
            return
        stop = self._watching = threading.Event()
        period = FULL_SCAN_EVERY if every is None else every

        last = self.deep_signature()  # here, not in the thread: later edits all count

        def watch() -> None:
            nonlocal last
            while not stop.wait(period):
                current = self.deep_signature()
                if current != last:
                    self._stale, last = True, current

        threading.Thread(target=watch, name="agentctl-mcp-watch", daemon=True).start()

    def fresh(self) -> Workspace:
        """The workspace, with its index brought up to date when anything changed on disk."""
        signature = self.signature()
        now = time.monotonic()
        overdue = self._watching is None and now - self._full_at >= FULL_SCAN_EVERY
        if signature != self._signature or self._stale or overdue:
            self._stale = False  # before the refresh: a change during it flags again
            config_key = stat_key(self.ws.layout.config)
            if config_key != self._config_key:  # the config came in (git pull) or was edited
                old = self.ws
                self.ws = type(old)(old.root)
                old.close()
                self._config_key = config_key
            self.ws.refresh(force=True)
            self._signature, self._full_at = signature, now
        return self.ws

    def _index_version(self) -> tuple[int, int]:
        db = self.ws.index.db
        return int(db.execute("PRAGMA data_version").fetchone()[0]), db.total_changes

    def _remembered(self, key: tuple[Any, ...]) -> dict[str, Any] | None:
        version = self._index_version()
        if version != self._memo_key:
            self._memo.clear()
            self._memo_key = version
        return self._memo.get(key)

    def actor(self) -> Actor:
        return self.ws.actor(self.as_agent)

    def close(self) -> None:
        if self._watching is not None:
            self._watching.set()
        self.ws.close()

    # -- reads ---------------------------------------------------------------------------

    def tasks(
        self,
        view: str = "list",
        status: list[str] | None = None,
        assignee: str | None = None,
        label: str | None = None,
        include_done: bool = False,
        limit: int | None = DEFAULT_LIMIT,
    ) -> dict[str, Any]:
        ws = self.fresh()
        if view not in ("list", "ready"):
            raise UsageError(f"view must be list or ready, not {view!r}")
        agent = self.actor().name if self.as_agent else None
        key = (view, agent, tuple(status or ()), assignee, label, include_done, limit)
        found = self._remembered(key)
        if found is None:
            if view == "ready":
                found = {"ready": ws.ready(agent, limit=limit or None)["ready"]}
            else:
                found = {
                    "tasks": ws.list_tasks(
                        status or None, assignee, label, None, include_done, "priority", limit
                    )
                }
            self._memo[key] = found
        return found

    def show(self, task: str) -> dict[str, Any]:
        ws = self.fresh()
        data = ws.show_task(task)
        data["thread"] = ws.thread(data["id"])["messages"]
        return {"task": data}

    def inbox(
        self,
        read: list[str] | None = None,
        read_all: bool = False,
        include_read: bool = False,
        limit: int = DEFAULT_LIMIT,
    ) -> dict[str, Any]:
        """The newest ``limit`` notifications (``unread`` counts them all): an agent behind
        by 30,000 notifications gets a page, not a reply no model can read."""
        ws = self.fresh()
        if read or read_all:
            return {"marked": ws.mark_read(self.actor(), read or [], every=read_all)}
        page = max(1, min(limit, 1000))
        return {"inbox": ws.inbox(self.actor(), include_read=include_read, limit=page)}

    def search(self, query: str, limit: int = 20) -> dict[str, Any]:
        ws = self.fresh()
        return {"query": query, "hits": ws.search(query, [], [], max(1, min(limit, 1000)))}

    def prime(self) -> dict[str, Any]:
        from agentctl.heartbeat.context import build_prompt, collect

        ws = self.fresh()
        if not self.as_agent:
            raise UsageError(
                "prime needs an agent: start the server with --as NAME (or $AGENTCTL_AGENT)"
            )
        work = collect(ws, self.actor().name)
        prompt = build_prompt(ws, work)
        return {"agent": work.agent["name"], "system": prompt.system, "prompt": prompt.prompt}

    def working(self) -> str:
        return self.fresh().working_text()[0]

    def task_text(self, task: str) -> str:
        return self.fresh().task_text(task)[1]

    # -- writes (each one atomic in the workspace) ---------------------------------------

    def claim(self, task: str | None = None) -> dict[str, Any]:
        ws = self.fresh()
        return {"task": ws.claim(self.actor(), task)}

    def move(self, task: str, status: str, note: str | None = None) -> dict[str, Any]:
        ws = self.fresh()
        return {"task": ws.move_task(self.actor(), task, status, note)}

    def comment(self, task: str, text: str, reply_to: str | None = None) -> dict[str, Any]:
        ws = self.fresh()
        message = ws.comment(self.actor(), task, text, reply_to=reply_to)
        notified = ws.last_event["notify"] if ws.last_event else []
        return {"message": message, "notified": notified}

    def add_task(
        self,
        title: str,
        description: str = "",
        priority: int | None = None,
        assignees: list[str] | None = None,
        labels: list[str] | None = None,
        depends_on: list[str] | None = None,
        parent: str | None = None,
        criteria: list[str] | None = None,
    ) -> dict[str, Any]:
        ws = self.fresh()
        if priority is not None and not 0 <= priority <= 3:
            raise UsageError(f"priority must be 0-3 (0 is the most urgent), not {priority}")
        task = ws.add_task(
            self.actor(),
            title,
            description=description,
            priority=priority,
            assignees=assignees or [],
            labels=labels or [],
            parent=parent,
            depends_on=depends_on or [],
            criteria=criteria or [],
        )
        return {"task": task}
