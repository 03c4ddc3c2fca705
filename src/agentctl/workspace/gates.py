"""What waits for a person: human approval gates, ``approve`` / ``reject``, ``inbox --human``.

Gates are checked where every status change is (core/rules.py ``check_gates``); a refusal is
recorded as a ``task.gate_refused`` event by the task operations. This module adds the
people's side: the list of what waits for them, and the two verdicts on work in review.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal, cast

from agentctl.core import clock
from agentctl.core.rules import Actor, gate_for, gate_name
from agentctl.errors import PermissionDeniedError, UsageError
from agentctl.workspace.base import Mutation
from agentctl.workspace.collab import CollabOps
from agentctl.workspace.tasks import STATUS_CHANGES

if TYPE_CHECKING:
    from agentctl.core import events as ev
    from agentctl.core.records import TaskRecord
    from agentctl.core.rows import GateRefusalRow, GateWait, HumanInbox, NeedsHuman

MAX_REFUSALS_SCANNED = 500  # newest gate refusals looked at for what is still unresolved


def refuse_agents(actor: Actor, verb: str) -> None:
    if actor.is_agent:
        raise PermissionDeniedError(
            f"only a human may {verb} work: {actor.name} is an agent",
            hint="agents review with 'agentctl task move ID done' (or back to in_progress) where their permissions allow",
        )


class GateOps(CollabOps):
    def approve(self, actor: Actor, ref: str, note: str | None = None) -> dict[str, Any]:
        """A person's approval: review -> done (the first done status), also across gates."""
        refuse_agents(actor, "approve")
        flow = self.workflow
        return self._move_task(
            actor,
            ref,
            flow["done"][0],
            note,
            expect=flow["review"],
            also=self._verdict(actor, "approve", note),
        )

    def reject(self, actor: Actor, ref: str, note: str) -> dict[str, Any]:
        """A person sends work in review back to in_progress; the note goes on the thread."""
        refuse_agents(actor, "reject")
        if not note.strip():
            raise UsageError("reject needs a note saying what to change (--note TEXT)")
        flow = self.workflow
        return self._move_task(
            actor,
            ref,
            flow["in_progress"],
            note,
            expect=flow["review"],
            also=self._verdict(actor, "reject", note),
        )

    def _verdict(
        self, actor: Actor, verb: Literal["approve", "reject"], note: str | None
    ) -> Callable[[Mutation, TaskRecord], ev.MoveVerdict]:
        """Stage the verdict's review message on the task's thread, in the move's mutation."""

        def stage(m: Mutation, task: TaskRecord) -> ev.MoveVerdict:
            data: ev.MoveVerdict = {"via": verb}
            if note and note.strip():
                text = f"{'Approved' if verb == 'approve' else 'Changes requested'}: {note.strip()}"
                fields, _ = self.stage_message(m, actor, task["id"], text, "review")
                data["message"] = fields["id"]
            return data

        return stage

    # -- what waits for a person ----------------------------------------------------------

    def human_inbox(self, limit: int | None = None) -> HumanInbox:
        """What waits for a person: gated approvals and refusals, proposed agents waiting for
        approval (``agents``), and, in a workspace without a lead, the conditions that need
        attention (nobody else is told about them)."""

        from agentctl.workspace.attention import current_conditions

        self.refresh()
        result = needs_human(self.index, self.workflow, limit)
        leads = [a for a in self.index.agents() if a.get("level") == "lead"]
        conditions = [] if leads else current_conditions(self, clock.now())
        return {
            **result,
            "attention": [c.as_dict() for c in conditions[:limit]],
            "agents": [a for a in self.index.agents() if a.get("approval") == "pending"][:limit],
        }


def needs_human(index: Any, flow: Mapping[str, Any], limit: int | None = None) -> NeedsHuman:
    """What waits for a person: tasks in review whose approval a gate reserves for people, and
    agents' refusals at a gate that nothing has resolved since (no status change of the task
    after it), newest first. Both empty when no gate is configured."""
    if not flow.get("human_gates"):
        return {"waiting": [], "refusals": []}
    waiting: list[GateWait] = []
    in_review: list[TaskRecord] = index.tasks(statuses=[flow["review"]])
    for task in in_review:
        for target in flow["done"]:
            gate = gate_for(flow, task, flow["review"], target)
            if gate is not None:
                waiting.append(
                    {**task, "gate": gate_name(gate), "from": flow["review"], "to": target}
                )
                break
    events = index.events(types=["task.gate_refused"], limit=MAX_REFUSALS_SCANNED)
    statuses = index.statuses_of(sorted({e["subject"] for e in events}))
    last_change: dict[str, str] = {}
    refusals: list[GateRefusalRow] = []
    seen: set[tuple[str, str, str]] = set()
    for event in reversed(events):  # newest first
        task_id, data = event["subject"], cast("ev.TaskGateRefused", event["data"])
        if (
            statuses.get(task_id) != data.get("from")
            or (task_id, event["actor"], str(data.get("to"))) in seen
        ):
            continue  # resolved (the task moved on, or is gone), or a repeat
        if task_id not in last_change:
            changes = index.events(subject=task_id, types=STATUS_CHANGES, limit=1)
            last_change[task_id] = str(changes[0]["ts"]) if changes else ""
        if str(event["ts"]) < last_change[task_id]:
            continue  # the task left that status and came back since
        seen.add((task_id, event["actor"], str(data.get("to"))))
        refusals.append({
            "id": event["id"], "ts": event["ts"], "actor": event["actor"], "task": task_id,
            "title": data.get("title"), "gate": data.get("gate"), "from": data.get("from"), "to": data.get("to"),
        })  # fmt: skip
    if limit is not None:
        return {"waiting": waiting[:limit], "refusals": refusals[:limit]}
    return {"waiting": waiting, "refusals": refusals}
