"""A round of heartbeats with the ticks of different agents at once (``heartbeat --all --jobs N``).

Each agent's tick runs in its own process, at most ``jobs`` at a time, started in name order.
A tick spends nearly all its time waiting for the model or the command, outside the
workspace lock, so the ticks overlap where they wait and serialise only where they write
(each write takes the workspace lock; each tick's commit takes git's index lock). Two agents
racing for one task meet in the atomic claim at apply time: the loser's action is rejected
with the reason, as any rejected action is.

A process per tick, not a thread: a tick that crashes, hangs in a C library or is killed
takes only itself down, and every tick has its own workspace object, run lock, containment
window and journal owner, as when cron starts it. The processes are forked by a
``multiprocessing`` fork server that imported the tick's modules once for the round (a
fresh interpreter per tick would spend ~0.4 s of CPU on imports, which on a small machine
is most of a tick's CPU). Each child takes the parent's environment and working directory
as they are when it starts, opens the workspace, ticks and sends back its run record. The
parent returns the records in agent order; a tick that ends without one (killed, crashed)
becomes a ``failed`` record, logged to the run log.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentctl.core.clock import now_seconds, stamp
from agentctl.errors import AgentctlError

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.context import ForkServerContext
    from multiprocessing.process import BaseProcess

    from agentctl.workspace import Workspace

MAX_DEFAULT_JOBS = 8
KILL_AFTER = 5.0  # seconds between SIGINT and SIGKILL for ticks left running by an interrupt
# Imported once by the fork server, so each tick starts warm. The CLI app too: a child
# re-runs the parent's ``__main__`` (``agentctl.__main__`` or the ``agentctl`` script), which
# imports it. Not litellm: a library that starts threads at import must not be imported by a
# process that forks.
PRELOAD = [
    "agentctl.cli.app",
    "agentctl.heartbeat.tick",
    "agentctl.heartbeat.context",
    "agentctl.heartbeat.contain",
    "agentctl.heartbeat.sandbox",
    "agentctl.core.actions",
    "agentctl.runtime.command",
    "agentctl.runtime.simulated",
    "agentctl.runtime.llm",
    "agentctl.workspace",
    "agentctl.store.frontmatter",
    "agentctl.vcs",
    "agentctl.heartbeat.warm",  # last: builds the action schema the ticks share
]


def default_jobs(cpus: int | None = None) -> int:
    """Two ticks per CPU core, at least 2 and at most 8 (see docs/decisions.md): a tick mostly
    waits for its model, but applying an answer costs CPU, command agents may be CPU-heavy,
    and providers limit concurrent requests."""
    count = os.cpu_count() if cpus is None else cpus
    return max(2, min(MAX_DEFAULT_JOBS, 2 * (count or 1)))


def _context() -> ForkServerContext:
    import multiprocessing

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)  # only read when the server starts
    return context


def _tick_child(
    root: str, agent: str, dry_run: bool, env: dict[str, str], conn: Connection
) -> None:
    """In the child: one tick, its run record (or how it failed) and warnings sent back."""
    os.environ.clear()
    os.environ.update(env)  # as the parent's is now (the fork server's may be older)
    os.chdir(root)
    from agentctl.core import secrets
    from agentctl.errors import BudgetError
    from agentctl.heartbeat.tick import tick
    from agentctl.workspace import Workspace

    secrets.reset(names=True)
    message: dict[str, Any] = {}
    ws: Workspace | None = None
    try:
        ws = Workspace(Path(root))
        message["record"] = tick(ws, agent, dry_run=dry_run, escalate=False)
    except BudgetError as exc:
        message["budget"] = exc.message
    except AgentctlError as exc:  # e.g. the workspace lock timed out mid-tick
        message["error"] = exc.message
    except Exception as exc:  # a bug: this tick fails with its name, the round goes on
        message["error"] = secrets.mask(f"internal error: {type(exc).__name__}: {exc}")
    except KeyboardInterrupt:  # the round is being stopped: end like an interrupted tick
        message["error"] = "interrupted"
    finally:
        if ws is not None:
            message["warnings"] = list(ws.warnings)
            ws.close()
    conn.send(message)
    conn.close()


@dataclass
class _Running:
    agent: str
    process: BaseProcess
    conn: Connection
    started: str
    clock: float
    message: dict[str, Any] | None = None
    done: bool = field(default=False)

    def receive(self) -> None:
        """Take the child's message if it is there (EOF: the child died without one)."""
        if self.message is not None or self.done:
            return
        try:
            if self.conn.poll():
                self.message = self.conn.recv()
        except (EOFError, OSError):
            self.done = True


