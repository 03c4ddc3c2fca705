"""``agentctl task ...``: the task commands."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from agentctl.cli import output
from agentctl.cli.common import JSON_OPTION, acting, open_reader, open_workspace, want_json
from agentctl.cli.threads import register as register_thread_commands
from agentctl.cli.threads import render_messages
from agentctl.errors import UsageError

if TYPE_CHECKING:
    from agentctl.core.rules import Actor
    from agentctl.workspace import Workspace

app = typer.Typer(
    help="Add, list, show, edit, move, assign and claim tasks.",
    rich_markup_mode=None,
    no_args_is_help=True,
)
dep_app = typer.Typer(
    help="Add or remove task dependencies.", rich_markup_mode=None, no_args_is_help=True
)
app.add_typer(dep_app, name="dep")


# -- option parsing ----------------------------------------------------------------------


def _priority(value: str | None) -> int | None:
    from agentctl.core.checks import priority_value

    if value is None:
        return None
    number = priority_value(value)
    if number is None:
        raise UsageError(f"--priority must be 0-3 or p0-p3 (0 is the most urgent), not {value!r}")
    return number


def _estimate(value: str | None) -> str | None:
    from agentctl.core.duration import parse_estimate

    if value is None:
        return None
    try:
        parse_estimate(value)
    except ValueError as exc:
        raise UsageError(f"--estimate: {exc}") from None
    return value


def _due(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise UsageError(f"--due must be a date like 2026-12-31, not {value!r}") from None


def _text_arg(value: str | None) -> str | None:
    """'-' reads the text from stdin."""
    if value == "-":
        return sys.stdin.read()
    return value


# -- rendering ---------------------------------------------------------------------------


def _row(task: Mapping[str, Any], short: dict[str, str]) -> list[str]:
    return [
        short.get(task["id"], task["id"]),
        f"p{task['priority']}",
        task["status"],
        task["title"],
        ",".join(task["assignees"]) or "-",
        ",".join(task["labels"]),
    ]


TASK_COLUMNS = ("ID", "PRI", "STATUS", "TITLE", "ASSIGNEES", "LABELS")


def _print_tasks(tasks: Sequence[Mapping[str, Any]], short: dict[str, str], empty: str) -> None:
    if not tasks:
        output.notice(empty)
        return
    output.table(TASK_COLUMNS, [_row(t, short) for t in tasks])


def _changed(
    ctx: typer.Context, json_: bool, verb: str, task: Mapping[str, Any], key: str = "task"
) -> None:
    if want_json(ctx, json_):
        output.emit_json({key: task})
    else:
        output.say(f"{verb} {task['id']}: {task.get('title', '')} [{task.get('status', '')}]")


# -- commands ----------------------------------------------------------------------------


@app.command("add")
def add(
    ctx: typer.Context,
    title: str = typer.Argument(..., help="The task title."),
    description: str = typer.Option(
        None, "--description", "-d", help="Description (markdown); '-' reads stdin."
    ),
    priority: str = typer.Option(None, "--priority", "-p", help="0 (most urgent) to 3, or p0-p3."),
    assign: list[str] = typer.Option(
        None, "--assign", "-a", help="Assign to this agent (repeatable)."
    ),
    label: list[str] = typer.Option(None, "--label", "-l", help="Add a label (repeatable)."),
    parent: str = typer.Option(None, "--parent", help="Parent task ID (prefix)."),
    depends_on: list[str] = typer.Option(
        None, "--depends-on", help="A task this one waits for (repeatable)."
    ),
    estimate: str = typer.Option(
        None, "--estimate", help="Effort estimate, e.g. 30m, 4h, 2d, or a range 4h-6h."
    ),
    due: str = typer.Option(None, "--due", help="Due date, YYYY-MM-DD."),
    ac: list[str] = typer.Option(None, "--ac", help="An acceptance criterion (repeatable)."),
    spec: str = typer.Option(None, "--spec", help="Link to a spec section, <spec-id>#<anchor>."),
    quiet: bool = typer.Option(
        False, "--quiet", "-q", help="Print only the new task's ID (for scripts)."
    ),
    json_: bool = JSON_OPTION,
) -> None:
    """Create a task (in inbox, or assigned when --assign is given).

    In a script: T=$(agentctl task add "Title" -q) keeps the new ID."""
    ws = open_workspace(ctx, warn=False)
    task = ws.add_task(
        acting(ctx, ws),
        title,
        description=_text_arg(description) or "",
        priority=_priority(priority),
        assignees=assign or [],
        labels=label or [],
        parent=parent,
        depends_on=depends_on or [],
        estimate=_estimate(estimate),
        due=_due(due),
        criteria=ac or [],
        spec=spec,
    )
    if quiet and not want_json(ctx, json_):
        output.write(f"{task['id']}\n")
        return
    _changed(ctx, json_, "created", task)


@app.command("list")
def list_(
    ctx: typer.Context,
    status: list[str] = typer.Option(
        None, "--status", "-s", help="Only these statuses (repeatable)."
    ),
    assignee: str = typer.Option(None, "--assignee", help="Only tasks assigned to this agent."),
    label: str = typer.Option(None, "--label", "-l", help="Only tasks with this label."),
    parent: str = typer.Option(None, "--parent", help="Only subtasks of this task."),
    all_: bool = typer.Option(False, "--all", help="Include finished tasks."),
    sort: str = typer.Option(
        "priority", "--sort", help="priority | created | updated | status | title | id."
    ),
    limit: int = typer.Option(None, "--limit", "-n", min=1, help="At most this many tasks."),
    json_: bool = JSON_OPTION,
) -> None:
    """List open tasks (served from the index)."""
    ws = open_reader(ctx)
    query = (status or None, assignee, label, parent, all_, sort, limit)
    if want_json(ctx, json_):
        output.emit_json_items("tasks", ws.list_tasks_json_rows(*query))
        return
    if output.is_terminal():
        tasks = ws.list_tasks(*query)
        _print_tasks(tasks, ws.short_ids([t["id"] for t in tasks]), "no tasks match")
        return
    # Piped: streamed from the index row by row (the first row of 100,000 comes at once).
    table = ws.list_tasks_table(*query)
    if not table.count:
        output.notice("no tasks match")
        return
    output.stream_table(TASK_COLUMNS, table.widths, table.rows)


@app.command("show")
def show(
    ctx: typer.Context,
    task: str = typer.Argument(..., help="Task ID or unique prefix."),
    json_: bool = JSON_OPTION,
) -> None:
    """Show one task: fields, description, acceptance criteria, dependencies and notes."""
    ws = open_reader(ctx)
    data = ws.show_task(task)
    data["thread"] = ws.thread(data["id"])["messages"]
    data["docs"] = ws.index.docs(task=data["id"])
    data["subscribers"] = ws.index.subscribers(data["id"])
    if want_json(ctx, json_):
        output.emit_json({"task": data})
        return
    lines = [
        f"{data['id']}  ({data['short_id']})",
        f"title:     {data['title']}",
        f"status:    {data['status']}{'  (ready)' if data['ready'] else ''}",
        f"priority:  p{data['priority']}",
        f"assignees: {', '.join(data['assignees']) or '-'}",
    ]
    for key in ("labels", "depends_on", "dependents", "children", "blocked_by"):
        if data.get(key):
            lines.append(f"{key + ':':<10} {', '.join(data[key])}")
    for key in ("parent", "spec", "estimate", "due"):
        if data.get(key):
            lines.append(f"{key + ':':<10} {data[key]}")
    if data.get("claim"):
        claim = data["claim"]
        lines.append(
            f"claim:     {claim['claimed_by']} (epoch {claim['epoch']}, lease until {claim['lease_expires']})"
        )
    lines.append(f"created:   {data['created_at']} by {data['created_by']}")
    lines.append(f"updated:   {data['updated_at']}")
    lines.append(f"file:      {data['path']}")
    if data["description"]:
        lines += ["", "Description:", data["description"]]
    if data["acceptance_criteria"]:
        lines += ["", "Acceptance criteria:"]
        lines += [
            f"  {i}. [{'x' if c['done'] else ' '}] {c['text']}"
            for i, c in enumerate(data["acceptance_criteria"], 1)
        ]
    if data["notes"]:
        lines += ["", "Notes:", data["notes"]]
    if data["docs"]:
        lines += ["", "Documents:"]
        lines += [f"  {d['id']}  {d['type']:<11} {d['title']}" for d in data["docs"]]
    if data["subscribers"]:
        lines += ["", f"Subscribers: {', '.join(data['subscribers'])}"]
    lines += [
        "",
        f"Thread ({len(data['thread'])} message{'s' if len(data['thread']) != 1 else ''}):",
    ]
    lines += render_messages(data["thread"]) or ["  (none yet: agentctl task comment ID TEXT)"]
    output.write("\n".join(lines) + "\n")


@app.command("edit")
def edit(
    ctx: typer.Context,
    task: str = typer.Argument(..., help="Task ID or unique prefix."),
    title: str = typer.Option(None, "--title", "-t", help="New title."),
    description: str = typer.Option(
        None, "--description", "-d", help="New description; '-' reads stdin."
    ),
    priority: str = typer.Option(None, "--priority", "-p", help="0-3 or p0-p3."),
    label: list[str] = typer.Option(None, "--label", "-l", help="Add a label (repeatable)."),
    remove_label: list[str] = typer.Option(
        None, "--remove-label", help="Remove a label (repeatable)."
    ),
    parent: str = typer.Option(None, "--parent", help="Set the parent task."),
    estimate: str = typer.Option(
        None, "--estimate", help="Effort estimate, e.g. 4h or a range 4h-6h."
    ),
    due: str = typer.Option(None, "--due", help="Due date, YYYY-MM-DD."),
    spec: str = typer.Option(None, "--spec", help="Spec link."),
    ac: list[str] = typer.Option(None, "--ac", help="Add an acceptance criterion (repeatable)."),
    check: list[int] = typer.Option(
        None, "--check", help="Tick acceptance criterion N (1-based, repeatable)."
    ),
    uncheck: list[int] = typer.Option(None, "--uncheck", help="Untick acceptance criterion N."),
    clear: list[str] = typer.Option(
        None, "--clear", help="Clear a field: parent, estimate, due, spec, labels."
    ),
    editor: bool = typer.Option(
        False, "--editor", "-e", help="Edit the whole file in $VISUAL/$EDITOR."
    ),
    json_: bool = JSON_OPTION,
) -> None:
    """Change a task's fields (one frontmatter line per field changes)."""
    ws = open_workspace(ctx, warn=False)
    actor = acting(ctx, ws)
    if editor:
        result = _edit_in_editor(ws, actor, task)
    else:
        result = ws.edit_task(
            actor,
            task,
            title=title,
            description=_text_arg(description),
            priority=_priority(priority),
            add_labels=label or [],
            remove_labels=remove_label or [],
            parent=parent,
            estimate=_estimate(estimate),
            due=_due(due),
            spec=spec,
            add_criteria=ac or [],
            check=check or [],
            uncheck=uncheck or [],
            clear=clear or [],
        )
    _changed(ctx, json_, "edited", result)


