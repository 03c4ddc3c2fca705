"""Readers of other trackers' JSON exports: Taskwarrior (``task export``), beads
(``.beads/issues.jsonl``) and GitHub (``gh issue list --json ...``). Each turns the text into
an :class:`~agentctl.store.interchange.ImportPlan`; the mappings are in docs/integrations.md.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from agentctl.store import interchange as ic
from agentctl.store.interchange import BadRecord, ExternalItem, Note
from agentctl.store.roadmap_plan import Criterion

# -- Taskwarrior ---------------------------------------------------------------------------------

TASKWARRIOR_PRIORITY = {"H": 1, "M": 2, "L": 3}


def taskwarrior(text: str, name: str) -> ic.ImportPlan:
    """``task export`` output: a JSON array of tasks (one per line in 2.6)."""
    records = ic.json_array(text, name)
    collector = ic.Collector("taskwarrior", name)
    now = datetime.now(UTC)
    numbered = [(f"{name} record {n}", record) for n, record in enumerate(records, 1)]

    def read(record: dict[str, Any], where: str) -> ExternalItem:
        ref = ic.ref_of(record, "uuid")
        status = record.get("status")
        labels = ic.labels_of(ic.list_value(record, "tags"))
        start = ic.timestamp_of(record.get("start"))
        wait = ic.timestamp_of(record.get("wait"))
        match status:
            case "pending" if start is not None:
                category, mapped = ic.IN_PROGRESS, "pending (started) -> in progress"
            case "pending" if wait is not None and wait > now:
                category, mapped = ic.TODO, "pending (waiting) -> todo, label waiting"
                labels.append("waiting")
            case "pending":
                category, mapped = ic.TODO, "pending -> todo"
            case "waiting":
                category, mapped = ic.TODO, "waiting -> todo, label waiting"
                labels.append("waiting")
            case "completed":
                category, mapped = ic.DONE, "completed -> done"
            case "deleted":
                raise BadRecord("deleted in Taskwarrior")
            case "recurring":
                raise BadRecord("a recurrence template (its pending instances are imported)")
            case None:
                raise BadRecord("no status")
            case _:
                raise BadRecord(f"unknown status {status!r}")
        title, rest = ic.title_of(ic.text_value(record, "description", required=True) or "")
        priority_text = record.get("priority")
        priority = None
        if priority_text not in (None, ""):
            if priority_text not in TASKWARRIOR_PRIORITY:
                raise BadRecord(f"unknown priority {priority_text!r} (H, M or L)")
            priority = TASKWARRIOR_PRIORITY[priority_text]
        project = ic.text_value(record, "project")
        if project and (label := ic.label_of(f"project:{project}")) and label not in labels:
            labels.append(label)
        depends = record.get("depends")
        if isinstance(depends, str):  # Taskwarrior before 2.6: comma-separated uuids
            depends = [d for d in depends.split(",") if d]
        if depends is not None and not isinstance(depends, list):
            raise BadRecord("depends is not a list of uuids")
        notes = _notes(record, "annotations", "description", "entry",
                       "an annotation without a description", lambda _: None)  # fmt: skip
        return ExternalItem(
            title=title,
            kind="task",
            line=int(where.rsplit(" ", 1)[1]),
            status=category,
            mapped=mapped,
            labels=labels,
            priority=priority,
            due=ic.due_of(record.get("due")),
            description=[rest] if rest else [],
            ref=ref,
            where=where,
            notes=notes,
            dep_ids=[str(d) for d in depends or []],
        )

    return ic.read_records(collector, numbered, read, "uuid")


# -- beads ---------------------------------------------------------------------------------------

BEADS_STATUS = {
    "open": (ic.TODO, "open -> todo"),
    "in_progress": (ic.IN_PROGRESS, "in_progress -> in progress"),
    "blocked": (ic.BLOCKED, "blocked -> blocked"),
    "closed": (ic.DONE, "closed -> done"),
    "deferred": (ic.TODO, "deferred -> todo, label deferred"),
    "pinned": (ic.TODO, "pinned -> todo"),
    "hooked": (ic.IN_PROGRESS, "hooked -> in progress"),
}


def beads(text: str, name: str) -> ic.ImportPlan:
    """beads' ``issues.jsonl``: one issue per line."""
    collector = ic.Collector("beads", name)
    lines = [(f"{name}:{number}", value) for number, value in ic.jsonl_lines(text, name)]

    def read(record: dict[str, Any], where: str) -> ExternalItem:
        ref = ic.ref_of(record, "id")
        status = record.get("status") or "open"
        if status == "tombstone":
            raise BadRecord("deleted in beads (tombstone)")
        if status not in BEADS_STATUS:
            raise BadRecord(f"unknown status {status!r}")
        category, mapped = BEADS_STATUS[status]
        title, rest = ic.title_of(ic.text_value(record, "title", required=True) or "")
        labels = ic.labels_of(ic.list_value(record, "labels"))
        if status == "deferred" and "deferred" not in labels:
            labels.append("deferred")
        kind = ic.text_value(record, "issue_type")
        if kind and kind != "task" and (label := ic.label_of(kind)) and label not in labels:
            labels.append(label)
        priority = record.get("priority")
        if priority is not None and (
            isinstance(priority, bool) or not isinstance(priority, int) or not 0 <= priority <= 4
        ):
            raise BadRecord(f"priority {priority!r} is not 0-4")
        parts = [rest] + [ic.text_value(record, key) or "" for key in ("description",)]
        design = ic.text_value(record, "design")
        if design:
            parts.append(f"### Design\n\n{design.strip()}")
        notes_text = ic.text_value(record, "notes")
        if notes_text:
            parts.append(f"### Notes\n\n{notes_text.strip()}")
        criteria = [
            Criterion(line.strip().removeprefix("- [ ]").removeprefix("- [x]").lstrip("-* ").strip())
            for line in (ic.text_value(record, "acceptance_criteria") or "").splitlines()
            if line.strip().lstrip("-* ").strip()
        ]  # fmt: skip
        deps: list[str] = []
        parent = None
        for dep in ic.list_value(record, "dependencies"):
            if not isinstance(dep, dict) or not isinstance(dep.get("depends_on_id"), str):
                raise BadRecord("a dependency without depends_on_id")
            if dep.get("issue_id", ref) != ref:
                continue
            match dep.get("type", "blocks"):
                case "blocks":
                    deps.append(dep["depends_on_id"])
                case "parent-child":
                    parent = dep["depends_on_id"]
                case _:  # related, discovered-from: links, not order
                    pass
        notes = _notes(record, "comments", "text", "created_at", "a comment without text", _author)
        assignee = ic.text_value(record, "assignee")
        return ExternalItem(
            title=title,
            kind="task",
            line=int(where.rsplit(":", 1)[1]),
            status=category,
            mapped=mapped,
            labels=labels,
            owners=[assignee.strip()] if assignee and assignee.strip() else [],
            priority=None if priority is None else min(priority, 3),
            due=ic.due_of(record.get("due_at") or record.get("due")),
            description=[part.strip() for part in parts if part and part.strip()],
            criteria=criteria,
            ref=ref,
            where=where,
            notes=notes,
            dep_ids=deps,
            parent_ref=parent,
        )

    return ic.read_records(collector, lines, read, "id")


