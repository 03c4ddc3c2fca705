"""Fast validators of the records, GENERATED from the pydantic models by
``python -m agentctl.schema --validators`` (agentctl/schema_validators.py): do not edit.

Each ``check_<record>(data, path)`` raises ValidationError("<field>: <problem>", path) for the
first problem, and accepts exactly what the model accepts (tests/test_checks.py).
``priority`` is normalised to 0-3 in place. No pydantic import: writes and reads use these.
"""

from __future__ import annotations

from typing import Any

from agentctl.core import fields as f

_FIELDS_1 = frozenset(
    {
        "assignees",
        "claim",
        "created_at",
        "created_by",
        "depends_on",
        "due",
        "estimate",
        "id",
        "labels",
        "parent",
        "priority",
        "source",
        "spec",
        "spec_hash",
        "status",
        "title",
        "updated_at",
    }
)
_NAMES_1 = ("created_at", "created_by", "id", "status", "title", "updated_at")
_NAMES_2 = ("assignees", "depends_on", "labels", "priority")
_PATTERN_1 = f.compile_pattern("^t-[0123456789abcdefghjkmnpqrstvwxyz]{12}$")
_PATTERN_2 = f.compile_pattern("^[^\\n\\r\\x0b\\x0c\\x1c-\\x1e\\x85\\u2028\\u2029]*$")
_PATTERN_3 = f.compile_pattern("^[a-z][a-z0-9_-]{0,31}$")
_PATTERN_4 = f.compile_pattern("^[a-z0-9][a-z0-9-]{0,63}$")
_PATTERN_5 = f.compile_pattern("^[^\\s,]+$")
_PATTERN_6 = f.compile_pattern("^[0-9a-f]{12}$")
_FIELDS_2 = frozenset({"claimed_by", "epoch", "lease_expires"})
_NAMES_3 = ("claimed_by", "epoch", "lease_expires")
_FIELDS_3 = frozenset(
    {
        "api_base",
        "approval",
        "budget",
        "capabilities",
        "command",
        "created_at",
        "heartbeat",
        "host",
        "level",
        "model",
        "name",
        "output",
        "permissions",
        "proposed_by",
        "role",
        "runtime",
        "sandbox",
    }
)
_NAMES_4 = ("created_at", "name", "role")
_NAMES_5 = ("capabilities", "heartbeat", "level", "runtime")
_CHOICES_1 = ("intern", "specialist", "lead")
_CHOICES_2 = ("manual", "simulated", "command", "llm")
_PATTERN_7 = f.compile_pattern("^https?://[^\\s@]+$")
_CHOICES_3 = ("auto", "bwrap", "none")
_CHOICES_4 = ("text", "claude-json", "gemini-json")
_FIELDS_4 = frozenset({"active_hours", "every", "offset"})
_NAMES_6 = ("every",)
_PATTERN_8 = f.compile_pattern("^\\d{2}:\\d{2}-\\d{2}:\\d{2}$")
_FIELDS_5 = frozenset({"daily_tokens", "daily_usd"})
_FIELDS_6 = frozenset({"allow", "deny"})
_NAMES_7 = ("allow", "deny")
_CHOICES_5 = (
    "assign_others",
    "move_any",
    "move_done",
    "skip_review",
    "remove_tasks",
    "edit_agents",
    "create_tasks",
    "review",
    "plan",
    "propose_agents",
    "fetch",
)
_CHOICES_6 = ("pending", "approved")
_FIELDS_7 = frozenset(
    {
        "current_task",
        "failures",
        "host",
        "inbox_cursor",
        "last_heartbeat",
        "last_outcome",
        "retry_after",
        "status",
    }
)
_NAMES_8 = ("failures", "status")
_CHOICES_7 = ("idle", "active", "blocked")
_FIELDS_8 = frozenset({"author", "created_at", "id", "kind", "mentions", "reply_to", "task"})
_NAMES_9 = ("author", "created_at", "id", "task")
_NAMES_10 = ("kind", "mentions")
_PATTERN_9 = f.compile_pattern("^m-[0123456789abcdefghjkmnpqrstvwxyz]{12}$")
_CHOICES_8 = ("comment", "question", "answer", "review", "status_update")
_FIELDS_9 = frozenset(
    {
        "author",
        "created_at",
        "fetched_at",
        "id",
        "source_url",
        "task",
        "title",
        "type",
        "updated_at",
    }
)
_NAMES_11 = ("author", "created_at", "id", "title", "type", "updated_at")
_PATTERN_10 = f.compile_pattern("^d-[0123456789abcdefghjkmnpqrstvwxyz]{12}$")
_CHOICES_9 = ("deliverable", "research", "protocol", "decision")
_PATTERN_11 = f.compile_pattern("^https?://[^\\s]+$")
_FIELDS_10 = frozenset({"author", "created_at", "id", "status", "title", "updated_at"})
_NAMES_12 = ("author", "created_at", "id", "title", "updated_at")
_NAMES_13 = ("status",)
_PATTERN_12 = f.compile_pattern("^s-[0123456789abcdefghjkmnpqrstvwxyz]{12}$")
_CHOICES_10 = ("draft", "expanded")
_FIELDS_11 = frozenset(
    {
        "acceptance",
        "assumptions",
        "goals",
        "milestones",
        "non_goals",
        "questions",
        "requirements",
        "summary",
    }
)
_NAMES_14 = ("requirements", "summary")
_NAMES_15 = ("acceptance", "assumptions", "goals", "milestones", "non_goals", "questions")
_FIELDS_12 = frozenset({"depends_on", "estimate", "id", "labels", "text"})
_NAMES_16 = ("id", "text")
_NAMES_17 = ("depends_on", "labels")
_PATTERN_13 = f.compile_pattern("^R[1-9][0-9]{0,3}$")
_FIELDS_13 = frozenset({"id", "requirements", "title"})
_NAMES_18 = ("id", "title")
_NAMES_19 = ("requirements",)
_PATTERN_14 = f.compile_pattern("^M[1-9][0-9]{0,3}$")
_FIELDS_14 = frozenset({"questions"})
_NAMES_20 = ("questions",)
_FIELDS_15 = frozenset({"tasks"})
_NAMES_21 = ("tasks",)
_FIELDS_16 = frozenset(
    {
        "acceptance",
        "depends_on",
        "description",
        "estimate",
        "id",
        "labels",
        "requirement",
        "title",
    }
)
_NAMES_22 = ("id", "requirement", "title")
_NAMES_23 = ("acceptance", "depends_on", "labels")
_PATTERN_15 = f.compile_pattern("^T[1-9][0-9]{0,2}$")
_FIELDS_17 = frozenset({"actor", "data", "id", "notify", "subject", "ts", "type"})
_NAMES_24 = ("actor", "id", "ts", "type")
_NAMES_25 = ("data", "notify")
_PATTERN_16 = f.compile_pattern("^e-[0123456789abcdefghjkmnpqrstvwxyz]{12}$")
_PATTERN_17 = f.compile_pattern("^[a-z][a-z_.]*$")
_FIELDS_18 = frozenset({"delivered", "read", "ts"})
_NAMES_26 = ("ts",)
_NAMES_27 = ("delivered", "read")


