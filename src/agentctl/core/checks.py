"""Record validation on the hot paths (index refresh and every write), without pydantic.

The pydantic models in :mod:`agentctl.core.models` are the one definition of every record:
they generate the JSON Schemas, run in ``agentctl validate``, and generate the fast validators
in :mod:`agentctl.core.record_checks` used here (importing pydantic and building the models
costs 150-300 ms per process, more than a whole mutation may take). Tests assert that the two
accept exactly the same records. What is not schema lives here: a record's name or ID must
match its file name (and a message's task its thread directory).
"""

from __future__ import annotations

from typing import Any

from agentctl.core.fields import (
    AGENT_STATUSES,
    DOC_TYPES,
    LABEL_RE,
    LEVELS,
    MESSAGE_KINDS,
    PERMISSION_NAMES,
    RUNTIMES,
    SANDBOXES,
    STATUS_RE,
    TASK_ID_RE,
    TITLE_RE,
    priority_value,
)
from agentctl.errors import ValidationError

__all__ = [
    "AGENT_STATUSES", "DOC_TYPES", "LABEL_RE", "LEVELS", "MESSAGE_KINDS", "PERMISSION_NAMES",
    "RUNTIMES", "SANDBOXES", "STATUS_RE", "TASK_ID_RE", "TITLE_RE", "check_agent", "check_doc",
    "check_event", "check_inbox_entry", "check_message", "check_spec", "check_state", "check_task",
    "event_problem", "inbox_entry_problem", "priority_value",
]  # fmt: skip


def _same_name(key: str, value: str, stem: str | None, path: str) -> None:
    if stem is not None and value != stem:
        raise ValidationError(f"{key} {value!r} does not match the file name {stem!r}", path)


def check_task(data: dict[str, Any], stem: str | None, path: str) -> None:
    """Validate task frontmatter (normalising ``priority`` to an int in place)."""
    from agentctl.core import record_checks

    record_checks.check_task(data, path)
    _same_name("id", data["id"], stem, path)


def check_agent(data: dict[str, Any], stem: str | None, path: str) -> None:
    from agentctl.core import record_checks

    record_checks.check_agent(data, path)
    _same_name("name", data["name"], stem, path)


def check_state(data: Any, path: str) -> None:
    from agentctl.core import record_checks

    if not isinstance(data, dict):
        raise ValidationError("agent state must be a YAML mapping", path)
    record_checks.check_agent_state(data, path)


def check_message(data: dict[str, Any], task_id: str | None, path: str) -> None:
    from agentctl.core import record_checks

    record_checks.check_message(data, path)
    if task_id is not None and data["task"] != task_id:
        raise ValidationError(
            f"task {data['task']!r} does not match the thread directory {task_id!r}", path
        )


def check_doc(data: dict[str, Any], stem: str | None, path: str) -> None:
    from agentctl.core import record_checks

    record_checks.check_document(data, path)
    _same_name("id", data["id"], stem, path)


def check_spec(data: dict[str, Any], stem: str | None, path: str) -> None:
    from agentctl.core import record_checks

    record_checks.check_spec(data, path)
    _same_name("id", data["id"], stem, path)


def check_event(data: Any, path: str) -> None:
    """One line of an event log (``.agentctl/events/<day>.jsonl``)."""
    from agentctl.core import record_checks

    if not isinstance(data, dict):
        raise ValidationError("not a JSON event (a torn or hand-edited line)", path)
    record_checks.check_event(data, path)


INBOX_LINE = 'not a read-state line ({"ts", "read"|"delivered": [IDs]})'


def check_inbox_entry(data: Any, path: str) -> None:
    """One line of an agent's read-state log (``.agentctl/inbox/<agent>.jsonl``): the schema,
    and at least one of the ID lists (a line that records nothing is a torn or hand-made one)."""
    from agentctl.core import record_checks

    if not isinstance(data, dict) or not ("delivered" in data or "read" in data):
        raise ValidationError(INBOX_LINE, path)
    record_checks.check_inbox_entry(data, path)


def event_problem(data: Any) -> str | None:
    """Why an event line is skipped by every reader (and reported by validate), or None."""
    try:
        check_event(data, "")
    except ValidationError as exc:
        return exc.problem
    return None


def inbox_entry_problem(data: Any) -> str | None:
    """Why a read-state line is skipped by every reader (and reported by validate), or None."""
    try:
        check_inbox_entry(data, "")
    except ValidationError as exc:
        return exc.problem
    return None
