"""Standup and stats: pure computations over events and task rows. No I/O.

The workspace (``agentctl.workspace.reports``) gathers the inputs: the events of the day files
that overlap the window, the current task rows from the index, the agents. Everything here is
deterministic: the same inputs give the same report, byte for byte.

Definitions (documented in docs/reports.md):

* a task is **completed** in the window when a ``task.moved`` event into a done status has its
  timestamp inside the window;
* **throughput** counts, per UTC day of the window, the distinct tasks that reached a done
  status that day;
* **cycle time** of a completion is the time from the first event that put the task to work
  in that cycle (created already assigned, assigned, claimed, or moved to any status other
  than the initial, blocked or a done one) to the done move; a reopened task starts a new
  cycle after its previous done move. Percentiles use the nearest-rank method.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar, assert_never, cast

from agentctl.core import clock
from agentctl.core.duration import format_duration, parse_duration
from agentctl.errors import UsageError

if TYPE_CHECKING:
    from agentctl.core import events as ev

UNASSIGNED = "(unassigned)"


# -- time ----------------------------------------------------------------------------------------


parse_ts = clock.parse
format_ts = clock.stamp


@dataclass(frozen=True)
class Window:
    """``[start, end)`` in UTC; ``since`` is the text the user gave."""

    start: datetime
    end: datetime
    since: str

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def days(self) -> list[str]:
        """Every UTC date the window touches, oldest first."""
        first, last = self.start.date(), (self.end - timedelta(microseconds=1)).date()
        return [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]

    def as_dict(self) -> dict[str, str]:
        return {"since": self.since, "start": format_ts(self.start), "end": format_ts(self.end)}


def _moment(text: str, option: str) -> datetime:
    moment = parse_ts(text.strip())
    if moment is None:
        raise UsageError(
            f"{option} must be a duration (30m, 24h, 7d) or a date/time (2026-11-20, 2026-11-20T09:00:00Z), not {text!r}"
        )
    return moment


def resolve_window(since: str, until: str | None, now: datetime) -> Window:
    """The window ending at ``until`` (a date/time; default ``now``) and starting ``since``
    before it (a duration such as ``24h``) or at ``since`` (a date/time)."""
    end = _moment(until, "--until") if until else now.astimezone(UTC)
    try:
        start = end - timedelta(seconds=parse_duration(since))
    except ValueError:
        start = _moment(since, "--since")
    if start >= end:
        raise UsageError(
            f"the window is empty: it starts at {format_ts(start)} and ends at {format_ts(end)}"
        )
    return Window(start, end, since.strip())


# -- events ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Completion:
    task: str
    title: str
    at: datetime
    actor: str


_Event = TypeVar("_Event", bound=Mapping[str, Any])


def sort_events(events: Iterable[_Event]) -> list[_Event]:
    """Events with a valid timestamp, by (timestamp, id): merged logs interleave machines."""
    dated = [(parse_ts(e.get("ts")), str(e.get("id", "")), e) for e in events]
    return [
        e
        for moment, _, e in sorted(
            (d for d in dated if d[0] is not None), key=lambda d: (d[0], d[1])
        )
    ]


def _data(event: Mapping[str, Any]) -> dict[str, Any]:
    data = event.get("data")
    return data if isinstance(data, dict) else {}


def is_done_move(event: Mapping[str, Any], done: Sequence[str]) -> bool:
    return (
        event.get("type") == "task.moved" and cast("ev.TaskMoved", _data(event)).get("to") in done
    )


def starts_work(event: Mapping[str, Any], workflow: Mapping[str, Any]) -> bool:
    """Does this event put its task to work (the start of a cycle)?"""
    kind = cast("ev.KnownEventType", event.get("type"))
    match kind:
        case "task.assigned" | "task.claimed":
            return True
        case "task.created":
            status = cast("ev.TaskCreated", _data(event)).get("status")
        case "task.moved":
            status = cast("ev.TaskMoved", _data(event)).get("to")
        case (
            "workspace.init" | "note.added" | "task.edited" | "task.unassigned" | "task.released"
            | "task.dep_added" | "task.dep_removed" | "task.removed" | "task.gate_refused"
            | "task.subscribed" | "task.unsubscribed" | "message.added" | "message.direct"
            | "doc.added" | "doc.edited" | "doc.removed" | "spec.created" | "spec.edited"
            | "spec.removed" | "spec.expanded" | "spec.drift" | "agent.added" | "agent.edited"
            | "agent.removed" | "agent.status" | "agent.reset" | "agent.moved" | "agent.heartbeat"
            | "agent.contained" | "agent.proposed" | "agent.approved" | "agent.rejected" | "memory.added" | "memory.compacted" | "attention.raised"
            | "record.adopted" | "record.lost" | "working.applied" | "config.changed"
        ):  # fmt: skip
            return False
        case _:
            if TYPE_CHECKING:
                assert_never(kind)  # a known type without a case above
            return False  # a type this version does not know
    idle = {workflow["initial"], workflow["blocked"], *workflow["done"]}
    return status not in idle and status is not None


def completions(
    events: Sequence[Mapping[str, Any]], window: Window, done: Sequence[str]
) -> list[Completion]:
    """Done moves inside the window, oldest first (``events`` sorted)."""
    found = []
    for event in events:
        moment = parse_ts(event.get("ts"))
        if (
            moment is not None
            and window.contains(moment)
            and is_done_move(event, done)
            and event.get("subject")
        ):
            found.append(
                Completion(
                    str(event["subject"]),
                    str(_data(event).get("title") or ""),
                    moment,
                    str(event.get("actor", "")),
                )
            )
    return found


def cycle_times(
    events: Sequence[Mapping[str, Any]], window: Window, workflow: Mapping[str, Any]
) -> list[float]:
    """Seconds from the start of each cycle to its done move, for done moves in the window.
    ``events`` are sorted and must reach back to each completed task's creation (or its
    previous completion); a completion whose cycle start is not among them is left out."""
    done = workflow["done"]
    started: dict[str, datetime | None] = {}
    samples: list[float] = []
    for event in events:
        task = event.get("subject")
        moment = parse_ts(event.get("ts"))
        if not isinstance(task, str) or moment is None or moment >= window.end:
            continue
        if is_done_move(event, done):
            start = started.get(task)
            if window.contains(moment) and start is not None:
                samples.append((moment - start).total_seconds())
            started[task] = None
        elif starts_work(event, workflow) and started.get(task) is None:
            started[task] = moment
    return samples


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least ``fraction`` of the values
    at or below it. Always one of the values; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


# -- standup ---------------------------------------------------------------------------------------


def _item(task: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": task["id"],
        "title": task["title"],
        "status": task["status"],
        "updated_at": task.get("updated_at"),
    }


def standup(
    window: Window,
    events: Sequence[Mapping[str, Any]],
    tasks: Mapping[str, Mapping[str, Any]],
    current: Mapping[str, Sequence[Mapping[str, Any]]],
    agents: Sequence[str],
    workflow: Mapping[str, Any],
    cap: int = 20,
) -> dict[str, Any]:
    """Per agent: tasks completed and decisions made in the window (from ``events``, sorted),
    and tasks now in progress, blocked or in review (``current``: section -> task rows).

    ``tasks`` maps the IDs of tasks completed in the window to their current rows (missing:
    the task was removed since). A completed task counts only if it is still done; it is
    credited to its assignees, or to whoever moved it to done when it has none. Each list is
    capped at ``cap`` items per agent (``more`` counts the rest)."""
    people: dict[str, dict[str, list[dict[str, Any]]]] = {}

    def bucket(name: str) -> dict[str, list[dict[str, Any]]]:
        return people.setdefault(
            name,
            {key: [] for key in ("completed", "in_progress", "blocked", "review", "decisions")},
        )

    for name in agents:
        bucket(name)
    latest: dict[str, Completion] = {}
    for completion in completions(events, window, workflow["done"]):
        latest[completion.task] = completion
    for task_id, completion in sorted(latest.items(), key=lambda kv: (kv[1].at, kv[0])):
        row = tasks.get(task_id)
        if row is None or row["status"] not in workflow["done"]:
            continue
        item = {
            "id": task_id,
            "title": row["title"],
            "at": format_ts(completion.at),
            "by": completion.actor,
        }
        for name in row.get("assignees") or [completion.actor]:
            bucket(name)["completed"].append(item)
    for event in events:
        moment = parse_ts(event.get("ts"))
        data = cast("ev.DocChange", _data(event))
        if (
            moment is None
            or not window.contains(moment)
            or event.get("type") != "doc.added"
            or data.get("type") != "decision"
        ):
            continue
        item = {
            "id": event.get("subject"),
            "title": str(data.get("title") or ""),
            "at": format_ts(moment),
            "task": data.get("task"),
        }
        bucket(str(event.get("actor", "")))["decisions"].append(item)
    reasons: dict[str, str] = {}  # task -> note of its latest move to blocked in the events
    for event in events:
        moved = cast("ev.TaskMoved", _data(event))
        if event.get("type") == "task.moved" and moved.get("to") == workflow["blocked"]:
            reasons[str(event.get("subject"))] = str(moved.get("note") or "")
    for section in ("in_progress", "blocked", "review"):
        for row in current.get(section, []):
            item = _item(row)
            if section == "blocked" and reasons.get(row["id"]):
                item["reason"] = reasons[row["id"]]
            for name in row.get("assignees") or [UNASSIGNED]:
                bucket(name)[section].append(item)
    totals = {key: 0 for key in ("completed", "in_progress", "blocked", "review", "decisions")}
    for key in totals:
        seen: set[str] = set()
        for sections in people.values():
            seen.update(str(item["id"]) for item in sections[key])
        totals[key] = len(seen)
    order = [*agents, *sorted(n for n in people if n not in agents and n != UNASSIGNED)]
    if UNASSIGNED in people:
        order.append(UNASSIGNED)
    result = []
    for name in order:
        sections = people[name]
        entry: dict[str, Any] = {"name": name, "agent": name in agents}
        more: dict[str, int] = {}
        for key, items in sections.items():
            entry[key] = items[:cap]
            if len(items) > cap:
                more[key] = len(items) - cap
        entry["more"] = more
        result.append(entry)
    return {"window": window.as_dict(), "totals": totals, "people": result}


SECTION_TITLES = (
    ("completed", "Completed"),
    ("in_progress", "In progress"),
    ("review", "Waiting for review"),
    ("blocked", "Blocked"),
    ("decisions", "Decisions"),
)


def render_standup(report: dict[str, Any], workspace: str) -> str:
    """The standup as markdown (what ``--format md`` prints and ``--write`` stores)."""
    window = report["window"]
    totals = report["totals"]
    lines = [
        f"# Standup: {workspace}",
        "",
        f"Window: {window['start']} to {window['end']} ({window['since']})",
        "",
        f"Team: {totals['completed']} completed, {totals['in_progress']} in progress, "
        f"{totals['review']} waiting for review, {totals['blocked']} blocked, {totals['decisions']} decision(s)",
    ]
    for person in report["people"]:
        lines += ["", f"## {person['name']}"]
        wrote = False
        for key, title in SECTION_TITLES:
            items = person[key]
            if not items:
                continue
            wrote = True
            lines += ["", f"{title}:"]
            for item in items:
                lines.append(_standup_line(key, item))
            if person["more"].get(key):
                lines.append(f"- … and {person['more'][key]} more")
        if not wrote:
            lines += ["", "Nothing to report."]
    return "\n".join(lines) + "\n"


def _standup_line(key: str, item: dict[str, Any]) -> str:
    if key == "completed":
        return f"- {item['id']} {item['title']} (done {item['at']} by {item['by']})"
    if key == "decisions":
        linked = f", task {item['task']}" if item.get("task") else ""
        return f"- {item['id']} {item['title']} ({item['at']}{linked})"
    if item.get("reason"):
        return f"- {item['id']} {item['title']} (blocked: {item['reason']})"
    return f"- {item['id']} {item['title']}"


# -- stats -----------------------------------------------------------------------------------------


def throughput(
    events: Sequence[Mapping[str, Any]], window: Window, done: Sequence[str]
) -> list[dict[str, Any]]:
    """Distinct tasks reaching a done status per UTC day of the window (zeros included)."""
    per_day: dict[str, set[str]] = {day: set() for day in window.days()}
    for completion in completions(events, window, done):
        per_day[completion.at.date().isoformat()].add(completion.task)
    return [{"date": day, "done": len(tasks)} for day, tasks in per_day.items()]


def credit(
    completed: Iterable[Completion], tasks: Mapping[str, Mapping[str, Any]]
) -> dict[str, int]:
    """Completions per person: the task's current assignees, else whoever moved it to done."""
    counts: dict[str, int] = {}
    seen: set[tuple[str, str]] = set()
    for completion in completed:
        row = tasks.get(completion.task)
        names = (row.get("assignees") if row else None) or [completion.actor]
        for name in names:
            if (name, completion.task) not in seen:
                seen.add((name, completion.task))
                counts[name] = counts.get(name, 0) + 1
    return counts