def _check_task(data: dict[str, Any], path: str, prefix: str = "") -> None:
    f.fields(data, path, prefix, _FIELDS_1, _NAMES_1, _NAMES_2)
    value = data["id"]
    f.text(path, f"{prefix}id", value, pattern=_PATTERN_1)
    value = data["title"]
    f.text(path, f"{prefix}title", value, low=1, high=500, pattern=_PATTERN_2)
    value = data["status"]
    f.text(path, f"{prefix}status", value, pattern=_PATTERN_3)
    if "priority" in data:
        data["priority"] = f.priority(path, f"{prefix}priority", data["priority"])
    if "assignees" in data:
        value = data["assignees"]
        for i, item in enumerate(f.array(path, f"{prefix}assignees", value)):
            f.text(path, f"{prefix}assignees.{i}", item, pattern=_PATTERN_4)
    if "labels" in data:
        value = data["labels"]
        for i, item in enumerate(f.array(path, f"{prefix}labels", value)):
            f.text(path, f"{prefix}labels.{i}", item, low=1, high=64, pattern=_PATTERN_5)
    value = data.get("parent")
    if value is not None:
        f.text(path, f"{prefix}parent", value, pattern=_PATTERN_1)
    if "depends_on" in data:
        value = data["depends_on"]
        for i, item in enumerate(f.array(path, f"{prefix}depends_on", value)):
            f.text(path, f"{prefix}depends_on.{i}", item, pattern=_PATTERN_1)
    value = data.get("spec")
    if value is not None:
        f.text(path, f"{prefix}spec", value)
    value = data.get("spec_hash")
    if value is not None:
        f.text(path, f"{prefix}spec_hash", value, pattern=_PATTERN_6)
    value = data.get("estimate")
    if value is not None:
        f.text(path, f"{prefix}estimate", value)
        f.estimate(path, f"{prefix}estimate", value)
    value = data.get("due")
    if value is not None:
        f.day(path, f"{prefix}due", value)
    value = data.get("source")
    if value is not None:
        f.text(path, f"{prefix}source", value, low=1, high=500, pattern=_PATTERN_2)
    value = data["created_by"]
    f.text(path, f"{prefix}created_by", value, low=1, high=128)
    value = data["created_at"]
    f.timestamp(path, f"{prefix}created_at", value)
    value = data["updated_at"]
    f.timestamp(path, f"{prefix}updated_at", value)
    value = data.get("claim")
    if value is not None:
        value = f.mapping(path, f"{prefix}claim", value)
        _check_claim(value, path, f"{prefix}claim.")


