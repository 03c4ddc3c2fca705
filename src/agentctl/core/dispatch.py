"""Dispatch: which ready task goes to which agent, deterministically and with a reason. Pure.

The rules (docs/planning.md, "Dispatch"):

- **Candidates** are ready (the rule of ``task ready``), unassigned tasks; a summary task (one
  with open subtasks) is skipped: its subtasks are the work.
- **Order**: tasks on the critical path (slack 0) first, then by priority, then oldest, then ID.
- **Agents** are available unless proposed and not yet approved, blocked, on the ``manual`` runtime (unless
  ``dispatch.include_manual``), on the ``simulated`` runtime where it does not tick, outside
  their active hours, silent (core/attention.py), or holding ``dispatch.wip_limit`` open tasks.
  An agent that never ticked is available: a new agent picks its work up on its first tick.
- **Match**: a task's labels and an agent's capabilities as normalised tokens (lower case,
  split at anything but letters and digits and at camelCase, generic role words such as
  ``developer`` dropped), so ``backend-developer`` and ``Backend_Dev`` both match ``backend``;
  ``dispatch.labels`` adds capabilities to a label. Only tokens some agent has count: a task
  whose labels no agent covers (or with no labels) goes to the least loaded non-lead agent.
  Otherwise the best fit among the available agents with a matching token: most matching
  tokens, then least loaded, then name. When every matching agent is unavailable, the task
  waits (it is not handed to someone without the skill).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from agentctl.core.attention import outside_active_hours, silent_since, stamp

STOPWORDS = frozenset({
    "a", "an", "and", "the", "of", "for", "agent", "agents", "dev", "devs", "developer", "developers",
    "development", "engineer", "engineers", "engineering", "specialist", "specialists", "expert",
    "experts", "senior", "junior", "staff",
})  # fmt: skip
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SEPARATORS = re.compile(r"[^a-z0-9]+")
SHOWN_AGENTS = 4  # agents named in one "no available agent" reason


@lru_cache(maxsize=4096)
def tokens(text: str) -> frozenset[str]:
    """The normalised words of a label or capability: ``Backend_Dev`` -> {backend}."""
    words = _SEPARATORS.split(_CAMEL.sub(" ", text).lower())
    return frozenset(word for word in words if word and word not in STOPWORDS)


@dataclass(frozen=True)
class Settings:
    wip_limit: int = 2
    labels: Mapping[str, Sequence[str]] = field(default_factory=dict)  # label -> capabilities
    include_manual: bool = False
    allow_simulated: bool = False
    missed_beats: int = 3
    idle_every: float = 3600.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        from agentctl.core.duration import parse_duration

        dispatch = config.get("dispatch") or {}
        heartbeat = config.get("heartbeat") or {}
        return cls(
            int(dispatch.get("wip_limit", 2)),
            {str(k): tuple(v or ()) for k, v in (dispatch.get("labels") or {}).items()},
            bool(dispatch.get("include_manual", False)),
            bool(config.get("allow_simulated", False)),
            int(heartbeat.get("missed_beats", 3)),
            parse_duration(str(heartbeat.get("record_idle_every", "1h"))),
        )

    def task_tokens(self, labels: Iterable[str]) -> frozenset[str]:
        """The tokens of a task's labels and of the capabilities ``dispatch.labels`` maps them to."""
        found: set[str] = set()
        for label in labels:
            found |= tokens(label)
            words = tokens(label)
            for key, capabilities in self.labels.items():
                if key.lower() == label.lower() or (words and tokens(key) == words):
                    for capability in capabilities:
                        found |= tokens(capability)
        return frozenset(found)


@dataclass(frozen=True)
class Assignment:
    task: str
    title: str
    agent: str
    reason: str
    critical: bool = False
    matched: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"task": self.task, "title": self.title, "agent": self.agent, "reason": self.reason,
                "critical": self.critical, "matched": list(self.matched)}  # fmt: skip


@dataclass(frozen=True)
class Skip:
    kind: str  # task | agent
    id: str
    reason: str
    title: str | None = None

    def as_dict(self) -> dict[str, Any]:
        data = {"kind": self.kind, "id": self.id, "reason": self.reason}
        if self.title is not None:
            data["title"] = self.title
        return data


@dataclass
class Plan:
    assignments: list[Assignment] = field(default_factory=list)
    skips: list[Skip] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "assignments": [a.as_dict() for a in self.assignments],
            "skips": [s.as_dict() for s in self.skips],
        }


@dataclass
class _Member:
    name: str
    level: str
    tokens: frozenset[str]
    load: int
    unavailable: str | None  # why, when it takes no work at all

    def why_not(self, wip_limit: int) -> str:
        return self.unavailable or f"at its WIP limit ({self.load}/{wip_limit} open tasks)"


