"""Escalation: the conditions that need a lead's (or a person's) attention. Pure.

Detection works on plain data gathered from the index (``Facts``) and a clock; it never reads
files. Each condition has a stable **key**, ``kind:subject:state``, where *state* is what the
condition refers to (the last activity, the due date, the last heartbeat, ...). A condition is
raised once per key (``attention.raised`` events carry it); the key changes only when the
condition cleared and came back in a new state, which is exactly when it is raised again.
docs/planning.md, "Escalation", has the rules.

The kinds, in the order they are listed:

- ``stale``: a task in the in-progress status with no activity (no event about it, other than
  attention events, and no change of its record) for ``escalation.stale_after``;
- ``bounced``: a task sent back from review to in-progress more than ``escalation.bounce_limit``
  times, while it is open (each further return is a new state);
- ``overdue``: an open task past its ``due`` date (UTC): due today is not overdue yet;
- ``unblocked``: a task in the blocked status that has dependencies, all of them done;
- ``silent``: an agent whose last heartbeat is older than its silence limit (below), not
  blocked and not on the ``manual`` runtime (people drive those; their ticks record nothing
  while work waits). An agent that never ticked is not silent: it has not started yet.

The silence limit is ``max(missed_beats × every, record_idle_every + every)``: idle ticks
record the heartbeat at most every ``record_idle_every``, so a quiet, healthy agent is never
mistaken for a silent one. Inside ``active_hours`` the clock starts at the window's opening
(an agent is not silent for the night it was not meant to tick); outside them it is not silent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from agentctl.core import clock
from agentctl.core.duration import format_duration, parse_duration

if TYPE_CHECKING:
    from agentctl.core.records import AgentRecord, AgentStateRecord

KINDS: tuple[str, ...] = ("stale", "bounced", "overdue", "unblocked", "silent")
RAISED: Final = "attention.raised"  # the event type that records a raised condition


parse_ts = clock.parse
stamp = clock.stamp


def local_time(moment: datetime) -> datetime:
    """``moment`` as naive local wall-clock time (what active_hours are written in)."""
    return moment.astimezone().replace(tzinfo=None)


def silence_limit(every: float, missed_beats: int, idle_every: float) -> float:
    """Seconds without a recorded heartbeat after which an agent counts as silent."""
    return max(missed_beats * every, idle_every + every)


def agent_every(agent: Mapping[str, Any]) -> float:
    settings = agent.get("heartbeat") or {}
    try:
        return parse_duration(str(settings.get("every") or "15m"))
    except ValueError:
        return parse_duration("15m")


def active_window(agent: Mapping[str, Any]) -> Any:
    """The agent's active hours (core/schedule.py ``ActiveHours``), or None (all day, or
    a window that does not parse: the scheduler reports that one)."""
    text = (agent.get("heartbeat") or {}).get("active_hours")
    if not text:
        return None
    from agentctl.core.schedule import ScheduleError, parse_active_hours

    try:
        return parse_active_hours(str(text))
    except ScheduleError:
        return None


def outside_active_hours(agent: Mapping[str, Any], local_now: datetime) -> str | None:
    """The agent's window (``09:00-18:00``) when ``local_now`` is outside it, else None."""
    window = active_window(agent)
    if window is None or window.contains(local_now):
        return None
    return str(window.text())


def silent_since(
    agent: Mapping[str, Any],
    state: Mapping[str, Any],
    now: datetime,
    local_now: datetime,
    missed_beats: int,
    idle_every: float,
) -> datetime | None:
    """The agent's last heartbeat when it counts as silent at ``now``, else None."""
    if str(agent.get("runtime") or "manual") == "manual" or state.get("status") == "blocked":
        return None
    last = parse_ts(state.get("last_heartbeat"))
    if last is None:
        return None
    every = agent_every(agent)
    start = last
    window = active_window(agent)
    if window is not None:
        if not window.contains(local_now):
            return None
        opening = local_now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(
            minutes=window.start
        )
        if opening > local_now:
            opening -= timedelta(days=1)
        start = max(last, now - (local_now - opening))
    if (now - start).total_seconds() > silence_limit(every, missed_beats, idle_every):
        return last
    return None


@dataclass(frozen=True)
class Settings:
    stale_after: float = 86400.0  # seconds
    bounce_limit: int = 2
    missed_beats: int = 3
    idle_every: float = 3600.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        escalation = config.get("escalation") or {}
        heartbeat = config.get("heartbeat") or {}
        return cls(
            parse_duration(str(escalation.get("stale_after", "1d"))),
            int(escalation.get("bounce_limit", 2)),
            int(heartbeat.get("missed_beats", 3)),
            parse_duration(str(heartbeat.get("record_idle_every", "1h"))),
        )


