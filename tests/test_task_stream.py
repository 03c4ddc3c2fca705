"""Streamed ``task list`` output (issue 15): piped plain tables and ``--json`` are written row
by row from the index, and must be byte-identical to the materialised output: the same column
widths (measured by SQL before the first row), the same short IDs (neighbours in ID order),
the same JSON text. IDs are chosen to share long prefixes so that short IDs grow."""

from __future__ import annotations

import io
import re
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import pytest
from conftest import Runner, make_team
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentctl.cli import output
from agentctl.core import body as taskbody
from agentctl.core.ids import short_ids
from agentctl.store.frontmatter import Document
from agentctl.workspace import Workspace

IDS = [
    "t-aaaa00000000",
    "t-aaaa00000001",  # shares 13 characters with the one before: short ID is the whole ID
    "t-aaaa0000001z",
    "t-aaab11111111",
    "t-aaac00000000",
    "t-zzzzzzzzzzzz",
    "t-m0000000000a",
    "t-m00000000000",
    "t-bbbb1aaaaaaa",  # these two share "t-bbbb": their short IDs are one character longer
    "t-bbbb2aaaaaaa",
]
TITLES = ["Short", "A much longer title than the others", "Ünïcödé tïtle", "x", "naïve €", "T", "a", "b", "c", "d"]  # fmt: skip
ASSIGNEES: list[list[str]] = [[], ["dev-1"], ["dev-1", "dev-2"], ["lead-1"], [], ["dev-2"], [], [], [], []]  # fmt: skip
STATUSES = ["inbox", "assigned", "in_progress", "review", "inbox", "done", "blocked", "assigned", "inbox", "inbox"]  # fmt: skip
LABELS = [[], ["x"], ["x", "y"], [], ["perf"], [], ["x"], [], ["pair"], ["pair"]]


@pytest.fixture
def tasks(ws_root: Path, cli: Runner) -> Path:
    make_team(cli)
    folder = ws_root / ".agentctl" / "tasks"
    for i, task_id in enumerate(IDS):
        fields = {
            "id": task_id,
            "title": TITLES[i],
            "status": STATUSES[i],
            "priority": i % 4,
            "assignees": ASSIGNEES[i],
            "labels": LABELS[i],
            "depends_on": [],
            "created_by": "tester",
            "created_at": f"2026-11-0{1 + i % 3}T00:00:0{i}Z",
            "updated_at": f"2026-11-0{1 + i % 3}T00:00:0{i}Z",
        }
        text = Document.new(fields, taskbody.task_body("", [])).dumps()
        (folder / f"{task_id}.md").write_text(text, encoding="utf-8")
    return ws_root


def _table_rows(tasks: list[Any], short: dict[str, str]) -> list[list[str]]:
    """The cells the plain table shows for ``tasks`` (the model of the streamed rows)."""
    return [
        [
            short[t["id"]],
            f"p{t['priority']}",
            t["status"],
            t["title"],
            ",".join(t["assignees"]) or "-",
            ",".join(t["labels"]),
        ]
        for t in tasks
    ]


def _captured(write: object) -> str:
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        write()  # type: ignore[operator]
    return buffer.getvalue()


QUERIES: list[dict[str, Any]] = [
    {},
    {"include_done": True},
    {"include_done": True, "sort": "id"},
    {"include_done": True, "sort": "title", "limit": 3},
    {"statuses": ["inbox", "assigned"], "sort": "status"},
    {"assignee": "dev-1"},
    {"label": "x", "include_done": True, "sort": "updated"},
    {"limit": 1},
    {"assignee": "nobody"},
    {"label": "pair"},  # the widest short ID is one character over the minimum
    {"label": "pair", "limit": 1},
    {"label": "pair", "sort": "id", "limit": 2},
]


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: ",".join(map(str, q.items())) or "all")
def test_streamed_table_is_the_materialised_table(tasks: Path, query: dict[str, Any]) -> None:
    ws = Workspace(tasks)
    try:
        materialised = ws.list_tasks(**query)
        short = short_ids(ws.index.task_ids())
        assert short["t-aaaa00000001"] == "t-aaaa00000001"  # the long-prefix case is exercised
        rows = _table_rows(materialised, short)
        columns = ["ID", "PRI", "STATUS", "TITLE", "ASSIGNEES", "LABELS"]
        table = ws.list_tasks_table(**query)
        assert table.count == len(rows)
        streamed = _captured(lambda: output.stream_table(columns, table.widths, table.rows))
        if rows:
            assert streamed == output.plain_table(columns, rows)
        json_rows = list(ws.list_tasks_json_rows(**query))
        assert "[" + ",".join(json_rows) + "]" == ws.list_tasks(as_json_text=True, **query)
    finally:
        ws.close()


