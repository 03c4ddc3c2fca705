"""Pilot tests of the live board: navigation, the task and agent screens, every action going
through the workspace API (files on disk change), refusals shown with their reason, the
filter, live updates from another process, and a big workspace staying one widget per column.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import Runner, add_task, make_team
from test_tui_world import IDS, build_world, clock, svg_text
from textual.app import App
from textual.widgets import Input

from agentctl.store.frontmatter import load_fast
from agentctl.tui.app import BoardApp, make_app
from agentctl.tui.gateway import PAGE
from agentctl.tui.screens.agent import AgentScreen
from agentctl.tui.screens.dialogs import ChoiceDialog, NewTaskDialog
from agentctl.tui.screens.task import TaskScreen
from agentctl.tui.widgets.column import CardColumn
from agentctl.workspace import Workspace

SIZE = (120, 40)
Script = Callable[[Any], Awaitable[None]]


def _screen(app: App[Any]) -> Any:
    """The active screen with its own attributes (a task screen's ``detail``, a picker's
    ``choices``): ``App.screen`` is typed as the base class."""
    return app.screen


def _field(app: App[Any], key: str) -> str:
    """The value of the new-task form's ``key`` field."""
    return app.screen.query_one(f"#new-{key}", Input).value


def open_app(root: Path, **options: Any) -> BoardApp:
    return make_app(Workspace.open(str(root)), **options)


def run_app(app: BoardApp, script: Script, size: tuple[int, int] = SIZE) -> None:
    async def main() -> None:
        async with app.run_test(size=size, notifications=True) as pilot:
            await until(pilot, lambda: app.ready, "the first snapshot")
            await script(pilot)

    asyncio.run(main())


async def until(
    pilot: Any, predicate: Callable[[], object], what: str, timeout: float = 10.0
) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.02)
    await pilot.pause()  # let the screen lay out what just arrived


def screen_text(app: BoardApp) -> str:
    return svg_text(app.export_screenshot())


def toasts(app: BoardApp) -> list[str]:
    from textual.widgets._toast import Toast

    return [str(toast.render()) for toast in app.screen.query(Toast)]


def task_file(root: Path, task_id: str) -> dict[str, Any]:
    fields, _ = load_fast(
        (root / ".agentctl" / "tasks" / f"{task_id}.md").read_text(encoding="utf-8"), "task"
    )
    return dict(fields)


def card_ids(app: BoardApp, status: str) -> list[str]:
    assert app.board.board is not None
    column = next(c for c in app.board.board.columns if c.status == status)
    return [card.id for card in column.cards]


def select(app: BoardApp, task_id: str) -> None:
    assert app.board.board is not None
    for number, column in enumerate(app.board.board.columns):
        ids = [card.id for card in column.cards]
        if task_id in ids:
            app.board.select(number, ids.index(task_id))
            return
    raise AssertionError(f"{task_id} is not on the board")


def events(root: Path) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    for path in sorted((root / ".agentctl" / "events").glob("*.jsonl")):
        lines.extend(
            json.loads(line)
            for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()
        )
    return lines


@pytest.fixture
def world(tmp_path: Path) -> Path:
    root = tmp_path / "world"
    build_world(root)
    return root


# -- navigation and the task screen -------------------------------------------------------------


def test_keyboard_navigation_and_the_task_screen(world: Path) -> None:
    app = open_app(world, clock=clock)

    async def script(pilot: Any) -> None:
        board = app.board
        assert board.has_focus
        assert board.current_status == "inbox"
        assert (
            board.selected_card is not None and board.selected_card.id == IDS["locks"]
        )  # p0 first
        await pilot.press("down")
        assert board.selected_card.id == IDS["release"]
        await pilot.press("right", "right", "right")
        assert board.current_status == "review"
        assert board.selected_card.id == IDS["cli"]
        await pilot.press("left", "left")
        assert board.current_status == "assigned"
        await pilot.press("end")
        assert board.selected_card.id == IDS["board"]
        await pilot.press("home")
        assert board.selected_card.id == IDS["tests"]
        # the inbox remembered its own selection
        await pilot.press("left")
        assert board.selected_card.id == IDS["release"]
        await pilot.press("right", "right", "enter")
        await until(
            pilot,
            lambda: isinstance(app.screen, TaskScreen) and _screen(app).detail is not None,
            "the task",
        )
        text = screen_text(app)
        assert "t-3c4d  Build the SQLite index" in text
        assert "in_progress" in text and "@nova" in text and "#backend #perf" in text
        assert "Acceptance criteria (0/1)" in text and "[ ] Incremental refresh by stat" in text
        assert "depends on:" in text and "t-2b3c [done] Implement the file store" in text
        assert "needed by:" in text and "t-5e6f [assigned] Live TUI board" in text
        assert "claim" in text and "nova (epoch 1)" in text
        if _screen(app).detail["can_comment"]:
            assert "Index design notes" in text  # the linked document
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, TaskScreen), "the board")
        assert app.board.selected_card is not None and app.board.selected_card.id == IDS["index"]

    run_app(app, script)


