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
    ("atlas", "orchestrator", "lead", ["planning", "triage", "review"]),
    ("nova", "backend-developer", "specialist", ["python", "api", "database"]),
    ("pixel", "frontend-developer", "specialist", ["tui", "ux", "docs"]),
    ("sentry", "qa-reviewer", "specialist", ["testing", "review"]),
]

# key, title, priority, labels, depends on (keys), estimate, acceptance criteria
PLAN: list[tuple[str, str, int, list[str], list[str], str, list[str]]] = [
    ("schema", "Design the task schema", 0, ["backend"], [], "4h", ["Fields documented", "JSON Schema generated"]),
    ("store", "Implement the file store", 0, ["backend"], ["schema"], "1d", ["Atomic writes", "Round trip is lossless"]),
    ("index", "Build the SQLite index", 1, ["backend", "perf"], ["store"], "6h", ["Incremental refresh by stat"]),
    ("cli", "Wire up the CLI commands", 1, ["backend"], ["store"], "1d", ["Every command has --json"]),
    ("working", "Render WORKING.md", 1, ["backend"], ["index"], "4h", ["Bounded size", "Notes preserved"]),
    ("board", "Static board view", 2, ["frontend"], ["index"], "4h", ["Columns follow the workflow"]),
    ("tui", "Live TUI board", 2, ["frontend"], ["board"], "2d", ["Updates within a second"]),
    ("docs", "Write the user guide", 2, ["docs"], ["cli"], "6h", ["Quickstart works on a fresh machine"]),
    ("tests", "Concurrency and crash tests", 1, ["qa"], ["store"], "1d", ["8 processes, no lost update"]),
    ("bench", "Benchmarks at 10k tasks", 2, ["perf"], ["index"], "4h", ["Medians reported"]),
    ("hooks", "Git hooks integration", 3, ["git"], ["cli"], "1d", []),
    ("release", "Cut the first release", 1, ["release"], ["docs", "tests", "tui"], "2h", ["Changelog updated"]),
]


def _git_init(path: Path) -> None:
    if (path / ".git").exists():
        return
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    for key, value in (("user.name", "demo-human"), ("user.email", "demo@example.invalid")):
        subprocess.run(["git", "-C", str(path), "config", key, value], check=True)


def build(path: Path, progress: Callable[[str], None] = lambda _: None, git: bool = True) -> Workspace:
    """Create the demo workspace in ``path`` (created if needed) and play a short story."""
    path.mkdir(parents=True, exist_ok=True)
    if git:
        _git_init(path)
    Workspace.init(path, "demo: agentctl itself", "demo-human")
    ws = Workspace(path)
    human = Actor("demo-human")
    lead = Actor("atlas", "lead")
    for name, role, level, caps in TEAM:
        if ws.index.agent(name) is None:
            ws.add_agent(human, name, role, level, caps)
    progress("team ready: atlas (lead), nova, pixel, sentry")
    ids: dict[str, str] = {}
    for key, title, priority, labels, deps, estimate, criteria in PLAN:
        task = ws.add_task(
            lead, title, description=f"{title}. Part of the first release.", priority=priority, labels=labels,
            depends_on=[ids[d] for d in deps], estimate=estimate, criteria=criteria,
        )  # fmt: skip
        ids[key] = task["id"]
    progress(f"{len(PLAN)} tasks planned with dependencies")
    dev = {"nova": Actor("nova", "specialist"), "pixel": Actor("pixel", "specialist")}
    qa = Actor("sentry", "specialist")

    def finish(key: str, who: str, note: str) -> None:
        ws.assign(lead, ids[key], [who])
        ws.claim(dev[who], ids[key])
        ws.move_task(dev[who], ids[key], "review", note=note)
        ws.move_task(qa, ids[key], "done", note="reviewed: acceptance criteria hold")

    finish("schema", "nova", "schema documented and exported")
    finish("store", "nova", "atomic writes with fsync; round-trip tests pass")
    progress("schema and store done (claimed, reviewed, closed)")
    ws.assign(lead, ids["index"], ["nova"])
    ws.claim(dev["nova"], ids["index"])
    ws.assign(lead, ids["cli"], ["pixel"])
    ws.claim(dev["pixel"], ids["cli"])
    ws.move_task(dev["pixel"], ids["cli"], "review", note="all commands wired; please check --json shapes")
    ws.assign(lead, ids["tests"], ["sentry"])
    ws.move_task(lead, ids["hooks"], "blocked", note="waiting for a decision on hook installation")
    ws.add_note(lead, "Release target: end of the week. Reviews go to sentry.")
    progress("index in progress, cli in review, hooks blocked")
    return ws


def summary(ws: Workspace) -> dict[str, Any]:
    counts = ws.index.count_by_status()
    return {"root": str(ws.root), "counts": counts, "agents": [a["name"] for a in ws.index.agents()]}
