"""Reads of the task graph for the workspace facade: the graph view, the critical path, the
schedule, dependency loops and blocked tasks, and the critical-path line of WORKING.md.

Everything here reads the index (no record file is parsed) and returns data; the CLI renders
it with :mod:`agentctl.core.graph_render` and :mod:`agentctl.core.gantt_render`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from agentctl.core import graph, ids
from agentctl.errors import UsageError
from agentctl.workspace.base import WorkspaceBase

if TYPE_CHECKING:
    from collections.abc import Mapping

    from agentctl.core.gantt import Calendar, Schedule
    from agentctl.core.graph_render import GraphView
    from agentctl.core.plan import CriticalPath, Effort
    from agentctl.core.rows import PlanTask

# The planning and rendering modules (core.gantt, core.plan, core.graph_render) are imported
# by the methods that use them: every command builds this class, few of them draw graphs.

WORKING_NEXT = 3  # tasks of the critical path named in WORKING.md
_CACHE_KEY = "working_critical_path"


@dataclass
class GanttResult:
    schedule: Schedule
    tasks: dict[str, PlanTask]
    short: dict[str, str]
    calendar: Calendar


class GraphOps(WorkspaceBase):
    # -- shared ------------------------------------------------------------------------

    @property
    def effort(self) -> Effort:
        """The planning settings (hours per day, days per week, default estimate) as used by the
        critical path and the gantt schedule."""
        from agentctl.core.plan import Effort

        return Effort.from_config(self.config)

    def _open_tasks(self, root: str | None) -> tuple[dict[str, PlanTask], str | None]:
        """The open tasks (under ``root``: its subtree, through finished parents too) and the
        resolved root ID."""
        from agentctl.core.graph_render import subtree

        self.refresh()
        done = self.workflow["done"]
        tasks = self.index.graph(exclude_statuses=done)
        if root is None:
            return tasks, None
        root_id = self.resolve_task(root)
        parents = {
            task_id: {"parent": parent} for task_id, parent in self.index.graph_parents().items()
        }
        scope = subtree(parents, root_id)
        return {task_id: task for task_id, task in tasks.items() if task_id in scope}, root_id

    def _short_ids(self) -> dict[str, str]:
        return ids.short_ids(self.index.task_ids())

    # -- graph -------------------------------------------------------------------------

    def graph_view(self, root: str | None = None, include_done: bool = False) -> GraphView:
        """The dependency and parent/child graph: open tasks (every task with
        ``include_done``) under ``root``, the critical path marked."""
        from agentctl.core.graph_render import build_view
        from agentctl.core.plan import critical_path

        self.refresh()
        flow = self.workflow
        tasks = self.index.graph()
        root_id = self.resolve_task(root) if root else None
        plan = critical_path(tasks, flow["done"], self.effort, root_id)
        return build_view(
            tasks,
            flow["done"],
            self._short_ids(),
            root_id,
            include_done,
            plan.path,
            plan.earliest_start,
        )

    # -- critical path -----------------------------------------------------------------

    def critical_path_report(self, root: str | None = None) -> dict[str, Any]:
        """The critical path of the open tasks (under ``root``) with timing and slack of every
        open task, the tasks that used the default estimate and those left out (loops)."""
        from agentctl.core.plan import critical_path

        tasks, root_id = self._open_tasks(root)
        effort = self.effort
        plan = critical_path(tasks, (), effort)
        short = self._short_ids()
        return critical_path_data(
            plan, tasks, short, effort, root_id, str(self.config["planning"]["default_estimate"])
        )

    # -- gantt -------------------------------------------------------------------------

    def gantt(
        self, root: str | None = None, start: date | None = None, lanes: int | None = None
    ) -> GanttResult:
        """A schedule of the open tasks (under ``root``) from ``start`` (default today).

        Unassigned work goes to the agents dispatch would give work to (not on the manual
        runtime, unless ``dispatch.include_manual``), or to ``lanes`` anonymous lanes."""
        from agentctl.core.gantt import Calendar, schedule

        if lanes is not None and lanes < 1:
            raise UsageError(f"--lanes must be at least 1, not {lanes}")
        tasks, _ = self._open_tasks(root)
        config = self.config
        include_manual = bool(config["dispatch"]["include_manual"])
        pool = [
            agent["name"]
            for agent in self.index.agents()
            if include_manual or (agent.get("runtime") or "manual") != "manual"
        ]
        flow = self.workflow
        started = [s for s in (flow.get("in_progress"), flow.get("review")) if s]
        result = schedule(tasks, (), self.effort, None, pool, lanes, started)
        planning = config["planning"]
        calendar = Calendar(
            start or date.today(),
            float(planning["hours_per_day"]),
            float(planning["days_per_week"]),
        )
        return GanttResult(result, tasks, self._short_ids(), calendar)

    # -- cycles and blocked tasks ------------------------------------------------------

    def cycles(self) -> list[dict[str, Any]]:
        """Every loop in the task graph (see :func:`agentctl.core.graph.structure_cycles`),
        each with the titles of its tasks."""
        self.refresh()
        tasks = self.index.graph()
        short = self._short_ids()
        found = []
        for loop in graph.structure_cycles(tasks):
            members = [
                {
                    "id": t,
                    "short_id": short.get(t, t),
                    "title": tasks[t]["title"],
                    "status": tasks[t]["status"],
                }
                for t in loop["path"]
            ]
            found.append({"kind": loop["kind"], "path": loop["path"], "tasks": members})
        return found

    def blocked(self, explain: bool = False) -> list[dict[str, Any]]:
        """Open tasks that wait for unfinished (or missing) dependencies or are in the blocked
        status, in work order; with ``explain`` each carries ``chain``: why it waits, and
        why what it waits for is not done yet, down to tasks that wait for nothing."""
        self.refresh()
        flow = self.workflow
        done = set(flow["done"])
        tasks = self.index.graph()
        short = self._short_ids()
        found = []
        for task in sorted(tasks.values(), key=graph.work_order_key):
            if task["status"] in done:
                continue
            waits = graph.blockers(tasks, task, done)
            if not waits and task["status"] != flow["blocked"]:
                continue
            item = {**task, "short_id": short.get(task["id"], task["id"]), "waits_for": waits}
            if explain:
                item["chain"] = _why(tasks, task, flow, short, set())
            found.append(item)
        return found


def _why(
    tasks: Mapping[str, Mapping[str, Any]],
    task: Mapping[str, Any],
    flow: Mapping[str, Any],
    short: Mapping[str, str],
    seen: set[str],
) -> list[dict[str, Any]]:
    """Why ``task`` waits, in the words of :func:`graph.explain_ready` (its status only when
    that is the blocked status), each unfinished dependency with its own reasons below it.
    A loop is named once, not followed."""
    seen = seen | {task["id"]}
    reasons: list[dict[str, Any]] = []
    if task["status"] == flow["blocked"]:
        reasons.append({"reason": f"status is {task['status']}"})
    for dep_id, via in graph.waits(tasks, task, flow["done"]):
        item: dict[str, Any] = {
            "reason": graph.wait_reason(tasks, task, dep_id, via),
            "task": dep_id,
            "chain": [],
        }
        dep = tasks.get(dep_id)
        if dep is not None:
            item.update(
                {
                    "short_id": short.get(dep_id, dep_id),
                    "title": dep["title"],
                    "status": dep["status"],
                }
            )
            item["reason"] = graph.wait_reason(tasks, task, dep_id, via, short)
            if via is not None:  # the words after "through" (the CLI puts the title before them)
                item["via"] = via
                item["through"] = item["reason"].split(", through ", 1)[1]
            if dep_id in seen:
                item["reason"] += ": a dependency loop (see graph cycles)"
            else:
                item["chain"] = _why(tasks, dep, flow, short, seen)
        reasons.append(item)
    return reasons


def critical_path_data(
    plan: CriticalPath,
    tasks: Mapping[str, Mapping[str, Any]],
    short: Mapping[str, str],
    effort: Effort,
    root: str | None,
    default_estimate: str,
) -> dict[str, Any]:
    """A critical path as JSON-ready data (hours rounded to 0.01)."""

    def entry(task_id: str) -> dict[str, Any]:
        task = tasks[task_id]
        return {
            "id": task_id,
            "short_id": short.get(task_id, task_id),
            "title": task.get("title", ""),
            "status": task.get("status"),
            "estimate": task.get("estimate"),
            "expected_hours": round(plan.hours[task_id], 2),
            "earliest_start": round(plan.earliest_start[task_id], 2),
            "earliest_finish": round(plan.earliest_finish[task_id], 2),
            "slack_hours": round(plan.slack[task_id], 2),
            "critical": task_id in plan.path,
            "summary": task_id in parents,
            "missing_estimate": task_id in missing,
        }

    missing = set(plan.missing)
    parents = {str(t["parent"]) for t in tasks.values() if t.get("parent") in plan.hours}
    ordered = sorted(plan.earliest_start, key=lambda t: (plan.earliest_start[t], plan.slack[t], t))
    return {
        "root": root,
        "total_hours": round(plan.total_hours, 2),
        "total_days": round(plan.total_hours / effort.hours_per_day, 2),
        "hours_per_day": effort.hours_per_day,
        "default_estimate": default_estimate,
        "path": [entry(t) for t in plan.path],
        "tasks": [entry(t) for t in ordered],
        "missing_estimates": [
            {"id": t, "short_id": short.get(t, t), "title": tasks[t].get("title", "")}
            for t in plan.missing
        ],
        "cyclic": [
            {"id": t, "short_id": short.get(t, t), "title": tasks[t].get("title", "")}
            for t in plan.cyclic
        ],
    }


# -- WORKING.md --------------------------------------------------------------------------


# Above this many open tasks WORKING.md names the command instead of tracing the path after
# every change (~1 s per 50,000 open tasks on the reference machine).
WORKING_PATH_MAX_OPEN = 5000


def working_critical_path(ws: WorkspaceBase, open_count: int) -> dict[str, Any] | None:
    """The critical-path line of WORKING.md: the next few open tasks on the path and the
    work left along it, or None when nothing is open.

    Rendered after every mutation, so it is cached in the index by the exact input of the
    computation (``Index.plan_text``: every open task's ID, parent, dependencies and
    estimate, plus the planning settings): a move between open statuses, a claim or a
    comment costs one SQL query; only a change of the plan's input recomputes it.
    """
    import hashlib

    from agentctl.core.plan import Effort, critical_path

    config = ws.config
    done = list(config["workflow"]["done"])
    if open_count > WORKING_PATH_MAX_OPEN:
        # Tracing 50,000 open tasks after every change costs seconds: the line says so.
        return {"too_many": open_count, "limit": WORKING_PATH_MAX_OPEN}
    effort = Effort.from_config(config)
    text = ws.index.plan_text(done)
    if not text:
        return None
    key = (
        json.dumps([effort.hours_per_day, effort.days_per_week, effort.default_hours, done])
        + "\n"
        + text
    )
    signature = int.from_bytes(
        hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "big", signed=True
    )

    def compute() -> dict[str, Any]:
        tasks: dict[str, dict[str, Any]] = {}
        for line in text.split("\n"):
            task_id, parent, depends, estimate = line.split("|")
            if depends == "[]":
                waits: Any = None
            elif depends.startswith('["') and depends.endswith(
                '"]'
            ):  # json.dumps of IDs (the index writes it)
                waits = depends[2:-2].split('", "')
            else:
                waits = json.loads(depends)
            tasks[task_id] = {
                "parent": parent or None,
                "depends_on": waits,
                "estimate": estimate or None,
            }
        plan = critical_path(tasks, (), effort, slack=False)
        return {"path": plan.path, "total_hours": plan.total_hours, "cyclic": len(plan.cyclic)}

    cached: dict[str, Any] = ws.index.cached(_CACHE_KEY, signature, compute)
    shown = []
    for task_id in cached["path"][:WORKING_NEXT]:
        task = ws.index.task(task_id)
        if task is not None:
            shown.append({"id": task_id, "short_id": ws.short_id(task_id), "title": task["title"]})
    return {
        "next": shown,
        "more": max(0, len(cached["path"]) - len(shown)),
        "total_hours": cached["total_hours"],
        "hours_per_day": effort.hours_per_day,
        "cyclic": cached["cyclic"],
    }
