"""A round of heartbeats with the ticks of different agents at once (``heartbeat --all --jobs N``).

Each agent's tick runs as its own process, ``python -m agentctl -W ROOT heartbeat AGENT --json
--in-round`` (the same command cron and ``agentctl run`` start), at most ``jobs`` at a time, in
name order. A tick spends nearly all its time waiting for the model or the command, outside the
workspace lock, so the ticks overlap where they wait and serialise only where they write
(each write takes the workspace lock; each tick's commit takes git's index lock). Two agents
racing for one task meet in the atomic claim at apply time: the loser's action is rejected
with the reason, as any rejected action is.

A separate process per tick, not a thread: a tick that crashes, hangs in a C library or is
killed takes only itself down, and every tick gets its own workspace object, run lock and
journal owner, exactly as when cron starts it. The parent keeps the records in agent order;
a tick process that ends without its JSON record (killed, crashed, an error such as a lock
timeout) becomes a ``failed`` record of its own, logged to the run log.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agentctl.core.clock import now_seconds, stamp
from agentctl.errors import AgentctlError, ExitCode

if TYPE_CHECKING:
    from agentctl.workspace import Workspace

MAX_DEFAULT_JOBS = 8
KILL_AFTER = 5.0  # seconds between SIGTERM and SIGKILL for ticks left running by an interrupt
ERROR_PREFIX = "agentctl: error: "
WARNING_PREFIX = "agentctl: warning: "
HINT_PREFIX = "agentctl: hint: "


def default_jobs(cpus: int | None = None) -> int:
    """Two ticks per CPU core, at least 2 and at most 8 (see docs/decisions.md): a tick mostly
    waits for its model, but each is a Python process (~40 MB, ~0.2 s of CPU to start and to
    apply), command agents may be CPU-heavy, and providers limit concurrent requests."""
    count = os.cpu_count() if cpus is None else cpus
    return max(2, min(MAX_DEFAULT_JOBS, 2 * (count or 1)))


def tick_argv(root: str, agent: str, dry_run: bool) -> list[str]:
    """One tick of ``agent`` in a round: JSON out, no escalation (the round raised it)."""
    argv = [sys.executable, "-m", "agentctl", "-W", root, "heartbeat", agent, "--json"]
    return argv + ["--in-round"] + (["--dry-run"] if dry_run else [])


@dataclass
class _Outcome:
    agent: str
    code: int
    stdout: str
    stderr: str
    seconds: float
    started: str


class _Children:
    """The tick processes running now, so an interrupted round can end them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._procs: set[subprocess.Popen[bytes]] = set()
        self.closed = False

    def start(self, argv: list[str], cwd: str) -> subprocess.Popen[bytes] | None:
        with self._lock:
            if self.closed:
                return None
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=cwd,
            )
            self._procs.add(proc)
            return proc

    def done(self, proc: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._procs.discard(proc)

    def terminate(self) -> None:
        """Start nothing more; SIGTERM what runs, SIGKILL what is left after KILL_AFTER."""
        with self._lock:
            self.closed = True
            running = list(self._procs)
        for proc in running:
            _signal(proc, signal.SIGTERM)
        limit = time.monotonic() + KILL_AFTER
        for proc in running:
            try:
                proc.wait(max(0.0, limit - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal(proc, signal.SIGKILL)
                proc.wait()


def _signal(proc: subprocess.Popen[bytes], signum: int) -> None:
    try:
        proc.send_signal(signum)
    except ProcessLookupError:
        pass


def _run_one(children: _Children, root: str, agent: str, dry_run: bool) -> _Outcome:
    started, clock = stamp(now_seconds()), time.monotonic()
    try:
        proc = children.start(tick_argv(root, agent, dry_run), root)
    except OSError as exc:
        return _Outcome(
            agent, -1, "", f"{ERROR_PREFIX}cannot start the tick: {exc}\n", 0.0, started
        )
    if proc is None:  # the round was interrupted before this tick started
        return _Outcome(agent, -1, "", f"{ERROR_PREFIX}the round was interrupted\n", 0.0, started)
    try:
        out, err = proc.communicate()
    finally:
        children.done(proc)
    return _Outcome(
        agent,
        proc.returncode,
        out.decode("utf-8", "replace"),
        err.decode("utf-8", "replace"),
        time.monotonic() - clock,
        started,
    )


def run_round(
    ws: Workspace,
    jobs: int,
    dry_run: bool = False,
) -> list[dict[str, Any]]:
    """One tick of every agent, ``jobs`` at a time, each in its own process; the run records
    in name order, as :func:`agentctl.heartbeat.tick.tick_all` returns them (which this is
    with ``jobs`` 1). New conditions that need attention are raised once, before the round.
    Warnings of the ticks join ``ws.warnings``."""
    from agentctl.heartbeat.tick import tick_all

    ws.refresh()
    agents = [agent["name"] for agent in ws.index.agents()]
    if jobs <= 1 or len(agents) <= 1:
        return tick_all(ws, dry_run=dry_run)
    if not dry_run:
        try:
            ws.raise_attention()
        except AgentctlError as exc:  # the round goes on; the next one raises them
            ws.warnings.append(f"conditions needing attention were not raised: {exc.message}")
    root = str(ws.root)
    children = _Children()
    outcomes: dict[str, _Outcome] = {}
    pool = ThreadPoolExecutor(max_workers=min(jobs, len(agents)), thread_name_prefix="tick")
    try:
        futures = {agent: pool.submit(_run_one, children, root, agent, dry_run) for agent in agents}
        for agent, future in futures.items():
            outcomes[agent] = future.result()
    except BaseException:  # Ctrl-C, or stdout gone: no tick is left running unattended
        children.terminate()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return [_record(ws, outcomes[agent], dry_run) for agent in agents]


def _record(ws: Workspace, outcome: _Outcome, dry_run: bool) -> dict[str, Any]:
    """The run record of one tick process: the one it printed, or one saying how it ended."""
    errors: list[str] = []
    for line in outcome.stderr.splitlines():
        if line.startswith(WARNING_PREFIX):
            warning = line[len(WARNING_PREFIX) :]
            if warning not in ws.warnings:
                ws.warnings.append(warning)
        elif line.startswith(ERROR_PREFIX):
            errors.append(line[len(ERROR_PREFIX) :])
    record = _printed(outcome)
    if record is not None:
        return record
    if outcome.code == int(ExitCode.BUDGET):
        return {"agent": outcome.agent, "outcome": "budget", "error": _error_text(errors)}
    record = {
        "agent": outcome.agent,
        "started": outcome.started,
        "outcome": "failed",
        "error": f"the tick process {_ended(outcome.code)}: {_error_text(errors, outcome.stderr)}",
        "duration_ms": int(outcome.seconds * 1000),
    }
    if not dry_run:
        try:
            ws.record_run(record)  # the tick itself could not log it
        except (OSError, AgentctlError) as exc:
            ws.warnings.append(f"{outcome.agent}: the run was not logged: {exc}")
    return record


def _printed(outcome: _Outcome) -> dict[str, Any] | None:
    if not outcome.stdout.strip():
        return None
    try:
        document = json.loads(outcome.stdout)
    except json.JSONDecodeError:
        return None
    runs = document.get("runs") if isinstance(document, dict) else None
    if not isinstance(runs, list) or len(runs) != 1 or not isinstance(runs[0], dict):
        return None
    record: dict[str, Any] = runs[0]
    return record if record.get("agent") == outcome.agent else None


def _ended(code: int) -> str:
    if code < 0 and code != -1:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"was killed by {name}"
    if code == -1:
        return "did not run"
    return f"ended with exit code {code}"


def _error_text(errors: list[str], stderr: str = "") -> str:
    if errors:
        return errors[-1]
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith(HINT_PREFIX)]
    return lines[-1][:300] if lines else "no output"
