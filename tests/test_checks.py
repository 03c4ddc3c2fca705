"""The fast validators in core/checks.py are sound with respect to the pydantic models:
whatever they accept, pydantic accepts; a corpus of invalid records is rejected by both."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError as PydanticError

from agentctl.core import checks, models
from agentctl.errors import ValidationError

ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
task_ids = st.text(ALPHABET, min_size=12, max_size=12).map(lambda s: "t-" + s)
names = st.from_regex(r"[a-z0-9][a-z0-9-]{0,10}", fullmatch=True)
stamps = st.sampled_from(
    [
        "2026-11-22T10:30:00Z",
        "2026-01-01T00:00:00+02:00",
        "2026-11-22 10:30:00",
        "2026-11-22T10:30Z",
    ]
)
junk = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 10), st.floats(allow_nan=False), st.text(max_size=8),
    st.lists(st.text(max_size=4), max_size=2), st.just({}), st.just("2026-13-45"), st.just("p9"), st.just("../x"),
)  # fmt: skip


def valid_task() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "id": task_ids,
            "title": st.text(min_size=1, max_size=40).filter(
                lambda t: checks.TITLE_RE.match(t) is not None
            ),
            "status": st.sampled_from(["inbox", "in_progress", "done"]),
            "created_by": st.text(min_size=1, max_size=20),
            "created_at": stamps,
            "updated_at": stamps,
        },
        optional={
            "priority": st.one_of(st.integers(0, 3), st.sampled_from(["p0", "P2", "3"])),
            "assignees": st.lists(names, max_size=3),
            "labels": st.lists(st.from_regex(r"[a-z]{1,8}", fullmatch=True), max_size=3),
            "parent": task_ids,
            "depends_on": st.lists(task_ids, max_size=3),
            "estimate": st.sampled_from(["30m", "4h", "1h30m", "2d"]),
            "due": st.sampled_from(["2026-12-31", "2027-02-28"]),
            "spec": st.text(max_size=10),
            "claim": st.fixed_dictionaries(
                {"claimed_by": names, "epoch": st.integers(1, 9), "lease_expires": stamps}
            ),
        },
    )


def mutate(record: dict[str, Any], data: st.DataObject, fields: frozenset[str]) -> dict[str, Any]:
    result = dict(record)
    key = data.draw(st.sampled_from(sorted(fields | {"surprise"})))
    result[key] = data.draw(junk)
    return result


def _fast_ok(kind: str, record: dict[str, Any]) -> bool:
    try:
        if kind == "task":
            checks.check_task(dict(record), None, "x.md")
        elif kind == "agent":
            checks.check_agent(dict(record), None, "x.md")
        else:
            checks.check_state(dict(record), "x.yaml")
    except ValidationError:
        return False
    return True


def _pydantic_ok(kind: str, record: dict[str, Any]) -> bool:
    model = {"task": models.Task, "agent": models.Agent, "state": models.AgentState}[kind]
    try:
        model.model_validate(record)
    except PydanticError:
        return False
    return True


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(valid_task(), st.data())
def test_task_checks_are_sound(record: dict[str, Any], data: st.DataObject) -> None:
    assert _fast_ok("task", record) and _pydantic_ok("task", record)
    broken = mutate(record, data, checks.TASK_FIELDS)
    if _fast_ok("task", broken):
        assert _pydantic_ok("task", broken), broken


agents = st.fixed_dictionaries(
    {"name": names, "role": st.text(min_size=1, max_size=20), "created_at": stamps},
    optional={
        "level": st.sampled_from(["intern", "specialist", "lead"]),
        "capabilities": st.lists(names, max_size=3),
        "runtime": st.sampled_from(["simulated", "command", "llm"]),
        "model": st.text(max_size=10),
        "command": st.lists(st.text(max_size=5), min_size=1, max_size=3),
        "heartbeat": st.fixed_dictionaries(
            {},
            optional={
                "every": st.just("15m"),
                "offset": st.just("2m"),
                "active_hours": st.just("09:00-18:00"),
            },
        ),
        "budget": st.fixed_dictionaries(
            {}, optional={"daily_tokens": st.integers(0, 10**6), "daily_usd": st.floats(0, 100)}
        ),
        "permissions": st.fixed_dictionaries(
            {}, optional={"allow": st.just(["assign_others"]), "deny": st.just(["move_done"])}
        ),
    },
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(agents, st.data())
def test_agent_checks_are_sound(record: dict[str, Any], data: st.DataObject) -> None:
    assert _fast_ok("agent", record) and _pydantic_ok("agent", record)
    broken = mutate(record, data, checks.AGENT_FIELDS)
    if _fast_ok("agent", broken):
        assert _pydantic_ok("agent", broken), broken


states = st.fixed_dictionaries(
    {},
    optional={
        "status": st.sampled_from(["idle", "active", "blocked"]),
        "current_task": task_ids,
        "last_heartbeat": stamps,
        "last_outcome": st.text(max_size=8),
        "failures": st.integers(0, 5),
    },
)


@settings(max_examples=200)
@given(states, st.data())
def test_state_checks_are_sound(record: dict[str, Any], data: st.DataObject) -> None:
    assert _fast_ok("state", record) and _pydantic_ok("state", record)
    broken = mutate(record, data, checks.STATE_FIELDS)
    if _fast_ok("state", broken):
        assert _pydantic_ok("state", broken), broken


BASE = {
    "id": "t-0123456789ab",
    "title": "x",
    "status": "inbox",
    "created_by": "me",
    "created_at": "2026-01-01T00:00:00Z",
    "updated_at": "2026-01-01T00:00:00Z",
}


@pytest.mark.parametrize(
    "change",
    [
        {"id": "t-../../etc"}, {"id": "T-0123456789AB"}, {"title": ""}, {"status": "In Progress"},
        {"priority": 7}, {"priority": True}, {"priority": "high"}, {"assignees": ["../x"]},
        {"assignees": "nova"}, {"labels": ["two words"]}, {"depends_on": ["t-short"]},
        {"estimate": "soon"}, {"due": "tomorrow"}, {"created_at": "yesterday"},
        {"claim": {"claimed_by": "a", "epoch": 0, "lease_expires": "2026-01-01T00:00:00Z"}},
        {"claim": {"claimed_by": "a", "epoch": 1}}, {"extra": 1},
    ],
)  # fmt: skip
def test_invalid_tasks_are_rejected_by_both(change: dict[str, Any]) -> None:
    record = {**BASE, **change}
    assert not _fast_ok("task", record)
    assert not _pydantic_ok("task", record)


@pytest.mark.parametrize("name", ["dev\n", "dev\r", "a" * 65, "Dev", "-dev", "../dev", "dev/x", ""])
def test_names_with_trailing_newline_or_path_parts_are_refused(name: str) -> None:
    from agentctl.errors import UsageError
    from agentctl.paths import validate_name

    with pytest.raises(UsageError):
        validate_name(name)


@pytest.mark.parametrize(
    "title", ["two\nlines", "trailing newline\n", "sep\u2028arator", "nel\x85"]
)
def test_titles_are_one_line(title: str) -> None:
    assert not _fast_ok("task", {**BASE, "title": title})
    assert not _pydantic_ok("task", {**BASE, "title": title})