def _edit_in_editor(ws: Workspace, actor: Actor, ref: str) -> dict[str, Any]:
    import shlex
    import subprocess
    import tempfile

    command = os.environ.get("VISUAL") or os.environ.get("EDITOR")
    if not command:
        raise UsageError("set $VISUAL or $EDITOR to use --editor")
    task_id, original = ws.task_text(ref)
    with tempfile.TemporaryDirectory(prefix="agentctl-edit-") as tmp:
        scratch = Path(tmp) / f"{task_id}.md"
        scratch.write_text(original, encoding="utf-8")
        completed = subprocess.run([*shlex.split(command), str(scratch)], check=False)
        if completed.returncode != 0:
            raise UsageError(
                f"the editor exited with status {completed.returncode}; nothing changed"
            )
        edited = scratch.read_text(encoding="utf-8")
    return ws.replace_task_text(actor, task_id, original, edited)


@app.command("move")
def move(
    ctx: typer.Context,
    task: str = typer.Argument(..., help="Task ID or unique prefix."),
    status: str = typer.Argument(..., help="The new status (see the workflow in config)."),
    note: str = typer.Option(None, "--note", "-m", help="Why; appended to the task's Notes."),
    epoch: int = typer.Option(
        None,
        "--epoch",
        min=1,
        help="The claim epoch you hold (a fencing token): refused when the task's claim is newer.",
    ),
    json_: bool = JSON_OPTION,
) -> None:
    """Move a task to another status, following the workflow's transitions.

    A claimant whose claim was taken over (a newer claim epoch) is refused with exit 5."""
    ws = open_workspace(ctx, warn=False)
    result = ws.move_task(acting(ctx, ws), task, status, note, epoch=epoch)
    _changed(ctx, json_, "moved", result)