def test_task_screen_shows_the_thread(world: Path) -> None:
    app = open_app(world, clock=clock)

    async def script(pilot: Any) -> None:
        app.open_task_screen(IDS["cli"])
        await until(
            pilot,
            lambda: isinstance(app.screen, TaskScreen) and _screen(app).detail is not None,
            "the task",
        )
        if not _screen(app).detail["can_comment"]:
            pytest.skip("the collaboration API is not in this build")
        text = screen_text(app)
        assert "Thread (2)" in text
        assert "pixel (status_update) · 09:20" in text
        assert "sentry (question) · 09:40" in text
        assert "@pixel does `task list --json` include the claim of a task?" in text

    run_app(app, script, size=(120, 60))


def test_clicking_a_card_selects_it_and_a_second_click_opens_it(world: Path) -> None:
    app = open_app(world, clock=clock)

    async def script(pilot: Any) -> None:
        await pilot.click("#col-review", offset=(3, 1))
        assert app.board.current_status == "review"
        assert app.board.selected_card is not None and app.board.selected_card.id == IDS["cli"]
        await pilot.click("#col-review", offset=(3, 2))
        await until(pilot, lambda: isinstance(app.screen, TaskScreen), "the task screen")
        assert _screen(app).task_id == IDS["cli"]

    run_app(app, script)


# -- writes: every one goes through the API and changes the files ---------------------------------


@pytest.fixture
def team_root(ws_root: Path, cli: Runner) -> Path:
    make_team(cli)
    return ws_root


def test_move_next_and_previous_writes_the_task_file(team_root: Path, cli: Runner) -> None:
    task = add_task(cli, "Move me", "--assign", "dev-1")
    assert task_file(team_root, task)["status"] == "assigned"
    app = open_app(team_root)

    async def script(pilot: Any) -> None:
        select(app, task)
        await pilot.press("right_square_bracket")
        # drawn at once (before the write lands), then confirmed by the file
        assert task in card_ids(app, "in_progress")
        assert app.board.selected_card is not None and app.board.selected_card.id == task
        await until(
            pilot, lambda: task_file(team_root, task)["status"] == "in_progress", "the move on disk"
        )
        await until(pilot, lambda: app._pending_writes == 0 and app.snapshot is not None and task in
                    [c.id for col in app.snapshot.board.columns if col.status == "in_progress" for c in col.cards],
                    "the confirmed board")  # fmt: skip
        await pilot.press("shift+right")  # the same as ]
        await until(
            pilot, lambda: task_file(team_root, task)["status"] == "review", "the second move"
        )
        await pilot.press("left_square_bracket")
        await until(
            pilot, lambda: task_file(team_root, task)["status"] == "in_progress", "the move back"
        )
        await until(
            pilot,
            lambda: "moved" in app.last_action and app._pending_writes == 0,
            "the status line",
        )
        assert app.board.current_status == "in_progress" and app.board.selected_card.id == task

    run_app(app, script)
    moves = [
        (e["actor"], e["data"]["from"], e["data"]["to"])
        for e in events(team_root)
        if e["type"] == "task.moved"
    ]
    assert moves == [("Test User", "assigned", "in_progress"), ("Test User", "in_progress", "review"),
                     ("Test User", "review", "in_progress")]  # fmt: skip


def test_pick_a_status_with_m(team_root: Path, cli: Runner) -> None:
    task = add_task(cli, "Pick my status")
    app = open_app(team_root)

    async def script(pilot: Any) -> None:
        select(app, task)
        await pilot.press("m")
        await until(pilot, lambda: isinstance(app.screen, ChoiceDialog), "the status picker")
        dialog = app.screen
        assert isinstance(dialog, ChoiceDialog)
        labels = [label for _, label, _ in dialog.choices]
        assert "inbox (current)" in labels and "review  (not allowed from inbox)" in labels
        await pilot.press("down")  # assigned -> in_progress
        await pilot.press("enter")
        await until(
            pilot, lambda: task_file(team_root, task)["status"] == "in_progress", "the move on disk"
        )

    run_app(app, script)


