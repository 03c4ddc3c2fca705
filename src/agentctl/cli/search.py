"""``agentctl search``: full-text search over tasks, messages and documents."""

from __future__ import annotations

import re

import typer

from agentctl.cli import output
from agentctl.cli.common import JSON_OPTION, open_reader, want_json
from agentctl.core.text import neutralise

app = typer.Typer(rich_markup_mode=None)

_MARK = re.compile(r"\*\*(.+?)\*\*")


@app.command()
def search(
    ctx: typer.Context,
    query: str = typer.Argument(
        ..., help='Words (all must match), "a phrase", prefix*, OR, NOT, (groups).'
    ),
    type_: list[str] = typer.Option(None, "--type", help="task, message or doc (repeatable)."),
    status: list[str] = typer.Option(
        None, "--status", "-s", help="Only hits on tasks in this status (repeatable)."
    ),
    limit: int = typer.Option(20, "--limit", "-n", min=1, max=1000, help="At most N hits."),
    json_: bool = JSON_OPTION,
) -> None:
    """Search titles, task bodies, messages and documents, best match first, with a snippet."""
    ws = open_reader(ctx)
    hits = ws.search(query, type_ or [], status or [], limit)
    if want_json(ctx, json_):
        output.emit_json({"query": query, "hits": hits})
        return
    if not hits:
        output.say("no matches")
        return
    colour = output.use_colour()
    lines = []
    for hit in hits:
        where = hit["id"] if hit["type"] != "message" else f"{hit['task']} {hit['id']}"
        status_text = f" [{hit['status']}]" if hit.get("status") else ""
        lines.append(f"{hit['type']:<7} {where}{status_text}  {hit['title']}")
        lines.append("        " + hit["snippet"])
    if colour:
        console = output.console()
        for line in lines:
            escaped = neutralise(line).replace("[", "\\[")
            console.print(_MARK.sub(r"[bold yellow]\1[/]", escaped))
        return
    output.write("\n".join(lines) + "\n")
