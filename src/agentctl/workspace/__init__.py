"""The library API every front end calls (CLI, TUI, heartbeats, hooks, MCP).

``Workspace`` returns data and raises :mod:`agentctl.errors`; it never prints.
"""

from __future__ import annotations

from agentctl.workspace.maintenance import Maintenance
from agentctl.workspace.memory import MemoryOps


class Workspace(Maintenance, MemoryOps):
    """A workspace rooted at a directory holding ``.agentctl/config.yaml``."""


__all__ = ["Workspace"]
