"""The sample workspace behind ``agentctl demo``: a small team and a plan in motion.

Everything goes through the same workspace API as the CLI, as the agents themselves, so
the result shows real events, notes, claims and (in a git repo) one commit per step.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agentctl.core.rules import Actor
from agentctl.workspace import Workspace

TEAM = [
    ("atlas", "orchestrator", "lead", ["planning", "triage"]),
    ("nova", "backend-developer", "specialist", ["backend", "python", "api", "perf", "git"]),
    ("pixel", "frontend-developer", "specialist", ["frontend", "tui", "ux", "docs"]),
    ("sentry", "qa-reviewer", "specialist", ["qa", "testing", "review", "release"]),
]

# key, title, priority, labels, depends on (keys), estimate, acceptance criteria
PLAN: list[tuple[str, str, int, list[str], list[str], str, list[str]]] = [
    (
        "schema",
        "Design the task schema",
        0,
        ["backend"],
        [],
        "4h",
        ["Fields documented", "JSON Schema generated"],
    ),
    (
        "store",
        "Implement the file store",
        0,
        ["backend"],
        ["schema"],
        "1d",
        ["Atomic writes", "Round trip is lossless"],
    ),
    (
        "index",
        "Build the SQLite index",
        1,
        ["backend", "perf", "needs-rework"],
        ["store"],
        "6h",
        ["Incremental refresh by stat"],
    ),
    (
        "cli",
        "Wire up the CLI commands",
        1,
        ["backend"],
        ["store"],
        "1d",
        ["Every command has --json"],
    ),
    (
        "working",
        "Render WORKING.md",
        1,
        ["backend"],
        ["index"],
        "4h",
        ["Bounded size", "Notes preserved"],
    ),
    (
        "board",
        "Static board view",
        2,
        ["frontend"],
        ["index"],
        "4h",
        ["Columns follow the workflow"],
    ),
    ("tui", "Live TUI board", 2, ["frontend", "tui"], ["board"], "2d", ["Updates within a second"]),
    (
        "docs",
        "Write the user guide",
        2,
        ["docs"],
        ["cli"],
        "6h",
        ["Quickstart works on a fresh machine"],
    ),
    (
        "tests",
        "Concurrency and crash tests",
        1,
        ["qa"],
        ["store"],
        "1d",
        ["8 processes, no lost update"],
    ),
    ("bench", "Benchmarks at 10k tasks", 2, ["perf"], ["index"], "4h", ["Medians reported"]),
    ("hooks", "Git hooks integration", 3, ["git"], ["cli"], "1d", ["Hooks are idempotent"]),
    (
        "release",
        "Cut the first release",
        1,
        ["release"],
        ["docs", "tests", "tui"],
        "2h",
        ["Changelog updated"],
    ),
]
MAX_ROUNDS = 40
HUMAN = "demo-human"


def git_init(path: Path) -> None:
    if (path / ".git").exists():
        return
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    for key, value in (("user.name", "demo-human"), ("user.email", "demo@example.invalid")):
        subprocess.run(["git", "-C", str(path), "config", key, value], check=True)


def build(
    path: Path,
    progress: Callable[[str], None] = lambda _: None,
    git: bool = True,
    rounds: int = MAX_ROUNDS,
) -> Workspace:
    """Create the demo workspace in ``path`` (its config allows simulated agents): a team of
    four on the simulated runtime and a twelve-task plan in the inbox, then run heartbeat rounds (every agent ticks once per
    round, exactly as cron would run them) until every task is done."""
    path.mkdir(parents=True, exist_ok=True)
    if git:
        git_init(path)
    Workspace.init(path, "demo: agentctl itself", HUMAN, nested=True, allow_simulated=True)
    ws = Workspace(path)
    human = Actor(HUMAN)
    for name, role, level, caps in TEAM:
        if ws.index.agent(name) is None:
            ws.add_agent(human, name, role, level, caps, runtime="simulated")
    progress("team ready: atlas (lead), nova and pixel (developers), sentry (QA and review)")
    if not ws.index.task_ids():
        ids: dict[str, str] = {}
        for key, title, priority, labels, deps, estimate, criteria in PLAN:
            task = ws.add_task(
                human, title, description=f"{title}. Part of the first release.", priority=priority, labels=labels,
                depends_on=[ids[d] for d in deps], estimate=estimate, criteria=criteria,
            )  # fmt: skip
            ids[key] = task["id"]
        ws.comment(
            human,
            ids["release"],
            "@atlas the release is due Friday; @sentry please keep an eye on quality.",
        )
        ws.add_note(human, "Release target: end of the week. Reviews go to sentry.")
        progress(f"{len(PLAN)} tasks planned in the inbox, with dependencies")
    run_rounds(ws, progress, rounds)
    return ws


GOAL = (
    "Launch a public status page",
    [
        "backend: Status API reports each component's health (1d)",
        "frontend: Status page renders the API's data (6h)",
        "security: Rate limits and a security review of the public endpoint (4h)",
        "docs: Announce the page in the user guide (2h)",
    ],
)


def build_autonomy(
    path: Path,
    progress: Callable[[str], None] = lambda _: None,
    git: bool = True,
    rounds: int = MAX_ROUNDS,
) -> Workspace:
    """The autonomy demo in ``path``: the same team is given one goal. The lead breaks it down
    (a ``plan`` action: subtasks with dependencies, priorities from the critical path),
    proposes an agent for the capability nobody has (``propose_agent``), the demo approves it
    as its human, and the team, new member included, works the goal to done."""
    path.mkdir(parents=True, exist_ok=True)
    if git:
        git_init(path)
    Workspace.init(path, "demo: autonomous planning", HUMAN, nested=True, allow_simulated=True)
    ws = Workspace(path)
    human = Actor(HUMAN)
    for name, role, level, caps in TEAM:
        if ws.index.agent(name) is None:
            ws.add_agent(human, name, role, level, caps, runtime="simulated")
    progress("team ready: atlas (lead), nova and pixel (developers), sentry (QA and review)")
    if not ws.index.task_ids():
        title, criteria = GOAL
        goal = ws.add_task(
            human, title, description="A goal for the lead to break down.", priority=1,
            labels=["goal"], assignees=["atlas"], criteria=criteria,
        )  # fmt: skip
        progress(f"goal {goal['id']} given to atlas: {title} (nobody in the team does security)")
    run_rounds(ws, progress, rounds, between=_approve_proposals)
    return ws


def _approve_proposals(ws: Workspace) -> list[str]:
    """The demo's human approves every agent the lead proposed (a person would read its
    proposal first: 'agentctl agent show NAME')."""
    lines = []
    for agent in ws.pending_agents():
        ws.approve_agent(Actor(HUMAN), agent["name"])
        lines.append(
            f"{HUMAN} approved {agent['name']} ({', '.join(agent.get('capabilities') or [])}), "
            f"proposed by {agent.get('proposed_by') or 'a person'}"
        )
    return lines


def run_rounds(
    ws: Workspace,
    progress: Callable[[str], None],
    rounds: int,
    between: Callable[[Workspace], list[str]] | None = None,
) -> int:
    """Heartbeat rounds until all tasks are done (or ``rounds``); returns the rounds run.
    ``between`` runs after each round (as a person would) and returns lines to show."""
    from agentctl.heartbeat.tick import tick

    done = set(ws.workflow["done"])
    for number in range(1, rounds + 1):
        ws.refresh(force=True)
        counts = ws.index.count_by_status()
        if counts and all(status in done for status in counts):
            return number - 1
        lines = []
        for agent in ws.index.agents():
            record = tick(ws, agent["name"])
            if record["outcome"] == "worked":
                actions = [a for a in record.get("actions", []) if a["action"] != "noop"]
                kinds = [a["action"] for a in actions]
                parts = []
                for kind in dict.fromkeys(kinds):
                    if kind == "dispatch":  # the assignments are what matters
                        given = [
                            f"{a['task'][:6]}->{a['agent']}"
                            for d in actions
                            if d["action"] == kind
                            for a in d["assigned"]
                        ]
                        parts.append(f"dispatch ({', '.join(given) or 'nothing ready'})")
                    elif kind == "plan":
                        parts += [
                            f"plan ({len(p['subtasks'])} subtasks of {p['task'][:6]})"
                            for p in actions
                            if p["action"] == kind
                        ]
                    elif kind == "propose_agent":
                        names = [p["agent"] for p in actions if p["action"] == kind]
                        parts.append(f"propose_agent ({', '.join(names)}: pending approval)")
                    else:
                        parts.append(f"{kinds.count(kind)} {kind}")
                if parts:
                    lines.append(f"{agent['name']} " + ", ".join(parts))
        ws.refresh(force=True)
        counts = ws.index.count_by_status()
        state = " · ".join(
            f"{status} {counts[status]}" for status in ws.workflow["statuses"] if counts.get(status)
        )
        progress(f"round {number}: {'; '.join(lines) or 'all idle'}  [{state}]")
        for line in between(ws) if between is not None else []:
            progress(line)
    return rounds


def summary(ws: Workspace) -> dict[str, Any]:
    counts = ws.index.count_by_status()
    return {
        "root": str(ws.root),
        "counts": counts,
        "agents": [a["name"] for a in ws.index.agents()],
    }
