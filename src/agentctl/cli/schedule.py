"""``agentctl cron install|status|uninstall`` and ``agentctl run``: when agents wake up."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from agentctl.cli import output
from agentctl.cli.common import JSON_OPTION, open_workspace, want_json
from agentctl.core import clock
from agentctl.core.schedule import DEFAULT_STAGGER
from agentctl.errors import UsageError
from agentctl.heartbeat import runner

if TYPE_CHECKING:
    from agentctl.heartbeat.scheduler import RunSummary, TickResult

app = typer.Typer(
    help="Install, inspect or remove the heartbeat lines of this workspace in your crontab.",
    rich_markup_mode=None,
    no_args_is_help=True,
    add_completion=False,
)
run_app = typer.Typer(rich_markup_mode=None, add_completion=False)

EVERY_HELP = "Interval for every agent instead of its heartbeat.every, e.g. 15m."
STAGGER_HELP = "Offset step between agents without a heartbeat.offset (agent i ticks i*STAGGER into each interval)."
UNOWNED_HELP = "Also agents with no host (the default only when the workspace has no git remote)."


# -- cron --------------------------------------------------------------------------------------


@app.command("install")
def install(
    ctx: typer.Context,
    agent: list[str] = typer.Option(
        None, "--agent", "-a", help="Only this agent (repeatable; default: all agents)."
    ),
    every: str = typer.Option(None, "--every", help=EVERY_HELP),
    stagger: str = typer.Option(DEFAULT_STAGGER, "--stagger", help=STAGGER_HELP),
    include_unowned: bool = typer.Option(False, "--include-unowned", help=UNOWNED_HELP),
    json_: bool = JSON_OPTION,
) -> None:
    """Write one crontab line per agent this machine runs inside this workspace's marked block.

    By default the agents whose host is this machine ('agentctl host'), and agents with no
    host when the workspace has no git remote or with --include-unowned; naming an agent
    another machine owns is refused (exit 5). See docs/teams.md.

    The block is replaced in place when it exists (installing twice leaves one block) and
    holds exactly the agents selected now; the rest of your crontab is left as it was. Each
    line runs 'python -m agentctl -W WORKSPACE heartbeat AGENT' with absolute paths and
    your current PATH, appending to .agentctl/local/logs/AGENT.log. See docs/scheduling.md.
    """
    ws = open_workspace(ctx)
    done = runner.install_cron(ws, runner.agent_names(agent), every, stagger, include_unowned)
    for warning in done.warnings:
        output.notice(f"warning: {warning}")
    lines = done.lines
    if want_json(ctx, json_):
        output.emit_json(
            {
                "workspace": str(ws.root),
                "crontab": done.crontab,
                "changed": done.changed,
                "lines": lines,
                "warnings": done.warnings,
            }
        )
        return
    verb = "installed" if done.changed else "already installed (unchanged)"
    output.say(f"{verb}: {len(lines)} crontab line(s) for {ws.root}")
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
    """Show this workspace's crontab lines per agent, agents missing from it (of those this
    machine runs) or no longer in the workspace, and each agent's log: last line and when it
    was written."""
    ws = open_workspace(ctx)
    found = runner.cron_status(ws)
    if want_json(ctx, json_):
        output.emit_json({key: value for key, value in found.items() if key != "line_count"})
        return
    rows, missing, extra, others = (
        found["agents"],
        found["missing"],
        found["extra"],
        found["other_workspaces"],
    )
    installed = found["installed"] or None
    if installed is None:
        output.say(f"not installed: the crontab has no agentctl block for {ws.root}")
    else:
        output.say(f"installed: {found['line_count']} line(s) in the crontab block for {ws.root}")
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
    ws = open_workspace(ctx)
    removed = runner.uninstall_cron(ws)
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
    include_unowned: bool = typer.Option(False, "--include-unowned", help=UNOWNED_HELP),
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
    jobs: int = typer.Option(
        None,
        "--jobs",
        "-j",
        min=1,
        envvar="AGENTCTL_JOBS",
        help="At most N ticks at once; due ticks wait for a free one "
        "(default: 2 per CPU core, 2 to 8, as for 'heartbeat --all').",
    ),
    json_: bool = typer.Option(
        False,
        "--json",
        help="Print JSON Lines: one document per tick, then a summary (each with schema_version).",
    ),
) -> None:
    """Tick this machine's agents in the foreground on their schedules (for machines without cron).

    The agents are chosen as for 'cron install': those whose host is this machine, and
    agents with no host when the workspace has no git remote or with --include-unowned.

    Each tick is 'agentctl heartbeat AGENT' in its own process, logged to
    .agentctl/local/logs/AGENT.log; one line per tick outcome is printed. An agent never
    overlaps itself: a slot that comes while its previous tick runs is skipped; at most
    --jobs ticks run at once, and a due tick waits for one of them to end. Ctrl-C or
    SIGTERM stops scheduling, lets running ticks finish within --grace, then terminates
    them, and exits 0 (a second Ctrl-C terminates at once).
    """
    from agentctl.heartbeat import scheduler as loop

    duration = _seconds(for_, "--for")
    grace_seconds = _seconds(grace, "--grace") or 0.0
    ws = open_workspace(ctx)
    as_json = want_json(ctx, json_)

    def report(result: TickResult) -> None:
        if as_json:
            _json_line({"event": "tick", **result.as_dict()})
        else:
            output.write(result.line() + "\n")

    prepared = runner.prepare_run(
        ws,
        runner.agent_names(agents),
        every,
        stagger,
        report,
        lambda warning: output.notice(f"warning: {warning}"),
        max_ticks=max_ticks,
        duration=duration,
        grace=grace_seconds,
        tick_now=now,
        jobs=jobs,
        include_unowned=include_unowned,
    )
    scheduler = prepared.scheduler
    for schedule in prepared.schedules:
        first = clock.show(prepared.first_ticks[schedule.agent], clock.TIME)
        output.notice(f"run: {schedule.agent} {schedule.describe()}, first tick {first}")
    output.notice(f"run: logs in {prepared.logs}; Ctrl-C or SIGTERM to stop")
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
