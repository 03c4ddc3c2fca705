"""The workspace lock is first come, first served: writers that queue behind a holder get the
lock in the order they arrived (a polling or racing waiter would overtake), a waiter that
gives up or dies does not block the line, and 16 real CLI writers all get their turn."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers_proc import isolate, new_workspace, run_cli, run_json

from agentctl.errors import LockTimeoutError
from agentctl.store import locks

HELPER = str(Path(__file__).with_name("helpers_proc.py"))

WAITER = """
import sys, time
from pathlib import Path
from agentctl.store import locks
lock, log, name, ready, hold_for = sys.argv[1:]
Path(ready).write_text("ready")
with locks.hold(Path(lock), 120):
    with open(log, "a") as out:
        out.write(name + "\\n")
    time.sleep(float(hold_for))
"""


def _spawn_waiter(
    lock: Path, log: Path, name: str, tmp: Path, hold_for: float = 0.02
) -> subprocess.Popen[str]:
    ready = tmp / f"{name}.ready"
    proc = subprocess.Popen(
        [sys.executable, "-c", WAITER, str(lock), str(log), name, str(ready), str(hold_for)],
        text=True,
    )
    deadline = time.monotonic() + 60
    while not ready.exists():
        assert proc.poll() is None, f"waiter {name} exited early"
        assert time.monotonic() < deadline, f"waiter {name} never started"
        time.sleep(0.01)
    time.sleep(0.4)  # from "ready" to waiting in the queue is microseconds; leave room for load
    return proc


@pytest.mark.slow
def test_waiters_get_the_lock_in_arrival_order(tmp_path: Path) -> None:
    lock = tmp_path / "local" / "workspace.lock"
    log = tmp_path / "order.log"
    names = [f"w{i}" for i in range(8)]
    with locks.hold(lock, 5):
        procs = [_spawn_waiter(lock, log, name, tmp_path) for name in names]
    for proc in procs:
        assert proc.wait(timeout=120) == 0
    assert log.read_text().split() == names


@pytest.mark.slow
def test_a_killed_waiter_does_not_block_the_line(tmp_path: Path) -> None:
    lock = tmp_path / "local" / "workspace.lock"
    log = tmp_path / "order.log"
    with locks.hold(lock, 5):
        first = _spawn_waiter(lock, log, "first", tmp_path)
        doomed = _spawn_waiter(lock, log, "doomed", tmp_path)
        last = _spawn_waiter(lock, log, "last", tmp_path)
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(timeout=30)
    assert first.wait(timeout=60) == 0
    assert last.wait(timeout=60) == 0
    assert log.read_text().split() == ["first", "last"]
    queue = lock.with_name(lock.name + ".queue")
    assert [n for n in os.listdir(queue) if not n.startswith(".")] == []


@pytest.mark.slow
def test_a_moving_queue_longer_than_the_timeout_is_waited_out(tmp_path: Path) -> None:
    """Six writers holding 0.5 s each behind a 1 s timeout: the last waits ~3 s, but the
    queue moves every 0.5 s, so nobody gives up."""
    lock = tmp_path / "local" / "workspace.lock"
    log = tmp_path / "order.log"
    go = tmp_path / "go"
    script = WAITER.replace("locks.hold(Path(lock), 120)", "locks.hold(Path(lock), 1.0)").replace(
        'Path(ready).write_text("ready")',
        'Path(ready).write_text("ready")\nwhile not Path(ready).with_name("go").exists(): time.sleep(0.001)',
    )
    procs = []
    for i in range(6):
        ready = tmp_path / f"m{i}.ready"
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", script, str(lock), str(log), f"m{i}", str(ready), "0.5"]
            )
        )
        while not ready.exists():
            time.sleep(0.01)
    go.write_text("go")
    started = time.monotonic()
    assert [proc.wait(timeout=120) for proc in procs] == [0] * 6
    assert time.monotonic() - started > 2.5  # the queue really was longer than the timeout
    assert sorted(log.read_text().split()) == [f"m{i}" for i in range(6)]


def test_behind_a_stuck_holder_every_waiter_gives_up_after_one_timeout(tmp_path: Path) -> None:
    import threading

    lock = tmp_path / "workspace.lock"
    ended: dict[int, float] = {}

    def waiter(n: int) -> None:
        with pytest.raises(LockTimeoutError), locks.hold(lock, 1.0):
            pass
        ended[n] = time.monotonic()

    with locks.hold(lock, 5):
        started = time.monotonic()
        threads = [threading.Thread(target=waiter, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
            time.sleep(0.05)
        for thread in threads:
            thread.join(timeout=30)
    assert sorted(ended) == [0, 1, 2, 3]
    assert max(ended.values()) - started < 3.5, (
        "the wait does not add up one timeout per waiter ahead"
    )


def test_a_timed_out_waiter_leaves_the_queue_and_the_lock_free(tmp_path: Path) -> None:
    lock = tmp_path / "workspace.lock"
    with locks.hold(lock, 5):
        started = time.monotonic()
        with pytest.raises(LockTimeoutError), locks.hold(lock, 0.2):
            pass
        assert time.monotonic() - started < 5
        with locks.try_hold(lock) as taken:
            assert not taken
    queue = lock.with_name(lock.name + ".queue")
    assert [n for n in os.listdir(queue) if not n.startswith(".")] == []
    with locks.hold(lock, 0.5), locks.try_hold(lock) as taken:
        assert not taken
    with locks.try_hold(lock) as taken:
        assert taken


def test_the_timeout_is_honoured_outside_the_main_thread(tmp_path: Path) -> None:
    import threading

    lock = tmp_path / "workspace.lock"
    outcome: list[str] = []

    def contender() -> None:
        try:
            with locks.hold(lock, 0.2):
                outcome.append("taken")
        except LockTimeoutError:
            outcome.append("timeout")

    with locks.hold(lock, 5):
        thread = threading.Thread(target=contender)
        thread.start()
        thread.join(timeout=10)
    assert outcome == ["timeout"]
    thread = threading.Thread(target=contender)
    thread.start()
    thread.join(timeout=10)
    assert outcome == ["timeout", "taken"]


WRITERS = 16
STEPS = 30


@pytest.mark.slow
def test_sixteen_cli_writers_all_get_their_turn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    isolate(monkeypatch, tmp_path / "home")
    # Generous: the point is no lost update and no writer starved, not a latency target.
    monkeypatch.setenv("AGENTCTL_LOCK_TIMEOUT", "300")
    root = new_workspace(tmp_path / "repo")
    own: list[str] = []
    for i in range(WRITERS):
        run_cli(root, "agent", "add", f"a{i}", "--role", "dev")
        own.append(run_json(root, "task", "add", f"p{i} own")["task"]["id"])
        run_cli(root, "task", "move", own[-1], "in_progress")
    shared = run_json(root, "task", "add", "shared counter")["task"]["id"]
    logs = [tmp_path / f"worker-{i}.jsonl" for i in range(WRITERS)]
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
            text=True,
        )
        for i in range(WRITERS)
    ]
    for worker in workers:
        assert worker.wait(timeout=3600) == 0
    records = [json.loads(line) for log in logs for line in log.read_text().splitlines()]
    assert len(records) == WRITERS * STEPS
    failures = [r for r in records if r["rc"] != 0]
    assert not failures, failures[:5]
    tasks = {t["id"]: t for t in run_json(root, "task", "list", "--all")["tasks"]}
    added = [r["id"] for r in records if r["op"] == "add"]
    assert len(set(added)) == len(added) and set(added) <= set(tasks)
    expected_labels = {f"p{i}-{j}" for i in range(WRITERS) for j in range(STEPS) if j % 6 == 4}
    assert set(tasks[shared]["labels"]) == expected_labels
