"""``agentctl host``: this machine's name, the ``host`` of the agents it runs."""

from __future__ import annotations

import typer

from agentctl.cli import output
from agentctl.cli.common import JSON_OPTION, open_workspace, want_json
from agentctl.errors import UsageError

app = typer.Typer(rich_markup_mode=None, add_completion=False)

SOURCES = {
    "env": "from $AGENTCTL_HOST",
    "file": "set with 'agentctl host --set'",
    "hostname": "from the hostname",
}


@app.command()
def host(
    ctx: typer.Context,
    set_: str = typer.Option(
        None, "--set", help="Name this machine for this clone (kept in .agentctl/local/host)."
    ),
    unset: bool = typer.Option(
        False, "--unset", help="Forget the name set here: back to the hostname."
    ),
    json_: bool = JSON_OPTION,
) -> None:
    """Print this machine's name: agents whose host is this name run here (docs/teams.md).

    The name is $AGENTCTL_HOST when set, else the one set once per clone with --set (in
    .agentctl/local/, never committed), else the hostname made a valid name (lowercase
    letters, digits and '-'). Exit 2 for an invalid --set value or $AGENTCTL_HOST, 6 for an
    invalid .agentctl/local/host.
    """
    from agentctl.workspace.hosts import machine_host, set_machine_host

    if set_ is not None and unset:
        raise UsageError("give --set NAME or --unset, not both")
    ws = open_workspace(ctx, warn=False)
    if set_ is not None or unset:
        set_machine_host(ws.layout, set_)
    name, source = machine_host(ws.layout)
    if want_json(ctx, json_):
        output.emit_json({"host": name, "source": source})
        return
    output.write(name + "\n")
    output.notice(f"host: {name} ({SOURCES[source]})")
