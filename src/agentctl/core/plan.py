"""Planning arithmetic over the task graph: effort, the critical path and slack.

Pure functions over plain task mappings as served by :meth:`Index.graph` (``id``,
``status``, ``depends_on``, ``parent``, ``estimate``, ...).

The rules (docs/planning.md):

- **Effort** is working time: ``1d`` is ``hours_per_day`` hours and ``1w`` is
  ``days_per_week`` days (not 24 h / 7 d as for heartbeat intervals).
- **Expected effort** of a range ``min-max`` follows PERT with the midpoint as the most
  likely value, ``(min + 4*mid + max) / 6``, which is the midpoint; a single value is itself.
- **Open tasks** only: finished tasks take no time and impose no wait. An open task with no
  estimate gets the configured default and is listed in ``missing``.
- **Parents** (tasks with open children) are summaries, as in project planners: a parent
  starts when its own dependencies are met, its children start no earlier than it, and it
  finishes when its last child does. Its own estimate is ignored while it has open children.
- Tasks in a dependency cycle are left out and listed in ``cyclic`` (``graph cycles`` shows
  the cycles); dependencies on missing tasks are ignored.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from agentctl.core.duration import parse_estimate

TaskMap = Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True)
class Effort:
    """How working time is counted."""

    hours_per_day: float = 8.0
    days_per_week: float = 5.0
    default_hours: float = 4.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Effort:
        planning = config.get("planning") or {}
        effort = cls(float(planning.get("hours_per_day", 8.0)), float(planning.get("days_per_week", 5.0)))
        low, high = effort.range_hours(str(planning.get("default_estimate", "4h")))
        return cls(effort.hours_per_day, effort.days_per_week, (low + high) / 2)

    def range_hours(self, estimate: str) -> tuple[float, float]:
        """``(min, max)`` working hours of an estimate (``4h``, ``2d``, ``4h-6h``)."""
        day = self.hours_per_day
        units = {"s": 1 / 3600, "m": 1 / 60, "h": 1.0, "d": day, "w": day * self.days_per_week}
        return parse_estimate(estimate, units)

    def expected_hours(self, estimate: str | None) -> float | None:
        """PERT expected effort in hours, or None when there is no (valid) estimate."""
        if not estimate:
            return None
        try:
            low, high = self.range_hours(estimate)
        except ValueError:
            return None
        middle = (low + high) / 2
        return (low + 4 * middle + high) / 6


@dataclass
class CriticalPath:
    """The longest chain of open work, with timing for every open task (in working hours)."""

    path: list[str] = field(default_factory=list)  # leaf tasks on the chain, first to last
    total_hours: float = 0.0
    hours: dict[str, float] = field(default_factory=dict)  # expected effort per open task
    earliest_start: dict[str, float] = field(default_factory=dict)
    earliest_finish: dict[str, float] = field(default_factory=dict)
    slack: dict[str, float] = field(default_factory=dict)  # 0 on the critical path
    missing: list[str] = field(default_factory=list)  # open tasks that used the default estimate
    cyclic: list[str] = field(default_factory=list)  # open tasks left out: in a dependency cycle

    @property
    def critical(self) -> set[str]:
        return {task for task, slack in self.slack.items() if slack <= 1e-9}


def _subtree(tasks: TaskMap, root: str) -> set[str]:
    children: dict[str, list[str]] = {}
    for task_id, task in tasks.items():
        parent = task.get("parent")
        if parent:
            children.setdefault(parent, []).append(task_id)
    found, queue = {root}, deque([root])
    while queue:
        for child in children.get(queue.popleft(), ()):
            if child not in found:
                found.add(child)
                queue.append(child)
    return found


def critical_path(
    tasks: TaskMap, done: Iterable[str], effort: Effort | None = None, root: str | None = None
) -> CriticalPath:
    """The critical path of the open tasks (under ``root`` when given)."""
    effort = effort or Effort()
    done_set = set(done)
    scope = _subtree(tasks, root) if root else set(tasks)
    open_ids = sorted(t for t in scope if t in tasks and tasks[t].get("status") not in done_set)
    open_set = set(open_ids)
    children: dict[str, list[str]] = {}
    for task_id in open_ids:
        parent = tasks[task_id].get("parent")
        if parent in open_set:
            children.setdefault(parent, []).append(task_id)
    result = CriticalPath()
    for task_id in open_ids:
        if task_id in children:
            result.hours[task_id] = 0.0
            continue
        hours = effort.expected_hours(tasks[task_id].get("estimate"))
        if hours is None:
            hours = effort.default_hours
            result.missing.append(task_id)
        result.hours[task_id] = hours

    # Each task is two events, start (S) and finish (F); edges carry the duration to wait.
    def s(task: str) -> tuple[str, str]:
        return ("S", task)

    def f(task: str) -> tuple[str, str]:
        return ("F", task)

    edges: dict[tuple[str, str], list[tuple[tuple[str, str], float]]] = {}
    indegree: dict[tuple[str, str], int] = {}
    for task_id in open_ids:
        indegree.setdefault(s(task_id), 0)
        indegree.setdefault(f(task_id), 0)

    def link(a: tuple[str, str], b: tuple[str, str], weight: float) -> None:
        edges.setdefault(a, []).append((b, weight))
        indegree[b] = indegree.get(b, 0) + 1

    for task_id in open_ids:
        link(s(task_id), f(task_id), result.hours[task_id])
        for dep in dict.fromkeys(tasks[task_id].get("depends_on") or ()):
            if dep in open_set:
                link(f(dep), s(task_id), 0.0)
        parent = tasks[task_id].get("parent")
        if parent in open_set:
            link(s(parent), s(task_id), 0.0)
            link(f(task_id), f(parent), 0.0)

    # Kahn's algorithm: forward pass for earliest times; what remains is in or behind a cycle.
    earliest: dict[tuple[str, str], float] = dict.fromkeys(indegree, 0.0)
    order: list[tuple[str, str]] = []
    queue = deque(sorted(node for node, degree in indegree.items() if degree == 0))
    remaining = dict(indegree)
    while queue:
        node = queue.popleft()
        order.append(node)
        for nxt, weight in edges.get(node, ()):
            earliest[nxt] = max(earliest[nxt], earliest[node] + weight)
            remaining[nxt] -= 1
            if remaining[nxt] == 0:
                queue.append(nxt)
    ordered = set(order)
    result.cyclic = sorted({node[1] for node in indegree if node not in ordered})
    if not order:
        return result
    total = max(earliest[node] for node in order)
    latest: dict[tuple[str, str], float] = dict.fromkeys(order, total)
    for node in reversed(order):
        for nxt, weight in edges.get(node, ()):
            if nxt in ordered:
                latest[node] = min(latest[node], latest[nxt] - weight)
    result.total_hours = total
    for task_id in open_ids:
        if s(task_id) in ordered and f(task_id) in ordered:
            result.earliest_start[task_id] = earliest[s(task_id)]
            result.earliest_finish[task_id] = earliest[f(task_id)]
            result.slack[task_id] = max(0.0, latest[s(task_id)] - earliest[s(task_id)])

    # The chain: walk back from the leaf that finishes last through tight predecessors.
    leaves = [t for t in result.earliest_finish if t not in children]
    if not leaves:
        return result
    predecessors: dict[str, list[str]] = {}
    for task_id in leaves:
        waits: set[str] = set()
        node: str | None = task_id
        while node is not None and node in open_set:  # the task's and its parents' dependencies
            waits.update(d for d in tasks[node].get("depends_on") or () if d in result.earliest_finish)
            parent = tasks[node].get("parent")
            node = parent if parent in open_set else None
        predecessors[task_id] = sorted(waits)

    def last_leaf(candidates: Iterable[str]) -> str | None:
        best: str | None = None
        for task_id in candidates:
            key = (result.earliest_finish[task_id], -result.earliest_start[task_id], task_id)
            if best is None or key > (result.earliest_finish[best], -result.earliest_start[best], best):
                best = task_id
        return best

    def leaves_under(task_id: str) -> list[str]:
        if task_id not in children:
            return [task_id]
        found: list[str] = []
        stack = [task_id]
        while stack:
            node = stack.pop()
            if node in children:
                stack.extend(children[node])
            elif node in result.earliest_finish:
                found.append(node)
        return found

    current = last_leaf(leaves)
    chain: list[str] = []
    while current is not None and current not in chain:
        chain.append(current)
        start = result.earliest_start[current]
        if start <= 1e-9:
            break
        tight = [
            leaf
            for dep in predecessors[current]
            for leaf in leaves_under(dep)
            if abs(result.earliest_finish[leaf] - start) <= 1e-9
        ]
        current = last_leaf(tight)
    chain.reverse()
    result.path = chain
    return result
