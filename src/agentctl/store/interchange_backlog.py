"""Reader of a Backlog.md project: ``backlog/tasks/*.md`` (and ``backlog/completed/``), each
a YAML frontmatter (id, title, status, assignee, labels, dependencies, priority, parent) and
markdown sections (Description, Acceptance Criteria, Definition of Done, Implementation Plan,
Implementation Notes, Final Summary). Statuses are read against the project's
``config.yml``: its first status is to do, its last done, any other in progress.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from agentctl.errors import UsageError, ValidationError
from agentctl.store import interchange as ic
from agentctl.store.interchange import BadRecord, ExternalItem
from agentctl.store.roadmap_plan import Criterion

MAX_FILE_BYTES = 1024 * 1024
PRIORITY = {"high": 1, "medium": 2, "low": 3}
_SECTION = re.compile(r"^## +(.+?)\s*$", re.MULTILINE)
_MARKER = re.compile(
    r"^\s*<!--\s*(?:SECTION|AC|DOD):[A-Z_]+:(?:BEGIN|END)\s*-->\s*$\n?", re.MULTILINE
)
_CHECK = re.compile(r"^\s*[-*] \[( |x|X)\] (?:#\d+ )?(.*)$")
_WORDS = {
    "to do": ic.TODO, "todo": ic.TODO, "backlog": ic.TODO, "draft": ic.TODO, "open": ic.TODO,
    "in progress": ic.IN_PROGRESS, "doing": ic.IN_PROGRESS, "in review": ic.IN_PROGRESS,
    "review": ic.IN_PROGRESS, "blocked": ic.BLOCKED, "done": ic.DONE, "completed": ic.DONE,
    "closed": ic.DONE,
}  # fmt: skip
_EXTRA_SECTIONS = ("Implementation Plan", "Implementation Notes", "Final Summary")


def locate(directory: Path) -> Path:
    """The Backlog.md folder under DIR: DIR itself, DIR/backlog or DIR/.backlog."""
    if not directory.is_dir():
        raise UsageError(f"{directory} is not a directory (give a Backlog.md project folder)")
    for candidate in (directory / "backlog", directory / ".backlog", directory):
        if (candidate / "tasks").is_dir():
            return candidate
    raise UsageError(
        f"{directory}: no Backlog.md tasks folder (backlog/tasks) found; nothing was imported"
    )


def read(directory: Path, name: str) -> ic.ImportPlan:
    folder = locate(directory)
    statuses = _statuses(folder)
    collector = ic.Collector("backlog", name)
    files = sorted((folder / "tasks").glob("*.md")) + sorted((folder / "completed").glob("*.md"))
    for path in files:
        rel = (
            path.relative_to(directory).as_posix() if path.is_relative_to(directory) else path.name
        )
        where = f"{rel}:1"
        try:
            item = _task(path, rel, where, statuses, in_completed=path.parent.name == "completed")
        except BadRecord as exc:
            collector.skip(where, None, str(exc))
            continue
        except ValidationError as exc:
            collector.skip(
                where, None, exc.problem if exc.line is None else f"line {exc.line}: {exc.problem}"
            )
            continue
        collector.add(item)
    archived = len(list((folder / "archive" / "tasks").glob("*.md")))
    if archived:
        collector.skip(f"{(folder / 'archive' / 'tasks').name}/", None,
                       f"{archived} archived tasks (Backlog.md's archive is not imported)")  # fmt: skip
    return collector.finish()


def _statuses(folder: Path) -> dict[str, str]:
    from agentctl.store.frontmatter import load_yaml_fast

    words = dict(_WORDS)
    config = folder / "config.yml"
    if not config.is_file():
        return words
    try:
        data = load_yaml_fast(config.read_text(encoding="utf-8"), "config.yml")
    except (ValidationError, UnicodeDecodeError, OSError):
        return words
    listed = data.get("statuses") if isinstance(data, dict) else None
    if isinstance(listed, list) and all(isinstance(s, str) for s in listed) and listed:
        for n, status in enumerate(listed):
            key = status.strip().lower()
            if key in _WORDS:
                continue
            words[key] = ic.TODO if n == 0 else ic.DONE if n == len(listed) - 1 else ic.IN_PROGRESS
    return words


def _task(
    path: Path, rel: str, where: str, statuses: dict[str, str], in_completed: bool
) -> ExternalItem:
    from agentctl.store.frontmatter import load_fast

    data = path.read_bytes()[: MAX_FILE_BYTES + 1]
    if len(data) > MAX_FILE_BYTES:
        raise BadRecord("larger than 1 MiB")
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise BadRecord(f"line {line}: not UTF-8 text") from None
    fields, body = load_fast(text, rel)
    ref = ic.ref_of(fields, "id").upper()
    status_text = fields.get("status")
    if not isinstance(status_text, str) or not status_text.strip():
        if not in_completed:
            raise BadRecord("no status")
        status_text = "Done"
    category = statuses.get(status_text.strip().lower())
    if category is None:
        raise BadRecord(f"unknown status {status_text!r} (not in config.yml's statuses)")
    title, rest = ic.title_of(ic.text_value(fields, "title", required=True) or "")
    owners = []
    for value in _strings(fields, "assignee"):
        owner = value.strip().lstrip("@").strip()
        if owner:
            owners.append(owner)
    priority_text = fields.get("priority")
    priority = None
    if isinstance(priority_text, str) and priority_text.strip():
        priority = PRIORITY.get(priority_text.strip().lower())
        if priority is None:
            raise BadRecord(f"unknown priority {priority_text!r} (high, medium or low)")
    labels = ic.labels_of(_strings(fields, "labels"))
    milestone = fields.get("milestone")
    if isinstance(milestone, str) and (label := ic.label_of(f"milestone:{milestone}")):
        labels.append(label)
    sections = _sections(body)
    description = [part for part in (rest, sections.pop("description", "")) if part]
    for heading in _EXTRA_SECTIONS:
        content = sections.get(heading.lower())
        if content:
            description.append(f"### {heading}\n\n{content}")
    criteria = _criteria(sections.get("acceptance criteria", "")) + _criteria(
        sections.get("definition of done", "")
    )
    due = fields.get("due_date") or fields.get("dueDate")
    parent = fields.get("parent_task_id") or fields.get("parent")
    return ExternalItem(
        title=title,
        kind="task",
        line=1,
        status=category,
        mapped=f"{status_text.strip()} -> {category.replace('_', ' ')}",
        labels=labels,
        owners=owners,
        priority=priority,
        due=ic.due_of(str(due)) if due else None,
        description=description,
        criteria=criteria,
        ref=ref,
        where=where,
        dep_ids=[d.strip().upper() for d in _strings(fields, "dependencies") if d.strip()],
        parent_ref=str(parent).strip().upper() if parent else None,
    )


def _strings(fields: dict[str, Any], key: str) -> list[str]:
    value = fields.get(key)
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [part for part in value.split(",") if part.strip()]
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value):
        raise BadRecord(f"{key} is not a list of names")
    return [str(v) for v in value]


def _sections(body: str) -> dict[str, str]:
    body = _MARKER.sub("", body)
    found: dict[str, str] = {}
    matches = list(_SECTION.finditer(body))
    for n, match in enumerate(matches):
        end = matches[n + 1].start() if n + 1 < len(matches) else len(body)
        found[match.group(1).strip().lower()] = body[match.end() : end].strip()
    if not matches and body.strip():
        found["description"] = body.strip()
    return found


def _criteria(section: str) -> list[Criterion]:
    criteria = []
    for line in section.splitlines():
        match = _CHECK.match(line)
        if match and match.group(2).strip():
            criteria.append(Criterion(match.group(2).strip(), match.group(1) != " "))
    return criteria
