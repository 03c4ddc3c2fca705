"""Every event type and its payload: the one definition of what ``data`` an event carries.

An event is one JSON line in ``.agentctl/events/<day>.jsonl`` (docs/formats.md):
``{"id", "ts", "actor", "type", "subject", "data", "notify"}``. ``type`` is one of
:data:`EventType`; ``data`` is the payload named for it in :data:`PAYLOADS`. Producers
(``Mutation.record`` in workspace/base.py) take an :data:`EventType`, so a mistyped type is a
mypy error, and build the payload as its TypedDict; consumers (core/summary.py, the fan-out
in workspace/base.py, store/index_events.py, core/reports.py) ``match`` on the type with
``assert_never``, so mypy reports a type they do not handle.

Readers stay tolerant: a log may hold hand-written or merged lines, payloads of older
versions (keys marked *older logs* below) and types no longer written
(:data:`LegacyEventType`); they read payload keys with ``.get`` and fall back for an unknown
type, never fail.

This module is for the type checker and the tests: the modules on the read and write paths
import it under ``TYPE_CHECKING`` only (building these TypedDicts costs milliseconds at
import), and it imports nothing but ``typing``. No ``from __future__ import annotations``
here: TypedDict sees ``NotRequired`` at run time only in evaluated annotations (the tests
read ``__required_keys__``).
"""

from typing import Any, Literal, NotRequired, TypedDict, get_args

EventType = Literal[
    "workspace.init",
    "note.added",
    "task.created",
    "task.edited",
    "task.moved",
    "task.assigned",
    "task.unassigned",
    "task.claimed",
    "task.released",
    "task.dep_added",
    "task.dep_removed",
    "task.removed",
    "task.gate_refused",
    "task.subscribed",
    "task.unsubscribed",
    "message.added",
    "message.direct",
    "doc.added",
    "doc.edited",
    "doc.removed",
    "spec.created",
    "spec.edited",
    "spec.removed",
    "spec.expanded",
    "spec.drift",
    "agent.added",
    "agent.edited",
    "agent.removed",
    "agent.status",
    "agent.reset",
    "agent.moved",
    "agent.heartbeat",
    "agent.contained",
    "agent.proposed",
    "agent.approved",
    "agent.rejected",
    "memory.added",
    "memory.compacted",
    "attention.raised",
    "record.adopted",
    "record.lost",
    "config.changed",
]
"""Every event type agentctl writes."""

LegacyEventType = Literal["working.applied"]
"""Types only older logs hold: still summarised, never written."""

KnownEventType = EventType | LegacyEventType

EVENT_TYPES: tuple[EventType, ...] = get_args(EventType)
LEGACY_EVENT_TYPES: tuple[LegacyEventType, ...] = get_args(LegacyEventType)

Why = dict[str, str]
"""``data.why``: added to any payload by the fan-out, each notified agent -> the reason
(``assigned``, ``mention``, ``review``, ``dependency_done``, ``subscribed``, ...)."""


# -- the workspace --------------------------------------------------------------------------


class WorkspaceInit(TypedDict):
    name: str
    why: NotRequired[Why]


class NoteAdded(TypedDict):
    text: str  # the line added to WORKING.md's notes
    why: NotRequired[Why]


# -- tasks ----------------------------------------------------------------------------------


class TaskCreated(TypedDict):
    title: str
    status: str
    source: NotRequired[str]  # a roadmap import: where the task came from
    assignees: NotRequired[list[str]]  # older logs; now the notify list names them
    why: NotRequired[Why]


class TaskEdited(TypedDict):
    title: str | None
    fields: list[str]  # the names of the changed fields
    why: NotRequired[Why]


class MoveVerdict(TypedDict, total=False):
    """What ``approve`` / ``reject`` add to their ``task.moved``."""

    via: Literal["approve", "reject"]
    message: str  # the review message posted with a note


TaskMoved = TypedDict(
    "TaskMoved",
    {
        "title": str,
        "from": str,
        "to": str,
        "note": NotRequired[str],
        "via": NotRequired[Literal["approve", "reject"]],
        "message": NotRequired[str],
        "why": NotRequired[Why],
    },
)


class TaskAssigned(TypedDict):
    title: str
    added: list[str]
    via: NotRequired[Literal["dispatch"]]
    reason: NotRequired[str]  # dispatch: why this agent, one line
    why: NotRequired[Why]


