"""``agentctl cron install|status|uninstall`` and ``agentctl run``: when agents wake up."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from agentctl.cli import output
from agentctl.cli.common import JSON_OPTION, open_workspace, want_json
from agentctl.core import clock
from agentctl.errors import NotFoundError, UsageError
from agentctl.heartbeat.schedule import DEFAULT_STAGGER, Schedule, ScheduleError

if TYPE_CHECKING:
    from agentctl.heartbeat.scheduler import RunSummary, TickResult
    from agentctl.workspace import Workspace

app = typer.Typer(
    help="Install, inspect or remove the heartbeat lines of this workspace in your crontab.",
    rich_markup_mode=None,
    no_args_is_help=True,
    add_completion=False,
)
run_app = typer.Typer(rich_markup_mode=None, add_completion=False)

EVERY_HELP = "Interval for every agent instead of its heartbeat.every, e.g. 15m."
STAGGER_HELP = "Offset step between agents without a heartbeat.offset (agent i ticks i*STAGGER into each interval)."


# -- shared helpers ----------------------------------------------------------------------------


def _names(values: Sequence[str] | None) -> list[str]:
    """Agent names from repeatable and/or comma-separated options, in order, deduplicated."""
    names: list[str] = []
    for value in values or []:
        names.extend(part.strip() for part in value.split(",") if part.strip())
    return list(dict.fromkeys(names))


def _select(ws: Workspace, wanted: list[str]) -> list[dict[str, Any]]:
    from agentctl.paths import validate_name

    agents = ws.list_agents()
    if not agents:
        raise NotFoundError(
            "this workspace has no agents",
            hint="add one with 'agentctl agent add NAME --role ROLE'",
        )
    if not wanted:
        return agents
    by_name = {agent["name"]: agent for agent in agents}
    for name in wanted:
        validate_name(name, "agent name")
        if name not in by_name:
            raise NotFoundError(f"no agent named {name!r}", hint="see 'agentctl agent list'")
    return [by_name[name] for name in wanted]


def _schedules(
    agents: list[dict[str, Any]], every: str | None, stagger: str, warnings: list[str] | None = None
) -> list[Schedule]:
    from agentctl.heartbeat.schedule import build_schedules

    try:
        return build_schedules(agents, every, stagger, warnings)
    except ScheduleError as exc:
        raise UsageError(str(exc)) from None


def _logs_dir(ws: Workspace) -> Path:
    return ws.layout.inside(ws.layout.local / "logs")


def _stamp(moment: Any) -> str | None:
    return clock.iso(moment) if moment is not None else None


# -- cron --------------------------------------------------------------------------------------


@app.command("install")
def install(
    ctx: typer.Context,
    agent: list[str] = typer.Option(
        None, "--agent", "-a", help="Only this agent (repeatable; default: all agents)."
    ),
    every: str = typer.Option(None, "--every", help=EVERY_HELP),
    stagger: str = typer.Option(DEFAULT_STAGGER, "--stagger", help=STAGGER_HELP),
    json_: bool = JSON_OPTION,
) -> None:
    """Write one crontab line per agent inside this workspace's marked block.

    The block is replaced in place when it exists (installing twice leaves one block) and
    holds exactly the agents selected now; the rest of your crontab is left as it was. Each
    line runs 'python -m agentctl -W WORKSPACE heartbeat AGENT' with absolute paths and
    your current PATH, appending to .agentctl/local/logs/AGENT.log. See docs/scheduling.md.
    """
    from agentctl.heartbeat import cron

    ws = open_workspace(ctx)
    agents = _select(ws, _names(agent))
    stagger_warnings: list[str] = []
    schedules = _schedules(agents, every, stagger, stagger_warnings)
    logs = _logs_dir(ws)
    python = os.path.abspath(sys.executable)
    entries = []
    try:
        for schedule in schedules:
            log = logs / f"{schedule.agent}.log"
            command = cron.heartbeat_command(
                ws.root, schedule.agent, python, log, os.environ.get("PATH")
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
    for warning in warnings:
        output.notice(f"warning: {warning}")
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
    if want_json(ctx, json_):
        output.emit_json(
            {
                "workspace": str(ws.root),
                "crontab": crontab.binary,
                "changed": before != after,
                "lines": lines,
                "warnings": warnings,
            }
        )
        return
    verb = "installed" if before != after else "already installed (unchanged)"
    output.say(f"{verb}: {len(entries)} crontab line(s) for {ws.root}")
    output.write(
        output.plain_table(
            ["AGENT", "SCHEDULE", "WHEN", "LOG"],
            [
                [row["agent"], row["schedule"], row["every"], ws.layout.relative(Path(row["log"]))]
                for row in lines
            ],
        )
    )


@app.command("status")
def status(ctx: typer.Context, json_: bool = JSON_OPTION) -> None:
    """Show this workspace's crontab lines per agent, agents missing from it or no longer in
    the workspace, and each agent's log: last line and when it was written."""
    from agentctl.heartbeat import cron

    ws = open_workspace(ctx)
    agents = [a["name"] for a in ws.list_agents()]
    text = cron.Crontab().read()
    installed = cron.read_block(text, ws.root)
    lines = installed or []
    logs = _logs_dir(ws)
    rows = []
    for name in agents:
        mine = [line for line in lines if line.agent == name]
        info = cron.log_info(logs / f"{name}.log")
        rows.append(
            {
                "agent": name,
                "installed": bool(mine),
                "schedule": mine[0].schedule if mine else None,
                "lines": [line.line for line in mine],
                "log": str(info.path),
                "log_exists": info.exists,
                "log_size": info.size,
                "log_modified": _stamp(info.modified),
                "last_log_line": info.last_line,
            }
        )
    missing = [row["agent"] for row in rows if not row["installed"]]
    extra = [
        {"agent": line.agent, "schedule": line.schedule, "line": line.line}
        for line in lines
        if line.agent not in agents
    ]
    others = [path for path in cron.block_workspaces(text) if path != str(ws.root)]
    if want_json(ctx, json_):
        output.emit_json(
            {
                "workspace": str(ws.root),
                "installed": installed is not None,
                "agents": rows,
                "missing": missing,
                "extra": extra,
                "other_workspaces": others,
            }
        )
        return
    if installed is None:
        output.say(f"not installed: the crontab has no agentctl block for {ws.root}")
    else:
        output.say(f"installed: {len(lines)} line(s) in the crontab block for {ws.root}")
    table_rows = [
        [
            row["agent"],
            row["schedule"] or "-",
            row["log_modified"] or "never",
            row["last_log_line"] or "",
        ]
        for row in rows
    ]
    if table_rows:
        output.write(
            output.plain_table(["AGENT", "SCHEDULE", "LOG UPDATED", "LAST LOG LINE"], table_rows)
        )
    if installed is not None and missing:
        output.say(f"missing (no line): {', '.join(missing)}  -> run 'agentctl cron install'")
    for item in extra:
        output.say(f"extra (not an agent here): {item['agent'] or '?'}: {item['line']}")
    if others:
        output.say(f"other workspaces with a block: {', '.join(others)}")


