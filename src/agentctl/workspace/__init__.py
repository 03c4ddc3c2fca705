"""The library API every front end calls (CLI, TUI, heartbeats, hooks, MCP).

``Workspace`` returns data and raises :mod:`agentctl.errors`; it never prints. It joins
~30 mixin modules (``workspace/facade.py``) and is imported on first use, so importing one
of this package's modules (a read command's :mod:`agentctl.workspace.reader`, ``containment``)
does not import them all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentctl.workspace.facade import Workspace

__all__ = ["Workspace"]


def __getattr__(name: str) -> Any:
    if name == "Workspace":
        from agentctl.workspace.facade import Workspace

        return Workspace
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
