"""``agentctl run``: pure schedule arithmetic, the scheduler loop with fake tick programs, and
real ``agentctl run`` processes stopped by signals.

Tick programs are small Python scripts written by the tests. Each appends ``start AGENT PID``
and ``end AGENT PID`` to a record file, so "an agent never overlaps itself" is checked from the
order of those lines, without timing assumptions.
"""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import Runner, assert_one_line_error, make_team

from agentctl.core.schedule import (
    ActiveHours,
    Schedule,
    ScheduleError,
    build_schedules,
    exact_duration,
    next_due,
    next_times,
    parse_active_hours,
)
from agentctl.errors import ExitCode
from agentctl.heartbeat import scheduler as loop

WAIT = 60.0  # upper bound for anything a test waits for; never a performance assertion

FAKE_TICK = """
import os, subprocess, sys, time
record, mode, release, agent = sys.argv[1:5]

def note(what):
    with open(record, "a", encoding="utf-8") as fh:
        fh.write(f"{what} {agent} {os.getpid()}\\n")

note("start")
print(f"{agent}: tick started", flush=True)
if mode == "block":
    while not os.path.exists(release):
        time.sleep(0.02)
elif mode == "fail":
    print("agentctl: error: boom")
    print("agentctl: hint: fix it")
    note("end")
    sys.exit(3)
elif mode in ("hang", "stubborn"):
    if mode == "stubborn":
        import signal
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    with open(release, "w", encoding="utf-8") as fh:
        fh.write(str(child.pid))
    time.sleep(600)
note("end")
print(f"{agent}: done", flush=True)
"""


