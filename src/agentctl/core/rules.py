"""Who may do what: the status state machine, per-agent permissions and human gates. Pure functions.

The workflow comes from config as plain data (``config["workflow"]``). An actor is a human
(bound only by the state machine) or an agent whose level grants defaults, adjusted by the
agent's ``permissions.allow`` / ``permissions.deny`` lists. docs/permissions.md has the matrix.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from agentctl.errors import ConflictError, PermissionDeniedError
from agentctl.frozen import Frozen

if TYPE_CHECKING:
    from agentctl.core.records import AgentRecord

LEVEL_PERMISSIONS: dict[str, frozenset[str]] = {
    "intern": frozenset({"create_tasks"}),
    "specialist": frozenset({"create_tasks", "move_done", "fetch"}),
    "lead": frozenset(
        {
            "create_tasks",
            "move_done",
            "skip_review",
            "assign_others",
            "move_any",
            "remove_tasks",
            "edit_agents",
            "review",
            "plan",
            "propose_agents",
            "fetch",
        }
    ),
}
REVIEW = "review"  # both the capability and the permission that make an agent a reviewer


_FIELDS = ("name", "level", "allow", "deny", "capabilities")


class Actor(Frozen):
    """Who performs an operation. ``level`` is None for humans.

    Immutable, compared and hashed by its fields: what ``@dataclass(frozen=True)`` made it,
    written out (building a dataclass costs ~0.5 ms at every start)."""

    _fields = _FIELDS
    name: str
    level: str | None
    allow: frozenset[str]
    deny: frozenset[str]
    capabilities: frozenset[str]

    def __init__(
        self,
        name: str,
        level: str | None = None,
        allow: frozenset[str] = frozenset(),
        deny: frozenset[str] = frozenset(),
        capabilities: frozenset[str] = frozenset(),
    ) -> None:
        for key, value in zip(_FIELDS, (name, level, allow, deny, capabilities), strict=True):
            object.__setattr__(self, key, value)

    @property
    def is_agent(self) -> bool:
        return self.level is not None

    def can(self, permission: str) -> bool:
        if not self.is_agent:
            return True
        if permission in self.deny:
            return False
        return permission in self.allow or permission in LEVEL_PERMISSIONS.get(
            self.level or "", frozenset()
        )

    def may_review(self) -> bool:
        """Reviewers: the ``review`` capability or permission (leads have the permission by
        level); ``permissions.deny: [review]`` overrides both."""
        return self.can(REVIEW) or (REVIEW in self.capabilities and REVIEW not in self.deny)

    def require(self, permission: str, doing: str) -> None:
        if not self.can(permission):
            raise PermissionDeniedError(
                f"{self.name} ({self.level}) may not {doing}",
                hint=f"a lead or a human can do it, or grant '{permission}' in the agent's permissions",
            )


def may_review(agent: AgentRecord) -> bool:
    """:meth:`Actor.may_review` for an agent record (as the index returns it)."""
    return actor_of(agent).may_review()


PENDING = "pending"


def is_pending(agent: Mapping[str, Any]) -> bool:
    """A proposed agent no person has approved yet: it never ticks, acts or takes work."""
    return agent.get("approval") == PENDING


def pending_reason(name: str) -> str:
    return (
        f"{name} is a proposed agent waiting for approval; "
        f"a person approves it with 'agentctl agent approve {name}'"
    )


def actor_of(agent: AgentRecord) -> Actor:
    perms = agent.get("permissions") or {}
    return Actor(
        agent["name"],
        agent.get("level") or "specialist",
        frozenset(perms.get("allow") or []),
        frozenset(perms.get("deny") or []),
        frozenset(agent.get("capabilities") or []),
    )


def implementers(task: Mapping[str, Any]) -> set[str]:
    """Who did the work: the assignees and the holder of the claim."""
    names = set(task.get("assignees") or [])
    claim = task.get("claim") or {}
    if claim.get("claimed_by"):
        names.add(claim["claimed_by"])
    return names


def allowed_next(workflow: Mapping[str, Any], status: str) -> list[str]:
    return list(workflow["transitions"].get(status, []))


def check_transition(workflow: Mapping[str, Any], current: str, target: str) -> None:
    """Refuse a status change the state machine does not allow, naming the allowed ones."""
    if target not in workflow["statuses"]:
        raise ConflictError(
            f"unknown status {target!r}; statuses are: {', '.join(workflow['statuses'])}"
        )
    if current == target:
        raise ConflictError(f"the task is already {target}")
    allowed = allowed_next(workflow, current)
    if target not in allowed:
        choices = ", ".join(allowed) if allowed else "none"
        raise ConflictError(
            f"cannot move from {current} to {target}; allowed from {current}: {choices}"
        )


def check_assign_self(actor: Actor, task: Mapping[str, Any]) -> None:
    """Taking a task someone else holds (assignee or claim) needs ``assign_others``; an
    unowned task may be taken by anyone."""
    if not actor.is_agent:
        return
    owners = sorted(implementers(task) - {actor.name})
    if owners and not actor.can("assign_others"):
        raise PermissionDeniedError(
            f"{actor.name} ({actor.level}) may not assign itself to {task['id']}, which is assigned to {', '.join(owners)}",
            hint="a lead or a human can reassign it, or grant 'assign_others' in the agent's permissions",
        )


def check_move_permission(
    actor: Actor, workflow: Mapping[str, Any], task: Mapping[str, Any], target: str
) -> None:
    """Agents move only their own tasks (unless ``move_any``; reviewers move tasks out of
    review), reach done only through review (``require_review``; else with ``skip_review``),
    never approve their own work, and never cross a human gate. Humans: no limits here."""
    if not actor.is_agent:
        return
    review = workflow["review"]
    reviewing = task["status"] == review
    require_review = workflow.get("require_review", True)
    finishing = target in workflow["done"]
    if finishing:
        actor.require("move_done", f"move tasks to {target}")
    if reviewing:
        # Moving a task out of review is reviewing it, whoever holds the task.
        if (
            finishing
            and actor.name in implementers(task)
            and (require_review or workflow.get("separate_reviewer", True))
        ):
            raise PermissionDeniedError(
                f"{actor.name} implemented {task['id']} and may not approve it: another agent must review it",
                hint="an agent with the 'review' capability, a lead or a human approves it",
            )
        if not actor.may_review():
            raise PermissionDeniedError(
                f"{actor.name} ({actor.level}) may not review {task['id']}: moving a task out of {review} "
                f"needs the '{REVIEW}' capability or permission",
                hint=f"give the agent the '{REVIEW}' capability (agent edit NAME --add-capability {REVIEW}) or leave it to a reviewer",
            )
    elif actor.name not in (task.get("assignees") or []) and not actor.can("move_any"):
        raise PermissionDeniedError(
            f"{actor.name} ({actor.level}) may only move tasks assigned to it; "
            f"{task['id']} is assigned to {', '.join(task.get('assignees') or []) or 'nobody'}"
        )
    if finishing and not reviewing and (require_review or not actor.can("skip_review")):
        why = " (workflow.require_review)" if require_review else ""
        raise PermissionDeniedError(
            f"{actor.name} ({actor.level}) may not move a task to {target} without review{why}: "
            f"move {task['id']} to {review} first"
        )
    check_gates(actor, workflow, task, target)


# -- human gates ------------------------------------------------------------------------------


def gate_name(gate: Mapping[str, Any]) -> str:
    """A gate's ``name``, else a description of what it covers."""
    if gate.get("name"):
        return str(gate["name"])
    source, target = split_transition(gate["transition"])
    covers = []
    if gate.get("priority"):
        covers.append("priority: " + ", ".join(f"p{p}" for p in gate["priority"]))
    if gate.get("labels"):
        covers.append("labels: " + ", ".join(gate["labels"]))
    return f"{source} -> {target}" + (f" ({'; '.join(covers)})" if covers else "")


