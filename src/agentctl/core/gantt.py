"""A schedule of the open tasks: who works on what, when (``agentctl graph gantt``).

Pure functions over plain task mappings as served by :meth:`Index.graph`. The rules
(docs/planning.md, "The task graph"):

- **Durations** are the expected efforts of :mod:`agentctl.core.plan` (PERT over ranges, the
  configured default for a missing estimate), in working hours.
- **Order**: a task starts when every task it waits for is finished (its own dependencies
  and those of every parent above it) and no earlier than its parent starts. Parents are
  summaries: their bar spans their children.
- **Lanes**: one agent works on one task at a time. A task assigned to agents goes in the
  lane of the first one listed. Unassigned tasks go to the pool lanes: the agents given as
  ``pool`` (the workspace passes the agents dispatch would hand work to), or ``lanes``
  anonymous lanes when that is given (``--lanes N``), or one anonymous lane when there is
  neither. A pool agent's lane also carries its own assigned tasks.
- **Who goes first** when several tasks could start on a lane: tasks already started, then
  the one whose latest start (critical-path slack) comes first, then priority, age, ID. No
  task is delayed to let a later one fit in a gap (no backfilling): simple and predictable.
- **Calendar**: working hours are laid onto days of ``hours_per_day`` hours from 09:00;
  the first ``round(days_per_week)`` days of each week from Monday are working days
  (5: Monday to Friday, so weekends are skipped).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property
from typing import Any

from agentctl.core.plan import CriticalPath, Effort, critical_path

TaskMap = Mapping[str, Mapping[str, Any]]
_EPS = 1e-9
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class Bar:
    """One task on the schedule, in working hours from the start of the schedule."""

    task: str
    start: float
    finish: float
    lane: str | None  # None for a summary (parent) bar
    critical: bool = False


@dataclass
class Schedule:
    bars: list[Bar] = field(default_factory=list)  # work, ordered by start, lane, task
    summaries: list[Bar] = field(default_factory=list)  # parents, ordered by start
    lanes: list[str] = field(default_factory=list)  # every lane that carries work, pool first
    pool: list[str] = field(default_factory=list)  # lanes that take unassigned tasks
    started: frozenset[str] = frozenset()  # statuses of tasks already being worked on
    total_hours: float = 0.0  # when the last task finishes
    work_hours: float = 0.0  # the sum of every task's effort
    plan: CriticalPath = field(default_factory=CriticalPath)

    @property
    def missing(self) -> list[str]:
        return self.plan.missing

    @property
    def cyclic(self) -> list[str]:
        return self.plan.cyclic


@dataclass(frozen=True)
class Calendar:
    """Maps working hours onto dates: ``hours_per_day`` per working day from 09:00 (earlier
    when the day is longer than 15 hours), working days Monday to ``round(days_per_week)``."""

    start: date
    hours_per_day: float = 8.0
    days_per_week: float = 5.0

    @cached_property
    def workdays(self) -> tuple[int, ...]:
        count = min(7, max(1, int(self.days_per_week + 0.5)))
        return tuple(range(count))

    @cached_property
    def first_day(self) -> date:
        day = self.start
        while day.weekday() not in self.workdays:
            day += timedelta(days=1)
        return day

    def working_day(self, n: int) -> date:
        """The n-th working day (0 is the first)."""
        per_week = len(self.workdays)
        day = self.first_day
        # Jump whole weeks from the first day's Monday, then to the day within the week.
        offset = day.weekday() + n
        monday = day - timedelta(days=day.weekday())
        return monday + timedelta(weeks=offset // per_week, days=offset % per_week)

    def at(self, hours: float, end: bool = False) -> datetime:
        """The moment ``hours`` of work after the start; with ``end`` a moment that falls on
        the boundary of two days is the end of the earlier one (a task ends at 17:00, not
        at 09:00 the next day)."""
        per_day = self.hours_per_day
        day = math.floor(hours / per_day + _EPS)
        offset = hours - day * per_day
        if end and day > 0 and offset < _EPS:
            day -= 1
            offset = per_day
        opening = min(9.0, 24.0 - per_day)
        minutes = round((opening + max(0.0, offset)) * 60)
        return datetime.combine(self.working_day(day), time()) + timedelta(minutes=minutes)


def _work_key(task: Mapping[str, Any], latest_start: float, started: bool) -> tuple[Any, ...]:
    return (
        0 if started else 1,
        round(latest_start, 6),
        int(task.get("priority", 2)),
        str(task.get("created_at", "")),
        str(task["id"]),
    )


def schedule(
    tasks: TaskMap,
    done: Iterable[str],
    effort: Effort | None = None,
    root: str | None = None,
    pool: Sequence[str] = (),
    lanes: int | None = None,
    started: Iterable[str] = (),
) -> Schedule:
    """Schedule the open tasks (under ``root``) onto lanes; see the module docstring.

    ``pool``: agents that take unassigned tasks; ``lanes``: that many anonymous lanes take
    them instead; ``started``: statuses of tasks already being worked on (they go first).
    """
    effort = effort or Effort()
    plan = critical_path(tasks, done, effort, root)
    started_set = set(started)
    result = Schedule(plan=plan, started=frozenset(started_set))
    timed = plan.earliest_start  # open tasks that are not in or behind a loop
    planned = plan.hours  # every open task in scope: the event graph is the plan's
    summaries = {tasks[t]["parent"] for t in planned if tasks[t].get("parent") in planned}
    if lanes is not None:
        pool_lanes = [f"lane {i + 1}" for i in range(lanes)]
    else:
        pool_lanes = list(dict.fromkeys(pool)) or ["unassigned"]
    result.pool = pool_lanes

    # Nodes: a work node per leaf task, a start and a finish milestone per summary.
    def start_node(task_id: str) -> str:
        return f"S:{task_id}" if task_id in summaries else task_id

    def finish_node(task_id: str) -> str:
        return f"F:{task_id}" if task_id in summaries else task_id

    successors: dict[str, list[str]] = {}
    waiting: dict[str, int] = {}
    for task_id in planned:
        for node in {start_node(task_id), finish_node(task_id)}:
            waiting.setdefault(node, 0)

    def link(before: str, after: str) -> None:
        successors.setdefault(before, []).append(after)
        waiting[after] += 1

    for task_id in sorted(planned):
        task = tasks[task_id]
        for dep in dict.fromkeys(task.get("depends_on") or ()):
            if dep in planned:
                link(finish_node(dep), start_node(task_id))
        parent = task.get("parent")
        if parent in planned:
            link(start_node(parent), start_node(task_id))
            link(finish_node(task_id), finish_node(parent))
        if task_id in summaries:
            link(start_node(task_id), finish_node(task_id))

    lane_of: dict[str, str | None] = {}
    for task_id in planned:
        if task_id in summaries:
            continue
        assignees = tasks[task_id].get("assignees") or []
        lane_of[task_id] = assignees[0] if assignees else None
    agent_lanes = sorted(
        {lane for lane in lane_of.values() if lane is not None and lane not in pool_lanes}
    )
    all_lanes = [*pool_lanes, *agent_lanes]
    in_pool = set(pool_lanes)
    own: dict[str, list[tuple[Any, ...]]] = {lane: [] for lane in all_lanes}
    shared: list[tuple[Any, ...]] = []
    busy: set[str] = set()
    running: list[tuple[float, int, str, str]] = []
    lane_rank = {lane: i for i, lane in enumerate(all_lanes)}
    now = 0.0

    def release(node: str) -> None:
        """``node`` waits for nothing more: a milestone passes at once, work queues up."""
        pending = [node]
        while pending:
            current = pending.pop()
            if current.startswith(("S:", "F:")):
                for nxt in successors.get(current, ()):
                    waiting[nxt] -= 1
                    if waiting[nxt] == 0:
                        pending.append(nxt)
                continue
            task = tasks[current]
            key = _work_key(
                task,
                plan.earliest_start[current] + plan.slack[current],
                task.get("status") in started_set,
            )
            lane = lane_of[current]
            heapq.heappush(own[lane] if lane is not None else shared, (*key, current))

    for node in sorted(node for node, count in waiting.items() if count == 0):
        release(node)
    bars: list[Bar] = []
    critical = set(plan.path)
    while True:
        for lane in all_lanes:
            if lane in busy:
                continue
            queues = [own[lane]] + ([shared] if lane in in_pool else [])
            candidates = [queue for queue in queues if queue]
            if not candidates:
                continue
            queue = min(candidates, key=lambda q: q[0])
            entry = heapq.heappop(queue)
            task_id = entry[-1]
            finish = now + plan.hours[task_id]
            bars.append(Bar(task_id, now, finish, lane, task_id in critical))
            busy.add(lane)
            heapq.heappush(running, (finish, lane_rank[lane], lane, task_id))
        if not running:
            break
        now = running[0][0]
        while running and running[0][0] <= now + _EPS:
            _, _, lane, task_id = heapq.heappop(running)
            busy.discard(lane)
            for nxt in successors.get(task_id, ()):
                waiting[nxt] -= 1
                if waiting[nxt] == 0:
                    release(nxt)

    bars.sort(key=lambda b: (b.start, lane_rank[b.lane or ""], b.task))
    result.bars = bars
    result.lanes = [
        lane for lane in all_lanes if lane in in_pool or any(b.lane == lane for b in bars)
    ]
    result.total_hours = max((b.finish for b in bars), default=0.0)
    result.work_hours = sum(b.finish - b.start for b in bars)
    spans: dict[str, list[float]] = {}
    for bar in bars:  # a summary spans the work below it
        parent = tasks[bar.task].get("parent")
        seen: set[str] = set()
        while isinstance(parent, str) and parent in summaries and parent not in seen:
            seen.add(parent)
            if parent in timed:  # a parent in a loop has no bar, its scheduled children do
                span = spans.setdefault(parent, [bar.start, bar.finish])
                span[0], span[1] = min(span[0], bar.start), max(span[1], bar.finish)
            parent = tasks[parent].get("parent")
    result.summaries = sorted(
        (
            Bar(task_id, span[0], span[1], None, task_id in plan.critical)
            for task_id, span in spans.items()
        ),
        key=lambda b: (b.start, b.task),
    )
    return result
