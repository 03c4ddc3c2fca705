"""WORKING.md: the shared state every agent reads first.

The file is a pure function of the records, the event log and its own Notes block: the same
state always renders to the same bytes (the header time is the time of the last event, not of
rendering), so re-rendering never makes a spurious git diff and staleness is a byte compare.
Every section is capped, so the file stays small whatever the number of tasks.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agentctl.core.summary import summarize
from agentctl.core.text import neutralise

if TYPE_CHECKING:
    from agentctl.core.records import AgentRecord, AgentStateRecord, EventRecord, TaskRecord
    from agentctl.core.rows import NeedsHuman

NOTES_START = "<!-- agentctl:notes:start -->"
NOTES_END = "<!-- agentctl:notes:end -->"
_DIGEST_RE = re.compile(r"state ([0-9a-f]{12})")
TASK_LINE_RE = re.compile(r"^- \[(t-[0-9a-z]+)\]")
STATUS_HEADING_RE = re.compile(r"^### ([a-z0-9][a-z0-9_-]*)(?: \(\d+\))?\s*$")
AGENT_CAP = 50
# Every character str.splitlines() breaks at: record text (titles, roles, event data) is put
# on one line, so it can never add a heading or a task line that `working apply` would act on.
_LINE_BREAKS = re.compile("[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def _one_line(text: str) -> str:
    return _LINE_BREAKS.sub(" ", text)


@dataclass
class WorkingState:
    """Everything the renderer needs, gathered by the workspace from the index and log."""

    name: str
    statuses: list[str]
    done: list[str]
    attention: list[str]  # statuses listed under "Blocked / needs review"
    open_tasks: dict[str, list[TaskRecord]]  # status -> first N tasks, in work order
    open_counts: dict[str, int]
    recent_done: list[TaskRecord]
    done_count: int
    agents: list[AgentRecord]
    states: dict[str, AgentStateRecord]
    events: list[EventRecord]
    notes: str = ""
    unread: dict[str, int] = field(default_factory=dict)
    # With human gates configured: {"waiting": [task...], "refusals": [refusal...]} (else None:
    # no "Needs a human" section), and how many lines of each to show.
    needs_human: NeedsHuman | None = None
    needs_human_cap: int = 15
    # The next tasks on the critical path and the work left along it (workspace/graphs.py),
    # or None when no task is open.
    critical_path: dict[str, Any] | None = None
    # Conditions raised to the leads (core/attention.py), one line each, and how many to show.
    needs_attention: list[str] = field(default_factory=list)
    needs_attention_cap: int = 15


def _short_time(ts: Any) -> str:
    text = str(ts or "")
    if len(text) >= 16:
        return f"{text[:10]} {text[11:16]}Z"
    return text or "never"


def _task_line(task: TaskRecord) -> str:
    parts = [f"- [{task['id']}] p{task['priority']} {task['title']}"]
    if task.get("assignees"):
        parts.append("— " + " ".join(f"@{a}" for a in task["assignees"]))
    if task.get("depends_on"):
        parts.append("(after " + ", ".join(task["depends_on"]) + ")")
    claim = task.get("claim")
    if claim:
        parts.append(f"[claimed by {claim.get('claimed_by')}]")
    return _one_line(" ".join(parts))


def _capped(lines: list[str], total: int) -> list[str]:
    if total > len(lines):
        return [*lines, f"- … +{total - len(lines)} more"]
    return lines


def _pending(agent: Mapping[str, Any]) -> bool:
    return agent.get("approval") == "pending"


def render_sections(state: WorkingState) -> str:
    out: list[str] = []
    out.append("## Active agents\n")
    agents = [agent for agent in state.agents if not _pending(agent)]
    if not agents:
        out.append("_No agents yet: `agentctl agent add NAME --role ROLE`._")
    for agent in agents[:AGENT_CAP]:
        st = state.states.get(agent["name"], {})
        line = f"- **{agent['name']}** ({agent.get('role', '')}, {agent.get('level', 'specialist')}) — {st.get('status', 'idle')}"
        if st.get("current_task"):
            line += f" · on {st['current_task']}"
        line += f" · last heartbeat {_short_time(st.get('last_heartbeat'))}"
        if agent.get("host"):
            line += f" · runs on {agent['host']}"
        unread = state.unread.get(agent["name"], 0)
        if unread:
            line += f" · {unread} unread"
        out.append(_one_line(line))
    if len(agents) > AGENT_CAP:
        out.append(f"- … +{len(agents) - AGENT_CAP} more")
    out.extend(_pending_agents([agent for agent in state.agents if _pending(agent)]))

    out.append("\n## Current tasks\n")
    if state.critical_path is not None:
        out.extend([_critical_path_line(state.critical_path), ""])
    current = [s for s in state.statuses if s not in state.done and s not in state.attention]
    for status in current:
        out.extend(_status_block(state, status))
    out.append("## Blocked / needs review\n")
    for status in state.attention:
        out.extend(_status_block(state, status))

    if state.needs_human is not None:
        out.extend(_needs_human(state.needs_human, state.needs_human_cap))
    out.append("## Needs attention\n")
    if state.needs_attention:
        lines = [f"- {line}" for line in state.needs_attention[: state.needs_attention_cap]]
        out.extend(_one_line(line) for line in _capped(lines, len(state.needs_attention)))
    else:
        out.append("_Nothing needs attention._")
    out.append("")
    out.append("## Recently done\n")
    out.append(f"### {state.done[0]} ({state.done_count})\n")
    if state.recent_done:
        out.extend(_capped([_task_line(t) for t in state.recent_done], state.done_count))
    else:
        out.append("_none_")

    out.append("\n## Recent activity\n")
    if state.events:
        for event in reversed(state.events):
            out.append(
                _one_line(
                    f"- {_short_time(event.get('ts'))} · {event.get('actor')} · {summarize(event)}"
                )
            )
    else:
        out.append("_No activity yet._")
    return "\n".join(out) + "\n"


def _pending_agents(pending: Sequence[Mapping[str, Any]]) -> list[str]:
    """Agents proposed by agents, waiting for a person (the section only when there are any)."""
    if not pending:
        return []
    out = [f"\n## Pending agents ({len(pending)})\n"]
    out.append(
        "Proposed by agents; a person runs `agentctl agent approve NAME` or `agentctl agent reject NAME`.\n"
    )
    lines = [
        f"- **{a['name']}** ({a.get('role', '')}, {a.get('level', 'specialist')}, {a.get('runtime', 'manual')})"
        f" · capabilities {', '.join(a.get('capabilities') or []) or '-'}"
        f" · proposed by {a.get('proposed_by') or 'a person'}"
        for a in pending[:AGENT_CAP]
    ]
    out.extend(_one_line(line) for line in _capped(lines, len(pending)))
    return out


def _critical_path_line(path: dict[str, Any]) -> str:
    """``Critical path: 14h left (1.8 days) · next t-ab12 Title → t-cd34 Title (+2 more)``."""
    if "too_many" in path:
        return (
            f"Critical path: not traced after each change with {path['too_many']:,} open tasks"
            f" (over {path['limit']:,}): run `agentctl graph critical-path`"
        )
    hours = float(path["total_hours"])
    days = hours / float(path["hours_per_day"])
    total = f"{hours:.1f}".removesuffix(".0")
    line = f"Critical path: {total}h left ({days:.1f} working days)"
    names = [f"{task['short_id']} {_clip(task['title'], 60)}" for task in path["next"]]
    if names:
        line += " · next " + " → ".join(names)
    if path["more"]:
        line += f" (+{path['more']} more)"
    if path.get("cyclic"):
        line += f" · {path['cyclic']} task(s) in a dependency loop left out (agentctl graph cycles)"
    return _one_line(line)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _needs_human(items: NeedsHuman, cap: int) -> list[str]:
    """Tasks whose next step a human gate reserves for people, and unresolved refusals."""
    waiting, refusals = items.get("waiting", []), items.get("refusals", [])
    out = ["## Needs a human\n"]
    if not waiting and not refusals:
        return [*out, "_Nothing waits for a person._", ""]
    if waiting:
        out.append(
            f"Waiting for approval ({len(waiting)}): `agentctl approve ID` or `agentctl reject ID --note TEXT`\n"
        )
        lines = [
            f"{_task_line(t)} · {t['from']} -> {t['to']} (gate '{t['gate']}')"
            for t in waiting[:cap]
        ]
        out.extend(_one_line(line) for line in _capped(lines, len(waiting)))
        out.append("")
    if refusals:
        out.append(f"Refused at a gate ({len(refusals)}):\n")
        lines = [
            f"- {_short_time(r['ts'])} · {r['actor']} was refused {r['from']} -> {r['to']} on {r['task']}"
            f" \"{r.get('title') or ''}\" (gate '{r['gate']}')"
            for r in refusals[:cap]
        ]
        out.extend(_one_line(line) for line in _capped(lines, len(refusals)))
        out.append("")
    return out


def _status_block(state: WorkingState, status: str) -> list[str]:
    tasks = state.open_tasks.get(status, [])
    total = state.open_counts.get(status, 0)
    lines = [f"### {status} ({total})\n"]
    if tasks:
        lines.extend(_capped([_task_line(t) for t in tasks], total))
    else:
        lines.append("_none_")
    lines.append("")
    return lines


def render(state: WorkingState) -> str:
    sections = render_sections(state)
    notes = state.notes.strip("\n")
    notes_block = f"{NOTES_START}\n{notes}\n{NOTES_END}" if notes else f"{NOTES_START}\n{NOTES_END}"
    digest = state_digest(sections)
    updated = state.events[-1]["ts"] if state.events else "never"
    open_total = sum(state.open_counts.values())
    header = (
        f"# WORKING — {state.name}\n\n"
        "<!-- Generated by agentctl from .agentctl/. Change tasks with agentctl commands (or edit task\n"
        "     lines and run `agentctl working apply`); write freely between the notes markers. -->\n\n"
        f"Updated {updated} · {open_total} open · {state.done_count} done · "
        f"{sum(1 for a in state.agents if not _pending(a))} agents · state {digest}\n\n"
    )
    # Titles, roles and notes may come from files written by hand or pulled from git: terminal
    # escapes and bidi overrides are shown as \\uXXXX, never written raw (core.text).
    return neutralise(f"{header}{sections}\n## Notes\n\n{notes_block}\n")


def state_digest(sections: str) -> str:
    """Digest of the rendered state (not the notes): equal digests mean equal state."""
    import hashlib

    return hashlib.sha256(sections.encode("utf-8")).hexdigest()[:12]


def extract_notes(text: str) -> str:
    """The hand-written text between the notes markers (empty if there are none)."""
    start = text.find(NOTES_START)
    end = text.find(NOTES_END, start + len(NOTES_START)) if start >= 0 else -1
    if start < 0 or end < 0:
        return ""
    return text[start + len(NOTES_START) : end].strip("\n")


def extract_digest(text: str) -> str | None:
    for line in text.splitlines()[:8]:
        match = _DIGEST_RE.search(line)
        if match:
            return match.group(1)
    return None


def parse_task_lines(text: str) -> dict[str, str]:
    """task id -> the status section its line sits under (for ``working apply``)."""
    placement: dict[str, str] = {}
    status: str | None = None
    notes_start = text.find(NOTES_START)
    body = text if notes_start < 0 else text[:notes_start]
    for line in body.splitlines():
        if line.startswith("## "):
            status = None
            continue
        heading = STATUS_HEADING_RE.match(line)
        if heading:
            status = heading.group(1)
            continue
        match = TASK_LINE_RE.match(line)
        if match and status is not None:
            placement[match.group(1)] = status
    return placement