class TaskUnassigned(TypedDict):
    title: str
    removed: list[str]
    why: NotRequired[Why]


TaskClaimed = TypedDict(
    "TaskClaimed", {"title": str, "epoch": int, "from": str, "why": NotRequired[Why]}
)


class TaskReleased(TypedDict):
    title: str
    released: str  # the agent whose claim/assignment was dropped
    why: NotRequired[Why]


class TaskDependency(TypedDict):
    """``task.dep_added`` and ``task.dep_removed``."""

    title: str
    dependency: str
    why: NotRequired[Why]


class TaskRemoved(TypedDict):
    title: str
    task: dict[str, Any]  # the removed task's index row
    updated: list[str]  # dependents and children that no longer point at it
    why: NotRequired[Why]


TaskGateRefused = TypedDict(
    "TaskGateRefused",
    {"title": str | None, "gate": str, "from": str, "to": str, "why": NotRequired[Why]},
)


class Subscription(TypedDict):
    """``task.subscribed`` and ``task.unsubscribed``."""

    title: str | None
    agent: str
    why: NotRequired[Why]


# -- messages and documents -----------------------------------------------------------------


class MessageAdded(TypedDict):
    title: str
    message: str  # the message ID
    kind: str  # comment, question, answer, review, status_update
    mentions: list[str]
    excerpt: str
    why: NotRequired[Why]


class MessageDirect(TypedDict):
    excerpt: str
    text: str
    why: NotRequired[Why]


class DocChange(TypedDict):
    """``doc.added``, ``doc.edited`` (with ``fields``) and ``doc.removed``."""

    title: str | None
    type: str | None
    task: str | None
    fields: NotRequired[list[str]]  # doc.edited: title and/or body
    why: NotRequired[Why]


class SpecChange(TypedDict):
    """``spec.created``, ``spec.edited`` (with ``fields``) and ``spec.removed``."""

    title: str
    fields: NotRequired[list[str]]  # spec.edited: title and/or body
    why: NotRequired[Why]


class SpecExpanded(TypedDict):
    title: str
    runtime: str  # simulated, llm or command
    requirements: int
    questions: int  # open questions left
    assumptions: int
    why: NotRequired[Why]


class SpecDrift(TypedDict):
    """``spec check`` found drift between a spec and its tasks (the notify list names the
    assignees and the spec's author)."""

    title: str | None
    problems: list[str]  # one line each, bounded
    tasks: list[str]
    why: NotRequired[Why]


# -- agents ---------------------------------------------------------------------------------


class AgentAdded(TypedDict):
    role: str
    level: str
    why: NotRequired[Why]


class AgentEdited(TypedDict):
    fields: list[str]
    why: NotRequired[Why]


class AgentRemoved(TypedDict):
    agent: dict[str, Any]  # the removed agent's index row
    unassigned: list[str]
    why: NotRequired[Why]


AgentStatus = TypedDict("AgentStatus", {"from": str, "to": str, "why": NotRequired[Why]})


AgentMoved = TypedDict("AgentMoved", {"from": str | None, "to": str, "why": NotRequired[Why]})
"""``agent move``: the agent's ``host`` before (None: unowned) and after."""


class AgentReset(TypedDict):
    failures: int
    retry_after: str | None
    status: str
    why: NotRequired[Why]


class AgentHeartbeat(TypedDict):
    """A tick worth an event: ``worked`` (applied, rejected, tokens, cost_usd), ``failed``
    (error, failures, blocked) or ``budget`` (error)."""

    outcome: Literal["worked", "failed", "budget"]
    applied: NotRequired[int]
    rejected: NotRequired[int]
    tokens: NotRequired[int]
    cost_usd: NotRequired[float]
    error: NotRequired[str]
    failures: NotRequired[int]
    blocked: NotRequired[bool]
    why: NotRequired[Why]


class AgentContained(TypedDict):
    reverted: list[str]  # paths restored
    diff: str  # bounded
    why: NotRequired[Why]


class AgentProposed(TypedDict):
    """A lead proposed an agent (created pending; the actor is the proposer)."""

    role: str
    level: str
    capabilities: list[str]
    runtime: str
    reason: str
    why: NotRequired[Why]


class AgentApproved(TypedDict):
    """A person approved a proposed agent: it ticks and takes work from now on."""

    role: str
    level: str
    proposed_by: str | None
    why: NotRequired[Why]