def _check_claim(data: dict[str, Any], path: str, prefix: str = "") -> None:
    f.fields(data, path, prefix, _FIELDS_2, _NAMES_3, ())
    value = data["claimed_by"]
    f.text(path, f"{prefix}claimed_by", value)
    value = data["epoch"]
    f.integer(path, f"{prefix}epoch", value, low=1)
    value = data["lease_expires"]
    f.timestamp(path, f"{prefix}lease_expires", value)


def _check_agent(data: dict[str, Any], path: str, prefix: str = "") -> None:
    f.fields(data, path, prefix, _FIELDS_3, _NAMES_4, _NAMES_5)
    value = data["name"]
    f.text(path, f"{prefix}name", value, pattern=_PATTERN_4)
    value = data["role"]
    f.text(path, f"{prefix}role", value, low=1, high=64)
    if "level" in data:
        value = data["level"]
        f.choice(path, f"{prefix}level", value, _CHOICES_1)
    if "capabilities" in data:
        value = data["capabilities"]
        for i, item in enumerate(f.array(path, f"{prefix}capabilities", value)):
            f.text(path, f"{prefix}capabilities.{i}", item, pattern=_PATTERN_4)
    if "runtime" in data:
        value = data["runtime"]
        f.choice(path, f"{prefix}runtime", value, _CHOICES_2)
    value = data.get("model")
    if value is not None:
        f.text(path, f"{prefix}model", value)
    value = data.get("api_base")
    if value is not None:
        f.text(path, f"{prefix}api_base", value, high=300, pattern=_PATTERN_7)
    value = data.get("command")
    if value is not None:
        for i, item in enumerate(f.array(path, f"{prefix}command", value)):
            f.text(path, f"{prefix}command.{i}", item)
    value = data.get("sandbox")
    if value is not None:
        f.choice(path, f"{prefix}sandbox", value, _CHOICES_3)
    value = data.get("output")
    if value is not None:
        f.choice(path, f"{prefix}output", value, _CHOICES_4)
    value = data.get("host")
    if value is not None:
        f.text(path, f"{prefix}host", value, pattern=_PATTERN_4)
    if "heartbeat" in data:
        value = data["heartbeat"]
        value = f.mapping(path, f"{prefix}heartbeat", value)
        _check_heartbeat_settings(value, path, f"{prefix}heartbeat.")
    value = data.get("budget")
    if value is not None:
        value = f.mapping(path, f"{prefix}budget", value)
        _check_budget(value, path, f"{prefix}budget.")
    value = data.get("permissions")
    if value is not None:
        value = f.mapping(path, f"{prefix}permissions", value)
        _check_permissions(value, path, f"{prefix}permissions.")
    value = data.get("approval")
    if value is not None:
        f.choice(path, f"{prefix}approval", value, _CHOICES_6)
    value = data.get("proposed_by")
    if value is not None:
        f.text(path, f"{prefix}proposed_by", value, pattern=_PATTERN_4)
    value = data["created_at"]
    f.timestamp(path, f"{prefix}created_at", value)


