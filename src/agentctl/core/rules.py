"""Who may do what: the status state machine and per-agent permissions. Pure functions.

The workflow comes from config as plain data (``config["workflow"]``). An actor is a human
(no restrictions beyond the state machine) or an agent whose level grants defaults, adjusted
by the agent's ``permissions.allow`` / ``permissions.deny`` lists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agentctl.errors import ConflictError, PermissionDeniedError

LEVEL_PERMISSIONS: dict[str, frozenset[str]] = {
    "intern": frozenset({"create_tasks"}),
    "specialist": frozenset({"create_tasks", "move_done", "review"}),
    "lead": frozenset(
        {"create_tasks", "move_done", "skip_review", "assign_others", "move_any", "remove_tasks", "edit_agents", "review"}
    ),
}


@dataclass(frozen=True)
class Actor:
    """Who performs an operation. ``level`` is None for humans."""

    name: str
    level: str | None = None
    allow: frozenset[str] = field(default_factory=frozenset)
    deny: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_agent(self) -> bool:
        return self.level is not None

    def can(self, permission: str) -> bool:
        if not self.is_agent:
            return True
        if permission in self.deny:
            return False
        return permission in self.allow or permission in LEVEL_PERMISSIONS.get(self.level or "", frozenset())

    def require(self, permission: str, doing: str) -> None:
        if not self.can(permission):
            raise PermissionDeniedError(
                f"{self.name} ({self.level}) may not {doing}",
                hint=f"a lead or a human can do it, or grant '{permission}' in the agent's permissions",
            )


def allowed_next(workflow: dict[str, Any], status: str) -> list[str]:
    return list(workflow["transitions"].get(status, []))


def check_transition(workflow: dict[str, Any], current: str, target: str) -> None:
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
        raise ConflictError(f"cannot move from {current} to {target}; allowed from {current}: {choices}")


def check_move_permission(
    actor: Actor, workflow: dict[str, Any], task: dict[str, Any], target: str
) -> None:
    """Agents move only their own tasks (unless ``move_any``; reviewers may move tasks out of
    review), reach done only via review, and never approve their own work when the workflow
    separates reviewers from implementers."""
    if not actor.is_agent:
        return
    implementers = set(task.get("assignees") or [])
    claim = task.get("claim") or {}
    if claim.get("claimed_by"):
        implementers.add(claim["claimed_by"])
    reviewing = task["status"] == workflow["review"]
    reviewer = reviewing and actor.can("review")
    if actor.name not in task.get("assignees", []) and not actor.can("move_any") and not reviewer:
        raise PermissionDeniedError(
            f"{actor.name} ({actor.level}) may only move tasks assigned to it; "
            f"{task['id']} is assigned to {', '.join(task.get('assignees') or []) or 'nobody'}"
        )
    if target in workflow["done"]:
        actor.require("move_done", f"move tasks to {target}")
        if workflow.get("separate_reviewer", True) and reviewing and target in workflow["done"] and actor.name in implementers:
            raise PermissionDeniedError(
                f"{actor.name} implemented {task['id']} and may not approve it: another agent must review it",
                hint="set workflow.separate_reviewer: false in config to allow self-review",
            )
        if task["status"] != workflow["review"] and not actor.can("skip_review"):
            raise PermissionDeniedError(
                f"{actor.name} ({actor.level}) may not move a task to {target} without review: "
                f"move it to {workflow['review']} first"
            )
