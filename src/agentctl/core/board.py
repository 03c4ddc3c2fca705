"""The board view model: tasks grouped into status columns, ordered and capped. Pure.

Shared by ``agentctl board`` (static) and the TUI, so both always agree on what is shown:
columns and cards, the filter language of the board (``/`` in the TUI), and the agent bar.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agentctl.core import clock, graph
from agentctl.core.duration import parse_duration
from agentctl.core.text import neutralise


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
    unread: int = 0  # unread notifications about this task (TUI); 0 when not computed


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


def text_matches(task_id: str, title: str, wanted: str) -> bool:
    """The filter's free text (already lower-cased): a phrase in the title (case-insensitive)
    or a prefix of the ID, with or without its ``t-``. (The board's index query calls this
    too, so both agree.)"""
    return (
        wanted in title.lower()
        or task_id.startswith(wanted)
        or task_id.partition("-")[2].startswith(wanted)
    )


def matches(
    task: Mapping[str, Any],
    text: str | None = None,
    assignee: str | None = None,
    label: str | None = None,
    priority: int | None = None,
) -> bool:
    if text and not text_matches(str(task["id"]), str(task["title"]), text.lower()):
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
    unread: Mapping[str, int] | None = None,
) -> Board:
    """Columns in workflow order. Open columns are in work order (most urgent first); done
    columns show the most recently finished ``done_limit`` unless ``show_done``."""
    by_status: dict[str, list[Mapping[str, Any]]] = {s: [] for s in workflow["statuses"]}
    for task in tasks:
        by_status.setdefault(task["status"], []).append(task)
    lookup = (
        all_tasks
        if all_tasks is not None
        else {t["id"]: t for ts in by_status.values() for t in ts}
    )
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
                title=neutralise(t["title"]),
                priority=int(t.get("priority", 2)),
                assignees=tuple(t.get("assignees", ())),
                labels=tuple(t.get("labels", ())),
                blocked=status == workflow["blocked"]
                or status not in done
                and _waits(lookup, t, done),
                needs_review=status == workflow["review"],
                unread=unread.get(t["id"], 0) if unread else 0,
            )
            for t in members[:cap]
        )
        columns.append(Column(status, cards, len(members)))
    return Board(tuple(columns), {c.status: c.total for c in columns})


def _waits(
    lookup: Mapping[str, Mapping[str, Any]], task: Mapping[str, Any], done: set[str]
) -> bool:
    """Whether a dependency is unfinished or missing (:func:`graph.blockers`, without building
    the list: this runs once per card)."""
    for dep in task.get("depends_on", ()):
        other = lookup.get(dep)
        if other is None or other["status"] not in done:
            return True
    return False


# -- the filter language ----------------------------------------------------------------------


@dataclass(frozen=True)
class BoardFilter:
    """What ``/`` narrows the board to. Words are ANDed; ``text`` matches title or ID prefix."""

    text: str | None = None
    assignee: str | None = None
    label: str | None = None
    priority: int | None = None

    @property
    def active(self) -> bool:
        return any(v is not None for v in (self.text, self.assignee, self.label, self.priority))

    def describe(self) -> str:
        parts = []
        if self.assignee:
            parts.append(f"@{self.assignee}")
        if self.label:
            parts.append(f"#{self.label}")
        if self.priority is not None:
            parts.append(f"p{self.priority}")
        if self.text:
            parts.append(self.text)
        return " ".join(parts)

    def matches(self, task: Mapping[str, Any]) -> bool:
        return matches(task, self.text, self.assignee, self.label, self.priority)


def parse_filter(query: str) -> BoardFilter:
    """``@agent``, ``#label``, ``p0``..``p3`` (or ``priority:1``, ``assignee:x``, ``label:y``);
    every other word is free text. A later token of one kind replaces an earlier one."""
    text: list[str] = []
    assignee = label = None
    priority: int | None = None
    for word in query.split():
        lower = word.lower()
        if lower.startswith("@") and len(word) > 1:
            assignee = lower[1:]
        elif lower.startswith("assignee:") and len(word) > 9:
            assignee = lower[9:]
        elif lower.startswith("#") and len(word) > 1:
            label = word[1:]
        elif lower.startswith("label:") and len(word) > 6:
            label = word[6:]
        elif len(lower) == 2 and lower[0] == "p" and lower[1] in "0123":
            priority = int(lower[1])
        elif lower.startswith("priority:") and lower[9:] in (
            "0",
            "1",
            "2",
            "3",
            "p0",
            "p1",
            "p2",
            "p3",
        ):
            priority = int(lower[-1])
        else:
            text.append(word)
    return BoardFilter(" ".join(text) or None, assignee, label, priority)


# -- the agent bar ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgentChip:
    """One agent as the board shows it. ``status`` is idle | active | blocked | stale, or
    pending for a proposed agent waiting for a person's approval."""

    name: str
    role: str
    level: str
    status: str
    current_task: str | None
    last_heartbeat: str | None
    heartbeat_age: float | None  # seconds since the last heartbeat, None if it never beat
    unread: int
    open_tasks: int
    host: str | None = None  # shown only when the team's agents run on more than one machine


def agent_status(
    agent: Mapping[str, Any], state: Mapping[str, Any], now: datetime, missed_beats: int
) -> tuple[str, float | None]:
    """(status, seconds since the last heartbeat). An agent that has beaten before but stayed
    silent for ``missed_beats`` of its intervals is *stale* (unless it is blocked); a proposed
    agent waiting for approval is *pending*."""
    if agent.get("approval") == "pending":
        return "pending", None
    status = str(state.get("status") or "idle")
    last = clock.parse(state.get("last_heartbeat"))
    age = (now - last).total_seconds() if last is not None else None
    if status != "blocked" and age is not None:
        every = (agent.get("heartbeat") or {}).get("every") or "15m"
        try:
            interval = parse_duration(every)
        except ValueError:
            interval = 900.0
        if age > interval * missed_beats:
            status = "stale"
    return status, age


def build_agent_bar(
    agents: Iterable[Mapping[str, Any]],
    now: datetime,
    missed_beats: int = 3,
    unread: Mapping[str, int] | None = None,
    short_ids: Mapping[str, str] | None = None,
) -> tuple[AgentChip, ...]:
    """Chips in name order from agent rows carrying ``state`` and ``open_tasks`` (as
    ``Workspace.list_agents`` returns them)."""
    chips = []
    agents = list(agents)
    hosts = {str(a["host"]) for a in agents if a.get("host")}
    for agent in sorted(agents, key=lambda a: str(a["name"])):
        state = agent.get("state") or {}
        status, age = agent_status(agent, state, now, missed_beats)
        current = state.get("current_task")
        chips.append(
            AgentChip(
                name=str(agent["name"]),
                role=str(agent.get("role", "")),
                level=str(agent.get("level", "specialist")),
                status=status,
                current_task=(short_ids or {}).get(current, current) if current else None,
                last_heartbeat=str(state["last_heartbeat"])
                if state.get("last_heartbeat")
                else None,
                heartbeat_age=age,
                unread=(unread or {}).get(str(agent["name"]), 0),
                open_tasks=int(agent.get("open_tasks", 0)),
                host=str(agent.get("host") or "-") if len(hosts) > 1 else None,
            )
        )
    return tuple(chips)