def test_piped_list_streams_identical_text(tasks: Path, cli: Runner) -> None:
    plain = cli("task", "list", "--all")
    assert plain.code == 0, str(plain)
    lines = plain.out.splitlines()
    assert re.split(r"\s{2,}", lines[0]) == ["ID", "PRI", "STATUS", "TITLE", "ASSIGNEES", "LABELS"]
    assert len(lines) == 1 + len(IDS)
    # The ID column is as wide as the longest short ID (a whole ID here).
    assert {line.index("  p") for line in lines[1:]} == {len("t-aaaa00000001")}
    document = cli("task", "list", "--all", "--json")
    assert document.code == 0, str(document)
    assert document.out.startswith('{"schema_version":1,"tasks":[{"id":')
    assert document.out.endswith("]}\n")
    empty = cli("task", "list", "--assignee", "nobody")
    assert (empty.code, empty.out) == (0, "")
    assert "no tasks match" in empty.err


def test_short_ids_of_a_few_are_those_among_all(tasks: Path) -> None:
    ws = Workspace(tasks)
    try:
        ws.refresh()
        everything = short_ids(ws.index.task_ids())
        assert ws.short_ids(IDS) == {i: everything[i] for i in IDS}
        assert ws.short_ids(["t-aaaa0000001z"]) == {"t-aaaa0000001z": "t-aaaa0000001"}
        assert ws.short_ids([]) == {}
    finally:
        ws.close()


# -- the width indexes and the walk in work order (index schema 16) -------------------------

FEW = "01z"  # three letters: random IDs over them share long prefixes, so short IDs grow
WORKFLOW = ["inbox", "assigned", "in_progress", "review", "done", "blocked"]
# A status no workflow names (a hand-made file): listed by --all, measured like the others.
STATUS_NAMES = [*WORKFLOW, "x-custom-status"]


def _write_tasks(root: Path, rows: list[tuple[str, str, int, list[str], str]]) -> None:
    folder = root / ".agentctl" / "tasks"
    for old in folder.glob("*.md"):
        old.unlink()
    for n, (tail, status, priority, assignees, title) in enumerate(rows):
        task_id = "t-" + tail
        fields = {
            "id": task_id,
            "title": title,
            "status": status,
            "priority": priority,
            "assignees": assignees,
            "labels": [],
            "depends_on": [],
            "created_by": "tester",
            "created_at": f"2026-11-{1 + n % 28:02d}T00:00:00Z",
            "updated_at": "2026-11-30T00:00:00Z",
        }
        text = Document.new(fields, taskbody.task_body("", [])).dumps()
        (folder / f"{task_id}.md").write_text(text, encoding="utf-8")


task_rows = st.lists(
    st.tuples(
        st.text(FEW, min_size=12, max_size=12),
        st.sampled_from(STATUS_NAMES),
        st.integers(0, 3),
        st.lists(
            st.sampled_from(["a", "dev-1", "a-much-longer-agent-name"]), max_size=3, unique=True
        ),
        st.text(
            st.characters(codec="utf-8", exclude_categories=("C", "Z")), min_size=1, max_size=30
        ),
    ),
    max_size=40,
    unique_by=lambda row: row[0],
)
STREAMED_QUERIES: list[dict[str, Any]] = [
    {},
    {"include_done": True},
    {"statuses": ["inbox"]},
    {"statuses": ["inbox", "assigned", "in_progress", "review"]},
    {"statuses": ["done", "blocked"], "sort": "created"},
    {"include_done": True, "sort": "status"},
    {"assignee": "dev-1", "include_done": True},
]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=task_rows)
def test_widths_from_the_indexes_are_those_of_the_rows(
    ws_root: Path, rows: list[tuple[str, str, int, list[str], str]]
) -> None:
    """Whatever the tasks, a whole list measured from the width indexes (and walked through
    tasks_order when it lists most tasks) is the materialised table, byte for byte."""
    _write_tasks(ws_root, rows)
    ws = Workspace(ws_root)
    try:
        ws.refresh()
        short = short_ids(ws.index.task_ids())
        # The index keeps the IDs whose short ID is longer than the minimum ("t-" + 4).
        kept = dict(ws.index.db.execute("SELECT task, length FROM short_ids").fetchall())
        assert kept == {i: len(s) for i, s in short.items() if len(s) > 6}
        columns = ["ID", "PRI", "STATUS", "TITLE", "ASSIGNEES", "LABELS"]
        for query in STREAMED_QUERIES:
            materialised = ws.list_tasks(**query)
            expected = _table_rows(materialised, short)
            table = ws.list_tasks_table(**query)
            assert table.count == len(expected), query
            streamed = _captured(lambda t=table: output.stream_table(columns, t.widths, t.rows))
            if expected:
                assert streamed == output.plain_table(columns, expected), query
            json_rows = list(ws.list_tasks_json_rows(**query))
            assert "[" + ",".join(json_rows) + "]" == ws.list_tasks(as_json_text=True, **query)
    finally:
        ws.close()