def _check_heartbeat_settings(data: dict[str, Any], path: str, prefix: str = "") -> None:
    f.fields(data, path, prefix, _FIELDS_4, (), _NAMES_6)
    if "every" in data:
        value = data["every"]
        f.text(path, f"{prefix}every", value)
        f.duration(path, f"{prefix}every", value)
    value = data.get("offset")
    if value is not None:
        f.text(path, f"{prefix}offset", value)
        f.duration(path, f"{prefix}offset", value)
    value = data.get("active_hours")
    if value is not None:
        f.text(path, f"{prefix}active_hours", value, pattern=_PATTERN_8)


def _check_budget(data: dict[str, Any], path: str, prefix: str = "") -> None:
    f.fields(data, path, prefix, _FIELDS_5, (), ())
    value = data.get("daily_tokens")
    if value is not None:
        f.integer(path, f"{prefix}daily_tokens", value, low=0)
    value = data.get("daily_usd")
    if value is not None:
        f.number(path, f"{prefix}daily_usd", value, low=0)


def _check_permissions(data: dict[str, Any], path: str, prefix: str = "") -> None:
    f.fields(data, path, prefix, _FIELDS_6, (), _NAMES_7)
    if "allow" in data:
        value = data["allow"]
        for i, item in enumerate(f.array(path, f"{prefix}allow", value)):
            f.choice(path, f"{prefix}allow.{i}", item, _CHOICES_5)
    if "deny" in data:
        value = data["deny"]
        for i, item in enumerate(f.array(path, f"{prefix}deny", value)):
            f.choice(path, f"{prefix}deny.{i}", item, _CHOICES_5)


def _check_agent_state(data: dict[str, Any], path: str, prefix: str = "") -> None:
    f.fields(data, path, prefix, _FIELDS_7, (), _NAMES_8)
    if "status" in data:
        value = data["status"]
        f.choice(path, f"{prefix}status", value, _CHOICES_7)
    value = data.get("current_task")
    if value is not None:
        f.text(path, f"{prefix}current_task", value, pattern=_PATTERN_1)
    value = data.get("last_heartbeat")
    if value is not None:
        f.timestamp(path, f"{prefix}last_heartbeat", value)
    value = data.get("last_outcome")
    if value is not None:
        f.text(path, f"{prefix}last_outcome", value)
    value = data.get("inbox_cursor")
    if value is not None:
        f.text(path, f"{prefix}inbox_cursor", value)
    if "failures" in data:
        value = data["failures"]
        f.integer(path, f"{prefix}failures", value, low=0)
    value = data.get("retry_after")
    if value is not None:
        f.timestamp(path, f"{prefix}retry_after", value)
    value = data.get("host")
    if value is not None:
        f.text(path, f"{prefix}host", value, pattern=_PATTERN_4)


def _check_message(data: dict[str, Any], path: str, prefix: str = "") -> None:
    f.fields(data, path, prefix, _FIELDS_8, _NAMES_9, _NAMES_10)
    value = data["id"]
    f.text(path, f"{prefix}id", value, pattern=_PATTERN_9)
    value = data["task"]
    f.text(path, f"{prefix}task", value, pattern=_PATTERN_1)
    value = data["author"]
    f.text(path, f"{prefix}author", value, low=1, high=128)
    value = data["created_at"]
    f.timestamp(path, f"{prefix}created_at", value)
    if "kind" in data:
        value = data["kind"]
        f.choice(path, f"{prefix}kind", value, _CHOICES_8)
    if "mentions" in data:
        value = data["mentions"]
        for i, item in enumerate(f.array(path, f"{prefix}mentions", value)):
            f.text(path, f"{prefix}mentions.{i}", item, pattern=_PATTERN_4)
    value = data.get("reply_to")
    if value is not None:
        f.text(path, f"{prefix}reply_to", value, pattern=_PATTERN_9)


