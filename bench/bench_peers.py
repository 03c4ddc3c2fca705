"""Benchmark: agentctl against Taskwarrior and Backlog.md on the same task set, and against a
trivial typer app (the floor of any typer CLI). Whole-process wall time, medians; never a
pass/fail timing.

    python bench/bench_peers.py [--sizes 100 1000 10000] [--runs 5] [--out bench/results/peers.md]

One task set per size (titles, descriptions, status to do / in progress / done, priority,
labels, dependencies on earlier tasks) is written into each tool's own store: agentctl's task
files (bench_gen.py's writer, one reindex, committed in git), a Taskwarrior data directory
through ``task import`` of a JSON array (temporary TASKRC / TASKDATA), and Backlog.md's
``backlog/tasks/*.md`` files written directly after ``backlog init``. A peer that is not
installed (``task``, ``backlog`` on PATH) is skipped with a note.

Equivalent commands, each as a fresh process: list the open tasks, show one task, search a
word, the ready (unblocked) tasks, add a task, change a task's status (back and forth between
to do and in progress). agentctl runs without auto-commit (the peers do not commit either).
Runs are interleaved round by round (agentctl, task, backlog, floor, agentctl, ...) so load
on the shared machine hits all alike; the first round is a warm-up.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_cli import run_once  # noqa: E402
from bench_gen import AREAS, LABELS, VERBS, init_workspace, rand_id, task_text  # noqa: E402

from agentctl.core import body as taskbody  # noqa: E402
from agentctl.workspace import Workspace  # noqa: E402

COMMANDS = ["list", "show", "search", "ready", "add", "status"]
SEARCH_WORD = "hooks"  # in about a fifth of the titles
FLOOR_APP = '''\
import typer

app = typer.Typer()


@app.command()
def hello(name: str = "world") -> None:
    """Say hello."""
    print(f"hello {name}")


@app.command()
def other() -> None:
    """A second command, so typer builds a group as agentctl's does."""


if __name__ == "__main__":
    app()