# -- GitHub --------------------------------------------------------------------------------------


def github(text: str, name: str) -> ic.ImportPlan:
    """``gh issue list --json number,title,body,state,labels,assignees,milestone,comments``
    (``stateReason`` too, when asked for)."""
    records = ic.json_array(text, name)
    collector = ic.Collector("github", name)
    numbered = [(f"{name} record {n}", record) for n, record in enumerate(records, 1)]

    def read(record: dict[str, Any], where: str) -> ExternalItem:
        number = record.get("number")
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            raise BadRecord("no issue number")
        state = str(record.get("state") or "").upper()
        reason = str(record.get("stateReason") or "").upper()
        labels = ic.labels_of([
            label.get("name") if isinstance(label, dict) else label
            for label in ic.list_value(record, "labels")
        ])  # fmt: skip
        if state == "OPEN":
            category, mapped = ic.TODO, "OPEN -> todo"
        elif state == "CLOSED" and reason == "NOT_PLANNED":
            category, mapped = ic.DONE, "CLOSED (not planned) -> done, label not-planned"
            labels.append("not-planned")
        elif state == "CLOSED":
            category, mapped = ic.DONE, "CLOSED -> done"
        elif not state:
            raise BadRecord("no state")
        else:
            raise BadRecord(f"unknown state {record.get('state')!r}")
        title, rest = ic.title_of(ic.text_value(record, "title", required=True) or "")
        milestone = record.get("milestone")
        if isinstance(milestone, dict) and isinstance(milestone.get("title"), str):
            label = ic.label_of(f"milestone:{milestone['title']}")
            if label and label not in labels:
                labels.append(label)
        owners = []
        for assignee in ic.list_value(record, "assignees"):
            login = assignee.get("login") if isinstance(assignee, dict) else assignee
            if isinstance(login, str) and login.strip():
                owners.append(login.strip())
        notes = _notes(record, "comments", "body", "createdAt", "a comment without a body", _login)
        body = ic.text_value(record, "body")
        return ExternalItem(
            title=title,
            kind="task",
            line=int(where.rsplit(" ", 1)[1]),
            status=category,
            mapped=mapped,
            labels=labels,
            owners=owners,
            description=[part.strip() for part in (rest, body or "") if part.strip()],
            ref=str(number),
            where=where,
            notes=notes,
        )

    return ic.read_records(collector, numbered, read, "number")


def _notes(
    record: dict[str, Any],
    field: str,
    text_key: str,
    time_key: str,
    missing: str,
    author_of: Callable[[dict[str, Any]], str | None],
) -> list[Note]:
    """A record's comments or annotations as thread messages; BadRecord (``missing``) for
    one without its text."""
    notes = []
    for item in ic.list_value(record, field):
        if not isinstance(item, dict) or not isinstance(item.get(text_key), str):
            raise BadRecord(missing)
        notes.append(
            Note(
                ic.message_text(item[text_key]),
                author_of(item),
                ic.timestamp_of(item.get(time_key)),
            )
        )
    return notes


def _author(comment: dict[str, Any]) -> str | None:
    """A beads comment's author, if it names one."""
    author = comment.get("author")
    return author if isinstance(author, str) and author.strip() else None


def _login(comment: dict[str, Any]) -> str | None:
    """A GitHub comment's author login (``author: {login: ...}``), if it has one."""
    author = comment.get("author")
    login = author.get("login") if isinstance(author, dict) else None
    return login if isinstance(login, str) and login else None
