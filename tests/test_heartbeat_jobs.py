"""Rounds of heartbeats with several ticks at once (``heartbeat --all --jobs N``) and the limit
of ``agentctl run``: real tick processes, real command agents (small Python scripts that wait
like a model call and print an answer), real git.

Each agent script notes when its "model call" started and ended, so overlap is read from
those times, never asserted as a wall-clock duration.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import Runner, add_task, git, make_team
from helpers_heartbeat import add_command_agent, commits, runs, script, status_clean, thread

from agentctl.core.schedule import Schedule
from agentctl.heartbeat import scheduler as loop
from agentctl.heartbeat.parallel import default_jobs
from agentctl.workspace import Workspace

WAIT = 60.0  # upper bound for anything a test waits for; never a performance assertion


@pytest.fixture
def scripts(tmp_path: Path) -> Path:
    path = tmp_path / "scripts"
    path.mkdir()
    return path


def timed_agent(
    cli: Runner, name: str, scripts: Path, delay: float = 1.0, meet: tuple[str, ...] = ()
) -> Path:
    """A command agent that notes ``start``/``end`` times around its "model call" in
    ``scripts/<name>.times`` and prints ``scripts/<name>.answer``. The call waits until every
    agent in ``meet`` has started its own (at most WAIT seconds: ticks that cannot run at once
    never meet), then ``delay`` seconds; with ``delay`` 0 it waits for ``<name>.release``."""
    argv = script(
        scripts,
        f"timed-{name}",
        f"""
        base = pathlib.Path({str(scripts)!r})
        sys.stdin.read()
        def note(what):
            with open(base / "{name}.times", "a", encoding="utf-8") as fh:
                fh.write(f"{{what}} {{time.time()}}\\n")
        note("start")
        (base / "{name}.ppid").write_text(str(os.getppid()), encoding="utf-8")
        deadline = time.time() + {WAIT!r}
        while time.time() < deadline and not all((base / f"{{o}}.times").exists() for o in {list(meet)!r}):
            time.sleep(0.02)
        release = base / "{name}.release"
        if release.exists() or {delay!r} > 0:
            time.sleep({delay!r})
        else:
            deadline = time.time() + {WAIT!r}
            while not release.exists() and time.time() < deadline:
                time.sleep(0.02)
        note("end")
        sys.stdout.write((base / "{name}.answer").read_text(encoding="utf-8"))
        """,
    )
    add_command_agent(cli, name, argv)
    answer = scripts / f"{name}.answer"
    answer.write_text('{"actions": [{"type": "noop", "reason": "nothing"}]}', encoding="utf-8")
    return answer


def times(scripts: Path, name: str) -> dict[str, float]:
    lines = (scripts / f"{name}.times").read_text(encoding="utf-8").split("\n")
    return {what: float(value) for what, value in (line.split() for line in lines if line)}


def actions(*items: dict[str, Any]) -> str:
    return json.dumps({"actions": list(items)})


def round_json(cli: Runner, *args: str, code: int = 0) -> list[dict[str, Any]]:
    result = cli("heartbeat", "--all", *args, "--json")
    assert result.code == code, str(result)
    return list(result.json()["runs"])


def test_default_jobs_is_two_per_core_from_two_to_eight() -> None:
    assert [default_jobs(cpus) for cpus in (1, 2, 3, 4, 16)] == [2, 4, 6, 8, 8]
    assert 2 <= default_jobs() <= 8


def test_jobs_must_be_a_positive_number(ws_root: Path, cli: Runner) -> None:
    result = cli("heartbeat", "--all", "--jobs", "0")
    assert result.code == 2 and "--jobs" in result.err, str(result)
    result = cli("heartbeat", "--all", env={"AGENTCTL_JOBS": "many"})
    assert result.code == 2 and "--jobs" in result.err, str(result)


# -- rounds of real tick processes -----------------------------------------------------------


@pytest.mark.slow
def test_ticks_of_a_round_overlap_and_commit_everything(
    git_ws_root: Path, cli: Runner, scripts: Path
) -> None:
    """Six agents whose model calls wait for each other tick at once (the workspace lock is not
    held while they wait); every mutation is committed, once per tick, and git is left clean."""
    root = git_ws_root
    names = [f"dev-{i}" for i in range(6)]
    tasks = {}
    for name in names:
        answer = timed_agent(cli, name, scripts, delay=0.2, meet=tuple(names))
        tasks[name] = add_task(cli, f"work of {name}", "--assign", name)
        answer.write_text(
            actions(
                {"type": "comment", "task": tasks[name], "text": f"{name} was here"},
                {"type": "remember", "text": f"{name} remembers"},
            ),
            encoding="utf-8",
        )
    before = len(commits(root))

    records = round_json(cli, "--jobs", "6")

    assert [r["agent"] for r in records] == names
    assert [(r["outcome"], r["applied"], r["rejected"]) for r in records] == [("worked", 2, 0)] * 6
    spans = [times(scripts, name) for name in names]
    assert max(s["start"] for s in spans) < min(s["end"] for s in spans), "the calls overlapped"
    # what each tick printed is what it logged
    logged = {r["agent"]: r for r in runs(cli)}
    assert all(logged[r["agent"]] == r for r in records)
    # every mutation committed, one commit per tick, by its agent; nothing left over
    assert status_clean(root), git(root, "status", "--porcelain")
    fresh = commits(root)[: len(commits(root)) - before]
    assert sorted(c.author for c in fresh) == names, [c.subject for c in fresh]
    assert all(c.subject.startswith(f"agentctl: heartbeat of {c.author}") for c in fresh)
    for name in names:
        assert [m["body"].strip() for m in thread(cli, tasks[name])][-1] == f"{name} was here"
    assert not list((root / ".agentctl" / "local" / "journal").glob("j-*"))
    assert cli("validate").code == 0


@pytest.mark.slow
def test_two_agents_racing_for_a_task_one_wins_the_other_is_rejected(
    git_ws_root: Path, cli: Runner, scripts: Path
) -> None:
    root = git_ws_root
    prize = add_task(cli, "the one task both want")
    for name in ("dev-a", "dev-b"):
        answer = timed_agent(cli, name, scripts, delay=0.2, meet=("dev-a", "dev-b"))
        add_task(cli, f"something for {name}", "--assign", name)  # so both have work
        answer.write_text(actions({"type": "claim", "task": prize}), encoding="utf-8")

    result = cli("heartbeat", "--all", "--jobs", "2")
    assert result.code == 0, str(result)
    records = {r["agent"]: r for r in runs(cli)}
    spans = [times(scripts, name) for name in ("dev-a", "dev-b")]
    assert max(s["start"] for s in spans) < min(s["end"] for s in spans), "both decided at once"

    task = cli("task", "show", prize, "--json").json()["task"]
    winner = task["claim"]["claimed_by"]
    loser = "dev-b" if winner == "dev-a" else "dev-a"
    assert task["assignees"] == [winner] and task["status"] == "in_progress"
    assert (records[winner]["applied"], records[winner]["rejected"]) == (1, 0)
    lost = records[loser]
    assert (lost["outcome"], lost["applied"], lost["rejected"]) == ("worked", 0, 1)
    [rejection] = lost["rejections"]
    assert rejection["action"] == f"claim({prize})"
    assert rejection["reason"].startswith(f"{prize} is claimed by {winner} until "), rejection
    lines = result.out.splitlines()
    assert [line.split()[1] for line in lines] == ["dev-a:", "dev-b:"]
    assert f"{loser}: worked · 0 applied, 1 rejected" in result.out
    assert (
        f"Rejected {loser}'s action claim({prize}): {prize} is claimed by {winner}"
        in (thread(cli, prize)[-1]["body"])
    )
    assert status_clean(root), git(root, "status", "--porcelain")


@pytest.mark.slow
def test_a_killed_tick_is_a_failed_record_and_the_round_goes_on(
    ws_root: Path, cli: Runner, scripts: Path
) -> None:
    root = ws_root
    for name in ("dev-a", "dev-b", "dev-c"):
        timed_agent(cli, name, scripts, delay=0.0 if name == "dev-b" else 0.5)
        add_task(cli, f"something for {name}", "--assign", name)
    # unsandboxed, so its script's parent is the tick process itself
    assert cli("agent", "edit", "dev-b", "--sandbox", "none").code == 0
    proc = start_round(root, "--jobs", "3", "--json")
    try:
        os.kill(tick_process_of(scripts, "dev-b", proc), signal.SIGKILL)
        (scripts / "dev-b.release").touch()  # let the orphaned script end
        out, err = proc.communicate(timeout=WAIT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 11, (out, err)
    records = {r["agent"]: r for r in json.loads(out)["runs"]}
    assert records["dev-a"]["outcome"] == records["dev-c"]["outcome"] == "worked"
    killed = records["dev-b"]
    assert killed["outcome"] == "failed"
    assert killed["error"].startswith("the tick process was killed by SIGKILL"), killed
    assert "agentctl: error: dev-b: the tick process was killed by SIGKILL" in err
    assert [r["outcome"] for r in runs(cli, "dev-b")] == ["failed"]  # logged for it
    # its run lock died with it: the next tick works
    again = cli("heartbeat", "dev-b", "--json")
    assert again.code == 0 and again.json()["runs"][0]["outcome"] == "worked", str(again)


def start_round(root: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "agentctl", "heartbeat", "--all", *args],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def tick_process_of(scripts: Path, name: str, proc: subprocess.Popen[str]) -> int:
    """The pid of ``name``'s tick process, once its (unsandboxed) script has started."""
    ppid = scripts / f"{name}.ppid"
    deadline = time.monotonic() + WAIT
    while not ppid.exists() or not ppid.read_text():
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.02)
    return int(ppid.read_text())


def gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state == "Z"


@pytest.mark.slow
def test_interrupting_a_round_interrupts_its_ticks(
    ws_root: Path, cli: Runner, scripts: Path
) -> None:
    for name in ("dev-a", "dev-b"):
        timed_agent(cli, name, scripts, delay=0.0 if name == "dev-b" else 0.2)
        add_task(cli, f"something for {name}", "--assign", name)
    assert cli("agent", "edit", "dev-b", "--sandbox", "none").code == 0
    proc = start_round(ws_root, "--jobs", "2")
    try:
        pid = tick_process_of(scripts, "dev-b", proc)
        proc.send_signal(signal.SIGINT)  # the round only, as `kill -INT` would
        out, err = proc.communicate(timeout=WAIT)
    finally:
        (scripts / "dev-b.release").touch()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, (out, err)  # as for an interrupted single tick
    assert "Traceback" not in err and "Error" not in err, err
    deadline = time.monotonic() + WAIT
    while not gone(pid):
        assert time.monotonic() < deadline, "the tick outlived the round"
        time.sleep(0.05)
    again = cli("heartbeat", "dev-b", "--json")  # its run lock was released
    assert again.code == 0 and again.json()["runs"][0]["outcome"] == "worked", str(again)


@pytest.mark.slow
def test_a_parallel_round_skips_an_agent_whose_tick_runs_and_keeps_name_order(
    ws_root: Path, cli: Runner
) -> None:
    make_team(cli)
    add_task(cli, "work", "--assign", "dev-1")
    ws = Workspace(ws_root)
    try:
        with ws.run_lock("dev-2"):  # held by this process: the round's tick process sees it
            records = round_json(cli, "--jobs", "3")
    finally:
        ws.close()
    assert [r["agent"] for r in records] == ["dev-1", "dev-2", "intern-1", "lead-1"]
    outcomes = {r["agent"]: r["outcome"] for r in records}
    assert outcomes == {"dev-1": "worked", "dev-2": "skipped", "intern-1": "idle",
                        "lead-1": "idle"}  # fmt: skip
    assert records[1]["reason"] == "a previous tick of this agent is still running"
    plain = cli("heartbeat", "--all", "--jobs", "4", "--dry-run")
    assert plain.code == 0, str(plain)
    assert [line.split()[1] for line in plain.out.splitlines()] == [
        "dev-1:", "dev-2:", "intern-1:", "lead-1:",
    ]  # fmt: skip
    # with the default (no AGENTCTL_JOBS) the round runs in parallel too, same records
    default = cli("heartbeat", "--all", "--dry-run", "--json", env={"AGENTCTL_JOBS": None})
    assert default.code == 0, str(default)
    assert [r["outcome"] for r in default.json()["runs"]] == [
        "would_work", "idle", "idle", "idle",
    ]  # fmt: skip


