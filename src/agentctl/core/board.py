"""The board view model: tasks grouped into status columns, ordered and capped. Pure.

Shared by ``agentctl board`` (static) and the TUI, so both always agree on what is shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from agentctl.core import graph


@dataclass(frozen=True)
class Card:
    id: str
    short_id: str
    title: str
    priority: int
    assignees: tuple[str, ...]
    labels: tuple[str, ...]
    blocked: bool  # waits for unfinished dependencies
    needs_review: bool


@dataclass(frozen=True)
class Column:
    status: str
    cards: tuple[Card, ...]
    total: int

    @property
    def hidden(self) -> int:
        return self.total - len(self.cards)


@dataclass(frozen=True)
class Board:
    columns: tuple[Column, ...]
    counts: Mapping[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def matches(task: Mapping[str, Any], text: str | None = None, assignee: str | None = None, label: str | None = None, priority: int | None = None) -> bool:
    if text and text.lower() not in task["title"].lower() and not task["id"].startswith(text.lower()):
        return False
    if assignee and assignee not in task.get("assignees", ()):
        return False
    if label and label not in task.get("labels", ()):
        return False
    return priority is None or int(task.get("priority", 2)) == priority


def build_board(
    tasks: Iterable[Mapping[str, Any]],
    workflow: Mapping[str, Any],
    short_ids: Mapping[str, str],
    per_column: int = 50,
    done_limit: int = 5,
    show_done: bool = False,
    all_tasks: Mapping[str, Mapping[str, Any]] | None = None,
) -> Board:
    """Columns in workflow order. Open columns are in work order (most urgent first); done
    columns show the most recently finished ``done_limit`` unless ``show_done``."""
    by_status: dict[str, list[Mapping[str, Any]]] = {s: [] for s in workflow["statuses"]}
    for task in tasks:
        by_status.setdefault(task["status"], []).append(task)
    lookup = all_tasks if all_tasks is not None else {t["id"]: t for ts in by_status.values() for t in ts}
    done = set(workflow["done"])
    columns = []
    for status, members in by_status.items():
        if status in done:
            members.sort(key=lambda t: (str(t.get("updated_at", "")), t["id"]), reverse=True)
            cap = per_column if show_done else done_limit
        else:
            members.sort(key=graph.work_order_key)
            cap = per_column
        cards = tuple(
            Card(
                id=t["id"],
                short_id=short_ids.get(t["id"], t["id"]),
                title=t["title"],
                priority=int(t.get("priority", 2)),
                assignees=tuple(t.get("assignees", ())),
                labels=tuple(t.get("labels", ())),
                blocked=status == workflow["blocked"] or bool(graph.blockers(lookup, t, done)) and status not in done,
                needs_review=status == workflow["review"],
            )
            for t in members[:cap]
        )
        columns.append(Column(status, cards, len(members)))
    return Board(tuple(columns), {c.status: c.total for c in columns})