def split_transition(text: str) -> tuple[str, str]:
    source, _, target = text.partition("->")
    return source.strip(), target.strip()


def gate_for(
    workflow: Mapping[str, Any], task: Mapping[str, Any], source: str, target: str
) -> dict[str, Any] | None:
    """The first human gate covering ``source -> target`` for ``task``, if any. A gate covers a
    task when its priority is listed or it carries a listed label (neither listed: every task)."""
    for gate in workflow.get("human_gates") or []:
        gate_source, gate_target = split_transition(gate["transition"])
        if gate_source in ("*", source) and gate_target in ("*", target) and _covers(gate, task):
            return dict(gate)
    return None


def _covers(gate: Mapping[str, Any], task: Mapping[str, Any]) -> bool:
    priorities = gate.get("priority") or []
    labels = gate.get("labels") or []
    if not priorities and not labels:
        return True
    return task.get("priority") in priorities or bool(set(labels) & set(task.get("labels") or []))


def check_gate_escape(
    actor: Actor, workflow: Mapping[str, Any], before: Mapping[str, Any], after: Mapping[str, Any]
) -> None:
    """An agent may not edit a task (its priority or labels) out of a human gate's cover."""
    if not actor.is_agent:
        return
    for gate in workflow.get("human_gates") or []:
        if _covers(gate, before) and not _covers(gate, after):
            raise PermissionDeniedError(
                f"{actor.name} may not change the priority or labels of {before['id']} so that human gate "
                f"'{gate_name(gate)}' no longer covers it",
                hint="a person can change it",
            )


def check_gates(
    actor: Actor, workflow: Mapping[str, Any], task: Mapping[str, Any], target: str
) -> None:
    """Refuse an agent a status change that a human gate reserves for people."""
    if not actor.is_agent:
        return
    gate = gate_for(workflow, task, task["status"], target)
    if gate is None:
        return
    approve = task["status"] == workflow["review"] and target in workflow["done"]
    raise GateRefusal(
        f"{task['id']}: {task['status']} -> {target} needs a human (human gate '{gate_name(gate)}'); "
        f"{actor.name} may not do it",
        hint=(f"a person approves it with 'agentctl approve {task['id']}'" if approve
              else f"a person runs 'agentctl task move {task['id']} {target}'")
        + "; 'agentctl inbox --human' lists what waits",
        task=task["id"], gate=gate_name(gate), source=task["status"], target=target,
    )  # fmt: skip


class GateRefusal(PermissionDeniedError):
    """A refusal at a human gate: recorded for the humans (``task.gate_refused``)."""

    def __init__(
        self, message: str, hint: str, task: str, gate: str, source: str, target: str
    ) -> None:
        super().__init__(message, hint)
        self.task = task
        self.gate = gate
        self.source = source
        self.target = target
