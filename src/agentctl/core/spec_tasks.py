"""Planning a spec with a runtime (``spec plan --llm``), pure: what an answer must satisfy
beyond its schema (``models.SpecTaskPlan``), the stable key each planned task is found by
when the spec is planned again, and the simulated runtime's deterministic answer.

A task's key is its requirement's anchor and a slug of its title (``R2/token-bucket-per-api-key``),
not the answer's local references (``T1`` ...), which a model renumbers freely: planning
again with the same tasks in another order changes nothing; a renamed task is a new task
(the old one is reported, never deleted). The rules are in docs/specs.md ("plan --llm").
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

from agentctl.core.spec import ParsedSpec
from agentctl.core.text import CONTROL_CHARS, _describe

MAX_SLUG = 60
_SLUG_BREAK = re.compile(r"[\W_]+")
_REQ = re.compile(r"^R([1-9][0-9]{0,3})$")


def task_key(requirement: str, title: str) -> str:
    """``R2/token-bucket-per-api-key``: the requirement's anchor and the title in lowercase
    words joined by '-' (letters of any script kept; at most :data:`MAX_SLUG` characters)."""
    slug = _SLUG_BREAK.sub("-", title.casefold()).strip("-")[:MAX_SLUG].rstrip("-")
    return f"{requirement}/{slug or 'task'}"


def _control(text: str, one_line: bool) -> str | None:
    """What :func:`agentctl.core.text.check_text` (``check_line``) would refuse, in a few words."""
    found = CONTROL_CHARS.search(text.replace("\r\n", "\n"))
    if found is None and one_line:
        found = re.search("[\t\n\u2028\u2029]", text)
    if found is None:
        return None
    return f"contains a control character ({_describe(found.group())})"


def _span(known: Collection[str]) -> str:
    """``R1-R5``, or ``R1, R3, R7`` when the numbers have gaps."""
    numbers = sorted(int(m.group(1)) for k in known if (m := _REQ.match(k)))
    if not numbers:
        return "none"
    if numbers == list(range(numbers[0], numbers[-1] + 1)) and len(numbers) > 2:
        return f"R{numbers[0]}-R{numbers[-1]}"
    return ", ".join(f"R{n}" for n in numbers[:20]) + (" ..." if len(numbers) > 20 else "")


def check_task_plan(answer: dict[str, Any], requirements: Collection[str]) -> list[str]:
    """What the schema cannot say about an answer already matching it, one line each:
    references are unique, every task names a requirement of the spec and only tasks of the
    answer as dependencies, the dependencies make no loop, and no two titles give the same
    key (so every task is found again when the spec is planned again)."""
    problems: list[str] = []
    tasks = answer["tasks"]
    refs = {task["id"] for task in tasks}
    first_of: dict[str, int] = {}
    keys: dict[str, int] = {}
    for n, task in enumerate(tasks):
        if task["id"] in first_of:
            problems.append(
                f"tasks.{n}.id: {task['id']} is the id of tasks.{first_of[task['id']]} too"
            )
        else:
            first_of[task["id"]] = n
        if task["requirement"] not in requirements:
            problems.append(
                f"tasks.{n}.requirement: {task['requirement']} is not a requirement of the spec "
                f"(it has {_span(requirements)})"
            )
        key = task_key("", task["title"])
        if key in keys:
            problems.append(
                f"tasks.{n}.title: the same title as tasks.{keys[key]} (titles must differ in "
                f"their first {MAX_SLUG} letters and digits, case aside)"
            )
        else:
            keys[key] = n
        for name in ("title", "description"):
            problem = _control(task.get(name) or "", one_line=name == "title")
            if problem:
                problems.append(f"tasks.{n}.{name}: {problem}")
        for i, criterion in enumerate(task.get("acceptance") or []):
            problem = _control(criterion, one_line=True)
            if problem:
                problems.append(f"tasks.{n}.acceptance.{i}: {problem}")
        for dep in task.get("depends_on") or []:
            if dep == task["id"]:
                problems.append(f"tasks.{n}.depends_on: {dep} is the task itself")
            elif dep not in refs:
                problems.append(f"tasks.{n}.depends_on: {dep} names no task of the answer")
    if not problems:
        loop = _loop(tasks)
        if loop:
            n = first_of[loop[0]]
            problems.append(
                f"tasks.{n}.depends_on: {' -> '.join(loop)} is a loop (a task cannot wait for itself)"
            )
    return problems


def _loop(tasks: list[dict[str, Any]]) -> list[str] | None:
    """The first dependency loop (``["T1", "T2", "T1"]``), searching from the tasks in
    answer order and following dependencies in the order listed; None if there is none."""
    edges = {t["id"]: list(t.get("depends_on") or []) for t in tasks}
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    for start in edges:
        if start in state:
            continue
        path = [start]
        todo = [iter(edges[start])]
        state[start] = 1
        while todo:
            dep = next(todo[-1], None)
            if dep is None:
                state[path.pop()] = 2
                todo.pop()
            elif state.get(dep) == 1:
                return [*path[path.index(dep) :], dep]
            elif dep not in state and dep in edges:
                state[dep] = 1
                path.append(dep)
                todo.append(iter(edges[dep]))
    return None


def simulated_task_plan(parsed: ParsedSpec) -> dict[str, Any]:
    """The simulated runtime's answer: per requirement, a task building it (its estimate,
    labels and the spec's acceptance criteria naming it; after the build tasks of the
    requirements it depends on) and a task verifying it (after the build). Deterministic: the
    same spec always gives the same answer (tests and the demo). Titles name the anchor only
    (``Build R2``), so editing a requirement's text updates its tasks instead of renaming
    them (the description carries the text)."""
    tasks: list[dict[str, Any]] = []
    build: dict[str, str] = {}
    for requirement in parsed.requirements:
        anchor = requirement.id
        criteria = [c for c in parsed.acceptance if re.search(rf"\b{anchor}\b", c)]
        build[anchor] = f"T{len(tasks) + 1}"
        task: dict[str, Any] = {
            "id": build[anchor],
            "title": f"Build {anchor}",
            "requirement": anchor,
            "description": f"Build what {anchor} asks for: {requirement.title[:3000]}",
            "acceptance": [c[:1000] for c in criteria[:20]] or [f"{anchor} works as written"],
            "labels": list(requirement.labels),
            "depends_on": [build[d] for d in requirement.depends_on if d in build],
        }
        if requirement.estimate:
            task["estimate"] = requirement.estimate
        tasks.append(task)
        tasks.append(
            {
                "id": f"T{len(tasks) + 1}",
                "title": f"Verify {anchor}",
                "requirement": anchor,
                "description": f"Check {anchor} against its acceptance criteria with automated "
                f"tests: {requirement.title[:3000]}",
                "acceptance": [f"Automated tests check every acceptance criterion of {anchor}"],
                "estimate": "1h",
                "labels": ["testing"],
                "depends_on": [build[anchor]],
            }
        )
    return {"tasks": tasks[:100]}
