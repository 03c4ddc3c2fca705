"""Threads and inboxes: ``task comment|subscribe|unsubscribe``, ``thread``, ``inbox``."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import typer

from agentctl.cli import output
from agentctl.cli.common import JSON_OPTION, acting, open_reader, open_workspace, want_json
from agentctl.errors import UsageError

if TYPE_CHECKING:
    from agentctl.core.rows import MessageRow

thread_app = typer.Typer(rich_markup_mode=None)
inbox_app = typer.Typer(
    rich_markup_mode=None,
    help="List an agent's unread notifications (or, --human, what waits for a person).",
)

KIND_HELP = "comment | question | answer | review | status_update"


def _read_text(value: str) -> str:
    return sys.stdin.read() if value == "-" else value


def short_time(ts: str | None) -> str:
    text = str(ts or "")
    return f"{text[:10]} {text[11:16]}" if len(text) >= 16 else text


def render_messages(messages: list[MessageRow]) -> list[str]:
    lines: list[str] = []
    for message in messages:
        head = f"── {message['author']} · {message['kind']} · {short_time(message['created_at'])} · {message['id']}"
        if message.get("mentions"):
            head += " · @" + " @".join(message["mentions"])
        lines.append(head)
        lines.extend(
            "   " + line if line else "" for line in message["body"].rstrip("\n").split("\n")
        )
    return lines


# -- task comment / subscribe / unsubscribe (registered on the task group) --------------------


def comment(
    ctx: typer.Context,
    task: str = typer.Argument(..., help="Task ID or unique prefix."),
    text: str = typer.Argument(
        ...,
        help="Message text (markdown); '-' reads stdin. @name, @all and @role:ROLE notify agents.",
    ),
    kind: str = typer.Option("comment", "--kind", "-k", help=KIND_HELP),
    reply_to: str = typer.Option(None, "--reply-to", help="ID of the message this answers."),
    json_: bool = JSON_OPTION,
) -> None:
    """Add a message to a task's thread (mentions notify and subscribe agents)."""
    ws = open_workspace(ctx, warn=False)
    message = ws.comment(acting(ctx, ws), task, _read_text(text), kind=kind, reply_to=reply_to)
    if want_json(ctx, json_):
        output.emit_json({"message": message})
        return
    notified = ws.last_event["notify"] if ws.last_event else []
    suffix = f" (notified {', '.join(notified)})" if notified else ""
    output.say(f"{message['id']} added to {message['task']}{suffix}")


def subscribe(
    ctx: typer.Context,
    task: str = typer.Argument(..., help="Task ID or unique prefix."),
    agent: str = typer.Option(
        None, "--agent", "-a", help="Subscribe this agent (default: the acting agent)."
    ),
    json_: bool = JSON_OPTION,
) -> None:
    """Subscribe an agent to a task: it is notified of new messages and status changes."""
    _subscription(ctx, task, agent, True, json_)


def unsubscribe(
    ctx: typer.Context,
    task: str = typer.Argument(..., help="Task ID or unique prefix."),
    agent: str = typer.Option(
        None, "--agent", "-a", help="Unsubscribe this agent (default: the acting agent)."
    ),
    json_: bool = JSON_OPTION,
) -> None:
    """Stop notifying an agent about a task (a later mention or assignment subscribes it again)."""
    _subscription(ctx, task, agent, False, json_)


def _subscription(ctx: typer.Context, task: str, agent: str | None, on: bool, json_: bool) -> None:
    ws = open_workspace(ctx, warn=False)
    result = ws.subscribe(acting(ctx, ws), task, agent, on=on)
    if want_json(ctx, json_):
        output.emit_json({"subscription": result})
        return
    verb = "subscribed to" if on else "unsubscribed from"
    output.say(f"{result['agent']} {verb} {result['task']}")


def register(app: typer.Typer) -> None:
    app.command("comment")(comment)
    app.command("subscribe")(subscribe)
    app.command("unsubscribe")(unsubscribe)


# -- thread ------------------------------------------------------------------------------------


@thread_app.command()
def thread(
    ctx: typer.Context,
    task: str = typer.Argument(..., help="Task ID or unique prefix."),
    since: str = typer.Option(
        None, "--since", help="Only messages newer than this: a duration (2h, 3d) or a timestamp."
    ),
    json_: bool = JSON_OPTION,
) -> None:
    """Print a task's message thread, oldest first."""
    ws = open_reader(ctx)
    from agentctl.core.duration import since_timestamp

    result = ws.thread(task, since_timestamp(since) if since else None)
    for problem in ws.thread_problems(result["task"]):
        output.notice(f"warning: {problem} (skipped; run 'agentctl validate')")
    if want_json(ctx, json_):
        output.emit_json({"thread": result})
        return
    lines = [f"{result['task']}  {result['title']}"]
    if not result["messages"]:
        lines.append("(no messages)")
    lines += render_messages(result["messages"])
    output.write("\n".join(lines) + "\n")


