"""The fast validators (core/checks.py, generated from the models into core/record_checks.py)
and the pydantic models accept exactly the same records, in both directions, on the shared
strategies of tests/strategies.py; and a corpus of invalid records is rejected by both."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError as PydanticError
from strategies import RECORDS, mutated

from agentctl.core import checks, models, record_checks
from agentctl.errors import ValidationError

MODELS: dict[str, type[models.Record]] = {
    "task": models.Task, "agent": models.Agent, "agent_state": models.AgentState,
    "message": models.Message, "document": models.Document, "spec": models.Spec,
    "spec_expansion": models.SpecExpansion, "spec_questions": models.SpecQuestions,
    "spec_task_plan": models.SpecTaskPlan,
    "event": models.Event, "inbox_entry": models.InboxEntry,
}  # fmt: skip


def _fast_ok(kind: str, record: dict[str, Any]) -> bool:
    check = getattr(record_checks, f"check_{kind}")
    try:
        check(copy.deepcopy(record), "x.md")
    except ValidationError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("x.md: "), str(exc)
        return False
    return True


def _pydantic_ok(kind: str, record: dict[str, Any]) -> bool:
    try:
        MODELS[kind].model_validate(copy.deepcopy(record))
    except PydanticError:
        return False
    return True


@pytest.mark.parametrize("kind", sorted(RECORDS))
def test_fast_checks_and_models_agree(kind: str) -> None:
    """fast accepts <=> pydantic accepts, on valid records and on mutations of them."""
    known = tuple(MODELS[kind].model_fields)

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.data())
    def agree(data: st.DataObject) -> None:
        record = data.draw(RECORDS[kind], label="valid")
        assert _fast_ok(kind, record), record
        assert _pydantic_ok(kind, record), record
        broken = data.draw(mutated(record, known), label="mutated")
        assert _fast_ok(kind, broken) == _pydantic_ok(kind, broken), broken

    agree()


@given(RECORDS["task"])
@example({"id": "t-0123456789ab", "title": "x", "status": "inbox", "created_by": "me",
          "created_at": 1700000000, "updated_at": "2026-01-01T00:00:00Z"})  # fmt: skip
def test_priority_is_normalised_like_the_model_does(record: dict[str, Any]) -> None:
    fast = copy.deepcopy(record)
    try:
        record_checks.check_task(fast, "x.md")
    except ValidationError:
        assert not _pydantic_ok("task", record)
        return
    assert fast.get("priority", 2) == models.Task.model_validate(record).priority


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
        {"estimate": "soon"}, {"due": "tomorrow"}, {"created_at": "yesterday"}, {"created_at": 1700000000},
        {"claim": {"claimed_by": "a", "epoch": 0, "lease_expires": "2026-01-01T00:00:00Z"}},
        {"claim": {"claimed_by": "a", "epoch": 1}}, {"extra": 1},
    ],
)  # fmt: skip
def test_invalid_tasks_are_rejected_by_both(change: dict[str, Any]) -> None:
    record = {**BASE, **change}
    assert not _fast_ok("task", record)
    assert not _pydantic_ok("task", record)
    with pytest.raises(ValidationError):
        checks.check_task(dict(record), None, "x.md")


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