def _check_document(data: dict[str, Any], path: str, prefix: str = "") -> None:
    f.fields(data, path, prefix, _FIELDS_9, _NAMES_11, ())
    value = data["id"]
    f.text(path, f"{prefix}id", value, pattern=_PATTERN_10)
    value = data["title"]
    f.text(path, f"{prefix}title", value, low=1, high=500, pattern=_PATTERN_2)
    value = data["type"]
    f.choice(path, f"{prefix}type", value, _CHOICES_9)
    value = data.get("task")
    if value is not None:
        f.text(path, f"{prefix}task", value, pattern=_PATTERN_1)
    value = data["author"]
    f.text(path, f"{prefix}author", value, low=1, high=128)
    value = data["created_at"]
    f.timestamp(path, f"{prefix}created_at", value)
    value = data["updated_at"]
    f.timestamp(path, f"{prefix}updated_at", value)
    value = data.get("source_url")
    if value is not None:
        f.text(path, f"{prefix}source_url", value, high=2000, pattern=_PATTERN_11)
    value = data.get("fetched_at")
    if value is not None:
        f.timestamp(path, f"{prefix}fetched_at", value)


def _check_spec(data: dict[str, Any], path: str, prefix: str = "") -> None:
    f.fields(data, path, prefix, _FIELDS_10, _NAMES_12, _NAMES_13)
    value = data["id"]
    f.text(path, f"{prefix}id", value, pattern=_PATTERN_12)
    value = data["title"]
    f.text(path, f"{prefix}title", value, low=1, high=500, pattern=_PATTERN_2)
    if "status" in data:
        value = data["status"]
        f.choice(path, f"{prefix}status", value, _CHOICES_10)
    value = data["author"]
    f.text(path, f"{prefix}author", value, low=1, high=128)
    value = data["created_at"]
    f.timestamp(path, f"{prefix}created_at", value)
    value = data["updated_at"]
    f.timestamp(path, f"{prefix}updated_at", value)


def _check_spec_expansion(data: dict[str, Any], path: str, prefix: str = "") -> None:
    f.fields(data, path, prefix, _FIELDS_11, _NAMES_14, _NAMES_15)
    value = data["summary"]
    f.text(path, f"{prefix}summary", value, low=1, high=4000)
    if "goals" in data:
        value = data["goals"]
        for i, item in enumerate(f.array(path, f"{prefix}goals", value, high=30)):
            f.text(path, f"{prefix}goals.{i}", item, low=1, high=1000, pattern=_PATTERN_2)
    if "non_goals" in data:
        value = data["non_goals"]
        for i, item in enumerate(f.array(path, f"{prefix}non_goals", value, high=30)):
            f.text(path, f"{prefix}non_goals.{i}", item, low=1, high=1000, pattern=_PATTERN_2)
    value = data["requirements"]
    for i, item in enumerate(f.array(path, f"{prefix}requirements", value, low=1, high=50)):
        item = f.mapping(path, f"{prefix}requirements.{i}", item)
        _check_spec_requirement(item, path, f"{prefix}requirements.{i}.")
    if "acceptance" in data:
        value = data["acceptance"]
        for i, item in enumerate(f.array(path, f"{prefix}acceptance", value, high=50)):
            f.text(path, f"{prefix}acceptance.{i}", item, low=1, high=1000, pattern=_PATTERN_2)
    if "milestones" in data:
        value = data["milestones"]
        for i, item in enumerate(f.array(path, f"{prefix}milestones", value, high=20)):
            item = f.mapping(path, f"{prefix}milestones.{i}", item)
            _check_spec_milestone(item, path, f"{prefix}milestones.{i}.")
    if "questions" in data:
        value = data["questions"]
        for i, item in enumerate(f.array(path, f"{prefix}questions", value, high=20)):
            f.text(path, f"{prefix}questions.{i}", item, low=1, high=1000, pattern=_PATTERN_2)
    if "assumptions" in data:
        value = data["assumptions"]
        for i, item in enumerate(f.array(path, f"{prefix}assumptions", value, high=30)):
            f.text(path, f"{prefix}assumptions.{i}", item, low=1, high=1000, pattern=_PATTERN_2)