def test_a_move_the_state_machine_refuses_shows_the_reason_and_changes_nothing(
    team_root: Path, cli: Runner
) -> None:
    task = add_task(cli, "Already finished")
    for status in ("in_progress", "done"):
        assert cli("task", "move", task, status).code == 0
    before = (team_root / ".agentctl" / "tasks" / f"{task}.md").read_bytes()
    app = open_app(team_root)

    async def script(pilot: Any) -> None:
        select(app, task)
        await pilot.press("right_square_bracket")  # done -> blocked: not in the workflow
        assert task in card_ids(app, "done")  # not drawn as moved: the rules refuse it
        await until(pilot, lambda: any(s == "error" for s, _ in app.messages), "the refusal")
        reason = "cannot move from done to blocked; allowed from done: inbox, assigned, in_progress"
        assert ("error", reason) in app.messages
        await until(
            pilot,
            lambda: any("cannot move from done to blocked" in t for t in toasts(app)),
            "the toast",
        )
        assert "refused: cannot move from done to blocked" in screen_text(
            app
        )  # the status line too
        assert app.board.selected_card is not None and app.board.selected_card.id == task

    run_app(app, script)
    assert (team_root / ".agentctl" / "tasks" / f"{task}.md").read_bytes() == before


def test_a_move_permissions_refuse_shows_the_reason(team_root: Path, cli: Runner) -> None:
    task = add_task(cli, "Not the intern's", "--assign", "dev-1")
    app = open_app(team_root, actor="intern-1")

    async def script(pilot: Any) -> None:
        assert app.session is not None and app.session.actor.name == "intern-1"
        select(app, task)
        await pilot.press("right_square_bracket")
        assert task in card_ids(app, "assigned")
        await until(pilot, lambda: any(s == "error" for s, _ in app.messages), "the refusal")
        text = next(t for s, t in app.messages if s == "error")
        assert text.startswith(
            f"intern-1 (intern) may only move tasks assigned to it; {task} is assigned to dev-1"
        )
        await until(
            pilot,
            lambda: any("may only move tasks assigned to it" in t for t in toasts(app)),
            "the toast",
        )

    run_app(app, script)
    assert task_file(team_root, task)["status"] == "assigned"


def test_moving_past_the_last_column_says_so(team_root: Path, cli: Runner) -> None:
    task = add_task(cli, "First column")
    app = open_app(team_root)

    async def script(pilot: Any) -> None:
        select(app, task)
        await pilot.press("left_square_bracket")
        assert ("warning", "inbox is the first status: use m to pick another") in app.messages

    run_app(app, script)


def test_assign_and_unassign(team_root: Path, cli: Runner) -> None:
    task = add_task(cli, "Needs hands")
    app = open_app(team_root)

    async def choose(pilot: Any, value: str) -> None:
        await until(pilot, lambda: isinstance(app.screen, ChoiceDialog), "the picker")
        dialog = app.screen
        assert isinstance(dialog, ChoiceDialog)
        values = [v for v, _, _ in dialog.choices]
        for _ in range(values.index(value)):
            await pilot.press("down")
        await pilot.press("enter")

    async def script(pilot: Any) -> None:
        select(app, task)
        await pilot.press("a")
        await choose(pilot, "dev-2")
        await until(
            pilot, lambda: task_file(team_root, task)["assignees"] == ["dev-2"], "the assignment"
        )
        assert task_file(team_root, task)["status"] == "assigned"
        await until(
            pilot,
            lambda: app._pending_writes == 0 and task in card_ids(app, "assigned"),
            "the board",
        )
        select(app, task)
        await pilot.press("u")
        await choose(pilot, "dev-2")
        await until(
            pilot, lambda: task_file(team_root, task)["assignees"] == [], "the unassignment"
        )
        assert task_file(team_root, task)["status"] == "inbox"

    run_app(app, script)


def test_create_a_task(team_root: Path) -> None:
    app = open_app(team_root)

    async def script(pilot: Any) -> None:
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, NewTaskDialog), "the form")
        await pilot.press(*"Ship the board")
        await pilot.press(
            "tab", "1", "tab", *"dev-1", "tab", *"tui, ux", "tab", *"with live updates"
        )
        await pilot.press("enter")
        await until(pilot, lambda: app._pending_writes == 0 and app.board.selected_card is not None
                    and app.board.selected_card.title == "Ship the board", "the new card selected")  # fmt: skip

    run_app(app, script)
    ws = Workspace(team_root)
    try:
        [task] = [t for t in ws.list_tasks(include_done=True) if t["title"] == "Ship the board"]
        detail = ws.show_task(task["id"])
    finally:
        ws.close()
    assert (task["priority"], task["assignees"], task["labels"], task["status"]) == (
        1,
        ["dev-1"],
        ["tui", "ux"],
        "assigned",
    )
    assert detail["description"].strip() == "with live updates"
    assert task["created_by"] == "Test User"


