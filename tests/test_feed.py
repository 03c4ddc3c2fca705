"""``agentctl feed``: filters, order, JSON, and ``--follow`` as a real process while other real
processes write events (prompt output, no busy wait, clean exit on SIGINT)."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pytest
from conftest import Runner, add_task, assert_one_line_error, make_team

from agentctl.errors import ExitCode
from agentctl.store import events as eventlog

if TYPE_CHECKING:
    from agentctl.core.events import EventType, Payload
    from agentctl.core.records import EventRecord


def feed(cli: Runner, *options: str) -> list[dict[str, Any]]:
    r = cli("feed", *options, "--json")
    assert r.code == 0, str(r)
    document = r.json()
    assert set(document) == {"schema_version", "events"}
    events: list[dict[str, Any]] = document["events"]
    return events


def types(events: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in events]


@pytest.fixture
def busy(ws_root: Path, cli: Runner) -> dict[str, str]:
    """A team, two tasks with some traffic: returns the task IDs."""
    make_team(cli)
    first = add_task(cli, "First", "--assign", "dev-1")
    second = add_task(cli, "Second")
    assert cli("--as", "dev-2", "task", "comment", first, "hello @dev-1").code == 0
    assert cli("--as", "dev-1", "task", "move", first, "in_progress").code == 0
    assert (
        cli("--as", "dev-1", "task", "comment", second, "a question", "--kind", "question").code
        == 0
    )
    assert cli("task", "assign", second, "intern-1").code == 0
    return {"first": first, "second": second}


def write_event(
    root: Path, moment: datetime, actor: str, type_: EventType, subject: str | None, **data: Any
) -> EventRecord:
    """Append an event line by hand, as another machine's merged log would."""
    event = eventlog.make_event(actor, type_, subject, cast("Payload", data), ts=moment)
    eventlog.append(root / ".agentctl" / "events", event)
    return event


# -- filters and order -------------------------------------------------------------------------


def test_feed_is_newest_last_with_plain_lines(busy: dict[str, str], cli: Runner) -> None:
    events = feed(cli)
    stamps = [(e["ts"], e["id"]) for e in events]
    assert stamps == sorted(stamps)
    assert events[-1]["type"] == "task.assigned"
    assert events[0]["type"] == "workspace.init"
    r = cli("feed")
    assert r.code == 0, str(r)
    lines = r.out.splitlines()
    assert len(lines) == len(events)
    assert lines[-1].endswith(
        f'Test User: assigned {busy["second"]} "Second" to intern-1  → dev-1, intern-1'
    )
    assert f'dev-2: commented on {busy["first"]} "First": hello @dev-1  → dev-1' in r.out


def test_feed_json_event_shape(busy: dict[str, str], cli: Runner) -> None:
    for event in feed(cli):
        assert set(event) == {"id", "ts", "actor", "type", "subject", "data", "notify"}, event
        assert isinstance(event["data"], dict) and isinstance(event["notify"], list)


def test_feed_by_task(busy: dict[str, str], cli: Runner) -> None:
    events = feed(cli, "--task", busy["first"][:6])
    assert types(events) == ["task.created", "message.added", "task.moved"]
    assert {e["subject"] for e in events} == {busy["first"]}
    assert_one_line_error(cli("feed", "--task", "t-zzzz"), ExitCode.NOT_FOUND)


def test_feed_by_agent_is_by_or_for(busy: dict[str, str], cli: Runner) -> None:
    events = feed(cli, "--agent", "dev-1")
    for event in events:
        assert event["actor"] == "dev-1" or "dev-1" in event["notify"], event
    # created for dev-1, a mention, its own move and comment, then a change on the task it
    # subscribed to by commenting; adding the agent was by the human and notified nobody.
    assert types(events) == [
        "task.created",
        "message.added",
        "task.moved",
        "message.added",
        "task.assigned",
    ]
    assert feed(cli, "--agent", "nobody-here") == []
    assert_one_line_error(cli("feed", "--agent", "Not A Name"), ExitCode.USAGE)


