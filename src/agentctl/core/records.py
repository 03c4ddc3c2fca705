"""Typed records, GENERATED from the pydantic models by
``python -m agentctl.schema --validators`` (agentctl/schema_records.py): do not edit.

One ``TypedDict`` per record (and per record nested in one), describing the plain JSON data
the code passes around: timestamps and dates are ISO strings. ``complete`` records have every
key (``None`` where unset); the others (agents, agent states) have the keys of the file.
Typing only: modules on the read and write paths import it under ``TYPE_CHECKING``. No
``from __future__ import annotations``, so ``NotRequired`` is seen at run time (tests read
``__required_keys__``).
"""

from typing import Literal, NotRequired, TypedDict

from agentctl.core.events import EventType, Payload

Level = Literal["intern", "specialist", "lead"]
RuntimeKind = Literal["manual", "simulated", "command", "llm"]
Sandbox = Literal["auto", "bwrap", "none"]
AgentStatus = Literal["idle", "active", "blocked"]
MessageKind = Literal["comment", "question", "answer", "review", "status_update"]
DocType = Literal["deliverable", "research", "protocol", "decision"]
Permission = Literal[
    "assign_others",
    "move_any",
    "move_done",
    "skip_review",
    "remove_tasks",
    "edit_agents",
    "create_tasks",
    "review",
    "plan",
    "propose_agents",
    "fetch",
]


class ClaimRecord(TypedDict):
    """An exclusive, leased hold on a task by one agent (or person)."""

    claimed_by: str
    epoch: int
    lease_expires: str


class TaskRecord(TypedDict):
    """Frontmatter of ``.agentctl/tasks/<id>.md``. The body holds Description, Acceptance criteria
    (a checklist) and Notes sections."""

    id: str
    title: str
    status: str
    priority: int
    assignees: list[str]
    labels: list[str]
    parent: str | None
    depends_on: list[str]
    spec: str | None
    spec_hash: str | None
    estimate: str | None
    due: str | None
    source: str | None
    created_by: str
    created_at: str
    updated_at: str
    claim: ClaimRecord | None


class HeartbeatSettingsRecord(TypedDict):
    every: NotRequired[str]
    offset: NotRequired[str | None]
    active_hours: NotRequired[str | None]


class BudgetRecord(TypedDict):
    daily_tokens: NotRequired[int | None]
    daily_usd: NotRequired[float | None]


class PermissionsRecord(TypedDict):
    """Grants and denials on top of the defaults of the agent's level."""

    allow: NotRequired[list[Permission]]
    deny: NotRequired[list[Permission]]


class AgentRecord(TypedDict):
    """Frontmatter of ``.agentctl/agents/<name>.md``; the body is the persona (SOUL)."""

    name: str
    role: str
    level: NotRequired[Level]
    capabilities: NotRequired[list[str]]
    runtime: NotRequired[RuntimeKind]
    model: NotRequired[str | None]
    api_base: NotRequired[str | None]
    command: NotRequired[list[str] | None]
    sandbox: NotRequired[Sandbox | None]
    output: NotRequired[Literal["text", "claude-json", "gemini-json"] | None]
    host: NotRequired[str | None]
    heartbeat: NotRequired[HeartbeatSettingsRecord]
    budget: NotRequired[BudgetRecord | None]
    permissions: NotRequired[PermissionsRecord | None]
    approval: NotRequired[Literal["pending", "approved"] | None]
    proposed_by: NotRequired[str | None]
    created_at: str


class AgentStateRecord(TypedDict):
    """``.agentctl/agents/<name>.state.yaml``: runtime state written only by the tool."""

    status: NotRequired[AgentStatus]
    current_task: NotRequired[str | None]
    last_heartbeat: NotRequired[str | None]
    last_outcome: NotRequired[str | None]
    inbox_cursor: NotRequired[str | None]
    failures: NotRequired[int]
    retry_after: NotRequired[str | None]
    host: NotRequired[str | None]


class MessageRecord(TypedDict):
    """Frontmatter of ``.agentctl/threads/<task-id>/<time>-<id>.md``; the body is markdown. Messages
    are append-only: one file each, never edited by the tool."""

    id: str
    task: str
    author: str
    created_at: str
    kind: MessageKind
    mentions: list[str]
    reply_to: str | None


class DocumentRecord(TypedDict):
    """Frontmatter of ``.agentctl/docs/<id>.md``; the body is the document (markdown)."""

    id: str
    title: str
    type: DocType
    task: str | None
    author: str
    created_at: str
    updated_at: str
    source_url: str | None
    fetched_at: str | None


class EventRecord(TypedDict):
    """One line of ``.agentctl/events/<yyyy-mm-dd>.jsonl``."""

    id: str
    ts: str
    actor: str
    type: EventType
    subject: str | None
    data: Payload
    notify: list[str]


class InboxEntryRecord(TypedDict):
    """One line of ``.agentctl/inbox/<agent>.jsonl``: the notifications (event IDs) the agent was
    shown (``delivered``) or read (``read``) at ``ts``. A line names at least one ID list
    (core/checks.py: not a schema rule)."""

    ts: str
    delivered: NotRequired[list[str]]
    read: NotRequired[list[str]]


class HumanGateRecord(TypedDict):
    """A status change only a person may make, for the tasks it covers: those with a listed priority
    or a listed label (with neither listed, every task)."""

    name: str | None
    transition: str
    priority: list[int]
    labels: list[str]


