"""Record models: the schema of every file agentctl reads and writes.

All models forbid unknown fields, so a typo in a hand-edited file is reported instead of
silently ignored. ``docs/schema/*.json`` is generated from these models (a test keeps it
current). Importing pydantic costs ~100 ms, so read commands are served from the index and
only writes and ``validate`` import this module.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from agentctl.core.duration import parse_duration, parse_estimate
from agentctl.core.fields import AGENT_STATUSES as AGENT_STATUSES
from agentctl.core.fields import (
    DOC_ID_PATTERN,
    EVENT_ID_PATTERN,
    HOURS_PATTERN,
    LABEL_PATTERN,
    MESSAGE_ID_PATTERN,
    MILESTONE_ID_PATTERN,
    NAME_PATTERN,
    ONE_LINE_PATTERN,
    REQUIREMENT_ID_PATTERN,
    SPEC_HASH_PATTERN,
    SPEC_ID_PATTERN,
    STATUS_PATTERN,
    TASK_ID_PATTERN,
    AgentStatus,
    Approval,
    CommandOutput,
    DocType,
    Level,
    MessageKind,
    Permission,
    RuntimeKind,
    Sandbox,
    SpecStatus,
    date_value,
    priority_value,
    timestamp_value,
)
from agentctl.core.fields import LEVELS as LEVELS
from agentctl.core.fields import PERMISSION_NAMES as PERMISSION_NAMES
from agentctl.core.fields import RUNTIMES as RUNTIMES

Name = Annotated[str, Field(pattern=NAME_PATTERN, description="a lowercase name: a-z, 0-9, '-'")]
TaskId = Annotated[
    str, Field(pattern=TASK_ID_PATTERN, description="a task ID, e.g. t-4k7q2m9x3bce")
]
Status = Annotated[str, Field(pattern=STATUS_PATTERN, description="a workflow status name")]
# Timestamps and dates are parsed by the same functions as on the fast path (pydantic's own
# parsing would also take numbers as epoch seconds, which the readers refuse).
Timestamp = Annotated[datetime, BeforeValidator(timestamp_value)]
Day = Annotated[date, BeforeValidator(date_value)]


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, defer_build=True)


class FileRecord(Record):
    """A record the hot paths check with the validators generated from its model
    (core/record_checks.py). Strict, so that pydantic accepts exactly what they accept: no
    numbers as strings, booleans as numbers or strings as booleans."""

    model_config = ConfigDict(
        extra="forbid", validate_assignment=True, defer_build=True, strict=True
    )


def utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def parse_priority(value: Any) -> int:
    """Priorities are 0 (most urgent) to 3; ``p0``..``p3`` are accepted."""
    number = priority_value(value)
    if number is None:
        raise ValueError(f"priority must be 0-3 or p0-p3, not {value!r}")
    return number


def _check_duration(value: str | None) -> str | None:
    if value is not None:
        parse_duration(value)
    return value


def _check_estimate(value: str | None) -> str | None:
    if value is not None:
        parse_estimate(value)
    return value


class Claim(FileRecord):
    """An exclusive, leased hold on a task by one agent (or person)."""

    claimed_by: str = Field(description="who holds the claim")
    epoch: int = Field(ge=1, description="fencing epoch: increases with every new claim")
    lease_expires: Timestamp = Field(description="when the claim may be taken over")


class Task(FileRecord):
    """Frontmatter of ``.agentctl/tasks/<id>.md``. The body holds Description,
    Acceptance criteria (a checklist) and Notes sections."""

    id: TaskId
    title: str = Field(
        min_length=1,
        max_length=500,
        pattern=ONE_LINE_PATTERN,
        description="one line",
    )
    status: Status
    priority: int = Field(default=2, ge=0, le=3, description="0 = most urgent, 3 = least")
    assignees: list[Name] = Field(default_factory=list)
    labels: list[Annotated[str, Field(min_length=1, max_length=64, pattern=LABEL_PATTERN)]] = Field(
        default_factory=list
    )
    parent: TaskId | None = None
    depends_on: list[TaskId] = Field(default_factory=list)
    spec: str | None = Field(default=None, description="link to a spec section: <spec-id>#<anchor>")
    spec_hash: str | None = Field(
        default=None,
        pattern=SPEC_HASH_PATTERN,
        description="hash of the linked requirement's text when the task was planned (spec check)",
    )
    estimate: str | None = Field(
        default=None, description="a duration such as 30m, 4h, 2d, 1w, or a range such as 4h-6h"
    )
    due: Day | None = None
    source: str | None = Field(
        default=None,
        min_length=1,
        max_length=500,
        pattern=ONE_LINE_PATTERN,
        description="where an imported task came from: <file>#<key> (roadmap import) or "
        "<tool>:<id> such as taskwarrior:<uuid>, beads:<id>, github:<number>, backlog:<id> "
        "(import from other trackers); a re-import matches on it",
    )
    created_by: str = Field(min_length=1, max_length=128)
    created_at: Timestamp
    updated_at: Timestamp
    claim: Claim | None = None

    _priority = field_validator("priority", mode="before")(parse_priority)
    _estimate = field_validator("estimate")(_check_estimate)


class HeartbeatSettings(FileRecord):
    every: str = Field(default="15m", description="interval between ticks, e.g. 15m")
    offset: str | None = Field(default=None, description="stagger within the interval, e.g. 2m")
    active_hours: str | None = Field(
        default=None,
        pattern=HOURS_PATTERN,
        description="e.g. 09:00-18:00 (local time)",
    )

    _every = field_validator("every")(_check_duration)
    _offset = field_validator("offset")(_check_duration)


class Budget(FileRecord):
    daily_tokens: int | None = Field(default=None, ge=0)
    daily_usd: float | None = Field(default=None, ge=0)


class Permissions(FileRecord):
    """Grants and denials on top of the defaults of the agent's level."""

    allow: list[Permission] = Field(default_factory=list)
    deny: list[Permission] = Field(default_factory=list)