@app.command("assign")
def assign(
    ctx: typer.Context,
    task: str = typer.Argument(..., help="Task ID or unique prefix."),
    agents: list[str] = typer.Argument(..., help="Agents to assign."),
    json_: bool = JSON_OPTION,
) -> None:
    """Assign agents to a task (an inbox task becomes assigned)."""
    ws = open_workspace(ctx, warn=False)
    _changed(ctx, json_, "assigned", ws.assign(acting(ctx, ws), task, agents))


@app.command("unassign")
def unassign(
    ctx: typer.Context,
    task: str = typer.Argument(..., help="Task ID or unique prefix."),
    agents: list[str] = typer.Argument(..., help="Agents to remove."),
    json_: bool = JSON_OPTION,
) -> None:
    """Remove agents from a task (an assigned task with nobody left returns to inbox)."""
    ws = open_workspace(ctx, warn=False)
    _changed(ctx, json_, "unassigned", ws.unassign(acting(ctx, ws), task, agents))


@app.command("claim")
def claim(
    ctx: typer.Context,
    task: str = typer.Argument(
        None, help="Task to claim; default: the most urgent ready task for you."
    ),
    sync: bool = typer.Option(
        False,
        "--sync",
        help="Win the claim only by pushing it to the git remote first (sync.remote); "
        "exit 5 naming the winner when another machine's claim landed before.",
    ),
    json_: bool = JSON_OPTION,
) -> None:
    """Atomically take a task: assigns you, moves it in progress, and holds a leased claim."""
    ws = open_workspace(ctx, warn=False)
    actor = acting(ctx, ws)
    if sync:
        progress = output.git_progress(want_json(ctx, json_))
        result = ws.claim_synced(actor, task, progress=progress)
    else:
        result = ws.claim(actor, task)
    _changed(ctx, json_, "claimed", result)


