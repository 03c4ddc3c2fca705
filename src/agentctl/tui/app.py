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
import re
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.events import Resize
from textual.notifications import SeverityLevel
from textual.widgets import Footer, Input

from agentctl.core.board import Board, parse_filter
from agentctl.core.rules import check_move_permission, check_transition
from agentctl.errors import AgentctlError
from agentctl.tui.gateway import Clock, Gateway, heartbeat_argv, system_clock
from agentctl.tui.view import Session, Snapshot, ViewOptions, move_card, neighbour_status
from agentctl.tui.widgets.agents import AgentBar
from agentctl.tui.widgets.board import BoardView
from agentctl.tui.widgets.feed import Feed
from agentctl.tui.widgets.status import StatusLine

HeartbeatCommand = Callable[[Path, str], Sequence[str]]
Follow = str | Callable[[Any], str | None] | None

COALESCE_STEP = 0.1  # seconds between checks that a burst of changes has settled
COALESCE_MAX = 8  # checks at most before reloading anyway (a continuous stream of writes)
TICK = 30.0  # seconds between re-renders of ages (time since last heartbeat)


class BoardApp(App[None]):
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
        self.messages: deque[tuple[str, str]] = deque(maxlen=200)  # (severity, text) of notifications
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
        yield Input(placeholder="filter: words, @agent, #label, p0-p3 · Enter keeps it · Esc clears", id="filter")
        yield Feed(self.clock, id="feed")
        yield StatusLine(id="status")
        yield Footer(compact=True, show_command_palette=False)

    @property
    def board(self) -> BoardView:
        return self.query_one("#board", BoardView)

    def on_mount(self) -> None:
        self.query_one("#filter", Input).display = False
        self.board.focus()
        self._size_feed(self.size.height)
        self._update_status()
        self.reload()
        self.watch_workspace()
        self.set_interval(TICK, self.reload)

    def on_resize(self, event: Resize) -> None:
        self._size_feed(event.size.height)

    def _size_feed(self, height: int) -> None:
        # 3 event lines (+ border) at 24 rows, growing to 10 on tall terminals.
        self.query_one("#feed", Feed).styles.height = max(4, min(11, height // 5 - 1))

    def on_unmount(self) -> None:
        self.gateway.close()

    # -- notifications --------------------------------------------------------------------

    def say(self, text: str, severity: SeverityLevel = "information", title: str = "") -> None:
        self.messages.append((severity, text))
        self.notify(text, title=title, severity=severity, markup=False)

    def refuse(self, exc: AgentctlError) -> None:
        text = exc.message + (f"\n{exc.hint}" if exc.hint else "")
        self.last_action = f"refused: {exc.message}"
        self.say(text, "error", "refused")
        self._update_status()

    # -- loading ----------------------------------------------------------------------------

    @work(exclusive=True, group="reload")
    async def reload(self) -> None:
        """Ask the gateway for the board as it is now and show it."""
        options = self.options
        epoch = self._writes_done
        if self.snapshot is None:
            quick, full = self.gateway.first_snapshots(options)
            first = await asyncio.wrap_future(quick) if quick is not None else None
            if first is not None and self.alive and not self._pending_writes:
                self.apply(first)  # the top of every column, while the rest is read
            snapshot = await asyncio.wrap_future(full)
        else:
            snapshot = await self.gateway.call(self.gateway.snapshot, options)
        if self._pending_writes or epoch != self._writes_done or options is not self.options:
            return  # a write or a new filter came in meanwhile: a newer reload follows
        if self.alive:
            self.apply(snapshot)

    @property
    def ready(self) -> bool:
        """Whether the whole board has been read and shown (not just the first paint)."""
        return self.snapshot is not None and self.snapshot.complete

    @property
    def alive(self) -> bool:
        """False once the app is shutting down (a worker's answer may arrive after that)."""
        stack = self.screen_stack if self.is_running else []
        return bool(stack) and stack[0].is_attached

    def apply(self, snapshot: Snapshot) -> None:
        changed = snapshot.generation != self._generation
        self._generation = snapshot.generation
        self.snapshot = snapshot
        follow, self._follow = self._follow, None
        self.board.set_board(snapshot.board, dict(snapshot.counts), snapshot.options.show_done, follow)
        self.query_one("#agents", AgentBar).show(snapshot.agents)
        self.query_one("#feed", Feed).show(snapshot.feed)
        self._update_status()
        self.snapshots_applied += 1
        if changed and not self._first_snapshot.is_set():
            self._first_snapshot.set()
        reload = getattr(self.screen, "reload_on_change", None)
        if changed and callable(reload):
            reload()

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
                fresh = await gateway.call(gateway.deep_signature)
                changed, deep = fresh != deep, fresh
                next_deep = time.monotonic() + self.deep_interval
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
                left.append(f" · {snapshot.shown} shown · filter: {snapshot.options.filter.describe()}", style="yellow")
            if snapshot.options.show_done:
                left.append(" · all done shown")
            if snapshot.problems:
                left.append(f" · {snapshot.problems} invalid file(s): agentctl validate", style="bold red")
        if self._pending_writes:
            left.append(" · saving…", style="yellow")
        elif self.last_action:
            left.append(f" · {self.last_action}", style="red" if self.last_action.startswith("refused") else "dim")
        right = Text(no_wrap=True)
        right.append(f"as {self.session.actor.name}", style="dim")
        right.append(f" · {self.clock().strftime('%H:%M:%S')}", style="dim")
        self.query_one("#status", StatusLine).show(left, right)

    # -- writes -------------------------------------------------------------------------------

    async def write(
        self, fn: Callable[[Gateway], Any], follow: Follow = None, done: str | None = None, counted: bool = False
    ) -> bool:
        """Run one workspace mutation on the gateway; show a refusal; re-read afterwards.
        (``counted``: the caller already counted it as pending.)"""
        if not counted:
            self._pending_writes += 1
        self._update_status()
        ok = False
        result: Any = None
        try:
            result = await self.gateway.call(fn, self.gateway)
            ok = True
        except AgentctlError as exc:
            if self.alive:
                self.refuse(exc)
        finally:
            self._pending_writes -= 1
            self._writes_done += 1
        if not self.alive:
            return ok
        if ok and done:
            self.last_action = done
        target = follow(result) if callable(follow) else follow
        if target is not None and (ok or not callable(follow)):
            self._follow = target
        self._update_status()
        self.reload()
        return ok

    def run_write(self, fn: Callable[[Gateway], Any], follow: Follow = None, done: str | None = None) -> None:
        """Start a write in a worker; it counts as pending at once, so no reload that was
        already under way can paint over what the person just did."""
        self._pending_writes += 1
        self._write_worker(fn, follow, done)

    @work(group="write")
    async def _write_worker(self, fn: Callable[[Gateway], Any], follow: Follow, done: str | None) -> None:
        await self.write(fn, follow, done, counted=True)

    def _short(self, task_id: str) -> str:
        return self.gateway.display_id(task_id)

    def _allowed(self, task_id: str, current: str, target: str, assignees: Sequence[str]) -> bool:
        """Whether the API's own rules allow a move (decides only whether to draw it early)."""
        session = self.session
        try:
            check_transition(dict(session.workflow), current, target)
            check_move_permission(
                session.actor, dict(session.workflow), {"id": task_id, "status": current, "assignees": list(assignees)}, target
            )
        except AgentctlError:
            return False
        return True

    def move_to(self, task_id: str, current: str, target: str, assignees: Sequence[str]) -> None:
        short = self._short(task_id)

        def write() -> None:
            self.run_write(lambda g: g.move(task_id, target), follow=task_id, done=f"moved {short} to {target}")

        shown = self.board.board
        if shown is not None and self.snapshot is not None and self._allowed(task_id, current, target, assignees):
            moved = move_card(shown, task_id, target, self.snapshot.workflow, self.snapshot.created_at)
            if moved is not None:
                self._show_optimistic(moved, task_id)
                self._pending_writes += 1  # from now: no reload may paint the card back
                # Start the write once the moved card is on screen, so the frame is not
                # slowed by the write's work on the other thread.
                self.call_after_refresh(self._start_pending, write)
                return
        write()

    def _start_pending(self, write: Callable[[], None]) -> None:
        write()
        self._pending_writes -= 1

    def _show_optimistic(self, board: Board, task_id: str) -> None:
        counts = dict(self.board.counts)
        for column in board.columns:
            before = next((c.total for c in (self.board.board.columns if self.board.board else ()) if c.status == column.status), column.total)
            counts[column.status] = counts.get(column.status, 0) + column.total - before
        self.board.set_board(board, counts, self.options.show_done, follow=task_id)

    def move_step(self, task_id: str, current: str, step: int, assignees: Sequence[str]) -> None:
        target = neighbour_status(self.session.workflow, current, step)
        if target is None:
            edge = "last" if step > 0 else "first"
            self.say(f"{current} is the {edge} status: use m to pick another", "warning")
            return
        self.move_to(task_id, current, target, assignees)

    def pick_status(self, task_id: str, current: str, assignees: Sequence[str]) -> None:
        flow = self.session.workflow
        allowed = set(flow["transitions"].get(current, []))
        choices = []
        for status in flow["statuses"]:
            if status == current:
                choices.append((status, f"{status} (current)", False))
            elif status in allowed:
                choices.append((status, status, True))
            else:
                choices.append((status, f"{status}  (not allowed from {current})", True))

        def chosen(status: str | None) -> None:
            if status:
                self.move_to(task_id, current, status, assignees)

        from agentctl.tui.screens.dialogs import ChoiceDialog

        self.push_screen(ChoiceDialog(f"Move {self._short(task_id)} to…", choices), chosen)

    def pick_assignee(self, task_id: str, assignees: Sequence[str]) -> None:
        agents = [chip.name for chip in self.snapshot.agents] if self.snapshot else []
        choices = [(name, name, True) for name in agents if name not in assignees]
        if not choices:
            self.say("no agent left to assign" if agents else "there are no agents: agentctl agent add", "warning")
            return

        def chosen(name: str | None) -> None:
            if name:
                short = self._short(task_id)
                self.run_write(lambda g: g.assign(task_id, [name]), follow=task_id, done=f"assigned {short} to {name}")

        from agentctl.tui.screens.dialogs import ChoiceDialog

        self.push_screen(ChoiceDialog(f"Assign {self._short(task_id)} to…", choices), chosen)

    def pick_unassign(self, task_id: str, assignees: Sequence[str]) -> None:
        if not assignees:
            self.say(f"{self._short(task_id)} is not assigned to anyone", "warning")
            return

        def chosen(name: str | None) -> None:
            if name:
                short = self._short(task_id)
                self.run_write(lambda g: g.unassign(task_id, [name]), follow=task_id, done=f"unassigned {name} from {short}")

        from agentctl.tui.screens.dialogs import ChoiceDialog

        self.push_screen(ChoiceDialog(f"Unassign from {self._short(task_id)}…", [(a, a, True) for a in assignees]), chosen)

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
        self.options = replace(self.options, filter=parse_filter(query))
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

    def action_toggle_done(self) -> None:
        self.options = replace(self.options, show_done=not self.options.show_done)
        self.reload()

    def action_refresh(self) -> None:
        self.gateway_mark_and_reload()

    @work(group="refresh")
    async def gateway_mark_and_reload(self) -> None:
        await self.gateway.call(self.gateway.mark_changed)
        self.reload()

    def action_help(self) -> None:
        from agentctl.tui.screens.dialogs import HelpDialog

        self.push_screen(HelpDialog())

    # -- agents -------------------------------------------------------------------------------

    def on_agent_bar_open(self, message: AgentBar.Open) -> None:
        self.open_agent_screen(message.name)

    def on_agent_bar_heartbeat(self, message: AgentBar.Heartbeat) -> None:
        self.trigger_heartbeat(message.name)

    def trigger_heartbeat(self, name: str) -> None:
        if name in self._beating:
            self.say(f"a heartbeat for {name} is already running", "warning")
            return
        self._beating.add(name)
        self.run_heartbeat(name)

    @work(group="heartbeat")
    async def run_heartbeat(self, name: str) -> None:
        """One tick as a separate process (``agentctl heartbeat NAME``), never a shell."""
        argv = list(self.heartbeat_command(self.gateway.root, name))
        self.say(f"heartbeat for {name} started")
        try:
            process = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,  # quitting the board lets a running tick finish
            )
            out, err = await process.communicate()
        except OSError as exc:
            self.say(f"could not run the heartbeat for {name}: {exc}", "error")
            return
        finally:
            self._beating.discard(name)
        code = process.returncode
        stdout = [line for line in out.decode("utf-8", "replace").splitlines() if line.strip()]
        stderr = [line for line in err.decode("utf-8", "replace").splitlines() if line.strip()]
        if code == 0:
            last = re.sub(r"^\d{4}-\d\d-\d\dT\S+\s+", "", stdout[-1]) if stdout else "done"
            self.say(f"heartbeat {name}: {last}")
        else:
            reason = (stderr or stdout or ["no output"])[0].removeprefix("agentctl: ")
            self.say(f"heartbeat {name} failed (exit {code}): {reason}", "error")
        if self.alive:
            self.gateway_mark_and_reload()


def make_app(
    workspace: Any,
    *,
    actor: str | None = None,
    clock: Clock | None = None,
    poll_interval: float = 0.25,
    deep_interval: float = 10.0,
    heartbeat_command: HeartbeatCommand = heartbeat_argv,
    query: str = "",
    show_done: bool = False,
) -> BoardApp:
    """The board for ``workspace`` acting as ``actor`` (an agent name; default: the human).

    The app takes the workspace over: from now on it is used only on the app's gateway
    thread, and closed when the app exits. ``clock`` fixes "now" (tests, screenshots);
    ``query`` is an initial ``/`` filter and ``show_done`` expands the done column.
    """
    gateway = Gateway(workspace, actor, clock or system_clock)
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
