"""Claims won by push (``task claim --sync``) and the fencing epoch, with real git.

Clones race for one task through a bare remote; a claim is won only by the push that lands
first, the losers' claims are withdrawn (never rebased over the winner's), and a claimant
whose claim was taken over can no longer move or release the task.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import run_cli
from test_sync import Clone, assert_clean, make_world

from agentctl.core import clock
from agentctl.errors import ExitCode

AGENTS = ("alice", "bob", "carol")


def claim_events(clone: Clone, task: str) -> list[dict[str, object]]:
    found = []
    for path in sorted((clone.root / ".agentctl" / "events").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            event = json.loads(line)
            if event["type"] == "task.claimed" and event["subject"] == task:
                found.append(event)
    return found


def claim_argv(clone: Clone, agent: str, task: str) -> list[str]:
    return [
        sys.executable, "-m", "agentctl", "-W", str(clone.root), "--as", agent,
        "task", "claim", task, "--sync",
    ]  # fmt: skip


def _push_hook(clone: Clone, script: str) -> None:
    """A pre-push hook that runs ``script`` once (before the first push only)."""
    marker = clone.root / ".git" / "hook-ran"
    hook = clone.root / ".git" / "hooks" / "pre-push"
    hook.write_text(
        f"#!/bin/sh\nif [ ! -e '{marker}' ]; then touch '{marker}'; "
        f"(unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE; {script}); fi\nexit 0\n",
        encoding="utf-8",
    )
    hook.chmod(0o755)


def test_claim_sync_wins_when_alone(tmp_path: Path) -> None:
    a, b = make_world(tmp_path)
    task = a.add_task("Alone")
    a.sync()
    result = b.ok("--as", "bob", "task", "claim", task, "--sync", "--json")
    assert result.json()["task"]["claim"]["claimed_by"] == "bob"
    assert b.git("rev-parse", "origin/main") == b.git("rev-parse", "HEAD")
    a.sync()
    assert a.json("task", "show", task)["task"]["claim"]["claimed_by"] == "bob"
    assert len(claim_events(a, task)) == 1


def test_a_claim_that_lands_second_is_withdrawn_naming_the_winner(tmp_path: Path) -> None:
    """B claims without having seen A's claim; A's push lands while B pushes (a hook on B's
    push pushes A first): B's push is rejected, and B withdraws its claim."""
    a, b = make_world(tmp_path)
    task = a.add_task("Contested")
    a.sync()
    b.sync()
    a.ok("--as", "alice", "task", "claim", task)  # committed on A, not pushed yet
    _push_hook(b, f"cd '{a.root}' && git push -q origin main")
    result = b.run("--as", "bob", "task", "claim", task, "--sync")
    assert result.code == ExitCode.CONFLICT, str(result)
    assert result.err == (
        f"agentctl: error: {task} was claimed first by alice (epoch 1); your claim was withdrawn\n"
    )
    assert b.git("rev-parse", "HEAD") == b.git("rev-parse", "origin/main")
    shown = b.json("task", "show", task)["task"]
    assert shown["claim"]["claimed_by"] == "alice" and shown["assignees"] == ["alice"]
    assert [e["actor"] for e in claim_events(b, task)] == ["alice"]
    assert "bob" not in b.git("log", "--format=%an", "origin/main")
    assert_clean(b)
    a.sync()
    assert_clean(a)


def test_a_claim_rejected_for_unrelated_work_is_rebased_and_pushed(tmp_path: Path) -> None:
    a, b = make_world(tmp_path)
    task = a.add_task("Mine to take")
    a.sync()
    b.sync()
    other = a.add_task("Unrelated, pushed while B claims")
    _push_hook(b, f"cd '{a.root}' && git push -q origin main")
    claimed = b.ok("--as", "bob", "task", "claim", task, "--sync", "--json").json()["task"]
    assert claimed["claim"]["claimed_by"] == "bob"
    assert b.git("rev-parse", "HEAD") == b.git("rev-parse", "origin/main")
    a.sync()
    for clone in (a, b):
        assert clone.json("task", "show", task)["task"]["claim"]["claimed_by"] == "bob"
        assert other in clone.task_ids()
        assert len(claim_events(clone, task)) == 1
        assert_clean(clone)


