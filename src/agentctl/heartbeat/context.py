"""What an agent sees when it wakes: its work, and the bounded prompt built from it.

Collecting work reads only the index (cheap: an idle tick must cost no model call and
little time). The prompt has a token budget split between sections, each list is capped,
so its size does not grow with the workspace. Text written by other agents or people goes
in ``<untrusted-NONCE ...>`` blocks whose nonce is a hash of all of that text, so no content
can contain (and close) its own block.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from agentctl.core import clock
from agentctl.core.duration import parse_duration
from agentctl.core.text import chars_for, tokens_for
from agentctl.paths import validate_name

if TYPE_CHECKING:
    from agentctl.core.records import AgentRecord, AgentStateRecord, TaskRecord
    from agentctl.core.rows import Notification
    from agentctl.store.index import Index
    from agentctl.workspace import Workspace

MAX_NOTIFICATIONS = 20
MAX_TASKS = 8
MAX_REVIEWS = 5
MAX_TRIAGE = 10
MAX_STALE = 5
MESSAGES_PER_TASK = 4
MAX_LISTED = 12  # task IDs numbered in the closing of a prompt


@dataclass
class Work:
    agent: AgentRecord
    state: AgentStateRecord
    notifications: list[Notification] = field(default_factory=list)
    tasks: list[TaskRecord] = field(default_factory=list)  # its workable tasks
    reviews: list[TaskRecord] = field(default_factory=list)  # tasks in review it may approve
    triage: list[dict[str, Any]] = field(default_factory=list)  # lead: ready, unassigned tasks
    stale_tasks: list[dict[str, Any]] = field(default_factory=list)  # lead
    silent_agents: list[dict[str, Any]] = field(default_factory=list)  # lead
    team: list[dict[str, Any]] = field(default_factory=list)  # lead: agents with load

    @property
    def has_work(self) -> bool:
        return bool(
            self.notifications
            or self.tasks
            or self.reviews
            or self.triage
            or self.stale_tasks
            or self.silent_agents
        )

    def summary(self) -> dict[str, int]:
        return {
            "notifications": len(self.notifications),
            "tasks": len(self.tasks),
            "reviews": len(self.reviews),
            "triage": len(self.triage),
            "stale_tasks": len(self.stale_tasks),
            "silent_agents": len(self.silent_agents),
        }


def collect(ws: Workspace, name: str, now: datetime | None = None) -> Work:
    """The agent's work right now (index queries only)."""
    moment = now or clock.now()
    ws.refresh()
    index = ws.index
    flow = ws.workflow
    agent = index.agent(validate_name(name, "agent name"))
    if agent is None:
        from agentctl.errors import NotFoundError

        raise NotFoundError(f"no agent named {name!r}", hint="see 'agentctl agent list'")
    states = index.states()
    work = Work(agent=agent, state=states.get(name, {}))
    work.notifications = [
        ws._notification(name, n)
        for n in index.notifications(name, limit=MAX_NOTIFICATIONS, undelivered_only=True)
    ]
    active = [flow["assigned"], flow["in_progress"]]
    fetch: int | None = MAX_TASKS * 4
    while True:
        mine = index.tasks(statuses=active, assignee=name, limit=fetch)
        dep_status = index.statuses_of(sorted({d for t in mine for d in t["depends_on"]}))
        workable = [
            t for t in mine
            if t["status"] == flow["in_progress"] or all(dep_status.get(d) in flow["done"] for d in t["depends_on"])
        ]  # fmt: skip
        # Many waiting tasks ahead of the workable ones (a plan assigned in advance): look at all.
        if len(workable) >= MAX_TASKS or fetch is None or len(mine) < fetch:
            break
        fetch = None
    work.tasks = workable[:MAX_TASKS]
    # reviewers_for() only ever names review-capable agents or leads: anyone else skips the
    # per-task check (two agent-table reads per task in review, the bulk of an idle tick).
    if agent.get("level") == "lead" or name in ws._reviewers():
        reviews = index.tasks(statuses=[flow["review"]], limit=MAX_REVIEWS * 8)
        # A task whose approval a human gate reserves for people waits for them, not for agents.
        work.reviews = [
            t for t in reviews if name in ws.reviewers_for(t) and not _gated_approval(flow, t)
        ][:MAX_REVIEWS]
    if agent.get("level") == "lead":
        from agentctl.store.index_dispatch import ready_unassigned

        # What dispatch would consider: ready, unassigned tasks (work that cannot start yet
        # waits until it can, without waking the lead).
        work.triage = ready_unassigned(index, flow["ready"], flow["done"], limit=MAX_TRIAGE)
        config = ws.config["heartbeat"]
        stale_after = timedelta(seconds=parse_duration(config["stale_after"]))
        in_progress = index.tasks(statuses=[flow["in_progress"]], order="updated_at, id", limit=200)
        activity = index.last_activity([t["id"] for t in in_progress])
        for task in in_progress:
            last = clock.parse(activity.get(task["id"]) or task["updated_at"])
            if last is not None and moment - last > stale_after:
                work.stale_tasks.append(
                    {**task, "last_activity": activity.get(task["id"]) or task["updated_at"]}
                )
        work.stale_tasks = work.stale_tasks[:MAX_STALE]
        from agentctl.core.attention import silence_limit

        idle_every = parse_duration(config["record_idle_every"])
        load = index.open_load([s for s in flow["statuses"] if s not in flow["done"]])
        for other in index.agents():
            other_state = states.get(other["name"], {})
            pending = other.get("approval") == "pending"
            work.team.append({
                "name": other["name"], "role": other.get("role"), "level": other.get("level"),
                "capabilities": other.get("capabilities") or [],
                "status": "proposed, waiting for approval" if pending else other_state.get("status", "idle"),
                "open_tasks": load.get(other["name"], 0),
            })  # fmt: skip
            if other["name"] == name or other_state.get("status") == "blocked" or pending:
                continue
            every = parse_duration((other.get("heartbeat") or {}).get("every") or "15m")
            limit = timedelta(seconds=silence_limit(every, config["missed_beats"], idle_every))
            last = clock.parse(other_state.get("last_heartbeat"))
            if (
                last is not None
                and moment - last > limit
                and not _chased(index, name, other["name"], last)
            ):
                work.silent_agents.append(
                    {"name": other["name"], "last_heartbeat": other_state.get("last_heartbeat")}
                )
    return work


