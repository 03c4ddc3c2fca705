"""Time: the one clock the code reads, and the one way timestamps are parsed and written.

Timestamps on disk and in JSON are UTC, written ``2026-11-22T01:02:03Z`` (or with milliseconds,
``...03.456Z``). A timestamp without an offset (``2026-11-22T01:02:03``, as a person may type one
into a record) is read as UTC, everywhere.

``now()`` is the only place the code asks the system for the time; tests pin it with
``pinned(moment)`` (or ``set_clock``), so a whole run of workspace calls sees one instant.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime

Clock = Callable[[], datetime]


def system_now() -> datetime:
    return datetime.now(UTC)


_clock: Clock = system_now


def now() -> datetime:
    """The current time, aware, in UTC (full precision)."""
    return _clock().astimezone(UTC)


def now_seconds() -> datetime:
    """``now()`` to the second (the precision of record timestamps)."""
    return now().replace(microsecond=0)


def local_now() -> datetime:
    """``now()`` as naive local wall-clock time (what schedules and active hours are read in)."""
    return now().astimezone().replace(tzinfo=None)


def set_clock(clock: Clock | None) -> None:
    """Replace the clock (``None`` restores the system clock)."""
    global _clock
    _clock = clock or system_now


@contextmanager
def pinned(moment: datetime) -> Iterator[datetime]:
    """Within the block, ``now()`` returns ``moment`` (naive is read as UTC)."""
    previous = _clock
    fixed = as_utc(moment)
    set_clock(lambda: fixed)
    try:
        yield fixed
    finally:
        set_clock(previous)


def as_utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive one is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def parse(value: object) -> datetime | None:
    """A timestamp from a record, an event or the user as an aware UTC datetime; None if the
    value is absent or not an ISO timestamp. Naive timestamps are read as UTC."""
    if not value:
        return None
    if isinstance(value, datetime):
        return as_utc(value)
    if not isinstance(value, (str, date)):
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return as_utc(moment)


def stamp(moment: datetime | None = None, timespec: str = "seconds") -> str:
    """``moment`` (default: now) as a UTC timestamp, ``2026-11-22T01:02:03Z``; ``timespec`` as
    for ``datetime.isoformat`` (``milliseconds`` for event and message times)."""
    return as_utc(moment or now()).isoformat(timespec=timespec).replace("+00:00", "Z")


def stamp_ms(moment: datetime | None = None) -> str:
    """``2026-11-22T01:02:03.456Z``: the precision of events and messages."""
    return stamp(moment, "milliseconds")


def iso(moment: datetime, timespec: str = "seconds") -> str:
    """``moment`` as written, in its own offset (``+00:00`` shortened to ``Z``): how a timestamp
    read from a file is written back, so a value a person typed keeps its offset."""
    return moment.isoformat(timespec=timespec).replace("+00:00", "Z")


def compact(moment: datetime) -> str:
    """``20261122T010203456Z``: a UTC timestamp to the millisecond that sorts and fits a file name."""
    moment = as_utc(moment)
    return moment.strftime("%Y%m%dT%H%M%S") + f"{moment.microsecond // 1000:03d}Z"


def utc_day(moment: datetime) -> str:
    """The UTC calendar day of ``moment``, ``2026-11-22``."""
    return as_utc(moment).date().isoformat()


# Formats for people (screens and plain output), in the moment's own timezone.
TIME = "%H:%M:%S"
SHORT_TIME = "%H:%M"
DAY_TIME = "%m-%d %H:%M"
DATE_MINUTES = "%Y-%m-%d %H:%M"
DATE_TIME = "%Y-%m-%d %H:%M:%S"


def show(moment: datetime, fmt: str = DATE_TIME) -> str:
    """``moment`` for a person, in one of the formats above."""
    return moment.strftime(fmt)
