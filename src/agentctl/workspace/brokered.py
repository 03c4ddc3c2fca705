"""The workspace as a sandboxed command agent's child sees it ($AGENTCTL_BROKER is set).

Reads work as usual on the read-only records. Writes that are one of the closed actions
(comment, move, add, assign, claim, release, dispatch, doc add, memory add, direct message) are sent to
the tick's broker (heartbeat/broker.py), which applies them as the agent; every other write is
refused with exit 7 before anything is attempted.
"""

from __future__ import annotations

import json
import os
import socket
from typing import Any

from agentctl.core.rules import Actor
from agentctl.errors import AgentctlError, ExitCode, PermissionDeniedError, UsageError
from agentctl.workspace import Workspace

ENV_BROKER = "AGENTCTL_BROKER"
COVERED = "task comment/move/add/assign/claim/release, dispatch, doc add, fetch, memory add"


class BrokerError(AgentctlError):
    def __init__(self, message: str, hint: str | None, code: int) -> None:
        super().__init__(message, hint)
        self.exit_code = ExitCode(code) if code in ExitCode._value2member_map_ else ExitCode.USAGE


def _unsupported(what: str) -> UsageError:
    return UsageError(
        f"{what} is not available inside the sandbox (the broker takes the closed action set only)"
    )


class BrokeredWorkspace(Workspace):
    """A workspace whose writes go through the broker at ``$AGENTCTL_BROKER``."""

    def _mutate(self, actor: Actor) -> Any:
        raise PermissionDeniedError(
            "this command cannot change the workspace inside the sandbox",
            hint=f"a sandboxed agent changes the workspace through the broker: {COVERED}",
        )

    def working_text(self) -> tuple[str, bool]:
        """The fresh rendering, without writing it (WORKING.md is read-only in the sandbox)."""
        fresh, current = self.render_working()
        return fresh, fresh != current

    def _send(self, actor: Actor, action: dict[str, Any]) -> Any:
        path = os.environ[ENV_BROKER]
        request = json.dumps({"actor": actor.name, "action": action}) + "\n"
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
                conn.settimeout(120)
                conn.connect(path)
                conn.sendall(request.encode("utf-8"))
                data = bytearray()
                while chunk := conn.recv(65536):
                    data += chunk
        except OSError as exc:
            raise UsageError(
                f"cannot reach the heartbeat's broker at {path}: {exc.strerror or exc}"
            ) from None
        try:
            reply = json.loads(bytes(data))
        except ValueError:
            raise UsageError("the heartbeat's broker sent no answer") from None
        if not reply.get("ok"):
            raise BrokerError(
                str(reply.get("error")), reply.get("hint"), int(reply.get("code") or 2)
            )
        return reply.get("result")

    def comment(
        self, actor: Actor, ref: str, text: str, kind: str = "comment", reply_to: str | None = None
    ) -> Any:
        if reply_to:
            raise _unsupported("--reply-to")
        return self._send(actor, {"type": "comment", "task": ref, "text": text, "kind": kind})

    def move_task(
        self,
        actor: Actor,
        ref: str,
        status: str,
        note: str | None = None,
        epoch: int | None = None,
    ) -> Any:
        if epoch is not None:
            raise _unsupported("--epoch")
        return self._send(
            actor, {"type": "set_status", "task": ref, "status": status, "note": note}
        )

    def add_task(
        self, actor: Actor, title: str, description: str = "", priority: int | None = None,
        assignees: list[str] | None = None, labels: list[str] | None = None, parent: str | None = None,
        depends_on: list[str] | None = None, estimate: str | None = None, due: str | None = None,
        criteria: list[str] | None = None, spec: str | None = None,
    ) -> Any:  # fmt: skip
        for name, value in (("--estimate", estimate), ("--due", due), ("--spec", spec)):
            if value:
                raise _unsupported(name)
        if assignees and len(assignees) > 1:
            raise _unsupported("more than one --assign")
        action = {
            "type": "create_task", "title": title, "description": description or None,
            "priority": 2 if priority is None else priority, "labels": labels or [], "parent": parent,
            "depends_on": depends_on or [], "assignee": assignees[0] if assignees else None, "criteria": criteria or [],
        }  # fmt: skip
        return self._send(actor, action)

    def assign(self, actor: Actor, ref: str, agents: list[str]) -> Any:
        if len(agents) != 1:
            raise _unsupported("assigning more than one agent at once")
        return self._send(actor, {"type": "assign", "task": ref, "agent": agents[0]})

    def dispatch(
        self, actor: Actor, dry_run: bool = False, limit: int | None = None, now: Any = None
    ) -> Any:
        if dry_run:  # a read: computed here, on the read-only records
            return super().dispatch(actor, dry_run=True, limit=limit, now=now)
        return self._send(actor, {"type": "dispatch", "limit": limit})

    def raise_attention(self, now: Any = None) -> list[dict[str, Any]]:
        return []  # the tick that runs this agent raises them

    def claim(self, actor: Actor, ref: str | None = None) -> Any:
        if ref is None:
            raise _unsupported("claiming the next ready task without an ID")
        return self._send(actor, {"type": "claim", "task": ref})

    def release(self, actor: Actor, ref: str, epoch: int | None = None) -> Any:
        if epoch is not None:
            raise _unsupported("--epoch")
        return self._send(actor, {"type": "release", "task": ref})

    def claim_synced(
        self,
        actor: Actor,
        ref: str | None = None,
        remote: str | None = None,
        branch: str | None = None,
        progress: Any = None,
    ) -> Any:
        raise _unsupported("claim --sync")

    def sync(
        self, remote: str | None = None, branch: str | None = None, progress: Any = None
    ) -> Any:
        raise _unsupported("agentctl sync")

    def add_doc(
        self,
        actor: Actor,
        title: str,
        type_: str,
        body: str,
        task: str | None = None,
        *,
        source: tuple[str, str] | None = None,
    ) -> Any:
        if source is not None:
            raise _unsupported("a fetched document")  # the broker's fetch_doc fetches itself
        return self._send(
            actor,
            {"type": "write_doc", "title": title, "doc_type": type_, "body": body, "task": task},
        )

    def fetch_doc(
        self, actor: Actor, url: str, task: str | None = None, title: str | None = None
    ) -> Any:
        return self._send(actor, {"type": "fetch_doc", "url": url, "task": task, "title": title})

    def add_memory(
        self, agent: str, text: str, long_term: bool = False, actor: Actor | None = None
    ) -> Any:
        return self._send(
            actor or self.actor(agent), {"type": "remember", "text": text, "long_term": long_term}
        )

    def direct_message(self, actor: Actor, agent: str, text: str) -> Any:
        return self._send(actor, {"type": "notify", "agent": agent, "text": text})