def test_keys_typed_in_a_burst_after_tab_land_in_the_next_field(team_root: Path) -> None:
    """A terminal delivers fast typing as one burst of key events: each must go to the field
    focused after the keys before it, not to the one focused when the burst arrived."""
    from textual import events

    app = open_app(team_root)
    values: dict[str, str] = {}

    async def script(pilot: Any) -> None:
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, NewTaskDialog), "the form")
        burst = "T\t1\tdev-1\tui, ux\tdesc"
        for char in burst:
            app.post_message(events.Key("tab" if char == "\t" else char, char))
        await pilot.pause(0.2)
        await until(
            pilot,
            lambda: app.screen.query_one("#new-description", Input).value == "desc",
            "the burst",
        )
        for key in ("title", "priority", "assignee", "labels", "description"):
            values[key] = _field(app, key)
        await pilot.press("shift+tab")
        assert app.screen.focused is app.screen.query_one("#new-labels")
        await pilot.press("enter")
        await until(
            pilot,
            lambda: app._pending_writes == 0 and not isinstance(app.screen, NewTaskDialog),
            "the new task",
        )

    run_app(app, script)
    assert values == {
        "title": "T",
        "priority": "1",
        "assignee": "dev-1",
        "labels": "ui, ux",
        "description": "desc",
    }


def test_labels_are_separated_by_commas_as_the_hint_says(team_root: Path) -> None:
    app = open_app(team_root)

    async def script(pilot: Any) -> None:
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, NewTaskDialog), "the form")
        await pilot.press(*"Spaced", "tab", "tab", "tab", *"needs review", "enter")
        await until(pilot, lambda: any(s == "error" for s, _ in app.messages), "the refusal")
        assert any("needs review" in m for s, m in app.messages if s == "error"), app.messages
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, NewTaskDialog), "the form")
        await pilot.press(*"Labelled", "tab", "tab", "tab", *"tui, ux,#web", "enter")
        await until(
            pilot,
            lambda: app._pending_writes == 0 and not isinstance(app.screen, NewTaskDialog),
            "the new task",
        )

    run_app(app, script)
    ws = Workspace(team_root)
    try:
        [task] = [t for t in ws.list_tasks(include_done=True) if t["title"] == "Labelled"]
    finally:
        ws.close()
    assert task["labels"] == ["tui", "ux", "web"]


def test_the_footer_keeps_quit_and_help_at_80_by_24(team_root: Path) -> None:
    from textual.widgets import Footer
    from textual.widgets._footer import FooterKey

    app = open_app(team_root)
    shown: list[str] = []

    async def script(pilot: Any) -> None:
        await pilot.pause(0.2)
        footer = app.screen.query_one(Footer)
        for key in footer.query(FooterKey):
            if key.region.right <= 80 and key.region.width > 0:
                shown.append(f"{key.key_display} {key.description}")

    run_app(app, script, size=(80, 24))
    assert "q quit" in shown and "? help" in shown and "n new" in shown, shown


def test_create_refuses_a_bad_priority_and_an_empty_title(team_root: Path) -> None:
    app = open_app(team_root)

    async def script(pilot: Any) -> None:
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, NewTaskDialog), "the form")
        await pilot.press("enter")  # no title: the form stays
        assert isinstance(app.screen, NewTaskDialog)
        await pilot.press(*"Bad priority", "tab", "9", "enter")
        await until(pilot, lambda: any(s == "error" for s, _ in app.messages), "the refusal")
        assert (
            "error",
            "priority must be 0-3 or p0-p3 (0 is the most urgent), not '9'",
        ) in app.messages

    run_app(app, script)
    assert list((team_root / ".agentctl" / "tasks").iterdir()) == []


def test_comment_from_the_task_screen(team_root: Path, cli: Runner) -> None:
    task = add_task(cli, "Discuss me")
    app = open_app(team_root)

    async def script(pilot: Any) -> None:
        select(app, task)
        await pilot.press("enter")
        await until(
            pilot,
            lambda: isinstance(app.screen, TaskScreen) and _screen(app).detail is not None,
            "the task",
        )
        if not _screen(app).detail["can_comment"]:
            pytest.skip("the collaboration API is not in this build")
        await pilot.press("c", *"Looks good, @dev-1 please take it", "enter")
        await until(
            pilot,
            lambda: _screen(app).detail is not None and len(_screen(app).detail["thread"]) == 1,
            "the thread",
        )
        assert "Looks good, @dev-1 please take it" in screen_text(app)
        assert "Thread (1)" in screen_text(app)

    run_app(app, script)
    [message] = list((team_root / ".agentctl" / "threads" / task).glob("*.md"))
    fields, body = load_fast(message.read_text(encoding="utf-8"), "message")
    assert (fields["author"], fields["kind"], body.strip()) == (
        "Test User",
        "comment",
        "Looks good, @dev-1 please take it",
    )
    assert fields["mentions"] == ["dev-1"]


