"""Heartbeat runs on this machine: the run log and the run lock, behind the facade."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from agentctl.store import runs as runlog
from agentctl.workspace.base import WorkspaceBase


class RunOps(WorkspaceBase):
    def runs(self, agent: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
        """The latest ``limit`` heartbeat runs on this machine (of ``agent``, or of every
        agent), oldest first. Read-only; an agent that never ran has none."""
        return runlog.read(self.layout.local, agent, limit)

    def run(self, run_id: str) -> dict[str, Any]:
        """One heartbeat run on this machine by its ID (or a unique prefix of it), with the raw
        answers it kept. NotFoundError / AmbiguousError otherwise."""
        from agentctl.errors import AmbiguousError, NotFoundError

        found = runlog.find(self.layout.local, run_id)
        if not found:
            raise NotFoundError(
                f"no run {run_id!r} on this machine",
                hint="'agentctl runs' lists the latest with their IDs",
            )
        if len({r["id"] for r in found}) > 1:
            raise AmbiguousError(
                f"run {run_id!r} is ambiguous: {', '.join(r['id'] for r in found[:5])}"
            )
        return found[-1]

    def record_run(self, record: dict[str, Any]) -> None:
        """Append one tick's run record (``record["agent"]`` names the agent) to the log."""
        runlog.append(self.layout.local, record)

    def run_lock(self, agent: str) -> AbstractContextManager[None]:
        """Held while one tick of ``agent`` runs; LockTimeoutError at once if one already is."""
        return runlog.hold_lock(self.layout.local, agent)
