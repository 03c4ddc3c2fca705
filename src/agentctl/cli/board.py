"""``agentctl board``: the live TUI on a terminal, a static rendering of the same board view
model otherwise (``--plain``, piped output, ``--json``), or the TUI in a browser (``--web``).

textual is imported only on the interactive path (:func:`run_interactive`); the static
path costs what a read command costs.
"""

from __future__ import annotations

import os
import shlex
import sys
from typing import TYPE_CHECKING, Any

import typer

from agentctl.cli import output
from agentctl.cli.common import JSON_OPTION, globals_of, open_workspace, want_json
from agentctl.core.board import Board, BoardFilter
from agentctl.core.text import neutralise
from agentctl.errors import UsageError

if TYPE_CHECKING:
    from agentctl.workspace import Workspace

WEB_EXTRA_HINT = "install it with: pip install 'agentctl[web]' (or pip install textual-serve)"

app = typer.Typer(rich_markup_mode=None)

PRIORITY_STYLE = {0: "bold red", 1: "yellow", 2: "cyan", 3: "dim"}


def load_board(
    ws: Workspace,
    show_done: bool = False,
    per_column: int = 12,
    assignee: str | None = None,
    label: str | None = None,
) -> Board:
    """The first ``per_column`` cards of each column and the counts, read from the index a
    column at a time (as the live board reads them: flat in the number of tasks)."""
    from agentctl.workspace.board_view import read_board

    ws.refresh()
    wanted = BoardFilter(assignee=assignee, label=label)
    return read_board(ws, wanted, show_done, lambda _status: per_column).board


def plain_board(board: Board) -> str:
    lines: list[str] = []
    for column in board.columns:
        lines.append(f"== {column.status} ({column.total})")
        for card in column.cards:
            marks = ("!" if card.blocked else "") + ("?" if card.needs_review else "")
            who = " @" + " @".join(card.assignees) if card.assignees else ""
            lines.append(
                f"  {card.short_id:<10} p{card.priority} {card.title}{who}{(' ' + marks) if marks else ''}"
            )
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
            body.append(neutralise(card.title), style="bold" if card.priority == 0 else "")
            if card.blocked:
                body.append(" ⛔", style="red")
            if card.assignees:
                body.append("\n  @" + " @".join(card.assignees), style="green")
            body.append("\n")
        if column.hidden:
            body.append(f"… +{column.hidden} more\n", style="dim")
        cells.append(
            Panel(
                body,
                title=f"{column.status} ({column.total})",
                title_align="left",
                border_style="blue",
            )
        )
    grid.add_row(*cells)
    return grid


@app.command()
def board(
    ctx: typer.Context,
    plain: bool = typer.Option(
        False, "--plain", help="Print a static board (the default when not on a terminal)."
    ),
    show_done: bool = typer.Option(
        False, "--done", help="Show all done tasks, not just the latest."
    ),
    assignee: str = typer.Option(None, "--assignee", help="Only this agent's tasks."),
    label: str = typer.Option(None, "--label", help="Only tasks with this label."),
    tui: bool = typer.Option(
        False, "--tui", help="Run the live board even when stdout is not a terminal."
    ),
    web: bool = typer.Option(
        False, "--web", help="Serve the live board in a browser (needs textual-serve)."
    ),
    host: str = typer.Option("localhost", "--host", help="With --web: the address to listen on."),
    port: int = typer.Option(8000, "--port", help="With --web: the port to listen on."),
    public_url: str = typer.Option(
        None,
        "--public-url",
        help="With --web: the URL browsers use to reach the server (default: http://HOST:PORT; the host name for 0.0.0.0).",
    ),
    json_: bool = JSON_OPTION,
) -> None:
    """Show the task board: live and keyboard-driven on a terminal (see docs/tui.md),
    static when piped or with --plain; one column per status, most urgent first."""
    if web:
        serve_web(ctx, host, port, show_done, assignee, label, public_url)
        return
    ws = open_workspace(ctx)
    as_json = want_json(ctx, json_)
    if (
        not as_json
        and not plain
        and (tui or output.is_terminal() or os.environ.get("TEXTUAL_DRIVER"))
    ):
        run_interactive(ws, globals_of(ctx).as_agent, initial_query(assignee, label), show_done)
        return
    view = load_board(ws, show_done, assignee=assignee, label=label)
    if as_json:
        output.emit_json(
            {
                "columns": [
                    {
                        "status": c.status,
                        "total": c.total,
                        "cards": [card.__dict__ for card in c.cards],
                    }
                    for c in view.columns
                ]
            }
        )
        return
    if not output.is_terminal():
        output.write(plain_board(view))
        return
    output.console().print(rich_board(view))