def _chased(index: Index, lead: str, agent: str, since: datetime) -> bool:
    """Whether ``lead`` already messaged ``agent`` after its last heartbeat."""
    # Event times carry milliseconds: "...:45Z" would sort after "...:45.115Z" as text.
    stamp = clock.stamp_ms(since)
    sent = index.events(actor=agent, types=["message.direct"], since=stamp, limit=50)
    return any(event["actor"] == lead for event in sent)


# -- the prompt -----------------------------------------------------------------------------


@dataclass
class Prompt:
    system: str
    prompt: str
    context: dict[str, Any]  # structured work, for the simulated runtime
    nonce: str
    task_id: str | None
    tasks: list[str] = field(default_factory=list)  # task IDs listed, in the prompt's numbering

    @property
    def tokens(self) -> int:
        return tokens_for(len(self.system) + len(self.prompt))


class _Blocks:
    """Collects untrusted text; renders it later inside nonce-labelled blocks.

    The prompt is first written with placeholders (``\x00<index>\x00``) and filled in one
    pass, so text inside a block is never searched for placeholders itself: a description
    holding a placeholder-like string cannot pull another block into its own and so make its
    words after that block's closer look like text outside any block."""

    PLACEHOLDER = re.compile("\x00([0-9]+)\x00")

    def __init__(self) -> None:
        self.pieces: list[str] = []
        self.labels: list[str] = []

    def add(self, label: str, text: str) -> str:
        self.pieces.append(text)
        self.labels.append(re.sub(r'["<>\x00-\x1f]', "'", label))
        return f"\x00{len(self.pieces) - 1}\x00"

    def render(self, text: str, tag: str) -> str:
        def block(match: re.Match[str]) -> str:
            index = int(match.group(1))
            safe = self.pieces[index].replace(
                tag, "untrusted-block"
            )  # cannot happen for a content hash; belt and braces
            return f'<{tag} source="{self.labels[index]}">\n{safe}\n</{tag}>'

        return self.PLACEHOLDER.sub(block, text)

    def nonce(self) -> str:
        digest = hashlib.sha256("\x00".join(self.pieces).encode("utf-8", "replace")).hexdigest()
        return digest[:16]


