"""Helpers for tests that drive agentctl through real processes and real git repositories.

Importable from the tests (``from helpers_proc import ...``) and runnable as a script: the
worker processes of the concurrency and crash tests are ``python helpers_proc.py <role> ...``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

CLI = [sys.executable, "-m", "agentctl"]
AGENTCTL_ENV = (
    "AGENTCTL_WORKSPACE",
    "AGENTCTL_AGENT",
    "AGENTCTL_AUTOCOMMIT",
    "AGENTCTL_LOCK_TIMEOUT",
)
GIT_ENV = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_AUTHOR_NAME",
    "GIT_AUTHOR_EMAIL",
    "GIT_COMMITTER_NAME",
    "GIT_COMMITTER_EMAIL",
    "EMAIL",
)


def isolate(monkeypatch: Any, home: Path) -> None:
    """Keep the developer's machine out: own HOME, no global/system git config, no AGENTCTL_*."""
    home.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("NO_COLOR", "1")
    for var in (*AGENTCTL_ENV, *GIT_ENV):
        monkeypatch.delenv(var, raising=False)


def git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
    return proc.stdout


def init_repo(path: Path, user: str = "Tess Tester") -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.name", user)
    git(path, "config", "user.email", "tess@example.com")
    return path


def run_cli(
    root: Path, *args: str, env: dict[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """``python -m agentctl -W root args...``; with ``check`` a non-zero exit fails with the output."""
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run(
        [*CLI, "-W", str(root), *args],
        cwd=root,
        capture_output=True,
        text=True,
        env=full_env,
        check=False,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"agentctl {' '.join(args)} exited {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}"
        )
    return proc


def run_json(root: Path, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    proc = run_cli(root, "--json", *args, env=env)
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def new_workspace(path: Path, git_repo: bool = True, name: str = "testws") -> Path:
    """A fresh workspace made by ``agentctl init`` (inside a new git repo unless told not to)."""
    if git_repo:
        init_repo(path)
    else:
        path.mkdir(parents=True, exist_ok=True)
    run_cli(path, "init", str(path), "--name", name)
    return path


def event_lines(root: Path) -> list[str]:
    lines: list[str] = []
    for path in sorted((root / ".agentctl" / "events").glob("*.jsonl")):
        lines.extend(line for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    return lines


def tasks_created_by_events(root: Path) -> set[str]:
    """Tasks the event log says exist: created and not removed since."""
    alive: dict[str, bool] = {}
    for line in event_lines(root):
        event = json.loads(line)
        if event["type"] == "task.created":
            alive[event["subject"]] = True
        elif event["type"] == "task.removed":
            alive[event["subject"]] = False
    return {task for task, exists in alive.items() if exists}


def task_files(root: Path) -> set[str]:
    """IDs of the task files on disk."""
    return {p.stem for p in (root / ".agentctl" / "tasks").glob("t-*.md")}


def temp_files(directory: Path) -> list[Path]:
    return [p for p in directory.rglob("*") if p.name.endswith(".agentctl-tmp")]


def head_count(root: Path) -> int:
    return int(git(root, "rev-list", "--count", "HEAD").strip())


# -- worker processes ----------------------------------------------------------------------


def concurrency_worker(
    root: Path, index: int, own_task: str, shared_task: str, agent: str, steps: int, log: Path
) -> int:
    """``steps`` sequential CLI mutations; every call and its outcome is logged as JSON lines.

    Kinds rotate: add a task, retitle the own task, move it in_progress <-> review, assign /
    unassign the own agent, add a unique label to the shared task, append a note.
    """
    status = "in_progress"
    assigned = False
    with open(log, "w", encoding="utf-8") as out:
        for j in range(steps):
            kind = j % 6
            if kind == 0:
                args = ["task", "add", f"p{index} add {j}", "--label", f"made-by-p{index}"]
                op = "add"
            elif kind == 1:
                args = ["task", "edit", own_task, "--title", f"p{index} n{j}"]
                op = "edit"
            elif kind == 2:
                status = "review" if status == "in_progress" else "in_progress"
                args = ["task", "move", own_task, status]
                op = "move"
            elif kind == 3:
                args = ["task", "unassign" if assigned else "assign", own_task, agent]
                assigned = not assigned
                op = "assign" if assigned else "unassign"
            elif kind == 4:
                args = ["task", "edit", shared_task, "--label", f"p{index}-{j}"]
                op = "label"
            else:
                args = ["note", f"p{index} note {j}"]
                op = "note"
            proc = run_cli(root, "--json", *args, check=False)
            record = {
                "j": j,
                "op": op,
                "args": args,
                "rc": proc.returncode,
                "stderr": proc.stderr[-2000:],
            }
            if op == "add" and proc.returncode == 0:
                record["id"] = json.loads(proc.stdout)["task"]["id"]
            out.write(json.dumps(record) + "\n")
            out.flush()
    return 0


def crash_writer(root: Path, seed: int, progress: Path) -> int:
    """Loop mutations through the Workspace API until killed (task edit, move, add).

    Each completed mutation appends one line to ``progress`` (outside the workspace).
    """
    import random

    from agentctl.errors import AgentctlError
    from agentctl.workspace import Workspace

    rng = random.Random(seed)
    ws = Workspace(root)
    actor = ws.actor()
    moves = {
        "inbox": "in_progress",
        "in_progress": "review",
        "review": "in_progress",
        "assigned": "in_progress",
    }
    counter = 0
    ws.refresh()
    with open(progress, "a", encoding="utf-8") as out:
        out.write("ready\n")
        out.flush()
        while True:
            counter += 1
            tasks = ws.list_tasks(include_done=True)
            choice = rng.random()
            try:
                if not tasks or choice < 0.25:
                    ws.add_task(
                        actor, f"crash task {seed}-{counter} '---' #x: y", description="a\n---\nb\n"
                    )
                    op = "add"
                elif choice < 0.65:
                    task = rng.choice(tasks)
                    ws.edit_task(
                        actor,
                        task["id"],
                        title=f"edited {seed}-{counter} " + "x" * rng.randrange(0, 300),
                        description=f"description {counter}\n\n```\n## not a heading\n---\n```\n",
                    )
                    op = "edit"
                else:
                    task = rng.choice(tasks)
                    ws.move_task(
                        actor,
                        task["id"],
                        moves.get(task["status"], "in_progress"),
                        note=f"n{counter}",
                    )
                    op = "move"
            except AgentctlError as exc:  # e.g. a refused move: not a crash, keep going
                op = f"refused: {exc}"
            out.write(f"{counter} {op}\n")
            out.flush()


def main(argv: list[str]) -> int:
    role = argv[0]
    if role == "concurrency":
        root, index, own, shared, agent, steps, log = argv[1:]
        return concurrency_worker(Path(root), int(index), own, shared, agent, int(steps), Path(log))
    if role == "crash":
        root, seed, progress = argv[1:]
        return crash_writer(Path(root), int(seed), Path(progress))
    raise SystemExit(f"unknown role {role!r}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
