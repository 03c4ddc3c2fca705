"""The value rules of record fields, defined once: patterns, choices and the parsers of
timestamps, dates and priorities.

The pydantic models in :mod:`agentctl.core.models` build their field types from these, and the
fast validators generated from the models (:mod:`agentctl.core.record_checks`) call the
checks below, so the models and the hot paths accept exactly the same values. Importing this
module costs nothing (no pydantic): writes and reads use it.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Literal, get_args

from agentctl.core.duration import parse_duration, parse_estimate
from agentctl.core.ids import ALPHABET, RANDOM_CHARS
from agentctl.errors import ValidationError
from agentctl.paths import NAME_PATTERN, NAME_RE

__all__ = ["NAME_PATTERN", "NAME_RE"]

# -- patterns (JSON Schema / pydantic syntax: ``$`` is the end of the text) ----------------

ONE_LINE_PATTERN = r"^[^\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]*$"
STATUS_PATTERN = r"^[a-z][a-z0-9_-]{0,31}$"
LABEL_PATTERN = r"^[^\s,]+$"
HOURS_PATTERN = r"^\d{2}:\d{2}-\d{2}:\d{2}$"
TASK_ID_PATTERN = rf"^t-[{ALPHABET}]{{{RANDOM_CHARS}}}$"
EVENT_ID_PATTERN = rf"^e-[{ALPHABET}]{{{RANDOM_CHARS}}}$"
MESSAGE_ID_PATTERN = rf"^m-[{ALPHABET}]{{{RANDOM_CHARS}}}$"
DOC_ID_PATTERN = rf"^d-[{ALPHABET}]{{{RANDOM_CHARS}}}$"
SPEC_ID_PATTERN = rf"^s-[{ALPHABET}]{{{RANDOM_CHARS}}}$"
# A spec's stable anchors: requirements R1, R2 ... and milestones M1, M2 ...
REQUIREMENT_ID_PATTERN = r"^R[1-9][0-9]{0,3}$"
MILESTONE_ID_PATTERN = r"^M[1-9][0-9]{0,3}$"
SPEC_HASH_PATTERN = r"^[0-9a-f]{12}$"


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """A schema pattern as a Python regex with the same meaning (``$`` only at the very end,
    as in pydantic's regex engine, not before a trailing newline)."""
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)


TITLE_RE = compile_pattern(ONE_LINE_PATTERN)
STATUS_RE = compile_pattern(STATUS_PATTERN)
TASK_ID_RE = compile_pattern(TASK_ID_PATTERN)
LABEL_RE = re.compile(r"^[^\s,]{1,64}\Z")  # LABEL_PATTERN with the labels' 1-64 length

# -- choices -----------------------------------------------------------------------------

Level = Literal["intern", "specialist", "lead"]
RuntimeKind = Literal["manual", "simulated", "command", "llm"]
Sandbox = Literal["auto", "bwrap", "none"]
CommandOutput = Literal["text", "claude-json", "gemini-json"]
AgentStatus = Literal["idle", "active", "blocked"]
MessageKind = Literal["comment", "question", "answer", "review", "status_update"]
DocType = Literal["deliverable", "research", "protocol", "decision"]
SpecStatus = Literal["draft", "expanded"]
Permission = Literal[
    "assign_others", "move_any", "move_done", "skip_review", "remove_tasks", "edit_agents",
    "create_tasks", "review", "plan", "propose_agents", "fetch",
]  # fmt: skip
Approval = Literal["pending", "approved"]

LEVELS: tuple[str, ...] = get_args(Level)
RUNTIMES: tuple[str, ...] = get_args(RuntimeKind)
SANDBOXES: tuple[str, ...] = get_args(Sandbox)
COMMAND_OUTPUTS: tuple[str, ...] = get_args(CommandOutput)
AGENT_STATUSES: tuple[str, ...] = get_args(AgentStatus)
MESSAGE_KINDS: tuple[str, ...] = get_args(MessageKind)
DOC_TYPES: tuple[str, ...] = get_args(DocType)
SPEC_STATUSES: tuple[str, ...] = get_args(SpecStatus)
PERMISSION_NAMES: tuple[str, ...] = get_args(Permission)

# -- parsers shared by the models (as before-validators) and the fast checks ---------------

DATETIME_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?\Z"
)
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}\Z")
TIMESTAMP_EXPECTED = "must be a timestamp like 2026-11-22T10:30:00Z"
DATE_EXPECTED = "must be a date like 2026-12-31"


def priority_value(value: Any) -> int | None:
    """0-3 from an int or ``p0``..``p3``; None when invalid."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip().lower().removeprefix("p")
        return int(text) if text in ("0", "1", "2", "3") else None
    return value if isinstance(value, int) and 0 <= value <= 3 else None


def timestamp_value(value: Any) -> datetime:
    """A record timestamp: a datetime, or an ISO 8601 string such as 2026-11-22T10:30:00Z
    (no numbers: an epoch second is not a timestamp a person can read or merge)."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not DATETIME_RE.match(value):
        raise ValueError(TIMESTAMP_EXPECTED)
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "T"))
    except ValueError:
        raise ValueError(f"invalid timestamp {value!r}") from None


