"""Hypothesis strategies for records, shared by the schema tests: valid records of each type
the hot paths check, and mutations of them with the values that are easy to get wrong
(numbers as timestamps, booleans as numbers, strings one character too long, nulls, ...)."""

from __future__ import annotations

import copy
import string
from datetime import UTC, date, datetime
from typing import Any

from hypothesis import strategies as st

from agentctl.core.fields import (
    AGENT_STATUSES,
    DOC_TYPES,
    LEVELS,
    MESSAGE_KINDS,
    PERMISSION_NAMES,
    RUNTIMES,
    SANDBOXES,
    SPEC_STATUSES,
)
from agentctl.core.ids import ALPHABET

STATUSES = ["inbox", "assigned", "in_progress", "review", "done", "blocked"]


def ids(prefix: str) -> st.SearchStrategy[str]:
    return st.text(ALPHABET, min_size=12, max_size=12).map(lambda s: f"{prefix}-{s}")


task_ids = ids("t")
names = st.from_regex(r"[a-z0-9][a-z0-9-]{0,10}", fullmatch=True)
one_line = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"),
    min_size=1,
    max_size=30,
)  # fmt: skip
stamps = st.sampled_from(
    [
        "2026-11-22T10:30:00Z",
        "2026-01-01T00:00:00+02:00",
        "2026-11-22 10:30:00",
        "2026-11-22T10:30Z",
        "2026-11-22T10:30:00.123456+0100",
    ]
)
durations = st.sampled_from(["15m", "30m", "4h", "1h30m", "2d", "1w"])

# Values that are wrong somewhere and right elsewhere: every field is tried with all of them.
tricky = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 5),
    st.sampled_from([1700000000, 2**63, -1, 0.0, 2.0, 3.5, float("nan"), float("inf"), -0.5]),
    st.text(max_size=6),
    st.sampled_from(
        [
            "", " ", "p0", "P2", " p3 ", "p4", "2", "03", "-1", "1e3", "true", "yes", "null",
            "2026-12-31", "2026-02-30", "2026-13-45", "2026-11-22T24:00:00", "2026-11-22T10:30:60Z",
            "2026-11-22T10:30:00Z", "2026-11-22t10:30:00z", "20261122T103000Z", "1700000000",
            "30m", "4h-6h", "0m", "soon", "09:00-18:00", "9:00-18:00", "t-0123456789ab",
            "t-0123456789ab\n", "m-0123456789ab", "d-0123456789ab", "dev-1", "Dev", "-dev",
            "a\nb", "sep\u2028x", "two words", "a,b", "x" * 64, "x" * 65, "x" * 128, "x" * 129,
            "x" * 500, "x" * 501, "e-0123456789ab", "e-0123", "R1", "R0", "M2", "s-0123456789ab", "0123456789ab", *LEVELS, *RUNTIMES, *SANDBOXES, *AGENT_STATUSES, *MESSAGE_KINDS,
            *DOC_TYPES, PERMISSION_NAMES[0], "inbox", "In Progress",
        ]
    ),  # fmt: skip
    st.just(b"bytes"),
    st.sampled_from(
        [
            datetime(2026, 11, 22, 10, 30, tzinfo=UTC),
            datetime(2026, 11, 22, 10, 30),
            datetime(2026, 11, 22),
            date(2026, 12, 31),
        ]
    ),
    st.lists(st.sampled_from(["dev-1", "x", "", "t-0123456789ab", "a b", PERMISSION_NAMES[1]]), max_size=3),
    st.lists(st.one_of(st.none(), st.integers(0, 2), st.booleans()), min_size=1, max_size=2),
    st.just({}),
    st.fixed_dictionaries({"every": durations}),
    st.just({"claimed_by": "a", "epoch": 1, "lease_expires": "2026-01-01T00:00:00Z"}),
)  # fmt: skip

claims = st.fixed_dictionaries(
    {"claimed_by": names, "epoch": st.integers(1, 9), "lease_expires": stamps}
)