class Agent(FileRecord):
    """Frontmatter of ``.agentctl/agents/<name>.md``; the body is the persona (SOUL)."""

    name: Name
    role: str = Field(min_length=1, max_length=64)
    level: Level = "specialist"
    capabilities: list[Name] = Field(default_factory=list)
    runtime: RuntimeKind = Field(
        default="manual",
        description="manual (does nothing on its own) | simulated (demo, tests) | command | llm",
    )
    model: str | None = None
    api_base: str | None = Field(
        default=None,
        max_length=300,
        pattern=r"^https?://[^\s@]+$",
        description="llm runtime: this agent's endpoint, e.g. a local OpenAI-compatible server "
        "(overrides llm.api_base; no credentials: the record is committed)",
    )
    command: list[str] | None = Field(
        default=None, description="argument list for the command runtime"
    )
    sandbox: Sandbox | None = Field(
        default=None,
        description="command runtime: run the child under bubblewrap (default: the config's sandbox)",
    )
    output: CommandOutput | None = Field(
        default=None,
        description="command runtime: how stdout is read: text (default, as printed) | claude-json "
        "(the 'result' field of 'claude -p --output-format json') | gemini-json (the 'response' field)",
    )
    host: Name | None = Field(
        default=None,
        description="the machine that runs this agent's heartbeats ('agentctl host' names this "
        "one); absent: unowned, ticked by any machine of a workspace without a git remote",
    )
    heartbeat: HeartbeatSettings = Field(default_factory=HeartbeatSettings)
    budget: Budget | None = None
    permissions: Permissions | None = None
    approval: Approval | None = Field(
        default=None,
        description="an agent another agent proposed: pending (never ticks, takes no work) until "
        "a person runs 'agent approve', then approved; absent: added by a person, active",
    )
    proposed_by: Name | None = Field(default=None, description="the agent that proposed it")
    created_at: Timestamp