@app.command("release")
def release(
    ctx: typer.Context,
    task: str = typer.Argument(..., help="Task ID or unique prefix."),
    epoch: int = typer.Option(
        None,
        "--epoch",
        min=1,
        help="The claim epoch you hold (a fencing token): refused when the task's claim is newer.",
    ),
    json_: bool = JSON_OPTION,
) -> None:
    """Give a claimed task back: drops the claim and your assignment."""
    ws = open_workspace(ctx, warn=False)
    _changed(ctx, json_, "released", ws.release(acting(ctx, ws), task, epoch=epoch))


@app.command("ready")
def ready(
    ctx: typer.Context,
    explain: bool = typer.Option(
        False, "--explain", help="Also list open tasks that are not ready, and why."
    ),
    mine: bool = typer.Option(
        False, "--mine", help="Only tasks the acting agent (--as) could take."
    ),
    limit: int = typer.Option(None, "--limit", "-n", min=1, help="At most this many tasks."),
    json_: bool = JSON_OPTION,
) -> None:
    """Tasks whose dependencies are all done, most urgent first."""
    ws = open_reader(ctx)
    agent = acting(ctx, ws).name if mine else None
    result = ws.ready(agent, explain, limit)
    if want_json(ctx, json_):
        output.emit_json(result)
        return
    shown = [t["id"] for t in result["ready"]] + [t["id"] for t in result.get("not_ready", [])]
    short = ws.short_ids(shown)
    rows = [
        [
            short[t["id"]],
            f"p{t['priority']}",
            t["status"],
            t["title"],
            ",".join(t["assignees"]) or "-",
        ]
        for t in result["ready"]
    ]
    if rows:
        output.table(["ID", "PRI", "STATUS", "TITLE", "ASSIGNEES"], rows)
    else:
        output.notice("no task is ready")
    if explain and result["not_ready"]:
        output.write("\nNot ready:\n")
        output.write(
            "".join(
                f"  {short[t['id']]}  {t['title']}: {'; '.join(t['reasons'])}\n"
                for t in result["not_ready"]
            )
        )


