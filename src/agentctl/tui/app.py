"""The live board: ``make_app(workspace)`` builds the textual app.

State flows one way. Workers ask the :class:`~agentctl.tui.gateway.Gateway` (its own thread)
for a :class:`~agentctl.tui.view.Snapshot`; the app hands its parts down to the widgets,
which only render. Widgets send messages up (a click, "open this agent"); actions call the
workspace API through the gateway, exactly as the CLI does, and a refusal is shown as a
notification with the API's own message.

A card move is drawn at once (an optimistic move, only when the same pure rules the API
applies allow it) and then written; the board re-reads the workspace afterwards, so a
refused or failed write puts the card back.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.events import Resize
from textual.widgets import Footer, Input

from agentctl.core import clock
from agentctl.core.board import parse_filter
from agentctl.heartbeat.scheduler import heartbeat_argv
from agentctl.tui.actions import BoardActions, HeartbeatCommand
from agentctl.tui.gateway import PAGE, Clock, Gateway, system_clock
from agentctl.tui.view import Session, Snapshot, ViewOptions
from agentctl.tui.widgets.agents import AgentBar
from agentctl.tui.widgets.board import BoardView
from agentctl.tui.widgets.feed import Feed
from agentctl.tui.widgets.status import StatusLine

if TYPE_CHECKING:
    from agentctl.workspace import Workspace

COALESCE_STEP = 0.1  # seconds between checks that a burst of changes has settled
COALESCE_MAX = 8  # checks at most before reloading anyway (a continuous stream of writes)
DEEP_SHARE = 20  # the deep check waits at least this many times its own cost
TICK = 30.0  # seconds between re-draws of ages (time since each agent's last heartbeat)


class BoardApp(BoardActions):
    CSS_PATH = "board.tcss"
    TITLE = "agentctl board"
    ENABLE_COMMAND_PALETTE = False
    NOTIFICATION_TIMEOUT = 6

    BINDINGS = [
        Binding("n", "new_task", "new"),
        Binding("slash", "filter", "filter", key_display="/"),
        Binding("d", "toggle_done", "done"),
        Binding("question_mark", "help", "help", key_display="?"),
        Binding("q", "quit", "quit"),
        Binding("escape", "clear_filter", "clear filter", show=False),
        Binding("r", "refresh", "refresh", show=False),
    ]

    def __init__(
        self,
        gateway: Gateway,
        session: Session,
        *,
        clock: Clock = system_clock,
        poll_interval: float = 0.25,
        deep_interval: float = 10.0,
        heartbeat_command: HeartbeatCommand = heartbeat_argv,
        query: str = "",
        show_done: bool = False,
    ) -> None:
        super().__init__()
        self.gateway = gateway
        self.session = session
        self.clock = clock
        self.poll_interval = poll_interval
        self.deep_interval = deep_interval
        self.heartbeat_command = heartbeat_command
        self.snapshot: Snapshot | None = None
        self.options = ViewOptions(parse_filter(query), show_done)
        self.filter_query = query
        self.snapshots_applied = 0  # for tests and benchmarks: how many reloads were shown
        self.messages: deque[tuple[str, str]] = deque(
            maxlen=200
        )  # (severity, text) of notifications
        self.last_action = ""
        self._pending_writes = 0
        self._writes_done = 0
        self._follow: str | None = None
        self._generation = -1
        self._beating: set[str] = set()
        self._filter_timer: Any = None
        self._first_snapshot = asyncio.Event()

    # -- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        session = self.session
        yield AgentBar(id="agents")
        yield BoardView(session.workflow["statuses"], session.workflow["done"], id="board")
        yield Input(
            placeholder="filter: words, @agent, #label, p0-p3 · Enter keeps it · Esc clears",
            id="filter",
        )
        yield Feed(self.clock, id="feed")
        yield StatusLine(id="status")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#filter", Input).display = False
        self.board.focus()
        self._size_feed(self.size.height)
        self._update_status()
        self.reload()
        self.watch_workspace()
        self.set_interval(TICK, self.tick)

    def on_resize(self, event: Resize) -> None:
        self._size_feed(event.size.height)

    def _size_feed(self, height: int) -> None:
        # 3 event lines (+ border) at 24 rows, growing to 10 on tall terminals.
        self.query_one("#feed", Feed).styles.height = max(4, min(11, height // 5 - 1))

    def on_unmount(self) -> None:
        self.gateway.close()

    # -- loading ----------------------------------------------------------------------------

    @work(exclusive=True, group="reload")
    async def reload(self) -> None:
        """Ask the gateway for the board as it is now and show it."""
        options = self.options
        epoch = self._writes_done
        if self.snapshot is None:
            snapshot = await asyncio.wrap_future(self.gateway.first_snapshot(options))
        else:
            snapshot = await self.gateway.call(self.gateway.snapshot, options)
        if self._pending_writes or epoch != self._writes_done or options is not self.options:
            return  # a write or a new filter came in meanwhile: a newer reload follows
        if self.alive:
            self.apply(snapshot)

    @property
    def ready(self) -> bool:
        """Whether the board has been read and shown."""
        return self.snapshot is not None

    def apply(self, snapshot: Snapshot) -> None:
        changed = snapshot.generation != self._generation
        self._generation = snapshot.generation
        self.snapshot = snapshot
        follow, self._follow = self._follow, None
        self.board.set_board(
            snapshot.board, dict(snapshot.counts), snapshot.options.show_done, follow
        )
        self.query_one("#agents", AgentBar).show(snapshot.agents)
        self.query_one("#feed", Feed).show(snapshot.feed)
        self._update_status()
        self.snapshots_applied += 1
        if changed and not self._first_snapshot.is_set():
            self._first_snapshot.set()
        reload = getattr(self.screen, "reload_on_change", None)
        if changed and callable(reload):
            reload()

    @work(exclusive=True, group="tick")
    async def tick(self) -> None:
        """Ages move on without any change on disk: re-draw the agent bar and the clock."""
        chips = await self.gateway.call(self.gateway.chips)
        if self.alive:
            self.query_one("#agents", AgentBar).show(chips)
            self._update_status()

    @work(group="watch")
    async def watch_workspace(self) -> None:
        """Poll the cheap signature; on a change wait for the burst to settle, then reload."""
        gateway = self.gateway
        await self._first_snapshot.wait()  # the first paint comes first
        last = await gateway.call(gateway.signature)
        deep = await gateway.call(gateway.deep_signature)
        next_deep = time.monotonic() + self.deep_interval
        while True:
            await asyncio.sleep(self.poll_interval)
            current = await gateway.call(gateway.signature)
            changed = current != last
            if not changed and time.monotonic() >= next_deep:
                started = time.monotonic()
                fresh = await gateway.call(gateway.deep_signature)
                changed, deep = fresh != deep, fresh
                # At most ~5% of the gateway's time: a stat of 100,000 files can take a
                # second, and writes queue behind it.
                cost = time.monotonic() - started
                next_deep = time.monotonic() + max(self.deep_interval, DEEP_SHARE * cost)
            if not changed:
                continue
            for _ in range(COALESCE_MAX):
                await asyncio.sleep(COALESCE_STEP)
                again = await gateway.call(gateway.signature)
                if again == current:
                    break
                current = again
            last = current
            await gateway.call(gateway.mark_changed)
            self.reload()

    def _update_status(self) -> None:
        snapshot = self.snapshot
        left = Text(no_wrap=True)
        if snapshot is None:
            left.append("loading…", style="dim")
        else:
            left.append(snapshot.name, style="bold")
            left.append(f" · {snapshot.total} tasks")
            if snapshot.options.filter.active:
                left.append(
                    f" · {snapshot.shown} shown · filter: {snapshot.options.filter.describe()}",
                    style="yellow",
                )
            if snapshot.options.show_done:
                left.append(" · all done shown")
            if snapshot.problems:
                left.append(
                    f" · {snapshot.problems} invalid file(s): agentctl validate", style="bold red"
                )
        if self._pending_writes:
            left.append(" · saving…", style="yellow")
        elif self.last_action:
            left.append(
                f" · {self.last_action}",
                style="red" if self.last_action.startswith("refused") else "dim",
            )
        right = Text(no_wrap=True)
        right.append(f"as {self.session.actor.name}", style="dim")
        right.append(f" · {clock.show(self.clock(), clock.TIME)}", style="dim")
        self.query_one("#status", StatusLine).show(left, right)

    # -- actions ------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("filter", "toggle_done", "clear_filter") and len(self.screen_stack) > 1:
            return False
        return True

    def _selected(self) -> tuple[str, str, list[str]] | None:
        card = self.board.selected_card
        if card is None:
            self.say("no task selected", "warning")
            return None
        return card.id, self.board.current_status, list(card.assignees)

    def action_open_task(self) -> None:
        selected = self._selected()
        if selected:
            self.open_task_screen(selected[0])

    def open_task_screen(self, task_id: str) -> None:
        from agentctl.tui.screens.task import TaskScreen

        self.push_screen(TaskScreen(task_id))

    def open_agent_screen(self, name: str) -> None:
        from agentctl.tui.screens.agent import AgentScreen

        self.push_screen(AgentScreen(name))

    def action_move_step(self, step: int) -> None:
        selected = self._selected()
        if selected:
            self.move_step(selected[0], selected[1], step, selected[2])

    def action_pick_status(self) -> None:
        selected = self._selected()
        if selected:
            self.pick_status(*selected)

    def action_assign(self) -> None:
        selected = self._selected()
        if selected:
            self.pick_assignee(selected[0], selected[2])

    def action_unassign(self) -> None:
        selected = self._selected()
        if selected:
            self.pick_unassign(selected[0], selected[2])

    def action_new_task(self) -> None:
        def created(values: dict[str, str] | None) -> None:
            if values:
                self.run_write(
                    lambda g: g.create(**values),
                    follow=lambda task: task["id"] if task else None,
                    done=f"created {values['title'].strip()[:40]}",
                )

        from agentctl.tui.screens.dialogs import NewTaskDialog

        self.push_screen(NewTaskDialog(), created)

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.value = self.filter_query
        box.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        if not box.display and not self.filter_query:
            return
        box.value = ""
        box.display = False
        self.set_filter("")
        self.board.focus()

    def set_filter(self, query: str) -> None:
        if self._filter_timer is not None:
            self._filter_timer.stop()
            self._filter_timer = None
        if query == self.filter_query:
            return
        self.filter_query = query
        # a new filter starts every column at its first page again
        self.options = replace(self.options, filter=parse_filter(query), limits=())
        self.reload()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id != "filter":
            return
        if self._filter_timer is not None:
            self._filter_timer.stop()
        value = event.value
        self._filter_timer = self.set_timer(0.15, lambda: self.set_filter(value))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "filter":
            return
        event.stop()
        self.set_filter(event.value)
        event.input.display = False
        self.board.focus()

    def on_board_view_more(self, message: BoardView.More) -> None:
        """Scrolling got near the last card read of a column that has more: read the next
        page of it (the board keeps the selection while it arrives)."""
        wanted = message.cards + self.gateway.page
        if wanted > self.options.limit(message.status, self.gateway.page):
            self.options = self.options.with_limit(message.status, wanted)
            self.reload()

    def action_toggle_done(self) -> None:
        self.options = replace(self.options, show_done=not self.options.show_done)
        self.reload()

    def action_refresh(self) -> None:
        self.gateway_mark_and_reload()

    def action_help(self) -> None:
        from agentctl.tui.screens.dialogs import HelpDialog

        self.push_screen(HelpDialog())

    # -- agents -------------------------------------------------------------------------------

    def on_agent_bar_open(self, message: AgentBar.Open) -> None:
        self.open_agent_screen(message.name)

    def on_agent_bar_heartbeat(self, message: AgentBar.Heartbeat) -> None:
        self.trigger_heartbeat(message.name)


def make_app(
    workspace: Workspace,
    *,
    actor: str | None = None,
    clock: Clock | None = None,
    poll_interval: float = 0.25,
    deep_interval: float = 10.0,
    heartbeat_command: HeartbeatCommand = heartbeat_argv,
    query: str = "",
    show_done: bool = False,
    page: int = PAGE,
) -> BoardApp:
    """The board for ``workspace`` acting as ``actor`` (an agent name; default: the human).

    The app takes the workspace over: from now on it is used only on the app's gateway
    thread, and closed when the app exits. ``clock`` fixes "now" (tests, screenshots);
    ``query`` is an initial ``/`` filter and ``show_done`` expands the done column;
    ``page`` is how many cards of a column are read at a time.
    """
    gateway = Gateway(workspace, actor, clock or system_clock, page)
    try:
        session = gateway.run_sync(gateway.open)
    except BaseException:
        gateway.close()
        raise
    app = BoardApp(
        gateway,
        session,
        clock=clock or system_clock,
        poll_interval=poll_interval,
        deep_interval=deep_interval,
        heartbeat_command=heartbeat_command,
        query=query,
        show_done=show_done,
    )
    gateway.prefetch(app.options)  # read the board while textual starts up
    return app
