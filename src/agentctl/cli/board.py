"""``agentctl board``: a static rendering of the board view model."""

from __future__ import annotations

from typing import Any

import typer

from agentctl.cli import output
from agentctl.cli.common import JSON_OPTION, open_workspace, want_json
from agentctl.core.board import Board, build_board, matches

app = typer.Typer(rich_markup_mode=None)

PRIORITY_STYLE = {0: "bold red", 1: "yellow", 2: "cyan", 3: "dim"}


def load_board(ws: Any, show_done: bool = False, per_column: int = 12, **filters: Any) -> Board:
    tasks = [t for t in ws.list_tasks(include_done=True) if matches(t, **filters)]
    return build_board(tasks, ws.workflow, ws.short_ids(), per_column=per_column, show_done=show_done, all_tasks=ws.index.graph())


def plain_board(board: Board) -> str:
    lines: list[str] = []
    for column in board.columns:
        lines.append(f"== {column.status} ({column.total})")
        for card in column.cards:
            marks = ("!" if card.blocked else "") + ("?" if card.needs_review else "")
            who = " @" + " @".join(card.assignees) if card.assignees else ""
            lines.append(f"  {card.short_id:<10} p{card.priority} {card.title}{who}{(' ' + marks) if marks else ''}")
        if column.hidden:
            lines.append(f"  … +{column.hidden} more")
    return "\n".join(lines) + "\n"


def rich_board(board: Board) -> Any:
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    grid = Table.grid(expand=True, padding=(0, 1))
    for _ in board.columns:
        grid.add_column(ratio=1)
    cells = []
    for column in board.columns:
        body = Text()
        for card in column.cards:
            body.append(f"{card.short_id} ", style="dim")
            body.append(f"p{card.priority} ", style=PRIORITY_STYLE.get(card.priority, ""))
            body.append(card.title, style="bold" if card.priority == 0 else "")
            if card.blocked:
                body.append(" ⛔", style="red")
            if card.assignees:
                body.append("\n  @" + " @".join(card.assignees), style="green")
            body.append("\n")
        if column.hidden:
            body.append(f"… +{column.hidden} more\n", style="dim")
        cells.append(Panel(body, title=f"{column.status} ({column.total})", title_align="left", border_style="blue"))
    grid.add_row(*cells)
    return grid


@app.command()
def board(
    ctx: typer.Context,
    plain: bool = typer.Option(False, "--plain", help="Print a static board (the default when not on a terminal)."),
    show_done: bool = typer.Option(False, "--done", help="Show all done tasks, not just the latest."),
    assignee: str = typer.Option(None, "--assignee", help="Only this agent's tasks."),
    label: str = typer.Option(None, "--label", help="Only tasks with this label."),
    json_: bool = JSON_OPTION,
) -> None:
    """Show the task board: one column per status, most urgent first."""
    ws = open_workspace(ctx)
    view = load_board(ws, show_done, assignee=assignee, label=label)
    if want_json(ctx, json_):
        output.emit_json(
            {
                "columns": [
                    {"status": c.status, "total": c.total, "cards": [card.__dict__ for card in c.cards]}
                    for c in view.columns
                ]
            }
        )
        return
    if plain or not output.is_terminal():
        output.write(plain_board(view))
        return
    output.console().print(rich_board(view))