def test_feed_by_type_exact_and_wildcard(busy: dict[str, str], cli: Runner) -> None:
    assert set(types(feed(cli, "--type", "task.moved"))) == {"task.moved"}
    messages = feed(cli, "--type", "message.*")
    assert types(messages) == ["message.added", "message.added"]
    both = feed(cli, "--type", "message.*", "--type", "task.moved")
    assert types(both) == ["message.added", "task.moved", "message.added"]
    assert len(feed(cli, "--type", "task.*")) == 4
    assert feed(cli, "--type", "no.such.type") == []


def test_feed_since(busy: dict[str, str], cli: Runner, ws_root: Path) -> None:
    now = datetime.now(UTC)
    old = write_event(
        ws_root,
        now - timedelta(hours=3),
        "dev-2",
        "task.edited",
        busy["first"],
        title="First",
        fields=["title"],
    )
    older = write_event(
        ws_root,
        now - timedelta(days=3),
        "dev-2",
        "task.edited",
        busy["first"],
        title="First",
        fields=["labels"],
    )
    all_ids = [e["id"] for e in feed(cli, "--limit", "1000")]
    assert older["id"] == all_ids[0] and old["id"] in all_ids
    recent = [e["id"] for e in feed(cli, "--since", "2h")]
    assert old["id"] not in recent and older["id"] not in recent
    assert len(recent) == len(all_ids) - 2
    assert [e["id"] for e in feed(cli, "--since", "4h")] == [i for i in all_ids if i != older["id"]]
    day = (now - timedelta(days=4)).strftime("%Y-%m-%d")
    assert [e["id"] for e in feed(cli, "--since", day)] == all_ids
    assert_one_line_error(cli("feed", "--since", "last tuesday"), ExitCode.USAGE, "--since")


def test_feed_limit_keeps_the_newest(busy: dict[str, str], cli: Runner) -> None:
    everything = feed(cli)
    assert feed(cli, "--limit", "2") == everything[-2:]
    assert feed(cli, "-n", "1") == everything[-1:]
    assert (
        feed(cli, "--limit", "3", "--task", busy["first"])
        == feed(cli, "--task", busy["first"])[-3:]
    )
    assert cli("feed", "--limit", "0").code == ExitCode.USAGE


def test_feed_default_limit_is_50(ws_root: Path, cli: Runner) -> None:
    now = datetime.now(UTC) + timedelta(minutes=1)  # after the init event
    for n in range(60):
        write_event(
            ws_root, now + timedelta(seconds=n), "someone", "task.edited", None, title=f"e{n}"
        )
    events = feed(cli)
    assert len(events) == 50
    assert events[-1]["data"]["title"] == "e59"


def test_feed_orders_merged_lines_by_time(ws_root: Path, cli: Runner) -> None:
    # A union merge can leave a later event above an earlier one in the same file.
    now = datetime.now(UTC)
    late = write_event(ws_root, now + timedelta(seconds=2), "a", "task.edited", None)
    early = write_event(ws_root, now + timedelta(seconds=1), "b", "task.edited", None)
    ids = [e["id"] for e in feed(cli)]
    assert ids.index(early["id"]) < ids.index(late["id"])


def test_feed_picks_up_hand_appended_lines_and_skips_a_torn_one(ws_root: Path, cli: Runner) -> None:
    before = len(feed(cli))
    event = write_event(ws_root, datetime.now(UTC), "someone", "task.edited", None)
    day = ws_root / ".agentctl" / "events" / f"{event['ts'][:10]}.jsonl"
    with open(day, "a", encoding="utf-8") as handle:
        handle.write('{"id": "e-torn')  # a writer killed mid-line
    events = feed(cli)
    assert len(events) == before + 1
    assert events[-1]["id"] == event["id"]


# -- follow -------------------------------------------------------------------------------------