def run_round(
    ws: Workspace, jobs: int, dry_run: bool = False, include_unowned: bool = False
) -> list[dict[str, Any]]:
    """One tick of every agent this machine runs (``Workspace.agents_here``), ``jobs`` at a
    time, each in its own process; the run records in name order, as
    :func:`agentctl.heartbeat.tick.tick_all` returns them (which this is with ``jobs`` 1).
    New conditions that need attention are raised once, before the round. The ticks'
    warnings join ``ws.warnings``."""
    from agentctl.heartbeat.tick import tick_all

    ws.refresh()
    agents = [agent["name"] for agent in ws.agents_here(include_unowned)]
    if jobs <= 1 or len(agents) <= 1:
        return tick_all(ws, dry_run=dry_run, include_unowned=include_unowned)
    context = _context()
    from multiprocessing import forkserver

    forkserver.ensure_running()  # it imports PRELOAD while this process raises attention
    if not dry_run:
        try:
            ws.raise_attention()
        except AgentctlError as exc:  # the round goes on; the next one raises them
            ws.warnings.append(f"conditions needing attention were not raised: {exc.message}")
    from multiprocessing.connection import wait

    root = str(ws.root)
    waiting = list(agents)
    running: dict[str, _Running] = {}
    records: dict[str, dict[str, Any]] = {}
    try:
        while waiting or running:
            while waiting and len(running) < jobs:
                agent = waiting.pop(0)
                receiver, sender = context.Pipe(duplex=False)
                process = context.Process(
                    target=_tick_child,
                    args=(root, agent, dry_run, dict(os.environ), sender),
                    name=f"agentctl-tick-{agent}",
                )
                started, clock = stamp(now_seconds()), time.monotonic()
                process.start()
                sender.close()  # the child holds the only sending end: EOF when it dies
                running[agent] = _Running(agent, process, receiver, started, clock)
            listening = [c.conn for c in running.values() if c.message is None and not c.done]
            wait(listening + [c.process.sentinel for c in running.values()])
            for agent, child in list(running.items()):
                child.receive()
                if child.process.exitcode is None:
                    continue
                child.receive()  # sent just before it ended
                child.process.join()
                child.conn.close()
                del running[agent]
                records[agent] = _tick_record(ws, child, dry_run)
    except BaseException:  # Ctrl-C, or stdout gone: no tick is left running unattended
        _terminate([child.process for child in running.values()])
        raise
    return [records[agent] for agent in agents]


def _terminate(processes: list[BaseProcess]) -> None:
    """Interrupt the ticks (SIGINT, as Ctrl-C does: each unwinds like an interrupted tick);
    SIGKILL what is left after KILL_AFTER."""
    for process in processes:
        if process.pid is not None and process.exitcode is None:
            try:
                os.kill(process.pid, signal.SIGINT)
            except ProcessLookupError:
                pass
    limit = time.monotonic() + KILL_AFTER
    for process in processes:
        process.join(max(0.0, limit - time.monotonic()))
        if process.exitcode is None:
            process.kill()
            process.join()


def _tick_record(ws: Workspace, tick: _Running, dry_run: bool) -> dict[str, Any]:
    """The run record of one tick: the one it made, or one saying how its process ended."""
    message = tick.message or {}
    for warning in message.get("warnings", []):
        if warning not in ws.warnings:
            ws.warnings.append(warning)
    if "record" in message:
        record: dict[str, Any] = message["record"]
        return record
    if "budget" in message:
        return {"agent": tick.agent, "outcome": "budget", "error": message["budget"]}
    if "error" in message:
        error = str(message["error"])
    else:
        error = f"the tick process {_ended(tick.process.exitcode)}"
    record = {
        "agent": tick.agent,
        "started": tick.started,
        "outcome": "failed",
        "error": error,
        "duration_ms": int((time.monotonic() - tick.clock) * 1000),
    }
    if not dry_run:
        try:
            ws.record_run(record)  # the tick itself could not log it
        except (OSError, AgentctlError) as exc:
            ws.warnings.append(f"{tick.agent}: the run was not logged: {exc}")
    return record


def _ended(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"ended with exit code {code} without a run record"
