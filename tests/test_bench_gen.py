"""The scale benchmarks' generator (bench/bench_gen.py) writes a workspace agentctl reads as
its own: every record valid, the tasks listed, a thread's messages shown, the events in the
feed and the mentions in the inbox, and the files committed in several commits."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import bench_gen  # type: ignore[import-not-found]  # noqa: E402

from agentctl.core.rules import Actor  # noqa: E402
from agentctl.workspace import Workspace  # noqa: E402

N_TASKS = 50


def generated_events(root: Path) -> list[dict[str, Any]]:
    events = []
    for day in sorted((root / ".agentctl" / "events").glob("2026-0*.jsonl")) + sorted(
        (root / ".agentctl" / "events").glob("2026-1[01]-*.jsonl")
    ):
        events += [json.loads(line) for line in day.read_text(encoding="utf-8").splitlines()]
    return events


def test_the_generated_workspace_loads(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    params = bench_gen.default_params(N_TASKS)
    assert (params.messages, params.events) == (250, 500)
    made = bench_gen.generate(root, params, quiet=True)
    assert len(made.task_ids) == N_TASKS and made.agents[-1] == bench_gen.IDLE_AGENT

    events = generated_events(root)
    assert len(events) == params.events
    assert sum(e["type"] == "message.added" for e in events) == params.messages
    messages = list((root / ".agentctl" / "threads").glob("*/*.md"))
    assert len(messages) == params.messages

    ws = Workspace(root)
    try:
        assert ws.validate() == []
        assert len(ws.list_tasks(include_done=True)) == N_TASKS
        thread = ws.thread(made.thread_task)
        on_disk = list((root / ".agentctl" / "threads" / made.thread_task).glob("*.md"))
        assert len(thread["messages"]) == len(on_disk) > 0
        feed_ids = {e["id"] for e in ws.feed(limit=None)}
        assert {e["id"] for e in events} <= feed_ids
        mention = next(e for e in events if e["type"] == "message.added" and e["notify"])
        inbox = ws.inbox(Actor("bench"), mention["notify"][0], limit=None)
        assert mention["id"] in {n["id"] for n in inbox["notifications"]}
        assert not ws.inbox(Actor("bench"), bench_gen.IDLE_AGENT)["notifications"]
    finally:
        ws.close()

    log = subprocess.run(
        ["git", "-C", str(root), "log", "--format=%s"], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert len(log) == params.commits + 2  # the empty workspace, the parts, WORKING.md
    status = subprocess.run(
        ["git", "-C", str(root), "status", "--porcelain"], capture_output=True, text=True
    )
    assert status.stdout == ""

    # the same parameters reuse the workspace; other parameters refuse to overwrite it
    again = bench_gen.generate(root, params, quiet=True)
    assert again.task_ids == made.task_ids and again.thread_task == made.thread_task
    other = bench_gen.Params(N_TASKS, 0, N_TASKS)
    try:
        bench_gen.generate(root, other, quiet=True)
    except SystemExit as refused:
        assert "exists" in str(refused)
    else:
        raise AssertionError("a different generation overwrote the workspace")


def test_the_fast_templates_write_what_the_store_writes() -> None:
    import random

    bench_gen.check_templates(random.Random(3))  # raises SystemExit on any difference
