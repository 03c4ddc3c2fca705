"""What the board does: writes through the workspace API (moves, assignments, comments, new
tasks), the pickers that lead to them, and heartbeats. :class:`BoardApp` adds the layout,
loading and watching; this base holds the actions and the state they share.

Every write runs on the gateway's thread via :meth:`BoardActions.write`: it counts as
pending while in flight (no reload may paint over it), shows a refusal with the API's
message, and asks for a reload when done.
"""

from __future__ import annotations

import asyncio
import re
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from textual import work
from textual.app import App
from textual.notifications import SeverityLevel

from agentctl.core.board import Board
from agentctl.core.rules import check_move_permission, check_transition
from agentctl.errors import AgentctlError
from agentctl.tui.gateway import Gateway
from agentctl.tui.view import Session, Snapshot, ViewOptions, move_card, neighbour_status
from agentctl.tui.widgets.board import BoardView

HeartbeatCommand = Callable[[Path, str], Sequence[str]]
Follow = str | Callable[[Any], str | None] | None


class BoardActions(App[None]):
    """The actions of the board; the state below is set up by :class:`BoardApp`."""

    gateway: Gateway
    session: Session
    snapshot: Snapshot | None
    options: ViewOptions
    heartbeat_command: HeartbeatCommand
    messages: deque[tuple[str, str]]
    last_action: str
    _pending_writes: int
    _writes_done: int
    _follow: str | None
    _beating: set[str]

    # provided by BoardApp
    def reload(self) -> object:
        raise NotImplementedError

    def _update_status(self) -> None:
        raise NotImplementedError

    @property
    def board(self) -> BoardView:
        return self.query_one("#board", BoardView)

    @property
    def alive(self) -> bool:
        """False once the app is shutting down (a worker's answer may arrive after that)."""
        stack = self.screen_stack if self.is_running else []
        return bool(stack) and stack[0].is_attached

    # -- notifications --------------------------------------------------------------------

    def say(self, text: str, severity: SeverityLevel = "information", title: str = "") -> None:
        self.messages.append((severity, text))
        self.notify(text, title=title, severity=severity, markup=False)

    def refuse(self, exc: AgentctlError) -> None:
        text = exc.message + (f"\n{exc.hint}" if exc.hint else "")
        self.last_action = f"refused: {exc.message}"
        self.say(text, "error", "refused")
        self._update_status()

    @work(group="refresh")
    async def gateway_mark_and_reload(self) -> None:
        await self.gateway.call(self.gateway.mark_changed)
        self.reload()

    # -- writes -------------------------------------------------------------------------------

    async def write(
        self,
        fn: Callable[[Gateway], Any],
        follow: Follow = None,
        done: str | None = None,
        counted: bool = False,
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

    def run_write(
        self, fn: Callable[[Gateway], Any], follow: Follow = None, done: str | None = None
    ) -> None:
        """Start a write in a worker; it counts as pending at once, so no reload that was
        already under way can paint over what the person just did."""
        self._pending_writes += 1
        self._write_worker(fn, follow, done)

    @work(group="write")
    async def _write_worker(
        self, fn: Callable[[Gateway], Any], follow: Follow, done: str | None
    ) -> None:
        await self.write(fn, follow, done, counted=True)

    def _short(self, task_id: str) -> str:
        return self.gateway.display_id(task_id)

    def _allowed(self, task_id: str, current: str, target: str, assignees: Sequence[str]) -> bool:
        """Whether the API's own rules allow a move (decides only whether to draw it early)."""
        session = self.session
        try:
            check_transition(dict(session.workflow), current, target)
            check_move_permission(
                session.actor,
                dict(session.workflow),
                {"id": task_id, "status": current, "assignees": list(assignees)},
                target,
            )
        except AgentctlError:
            return False
        return True

    def move_to(self, task_id: str, current: str, target: str, assignees: Sequence[str]) -> None:
        short = self._short(task_id)

        def write() -> None:
            self.run_write(
                lambda g: g.move(task_id, target), follow=task_id, done=f"moved {short} to {target}"
            )

        shown = self.board.board
        if (
            shown is not None
            and self.snapshot is not None
            and self._allowed(task_id, current, target, assignees)
        ):
            moved = move_card(
                shown, task_id, target, self.snapshot.workflow, self.snapshot.created_at
            )
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
            before = next(
                (
                    c.total
                    for c in (self.board.board.columns if self.board.board else ())
                    if c.status == column.status
                ),
                column.total,
            )
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
            self.say(
                "no agent left to assign" if agents else "there are no agents: agentctl agent add",
                "warning",
            )
            return

        def chosen(name: str | None) -> None:
            if name:
                short = self._short(task_id)
                self.run_write(
                    lambda g: g.assign(task_id, [name]),
                    follow=task_id,
                    done=f"assigned {short} to {name}",
                )

        from agentctl.tui.screens.dialogs import ChoiceDialog

        self.push_screen(ChoiceDialog(f"Assign {self._short(task_id)} to…", choices), chosen)

    def pick_unassign(self, task_id: str, assignees: Sequence[str]) -> None:
        if not assignees:
            self.say(f"{self._short(task_id)} is not assigned to anyone", "warning")
            return

        def chosen(name: str | None) -> None:
            if name:
                short = self._short(task_id)
                self.run_write(
                    lambda g: g.unassign(task_id, [name]),
                    follow=task_id,
                    done=f"unassigned {name} from {short}",
                )

        from agentctl.tui.screens.dialogs import ChoiceDialog

        self.push_screen(
            ChoiceDialog(
                f"Unassign from {self._short(task_id)}…", [(a, a, True) for a in assignees]
            ),
            chosen,
        )

    # -- heartbeats ---------------------------------------------------------------------------

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