def _check_spec_requirement(data: dict[str, Any], path: str, prefix: str = "") -> None:
    f.fields(data, path, prefix, _FIELDS_12, _NAMES_16, _NAMES_17)
    value = data["id"]
    f.text(path, f"{prefix}id", value, pattern=_PATTERN_13)
    value = data["text"]
    f.text(path, f"{prefix}text", value, low=1, high=1000, pattern=_PATTERN_2)
    value = data.get("estimate")
    if value is not None:
        f.text(path, f"{prefix}estimate", value)
        f.estimate(path, f"{prefix}estimate", value)
    if "depends_on" in data:
        value = data["depends_on"]
        for i, item in enumerate(f.array(path, f"{prefix}depends_on", value, high=20)):
            f.text(path, f"{prefix}depends_on.{i}", item, pattern=_PATTERN_13)
    if "labels" in data:
        value = data["labels"]
        for i, item in enumerate(f.array(path, f"{prefix}labels", value, high=10)):
            f.text(path, f"{prefix}labels.{i}", item, low=1, high=64, pattern=_PATTERN_5)


def _check_spec_milestone(data: dict[str, Any], path: str, prefix: str = "") -> None:
    f.fields(data, path, prefix, _FIELDS_13, _NAMES_18, _NAMES_19)
    value = data["id"]
    f.text(path, f"{prefix}id", value, pattern=_PATTERN_14)
    value = data["title"]
    f.text(path, f"{prefix}title", value, low=1, high=1000, pattern=_PATTERN_2)
    if "requirements" in data:
        value = data["requirements"]
        for i, item in enumerate(f.array(path, f"{prefix}requirements", value, high=50)):
            f.text(path, f"{prefix}requirements.{i}", item, pattern=_PATTERN_13)


def _check_spec_questions(data: dict[str, Any], path: str, prefix: str = "") -> None:
    f.fields(data, path, prefix, _FIELDS_14, (), _NAMES_20)
    if "questions" in data:
        value = data["questions"]
        for i, item in enumerate(f.array(path, f"{prefix}questions", value, high=8)):
            f.text(path, f"{prefix}questions.{i}", item, low=1, high=1000, pattern=_PATTERN_2)


def _check_spec_task_plan(data: dict[str, Any], path: str, prefix: str = "") -> None:
    f.fields(data, path, prefix, _FIELDS_15, _NAMES_21, ())
    value = data["tasks"]
    for i, item in enumerate(f.array(path, f"{prefix}tasks", value, low=1, high=100)):
        item = f.mapping(path, f"{prefix}tasks.{i}", item)
        _check_spec_task(item, path, f"{prefix}tasks.{i}.")


def _check_spec_task(data: dict[str, Any], path: str, prefix: str = "") -> None:
    f.fields(data, path, prefix, _FIELDS_16, _NAMES_22, _NAMES_23)
    value = data["id"]
    f.text(path, f"{prefix}id", value, pattern=_PATTERN_15)
    value = data["title"]
    f.text(path, f"{prefix}title", value, low=1, high=200, pattern=_PATTERN_2)
    value = data["requirement"]
    f.text(path, f"{prefix}requirement", value, pattern=_PATTERN_13)
    value = data.get("description")
    if value is not None:
        f.text(path, f"{prefix}description", value, high=4000)
    if "acceptance" in data:
        value = data["acceptance"]
        for i, item in enumerate(f.array(path, f"{prefix}acceptance", value, high=20)):
            f.text(path, f"{prefix}acceptance.{i}", item, low=1, high=1000, pattern=_PATTERN_2)
    value = data.get("estimate")
    if value is not None:
        f.text(path, f"{prefix}estimate", value)
        f.estimate(path, f"{prefix}estimate", value)
    if "labels" in data:
        value = data["labels"]
        for i, item in enumerate(f.array(path, f"{prefix}labels", value, high=10)):
            f.text(path, f"{prefix}labels.{i}", item, low=1, high=64, pattern=_PATTERN_5)
    if "depends_on" in data:
        value = data["depends_on"]
        for i, item in enumerate(f.array(path, f"{prefix}depends_on", value, high=20)):
            f.text(path, f"{prefix}depends_on.{i}", item, pattern=_PATTERN_15)


