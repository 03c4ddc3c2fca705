"""When agents wake up, as operations any front end can offer: install, inspect and remove
this workspace's crontab block, and set up the foreground scheduler (``agentctl run``).

Each returns data (the CLI renders it); errors are :mod:`agentctl.errors`.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentctl.core import clock
from agentctl.core.rules import is_pending, pending_reason
from agentctl.core.schedule import Schedule, ScheduleError
from agentctl.errors import ConflictError, NotFoundError, UsageError

if TYPE_CHECKING:
    from agentctl.core.records import AgentRecord
    from agentctl.heartbeat.scheduler import Scheduler, TickResult
    from agentctl.workspace import Workspace


def agent_names(values: Sequence[str] | None) -> list[str]:
    """Agent names from repeatable and/or comma-separated options, in order, deduplicated."""
    names: list[str] = []
    for value in values or []:
        names.extend(part.strip() for part in value.split(",") if part.strip())
    return list(dict.fromkeys(names))


def select_agents(
    ws: Workspace, wanted: list[str], include_unowned: bool = False
) -> list[AgentRecord]:
    """The agents named, or all this machine runs when none is (``Workspace.agents_here``:
    its own, and unowned ones without a git remote or with ``include_unowned``; never
    proposed agents not yet approved). NotFoundError for an unknown agent or when none runs
    here, ConflictError for a proposed one or one owned by another machine."""
    from agentctl.paths import validate_name

    agents = ws.list_agents()
    if not agents:
        raise NotFoundError(
            "this workspace has no agents",
            hint="add one with 'agentctl agent add NAME --role ROLE'",
        )
    if not wanted:
        here = [agent for agent in ws.agents_here(include_unowned) if not is_pending(agent)]
        if not here:
            host = ws.host
            raise NotFoundError(
                f"no agent runs on this machine ({host}): the {len(agents)} agent(s) here "
                "run on other hosts or are unowned",
                hint=f"hand one over with 'agentctl agent move NAME --host {host}', "
                "or pass --include-unowned for unowned agents",
            )
        return here
    by_name = {agent["name"]: agent for agent in agents}
    for name in wanted:
        validate_name(name, "agent name")
        if name not in by_name:
            raise NotFoundError(f"no agent named {name!r}", hint="see 'agentctl agent list'")
        if is_pending(by_name[name]):
            raise ConflictError(pending_reason(name) + ": until then it never ticks")
        ws.require_runs_here(name)
    return [by_name[name] for name in wanted]


def schedules_for(
    agents: Sequence[AgentRecord],
    every: str | None,
    stagger: str,
    warnings: list[str] | None = None,
) -> list[Schedule]:
    from agentctl.core.schedule import build_schedules

    try:
        return build_schedules(agents, every, stagger, warnings)
    except ScheduleError as exc:
        raise UsageError(str(exc)) from None


def logs_dir(ws: Workspace) -> Path:
    """Where each agent's heartbeat output goes, ``AGENT.log`` (machine-local)."""
    return ws.layout.inside(ws.layout.local / "logs")


# -- cron --------------------------------------------------------------------------------------


@dataclass
class CronInstall:
    workspace: Path
    crontab: str  # the crontab program used
    changed: bool
    lines: list[dict[str, Any]]  # agent, schedule, every, line, log
    warnings: list[str]


def install_cron(
    ws: Workspace,
    agents: list[str],
    every: str | None,
    stagger: str,
    include_unowned: bool = False,
) -> CronInstall:
    """Write one crontab line per selected agent (:func:`select_agents`: by default those
    this machine runs) inside this workspace's marked block (the block is replaced in place;
    the rest of the crontab is left as it was)."""
    from agentctl.heartbeat import cron

    selected = select_agents(ws, agents, include_unowned)
    stagger_warnings: list[str] = []
    schedules = schedules_for(selected, every, stagger, stagger_warnings)
    logs = logs_dir(ws)
    python = os.path.abspath(sys.executable)
    from agentctl.workspace.hosts import machine_host

    host, source = machine_host(ws.layout)
    entries = []
    try:
        for schedule in schedules:
            log = logs / f"{schedule.agent}.log"
            command = cron.heartbeat_command(
                ws.root,
                schedule.agent,
                python,
                log,
                os.environ.get("PATH"),
                host if source == "env" else None,
            )
            entries.append(cron.CronEntry(schedule.agent, cron.cron_time(schedule), command, log))
        block = cron.render_block(ws.root, entries)
    except ScheduleError as exc:
        raise UsageError(
            str(exc),
            hint="pass --every, or change the agent with 'agentctl agent edit NAME --every 15m'",
        ) from None
    crontab = cron.Crontab()
    logs.mkdir(parents=True, exist_ok=True)
    before, after = cron.update(crontab, lambda text: cron.replace_block(text, ws.root, block))
    warnings = stagger_warnings + [w for entry in entries for w in entry.time.warnings]
    lines = [
        {
            "agent": entry.agent,
            "schedule": entry.time.fields(),
            "every": schedule.describe(),
            "line": entry.line(),
            "log": str(entry.log),
        }
        for entry, schedule in zip(entries, schedules, strict=True)
    ]
    return CronInstall(ws.root, crontab.binary, before != after, lines, warnings)