class AgentState(FileRecord):
    """``.agentctl/agents/<name>.state.yaml``: runtime state written only by the tool."""

    status: AgentStatus = "idle"
    current_task: TaskId | None = None
    last_heartbeat: Timestamp | None = None
    last_outcome: str | None = None
    inbox_cursor: str | None = None
    failures: int = Field(default=0, ge=0, description="consecutive failed ticks")
    retry_after: Timestamp | None = Field(
        default=None, description="no tick before this time (backoff)"
    )
    host: Name | None = Field(
        default=None,
        description="the machine that last wrote this state (its agent's host, when all is well)",
    )


class Message(FileRecord):
    """Frontmatter of ``.agentctl/threads/<task-id>/<time>-<id>.md``; the body is markdown.
    Messages are append-only: one file each, never edited by the tool."""

    id: str = Field(pattern=MESSAGE_ID_PATTERN)
    task: TaskId
    author: str = Field(min_length=1, max_length=128)
    created_at: Timestamp
    kind: MessageKind = "comment"
    mentions: list[Name] = Field(default_factory=list, description="agents notified by @mention")
    reply_to: str | None = Field(default=None, pattern=MESSAGE_ID_PATTERN)


class Document(FileRecord):
    """Frontmatter of ``.agentctl/docs/<id>.md``; the body is the document (markdown)."""

    id: str = Field(pattern=DOC_ID_PATTERN)
    title: str = Field(min_length=1, max_length=500, pattern=ONE_LINE_PATTERN)
    type: DocType
    task: TaskId | None = None
    author: str = Field(min_length=1, max_length=128)
    created_at: Timestamp
    updated_at: Timestamp
    source_url: str | None = Field(
        default=None,
        max_length=2000,
        pattern=r"^https?://[^\s]+$",
        description="a fetched document: the page it was converted from ('agentctl fetch', fetch_doc)",
    )
    fetched_at: Timestamp | None = Field(
        default=None, description="a fetched document: when its source was last downloaded"
    )


class Spec(FileRecord):
    """Frontmatter of ``.agentctl/specs/<id>.md``. The body holds the sections Summary,
    Goals, Non-goals, Requirements (R1, R2 ...), Acceptance criteria, Milestones (M1 ...),
    Open questions and Assumptions (docs/specs.md)."""

    id: str = Field(pattern=SPEC_ID_PATTERN, description="a spec ID, e.g. s-4k7q2m9x3bce")
    title: str = Field(min_length=1, max_length=500, pattern=ONE_LINE_PATTERN)
    status: SpecStatus = Field(
        default="draft", description="draft (an idea) | expanded (written out by a runtime)"
    )
    author: str = Field(min_length=1, max_length=128)
    created_at: Timestamp
    updated_at: Timestamp


SpecLine = Annotated[str, Field(min_length=1, max_length=1000, pattern=ONE_LINE_PATTERN)]
RequirementId = Annotated[
    str, Field(pattern=REQUIREMENT_ID_PATTERN, description="R1, R2 ... (stable anchors)")
]


class SpecRequirement(FileRecord):
    """One requirement of a spec expansion."""

    id: RequirementId
    text: SpecLine
    estimate: str | None = Field(default=None, description="e.g. 4h, 2d, 4h-6h")
    depends_on: list[RequirementId] = Field(default_factory=list, max_length=20)
    labels: list[Annotated[str, Field(min_length=1, max_length=64, pattern=LABEL_PATTERN)]] = Field(
        default_factory=list, max_length=10, description="the skills it needs (dispatch)"
    )

    _estimate = field_validator("estimate")(_check_estimate)


class SpecMilestone(FileRecord):
    """A milestone of a spec expansion: a title and the requirements it delivers."""

    id: str = Field(pattern=MILESTONE_ID_PATTERN, description="M1, M2 ...")
    title: SpecLine
    requirements: list[RequirementId] = Field(default_factory=list, max_length=50)