@dataclass
class Fake:
    """A fake tick program and the files it reports through."""

    dir: Path
    mode: str = "quick"
    program: Path = field(init=False)
    record: Path = field(init=False)
    release: Path = field(init=False)

    def __post_init__(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.program = self.dir / "fake_tick.py"
        self.program.write_text(FAKE_TICK, encoding="utf-8")
        self.record = self.dir / "record.txt"
        self.release = self.dir / "release"

    def prefix(self) -> list[str]:
        return [sys.executable, str(self.program), str(self.record), self.mode, str(self.release)]

    def argv(self, agent: str) -> list[str]:
        return [*self.prefix(), agent]

    def lines(self) -> list[tuple[str, str, int]]:
        if not self.record.exists():
            return []
        result = []
        for line in self.record.read_text(encoding="utf-8").splitlines():
            what, agent, pid = line.split()
            result.append((what, agent, int(pid)))
        return result

    def count(self, what: str) -> int:
        return sum(1 for line in self.lines() if line[0] == what)


def assert_no_overlap(lines: list[tuple[str, str, int]]) -> None:
    """Per agent the record alternates start, end, start, end... (a trailing start is allowed)."""
    running: dict[str, int] = {}
    for what, agent, pid in lines:
        if what == "start":
            assert agent not in running, (
                f"{agent} started (pid {pid}) while pid {running.get(agent)} ran: {lines}"
            )
            running[agent] = pid
        else:
            assert running.pop(agent, None) == pid, f"end without start: {lines}"


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie nobody reaped counts as gone)."""
    stat = Path(f"/proc/{pid}/stat")
    if Path("/proc/self/stat").exists():
        try:
            return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
        except (FileNotFoundError, ProcessLookupError):
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class Harness:
    """A scheduler running in a background thread, its reports collected in order."""

    def __init__(
        self, schedules: list[Schedule], argv: loop.TickArgv, log_dir: Path, **options: object
    ) -> None:
        self.reports: queue.Queue[loop.TickResult] = queue.Queue()
        self.seen: list[loop.TickResult] = []
        self.scheduler = loop.Scheduler(schedules, argv, log_dir, self.reports.put, **options)  # type: ignore[arg-type]
        self.summary: list[loop.RunSummary] = []
        self.thread = threading.Thread(
            target=lambda: self.summary.append(self.scheduler.run()), daemon=True
        )

    def __enter__(self) -> Harness:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.scheduler.stop()
        self.scheduler.stop()
        self.thread.join(WAIT)

    def outcomes(self) -> list[loop.TickResult]:
        while True:
            try:
                self.seen.append(self.reports.get_nowait())
            except queue.Empty:
                return self.seen

    def wait(self, condition: Callable[[list[loop.TickResult]], bool], what: str) -> None:
        wait_for(lambda: condition(self.outcomes()), what)

    def finish(self) -> loop.RunSummary:
        self.thread.join(WAIT)
        assert not self.thread.is_alive(), "the scheduler did not stop"
        self.outcomes()
        return self.summary[0]


def every_second(*agents: str) -> list[Schedule]:
    return [Schedule(agent, 1) for agent in agents]


# -- pure schedule arithmetic ------------------------------------------------------------------


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_slots_of_a_quarter_hour_with_an_offset() -> None:
    s = Schedule("a", 900, 120)
    assert next_due(s, at("2024-03-05T10:00:00")) == at("2024-03-05T10:02:00")
    assert next_due(s, at("2024-03-05T10:02:00")) == at("2024-03-05T10:17:00")  # strictly after
    assert next_due(s, at("2024-03-05T10:01:59.500000")) == at("2024-03-05T10:02:00")
    assert next_due(s, at("2024-03-05T23:50:00")) == at("2024-03-06T00:02:00")
    assert next_times(s, at("2024-03-05T10:40:00"), 3) == [
        at("2024-03-05T10:47:00"),
        at("2024-03-05T11:02:00"),
        at("2024-03-05T11:17:00"),
    ]


def test_intervals_that_do_not_divide_a_day_keep_their_rhythm() -> None:
    s = Schedule("a", 7 * 60)
    times = next_times(s, at("2024-03-05T23:30:00"), 12)
    assert {b - a for a, b in zip(times, times[1:], strict=False)} == {timedelta(minutes=7)}
    # The slots do not depend on when one starts looking.
    later = next_times(s, times[3] - timedelta(seconds=1), 3)
    assert later == times[3:6]
    long = next_times(Schedule("b", 36 * 3600), at("2024-03-05T00:00:00"), 3)
    assert long[1] - long[0] == long[2] - long[1] == timedelta(hours=36)


def test_daily_schedule_and_offset() -> None:
    s = Schedule("a", 86400, 7 * 3600 + 45 * 60)
    assert next_times(s, at("2024-03-05T08:00:00"), 2) == [
        at("2024-03-06T07:45:00"),
        at("2024-03-07T07:45:00"),
    ]


def test_active_hours_skip_to_the_next_opening() -> None:
    s = Schedule("a", 900, 120, parse_active_hours("09:00-18:00"))
    assert next_due(s, at("2024-03-05T08:00:00")) == at("2024-03-05T09:02:00")
    assert next_due(s, at("2024-03-05T17:40:00")) == at("2024-03-05T17:47:00")
    assert next_due(s, at("2024-03-05T17:50:00")) == at("2024-03-06T09:02:00")


def test_active_hours_across_midnight() -> None:
    s = Schedule("a", 3600, 0, parse_active_hours("22:00-06:00"))
    assert next_due(s, at("2024-03-05T06:30:00")) == at("2024-03-05T22:00:00")
    assert next_due(s, at("2024-03-05T23:10:00")) == at("2024-03-06T00:00:00")
    assert next_due(s, at("2024-03-06T05:00:00")) == at("2024-03-06T22:00:00")  # 06:00 is outside


def test_active_hours_off_the_hour_are_exact() -> None:
    s = Schedule("a", 900, 0, parse_active_hours("09:30-10:15"))
    assert next_times(s, at("2024-03-05T00:00:00"), 4) == [
        at("2024-03-05T09:30:00"),
        at("2024-03-05T09:45:00"),
        at("2024-03-05T10:00:00"),
        at("2024-03-06T09:30:00"),
    ]


def test_a_window_no_slot_reaches_is_an_error() -> None:
    s = Schedule("dev-1", 6 * 3600, 0, parse_active_hours("13:00-17:00"))
    with pytest.raises(
        ScheduleError, match="dev-1: no tick of every 6h during 13:00-17:00 falls inside"
    ):
        next_due(s, at("2024-03-05T00:00:00"))


@pytest.mark.parametrize(
    ("text", "window"),
    [
        ("09:00-18:00", ActiveHours(540, 1080)),
        ("22:00-06:00", ActiveHours(1320, 360)),
        ("00:00-24:00", ActiveHours(0, 0)),
    ],
)
def test_parse_active_hours(text: str, window: ActiveHours) -> None:
    assert parse_active_hours(text) == window
    assert window.contains(at("2024-03-05T00:00:00")) == (text != "09:00-18:00")


@pytest.mark.parametrize(
    "text", ["9:00-18:00", "25:00-26:00", "09:60-10:00", "09:00-24:30", "10:00-10:00", "x"]
)
def test_bad_active_hours(text: str) -> None:
    with pytest.raises(ScheduleError, match="invalid active_hours"):
        parse_active_hours(text)


def test_build_schedules_from_records() -> None:
    agents: list[dict[str, Any]] = [
        {"name": "a"},
        {"name": "b", "heartbeat": {"every": "15m"}},
        {"name": "c", "heartbeat": {"every": "1h", "offset": "20m", "active_hours": "09:00-18:00"}},
    ]
    agents += [{"name": f"x{i}"} for i in range(6)]
    schedules = build_schedules(agents)
    assert [(s.agent, s.every, s.offset) for s in schedules] == [
        ("a", 900, 0),
        ("b", 900, 60),
        ("c", 3600, 1200),  # the record's offset wins over the stagger
        # 9 agents x 2m does not fit in 15m: the stagger shrinks to 1m (whole minutes)
        ("x0", 900, 180),
        ("x1", 900, 240),
        ("x2", 900, 300),
        ("x3", 900, 360),
        ("x4", 900, 420),
        ("x5", 900, 480),
    ]
    assert schedules[2].active == ActiveHours(540, 1080)
    overridden = build_schedules(agents[:3], every="30m", stagger="5m")
    assert [(s.every, s.offset) for s in overridden] == [(1800, 0), (1800, 300), (1800, 1200)]


def test_a_stagger_that_does_not_fit_shrinks_or_warns() -> None:
    team = [{"name": f"a{i:02}"} for i in range(16)]
    warnings: list[str] = []
    fits = build_schedules(team[:4], every="10m", stagger="2m", warnings=warnings)
    assert [s.offset for s in fits] == [0, 120, 240, 360] and warnings == []

    shrunk = build_schedules(team[:8], every="10m", stagger="2m", warnings=warnings)
    assert [s.offset // 60 for s in shrunk] == [0, 1, 2, 3, 4, 5, 6, 7]  # not 0,2,4,6,8,0,2,4
    assert warnings == [
        "--stagger 2m does not fit 8 agents into every 10m; staggered 1m apart instead"
    ]

    warnings.clear()
    every_minute = build_schedules(team, every="1m", warnings=warnings)
    assert {s.offset for s in every_minute} == {0}
    [warning] = warnings
    assert warning.startswith(
        "every 1m has room for only 1 distinct start time(s) for 16 agents; sharing a slot: a00, a01"
    )

    warnings.clear()
    crowded = build_schedules(team, every="10m", warnings=warnings)
    assert sorted({s.offset // 60 for s in crowded}) == list(range(10))
    assert warnings[0].startswith(
        "every 10m has room for only 10 distinct start time(s) for 16 agents; sharing a slot: a00, a10;"
    )

    warnings.clear()
    seconds_apart = build_schedules(team[:4], every="1m", stagger="30s", warnings=warnings)
    assert [s.offset for s in seconds_apart] == [
        0,
        15,
        30,
        45,
    ]  # the run loop has second resolution


@pytest.mark.parametrize(
    ("agents", "every", "message"),
    [
        (
            [{"name": "a", "heartbeat": {"every": "often"}}],
            None,
            "a: heartbeat.every: invalid duration 'often'",
        ),
        ([{"name": "a"}], "0s", "a: the interval must be at least 1s"),
        (
            [{"name": "a", "heartbeat": {"active_hours": "18:00-18:00"}}],
            None,
            "a: invalid active_hours",
        ),
        ([{"name": "a"}], "1.5s", "--every: '1.5s' is not a whole number of seconds"),
    ],
)
def test_build_schedules_errors(
    agents: list[dict[str, object]], every: str | None, message: str
) -> None:
    with pytest.raises(ScheduleError, match=re.escape(message)):
        build_schedules(agents, every=every)


def test_exact_duration_and_describe() -> None:
    assert [exact_duration(n) for n in (0, 59, 60, 5400, 86400 + 3661)] == [
        "0s",
        "59s",
        "1m",
        "1h30m",
        "1d1h1m1s",
    ]
    assert (
        Schedule("a", 900, 120, parse_active_hours("09:00-18:00")).describe()
        == "every 15m at +2m during 09:00-18:00"
    )
    with pytest.raises(ScheduleError):
        Schedule("a", 0)
    with pytest.raises(ScheduleError):
        Schedule("a", 60, 60)


# -- the loop, in process ----------------------------------------------------------------------


def test_max_ticks_runs_exactly_that_many(tmp_path: Path) -> None:
    fake = Fake(tmp_path)
    reports: list[loop.TickResult] = []
    scheduler = loop.Scheduler(
        every_second("a", "b"),
        fake.argv,
        tmp_path / "logs",
        reports.append,
        max_ticks=3,
        tick_now=True,
    )
    summary = scheduler.run()
    # A slot may be skipped while a slow (loaded machine) tick still runs; started ticks are exact.
    assert (summary.reason, summary.started, summary.finished, summary.failed) == (
        "max-ticks",
        3,
        3,
        0,
    )
    assert summary.skipped == sum(r.outcome == "skipped" for r in reports)
    reports = [r for r in reports if r.outcome != "skipped"]
    assert [r.outcome for r in reports] == ["ok", "ok", "ok"]
    assert {r.agent for r in reports} == {"a", "b"}  # both tick at once, then whoever is due
    for report in reports:
        assert report.exit_code == 0 and report.message == f"{report.agent}: done"
        assert re.fullmatch(
            rf"\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d  {report.agent}  ok  \d+\.\ds  {report.agent}: done",
            report.line(),
        )
    assert fake.count("start") == fake.count("end") == 3
    assert_no_overlap(fake.lines())
    log = (tmp_path / "logs" / "a.log").read_text(encoding="utf-8")
    assert log.startswith("a: tick started\na: done\n")


def test_an_agent_never_overlaps_itself(tmp_path: Path) -> None:
    fake = Fake(tmp_path, mode="block")
    with Harness(every_second("a"), fake.argv, tmp_path / "logs") as run:
        run.wait(lambda seen: any(r.outcome == "skipped" for r in seen), "a skipped slot")
        assert fake.count("start") == 1
        skipped = next(r for r in run.outcomes() if r.outcome == "skipped")
        assert skipped.agent == "a"
        assert skipped.message is not None and skipped.message.startswith("previous tick (started ")
        fake.release.touch()
        run.wait(lambda seen: sum(r.outcome == "ok" for r in seen) >= 2, "two finished ticks")
        run.scheduler.stop()
        summary = run.finish()
    assert summary.reason == "stopped" and summary.skipped >= 1 and summary.failed == 0
    assert_no_overlap(fake.lines())


def test_agents_tick_independently(tmp_path: Path) -> None:
    """A slow agent does not hold back the others."""
    blocker, quick = Fake(tmp_path / "slow", mode="block"), Fake(tmp_path / "fast")
    argv = {"slow": blocker.argv, "fast": quick.argv}
    with Harness(
        every_second("slow", "fast"), lambda agent: argv[agent](agent), tmp_path / "logs"
    ) as run:
        run.wait(
            lambda seen: sum(r.agent == "fast" and r.outcome == "ok" for r in seen) >= 3,
            "three fast ticks",
        )
        assert blocker.count("start") == 1 and blocker.count("end") == 0
        blocker.release.touch()
    assert_no_overlap(blocker.lines() + quick.lines())


def test_failed_and_unstartable_ticks_are_reported(tmp_path: Path) -> None:
    fake = Fake(tmp_path, mode="fail")
    reports: list[loop.TickResult] = []

    def argv(agent: str) -> list[str]:
        return fake.argv(agent) if agent == "bad" else [str(tmp_path / "no-such-program")]

    summary = loop.Scheduler(
        every_second("bad", "gone"),
        argv,
        tmp_path / "logs",
        reports.append,
        max_ticks=2,
        tick_now=True,
    ).run()
    by_agent = {r.agent: r for r in reports}
    assert by_agent["bad"].outcome == "failed" and by_agent["bad"].exit_code == 3
    assert by_agent["bad"].message == "agentctl: error: boom"
    assert "exit=3" in by_agent["bad"].line()
    assert by_agent["gone"].outcome == "error"
    assert by_agent["gone"].message is not None and by_agent["gone"].message.startswith(
        "cannot start the tick:"
    )
    assert summary.failed == 2 and summary.started == 2


def test_stop_waits_out_the_grace_then_terminates_the_process_group(tmp_path: Path) -> None:
    fake = Fake(tmp_path, mode="hang")
    with Harness(every_second("a"), fake.argv, tmp_path / "logs", tick_now=True, grace=0.2) as run:
        wait_for(
            lambda: fake.release.exists() and fake.release.read_text() != "", "the tick's own child"
        )
        grandchild = int(fake.release.read_text())
        tick_pid = fake.lines()[0][2]
        run.scheduler.stop()
        summary = run.finish()
    assert summary.terminated == 1 and summary.started == 1
    final = [r for r in run.seen if r.outcome != "skipped"]
    assert [r.outcome for r in final] == ["terminated"]
    assert final[0].exit_code == -signal.SIGTERM
    wait_for(
        lambda: not alive(tick_pid) and not alive(grandchild), "the tick and its child to be gone"
    )


def test_a_tick_ignoring_sigterm_is_killed(tmp_path: Path) -> None:
    fake = Fake(tmp_path, mode="stubborn")
    with Harness(
        every_second("a"), fake.argv, tmp_path / "logs", tick_now=True, grace=0.1, kill_after=0.3
    ) as run:
        wait_for(
            lambda: fake.release.exists() and fake.release.read_text() != "", "the tick's own child"
        )
        grandchild = int(fake.release.read_text())
        run.scheduler.stop()
        summary = run.finish()
    assert summary.terminated == 1
    assert [r.exit_code for r in run.seen if r.outcome == "terminated"] == [-signal.SIGKILL]
    wait_for(lambda: not alive(grandchild), "the tick's child to be gone")


def test_a_second_stop_ends_the_grace_period(tmp_path: Path) -> None:
    fake = Fake(tmp_path, mode="hang")
    with Harness(
        every_second("a"), fake.argv, tmp_path / "logs", tick_now=True, grace=3600.0
    ) as run:
        wait_for(
            lambda: fake.release.exists() and fake.release.read_text() != "", "the tick's own child"
        )
        run.scheduler.stop()
        run.scheduler.stop()
        summary = run.finish()  # with an hour of grace this only returns through the second stop
    assert summary.terminated == 1


def test_a_failing_report_leaves_no_tick_running(tmp_path: Path) -> None:
    """If printing fails (stdout closed), the scheduler stops its ticks before raising."""
    fake = Fake(tmp_path, mode="block")

    def report(result: loop.TickResult) -> None:
        raise BrokenPipeError("stdout went away")

    scheduler = loop.Scheduler(
        every_second("a"), fake.argv, tmp_path / "logs", report, kill_after=0.5
    )
    with pytest.raises(BrokenPipeError):
        scheduler.run()  # the first report is the skipped second slot of the blocked tick
    assert fake.count("start") == 1
    tick_pid = fake.lines()[0][2]
    wait_for(lambda: not alive(tick_pid), "the blocked tick to be gone")


def test_duration_limit(tmp_path: Path) -> None:
    fake = Fake(tmp_path)
    reports: list[loop.TickResult] = []
    summary = loop.Scheduler(
        every_second("a"), fake.argv, tmp_path / "logs", reports.append, duration=1.5
    ).run()
    assert summary.reason == "duration"
    assert summary.started == summary.finished == fake.count("end")
    assert {r.outcome for r in reports} <= {"ok", "skipped"}


# -- the command -------------------------------------------------------------------------------


@pytest.fixture
def team_root(ws_root: Path, cli: Runner) -> Path:
    make_team(cli, cwd=ws_root)
    return ws_root


@pytest.fixture
def fake_heartbeat(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Fake:
    """Route ``agentctl run``'s ticks (in this process) to a fake tick program."""
    fake = Fake(tmp_path)
    monkeypatch.setattr(loop, "heartbeat_argv", lambda root, agent: fake.argv(agent))
    return fake