def cron_status(ws: Workspace) -> dict[str, Any]:
    """This workspace's crontab lines per agent, agents missing from it (of those this
    machine runs) or no longer in the workspace, other workspaces with a block, and each
    agent's host and log (last line, when)."""
    from agentctl.heartbeat import cron

    listed = ws.list_agents()
    agents = [a["name"] for a in listed]
    hosts = {a["name"]: a.get("host") for a in listed}
    here = {a["name"] for a in ws.agents_here()}
    text = cron.Crontab().read()
    installed = cron.read_block(text, ws.root)
    lines = installed or []
    logs = logs_dir(ws)
    rows = []
    for name in agents:
        mine = [line for line in lines if line.agent == name]
        info = cron.log_info(logs / f"{name}.log")
        rows.append(
            {
                "agent": name,
                "host": hosts[name],
                "installed": bool(mine),
                "schedule": mine[0].schedule if mine else None,
                "lines": [line.line for line in mine],
                "log": str(info.path),
                "log_exists": info.exists,
                "log_size": info.size,
                "log_modified": clock.iso(info.modified) if info.modified is not None else None,
                "last_log_line": info.last_line,
            }
        )
    return {
        "workspace": str(ws.root),
        "installed": installed is not None,
        "line_count": len(lines),
        "agents": rows,
        "missing": [row["agent"] for row in rows if not row["installed"] and row["agent"] in here],
        "extra": [
            {"agent": line.agent, "schedule": line.schedule, "line": line.line}
            for line in lines
            if line.agent not in agents
        ],
        "other_workspaces": [p for p in cron.block_workspaces(text) if p != str(ws.root)],
    }


def uninstall_cron(ws: Workspace) -> bool:
    """Remove this workspace's block from the crontab; whether there was one."""
    from agentctl.heartbeat import cron

    before, after = cron.update(cron.Crontab(), lambda text: cron.remove_block(text, ws.root)[0])
    return before != after


# -- the foreground scheduler --------------------------------------------------------------------


@dataclass
class ForegroundRun:
    """A scheduler ready to run in the foreground, and what to tell the user before it does."""

    scheduler: Scheduler
    schedules: list[Schedule]
    logs: Path
    first_ticks: dict[str, datetime]  # local wall-clock time of each agent's first tick


def prepare_run(
    ws: Workspace,
    agents: list[str],
    every: str | None,
    stagger: str,
    report: Callable[[TickResult], None],
    warn: Callable[[str], None],
    *,
    max_ticks: int | None = None,
    duration: float | None = None,
    grace: float = 0.0,
    tick_now: bool = False,
    jobs: int | None = None,
    include_unowned: bool = False,
) -> ForegroundRun:
    """A scheduler ticking the selected agents (each tick ``agentctl heartbeat AGENT`` in its own
    process, logged to ``AGENT.log``, at most ``jobs`` at once: default
    :func:`agentctl.heartbeat.parallel.default_jobs`, as for ``heartbeat --all``); ``report``
    gets each tick's outcome, ``warn`` each warning about the schedules. Closes ``ws``: the
    scheduler only starts processes."""
    from agentctl.heartbeat import scheduler as loop
    from agentctl.heartbeat.parallel import default_jobs

    selected = select_agents(ws, agents, include_unowned)
    warnings: list[str] = []
    schedules = schedules_for(selected, every, stagger, warnings)
    for warning in warnings:
        warn(warning)
    root, logs = ws.root, logs_dir(ws)
    ws.close()
    scheduler = loop.Scheduler(
        schedules,
        functools.partial(loop.heartbeat_argv, root),
        logs,
        report,
        max_ticks=max_ticks,
        duration=duration,
        grace=grace,
        tick_now=tick_now,
        jobs=default_jobs() if jobs is None else jobs,
        cwd=root,
    )
    try:
        starts = scheduler.due_times(scheduler.clock())
    except ScheduleError as exc:  # e.g. no slot of the interval falls inside active_hours
        raise UsageError(str(exc)) from None
    return ForegroundRun(scheduler, schedules, logs, starts)