@dataclass(frozen=True)
class Condition:
    kind: str
    subject: str  # a task ID or an agent name
    state: str  # what the condition refers to: part of the key
    detail: str  # one line, without the subject
    title: str | None = None
    assignees: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.subject}:{self.state}"

    def line(self) -> str:
        """``stale t-… "Title" (@nova): in in_progress with no activity since …``."""
        text = f"{self.kind} {self.subject}"
        if self.title:
            title = self.title if len(self.title) <= 60 else self.title[:57] + "..."
            text += f' "{title}"'
        if self.assignees:
            text += " (" + ", ".join(f"@{a}" for a in self.assignees) + ")"
        return f"{text}: {self.detail}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key, "kind": self.kind, "subject": self.subject, "state": self.state,
            "detail": self.detail, "title": self.title, "assignees": list(self.assignees),
        }  # fmt: skip


@dataclass
class Facts:
    """Index data detection works on (each list may hold more than qualifies: the rules here
    decide). Task rows carry ``id``, ``title``, ``assignees``, ``status``."""

    in_progress: list[dict[str, Any]] = field(default_factory=list)  # + last_activity, updated_at
    bounces: list[dict[str, Any]] = field(
        default_factory=list
    )  # + count (review -> in_progress moves)
    due: list[dict[str, Any]] = field(default_factory=list)  # open tasks with a due date: + due
    blocked: list[dict[str, Any]] = field(default_factory=list)  # blocked, deps all done: + since
    agents: list[AgentRecord] = field(default_factory=list)
    states: dict[str, AgentStateRecord] = field(default_factory=dict)


def detect(
    facts: Facts, settings: Settings, now: datetime, local_now: datetime | None = None
) -> list[Condition]:
    """Every condition that holds at ``now``, in kind order, then oldest first, then subject."""
    local_now = local_now or local_time(now)
    found: list[tuple[int, str, str, Condition]] = []

    def add(condition: Condition, since: str) -> None:
        found.append((KINDS.index(condition.kind), since, condition.subject, condition))

    cutoff = now - timedelta(seconds=settings.stale_after)
    for task in facts.in_progress:
        moments = [
            m for m in (parse_ts(task.get("last_activity")), parse_ts(task.get("updated_at"))) if m
        ]
        if not moments:
            continue
        last = max(moments)
        if last < cutoff:
            # The state has milliseconds (as event times do): any later activity makes a new key.
            add(Condition("stale", task["id"], stamp(last, "milliseconds"),
                          f"{task.get('status')} with no activity since {stamp(last)} (over {format_duration(settings.stale_after)})",
                          task.get("title"), tuple(task.get("assignees") or ())), stamp(last))  # fmt: skip
    for task in facts.bounces:
        count = int(task.get("count") or 0)
        if count > settings.bounce_limit:
            add(Condition("bounced", task["id"], str(count),
                          f"sent back from review {count} times (escalation.bounce_limit {settings.bounce_limit})",
                          task.get("title"), tuple(task.get("assignees") or ())), "")  # fmt: skip
    today = clock.utc_day(now)
    for task in facts.due:
        due = str(task.get("due") or "")[:10]
        if due and due < today:
            add(Condition("overdue", task["id"], due, f"past its due date {due} (still {task.get('status')})",
                          task.get("title"), tuple(task.get("assignees") or ())), due)  # fmt: skip
    for task in facts.blocked:
        since = str(task.get("since") or task.get("updated_at") or "")
        add(Condition("unblocked", task["id"], since, f"still {task.get('status')} although its dependencies are all done",
                      task.get("title"), tuple(task.get("assignees") or ())), since)  # fmt: skip
    for agent in facts.agents:
        state = facts.states.get(agent["name"], {})
        beat = silent_since(
            agent, state, now, local_now, settings.missed_beats, settings.idle_every
        )
        if beat is not None:
            every = format_duration(agent_every(agent))
            add(
                Condition(
                    "silent",
                    agent["name"],
                    stamp(beat),
                    f"no heartbeat since {stamp(beat)} (it ticks every {every})",
                ),
                stamp(beat),
            )
    found.sort(key=lambda item: item[:3])
    return [item[3] for item in found]
