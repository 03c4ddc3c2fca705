"""One-line, human-readable summaries of events (activity lists and commit messages)."""

from __future__ import annotations

from typing import Any

from agentctl.core.text import neutralise


def _title(data: dict[str, Any]) -> str:
    title = str(data.get("title") or "")
    if len(title) > 60:
        title = title[:57] + "..."
    return f' "{title}"' if title else ""


def summarize(event: dict[str, Any]) -> str:
    """What happened, without the actor or time: ``moved t-… "Title" inbox -> review``.

    Used for commit subjects and activity lines: control characters from a hand-written or
    pulled record are shown as ``\\uXXXX`` (core.text), never written raw."""
    return neutralise(_summarize(event))


def _summarize(event: dict[str, Any]) -> str:
    kind = str(event.get("type", ""))
    subject = event.get("subject") or ""
    data = event.get("data") or {}
    if not isinstance(data, dict):
        data = {}
    title = _title(data)
    if kind == "task.created":
        return f"created {subject}{title}"
    if kind == "task.moved":
        return f"moved {subject}{title} {data.get('from')} -> {data.get('to')}"
    if kind == "task.edited":
        fields = ", ".join(data.get("fields", []))
        return f"edited {subject}{title} ({fields})" if fields else f"edited {subject}{title}"
    if kind == "task.assigned":
        text = f"assigned {subject}{title} to {', '.join(data.get('added', []))}"
        if data.get("via") == "dispatch":
            reason = str(data.get("reason") or "")
            text += (
                f" (dispatch: {reason[:77] + '...' if len(reason) > 80 else reason})"
                if reason
                else " (dispatch)"
            )
        return text
    if kind == "attention.raised":
        detail = str(data.get("detail") or "")
        return f"raised for attention: {data.get('kind')} {subject}{title}: {detail}".rstrip(": ")
    if kind == "task.unassigned":
        return f"unassigned {', '.join(data.get('removed', []))} from {subject}{title}"
    if kind == "task.gate_refused":
        return f"was refused {data.get('from')} -> {data.get('to')} on {subject}{title} (human gate '{data.get('gate')}')"
    if kind == "task.claimed":
        return f"claimed {subject}{title}"
    if kind == "task.released":
        return f"released {subject}{title}"
    if kind == "task.dep_added":
        return f"made {subject}{title} depend on {data.get('dependency')}"
    if kind == "task.dep_removed":
        return f"removed dependency {data.get('dependency')} from {subject}{title}"
    if kind == "task.removed":
        return f"removed {subject}{title}"
    if kind == "agent.added":
        return f"added agent {subject} ({data.get('role', '')}, {data.get('level', '')})"
    if kind == "agent.edited":
        return f"edited agent {subject} ({', '.join(data.get('fields', []))})"
    if kind == "agent.removed":
        return f"removed agent {subject}"
    if kind == "agent.status":
        return f"set agent {subject} {data.get('to')}"
    if kind == "agent.reset":
        return (
            f"reset agent {subject} (cleared {data.get('failures', 0)} failure(s) and its backoff)"
        )
    if kind == "message.added":
        verb = {
            "question": "asked on",
            "answer": "answered on",
            "review": "reviewed",
            "status_update": "posted a status update on",
        }
        excerpt = str(data.get("excerpt") or "")
        if len(excerpt) > 60:
            excerpt = excerpt[:57] + "..."
        return (
            f"{verb.get(str(data.get('kind')), 'commented on')} {subject}{title}: {excerpt}".rstrip(
                ": "
            )
        )
    if kind == "task.subscribed":
        return f"subscribed {data.get('agent')} to {subject}{title}"
    if kind == "task.unsubscribed":
        return f"unsubscribed {data.get('agent')} from {subject}{title}"
    if kind in ("doc.added", "doc.edited", "doc.removed"):
        action = {"doc.added": "added", "doc.edited": "edited", "doc.removed": "removed"}[kind]
        linked = f" (task {data['task']})" if data.get("task") else ""
        return f"{action} {data.get('type', 'document')} {subject}{title}{linked}"
    if kind == "memory.added":
        return f"added to {subject}'s memory"
    if kind == "memory.compacted":
        return f"compacted {subject}'s memory ({data.get('method', 'trimmed')})"
    if kind == "message.direct":
        return f"messaged {', '.join(event.get('notify') or [])}: {str(data.get('excerpt') or '')[:60]}"
    if kind == "agent.heartbeat":
        return f"heartbeat of {subject}: {data.get('outcome')} ({data.get('applied', 0)} applied, {data.get('rejected', 0)} rejected)"
    if kind == "agent.contained":
        reverted = data.get("reverted") or []
        return f"contained {subject}: reverted {len(reverted)} direct change(s) to {', '.join(reverted[:3])}"
    if kind == "note.added":
        return "added a note to WORKING.md"
    if kind == "workspace.init":
        return "initialised the workspace"
    if kind == "record.adopted":
        return f"recorded the existing {data.get('kind', 'record')} {subject} (no event had created it)"
    if kind == "record.lost":
        return (
            f"recorded that {data.get('kind', 'record')} {subject} was lost before it was committed"
        )
    if kind == "working.applied":
        return f"applied {data.get('moves', 0)} WORKING.md edit(s)"
    return f"{kind} {subject}".strip()
