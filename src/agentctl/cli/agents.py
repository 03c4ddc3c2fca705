"""``agentctl agent ...``: the agent commands."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any

import typer

from agentctl.cli import output
from agentctl.cli.common import JSON_OPTION, acting, open_workspace, want_json
from agentctl.core.duration import parse_duration
from agentctl.core.fields import AGENT_STATUSES, COMMAND_OUTPUTS, LEVELS, RUNTIMES, SANDBOXES
from agentctl.errors import UsageError

app = typer.Typer(
    help="Add, list, show, edit and remove agents.", rich_markup_mode=None, no_args_is_help=True
)

RECENT_RUNS = 5  # heartbeat runs shown by 'agent show'


def _choice(value: str | None, choices: tuple[str, ...], option: str) -> str | None:
    if value is not None and value not in choices:
        raise UsageError(f"{option} must be one of {', '.join(choices)}, not {value!r}")
    return value


def _every(value: str | None) -> str | None:
    if value is not None:
        try:
            parse_duration(value)
        except ValueError as exc:
            raise UsageError(f"--every: {exc}") from None
    return value


def _command(value: str | None) -> list[str] | None:
    if value is None:
        return None
    try:
        argv = shlex.split(value)
    except ValueError as exc:
        raise UsageError(f"--command: {exc}") from None
    if not argv:
        raise UsageError("--command is empty")
    return argv


@app.command("add")
def add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Agent name: lowercase letters, digits, '-'."),
    role: str = typer.Option(
        ..., "--role", "-r", help="What the agent does, e.g. developer, reviewer."
    ),
    level: str = typer.Option("specialist", "--level", help="intern | specialist | lead."),
    capability: list[str] = typer.Option(
        None, "--capability", "-c", help="A capability (repeatable)."
    ),
    runtime: str = typer.Option(
        "manual",
        "--runtime",
        help="manual (does nothing on its own: ticks only report the work waiting) | command | llm | simulated (demo, tests).",
    ),  # fmt: skip
    model: str = typer.Option(
        None, "--model", help="Model name for the llm runtime (any litellm model)."
    ),
    api_base: str = typer.Option(
        None,
        "--api-base",
        help="Endpoint for the llm runtime, e.g. a local server: http://127.0.0.1:8080/v1.",
    ),
    command: str = typer.Option(
        None, "--command", help="Command line for the command runtime (no shell)."
    ),
    sandbox: str = typer.Option(
        None, "--sandbox", help="auto | bwrap | none: run the command under bubblewrap."
    ),
    preset: str = typer.Option(
        None,
        "--preset",
        help="Command runtime: claude | codex | gemini | aider | opencode fills in --command and --output (docs/integrations.md).",
    ),
    output_: str = typer.Option(
        None,
        "--output",
        help="Command runtime: how stdout is read: text | claude-json | gemini-json.",
    ),
    every: str = typer.Option(None, "--every", help="Heartbeat interval, e.g. 15m."),
    host: str = typer.Option(
        None, "--host", help="The machine that runs it (default: this one, 'agentctl host')."
    ),
    json_: bool = JSON_OPTION,
) -> None:
    """Add an agent: a definition file with a persona you can edit.

    The agent runs on this machine (its host is 'agentctl host'), or on --host: only that
    machine's 'heartbeat --all', 'cron install' and 'run' tick it (docs/teams.md).
    """
    ws = open_workspace(ctx, warn=False)
    agent = ws.add_agent(
        acting(ctx, ws),
        name,
        role,
        level=_choice(level, LEVELS, "--level") or "specialist",
        capabilities=capability or [],
        runtime=_choice(runtime, RUNTIMES, "--runtime") or "manual",
        model=model,
        command=_command(command),
        every=_every(every),
        sandbox=_choice(sandbox, SANDBOXES, "--sandbox"),
        api_base=api_base,
        host=host,
        output=_choice(output_, COMMAND_OUTPUTS, "--output"),
        preset=preset,
    )
    if want_json(ctx, json_):
        output.emit_json({"agent": agent})
    else:
        output.say(
            f"added agent {agent['name']} ({agent['role']}, {agent['level']}, {agent['runtime']})"
        )


@app.command("list")
def list_(ctx: typer.Context, json_: bool = JSON_OPTION) -> None:
    """List agents with their status and open task count."""
    ws = open_workspace(ctx)
    agents = ws.list_agents()
    if want_json(ctx, json_):
        output.emit_json({"agents": agents})
        return
    if not agents:
        output.notice("no agents yet: add one with 'agentctl agent add NAME --role ROLE'")
        return
    rows = [
        [
            a["name"],
            a["role"],
            a.get("level", "specialist"),
            a.get("runtime", "manual"),
            a.get("host") or "-",
            "pending approval"
            if a.get("approval") == "pending"
            else a["state"].get("status", "idle"),
            str(a["open_tasks"]),
            a["state"].get("last_heartbeat") or "never",
            ",".join(a.get("capabilities", [])),
        ]
        for a in agents
    ]
    output.table(
        [
            "NAME",
            "ROLE",
            "LEVEL",
            "RUNTIME",
            "HOST",
            "STATUS",
            "OPEN",
            "LAST HEARTBEAT",
            "CAPABILITIES",
        ],
        rows,
    )


@app.command("show")
def show(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Agent name."),
    json_: bool = JSON_OPTION,
) -> None:
    """Show an agent: definition, state, open tasks and persona."""
    from agentctl.runtime.ledger import summary

    ws = open_workspace(ctx)
    agent = ws.show_agent(name)
    recent = ws.runs(name, RECENT_RUNS)
    spend = summary(ws.layout.local).get(name)
    if want_json(ctx, json_):
        spend_today = None
        if spend is not None:
            spend_today = {"calls": spend.calls, "cached": spend.cached, "tokens_in": spend.tokens_in,
                           "tokens_out": spend.tokens_out, "cost_usd": round(spend.cost_usd, 6)}  # fmt: skip
        output.emit_json({"agent": {**agent, "runs": recent, "spend_today": spend_today}})
        return
    state = agent["state"]
    lines = [
        f"{agent['name']}  ({agent['role']}, {agent.get('level', 'specialist')})",
        f"runtime:      {agent.get('runtime', 'manual')}"
        + (f" ({agent['model']})" if agent.get("model") else ""),
    ]
    if agent.get("command"):
        lines.append(f"command:      {shlex.join(agent['command'])}")
    if agent.get("output"):
        lines.append(f"output:       {agent['output']}")
    lines.append(f"host:         {agent.get('host') or '- (unowned: any machine may tick it)'}")
    if agent.get("approval"):
        lines.append(
            f"approval:     {agent['approval']}"
            + (f" (proposed by {agent['proposed_by']})" if agent.get("proposed_by") else "")
        )
    lines += [
        f"capabilities: {', '.join(agent.get('capabilities', [])) or '-'}",
        f"heartbeat:    every {(agent.get('heartbeat') or {}).get('every', '15m')}",
        f"status:       {'pending approval' if agent.get('approval') == 'pending' else state.get('status', 'idle')}",
        f"last beat:    {state.get('last_heartbeat') or 'never'}",
        f"file:         {agent['path']}",
    ]
    if spend is not None:
        lines.append(
            f"model today:  {spend.calls} call(s), {spend.cached} cached, {spend.tokens:,} tokens, ${spend.cost_usd:.4f}"
        )
    if agent["tasks"]:
        lines += ["", "Open tasks:"]
        lines += [
            f"  {t['id']}  p{t['priority']}  {t['status']:<12} {t['title']}" for t in agent["tasks"]
        ]
    if recent:
        from agentctl.cli.heartbeat import describe

        lines += ["", "Recent runs:"]
        lines += [f"  {describe(r)}" for r in reversed(recent)]
    lines += ["", "Persona:", agent["persona"].strip()]
    output.write("\n".join(lines) + "\n")


@app.command("edit")
def edit(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Agent name."),
    role: str = typer.Option(None, "--role", "-r", help="New role."),
    level: str = typer.Option(None, "--level", help="intern | specialist | lead."),
    capability: list[str] = typer.Option(
        None, "--capability", "-c", help="Replace capabilities (repeatable)."
    ),
    add_capability: list[str] = typer.Option(
        None, "--add-capability", help="Add a capability (repeatable)."
    ),
    runtime: str = typer.Option(None, "--runtime", help="manual | command | llm | simulated."),
    model: str = typer.Option(None, "--model", help="Model for the llm runtime."),
    api_base: str = typer.Option(
        None, "--api-base", help="Endpoint for the llm runtime ('' to use llm.api_base)."
    ),
    command: str = typer.Option(None, "--command", help="Command line for the command runtime."),
    sandbox: str = typer.Option(
        None, "--sandbox", help="auto | bwrap | none: run the command under bubblewrap."
    ),
    preset: str = typer.Option(
        None,
        "--preset",
        help="claude | codex | gemini | aider | opencode: replace the command and output format.",
    ),
    output_: str = typer.Option(
        None, "--output", help="How the command's stdout is read: text | claude-json | gemini-json."
    ),
    every: str = typer.Option(None, "--every", help="Heartbeat interval, e.g. 15m."),
    json_: bool = JSON_OPTION,
) -> None:
    """Change an agent's definition (leads and humans only)."""
    ws = open_workspace(ctx)
    changes: dict[str, Any] = {}
    if role is not None:
        changes["role"] = role
    if level is not None:
        changes["level"] = _choice(level, LEVELS, "--level")
    if capability:
        changes["capabilities"] = list(dict.fromkeys(capability))
    if add_capability:
        known: Mapping[str, Any] = ws.index.agent(name) or {}
        current = changes.get("capabilities") or known.get("capabilities", [])
        changes["capabilities"] = list(dict.fromkeys([*current, *add_capability]))
    if runtime is not None:
        changes["runtime"] = _choice(runtime, RUNTIMES, "--runtime")
    if model is not None:
        changes["model"] = model
    if api_base is not None:
        changes["api_base"] = api_base or None
    if command is not None:
        changes["command"] = _command(command)
    if sandbox is not None:
        changes["sandbox"] = _choice(sandbox, SANDBOXES, "--sandbox")
    if preset is not None:
        changes = {**ws.preset_fields(preset), **changes}
    if output_ is not None:
        changes["output"] = _choice(output_, COMMAND_OUTPUTS, "--output")
    if every is not None:
        record: Mapping[str, Any] = ws.index.agent(name) or {}
        heartbeat = dict(record.get("heartbeat") or {})
        heartbeat["every"] = _every(every)
        changes["heartbeat"] = heartbeat
    agent = ws.edit_agent(acting(ctx, ws), name, changes)
    if want_json(ctx, json_):
        output.emit_json({"agent": agent})
    else:
        output.say(f"edited agent {name} ({', '.join(sorted(changes))})")