@app.command("uninstall")
def uninstall(ctx: typer.Context, json_: bool = JSON_OPTION) -> None:
    """Remove this workspace's block from your crontab; every other line stays as it was."""
    from agentctl.heartbeat import cron

    ws = open_workspace(ctx)
    before, after = cron.update(cron.Crontab(), lambda text: cron.remove_block(text, ws.root)[0])
    removed = before != after
    if want_json(ctx, json_):
        output.emit_json({"workspace": str(ws.root), "removed": removed})
    elif removed:
        output.say(f"removed the agentctl block for {ws.root} from the crontab")
    else:
        output.say(f"nothing to remove: the crontab has no agentctl block for {ws.root}")


# -- run ---------------------------------------------------------------------------------------


def _seconds(value: str | None, option: str) -> float | None:
    from agentctl.core.duration import parse_duration

    if value is None:
        return None
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from None


def _json_line(document: dict[str, Any]) -> None:
    """``run --json`` streams JSON Lines: one compact document per line, each versioned."""
    import json

    output.write(
        json.dumps({"schema_version": output.SCHEMA_VERSION, **document}, ensure_ascii=False) + "\n"
    )


@run_app.command()
def run(
    ctx: typer.Context,
    agents: list[str] = typer.Option(
        None, "--agents", "-a", help="Comma-separated agent names (repeatable; default: all)."
    ),
    every: str = typer.Option(None, "--every", help=EVERY_HELP),
    stagger: str = typer.Option(DEFAULT_STAGGER, "--stagger", help=STAGGER_HELP),
    for_: str = typer.Option(
        None, "--for", help="Stop after this long, e.g. 8h (default: until Ctrl-C or SIGTERM)."
    ),
    max_ticks: int = typer.Option(
        None,
        "--max-ticks",
        min=1,
        help="Stop after this many ticks have started (all agents together).",
    ),
    now: bool = typer.Option(
        False, "--now", help="Tick every agent once at start instead of waiting for its first slot."
    ),
    grace: str = typer.Option(
        "30s",
        "--grace",
        help="On stop, how long running ticks may finish before they are terminated.",
    ),
    json_: bool = typer.Option(
        False,
        "--json",
        help="Print JSON Lines: one document per tick, then a summary (each with schema_version).",
    ),
) -> None:
    """Tick agents in the foreground on their schedules (for machines without cron).

    Each tick is 'agentctl heartbeat AGENT' in its own process, logged to
    .agentctl/local/logs/AGENT.log; one line per tick outcome is printed. An agent never
    overlaps itself: a slot that comes while its previous tick runs is skipped. Ctrl-C or
    SIGTERM stops scheduling, lets running ticks finish within --grace, then terminates
    them, and exits 0 (a second Ctrl-C terminates at once).
    """
    from agentctl.heartbeat import scheduler as loop

    duration = _seconds(for_, "--for")
    grace_seconds = _seconds(grace, "--grace") or 0.0
    ws = open_workspace(ctx)
    selected = _select(ws, _names(agents))
    stagger_warnings: list[str] = []
    schedules = _schedules(selected, every, stagger, stagger_warnings)
    for warning in stagger_warnings:
        output.notice(f"warning: {warning}")
    root, logs = ws.root, _logs_dir(ws)
    ws.close()
    as_json = want_json(ctx, json_)

    def report(result: TickResult) -> None:
        if as_json:
            _json_line({"event": "tick", **result.as_dict()})
        else:
            output.write(result.line() + "\n")

    scheduler = loop.Scheduler(
        schedules,
        functools.partial(loop.heartbeat_argv, root),
        logs,
        report,
        max_ticks=max_ticks,
        duration=duration,
        grace=grace_seconds,
        tick_now=now,
        cwd=root,
    )
    try:
        starts = scheduler.due_times(scheduler.clock())
    except ScheduleError as exc:  # e.g. no slot of the interval falls inside active_hours
        raise UsageError(str(exc)) from None
    for schedule in schedules:
        first = clock.show(starts[schedule.agent], clock.TIME)
        output.notice(f"run: {schedule.agent} {schedule.describe()}, first tick {first}")
    output.notice(f"run: logs in {logs}; Ctrl-C or SIGTERM to stop")
    restore = loop.install_signal_handlers(scheduler)
    try:
        summary: RunSummary = scheduler.run()
    finally:
        restore()
    if as_json:
        _json_line({"event": "stopped", **summary.as_dict()})
    else:
        output.notice(
            f"run: stopped ({summary.reason}): {summary.started} tick(s) started, {summary.failed} failed, "
            f"{summary.skipped} skipped, {summary.terminated} terminated"
        )
