"""core/clock: one way to read the time, parse timestamps and write them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import PINNED_AT, Runner, add_task

from agentctl.core import clock

ZONE = timezone(timedelta(hours=2))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-22T01:02:03Z", datetime(2026, 11, 22, 1, 2, 3, tzinfo=UTC)),
        ("2026-11-22T03:02:03+02:00", datetime(2026, 11, 22, 1, 2, 3, tzinfo=UTC)),
        # Naive timestamps are UTC, everywhere (not the local time of the machine reading them).
        ("2026-11-22T01:02:03", datetime(2026, 11, 22, 1, 2, 3, tzinfo=UTC)),
        ("2026-11-22 01:02:03", datetime(2026, 11, 22, 1, 2, 3, tzinfo=UTC)),
        ("2026-11-22", datetime(2026, 11, 22, tzinfo=UTC)),
        ("2026-11-22T01:02:03.456Z", datetime(2026, 11, 22, 1, 2, 3, 456000, tzinfo=UTC)),
    ],
)
def test_parse_reads_every_timestamp_as_aware_utc(text: str, expected: datetime) -> None:
    parsed = clock.parse(text)
    assert parsed == expected
    assert parsed is not None and parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize("value", [None, "", "garbage", "1700000000", 1700000000, [], True])
def test_parse_gives_none_for_what_is_not_a_timestamp(value: object) -> None:
    assert clock.parse(value) is None


def test_parse_takes_datetimes_and_reads_naive_ones_as_utc() -> None:
    assert clock.parse(datetime(2026, 1, 1, 12)) == datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert clock.parse(datetime(2026, 1, 1, 14, tzinfo=ZONE)) == datetime(
        2026, 1, 1, 12, tzinfo=UTC
    )


def test_stamps_are_utc_with_a_z() -> None:
    moment = datetime(2026, 11, 22, 3, 2, 3, 456789, tzinfo=ZONE)
    assert clock.stamp(moment) == "2026-11-22T01:02:03Z"
    assert clock.stamp_ms(moment) == "2026-11-22T01:02:03.456Z"
    assert clock.stamp(moment, "minutes") == "2026-11-22T01:02Z"
    assert clock.stamp(datetime(2026, 11, 22, 1, 2, 3)) == "2026-11-22T01:02:03Z"  # naive: UTC
    assert clock.compact(moment) == "20261122T010203456Z"
    assert clock.utc_day(datetime(2026, 11, 22, 1, tzinfo=ZONE)) == "2026-11-21"


def test_iso_keeps_the_offset_a_value_was_written_with() -> None:
    assert clock.iso(datetime(2026, 11, 22, 1, 2, 3, tzinfo=ZONE)) == "2026-11-22T01:02:03+02:00"
    assert clock.iso(datetime(2026, 11, 22, 1, 2, 3, tzinfo=UTC)) == "2026-11-22T01:02:03Z"
    assert clock.iso(datetime(2026, 11, 22, 1, 2, 3)) == "2026-11-22T01:02:03"


def test_stamp_and_parse_round_trip() -> None:
    moment = datetime(2026, 11, 22, 1, 2, 3, 456000, tzinfo=UTC)
    assert clock.parse(clock.stamp_ms(moment)) == moment


def test_pinned_fixes_now_and_restores_it() -> None:
    moment = datetime(2030, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    with clock.pinned(moment):
        assert clock.now() == moment
        assert clock.now_seconds() == moment.replace(microsecond=0)
        assert clock.stamp() == "2030-05-06T07:08:09Z"
        assert clock.local_now() == moment.astimezone().replace(tzinfo=None)
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(minutes=1)


def test_a_pinned_clock_dates_what_a_command_writes(
    ws_root: Path, cli: Runner, pinned_clock: datetime
) -> None:
    task_id = add_task(cli, "Pinned in time")
    shown = cli("task", "show", task_id, "--json")
    assert shown.code == 0, str(shown)
    assert shown.json()["task"]["created_at"] == PINNED_AT[:19] + "Z"
    day = ws_root / ".agentctl" / "events" / "2026-11-22.jsonl"  # the workspace began today
    events = [json.loads(line) for line in day.read_text().splitlines()]
    assert [e["type"] for e in events] == ["task.created"]
    assert events[0]["ts"] == PINNED_AT