def initial_query(assignee: str | None, label: str | None) -> str:
    """The TUI's ``/`` filter equivalent to the static board's options."""
    return " ".join(
        part
        for part in ((f"@{assignee}" if assignee else ""), (f"#{label}" if label else ""))
        if part
    )


def run_interactive(
    ws: Workspace, actor: str | None, query: str = "", show_done: bool = False
) -> None:
    """Run the textual board in this terminal until the person quits."""
    from agentctl.tui.app import make_app

    app = make_app(ws, actor=actor, query=query, show_done=show_done)
    from textual.drivers.web_driver import WebDriver

    if app.driver_class is WebDriver:  # started by textual-serve for one browser session
        from agentctl.tui.web_driver import SessionBoundWebDriver

        app.driver_class = SessionBoundWebDriver
    app.run()
    if app.return_code:  # textual has printed the crash report already
        raise typer.Exit(app.return_code)


def web_command(
    root: str, actor: str | None, show_done: bool, assignee: str | None, label: str | None
) -> str:
    """The command textual-serve starts per browser session. textual-serve runs it through a
    shell, so every argument is quoted."""
    argv = [sys.executable, "-m", "agentctl", "-W", root]
    if actor:
        argv += ["--as", actor]
    argv += ["board", "--tui"]
    if show_done:
        argv.append("--done")
    if assignee:
        argv += ["--assignee", assignee]
    if label:
        argv += ["--label", label]
    # exec: the shell becomes the board process, so signals reach it and no shell is left behind
    return "exec " + shlex.join(argv)


def serve_web(
    ctx: typer.Context,
    host: str,
    port: int,
    show_done: bool,
    assignee: str | None,
    label: str | None,
    public_url: str | None = None,
) -> None:
    try:
        from textual_serve.server import Server  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        raise UsageError(
            "board --web needs the optional textual-serve package, which is not installed",
            hint=WEB_EXTRA_HINT,
        ) from None
    ws = open_workspace(ctx)
    command = web_command(str(ws.root), globals_of(ctx).as_agent, show_done, assignee, label)
    ws.close()
    url = public_url.rstrip("/") if public_url else default_public_url(host, port)
    output.notice(f"serving the board on {url} (listening on {host}:{port}; Ctrl+C stops)")
    _session_closing_server(Server)(
        command, host=host, port=port, title="agentctl board", public_url=url
    ).serve()


def _session_closing_server(base: Any) -> Any:
    """textual-serve's server, which on Ctrl+C / SIGTERM also drops its open browser sessions
    (aiohttp would otherwise wait up to a minute for them), so that every board process is
    told to quit at once."""

    class SessionClosingServer(base):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.sessions: dict[int, Any] = {}  # id -> transport of an open browser session

        async def handle_websocket(self, request: Any) -> Any:
            self.sessions[id(request)] = request.transport
            try:
                return await super().handle_websocket(request)
            finally:
                self.sessions.pop(id(request), None)

        async def on_shutdown(self, app: Any) -> None:
            await super().on_shutdown(app)
            for transport in list(self.sessions.values()):
                if transport is not None:
                    transport.close()

    return SessionClosingServer


def default_public_url(host: str, port: int) -> str:
    """The address browsers are told to connect to. A wildcard listen address (0.0.0.0, ::)
    is no address to connect to: the machine's host name is used instead."""
    import socket

    if host in ("", "0.0.0.0", "::", "[::]"):
        host = socket.gethostname()
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"