def _check_event(data: dict[str, Any], path: str, prefix: str = "") -> None:
    f.fields(data, path, prefix, _FIELDS_17, _NAMES_24, _NAMES_25)
    value = data["id"]
    f.text(path, f"{prefix}id", value, pattern=_PATTERN_16)
    value = data["ts"]
    f.timestamp(path, f"{prefix}ts", value)
    value = data["actor"]
    f.text(path, f"{prefix}actor", value)
    value = data["type"]
    f.text(path, f"{prefix}type", value, pattern=_PATTERN_17)
    value = data.get("subject")
    if value is not None:
        f.text(path, f"{prefix}subject", value)
    if "data" in data:
        value = data["data"]
        f.string_keys(path, f"{prefix}data", value)
    if "notify" in data:
        value = data["notify"]
        for i, item in enumerate(f.array(path, f"{prefix}notify", value)):
            f.text(path, f"{prefix}notify.{i}", item)


def _check_inbox_entry(data: dict[str, Any], path: str, prefix: str = "") -> None:
    f.fields(data, path, prefix, _FIELDS_18, _NAMES_26, _NAMES_27)
    value = data["ts"]
    f.timestamp(path, f"{prefix}ts", value)
    if "delivered" in data:
        value = data["delivered"]
        for i, item in enumerate(f.array(path, f"{prefix}delivered", value)):
            f.text(path, f"{prefix}delivered.{i}", item, pattern=_PATTERN_16)
    if "read" in data:
        value = data["read"]
        for i, item in enumerate(f.array(path, f"{prefix}read", value)):
            f.text(path, f"{prefix}read.{i}", item, pattern=_PATTERN_16)


def check_task(data: dict[str, Any], path: str) -> None:
    """``data`` checked against the Task model (see core/models.py)."""
    _check_task(data, path)


def check_agent(data: dict[str, Any], path: str) -> None:
    """``data`` checked against the Agent model (see core/models.py)."""
    _check_agent(data, path)


def check_agent_state(data: dict[str, Any], path: str) -> None:
    """``data`` checked against the AgentState model (see core/models.py)."""
    _check_agent_state(data, path)


def check_message(data: dict[str, Any], path: str) -> None:
    """``data`` checked against the Message model (see core/models.py)."""
    _check_message(data, path)


def check_document(data: dict[str, Any], path: str) -> None:
    """``data`` checked against the Document model (see core/models.py)."""
    _check_document(data, path)


def check_spec(data: dict[str, Any], path: str) -> None:
    """``data`` checked against the Spec model (see core/models.py)."""
    _check_spec(data, path)


def check_spec_expansion(data: dict[str, Any], path: str) -> None:
    """``data`` checked against the SpecExpansion model (see core/models.py)."""
    _check_spec_expansion(data, path)


def check_spec_questions(data: dict[str, Any], path: str) -> None:
    """``data`` checked against the SpecQuestions model (see core/models.py)."""
    _check_spec_questions(data, path)


def check_spec_task_plan(data: dict[str, Any], path: str) -> None:
    """``data`` checked against the SpecTaskPlan model (see core/models.py)."""
    _check_spec_task_plan(data, path)


def check_event(data: dict[str, Any], path: str) -> None:
    """``data`` checked against the Event model (see core/models.py)."""
    _check_event(data, path)


def check_inbox_entry(data: dict[str, Any], path: str) -> None:
    """``data`` checked against the InboxEntry model (see core/models.py)."""
    _check_inbox_entry(data, path)
