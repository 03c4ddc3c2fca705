"""Planning operations of the workspace facade: importing a markdown roadmap as tasks.

One import is one mutation: every new task (``task.created``) and every task it updates
(``task.edited``, ``task.moved``) is one event batch, journaled, written and committed
together, or nothing is. The roadmap itself is read by :mod:`agentctl.store.roadmap`; the
rules are in docs/planning.md ("Roadmap import").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agentctl.core import body as taskbody
from agentctl.core import graph, ids, secrets
from agentctl.core.rules import Actor, check_gate_escape, check_move_permission, is_pending
from agentctl.core.text import check_line
from agentctl.errors import AgentctlError, ConflictError, PermissionDeniedError, UsageError
from agentctl.workspace.base import Mutation, pausing_gc, timestamp
from agentctl.workspace.tasks import TASK_ORDER, TaskOps, validate_model

if TYPE_CHECKING:
    from agentctl.core import events as ev
    from agentctl.core.records import TaskRecord
    from agentctl.store.roadmap_plan import Item, Plan

REPORT_VERSION = 1


class _NothingToWrite(Exception):
    """Leaves the mutation without writing: the roadmap changes nothing."""


@dataclass
class _Entry:
    """What the import does with one roadmap item."""

    item: Item
    task_id: str
    source: str
    action: str  # create | update | unchanged
    fields: dict[str, Any]
    body: str
    changed: list[str] = field(default_factory=list)
    moved: tuple[str, str] | None = None
    row: TaskRecord | None = None


class PlanningOps(TaskOps):
    @staticmethod
    def roadmap_max_bytes() -> int:
        """The largest roadmap ``import_roadmap`` reads (front ends refuse bigger input early)."""
        from agentctl.store.roadmap import MAX_BYTES

        return MAX_BYTES

    @pausing_gc
    def import_roadmap(
        self,
        actor: Actor,
        text: str | bytes,
        source_name: str,
        dry_run: bool = False,
        parent: str | None = None,
        label: str | None = None,
    ) -> dict[str, Any]:
        """Import a markdown roadmap as a tree of tasks (or, ``dry_run``, only say what would
        happen); returns the report. Re-importing updates the tasks an earlier import of the
        same ``source_name`` created, adds new ones and lists vanished ones (never deletes)."""
        from agentctl.store import roadmap

        actor.require("create_tasks", "import a roadmap (create tasks)")
        source = _source(source_name)
        data = text if isinstance(text, bytes) else text.encode("utf-8")
        decoded, repaired = roadmap.decode(data, source_name)
        plan = roadmap.parse(decoded, source, repaired)
        return self.apply_plan(actor, plan, dry_run=dry_run, parent=parent, label=label)

    @pausing_gc
    def apply_plan(
        self,
        actor: Actor,
        plan: Plan,
        dry_run: bool = False,
        parent: str | None = None,
        label: str | None = None,
        what: str = "import roadmap",
    ) -> dict[str, Any]:
        """Turn a finished :class:`~agentctl.store.roadmap_plan.Plan` (from a roadmap, a spec
        or an agent's ``plan`` action) into tasks as one mutation, or, ``dry_run``, only say
        what would happen; returns the report. Tasks are keyed by ``plan.source`` and each
        item's key, so applying the same plan again updates instead of duplicating; tasks of
        this source the plan no longer lists are reported as vanished, never deleted.
        ``what`` starts the commit subject."""
        actor.require("create_tasks", "create tasks from a plan")
        if label is not None:
            _check_label(label)
        if dry_run:
            self.refresh()
            entries, notes, vanished = self._plan_import(actor, plan, parent, label, dry_run=True)
            return _report(plan, entries, notes, vanished, dry_run=True, committed=False)
        planned: tuple[list[_Entry], list[str], list[dict[str, Any]]] = ([], [], [])
        try:
            with self._mutate(actor) as m:
                planned = entries, _notes, _vanished = self._plan_import(
                    actor, plan, parent, label, dry_run=False
                )
                if not any(e.action != "unchanged" for e in entries):
                    raise _NothingToWrite
                self._apply_import(m, plan.source + plan.separator, entries, what)
        except _NothingToWrite:
            return _report(plan, *planned, dry_run=False, committed=False)
        return _report(
            plan,
            *planned,
            dry_run=False,
            committed=self.repo is not None and bool(self.config["git"]["autocommit"]),
        )

    # -- what the import would do ----------------------------------------------------------

    def _plan_import(
        self, actor: Actor, plan: Plan, parent: str | None, label: str | None, dry_run: bool
    ) -> tuple[list[_Entry], list[str], list[dict[str, Any]]]:
        prefix = f"{plan.source}{plan.separator}"
        existing = {
            row["source"]: row
            for row in self.index.tasks_by_source(prefix)
            if row["source"] is not None  # always set: the rows are found by their source
        }
        parent_id = self.resolve_task(parent) if parent else None
        items = list(plan.walk())
        wanted = {f"{prefix}{item.key}" for item in items}
        if parent_id is not None and any(row["id"] == parent_id for row in existing.values()):
            raise ConflictError(
                f"--parent {parent_id} is a task of this roadmap: that makes a loop"
            )
        task_ids = self._task_ids(items, existing, prefix, dry_run)
        roadmap_ids = set(task_ids.values()) | {row["id"] for row in existing.values()}
        agents = {agent["name"] for agent in self.index.agents() if not is_pending(agent)}
        notes: list[str] = []
        stamp = timestamp()
        entries: list[_Entry] = []
        graph_now: dict[str, Mapping[str, Any]] = dict(self.index.graph()) if existing else {}
        for item in items:
            source = f"{prefix}{item.key}"
            task_id = task_ids[id(item)]
            assignees, hints = self._owners(actor, item, agents, notes)
            description = "\n\n".join(part for part in item.description if part)
            if hints:
                description = (
                    (description + "\n\n" if description else "")
                    + f"Owner (from {getattr(item, 'origin', None) or 'the roadmap'}): {', '.join(hints)}"
                )
            labels = list(item.labels) + ([label] if label and label not in item.labels else [])
            top_parent = task_ids[id(item.parent)] if item.parent is not None else parent_id
            deps = [task_ids[id(dep)] for dep in item.deps]
            row = existing.get(source)
            if row is None:
                fields = self._new_fields(
                    actor, item, task_id, source, assignees, labels, top_parent, deps, stamp, notes
                )
                body = taskbody.task_body(
                    description, [taskbody.Criterion(c.text, c.done) for c in item.criteria]
                )
                entries.append(_Entry(item, task_id, source, "create", fields, body))
                continue
            entries.append(
                self._update(
                    actor,
                    item,
                    row,
                    source,
                    assignees,
                    labels,
                    top_parent,
                    deps,
                    roadmap_ids,
                    description,
                    notes,
                )
            )
        if existing:  # dependencies added to existing tasks, checked against the whole graph
            graph_now.update(
                {
                    e.task_id: {"depends_on": e.fields["depends_on"]}
                    for e in entries
                    if e.action == "create"
                }
            )
            for entry in entries:
                if entry.action == "update" and "depends_on" in entry.changed:
                    self._refuse_new_cycles(entry, graph_now, plan)
        vanished = [
            {"id": row["id"], "title": row["title"], "status": row["status"], "source": src}
            for src, row in sorted(existing.items())
            if src not in wanted
        ]
        return entries, notes, vanished

    def _task_ids(
        self, items: list[Item], existing: Mapping[str, TaskRecord], prefix: str, dry_run: bool
    ) -> dict[int, str]:
        """Existing tasks keep their IDs; new ones get fresh random IDs handed out in roadmap
        order (sorted), so tasks of equal priority and age are worked in roadmap order."""
        fresh = [item for item in items if f"{prefix}{item.key}" not in existing]
        if dry_run:
            new_ids = [f"(new {n + 1})" for n in range(len(fresh))]
        else:
            pool: set[str] = set()
            while len(pool) < len(fresh):
                pool.add(ids.new_id(ids.TASK))
            new_ids = sorted(pool)
        result = {
            id(item): existing[f"{prefix}{item.key}"]["id"]
            for item in items
            if f"{prefix}{item.key}" in existing
        }
        result.update({id(item): new_id for item, new_id in zip(fresh, new_ids, strict=True)})
        return result

    def _owners(
        self, actor: Actor, item: Item, agents: set[str], notes: list[str]
    ) -> tuple[list[str], list[str]]:
        """Owners naming known agents become assignees; the rest stay hints."""
        from agentctl.store.roadmap_fields import normalise_label

        assignees: list[str] = []
        hints: list[str] = []
        for owner in item.owners:
            name = owner if owner in agents else normalise_label(owner)
            if name not in agents:
                hints.append(owner)
            elif name != actor.name and not actor.can("assign_others"):
                hints.append(owner)
                notes.append(
                    f"line {item.line}: {item.label}: not assigned to {name}: {actor.name} may not assign others"
                )
            elif name not in assignees:
                assignees.append(name)
        if hints and len(hints) == len(item.owners):
            notes.append(
                f"line {item.line}: {item.label}: owner {', '.join(hints)} is not an agent (kept in the description)"
            )
        return assignees, hints

    def _status(
        self, actor: Actor, item: Item, task: dict[str, Any], notes: list[str]
    ) -> str | None:
        """The workflow status the roadmap asks for, if the actor may set it (agents move
        tasks only as ``task move`` would let them)."""
        from agentctl.store import roadmap_fields as rf

        flow = self.workflow
        target = {
            rf.DONE: flow["done"][0],
            rf.IN_PROGRESS: flow["in_progress"],
            rf.BLOCKED: flow["blocked"],
        }.get(item.status or "")
        if target is None or target == task["status"]:
            return None
        try:
            check_move_permission(actor, flow, task, target)
        except PermissionDeniedError as exc:
            notes.append(
                f"line {item.line}: {item.label}: status {target} not applied: {exc.message}"
            )
            return None
        return str(target)

    def _new_fields(
        self, actor: Actor, item: Item, task_id: str, source: str, assignees: list[str], labels: list[str],
        parent: str | None, deps: list[str], stamp: str, notes: list[str],
    ) -> dict[str, Any]:  # fmt: skip
        flow = self.workflow
        status = flow["assigned"] if assignees else flow["initial"]
        moved = self._status(actor, item, {"id": task_id, "status": status, "assignees": assignees, "labels": labels,
                                           "priority": item.priority if item.priority is not None else 2}, notes)  # fmt: skip
        fields: dict[str, Any] = {
            "id": task_id,
            "title": item.title,
            "status": moved or status,
            "priority": self.config["tasks"]["priority"]
            if item.priority is None
            else item.priority,
            "assignees": assignees,
            "labels": labels,
            "parent": parent,
            "depends_on": deps,
            "estimate": item.estimate,
            "due": item.due,
            "source": source,
            "created_by": actor.name,
            "created_at": stamp,
            "updated_at": stamp,
        }
        fields.update({k: v for k, v in item.fields.items() if k not in fields})
        return {key: fields[key] for key in TASK_ORDER if fields.get(key) is not None}

    def _update(
        self, actor: Actor, item: Item, row: TaskRecord, source: str, assignees: list[str], labels: list[str],
        parent: str | None, deps: list[str], roadmap_ids: set[str], description: str, notes: list[str],
    ) -> _Entry:  # fmt: skip
        """The changes a re-import makes to a task it created earlier: the roadmap's fields
        win; labels, dependencies and acceptance criteria are merged (nothing is cleared or
        removed); the status only moves forward."""
        flow = self.workflow
        changes: dict[str, Any] = {}
        if row["title"] != item.title:
            changes["title"] = item.title
        for key, value in (
            ("estimate", item.estimate),
            ("due", item.due),
            ("priority", item.priority),
        ):
            if value is not None and row.get(key) != value:
                changes[key] = value
        merged_labels = list(row["labels"]) + [
            label for label in labels if label not in row["labels"]
        ]
        if merged_labels != row["labels"]:
            changes["labels"] = merged_labels
        if parent is not None and row.get("parent") != parent:
            changes["parent"] = parent
        if item.fields:  # fields the index does not hold are compared with the file
            current = self.load_task_doc(row["id"])
            changes.update({k: v for k, v in item.fields.items() if current.get(k) != v})
        new_deps = list(row["depends_on"]) + [dep for dep in deps if dep not in row["depends_on"]]
        if new_deps != row["depends_on"]:
            changes["depends_on"] = new_deps
        for dep in row["depends_on"]:
            if dep in roadmap_ids and dep not in deps:
                notes.append(f"line {item.line}: {item.label}: keeps its dependency on {dep}, which the roadmap does not "
                             f"list (remove it with: agentctl task dep rm {row['id']} {dep})")  # fmt: skip
        if assignees and not row["assignees"]:
            changes["assignees"] = assignees
            if row["status"] == flow["initial"]:
                changes["status"] = flow["assigned"]
        moved: tuple[str, str] | None = None
        target = self._forward(actor, item, {**row, **changes}, notes)
        if target is not None:
            moved = (row["status"], target)
            changes["status"] = target
        body = self._merged_body(row["id"], description, item)
        entry = _Entry(item, row["id"], source, "unchanged", {}, body or "", row=row)
        if changes or body is not None:
            entry.action = "update"
            entry.fields = changes
            entry.changed = sorted(k for k in changes if k not in ("status", "assignees")) + (
                ["body"] if body is not None else []
            )
            entry.moved = moved
            if actor.is_agent and actor.name not in row["assignees"] and not actor.can("move_any"):
                raise PermissionDeniedError(
                    f"{actor.name} ({actor.level}) may not update {row['id']} ({row['title']}), which is not assigned to it",
                    hint="a lead or a human can re-import this roadmap",
                )
            check_gate_escape(actor, flow, row, {**row, **changes})
        return entry

    def _forward(
        self, actor: Actor, item: Item, task: dict[str, Any], notes: list[str]
    ) -> str | None:
        """Re-import moves a task forward only: to done when the roadmap marks it done; to in
        progress or blocked while the task is not started; never back."""
        from agentctl.store import roadmap_fields as rf

        flow = self.workflow
        if task["status"] in flow["done"] or item.status in (None, rf.TODO):
            return None
        if item.status != rf.DONE and task["status"] not in (flow["initial"], flow["assigned"]):
            return None
        return self._status(actor, item, task, notes)

    def _merged_body(self, task_id: str, description: str, item: Item) -> str | None:
        """The task's new body, or None if unchanged: the roadmap's description; its criteria
        (a criterion ticked in the task stays ticked) then the task's own extra criteria."""
        from agentctl.store.frontmatter import split
        from agentctl.store.reading import read_record

        path = self.layout.task(task_id)
        rel = self.layout.relative(path)
        _, body, _ = split(read_record(path, rel), rel)
        current = taskbody.parse_criteria(taskbody.get_section(body, taskbody.ACCEPTANCE))
        ticked = {c.text for c in current if c.done}
        wanted = [taskbody.Criterion(c.text, c.done or c.text in ticked) for c in item.criteria]
        texts = {c.text for c in wanted}
        wanted += [c for c in current if c.text not in texts]
        new = taskbody.set_section(body, taskbody.DESCRIPTION, description)
        new = taskbody.set_section(new, taskbody.ACCEPTANCE, taskbody.render_criteria(wanted))
        new = secrets.mask(new)
        return None if new == body else new

    def _refuse_new_cycles(
        self, entry: _Entry, tasks: dict[str, Mapping[str, Any]], plan: Plan
    ) -> None:
        """A dependency the roadmap adds to an existing task must not close a cycle through
        dependencies people added by hand outside the roadmap."""
        from agentctl.store.roadmap_plan import CycleCut

        current = tasks.get(entry.task_id, {}).get("depends_on", [])
        kept = []
        for dep in entry.fields["depends_on"]:
            if dep not in current:
                cycle = graph.cycle_if_added(tasks, entry.task_id, dep)
                if cycle:
                    plan.cycles.append(
                        CycleCut(entry.item.line, entry.item.label, dep, tuple(cycle))
                    )
                    continue
            kept.append(dep)
        tasks[entry.task_id] = {**tasks.get(entry.task_id, {}), "depends_on": kept}
        if kept == current:
            del entry.fields["depends_on"]
            entry.changed.remove("depends_on")
            if not entry.fields and "body" not in entry.changed:
                entry.action = "unchanged"
        else:
            entry.fields["depends_on"] = kept

    # -- writing -------------------------------------------------------------------------------

    def _apply_import(self, m: Mutation, source: str, entries: list[_Entry], what: str) -> None:
        from agentctl.store.frontmatter import dump_new

        created = sum(1 for e in entries if e.action == "create")
        updated = sum(1 for e in entries if e.action == "update")
        m.batch_subject = f"{what} {source.removesuffix('#').removesuffix(':')}: {created} created, {updated} updated"
        new_paths = iter(self.layout.tasks_of(e.task_id for e in entries if e.action == "create"))
        for entry in entries:
            if entry.action == "create":
                path = next(new_paths)
                validate_model("Task", entry.fields, self.layout.relative(path))
                m.create(path, dump_new(entry.fields, entry.body), (entry.fields, entry.body))
                new_task: ev.TaskCreated = {
                    "title": entry.fields["title"], "status": entry.fields["status"], "source": entry.source,
                }  # fmt: skip
                m.record_more(
                    "task.created", entry.task_id, new_task, entry.fields.get("assignees") or []
                )
            elif entry.action == "update":
                changes = {k: v for k, v in entry.fields.items()}
                body = entry.body if "body" in entry.changed else None
                merged = self._stage_task(m, entry.task_id, changes, body)
                if entry.changed:
                    edited: ev.TaskEdited = {"title": merged["title"], "fields": entry.changed}
                    m.record_more("task.edited", entry.task_id, edited)
                if "assignees" in entry.fields:
                    assigned: ev.TaskAssigned = {
                        "title": merged["title"],
                        "added": entry.fields["assignees"],
                    }
                    m.record_more(
                        "task.assigned", entry.task_id, assigned, entry.fields["assignees"]
                    )
                if entry.moved is not None:
                    moved: ev.TaskMoved = {
                        "title": merged["title"], "from": entry.moved[0], "to": entry.moved[1], "note": "roadmap import",
                    }  # fmt: skip
                    m.record_more("task.moved", entry.task_id, moved, merged.get("assignees") or [])


# -- the report ----------------------------------------------------------------------------------


def _source(name: str) -> str:
    try:
        check_line(name, "roadmap name")
    except AgentctlError:
        raise UsageError("the roadmap's name must be one line of text") from None
    if not name.strip() or len(name) > 300:
        raise UsageError("the roadmap's name must be 1-300 characters")
    return name.strip()


def _check_label(label: str) -> None:
    from agentctl.core.checks import LABEL_RE

    check_line(label, "label")
    if not LABEL_RE.match(label):
        raise UsageError(
            f"--label {label!r}: a label is one word (no spaces or commas), at most 64 characters"
        )


def _report(
    plan: Plan,
    entries: list[_Entry],
    notes: list[str],
    vanished: list[dict[str, Any]],
    dry_run: bool,
    committed: bool,
) -> dict[str, Any]:
    by_item = {id(e.item): e for e in entries}
    nodes: dict[int, dict[str, Any]] = {}
    roots: list[dict[str, Any]] = []
    for item in plan.walk():
        entry = by_item[id(item)]
        fields = entry.fields if entry.action == "create" else {**(entry.row or {}), **entry.fields}
        node = {
            "key": item.key,
            "source": entry.source,
            "id": None if entry.task_id.startswith("(new") else entry.task_id,
            "action": entry.action,
            "changed": entry.changed,
            "kind": item.kind,
            "number": item.number,
            "title": item.title,
            "line": item.line,
            "status": fields.get("status"),
            "estimate": item.estimate,
            "labels": fields.get("labels", []),
            "assignees": fields.get("assignees", []),
            "owners": item.owners,
            "due": item.due,
            "priority": item.priority,
            "depends_on": [
                {"ref": dep.label, "title": dep.title, "line": dep.line} for dep in item.deps
            ],
            "criteria": [{"text": c.text, "done": c.done} for c in item.criteria],
            "children": [],
        }
        nodes[id(item)] = node
        (nodes[id(item.parent)]["children"] if item.parent is not None else roots).append(node)
    counts = plan.counts()
    return {
        "source": plan.source,
        "dry_run": dry_run,
        "committed": committed,
        "counts": counts,
        "created": sum(1 for e in entries if e.action == "create"),
        "updated": sum(1 for e in entries if e.action == "update"),
        "unchanged": sum(1 for e in entries if e.action == "unchanged"),
        "tasks": roots,
        "ignored": [
            {"line": i.line, "end": i.end or i.line, "reason": i.reason, "text": i.text}
            for i in sorted(plan.ignored, key=lambda i: i.line)
        ],
        "unresolved": [
            {"line": u.line, "task": u.item, "ref": u.reference, "reason": u.reason}
            for u in plan.unresolved
        ],
        "cycles": [
            {"line": c.line, "task": c.item, "ref": c.reference, "cycle": list(c.cycle)}
            for c in plan.cycles
        ],
        "vanished": vanished,
        "notes": notes,
        "repaired_lines": plan.repaired_lines,
    }
