"""The records as the index returns them: the generated record types of core/records.py, with
the keys the index adds (a message's body and path, a document's path, an event's position)
and the rows of its other queries.

Typing only, like core/records.py: the read and write paths import it under ``TYPE_CHECKING``.
No ``from __future__ import annotations`` (``NotRequired`` must be seen at run time).
"""

from typing import Any, NotRequired, TypedDict

from agentctl.core.events import EventType, Payload
from agentctl.core.records import (
    AgentRecord,
    AgentStateRecord,
    DocumentRecord,
    EventRecord,
    MessageRecord,
    TaskRecord,
)


class MessageRow(MessageRecord):
    """A message of a thread (``Index.thread``)."""

    body: str
    path: str  # relative to the workspace root


class DocumentRow(DocumentRecord):
    """A document without its body (``Index.docs``)."""

    path: str


class EventRow(EventRecord):
    """An event from ``Index.events``, with its insertion order (to follow the log; the feed
    drops it from its output)."""

    _rowid: NotRequired[int]


class NotificationRow(TypedDict):
    """An event in an agent's inbox, with when it was delivered and read (``None``: not yet)."""

    id: str
    ts: str
    actor: str
    type: EventType
    subject: str | None
    data: Payload
    delivered: str | None
    read: str | None


class SearchHit(TypedDict):
    """One full-text hit (``Index.search``); ``snippet`` marks the matches with ``**``."""

    type: str  # task, doc or message
    id: str
    task: str | None
    title: str
    status: str | None
    snippet: str
    score: float


class SubscriptionRow(TypedDict):
    active: bool
    reason: str | None


class PlanTask(TypedDict):
    """The task fields graph and planning work reads (``Index.graph``); a TaskRecord is one."""

    id: str
    title: str
    status: str
    priority: int
    assignees: list[str]
    labels: list[str]
    parent: str | None
    depends_on: list[str]
    estimate: str | None
    due: str | None
    created_at: str
    updated_at: str


_GateStep = TypedDict("_GateStep", {"gate": str, "from": str, "to": str})


class GateWait(TaskRecord, _GateStep):
    """A task in review whose approval a human gate reserves for people: the gate, and the
    status change it reserves."""


GateRefusalRow = TypedDict(
    "GateRefusalRow",
    {
        "id": str,
        "ts": str,
        "actor": str,
        "task": str,
        "title": str | None,
        "gate": str,
        "from": str,
        "to": str,
    },
)
"""An agent's refusal at a human gate that nothing has resolved since."""


class NeedsHuman(TypedDict):
    """What waits for a person (``agentctl inbox --human``, WORKING.md)."""

    waiting: list[GateWait]
    refusals: list[GateRefusalRow]


class HumanInbox(NeedsHuman):
    """``agentctl inbox --human``: also the conditions needing attention when no lead is
    there to be told (``Condition.as_dict``)."""

    attention: list[dict[str, Any]]
    agents: list[AgentRecord]  # proposed agents waiting for a person's approval


class Notification(TypedDict):
    """One notification as the inbox shows it (``Workspace.inbox``, the heartbeat prompt)."""

    id: str
    ts: str
    actor: str
    type: EventType
    task: str | None
    title: str | None
    reason: str  # why the agent was notified: assigned, mention, review, ...
    excerpt: str
    delivered: str | None
    read: str | None


# -- what the Workspace's reads return ------------------------------------------------------


class AgentRow(AgentRecord):
    """An agent in ``Workspace.list_agents``: its record, runtime state (``status`` always
    set, ``idle`` by default) and number of open tasks."""

    state: AgentStateRecord
    open_tasks: int


class WaitingTask(PlanTask):
    """A task that is not ready, with why (``Workspace.ready(explain=True)``)."""

    reasons: list[str]


class Ready(TypedDict):
    """``Workspace.ready``: the tasks that can start now, in work order."""

    ready: list[TaskRecord]
    not_ready: NotRequired[list[WaitingTask]]  # with explain


class Thread(TypedDict):
    """``Workspace.thread``: a task's messages, oldest first."""

    task: str
    title: str | None
    messages: list[MessageRow]


class Inbox(TypedDict):
    """``Workspace.inbox``: an agent's notifications, newest last."""

    agent: str
    unread: int
    notifications: list[Notification]
