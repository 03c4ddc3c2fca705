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
    """The critical path of the open tasks (under ``root`` when given).

    Each open task is two events, start (S, node ``2i``) and finish (F, node ``2i + 1``); an
    edge S->F carries the task's effort, every other edge (F of a dependency -> S, S of a
    parent -> S of a child, F of a child -> F of its parent) carries none. Integer nodes and
    lists keep it fast: WORKING.md shows the path after every change.
    """
    effort = effort or Effort()
    done_set = set(done)
    scope = _subtree(tasks, root) if root else tasks.keys()
    open_ids = sorted(t for t in scope if t in tasks and tasks[t].get("status") not in done_set)
    count = len(open_ids)
    position = {task_id: i for i, task_id in enumerate(open_ids)}
    parent_of = [-1] * count
    children: list[list[int]] = [[] for _ in range(count)]
    for i, task_id in enumerate(open_ids):
        parent = position.get(tasks[task_id].get("parent"))  # type: ignore[arg-type]
        if parent is not None:
            parent_of[i] = parent
            children[parent].append(i)
    result = CriticalPath()
    hours = [0.0] * count
    expected: dict[str | None, float | None] = {}
    for i, task_id in enumerate(open_ids):
        if children[i]:
            continue
        estimate = tasks[task_id].get("estimate")
        if estimate not in expected:
            expected[estimate] = effort.expected_hours(estimate)
        value = expected[estimate]
        if value is None:
            value = effort.default_hours
            result.missing.append(task_id)
        hours[i] = value
    result.hours = dict(zip(open_ids, hours, strict=True))

    successors: list[list[int]] = [[] for _ in range(2 * count)]
    indegree = [0] * (2 * count)
    depends: list[list[int]] = [[] for _ in range(count)]
    for i, task_id in enumerate(open_ids):
        start, finish = 2 * i, 2 * i + 1
        successors[start].append(finish)
        indegree[finish] += 1
        deps = tasks[task_id].get("depends_on")
        if deps:
            for dep in dict.fromkeys(deps):
                j = position.get(dep)
                if j is not None:
                    depends[i].append(j)
                    successors[2 * j + 1].append(start)
                    indegree[start] += 1
        parent = parent_of[i]
        if parent >= 0:
            successors[2 * parent].append(start)
            indegree[start] += 1
            successors[finish].append(2 * parent + 1)
            indegree[2 * parent + 1] += 1

    # Kahn's algorithm: forward pass for earliest times; what remains is in or behind a cycle.
    earliest = [0.0] * (2 * count)
    remaining = indegree[:]
    order = [node for node in range(2 * count) if not indegree[node]]
    for node in order:  # grows while it is walked
        here = earliest[node]
        weight = hours[node >> 1] if not node & 1 else 0.0
        for nxt in successors[node]:
            arrival = here + weight if nxt == node + 1 else here
            if arrival > earliest[nxt]:
                earliest[nxt] = arrival
            remaining[nxt] -= 1
            if not remaining[nxt]:
                order.append(nxt)
    ordered = [False] * (2 * count)
    for node in order:
        ordered[node] = True
    result.cyclic = [task_id for i, task_id in enumerate(open_ids) if not (ordered[2 * i] and ordered[2 * i + 1])]
    if not order:
        return result
    total = max(earliest[node] for node in order)
    latest = [total] * (2 * count)
    for node in reversed(order):
        weight = hours[node >> 1] if not node & 1 else 0.0
        best = latest[node]
        for nxt in successors[node]:
            if ordered[nxt]:
                bound = latest[nxt] - weight if nxt == node + 1 else latest[nxt]
                if bound < best:
                    best = bound
        latest[node] = best
    result.total_hours = total
    timed = [i for i in range(count) if ordered[2 * i] and ordered[2 * i + 1]]
    for i in timed:
        task_id = open_ids[i]
        result.earliest_start[task_id] = earliest[2 * i]
        result.earliest_finish[task_id] = earliest[2 * i + 1]
        result.slack[task_id] = max(0.0, latest[2 * i] - earliest[2 * i])

    # The chain: walk back from the leaf that finishes last through tight predecessors.
    def key(i: int) -> tuple[float, float, str]:
        return (earliest[2 * i + 1], -earliest[2 * i], open_ids[i])

    def last_leaf(candidates: Iterable[int]) -> int | None:
        return max(candidates, key=key, default=None)

    def leaves_under(i: int) -> list[int]:
        found: list[int] = []
        stack = [i]
        while stack:
            node = stack.pop()
            if children[node]:
                stack.extend(children[node])
            elif ordered[2 * node]:
                found.append(node)
        return found

    current = last_leaf(i for i in timed if not children[i])
    chain: list[int] = []
    while current is not None and current not in chain:
        chain.append(current)
        start_time = earliest[2 * current]
        if start_time <= 1e-9:
            break
        waits: set[int] = set()  # the task's and its parents' dependencies
        node = current
        seen: set[int] = set()
        while node >= 0 and node not in seen:
            seen.add(node)
            waits.update(d for d in depends[node] if ordered[2 * d + 1])
            node = parent_of[node]
        tight = [
            leaf
            for dep in sorted(waits)
            for leaf in leaves_under(dep)
            if abs(earliest[2 * leaf + 1] - start_time) <= 1e-9
        ]
        current = last_leaf(tight)
    chain.reverse()
    result.path = [open_ids[i] for i in chain]
    return result