def test_a_claim_pushed_by_a_killed_process_is_not_applied_twice(tmp_path: Path) -> None:
    """The remote accepts the push, then the claiming process is killed (a hook on the remote
    kills it): its reply is lost. The next sync neither pushes nor records the claim again."""
    a, b = make_world(tmp_path)
    task = a.add_task("Pushed, then the claimer died")
    a.sync()
    b.sync()
    pid_file = tmp_path / "claimer.pid"
    hook = tmp_path / "remote.git" / "hooks" / "post-receive"
    hook.write_text(
        f"#!/bin/sh\ncat >/dev/null\n[ -s '{pid_file}' ] && kill -9 $(cat '{pid_file}')\nexit 0\n",
        encoding="utf-8",
    )
    hook.chmod(0o755)
    before = b.git("rev-parse", "origin/main").strip()
    proc = subprocess.Popen(claim_argv(b, "bob", task), cwd=b.root)
    pid_file.write_text(str(proc.pid), encoding="ascii")
    assert proc.wait(120) == -signal.SIGKILL
    hook.unlink()
    remote_claims = (
        subprocess.run(
            ["git", "log", "--format=%s", "main"],
            cwd=tmp_path / "remote.git",
            capture_output=True,
            text=True,
            check=True,
        )
        .stdout.strip()
        .splitlines()
    )
    assert sum("claimed" in s for s in remote_claims) == 1
    # The local tracking ref may not have moved (the reply was lost): force that case.
    b.git("update-ref", "refs/remotes/origin/main", before)
    report = b.sync()
    assert report["outgoing"] == 0 and report["incoming"] == 0, report
    a.sync()
    for clone in (a, b):
        assert len(claim_events(clone, task)) == 1
        assert clone.json("task", "show", task)["task"]["claim"]["epoch"] == 1
        assert_clean(clone)


