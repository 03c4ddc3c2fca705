"""The task graph as data and as text: a tree, Mermaid ``flowchart``, Graphviz DOT, JSON.

:func:`build_view` picks the tasks to show and the edges between them; the renderers are
pure functions of that view. Titles are untrusted text (hand-edited or pulled files): each
format escapes them so that no title can end its label and add nodes, edges or statements
(Mermaid: every ASCII character but letters, digits, space and ``.,_-+!?/@`` becomes an
entity code ``#NN;``; DOT: a quoted string with ``\\`` and ``"`` escaped and ``&`` as
``&amp;``; line breaks and control characters never reach the output raw).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from agentctl.core.graph import work_order_key
from agentctl.core.text import neutralise

TaskMap = Mapping[str, Mapping[str, Any]]
_LINE_BREAKS = re.compile("[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
# Anything but letters, digits, " .,_-+!?/@" and U+00A0 onwards, spelled as the ranges below
# U+00A0 it covers (a negated class reaching U+10FFFF costs ~10 ms to compile on every start).
_MERMAID_UNSAFE = re.compile(r"[\x00-\x1f\x22-\x2a\x3a-\x3e\x5b-\x5e\x60\x7b-\x9f]")
_NON_NODE = re.compile(r"[^A-Za-z0-9]")


@dataclass
class Node:
    id: str
    short: str
    title: str
    status: str
    estimate: str | None
    assignees: list[str]
    parent: str | None  # the parent shown in this view, if any
    done: bool
    external: bool = False  # outside the view, shown because a task in it waits for it
    critical: bool = False
    depth: int = 0
    missing_deps: list[str] = field(default_factory=list)


@dataclass
class Edge:
    source: str  # the task whose field holds the reference
    target: str  # the task it names
    kind: str  # "depends_on" (source waits for target) or "parent" (target is source's parent)


@dataclass
class GraphView:
    nodes: list[Node]  # tree order: each parent before its children; external tasks last
    edges: list[Edge]
    root: str | None = None
    include_done: bool = False

    def by_id(self) -> dict[str, Node]:
        return {node.id: node for node in self.nodes}


def one_line(text: str) -> str:
    """Untrusted text on one line with control characters shown as ``\\uXXXX``."""
    return neutralise(_LINE_BREAKS.sub(" ", text))


def subtree(tasks: TaskMap, root: str) -> set[str]:
    children: dict[str, list[str]] = {}
    for task_id, task in tasks.items():
        if task.get("parent"):
            children.setdefault(task["parent"], []).append(task_id)
    found, stack = {root}, [root]
    while stack:
        for child in children.get(stack.pop(), ()):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def build_view(
    tasks: TaskMap,
    done: Iterable[str],
    short: Mapping[str, str],
    root: str | None = None,
    include_done: bool = False,
    critical: Iterable[str] = (),
    start: Mapping[str, float] | None = None,
) -> GraphView:
    """The open tasks (all with ``include_done``) under ``root`` (everything without), the
    finished parents above them (so the tree keeps its shape), and the unfinished tasks
    outside the view that a task in it waits for (``external``). Siblings come in the order
    work can start (``start``: earliest start per task, from the critical path), then in
    work order."""
    done_set = set(done)
    scope = subtree(tasks, root) if root else set(tasks)
    shown = {t for t in scope if include_done or tasks[t].get("status") not in done_set}
    for task_id in list(shown):  # finished ancestors inside the scope, for the shape
        parent = tasks[task_id].get("parent")
        while parent in scope and parent not in shown:
            shown.add(parent)
            parent = tasks[parent].get("parent")
    external: set[str] = set()
    for task_id in shown:
        for dep in tasks[task_id].get("depends_on") or ():
            if (
                dep in tasks
                and dep not in shown
                and (include_done or tasks[dep].get("status") not in done_set)
            ):
                external.add(dep)
    critical_set = set(critical)

    def node(task_id: str, parent: str | None, depth: int, outside: bool) -> Node:
        task = tasks[task_id]
        return Node(
            id=task_id,
            short=short.get(task_id, task_id),
            title=str(task.get("title", "")),
            status=str(task.get("status", "")),
            estimate=task.get("estimate"),
            assignees=list(task.get("assignees") or []),
            parent=parent,
            done=task.get("status") in done_set,
            external=outside,
            critical=task_id in critical_set,
            depth=depth,
            missing_deps=[d for d in task.get("depends_on") or () if d not in tasks],
        )

    children: dict[str | None, list[str]] = {}
    for task_id in shown:
        parent = tasks[task_id].get("parent")
        children.setdefault(parent if parent in shown and parent != task_id else None, []).append(
            task_id
        )
    starts = start or {}
    for siblings in children.values():
        siblings.sort(key=lambda t: (starts.get(t, float("inf")), work_order_key(tasks[t])))
    nodes: list[Node] = []
    placed: set[str] = set()
    tops = list(children.get(None, []))
    # Tasks in a parent loop have no top: start from the smallest ID of what is left.
    leftover = sorted(shown)
    while tops or len(placed) < len(shown):
        if not tops:
            tops = [next(t for t in leftover if t not in placed)]
        stack = [(t, 0) for t in reversed(tops)]
        tops = []
        while stack:
            task_id, depth = stack.pop()
            if task_id in placed:
                continue
            placed.add(task_id)
            parent = tasks[task_id].get("parent")
            nodes.append(node(task_id, parent if parent in shown and depth else None, depth, False))
            stack.extend((child, depth + 1) for child in reversed(children.get(task_id, [])))
    nodes.extend(node(task_id, None, 0, True) for task_id in sorted(external))
    visible = shown | external
    edges: list[Edge] = []
    for item in nodes:
        if item.external:
            continue
        for dep in dict.fromkeys(tasks[item.id].get("depends_on") or ()):
            if dep in visible:
                edges.append(Edge(item.id, dep, "depends_on"))
        if item.parent is not None:
            edges.append(Edge(item.id, item.parent, "parent"))
    return GraphView(nodes, edges, root, include_done)


# -- tree ----------------------------------------------------------------------------------


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _facts(node: Node, is_parent: bool) -> str:
    facts = [node.status]
    if node.estimate or not is_parent:  # a parent spans its children: no estimate needed
        facts.append(node.estimate or "no estimate")
    if node.critical:
        facts.append("critical")
    return "[" + " · ".join(facts) + "]"


def render_tree(view: GraphView) -> str:
    """Parents nest their children; each line: short ID, title, [status · estimate],
    assignees, and ``← waits for`` the tasks it depends on."""
    by_id = view.by_id()
    kids: dict[str, list[Node]] = {}
    for item in view.nodes:
        if item.parent is not None:
            kids.setdefault(item.parent, []).append(item)
    waits: dict[str, list[str]] = {}
    for edge in view.edges:
        if edge.kind == "depends_on":
            dep = by_id[edge.target]
            note = f"{dep.short} {_clip(one_line(dep.title), 40)}"
            if dep.done:
                note += " (done)"
            elif dep.external:
                note += f" ({dep.status}, not shown)"
            waits.setdefault(edge.source, []).append(note)
    lines: list[str] = []

    def emit(item: Node, prefix: str, connector: str) -> None:
        text = f"{item.short}  {one_line(item.title)}  {_facts(item, item.id in kids)}"
        if item.assignees:
            text += "  " + " ".join(f"@{a}" for a in item.assignees)
        notes = waits.get(item.id, []) + [f"{d} (missing)" for d in item.missing_deps]
        if notes:
            text += "  ← waits for " + ", ".join(notes)
        lines.append(prefix + connector + text)
        children = kids.get(item.id, [])
        inner = prefix + ("" if not connector else ("    " if connector == "└── " else "│   "))
        for i, child in enumerate(children):
            emit(child, inner, "└── " if i == len(children) - 1 else "├── ")

    for item in view.nodes:
        if item.parent is None and not item.external:
            emit(item, "", "")
    return "\n".join(lines) + ("\n" if lines else "")


# -- Mermaid -------------------------------------------------------------------------------


def mermaid_text(text: str) -> str:
    """Untrusted text for a Mermaid label or gantt task name: one line, and every character
    that Mermaid could read as syntax (quotes, brackets, ``:``, ``;``, ``#``, ``%``, ``<``,
    backticks, ...) as an entity code, which Mermaid shows as the character."""
    return _MERMAID_UNSAFE.sub(lambda m: f"#{ord(m.group())};", one_line(text))


def mermaid_id(task_id: str) -> str:
    """A node ID from a task ID (stable across runs; letters, digits and ``_`` only, and
    never a Mermaid keyword such as ``end``)."""
    return "t_" + _NON_NODE.sub("_", task_id.removeprefix("t-"))


def render_mermaid(view: GraphView) -> str:
    """A Mermaid ``flowchart`` (GitHub renders it in a mermaid code block): arrows run from a
    task to the tasks waiting for it, dotted lines join a parent to its children; critical
    tasks have a thick red border, finished ones are grey, external ones dashed."""
    lines = ["flowchart TD"]
    for item in view.nodes:
        label = (
            f"{mermaid_text(item.short)} {mermaid_text(item.title)}<br/>{mermaid_text(item.status)}"
        )
        if item.estimate:
            label += f" · {mermaid_text(item.estimate)}"
        lines.append(f'    {mermaid_id(item.id)}["{label}"]')
    for edge in view.edges:
        if edge.kind == "depends_on":
            lines.append(f"    {mermaid_id(edge.target)} --> {mermaid_id(edge.source)}")
        else:
            lines.append(f"    {mermaid_id(edge.target)} -.- {mermaid_id(edge.source)}")
    classes = {
        "done": ("fill:#eeeeee,stroke:#9e9e9e,color:#616161", [n for n in view.nodes if n.done]),
        "critical": ("stroke:#d32f2f,stroke-width:3px", [n for n in view.nodes if n.critical]),
        "external": ("stroke-dasharray:5 5", [n for n in view.nodes if n.external]),
    }
    for name, (style, members) in classes.items():
        if members:
            lines.append(f"    classDef {name} {style}")
            lines.append(f"    class {','.join(mermaid_id(n.id) for n in members)} {name}")
    return "\n".join(lines) + "\n"


# -- Graphviz DOT --------------------------------------------------------------------------


def dot_string(text: str) -> str:
    """A DOT quoted string: backslashes and quotes escaped, so a title can neither end the
    string nor use DOT's label escapes (``\\N``, ``\\G``, ``\\l``), and ``&`` as ``&amp;``
    (Graphviz reads HTML entities in every label: ``&amp;`` in a title stays ``&amp;``)."""
    return (
        '"' + one_line(text).replace("\\", "\\\\").replace('"', '\\"').replace("&", "&amp;") + '"'
    )


def render_dot(view: GraphView) -> str:
    """A Graphviz ``digraph`` (``dot -Tsvg``): the same edges and styles as the flowchart."""
    lines = [
        "digraph tasks {",
        "  rankdir=TB;",
        '  node [shape=box, style="rounded", fontname="Helvetica", fontsize=11];',
        '  edge [color="#555555"];',
    ]
    for item in view.nodes:
        facts = item.status + (f" · {item.estimate}" if item.estimate else "")
        label = dot_string(f"{item.short} {item.title}")[:-1] + "\\n" + dot_string(facts)[1:]
        attrs = [f"label={label}"]
        styles = ["rounded"]
        if item.done:
            styles.append("filled")
            attrs += ['fillcolor="#eeeeee"', 'fontcolor="#616161"']
        if item.external:
            styles.append("dashed")
        if item.critical:
            attrs += ['color="#d32f2f"', "penwidth=2.5"]
        attrs.append(f'style="{",".join(styles)}"')
        lines.append(f"  {dot_string(item.id)} [{', '.join(attrs)}];")
    for edge in view.edges:
        if edge.kind == "depends_on":
            lines.append(f"  {dot_string(edge.target)} -> {dot_string(edge.source)};")
        else:
            lines.append(
                f"  {dot_string(edge.target)} -> {dot_string(edge.source)} [style=dotted, arrowhead=none];"
            )
    lines.append("}")
    return "\n".join(lines) + "\n"


# -- JSON ----------------------------------------------------------------------------------


def view_data(view: GraphView) -> dict[str, Any]:
    """The view as JSON-ready data: ``nodes`` and ``edges`` (``from`` is the task whose
    field holds the reference: ``depends_on`` = from waits for to, ``parent`` = to is the
    parent of from)."""
    return {
        "root": view.root,
        "include_done": view.include_done,
        "nodes": [
            {
                "id": n.id, "short_id": n.short, "title": n.title, "status": n.status, "estimate": n.estimate,
                "assignees": n.assignees, "parent": n.parent, "done": n.done, "external": n.external,
                "critical": n.critical, "depth": n.depth, "missing_dependencies": n.missing_deps,
            }
            for n in view.nodes
        ],
        "edges": [{"from": e.source, "to": e.target, "kind": e.kind} for e in view.edges],
    }  # fmt: skip
