"""Index queries behind dispatch and escalation (core/dispatch.py, core/attention.py).

Each query narrows the rows in SQLite to those that may qualify, so its cost grows with the
answer; the rules themselves are applied by the pure core modules.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from agentctl.store.index import Index, _decode_rows, ready_query

if TYPE_CHECKING:
    from agentctl.core.attention import Facts

_ROW = (
    "json_object('id', t.id, 'title', t.title, 'status', t.status, 'assignees', json(t.assignees)"
)
# The type of core.attention.RAISED, as a literal (not a parameter) so SQLite can use the
# partial index events_attention; written out so rendering WORKING.md imports no rules.
_RAISED_WHERE = "type = 'attention.raised'"


def _marks(values: Sequence[Any]) -> str:
    return ", ".join("?" * len(values))


def ready_unassigned(
    index: Index, ready: Sequence[str], done: Sequence[str], limit: int | None = None
) -> list[dict[str, Any]]:
    """Ready tasks (the rule of :meth:`Index.ready`) nobody is assigned to, in work order.
    One query per ready status, so each walks the status index in order and a ``limit``
    stops it early (a lead's tick asks for the first few)."""
    found: list[dict[str, Any]] = []
    for status in dict.fromkeys(ready):
        sql = (
            ready_query("status = ? AND json_array_length(assignees) = 0", len(done))
            + " ORDER BY priority, created_at, id"
        )
        params: list[Any] = [*done, status, *done]
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        found += _decode_rows(index.db.execute(sql, params))
    found.sort(key=lambda t: (t["priority"], t["created_at"], t["id"]))
    return found if limit is None else found[:limit]


def open_children(index: Index, done: Sequence[str]) -> dict[str, int]:
    """Open subtasks per parent task."""
    rows = index.db.execute(
        f"SELECT parent, COUNT(*) FROM tasks WHERE parent IS NOT NULL AND status NOT IN ({_marks(done)}) GROUP BY parent",
        list(done),
    )
    return dict(rows.fetchall())


def critical_tasks(
    index: Index,
    done: Sequence[str],
    salt: str,
    compute: Callable[[dict[str, dict[str, Any]]], list[str]],
) -> set[str]:
    """``compute(open tasks)`` (the critical path's task IDs), cached in the index while the
    open tasks' IDs, dependencies, parents and estimates (and ``salt``: the effort settings)
    are unchanged: assigning or moving tasks between open statuses does not change the path."""
    marks = _marks(done)
    concat = index.db.execute(
        "SELECT group_concat(id || '|' || depends_on || '|' || coalesce(parent, '') || '|' || coalesce(estimate, ''), ';')"
        f" FROM (SELECT id, depends_on, parent, estimate FROM tasks WHERE status NOT IN ({marks}) ORDER BY id)",
        list(done),
    ).fetchone()[0]
    digest = hashlib.blake2b(f"{salt}\n{concat or ''}".encode(), digest_size=8).digest()

    def fresh() -> list[str]:
        rows = index.db.execute(
            f"SELECT id, depends_on, parent, estimate FROM tasks WHERE status NOT IN ({marks})",
            list(done),
        )
        tasks = {
            task_id: {"id": task_id, "status": "", "depends_on": json.loads(deps) if deps != "[]" else [], "parent": parent, "estimate": estimate}
            for task_id, deps, parent, estimate in rows
        }  # fmt: skip
        return sorted(compute(tasks))

    return set(index.cached("dispatch.critical", int.from_bytes(digest, "big") >> 1, fresh))


def _rows(index: Index, sql: str, params: Iterable[Any]) -> list[dict[str, Any]]:
    return [json.loads(row[0]) for row in index.db.execute(sql, list(params))]


def attention_facts(
    index: Index, flow: Mapping[str, Any], today: str, ids: Sequence[str] | None = None
) -> Facts:
    """What escalation looks at: in-progress tasks with their last activity, tasks in
    in-progress or review with their returns from review, open tasks due before ``today``,
    blocked tasks whose dependencies are all done, and the agents with their states. With
    ``ids``, only those tasks are looked at."""
    from agentctl.core.attention import Facts

    done = list(flow["done"])
    in_progress, review, blocked = flow["in_progress"], flow["review"], flow["blocked"]
    only, only_params = "", []
    if ids is not None:
        only, only_params = " AND t.id IN (SELECT value FROM json_each(?))", [json.dumps(list(ids))]
    facts = Facts(agents=index.agents(), states=index.states())
    # Attention events are about a task but are not activity on it.
    facts.in_progress = _rows(index, (
        f"SELECT {_ROW}, 'updated_at', t.updated_at, 'last_activity',"
        " (SELECT max(e.ts) FROM events AS e WHERE e.subject = t.id AND e.type NOT LIKE 'attention.%'))"
        f" FROM tasks AS t WHERE t.status = ?{only}"
    ), [in_progress, *only_params])  # fmt: skip
    # Returns from review: counted for tasks in the two statuses a bounce moves between.
    facts.bounces = _rows(index, (
        f"SELECT {_ROW}, 'count', returns) FROM (SELECT t.*, (SELECT COUNT(*) FROM events AS e WHERE e.subject = t.id"
        " AND e.type = 'task.moved' AND json_extract(e.data, '$.from') = ? AND json_extract(e.data, '$.to') = ?) AS returns"
        f" FROM tasks AS t WHERE t.status IN (?, ?){only}) AS t WHERE returns > 0"
    ), [review, in_progress, in_progress, review, *only_params])  # fmt: skip
    facts.due = _rows(index, (
        f"SELECT {_ROW}, 'due', t.due) FROM tasks AS t"
        f" WHERE t.due IS NOT NULL AND t.due < ? AND t.status NOT IN ({_marks(done)}){only}"
    ), [today, *done, *only_params])  # fmt: skip
    facts.blocked = _rows(index, (
        f"SELECT {_ROW}, 'updated_at', t.updated_at, 'since', (SELECT max(e.ts) FROM events AS e WHERE e.subject = t.id"
        " AND e.type = 'task.moved' AND json_extract(e.data, '$.to') = ?)) FROM tasks AS t"
        " WHERE t.status = ? AND json_array_length(t.depends_on) > 0 AND NOT EXISTS ("
        " SELECT 1 FROM json_each(t.depends_on) AS dep LEFT JOIN tasks AS other ON other.id = dep.value"
        f" WHERE other.id IS NULL OR other.status NOT IN ({_marks(done)})){only}"
    ), [blocked, blocked, *done, *only_params])  # fmt: skip
    return facts


def raised(index: Index) -> dict[str, tuple[str, str]]:
    """Every raised condition: key -> (subject, when it was first raised)."""
    found: dict[str, tuple[str, str]] = {}
    # No ORDER BY: it would make SQLite walk the whole log in time order instead of the index.
    rows = sorted(
        index.db.execute(
            f"SELECT ts, json_extract(data, '$.key'), subject FROM events WHERE {_RAISED_WHERE}"
        )
    )
    for ts, key, subject in rows:
        if isinstance(key, str) and isinstance(subject, str):
            found.setdefault(key, (subject, ts))
    return found


def last_event_ts(index: Index) -> str | None:
    row = index.db.execute("SELECT max(ts) FROM events").fetchone()
    return row[0] if row and row[0] else None
