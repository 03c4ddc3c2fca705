"""The task dependency graph: cycles, readiness, and the order work should be taken in.

Pure functions over plain task mappings (``id``, ``status``, ``priority``, ``depends_on``,
``created_at``), as served by the index.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

TaskMap = Mapping[str, Mapping[str, Any]]


def find_path(tasks: TaskMap, start: str, goal: str) -> list[str] | None:
    """A dependency path start -> ... -> goal following ``depends_on``, or None."""
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    seen: set[str] = set()
    while stack:
        node, path = stack.pop()
        if node == goal:
            return path
        if node in seen:
            continue
        seen.add(node)
        for dep in tasks.get(node, {}).get("depends_on", ()):
            if dep not in seen:
                stack.append((dep, [*path, dep]))
    return None


def cycle_if_added(tasks: TaskMap, task_id: str, dep_id: str) -> list[str] | None:
    """The cycle that ``task_id depends_on dep_id`` would close, or None."""
    if task_id == dep_id:
        return [task_id, task_id]
    path = find_path(tasks, dep_id, task_id)
    return None if path is None else [task_id, *path]


def find_cycles(tasks: TaskMap) -> list[list[str]]:
    """Every dependency cycle, each reported once (iterative DFS with colours)."""
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(tasks, white)
    cycles: list[list[str]] = []
    for root in tasks:
        if colour[root] != white:
            continue
        stack: list[tuple[str, Iterable[str]]] = [(root, iter(tasks[root].get("depends_on", ())))]
        path = [root]
        colour[root] = grey
        while stack:
            node, children = stack[-1]
            advanced = False
            for child in children:
                if child not in colour:
                    continue
                if colour[child] == grey:
                    cycles.append([*path[path.index(child) :], child])
                elif colour[child] == white:
                    colour[child] = grey
                    stack.append((child, iter(tasks[child].get("depends_on", ()))))
                    path.append(child)
                    advanced = True
                    break
            if not advanced:
                colour[node] = black
                stack.pop()
                path.pop()
    return cycles


def blockers(tasks: TaskMap, task: Mapping[str, Any], done: Iterable[str]) -> list[str]:
    """Dependencies of ``task`` that are not finished (missing ones count as unfinished)."""
    done_set = set(done)
    return [
        dep for dep in task.get("depends_on", ()) if dep not in tasks or tasks[dep]["status"] not in done_set
    ]


def explain_ready(tasks: TaskMap, task: Mapping[str, Any], workflow: Mapping[str, Any]) -> list[str]:
    """Why ``task`` is not ready (empty when it is ready)."""
    reasons: list[str] = []
    if task["status"] not in workflow["ready"]:
        reasons.append(f"status is {task['status']} (ready needs {' or '.join(workflow['ready'])})")
    for dep in blockers(tasks, task, workflow["done"]):
        if dep in tasks:
            reasons.append(f"waits for {dep} ({tasks[dep]['status']})")
        else:
            reasons.append(f"depends on missing task {dep}")
    return reasons


def work_order_key(task: Mapping[str, Any]) -> tuple[int, str, str]:
    """Most urgent first, then oldest, then by ID so the order is total and stable."""
    return (int(task.get("priority", 2)), str(task.get("created_at", "")), str(task["id"]))


def ready_tasks(tasks: TaskMap, workflow: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    ready = [t for t in tasks.values() if not explain_ready(tasks, t, workflow)]
    return sorted(ready, key=work_order_key)