tasks = st.fixed_dictionaries(
    {
        "id": task_ids,
        "title": one_line,
        "status": st.sampled_from(STATUSES),
        "created_by": st.text(min_size=1, max_size=20),
        "created_at": stamps,
        "updated_at": stamps,
    },
    optional={
        "priority": st.one_of(st.integers(0, 3), st.sampled_from(["p0", "P2", "3", " p1 "])),
        "assignees": st.lists(names, max_size=3),
        "labels": st.lists(st.from_regex(r"[a-z]{1,8}", fullmatch=True), max_size=3),
        "parent": task_ids,
        "depends_on": st.lists(task_ids, max_size=3),
        "estimate": st.sampled_from(["30m", "4h", "1h30m", "2d", "4h-6h"]),
        "due": st.sampled_from(["2026-12-31", "2027-02-28"]),
        "spec": st.text(max_size=10),
        "spec_hash": st.from_regex(r"[0-9a-f]{12}", fullmatch=True),
        "source": one_line,
        "claim": claims,
    },
)

agents = st.fixed_dictionaries(
    {"name": names, "role": st.text(min_size=1, max_size=20), "created_at": stamps},
    optional={
        "level": st.sampled_from(LEVELS),
        "capabilities": st.lists(names, max_size=3),
        "runtime": st.sampled_from(RUNTIMES),
        "model": st.text(max_size=10),
        "command": st.lists(st.text(max_size=5), min_size=1, max_size=3),
        "sandbox": st.sampled_from(SANDBOXES),
        "heartbeat": st.fixed_dictionaries(
            {},
            optional={
                "every": durations,
                "offset": durations,
                "active_hours": st.just("09:00-18:00"),
            },
        ),
        "budget": st.fixed_dictionaries(
            {},
            optional={
                "daily_tokens": st.integers(0, 10**6),
                "daily_usd": st.floats(0, 100) | st.integers(0, 9),
            },
        ),
        "permissions": st.fixed_dictionaries(
            {},
            optional={
                "allow": st.lists(st.sampled_from(PERMISSION_NAMES), max_size=2),
                "deny": st.lists(st.sampled_from(PERMISSION_NAMES), max_size=2),
            },
        ),
    },
)

states = st.fixed_dictionaries(
    {},
    optional={
        "status": st.sampled_from(AGENT_STATUSES),
        "current_task": task_ids,
        "last_heartbeat": stamps,
        "last_outcome": st.text(max_size=8),
        "inbox_cursor": st.text(string.ascii_lowercase, max_size=8),
        "failures": st.integers(0, 5),
        "retry_after": stamps,
    },
)

messages = st.fixed_dictionaries(
    {
        "id": ids("m"),
        "task": task_ids,
        "author": st.text(min_size=1, max_size=20),
        "created_at": stamps,
    },
    optional={
        "kind": st.sampled_from(MESSAGE_KINDS),
        "mentions": st.lists(names, max_size=3),
        "reply_to": ids("m"),
    },
)

documents = st.fixed_dictionaries(
    {
        "id": ids("d"),
        "title": one_line,
        "type": st.sampled_from(DOC_TYPES),
        "author": st.text(min_size=1, max_size=20),
        "created_at": stamps,
        "updated_at": stamps,
    },
    optional={"task": task_ids},
)

specs = st.fixed_dictionaries(
    {
        "id": ids("s"),
        "title": one_line,
        "author": st.text(min_size=1, max_size=20),
        "created_at": stamps,
        "updated_at": stamps,
    },
    optional={"status": st.sampled_from(SPEC_STATUSES)},
)

