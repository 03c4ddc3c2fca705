"""The board's only door to the workspace: every read and write runs on one worker thread.

The app never touches disk or git on its UI thread. :class:`Gateway` owns the
:class:`~agentctl.workspace.Workspace` (its SQLite connection belongs to the thread that
opened it) on a single-thread executor, so operations are also serialised: a reload never
interleaves with a write. Writes are the same workspace calls the CLI makes, with the same
actor rules; refusals arrive as :class:`~agentctl.errors.AgentctlError`.

Watching is two stat signatures: a cheap one (a handful of directories and the newest event
log, microseconds) polled several times a second, and a deep one (every task and agent
file, tens of milliseconds at 10,000 tasks) taken every few seconds to catch editors that
rewrite a file in place. Any mutation through the API appends an event, so the cheap one
sees every change another agentctl process makes.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from agentctl.core import clock
from agentctl.core.board import AgentChip, Board, build_agent_bar
from agentctl.core.checks import priority_value
from agentctl.core.summary import summarize
from agentctl.errors import PermissionDeniedError, UsageError
from agentctl.tui.view import FeedLine, Session, Snapshot, ViewOptions
from agentctl.workspace.board_view import read_board, shorten
from agentctl.workspace.freshness import stat_key

if TYPE_CHECKING:
    from agentctl.core.records import EventRecord
    from agentctl.core.rows import AgentRow
    from agentctl.core.rules import Actor
    from agentctl.workspace import Workspace

T = TypeVar("T")

PAGE = 100  # cards read per column at first; scrolling near the end reads the next page
DONE_LIMIT = 5  # done columns show the latest few unless expanded
FEED_LIMIT = 50
RECENT_RUNS = 10  # heartbeat runs on the agent screen
MEMORY_LIMIT = 20_000  # characters of MEMORY.md shown on the agent screen (the end of it)

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return clock.now().astimezone()


def unread(ws: Workspace, actor: Actor, names: list[str]) -> tuple[dict[str, int], dict[str, int]]:
    """Unread notifications (per agent, per task). A human sees every inbox; an agent only
    its own (the API's rule), so other agents' per-task counts are not included then."""
    per_agent: dict[str, int] = {}
    per_task: dict[str, int] = {}
    for name in names:
        try:
            box = ws.inbox(actor, agent=name)
        except PermissionDeniedError:
            continue
        per_agent[name] = int(box.get("unread", 0))
        for note in box.get("notifications", []):
            task = note.get("task")
            if isinstance(task, str):
                per_task[task] = per_task.get(task, 0) + 1
    for name, count in ws.index.unread_counts().items():
        per_agent.setdefault(str(name), int(count))
    return per_agent, per_task


def memory_tail(ws: Workspace, agent: str) -> str | None:
    """The end of the agent's long-term memory (MEMORY.md), or None if it has none."""
    text = str(ws.memory(agent).get("long_term") or "") or None
    if text and len(text) > MEMORY_LIMIT:
        text = "…\n" + text[-MEMORY_LIMIT:].split("\n", 1)[-1]
    return text


class Gateway:
    """Runs workspace operations on its own thread; ``await gateway.call(fn, ...)``."""

    def __init__(
        self,
        workspace: Workspace,
        actor_name: str | None = None,
        clock: Clock = system_clock,
        page: int = PAGE,
    ) -> None:
        # SQLite objects belong to the thread that created them: let the gateway's thread
        # reopen the index (a cheap connect) instead of sharing the caller's connection.
        workspace.index.close()
        self.ws = workspace
        self.root = workspace.root
        self.clock = clock
        self._actor_name = actor_name
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="agentctl-board")
        self._prefetched: tuple[ViewOptions, Future[Snapshot]] | None = None
        self.page = page
        self._short: dict[str, str] = {}  # short IDs of the tasks shown (and named) lately
        self._agents: list[AgentRow] = []
        self._unread_agents: dict[str, int] = {}
        self._unread_tasks: dict[str, int] = {}
        self._feed: tuple[FeedLine, ...] = ()
        # What changed since the last snapshot: anything (on disk: refresh the index first),
        # or only the tasks this board just wrote; the agents, inboxes and feed (side data).
        self._stale_all = True
        self._stale_tasks: set[str] = set()
        self._stale_side = True
        self._rescan = False  # the index may be behind the files: refresh before reading
        self._generation = 0
        self._config_key: tuple[int, int, int] | None = None
        self.session: Session | None = None

    # -- threading -------------------------------------------------------------------------

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))

    def prefetch(self, options: ViewOptions) -> None:
        """Start reading the first board now, while the app is still starting up."""
        self._prefetched = (options, self._executor.submit(self.snapshot, options))

    def first_snapshot(self, options: ViewOptions) -> Future[Snapshot]:
        """The prefetched snapshot if it was for ``options``, else one started now."""
        prefetched, self._prefetched = self._prefetched, None
        if prefetched is not None and prefetched[0] == options:
            return prefetched[1]
        return self._executor.submit(self.snapshot, options)

    def run_sync(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run on the gateway's thread and wait (for tests and benchmarks, not the UI)."""
        return self._executor.submit(functools.partial(fn, *args, **kwargs)).result()

    def close(self) -> None:
        try:
            self._executor.submit(self.ws.close).result(timeout=10)
        finally:
            self._executor.shutdown(wait=False, cancel_futures=True)

    # -- session ---------------------------------------------------------------------------

    def open(self) -> Session:
        ws = self.ws
        ws.refresh()  # once per process: a caller that already refreshed pays nothing
        actor = ws.actor(self._actor_name)
        self._config_key = stat_key(ws.layout.config)
        self.session = Session(
            actor=actor,
            name=str(ws.config.get("name", ws.root.name)),
            root=str(ws.root),
            workflow=ws.workflow,
            agents=tuple(a["name"] for a in ws.index.agents()),
        )
        return self.session

    # -- watching --------------------------------------------------------------------------

    def signature(self) -> tuple[Any, ...]:
        """Cheap: see :meth:`agentctl.workspace.Workspace.change_signature`."""
        return self.ws.change_signature()

    def deep_signature(self) -> int:
        """Every record file's stat: see :meth:`agentctl.workspace.Workspace.records_signature`."""
        return self.ws.records_signature(docs=False)

    def mark_changed(self) -> None:
        """Something changed on disk: the next snapshot refreshes the index and re-reads all."""
        self._rescan = True
        self._stale_all = True

    # -- snapshots -------------------------------------------------------------------------

    def _reopen_if_config_changed(self) -> None:
        key = stat_key(self.ws.layout.config)
        if key != self._config_key:
            self._config_key = key
            old = self.ws
            self.ws = type(old)(old.root)
            old.close()

    def _load(self) -> None:
        ws = self.ws
        if self._rescan:
            self._reopen_if_config_changed()
            ws = self.ws
            ws.refresh(force=True)
            self._rescan = False
        changed = self._stale_all or bool(self._stale_tasks)
        if changed:
            self._short = {}  # a new or removed task can lengthen its neighbours' short IDs
        if changed or self._stale_side:
            self._load_side()
            self._generation += 1
        self._stale_all, self._stale_tasks, self._stale_side = False, set(), False

    def _feed_line(self, event: EventRecord) -> FeedLine:
        subject = event.get("subject")
        shown = dict(event)
        if isinstance(subject, str) and subject in self._short:
            shown["subject"] = self._short[subject]
        return FeedLine(
            str(event.get("ts", "")),
            str(event.get("actor", "")),
            summarize(shown),
            str(event.get("type", "")),
        )

    def _load_side(self) -> None:
        """The agents, their inboxes and the feed (a few small queries)."""
        ws = self.ws
        # Not Workspace.list_agents: its open-task count per agent reads the assignees of
        # every open task (~0.25 s at 100,000 tasks), and the agent bar does not show it.
        states = ws.index.states()
        self._agents = [
            {**agent, "state": {"status": "idle", **states.get(agent["name"], {})}, "open_tasks": 0}
            for agent in ws.index.agents()
        ]
        names = [a["name"] for a in self._agents]
        self._unread_agents, self._unread_tasks = unread(ws, self._actor(), names)
        events = ws.feed(limit=FEED_LIMIT)
        named: list[Any] = [e.get("subject") for e in events]
        named += [(a.get("state") or {}).get("current_task") for a in self._agents]
        shorten(ws, self._short, (t for t in named if isinstance(t, str) and t.startswith("t-")))
        self._feed = tuple(self._feed_line(e) for e in events)

    def snapshot(self, options: ViewOptions) -> Snapshot:
        """The board for ``options``: per column the first cards in its order (as many as
        ``options`` asks, a page by default) and the number of tasks, read from the index
        with one small query per column; the filter runs in the index too. Nothing is done
        for tasks that are not shown, so it costs about the same at 100 and 100,000 tasks."""
        self._load()
        read = read_board(
            self.ws,
            options.filter,
            options.show_done,
            lambda status: options.limit(status, self.page),
            DONE_LIMIT,
            self._short,
            self._unread_tasks,
        )
        return self._snapshot(read.board, read.counts, options, read.created_at)

    def chips(self) -> tuple[AgentChip, ...]:
        """The agent bar as of now (ages move on with the clock) from the agents last read."""
        return build_agent_bar(
            self._agents,
            self.clock(),
            int(self.ws.config.get("heartbeat", {}).get("missed_beats", 3)),
            self._unread_agents,
            self._short,
        )

    def _snapshot(
        self, board: Board, counts: dict[str, int], options: ViewOptions, created: dict[str, str]
    ) -> Snapshot:
        ws = self.ws
        chips = self.chips()
        return Snapshot(
            board=board,
            agents=chips,
            feed=self._feed,
            counts=counts,
            workflow=ws.workflow,
            name=str(ws.config.get("name", ws.root.name)),
            options=options,
            problems=len(ws.refresh()),
            created_at=created,
            generation=self._generation,
        )

    # -- details ---------------------------------------------------------------------------

    def display_id(self, task_id: str) -> str:
        """The short ID from the last snapshot (safe from any thread: a dict lookup)."""
        return self._short.get(task_id, task_id)

    def short(self, task_id: str) -> str:
        return self._short.get(task_id) or self.ws.short_id(task_id)

    def task_detail(self, task_id: str) -> dict[str, Any]:
        """A task as ``task show`` returns it, plus its thread, documents and the titles and
        statuses of the tasks it links to."""
        ws = self.ws
        task = ws.show_task(task_id)
        linked = [*task["depends_on"], *task["dependents"], *task["children"]]
        if task.get("parent"):
            linked.append(task["parent"])
        rows = {}
        for other in dict.fromkeys(linked):
            row = ws.index.task(other)
            rows[other] = {
                "id": other,
                "short_id": self.short(other) if row else other,
                "title": row["title"] if row else "(missing)",
                "status": row["status"] if row else "missing",
            }
        task["links"] = rows
        task["thread"] = ws.thread(task["id"])["messages"]
        task["docs"] = ws.list_docs(task=task["id"])
        task["can_comment"] = True
        return task

    def agent_detail(self, name: str) -> dict[str, Any]:
        ws = self.ws
        agent = ws.show_agent(name)
        chips = build_agent_bar(
            [{**agent, "open_tasks": len(agent["tasks"])}],
            self.clock(),
            int(ws.config.get("heartbeat", {}).get("missed_beats", 3)),
            unread(ws, self._actor(), [name])[0],
            self._short,
        )
        agent["chip"] = chips[0]
        for task in agent["tasks"]:
            task["short_id"] = self.short(task["id"])
        agent["runs"] = ws.runs(name, RECENT_RUNS)[::-1]  # newest first
        agent["memory"] = memory_tail(ws, name)
        agent["activity"] = [self._feed_line(e) for e in ws.feed(agent=name, limit=12)]
        return agent

    # -- mutations (the same workspace calls as the CLI) -----------------------------------

    def _actor(self) -> Actor:
        if self.session is None:
            raise AssertionError("the gateway is not open")
        return self.session.actor

    def _after_write(self, *task_ids: str) -> None:
        """Our own write is in the index already (the mutation recorded it): the next
        snapshot re-reads just the tasks it touched, the agents, inboxes and the feed. Changes
        other processes made meanwhile arrive through the watcher as usual."""
        self._stale_tasks.update(t for t in task_ids if t)
        self._stale_side = True

    def move(self, task_id: str, status: str) -> dict[str, Any]:
        try:
            return self.ws.move_task(self._actor(), task_id, status)
        finally:
            self._after_write(task_id)

    def assign(self, task_id: str, agents: Iterable[str]) -> dict[str, Any]:
        try:
            return self.ws.assign(self._actor(), task_id, list(agents))
        finally:
            self._after_write(task_id)

    def unassign(self, task_id: str, agents: Iterable[str]) -> dict[str, Any]:
        try:
            return self.ws.unassign(self._actor(), task_id, list(agents))
        finally:
            self._after_write(task_id)

    def create(
        self,
        title: str,
        priority: str = "",
        assignee: str = "",
        labels: str = "",
        description: str = "",
    ) -> dict[str, Any]:
        number: int | None = None
        if priority.strip():
            number = priority_value(priority.strip())
            if number is None:
                raise UsageError(
                    f"priority must be 0-3 or p0-p3 (0 is the most urgent), not {priority.strip()!r}"
                )
        assignees = [a.strip().lstrip("@") for a in assignee.replace(",", " ").split() if a.strip()]
        # Commas separate labels (as the form says); a label with a space is refused by name.
        label_list = [x.strip().lstrip("#") for x in labels.split(",") if x.strip()]
        task = self.ws.add_task(
            self._actor(),
            title,
            description=description.strip(),
            priority=number,
            assignees=assignees,
            labels=label_list,
        )
        self._after_write(task["id"])
        return task

    def comment(self, task_id: str, text: str) -> dict[str, Any]:
        if not text.strip():
            raise UsageError("a comment needs some text")
        try:
            return self.ws.comment(self._actor(), task_id, text.strip())
        finally:
            self._after_write()  # no task field changes: inboxes and the feed do
