"""``agentctl standup`` and ``agentctl stats``: deterministic team reports (no LLM)."""

from __future__ import annotations

import re
from typing import Any

import typer

from agentctl.cli import output
from agentctl.cli.common import JSON_OPTION, acting, open_workspace, want_json
from agentctl.core import reports
from agentctl.core.text import neutralise
from agentctl.errors import UsageError

standup_app = typer.Typer(rich_markup_mode=None)
stats_app = typer.Typer(rich_markup_mode=None)

UNTIL_OPTION: Any = typer.Option(
    None,
    "--until",
    help="End of the window: a date/time such as 2026-11-20T09:00:00Z (default: now).",
)
CHART_GLYPHS = re.compile(r"[▁▂▃▄▅▆▇█▏▎▍▌▋▊▉]+")


def _warn(warnings: list[str]) -> None:
    for warning in warnings:
        output.notice(f"warning: {warning}")


@standup_app.command()
def standup(
    ctx: typer.Context,
    since: str = typer.Option(
        "24h",
        "--since",
        help="Start of the window: a duration back from --until (24h, 3d) or a date/time.",
    ),
    until: str = UNTIL_OPTION,
    format_: str = typer.Option("md", "--format", help="md (markdown) or json."),
    write: bool = typer.Option(
        False, "--write", help="Also store the digest as a document (type protocol)."
    ),
    json_: bool = JSON_OPTION,
) -> None:
    """Per agent: what was completed, is in progress, waits for review or is blocked, and the
    decisions made (decision documents added) in the window. Deterministic, no LLM."""
    if format_ not in ("md", "json"):
        raise UsageError(f"--format must be md or json, not {format_!r}")
    ws = open_workspace(ctx, warn=not write)
    report = ws.standup(since, until)
    _warn(report.pop("warnings"))
    text = reports.render_standup(report, report["workspace"])
    document = None
    if write:
        end = report["window"]["end"]
        document = ws.add_doc(
            acting(ctx, ws),
            f"Standup {end[:10]} {end[11:16]} UTC ({report['window']['since']})",
            "protocol",
            text,
        )
    if want_json(ctx, json_) or format_ == "json":
        output.emit_json({"standup": report, **({"document": document} if document else {})})
        return
    output.write(text)
    if document:
        output.notice(f"stored as document {document['id']} ({document['path']})")


@stats_app.command()
def stats(
    ctx: typer.Context,
    since: str = typer.Option(
        "7d",
        "--since",
        help="Start of the window: a duration back from --until (7d, 2w) or a date/time.",
    ),
    until: str = UNTIL_OPTION,
    oldest: int = typer.Option(
        5, "--oldest", min=0, help="How many of the oldest open tasks to list."
    ),
    json_: bool = JSON_OPTION,
) -> None:
    """Tasks by status, throughput per day, cycle time p50/p90 (assigned -> done), per-agent
    done / in progress / WIP, and the oldest open tasks. Charts on a terminal."""
    ws = open_workspace(ctx)
    result = ws.stats(since, until, oldest=oldest)
    _warn(result.pop("warnings"))
    if want_json(ctx, json_):
        output.emit_json({"stats": result})
        return
    if not output.is_terminal():
        output.write(render_stats(result, charts=False))
        return
    from rich.text import Text

    text = Text(neutralise(render_stats(result, charts=True)))
    text.highlight_regex(CHART_GLYPHS, "cyan")
    output.console().print(text, soft_wrap=True)


def render_stats(result: dict[str, Any], charts: bool) -> str:
    """Stats as text; with ``charts`` also unicode bars and a throughput sparkline."""
    window = result["window"]
    lines = [
        f"Stats for {window['start']} to {window['end']} ({window['since']})",
        "",
        "Tasks by status:",
    ]
    counts = result["by_status"]
    top = max((row["count"] for row in counts), default=0)
    width = max((len(row["status"]) for row in counts), default=0)
    digits = len(str(top))
    for row in counts:
        chart = f"  {reports.bar(row['count'], top)}" if charts else ""
        lines.append(f"  {row['status']:<{width}}  {row['count']:>{digits}}{chart}".rstrip())
    days = result["throughput"]
    spark = f"  {reports.sparkline([d['done'] for d in days])}" if charts else ""
    lines += ["", f"Throughput (tasks done per day): {result['completed']} in total{spark}"]
    most = max((d["done"] for d in days), default=0)
    if len(days) > 14:  # a long window: only the days with completions
        days = [d for d in days if d["done"]]
        lines.append("  (days without completions are left out)")
    for day in days:
        chart = f"  {reports.bar(day['done'], most)}" if charts else ""
        lines.append(f"  {day['date']}  {day['done']:>{len(str(most))}}{chart}".rstrip())
    cycle = result["cycle_time"]
    if cycle["samples"]:
        lines += [
            "",
            f"Cycle time (assigned -> done, {cycle['samples']} task(s)): p50 {cycle['p50']}, p90 {cycle['p90']}",
        ]
    else:
        lines += ["", "Cycle time (assigned -> done): no task completed in the window"]
    lines += ["", "Agents:"]
    people = result["agents"]
    if people:
        rows = [[p["name"], str(p["done"]), str(p["in_progress"]), str(p["wip"])] for p in people]
        if charts:
            most_wip = max(p["wip"] for p in people)
            rows = [
                [*row, reports.bar(p["wip"], most_wip, 10)]
                for row, p in zip(rows, people, strict=True)
            ]
        columns = ["AGENT", "DONE", "IN PROGRESS", "WIP", *([""] if charts else [])]
        lines += ["  " + line for line in output.plain_table(columns, rows).splitlines()]
    else:
        lines.append("  no agents")
    lines += ["", "Oldest open tasks:"]
    if result["oldest_open"]:
        rows = [
            [t["id"], t["status"], t["age"], ",".join(t["assignees"]) or "-", t["title"]]
            for t in result["oldest_open"]
        ]
        lines += [
            "  " + line
            for line in output.plain_table(
                ["ID", "STATUS", "AGE", "ASSIGNEES", "TITLE"], rows
            ).splitlines()
        ]
    else:
        lines.append("  none")
    return "\n".join(lines) + "\n"
