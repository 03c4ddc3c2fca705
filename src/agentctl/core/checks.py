"""Fast, strict record validation used on the hot paths (index refresh and every write).

The pydantic models in :mod:`agentctl.core.models` are the schema of record: they generate the
JSON Schemas and run in ``agentctl validate``. Importing pydantic and building the models
costs 150-300 ms per process, more than a whole mutation is allowed to take, so the hot paths
use these hand-written checks instead. They are at least as strict as the models: a property
test asserts that every record accepted here is accepted by pydantic, and a corpus of
invalid records is rejected by both. The field sets are compared with the models' too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from agentctl.core.duration import parse_duration, parse_estimate
from agentctl.errors import ValidationError
from agentctl.paths import NAME_RE

STATUS_RE = re.compile(r"^[a-z][a-z0-9_-]{0,31}\Z")
TASK_ID_RE = re.compile(r"^t-[0-9abcdefghjkmnpqrstvwxyz]{12}\Z")
TITLE_RE = re.compile(r"^[^\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]*\Z")  # one line
LABEL_RE = re.compile(r"^[^\s,]{1,64}\Z")
HOURS_RE = re.compile(r"^\d{2}:\d{2}-\d{2}:\d{2}\Z")
DATETIME_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?\Z"
)

LEVELS = ("intern", "specialist", "lead")
RUNTIMES = ("manual", "simulated", "command", "llm")
SANDBOXES = ("auto", "bwrap", "none")
AGENT_STATUSES = ("idle", "active", "blocked")
PERMISSION_NAMES = (
    "assign_others", "move_any", "move_done", "skip_review", "remove_tasks", "edit_agents", "create_tasks",
    "review",
)  # fmt: skip

TASK_FIELDS = frozenset(
    {
        "id", "title", "status", "priority", "assignees", "labels", "parent", "depends_on", "spec",
        "estimate", "due", "source", "created_by", "created_at", "updated_at", "claim",
    }
)  # fmt: skip
TASK_REQUIRED = frozenset({"id", "title", "status", "created_by", "created_at", "updated_at"})
AGENT_FIELDS = frozenset(
    {
        "name", "role", "level", "capabilities", "runtime", "model", "command", "sandbox", "heartbeat", "budget",
        "permissions", "created_at",
    }
)  # fmt: skip
AGENT_REQUIRED = frozenset({"name", "role", "created_at"})
STATE_FIELDS = frozenset(
    {
        "status",
        "current_task",
        "last_heartbeat",
        "last_outcome",
        "inbox_cursor",
        "failures",
        "retry_after",
    }
)
CLAIM_FIELDS = frozenset({"claimed_by", "epoch", "lease_expires"})


class _Checker:
    def __init__(self, data: dict[str, Any], path: str) -> None:
        self.data = data
        self.path = path

    def fail(self, key: str, problem: str) -> ValidationError:
        return ValidationError(f"{key}: {problem}", self.path)

    def fields(
        self, allowed: frozenset[str], required: frozenset[str], prefix: str = "", data: Any = None
    ) -> None:
        values = self.data if data is None else data
        unknown = sorted(set(values) - allowed)
        if unknown:
            raise self.fail(prefix + str(unknown[0]), "unknown field")
        missing = sorted(k for k in required if values.get(k) is None)
        if missing:
            raise self.fail(prefix + missing[0], "missing required field")

    def not_null(self, *keys: str) -> None:
        """Fields that may be left out but, when present, may not be null (YAML ``key:``)."""
        for key in keys:
            if key in self.data and self.data[key] is None:
                raise self.fail(key, "may not be empty")

    def text(
        self,
        key: str,
        value: Any,
        low: int = 1,
        high: int = 10_000,
        pattern: re.Pattern[str] | None = None,
    ) -> None:
        if not isinstance(value, str):
            raise self.fail(key, "must be a string")
        if not low <= len(value) <= high:
            raise self.fail(key, f"must be {low}-{high} characters long")
        if pattern is not None and not pattern.match(value):
            raise self.fail(key, f"invalid value {value!r}")

    def optional_text(self, key: str, value: Any, **kwargs: Any) -> None:
        if value is not None:
            self.text(key, value, **kwargs)

    def text_list(
        self,
        key: str,
        value: Any,
        pattern: re.Pattern[str] | None = None,
        choices: tuple[str, ...] | None = None,
    ) -> None:
        if value is None:
            return
        if not isinstance(value, list):
            raise self.fail(key, "must be a list")
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise self.fail(f"{key}.{i}", "must be a string")
            if pattern is not None and not pattern.match(item):
                raise self.fail(f"{key}.{i}", f"invalid value {item!r}")
            if choices is not None and item not in choices:
                raise self.fail(f"{key}.{i}", f"must be one of {', '.join(choices)}")

    def integer(self, key: str, value: Any, low: int, high: int | None = None) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, "must be a whole number")
        if value < low or (high is not None and value > high):
            raise self.fail(
                key,
                f"must be between {low} and {high}"
                if high is not None
                else f"must be at least {low}",
            )

    def timestamp(self, key: str, value: Any, optional: bool = False) -> None:
        if value is None and optional:
            return
        if isinstance(value, datetime):
            return
        if not isinstance(value, str) or not DATETIME_RE.match(value):
            raise self.fail(key, "must be a timestamp like 2026-11-22T10:30:00Z")
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "T"))
        except ValueError:
            raise self.fail(key, f"invalid timestamp {value!r}") from None

    def duration(self, key: str, value: Any) -> None:
        self._parsed(key, value, parse_duration, "must be a duration such as 30m, 4h, 2d")

    def estimate(self, key: str, value: Any) -> None:
        self._parsed(
            key, value, parse_estimate, "must be a duration such as 4h or a range such as 4h-6h"
        )

    def _parsed(self, key: str, value: Any, parse: Callable[[str], object], expected: str) -> None:
        """An optional string that ``parse`` accepts (its ValueError names the problem)."""
        if value is None:
            return
        if not isinstance(value, str):
            raise self.fail(key, expected)
        try:
            parse(value)
        except ValueError as exc:
            raise self.fail(key, str(exc)) from None

    def choice(self, key: str, value: Any, choices: tuple[str, ...]) -> None:
        if value not in choices:
            raise self.fail(key, f"must be one of {', '.join(choices)}")


def priority_value(value: Any) -> int | None:
    """0-3 from an int or ``p0``..``p3``; None when invalid."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip().lower().removeprefix("p")
        return int(text) if text in ("0", "1", "2", "3") else None
    return value if isinstance(value, int) and 0 <= value <= 3 else None


