"""``agentctl approve`` and ``agentctl reject``: a person's verdict on work in review."""

from __future__ import annotations

from typing import Any

import typer

from agentctl.cli import output
from agentctl.cli.common import JSON_OPTION, acting, globals_of, open_workspace, want_json
from agentctl.errors import PermissionDeniedError

approve_app = typer.Typer(rich_markup_mode=None)
reject_app = typer.Typer(rich_markup_mode=None)


def _human_only(ctx: typer.Context, verb: str) -> None:
    """Refuse before anything is read when an agent runs this (``--as`` or $AGENTCTL_AGENT,
    even one naming no agent): these verdicts are what human gates reserve for people."""
    name = globals_of(ctx).as_agent
    if name:
        raise PermissionDeniedError(
            f"only a human may {verb} work: this runs as the agent {name!r} (--as or AGENTCTL_AGENT)",
            hint="run it yourself, without --as and with AGENTCTL_AGENT unset",
        )


def _print(ctx: typer.Context, json_: bool, verb: str, task: dict[str, Any]) -> None:
    if want_json(ctx, json_):
        output.emit_json({"task": task})
    else:
        output.say(f"{verb} {task['id']}: {task.get('title', '')} [{task.get('status', '')}]")


@approve_app.command()
def approve(
    ctx: typer.Context,
    task: str = typer.Argument(..., help="Task ID or unique prefix (in review)."),
    note: str = typer.Option(
        None, "--note", "-m", help="Why; posted on the task's thread and kept in its Notes."
    ),
    json_: bool = JSON_OPTION,
) -> None:
    """Approve a task in review: move it to done, also where a human gate stops agents."""
    _human_only(ctx, "approve")
    ws = open_workspace(ctx, warn=False)
    _print(ctx, json_, "approved", ws.approve(acting(ctx, ws), task, note))


@reject_app.command()
def reject(
    ctx: typer.Context,
    task: str = typer.Argument(..., help="Task ID or unique prefix (in review)."),
    note: str = typer.Option(
        ..., "--note", "-m", help="What to change; posted on the task's thread."
    ),
    json_: bool = JSON_OPTION,
) -> None:
    """Send a task in review back to in_progress, with the note on its thread."""
    _human_only(ctx, "reject")
    ws = open_workspace(ctx, warn=False)
    _print(ctx, json_, "rejected", ws.reject(acting(ctx, ws), task, note))