def _race(clones: list[Clone], rounds: int) -> None:
    for number in range(rounds):
        creator = clones[number % len(clones)]
        task = creator.add_task(f"Round {number}")
        creator.sync()
        for clone in clones:
            if clone is not creator:
                clone.sync()
        procs = [
            subprocess.Popen(
                claim_argv(clone, agent, task),
                cwd=clone.root,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for clone, agent in zip(clones, AGENTS, strict=True)
        ]
        outcomes = [(p.wait(300), p.communicate()[1]) for p in procs]
        winners = [agent for agent, (code, _) in zip(AGENTS, outcomes, strict=True) if code == 0]
        assert len(winners) == 1, (number, outcomes)
        winner = winners[0]
        for code, err in outcomes:
            if code != 0:
                assert code == ExitCode.CONFLICT, (number, outcomes)
                assert (
                    f"claimed first by {winner} " in err or f"is claimed by {winner} until" in err
                ), (number, err)
        for clone in clones:
            clone.sync()
            shown = clone.json("task", "show", task)["task"]
            assert shown["claim"]["claimed_by"] == winner
            assert shown["assignees"] == [winner]
            assert [e["actor"] for e in claim_events(clone, task)] == [winner], number
    heads = {clone.git("rev-parse", "HEAD") for clone in clones}
    assert len(heads) == 1
    for clone in clones:
        assert_clean(clone)


@pytest.mark.slow
def test_three_clones_race_for_each_task(tmp_path: Path) -> None:
    _race(make_world(tmp_path, clones=3), rounds=3)


@pytest.mark.slow
def test_three_clones_race_for_fifty_tasks(tmp_path: Path) -> None:
    _race(make_world(tmp_path, clones=3), rounds=50)


# -- the fencing epoch ----------------------------------------------------------------------


@pytest.mark.usefixtures("git_ws_root")
def test_a_stale_claimant_cannot_move_or_release_the_task() -> None:
    for name, level in (("alice", "specialist"), ("bob", "lead")):
        assert run_cli("agent", "add", name, "--role", "dev", "--level", level).code == 0
    added = run_cli("task", "add", "Long job", "--json")
    task = added.json()["task"]["id"]
    assert run_cli("--as", "alice", "task", "claim", task).code == 0
    later = clock.now_seconds() + timedelta(hours=3)  # past alice's 2h lease
    with clock.pinned(later):
        taken = run_cli("--as", "bob", "task", "claim", task, "--json")
        assert taken.code == 0, str(taken)
        assert taken.json()["task"]["claim"]["epoch"] == 2
        for args in (("task", "move", task, "review"), ("task", "release", task)):
            refused = run_cli("--as", "alice", *args)
            assert refused.code == ExitCode.CONFLICT, str(refused)
            assert refused.err.startswith(
                f"agentctl: error: {task}: the claim alice holds (epoch 1) was taken over by "
                "bob (epoch 2): a stale claimant may not change it\n"
            ), refused.err
        # A fencing token presented explicitly: an older epoch is refused for anyone.
        stale = run_cli("--as", "bob", "task", "move", task, "review", "--epoch", "1")
        assert stale.code == ExitCode.CONFLICT and "(epoch 1)" in stale.err
        shown = run_cli("task", "show", task, "--json").json()["task"]
        assert shown["status"] == "in_progress" and shown["claim"]["claimed_by"] == "bob"
        moved = run_cli("--as", "bob", "task", "move", task, "review", "--epoch", "2")
        assert moved.code == 0, str(moved)
    assert run_cli("validate").code == 0


@pytest.mark.usefixtures("git_ws_root")
def test_a_claimant_that_released_is_not_fenced() -> None:
    for name in ("alice", "bob"):
        assert run_cli("agent", "add", name, "--role", "dev", "--level", "lead").code == 0
    task = run_cli("task", "add", "Handed over", "--json").json()["task"]["id"]
    assert run_cli("--as", "alice", "task", "claim", task).code == 0
    assert run_cli("--as", "alice", "task", "release", task).code == 0
    assert run_cli("--as", "bob", "task", "claim", task).code == 0
    # alice (a lead, may move any task) is no longer a claimant: the normal rules apply.
    moved = run_cli("--as", "alice", "task", "move", task, "blocked")
    assert moved.code == 0, str(moved)


def test_a_claim_the_remote_refuses_is_withdrawn(tmp_path: Path) -> None:
    """A push refused outright (here by a hook; a protected branch alike) is exit 9 and leaves
    no local claim behind to be pushed later over someone else's."""
    a, b = make_world(tmp_path)
    task = a.add_task("Refused")
    a.sync()
    b.sync()
    before = b.head()
    hook = b.root / ".git" / "hooks" / "pre-push"
    hook.write_text("#!/bin/sh\necho 'pushes are closed' >&2\nexit 1\n", encoding="utf-8")
    hook.chmod(0o755)
    result = b.run("--as", "bob", "task", "claim", task, "--sync")
    assert result.code == ExitCode.GIT, str(result)
    assert result.err.startswith(
        "agentctl: error: git push to origin main was refused: pushes are closed\n"
    ), result.err
    assert b.head() == before
    shown = b.json("task", "show", task)["task"]
    assert shown.get("claim") is None and shown["status"] == "inbox"
    assert claim_events(b, task) == []
    hook.unlink()
    assert_clean(b)


def test_held_epoch_and_stale_claim_rules() -> None:
    from agentctl.core.fencing import held_epoch, stale_claim

    def claimed(actor: str, epoch: int) -> dict[str, object]:
        return {"type": "task.claimed", "actor": actor, "data": {"epoch": epoch}}

    released = {"type": "task.released", "actor": "lead", "data": {"released": "alice"}}
    assert held_epoch("alice", [claimed("alice", 1), claimed("bob", 2)]) == 1
    assert held_epoch("alice", [claimed("alice", 1), released]) is None
    assert held_epoch("alice", [claimed("alice", 1), released, claimed("alice", 3)]) == 3
    assert held_epoch("carol", [claimed("alice", 1)]) is None
    task = {"id": "t-x", "claim": {"claimed_by": "bob", "epoch": 2}}
    assert stale_claim("alice", task, 1) is not None
    assert stale_claim("alice", task, None) is None  # never claimed it: normal rules
    assert stale_claim("bob", task, 2) is None
    assert stale_claim("bob", task, 2, presented=1) is not None  # an old token of bob's
    assert stale_claim("alice", {"id": "t-x"}, 1) is None  # no claim now: nothing to fence
