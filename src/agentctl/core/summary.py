"""One-line, human-readable summaries of events (activity lists and commit messages)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, assert_never, cast

from agentctl.core.text import neutralise

if TYPE_CHECKING:
    from agentctl.core import events as ev


def _title(data: dict[str, Any]) -> str:
    title = str(data.get("title") or "")
    if len(title) > 60:
        title = title[:57] + "..."
    return f' "{title}"' if title else ""


def summarize(event: Mapping[str, Any]) -> str:
    """What happened, without the actor or time: ``moved t-… "Title" inbox -> review``.

    Used for commit subjects and activity lines: control characters from a hand-written or
    pulled record are shown as ``\\uXXXX`` (core.text), never written raw."""
    return neutralise(_summarize(event))


_MESSAGE_VERBS = {
    "question": "asked on",
    "answer": "answered on",
    "review": "reviewed",
    "status_update": "posted a status update on",
}


def _summarize(event: Mapping[str, Any]) -> str:
    kind = str(event.get("type", ""))
    subject = event.get("subject") or ""
    raw = event.get("data") or {}
    data: dict[str, Any] = raw if isinstance(raw, dict) else {}
    title = _title(data)
    # Every known type has its case (mypy checks it: assert_never below); a log may still
    # hold a type this version does not know, summarised by the last case. Payloads are
    # read with .get: a hand-written or older line may lack any key.
    known = cast("ev.KnownEventType", kind)
    match known:
        case "task.created":
            return f"created {subject}{title}"
        case "task.moved":
            moved = cast("ev.TaskMoved", data)
            return f"moved {subject}{title} {moved.get('from')} -> {moved.get('to')}"
        case "task.edited":
            fields = ", ".join(cast("ev.TaskEdited", data).get("fields", []))
            return f"edited {subject}{title} ({fields})" if fields else f"edited {subject}{title}"
        case "task.assigned":
            assigned = cast("ev.TaskAssigned", data)
            text = f"assigned {subject}{title} to {', '.join(assigned.get('added', []))}"
            if assigned.get("via") == "dispatch":
                reason = str(assigned.get("reason") or "")
                text += (
                    f" (dispatch: {reason[:77] + '...' if len(reason) > 80 else reason})"
                    if reason
                    else " (dispatch)"
                )
            return text
        case "attention.raised":
            raised = cast("ev.AttentionRaised", data)
            detail = str(raised.get("detail") or "")
            return f"raised for attention: {raised.get('kind')} {subject}{title}: {detail}".rstrip(
                ": "
            )
        case "task.unassigned":
            removed = cast("ev.TaskUnassigned", data).get("removed", [])
            return f"unassigned {', '.join(removed)} from {subject}{title}"
        case "task.gate_refused":
            refused = cast("ev.TaskGateRefused", data)
            return f"was refused {refused.get('from')} -> {refused.get('to')} on {subject}{title} (human gate '{refused.get('gate')}')"
        case "task.claimed":
            return f"claimed {subject}{title}"
        case "task.released":
            return f"released {subject}{title}"
        case "task.dep_added":
            dependency = cast("ev.TaskDependency", data).get("dependency")
            return f"made {subject}{title} depend on {dependency}"
        case "task.dep_removed":
            dependency = cast("ev.TaskDependency", data).get("dependency")
            return f"removed dependency {dependency} from {subject}{title}"
        case "task.removed":
            return f"removed {subject}{title}"
        case "agent.added":
            added = cast("ev.AgentAdded", data)
            return f"added agent {subject} ({added.get('role', '')}, {added.get('level', '')})"
        case "agent.edited":
            return f"edited agent {subject} ({', '.join(cast('ev.AgentEdited', data).get('fields', []))})"
        case "agent.removed":
            return f"removed agent {subject}"
        case "agent.status":
            return f"set agent {subject} {cast('ev.AgentStatus', data).get('to')}"
        case "agent.moved":
            handed = cast("ev.AgentMoved", data)
            return f"moved agent {subject} from host {handed.get('from') or '(none)'} to {handed.get('to')}"
        case "agent.reset":
            failures = cast("ev.AgentReset", data).get("failures", 0)
            return f"reset agent {subject} (cleared {failures} failure(s) and its backoff)"
        case "message.added":
            message = cast("ev.MessageAdded", data)
            excerpt = str(message.get("excerpt") or "")
            if len(excerpt) > 60:
                excerpt = excerpt[:57] + "..."
            verb = _MESSAGE_VERBS.get(str(message.get("kind")), "commented on")
            return f"{verb} {subject}{title}: {excerpt}".rstrip(": ")
        case "task.subscribed":
            return f"subscribed {cast('ev.Subscription', data).get('agent')} to {subject}{title}"
        case "task.unsubscribed":
            return (
                f"unsubscribed {cast('ev.Subscription', data).get('agent')} from {subject}{title}"
            )
        case "doc.added" | "doc.edited" | "doc.removed":
            doc = cast("ev.DocChange", data)
            action = {"doc.added": "added", "doc.edited": "edited", "doc.removed": "removed"}[known]
            linked = f" (task {doc['task']})" if doc.get("task") else ""
            return f"{action} {doc.get('type', 'document')} {subject}{title}{linked}"
        case "spec.created" | "spec.edited" | "spec.removed":
            action = {
                "spec.created": "created",
                "spec.edited": "edited",
                "spec.removed": "removed",
            }[known]
            return f"{action} spec {subject}{title}"
        case "spec.expanded":
            expanded = cast("ev.SpecExpanded", data)
            return f"expanded spec {subject}{title} ({expanded.get('requirements', 0)} requirements, {expanded.get('runtime', '?')})"
        case "spec.drift":
            drift = cast("ev.SpecDrift", data)
            return (
                f"found drift in spec {subject}{title}: {len(drift.get('problems', []))} problem(s)"
            )
        case "memory.added":
            return f"added to {subject}'s memory"
        case "memory.compacted":
            method = cast("ev.MemoryCompacted", data).get("method", "trimmed")
            return f"compacted {subject}'s memory ({method})"
        case "message.direct":
            excerpt = str(cast("ev.MessageDirect", data).get("excerpt") or "")[:60]
            return f"messaged {', '.join(event.get('notify') or [])}: {excerpt}"
        case "agent.heartbeat":
            beat = cast("ev.AgentHeartbeat", data)
            return f"heartbeat of {subject}: {beat.get('outcome')} ({beat.get('applied', 0)} applied, {beat.get('rejected', 0)} rejected)"
        case "agent.contained":
            reverted = cast("ev.AgentContained", data).get("reverted") or []
            return f"contained {subject}: reverted {len(reverted)} direct change(s) to {', '.join(reverted[:3])}"
        case "agent.proposed":
            proposed = cast("ev.AgentProposed", data)
            why = str(proposed.get("reason") or "")
            return (
                f"proposed agent {subject} ({proposed.get('role', '')}, {', '.join(proposed.get('capabilities', []))})"
                + (f": {why[:77] + '...' if len(why) > 80 else why}" if why else "")
            )
        case "agent.approved":
            return f"approved agent {subject} (proposed by {cast('ev.AgentApproved', data).get('proposed_by') or '?'})"
        case "agent.rejected":
            why = str(cast("ev.AgentRejected", data).get("reason") or "")
            return f"rejected agent {subject}" + (f": {why[:80]}" if why else "")
        case "note.added":
            return "added a note to WORKING.md"
        case "workspace.init":
            return "initialised the workspace"
        case "record.adopted":
            found = cast("ev.RecordFound", data).get("kind", "record")
            return f"recorded the existing {found} {subject} (no event had created it)"
        case "record.lost":
            found = cast("ev.RecordFound", data).get("kind", "record")
            return f"recorded that {found} {subject} was lost before it was committed"
        case "config.changed":
            from agentctl.core.config_keys import format_value

            change = cast("ev.ConfigChanged", data)
            new, old = format_value(change.get("new")), format_value(change.get("old"))
            if len(new) > 60:
                new = new[:57] + "..."
            key = change.get("key") or subject
            if change.get("unset"):
                return f"unset config {key}: the default {new} (was {old[:60]})"
            return f"set config {key} to {new} (was {old[:60]})"
        case "working.applied":
            return f"applied {cast('ev.WorkingApplied', data).get('moves', 0)} WORKING.md edit(s)"
        case _:
            if TYPE_CHECKING:
                assert_never(known)  # a known type without a case above
            return f"{kind} {subject}".strip()
