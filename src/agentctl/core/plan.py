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
- Tasks in a loop (of dependencies, of parents, or a task waiting for its own parent or
  child), and the tasks waiting on them, are left out and listed in ``cyclic`` (``graph
  cycles`` shows the loops); dependencies on missing tasks are ignored.
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
        effort = cls(
            float(planning.get("hours_per_day", 8.0)), float(planning.get("days_per_week", 5.0))
        )
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
    cyclic: list[str] = field(default_factory=list)  # open tasks left out: in or behind a loop

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
    tasks: TaskMap,
    done: Iterable[str],
    effort: Effort | None = None,
    root: str | None = None,
    slack: bool = True,
) -> CriticalPath:
    """The critical path of the open tasks (under ``root`` when given).

    Each open task is two events, its start S and its finish F. F follows S by the task's
    effort (none for a summary); S follows the F of each dependency and the S of the parent;
    a parent's F follows the F of each child. A forward pass in topological order (Kahn's
    algorithm) gives the earliest times, a backward pass the latest ones (skipped without
    ``slack``: the path and its length need only the first). Tasks are numbered and kept in
    lists, not dicts of tuples: WORKING.md shows the path after every change.
    """
    effort = effort or Effort()
    done_set = set(done)
    if root:
        scope = _subtree(tasks, root)
        open_ids = sorted(t for t in scope if t in tasks and tasks[t].get("status") not in done_set)
    elif done_set:
        open_ids = sorted(t for t, task in tasks.items() if task.get("status") not in done_set)
    else:  # the caller passes open tasks only (WORKING.md)
        open_ids = sorted(tasks)
    count = len(open_ids)
    position = {task_id: i for i, task_id in enumerate(open_ids)}
    rows = [tasks[task_id] for task_id in open_ids]
    parent_of = [position.get(row.get("parent"), -1) for row in rows]  # type: ignore[arg-type]
    children: list[list[int]] = [[] for _ in range(count)]
    for i, parent in enumerate(parent_of):
        if parent >= 0:
            children[parent].append(i)
    result = CriticalPath()
    expected: dict[Any, float | None] = {}
    hours = [0.0] * count
    for i, row in enumerate(rows):
        if children[i]:
            continue
        estimate = row.get("estimate")
        if estimate not in expected:
            expected[estimate] = effort.expected_hours(estimate)
        value = expected[estimate]
        if value is None:
            value = effort.default_hours
            result.missing.append(open_ids[i])
        hours[i] = value
    result.hours = dict(zip(open_ids, hours, strict=True))

    # Edges: dependents[j] lists the tasks whose S follows F(j); depends[i] the reverse.
    dependents: list[list[int]] = [[] for _ in range(count)]
    depends: list[list[int]] = [[] for _ in range(count)]
    waiting_start = [0] * count  # unprocessed predecessors of S(i)
    waiting_finish = [1] * count  # of F(i): its own S, and its children's F
    for i, row in enumerate(rows):
        deps = row.get("depends_on")
        if deps:
            for dep in deps if len(deps) == 1 else dict.fromkeys(deps):
                j = position.get(dep)
                if j is not None:
                    dependents[j].append(i)
                    depends[i].append(j)
                    waiting_start[i] += 1
        parent = parent_of[i]
        if parent >= 0:
            waiting_start[i] += 1
            waiting_finish[parent] += 1

    # Forward pass; events are 2i (S) and 2i + 1 (F). What never comes free is in or behind a loop.
    start_at = [0.0] * count
    finish_at = [0.0] * count
    order = [2 * i for i in range(count) if not waiting_start[i]]
    for event in order:  # grows while it is walked
        i = event >> 1
        if event & 1:
            time = finish_at[i]
            for k in dependents[i]:
                if time > start_at[k]:
                    start_at[k] = time
                waiting_start[k] -= 1
                if not waiting_start[k]:
                    order.append(2 * k)
            parent = parent_of[i]
            if parent >= 0:
                if time > finish_at[parent]:
                    finish_at[parent] = time
                waiting_finish[parent] -= 1
                if not waiting_finish[parent]:
                    order.append(2 * parent + 1)
        else:
            time = start_at[i]
            if time + hours[i] > finish_at[i]:
                finish_at[i] = time + hours[i]
            waiting_finish[i] -= 1
            if not waiting_finish[i]:
                order.append(event + 1)
            for child in children[i]:
                if time > start_at[child]:
                    start_at[child] = time
                waiting_start[child] -= 1
                if not waiting_start[child]:
                    order.append(2 * child)
    complete = len(order) == 2 * count
    started = [True] * count if complete else [False] * count
    finished = [True] * count if complete else [False] * count
    if not complete:
        for event in order:
            (finished if event & 1 else started)[event >> 1] = True
        result.cyclic = [open_ids[i] for i in range(count) if not finished[i]]
    if not order:
        return result
    total = (
        max(finish_at)
        if complete
        else max((finish_at[i] for i in range(count) if finished[i]), default=0.0)
    )

    # Backward pass: the latest times that do not move the end.
    latest_start = [total] * count
    latest_finish = [total] * count
    for event in reversed(order) if slack else ():
        i = event >> 1
        if event & 1:
            bound = latest_finish[i]
            for k in dependents[i]:
                if started[k] and latest_start[k] < bound:
                    bound = latest_start[k]
            parent = parent_of[i]
            if parent >= 0 and finished[parent] and latest_finish[parent] < bound:
                bound = latest_finish[parent]
            latest_finish[i] = bound
        else:
            bound = latest_finish[i] - hours[i] if finished[i] else latest_start[i]
            for child in children[i]:
                if started[child] and latest_start[child] < bound:
                    bound = latest_start[child]
            latest_start[i] = bound
    result.total_hours = total
    timed = (
        list(range(count)) if complete else [i for i in range(count) if started[i] and finished[i]]
    )
    if complete:
        result.earliest_start = dict(zip(open_ids, start_at, strict=True))
        result.earliest_finish = dict(zip(open_ids, finish_at, strict=True))
    else:
        for i in timed:
            result.earliest_start[open_ids[i]] = start_at[i]
            result.earliest_finish[open_ids[i]] = finish_at[i]
    if slack:
        spare = [
            latest - early if latest > early else 0.0
            for latest, early in zip(latest_start, start_at, strict=True)
        ]
        result.slack = (
            {open_ids[i]: spare[i] for i in timed}
            if not complete
            else dict(zip(open_ids, spare, strict=True))
        )

    # The chain: walk back from the leaf that finishes last through tight predecessors.
    def key(i: int) -> tuple[float, float, str]:
        return (finish_at[i], -start_at[i], open_ids[i])

    def leaves_under(i: int) -> list[int]:
        found: list[int] = []
        stack = [i]
        while stack:
            node = stack.pop()
            if children[node]:
                stack.extend(children[node])
            elif started[node]:
                found.append(node)
        return found

    leaves = [i for i in timed if not children[i]]
    last = max((finish_at[i] for i in leaves), default=0.0)
    current = max((i for i in leaves if finish_at[i] == last), key=key, default=None)
    chain: list[int] = []
    while current is not None and current not in chain:
        chain.append(current)
        start_time = start_at[current]
        if start_time <= 1e-9:
            break
        waits: set[int] = set()  # the task's and its parents' dependencies
        node = current
        seen: set[int] = set()
        while node >= 0 and node not in seen:
            seen.add(node)
            waits.update(d for d in depends[node] if finished[d])
            node = parent_of[node]
        tight = [
            leaf
            for dep in sorted(waits)
            for leaf in leaves_under(dep)
            if abs(finish_at[leaf] - start_time) <= 1e-9
        ]
        current = max(tight, key=key, default=None)
    chain.reverse()
    result.path = [open_ids[i] for i in chain]
    return result