def date_value(value: Any) -> date:
    """A calendar date: a date (not a datetime) or a string such as 2026-12-31."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not DATE_RE.match(value):
        raise ValueError(DATE_EXPECTED)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"invalid date {value!r}") from None


# -- checks called by the generated validators -------------------------------------------
# Each raises ValidationError("<field>: <problem>", path): one line naming file and field.


def fail(path: str, key: str, problem: str) -> ValidationError:
    return ValidationError(f"{key}: {problem}", path)


def fields(
    data: dict[str, Any],
    path: str,
    prefix: str,
    allowed: frozenset[str],
    required: tuple[str, ...],
    not_null: tuple[str, ...],
) -> None:
    """No unknown field, every required one present and not null, and no null where the
    schema allows none (``required`` and ``not_null`` are sorted: the first problem in name
    order is reported)."""
    if not allowed.issuperset(data):
        unknown = sorted(str(key) for key in data if key not in allowed)
        raise fail(path, prefix + unknown[0], "unknown field")
    for key in required:
        if data.get(key) is None:
            raise fail(path, prefix + key, "missing required field")
    for key in not_null:
        if key in data and data[key] is None:
            raise fail(path, prefix + key, "may not be empty")


def mapping(path: str, key: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise fail(path, key, "must be a mapping")
    return value


def string_keys(path: str, key: str, value: Any) -> None:
    """A free-form mapping (``dict[str, Any]``): any values, text keys."""
    mapping(path, key, value)
    if not all(isinstance(k, str) for k in value):
        raise fail(path, key, "keys must be text")


def _length(low: int | None, high: int | None, unit: str) -> str:
    if low is not None and high is not None:
        return f"must be {low}-{high} {unit} long"
    if high is not None:
        return f"must be at most {high} {unit} long"
    return f"must be at least {low} {unit} long"


def text(
    path: str,
    key: str,
    value: Any,
    low: int | None = None,
    high: int | None = None,
    pattern: re.Pattern[str] | None = None,
) -> None:
    if not isinstance(value, str):
        raise fail(path, key, "must be a string")
    if (low is not None and len(value) < low) or (high is not None and len(value) > high):
        raise fail(path, key, _length(low, high, "characters"))
    if pattern is not None and not pattern.match(value):
        raise fail(path, key, f"invalid value {value!r}")


def array(
    path: str, key: str, value: Any, low: int | None = None, high: int | None = None
) -> list[Any]:
    if not isinstance(value, list):
        raise fail(path, key, "must be a list")
    if (low is not None and len(value) < low) or (high is not None and len(value) > high):
        raise fail(path, key, _length(low, high, "items"))
    return value


def _bounds(
    path: str,
    key: str,
    value: float,
    low: float | None,
    high: float | None,
    above: float | None,
    below: float | None,
) -> None:
    # written as "not (inside)" so that NaN, which compares false, is outside every bound
    if low is not None and not value >= low:
        raise fail(path, key, f"must be at least {low}")
    if high is not None and not value <= high:
        raise fail(path, key, f"must be at most {high}")
    if above is not None and not value > above:
        raise fail(path, key, f"must be more than {above}")
    if below is not None and not value < below:
        raise fail(path, key, f"must be less than {below}")


def integer(
    path: str,
    key: str,
    value: Any,
    low: int | None = None,
    high: int | None = None,
    above: int | None = None,
    below: int | None = None,
) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise fail(path, key, "must be a whole number")
    if low is not None and high is not None and not low <= value <= high:
        raise fail(path, key, f"must be between {low} and {high}")
    _bounds(path, key, value, low, high, above, below)


def number(
    path: str,
    key: str,
    value: Any,
    low: float | None = None,
    high: float | None = None,
    above: float | None = None,
    below: float | None = None,
) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise fail(path, key, "must be a number")
    _bounds(path, key, value, low, high, above, below)


def boolean(path: str, key: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise fail(path, key, "must be true or false")


def choice(path: str, key: str, value: Any, choices: tuple[Any, ...]) -> None:
    if isinstance(value, bool) or value not in choices or type(value) is not type(choices[0]):
        raise fail(path, key, f"must be one of {', '.join(str(c) for c in choices)}")


def timestamp(path: str, key: str, value: Any) -> None:
    try:
        timestamp_value(value)
    except ValueError as exc:
        raise fail(path, key, str(exc)) from None


def day(path: str, key: str, value: Any) -> None:
    try:
        date_value(value)
    except ValueError as exc:
        raise fail(path, key, str(exc)) from None


def priority(path: str, key: str, value: Any) -> int:
    """The priority as 0-3 (``p2`` and ``"2"`` are accepted and normalised)."""
    number_ = priority_value(value)
    if number_ is None:
        raise fail(path, key, "must be 0-3 or p0-p3")
    return number_


def duration(path: str, key: str, value: Any) -> None:
    try:
        parse_duration(value)
    except ValueError as exc:
        raise fail(path, key, str(exc)) from None


def estimate(path: str, key: str, value: Any) -> None:
    try:
        parse_estimate(value)
    except ValueError as exc:
        raise fail(path, key, str(exc)) from None