def _clip(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: max(0, limit - 14)].rstrip() + " […truncated]"


def build_prompt(ws: Workspace, work: Work, now: datetime | None = None) -> Prompt:
    """Persona, rules and action schema (system), and the bounded work (prompt)."""
    from agentctl.core.actions import schema_text

    moment = now or clock.now()
    agent = work.agent
    name = agent["name"]
    budget = chars_for(int(ws.config["heartbeat"]["prompt_tokens"]))
    listed = _listed_tasks(work)
    closing = (
        "## What to do\n"
        + example_answer(listed, _may_dispatch(agent) and bool(work.triage))
        + "\nDecide your next steps for the work above and answer with the JSON action list. "
        "Work in small steps; comment on tasks to report progress; use noop if nothing is needed."
    )
    share_of = budget - len(closing)  # the sections share what the closing leaves
    blocks = _Blocks()
    parts: list[tuple[str, str]] = []  # (heading, text with {U:i} placeholders)

    def untrusted(label: str, text: str, limit: int) -> str:
        return blocks.add(label, _clip(text, limit))

    share = {
        "notifications": 0.12,
        "tasks": 0.34,
        "reviews": 0.12,
        "lead": 0.14,
        "memory": 0.1,
        "working": 0.1,
    }
    flow = ws.workflow
    context: dict[str, Any] = {
        "agent": {k: agent.get(k) for k in ("name", "role", "level", "capabilities")},
        "workflow": {
            k: flow[k]
            for k in ("statuses", "initial", "assigned", "in_progress", "review", "done", "blocked")
        },
        "notifications": work.notifications,
        "tasks": [],
        "reviews": [],
        "triage": work.triage,
        "stale_tasks": work.stale_tasks,
        "silent_agents": work.silent_agents,
        "team": work.team,
    }

    if work.notifications:
        each = int(share_of * share["notifications"]) // max(1, len(work.notifications))
        lines = []
        for n in work.notifications:
            lines.append(
                f"- [{n['id']}] {n['reason']} · from {n['actor']} · task {n['task'] or '-'}: "
                + untrusted(f"notification from {n['actor']}", n["excerpt"], max(80, each - 60))
            )
        parts.append((f"Your unread notifications ({len(work.notifications)})", "\n".join(lines)))

    def task_section(tasks: list[TaskRecord], key: str, heading: str, portion: float) -> None:
        if not tasks:
            return
        each = int(share_of * portion) // len(tasks)
        lines = []
        for task in tasks:
            detail = ws.show_task(task["id"])
            ws.index.refresh_threads(task["id"])
            messages = ws.index.recent_messages(task["id"], MESSAGES_PER_TASK)
            docs = ws.index.docs(task=task["id"])
            criteria = [c["text"] for c in detail["acceptance_criteria"]]
            children = ws.index.children(task["id"])
            child_status = ws.index.statuses_of(children) if children else {}
            subtasks = [{"id": c, "status": child_status.get(c)} for c in children]
            context[key].append({
                "id": task["id"], "title": task["title"], "status": task["status"], "priority": task["priority"],
                "assignees": task["assignees"], "labels": task["labels"], "depends_on": task["depends_on"], "subtasks": subtasks,
                "criteria": criteria, "docs": [{"id": d["id"], "type": d["type"], "title": d["title"], "author": d["author"]} for d in docs],
                "messages": [{"author": m["author"], "kind": m["kind"], "body": m["body"]} for m in messages],
            })  # fmt: skip
            text = [
                f"### {task['id']} [{task['status']}] p{task['priority']} · assignees: {', '.join(task['assignees']) or '-'}",
                "Title: " + untrusted("task title", task["title"], 200),
            ]
            if detail["description"]:
                text.append(
                    "Description: "
                    + untrusted("task description", detail["description"], max(200, each // 3))
                )
            if criteria:
                text.append(
                    "Acceptance criteria: "
                    + untrusted(
                        "acceptance criteria",
                        "\n".join(f"- {c}" for c in criteria),
                        max(150, each // 5),
                    )
                )
            if docs:
                text.append("Documents: " + ", ".join(f"{d['id']} ({d['type']})" for d in docs))
            if subtasks:
                open_ = [s for s in subtasks if s["status"] not in flow["done"]]
                text.append(
                    f"Subtasks: {len(subtasks)} ({len(open_)} open): "
                    + ", ".join(f"{s['id']} [{s['status']}]" for s in subtasks[:12])
                )
            for message in messages:
                text.append(
                    f"Message by {message['author']} ({message['kind']}): "
                    + untrusted(
                        f"message by {message['author']}",
                        message["body"],
                        max(120, each // (2 * MESSAGES_PER_TASK)),
                    )
                )
            lines.append("\n".join(text))
        parts.append((heading, "\n\n".join(lines)))

    task_section(work.tasks, "tasks", f"Your tasks ({len(work.tasks)})", share["tasks"])
    task_section(
        work.reviews,
        "reviews",
        "Waiting for your review (you are not their implementer)",
        share["reviews"],
    )

    if agent.get("level") == "lead":
        lead_lines = []
        if work.triage:
            lead_lines.append(
                'Ready tasks nobody has (one {"type":"dispatch"} action assigns them all by capability, load and the '
                "critical path, as 'agentctl dispatch' does; or assign one yourself):"
            )
            for task in work.triage:
                lead_lines.append(
                    f"- {task['id']} p{task['priority']} labels={','.join(task['labels']) or '-'}: "
                    + untrusted("task title", task["title"], 200)
                )
        if work.team:
            lead_lines.append("Team (name · role · level · capabilities · status · open tasks):")
            lead_lines += [
                f"- {m['name']} · {m['role']} · {m['level']} · {','.join(m['capabilities']) or '-'} · {m['status']} · {m['open_tasks']}"
                for m in work.team[:30]
            ]
        if work.stale_tasks:
            lead_lines.append("Stale work (in progress, no recent activity):")
            lead_lines += [
                f"- {t['id']} ({', '.join(t['assignees']) or 'nobody'}) last activity {t['last_activity']}"
                for t in work.stale_tasks
            ]
        if work.silent_agents:
            lead_lines.append("Agents that missed heartbeats:")
            lead_lines += [
                f"- {a['name']} last heartbeat {a['last_heartbeat']}" for a in work.silent_agents
            ]
        if lead_lines:
            parts.append(
                ("Lead duties", _clip("\n".join(lead_lines), int(share_of * share["lead"]) * 2))
            )

    memory = ws.memory_context(name, int(share_of * share["memory"]))
    if memory.strip():
        parts.append(
            ("Your memory", untrusted("your memory", memory, int(share_of * share["memory"])))
        )
    working_text, _ = ws.render_working()  # the fresh rendering, without writing it
    if working_text:
        parts.append(
            (
                "WORKING.md (shared state, excerpt)",
                untrusted("WORKING.md", str(working_text), int(share_of * share["working"])),
            )
        )

    nonce = blocks.nonce()
    tag = f"untrusted-{nonce}"

    body = [f"Time: {clock.stamp(moment, 'minutes')}. You are {name}."]
    for heading, text in parts:
        body.append(f"## {heading}\n{blocks.render(text, tag)}")
    prompt = "\n\n".join([*body, closing])
    if len(prompt) > budget:
        # Cut the work, never the closing instructions; cut at a line end and close a block
        # left open, so no text after the cut can pass for a block's (trusted) surroundings.
        marker, closer = "[…prompt truncated to its budget]", f"</{tag}>"
        text = "\n\n".join(body)[: max(0, budget - len(closing) - len(marker) - len(closer) - 8)]
        text = text[: text.rfind("\n")] if "\n" in text else text
        if text.rfind(f"<{tag} ") > text.rfind(closer):
            text += "\n" + closer
        prompt = f"{text}\n{marker}\n\n{closing}"
    persona = _clip(str(ws.show_agent(name).get("persona") or ""), 2000)
    system = "\n\n".join(
        p
        for p in (
            f"You are {name}, the {agent.get('role')} ({agent.get('level')}) of an agent team coordinated with agentctl.",
            persona,
            _rules(agent, flow),
            schema_text(
                dispatch=_may_dispatch(agent),
                plan=_may(agent, "plan"),
                propose=_may(agent, "propose_agents"),
                fetch_domains=ws.config["fetch"]["allow"] if _may(agent, "fetch") else (),
            ),
        )
        if p
    )
    first = work.tasks or work.reviews
    main_task = first[0]["id"] if first else None
    return Prompt(
        system=system, prompt=prompt, context=context, nonce=nonce, task_id=main_task, tasks=listed
    )


def _listed_tasks(work: Work) -> list[str]:
    """The task IDs the prompt shows, in order: the numbering a model may refer to."""
    ids = [t["id"] for t in (*work.tasks, *work.reviews, *work.triage, *work.stale_tasks)]
    ids += [n["task"] for n in work.notifications if n.get("task")]
    return list(dict.fromkeys(ids))[:MAX_LISTED]


def example_answer(tasks: list[str], dispatch: bool = False) -> str:
    """The task IDs of this prompt with their numbers, and an example answer built from them
    (real IDs: a placeholder such as ID is what small models copy)."""
    import json

    lines = []
    if tasks:
        numbered = ", ".join(f"{n} = {t}" for n, t in enumerate(tasks, 1))
        lines.append(f"Task IDs here (always write the ID itself): {numbered}.")
        actions: list[dict[str, Any]] = [
            {"type": "comment", "task": tasks[0], "kind": "status_update", "text": "Started: what I do first."}
        ]  # fmt: skip
        if dispatch:
            actions.append({"type": "dispatch"})
    else:
        actions = [{"type": "noop", "reason": "nothing needs me right now"}]
    lines.append("Example of the form (not of what to do): " + json.dumps({"actions": actions}))
    return "\n".join(lines)


def _may_dispatch(agent: AgentRecord) -> bool:
    return _may(agent, "assign_others")


def _may(agent: AgentRecord, permission: str) -> bool:
    from agentctl.core.rules import actor_of

    return actor_of(agent).can(permission)


def _gated_approval(flow: Mapping[str, Any], task: Mapping[str, Any]) -> bool:
    from agentctl.core.rules import gate_for

    return any(gate_for(flow, task, flow["review"], done) is not None for done in flow["done"])


def _rules(agent: AgentRecord, flow: Mapping[str, Any]) -> str:
    level = agent.get("level")
    rules = [
        f"Statuses: {', '.join(flow['statuses'])}. Work moves {flow['assigned']} -> {flow['in_progress']} -> {flow['review']} -> {', '.join(flow['done'])}.",
        "You act only through the actions below; they are validated and permission-checked, and refused ones are reported on the task.",
    ]
    if level == "intern":
        rules.append("As an intern you cannot move work to done; ask for review.")
    elif level == "specialist":
        rules.append(
            "Move your finished work to review; another agent approves it. Review others' work when asked."
        )
    else:
        rules.append(
            "As lead you hand out ready work (the dispatch action assigns it by capability, load and the critical path), "
            "unblock work, chase stale tasks and act on conditions raised for your attention."
        )
        if flow.get("require_review", True):
            rules.append("Your own work goes to review too: another agent approves it.")
    if _may(agent, "plan"):
        rules.append(
            "A goal or large task assigned to you: break it down with one plan action (subtasks with "
            "dependencies); its subtasks are the work, and you finish the task when they are done."
        )
    if _may(agent, "propose_agents"):
        rules.append(
            "When work needs a capability nobody in the team has, propose an agent (propose_agent); "
            "it does nothing until a person approves it."
        )
    if flow.get("human_gates"):
        rules.append(
            "Some steps are reserved for people (human gates): you are refused them; leave those tasks to a human."
        )
    return "Rules:\n- " + "\n- ".join(rules)
