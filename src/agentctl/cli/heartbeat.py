"""``agentctl heartbeat``, ``agentctl runs`` and ``agentctl prime``."""

from __future__ import annotations

from typing import Any

import typer

from agentctl.cli import output
from agentctl.cli.common import JSON_OPTION, globals_of, open_workspace, want_json
from agentctl.errors import NotFoundError, UsageError

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
    dry_run: bool = typer.Option(
        False, "--dry-run", "-n", help="Show what the tick would do; call nothing, write nothing."
    ),
    json_: bool = JSON_OPTION,
) -> None:
    """One heartbeat tick: collect work, call the runtime only if there is any, apply its actions.

    Exit 0 when idle, worked, waiting (a manual agent: its work and prompt are reported,
    nothing is applied) or skipped (another tick of the agent is running, or it backs off
    after a failure); 11 when the runtime failed; 10 when a budget stopped it; 5 when a
    simulated agent was refused (the config does not say allow_simulated: true) or the agent
    is a proposed one waiting for a person's approval (--all skips those).
    """
    from agentctl.heartbeat.tick import exit_code, tick, tick_all

    ws = open_workspace(ctx, warn=False)
    name = agent or globals_of(ctx).as_agent
    if all_ and agent:
        raise UsageError("give an agent or --all, not both")
    if not all_ and not name:
        raise UsageError("say which agent: agentctl heartbeat AGENT (or --all)")
    if all_:
        records = tick_all(ws, dry_run=dry_run)
    else:
        records = [tick(ws, str(name), dry_run=dry_run)]
    if want_json(ctx, json_):
        output.emit_json({"runs": records})
    else:
        output.write("".join(describe(r) + "\n" for r in records))
    code = exit_code(records)
    if code:
        _report_errors(records)
        raise typer.Exit(code)


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
    json_: bool = JSON_OPTION,
) -> None:
    """Recent heartbeat runs on this machine (outcome, actions, tokens, cost), oldest first."""
    ws = open_workspace(ctx)
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
            r.get("started", "")[:16].replace("T", " "), r["agent"], str(r.get("outcome")), str(r.get("applied", "")),
            str(r.get("rejected", "")), str(tokens or ""), f"{r['cost_usd']:.4f}" if r.get("cost_usd") else "",
            f"{r.get('duration_ms', '')}", (r.get("error") or r.get("reason") or "")[:80],
        ])  # fmt: skip
    output.table(
        ["STARTED", "AGENT", "OUTCOME", "APPLIED", "REJECTED", "TOKENS", "USD", "MS", "NOTE"], rows
    )


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