@app.command("move")
def move(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Agent name."),
    host: str = typer.Option(..., "--host", help="The machine that runs it from now on."),
    json_: bool = JSON_OPTION,
) -> None:
    """Hand an agent over to another machine: from now on only that host ticks it.

    One change (the agent's host, its state handed over) and one agent.moved event. Exit 5
    when it already runs on HOST, 2 for an invalid host name. See docs/teams.md.
    """
    ws = open_workspace(ctx, warn=False)
    moved = ws.move_agent(acting(ctx, ws), name, host)
    if want_json(ctx, json_):
        output.emit_json(moved)
    else:
        output.say(f"moved agent {name} from host {moved['from'] or '(none)'} to {host}")


@app.command("rm")
def rm(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Agent name."),
    force: bool = typer.Option(
        False, "--force", "-f", help="Unassign its open tasks instead of refusing."
    ),
    json_: bool = JSON_OPTION,
) -> None:
    """Remove an agent (refused while it has open tasks, unless --force)."""
    ws = open_workspace(ctx, warn=False)
    result = ws.remove_agent(acting(ctx, ws), name, force)
    if want_json(ctx, json_):
        output.emit_json({"agent": result})
    else:
        extra = f"; unassigned {len(result['unassigned'])} task(s)" if result["unassigned"] else ""
        output.say(f"removed agent {name}{extra}")


