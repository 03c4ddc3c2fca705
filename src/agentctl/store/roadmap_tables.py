"""Markdown tables of a roadmap: milestone tables, sprint/week tables and task tables become
items; any other table is reported as ignored. Works on cell texts (the markdown parsing is
:mod:`agentctl.store.roadmap`'s)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from agentctl.store import roadmap_fields as rf
from agentctl.store.roadmap_plan import Criterion, Item

# Column roles, tried in this order; each header gets the first role that fits it and each
# role goes to the first column that has it.
_ROLES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("id", re.compile(r"^(#|id|no\.?|nr\.?|number|ref|key)$")),
    ("status", re.compile(r"\b(status|state|progress|done\??|complete\??)\b")),
    (
        "criteria",
        re.compile(
            r"\b(accept\w*|exit|criteria|tests?|definition of done|done when|success|demo|verification)\b"
        ),
    ),
    ("depends", re.compile(r"\b(depend\w*|after|requires|blocked by|prereq\w*|needs)\b")),
    ("estimate", re.compile(r"\b(estimate\w*|effort|hours|days|duration|size|time|points)\b")),
    (
        "owner",
        re.compile(
            r"\b(owner|assignee|assigned|who|lead|responsible|agent( type)?|role|team|dri)\b"
        ),
    ),
    ("priority", re.compile(r"\b(priority|prio)\b")),
    ("date", re.compile(r"\b(target|date|due|deadline|eta|when|by|end|finish|ship)\b")),
    ("period", re.compile(r"^(week|wk|sprint|iteration|phase|month|day|quarter|stage|cycle)s?\b")),
    (
        "tasks",
        re.compile(
            r"\b(key tasks|tasks|work|scope|activities|stories|items|deliverables?|features?)\b"
        ),
    ),
    ("goal", re.compile(r"\b(goal|focus|theme|objective|summary|description|outcome)s?\b")),
    (
        "name",
        re.compile(r"\b(milestone|name|title|task|item|deliverable|feature|epic|story|what)s?\b"),
    ),
)


@dataclass
class Table:
    header: list[str]
    rows: list[tuple[int, list[list[str]]]]  # (1-based line, cells as lines)
    line: int


def _roles(header: list[str]) -> dict[str, int]:
    roles: dict[str, int] = {}
    for column, text in enumerate(header):
        plain = " ".join(re.sub(r"[^\w\s#.?]", " ", text.lower()).split())
        for role, pattern in _ROLES:
            if pattern.search(plain):
                if role not in roles:
                    roles[role] = column
                break
    return roles


def kind_of(header: list[str]) -> tuple[str | None, dict[str, int]]:
    """``sprint``, ``milestone``, ``task`` or None (not imported), with the column roles."""
    roles = _roles(header)
    if "period" in roles and ({"goal", "tasks", "criteria"} & roles.keys()):
        return "sprint", roles
    name_header = header[roles["name"]].lower() if "name" in roles else ""
    if "milestone" in name_header or (
        "date" in roles and "status" in roles and ("name" in roles or "period" in roles)
    ):
        return "milestone", roles
    if ("name" in roles or "tasks" in roles) and (
        {"estimate", "owner", "depends", "status", "priority"} & roles.keys()
    ):
        return "task", roles
    return None, roles


def table_items(table: Table) -> tuple[list[Item], list[tuple[int, str, str]]]:
    """The items of a table, and (line, reason, text) for what was not imported."""
    kind, roles = kind_of(table.header)
    columns = ", ".join(h for h in table.header if h) or "no headers"
    if kind is None:
        return [], [
            (
                table.line,
                f"table that is not a milestone, sprint or task table (columns: {columns})",
                "",
            )
        ]  # noqa: E501
    items: list[Item] = []
    ignored: list[tuple[int, str, str]] = []
    for line, cells in table.rows:
        item = _row_item(kind, roles, table.header, cells, line, ignored)
        if item is None:
            ignored.append(
                (line, "table row without a name", " | ".join(" ".join(c) for c in cells))
            )
        else:
            items.append(item)
    return items, ignored


def _cell(cells: list[list[str]], roles: dict[str, int], role: str) -> list[str]:
    column = roles.get(role)
    if column is None or column >= len(cells):
        return []
    return [line for line in cells[column] if line.strip()]


def _row_item(
    kind: str,
    roles: dict[str, int],
    header: list[str],
    cells: list[list[str]],
    line: int,
    ignored: list[tuple[int, str, str]],
) -> Item | None:
    text = " ".join(_cell(cells, roles, "name") or _cell(cells, roles, "tasks")[:1])
    period = " ".join(_cell(cells, roles, "period"))
    goal = " ".join(_cell(cells, roles, "goal"))
    status, text = rf.take_marks(text)
    word = number = None
    if kind == "sprint":
        noun = header[roles["period"]].strip()
        w, n, rest = rf.strip_number(period)
        if w is None and n is not None and not rest:  # "2" under a "Sprint" column: Sprint 2
            w = rf.NUMBER_WORDS.get(noun.lower().rstrip("s"), noun.lower())
            period = f"{noun.capitalize()} {n}"
        word, number = w, n
        text = " ".join(p for p in (period.strip(), f": {goal}" if goal else "") if p).replace(
            " :", ":"
        )
        if not text:
            text = " ".join(_cell(cells, roles, "tasks")[:1])
    elif kind == "milestone" and not text:
        text = period
    if not text.strip():
        return None
    ident = " ".join(_cell(cells, roles, "id"))
    title = rf.clean_title(text)
    if kind != "sprint":
        w, n, _ = rf.strip_number(ident or title)
        word, number = w, n
    if ident and not rf.strip_number(title)[1]:
        title = f"{ident} {title}"
    item = Item(title[:200], kind, line, number=number, word=word, explicit=True)
    if kind == "milestone":
        item.labels.append("milestone")
    cell_status = " ".join(_cell(cells, roles, "status"))
    if cell_status:
        found = rf.status_word(cell_status) or rf.take_marks(cell_status)[0]
        if found is None:
            ignored.append((line, "status not understood", cell_status))
        status = found or status
    item.status = status
    for value in _cell(cells, roles, "estimate")[:1]:
        estimate = rf.parse_estimate_text(value)
        if estimate is None:
            ignored.append(
                (line, "estimate not understood (use forms like 4h, 4-6 hours, 2 days)", value)
            )
        item.estimate = estimate
    for value in _cell(cells, roles, "depends"):
        if value.strip(" .").lower() not in rf.NO_REFERENCE:
            item.depends.append((value, line))
    for value in _cell(cells, roles, "owner"):
        if "owner" in roles and re.search(r"agent|role|team", header[roles["owner"]].lower()):
            item.labels.extend(
                label for label in rf.parse_labels(value) if label not in item.labels
            )
        else:
            item.owners.extend(o for o in rf.split_owners(value) if o not in item.owners)
    for value in _cell(cells, roles, "priority")[:1]:
        item.priority = rf.parse_priority(value)
    target = " ".join(_cell(cells, roles, "date"))
    if target:
        due = rf.parse_due(target)
        if due is not None:
            item.due = due
        else:
            item.description.append(f"{header[roles['date']].strip() or 'Target'}: {target}")
    for value in _cell(cells, roles, "criteria"):
        for entry in rf.split_cell_items(value):
            done, rest = rf.checkbox(entry)
            item.criteria.append(Criterion(rf.take_marks(rest)[1] or rest, done == rf.DONE))
    used = set(roles.values())
    for column, head in enumerate(header):
        if (
            column not in used
            and column < len(cells)
            and any(line.strip() for line in cells[column])
        ):
            item.description.append(f"{head.strip() or 'Note'}: {' '.join(cells[column]).strip()}")
    tasks = [t for value in _cell(cells, roles, "tasks") for t in rf.split_cell_items(value)]
    if kind == "sprint" and tasks:
        item.description.append("\n".join(f"- {t}" for t in tasks))
    if kind == "milestone" and goal:
        item.description.append(goal)
    return item