def stats(
    window: Window,
    events: Sequence[Mapping[str, Any]],
    tasks: Mapping[str, Mapping[str, Any]],
    by_status: dict[str, int],
    in_progress: dict[str, int],
    wip: dict[str, int],
    oldest_open: Sequence[Mapping[str, Any]],
    agents: Sequence[str],
    workflow: Mapping[str, Any],
    now: datetime,
) -> dict[str, Any]:
    """The stats document. ``events`` are sorted and reach back far enough for cycle times
    (see :func:`cycle_times`); ``tasks`` holds the current rows of tasks completed in the
    window; ``in_progress`` / ``wip`` count open tasks per assignee now."""
    done = workflow["done"]
    completed = completions(events, window, done)
    samples = cycle_times(events, window, workflow)
    p50, p90 = percentile(samples, 0.5), percentile(samples, 0.9)
    statuses = [
        *workflow["statuses"],
        *sorted(s for s in by_status if s not in workflow["statuses"]),
    ]
    done_per_person = credit(completed, tasks)
    names = [*agents, *sorted(n for n in {*done_per_person, *in_progress, *wip} if n not in agents)]
    days = throughput(events, window, done)
    return {
        "window": window.as_dict(),
        "by_status": [{"status": s, "count": by_status.get(s, 0)} for s in statuses],
        "throughput": days,
        "completed": sum(day["done"] for day in days),
        "cycle_time": {
            "samples": len(samples),
            "p50_seconds": p50,
            "p90_seconds": p90,
            "p50": format_duration(p50) if p50 is not None else None,
            "p90": format_duration(p90) if p90 is not None else None,
        },
        "agents": [
            {
                "name": n,
                "agent": n in agents,
                "done": done_per_person.get(n, 0),
                "in_progress": in_progress.get(n, 0),
                "wip": wip.get(n, 0),
            }
            for n in names
        ],
        "oldest_open": [
            {
                "id": t["id"],
                "title": t["title"],
                "status": t["status"],
                "assignees": t.get("assignees") or [],
                "created_at": t["created_at"],
                "age_seconds": _age(t["created_at"], now),
                "age": format_duration(_age(t["created_at"], now)),
            }
            for t in oldest_open
        ],
    }


def _age(created_at: str, end: datetime) -> float:
    moment = parse_ts(created_at)
    return max(0.0, (end - moment).total_seconds()) if moment is not None else 0.0


# -- charts ----------------------------------------------------------------------------------------

SPARKS = "▂▃▄▅▆▇█"
EIGHTHS = " ▏▎▍▌▋▊▉"


def sparkline(values: Sequence[int]) -> str:
    """One character per value: '▁' for zero, then seven heights scaled to the largest."""
    top = max(values, default=0)
    if top <= 0:
        return "▁" * len(values)
    return "".join(
        "▁" if v <= 0 else SPARKS[min(len(SPARKS) - 1, math.ceil(v / top * len(SPARKS)) - 1)]
        for v in values
    )


def bar(value: float, top: float, width: int = 20) -> str:
    """A horizontal bar in eighths of a cell, ``width`` cells for ``top``; a non-zero value
    shows at least one eighth."""
    if top <= 0 or value <= 0:
        return ""
    eighths = max(1, round(value / top * width * 8))
    full, rest = divmod(eighths, 8)
    return "█" * full + (EIGHTHS[rest] if rest else "")
