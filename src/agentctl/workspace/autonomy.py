"""Autonomy operations of the workspace facade: agents that break work down and propose agents.

- ``plan_subtasks``: a task broken down into subtasks with dependencies among them, applied as
  one mutation through :meth:`PlanningOps.apply_plan` (the roadmap import's code) under the
  source ``plan:<parent-id>``, so planning the same task again updates its subtasks instead of
  adding more. Priorities come from the parent and the critical path of the new subtasks.
- ``propose_agent``: a new agent created *pending* (``approval: pending`` in its record); it
  never ticks, acts or takes work until a person runs ``approve_agent`` (or ``reject_agent``,
  which removes it). Only people approve or reject.

The rules are in docs/planning.md ("Autonomous planning").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from agentctl.core.rules import Actor, is_pending
from agentctl.errors import ConflictError, PermissionDeniedError, UsageError
from agentctl.paths import validate_name
from agentctl.workspace.agents import AgentOps, _check_agent_text
from agentctl.workspace.base import timestamp
from agentctl.workspace.planning import PlanningOps
from agentctl.workspace.tasks import validate_model

if TYPE_CHECKING:
    from agentctl.core import events as ev
    from agentctl.core.actions import Subtask
    from agentctl.core.records import AgentRecord
    from agentctl.store.roadmap_plan import Plan

PLAN_SOURCE = "plan:"  # + the parent's ID: the source key of an agent's plan
MAX_SUBTASKS = 20
PROPOSED_LEVELS = ("intern", "specialist")
PROPOSED_RUNTIMES = ("manual", "llm", "simulated")  # never command: no agent picks what runs


class AutonomyOps(PlanningOps, AgentOps):
    # -- planning ------------------------------------------------------------------------------

    def plan_subtasks(
        self, actor: Actor, parent: str, subtasks: Sequence[Subtask], dry_run: bool = False
    ) -> dict[str, Any]:
        """Break task ``parent`` down into ``subtasks`` (at most 20), as one mutation; returns
        the report of :meth:`apply_plan`. Needs ``create_tasks`` and ``plan`` (leads). A
        dependency that names no subtask of the plan, or a loop of dependencies, refuses the
        whole plan (nothing is written). Subtasks inherit the parent's priority; those on the
        critical path of the plan are one level more urgent."""
        actor.require("create_tasks", "create tasks from a plan")
        actor.require("plan", "plan subtasks (break a task down)")
        if not subtasks:
            raise UsageError("a plan needs at least one subtask")
        if len(subtasks) > MAX_SUBTASKS:
            raise UsageError(
                f"a plan has at most {MAX_SUBTASKS} subtasks, not {len(subtasks)}",
                hint="plan the first steps now and break them down further later",
            )
        self.refresh()
        parent_id = self.resolve_task(parent)
        row = self._task_row(parent_id)
        if row["status"] in self.workflow["done"]:
            raise ConflictError(f"{parent_id} is {row['status']}: plan under an open task")
        plan = self._subtask_plan(parent_id, subtasks, int(row.get("priority", 2)))
        return self.apply_plan(
            actor, plan, dry_run=dry_run, parent=parent_id, what=f"{actor.name} planned"
        )

    def _subtask_plan(self, parent_id: str, subtasks: Sequence[Subtask], priority: int) -> Plan:
        from agentctl.core.plan import Effort, critical_path
        from agentctl.store import roadmap_plan as rp
        from agentctl.store.roadmap_fields import normalise_ref

        items = []
        for number, sub in enumerate(subtasks, 1):
            items.append(
                rp.Item(
                    title=sub.title,
                    kind="task",
                    line=number,
                    number=str(number),
                    estimate=sub.estimate,
                    depends=[(ref, number) for ref in sub.depends_on],
                    labels=list(dict.fromkeys(sub.labels)),
                    criteria=[rp.Criterion(text) for text in dict.fromkeys(sub.criteria)],
                    description=[sub.description] if sub.description else [],
                    explicit=True,
                )
            )
        titles = [normalise_ref(item.title) for item in items]
        twice = sorted({t for t in titles if titles.count(t) > 1})
        if twice:
            raise UsageError(f"two subtasks have the same title {twice[0]!r}: titles must differ")
        plan = rp.finish(rp.Plan(source=f"{PLAN_SOURCE}{parent_id}", items=items))
        if plan.unresolved:
            first = plan.unresolved[0]
            raise UsageError(
                f"subtask {first.item}: dependency {first.reference!r} names no subtask of this plan "
                f"(name one by its number, {'1' if len(items) == 1 else f'1-{len(items)}'}, or its title)"
            )
        if plan.cycles:
            cut = plan.cycles[0]
            raise ConflictError(
                f"the subtasks depend on each other in a loop (subtask {' -> '.join(cut.cycle)}): "
                "nothing was planned"
            )
        # Priorities: the parent's, one level more urgent on the critical path of the plan.
        effort = Effort.from_config(self.config)
        graph = {
            item.number or "": {
                "id": item.number,
                "status": "open",
                "estimate": item.estimate,
                "depends_on": [dep.number for dep in item.deps],
            }
            for item in items
        }
        critical = critical_path(graph, (), effort).critical
        for item in items:
            item.priority = max(0, priority - 1) if item.number in critical else priority
        return plan

    # -- proposed agents -----------------------------------------------------------------------

    def propose_agent(
        self,
        actor: Actor,
        name: str,
        role: str,
        capabilities: list[str] | None = None,
        level: str = "specialist",
        runtime: str = "manual",
        persona: str | None = None,
        reason: str = "",
    ) -> dict[str, Any]:
        """Create agent ``name`` pending approval (``approval: pending``, ``proposed_by``);
        needs ``propose_agents`` (leads). The level is at most specialist; the runtime is
        manual, llm or simulated. One ``agent.proposed`` event. Returns the new record."""
        from agentctl.config import template_text
        from agentctl.store.frontmatter import Document

        actor.require("propose_agents", "propose agents")
        validate_name(name, "agent name")
        if level not in PROPOSED_LEVELS:
            raise UsageError(
                f"a proposed agent's level is {' or '.join(PROPOSED_LEVELS)}, not {level!r}"
            )
        if runtime not in PROPOSED_RUNTIMES:
            raise UsageError(
                f"a proposed agent's runtime is {', '.join(PROPOSED_RUNTIMES)}, not {runtime!r} "
                "(a person sets a command after approving it)"
            )
        _check_agent_text(
            {"role": role, "capabilities": capabilities, "persona": persona, "runtime": runtime}
        )
        with self._mutate(actor) as m:
            if self.index.agent(name) is not None or self.layout.agent(name).exists():
                raise ConflictError(f"an agent named {name!r} already exists")
            fields: dict[str, Any] = {
                "name": name,
                "role": role,
                "level": level,
                "capabilities": list(dict.fromkeys(capabilities or [])),
                "runtime": runtime,
                "host": self.host,  # the proposing machine runs it once approved
                "approval": "pending",
                "proposed_by": actor.name if actor.is_agent else None,
                "created_at": timestamp(),
            }
            fields = {k: v for k, v in fields.items() if v is not None}
            path = self.layout.agent(name)
            validate_model("Agent", fields, self.layout.relative(path))
            if not persona:
                strengths = "\n".join(f"- {c}" for c in fields["capabilities"]) or "- general work"
                persona = (
                    template_text("persona.md")
                    .replace("{name}", name)
                    .replace("{role}", role)
                    .replace("{level}", level)
                    .replace("{capabilities}", strengths)
                )
            m.create(path, Document.new(fields, persona).dumps())
            self._stage_state(m, name, {"status": "idle"})
            proposed: ev.AgentProposed = {
                "role": role,
                "level": level,
                "capabilities": fields["capabilities"],
                "runtime": runtime,
                "reason": reason.strip()[:500],
            }
            m.record("agent.proposed", name, proposed)
            returned = fields
        return returned

    def pending_agents(self) -> list[AgentRecord]:
        """Proposed agents waiting for a person's approval, by name."""
        self.refresh()
        return [agent for agent in self.index.agents() if is_pending(agent)]

    def approve_agent(self, actor: Actor, name: str) -> dict[str, Any]:
        """A person approves a proposed agent: from now on it ticks and takes work. One
        ``agent.approved`` event, notifying the proposer. Returns the record."""
        from agentctl.store.frontmatter import Document
        from agentctl.store.reading import read_record
        from agentctl.workspace.agents import AGENT_ORDER

        _human_only(actor, "approve", name)
        with self._mutate(actor) as m:
            agent = self._pending_row(name, "approve")
            path = self.layout.agent(name)
            rel = self.layout.relative(path)
            doc = Document.parse(read_record(path, rel), rel)
            merged = {**doc.plain(), "approval": "approved"}
            validate_model("Agent", merged, rel)
            doc.update({"approval": "approved"}, order=AGENT_ORDER)
            m.write(path, doc.dumps())
            proposer = agent.get("proposed_by")
            approved: ev.AgentApproved = {
                "role": str(agent.get("role", "")),
                "level": str(agent.get("level", "specialist")),
                "proposed_by": proposer,
            }
            m.record("agent.approved", name, approved, [proposer] if proposer else None)
            returned = merged
        return returned

    def reject_agent(self, actor: Actor, name: str, reason: str = "") -> dict[str, Any]:
        """A person rejects a proposed agent: its files are removed. One ``agent.rejected``
        event (with the record and the reason), notifying the proposer."""
        from agentctl.core.text import check_line

        _human_only(actor, "reject", name)
        if reason:
            check_line(reason, "reason")
        with self._mutate(actor) as m:
            agent = self._pending_row(name, "reject")
            m.delete(self.layout.agent(name))
            if self.layout.agent_state(name).exists():
                m.delete(self.layout.agent_state(name))
            proposer = agent.get("proposed_by")
            rejected: ev.AgentRejected = {
                "agent": dict(agent),
                "reason": reason.strip()[:500],
                "proposed_by": proposer,
            }
            notify = [proposer] if proposer and self.index.agent(proposer) else None
            m.record("agent.rejected", name, rejected, notify)
            returned = {**agent, "reason": reason.strip()}
        return returned

    def _pending_row(self, name: str, doing: str) -> AgentRecord:
        agent = self._agent_row(name)
        if not is_pending(agent):
            hint = f"remove it with 'agentctl agent rm {name}'" if doing == "reject" else None
            raise ConflictError(
                f"{name} is not waiting for approval (it is {agent.get('approval') or 'active'})",
                hint=hint,
            )
        return agent


def _human_only(actor: Actor, doing: str, name: str) -> None:
    if actor.is_agent:
        raise PermissionDeniedError(
            f"{actor.name} ({actor.level}) may not {doing} agent {name}: only a person may {doing} proposed agents",
            hint=f"a person runs 'agentctl agent {doing} {name}' (without --as or AGENTCTL_AGENT)",
        )