def test_run_prints_one_line_per_tick(team_root: Path, cli: Runner, fake_heartbeat: Fake) -> None:
    result = cli("run", "--now", "--max-ticks", "2", "--agents", "lead-1,dev-2")
    assert result.code == 0, str(result)
    lines = result.out.splitlines()
    assert len(lines) == 2, str(result)
    assert {line.split("  ")[1] for line in lines} == {"lead-1", "dev-2"}
    assert all(
        re.fullmatch(r"\S+ \S+  (lead-1|dev-2)  ok  \d+\.\ds  \1: done", line) for line in lines
    ), result.out
    err = result.err.splitlines()
    assert err[0].startswith("agentctl: run: lead-1 every 15m, first tick ")
    assert err[1].startswith("agentctl: run: dev-2 every 15m at +2m, first tick ")
    assert (
        err[-1]
        == "agentctl: run: stopped (max-ticks): 2 tick(s) started, 0 failed, 0 skipped, 0 terminated"
    )
    assert (
        (team_root / ".agentctl" / "local" / "logs" / "lead-1.log")
        .read_text()
        .endswith("lead-1: done\n")
    )


def test_run_json_lines(team_root: Path, cli: Runner, fake_heartbeat: Fake) -> None:
    result = cli("run", "--now", "--max-ticks", "1", "--agents", "dev-1", "--json")
    assert result.code == 0, str(result)
    docs = [json.loads(line) for line in result.out.splitlines()]
    assert [d["event"] for d in docs] == ["tick", "stopped"]
    assert docs[0]["schema_version"] == 1
    assert {k: docs[0][k] for k in ("agent", "outcome", "exit_code", "message")} == {
        "agent": "dev-1",
        "outcome": "ok",
        "exit_code": 0,
        "message": "dev-1: done",
    }
    assert docs[1] == {
        "schema_version": 1,
        "event": "stopped",
        "reason": "max-ticks",
        "started": 1,
        "finished": 1,
        "skipped": 0,
        "failed": 0,
        "terminated": 0,
    }


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (("--for", "soon"), ExitCode.USAGE, "--for: invalid duration 'soon'"),
        (("--grace", "-1s"), ExitCode.USAGE, "--grace: invalid duration '-1s'"),
        (("--every", "0s"), ExitCode.USAGE, "the interval must be at least 1s"),
        (("--max-ticks", "0"), ExitCode.USAGE, "--max-ticks"),
        (("--agents", "dev-1,ghost"), ExitCode.NOT_FOUND, "no agent named 'ghost'"),
        (("--agents", "Bad_Name"), ExitCode.USAGE, "invalid agent name 'Bad_Name'"),
    ],
)
def test_run_bad_input(
    team_root: Path,
    cli: Runner,
    fake_heartbeat: Fake,
    args: tuple[str, ...],
    code: int,
    needle: str,
) -> None:
    result = cli("run", "--max-ticks", "1", *args)
    assert_one_line_error(result, code, needle)
    assert result.out == ""
    assert not fake_heartbeat.record.exists()