# -- agentctl run's limit ----------------------------------------------------------------------

BLOCKING_TICK = """
import os, sys, time
record, release, agent = sys.argv[1:4]
def note(what):
    with open(record, "a", encoding="utf-8") as fh:
        fh.write(f"{what} {agent}\\n")
note("start")
deadline = time.time() + 60
while not os.path.exists(release) and time.time() < deadline:
    time.sleep(0.02)
note("end")
print(f"{agent}: done", flush=True)
"""


@pytest.mark.slow
def test_run_starts_at_most_jobs_ticks_and_queues_the_rest(tmp_path: Path) -> None:
    program, record, release = tmp_path / "tick.py", tmp_path / "record", tmp_path / "release"
    program.write_text(BLOCKING_TICK, encoding="utf-8")

    def argv(agent: str) -> list[str]:
        return [sys.executable, str(program), str(record), str(release), agent]

    def lines() -> list[str]:
        return record.read_text(encoding="utf-8").splitlines() if record.exists() else []

    reports: list[loop.TickResult] = []
    schedules = [Schedule(agent, 3600) for agent in ("a", "b", "c", "d")]
    scheduler = loop.Scheduler(
        schedules, argv, tmp_path / "logs", reports.append, max_ticks=4, tick_now=True, jobs=2
    )
    runner = threading.Thread(target=scheduler.run)
    runner.start()
    try:
        deadline = time.monotonic() + WAIT
        while len(lines()) < 2:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        time.sleep(0.5)
        assert [line.split()[0] for line in lines()] == ["start", "start"]  # two wait
    finally:
        release.touch()
        runner.join(WAIT)
    assert not runner.is_alive()
    assert sorted(r.agent for r in reports) == ["a", "b", "c", "d"]
    assert {r.outcome for r in reports} == {"ok"}  # waited, not skipped
    running, most = 0, 0
    for line in lines():
        running += 1 if line.startswith("start") else -1
        most = max(most, running)
    assert most == 2


