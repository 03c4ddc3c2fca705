"""``agentctl demo --roadmap FILE``: the sample roadmap imported, dispatched and worked to
done by a simulated team, and never out of dependency order."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, cast

import pytest
from conftest import Runner

from agentctl import demo_roadmap
from agentctl.core import graph
from agentctl.workspace import Workspace

if TYPE_CHECKING:
    from agentctl.core.events import TaskCreated, TaskMoved

SAMPLE = Path(__file__).resolve().parents[1] / "templates" / "roadmap-sample.md"


@pytest.mark.slow  # a whole end-to-end run or thousands of files: the slow tier
def test_the_sample_roadmap_is_worked_to_done_in_dependency_order(tmp_path: Path) -> None:
    said: list[str] = []
    ws = demo_roadmap.build(tmp_path / "demo", SAMPLE, said.append, git=False)
    assert isinstance(ws, Workspace)
    tasks = ws.index.graph()
    assert len(tasks) >= 40
    assert {t["status"] for t in tasks.values()} == {"done"}, said[-5:]
    assert any(line.startswith("all ") and "tasks done" in line for line in said)
    assert any(line.startswith("critical path (") for line in said)

    events = ws.index.events()
    position = {e["id"]: n for n, e in enumerate(events)}
    done_at = {
        e["subject"]: position[e["id"]]
        for e in events
        if (e["type"] == "task.moved" and cast("TaskMoved", e["data"])["to"] == "done") or (e["type"] == "task.created" and cast("TaskCreated", e["data"]).get("status") == "done")
    }  # fmt: skip
    started: dict[str, int] = {}
    for event in events:
        if event["type"] == "task.claimed":
            started.setdefault(str(event["subject"]), position[event["id"]])
    assert started, "the team claimed nothing"
    waited = 0
    for task_id, start in started.items():
        # everything the task (and every task enclosing it) depends on was done before it began
        for dep in graph.blockers(tasks, {**tasks[task_id], "status": "inbox"}, ()):
            assert done_at.get(dep, len(events)) < start, (
                tasks[task_id]["title"],
                tasks[dep]["title"],
            )
            waited += 1
    assert waited >= 20  # the sample's dependencies, direct and through sections, were exercised

    dispatched = [
        e for e in events if e["type"] == "task.assigned" and e["data"].get("via") == "dispatch"
    ]
    assert dispatched and all(e["data"].get("reason") for e in dispatched)
    assert any(line.strip().startswith("dispatch: ") for line in said)


def test_demo_roadmap_cli_refuses_a_missing_file(cli: Runner, tmp_path: Path) -> None:
    result = cli("demo", "--dir", str(tmp_path / "d"), "--roadmap", str(tmp_path / "nope.md"))
    assert result.code == 2, result
    assert "nope.md" in result.err and "Traceback" not in result.err
