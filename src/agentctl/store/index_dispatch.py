"""Index queries behind dispatch and escalation (core/dispatch.py, core/attention.py).

Each query narrows the rows in SQLite to those that may qualify, so its cost grows with the
answer; the rules themselves are applied by the pure core modules.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from agentctl.core.attention import RAISED, Facts
from agentctl.store.index import _SELECT_TASK_JSON, Index, _decode_rows

_ROW = "json_object('id', t.id, 'title', t.title, 'status', t.status, 'assignees', json(t.assignees)"


def _marks(values: Sequence[Any]) -> str:
    return ", ".join("?" * len(values))


def ready_unassigned(index: Index, ready: Sequence[str], done: Sequence[str], limit: int | None = None) -> list[dict[str, Any]]:
    """Ready tasks (the rule of :meth:`Index.ready`) nobody is assigned to, in work order."""
    sql = (
        _SELECT_TASK_JSON + f" WHERE status IN ({_marks(ready)}) AND json_array_length(assignees) = 0 AND NOT EXISTS ("
        " SELECT 1 FROM json_each(tasks.depends_on) AS dep LEFT JOIN tasks AS other ON other.id = dep.value"
        f" WHERE other.id IS NULL OR other.status NOT IN ({_marks(done)}))"
        " ORDER BY priority, created_at, id"
    )
    params: list[Any] = [*ready, *done]
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return _decode_rows(index.db.execute(sql, params))


def open_children(index: Index, done: Sequence[str]) -> dict[str, int]:
    """Open subtasks per parent task."""
    rows = index.db.execute(
        f"SELECT parent, COUNT(*) FROM tasks WHERE parent IS NOT NULL AND status NOT IN ({_marks(done)}) GROUP BY parent",
        list(done),
    )
    return dict(rows.fetchall())


def _rows(index: Index, sql: str, params: Iterable[Any]) -> list[dict[str, Any]]:
    return [json.loads(row[0]) for row in index.db.execute(sql, list(params))]


def attention_facts(index: Index, flow: dict[str, Any], today: str) -> Facts:
    """What escalation looks at: in-progress tasks with their last activity, open tasks with
    returns from review, open tasks due before ``today``, blocked tasks whose dependencies
    are all done, and the agents with their states."""
    done = list(flow["done"])
    in_progress, review, blocked = flow["in_progress"], flow["review"], flow["blocked"]
    open_statuses = [s for s in flow["statuses"] if s not in done]
    facts = Facts(agents=index.agents(), states=index.states())
    # Attention events are about a task but are not activity on it.
    facts.in_progress = _rows(index, (
        f"SELECT {_ROW}, 'updated_at', t.updated_at, 'last_activity',"
        " (SELECT max(e.ts) FROM events AS e WHERE e.subject = t.id AND e.type NOT LIKE 'attention.%'))"
        " FROM tasks AS t WHERE t.status = ?"
    ), [in_progress])  # fmt: skip
    facts.bounces = _rows(index, (
        f"SELECT {_ROW}, 'count', (SELECT COUNT(*) FROM events AS e WHERE e.subject = t.id AND e.type = 'task.moved'"
        " AND json_extract(e.data, '$.from') = ? AND json_extract(e.data, '$.to') = ?))"
        f" FROM tasks AS t WHERE t.status IN ({_marks(open_statuses)})"
        " AND EXISTS (SELECT 1 FROM events AS e WHERE e.subject = t.id AND e.type = 'task.moved')"
    ), [review, in_progress, *open_statuses])  # fmt: skip
    facts.bounces = [row for row in facts.bounces if row["count"]]
    facts.due = _rows(index, (
        f"SELECT {_ROW}, 'due', t.due) FROM tasks AS t"
        f" WHERE t.due IS NOT NULL AND t.due < ? AND t.status NOT IN ({_marks(done)})"
    ), [today, *done])  # fmt: skip
    facts.blocked = _rows(index, (
        f"SELECT {_ROW}, 'updated_at', t.updated_at, 'since', (SELECT max(e.ts) FROM events AS e WHERE e.subject = t.id"
        " AND e.type = 'task.moved' AND json_extract(e.data, '$.to') = ?)) FROM tasks AS t"
        " WHERE t.status = ? AND json_array_length(t.depends_on) > 0 AND NOT EXISTS ("
        " SELECT 1 FROM json_each(t.depends_on) AS dep LEFT JOIN tasks AS other ON other.id = dep.value"
        f" WHERE other.id IS NULL OR other.status NOT IN ({_marks(done)}))"
    ), [blocked, blocked, *done])  # fmt: skip
    return facts


def raised_keys(index: Index, subjects: Iterable[str]) -> dict[str, str]:
    """Condition key -> when it was first raised, for the given subjects."""
    found: dict[str, str] = {}
    for subject in sorted(set(subjects)):
        rows = index.db.execute(
            "SELECT json_extract(data, '$.key'), ts FROM events WHERE subject = ? AND type = ? ORDER BY ts",
            (subject, RAISED),
        )
        for key, ts in rows:
            if isinstance(key, str):
                found.setdefault(key, ts)
    return found


def last_event_ts(index: Index) -> str | None:
    row = index.db.execute("SELECT max(ts) FROM events").fetchone()
    return row[0] if row and row[0] else None
