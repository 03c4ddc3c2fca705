"""Files for coding agents (``agentctl setup``): agentctl's marked block in an instruction file
(CLAUDE.md, AGENTS.md, ...) and the agentctl server in an MCP client's JSON config.

These are the project's files, not agentctl records: they are written atomically at paths
inside the workspace root and never committed by agentctl (the user reviews and commits them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agentctl.core import instructions
from agentctl.errors import UsageError
from agentctl.workspace.base import WorkspaceBase


class IntegrationOps(WorkspaceBase):
    def _project_file(self, rel: str) -> Path:
        path = self.layout.inside(Path(rel))
        if path.is_symlink() or (path.exists() and not path.is_file()):
            raise UsageError(f"{rel} is not a regular file; refusing to write it")
        return path

    @staticmethod
    def _read(path: Path) -> str | None:
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    def install_instructions(
        self, rel: str, body: str, preamble: str | None = None, remove: bool = False
    ) -> dict[str, Any]:
        """Write (or with ``remove`` take out) agentctl's block in the file ``rel``. A new
        file gets ``preamble`` before the block; a file left holding nothing but that
        preamble is deleted. Returns ``{"path", "action"}``, the action one of created,
        updated, unchanged, removed, deleted, absent."""
        from agentctl.store import atomic

        path = self._project_file(rel)
        current = self._read(path)
        preamble = preamble or ""
        if remove:
            if current is None or not instructions.has_block(current):
                return {"path": rel, "action": "absent"}
            rest = instructions.remove_block(current, rel)
            if not rest.strip() or rest.strip() == preamble.strip():
                atomic.delete(path)
                return {"path": rel, "action": "deleted"}
            atomic.write_text(path, rest)
            return {"path": rel, "action": "removed"}
        if current is None:
            atomic.write_text(path, instructions.upsert_block(preamble, body, rel))
            return {"path": rel, "action": "created"}
        updated = instructions.upsert_block(current, body, rel)
        if updated == current:
            return {"path": rel, "action": "unchanged"}
        atomic.write_text(path, updated)
        return {"path": rel, "action": "updated"}

    def install_mcp_server(
        self, rel: str, key: str, name: str, entry: dict[str, Any], remove: bool = False
    ) -> dict[str, Any]:
        """Merge server ``name`` into the JSON config ``rel`` under ``key`` (or take it out),
        keeping every other server and setting; a file left empty is deleted."""
        from agentctl.store import atomic

        path = self._project_file(rel)
        current = self._read(path)
        if remove:
            if current is None:
                return {"path": rel, "action": "absent"}
            text, changed = instructions.remove_server(current, key, name, rel)
            if not changed:
                return {"path": rel, "action": "absent"}
            if not text:
                atomic.delete(path)
                return {"path": rel, "action": "deleted"}
            atomic.write_text(path, text)
            return {"path": rel, "action": "removed"}
        text, changed = instructions.upsert_server(current or "", key, name, entry, rel)
        if not changed:
            return {"path": rel, "action": "unchanged"}
        atomic.write_text(path, text)
        return {"path": rel, "action": "created" if current is None else "updated"}