class WorkflowConfigRecord(TypedDict):
    statuses: list[str]
    transitions: dict[str, list[str]]
    initial: str
    assigned: str
    in_progress: str
    review: str
    done: list[str]
    blocked: str
    ready: list[str]
    separate_reviewer: bool
    require_review: bool
    human_gates: list[HumanGateRecord]


class TaskDefaultsRecord(TypedDict):
    priority: int
    claim_lease: str


class WorkingConfigRecord(TypedDict):
    path: str
    max_per_status: int
    recent_done: int
    activity: int


class GitConfigRecord(TypedDict):
    autocommit: bool
    closes_to: Literal["review", "done"]


class SyncConfigRecord(TypedDict):
    """``agentctl sync``: the remote branch the workspace is shared through."""

    remote: str
    branch: str | None
    mode: Literal["rebase", "merge"]
    retries: int


class LockConfigRecord(TypedDict):
    timeout: float


class HeartbeatConfigRecord(TypedDict):
    """Workspace-wide heartbeat behaviour (each agent's schedule lives in its record)."""

    stale_after: str
    missed_beats: int
    max_failures: int
    backoff: str
    prompt_tokens: int
    max_actions: int
    record_idle_every: str
    sync: bool


class LLMConfigRecord(TypedDict):
    """Defaults for agents on the ``llm`` runtime."""

    model: str | None
    max_tokens: int
    temperature: float
    timeout: float
    retries: int
    fallbacks: list[str]
    api_base: str | None
    cache: bool
    output: Literal["auto", "schema", "json", "text"]
    repair_turns: int


class SecretsConfigRecord(TypedDict):
    """What is masked in everything agentctl writes or prints, besides the values of environment
    variables named like *KEY*, *TOKEN*, *SECRET*, *PASSWORD*."""

    env: list[str]


class PlanningConfigRecord(TypedDict):
    """Estimates and schedules (``graph critical-path``, ``graph gantt``, dispatch order)."""

    default_estimate: str
    hours_per_day: float
    days_per_week: float


class DispatchConfigRecord(TypedDict):
    """``agentctl dispatch``: who gets which ready task."""

    wip_limit: int
    labels: dict[str, list[str]]
    include_manual: bool


class EscalationConfigRecord(TypedDict):
    """``agentctl attention``: conditions raised to the leads (or the humans) once each."""

    stale_after: str
    bounce_limit: int


class FetchConfigRecord(TypedDict):
    """``agentctl fetch`` and the agents' ``fetch_doc`` action (docs/integrations.md)."""

    max_bytes: int
    timeout: float
    allow: list[str]
    allow_private: list[str]


class ConfigRecord(TypedDict):
    """``.agentctl/config.yaml``."""

    schema_version: int
    name: str
    workflow: WorkflowConfigRecord
    tasks: TaskDefaultsRecord
    working: WorkingConfigRecord
    git: GitConfigRecord
    sync: SyncConfigRecord
    lock: LockConfigRecord
    heartbeat: HeartbeatConfigRecord
    llm: LLMConfigRecord
    hooks: dict[str, list[list[str]]]
    hook_timeout: float
    command_timeout: float
    sandbox: Sandbox
    secrets: SecretsConfigRecord
    planning: PlanningConfigRecord
    dispatch: DispatchConfigRecord
    escalation: EscalationConfigRecord
    fetch: FetchConfigRecord
    allow_simulated: bool


class SpecRecord(TypedDict):
    """Frontmatter of ``.agentctl/specs/<id>.md``. The body holds the sections Summary, Goals,
    Non-goals, Requirements (R1, R2 ...), Acceptance criteria, Milestones (M1 ...), Open questions
    and Assumptions (docs/specs.md)."""

    id: str
    title: str
    status: NotRequired[Literal["draft", "expanded"]]
    author: str
    created_at: str
    updated_at: str


class SpecRequirementRecord(TypedDict):
    """One requirement of a spec expansion."""

    id: str
    text: str
    estimate: NotRequired[str | None]
    depends_on: NotRequired[list[str]]
    labels: NotRequired[list[str]]


class SpecMilestoneRecord(TypedDict):
    """A milestone of a spec expansion: a title and the requirements it delivers."""

    id: str
    title: str
    requirements: NotRequired[list[str]]


class SpecExpansionRecord(TypedDict):
    """The JSON a runtime answers to ``spec expand``: the spec written out. Validated (the generated
    fast check, the same as this model) before anything is written."""

    summary: str
    goals: NotRequired[list[str]]
    non_goals: NotRequired[list[str]]
    requirements: list[SpecRequirementRecord]
    acceptance: NotRequired[list[str]]
    milestones: NotRequired[list[SpecMilestoneRecord]]
    questions: NotRequired[list[str]]
    assumptions: NotRequired[list[str]]


class SpecQuestionsRecord(TypedDict):
    """The JSON a runtime answers when ``spec expand`` asks what it needs to know first: at most 8
    clarifying questions, most important first."""

    questions: NotRequired[list[str]]


class SpecTaskRecord(TypedDict):
    """One task of a spec plan answer: the requirement it works towards (an anchor the spec has) and
    the other tasks of the same answer it waits for."""

    id: str
    title: str
    requirement: str
    description: NotRequired[str | None]
    acceptance: NotRequired[list[str]]
    estimate: NotRequired[str | None]
    labels: NotRequired[list[str]]
    depends_on: NotRequired[list[str]]


class SpecTaskPlanRecord(TypedDict):
    """The JSON a runtime answers to ``spec plan --llm``: the tasks that deliver the spec's
    requirements. Validated (the generated fast check, the same as this model) and cross-checked
    (anchors, references, cycles, titles) before anything is written."""

    tasks: list[SpecTaskRecord]
