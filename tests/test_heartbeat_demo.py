"""``agentctl demo`` runs heartbeat rounds until every task is done: offline (no litellm, no
socket), every step visible in events, threads and git history, one commit per worked tick."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from conftest import Runner
from helpers_heartbeat import commits

WRAPPER = """
import json, runpy, socket, sys
report, argv = sys.argv[1], sys.argv[2:]
attempts = []

def refuse(*args, **kwargs):
    attempts.append(repr(args)[:200])
    raise OSError("network disabled by the test")

socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
sys.argv = ["agentctl", *argv]
code = 0
try:
    runpy.run_module("agentctl", run_name="__main__")
except SystemExit as exc:
    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("litellm", "openai", "httpx", "textual", "git"))
with open(report, "w", encoding="utf-8") as fh:
    json.dump({"code": code, "heavy": heavy, "attempts": attempts}, fh)
"""


def run_demo(
    tmp_path: Path, target: Path, *args: str
) -> tuple[dict[str, Any], subprocess.CompletedProcess[str]]:
    script = tmp_path / "wrapper.py"
    script.write_text(WRAPPER, encoding="utf-8")
    report = tmp_path / "report.json"
    proc = subprocess.run(
        [sys.executable, str(script), str(report), "demo", "--dir", str(target), *args],
        cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert report.exists(), proc.stderr
    return json.loads(report.read_text(encoding="utf-8")), proc


def read_runs(root: Path) -> list[dict[str, Any]]:
    runs = []
    for path in sorted((root / ".agentctl" / "local" / "runs").glob("*.jsonl")):
        runs += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return runs


def events(root: Path) -> list[dict[str, Any]]:
    result = []
    for path in sorted((root / ".agentctl" / "events").glob("*.jsonl")):
        result += [
            json.loads(line)
            for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]
    return result


def test_the_demo_reaches_all_done_offline_with_every_step_recorded(
    tmp_path: Path, cli: Runner
) -> None:
    target = tmp_path / "demo"
    report, proc = run_demo(tmp_path, target)
    assert report["code"] == 0, proc.stderr
    assert report["heavy"] == [], "the demo needs no litellm, openai, httpx, textual or GitPython"
    assert report["attempts"] == [], "the demo opened a network connection"
    # the lead dispatches what is ready (the first task: every other one waits on it)
    assert re.search(
        r"agentctl: round 1: atlas dispatch \(t-[0-9a-z]{4}->nova\); nova 1 claim", proc.stderr
    ), proc.stderr
    assert f"The demo workspace is at {target}" in proc.stdout

    # every task done, every record valid
    tasks = cli("task", "list", "--all", "--json", cwd=target).json()["tasks"]
    assert 10 <= len(tasks) <= 15
    assert {t["status"] for t in tasks} == {"done"}
    assert cli("validate", cwd=target).code == 0

    # one commit per worked tick, by the agent; idle beats commit only their state record
    runs = read_runs(target)
    worked = Counter(r["agent"] for r in runs if r["outcome"] == "worked")
    assert set(worked) == {"atlas", "nova", "pixel", "sentry"}
    assert not [r for r in runs if r["outcome"] not in ("worked", "idle")], (
        "no failure, skip or budget stop"
    )
    history = commits(target)
    tick_commits = Counter(
        c.author for c in history if c.subject == f"agentctl: heartbeat of {c.author}"
    )
    assert tick_commits == worked
    for commit in history:
        if commit.author in worked:
            assert commit.email == f"{commit.author}@agents.agentctl"
            assert commit.subject in (
                f"agentctl: heartbeat of {commit.author}",
                f"agentctl: {commit.author}: heartbeat (idle)",
            )
            assert all(f == "WORKING.md" or f.startswith(".agentctl/") for f in commit.files)
        else:
            assert commit.author == "demo-human", commit
    idle_commits = sum(1 for c in history if c.subject.endswith("heartbeat (idle)"))
    assert idle_commits <= sum(1 for r in runs if r["outcome"] == "idle")
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=target, capture_output=True, text=True, check=True
    )
    assert status.stdout == ""

    # the whole story is in the event log and the threads: triage, claims, deliverables,
    # reviews (one round of rework for the task labelled needs-rework), done
    log = events(target)
    by_type = Counter(e["type"] for e in log)
    assert by_type["task.assigned"] == len(tasks)
    assert by_type["task.claimed"] == len(tasks)
    moves = [
        (e["subject"], e["data"]["from"], e["data"]["to"], e["actor"])
        for e in log
        if e["type"] == "task.moved"
    ]
    for task in tasks:
        mine = [m for m in moves if m[0] == task["id"]]
        assert ("in_progress", "review") in [(m[1], m[2]) for m in mine]
        [done] = [m for m in mine if m[2] == "done"]
        assert done[3] not in task["assignees"], "approved by someone other than the implementer"
    rework = [m for m in moves if (m[1], m[2]) == ("review", "in_progress")]
    assert len(rework) == 1
    assert by_type["doc.added"] >= len(tasks)
    for task in tasks:
        messages = cli("thread", task["id"], "--json", cwd=target).json()["thread"]["messages"]
        kinds = Counter(m["kind"] for m in messages)
        assert kinds["review"] >= 1 and kinds["status_update"] >= 2, (task["title"], kinds)
        assert any(m["mentions"] for m in messages)
    heartbeats = [e for e in log if e["type"] == "agent.heartbeat"]
    assert len(heartbeats) == sum(worked.values())


@pytest.mark.slow
def test_the_demo_ends_the_same_way_every_time(tmp_path: Path, cli: Runner) -> None:
    """Two demos: the same assignments, the same number of rounds and the same actions in
    total. (Not necessarily in the same ticks: tasks created in the same second are listed in
    the order of their random IDs, so who works on what first may differ.)"""
    outcomes = []
    for name in ("one", "two"):
        report, proc = run_demo(tmp_path, tmp_path / name, "--json")
        assert report["code"] == 0, proc.stderr
        runs = read_runs(tmp_path / name)
        tasks = cli("task", "list", "--all", "--json", cwd=tmp_path / name).json()["tasks"]
        outcomes.append({
            "assignees": sorted((t["title"], tuple(t["assignees"]), t["status"]) for t in tasks),
            "ticks": Counter(r["agent"] for r in runs),
            "actions": Counter(a["action"] for r in runs for a in r.get("actions", []) if a["action"] != "noop"),
            "rounds": proc.stderr.count("agentctl: round "),
        })  # fmt: skip
    assert outcomes[0] == outcomes[1]
