"""The foreground scheduler behind ``agentctl run``: time, processes and signals.

Each due tick runs as its own process (by default ``python -m agentctl -W ROOT heartbeat
AGENT``), in a new session so a Ctrl-C in the terminal reaches only the scheduler, with its
output appended to ``.agentctl/local/logs/<agent>.log`` like the cron lines. The loop
sleeps on an event until the next due time or until a tick ends; it never starts a tick of
an agent whose previous tick is still running (that slot is reported as skipped), and with a
``jobs`` limit a due tick waits (in due order) while that many run. When
asked to stop it starts nothing new, gives running ticks a grace period, then terminates
their process groups. What is due when is decided by :mod:`agentctl.core.schedule`.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from agentctl.core import clock
from agentctl.core.clock import local_now
from agentctl.core.schedule import Schedule, next_due
from agentctl.procs import signal_group
from agentctl.store.reading import tail_bytes

TickArgv = Callable[[str], list[str]]
MAX_SLEEP = 60.0  # re-read the clock at least this often (suspend, clock changes)
KILL_AFTER = 5.0  # seconds between SIGTERM and SIGKILL when terminating a tick
TAIL_BYTES = 8192


def heartbeat_argv(root: Path | str, agent: str) -> list[str]:
    """The command that runs one heartbeat of ``agent`` (the scheduler's ticks, the board's
    trigger): this interpreter running ``agentctl -W ROOT heartbeat AGENT``, an argument list
    (no shell)."""
    return [sys.executable, "-m", "agentctl", "-W", str(root), "heartbeat", agent]


@dataclass(frozen=True)
class TickResult:
    """One line of ``agentctl run`` output: what happened to one due tick."""

    agent: str
    outcome: str  # ok | failed | skipped | terminated | error
    due: datetime
    started: datetime | None = None
    seconds: float | None = None
    exit_code: int | None = None
    message: str | None = None  # last line the tick wrote, or why it was skipped / failed

    def as_dict(self) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "outcome": self.outcome,
            "due": clock.iso(self.due),
            "started": clock.iso(self.started) if self.started else None,
            "seconds": None if self.seconds is None else round(self.seconds, 3),
            "exit_code": self.exit_code,
            "message": self.message,
        }

    def line(self) -> str:
        stamp = clock.show(self.started or self.due)
        parts = [stamp, self.agent, self.outcome]
        if self.exit_code not in (None, 0):
            parts.append(f"exit={self.exit_code}")
        if self.seconds is not None:
            parts.append(f"{self.seconds:.1f}s")
        text = "  ".join(parts)
        return f"{text}  {self.message}" if self.message else text


@dataclass
class RunSummary:
    reason: str  # max-ticks | duration | stopped
    started: int = 0
    finished: int = 0
    skipped: int = 0
    failed: int = 0
    terminated: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "reason": self.reason,
            "started": self.started,
            "finished": self.finished,
            "skipped": self.skipped,
            "failed": self.failed,
            "terminated": self.terminated,
        }


@dataclass
class _Running:
    agent: str
    due: datetime
    started: datetime
    started_mono: float
    process: subprocess.Popen[bytes]
    log: IO[bytes]
    log_start: int
    terminated: bool = False


@dataclass
class Scheduler:
    """Run ticks for ``schedules`` until stopped, ``max_ticks`` ticks have started, or
    ``duration`` seconds have passed. ``report`` receives every :class:`TickResult` (on the
    thread that called :meth:`run`); ``tick_argv`` maps an agent name to the tick's argv."""

    schedules: Sequence[Schedule]
    tick_argv: TickArgv
    log_dir: Path
    report: Callable[[TickResult], None]
    max_ticks: int | None = None
    duration: float | None = None
    grace: float = 30.0
    kill_after: float = KILL_AFTER
    tick_now: bool = False
    jobs: int | None = None  # ticks running at once at most (None: no limit)
    cwd: Path | None = None
    env: Mapping[str, str] | None = None
    clock: Callable[[], datetime] = local_now
    _stop: threading.Event = field(default_factory=threading.Event, init=False, repr=False)
    _hurry: threading.Event = field(default_factory=threading.Event, init=False, repr=False)
    _wake: threading.Event = field(default_factory=threading.Event, init=False, repr=False)
    _done: queue.Queue[tuple[_Running, int]] = field(
        default_factory=queue.Queue, init=False, repr=False
    )
    _running: dict[str, _Running] = field(default_factory=dict, init=False, repr=False)

    # -- control (any thread, or a signal handler) -----------------------------------------

    def stop(self) -> None:
        """Start nothing new and wind down; a second call ends the grace period at once."""
        if self._stop.is_set():
            self._hurry.set()
        self._stop.set()
        self._wake.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def due_times(self, now: datetime) -> dict[str, datetime]:
        """When each agent first ticks, counting from ``now``."""
        return {s.agent: now if self.tick_now else next_due(s, now) for s in self.schedules}

    # -- the loop ----------------------------------------------------------------------

    def run(self) -> RunSummary:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        summary = RunSummary(reason="stopped")
        try:
            self._loop(summary)
            self._wind_down(summary)
        except BaseException:
            # e.g. stdout went away while reporting: leave no tick running unattended.
            self._abort()
            raise
        return summary

    def _loop(self, summary: RunSummary) -> None:
        deadline = None if self.duration is None else time.monotonic() + self.duration
        due = self.due_times(self.clock())
        by_agent = {s.agent: s for s in self.schedules}
        while not self._stop.is_set():
            self._collect(summary)
            if self.max_ticks is not None and summary.started >= self.max_ticks:
                summary.reason = "max-ticks"
                break
            if deadline is not None and time.monotonic() >= deadline:
                summary.reason = "duration"
                break
            now = self.clock()
            full = False  # a due tick waits for one of the running ones to end
            for agent in sorted(due, key=lambda name: due[name]):
                if due[agent] > now:
                    break
                if agent not in self._running and self._full():
                    full = True
                    break
                self._fire(agent, due[agent], summary)
                due[agent] = next_due(by_agent[agent], max(now, due[agent]))
                if self.max_ticks is not None and summary.started >= self.max_ticks:
                    break
            if self.max_ticks is not None and summary.started >= self.max_ticks:
                continue
            wait = (
                min((when - self.clock()).total_seconds() for when in due.values())
                if due and not full
                else MAX_SLEEP  # when full, the end of a tick sets _wake
            )
            if deadline is not None:
                wait = min(wait, deadline - time.monotonic())
            self._wake.wait(max(0.0, min(wait, MAX_SLEEP)))
            self._wake.clear()

    def _full(self) -> bool:
        return self.jobs is not None and len(self._running) >= self.jobs

    def _fire(self, agent: str, when: datetime, summary: RunSummary) -> None:
        previous = self._running.get(agent)
        if previous is not None:
            summary.skipped += 1
            since = clock.show(previous.started, clock.TIME)
            self.report(
                TickResult(
                    agent, "skipped", when, message=f"previous tick (started {since}) still running"
                )
            )
            return
        summary.started += 1
        started, started_mono = self.clock(), time.monotonic()
        log: IO[bytes] | None = None
        try:
            log = open(self.log_dir / f"{agent}.log", "ab")  # noqa: SIM115 - closed when the tick ends
            log_start = log.seek(0, os.SEEK_END)
            process = subprocess.Popen(
                self.tick_argv(agent),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.cwd,
                env=None if self.env is None else dict(self.env),
                start_new_session=True,
            )
        except OSError as exc:
            if log is not None:
                log.close()
            summary.failed += 1
            self.report(
                TickResult(
                    agent, "error", when, started, 0.0, None, f"cannot start the tick: {exc}"
                )
            )
            return
        running = _Running(agent, when, started, started_mono, process, log, log_start)
        self._running[agent] = running
        threading.Thread(
            target=self._watch, args=(running,), name=f"tick-{agent}", daemon=True
        ).start()

    def _watch(self, running: _Running) -> None:
        code = running.process.wait()
        self._done.put((running, code))
        self._wake.set()

    def _collect(self, summary: RunSummary) -> None:
        while True:
            try:
                running, code = self._done.get_nowait()
            except queue.Empty:
                return
            self._running.pop(running.agent, None)
            running.log.close()
            seconds = time.monotonic() - running.started_mono
            if running.terminated:
                outcome = "terminated"
                summary.terminated += 1
            elif code == 0:
                outcome = "ok"
            else:
                outcome = "failed"
                summary.failed += 1
            summary.finished += 1
            message = _last_line(
                self.log_dir / f"{running.agent}.log", running.log_start, outcome != "ok"
            )
            self.report(
                TickResult(
                    running.agent, outcome, running.due, running.started, seconds, code, message
                )
            )

    def _wind_down(self, summary: RunSummary) -> None:
        """Let running ticks finish: without limit after --max-ticks (unless stopped), within
        the grace period after a stop or --for; then terminate what is left."""
        if summary.reason == "max-ticks":
            while self._running and not self._stop.is_set():
                self._wake.wait(MAX_SLEEP)
                self._wake.clear()
                self._collect(summary)
        limit = time.monotonic() + self.grace
        while self._running and not self._hurry.is_set() and time.monotonic() < limit:
            self._wake.wait(max(0.0, min(limit - time.monotonic(), MAX_SLEEP)))
            self._wake.clear()
            self._collect(summary)
        if not self._running:
            return
        for running in self._running.values():
            running.terminated = True
            signal_group(running.process.pid, signal.SIGTERM)
        limit = time.monotonic() + self.kill_after
        while self._running and time.monotonic() < limit:
            self._wake.wait(max(0.0, limit - time.monotonic()))
            self._wake.clear()
            self._collect(summary)
        for running in list(self._running.values()):
            signal_group(running.process.pid, signal.SIGKILL)
            running.process.wait()
        while self._running:
            self._wake.wait(1.0)
            self._wake.clear()
            self._collect(summary)

    def _abort(self) -> None:
        """Terminate every running tick without reporting (the loop failed)."""
        for running in self._running.values():
            signal_group(running.process.pid, signal.SIGTERM)
        for running in list(self._running.values()):
            try:
                running.process.wait(self.kill_after)
            except subprocess.TimeoutExpired:
                signal_group(running.process.pid, signal.SIGKILL)
                running.process.wait()
            running.log.close()
        self._running.clear()


def _last_line(path: Path, start: int, failed: bool = False, max_chars: int = 300) -> str | None:
    """The last non-empty line written to ``path`` after byte ``start`` (for a failed tick,
    its last ``agentctl: error:`` line when there is one: a hint usually follows it)."""
    try:
        with open(path, "rb") as handle:
            data = tail_bytes(handle, TAIL_BYTES, start)
    except OSError:
        return None
    lines = [line.strip() for line in data.decode("utf-8", "replace").splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("agentctl: error:")] if failed else []
    chosen = errors or lines
    return chosen[-1][:max_chars] if chosen else None


def install_signal_handlers(scheduler: Scheduler) -> Callable[[], None]:
    """SIGINT and SIGTERM stop ``scheduler`` (a second one ends the grace period); returns a
    function restoring the previous handlers. Call from the main thread."""
    previous = {
        signum: signal.signal(signum, lambda _signum, _frame: scheduler.stop())
        for signum in (signal.SIGINT, signal.SIGTERM)
    }

    def restore() -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)

    return restore
