"""What every command shares: global options, opening the workspace, choosing the output."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, TypeVar, cast

import typer

from agentctl.core.text import neutralise

if TYPE_CHECKING:
    from agentctl.core.rules import Actor
    from agentctl.workspace import Workspace
    from agentctl.workspace.collab import CollabOps

OPENED: list[CollabOps] = []  # opened by this invocation: the boundary prints their warnings

JSON_OPTION: Any = typer.Option(
    False, "--json", help="Print one JSON document with schema_version."
)


class Globals:
    """The root options of this invocation (a plain class: a dataclass costs ~0.4 ms to
    build at every start)."""

    __slots__ = ("workspace", "as_agent", "json")

    def __init__(
        self, workspace: str | None = None, as_agent: str | None = None, json: bool = False
    ) -> None:
        self.workspace = workspace
        self.as_agent = as_agent
        self.json = json


def globals_of(ctx: typer.Context) -> Globals:
    root = ctx.find_root()
    return root.obj if isinstance(root.obj, Globals) else Globals()


def want_json(ctx: typer.Context, local: bool) -> bool:
    return local or globals_of(ctx).json


def open_workspace(ctx: typer.Context, warn: bool = True) -> Workspace:
    """The workspace for this invocation; read commands warn about invalid files on stderr.

    Write commands pass ``warn=False``: they refuse an invalid target record with a single
    ``file:line`` error instead, and a failed write prints nothing but that error.
    """
    from agentctl.workspace import Workspace

    return _open(ctx, Workspace, warn)


def open_reader(ctx: typer.Context) -> CollabOps:
    """The workspace for a read command (task list/show/ready, thread, inbox, search): the
    facade's read methods alone, which import a third of its modules (workspace/reader.py).
    Warns about invalid files on stderr like :func:`open_workspace`."""
    from agentctl.workspace.reader import Reader

    return _open(ctx, Reader, True)


_W = TypeVar("_W", bound="CollabOps")


def _open(ctx: typer.Context, cls: type[_W], warn: bool) -> _W:
    import os

    workspace: _W
    if os.environ.get(
        "AGENTCTL_BROKER"
    ):  # inside a sandboxed command agent: writes go to the broker
        from agentctl.workspace.brokered import BrokeredWorkspace

        workspace = cast(_W, BrokeredWorkspace.open(globals_of(ctx).workspace))
    else:
        workspace = cls.open(globals_of(ctx).workspace)
    OPENED.append(workspace)
    if warn:
        for problem in workspace.refresh():
            sys.stderr.write(
                neutralise(f"agentctl: warning: {problem} (skipped; run 'agentctl validate')\n")
            )
    return workspace


def acting(ctx: typer.Context, workspace: CollabOps) -> Actor:
    return workspace.actor(globals_of(ctx).as_agent)


def command_name() -> str:
    """How to run this agentctl again from any directory, for commands printed as advice:
    ``agentctl`` when that name on PATH is this installation, else this installation's
    script by its absolute path (a virtualenv that is not activated), else ``python -m``."""
    import shlex
    import shutil
    from pathlib import Path

    script = Path(sys.executable).parent / "agentctl"
    found = shutil.which("agentctl")
    if found and (not script.is_file() or Path(found).resolve() == script.resolve()):
        return "agentctl"
    if script.is_file():
        return shlex.quote(str(script))
    return f"{shlex.quote(sys.executable)} -m agentctl"