def unavailable(
    agent: Mapping[str, Any],
    state: Mapping[str, Any],
    settings: Settings,
    now: datetime,
    local_now: datetime,
) -> str | None:
    """Why the agent takes no work now (its load aside), or None when it is available."""
    name = agent["name"]
    if agent.get("approval") == "pending":
        return f"proposed, waiting for approval ('agentctl agent approve {name}')"
    if state.get("status") == "blocked":
        return f"blocked after {state.get('failures', 0)} failed ticks ('agentctl agent reset {name}' resumes it)"
    runtime = str(agent.get("runtime") or "manual")
    if runtime == "manual" and not settings.include_manual:
        return "manual runtime (dispatch.include_manual is false)"
    if runtime == "simulated" and not settings.allow_simulated:
        return "simulated runtime, which does not tick here (allow_simulated is false)"
    window = outside_active_hours(agent, local_now)
    if window is not None:
        return f"outside its active hours {window}"
    last = silent_since(agent, state, now, local_now, settings.missed_beats, settings.idle_every)
    if last is not None:
        return f"silent: no heartbeat since {stamp(last)}"
    return None


def order_key(
    task: Mapping[str, Any], critical: set[str] | frozenset[str]
) -> tuple[int, int, str, str]:
    """Critical path first, then priority, then age, then ID."""
    return (
        0 if task["id"] in critical else 1,
        int(task.get("priority", 2)),
        str(task.get("created_at", "")),
        str(task["id"]),
    )


def plan(
    tasks: Iterable[Mapping[str, Any]],
    agents: Iterable[Mapping[str, Any]],
    states: Mapping[str, Mapping[str, Any]],
    load: Mapping[str, int],
    settings: Settings,
    now: datetime,
    local_now: datetime,
    critical: set[str] | frozenset[str] = frozenset(),
    summaries: Mapping[str, int] | None = None,
    refused: Mapping[str, str] | None = None,
    limit: int | None = None,
) -> Plan:
    """Assign ``tasks`` (ready, unassigned) to ``agents``. ``load``: open tasks per agent;
    ``summaries``: open subtasks per task; ``refused``: tasks the dispatcher may not assign,
    with the reason (e.g. a human gate)."""
    result = Plan()
    wip = settings.wip_limit
    members: list[_Member] = []
    for agent in sorted(agents, key=lambda a: str(a["name"])):
        name = str(agent["name"])
        owned: set[str] = set()
        for capability in agent.get("capabilities") or ():
            owned |= tokens(str(capability))
        member = _Member(name, str(agent.get("level") or "specialist"), frozenset(owned), int(load.get(name, 0)),
                         unavailable(agent, states.get(name, {}), settings, now, local_now))  # fmt: skip
        members.append(member)
        if member.unavailable is not None or member.load >= wip:
            result.skips.append(Skip("agent", name, member.why_not(wip)))
    covered = frozenset().union(*(m.tokens for m in members)) if members else frozenset()
    summaries = summaries or {}
    refused = refused or {}
    wanted: dict[tuple[str, ...], frozenset[str]] = {}  # labels -> covered tokens (labels repeat)

    for task in sorted(tasks, key=lambda t: order_key(t, critical)):
        task_id, title = str(task["id"]), str(task.get("title") or "")
        if summaries.get(task_id):
            result.skips.append(
                Skip(
                    "task",
                    task_id,
                    f"summary task: its {summaries[task_id]} open subtask(s) are the work",
                    title,
                )
            )
            continue
        if task_id in refused:
            result.skips.append(Skip("task", task_id, refused[task_id], title))
            continue
        if limit is not None and len(result.assignments) >= limit:
            result.skips.append(
                Skip("task", task_id, f"the limit of {limit} assignment(s) is reached", title)
            )
            continue
        labels = tuple(str(label) for label in task.get("labels") or ())
        if labels not in wanted:
            wanted[labels] = settings.task_tokens(labels) & covered
        relevant = wanted[labels]
        if relevant:
            pool = [m for m in members if m.tokens & relevant]
            what = f"no available agent for {', '.join(sorted(relevant))}"
        else:
            pool = [m for m in members if m.level != "lead"]
            what = "no available agent" + (
                " (leads get only tasks matching their capabilities)" if members else ""
            )
        ready = [m for m in pool if m.unavailable is None and m.load < wip]
        if not ready:
            why = "; ".join(f"{m.name} {m.why_not(wip)}" for m in pool[:SHOWN_AGENTS])
            more = f"; +{len(pool) - SHOWN_AGENTS} more" if len(pool) > SHOWN_AGENTS else ""
            result.skips.append(
                Skip(
                    "task", task_id, f"{what}: {why}{more}" if pool else f"{what}: no agents", title
                )
            )
            continue
        if relevant:
            best = min(ready, key=lambda m: (-len(m.tokens & relevant), m.load, m.name))
            matched = tuple(sorted(best.tokens & relevant))
            fit = f"matches {', '.join(matched)}"
        else:
            best = min(ready, key=lambda m: (m.load, m.name))
            matched = ()
            fit = (
                "least loaded (no labels)"
                if not labels
                else f"least loaded (no agent has a capability for {', '.join(labels)})"
            )
        parts = ["on the critical path"] if task_id in critical else []
        parts += [fit, f"{best.load}/{wip} open tasks before"]
        result.assignments.append(
            Assignment(task_id, title, best.name, "; ".join(parts), task_id in critical, matched)
        )
        best.load += 1
    return result