def test_a_comment_box_refusal_is_shown(team_root: Path, cli: Runner) -> None:
    task = add_task(cli, "Quiet")
    app = open_app(team_root)

    async def script(pilot: Any) -> None:
        app.open_task_screen(task)
        await until(
            pilot,
            lambda: isinstance(app.screen, TaskScreen) and _screen(app).detail is not None,
            "the task",
        )
        await pilot.press("c", "enter")  # empty comment
        assert ("warning", "write something first") in app.messages

    run_app(app, script)


# -- filter and done ----------------------------------------------------------------------------


def test_filter_by_assignee_label_priority_and_text(world: Path) -> None:
    app = open_app(world, clock=clock)

    def shown() -> set[str]:
        assert app.snapshot is not None
        return {card.id for column in app.snapshot.board.columns for card in column.cards}

    async def script(pilot: Any) -> None:
        everything = shown()
        await pilot.press("slash", *"@nova")
        await until(
            pilot,
            lambda: app.snapshot is not None and app.snapshot.options.filter.assignee == "nova",
            "the filter",
        )
        assert shown() == {IDS["schema"], IDS["store"], IDS["index"]}
        assert "3 shown · filter: @nova" in screen_text(app)
        assert "in_progress 1" in screen_text(app) and "done 2" in screen_text(app)
        await pilot.press("enter")  # keep it and go back to the board
        assert app.board.has_focus
        await pilot.press("slash", *(["backspace"] * 5), *"#perf p2")
        await until(pilot, lambda: shown() == {IDS["bench"]}, "label and priority")
        await pilot.press(*(["backspace"] * 8), *"sqlite")
        await until(pilot, lambda: shown() == {IDS["index"]}, "free text")
        await pilot.press(*(["backspace"] * 6), *"4d5e")
        await until(pilot, lambda: shown() == {IDS["cli"]}, "an ID prefix")
        await pilot.press("escape")
        await until(pilot, lambda: shown() == everything, "the filter cleared")
        assert not app.query_one("#filter").display

    run_app(app, script)


def test_initial_filter_from_the_command_line(world: Path) -> None:
    app = open_app(world, clock=clock, query="@pixel")

    async def script(pilot: Any) -> None:
        assert app.snapshot is not None
        assert {card.id for c in app.snapshot.board.columns for card in c.cards} == {
            IDS["cli"],
            IDS["board"],
        }

    run_app(app, script)


def test_toggle_showing_every_done_task(team_root: Path, cli: Runner) -> None:
    for n in range(7):
        task = add_task(cli, f"finished {n}")
        assert cli("task", "move", task, "in_progress").code == 0
        assert cli("task", "move", task, "done").code == 0
    app = open_app(team_root)

    async def script(pilot: Any) -> None:
        assert len(card_ids(app, "done")) == 5
        assert "+2 (d: all)" in screen_text(app)
        await pilot.press("d")
        await until(pilot, lambda: len(card_ids(app, "done")) == 7, "all done tasks")
        await pilot.press("d")
        await until(pilot, lambda: len(card_ids(app, "done")) == 5, "the latest done tasks")

    run_app(app, script)


# -- agents and heartbeats ----------------------------------------------------------------------


def test_agent_bar_and_agent_screen(world: Path) -> None:
    app = open_app(world, clock=clock)

    async def script(pilot: Any) -> None:
        text = screen_text(app)
        assert "● atlas active →t-3c4d 2m" in text
        assert "◌ pixel stale 5h" in text and "✖ sentry blocked 1h" in text
        await pilot.press("tab")
        bar = app.query_one("#agents")
        assert bar.has_focus
        await pilot.press("right")  # atlas -> nova
        await pilot.press("enter")
        await until(
            pilot,
            lambda: isinstance(app.screen, AgentScreen) and _screen(app).detail is not None,
            "the agent",
        )
        text = screen_text(app)
        assert "nova  backend-developer" in text
        assert "t-3c4d p1 [in_progress] Build the SQLite index" in text
        assert "every 15m · last 14m ago" in text
        if _screen(app).detail["runs"] is not None:  # newest first
            assert "09:46 idle · 41 ms\n" in text + "\n"
            assert "09:10 worked · 2 applied · 2042 tokens · $0.0041 · 5230 ms" in text
        assert "09:10 nova claimed t-3c4d" in text  # recent activity
        await pilot.press("enter")  # opens the highlighted task
        await until(pilot, lambda: isinstance(app.screen, TaskScreen), "the task screen")
        assert _screen(app).task_id == IDS["index"]
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, AgentScreen), "back on the agent")
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, AgentScreen), "back on the board")

    run_app(app, script)


