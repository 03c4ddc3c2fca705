"""The board's view of the collaboration, run and memory APIs of the workspace facade.

Each function asks the facade for one thing. Where the facade does not offer it (a
workspace API that has not landed in this version) the read degrades to "nothing to show"
instead of failing, and a write is refused with a message; no other module of the TUI
knows the shapes of these APIs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from agentctl import paths
from agentctl.errors import PermissionDeniedError, UsageError

if TYPE_CHECKING:
    from agentctl.core.rules import Actor
    from agentctl.workspace import Workspace

MEMORY_LIMIT = 20_000  # characters of MEMORY.md shown on the agent screen (the end of it)


def _method(obj: Any, name: str) -> Callable[..., Any] | None:
    method = getattr(obj, name, None)
    return method if callable(method) else None


def has_comments(ws: Workspace) -> bool:
    return _method(ws, "comment") is not None


def thread(ws: Workspace, task_id: str) -> list[dict[str, Any]]:
    """Messages of a task's thread, oldest first (id, author, created_at, kind, body, ...)."""
    method = _method(ws, "thread")
    if method is None:
        return []
    result = method(task_id)
    messages = result.get("messages", []) if isinstance(result, dict) else result
    return [dict(m) for m in messages]


def comment(ws: Workspace, actor: Actor, task_id: str, text: str) -> dict[str, Any]:
    method = _method(ws, "comment")
    if method is None:
        raise UsageError(
            "comments need the collaboration API, which this agentctl does not have yet"
        )
    result: dict[str, Any] = method(actor, task_id, text)
    return result


def docs_for(ws: Workspace, task_id: str) -> list[dict[str, Any]]:
    method = _method(ws, "list_docs")
    return [dict(d) for d in method(task=task_id)] if method else []


def feed(ws: Workspace, limit: int, agent: str | None = None) -> list[dict[str, Any]]:
    """The latest ``limit`` events (by or for ``agent`` if given), oldest first."""
    method = _method(ws, "feed")
    if method is not None:
        return list(method(agent=agent, limit=limit)) if agent else list(method(limit=limit))
    from agentctl.store import events

    found = events.tail(ws.layout.events, limit if agent is None else max(limit * 20, 400))
    if agent is not None:
        found = [e for e in found if e.get("actor") == agent or agent in (e.get("notify") or [])][
            -limit:
        ]
    return found


def unread(ws: Workspace, actor: Actor, names: list[str]) -> tuple[dict[str, int], dict[str, int]]:
    """Unread notifications (per agent, per task). A human sees every inbox; an agent only
    its own (the API's rule), so other agents' per-task counts are not included then."""
    inbox = _method(ws, "inbox")
    if inbox is None:
        return {}, {}
    per_agent: dict[str, int] = {}
    per_task: dict[str, int] = {}
    for name in names:
        try:
            box = inbox(actor, agent=name)
        except PermissionDeniedError:
            continue
        per_agent[name] = int(box.get("unread", 0))
        for note in box.get("notifications", []):
            task = note.get("task")
            if isinstance(task, str):
                per_task[task] = per_task.get(task, 0) + 1
    counts = _method(ws.index, "unread_counts")
    if counts is not None:
        for name, count in counts().items():
            per_agent.setdefault(str(name), int(count))
    return per_agent, per_task


def runs(ws: Workspace, agent: str, limit: int = 10) -> list[dict[str, Any]] | None:
    """The agent's latest heartbeat runs on this machine, newest first; None when this
    agentctl does not record runs."""
    items = ws.runs(agent, limit)
    return [dict(r) for r in reversed(items[-limit:])]


def memory(ws: Workspace, agent: str) -> str | None:
    """The end of the agent's long-term memory (MEMORY.md), or None if it has none."""
    method = _method(ws, "memory")
    text: str | None
    if method is not None:
        text = str(method(agent).get("long_term") or "") or None
    else:
        paths.validate_name(agent, "agent name")
        path = ws.layout.inside(ws.layout.memory / agent / "MEMORY.md")
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except (FileNotFoundError, NotADirectoryError):
            text = None
    if text and len(text) > MEMORY_LIMIT:
        text = "…\n" + text[-MEMORY_LIMIT:].split("\n", 1)[-1]
    return text
