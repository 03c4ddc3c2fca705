"""``agentctl graph``: the task graph, its critical path, a schedule, dependency loops."""

from __future__ import annotations

from datetime import date
from typing import Any

import typer

from agentctl.cli import output
from agentctl.cli.common import JSON_OPTION, open_workspace, want_json
from agentctl.errors import ExitCode, UsageError

app = typer.Typer(
    help="The task graph (tree, Mermaid, DOT, JSON), its critical path, a schedule, dependency loops.",
    rich_markup_mode=None,
    invoke_without_command=True,
    add_completion=False,
)

GRAPH_FORMATS = ("tree", "mermaid", "dot", "json")
GANTT_FORMATS = ("text", "mermaid", "json")
ROOT_OPTION: Any = typer.Option(
    None, "--root", help="Only this task and the tasks below it (ID or prefix)."
)


def _choice(value: str, allowed: tuple[str, ...], option: str) -> str:
    if value not in allowed:
        raise UsageError(f"{option} must be one of {', '.join(allowed)}, not {value!r}")
    return value


def _hours(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0") + "h"


@app.callback(invoke_without_command=True)
def graph(
    ctx: typer.Context,
    root: str = ROOT_OPTION,
    format_: str = typer.Option("tree", "--format", "-f", help="tree | mermaid | dot | json."),
    all_: bool = typer.Option(
        False, "--all", help="Also finished tasks (default: open tasks and the parents above them)."
    ),
    json_: bool = JSON_OPTION,
) -> None:
    """Print the dependency and parent/child graph of the open tasks.

    tree: parents nest their children, '← waits for' names dependencies. mermaid: a flowchart
    for a ```mermaid block (GitHub renders it). dot: Graphviz (dot -Tsvg). Critical-path tasks
    are marked in every format."""
    if ctx.invoked_subcommand is not None:
        return
    from agentctl.core import graph_render

    chosen = "json" if want_json(ctx, json_) else _choice(format_, GRAPH_FORMATS, "--format")
    ws = open_workspace(ctx)
    view = ws.graph_view(root, all_)
    if chosen == "json":
        output.emit_json(graph_render.view_data(view))
    elif chosen == "mermaid":
        output.write(graph_render.render_mermaid(view))
    elif chosen == "dot":
        output.write(graph_render.render_dot(view))
    elif view.nodes:
        output.write(graph_render.render_tree(view))
    else:
        output.notice(
            "no open task" + (" under that root" if root else "") + " (--all shows finished ones)"
        )


@app.command("critical-path")
def critical_path(ctx: typer.Context, root: str = ROOT_OPTION, json_: bool = JSON_OPTION) -> None:
    """The longest chain of open work, its duration, and the slack of every open task.

    Durations are working hours (1d = planning.hours_per_day); a range 4h-6h counts as
    (min + 4*mid + max) / 6; a task without an estimate counts planning.default_estimate and
    is listed; parents span their children (docs/planning.md)."""
    ws = open_workspace(ctx)
    report = ws.critical_path_report(root)
    if want_json(ctx, json_):
        output.emit_json(report)
        return
    if not report["tasks"] and not report["cyclic"]:
        output.notice("no open task" + (" under that root" if root else ""))
        return
    out = [
        f"Critical path: {len(report['path'])} task(s), {_hours(report['total_hours'])} "
        f"({report['total_days']:g} working days of {_hours(report['hours_per_day'])})",
        "",
    ]
    rows = [
        [str(i), t["short_id"], t["estimate"] or "-", _hours(t["expected_hours"]), _hours(t["earliest_start"]),
         _hours(t["earliest_finish"]), t["title"]]
        for i, t in enumerate(report["path"], 1)
    ]  # fmt: skip
    out.append(
        output.plain_table(["#", "ID", "ESTIMATE", "EXPECTED", "START", "FINISH", "TITLE"], rows)
    )
    others = [t for t in report["tasks"] if not t["critical"]]
    if others:
        out.append(
            "Slack of the other open tasks (how long each can slip without delaying the end):\n"
        )
        rows = [
            [t["short_id"], _hours(t["slack_hours"]), _hours(t["expected_hours"]) if not t["summary"] else "parent",
             _hours(t["earliest_start"]), t["title"]]
            for t in others
        ]  # fmt: skip
        out.append(output.plain_table(["ID", "SLACK", "EXPECTED", "START", "TITLE"], rows))
    if report["missing_estimates"]:
        names = ", ".join(f"{t['short_id']} {t['title']}" for t in report["missing_estimates"])
        out.append(
            f"No estimate, counted as {report['default_estimate']} (planning.default_estimate): {names}\n"
        )
    if report["cyclic"]:
        names = ", ".join(f"{t['short_id']} {t['title']}" for t in report["cyclic"])
        out.append(f"Left out, in or behind a dependency loop (agentctl graph cycles): {names}\n")
    output.write("\n".join(out))


@app.command("gantt")
def gantt(
    ctx: typer.Context,
    root: str = ROOT_OPTION,
    start: str = typer.Option(
        None, "--start", help="First day of the schedule, YYYY-MM-DD (default: today)."
    ),
    format_: str = typer.Option("text", "--format", "-f", help="text | mermaid | json."),
    lanes: int = typer.Option(
        None,
        "--lanes",
        help="Unassigned work goes to N lanes (default: the agents not on the manual runtime).",
    ),
    json_: bool = JSON_OPTION,
) -> None:
    """A schedule of the open tasks from estimates, dependencies and agent capacity.

    One agent does one task at a time; assigned tasks stay in their agent's lane, unassigned
    ones go to whichever pool lane is free first. text: a timeline for the terminal; mermaid:
    a gantt chart (sections per parent, critical path marked crit) for a ```mermaid block."""
    from agentctl.core import gantt_render

    chosen = "json" if want_json(ctx, json_) else _choice(format_, GANTT_FORMATS, "--format")
    first_day = None
    if start is not None:
        try:
            first_day = date.fromisoformat(start)
        except ValueError:
            raise UsageError(f"--start must be a date like 2026-12-31, not {start!r}") from None
    ws = open_workspace(ctx)
    result = ws.gantt(root, first_day, lanes)
    args = (result.schedule, result.tasks, result.short, result.calendar)
    if chosen == "json":
        output.emit_json(gantt_render.schedule_data(*args))
    elif chosen == "mermaid":
        output.write(gantt_render.render_mermaid_gantt(*args))
    else:
        output.write(gantt_render.render_text_gantt(*args))


@app.command("cycles")
def cycles(ctx: typer.Context, json_: bool = JSON_OPTION) -> None:
    """List every loop in the task graph: tasks that wait for each other, parent loops, and
    tasks that wait for a parent above them (or a task inside them).

    Exit 0 when there is none, 5 (CONFLICT) when there is one or more, so scripts can check."""
    ws = open_workspace(ctx)
    found = ws.cycles()
    if want_json(ctx, json_):
        output.emit_json({"cycles": found})
    elif not found:
        output.notice("no dependency loop")
    else:
        lines = []
        for loop in found:
            names = [f"{t['short_id']} {t['title']}" for t in loop["tasks"]]
            if loop["kind"] == "depends_on":
                lines.append("waits in a loop: " + " → waits for ".join(names))
            elif loop["kind"] == "parent":
                lines.append("parent loop: " + " → child of ".join(names))
            elif loop["kind"] == "ancestor":
                lines.append(
                    f"waits for a parent above it: {names[0]} waits for {names[-1]} (a parent finishes after its children)"
                )
            else:
                lines.append(
                    f"waits for a task inside it: {names[0]} waits for {names[-1]} (a parent starts before its children)"
                )
        output.write("\n".join(lines) + "\n")
    if found:
        raise typer.Exit(int(ExitCode.CONFLICT))