def test_a_whole_list_walks_the_work_order_index(tasks: Path) -> None:
    """The plan behind the streamed first row: a list of most tasks in work order reads
    tasks_order (no sort before the first row); a list of a few picks them by status."""
    ws = Workspace(tasks)
    try:
        ws.refresh()
        index = ws.index

        def plan(statuses: list[str] | None) -> str:
            in_order = index._in_work_order(statuses, "priority, created_at, id", None, ())
            sql, params = index._task_query(
                statuses, None, None, None, "priority, created_at, id", None, (), in_order
            )
            return " | ".join(
                row[3] for row in index.db.execute("EXPLAIN QUERY PLAN " + sql, params)
            )

        assert "tasks_order" in plan(None) and "TEMP B-TREE" not in plan(None)
        most = ["inbox", "assigned", "in_progress", "review"]
        assert "tasks_order" in plan(most) and "TEMP B-TREE" not in plan(most)
        assert "TEMP B-TREE" in plan(["review", "done"])  # two of ten: by status, then sorted

        # The width indexes serve the width queries only: keyed by the bare status they looked
        # as good as tasks_status to the planner, whose order a page and `ready` then lost.
        from agentctl.store.index import ready_query

        statuses = ["inbox", "assigned"]
        page, params = index._task_query(
            statuses, None, None, None, "priority, created_at, id", 50, ()
        )
        ready = ready_query("status IN (?, ?)", 1) + " ORDER BY priority, created_at, id LIMIT 50"
        for sql, args in ((page, params), (ready, ["done", *statuses, "done"])):
            used = " | ".join(r[3] for r in index.db.execute("EXPLAIN QUERY PLAN " + sql, args))
            assert "_width" not in used and "tasks_status" in used, used
    finally:
        ws.close()


def test_short_ids_kept_by_the_index_follow_deletions_and_additions(tasks: Path) -> None:
    """The index's short_ids (IDs whose short ID is longer than the minimum) change with their
    neighbours: deleting t-aaaa00000001 shortens t-aaaa00000000 and t-aaaa0000001z; adding an
    ID next to one lengthens it."""
    folder = tasks / ".agentctl" / "tasks"
    ws = Workspace(tasks)

    def kept() -> dict[str, int]:
        ws.refresh(force=True)  # one workspace object refreshes once unless forced
        rows = ws.index.db.execute("SELECT task, length FROM short_ids").fetchall()
        model = {i: len(s) for i, s in short_ids(ws.index.task_ids()).items() if len(s) > 6}
        assert dict(rows) == model
        return model

    try:
        assert kept()["t-aaaa00000000"] == 14
        (folder / "t-aaaa00000001.md").unlink()
        assert kept()["t-aaaa00000000"] == 13  # now next to t-aaaa0000001z
        (folder / "t-aaaa0000001z.md").unlink()
        assert "t-aaaa00000000" not in kept()  # t-aaab... shares only "t-aaa"
        text = (folder / "t-zzzzzzzzzzzz.md").read_text(encoding="utf-8")
        twin = "t-zzzzzzzzzzzy"
        (folder / f"{twin}.md").write_text(text.replace("t-zzzzzzzzzzzz", twin), encoding="utf-8")
        assert kept()["t-zzzzzzzzzzzz"] == 14
    finally:
        ws.close()