@app.command("status")
def status(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Agent name."),
    value: str = typer.Argument(..., help="idle | active | blocked."),
    json_: bool = JSON_OPTION,
) -> None:
    """Set an agent's status."""
    ws = open_workspace(ctx, warn=False)
    state = ws.set_agent_status(
        acting(ctx, ws), name, _choice(value, AGENT_STATUSES, "STATUS") or value
    )
    if want_json(ctx, json_):
        output.emit_json({"agent": name, "state": state})
    else:
        output.say(f"{name} is now {state['status']}")


@app.command("reset")
def reset(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Agent name."),
    json_: bool = JSON_OPTION,
) -> None:
    """Clear an agent's failure count and backoff and unblock it, once the cause is fixed."""
    ws = open_workspace(ctx, warn=False)
    state = ws.reset_agent(acting(ctx, ws), name)
    if want_json(ctx, json_):
        output.emit_json({"agent": name, "state": state})
    else:
        output.say(f"{name} reset: no failures, no backoff, {state['status']}")


@app.command("approve")
def approve(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The proposed agent."),
    json_: bool = JSON_OPTION,
) -> None:
    """Approve an agent another agent proposed: from now on it ticks and takes work.

    Only a person approves (not --as / AGENTCTL_AGENT). Exit 3 when there is no such agent,
    5 when it is not waiting for approval, 7 when an agent tries.
    """
    ws = open_workspace(ctx, warn=False)
    agent = ws.approve_agent(acting(ctx, ws), name)
    if want_json(ctx, json_):
        output.emit_json({"agent": agent})
    else:
        proposer = f", proposed by {agent['proposed_by']}" if agent.get("proposed_by") else ""
        output.say(
            f"approved agent {name} ({agent['role']}, {agent['level']}, {agent['runtime']}{proposer})"
        )


@app.command("reject")
def reject(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The proposed agent."),
    reason: str = typer.Option("", "--reason", help="Why (one line; the proposer is told)."),
    json_: bool = JSON_OPTION,
) -> None:
    """Reject an agent another agent proposed: its files are removed.

    Only a person rejects (not --as / AGENTCTL_AGENT). Exit 3 when there is no such agent,
    5 when it is not waiting for approval (remove an active agent with 'agent rm'), 7 when an
    agent tries.
    """
    ws = open_workspace(ctx, warn=False)
    result = ws.reject_agent(acting(ctx, ws), name, reason)
    if want_json(ctx, json_):
        output.emit_json({"agent": result})
    else:
        output.say(f"rejected agent {name}" + (f": {reason.strip()}" if reason.strip() else ""))
