"""The task dependency graph: cycles, readiness, and the order work should be taken in.

Pure functions over plain task mappings (``id``, ``status``, ``priority``, ``depends_on``,
``parent``, ``created_at``), as served by the index.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TypeVar

TaskMap = Mapping[str, Mapping[str, Any]]
Node = TypeVar("Node", str, int)


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


def waits(
    tasks: TaskMap, task: Mapping[str, Any], done: Iterable[str]
) -> list[tuple[str, str | None]]:
    """What ``task`` waits for: ``(dependency, via)`` for each unfinished (or missing)
    dependency of the task (``via`` None) and of each task enclosing it (``via`` the parent
    or further ancestor whose ``depends_on`` names it), own first, each dependency once.

    A subtask waits for what its parent waits for: the parts of "1.2 Auth" cannot start
    while "1.2" depends on an unfinished "1.1" (the critical path schedules them the same
    way, core/plan.py). A loop of parents is followed once round."""
    done_set = set(done)
    found: list[tuple[str, str | None]] = []
    named: set[str] = set()
    holder: Mapping[str, Any] | None = task
    via: str | None = None
    visited = {task.get("id")}
    while holder is not None:
        for dep in holder.get("depends_on", ()):
            if dep not in named and (dep not in tasks or tasks[dep]["status"] not in done_set):
                named.add(dep)
                found.append((dep, via))
        parent = holder.get("parent")
        if not parent or parent in visited or parent not in tasks:
            break
        visited.add(parent)
        holder, via = tasks[parent], parent
    return found


def blockers(tasks: TaskMap, task: Mapping[str, Any], done: Iterable[str]) -> list[str]:
    """Unfinished dependencies of ``task`` and of the tasks enclosing it (see :func:`waits`)."""
    return [dep for dep, _via in waits(tasks, task, done)]


def wait_reason(
    tasks: TaskMap,
    task: Mapping[str, Any],
    dep: str,
    via: str | None,
    names: Mapping[str, str] | None = None,
) -> str:
    """One line: why ``task`` waits for ``dep`` (reached through ``via``, see :func:`waits`);
    ``names`` shows IDs another way (short IDs)."""
    name = (lambda task_id: names.get(task_id, task_id)) if names else (lambda task_id: task_id)
    text = (
        f"waits for {name(dep)} ({tasks[dep]['status']})"
        if dep in tasks
        else f"depends on missing task {dep}"
    )
    if via is not None:
        text += f", through its {'parent' if via == task.get('parent') else 'enclosing task'} {name(via)}"
    return text


def explain_ready(
    tasks: TaskMap, task: Mapping[str, Any], workflow: Mapping[str, Any]
) -> list[str]:
    """Why ``task`` is not ready (empty when it is ready)."""
    reasons: list[str] = []
    if task["status"] not in workflow["ready"]:
        reasons.append(f"status is {task['status']} (ready needs {' or '.join(workflow['ready'])})")
    for dep, via in waits(tasks, task, workflow["done"]):
        reasons.append(wait_reason(tasks, task, dep, via))
    return reasons


def work_order_key(task: Mapping[str, Any]) -> tuple[int, str, str]:
    """Most urgent first, then oldest, then by ID so the order is total and stable."""
    return (int(task.get("priority", 2)), str(task.get("created_at", "")), str(task["id"]))


def ready_tasks(tasks: TaskMap, workflow: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    ready = [t for t in tasks.values() if not explain_ready(tasks, t, workflow)]
    return sorted(ready, key=work_order_key)


def tangles(succ: Mapping[Node, Iterable[Node]]) -> list[list[Node]]:
    """Strongly connected components with a cycle (several nodes, or one with a self-loop),
    by Tarjan's algorithm without recursion (a hand-made chain may be thousands long). Nodes are
    task IDs here and item numbers in the roadmap importer; children not in ``succ`` are
    ignored; visited in sorted order, so the result is deterministic."""
    index: dict[Node, int] = {}
    low: dict[Node, int] = {}
    on_stack: set[Node] = set()
    stack: list[Node] = []
    found: list[list[Node]] = []
    counter = 0
    for root in sorted(succ):
        if root in index:
            continue
        work: list[tuple[Node, Iterator[Node]]] = [(root, iter(sorted(succ[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in succ:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(succ[child]))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component: list[Node] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in succ[node]:
                    found.append(sorted(component))
    return found


def covering_cycles(succ: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Cycles (``[a, b, ..., a]``) that together pass through every node that is on any cycle.

    Listing every elementary cycle can take exponential time, and reporting one per back
    edge of a depth-first search can leave tasks of a cycle unnamed; this takes each tangle
    (strongly connected component) and, for each of its nodes not yet named, the shortest
    cycle through it. Deterministic: nodes are visited in sorted order.
    """
    cycles: list[list[str]] = []
    for component in tangles(succ):
        members = set(component)
        covered: set[str] = set()
        for start in component:
            if start in covered:
                continue
            # Breadth-first from start's successors back to start, inside the component.
            back: dict[str, str] = {}
            queue = deque([start])
            reached = False
            while queue and not reached:
                node = queue.popleft()
                for child in sorted(succ[node]):
                    if child == start:
                        back[start] = node
                        reached = True
                        break
                    if child in members and child not in back:
                        back[child] = node
                        queue.append(child)
            path = [start]
            node = back[start]
            while node != start:
                path.append(node)
                node = back[node]
            path.append(start)
            path = [path[0], *reversed(path[1:-1]), start]
            cycles.append(path)
            covered.update(path)
    return cycles


