"""``dispatch``: assign ready, unassigned tasks to the best-fit available agents.

The matching is pure (core/dispatch.py); this module gathers its inputs from the index and
applies the plan as ONE mutation: an event batch of ``task.assigned`` events (the data of
:meth:`TaskOps.assign`, plus the reason), every task moved to the workflow's assigned status
as ``assign`` does, the assignees notified, one journal entry and one commit. The CLI
(``agentctl dispatch``), a lead's ``dispatch`` action and the simulated lead all call it, so
people and agents dispatch identically.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from agentctl.core import clock
from agentctl.core.rules import Actor, gate_for, gate_name
from agentctl.errors import UsageError
from agentctl.workspace.tasks import TaskOps

if TYPE_CHECKING:  # imported where used: every command imports this module, few dispatch
    from agentctl.core import dispatch as matching
    from agentctl.core import events as ev


class _NothingAssigned(Exception):
    def __init__(self, plan: matching.Plan) -> None:
        super().__init__("nothing to assign")
        self.plan = plan


class DispatchOps(TaskOps):
    def dispatch(
        self,
        actor: Actor,
        dry_run: bool = False,
        limit: int | None = None,
        now: datetime | None = None,
    ) -> dict[str, Any]:
        """Assign ready, unassigned tasks; returns ``{"dry_run", "assignments", "skips"}``,
        each with a one-line reason. A dry run, or a plan with no assignment, writes nothing."""
        actor.require("assign_others", "dispatch tasks to agents")
        if limit is not None and limit < 1:
            raise UsageError("--limit must be at least 1")
        moment = now or clock.now()
        if dry_run:
            self.refresh()
            return {"dry_run": True, **self._dispatch_plan(actor, moment, limit).as_dict()}
        try:
            with self._mutate(actor) as m:
                plan = self._dispatch_plan(actor, moment, limit)
                if not plan.assignments:
                    raise _NothingAssigned(plan)
                flow = self.workflow
                m.batch_subject = f"dispatch: {len(plan.assignments)} task(s) assigned"
                for assignment in plan.assignments:
                    task = self._task_row(assignment.task)
                    changes: dict[str, Any] = {"assignees": [*task["assignees"], assignment.agent]}
                    if task["status"] == flow["initial"] and flow["assigned"] in flow[
                        "transitions"
                    ].get(task["status"], []):
                        changes["status"] = flow["assigned"]
                    self._stage_task(m, assignment.task, changes)
                    data: ev.TaskAssigned = {
                        "title": task["title"],
                        "added": [assignment.agent],
                        "via": "dispatch",
                        "reason": assignment.reason,
                    }
                    m.record_more("task.assigned", assignment.task, data, [assignment.agent])
                returned = plan
        except _NothingAssigned as nothing:
            return {"dry_run": False, **nothing.plan.as_dict()}
        return {"dry_run": False, **returned.as_dict()}

    def _dispatch_plan(self, actor: Actor, moment: datetime, limit: int | None) -> matching.Plan:
        from agentctl.core import dispatch as matching
        from agentctl.core.attention import local_time
        from agentctl.core.plan import Effort, critical_path
        from agentctl.store.index_dispatch import critical_tasks, open_children, ready_unassigned

        config, flow, index = self.config, self.workflow, self.index
        candidates = ready_unassigned(index, flow["ready"], flow["done"])
        critical: set[str] = set()
        summaries: dict[str, int] = {}
        refused: dict[str, str] = {}
        if candidates:
            effort = Effort.from_config(config)

            def on_the_path(tasks: dict[str, dict[str, Any]]) -> list[str]:
                path = critical_path(tasks, flow["done"], effort)
                return [task for task, slack in path.slack.items() if slack <= 1e-9]

            critical = critical_tasks(index, flow["done"], repr(effort), on_the_path)
            summaries = open_children(index, flow["done"])
            if actor.is_agent and flow.get("human_gates"):
                for task in candidates:
                    target = flow["assigned"] if task["status"] == flow["initial"] else None
                    gate = gate_for(flow, task, task["status"], target) if target else None
                    if gate is not None:
                        refused[task["id"]] = (
                            f"{task['status']} -> {target} needs a person (human gate '{gate_name(gate)}')"
                        )
        open_statuses = [s for s in flow["statuses"] if s not in flow["done"]]
        return matching.plan(
            candidates, index.agents(), index.states(), index.open_load(open_statuses),
            matching.Settings.from_config(config), moment, local_time(moment),
            critical=critical, summaries=summaries, refused=refused, limit=limit,
        )  # fmt: skip
