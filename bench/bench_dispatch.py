"""Benchmark: ``dispatch --dry-run`` against ``task ready``, and WORKING.md with its "Needs
attention" section against the same rendering without it.

Workspaces come from ``bench_cli.build`` (10 agents, a realistic status mix, random
dependencies), plus five idle agents whose capabilities match the task labels (so dispatch
has real matching to do), and an event history of about five events per task: moves through
the workflow, review returns (a tenth of the tasks bounce three times), comments. Every
in-progress task is stale by then, so the attention section has plenty to find.

* whole processes: ``agentctl dispatch --dry-run``, ``agentctl task ready`` and the same
  dispatch with the cached critical set dropped before each run alternate (ABCCBA), each run
  a fresh process, warm index; medians;
* in process: ``Workspace.render_working()`` with the attention section and with it stubbed
  out, alternating; the dry-run dispatch with the cached critical path and with the cache
  cleared (the first dispatch after a change of estimates or dependencies), ``ready``, and a
  full detection of the conditions (what a lead's tick pays to raise them); medians.

The attention section lists the conditions raised so far that still hold: the bench raises
them first (100, the most one round raises), so the section has work to do.

    python bench/bench_dispatch.py [--sizes 1000 10000] [--runs 9] [--renders 30]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_cli import build, run_once  # noqa: E402

from agentctl.core.rules import Actor  # noqa: E402
from agentctl.store import events as eventlog  # noqa: E402
from agentctl.workspace import Workspace  # noqa: E402

SPECIALISTS = [
    ("be-1", "backend"),
    ("fe-1", "frontend"),
    ("perf-1", "perf"),
    ("docs-1", "docs"),
    ("qa-1", "qa"),
]


def prepare(root: Path, size: int) -> None:
    build(root, size)
    os.environ["AGENTCTL_AUTOCOMMIT"] = "0"
    ws = Workspace(root)
    human = Actor("bench")
    for name, capability in SPECIALISTS:
        ws.add_agent(
            human,
            name,
            f"{capability}-developer",
            "specialist",
            [capability],
            runtime="llm",
            model="openai/none",
        )
    rng = random.Random(11)
    lines = []
    flow = ["inbox", "assigned", "in_progress", "review", "done"]
    for task in ws.index.graph().values():
        status = task["status"]
        steps = flow[: flow.index(status) + 1] if status in flow else flow[:3]
        for before, after in zip(steps, steps[1:], strict=False):
            lines.append(
                eventlog.make_event(
                    "bench",
                    "task.moved",
                    task["id"],
                    {"title": task["title"], "from": before, "to": after},
                )
            )
        if rng.random() < 0.1:
            for _ in range(3):
                lines.append(
                    eventlog.make_event(
                        "bench",
                        "task.moved",
                        task["id"],
                        {"title": task["title"], "from": "review", "to": "in_progress"},
                    )
                )
        lines.append(
            eventlog.make_event(
                "bench",
                "message.added",
                task["id"],
                {"title": task["title"], "kind": "comment", "excerpt": "progress"},
            )
        )
    for event in lines:
        event["ts"] = "2026-11-20T12:00:00.000Z"
    # bench_cli spreads its task.created events over three months: back-date them all, so the
    # in-progress tasks are stale (their last activity weeks ago) as in a neglected project.
    created = ws.layout.events / "2026-11-01.jsonl"
    old = []
    for day in sorted(ws.layout.events.glob("2026-0*.jsonl")) + sorted(
        ws.layout.events.glob("2026-1[01]-*.jsonl")
    ):  # bench_gen's timeline (September to November); the init's events are today's
        old += [json.loads(line) for line in day.read_text(encoding="utf-8").splitlines() if line]
        day.unlink()
    for event in old:
        event["ts"] = "2026-11-01T00:00:00.000Z"
    created.write_text("".join(eventlog.encode(e) + "\n" for e in old), encoding="utf-8")
    with open(ws.layout.events / "2026-11-20.jsonl", "a", encoding="utf-8") as handle:
        handle.write("\n".join(eventlog.encode(e) for e in lines) + "\n")
    ws.close()
    ws = Workspace(root)
    ws.reindex()  # from scratch: the index keeps an event's first-seen time
    ws.raise_attention()
    ws.working_text()
    ws.close()
    del os.environ["AGENTCTL_AUTOCOMMIT"]
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(root), "commit", "-q", "-m", "bench history"], check=True)


def forget_critical_path(root: Path) -> None:
    """Drop the cached critical set, as a change of estimates or dependencies would."""
    db = sqlite3.connect(root / ".agentctl" / "local" / "index.sqlite")
    with db:
        db.execute("DELETE FROM meta WHERE key = 'dispatch.critical'")
    db.close()


def processes(root: Path, runs: int) -> dict[str, float]:
    exe = [sys.executable, "-m", "agentctl"]
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONDONTWRITEBYTECODE", "AGENTCTL_WORKSPACE", "AGENTCTL_AGENT")
    }
    commands = {
        "dispatch --dry-run": [*exe, "dispatch", "--dry-run"],
        "task ready": [*exe, "task", "ready"],
        "dispatch --dry-run, path not cached": [*exe, "dispatch", "--dry-run"],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    for argv in commands.values():  # warm-up
        run_once(argv, root, env)
    names = list(commands)
    for i in range(runs * 3):
        name = names[[0, 1, 2, 2, 1, 0][i % 6]]  # ABCCBA
        if name.endswith("not cached"):
            forget_critical_path(root)
        elapsed, _, code = run_once(commands[name], root, env)
        if code:
            raise SystemExit(f"{name}: exit {code}")
        times[name].append(elapsed)
    return {name: statistics.median(values) * 1000 for name, values in times.items()}


def in_process(root: Path, renders: int) -> dict[str, float]:
    ws = Workspace(root)
    ws.refresh()
    real = ws._needs_attention
    times: dict[str, list[float]] = {"with attention": [], "without": []}
    for i in range(renders * 2):
        with_section = (i % 4) in (0, 3)
        ws._needs_attention = real if with_section else (list)  # type: ignore[method-assign]
        start = time.perf_counter()
        ws.render_working()
        times["with attention" if with_section else "without"].append(time.perf_counter() - start)
    ws._needs_attention = real  # type: ignore[method-assign]

    def uncached() -> dict[str, object]:
        ws.index.db.execute("DELETE FROM meta WHERE key = 'dispatch.critical'")
        return ws.dispatch(Actor("bench"), dry_run=True)

    calls = {
        "dispatch in process": lambda: ws.dispatch(Actor("bench"), dry_run=True),
        "dispatch, path not cached": uncached,
        "ready in process": ws.ready,
        "detect conditions": lambda: ws.attention(),
    }
    spent: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(max(3, renders // 3)):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            spent[name].append(time.perf_counter() - start)
    plan = ws.dispatch(Actor("bench"), dry_run=True)
    conditions = len(ws.attention()["conditions"])
    ws.close()
    result = {name: statistics.median(values) * 1000 for name, values in times.items()}
    result.update({name: statistics.median(values) * 1000 for name, values in spent.items()})
    result.update(
        {
            "conditions": conditions,
            "assigned": len(plan["assignments"]),
            "skips": len(plan["skips"]),
        }
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--renders", type=int, default=30)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="agentctl-bench-dispatch-") as tmp:
        for size in args.sizes:
            root = Path(tmp) / f"ws-{size}"
            prepare(root, size)
            whole = processes(root, args.runs)
            inner = in_process(root, args.renders)
            row = {
                "tasks": size,
                **{k: round(v, 1) for k, v in whole.items()},
                **{k: round(v, 1) for k, v in inner.items()},
            }
            print(json.dumps(row), file=sys.stderr)
            rows.append(row)
    print(
        "| tasks | `dispatch --dry-run` ms | path not cached ms | `task ready` ms | ratios | in process: dispatch / path not cached / ready ms "
        "| WORKING.md render with attention / without ms | detect conditions ms (found) | assigned / skips |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        ready = row["task ready"]
        ratio = f"{row['dispatch --dry-run'] / ready:.2f} / {row['dispatch --dry-run, path not cached'] / ready:.2f}"
        print(
            f"| {row['tasks']:,} | {row['dispatch --dry-run']} | {row['dispatch --dry-run, path not cached']} | {ready} | {ratio} "
            f"| {row['dispatch in process']} / {row['dispatch, path not cached']} / {row['ready in process']} "
            f"| {row['with attention']} / {row['without']} | {row['detect conditions']} ({row['conditions']}) "
            f"| {row['assigned']} / {row['skips']} |"
        )


if __name__ == "__main__":
    main()