def structure_cycles(tasks: TaskMap) -> list[dict[str, Any]]:
    """Every loop a planner cannot order, each a ``{"kind", "path"}``:

    - ``depends_on``: tasks that wait for each other (``path`` is ``[a, b, ..., a]``, each
      waiting for the next);
    - ``parent``: tasks that are each other's parents (``[a, b, ..., a]``, each the child of
      the next);
    - ``ancestor``: a task that waits for a task it is inside of (``[task, ..., ancestor]``, up
      the parents), or ``descendant``: a summary that waits for a task inside it
      (``[task, ..., descendant]``, down): a summary starts before and ends after its children,
      so either way is a loop.

    Hand-edited or pulled files can hold any of these; none of them raises.
    """
    report: list[dict[str, Any]] = []
    depends = {
        tid: [d for d in t.get("depends_on") or () if d in tasks] for tid, t in tasks.items()
    }
    for cycle in covering_cycles(depends):
        report.append({"kind": "depends_on", "path": cycle})
    parents = {tid: [t["parent"]] if t.get("parent") in tasks else [] for tid, t in tasks.items()}
    for cycle in covering_cycles(parents):
        report.append({"kind": "parent", "path": cycle})

    def chain_up(task_id: str) -> list[str]:
        """``task_id`` and its ancestors, nearest first (stops at a parent loop)."""
        chain = [task_id]
        seen = {task_id}
        parent = tasks[task_id].get("parent")
        while isinstance(parent, str) and parent in tasks and parent not in seen:
            chain.append(parent)
            seen.add(parent)
            parent = tasks[parent].get("parent")
        return chain

    for task_id in sorted(tasks):
        deps = depends[task_id]
        if not deps:
            continue
        up = chain_up(task_id)
        for dep in dict.fromkeys(deps):
            if dep == task_id:
                continue  # a self-dependency is a depends_on cycle, reported above
            if dep in up:
                report.append({"kind": "ancestor", "path": up[: up.index(dep) + 1]})
                continue
            down = chain_up(dep)
            if task_id in down:
                report.append(
                    {"kind": "descendant", "path": list(reversed(down[: down.index(task_id) + 1]))}
                )
    return report
