"""The broker: how a sandboxed command agent's child changes the workspace.

A thread of the tick serves a unix socket. One connection carries one request, a JSON line
``{"actor": <name the client acts as>, "action": {...}}`` holding one of the closed actions
a model answer may contain (core/actions.py), and gets one JSON line back:
``{"ok": true, "result": ...}`` or ``{"ok": false, "error": ..., "hint": ..., "code": ...}``.
The broker applies the action through the workspace facade *as its agent*, with its
permissions, whatever the client claims; a client claiming another agent is refused (exit 7).
Only processes that descend from the tick (the child and its descendants) are served.
"""

from __future__ import annotations

import json
import os
import socket
import struct
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentctl.errors import AgentctlError, ExitCode
from agentctl.workspace import containment

if TYPE_CHECKING:
    from agentctl.core.rules import Actor
    from agentctl.workspace import Workspace

REQUEST_LIMIT = 4 * 1024 * 1024  # bytes of one request (a document body is at most MAX_DOC)


def perform(ws: Workspace, actor: Actor, action: Any) -> Any:
    """Apply one validated action; returns what the workspace method returned (the CLI
    renders it exactly as it renders a direct call)."""
    kind = action.type
    if kind == "comment":
        return ws.comment(actor, action.task, action.text, kind=action.kind)
    if kind == "set_status":
        return ws.move_task(actor, action.task, action.status, action.note)
    if kind == "create_task":
        return ws.add_task(
            actor, action.title, description=action.description or "", priority=action.priority,
            assignees=[action.assignee] if action.assignee else [], labels=action.labels or [],
            parent=action.parent, depends_on=action.depends_on or [], criteria=action.criteria or [],
        )  # fmt: skip
    if kind == "assign":
        return ws.assign(actor, action.task, [action.agent])
    if kind == "claim":
        return ws.claim(actor, action.task)
    if kind == "release":
        return ws.release(actor, action.task)
    if kind == "write_doc":
        return ws.add_doc(actor, action.title, action.doc_type, action.body, action.task)
    if kind == "fetch_doc":
        return ws.fetch_doc(actor, action.url, action.task, action.title)
    if kind == "remember":
        return ws.add_memory(actor.name, action.text, long_term=action.long_term, actor=actor)
    if kind == "notify":
        if action.task:
            return ws.comment(actor, action.task, f"@{action.agent} {action.text}")
        return ws.direct_message(actor, action.agent, action.text)
    if kind == "dispatch":
        return ws.dispatch(actor, limit=action.limit)
    return {"noop": True}


def _peer_pid(conn: socket.socket) -> int | None:
    try:
        data = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    except (OSError, AttributeError):
        return None
    pid, _uid, _gid = struct.unpack("3i", data)
    return int(pid)


class Broker:
    """Serves one agent's requests on ``path`` until :meth:`stop`."""

    def __init__(self, root: Path, agent: str, path: Path) -> None:
        self.root, self.agent, self.path = root, agent, path
        self.served = 0
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(str(path))
        self._server.listen(8)
        self._stopping = False
        self._thread = threading.Thread(target=self._serve, name=f"broker-{agent}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping = True
        try:
            self._server.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._server.close()
        self._thread.join(5)
        self.path.unlink(missing_ok=True)

    def _serve(self) -> None:
        from agentctl.workspace import Workspace

        ws = Workspace(self.root)  # its own index connection: SQLite objects stay in one thread
        try:
            while not self._stopping:
                try:
                    conn, _ = self._server.accept()
                except OSError:
                    return
                with conn:
                    self._handle(ws, conn)
        finally:
            ws.close()

    def _handle(self, ws: Workspace, conn: socket.socket) -> None:
        conn.settimeout(30)
        pid = _peer_pid(conn)
        if pid is None or not containment.descends_from(pid, os.getpid()):
            self._reply(
                conn,
                {
                    "ok": False,
                    "error": "the broker serves only the agent's own child processes",
                    "code": int(ExitCode.PERMISSION),
                },
            )
            return
        try:
            request = json.loads(self._read(conn))
            reply = {"ok": True, "result": self._apply(ws, request)}
        except AgentctlError as exc:
            reply = {
                "ok": False,
                "error": exc.message,
                "hint": exc.hint,
                "code": int(exc.exit_code),
            }
        except (ValueError, TypeError, KeyError) as exc:
            reply = {
                "ok": False,
                "error": f"bad broker request: {exc}",
                "code": int(ExitCode.USAGE),
            }
        self.served += 1
        self._reply(conn, reply)

    def _apply(self, ws: Workspace, request: dict[str, Any]) -> Any:
        from agentctl.core.actions import parse_answer
        from agentctl.errors import PermissionDeniedError, UsageError

        claimed = request.get("actor")
        if claimed and claimed != self.agent and ws.index.agent(str(claimed)) is not None:
            raise PermissionDeniedError(
                f"refused to act as {claimed}: this sandbox acts only as {self.agent}"
            )
        actions, rejected = parse_answer(json.dumps([request["action"]]), 1)
        if rejected or not actions:
            reason = rejected[0]["reason"] if rejected else "no action"
            raise UsageError(f"refused by the broker: {reason}")
        return perform(ws, ws.actor(self.agent), actions[0])

    @staticmethod
    def _read(conn: socket.socket) -> bytes:
        data = bytearray()
        while b"\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
            if len(data) > REQUEST_LIMIT:
                raise ValueError("request too large")
        return bytes(data)

    @staticmethod
    def _reply(conn: socket.socket, reply: dict[str, Any]) -> None:
        try:
            conn.sendall(json.dumps(reply, default=str).encode("utf-8") + b"\n")
        except OSError:
            pass