'''


@dataclass(frozen=True)
class Item:
    """One task of the common set."""

    n: int
    title: str
    description: str
    state: str  # todo | doing | done
    priority: int  # 0 (urgent) .. 3
    labels: list[str]
    deps: list[int]  # earlier items


def task_set(count: int, seed: int = 11) -> list[Item]:
    rng = random.Random(seed)
    items = []
    for n in range(count):
        earlier = list(range(max(0, n - 50), n))
        items.append(
            Item(
                n=n,
                title=f"Task {n} {rng.choice(VERBS)} the {rng.choice(AREAS)}",
                description=f"Description of task {n}.",
                state=rng.choices(["todo", "doing", "done"], [40, 15, 45])[0],
                priority=rng.randint(0, 3),
                labels=rng.sample(LABELS, k=rng.randint(0, 2)),
                deps=rng.sample(earlier, k=min(len(earlier), rng.choice([0, 0, 1, 2]))),
            )
        )
    return items


def pick(items: list[Item], state: str) -> Item:
    """The middle task in ``state`` (the task shown and moved)."""
    chosen = [item for item in items if item.state == state]
    return chosen[len(chosen) // 2]


# -- the stores ----------------------------------------------------------------------------


Argv = Callable[[int], list[str]]


@dataclass
class Tool:
    name: str
    cwd: Path
    env: dict[str, str]
    argv: dict[str, Argv]


def base_env() -> dict[str, str]:
    drop = ("PYTHONDONTWRITEBYTECODE", "AGENTCTL_WORKSPACE", "AGENTCTL_AGENT", "TASKRC", "TASKDATA")
    return {k: v for k, v in os.environ.items() if k not in drop}


def agentctl_tool(items: list[Item], root: Path) -> Tool:
    os.environ["AGENTCTL_AUTOCOMMIT"] = "0"
    init_workspace(root, f"peers {len(items)}", idle_agent=False)
    rng = random.Random(5)
    ids = [rand_id(rng, "t") for _ in items]
    status = {"todo": "inbox", "doing": "in_progress", "done": "done"}
    stamp = "2026-11-01T00:00:00Z"
    for item in items:
        fields: dict[str, object] = {
            "id": ids[item.n],
            "title": item.title,
            "status": status[item.state],
            "priority": item.priority,
            "assignees": ["agent-1"] if item.state == "doing" else [],
            "labels": item.labels,
            "depends_on": [ids[d] for d in item.deps],
            "created_by": "bench",
            "created_at": stamp,
            "updated_at": stamp,
        }
        body = taskbody.task_body(item.description, [taskbody.Criterion("works")])
        (root / ".agentctl" / "tasks" / f"{ids[item.n]}.md").write_text(
            task_text(fields, body), encoding="utf-8"
        )
    ws = Workspace(root)
    ws.reindex()
    ws.close()
    del os.environ["AGENTCTL_AUTOCOMMIT"]
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(root), "commit", "-q", "-m", "peers"], check=True)
    exe = [sys.executable, "-m", "agentctl"]
    shown, moved = ids[pick(items, "todo").n], ids[pick(items, "doing").n]
    return Tool(
        "agentctl",
        root,
        {**base_env(), "AGENTCTL_AUTOCOMMIT": "0"},
        {
            "list": lambda _: [*exe, "task", "list"],
            "show": lambda _: [*exe, "task", "show", shown],
            "search": lambda _: [*exe, "search", SEARCH_WORD],
            "ready": lambda _: [*exe, "task", "ready"],
            "add": lambda _: [*exe, "task", "add", "benchmark task"],
            "status": lambda i: [*exe, "task", "move", moved, ["review", "in_progress"][i % 2]],
        },
    )


def taskwarrior_tool(items: list[Item], root: Path) -> Tool | None:
    binary = shutil.which("task")
    if binary is None:
        print("bench_peers: Taskwarrior (task) is not installed: skipped", file=sys.stderr)
        return None
    root.mkdir(parents=True)
    data = root / "data"
    data.mkdir()
    rc = root / "taskrc"
    rc.write_text(
        f"data.location={data}\nconfirmation=off\nhooks=off\nnews.version=9.9.9\n",
        encoding="utf-8",
    )
    uuids = [
        str(uuid.UUID(int=random.Random(item.n).getrandbits(128), version=4)) for item in items
    ]
    records = []
    for item in items:
        record: dict[str, object] = {
            "uuid": uuids[item.n],
            "description": item.title,
            "entry": "20261101T000000Z",
            "modified": "20261101T000000Z",
            "status": "completed" if item.state == "done" else "pending",
            "annotations": [{"entry": "20261101T000000Z", "description": item.description}],
        }
        if item.state == "done":
            record["end"] = "20261102T000000Z"
        if item.state == "doing":
            record["start"] = "20261101T000000Z"
        if item.priority < 3:
            record["priority"] = "HML"[item.priority]
        if item.labels:
            record["tags"] = item.labels
        if item.deps:
            record["depends"] = [uuids[d] for d in item.deps]
        records.append(record)
    export = root / "import.json"
    export.write_text(json.dumps(records), encoding="utf-8")
    env = {**base_env(), "TASKRC": str(rc), "TASKDATA": str(data)}
    subprocess.run(
        [binary, "import", str(export)], env=env, check=True, capture_output=True, cwd=root
    )
    shown, moved = uuids[pick(items, "todo").n], uuids[pick(items, "doing").n]
    return Tool(
        "Taskwarrior",
        root,
        env,
        {
            "list": lambda _: [binary, "list"],
            "show": lambda _: [binary, shown, "info"],
            "search": lambda _: [binary, f"/{SEARCH_WORD}/", "list"],
            "ready": lambda _: [binary, "ready"],
            "add": lambda _: [binary, "add", "benchmark task"],
            "status": lambda i: [binary, moved, ["stop", "start"][i % 2]],
        },
    )


def backlog_tool(items: list[Item], root: Path) -> Tool | None:
    binary = shutil.which("backlog")
    if binary is None:
        print("bench_peers: Backlog.md (backlog) is not installed: skipped", file=sys.stderr)
        return None
    root.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    env = base_env()
    subprocess.run(
        [binary, "init", "peers", "--defaults"], cwd=root, env=env, check=True, capture_output=True
    )
    config = root / "backlog" / "config.yml"
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            "remote_operations: true", "remote_operations: false"
        ),
        encoding="utf-8",
    )
    status = {"todo": "To Do", "doing": "In Progress", "done": "Done"}
    priority = {0: "high", 1: "high", 2: "medium", 3: "low"}
    for item in items:
        labels = "".join(f"\n  - {label}" for label in item.labels) or " []"
        deps = "".join(f"\n  - TASK-{d + 1}" for d in item.deps) or " []"
        assignee = "\n  - '@agent-1'" if item.state == "doing" else " []"
        text = (
            f"---\nid: TASK-{item.n + 1}\ntitle: {item.title}\nstatus: {status[item.state]}\n"
            f"assignee:{assignee}\ncreated_date: '2026-11-01 00:00'\nlabels:{labels}\n"
            f"dependencies:{deps}\npriority: {priority[item.priority]}\n"
            f"ordinal: {(item.n + 1) * 1000}\n---\n\n## Description\n\n"
            f"<!-- SECTION:DESCRIPTION:BEGIN -->\n{item.description}\n"
            "<!-- SECTION:DESCRIPTION:END -->\n\n## Acceptance Criteria\n<!-- AC:BEGIN -->\n"
            "- [ ] #1 works\n<!-- AC:END -->\n"
        )
        slug = item.title.replace(" ", "-")
        (root / "backlog" / "tasks" / f"task-{item.n + 1} - {slug}.md").write_text(
            text, encoding="utf-8"
        )
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(root), "commit", "-q", "-m", "peers"], check=True, env=env)
    shown, moved = f"TASK-{pick(items, 'todo').n + 1}", f"TASK-{pick(items, 'doing').n + 1}"
    return Tool(
        "Backlog.md",
        root,
        env,
        {
            "list": lambda _: [binary, "task", "list", "--plain", "--exclude-status", "Done"],
            "show": lambda _: [binary, "task", "view", shown, "--plain"],
            "search": lambda _: [binary, "search", SEARCH_WORD, "--plain"],
            "ready": lambda _: [binary, "task", "list", "--ready", "--plain"],
            "add": lambda _: [binary, "task", "create", "benchmark task", "--plain"],
            "status": lambda i: [
                binary,
                "task",
                "edit",
                moved,
                "--status",
                ["To Do", "In Progress"][i % 2],
                "--plain",
            ],  # fmt: skip
        },
    )


def floor_tool(root: Path) -> Tool:
    root.mkdir(parents=True)
    (root / "floor.py").write_text(FLOOR_APP, encoding="utf-8")
    argv = [sys.executable, str(root / "floor.py"), "hello"]
    return Tool(
        "typer floor", root, base_env(), {command: (lambda _: argv) for command in COMMANDS}
    )


# -- the runs ------------------------------------------------------------------------------


def bench_size(n: int, runs: int, base: Path) -> dict[str, dict[str, float]]:
    """tool -> command -> median ms."""
    items = task_set(n)
    tools = [agentctl_tool(items, base / f"agentctl-{n}")]
    for make in (taskwarrior_tool, backlog_tool):
        tool = make(items, base / f"{make.__name__}-{n}")
        if tool is not None:
            tools.append(tool)
    tools.append(floor_tool(base / f"floor-{n}"))
    times: dict[str, dict[str, list[float]]] = {t.name: {c: [] for c in COMMANDS} for t in tools}
    for round_ in range(runs + 1):
        for command in COMMANDS:
            for tool in tools:
                if tool.name == "typer floor" and command != "list":
                    continue  # one floor per round is enough
                argv = tool.argv[command](round_)
                elapsed, _, code = run_once(argv, tool.cwd, tool.env)
                if code != 0:
                    raise SystemExit(f"bench_peers: {tool.name} {command}: exit {code}: {argv}")
                if round_:
                    times[tool.name][command].append(elapsed)
        print(f"bench_peers: {n} tasks, round {round_}/{runs}", file=sys.stderr, flush=True)
    return {
        tool: {c: statistics.median(v) * 1000 for c, v in by_command.items() if v}
        for tool, by_command in times.items()
    }


def table(results: dict[int, dict[str, dict[str, float]]]) -> str:
    lines = [
        "| tasks | command | agentctl ms | Taskwarrior ms (× agentctl) | Backlog.md ms (× agentctl) | agentctl ÷ typer floor |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for n, by_tool in results.items():
        ours = by_tool["agentctl"]
        floor = by_tool["typer floor"]["list"]
        for command in COMMANDS:
            cells = []
            for peer in ("Taskwarrior", "Backlog.md"):
                value = by_tool.get(peer, {}).get(command)
                cells.append("–" if value is None else f"{value:.0f} ({value / ours[command]:.2f})")
            lines.append(
                f"| {n:,} | {command} | {ours[command]:.0f} | {cells[0]} | {cells[1]} | "
                f"{ours[command] / floor:.2f} |"
            )
        lines.append(f"| {n:,} | typer floor | {floor:.0f} | | | |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    results: dict[int, dict[str, dict[str, float]]] = {}
    loads = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory(prefix="agentctl-peers-") as tmp:
        for n in args.sizes:
            results[n] = bench_size(n, args.runs, Path(tmp))
            loads.append(os.getloadavg()[0])
            print(json.dumps({"tasks": n, **results[n]}), file=sys.stderr)
    text = table(results) + (
        f"\nMedians of {args.runs} runs after a warm-up round; load average (1 min) "
        f"{min(loads):.1f}-{max(loads):.1f} during the run.\n"
    )
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
