"""What the board shows at one moment, and the pure rules for changing it. No textual here.

A :class:`Snapshot` is built on the gateway's thread from the workspace and handed to the
app, which only renders it. Selection and optimistic moves are pure functions of snapshots
so they are tested without a terminal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from agentctl.core import clock
from agentctl.core.board import AgentChip, Board, BoardFilter, Card, Column
from agentctl.core.duration import format_duration
from agentctl.core.rules import Actor


@dataclass(frozen=True)
class ViewOptions:
    """What the person asked to see: the ``/`` filter, whether done is expanded, and how
    many cards of each column to read (``limits``: (status, cards) pairs; a column not named
    reads the gateway's first page). Scrolling near the end of a column raises its limit."""

    filter: BoardFilter = field(default_factory=BoardFilter)
    show_done: bool = False
    limits: tuple[tuple[str, int], ...] = ()

    def limit(self, status: str, default: int) -> int:
        return max(dict(self.limits).get(status, default), default)

    def with_limit(self, status: str, cards: int) -> ViewOptions:
        limits = dict(self.limits)
        limits[status] = cards
        return replace(self, limits=tuple(sorted(limits.items())))


@dataclass(frozen=True)
class FeedLine:
    ts: str  # ISO timestamp (UTC) of the event
    actor: str
    text: str  # one-line summary, short IDs
    type: str = ""


@dataclass(frozen=True)
class Snapshot:
    """Everything the main screen renders."""

    board: Board
    agents: tuple[AgentChip, ...]
    feed: tuple[FeedLine, ...]
    counts: Mapping[str, int]  # tasks per status, before the filter
    workflow: Mapping[str, Any]
    name: str  # the workspace's name (config)
    options: ViewOptions
    problems: int = 0  # record files the index refused (see `agentctl validate`)
    created_at: Mapping[str, str] = field(default_factory=dict)  # task id -> created_at
    generation: int = 0  # data generation it was built from (bumps on every change seen)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def shown(self) -> int:
        return self.board.total


@dataclass(frozen=True)
class Session:
    """Facts fixed for the life of the app."""

    actor: Actor
    name: str
    root: str
    workflow: Mapping[str, Any]
    agents: tuple[str, ...] = ()


# -- formatting -----------------------------------------------------------------------------


def age(seconds: float | None) -> str:
    return "never" if seconds is None else format_duration(seconds)


def clock_time(ts: str, now: datetime) -> str:
    """``HH:MM`` of an ISO timestamp in ``now``'s timezone, with the date if not today."""
    moment = clock.parse(ts)
    if moment is None:
        return ts[:16]
    if now.tzinfo is not None:
        moment = moment.astimezone(now.tzinfo)
    if moment.date() == now.date():
        return clock.show(moment, clock.SHORT_TIME)
    return clock.show(moment, clock.DAY_TIME)


# -- selection ------------------------------------------------------------------------------


@dataclass
class Cursor:
    """Where the selection is: a column and, per column, a card index and its task's ID.
    (Scroll positions belong to the column widgets, which outlive snapshots.)"""

    column: int = 0
    index: dict[str, int] = field(default_factory=dict)
    selected: dict[str, str] = field(default_factory=dict)  # status -> selected task id


def reselect(cursor: Cursor, columns: Sequence[Column], follow: str | None = None) -> Cursor:
    """The cursor for new ``columns``: every column keeps its selected task if it is still
    there, else its position (clamped). With ``follow`` (a task the
    person just acted on) the cursor goes to wherever that task now is."""
    result = Cursor(min(cursor.column, max(len(columns) - 1, 0)), {}, {})
    for number, column in enumerate(columns):
        status = column.status
        ids = [card.id for card in column.cards]
        wanted = cursor.selected.get(status)
        if follow is not None and follow in ids:
            position = ids.index(follow)
            result.column = number
        elif wanted is not None and wanted in ids:
            position = ids.index(wanted)
        else:
            position = cursor.index.get(status, 0)
        position = max(0, min(position, len(ids) - 1)) if ids else 0
        result.index[status] = position
        if ids:
            result.selected[status] = ids[position]
    return result


# -- optimistic moves -------------------------------------------------------------------------


def move_card(
    board: Board,
    card_id: str,
    target: str,
    workflow: Mapping[str, Any],
    created_at: Mapping[str, str],
) -> Board | None:
    """The board with one card moved to ``target`` as the workspace will order it, shown
    while the write is in flight; None if the card or the column is not on the board."""
    source = next((c for c in board.columns if any(card.id == card_id for card in c.cards)), None)
    if (
        source is None
        or source.status == target
        or not any(c.status == target for c in board.columns)
    ):
        return None
    card = next(card for card in source.cards if card.id == card_id)
    moved = replace(
        card,
        needs_review=target == workflow.get("review"),
        blocked=target == workflow.get("blocked")
        or (card.blocked and source.status != workflow.get("blocked")),
    )
    done = set(workflow.get("done", ()))
    columns = []
    for column in board.columns:
        if column.status == source.status:
            cards = tuple(c for c in column.cards if c.id != card_id)
            columns.append(Column(column.status, cards, column.total - 1))
        elif column.status == target:
            if target in done:
                cards = (moved, *column.cards)  # the most recently finished comes first
            else:
                key = _order_key(moved, created_at)
                cards_list = list(column.cards)
                at = next(
                    (i for i, c in enumerate(cards_list) if _order_key(c, created_at) > key),
                    len(cards_list),
                )
                # After the last card read of a column with more unread cards, its place is
                # among those: it shows up when scrolling gets there.
                if at < len(cards_list) or not column.hidden:
                    cards_list.insert(at, moved)
                cards = tuple(cards_list)
            columns.append(Column(column.status, cards, column.total + 1))
        else:
            columns.append(column)
    counts = dict(board.counts)
    counts[source.status] = counts.get(source.status, 1) - 1
    counts[target] = counts.get(target, 0) + 1
    return Board(tuple(columns), counts)


def _order_key(card: Card, created_at: Mapping[str, str]) -> tuple[int, str, str]:
    return (card.priority, created_at.get(card.id, ""), card.id)


def neighbour_status(workflow: Mapping[str, Any], status: str, step: int) -> str | None:
    """The status ``step`` columns away in board order, or None past either end."""
    statuses = list(workflow["statuses"])
    if status not in statuses:
        return None
    position = statuses.index(status) + step
    return statuses[position] if 0 <= position < len(statuses) else None
