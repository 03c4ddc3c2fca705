"""What other task trackers' exports become: an :class:`ImportPlan` of items keyed by the
source's own IDs, ready for the same apply path as a roadmap (workspace/planning.py).

Pure: the readers of each format (``interchange_sources``, ``interchange_backlog``) build
:class:`ExternalItem` objects and hand them to :func:`finish`, which links parents and
dependencies by the source's IDs and cuts dependency cycles. The mappings are documented in
docs/integrations.md ("Import and export").
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from agentctl.core.text import CONTROL_CHARS
from agentctl.errors import UsageError
from agentctl.store import roadmap_fields as rf
from agentctl.store.roadmap_plan import Item, Plan, Unresolved, _cut_cycles

FORMATS = ("backlog", "taskwarrior", "beads", "github")
ORIGINS = {
    "backlog": "Backlog.md",
    "taskwarrior": "Taskwarrior",
    "beads": "beads",
    "github": "GitHub",
}
MAX_BYTES = 64 * 1024 * 1024
MAX_TITLE = 500
MAX_MESSAGE = 20_000

TODO, IN_PROGRESS, BLOCKED, DONE = rf.TODO, rf.IN_PROGRESS, rf.BLOCKED, rf.DONE


@dataclass
class Note:
    """A comment or annotation that becomes a message on the task's thread."""

    text: str
    author: str | None = None  # None: the person importing
    created_at: datetime | None = None


@dataclass(eq=False)
class ExternalItem(Item):
    """One record of the source: an :class:`Item` plus where it came from."""

    ref: str = ""  # the source's own ID (Taskwarrior uuid, beads id, issue number)
    where: str = ""  # file:line or file record N, for the report
    notes: list[Note] = field(default_factory=list)
    dep_ids: list[str] = field(default_factory=list)
    parent_ref: str | None = None
    mapped: str = ""  # "pending -> todo": how the source's status was read
    new_notes: list[Note] = field(default_factory=list)  # not yet on the task's thread
    origin: str = ""  # the tool's name, as the description says where an owner came from
    thread_only: bool = False  # a re-import that only adds messages to the task


@dataclass(frozen=True)
class Skipped:
    where: str
    ref: str | None
    reason: str


@dataclass
class ImportPlan(Plan):
    fmt: str = ""
    records: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    mapping: dict[str, int] = field(default_factory=dict)  # "pending -> todo": count

    def externals(self) -> Iterator[ExternalItem]:
        for item in self.walk():
            assert isinstance(item, ExternalItem)
            yield item


class BadRecord(Exception):
    """One record cannot be imported (the report names it; the others go on)."""


# -- reading the input ---------------------------------------------------------------------------


def decode(data: bytes, name: str) -> str:
    """UTF-8 text (a BOM is dropped), or a UsageError naming the first bad byte's line."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise UsageError(
            f"{name}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x}); nothing was imported"
        ) from None
    return text.removeprefix("\ufeff")


def json_array(text: str, name: str) -> list[Any]:
    """The records of a JSON array (``task export``, ``gh issue list --json``)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{name}:{exc.lineno}:{exc.colno}: not JSON ({exc.msg}); nothing was imported"
        ) from None
    except RecursionError:
        raise UsageError(f"{name}: JSON nested too deeply; nothing was imported") from None
    if isinstance(value, dict):  # one record on its own
        value = [value]
    if not isinstance(value, list):
        raise UsageError(
            f"{name}: expected a JSON array of records, found {type(value).__name__}; nothing was imported"
        )
    return value


def jsonl_lines(text: str, name: str) -> Iterator[tuple[int, Any]]:
    """(line number, value) of each non-blank line of a JSON Lines file; a line that is not
    JSON yields a :class:`BadRecord` as its value. A file none of whose lines is JSON is
    refused whole."""
    good = bad = 0
    first_error = ""
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            value: Any = json.loads(line)
            good += 1
        except (json.JSONDecodeError, RecursionError) as exc:
            bad += 1
            reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
            first_error = first_error or f"{name}:{number}: not JSON ({reason})"
            value = BadRecord(f"not JSON ({reason})")
        yield number, value
    if bad and not good:
        raise UsageError(f"{first_error}; nothing was imported")


# -- values --------------------------------------------------------------------------------------


def text_value(record: dict[str, Any], key: str, required: bool = False) -> str | None:
    value = record.get(key)
    if value is None or value == "":
        if required:
            raise BadRecord(f"no {key}")
        return None
    if not isinstance(value, str):
        raise BadRecord(f"{key} is {type(value).__name__}, not text")
    if CONTROL_CHARS.search(value.replace("\r\n", "\n")):
        raise BadRecord(f"{key} holds a control character")
    return value


def title_of(value: str) -> tuple[str, str]:
    """A one-line title (at most 500 characters) and what did not fit (for the description)."""
    first, _, rest = value.strip().partition("\n")
    title = re.sub(r"\s+", " ", first).strip()
    if not title:
        raise BadRecord("empty title")
    if len(title) > MAX_TITLE:
        rest = value.strip()
        title = title[: MAX_TITLE - 3].rstrip() + "..."
    return title, rest.strip()


def list_value(record: dict[str, Any], key: str) -> list[Any]:
    value = record.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadRecord(f"{key} is {type(value).__name__}, not a list")
    return value


def label_of(text: str) -> str | None:
    """A source's tag or label as an agentctl label: one word, at most 64 characters."""
    label = re.sub(r"[\s,]+", "-", text.strip()).strip("-")[:64]
    return label or None