requirement_ids = st.integers(1, 30).map(lambda n: f"R{n}")
spec_lines = st.lists(one_line, max_size=3)
spec_expansions = st.fixed_dictionaries(
    {
        "summary": one_line,
        "requirements": st.lists(
            st.fixed_dictionaries(
                {"id": requirement_ids, "text": one_line},
                optional={
                    "estimate": durations,
                    "depends_on": st.lists(requirement_ids, max_size=2),
                    "labels": st.lists(st.from_regex(r"[a-z]{1,8}", fullmatch=True), max_size=2),
                },
            ),
            min_size=1,
            max_size=3,
        ),
    },
    optional={
        "goals": spec_lines,
        "non_goals": spec_lines,
        "acceptance": spec_lines,
        "milestones": st.lists(
            st.fixed_dictionaries(
                {"id": st.integers(1, 9).map(lambda n: f"M{n}"), "title": one_line},
                optional={"requirements": st.lists(requirement_ids, max_size=3)},
            ),
            max_size=2,
        ),
        "questions": spec_lines,
        "assumptions": spec_lines,
    },
)
spec_questions = st.fixed_dictionaries({}, optional={"questions": st.lists(one_line, max_size=8)})
spec_task_refs = st.integers(1, 120).map(lambda n: f"T{n}")
spec_task_plans = st.fixed_dictionaries(
    {
        "tasks": st.lists(
            st.fixed_dictionaries(
                {"id": spec_task_refs, "title": one_line, "requirement": requirement_ids},
                optional={
                    "description": st.one_of(st.none(), st.text(max_size=40)),
                    "acceptance": spec_lines,
                    "estimate": st.one_of(st.none(), durations),
                    "labels": st.lists(st.from_regex(r"[a-z]{1,8}", fullmatch=True), max_size=2),
                    "depends_on": st.lists(spec_task_refs, max_size=2),
                },
            ),
            min_size=1,
            max_size=3,
        )
    }
)

event_ids = ids("e")
events = st.fixed_dictionaries(
    {
        "id": event_ids,
        "ts": stamps,
        "actor": st.text(max_size=20),
        "type": st.sampled_from(["task.created", "task.moved", "message.posted", "x.y_z"]),
    },
    optional={
        "subject": st.one_of(st.none(), task_ids, names),
        "data": st.dictionaries(st.text(max_size=8), st.one_of(st.none(), st.integers(), one_line, st.lists(names, max_size=2)), max_size=3),
        "notify": st.lists(names, max_size=3),
    },
)  # fmt: skip
inbox_entries = st.one_of(
    st.fixed_dictionaries({"ts": stamps, "delivered": st.lists(event_ids, max_size=3)}),
    st.fixed_dictionaries({"ts": stamps, "read": st.lists(event_ids, max_size=3)}),
    st.fixed_dictionaries(
        {"ts": stamps, "delivered": st.lists(event_ids, max_size=2), "read": st.lists(event_ids, max_size=2)}
    ),
)  # fmt: skip

RECORDS: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "task": tasks,
    "agent": agents,
    "agent_state": states,
    "message": messages,
    "document": documents,
    "spec": specs,
    "spec_expansion": spec_expansions,
    "spec_questions": spec_questions,
    "spec_task_plan": spec_task_plans,
    "event": events,
    "inbox_entry": inbox_entries,
}


def _places(record: dict[str, Any], path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every field path in ``record`` (nested mappings included)."""
    found = []
    for key, value in record.items():
        found.append((*path, key))
        if isinstance(value, dict):
            found.extend(_places(value, (*path, key)))
    return found


@st.composite
def mutated(draw: st.DrawFn, record: dict[str, Any], known: tuple[str, ...]) -> dict[str, Any]:
    """``record`` with one or two fields set to a tricky value, removed, or added (``known`` is
    the record type's field names, so absent optional fields are tried too)."""
    result = copy.deepcopy(record)
    for _ in range(draw(st.integers(1, 2))):
        places = _places(result) + [(k,) for k in known if k not in result] + [("surprise",)]
        place = draw(st.sampled_from(sorted(places)))
        target = result
        for key in place[:-1]:
            target = target[key]
        if not isinstance(target, dict):
            continue
        if place[-1] in target and draw(st.integers(0, 5)) == 0:
            del target[place[-1]]
        else:
            target[place[-1]] = copy.deepcopy(draw(tricky))  # st.just values are shared
    return result
