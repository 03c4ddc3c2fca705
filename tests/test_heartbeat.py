"""Heartbeat ticks end to end: idle ticks that call nothing, overlapping ticks in real processes,
what work is collected for whom, notifications delivered, one commit per worked tick, failures
with backoff and blocking, the run log, ``prime`` and ``--dry-run``.

Agents on the ``command`` runtime run small Python scripts (written outside the workspace) that
leave traces (a marker file, a call log, the prompt they read), so the tests can prove when a
runtime was called and what it received.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import Runner, add_task, assert_one_line_error, git, git_state, snapshot
from helpers_heartbeat import (
    add_command_agent,
    answer_agent,
    calls,
    commits,
    edit_config,
    inbox,
    new_commits,
    runs,
    script,
    state,
    status_clean,
    thread,
    tick_json,
)
from helpers_proc import event_lines

from agentctl.heartbeat.context import Work, collect
from agentctl.heartbeat.tick import tick
from agentctl.runtime.command import compose
from agentctl.workspace import Workspace


@pytest.fixture
def ws_root(git_ws_root: Path) -> Path:
    """Every test here is about git (commits, history, recovery): a real repository."""
    return git_ws_root


NOOP = '{"actions": [{"type": "noop", "reason": "nothing to do"}]}'


@pytest.fixture
def scripts(tmp_path: Path) -> Path:
    path = tmp_path / "scripts"
    path.mkdir()
    return path


def parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


def library_tick(
    root: Path, name: str, now: datetime | None = None, dry_run: bool = False
) -> dict[str, Any]:
    """One tick through the library with a chosen clock (a fresh Workspace: nothing cached)."""
    ws = Workspace(root)
    try:
        return tick(ws, name, dry_run=dry_run, now=now)
    finally:
        ws.close()


def library_collect(root: Path, name: str, now: datetime | None = None) -> Work:
    ws = Workspace(root)
    try:
        return collect(ws, name, now)
    finally:
        ws.close()


# -- idle ticks ---------------------------------------------------------------------------------


def test_idle_tick_makes_no_runtime_call_and_records_an_idle_run(
    ws_root: Path, team: list[str], cli: Runner, scripts: Path
) -> None:
    marker = scripts / "called"
    argv = script(scripts, "tripwire", f"""
        pathlib.Path({str(marker)!r}).write_text("called", encoding="utf-8")
        sys.exit(1)
    """)  # fmt: skip
    add_command_agent(cli, "cmd-1", argv)
    before = len(commits(ws_root))

    [record] = tick_json(cli, "cmd-1")
    assert record["outcome"] == "idle", record
    assert not marker.exists(), "an idle tick ran the agent's command"
    assert "tokens_in" not in record and "prompt_tokens" not in record and "cost_usd" not in record
    assert record["work"] == dict.fromkeys(
        ("notifications", "tasks", "reviews", "triage", "stale_tasks", "silent_agents"), 0
    )
    # The first idle beat is recorded in the tracked state: one bookkeeping commit by the agent.
    [commit] = new_commits(ws_root, before)
    assert (commit.author, commit.email) == ("cmd-1", "cmd-1@agents.agentctl")
    assert commit.files == [".agentctl/agents/cmd-1.state.yaml"] or set(commit.files) <= {
        ".agentctl/agents/cmd-1.state.yaml", "WORKING.md",
    }  # fmt: skip
    assert state(cli, "cmd-1")["last_outcome"] == "idle"
    assert status_clean(ws_root)

    # Further idle beats within heartbeat.record_idle_every touch no tracked file at all.
    files, git_before = snapshot(ws_root), git_state(ws_root)
    for _ in range(3):
        [record] = tick_json(cli, "cmd-1")
        assert record["outcome"] == "idle"
    assert snapshot(ws_root) == files and git_state(ws_root) == git_before
    assert not marker.exists()

    # ... but every one of them is in the run log, with no tokens.
    logged = runs(cli, "cmd-1")
    assert [r["outcome"] for r in logged] == ["idle"] * 4
    assert all(not r.get("tokens_in") and not r.get("tokens_out") for r in logged)
    plain = cli("runs", "cmd-1")
    assert plain.code == 0 and plain.out.count(" idle ") == 4, str(plain)

    # Control: once the agent has work, the same command does run (and fails).
    add_task(cli, "real work", "--assign", "cmd-1")
    result = cli("heartbeat", "cmd-1")
    assert result.code == 11, str(result)
    assert marker.exists()


def test_idle_state_is_recorded_again_after_record_idle_every(
    ws_root: Path, team: list[str], cli: Runner
) -> None:
    first = library_tick(ws_root, "dev-2")
    assert first["outcome"] == "idle"
    count = len(commits(ws_root))
    started = parse(str(first["started"]))
    assert library_tick(ws_root, "dev-2", now=started + timedelta(minutes=30))["outcome"] == "idle"
    assert len(commits(ws_root)) == count, "an idle beat within the hour is not committed"
    assert library_tick(ws_root, "dev-2", now=started + timedelta(minutes=61))["outcome"] == "idle"
    [commit] = new_commits(ws_root, count)
    assert commit.author == "dev-2" and "heartbeat (idle)" in commit.subject
    assert state(cli, "dev-2")["last_heartbeat"] == (
        started + timedelta(minutes=61)
    ).isoformat().replace("+00:00", "Z")
    assert status_clean(ws_root)


# -- overlap ------------------------------------------------------------------------------------


def test_a_second_overlapping_tick_in_another_process_is_skipped(
    ws_root: Path, team: list[str], cli: Runner, scripts: Path
) -> None:
    started, release = scripts / "started", scripts / "release"
    argv = script(scripts, "slow", f"""
        sys.stdin.read()
        with open({str(started)!r}, "a") as fh:
            fh.write("x")
        deadline = time.time() + 60
        while not os.path.exists({str(release)!r}) and time.time() < deadline:
            time.sleep(0.02)
        print({NOOP!r})
    """)  # fmt: skip
    add_command_agent(cli, "slow-1", argv)
    add_task(cli, "something to do", "--assign", "slow-1")

    first = subprocess.Popen(
        [sys.executable, "-m", "agentctl", "heartbeat", "slow-1", "--json"],
        cwd=ws_root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not started.exists():
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline, "the first tick never reached its runtime"
            time.sleep(0.02)
        second = subprocess.run(
            [sys.executable, "-m", "agentctl", "heartbeat", "slow-1", "--json"],
            cwd=ws_root, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert second.returncode == 0, second.stderr
        [skipped] = json.loads(second.stdout)["runs"]
        assert skipped["outcome"] == "skipped"
        assert skipped["reason"] == "a previous tick of this agent is still running"
        assert second.stderr == ""
    finally:
        release.write_text("go", encoding="utf-8")
        out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    [worked] = json.loads(out)["runs"]
    assert worked["outcome"] == "worked"
    assert started.read_text() == "x", "the skipped tick ran the command too"
    assert sorted(r["outcome"] for r in runs(cli, "slow-1")) == ["skipped", "worked"]


# -- collecting work ----------------------------------------------------------------------------


def test_collect_notifications_tasks_and_dependencies(
    ws_root: Path, team: list[str], cli: Runner
) -> None:
    blocker = add_task(cli, "blocker", "--assign", "dev-2")
    waiting = add_task(cli, "waits for blocker", "--assign", "dev-1", "--depends-on", blocker)
    free = add_task(cli, "free", "--assign", "dev-1")
    started_early = add_task(
        cli, "started before its dependency", "--assign", "dev-1", "--depends-on", blocker
    )
    moved = cli("task", "move", started_early, "in_progress")  # a person may start it anyway
    assert moved.code == 0, str(moved)
    assert cli("task", "add", "nobody's", "--json").code == 0

    work = library_collect(ws_root, "dev-1")
    ids = [t["id"] for t in work.tasks]
    assert free in ids and started_early in ids
    assert waiting not in ids, "an assigned task whose dependency is not done is not workable"
    # assignment notifications (not delivered yet) are work too
    assert {n["task"] for n in work.notifications} >= {free, waiting}
    assert not work.triage and not work.stale_tasks and not work.silent_agents

    for status in ("in_progress", "review", "done"):
        assert cli("task", "move", blocker, status).code == 0
    work = library_collect(ws_root, "dev-1")
    assert waiting in [t["id"] for t in work.tasks]

    # dev-2 only has notifications about its task, nothing else of dev-1's
    other = library_collect(ws_root, "dev-2")
    assert not {free, waiting, started_early} & {t["id"] for t in other.tasks}


def test_collect_review_requests_go_to_reviewers_never_the_implementer(
    ws_root: Path, team: list[str], cli: Runner
) -> None:
    assert cli("agent", "add", "qa-1", "--role", "qa", "--capability", "review").code == 0
    assert cli("agent", "edit", "dev-1", "--add-capability", "review").code == 0
    task = add_task(cli, "feature", "--assign", "dev-1")
    for status in ("in_progress", "review"):
        assert cli("--as", "dev-1", "task", "move", task, status).code == 0

    reviews = {
        name: [t["id"] for t in library_collect(ws_root, name).reviews]
        for name in ("qa-1", "dev-1", "dev-2", "lead-1")
    }
    assert reviews == {"qa-1": [task], "dev-1": [], "dev-2": [], "lead-1": []}

    # a task implemented by the only other reviewer goes to dev-1; one implemented by both
    # reviewers goes to the lead
    own = add_task(cli, "qa's own", "--assign", "qa-1")
    both = add_task(cli, "pair work", "--assign", "qa-1", "--assign", "dev-1")
    for ref in (own, both):
        for status in ("in_progress", "review"):
            assert cli("task", "move", ref, status).code == 0
    assert [t["id"] for t in library_collect(ws_root, "qa-1").reviews] == [task]
    assert [t["id"] for t in library_collect(ws_root, "dev-1").reviews] == [own]
    assert [t["id"] for t in library_collect(ws_root, "lead-1").reviews] == [both]


def test_collect_lead_duties_triage_stale_work_and_silent_agents(
    ws_root: Path, team: list[str], cli: Runner
) -> None:
    inbox_task = add_task(cli, "untriaged")
    other = add_task(cli, "assigned already", "--assign", "dev-2")
    busy = add_task(cli, "in progress", "--assign", "dev-1")
    assert cli("--as", "dev-1", "task", "claim", busy).code == 0
    for name in ("dev-2", "intern-1"):
        library_tick(
            ws_root, name
        )  # a first heartbeat each (dev-2 claims its task); dev-1 never beat

    now = datetime.now(UTC)
    lead = library_collect(ws_root, "lead-1", now)
    assert [t["id"] for t in lead.triage] == [inbox_task]
    assert lead.stale_tasks == [] and lead.silent_agents == []
    assert not library_collect(ws_root, "dev-2", now).triage, "only leads triage"

    # three hours later: in-progress work is stale (stale_after 2h) and every agent that beat
    # has missed more than three 15-minute beats (and the idle-record hour)
    later = library_collect(ws_root, "lead-1", now + timedelta(hours=3))
    assert sorted(t["id"] for t in later.stale_tasks) == sorted([busy, other])
    assert sorted(a["name"] for a in later.silent_agents) == ["dev-2", "intern-1"]
    assert not library_collect(ws_root, "dev-1", now + timedelta(hours=3)).stale_tasks
    assert library_collect(ws_root, "lead-1", now + timedelta(minutes=90)).stale_tasks == []

    # after the lead chased dev-2 directly, dev-2 is no longer listed
    ws = Workspace(ws_root)
    try:
        ws.direct_message(ws.actor("lead-1"), "dev-2", "please check in")
    finally:
        ws.close()
    later = library_collect(ws_root, "lead-1", now + timedelta(hours=3))
    assert [a["name"] for a in later.silent_agents] == ["intern-1"]

    # the simulated lead acts on all of it in one tick: a dispatch (the silent agents get no
    # work, so the task goes to dev-1, which never beat yet), a question on stale work, a
    # message to the silent agent
    record = library_tick(ws_root, "lead-1", now=now + timedelta(hours=3))
    actions = record["actions"]
    assert [a for a in actions if a["action"] == "dispatch"] == [
        {"action": "dispatch", "assigned": [{"task": inbox_task, "agent": "dev-1"}], "skipped": 0}
    ]
    assert record["attention_raised"] == 2, "the lead's tick raised the two silent agents first"
    assert [a for a in actions if a["action"] == "notify"] == [
        {"action": "notify", "agent": "intern-1"}
    ]
    questioned = {a["task"] for a in actions if a["action"] == "comment"}
    assert {busy, other} <= questioned
    assert record["rejected"] == 0


# -- notifications and commits ------------------------------------------------------------------


def test_a_worked_tick_marks_notifications_delivered_not_read(
    ws_root: Path, team: list[str], cli: Runner
) -> None:
    task = add_task(cli, "needs dev-1", "--assign", "dev-1")
    ws = Workspace(ws_root)
    try:
        ws.comment(ws.actor(), task, "@dev-1 please start with the parser")
    finally:
        ws.close()
    before = inbox(cli, "dev-1")
    assert before and all(n["delivered"] is None and n["read"] is None for n in before)

    [record] = tick_json(cli, "dev-1")
    assert record["outcome"] == "worked" and record["work"]["notifications"] == len(before)
    after = {n["id"]: n for n in inbox(cli, "dev-1")}
    for note in before:
        assert after[note["id"]]["delivered"] is not None, "delivered by the tick"
        assert after[note["id"]]["read"] is None, "but not read: a person may still want to see it"
    unread = cli("inbox", "--agent", "dev-1", "--json").json()["inbox"]["unread"]
    assert unread >= len(before)

    # the next tick does not see them again
    work = library_collect(ws_root, "dev-1")
    assert not {n["id"] for n in work.notifications} & set(after)


def test_one_commit_per_worked_tick_by_the_agent_and_none_when_idle(
    ws_root: Path, team: list[str], cli: Runner
) -> None:
    task = add_task(
        cli, "ship it", "--assign", "dev-1", "--ac", "it ships", "-d", "the whole thing"
    )
    for _ in range(4):
        count = len(commits(ws_root))
        [record] = tick_json(cli, "dev-1")
        fresh = new_commits(ws_root, count)
        if record["outcome"] == "worked":
            assert len(fresh) == 1, [c.subject for c in fresh]
            [commit] = fresh
            assert (commit.author, commit.email) == ("dev-1", "dev-1@agents.agentctl")
            assert commit.subject == "agentctl: heartbeat of dev-1"
            assert all(f.startswith(".agentctl/") or f == "WORKING.md" for f in commit.files), (
                commit.files
            )
            assert not any(f.startswith(".agentctl/local") for f in commit.files)
            body = git(ws_root, "show", "-s", "--format=%B", commit.sha)
            assert "Actor: dev-1" in body
        else:
            assert record["outcome"] == "idle"
            assert len(fresh) <= 1  # the first idle beat after work records the state
            if fresh:
                assert "heartbeat (idle)" in fresh[0].subject and fresh[0].author == "dev-1"
        assert status_clean(ws_root), git(ws_root, "status", "--porcelain")
    assert cli("task", "show", task, "--json").json()["task"]["status"] == "review"
    count = len(commits(ws_root))
    [record] = tick_json(cli, "dev-1")
    assert record["outcome"] == "idle" and len(commits(ws_root)) == count


def test_without_autocommit_a_tick_commits_nothing(
    ws_root: Path, team: list[str], cli: Runner
) -> None:
    add_task(cli, "work", "--assign", "dev-1")
    count = len(commits(ws_root))
    [record] = tick_json(cli, "dev-1", env={"AGENTCTL_AUTOCOMMIT": "0"})
    assert record["outcome"] == "worked"
    assert len(commits(ws_root)) == count
    assert not status_clean(ws_root)


# -- failures -----------------------------------------------------------------------------------


def test_failures_back_off_then_block_and_notify_the_lead(
    ws_root: Path, team: list[str], cli: Runner, scripts: Path
) -> None:
    edit_config(ws_root, "backoff: 1m", "backoff: 1h")
    argv = script(scripts, "broken", """
        sys.stdin.read()
        with open(pathlib.Path(sys.argv[0]).with_suffix(".calls"), "a") as fh:
            fh.write("x")
        print("thinking...")
        print("fatal: model exploded", file=sys.stderr)
        sys.exit(1)
    """)  # fmt: skip
    count_file = scripts / "broken.calls"
    add_command_agent(cli, "bad-1", argv)
    task = add_task(cli, "doomed", "--assign", "bad-1")

    # 1st failure: exit 11, one error line naming the failure, failures 1, retry in 1h
    result = cli("heartbeat", "bad-1", "--json")
    assert result.code == 11, str(result)
    assert_one_line_error(result, 11, "bad-1", "exited with status 1", "fatal: model exploded")
    [record] = result.json()["runs"]
    assert record["outcome"] == "failed" and record["failures"] == 1 and record["blocked"] is False
    started = parse(record["started"])
    st = state(cli, "bad-1")
    assert st["failures"] == 1 and st["last_outcome"] == "failed" and st["status"] == "idle"
    assert parse(st["retry_after"]) == started + timedelta(hours=1)
    assert count_file.read_text() == "x"
    assert status_clean(ws_root)
    assert thread(cli, task) == [], "a failed tick applies nothing"

    # while backing off, a tick is skipped (exit 0) without running the command
    [record] = tick_json(cli, "bad-1")
    assert record["outcome"] == "skipped" and record["reason"].startswith(
        "backing off after a failure until "
    )
    assert count_file.read_text() == "x"

    # 2nd failure after the backoff: the wait doubles
    second = started + timedelta(hours=1, minutes=1)
    record = library_tick(ws_root, "bad-1", now=second)
    assert record["outcome"] == "failed" and record["failures"] == 2
    assert parse(state(cli, "bad-1")["retry_after"]) == second + timedelta(hours=2)
    assert library_tick(ws_root, "bad-1", now=second + timedelta(hours=1))["outcome"] == "skipped"

    # 3rd (heartbeat.max_failures): blocked, and the lead is told
    lead_before = {n["id"] for n in inbox(cli, "lead-1")}
    third = second + timedelta(hours=2, minutes=1)
    record = library_tick(ws_root, "bad-1", now=third)
    assert record["outcome"] == "failed" and record["failures"] == 3 and record["blocked"] is True
    st = state(cli, "bad-1")
    assert st["status"] == "blocked" and st["failures"] == 3 and "retry_after" not in st
    fresh = [n for n in inbox(cli, "lead-1") if n["id"] not in lead_before]
    assert [(n["type"], n["actor"]) for n in fresh] == [("agent.heartbeat", "bad-1")]
    assert not [n for n in inbox(cli, "dev-1") if n["type"] == "agent.heartbeat"], (
        "only leads are told"
    )
    assert count_file.read_text() == "xxx"

    # blocked: ticks are skipped (exit 0), the command is not run, however late it is
    for when in (None, third + timedelta(days=2)):
        record = library_tick(ws_root, "bad-1", now=when)
        assert (
            record["outcome"] == "skipped"
            and "blocked" in record["reason"]
            and "agentctl agent reset bad-1" in record["reason"]
        )
    assert count_file.read_text() == "xxx"
    assert sorted(r["outcome"] for r in runs(cli, "bad-1")) == ["failed"] * 3 + ["skipped"] * 4

    # a human resumes it: the next tick runs the command again, counting from zero
    assert cli("agent", "status", "bad-1", "idle").code == 0
    assert state(cli, "bad-1")["failures"] == 0
    result = cli("heartbeat", "bad-1", "--json")
    assert result.code == 11, str(result)
    assert result.json()["runs"][0]["failures"] == 1
    assert count_file.read_text() == "xxxx"


def test_agent_reset_clears_a_backoff_and_a_block_once_the_cause_is_fixed(
    ws_root: Path, team: list[str], cli: Runner, scripts: Path
) -> None:
    edit_config(ws_root, "backoff: 1m", "backoff: 1h")
    flag = scripts / "fixed"
    argv = script(scripts, "flaky", f"""
        sys.stdin.read()
        if not pathlib.Path({str(flag)!r}).exists():
            print("fatal: bad config", file=sys.stderr)
            sys.exit(1)
        print("done")
    """)  # fmt: skip
    add_command_agent(cli, "nova", argv)
    add_task(cli, "work", "--assign", "nova")
    assert cli("heartbeat", "nova", "--json").code == 11
    flag.write_text("yes")  # the cause is fixed; the backoff still holds the agent back
    [record] = tick_json(cli, "nova")
    assert record["outcome"] == "skipped" and "agentctl agent reset nova" in record["reason"]
    refused = cli("agent", "status", "nova", "idle")
    assert refused.code == 5 and "already idle" in refused.err

    events_before = len(event_lines(ws_root))
    result = cli("agent", "reset", "nova")
    assert result.code == 0, str(result)
    assert result.out == "nova reset: no failures, no backoff, idle\n"
    st = state(cli, "nova")
    assert st["failures"] == 0 and "retry_after" not in st and st["status"] == "idle"
    new = [json.loads(line) for line in event_lines(ws_root)[events_before:]]
    assert [(e["type"], e["subject"], e["data"]["failures"]) for e in new] == [
        ("agent.reset", "nova", 1)
    ]
    assert status_clean(ws_root)
    [record] = tick_json(cli, "nova")
    assert record["outcome"] != "skipped" and record["outcome"] != "failed"

    again = cli("agent", "reset", "nova")
    assert again.code == 5 and "nova has no failures, backoff or block to reset" in again.err

    # a blocked agent is unblocked (idle) by a reset
    flag.unlink()
    started = datetime.now(UTC)
    for hours in (0, 2, 5):
        library_tick(ws_root, "nova", now=started + timedelta(hours=hours))
    assert state(cli, "nova")["status"] == "blocked"
    reset = cli("agent", "reset", "nova", "--json").json()["state"]
    assert reset["status"] == "idle" and reset["failures"] == 0 and "retry_after" not in reset
    denied = cli("--as", "dev-1", "agent", "reset", "lead-1")
    assert denied.code == 7, str(denied)


def test_an_unusable_answer_without_a_task_is_a_failure(
    ws_root: Path, team: list[str], cli: Runner, scripts: Path
) -> None:
    """A lead with only triage work answering prose: no task to post it on, so it fails."""
    answer = answer_agent(cli, "boss", scripts, level="lead", role="lead")
    answer.write_text("I would rather not.", encoding="utf-8")
    add_task(cli, "to triage")
    before = snapshot(ws_root)
    result = cli("heartbeat", "boss", "--json")
    assert_one_line_error(result, 11, "boss: unusable answer: the answer is not JSON")
    [record] = result.json()["runs"]
    assert (
        record["outcome"] == "failed"
        and record["error"] == "unusable answer: the answer is not JSON"
    )
    after = snapshot(ws_root)
    touched = {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}
    assert {p for p in touched if not p.startswith(".agentctl/events/")} <= {
        ".agentctl/agents/boss.state.yaml",
        "WORKING.md",
    }


def test_runtime_command_not_found_is_a_failure_with_a_hint(
    ws_root: Path, team: list[str], cli: Runner
) -> None:
    add_command_agent(cli, "ghost-1", ["/nonexistent/agent-cli", "-p"])
    add_task(cli, "work", "--assign", "ghost-1")
    result = cli("heartbeat", "ghost-1")
    assert_one_line_error(result, 11, "agent ghost-1: command not found: /nonexistent/agent-cli")
    assert result.err.splitlines()[1].startswith("agentctl: hint: install it")


# -- runs, agent show, prime, dry-run -----------------------------------------------------------


def test_runs_and_agent_show_report_recent_runs(
    ws_root: Path, team: list[str], cli: Runner
) -> None:
    add_task(cli, "work", "--assign", "dev-1")
    tick_json(cli, "dev-1")
    tick_json(cli, "dev-1")
    tick_json(cli, "--all")
    logged = runs(cli, "dev-1")
    assert [r["outcome"] for r in logged][:2] == ["worked", "worked"]
    first = logged[0]
    assert first["applied"] == 2 and first["rejected"] == 0
    assert [a["action"] for a in first["actions"]] == ["claim", "comment"]
    assert (
        first["tokens_in"] == first["tokens_out"] == 0 and first["model"] == "simulated"
    )  # no model ran
    assert first["duration_ms"] >= 0 and first["prompt_tokens"] > 0
    everyone = runs(cli)
    assert {r["agent"] for r in everyone} == {"dev-1", "dev-2", "intern-1", "lead-1"}
    assert len(runs(cli, limit=2)) == 2

    plain = cli("runs")
    assert plain.code == 0 and plain.out.splitlines()[0].split() == [
        "RUN", "STARTED", "AGENT", "OUTCOME", "APPLIED", "REJECTED", "TOKENS", "USD", "MS", "NOTE",
    ]  # fmt: skip
    assert plain.out.splitlines()[1].split()[0] == everyone[0]["id"]  # 'runs --show ID' takes it

    shown = cli("agent", "show", "dev-1")
    assert shown.code == 0, str(shown)
    assert "Recent runs:" in shown.out, shown.out
    section = shown.out.split("Recent runs:", 1)[1]
    assert section.count("worked") >= 2 and "2 applied" in section
    data = cli("agent", "show", "dev-1", "--json").json()["agent"]
    assert [r["outcome"] for r in data["runs"]][:2] == ["worked", "worked"]
    assert "spend_today" in data

    empty = cli("runs", "dev-2", "--limit", "1")
    assert empty.code == 0
    fresh = cli("agent", "add", "newbie", "--role", "dev")
    assert fresh.code == 0
    assert "no runs recorded" in cli("runs", "newbie").out


def test_prime_prints_what_a_tick_sends(
    ws_root: Path, team: list[str], cli: Runner, scripts: Path
) -> None:
    answer_agent(cli, "cmd-1", scripts, capabilities=("python",))
    task = add_task(
        cli, "parse the config", "--assign", "cmd-1", "-d", "Use the stdlib.", "--ac", "tests pass"
    )
    ws = Workspace(ws_root)
    try:
        ws.comment(ws.actor("lead-1"), task, "@cmd-1 mind the edge cases")
        ws.add_memory(
            "cmd-1", "The config parser lives in config.py", long_term=True, actor=ws.actor("cmd-1")
        )
    finally:
        ws.close()

    primed = cli("prime", "--agent", "cmd-1", "--json")
    assert primed.code == 0, str(primed)
    doc = primed.json()
    assert doc["work"]["tasks"] == 1 and doc["work"]["notifications"] >= 1
    assert doc["tokens"] == (len(doc["system"]) + len(doc["prompt"]) + 3) // 4
    plain = cli("--as", "cmd-1", "prime")
    assert plain.code == 0 and plain.out.startswith("# System\n\n" + doc["system"])
    assert plain.out == f"# System\n\n{doc['system']}\n\n# Context\n\n{doc['prompt']}\n"

    [record] = tick_json(cli, "cmd-1")
    assert record["outcome"] == "worked"
    received = (scripts / "cmd-1.stdin").read_text(encoding="utf-8")
    minute = re.compile(r"^Time: \S+\.", re.MULTILINE)  # minute resolution: may tick over
    assert minute.sub("Time: T.", received) == minute.sub(
        "Time: T.", compose(doc["system"], doc["prompt"])
    )
    assert record["prompt_tokens"] == doc["tokens"]
    assert "mind the edge cases" in received and "The config parser lives in config.py" in received
    assert calls(scripts, "cmd-1") == [f"cmd-1 {task}"], "AGENTCTL_AGENT and AGENTCTL_TASK are set"


def test_prime_and_heartbeat_refuse_unknown_agents(
    ws_root: Path, team: list[str], cli: Runner
) -> None:
    assert_one_line_error(cli("prime", "--agent", "nobody"), 3, "no agent named 'nobody'")
    assert_one_line_error(cli("heartbeat", "nobody"), 3, "no agent named 'nobody'")
    assert_one_line_error(cli("heartbeat", "../etc"), 2, "invalid agent name")
    assert_one_line_error(cli("prime", "--agent", "../etc"), 2, "invalid agent name")
    assert_one_line_error(cli("heartbeat"), 2, "say which agent")
    assert_one_line_error(cli("heartbeat", "dev-1", "--all"), 2, "not both")
    assert_one_line_error(cli("prime"), 2, "say which agent")


def test_dry_run_writes_nothing(ws_root: Path, team: list[str], cli: Runner, scripts: Path) -> None:
    marker = scripts / "called"
    argv = script(scripts, "tripwire", f"""
        pathlib.Path({str(marker)!r}).write_text("called", encoding="utf-8")
        print({NOOP!r})
    """)  # fmt: skip
    add_command_agent(cli, "cmd-1", argv)
    add_task(cli, "work for cmd-1", "--assign", "cmd-1")
    add_task(cli, "work for dev-1", "--assign", "dev-1")
    add_task(cli, "inbox work for the lead")
    runs_dir = ws_root / ".agentctl" / "local" / "runs"
    logged = sorted(p.read_bytes() for p in runs_dir.glob("*.jsonl")) if runs_dir.is_dir() else []
    files, git_before = snapshot(ws_root), git_state(ws_root)

    [record] = tick_json(cli, "cmd-1", "--dry-run")
    assert record["outcome"] == "would_work" and record["prompt_tokens"] > 0
    records = tick_json(cli, "--all", "--dry-run")
    assert {r["agent"]: r["outcome"] for r in records} == {
        "cmd-1": "would_work", "dev-1": "would_work", "dev-2": "idle", "intern-1": "idle", "lead-1": "would_work",
    }  # fmt: skip
    plain = cli("heartbeat", "dev-1", "-n")
    assert plain.code == 0 and "would_work" in plain.out and "prompt ≈" in plain.out

    assert not marker.exists()
    assert snapshot(ws_root) == files and git_state(ws_root) == git_before
    assert (
        sorted(p.read_bytes() for p in runs_dir.glob("*.jsonl")) if runs_dir.is_dir() else []
    ) == logged
    assert status_clean(ws_root)


def test_heartbeat_all_ticks_everyone_in_name_order(
    ws_root: Path, team: list[str], cli: Runner
) -> None:
    records = tick_json(cli, "--all")
    assert [r["agent"] for r in records] == ["dev-1", "dev-2", "intern-1", "lead-1"]
    assert {r["outcome"] for r in records} == {"idle"}
    plain = cli("heartbeat", "--all")
    assert plain.code == 0 and len(plain.out.splitlines()) == 4


def test_a_workspace_lock_timeout_mid_tick_is_a_clean_error(
    ws_root: Path, team: list[str], cli: Runner, run_proc: Runner
) -> None:
    """The tick's own run lock must not swallow (or garble) the workspace lock's timeout."""
    from agentctl.paths import Layout
    from agentctl.store import locks

    add_task(cli, "work", "--assign", "dev-1")
    with locks.hold(Layout(ws_root).lock, 0):
        result = run_proc("heartbeat", "dev-1", env={"AGENTCTL_LOCK_TIMEOUT": "0.3"})
    assert_one_line_error(result, 8, "could not take the workspace lock")
    # the run lock was released: the next tick works
    [record] = tick_json(cli, "dev-1")
    assert record["outcome"] == "worked"


def test_runs_reads_only_the_end_of_a_long_run_log(
    ws_root: Path, team: list[str], cli: Runner
) -> None:
    log = ws_root / ".agentctl" / "local" / "runs" / "dev-1.jsonl"
    log.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        json.dumps(
            {
                "agent": "dev-1",
                "started": f"2026-01-01T00:00:{i % 60:02d}Z",
                "outcome": "idle",
                "n": i,
            }
        )
        for i in range(60_000)
    ]
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    last = runs(cli, "dev-1", limit=3)
    assert [r["n"] for r in last] == [59_997, 59_998, 59_999]
    assert len(runs(cli, "dev-1", limit=500)) == 500


def test_a_command_agents_own_agentctl_calls_are_attributed_and_permission_checked(
    ws_root: Path, team: list[str], cli: Runner, scripts: Path
) -> None:
    """The child gets AGENTCTL_AGENT/AGENTCTL_TASK: its own `agentctl` calls act as the agent."""
    out = scripts / "child.out"
    argv = script(scripts, "coder", f"""
        import subprocess
        sys.stdin.read()
        task = os.environ["AGENTCTL_TASK"]
        def agentctl(*args):
            proc = subprocess.run([sys.executable, "-m", "agentctl", *args], capture_output=True, text=True)
            return f"{{proc.returncode}} {{(proc.stderr.strip().splitlines() or [''])[0]}}"
        results = [
            agentctl("task", "move", task, "in_progress"),
            agentctl("agent", "edit", "dev-1", "--level", "lead"),
            agentctl("task", "move", task, "done"),
        ]
        pathlib.Path({str(out)!r}).write_text("\\n".join(results), encoding="utf-8")
        print("Moved the task to in progress; I could not do more.")
    """)  # fmt: skip
    add_command_agent(cli, "coder-1", argv)
    task = add_task(cli, "code it", "--assign", "coder-1")
    agent_file = (ws_root / ".agentctl" / "agents" / "dev-1.md").read_bytes()

    [record] = tick_json(cli, "coder-1")
    assert record["outcome"] == "worked", record
    moved, edit, done = out.read_text(encoding="utf-8").splitlines()
    assert moved == "0 "
    assert edit.startswith("7 agentctl: error: coder-1 (specialist) may not edit agents"), edit
    assert done.startswith(
        "7 agentctl: error: coder-1 (specialist) may not move a task to done without review"
    ), done
    assert (ws_root / ".agentctl" / "agents" / "dev-1.md").read_bytes() == agent_file
    shown = cli("task", "show", task, "--json").json()["task"]
    assert shown["status"] == "in_progress"
    [message] = thread(cli, task)  # prose output: posted as the agent's progress note
    assert (message["author"], message["kind"]) == ("coder-1", "status_update")
    assert message["body"].strip() == "Moved the task to in progress; I could not do more."
    authors = [c.author for c in commits(ws_root)[:2]]
    assert authors == ["coder-1", "coder-1"], "the child's own move, then the tick"


def test_work_in_progress_is_not_hidden_behind_many_waiting_tasks(
    ws_root: Path, team: list[str], cli: Runner
) -> None:
    """An agent with 40 urgent assigned tasks that all wait for a dependency still sees (and
    works on) its less urgent task in progress, and a ready assigned task."""
    from agentctl.core.rules import Actor

    blocker = add_task(cli, "the blocker", "--assign", "dev-2")
    current = add_task(cli, "current work", "--assign", "dev-1", "--priority", "3")
    ready = add_task(cli, "ready later work", "--assign", "dev-1", "--priority", "2")
    assert cli("--as", "dev-1", "task", "claim", current).code == 0
    ws = Workspace(ws_root)
    try:
        for i in range(40):
            ws.add_task(
                Actor("Test User"),
                f"waiting {i}",
                priority=0,
                assignees=["dev-1"],
                depends_on=[blocker],
            )
    finally:
        ws.close()
    work = library_collect(ws_root, "dev-1")
    assert {t["id"] for t in work.tasks} == {current, ready}