def labels_of(values: list[Any]) -> list[str]:
    labels: list[str] = []
    for value in values:
        if not isinstance(value, str):
            raise BadRecord(f"a label is {type(value).__name__}, not text")
        label = label_of(value)
        if label and label not in labels:
            labels.append(label)
    return labels


def timestamp_of(value: Any) -> datetime | None:
    """ISO 8601 (``2026-12-04T11:36:58Z``) or Taskwarrior's ``20261204T113658Z``."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip()
    compact = re.fullmatch(r"(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z", text)
    if compact:
        year, month, day, hour, minute, second = map(int, compact.groups())
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def due_of(value: Any) -> str | None:
    """A due date as YYYY-MM-DD (a timestamp's local date)."""
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\d", value.strip()):
        try:
            return date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            raise BadRecord(f"invalid due date {value!r}") from None
    moment = timestamp_of(value)
    if value not in (None, "") and moment is None:
        raise BadRecord(f"invalid due date {value!r}")
    return moment.astimezone().date().isoformat() if moment else None


def message_text(text: str) -> str:
    text = text.strip("\n")
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 20] + "\n\n(truncated)"


# -- linking -------------------------------------------------------------------------------------


class Collector:
    """Gathers a source's items in input order: duplicate IDs and bad records are skipped and
    reported; :meth:`finish` links them."""

    def __init__(self, fmt: str, name: str) -> None:
        self.plan = ImportPlan(source=fmt, fmt=fmt)
        self.plan.separator = ":"
        self.name = name
        self.items: list[ExternalItem] = []
        self.by_ref: dict[str, ExternalItem] = {}
        self.skipped_refs: dict[str, str] = {}

    def skip(self, where: str, ref: str | None, reason: str) -> None:
        self.plan.skipped.append(Skipped(where, ref, reason))
        if ref is not None:
            self.skipped_refs.setdefault(ref, reason)

    def add(self, item: ExternalItem) -> None:
        if item.ref in self.by_ref:
            first = self.by_ref[item.ref]
            self.skip(item.where, item.ref, f"duplicate ID {item.ref!r} (first at {first.where})")
            return
        item.key = item.ref
        item.number = item.ref
        item.kind = "task"
        item.origin = ORIGINS.get(self.plan.fmt, self.plan.fmt)
        self.by_ref[item.ref] = item
        self.items.append(item)
        if item.mapped:
            self.plan.mapping[item.mapped] = self.plan.mapping.get(item.mapped, 0) + 1

    def finish(self) -> ImportPlan:
        plan = self.plan
        for item in self.items:
            if item.parent_ref is None:
                continue
            parent = self.by_ref.get(item.parent_ref)
            if parent is None or parent is item:
                plan.unresolved.append(Unresolved(item.line, item.ref, item.parent_ref,
                                                  self._missing(item.parent_ref, "parent")))  # fmt: skip
                continue
            node: Item | None = parent
            while node is not None and node is not item:
                node = node.parent
            if node is item:
                plan.unresolved.append(Unresolved(item.line, item.ref, item.parent_ref,
                                                  "parent: this would make the task its own ancestor"))  # fmt: skip
                continue
            item.parent = parent
            parent.children.append(item)
        plan.items = [item for item in self.items if item.parent is None]
        for item in self.items:
            for ref in item.dep_ids:
                target = self.by_ref.get(ref)
                if target is item:
                    plan.unresolved.append(
                        Unresolved(item.line, item.ref, ref, "a task cannot depend on itself")
                    )
                elif target is None:
                    plan.unresolved.append(
                        Unresolved(item.line, item.ref, ref, self._missing(ref, "dependency"))
                    )
                elif target not in item.deps:
                    item.deps.append(target)
                    item.dep_refs.append((ref, item.line))
        _cut_cycles(plan, list(plan.walk()))
        plan.records = len(self.items) + len(plan.skipped)
        return plan

    def _missing(self, ref: str, what: str) -> str:
        reason = self.skipped_refs.get(ref)
        if reason is not None:
            return f"{what} not imported ({reason})"
        return f"{what} not in this import"


def read_records(
    collector: Collector, records: list[tuple[str, Any]], read: Any, id_key: str
) -> ImportPlan:
    """Run ``read(record, where) -> ExternalItem`` over (where, record) pairs: a record that
    is not an object, or that ``read`` refuses, is skipped with the reason."""
    for where, record in records:
        if isinstance(record, BadRecord):
            collector.skip(where, None, str(record))
            continue
        if not isinstance(record, dict):
            collector.skip(
                where, None, f"a record must be a JSON object, not {type(record).__name__}"
            )
            continue
        ref = record.get(id_key)
        ref_text = str(ref) if isinstance(ref, (str, int)) and not isinstance(ref, bool) else None
        try:
            item = read(record, where)
        except BadRecord as exc:
            collector.skip(where, ref_text, str(exc))
            continue
        if item is None:
            continue
        collector.add(item)
    return collector.finish()


def ref_of(record: dict[str, Any], key: str) -> str:
    value = record.get(key)
    if isinstance(value, bool) or not isinstance(value, (str, int)) or value == "":
        raise BadRecord(f"no {key}")
    ref = str(value).strip()
    if not ref or len(ref) > 200 or CONTROL_CHARS.search(ref) or "\n" in ref:
        raise BadRecord(f"invalid {key} {ref[:40]!r}")
    return ref