class AgentRejected(TypedDict):
    """A person rejected a proposed agent: its files are removed."""

    agent: dict[str, Any]  # the rejected agent's index row
    reason: str
    proposed_by: str | None
    why: NotRequired[Why]


class MemoryAdded(TypedDict):
    kind: Literal["daily", "long_term"]
    path: str
    chars: int
    why: NotRequired[Why]


class MemoryCompacted(TypedDict):
    method: str  # fold, trim, llm
    folded: list[str]  # days folded into MEMORY.md
    dropped: int
    summarised: int
    chars_after: int
    fallback: NotRequired[str]  # why an llm summary was not used
    why: NotRequired[Why]


# -- conditions and doctor ------------------------------------------------------------------


class AttentionRaised(TypedDict):
    key: str
    kind: str
    subject: str
    state: str
    detail: str
    title: str | None
    assignees: list[str]
    why: NotRequired[Why]


class RecordFound(TypedDict):
    """``record.adopted`` and ``record.lost`` (written by ``agentctl doctor``)."""

    kind: str  # task, agent, doc or record
    path: str
    why: NotRequired[Why]


class ConfigChanged(TypedDict):
    """``agentctl config set|unset``: one setting of ``.agentctl/config.yaml`` (the subject is
    its dotted key) changed from ``old`` to ``new`` (values from the file or the defaults,
    never the environment's)."""

    key: str
    old: Any
    new: Any
    unset: NotRequired[bool]  # removed from the file: ``new`` is the default
    why: NotRequired[Why]


class WorkingApplied(TypedDict):
    """Legacy ``working.applied``."""

    moves: int


Payload = (
    WorkspaceInit
    | NoteAdded
    | TaskCreated
    | TaskEdited
    | TaskMoved
    | TaskAssigned
    | TaskUnassigned
    | TaskClaimed
    | TaskReleased
    | TaskDependency
    | TaskRemoved
    | TaskGateRefused
    | Subscription
    | MessageAdded
    | MessageDirect
    | DocChange
    | SpecChange
    | SpecExpanded
    | SpecDrift
    | AgentAdded
    | AgentEdited
    | AgentRemoved
    | AgentStatus
    | AgentReset
    | AgentMoved
    | AgentHeartbeat
    | AgentContained
    | AgentProposed
    | AgentApproved
    | AgentRejected
    | MemoryAdded
    | MemoryCompacted
    | AttentionRaised
    | RecordFound
    | ConfigChanged
)
"""The data of an event agentctl writes (``Mutation.record``)."""

PAYLOADS: dict[KnownEventType, type] = {
    "workspace.init": WorkspaceInit,
    "note.added": NoteAdded,
    "task.created": TaskCreated,
    "task.edited": TaskEdited,
    "task.moved": TaskMoved,
    "task.assigned": TaskAssigned,
    "task.unassigned": TaskUnassigned,
    "task.claimed": TaskClaimed,
    "task.released": TaskReleased,
    "task.dep_added": TaskDependency,
    "task.dep_removed": TaskDependency,
    "task.removed": TaskRemoved,
    "task.gate_refused": TaskGateRefused,
    "task.subscribed": Subscription,
    "task.unsubscribed": Subscription,
    "message.added": MessageAdded,
    "message.direct": MessageDirect,
    "doc.added": DocChange,
    "doc.edited": DocChange,
    "doc.removed": DocChange,
    "spec.created": SpecChange,
    "spec.edited": SpecChange,
    "spec.removed": SpecChange,
    "spec.expanded": SpecExpanded,
    "spec.drift": SpecDrift,
    "agent.added": AgentAdded,
    "agent.edited": AgentEdited,
    "agent.removed": AgentRemoved,
    "agent.status": AgentStatus,
    "agent.reset": AgentReset,
    "agent.moved": AgentMoved,
    "agent.heartbeat": AgentHeartbeat,
    "agent.contained": AgentContained,
    "agent.proposed": AgentProposed,
    "agent.approved": AgentApproved,
    "agent.rejected": AgentRejected,
    "memory.added": MemoryAdded,
    "memory.compacted": MemoryCompacted,
    "attention.raised": AttentionRaised,
    "record.adopted": RecordFound,
    "record.lost": RecordFound,
    "config.changed": ConfigChanged,
    "working.applied": WorkingApplied,
}
"""Each type's payload TypedDict (tests check every recorded event against it)."""
