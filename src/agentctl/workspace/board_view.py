"""The board as a screen shows it, read from the index a column at a time.

Shared by the live board (``agentctl.tui.gateway``) and the static ``agentctl board``: per
column the first cards in its order and the number of tasks, the filter evaluated in the
index, short IDs and dependency states for the cards read only. Nothing is decoded for
tasks that are not shown, so the cost and the memory are about the same at 100 and at
100,000 tasks. The result is what :func:`agentctl.core.board.build_board` gives for every
task, cut to the cards read (``tests/test_tui_view.py`` checks this).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agentctl.core import ids
from agentctl.core.board import Board, BoardFilter, Column, build_board, text_matches

if TYPE_CHECKING:
    from agentctl.core.records import TaskRecord
    from agentctl.workspace.base import WorkspaceBase

DEPS_PER_QUERY = 500  # below SQLite's limit on parameters


@dataclass(frozen=True)
class BoardRead:
    board: Board  # columns with the cards read; each column's total is its filtered count
    counts: dict[str, int]  # tasks per status, without the filter
    created_at: dict[str, str]  # task id -> created_at of the cards read


def shorten(ws: WorkspaceBase, known: dict[str, str], task_ids: Any) -> None:
    """Add to ``known`` the short IDs of ``task_ids`` it lacks (tasks only; two index
    lookups each, the same prefixes as :func:`agentctl.core.ids.short_ids` over all)."""
    missing = [t for t in dict.fromkeys(task_ids) if t not in known]
    if missing:
        for task_id, near in ws.index.neighbours_of(missing).items():
            known[task_id] = ids.short_id(task_id, near)


def read_board(
    ws: WorkspaceBase,
    wanted: BoardFilter,
    show_done: bool,
    limit: Callable[[str], int],
    done_limit: int = 5,
    short_ids: dict[str, str] | None = None,
    unread: Mapping[str, int] | None = None,
) -> BoardRead:
    """The board for the filter ``wanted``: ``limit(status)`` cards of each column (the
    latest ``done_limit`` of a done column unless ``show_done``). ``short_ids`` is a cache
    of short IDs, filled in for the cards read."""
    index = ws.index
    flow = ws.workflow
    counts: dict[str, int] = dict.fromkeys(flow["statuses"], 0) | index.count_by_status()
    shown = counts
    if wanted.active:
        shown = dict.fromkeys(flow["statuses"], 0) | index.board_filter(
            wanted.text.lower() if wanted.text else None,
            text_matches,
            wanted.assignee,
            wanted.label,
            wanted.priority,
        )
    total = sum(counts.values())
    rows: list[TaskRecord] = []
    for status in flow["statuses"]:
        done = status in flow["done"]
        cards = done_limit if done and not show_done else limit(status)
        if shown.get(status):
            rows += index.board_tasks(status, done, cards, wanted.active, (shown[status], total))
    lookup: dict[str, Any] = {t["id"]: t for t in rows}
    deps = sorted({d for t in rows for d in t["depends_on"]} - set(lookup))
    for start in range(0, len(deps), DEPS_PER_QUERY):
        for dep, status in index.statuses_of(deps[start : start + DEPS_PER_QUERY]).items():
            lookup[dep] = {"id": dep, "status": status}
    known = short_ids if short_ids is not None else {}
    shorten(ws, known, (t["id"] for t in rows))
    board = build_board(
        rows, flow, known, per_column=len(rows), done_limit=done_limit, show_done=show_done,
        all_tasks=lookup, unread=unread,
    )  # fmt: skip
    columns = tuple(Column(c.status, c.cards, shown.get(c.status, 0)) for c in board.columns)
    return BoardRead(
        Board(columns, {c.status: c.total for c in columns}),
        counts,
        {t["id"]: str(t.get("created_at", "")) for t in rows},
    )
