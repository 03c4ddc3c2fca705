"""When agents tick: pure schedule arithmetic shared by ``agentctl run`` and ``agentctl cron``.

No clock, no I/O: every function takes the time it reasons about. Times are *naive local
wall-clock* datetimes (what ``datetime.now()`` returns): an agent's ``active_hours`` are local
hours, and cron reads its fields in local time too.

An agent with interval ``every`` and ``offset`` ticks at the wall-clock times
``ANCHOR + offset + k * every`` (k an integer), where ``ANCHOR`` is a local midnight. Naive
arithmetic counts every day as 86,400 s, so an interval that divides a day lands on the same
clock times every day (15m with offset 2m: hh:02, hh:17, hh:32, hh:47) - the times the cron
lines installed by ``agentctl cron install`` use. Slots outside ``active_hours`` are skipped.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from agentctl.core.duration import parse_duration

ANCHOR = datetime(2000, 1, 1)
DAY = 86400
DEFAULT_EVERY = "15m"
DEFAULT_STAGGER = "2m"
_WINDOW = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})\Z")


class ScheduleError(ValueError):
    """An interval, offset or active-hours window that cannot be scheduled (message says why)."""


@dataclass(frozen=True)
class ActiveHours:
    """A daily window of local time, ``start`` inclusive, ``end`` exclusive, in minutes since
    midnight. ``end <= start`` means the window crosses midnight (22:00-06:00)."""

    start: int
    end: int

    def contains(self, moment: datetime) -> bool:
        minute = moment.hour * 60 + moment.minute
        if self.start < self.end:
            return self.start <= minute < self.end
        return minute >= self.start or minute < self.end

    def next_start(self, moment: datetime) -> datetime:
        """The first time at or after ``moment`` when the window opens."""
        opening = moment.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(
            minutes=self.start
        )
        return opening if opening >= moment else opening + timedelta(days=1)

    def text(self) -> str:
        return (
            f"{self.start // 60:02d}:{self.start % 60:02d}-{self.end // 60:02d}:{self.end % 60:02d}"
        )


def parse_active_hours(text: str) -> ActiveHours:
    """``HH:MM-HH:MM`` (local time; ``24:00`` allowed as an end) as an :class:`ActiveHours`."""
    match = _WINDOW.match(text.strip())
    if not match:
        raise ScheduleError(f"invalid active_hours {text!r}: use HH:MM-HH:MM, e.g. 09:00-18:00")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2 != 0):
        raise ScheduleError(
            f"invalid active_hours {text!r}: hours run 00-23 (24:00 only as an end)"
        )
    start, end = h1 * 60 + m1, (h2 * 60 + m2) % (24 * 60)
    if start == end and h2 != 24:
        raise ScheduleError(
            f"invalid active_hours {text!r}: the window is empty (start equals end)"
        )
    return ActiveHours(start, end)


@dataclass(frozen=True)
class Schedule:
    """One agent's timetable: tick every ``every`` seconds at ``offset`` seconds into each
    interval, only inside ``active`` (None = all day)."""

    agent: str
    every: int
    offset: int = 0
    active: ActiveHours | None = None

    def __post_init__(self) -> None:
        if self.every <= 0:
            raise ScheduleError(f"{self.agent}: the interval must be at least 1s")
        if not 0 <= self.offset < self.every:
            raise ScheduleError(f"{self.agent}: the offset must be within the interval")

    def describe(self) -> str:
        text = f"every {exact_duration(self.every)}"
        if self.offset:
            text += f" at +{exact_duration(self.offset)}"
        if self.active is not None:
            text += f" during {self.active.text()}"
        return text


def exact_duration(total: int) -> str:
    """Whole seconds written exactly in the duration syntax: 5400 -> ``1h30m``, 0 -> ``0s``."""
    parts = []
    for unit, size in (("d", DAY), ("h", 3600), ("m", 60), ("s", 1)):
        if total >= size:
            parts.append(f"{total // size}{unit}")
            total %= size
    return "".join(parts) or "0s"


def seconds(text: str, what: str) -> int:
    """Whole seconds in a duration (``15m``); fractions of a second are refused."""
    try:
        value = parse_duration(text)
    except ValueError as exc:
        raise ScheduleError(f"{what}: {exc}") from None
    if value != int(value):
        raise ScheduleError(f"{what}: {text!r} is not a whole number of seconds")
    return int(value)


def build_schedules(
    agents: Sequence[Mapping[str, Any]],
    every: str | None = None,
    stagger: str = DEFAULT_STAGGER,
    warnings: list[str] | None = None,
) -> list[Schedule]:
    """Schedules for agent records (index rows with ``name`` and ``heartbeat``), in order.

    The interval is ``every`` when given, else the record's ``heartbeat.every`` (default 15m).
    The offset is the record's ``heartbeat.offset`` when set, else ``i * stagger`` for the
    i-th agent, where the stagger shrinks to fit when ``n * stagger`` would not fit in an
    agent's interval (to ``interval / n``, in whole minutes when the stagger is whole minutes,
    as cron needs); either offset is taken modulo the interval. What was shrunk, and agents
    that must still share a slot (an interval too short for ``n`` distinct minutes), are
    appended to ``warnings``.
    """
    step = seconds(stagger, "--stagger")
    unit = 60 if step % 60 == 0 else 1
    count = len(agents)
    shrunk: dict[int, int] = {}
    result = []
    for i, agent in enumerate(agents):
        name = str(agent["name"])
        settings = agent.get("heartbeat") or {}
        if every is not None:
            interval = seconds(every, "--every")
        else:
            interval = seconds(
                str(settings.get("every") or DEFAULT_EVERY), f"{name}: heartbeat.every"
            )
        if interval <= 0:
            raise ScheduleError(f"{name}: the interval must be at least 1s")
        if settings.get("offset"):
            offset = seconds(str(settings["offset"]), f"{name}: heartbeat.offset")
        elif count * step > interval:
            fitted = max(unit, interval // count // unit * unit)
            shrunk[interval] = fitted
            offset = i * fitted
        else:
            offset = i * step
        active = None
        if settings.get("active_hours"):
            try:
                active = parse_active_hours(str(settings["active_hours"]))
            except ScheduleError as exc:
                raise ScheduleError(f"{name}: {exc}") from None
        result.append(Schedule(name, interval, offset % interval, active))
    if warnings is not None:
        warnings.extend(_stagger_warnings(result, stagger, shrunk))
    return result


def _stagger_warnings(
    schedules: Sequence[Schedule], stagger: str, shrunk: Mapping[int, int]
) -> list[str]:
    notes = []
    for interval, fitted in sorted(shrunk.items()):
        group = [s for s in schedules if s.every == interval]
        slots: dict[int, list[str]] = {}
        for schedule in group:
            slots.setdefault(schedule.offset, []).append(schedule.agent)
        shared = [names for names in slots.values() if len(names) > 1]
        if shared:
            notes.append(
                f"every {exact_duration(interval)} has room for only {len(slots)} distinct start time(s) "
                f"for {len(schedules)} agents; sharing a slot: "
                + "; ".join(", ".join(names) for names in shared)
                + " (use a longer --every, or give agents heartbeat.offset)"
            )
        else:
            notes.append(
                f"--stagger {stagger} does not fit {len(schedules)} agents into every {exact_duration(interval)}; "
                f"staggered {exact_duration(fitted)} apart instead"
            )
    return notes


def _first_slot_after(schedule: Schedule, moment: datetime) -> datetime:
    elapsed = (moment - ANCHOR) // timedelta(seconds=1) - schedule.offset
    k = elapsed // schedule.every + 1
    return ANCHOR + timedelta(seconds=schedule.offset + k * schedule.every)


def next_due(schedule: Schedule, after: datetime) -> datetime:
    """The first slot of ``schedule`` strictly after ``after`` that lies in its active hours."""
    candidate = _first_slot_after(schedule, after)
    if schedule.active is None:
        return candidate
    # Each round lands inside the window or jumps to the slot after the next opening. The
    # pattern of slots repeats every lcm(interval, day), so if none of the openings within
    # one repetition leads into the window, none ever will.
    rounds = 2 * (math.lcm(schedule.every, DAY) // DAY) + 4
    for _ in range(rounds):
        if schedule.active.contains(candidate):
            return candidate
        opening = schedule.active.next_start(candidate)
        candidate = _first_slot_after(schedule, opening - timedelta(seconds=1))
    raise ScheduleError(
        f"{schedule.agent}: no tick of {schedule.describe()} falls inside its active hours"
    )


def next_times(schedule: Schedule, after: datetime, count: int) -> list[datetime]:
    """The next ``count`` due times (for display and tests)."""
    times: list[datetime] = []
    moment = after
    for _ in range(count):
        moment = next_due(schedule, moment)
        times.append(moment)
    return times