class SpecExpansion(FileRecord):
    """The JSON a runtime answers to ``spec expand``: the spec written out. Validated (the
    generated fast check, the same as this model) before anything is written."""

    summary: str = Field(min_length=1, max_length=4000)
    goals: list[SpecLine] = Field(default_factory=list, max_length=30)
    non_goals: list[SpecLine] = Field(default_factory=list, max_length=30)
    requirements: list[SpecRequirement] = Field(min_length=1, max_length=50)
    acceptance: list[SpecLine] = Field(default_factory=list, max_length=50)
    milestones: list[SpecMilestone] = Field(default_factory=list, max_length=20)
    questions: list[SpecLine] = Field(
        default_factory=list, max_length=20, description="open questions left"
    )
    assumptions: list[SpecLine] = Field(default_factory=list, max_length=30)


class SpecQuestions(FileRecord):
    """The JSON a runtime answers when ``spec expand`` asks what it needs to know first: at
    most 8 clarifying questions, most important first."""

    questions: list[SpecLine] = Field(default_factory=list, max_length=8)


SpecTaskRef = Annotated[
    str, Field(pattern=r"^T[1-9][0-9]{0,2}$", description="T1, T2 ...: a task of this answer")
]


class SpecTask(FileRecord):
    """One task of a spec plan answer: the requirement it works towards (an anchor the spec
    has) and the other tasks of the same answer it waits for."""

    id: SpecTaskRef
    title: str = Field(min_length=1, max_length=200, pattern=ONE_LINE_PATTERN)
    requirement: RequirementId
    description: str | None = Field(default=None, max_length=4000)
    acceptance: list[SpecLine] = Field(default_factory=list, max_length=20)
    estimate: str | None = Field(default=None, description="e.g. 4h, 2d, 4h-6h")
    labels: list[Annotated[str, Field(min_length=1, max_length=64, pattern=LABEL_PATTERN)]] = Field(
        default_factory=list, max_length=10, description="the skills it needs (dispatch)"
    )
    depends_on: list[SpecTaskRef] = Field(default_factory=list, max_length=20)

    _estimate = field_validator("estimate")(_check_estimate)


class SpecTaskPlan(FileRecord):
    """The JSON a runtime answers to ``spec plan --llm``: the tasks that deliver the spec's
    requirements. Validated (the generated fast check, the same as this model) and
    cross-checked (anchors, references, cycles, titles) before anything is written."""

    tasks: list[SpecTask] = Field(min_length=1, max_length=100)


class Event(FileRecord):
    """One line of ``.agentctl/events/<yyyy-mm-dd>.jsonl``."""

    id: str = Field(pattern=EVENT_ID_PATTERN)
    ts: Timestamp
    actor: str
    type: str = Field(pattern=r"^[a-z][a-z_.]*$")
    subject: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    notify: list[str] = Field(default_factory=list)


class InboxEntry(FileRecord):
    """One line of ``.agentctl/inbox/<agent>.jsonl``: the notifications (event IDs) the agent
    was shown (``delivered``) or read (``read``) at ``ts``. A line names at least one ID list
    (core/checks.py: not a schema rule)."""

    ts: Timestamp
    delivered: list[Annotated[str, Field(pattern=EVENT_ID_PATTERN)]] = Field(default_factory=list)
    read: list[Annotated[str, Field(pattern=EVENT_ID_PATTERN)]] = Field(default_factory=list)


# -- configuration -----------------------------------------------------------------------

DEFAULT_STATUSES = ["inbox", "assigned", "in_progress", "review", "done", "blocked"]
DEFAULT_TRANSITIONS: dict[str, list[str]] = {
    "inbox": ["assigned", "in_progress", "blocked"],
    "assigned": ["in_progress", "inbox", "blocked"],
    "in_progress": ["review", "done", "assigned", "blocked"],
    "review": ["done", "in_progress", "blocked"],
    "blocked": ["inbox", "assigned", "in_progress", "review"],
    "done": ["inbox", "assigned", "in_progress"],
}


GATE_TRANSITION = r"^\s*(\*|[a-z][a-z0-9_-]{0,31})\s*->\s*(\*|[a-z][a-z0-9_-]{0,31})\s*$"


