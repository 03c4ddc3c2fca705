"""The export formats: agentctl's own JSON Lines (lossless: every task's frontmatter and body
and every message of its thread, re-importable with ``import jsonl``), Taskwarrior's
``task import`` JSON and a CSV of GitHub issue fields. Pure: records in, text out.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from agentctl.core import body as taskbody

SCHEMA_VERSION = 1
HEADER_KIND = "agentctl-export"
FORMATS = ("jsonl", "taskwarrior", "github-csv")
_NAMESPACE = uuid.UUID("6f1c9f63-2f0e-4c55-9a39-6c1e0f3b7a21")


@dataclass
class Exported:
    """One task as the exporters see it: its file's frontmatter and body, and its thread."""

    fields: dict[str, Any]
    body: str
    messages: list[tuple[str, dict[str, Any], str]]  # (file name, frontmatter, body)
    category: str  # todo | in_progress | blocked | done


def jsonl(tasks: Sequence[Exported]) -> str:
    count = sum(len(task.messages) for task in tasks)
    lines = [_dump({"kind": HEADER_KIND, "schema_version": SCHEMA_VERSION,
                    "tasks": len(tasks), "messages": count})]  # fmt: skip
    for task in tasks:
        lines.append(_dump({"kind": "task", "fields": task.fields, "body": task.body}))
    for task in tasks:
        for file, fields, body in task.messages:
            lines.append(_dump({"kind": "message", "file": file, "fields": fields, "body": body}))
    return "\n".join(lines) + "\n"


def _dump(value: Mapping[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=False, default=_plain)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")


def taskwarrior_uuid(fields: Mapping[str, Any]) -> str:
    """The task's Taskwarrior uuid: the one it was imported with, else one derived from its ID
    (the same on every export, so ``task import`` updates instead of duplicating)."""
    source = fields.get("source") or ""
    if source.startswith("taskwarrior:"):
        return str(source.removeprefix("taskwarrior:"))
    return str(uuid.uuid5(_NAMESPACE, str(fields["id"])))


def _tw_time(value: Any) -> str | None:
    from agentctl.store.interchange import timestamp_of

    moment: datetime | None
    if isinstance(value, date) and not isinstance(value, datetime):
        moment = datetime.combine(value, time()).astimezone()
    elif isinstance(value, str) and len(value) == 10:
        moment = datetime.combine(date.fromisoformat(value), time()).astimezone()
    else:
        moment = value if isinstance(value, datetime) else timestamp_of(value)
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


_TW_PRIORITY = {0: "H", 1: "H", 2: "M", 3: "L"}


def taskwarrior(tasks: Sequence[Exported]) -> str:
    uuids = {task.fields["id"]: taskwarrior_uuid(task.fields) for task in tasks}
    lines = []
    for task in tasks:
        fields = task.fields
        record: dict[str, Any] = {
            "uuid": uuids[fields["id"]],
            "description": fields["title"],
            "status": "completed" if task.category == "done" else "pending",
            "entry": _tw_time(fields.get("created_at")),
            "modified": _tw_time(fields.get("updated_at")),
        }
        if task.category == "done":
            record["end"] = _tw_time(fields.get("updated_at"))
        if task.category == "in_progress":
            record["start"] = _tw_time(fields.get("updated_at"))
        priority = fields.get("priority", 2)
        if priority != 2 or fields.get("source", "").startswith("taskwarrior:"):
            record["priority"] = _TW_PRIORITY.get(priority, "M")
        labels = list(fields.get("labels") or [])
        projects = [label for label in labels if label.startswith("project:")]
        if projects:
            record["project"] = projects[0].removeprefix("project:")
        tags = [label for label in labels if label not in projects[:1]]
        if tags:
            record["tags"] = tags
        if fields.get("due"):
            record["due"] = _tw_time(fields["due"])
        deps = [
            uuids.get(dep) or str(uuid.uuid5(_NAMESPACE, dep))
            for dep in fields.get("depends_on") or []
        ]
        if deps:
            record["depends"] = deps
        annotations = [
            {"entry": _tw_time(meta.get("created_at")), "description": text.strip("\n")}
            for _, meta, text in task.messages
        ]
        if annotations:
            record["annotations"] = annotations
        record["agentctl"] = fields["id"]  # a user-defined attribute: Taskwarrior keeps it
        lines.append(
            json.dumps({k: v for k, v in record.items() if v is not None}, ensure_ascii=False)
        )
    return "[\n" + ",\n".join(lines) + ("\n" if lines else "") + "]\n"


GITHUB_COLUMNS = ("title", "body", "labels", "assignees", "state", "milestone", "agentctl_id")


def github_csv(tasks: Sequence[Exported]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(GITHUB_COLUMNS)
    for task in tasks:
        fields = task.fields
        labels = list(fields.get("labels") or [])
        milestones = [label for label in labels if label.startswith("milestone:")]
        description = (taskbody.get_section(task.body, taskbody.DESCRIPTION) or "").strip()
        criteria = (taskbody.get_section(task.body, taskbody.ACCEPTANCE) or "").strip()
        body = description + (f"\n\n## Acceptance criteria\n\n{criteria}" if criteria else "")
        writer.writerow([
            fields["title"], body.strip(),
            ",".join(label for label in labels if label not in milestones[:1]),
            ",".join(fields.get("assignees") or []),
            "closed" if task.category == "done" else "open",
            milestones[0].removeprefix("milestone:") if milestones else "",
            fields["id"],
        ])  # fmt: skip
    return out.getvalue()