def test_agent_ages_move_on_with_the_clock(world: Path) -> None:
    from datetime import timedelta

    now = [clock()]
    app = open_app(world, clock=lambda: now[0])

    async def script(pilot: Any) -> None:
        assert "● atlas active →t-3c4d 2m" in screen_text(app)
        now[0] += timedelta(hours=1)  # no change on disk, only time passes
        app.tick()
        await until(pilot, lambda: "◌ atlas stale →t-3c4d 1h" in screen_text(app), "the new age")
        assert "11:00:00" in screen_text(app)  # the status line's clock

    run_app(app, script)


def test_agent_screen_shows_memory_and_failures(world: Path) -> None:
    app = open_app(world, clock=clock)

    async def script(pilot: Any) -> None:
        app.push_screen(AgentScreen("sentry"))
        await until(
            pilot,
            lambda: isinstance(app.screen, AgentScreen) and _screen(app).detail is not None,
            "sentry",
        )
        text = screen_text(app)
        assert (
            "✖ blocked" in text
            and "failures" in text
            and "runtime failed: command not found: qa-bot" in text
        )
        if _screen(app).detail["runs"] is not None:
            assert "09:00 failed · 12 ms  runtime failed: command not found: qa-bot" in text
        app.pop_screen()
        app.push_screen(AgentScreen("atlas"))
        await until(pilot, lambda: isinstance(app.screen, AgentScreen) and _screen(app).detail is not None
                    and app.screen.agent_name == "atlas", "atlas")  # fmt: skip
        text = screen_text(app)
        assert "Memory (MEMORY.md)" in text and "Release target: end of the week." in text

    run_app(app, script, size=(120, 60))


def test_heartbeat_runs_the_command_and_reports_the_outcome(world: Path) -> None:
    seen: list[tuple[Path, str]] = []

    def command(root: Path, name: str) -> list[str]:
        seen.append((root, name))
        if name == "sentry":
            return [
                sys.executable,
                "-c",
                "import sys; sys.stderr.write('agentctl: error: no runtime\\n'); sys.exit(11)",
            ]
        return [sys.executable, "-c", f"print('working'); print('{name}: 2 actions applied')"]

    app = open_app(world, clock=clock, heartbeat_command=command)

    async def script(pilot: Any) -> None:
        app.push_screen(AgentScreen("nova"))
        await until(
            pilot,
            lambda: isinstance(app.screen, AgentScreen) and _screen(app).detail is not None,
            "nova",
        )
        await pilot.press("h")
        await until(
            pilot,
            lambda: ("information", "heartbeat nova: nova: 2 actions applied") in app.messages,
            "the outcome",
        )
        app.pop_screen()
        await pilot.press("tab", "right", "right", "right", "h")  # sentry, from the agent bar
        await until(pilot, lambda: any(s == "error" for s, _ in app.messages), "the failure")
        assert ("error", "heartbeat sentry failed (exit 11): error: no runtime") in app.messages

    run_app(app, script)
    assert seen == [(world.resolve(), "nova"), (world.resolve(), "sentry")]


def test_heartbeat_with_the_real_command(world: Path) -> None:
    from agentctl.cli.app import COMMANDS

    if "heartbeat" not in COMMANDS:
        pytest.skip("agentctl heartbeat is not in this build")
    app = open_app(world, clock=clock)
    runs = world / ".agentctl" / "local" / "runs" / "nova.jsonl"
    before = runs.read_text(encoding="utf-8").count("\n")

    async def script(pilot: Any) -> None:
        await pilot.press("tab", "right", "h")  # nova, from the agent bar
        await until(pilot, lambda: any(t.startswith("heartbeat nova") and t != "heartbeat for nova started"
                                       for _, t in app.messages), "the outcome", timeout=60)  # fmt: skip
        [(severity, text)] = [(s, t) for s, t in app.messages if t.startswith("heartbeat nova")]
        assert severity == "information", text
        assert text.startswith(
            "heartbeat nova: nova: "
        )  # the tick's own summary line, without its timestamp

    run_app(app, script)
    assert runs.read_text(encoding="utf-8").count("\n") == before + 1  # the tick was recorded