class HumanGate(Record):
    """A status change only a person may make, for the tasks it covers: those with a listed
    priority or a listed label (with neither listed, every task)."""

    name: str | None = Field(
        default=None,
        min_length=1,
        max_length=80,
        pattern=r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029]*$",
        description="shown in refusals and in 'inbox --human' (default: a description of the gate)",
    )
    transition: str = Field(
        pattern=GATE_TRANSITION, description="FROM->TO; '*' matches any status, e.g. review->done"
    )
    priority: list[Annotated[int, BeforeValidator(parse_priority)]] = Field(
        default_factory=list, description="priorities covered (0-3 or p0-p3)"
    )
    labels: list[Annotated[str, Field(min_length=1, max_length=64, pattern=LABEL_PATTERN)]] = Field(
        default_factory=list, description="labels covered"
    )


class WorkflowConfig(Record):
    statuses: list[Status] = Field(default_factory=lambda: list(DEFAULT_STATUSES), min_length=2)
    transitions: dict[str, list[str]] = Field(default_factory=lambda: dict(DEFAULT_TRANSITIONS))
    initial: str = Field(default="inbox", description="status of new unassigned tasks")
    assigned: str = Field(
        default="assigned", description="status a task takes when assigned from inbox"
    )
    in_progress: str = Field(default="in_progress", description="status a claimed task takes")
    review: str = Field(default="review")
    done: list[str] = Field(
        default_factory=lambda: ["done"], description="statuses that count as finished"
    )
    blocked: str = Field(default="blocked")
    ready: list[str] = Field(
        default_factory=lambda: ["inbox", "assigned"],
        description="statuses from which a task can be ready",
    )
    separate_reviewer: bool = Field(
        default=True,
        description="the agent that moves a task out of review must not be one of its implementers",
    )
    require_review: bool = Field(
        default=True,
        description="agents reach done only from review, approved by an agent that did not implement the task (leads too)",
    )
    human_gates: list[HumanGate] = Field(
        default_factory=list,
        description="status changes that only a person may make (agents are refused)",
    )


class WorkingConfig(Record):
    path: str = Field(default="WORKING.md", pattern=r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*\.md$")
    max_per_status: int = Field(default=15, ge=1, le=500)
    recent_done: int = Field(default=10, ge=0, le=500)
    activity: int = Field(default=15, ge=0, le=500)


class GitConfig(Record):
    autocommit: bool = True
    closes_to: Literal["review", "done"] = Field(
        default="review",
        description="where a commit's 'Closes t-...' moves the task (post-commit git hook)",
    )


class SyncConfig(Record):
    """``agentctl sync``: the remote branch the workspace is shared through."""

    remote: str = Field(
        default="origin",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$",
        description="the git remote to fetch from and push to",
    )
    branch: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$",
        description="the remote branch to sync with (default: the checked-out branch's name)",
    )
    mode: Literal["rebase", "merge"] = Field(
        default="rebase", description="how fetched commits are integrated with local ones"
    )
    retries: int = Field(
        default=3, ge=0, le=20, description="fetch-and-retry rounds after a rejected push"
    )


class LockConfig(Record):
    timeout: float = Field(default=10.0, gt=0, le=3600, description="seconds to wait for the lock")


class TaskDefaults(Record):
    priority: int = Field(default=2, ge=0, le=3)
    claim_lease: str = Field(
        default="2h", description="how long a claim holds before it can be taken over"
    )

    _priority = field_validator("priority", mode="before")(parse_priority)
    _lease = field_validator("claim_lease")(_check_duration)


Argv = Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)]


class HeartbeatConfig(Record):
    """Workspace-wide heartbeat behaviour (each agent's schedule lives in its record)."""

    stale_after: str = Field(
        default="2h", description="in-progress work with no activity for this long is stale"
    )
    missed_beats: int = Field(
        default=3, ge=1, description="an agent silent for this many intervals is stale"
    )
    max_failures: int = Field(
        default=3, ge=1, description="consecutive failed ticks before the agent is blocked"
    )
    backoff: str = Field(
        default="1m", description="wait after a failed tick; doubles with each failure"
    )
    prompt_tokens: int = Field(
        default=6000, ge=500, le=200000, description="token budget of one prompt"
    )
    max_actions: int = Field(
        default=20, ge=1, le=200, description="actions applied from one answer at most"
    )
    record_idle_every: str = Field(
        default="1h", description="idle ticks update the tracked agent state at most this often"
    )
    sync: bool = Field(
        default=False,
        description="'heartbeat' (and the ticks of 'run') run 'agentctl sync' before and after each tick",
    )

    _stale = field_validator("stale_after")(_check_duration)
    _backoff = field_validator("backoff")(_check_duration)
    _idle = field_validator("record_idle_every")(_check_duration)


