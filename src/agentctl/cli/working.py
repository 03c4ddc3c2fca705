"""``agentctl working`` and ``agentctl note``."""

from __future__ import annotations

import typer

from agentctl.cli import output
from agentctl.cli.common import JSON_OPTION, acting, open_workspace, want_json

app = typer.Typer(
    help="Print WORKING.md (re-rendered if stale), or apply edits to it.",
    rich_markup_mode=None,
    invoke_without_command=True,
)
note_app = typer.Typer(rich_markup_mode=None)


@app.callback(invoke_without_command=True)
def working(ctx: typer.Context, json_: bool = JSON_OPTION) -> None:
    """Print WORKING.md, re-rendering it first if the records changed since it was written."""
    if ctx.invoked_subcommand is not None:
        return
    ws = open_workspace(ctx)
    text, rerendered = ws.working_text()
    if want_json(ctx, json_):
        output.emit_json(
            {"path": ws.layout.relative(ws.layout.working), "rerendered": rerendered, "text": text}
        )
    else:
        output.write(text)


@app.command("apply")
def apply(ctx: typer.Context, json_: bool = JSON_OPTION) -> None:
    """Apply hand edits: a task line moved under another status heading changes its status."""
    ws = open_workspace(ctx, warn=False)
    moves = ws.apply_working(acting(ctx, ws))
    if want_json(ctx, json_):
        output.emit_json({"applied": moves})
    elif moves:
        for move in moves:
            output.say(f"moved {move['id']} {move['from']} -> {move['to']}")
    else:
        output.notice("no changes to apply")


@note_app.command()
def note(
    ctx: typer.Context,
    text: list[str] = typer.Argument(..., help="The note text."),
    json_: bool = JSON_OPTION,
) -> None:
    """Append a signed, timestamped line to the Notes section of WORKING.md."""
    ws = open_workspace(ctx, warn=False)
    result = ws.add_note(acting(ctx, ws), " ".join(text))
    if want_json(ctx, json_):
        output.emit_json(result)
    else:
        output.say(result["note"])
