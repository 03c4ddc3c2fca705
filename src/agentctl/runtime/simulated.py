"""The ``simulated`` runtime: a deterministic, offline team member.

It reads the structured work the tick collected (``Request.context``) and answers with the
same JSON action list a model would, so its answers go through exactly the same parsing,
validation and permission checks. It behaves like a plausible colleague for its role:

* a lead hands out ready, unassigned work with one ``dispatch`` action (the function behind
  ``agentctl dispatch``, so its assignments are exactly a person's), chases stale work, and
  answers questions;
* a developer claims assigned work with a short plan, then delivers: a deliverable document,
  a progress comment, and a move to review (after review feedback, it addresses it);
* a reviewer approves work in review that has a deliverable, and sends it back otherwise
  (and once for tasks labelled ``needs-rework``).

No model runs, so its answers cost 0 tokens. Heartbeats refuse to tick it unless the config
says ``allow_simulated: true`` (``agentctl demo`` sets it): its deliverables and approvals are
stand-ins, never real work.
"""

from __future__ import annotations

import json
from typing import Any

from agentctl.runtime.base import Answer, Request


class SimulatedRuntime:
    def run(self, request: Request) -> Answer:
        actions = plan(request.context)
        text = json.dumps(
            {"actions": actions or [{"type": "noop", "reason": "nothing needs me right now"}]}
        )
        return Answer(text=text, model="simulated")  # no model ran: 0 tokens, $0


def plan(context: dict[str, Any]) -> list[dict[str, Any]]:
    me = context["agent"]
    flow = context["workflow"]
    actions: list[dict[str, Any]] = []
    if me.get("level") == "lead":
        if context.get("triage"):
            actions.append({"type": "dispatch"})
        for task in context.get("stale_tasks", []):
            who = " ".join(f"@{a}" for a in task.get("assignees") or []) or "@all"
            actions.append({"type": "comment", "task": task["id"], "kind": "question",
                            "text": f"{who} this has had no activity for a while: what is the status, and is anything blocking you?"})  # fmt: skip
        for agent in context.get("silent_agents", []):
            actions.append({"type": "notify", "agent": agent["name"],
                            "text": f"@{agent['name']} you have missed several heartbeats; please check in."})  # fmt: skip
    for task in context.get("tasks", []):
        actions += _develop(me, flow, task)
    for task in context.get("reviews", []):
        actions += _review(me, flow, task)
    answered: set[str] = set()
    for note in context.get("notifications", []):
        if (
            note["type"] == "message.added"
            and note["excerpt"].startswith("question:")
            and note.get("task")
        ):
            if note["task"] in answered:
                continue
            answered.add(note["task"])
            actions.append({"type": "comment", "task": note["task"], "kind": "answer",
                            "text": f"@{note['actor']} thanks, noted. I will take it into account in my next step."})  # fmt: skip
    return actions


def _develop(
    me: dict[str, Any], flow: dict[str, Any], task: dict[str, Any]
) -> list[dict[str, Any]]:
    if task["status"] == flow["assigned"]:
        steps = "; ".join(task.get("criteria") or []) or "the description"
        return [
            {"type": "claim", "task": task["id"]},
            {"type": "comment", "task": task["id"], "kind": "status_update",
             "text": f"Starting on this. Plan: work through {steps}, then hand it to review."},
        ]  # fmt: skip
    if task["status"] != flow["in_progress"]:
        return []
    mine = [
        d for d in task.get("docs", []) if d["author"] == me["name"] and d["type"] == "deliverable"
    ]
    actions: list[dict[str, Any]] = []
    if mine:
        text = "Addressed the review feedback; ready for another look."
    else:
        criteria = task.get("criteria") or []
        checklist = "\n".join(f"- [x] {c}" for c in criteria) or "- [x] Done as described"
        actions.append({
            "type": "write_doc", "task": task["id"], "doc_type": "deliverable",
            "title": f"Deliverable: {task['title']}"[:200],
            "body": f"# {task['title']}\n\nWhat was done, by {me['name']}.\n\n## Acceptance criteria\n{checklist}\n",
        })  # fmt: skip
        text = "Done: the deliverable document is attached; all acceptance criteria are checked."
    actions.append({"type": "comment", "task": task["id"], "kind": "status_update", "text": text})
    actions.append(
        {
            "type": "set_status",
            "task": task["id"],
            "status": flow["review"],
            "note": "ready for review",
        }
    )
    actions.append(
        {"type": "remember", "text": f"Delivered {task['id']} ({task['title'][:80]}) for review."}
    )
    return actions


def _review(me: dict[str, Any], flow: dict[str, Any], task: dict[str, Any]) -> list[dict[str, Any]]:
    delivered = [d for d in task.get("docs", []) if d["type"] == "deliverable"]
    reviewed_before = any(
        m["author"] == me["name"] and m["kind"] == "review" for m in task.get("messages", [])
    )
    implementers = " ".join(f"@{a}" for a in task.get("assignees") or [])
    if not delivered or ("needs-rework" in (task.get("labels") or []) and not reviewed_before):
        reason = (
            "there is no deliverable document"
            if not delivered
            else "the edge cases are not covered yet"
        )
        return [
            {"type": "comment", "task": task["id"], "kind": "review",
             "text": f"{implementers} changes requested: {reason}. Please address and move it back to review.".strip()},
            {"type": "set_status", "task": task["id"], "status": flow["in_progress"], "note": "changes requested"},
        ]  # fmt: skip
    done = flow["done"][0]
    return [
        {"type": "comment", "task": task["id"], "kind": "review",
         "text": f"{implementers} reviewed {delivered[-1]['id']} against the acceptance criteria: approved.".strip()},
        {"type": "set_status", "task": task["id"], "status": done, "note": "review passed"},
    ]  # fmt: skip
