"""Many real processes mutating one workspace at once: no lost update, one event and one
commit per mutation, every file valid, WORKING.md fresh, and exactly one winner of a claim race."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers_proc import (
    event_lines,
    git,
    head_count,
    isolate,
    new_workspace,
    run_cli,
    run_json,
    temp_files,
)

from agentctl.workspace import Workspace

HELPER = str(Path(__file__).with_name("helpers_proc.py"))
PROCESSES = 8
STEPS = 50


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate(monkeypatch, tmp_path / "home")
    # Eight writers queue on one lock: allow a long wait so that every call gets its turn.
    monkeypatch.setenv("AGENTCTL_LOCK_TIMEOUT", "300")


def _expected_own_state(index: int) -> dict[str, object]:
    """What the worker's own task must look like after its last write (see concurrency_worker)."""
    status, assigned, title = "in_progress", False, None
    for j in range(STEPS):
        kind = j % 6
        if kind == 1:
            title = f"p{index} n{j}"
        elif kind == 2:
            status = "review" if status == "in_progress" else "in_progress"
        elif kind == 3:
            assigned = not assigned
    return {"title": title, "status": status, "assignees": [f"a{index}"] if assigned else []}


@pytest.mark.slow
def test_eight_processes_fifty_mutations_each(tmp_path: Path) -> None:
    root = new_workspace(tmp_path / "repo")
    for i in range(PROCESSES):
        run_cli(root, "agent", "add", f"a{i}", "--role", "dev")
    own: list[str] = []
    for i in range(PROCESSES):
        own.append(run_json(root, "task", "add", f"p{i} own")["task"]["id"])
        run_cli(root, "task", "move", own[-1], "in_progress")
    shared = run_json(root, "task", "add", "shared counter")["task"]["id"]

    events_before = len(event_lines(root))
    commits_before = head_count(root)
    tasks_before = len(run_json(root, "task", "list", "--all")["tasks"])
    assert tasks_before == PROCESSES + 1

    logs = [tmp_path / f"worker-{i}.jsonl" for i in range(PROCESSES)]
    started = time.monotonic()
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                HELPER,
                "concurrency",
                str(root),
                str(i),
                own[i],
                shared,
                f"a{i}",
                str(STEPS),
                str(logs[i]),
            ],
            cwd=root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(PROCESSES)
    ]
    for worker in workers:
        out, err = worker.communicate(timeout=1800)
        assert worker.returncode == 0, err
    elapsed = time.monotonic() - started
    print(f"\n{PROCESSES} x {STEPS} CLI mutations took {elapsed:.1f}s")

    records = [[json.loads(line) for line in log.read_text().splitlines()] for log in logs]
    failures = [r for rs in records for r in rs if r["rc"] != 0]
    assert not failures, failures[:5]
    assert sum(len(rs) for rs in records) == PROCESSES * STEPS

    # -- no lost update --------------------------------------------------------------------
    tasks = {t["id"]: t for t in run_json(root, "task", "list", "--all")["tasks"]}
    for i in range(PROCESSES):
        expected = _expected_own_state(i)
        got = tasks[own[i]]
        assert {k: got[k] for k in expected} == expected, f"process {i}"
    expected_labels = {f"p{i}-{j}" for i in range(PROCESSES) for j in range(STEPS) if j % 6 == 4}
    assert set(tasks[shared]["labels"]) == expected_labels
    assert len(tasks[shared]["labels"]) == len(expected_labels)

    added = {r["id"] for rs in records for r in rs if r["op"] == "add"}
    add_calls = sum(1 for rs in records for r in rs if r["op"] == "add")
    assert len(added) == add_calls
    assert len(tasks) == tasks_before + add_calls
    assert added <= set(tasks)
    for i in range(PROCESSES):
        made = {t["id"] for t in tasks.values() if f"made-by-p{i}" in t["labels"]}
        assert made == {r["id"] for r in records[i] if r["op"] == "add"}

    # -- every record valid, nothing left behind ------------------------------------------------
    validate = run_cli(root, "validate", check=False)
    assert validate.returncode == 0, validate.stdout + validate.stderr
    assert temp_files(root / ".agentctl") == []
    assert not [p for p in root.iterdir() if p.name.endswith(".agentctl-tmp")]

    # -- exactly one event per mutation --------------------------------------------------------
    lines = event_lines(root)
    assert len(lines) == events_before + PROCESSES * STEPS
    events = [json.loads(line) for line in lines]
    assert len({e["id"] for e in events}) == len(events)
    new_events = events[events_before:]
    kinds: dict[str, int] = {}
    for event in new_events:
        kinds[event["type"]] = kinds.get(event["type"], 0) + 1
    ops: dict[str, int] = {}
    for rs in records:
        for r in rs:
            ops[r["op"]] = ops.get(r["op"], 0) + 1
    assert kinds == {
        "task.created": ops["add"],
        "task.edited": ops["edit"] + ops["label"],
        "task.moved": ops["move"],
        "task.assigned": ops["assign"],
        "task.unassigned": ops["unassign"],
        "note.added": ops["note"],
    }

    # -- WORKING.md is a fresh rendering and keeps every note -------------------------------
    working = (root / "WORKING.md").read_text(encoding="utf-8")
    ws = Workspace(root)
    try:
        assert working == ws.render_working()[0]
    finally:
        ws.close()
    for i in range(PROCESSES):
        for j in range(STEPS):
            if j % 6 == 5:
                assert f"p{i} note {j}" in working

    # -- one commit per mutation, nothing left uncommitted ----------------------------------------
    assert head_count(root) - commits_before == PROCESSES * STEPS
    status = git(root, "status", "--porcelain", "--", ".agentctl", "WORKING.md")
    assert status == ""


CLAIMER = """
import os, sys, time
from agentctl.cli.app import main
go = sys.argv[1]
while not os.path.exists(go):
    time.sleep(0.001)
main(sys.argv[2:])
"""


@pytest.mark.slow
def test_claim_race_has_exactly_one_winner(tmp_path: Path) -> None:
    root = new_workspace(tmp_path / "repo")
    racers = [f"r{i}" for i in range(4)]
    for name in racers:
        run_cli(root, "agent", "add", name, "--role", "dev")
    task_id = run_json(root, "task", "add", "the prize")["task"]["id"]
    events_before = len(event_lines(root))
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                CLAIMER,
                str(go),
                "-W",
                str(root),
                "--as",
                name,
                "task",
                "claim",
                task_id,
            ],
            cwd=root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ},
        )
        for name in racers
    ]
    time.sleep(2.0)  # let every racer finish importing and wait at the start line
    go.write_text("go")
    results = []
    for name, proc in zip(racers, procs, strict=True):
        out, err = proc.communicate(timeout=120)
        results.append((name, proc.returncode, out, err))
    winners = [r for r in results if r[1] == 0]
    losers = [r for r in results if r[1] != 0]
    assert len(winners) == 1, results
    assert all(r[1] == 5 for r in losers), results
    for _, _, _, err in losers:
        assert "is claimed by" in err and winners[0][0] in err, err

    task = run_json(root, "task", "show", task_id)["task"]
    assert task["status"] == "in_progress"
    assert task["assignees"] == [winners[0][0]]
    assert task["claim"]["claimed_by"] == winners[0][0]
    assert task["claim"]["epoch"] == 1
    new = [json.loads(line) for line in event_lines(root)[events_before:]]
    assert [e["type"] for e in new] == ["task.claimed"]
    assert run_cli(root, "validate", check=False).returncode == 0