# -- containment while other ticks write -------------------------------------------------------


def test_a_log_another_tick_starts_during_a_window_is_not_tampering(
    ws_root: Path, cli: Runner
) -> None:
    """A command agent's containment window sees other ticks' mutations (they run at once in a
    round): a log one of them creates (an agent's first inbox line) is theirs, not the child's;
    a log the child creates itself is still removed."""
    import json as _json

    from agentctl.heartbeat import contain
    from agentctl.store import atomic
    from agentctl.workspace import containment

    make_team(cli)
    task = add_task(cli, "work", "--assign", "dev-1")
    ws = Workspace(ws_root)
    try:
        layout = ws.layout
        containment.run_dir(layout).mkdir(parents=True, exist_ok=True)
        journal = containment.journal_path(layout, "dev-1")
        atomic.write_text(journal, "")
        window = {"agent": "dev-1", "tick_pid": os.getpid()}
        atomic.write_text(containment.window_path(layout, "dev-1"), _json.dumps(window) + "\n")
        taken = contain.snapshot(layout)
        assert not layout.inbox_file("dev-2").exists()
        message = ws.comment(ws.actor("lead-1"), task, "@dev-2 have a look")
        [note] = [n for n in ws.inbox(ws.actor("dev-2"))["notifications"] if n["task"] == task]
        ws.mark_delivered(ws.actor("dev-2"), [note["id"]], "dev-2")  # another tick's write
        assert message and layout.inbox_file("dev-2").exists()
        forged = layout.inbox_file("intern-1")
        forged.write_text('{"ts":"2026-01-01T00:00:00.000Z","read":["e-x"]}\n', encoding="utf-8")
        findings = contain.compare(layout, taken, journal)
    finally:
        ws.close()
    assert findings.reverted == [layout.relative(forged)]
    assert findings.restore == {forged: None}


# -- git's index lock while other ticks commit -------------------------------------------------


def test_a_slow_commit_of_a_live_agentctl_is_waited_for_not_called_stale(
    git_ws_root: Path,
) -> None:
    """On a loaded machine another tick's commit can hold index.lock for longer than the
    staleness limit; a lock held by a running agentctl is waited for. Git's own is not."""
    from agentctl import vcs
    from agentctl.errors import GitError
    from agentctl.store.journal import owner_marker

    repo = vcs.find_repo(git_ws_root)
    assert repo is not None
    lock = git_ws_root / ".git" / "index.lock"
    held = vcs._INDEX_LOCK_STALE_AFTER * 2

    def hold_for_a_while() -> None:
        time.sleep(held)
        lock.unlink()

    lock.write_text(owner_marker(), encoding="ascii")  # this process: alive
    holder = threading.Thread(target=hold_for_a_while)
    holder.start()
    started = time.monotonic()
    repo.check_index_unlocked()
    (git_ws_root / "note.md").write_text("after the other commit\n", encoding="utf-8")
    assert repo.commit_paths([git_ws_root / "note.md"], "waited") is not None
    holder.join()
    assert time.monotonic() - started >= held * 0.9

    lock.write_text("", encoding="ascii")  # git's own lock (no marker): stale after the limit
    try:
        with pytest.raises(GitError, match="index.lock"):
            repo.check_index_unlocked()
    finally:
        lock.unlink()


def test_the_fork_server_builds_the_action_schema_once_for_every_tick() -> None:
    """The last module the fork server preloads builds the action models' validator and
    schema, so forked ticks share them instead of each building its own (pydantic, ~0.25 s
    of CPU a tick)."""
    from agentctl.heartbeat import parallel

    assert parallel.PRELOAD[-1] == "agentctl.heartbeat.warm"
    import agentctl.heartbeat.warm  # noqa: F401
    from agentctl.core import actions

    assert actions._ADAPTER is not None and actions._ANSWER_SCHEMA is not None
    schema = actions.answer_schema()
    schema["$defs"].clear()  # a caller's copy: the shared one is untouched
    assert actions.answer_schema()["$defs"]