class LLMConfig(Record):
    """Defaults for agents on the ``llm`` runtime."""

    model: str | None = Field(default=None, description="model for llm agents that name none")
    max_tokens: int = Field(default=1500, ge=1, le=100000, description="output tokens per call")
    temperature: float = Field(default=0.2, ge=0, le=2)
    timeout: float = Field(
        default=60.0,
        gt=0,
        le=3600,
        description="seconds of wall-clock time per model call, its retries included",
    )
    retries: int = Field(default=2, ge=0, le=10)
    fallbacks: list[str] = Field(
        default_factory=list, description="models tried in order when a call fails"
    )
    api_base: str | None = Field(
        default=None, description="endpoint override (e.g. a local OpenAI-compatible server)"
    )
    cache: bool = Field(
        default=True, description="exact-match response cache under .agentctl/local/"
    )
    output: Literal["auto", "schema", "json", "text"] = Field(
        default="auto",
        description="how the answer's form is constrained: auto (the action list's JSON Schema where "
        "litellm says the model supports it, else JSON mode) | schema | json | text (the prompt alone)",
    )
    repair_turns: int = Field(
        default=1,
        ge=0,
        le=3,
        description="re-prompts with the exact errors when an answer (actions, a spec) fails validation (0: none)",
    )


class SecretsConfig(Record):
    """What is masked in everything agentctl writes or prints, besides the values of
    environment variables named like *KEY*, *TOKEN*, *SECRET*, *PASSWORD*."""

    env: list[Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")]] = Field(
        default_factory=list, description="more environment variables whose values are secrets"
    )


class PlanningConfig(Record):
    """Estimates and schedules (``graph critical-path``, ``graph gantt``, dispatch order)."""

    default_estimate: str = Field(
        default="4h",
        description="effort assumed for an open task without an estimate (such tasks are listed)",
    )
    hours_per_day: float = Field(
        default=8.0, gt=0, le=24, description="working hours in a day of effort (1d = this)"
    )
    days_per_week: float = Field(
        default=5.0, gt=0, le=7, description="working days in a week of effort (1w = this)"
    )

    _default_estimate = field_validator("default_estimate")(_check_estimate)


class DispatchConfig(Record):
    """``agentctl dispatch``: who gets which ready task."""

    wip_limit: int = Field(
        default=2, ge=1, le=100, description="open tasks an agent may hold before it gets no more"
    )
    labels: dict[Annotated[str, Field(min_length=1, max_length=64)], list[Name]] = Field(
        default_factory=dict,
        description="task label -> agent capabilities it matches (beyond the label itself)",
    )
    include_manual: bool = Field(
        default=False,
        description="also dispatch to agents on the manual runtime (people working through the CLI)",
    )


class EscalationConfig(Record):
    """``agentctl attention``: conditions raised to the leads (or the humans) once each."""

    stale_after: str = Field(
        default="1d", description="in-progress tasks without activity for this long"
    )
    bounce_limit: int = Field(
        default=2, ge=1, description="review -> in_progress returns before a task is raised"
    )

    _stale_after = field_validator("stale_after")(_check_duration)


