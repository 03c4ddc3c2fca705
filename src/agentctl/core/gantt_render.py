"""A :class:`~agentctl.core.gantt.Schedule` as a Mermaid ``gantt`` chart, a plain-text
timeline and JSON data. Pure functions; titles are escaped as in :mod:`graph_render`."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from agentctl.core import clock
from agentctl.core.gantt import WEEKDAYS, Bar, Calendar, Schedule
from agentctl.core.graph_render import mermaid_id, mermaid_text, one_line

TaskMap = Mapping[str, Mapping[str, Any]]
BAR_WIDTH = 48


def _stamp(moment: datetime) -> str:
    return clock.show(moment, clock.DATE_MINUTES)


def _hours(value: float) -> str:
    text = f"{value:.1f}".removesuffix(".0")
    return f"{text}h"


def _days(value: float, per_day: float) -> str:
    return f"{value / per_day:.1f}".removesuffix(".0") + " d"


def _workdays(calendar: Calendar) -> str:
    days = calendar.workdays
    return WEEKDAYS[days[0]] if len(days) == 1 else f"{WEEKDAYS[days[0]]}–{WEEKDAYS[days[-1]]}"


def render_mermaid_gantt(
    schedule: Schedule, tasks: TaskMap, short: Mapping[str, str], calendar: Calendar
) -> str:
    """A Mermaid ``gantt`` chart: one section per parent (in the order they start), each task
    with its exact start and end; critical-path tasks are ``crit``, started ones ``active``."""
    lines = [
        "gantt",
        f"    title {mermaid_text(f'Schedule from {calendar.first_day.isoformat()}')}",
        "    dateFormat YYYY-MM-DD HH:mm",
        "    axisFormat %m-%d",
    ]
    sections: dict[str | None, list[Bar]] = {}
    summaries = {s.task for s in schedule.summaries}
    for bar in schedule.bars:
        parent = tasks[bar.task].get("parent")
        sections.setdefault(parent if parent in summaries else None, []).append(bar)
    order = sorted(sections, key=lambda s: (sections[s][0].start, s is not None, s or ""))
    for section in order:
        if section is None:
            name = "Tasks without a parent"
        else:
            name = f"{short.get(section, section)} {tasks[section].get('title', '')}"
        lines.append(f"    section {mermaid_text(name)}")
        for bar in sections[section]:
            tags = []
            if bar.critical:
                tags.append("crit")
            if tasks[bar.task].get("status") in schedule.started:
                tags.append("active")
            label = mermaid_text(
                f"{short.get(bar.task, bar.task)} {tasks[bar.task].get('title', '')}"
            )
            start = _stamp(calendar.at(bar.start))
            end = _stamp(calendar.at(bar.finish, end=True))
            lines.append(f"    {label} :{', '.join([*tags, mermaid_id(bar.task), start, end])}")
    return "\n".join(lines) + "\n"


def render_text_gantt(
    schedule: Schedule, tasks: TaskMap, short: Mapping[str, str], calendar: Calendar
) -> str:
    """A timeline for a terminal: one row per task in start order with its lane, start, end
    and a bar (``#`` on the critical path, ``=`` elsewhere) on a shared scale."""
    per_day = calendar.hours_per_day
    head = [
        f"Schedule from {calendar.first_day.isoformat()} · {_hours(per_day)} working days, {_workdays(calendar)}"
        f" · {len(schedule.lanes)} lane{'s' if len(schedule.lanes) != 1 else ''}: {', '.join(schedule.lanes)}",
    ]
    if not schedule.bars:
        return "\n".join([*head, "Nothing to schedule: no open task."]) + "\n"
    finish = calendar.at(schedule.total_hours, end=True)
    head.append(
        f"Finishes {_stamp(finish)} · {_hours(schedule.total_hours)} ({_days(schedule.total_hours, per_day)}) from start"
        f" · {_hours(schedule.work_hours)} of work · # critical path"
    )
    scale = schedule.total_hours / BAR_WIDTH if schedule.total_hours > 0 else 1.0
    lane_width = max(4, *(len(lane) for lane in schedule.lanes))
    rows = []
    for bar in schedule.bars:
        first = min(BAR_WIDTH - 1, math.floor(bar.start / scale + 1e-9))
        last = max(first + 1, min(BAR_WIDTH, math.ceil(bar.finish / scale - 1e-9)))
        mark = "#" if bar.critical else "="
        timeline = " " * first + mark * (last - first)
        title = one_line(str(tasks[bar.task].get("title", "")))
        if len(title) > 40:
            title = title[:39] + "…"
        rows.append(
            f"{clock.show(calendar.at(bar.start), clock.DAY_TIME)}  {clock.show(calendar.at(bar.finish, end=True), clock.DAY_TIME)}"
            f"  {(bar.lane or '').ljust(lane_width)}  |{timeline.ljust(BAR_WIDTH)}|  {short.get(bar.task, bar.task)} {title}"
        )
    header = f"{'START'.ljust(11)}  {'END'.ljust(11)}  {'LANE'.ljust(lane_width)}  |{'time →'.ljust(BAR_WIDTH)}|  TASK"
    out = [*head, "", header, *rows]
    if schedule.missing:
        out.append(
            f"\n{len(schedule.missing)} task(s) had no estimate and use the default (see graph critical-path)."
        )
    if schedule.cyclic:
        out.append(
            f"{len(schedule.cyclic)} task(s) in or behind a dependency loop are not scheduled (see graph cycles)."
        )
    return "\n".join(out) + "\n"


def schedule_data(
    schedule: Schedule, tasks: TaskMap, short: Mapping[str, str], calendar: Calendar
) -> dict[str, Any]:
    """The schedule as JSON-ready data (times both in working hours and as local dates)."""

    def bar_data(bar: Bar) -> dict[str, Any]:
        task = tasks[bar.task]
        return {
            "id": bar.task, "short_id": short.get(bar.task, bar.task), "title": task.get("title", ""),
            "status": task.get("status"), "lane": bar.lane, "parent": task.get("parent"),
            "start_hours": round(bar.start, 3), "finish_hours": round(bar.finish, 3),
            "start": _stamp(calendar.at(bar.start)), "finish": _stamp(calendar.at(bar.finish, end=True)),
            "critical": bar.critical,
        }  # fmt: skip

    return {
        "start": calendar.first_day.isoformat(),
        "hours_per_day": calendar.hours_per_day,
        "workdays": [WEEKDAYS[d] for d in calendar.workdays],
        "lanes": schedule.lanes,
        "pool": schedule.pool,
        "total_hours": round(schedule.total_hours, 3),
        "work_hours": round(schedule.work_hours, 3),
        "finish": _stamp(calendar.at(schedule.total_hours, end=True)) if schedule.bars else None,
        "tasks": [bar_data(bar) for bar in schedule.bars],
        "summaries": [bar_data(bar) for bar in schedule.summaries],
        "critical_path": schedule.plan.path,
        "missing_estimates": schedule.missing,
        "cyclic": schedule.cyclic,
    }