def test_the_default_heartbeat_command_is_the_cli_without_a_shell(tmp_path: Path) -> None:
    from agentctl.heartbeat.scheduler import heartbeat_argv

    assert heartbeat_argv(tmp_path / "a b", "nova") == [
        sys.executable,
        "-m",
        "agentctl",
        "-W",
        str(tmp_path / "a b"),
        "heartbeat",
        "nova",
    ]


# -- live updates -------------------------------------------------------------------------------


def test_changes_by_another_process_appear_within_two_seconds_keeping_the_selection(
    team_root: Path, cli: Runner
) -> None:
    first = add_task(cli, "First in the inbox", "--priority", "0")
    second = add_task(cli, "Second in the inbox", "--priority", "1")
    app = open_app(team_root)

    async def other_process(*args: str) -> None:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "agentctl", "-W", str(team_root), *args,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await process.communicate()
        assert process.returncode == 0, err.decode()

    async def script(pilot: Any) -> None:
        select(app, second)
        assert card_ids(app, "inbox") == [first, second]
        await other_process("task", "move", first, "in_progress")
        await until(
            pilot,
            lambda: first in card_ids(app, "in_progress"),
            "the other process's move",
            timeout=2.0,
        )
        assert card_ids(app, "inbox") == [second]
        assert app.board.current_status == "inbox" and app.board.selected_card is not None
        assert app.board.selected_card.id == second  # the selection stayed on its task
        assert any(
            "moved" in line.text and line.text.endswith("inbox -> in_progress")
            for line in (app.snapshot.feed if app.snapshot else [])
        )
        # an open task screen follows edits made elsewhere
        app.open_task_screen(second)
        await until(
            pilot,
            lambda: isinstance(app.screen, TaskScreen) and _screen(app).detail is not None,
            "the task",
        )
        await other_process("task", "edit", second, "--title", "Renamed elsewhere")
        await until(
            pilot,
            lambda: _screen(app).detail["title"] == "Renamed elsewhere",
            "the new title",
            timeout=2.0,
        )

    run_app(app, script)


def test_a_hand_edit_in_place_is_picked_up_by_the_deep_scan(team_root: Path, cli: Runner) -> None:
    task = add_task(cli, "Edited by hand")
    path = team_root / ".agentctl" / "tasks" / f"{task}.md"
    app = open_app(team_root, deep_interval=0.5)

    async def script(pilot: Any) -> None:
        text = path.read_text(encoding="utf-8")
        with open(
            path, "r+", encoding="utf-8"
        ) as handle:  # in place: the directory does not change
            handle.write(text.replace("title: Edited by hand", "title: Edited by hand!"))
        await until(pilot, lambda: app.board.selected_card is not None and app.board.selected_card.title == "Edited by hand!",
                    "the edit")  # fmt: skip

    run_app(app, script)


# -- scale ----------------------------------------------------------------------------------------


@pytest.mark.slow  # a whole end-to-end run or thousands of files: the slow tier
def test_thousands_of_tasks_render_as_a_few_widgets(tmp_path: Path) -> None:
    from agentctl.core import body as taskbody
    from agentctl.store.frontmatter import Document

    root = tmp_path / "big"
    Workspace.init(root, "big", "bench")
    for n in range(2500):
        task_id = f"t-{n:012d}"
        fields: dict[str, Any] = {"id": task_id, "title": f"Task number {n}", "status": "inbox" if n % 5 else "done", "priority": n % 4,
                  "assignees": [], "labels": [], "depends_on": [], "created_by": "bench",
                  "created_at": f"2026-01-01T00:{n // 60 % 60:02d}:{n % 60:02d}Z",
                  "updated_at": f"2026-01-01T00:{n // 60 % 60:02d}:{n % 60:02d}Z"}  # fmt: skip
        (root / ".agentctl" / "tasks" / f"{task_id}.md").write_text(
            Document.new(fields, taskbody.task_body("", [])).dumps(), encoding="utf-8"
        )
    app = open_app(root)

    async def script(pilot: Any) -> None:
        assert app.snapshot is not None and app.snapshot.counts["inbox"] == 2000
        assert len(card_ids(app, "inbox")) == PAGE  # read a page at a time
        assert len(app.query("*")) < 80  # one widget per column, never one per task
        assert "inbox 2000" in screen_text(app)
        await pilot.press("end")  # the last card read, and the next page is read
        await until(pilot, lambda: len(card_ids(app, "inbox")) == 2 * PAGE, "the next page")
        assert app.board.selected_card is not None
        assert app.board.selected_card.id == card_ids(app, "inbox")[PAGE - 1]
        text = screen_text(app)
        assert "↑ " in text and f"↓ {2000 - PAGE} more" in text
        await pilot.press("slash", *"number 1999")
        await until(pilot, lambda: card_ids(app, "inbox") == ["t-000000001999"], "the filter")

    run_app(app, script)