class FetchConfig(Record):
    """``agentctl fetch`` and the agents' ``fetch_doc`` action (docs/integrations.md)."""

    max_bytes: int = Field(
        default=2_000_000, ge=1024, le=50_000_000, description="largest page downloaded, in bytes"
    )
    timeout: float = Field(
        default=20.0, gt=0, le=600, description="seconds one fetch may take, redirects included"
    )
    allow: list[Annotated[str, Field(pattern=r"^(\*\.)?[a-z0-9]([a-z0-9.-]{0,252})$")]] = Field(
        default_factory=list,
        description="domains agents may fetch from (a domain covers its subdomains); empty: agents "
        "fetch nothing. People's 'agentctl fetch' may fetch any public host",
    )
    allow_private: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list,
        description="loopback, private or link-local addresses or networks that may be fetched "
        "anyway, e.g. 127.0.0.1 or 10.1.0.0/16 (refused by default)",
    )

    @field_validator("allow_private")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        import ipaddress

        for item in value:
            ipaddress.ip_network(item, strict=False)  # ValueError names the bad entry
        return value


class Config(Record):
    """``.agentctl/config.yaml``."""

    schema_version: int = Field(default=1, ge=1, le=1)
    name: str = Field(default="agentctl workspace", max_length=200)
    workflow: WorkflowConfig = Field(default_factory=WorkflowConfig)
    tasks: TaskDefaults = Field(default_factory=TaskDefaults)
    working: WorkingConfig = Field(default_factory=WorkingConfig)
    git: GitConfig = Field(default_factory=GitConfig)
    sync: SyncConfig = Field(default_factory=SyncConfig)
    lock: LockConfig = Field(default_factory=LockConfig)
    heartbeat: HeartbeatConfig = Field(default_factory=HeartbeatConfig)
    llm: LLMConfig = Field(default_factory=LLMConfig)
    hooks: dict[
        Annotated[str, Field(pattern=r"^(\*|[a-z][a-z_]*(\.(\*|[a-z_]+))?)$")], list[Argv]
    ] = Field(
        default_factory=dict,
        description="event type (or 'task.*', '*') -> commands (argument lists, no shell) run with the event as JSON on stdin",
    )
    hook_timeout: float = Field(default=10.0, gt=0, le=600, description="seconds a hook may run")
    command_timeout: float = Field(
        default=900.0,
        gt=0,
        le=86400,
        description="seconds a command-runtime agent may run per tick",
    )
    sandbox: Sandbox = Field(
        default="auto",
        description="command agents run under bubblewrap: auto = where it works, bwrap = required, none = never",
    )
    secrets: SecretsConfig = Field(default_factory=SecretsConfig)
    planning: PlanningConfig = Field(default_factory=PlanningConfig)
    dispatch: DispatchConfig = Field(default_factory=DispatchConfig)
    escalation: EscalationConfig = Field(default_factory=EscalationConfig)
    fetch: FetchConfig = Field(default_factory=FetchConfig)
    allow_simulated: bool = Field(
        default=False,
        description="heartbeats may tick agents on the simulated runtime (set by 'agentctl demo'; "
        "elsewhere they are skipped, so stand-ins never do real tasks)",
    )


def check_workflow(workflow: WorkflowConfig) -> list[str]:
    """Consistency problems in a workflow (unknown statuses in transitions and roles)."""
    problems: list[str] = []
    known = set(workflow.statuses)
    for source, targets in workflow.transitions.items():
        if source not in known:
            problems.append(f"workflow.transitions: unknown status {source!r}")
        for target in targets:
            if target not in known:
                problems.append(f"workflow.transitions.{source}: unknown status {target!r}")
    for role in ("initial", "assigned", "in_progress", "review", "blocked"):
        if getattr(workflow, role) not in known:
            problems.append(f"workflow.{role}: unknown status {getattr(workflow, role)!r}")
    for status in (*workflow.done, *workflow.ready):
        if status not in known:
            problems.append(f"workflow: unknown status {status!r}")
    for number, gate in enumerate(workflow.human_gates):
        where = f"workflow.human_gates.{number}.transition"
        source, _, target = (part.strip() for part in gate.transition.partition("->"))
        unknown = [s for s in (source, target) if s != "*" and s not in known]
        if unknown:
            problems.append(f"{where}: unknown status {unknown[0]!r}")
        elif "*" not in (source, target) and target not in workflow.transitions.get(source, []):
            problems.append(f"{where}: {source} -> {target} is not a transition of the workflow")
    return problems
