"""``agentctl export jsonl|taskwarrior|github-csv``: the workspace's tasks as agentctl JSON
Lines (lossless, re-importable with ``import jsonl``), Taskwarrior ``task import`` JSON or a
CSV of GitHub issue fields."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from agentctl.cli import output
from agentctl.cli.common import open_workspace

app = typer.Typer(
    help="Export tasks as JSON Lines, Taskwarrior JSON or a GitHub issues CSV.",
    rich_markup_mode=None,
    no_args_is_help=True,
)

ALL_OPTION = typer.Option(False, "--all", help="Include finished tasks.")
OUTPUT_OPTION = typer.Option(
    None, "--output", "-o", help="Write to this file (replaced atomically) instead of stdout."
)


@app.callback()
def group() -> None:
    """Export tasks as JSON Lines, Taskwarrior JSON or a GitHub issues CSV."""


def _export(ctx: typer.Context, fmt: str, all_: bool, out: str | None) -> None:
    target = None if out in (None, "-") else Path(out)
    ws = open_workspace(ctx, warn=False)
    text, count = ws.export_tasks(fmt, include_done=all_, output=target)
    if target is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    output.notice(f"{count} {'task' if count == 1 else 'tasks'} written to {out}")


@app.command("jsonl")
def jsonl(ctx: typer.Context, all_: bool = ALL_OPTION, out: str = OUTPUT_OPTION) -> None:
    """Export tasks as agentctl JSON Lines: every field, the body and the thread's messages
    (`agentctl import jsonl` gives the same records back). See docs/integrations.md."""
    _export(ctx, "jsonl", all_, out)


@app.command("taskwarrior")
def taskwarrior(ctx: typer.Context, all_: bool = ALL_OPTION, out: str = OUTPUT_OPTION) -> None:
    """Export tasks as Taskwarrior JSON (`task import FILE`); messages become annotations,
    the uuid is the imported one or one derived from the task ID. See docs/integrations.md."""
    _export(ctx, "taskwarrior", all_, out)


@app.command("github-csv")
def github_csv(ctx: typer.Context, all_: bool = ALL_OPTION, out: str = OUTPUT_OPTION) -> None:
    """Export tasks as CSV with GitHub issue columns: title, body, labels, assignees, state,
    milestone, agentctl_id. See docs/integrations.md."""
    _export(ctx, "github-csv", all_, out)
