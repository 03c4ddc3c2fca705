"""``agentctl dispatch`` and ``agentctl attention``."""

from __future__ import annotations

from typing import Any

import typer

from agentctl.cli import output
from agentctl.cli.common import JSON_OPTION, acting, open_workspace, want_json

dispatch_app = typer.Typer(rich_markup_mode=None)
attention_app = typer.Typer(rich_markup_mode=None)


def plan_lines(result: dict[str, Any]) -> list[str]:
    """One line per assignment and per skip, with its reason."""
    verb = "would assign" if result.get("dry_run") else "assigned"
    lines = [
        f"{verb} {a['task']} to {a['agent']}: {a['reason']}  ({a['title']})"
        for a in result["assignments"]
    ]
    for skip in result["skips"]:
        if skip["kind"] == "agent":
            lines.append(f"skipped agent {skip['id']}: {skip['reason']}")
        else:
            lines.append(f"skipped {skip['id']}: {skip['reason']}  ({skip.get('title') or ''})")
    return lines


@dispatch_app.command()
def dispatch(
    ctx: typer.Context,
    dry_run: bool = typer.Option(
        False, "--dry-run", "-n", help="Show the assignments and skips; write nothing."
    ),
    limit: int = typer.Option(None, "--limit", min=1, help="Assign at most N tasks."),
    json_: bool = JSON_OPTION,
) -> None:
    """Assign ready, unassigned tasks to the best-fit available agents: critical-path tasks
    first, then priority, then age; labels matched to capabilities; blocked, silent, manual
    and off-hours agents and agents at their WIP limit skipped. Every assignment and skip
    has a one-line reason; all assignments are one commit. Also raises new conditions that
    need attention (agentctl attention). Needs the assign_others permission (leads, people)."""
    ws = open_workspace(ctx, warn=dry_run)
    actor = acting(ctx, ws)
    result = ws.dispatch(actor, dry_run=dry_run, limit=limit)
    raised = [] if dry_run else ws.raise_attention()
    if want_json(ctx, json_):
        output.emit_json({"dispatch": result, "attention_raised": raised})
        return
    lines = plan_lines(result)
    count = len(result["assignments"])
    if dry_run:
        lines.append(f"dry run: {count} task(s) would be assigned; nothing was written")
    elif not count:
        lines.append("nothing assigned")
    else:
        lines.append(f"{count} task(s) assigned in one commit")
    if raised:
        lines.append(f"{len(raised)} new condition(s) need attention: agentctl attention")
    output.write("\n".join(lines) + "\n")


@attention_app.callback(invoke_without_command=True)
def attention(ctx: typer.Context, json_: bool = JSON_OPTION) -> None:
    """List what needs attention now: stale in-progress tasks, tasks bounced between review
    and in_progress, tasks past due, blocked tasks whose dependencies are done, silent agents.
    Read-only (heartbeats and dispatch raise new ones to the leads, once each)."""
    ws = open_workspace(ctx)
    result = ws.attention()
    if want_json(ctx, json_):
        output.emit_json({"attention": result})
        return
    conditions = result["conditions"]
    if not conditions:
        output.say("nothing needs attention")
        return
    from agentctl.core.attention import Condition

    lines = []
    for item in conditions:
        condition = Condition(
            item["kind"],
            item["subject"],
            item["state"],
            item["detail"],
            item["title"],
            tuple(item["assignees"]),
        )
        raised = (
            f"raised {item['raised'][:16].replace('T', ' ')}"
            if item["raised"]
            else "not raised yet"
        )
        lines.append(f"- {condition.line()} [{raised}]")
    told = ", ".join(result["notify"]) or "nobody (no lead: agentctl inbox --human lists them)"
    lines.append(f"{len(conditions)} condition(s); raised to: {told}")
    output.write("\n".join(lines) + "\n")
