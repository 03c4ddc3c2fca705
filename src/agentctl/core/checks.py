"""Light structural checks of record data, used on the read path instead of pydantic.

They catch what would make a record unusable or misleading in a listing (unknown or missing
fields, wrong basic types, an ID that does not match its file name); the full schema in
:mod:`agentctl.core.models` runs on every write and in ``agentctl validate``. A test keeps the
field sets here equal to the models'.
"""

from __future__ import annotations

import re
from typing import Any

from agentctl.errors import ValidationError

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")

TASK_FIELDS = frozenset(
    {
        "id", "title", "status", "priority", "assignees", "labels", "parent", "depends_on", "spec",
        "estimate", "due", "created_by", "created_at", "updated_at", "claim",
    }
)  # fmt: skip
TASK_REQUIRED = frozenset({"id", "title", "status", "created_by", "created_at", "updated_at"})
AGENT_FIELDS = frozenset(
    {
        "name", "role", "level", "capabilities", "runtime", "model", "command", "heartbeat", "budget",
        "permissions", "created_at",
    }
)  # fmt: skip
AGENT_REQUIRED = frozenset({"name", "role", "created_at"})
STATE_FIELDS = frozenset({"status", "current_task", "last_heartbeat", "last_outcome", "inbox_cursor", "failures"})


def _fields(data: dict[str, Any], allowed: frozenset[str], required: frozenset[str], path: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValidationError(f"unknown field {unknown[0]!r}", path)
    missing = sorted(required - set(data))
    if missing:
        raise ValidationError(f"missing required field {missing[0]!r}", path)


def _list_of_str(data: dict[str, Any], key: str, path: str) -> None:
    value = data.get(key)
    if value is None:
        return
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError(f"field {key!r} must be a list of strings", path)


def check_task(data: dict[str, Any], stem: str, path: str) -> None:
    _fields(data, TASK_FIELDS, TASK_REQUIRED, path)
    if data["id"] != stem:
        raise ValidationError(f"id {data['id']!r} does not match the file name {stem!r}", path)
    for key in ("title", "status", "created_by"):
        if not isinstance(data[key], str) or not data[key]:
            raise ValidationError(f"field {key!r} must be a non-empty string", path)
    priority = data.get("priority", 2)
    if isinstance(priority, str) and priority.lower().startswith("p"):
        priority = priority[1:]
    try:
        number = int(priority)
    except (TypeError, ValueError):
        raise ValidationError("field 'priority' must be 0-3 or p0-p3", path) from None
    if not 0 <= number <= 3 or isinstance(priority, bool):
        raise ValidationError("field 'priority' must be 0-3 or p0-p3", path)
    data["priority"] = number
    for key in ("assignees", "labels", "depends_on"):
        _list_of_str(data, key, path)
    if data.get("claim") is not None and not isinstance(data["claim"], dict):
        raise ValidationError("field 'claim' must be a mapping", path)


def check_agent(data: dict[str, Any], stem: str, path: str) -> None:
    _fields(data, AGENT_FIELDS, AGENT_REQUIRED, path)
    if data["name"] != stem:
        raise ValidationError(f"name {data['name']!r} does not match the file name {stem!r}", path)
    if not isinstance(data["name"], str) or not NAME_RE.match(data["name"]):
        raise ValidationError("field 'name' must be a lowercase name", path)
    _list_of_str(data, "capabilities", path)


def check_state(data: Any, path: str) -> None:
    if not isinstance(data, dict):
        raise ValidationError("agent state must be a YAML mapping", path)
    unknown = sorted(set(data) - STATE_FIELDS)
    if unknown:
        raise ValidationError(f"unknown field {unknown[0]!r}", path)
