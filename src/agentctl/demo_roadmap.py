"""``agentctl demo --roadmap FILE``: any markdown roadmap, imported and worked to done; and
``agentctl demo --spec TITLE``: a one-line idea written out as a spec, planned and worked.

The roadmap is imported into a fresh workspace (``import roadmap``), a simulated team is
formed from the agent types the roadmap names, and heartbeat rounds run as cron would run
them: the lead dispatches ready work (the same ``dispatch`` a person runs), developers claim
and deliver it, a reviewer approves it, and dependencies hold work back until they are done.
Each round prints what happened, with every dispatch decision's reason.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, cast

from agentctl.core.rules import Actor
from agentctl.demo import HUMAN, git_init
from agentctl.errors import UsageError
from agentctl.workspace import Workspace

if TYPE_CHECKING:
    from agentctl.core import events as ev
    from agentctl.core.rows import EventRow

LEAD = ("atlas", "orchestrator", "lead", ["planning", "triage"])
REVIEWER = ("sentry", "qa-reviewer", "specialist", ["qa", "testing", "review"])
NAMES = ("nova", "pixel", "orbit", "quill", "rivet", "ember")
STALL_ROUNDS = 4  # rounds in a row in which nothing happened before the demo gives up
ROUNDS_PER_TASK = 6
SHOWN_DISPATCHES = 6  # dispatch decisions printed per round


def team_for(label_counts: Counter[str]) -> list[tuple[str, str, str, list[str]]]:
    """A lead, a reviewer and up to six specialists, one per agent type (label) the roadmap
    uses most; labels beyond six are shared out so every label has someone who matches it."""
    from agentctl.core.dispatch import tokens

    kinds: list[tuple[str, list[str]]] = []
    for label, _count in label_counts.most_common():
        words = sorted(tokens(label))
        if not words or label == "milestone" or any(set(words) <= set(k[1]) for k in kinds):
            continue
        kinds.append((label, words))
    team = [LEAD, REVIEWER]
    if not kinds:
        kinds = [("generalist", ["general"]), ("developer", ["general"])]
    members: list[tuple[str, str, str, list[str]]] = []
    for number, (label, words) in enumerate(kinds):
        if number < len(NAMES):
            role = label if len(label) <= 64 else label[:64]
            members.append((NAMES[number], role, "specialist", list(words)))
        else:  # share the extra agent types out round-robin
            name, role, level, caps = members[number % len(NAMES)]
            members[number % len(NAMES)] = (name, role, level, sorted({*caps, *words}))
    return team + members


def build(
    path: Path,
    roadmap: Path,
    progress: Callable[[str], None] = lambda _: None,
    git: bool = True,
    rounds: int | None = None,
) -> Workspace:
    """Import ``roadmap`` into a fresh workspace at ``path`` and work it to done."""
    try:
        data = roadmap.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read the roadmap {roadmap}: {exc.strerror or exc}") from None
    path.mkdir(parents=True, exist_ok=True)
    if any(path.iterdir()):
        raise UsageError(f"{path} is not empty: 'demo --roadmap' builds a fresh workspace")
    if git:
        git_init(path)
    Workspace.init(path, f"demo: {roadmap.name}", HUMAN, nested=True, allow_simulated=True)
    ws = Workspace(path)
    human = Actor(HUMAN)
    report = ws.import_roadmap(human, data, roadmap.name)
    counts = report.get("counts", {})
    progress(
        f"imported {roadmap.name}: " + ", ".join(f"{n} {kind}" for kind, n in counts.items() if n)
    )
    for problem in report.get("unresolved", [])[:5]:
        progress(f"  unresolved dependency: {problem}")
    work(ws, progress, rounds)
    return ws


def build_spec(
    path: Path,
    title: str,
    progress: Callable[[str], None] = lambda _: None,
    git: bool = True,
    rounds: int | None = None,
) -> Workspace:
    """A fresh workspace at ``path`` where the idea ``title`` becomes a spec (``spec new``,
    ``spec expand`` on the simulated runtime, recording assumptions instead of asking),
    is planned into tasks (``spec plan``) and worked to done by a simulated team."""
    from agentctl.workspace.spec_expand import SpecRuntime

    path.mkdir(parents=True, exist_ok=True)
    if any(path.iterdir()):
        raise UsageError(f"{path} is not empty: 'demo --spec' builds a fresh workspace")
    if git:
        git_init(path)
    Workspace.init(path, f"demo: {title[:60]}", HUMAN, nested=True, allow_simulated=True)
    ws = Workspace(path)
    human = Actor(HUMAN)
    spec = ws.new_spec(human, title)
    expanded = ws.expand_spec(human, spec["id"], SpecRuntime("simulated"), no_questions=True)
    requirements = expanded["expansion"]["requirements"]
    progress(f"spec {spec['id']}: {len(requirements)} requirements ({spec['path']})")
    report = ws.plan_spec(human, spec["id"])
    progress(f"planned: {report['created']} tasks, {report['counts']['dependencies']} dependencies")
    work(ws, progress, rounds)
    status = ws.spec_status(spec["id"])
    covered = len(status["requirements"]) - len(status["uncovered"])
    progress(
        f"spec status: {covered}/{len(status['requirements'])} requirements covered, "
        f"{status['done']} done"
    )
    return ws


def work(ws: Workspace, progress: Callable[[str], None], rounds: int | None) -> None:
    """Form a team from the tasks' labels and run heartbeat rounds until the work is done."""
    human = Actor(HUMAN)
    labels: Counter[str] = Counter()
    for task in ws.index.graph().values():
        labels.update(task.get("labels") or [])
    team = team_for(labels)
    for name, role, level, caps in team:
        ws.add_agent(human, name, role, level, caps, runtime="simulated")
    progress("team: " + ", ".join(f"{name} ({', '.join(caps)})" for name, _, _, caps in team))
    show_critical_path(ws, progress)
    open_tasks = sum(1 for t in ws.index.graph().values() if t["status"] not in ws.workflow["done"])
    run(ws, progress, rounds or max(20, ROUNDS_PER_TASK * open_tasks))