def _cpu_seconds(pid: int) -> float:
    """utime + stime of a live process, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Follower:
    """``python -m agentctl -W root feed --follow ...`` with its stdout read line by line."""

    def __init__(self, root: Path, *options: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "agentctl", "-W", str(root), "feed", "--follow", *options],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, needle: str, timeout: float = 8.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=max(0.05, deadline - time.monotonic()))
            except queue.Empty:
                break
            self.seen.append(line)
            if needle in line:
                return line
        raise AssertionError(
            f"{needle!r} not printed within {timeout}s; got {self.seen!r}; alive={self.proc.poll() is None}"
        )

    def drain(self) -> list[str]:
        out = []
        while True:
            try:
                out.append(self.lines.get_nowait())
            except queue.Empty:
                return out

    def interrupt(self) -> tuple[int, str]:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=10)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(timeout=5)
        assert self.proc.stderr is not None
        return self.proc.returncode, self.proc.stderr.read()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.mark.slow
def test_follow_prints_events_written_by_other_processes(
    ws_root: Path, cli: Runner, run_proc: Runner
) -> None:
    make_team(cli)
    task = add_task(cli, "Watched", "--assign", "dev-1")
    follower = Follower(ws_root, "--limit", "1")
    try:
        follower.wait_for(f"created {task}")
        # Another real process writes events.
        r = run_proc("-W", str(ws_root), "task", "add", "Written elsewhere")
        assert r.code == 0, str(r)
        follower.wait_for("created t-", timeout=8)
        assert "Written elsewhere" in follower.seen[-1]
        r = run_proc(
            "-W", str(ws_root), "--as", "dev-2", "task", "comment", task, "ping @dev-1 from afar"
        )
        assert r.code == 0, str(r)
        line = follower.wait_for("ping @dev-1 from afar", timeout=8)
        assert "dev-2: commented on" in line and line.endswith("→ dev-1")
        # A new day's log file (e.g. after midnight, or pulled) is followed too.
        future = datetime(2099, 1, 1, 12, tzinfo=UTC)
        write_event(
            ws_root, future, "dev-2", "task.edited", task, title="Watched", fields=["labels"]
        )
        follower.wait_for("2099-01-01 12:00:00  dev-2: edited", timeout=8)

        # Idle following must not spin: CPU time over ~3 s stays far below 1 s.
        time.sleep(0.5)
        before = _cpu_seconds(follower.proc.pid)
        time.sleep(3)
        used = _cpu_seconds(follower.proc.pid) - before
        assert used < 0.3, f"feed --follow used {used:.2f}s of CPU in 3s of idle following"
        assert follower.drain() == []

        code, err = follower.interrupt()
        assert code == 0, err
        assert err == "", err
        assert "Traceback" not in err
    finally:
        follower.kill()


@pytest.mark.slow
def test_follow_json_and_filters(ws_root: Path, cli: Runner, run_proc: Runner) -> None:
    make_team(cli)
    task = add_task(cli, "Watched")
    other = add_task(cli, "Other")
    follower = Follower(ws_root, "--json", "--type", "message.*", "--task", task)
    try:
        time.sleep(1.0)  # let it start following before the writes
        assert run_proc("-W", str(ws_root), "task", "comment", other, "not for this task").code == 0
        assert run_proc("-W", str(ws_root), "task", "move", task, "in_progress").code == 0
        assert run_proc("-W", str(ws_root), "task", "comment", task, "the one").code == 0
        line = follower.wait_for("the one")
        event = json.loads(line)
        assert event["type"] == "message.added" and event["subject"] == task
        assert set(event) == {"id", "ts", "actor", "type", "subject", "data", "notify"}
        assert [json.loads(x)["data"]["excerpt"] for x in follower.seen] == ["the one"]
        code, err = follower.interrupt()
        assert code == 0, err
        assert follower.drain() == []
    finally:
        follower.kill()