@app.command("blocked")
def blocked(
    ctx: typer.Context,
    explain: bool = typer.Option(
        False,
        "--explain",
        help="Show why: each unfinished dependency and what it waits for in turn.",
    ),
    json_: bool = JSON_OPTION,
) -> None:
    """Open tasks that wait for unfinished dependencies or are in the blocked status."""
    ws = open_workspace(ctx)
    found = ws.blocked(explain)
    if want_json(ctx, json_):
        output.emit_json({"blocked": found})
        return
    if not found:
        output.notice("no task is blocked")
        return
    if not explain:
        short = ws.short_ids()
        rows = [
            [
                t["short_id"],
                f"p{t['priority']}",
                t["status"],
                t["title"],
                ",".join(short.get(d, d) for d in t["waits_for"]) or "-",
            ]
            for t in found
        ]
        output.table(["ID", "PRI", "STATUS", "TITLE", "WAITS FOR"], rows)
        return
    lines: list[str] = []

    def reasons(chain: list[dict[str, Any]], depth: int) -> None:
        for item in chain:
            text = item["reason"]
            if "title" in item:
                through = item.get("through")
                if through:  # "waits for X (status): Title, through its parent P"
                    text = (
                        text.removesuffix(f", through {through}")
                        + f": {item['title']}, through {through}"
                    )
                else:
                    text += f": {item['title']}"
            lines.append("  " * depth + "- " + text)
            reasons(item.get("chain", []), depth + 1)

    for task in found:
        lines.append(f"{task['short_id']}  {task['title']}  [{task['status']}]")
        reasons(task["chain"], 1)
    output.write("\n".join(lines) + "\n")


@dep_app.command("add")
def dep_add(
    ctx: typer.Context,
    task: str = typer.Argument(..., help="The task that waits."),
    dependency: str = typer.Argument(..., help="The task it waits for."),
    json_: bool = JSON_OPTION,
) -> None:
    """Make TASK depend on DEPENDENCY (cycles are refused)."""
    ws = open_workspace(ctx, warn=False)
    _changed(ctx, json_, "updated", ws.add_dependency(acting(ctx, ws), task, dependency))


@dep_app.command("rm")
def dep_rm(
    ctx: typer.Context,
    task: str = typer.Argument(..., help="The task that waits."),
    dependency: str = typer.Argument(..., help="The dependency to drop."),
    json_: bool = JSON_OPTION,
) -> None:
    """Remove a dependency."""
    ws = open_workspace(ctx, warn=False)
    _changed(ctx, json_, "updated", ws.remove_dependency(acting(ctx, ws), task, dependency))


@app.command("rm")
def rm(
    ctx: typer.Context,
    task: str = typer.Argument(..., help="Task ID or unique prefix."),
    force: bool = typer.Option(
        False, "--force", "-f", help="Also drop references from dependents and subtasks."
    ),
    json_: bool = JSON_OPTION,
) -> None:
    """Remove a task (its history stays in the event log and git)."""
    ws = open_workspace(ctx, warn=False)
    _changed(ctx, json_, "removed", ws.remove_task(acting(ctx, ws), task, force))


register_thread_commands(app)
