"""SVG snapshots of the board, a task screen and an agent screen at 80x24 and 160x48, from the
fixed workspace of test_tui_world (pinned IDs, timestamps and clock; NO_COLOR as in every
test). Update them only after looking at them:

    pytest tests/test_tui_snapshots.py --snapshot-update
    python -c "import sys; sys.path.insert(0, 'tests'); from test_tui_world import svg_text; \\
        print(svg_text(open(sys.argv[1]).read()))" tests/__snapshots__/test_tui_snapshots/<name>.svg
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from test_tui_world import IDS, build_world, clock

from agentctl.tui.app import BoardApp, make_app
from agentctl.tui.screens.agent import AgentScreen
from agentctl.tui.screens.task import TaskScreen
from agentctl.workspace import Workspace

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 48), id="160x48")]


@pytest.fixture
def app(tmp_path: Path) -> BoardApp:
    root = tmp_path / "world"
    build_world(root)
    return make_app(Workspace(root), clock=clock)


async def until(pilot: Any, predicate: Callable[[], object], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "the board did not load"
        await pilot.pause(0.02)
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES)
def test_board(app: BoardApp, snap_compare: Any, size: tuple[int, int]) -> None:
    async def loaded(pilot: Any) -> None:
        await until(pilot, lambda: app.ready)
        await pilot.press("right", "right", "right")  # select the card in review

    assert snap_compare(app, terminal_size=size, run_before=loaded)


@pytest.mark.parametrize("size", SIZES)
def test_task_screen(app: BoardApp, snap_compare: Any, size: tuple[int, int]) -> None:
    async def opened(pilot: Any) -> None:
        await until(pilot, lambda: app.ready)
        app.open_task_screen(IDS["cli"])
        await until(
            pilot, lambda: isinstance(app.screen, TaskScreen) and app.screen.detail is not None
        )

    assert snap_compare(app, terminal_size=size, run_before=opened)


@pytest.mark.parametrize("size", SIZES)
def test_agent_screen(app: BoardApp, snap_compare: Any, size: tuple[int, int]) -> None:
    async def opened(pilot: Any) -> None:
        await until(pilot, lambda: app.ready)
        app.push_screen(AgentScreen("nova"))
        await until(
            pilot, lambda: isinstance(app.screen, AgentScreen) and app.screen.detail is not None
        )

    assert snap_compare(app, terminal_size=size, run_before=opened)