def test_a_long_column_is_read_a_page_at_a_time_and_scrolls_to_its_end(tmp_path: Path) -> None:
    """A column holds the first ``page`` cards and says how many more there are; moving
    down reads the next pages until the last card, which can then be moved like any."""
    from agentctl.core import body as taskbody
    from agentctl.store.frontmatter import Document

    root = tmp_path / "paged"
    Workspace.init(root, "paged", "tester")
    made = []
    for n in range(30):
        task_id = f"t-{n:012d}"
        fields: dict[str, Any] = {"id": task_id, "title": f"Card {n}", "status": "in_progress",
                  "priority": 2, "assignees": [], "labels": [], "depends_on": [], "created_by": "tester",
                  "created_at": f"2026-01-01T00:00:{n:02d}Z", "updated_at": f"2026-01-01T00:00:{n:02d}Z"}  # fmt: skip
        (root / ".agentctl" / "tasks" / f"{task_id}.md").write_text(
            Document.new(fields, taskbody.task_body("", [])).dumps(), encoding="utf-8"
        )
        made.append(task_id)
    app = open_app(root, page=8)

    async def script(pilot: Any) -> None:
        assert card_ids(app, "in_progress") == made[:8]
        column = app.board.query_one("#col-in_progress", CardColumn)
        lines = column.lines_text()
        assert lines[0].startswith("in_progress 30")
        # the last line counts the cards below, read or not (22 are not read yet)
        marker = re.fullmatch(r"↓ (\d+) more", lines[-1].strip())
        assert marker is not None and int(marker.group(1)) >= 22, lines
        app.board.select(app.board.statuses.index("in_progress"), 0)
        for n in range(1, 30):
            await pilot.press("down")
            if app.board.selected_card is None or app.board.selected_card.id != made[n]:
                # at the last card read: the next page is on its way; press again once it is in
                def read(n: int = n) -> bool:
                    return len(card_ids(app, "in_progress")) > n

                await until(pilot, read, f"card {n}")
                await pilot.press("down")
            assert app.board.selected_card is not None and app.board.selected_card.id == made[n]
        assert card_ids(app, "in_progress") == made
        assert "↓" not in "".join(column.lines_text())
        await pilot.press("right_square_bracket")  # in_progress -> review
        await until(pilot, lambda: task_file(root, made[29])["status"] == "review", "the move")
        await until(pilot, lambda: made[29] in card_ids(app, "review"), "the moved card")
        assert len(card_ids(app, "in_progress")) == 29

    run_app(app, script)


# -- NO_COLOR -------------------------------------------------------------------------------------

WINDOW_CHROME = {"#ff5f57", "#febc2e", "#28c840"}  # the screenshot's window buttons, not the app


def spread(svg: str) -> int:
    """The largest difference between the channels of any colour the app drew (0: greys)."""
    import re

    colours = set(re.findall(r"#[0-9a-f]{6}", svg.lower())) - WINDOW_CHROME
    channels = [(int(c[1:3], 16), int(c[3:5], 16), int(c[5:7], 16)) for c in colours]
    return max(max(rgb) - min(rgb) for rgb in channels)


def test_no_color_draws_in_greys_and_colour_otherwise(
    world: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shots: dict[str, str] = {}

    def shoot(name: str) -> None:
        app = open_app(world, clock=clock)

        async def script(pilot: Any) -> None:
            app.open_task_screen(IDS["cli"])
            await until(
                pilot,
                lambda: isinstance(app.screen, TaskScreen) and _screen(app).detail is not None,
                "the task",
            )
            shots[name + " task"] = app.export_screenshot()
            app.pop_screen()
            await pilot.pause()
            shots[name + " board"] = app.export_screenshot()

        run_app(app, script, size=(80, 24))

    assert "NO_COLOR" in os.environ  # the test environment sets it
    shoot("no colour")
    monkeypatch.delenv("NO_COLOR")
    shoot("colour")
    assert spread(shots["no colour board"]) <= 4 and spread(shots["no colour task"]) <= 4
    assert spread(shots["colour board"]) > 60 and spread(shots["colour task"]) > 60
    # the markers are characters, so nothing is said by colour alone
    assert "4d5e p1 ?✉2" in svg_text(shots["no colour board"])