def check_task(data: dict[str, Any], stem: str | None, path: str) -> None:
    """Validate task frontmatter (normalising ``priority`` to an int in place)."""
    c = _Checker(data, path)
    c.fields(TASK_FIELDS, TASK_REQUIRED)
    c.not_null("priority", "assignees", "labels", "depends_on")
    c.text("id", data["id"], pattern=TASK_ID_RE)
    if stem is not None and data["id"] != stem:
        raise ValidationError(f"id {data['id']!r} does not match the file name {stem!r}", path)
    c.text("title", data["title"], 1, 500, pattern=TITLE_RE)
    c.text("status", data["status"], pattern=STATUS_RE)
    priority = priority_value(data.get("priority", 2))
    if priority is None:
        raise c.fail("priority", "must be 0-3 or p0-p3")
    data["priority"] = priority
    c.text_list("assignees", data.get("assignees"), NAME_RE)
    c.text_list("labels", data.get("labels"), LABEL_RE)
    c.optional_text("parent", data.get("parent"), pattern=TASK_ID_RE)
    c.text_list("depends_on", data.get("depends_on"), TASK_ID_RE)
    c.optional_text("spec", data.get("spec"), low=0)
    c.estimate("estimate", data.get("estimate"))
    c.optional_text("source", data.get("source"), low=1, high=500, pattern=TITLE_RE)
    due = data.get("due")
    if due is not None and not isinstance(due, date):
        if not isinstance(due, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", due):
            raise c.fail("due", "must be a date like 2026-12-31")
        try:
            date.fromisoformat(due)
        except ValueError:
            raise c.fail("due", f"invalid date {due!r}") from None
    c.text("created_by", data["created_by"], 1, 128)
    c.timestamp("created_at", data["created_at"])
    c.timestamp("updated_at", data["updated_at"])
    claim = data.get("claim")
    if claim is not None:
        if not isinstance(claim, dict):
            raise c.fail("claim", "must be a mapping")
        c.fields(CLAIM_FIELDS, CLAIM_FIELDS, "claim.", claim)
        c.text("claim.claimed_by", claim["claimed_by"], 0)
        c.integer("claim.epoch", claim["epoch"], 1)
        c.timestamp("claim.lease_expires", claim["lease_expires"])


def check_agent(data: dict[str, Any], stem: str | None, path: str) -> None:
    c = _Checker(data, path)
    c.fields(AGENT_FIELDS, AGENT_REQUIRED)
    c.not_null("level", "capabilities", "runtime", "heartbeat")
    c.text("name", data["name"], pattern=NAME_RE)
    if stem is not None and data["name"] != stem:
        raise ValidationError(f"name {data['name']!r} does not match the file name {stem!r}", path)
    c.text("role", data["role"], 1, 64)
    c.choice("level", data.get("level", "specialist"), LEVELS)
    c.text_list("capabilities", data.get("capabilities"), NAME_RE)
    c.choice("runtime", data.get("runtime", "manual"), RUNTIMES)
    c.optional_text("model", data.get("model"), low=0)
    c.text_list("command", data.get("command"))
    if data.get("sandbox") is not None:
        c.choice("sandbox", data["sandbox"], SANDBOXES)
    heartbeat = data.get("heartbeat")
    if heartbeat is not None:
        if not isinstance(heartbeat, dict):
            raise c.fail("heartbeat", "must be a mapping")
        c.fields(
            frozenset({"every", "offset", "active_hours"}), frozenset(), "heartbeat.", heartbeat
        )
        if "every" in heartbeat and heartbeat["every"] is None:
            raise c.fail("heartbeat.every", "may not be empty")
        c.duration("heartbeat.every", heartbeat.get("every"))
        c.duration("heartbeat.offset", heartbeat.get("offset"))
        c.optional_text("heartbeat.active_hours", heartbeat.get("active_hours"), pattern=HOURS_RE)
    budget = data.get("budget")
    if budget is not None:
        if not isinstance(budget, dict):
            raise c.fail("budget", "must be a mapping")
        c.fields(frozenset({"daily_tokens", "daily_usd"}), frozenset(), "budget.", budget)
        if budget.get("daily_tokens") is not None:
            c.integer("budget.daily_tokens", budget["daily_tokens"], 0)
        usd = budget.get("daily_usd")
        if usd is not None and (
            isinstance(usd, bool) or not isinstance(usd, (int, float)) or usd < 0
        ):
            raise c.fail("budget.daily_usd", "must be a number of dollars, at least 0")
    permissions = data.get("permissions")
    if permissions is not None:
        if not isinstance(permissions, dict):
            raise c.fail("permissions", "must be a mapping")
        c.fields(frozenset({"allow", "deny"}), frozenset(), "permissions.", permissions)
        for key in ("allow", "deny"):
            if key in permissions and permissions[key] is None:
                raise c.fail(f"permissions.{key}", "may not be empty")
        c.text_list("permissions.allow", permissions.get("allow"), choices=PERMISSION_NAMES)
        c.text_list("permissions.deny", permissions.get("deny"), choices=PERMISSION_NAMES)
    c.timestamp("created_at", data["created_at"])


def check_state(data: Any, path: str) -> None:
    if not isinstance(data, dict):
        raise ValidationError("agent state must be a YAML mapping", path)
    c = _Checker(data, path)
    c.fields(STATE_FIELDS, frozenset())
    c.not_null("status", "failures")
    c.choice("status", data.get("status", "idle"), AGENT_STATUSES)
    c.optional_text("current_task", data.get("current_task"), pattern=TASK_ID_RE)
    c.timestamp("last_heartbeat", data.get("last_heartbeat"), optional=True)
    c.optional_text("last_outcome", data.get("last_outcome"), low=0)
    c.optional_text("inbox_cursor", data.get("inbox_cursor"), low=0)
    c.integer("failures", data.get("failures", 0), 0)
    c.timestamp("retry_after", data.get("retry_after"), optional=True)


MESSAGE_KINDS = ("comment", "question", "answer", "review", "status_update")
DOC_TYPES = ("deliverable", "research", "protocol", "decision")
MESSAGE_FIELDS = frozenset({"id", "task", "author", "created_at", "kind", "mentions", "reply_to"})
MESSAGE_REQUIRED = frozenset({"id", "task", "author", "created_at", "kind"})
DOC_FIELDS = frozenset({"id", "title", "type", "task", "author", "created_at", "updated_at"})
DOC_REQUIRED = frozenset({"id", "title", "type", "author", "created_at", "updated_at"})
MESSAGE_ID_RE = re.compile(r"^m-[0-9abcdefghjkmnpqrstvwxyz]{12}\Z")
DOC_ID_RE = re.compile(r"^d-[0-9abcdefghjkmnpqrstvwxyz]{12}\Z")


def check_message(data: dict[str, Any], task_id: str | None, path: str) -> None:
    c = _Checker(data, path)
    c.fields(MESSAGE_FIELDS, MESSAGE_REQUIRED)
    c.not_null("mentions")
    c.text("id", data["id"], pattern=MESSAGE_ID_RE)
    c.text("task", data["task"], pattern=TASK_ID_RE)
    if task_id is not None and data["task"] != task_id:
        raise ValidationError(
            f"task {data['task']!r} does not match the thread directory {task_id!r}", path
        )
    c.text("author", data["author"], 1, 128)
    c.timestamp("created_at", data["created_at"])
    c.choice("kind", data["kind"], MESSAGE_KINDS)
    c.text_list("mentions", data.get("mentions"), NAME_RE)
    c.optional_text("reply_to", data.get("reply_to"), pattern=MESSAGE_ID_RE)


def check_doc(data: dict[str, Any], stem: str | None, path: str) -> None:
    c = _Checker(data, path)
    c.fields(DOC_FIELDS, DOC_REQUIRED)
    c.text("id", data["id"], pattern=DOC_ID_RE)
    if stem is not None and data["id"] != stem:
        raise ValidationError(f"id {data['id']!r} does not match the file name {stem!r}", path)
    c.text("title", data["title"], 1, 500, pattern=TITLE_RE)
    c.choice("type", data["type"], DOC_TYPES)
    c.optional_text("task", data.get("task"), pattern=TASK_ID_RE)
    c.text("author", data["author"], 1, 128)
    c.timestamp("created_at", data["created_at"])
    c.timestamp("updated_at", data["updated_at"])


CHECKERS = {
    "Task": check_task,
    "Agent": check_agent,
    "Message": check_message,
    "Document": check_doc,
}
