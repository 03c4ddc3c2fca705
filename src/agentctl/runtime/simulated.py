"""The ``simulated`` runtime: a deterministic, offline team member.

It reads the structured work the tick collected (``Request.context``) and answers with the
same JSON action list a model would, so its answers go through exactly the same parsing,
validation and permission checks. It behaves like a plausible colleague for its role:

* a lead hands out ready, unassigned work with one ``dispatch`` action (the function behind
  ``agentctl dispatch``, so its assignments are exactly a person's), chases stale work, and
  answers questions;
* a lead given a goal (a task assigned to it, labelled ``goal``, with no subtasks yet) breaks
  it down with one ``plan`` action: one subtask per acceptance criterion, written
  ``label: what (estimate)`` (the label and the estimate are optional); the first subtask is the
  foundation the others build on, and the last one (of three or more) waits for all the middle
  ones. When a subtask's label matches no capability in the team, it proposes an agent for it
  (``propose_agent``, pending until a person approves it). It finishes the goal like any task
  once every subtask is done;
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
import re
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
        if me.get("level") == "lead" and GOAL in (task.get("labels") or []):
            actions += _goal(context, task)
        else:
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


GOAL = "goal"
_CRITERION = re.compile(
    r"^(?:(?P<label>[a-z0-9][a-z0-9_.-]{0,31}):\s*)?(?P<what>.*?)(?:\s*\((?P<estimate>[0-9][^()]*)\))?$"
)


def _goal(context: dict[str, Any], task: dict[str, Any]) -> list[dict[str, Any]]:
    """Plan a goal (and propose agents for what nobody can do), wait while its subtasks are
    open, then finish it like any task."""
    flow = context["workflow"]
    subtasks = task.get("subtasks") or []
    if subtasks:
        if all(s.get("status") in flow["done"] for s in subtasks):
            return _develop(context["agent"], flow, task)
        return []  # its subtasks are the work
    steps = []
    for text in task.get("criteria") or [task["title"]]:
        match = _CRITERION.match(text.strip())
        label, what, estimate = (
            (match["label"], match["what"], match["estimate"]) if match else (None, text, None)
        )
        steps.append(
            {
                "title": (what or text)[:200],
                "labels": [label] if label else [],
                "estimate": estimate,
            }
        )
    count = len(steps)
    planned = []
    for number, step in enumerate(steps, 1):
        if number == 1:
            depends: list[str] = []
        elif number == count and count >= 3:
            depends = [str(n) for n in range(2, count)]
        else:
            depends = ["1"]
        subtask = {"title": step["title"], "labels": step["labels"], "depends_on": depends,
                   "criteria": [f"{step['title']}: done and checked"],
                   "description": f"Part of {task['id']} ({task['title'][:100]}), planned by {context['agent']['name']}."}  # fmt: skip
        if step["estimate"]:
            subtask["estimate"] = step["estimate"]
        planned.append(subtask)
    actions: list[dict[str, Any]] = [{"type": "plan", "parent": task["id"], "subtasks": planned}]
    actions += _proposals(context, planned)
    actions.append({"type": "comment", "task": task["id"], "kind": "status_update",
                    "text": f"Planned {count} subtasks with their dependencies; the critical ones go first."})  # fmt: skip
    return actions


def _proposals(context: dict[str, Any], planned: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One proposed agent per subtask label no team member's capabilities cover."""
    from agentctl.core.dispatch import tokens

    covered: set[str] = set()
    names = set()
    for member in context.get("team") or []:
        names.add(member["name"])
        for capability in member.get("capabilities") or []:
            covered |= tokens(capability)
    proposals = []
    for subtask in planned:
        for label in subtask["labels"]:
            words = tokens(label)
            if not words or words & covered:
                continue
            covered |= words
            name = f"{label}-specialist"[:64].strip("-")
            if name in names or not re.match(r"^[a-z0-9][a-z0-9-]{0,63}$", name):
                continue
            proposals.append({
                "type": "propose_agent", "name": name, "role": name, "capabilities": [label],
                "level": "specialist", "runtime": "simulated",
                "persona": f"# {name}\n\nThe team's {label} specialist: takes the {label} work, delivers it with a document, hands it to review.",
                "reason": f"subtask '{subtask['title'][:80]}' needs {label}, which nobody in the team has",
            })  # fmt: skip
    return proposals


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
