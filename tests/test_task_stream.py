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
        rows = [
            [
                short[t["id"]],
                f"p{t['priority']}",
                t["status"],
                t["title"],
                ",".join(t["assignees"]) or "-",
                ",".join(t["labels"]),
            ]
            for t in materialised
        ]
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
