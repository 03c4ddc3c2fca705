"""``agentctl mcp``: serve the workspace to coding agents over the Model Context Protocol.

The MCP SDK (the ``mcp`` extra) is imported only when the server starts, so ``--help`` stays
light."""

from __future__ import annotations

import typer

from agentctl.cli.common import globals_of
from agentctl.errors import UsageError

mcp_app = typer.Typer(rich_markup_mode=None)


@mcp_app.command()
def mcp(
    ctx: typer.Context,
    as_agent: str = typer.Option(
        None,
        "--as",
        help="Act as this agent (default: the global --as, else $AGENTCTL_AGENT, else you).",
    ),
    transport: str = typer.Option("stdio", "--transport", help="stdio (default) or http."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (http)."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port to listen on (http)."),
) -> None:
    """Run an MCP server: tasks, show, claim, move, comment, inbox, search, prime, add_task
    as tools, WORKING.md and task files as resources (docs/integrations.md).

    Every tool acts as one identity with the CLI's permissions; the server sees changes other
    processes make. http serves streamable HTTP at http://HOST:PORT/mcp."""
    if transport not in ("stdio", "http"):
        raise UsageError(f"--transport must be stdio or http, not {transport!r}")
    try:
        from agentctl.cli.mcp_tools import serve
    except ImportError as exc:
        if (exc.name or "").split(".")[0] != "mcp":
            raise
        raise UsageError(
            "the MCP SDK is not installed",
            hint="pip install 'agentctl[mcp]' (the official mcp package, version 2)",
        ) from None
    options = globals_of(ctx)
    serve(options.workspace, as_agent or options.as_agent, transport, host, port)