def show_critical_path(ws: Workspace, progress: Callable[[str], None]) -> None:
    report = ws.critical_path_report()
    steps = report["path"]
    if not steps:
        return
    shown = " -> ".join(f"{step['short_id']} {step['title'][:40]}" for step in steps[:6])
    more = f" -> … {len(steps) - 6} more" if len(steps) > 6 else ""
    progress(
        f"critical path ({report['total_hours']:g}h, {report['total_days']:g} days): {shown}{more}"
    )


def run(ws: Workspace, progress: Callable[[str], None], rounds: int) -> int:
    """Heartbeat rounds until every task is done, nothing moves any more, or ``rounds``."""
    from agentctl.heartbeat.tick import tick

    done = set(ws.workflow["done"])
    quiet = 0
    seen_events = {e["id"] for e in _dispatch_events(ws)}
    for number in range(1, rounds + 1):
        ws.refresh(force=True)
        counts = ws.index.count_by_status()
        if counts and all(status in done for status in counts):
            progress(f"all {sum(counts.values())} tasks done after {number - 1} rounds")
            return number - 1
        lines = []
        for agent in ws.index.agents():
            record = tick(ws, agent["name"])
            if record["outcome"] == "worked":
                kinds = [a["action"] for a in record.get("actions", []) if a["action"] != "noop"]
                if kinds:
                    lines.append(
                        f"{agent['name']} "
                        + ", ".join(f"{kinds.count(k)} {k}" for k in dict.fromkeys(kinds))
                    )
        ws.refresh(force=True)
        counts = ws.index.count_by_status()
        state = " · ".join(
            f"{status} {counts[status]}" for status in ws.workflow["statuses"] if counts.get(status)
        )
        progress(f"round {number}: {'; '.join(lines) or 'all idle'}  [{state}]")
        seen_events = _show_dispatches(ws, progress, seen_events)
        quiet = 0 if lines else quiet + 1
        if quiet >= STALL_ROUNDS:
            _explain_stall(ws, progress)
            return number
    return rounds


def _dispatch_events(ws: Workspace) -> list[EventRow]:
    events = ws.index.events(types=("task.assigned",), limit=500)  # oldest first
    return [e for e in events if cast("ev.TaskAssigned", e["data"]).get("via") == "dispatch"]


def _show_dispatches(ws: Workspace, progress: Callable[[str], None], seen: set[str]) -> set[str]:
    """Print the dispatch decisions not shown yet; returns the IDs shown so far."""
    fresh = [e for e in _dispatch_events(ws) if e["id"] not in seen]
    for event in fresh[:SHOWN_DISPATCHES]:
        data = cast("ev.TaskAssigned", event["data"])
        who = ", ".join(data.get("added", []))
        title = str(data.get("title", ""))[:50]
        progress(
            f"  dispatch: {ws.short_id(str(event['subject']))} {title!r} -> {who} ({data.get('reason', '')})"
        )
    if len(fresh) > SHOWN_DISPATCHES:
        progress(f"  dispatch: … and {len(fresh) - SHOWN_DISPATCHES} more")
    return seen | {e["id"] for e in fresh}


def _explain_stall(ws: Workspace, progress: Callable[[str], None]) -> None:
    plan = ws.dispatch(Actor(HUMAN), dry_run=True)
    progress("nothing moved for several rounds; what dispatch says:")
    for skip in plan.get("skips", [])[:8]:
        progress(f"  {skip.get('id', '')}: {skip.get('reason', '')}")