# -- inbox -------------------------------------------------------------------------------------


@inbox_app.callback(invoke_without_command=True)
def inbox(
    ctx: typer.Context,
    agent: str = typer.Option(
        None, "--agent", "-a", help="Whose inbox (default: the acting agent, --as)."
    ),
    all_: bool = typer.Option(False, "--all", help="Include notifications already read."),
    limit: int = typer.Option(None, "--limit", "-n", min=1, help="Only the newest N."),
    human: bool = typer.Option(
        False,
        "--human",
        help="What waits for a person: tasks at a human gate and agents' refusals there.",
    ),
    json_: bool = JSON_OPTION,
) -> None:
    """List unread notifications, newest last, with the task and a one-line excerpt."""
    if ctx.invoked_subcommand is not None:
        return
    if human:
        if agent or all_:
            raise UsageError("--human lists what waits for a person: it takes no --agent or --all")
        _human_inbox(ctx, limit, json_)
        return
    ws = open_reader(ctx)
    result = ws.inbox(acting(ctx, ws), agent, include_read=all_, limit=limit)
    if want_json(ctx, json_):
        output.emit_json({"inbox": result})
        return
    items = result["notifications"]
    if not items:
        output.say(f"{result['agent']}: no {'notifications' if all_ else 'unread notifications'}")
        return
    rows = []
    for item in items:
        state = "read" if item["read"] else ("seen" if item["delivered"] else "new")
        rows.append([
            item["id"][:8], short_time(item["ts"]), item["actor"], item["task"] or "-", item["reason"], state,
            item["excerpt"],
        ])  # fmt: skip
    output.table(["ID", "WHEN", "FROM", "TASK", "WHY", "STATE", "WHAT"], rows)
    output.say(f"{result['unread']} unread · mark read: agentctl inbox read ID… | --all")


def _human_inbox(ctx: typer.Context, limit: int | None, json_: bool) -> None:
    ws = open_workspace(ctx)
    result = ws.human_inbox(limit)
    if want_json(ctx, json_):
        output.emit_json({"human": result})
        return
    if result["attention"]:
        from agentctl.core.attention import Condition

        output.say("Needs attention (there is no lead to tell; agentctl attention):")
        for item in result["attention"]:
            condition = Condition(
                item["kind"],
                item["subject"],
                item["state"],
                item["detail"],
                item["title"],
                tuple(item["assignees"]),
            )
            output.say(f"- {condition.line()}")
    if result["agents"]:
        output.say(
            "Proposed agents waiting for approval (agentctl agent approve NAME | agentctl agent reject NAME):"
        )
        output.table(
            ["AGENT", "ROLE", "LEVEL", "RUNTIME", "CAPABILITIES", "PROPOSED BY"],
            [
                [a["name"], a["role"], a.get("level", "specialist"), a.get("runtime", "manual"),
                 ",".join(a.get("capabilities") or []), a.get("proposed_by") or "-"]
                for a in result["agents"]
            ],
        )  # fmt: skip
    if not ws.workflow.get("human_gates"):
        output.say(
            "no human gates are configured (workflow.human_gates): nothing waits for a person"
        )
        return
    if not result["waiting"] and not result["refusals"]:
        output.say("nothing waits for a person")
        return
    if result["waiting"]:
        output.say("Waiting for a person (agentctl approve ID | agentctl reject ID --note TEXT):")
        output.table(
            ["TASK", "PRI", "TITLE", "STEP", "GATE"],
            [
                [t["id"], f"p{t['priority']}", t["title"], f"{t['from']} -> {t['to']}", t["gate"]]
                for t in result["waiting"]
            ],
        )
    if result["refusals"]:
        output.say("Agents refused at a gate:")
        output.table(
            ["WHEN", "AGENT", "TASK", "STEP", "GATE"],
            [
                [short_time(r["ts"]), r["actor"], r["task"], f"{r['from']} -> {r['to']}", r["gate"]]
                for r in result["refusals"]
            ],
        )


@inbox_app.command("read")
def inbox_read(
    ctx: typer.Context,
    ids: list[str] = typer.Argument(
        None, help="Notification IDs (or unique prefixes) from 'agentctl inbox'."
    ),
    all_: bool = typer.Option(False, "--all", help="Mark every unread notification read."),
    agent: str = typer.Option(
        None, "--agent", "-a", help="Whose inbox (default: the acting agent, --as)."
    ),
    json_: bool = JSON_OPTION,
) -> None:
    """Mark notifications read."""
    if ids and all_:
        raise UsageError("give notification IDs or --all, not both")
    ws = open_workspace(ctx, warn=False)
    result = ws.mark_read(acting(ctx, ws), ids or [], agent, every=all_)
    if want_json(ctx, json_):
        output.emit_json({"marked": result})
        return
    output.say(f"{result['agent']}: {len(result['read'])} notification(s) marked read")
