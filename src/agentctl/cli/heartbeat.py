"""``agentctl heartbeat``, ``agentctl runs`` and ``agentctl prime``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from agentctl.cli import output
from agentctl.cli.common import JSON_OPTION, globals_of, open_workspace, want_json
from agentctl.errors import NotFoundError, UsageError

if TYPE_CHECKING:
    from agentctl.workspace import Workspace

heartbeat_app = typer.Typer(rich_markup_mode=None)
runs_app = typer.Typer(rich_markup_mode=None)
prime_app = typer.Typer(rich_markup_mode=None)


def describe(record: dict[str, Any]) -> str:
    outcome = record.get("outcome")
    started = str(record.get("started", ""))
    text = f"{started + ' ' if started else ''}{record['agent']}: {outcome}"
    if outcome == "worked":
        text += f" · {record.get('applied', 0)} applied, {record.get('rejected', 0)} rejected"
        tokens = record.get("tokens_in", 0) + record.get("tokens_out", 0)
        if tokens:
            text += f" · {tokens} tokens"
        if record.get("cost_usd"):
            text += f" · ${record['cost_usd']:.4f}"
        if record.get("repair"):
            text += " · after a repair turn"
    elif outcome == "waiting":
        work = record.get("work") or {}
        text += " · " + ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in work.items() if v)
        text += " · manual runtime: nothing applied; 'agentctl runs --json' shows the prompt"
    elif outcome == "would_work":
        work = record.get("work") or {}
        text += " · " + ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in work.items() if v)
        text += f" · prompt ≈{record.get('prompt_tokens', 0)} tokens"
    if record.get("reason"):
        text += f" · {record['reason']}"
    if record.get("error"):
        text += f" · {record['error']}"
    if "duration_ms" in record:
        text += f" · {record['duration_ms']} ms"
    return text


@heartbeat_app.command()
def heartbeat(
    ctx: typer.Context,
    agent: str = typer.Argument(None, help="The agent to tick (default: --as)."),
    all_: bool = typer.Option(False, "--all", help="Tick every agent once, in name order."),
    jobs: int = typer.Option(
        None,
        "--jobs",
        "-j",
        min=1,
        envvar="AGENTCTL_JOBS",
        help="With --all: tick up to N agents at once, each in its own process (default: "
        "2 per CPU core, 2 to 8); 1 ticks them one after another in this process.",
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", "-n", help="Show what the tick would do; call nothing, write nothing."
    ),
    include_unowned: bool = typer.Option(
        False,
        "--include-unowned",
        help="With --all: tick agents with no host too (the default only without a git remote).",
    ),
    force: bool = typer.Option(
        False, "--force", help="Tick the named agent even though another machine owns it."
    ),
    json_: bool = JSON_OPTION,
) -> None:
    """One heartbeat tick: collect work, call the runtime only if there is any, apply its actions.

    --all ticks the agents this machine runs: those whose host is this machine ('agentctl
    host'), and agents with no host when the workspace has no git remote or with
    --include-unowned. A named agent another machine owns is refused (exit 5) unless --force.

    Exit 0 when idle, worked, waiting (a manual agent: its work and prompt are reported,
    nothing is applied) or skipped (another tick of the agent is running, or it backs off
    after a failure); 11 when the runtime failed; 10 when a budget stopped it; 5 when a
    simulated agent was refused (the config does not say allow_simulated: true) or the agent
    is a proposed one waiting for a person's approval (--all skips those). With --all, the
    worst of these over the round (10, then 11, then 5); a tick process that crashed or was
    killed counts as failed. With heartbeat.sync: true in the config, 'agentctl sync' runs
    before and after the tick (a failed sync is a warning, not a failed tick).
    """
    from agentctl.heartbeat.tick import exit_code, tick

    ws = open_workspace(ctx, warn=False)
    name = agent or globals_of(ctx).as_agent
    if all_ and agent:
        raise UsageError("give an agent or --all, not both")
    if all_ and force:
        raise UsageError("--force ticks one named agent; --all takes this machine's agents")
    if not all_ and not name:
        raise UsageError("say which agent: agentctl heartbeat AGENT (or --all)")
    syncing = not dry_run and bool(ws.config["heartbeat"]["sync"])
    if syncing:
        _sync(ws, "before")
    if all_:
        from agentctl.heartbeat.parallel import default_jobs, run_round

        records = run_round(
            ws,
            default_jobs() if jobs is None else jobs,
            dry_run=dry_run,
            include_unowned=include_unowned,
        )
        if not records:
            output.notice(
                f"no agent runs on this machine ({ws.host}); see 'agentctl agent list' (HOST)"
            )
    else:
        if not force:
            ws.require_runs_here(str(name))
        records = [tick(ws, str(name), dry_run=dry_run)]
    if syncing:
        _sync(ws, "after")
    if want_json(ctx, json_):
        output.emit_json({"runs": records})
    else:
        output.write("".join(describe(r) + "\n" for r in records))
    code = exit_code(records)
    if code:
        _report_errors(records)
        raise typer.Exit(code)


def _sync(ws: Workspace, when: str) -> None:
    """``heartbeat.sync: true``: the same sync as ``agentctl sync``; a failure is a warning
    on stderr, never a failed tick (the next tick syncs again)."""
    from agentctl.errors import AgentctlError

    try:
        ws.sync()
    except AgentctlError as exc:
        output.notice(f"warning: sync {when} the tick failed: {exc.message}")


def _report_errors(records: list[dict[str, Any]]) -> None:
    """A failed tick is also an error line on stderr (stdout stays the run records): one line,
    plus the runtime's hint when one agent was ticked."""
    import sys

    failed = [
        r
        for r in records
        if r.get("outcome") in ("failed", "budget", "refused")
        and (r.get("error") or r.get("reason"))
    ]
    lines = []
    for record in failed:
        message = " ".join(str(record.get("error") or record["reason"]).split())
        if not message.startswith((f"agent {record['agent']}:", f"{record['agent']}:")):
            message = f"{record['agent']}: {message}"
        lines.append(f"agentctl: error: {message}\n")
        if len(records) == 1 and record.get("hint"):
            lines.append(f"agentctl: hint: {record['hint']}\n")
    from agentctl.core.secrets import mask

    sys.stderr.write(mask("".join(lines)))


@runs_app.command()
def runs(
    ctx: typer.Context,
    agent: str = typer.Argument(None, help="Only this agent's runs."),
    limit: int = typer.Option(20, "--limit", "-n", min=1, help="At most the latest N runs."),
    show: str = typer.Option(
        None, "--show", help="Print one run (ID or prefix): its raw answers, repair, rejections."
    ),
    json_: bool = JSON_OPTION,
) -> None:
    """Recent heartbeat runs on this machine (outcome, actions, tokens, cost), oldest first."""
    ws = open_workspace(ctx)
    if show:
        record = ws.run(show)
        if want_json(ctx, json_):
            output.emit_json({"run": record})
        else:
            output.write(show_run(record))
        return
    records = ws.runs(agent, limit)
    if agent and not records:
        from agentctl.paths import validate_name

        ws.refresh()
        if ws.index.agent(validate_name(agent, "agent name")) is None:
            raise NotFoundError(f"no agent named {agent!r}", hint="see 'agentctl agent list'")
    if want_json(ctx, json_):
        output.emit_json({"runs": records})
        return
    if not records:
        output.say("no runs recorded on this machine yet (agentctl heartbeat AGENT)")
        return
    rows = []
    for r in records:
        tokens = r.get("tokens_in", 0) + r.get("tokens_out", 0)
        rows.append([
            str(r.get("id", "")), r.get("started", "")[:16].replace("T", " "), r["agent"], str(r.get("outcome")), str(r.get("applied", "")),
            str(r.get("rejected", "")), str(tokens or ""), f"{r['cost_usd']:.4f}" if r.get("cost_usd") else "",
            f"{r.get('duration_ms', '')}", (r.get("error") or r.get("reason") or "")[:80],
        ])  # fmt: skip
    output.table(
        [
            "RUN",
            "STARTED",
            "AGENT",
            "OUTCOME",
            "APPLIED",
            "REJECTED",
            "TOKENS",
            "USD",
            "MS",
            "NOTE",
        ],
        rows,
    )


def show_run(record: dict[str, Any]) -> str:
    """One run for people: the summary line, then each raw answer with its problems, what was
    applied and what was rejected (all masked when logged; control characters shown as '?',
    since a model's text must not drive the terminal)."""
    from agentctl.core.text import CONTROL_CHARS

    lines = [f"run {record.get('id', '?')}", describe(record)]
    if record.get("hint"):
        lines.append(f"hint: {record['hint']}")
    answers = record.get("answers") or []
    used = (record.get("repair") or {}).get("used", len(answers) - 1)
    for entry in answers:
        turn = entry.get("turn", 0)
        title = "answer" if turn == 0 else f"repair turn {turn}"
        mark = " (used)" if len(answers) > 1 and turn == used else ""
        text = CONTROL_CHARS.sub("?", str(entry.get("text", "")).replace("\r\n", "\n"))
        lines += ["", f"--- {title}{mark} ---", text.rstrip()]
        if entry.get("omitted_chars"):
            lines.append(f"[… {entry['omitted_chars']} more characters not kept]")
        lines += [f"  problem: {p}" for p in entry.get("problems") or []]
    if record.get("repair_error"):
        lines.append(f"repair call failed: {record['repair_error']}")
    applied = [a for a in record.get("actions") or [] if a.get("action") != "noop"]
    if applied:
        lines += ["", "applied:"] + [
            "  " + " ".join(f"{k}={v}" for k, v in a.items() if v not in (None, ""))
            for a in applied
        ]
    if record.get("new_root_files"):
        lines += [
            "",
            "new files in the workspace root (left in place): "
            + ", ".join(record["new_root_files"]),
        ]
    if record.get("rejections"):
        lines += ["", "rejected:"] + [
            f"  {r.get('action')}: {r.get('reason')}" for r in record["rejections"]
        ]
    return CONTROL_CHARS.sub("?", "\n".join(lines)) + "\n"


@prime_app.command()
def prime(
    ctx: typer.Context,
    agent: str = typer.Option(
        None, "--agent", "-a", help="The agent (default: --as / $AGENTCTL_AGENT)."
    ),
    json_: bool = JSON_OPTION,
) -> None:
    """Print exactly the context a heartbeat tick would give the agent (calls nothing)."""
    from agentctl.heartbeat.context import build_prompt, collect

    ws = open_workspace(ctx)
    name = agent or globals_of(ctx).as_agent
    if not name:
        raise UsageError("say which agent: agentctl prime --agent NAME (or --as NAME)")
    work = collect(ws, name)
    prompt = build_prompt(ws, work)
    if want_json(ctx, json_):
        output.emit_json(
            {
                "agent": name,
                "system": prompt.system,
                "prompt": prompt.prompt,
                "tokens": prompt.tokens,
                "work": work.summary(),
            }
        )
        return
    output.write(f"# System\n\n{prompt.system}\n\n# Context\n\n{prompt.prompt}\n")
