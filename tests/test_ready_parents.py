"""A subtask waits for what the tasks enclosing it wait for.

After importing a roadmap, "1.2 Health check runner" depends on "1.1 Data model"; the
parts of 1.2 were ready (and dispatched) while 1.1 was still open. Readiness now follows
the parent chain, the same rule in the core (``graph.waits``), in SQLite (``Index.ready``,
dispatch's ``ready_unassigned``), in ``task show`` and in ``claim``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from conftest import Runner, add_task
from hypothesis import given, settings
from hypothesis import strategies as st

from agentctl.core import graph
from agentctl.paths import Layout
from agentctl.store.index import Index
from agentctl.store.index_dispatch import ready_unassigned

WORKFLOW = {"ready": ["inbox", "assigned"], "done": ["done"]}


def _task(
    task_id: str, status: str = "inbox", parent: str | None = None, deps: list[str] | None = None
) -> dict[str, Any]:
    return {
        "id": task_id,
        "status": status,
        "parent": parent,
        "depends_on": deps or [],
        "priority": 2,
        "created_at": "2026-01-01T00:00:00Z",
    }


def test_a_subtask_waits_for_its_parents_and_grandparents_dependencies() -> None:
    tasks = {
        "phase": _task("phase", deps=["setup"]),
        "setup": _task("setup", status="in_progress"),
        "s12": _task("s12", parent="phase", deps=["s11"]),
        "s11": _task("s11", parent="phase", status="done"),
        "leaf": _task("leaf", parent="s12", deps=["gone"]),
        "free": _task("free"),
    }
    assert graph.waits(tasks, tasks["leaf"], ["done"]) == [("gone", None), ("setup", "phase")]
    assert graph.explain_ready(tasks, tasks["leaf"], WORKFLOW) == [
        "depends on missing task gone",
        "waits for setup (in_progress), through its enclosing task phase",
    ]
    assert graph.explain_ready(tasks, tasks["s12"], WORKFLOW) == [
        "waits for setup (in_progress), through its parent phase"
    ]
    assert [t["id"] for t in graph.ready_tasks(tasks, WORKFLOW)] == ["free"]
    tasks["setup"]["status"] = "done"
    assert graph.blockers(tasks, tasks["s12"], ["done"]) == []
    assert graph.blockers(tasks, tasks["leaf"], ["done"]) == ["gone"]


def test_a_loop_of_parents_is_followed_once() -> None:
    tasks = {
        "a": _task("a", parent="b", deps=["x"]),
        "b": _task("b", parent="a", deps=["y"]),
        "x": _task("x"),
        "y": _task("y"),
    }
    assert graph.waits(tasks, tasks["a"], ["done"]) == [("x", None), ("y", "b")]


IDS = [f"t-{n:012d}" for n in range(8)]


@st.composite
def task_sets(draw: st.DrawFn) -> list[dict[str, Any]]:
    found = []
    for number, task_id in enumerate(IDS[: draw(st.integers(1, len(IDS)))]):
        parent = draw(st.sampled_from([None, *IDS]))  # includes loops and missing parents
        deps = draw(st.lists(st.sampled_from([*IDS, "t-missing00000"]), max_size=3, unique=True))
        status = draw(st.sampled_from(["inbox", "assigned", "in_progress", "done"]))
        assignees = draw(st.sampled_from([[], ["nova"]]))
        found.append(
            {
                **_task(task_id, status, parent, deps),
                "title": task_id,
                "created_by": "human",
                "updated_at": "2026-01-01T00:00:00Z",
                "assignees": assignees,
                "priority": draw(st.integers(0, 3)),
                "created_at": f"2026-01-0{1 + number % 5}T00:00:00Z",
            }
        )
    return found


@settings(max_examples=75, deadline=None)
@given(task_sets())
def test_the_index_agrees_with_the_core_rule(rows: list[dict[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        index = Index(Layout(Path(tmp)))
        for row in rows:
            index.store_task(f"tasks/{row['id']}.md", row)
        tasks = {row["id"]: row for row in rows}
        expected = [t["id"] for t in graph.ready_tasks(tasks, WORKFLOW)]
        assert [t["id"] for t in index.ready(WORKFLOW["ready"], WORKFLOW["done"])] == expected
        unassigned = [t for t in expected if not tasks[t]["assignees"]]
        assert [
            t["id"] for t in ready_unassigned(index, WORKFLOW["ready"], WORKFLOW["done"])
        ] == unassigned
        for row in rows:
            chain = [a["id"] for a in index.ancestors(row["id"])]
            walk, seen, parent = [], {row["id"]}, row["parent"]
            while parent in tasks and parent not in seen:
                walk.append(parent)
                seen.add(parent)
                parent = tasks[parent]["parent"]
            assert set(chain) == set(walk)
        index.close()


@pytest.mark.usefixtures("ws_root")
def test_show_claim_and_ready_agree_for_a_subtask_of_a_waiting_section(cli: Runner) -> None:
    first = add_task(cli, "1.1 Data model")
    section = add_task(cli, "1.2 Health checks", "--depends-on", first)
    part = add_task(cli, "HTTP checks", "--parent", section)
    ready = [t["id"] for t in cli("task", "ready", "--json").json()["ready"]]
    assert part not in ready and first in ready
    shown = cli("task", "show", part, "--json").json()["task"]
    assert shown["ready"] is False and shown["blocked_by"] == [first]
    refused = cli("task", "claim", part)
    assert refused.code == 5, refused  # CONFLICT
    assert "through its parent" in refused.err and first in refused.err
    explained = cli("task", "ready", "--explain", "--json").json()["not_ready"]
    assert any(
        t["id"] == part and any("through its parent" in r for r in t["reasons"]) for t in explained
    )
    for status in ("in_progress", "review", "done"):
        assert cli("task", "move", first, status).code == 0
    assert part in [t["id"] for t in cli("task", "ready", "--json").json()["ready"]]
    assert cli("task", "show", part, "--json").json()["task"]["ready"] is True