def test_run_without_agents(ws_root: Path, cli: Runner, fake_heartbeat: Fake) -> None:
    assert_one_line_error(cli("run"), ExitCode.NOT_FOUND, "this workspace has no agents")


# -- real processes and signals ----------------------------------------------------------------

WRAPPER = """
import json, os, sys
from agentctl.heartbeat import scheduler
prefix = json.loads(os.environ["FAKE_TICK_PREFIX"])
scheduler.heartbeat_argv = lambda root, agent: [*prefix, agent]
from agentctl.cli.app import main
main(sys.argv[1:])
"""


@pytest.fixture
def start_run(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Start ``agentctl ARGS`` (the real CLI in a real process) with ticks going to a fake."""
    wrapper = tmp_path / "run_with_fake_ticks.py"
    wrapper.write_text(WRAPPER, encoding="utf-8")
    started: list[subprocess.Popen[str]] = []

    def start(fake: Fake, *args: str) -> subprocess.Popen[str]:
        env = {**os.environ, "FAKE_TICK_PREFIX": json.dumps(fake.prefix())}
        proc = subprocess.Popen(
            [sys.executable, str(wrapper), *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_run_process_stops_cleanly_on_a_signal(
    team_root: Path, tmp_path: Path, start_run: Callable[..., subprocess.Popen[str]], signum: int
) -> None:
    fake = Fake(tmp_path)
    proc = start_run(fake, "-W", str(team_root), "run", "--every", "1s", "--agents", "dev-1,lead-1")
    wait_for(lambda: fake.count("end") >= 3, "three finished ticks")
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=WAIT)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    lines = out.splitlines()
    assert lines and all(
        re.fullmatch(r"\S+ \S+  (dev-1|lead-1)  (ok  \d+\.\ds  \1: done|skipped  .*)", line)
        for line in lines
    ), out
    assert re.search(
        r"^agentctl: run: stopped \(stopped\): \d+ tick\(s\) started, 0 failed", err, re.MULTILINE
    ), err
    assert_no_overlap(fake.lines())
    assert fake.count("start") == fake.count("end")


def test_run_process_terminates_a_running_tick_after_the_grace(
    team_root: Path, tmp_path: Path, start_run: Callable[..., subprocess.Popen[str]]
) -> None:
    fake = Fake(tmp_path, mode="hang")
    proc = start_run(
        fake, "-W", str(team_root), "run", "--now", "--agents", "dev-1", "--grace", "0.2s"
    )
    wait_for(lambda: fake.release.exists() and fake.release.read_text() != "", "a running tick")
    grandchild = int(fake.release.read_text())
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=WAIT)
    assert proc.returncode == 0, err
    assert re.fullmatch(
        r"\S+ \S+  dev-1  terminated  exit=-15  \d+\.\ds  dev-1: tick started\n", out
    ), out
    assert "1 terminated" in err.splitlines()[-1]
    wait_for(lambda: not alive(grandchild), "the tick's child to be gone")


def _has_heartbeat() -> bool:
    from agentctl.cli.app import COMMANDS

    return "heartbeat" in COMMANDS


@pytest.mark.skipif(not _has_heartbeat(), reason="the heartbeat command is not built yet")
def test_run_ticks_a_real_agent(team_root: Path, run_proc: Runner) -> None:
    result = run_proc("-W", str(team_root), "run", "--now", "--max-ticks", "1", "--agents", "dev-1")
    assert result.code == 0, str(result)
    assert re.fullmatch(r"\S+ \S+  dev-1  ok  .*\n", result.out), str(result)
    shown = run_proc("-W", str(team_root), "agent", "show", "dev-1", "--json")
    assert shown.json()["agent"]["state"].get("last_heartbeat"), str(shown)
