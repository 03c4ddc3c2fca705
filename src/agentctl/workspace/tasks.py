"""Task operations of the workspace facade (reads from the index, writes via the mutation path)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal, cast, overload

from agentctl.core import graph, ids
from agentctl.core.rules import (
    Actor,
    GateRefusal,
    check_assign_self,
    check_gate_escape,
    check_gates,
    check_move_permission,
    check_transition,
    is_pending,
    pending_reason,
)
from agentctl.core.text import check_line, check_lines, check_text
from agentctl.errors import AgentctlError, ConflictError, NotFoundError, UsageError, ValidationError
from agentctl.paths import validate_name
from agentctl.workspace.base import Mutation, WorkspaceBase, now, timestamp

# Up to this many IDs, short IDs come from each one's neighbours in the index (two indexed
# lookups each) rather than from a pass over every task ID.
_SHORT_BY_NEIGHBOURS = 200

# Events after which a task's status may differ: a refusal before the latest of them is stale.
STATUS_CHANGES: tuple[ev.EventType, ...] = (
    "task.moved",
    "task.claimed",
    "task.released",
    "task.assigned",
    "task.unassigned",
)

if TYPE_CHECKING:
    from agentctl.core import events as ev
    from agentctl.core.records import TaskRecord
    from agentctl.core.rows import Ready, WaitingTask
    from agentctl.store.frontmatter import Document
    from agentctl.store.index import TaskTable

TASK_ORDER = [
    "id", "title", "status", "priority", "assignees", "labels", "parent", "depends_on", "spec",
    "spec_hash", "estimate", "due", "source", "created_by", "created_at", "updated_at", "claim",
]  # fmt: skip


def validate_model(model_name: str, data: dict[str, Any], path: str) -> None:
    """Strict check of a record about to be written (see core/checks.py for why not pydantic)."""
    from agentctl.core import checks

    record = dict(data)
    if model_name == "Task":
        checks.check_task(record, None, path)
    elif model_name == "Agent":
        checks.check_agent(record, None, path)
    elif model_name == "AgentState":
        checks.check_state(record, path)
    else:
        raise AssertionError(f"unknown record type {model_name}")


class _AlreadyRecorded(Exception):
    """Raised inside a mutation to leave it without writing (nothing new to record)."""


class TaskOps(WorkspaceBase):
    # -- reads -------------------------------------------------------------------------

    @overload
    def list_tasks(
        self,
        statuses: list[str] | None = None,
        assignee: str | None = None,
        label: str | None = None,
        parent: str | None = None,
        include_done: bool = False,
        sort: str = "priority",
        limit: int | None = None,
        as_json_text: Literal[False] = False,
    ) -> list[TaskRecord]: ...

    @overload
    def list_tasks(
        self,
        statuses: list[str] | None = None,
        assignee: str | None = None,
        label: str | None = None,
        parent: str | None = None,
        include_done: bool = False,
        sort: str = "priority",
        limit: int | None = None,
        *,
        as_json_text: Literal[True],
    ) -> str: ...

    def list_tasks(
        self,
        statuses: list[str] | None = None,
        assignee: str | None = None,
        label: str | None = None,
        parent: str | None = None,
        include_done: bool = False,
        sort: str = "priority",
        limit: int | None = None,
        as_json_text: bool = False,
    ) -> list[TaskRecord] | str:
        """Tasks matching the filters (open ones unless ``include_done`` or ``statuses``);
        with ``as_json_text`` the same list as JSON array text (the fast path for --json)."""
        query = self._list_query(statuses, assignee, label, parent, include_done, sort, limit)
        return self.index.tasks_json(*query) if as_json_text else self.index.tasks(*query)

    def list_tasks_json_rows(
        self,
        statuses: list[str] | None = None,
        assignee: str | None = None,
        label: str | None = None,
        parent: str | None = None,
        include_done: bool = False,
        sort: str = "priority",
        limit: int | None = None,
    ) -> Iterator[str]:
        """:meth:`list_tasks` as the JSON object text of each task, streamed from the index."""
        query = self._list_query(statuses, assignee, label, parent, include_done, sort, limit)
        return self.index.task_json_rows(*query)

    def list_tasks_table(
        self,
        statuses: list[str] | None = None,
        assignee: str | None = None,
        label: str | None = None,
        parent: str | None = None,
        include_done: bool = False,
        sort: str = "priority",
        limit: int | None = None,
    ) -> TaskTable:
        """:meth:`list_tasks` as table cells streamed from the index (short ID, priority,
        status, title, assignees, labels), with the widest cell of each column known first."""
        query = self._list_query(statuses, assignee, label, parent, include_done, sort, limit)
        return self.index.task_table(*query)

    def _list_query(
        self,
        statuses: list[str] | None,
        assignee: str | None,
        label: str | None,
        parent: str | None,
        include_done: bool,
        sort: str,
        limit: int | None,
    ) -> tuple[list[str] | None, str | None, str | None, str | None, str, int | None, Any]:
        self.refresh()
        flow = self.workflow
        if statuses:
            for status in statuses:
                if status not in flow["statuses"]:
                    raise UsageError(
                        f"unknown status {status!r}; statuses are: {', '.join(flow['statuses'])}"
                    )
            wanted: list[str] | None = statuses
        elif include_done:
            wanted = None
        else:
            wanted = [s for s in flow["statuses"] if s not in flow["done"]]
        orders = {
            "priority": "priority, created_at, id",
            "created": "created_at, id",
            "updated": "updated_at DESC, id",
            "status": "priority, created_at, id",  # after the workflow order of statuses
            "title": "title COLLATE NOCASE, id",
            "id": "id",
        }
        if sort not in orders:
            raise UsageError(f"unknown sort {sort!r}; use one of: {', '.join(orders)}")
        parent_id = self.resolve_task(parent) if parent else None
        rank = flow["statuses"] if sort == "status" else ()
        return (wanted, assignee, label, parent_id, orders[sort], limit, rank)

    def short_ids(self, among: Sequence[str] | None = None) -> dict[str, str]:
        """The shortest unique prefix of every task ID (or of the IDs ``among``: a page of
        a big workspace asks the index for their neighbours instead of reading every ID)."""
        if among is not None and len(among) <= _SHORT_BY_NEIGHBOURS:
            return self.index.short_ids_of(among)
        return ids.short_ids(self.index.task_ids())

    def show_task(self, ref: str) -> dict[str, Any]:
        """A task with its body sections, dependents, children and readiness."""
        from agentctl.core import body as taskbody
        from agentctl.store.index import plain_value
        from agentctl.store.plain_yaml import load_fields
        from agentctl.store.reading import read_record

        task_id = self.resolve_task(ref)
        self.require_valid_task_file(task_id)
        path = self.layout.task(task_id)
        fields, body = load_fields(
            read_record(path, self.layout.relative(path)), self.layout.relative(path)
        )
        task: dict[str, Any] = plain_value(fields)
        task.setdefault("priority", 2)
        for key in ("assignees", "labels", "depends_on"):
            task.setdefault(key, [])
        task["path"] = self.layout.relative(path)
        task["short_id"] = self.short_id(task_id)
        task["description"] = taskbody.get_section(body, taskbody.DESCRIPTION) or ""
        task["acceptance_criteria"] = [
            {"text": c.text, "done": c.done}
            for c in taskbody.parse_criteria(taskbody.get_section(body, taskbody.ACCEPTANCE))
        ]
        task["notes"] = taskbody.get_section(body, taskbody.NOTES) or ""
        task["body"] = body
        task["dependents"] = self.index.dependents(task_id)
        task["children"] = self.index.children(task_id)
        task["blocked_by"] = graph.blockers(self._readiness_map(task), task, self.workflow["done"])
        task["ready"] = task["status"] in self.workflow["ready"] and not task["blocked_by"]
        return task

    def ready(
        self, agent: str | None = None, explain: bool = False, limit: int | None = None
    ) -> Ready:
        """Tasks that can be started now, in work order (the first ``limit`` of them); with
        ``explain`` also why others wait."""
        self.refresh()
        flow = self.workflow
        if agent:
            ready = self.index.ready(flow["ready"], flow["done"])
            ready = [t for t in ready if not t["assignees"] or agent in t["assignees"]][:limit]
        else:
            ready = self.index.ready(flow["ready"], flow["done"], limit)
        result: Ready = {"ready": ready}
        if explain:
            tasks = self.index.graph()
            waiting: list[WaitingTask] = []
            for task in sorted(tasks.values(), key=graph.work_order_key):
                if task["status"] in flow["done"]:
                    continue
                reasons = graph.explain_ready(tasks, task, flow)
                if reasons:
                    waiting.append({**task, "reasons": reasons})
            result["not_ready"] = waiting
        return result

    # -- helpers -----------------------------------------------------------------------

    def _readiness_map(self, task: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        """What :func:`graph.waits` needs to judge ``task``: the task, the tasks enclosing
        it, and the status of every dependency of them all (rows from the index)."""
        ancestors = self.index.ancestors(task["id"])
        deps = [d for holder in (task, *ancestors) for d in holder.get("depends_on", ())]
        known: dict[str, dict[str, Any]] = {
            d: {"status": st} for d, st in self.index.statuses_of(deps).items()
        }
        for holder in (*reversed(ancestors), task):
            known[holder["id"]] = {**known.get(holder["id"], {}), **holder}
        return known

    def _known_agents(self, names: list[str]) -> list[str]:
        result: list[str] = []
        for name in names:
            validate_name(name, "agent name")
            agent = self.index.agent(name)
            if agent is None:
                raise NotFoundError(f"no agent named {name!r}", hint="see 'agentctl agent list'")
            if is_pending(agent):
                raise ConflictError(pending_reason(name) + ": until then it takes no work")
            if name not in result:
                result.append(name)
        return result

    def _stage_task(
        self,
        m: Mutation,
        task_id: str,
        changes: dict[str, Any],
        body: str | None = None,
        doc: Document | None = None,
    ) -> dict[str, Any]:
        """Validate and stage an update of one task (``doc``: the file already parsed, if it
        was); returns the task's new fields."""
        doc = doc if doc is not None else self.load_task_doc(task_id)
        path = self.layout.task(task_id)
        merged = {k: v for k, v in {**doc.plain(), **changes}.items() if v is not None}
        merged["updated_at"] = timestamp()
        validate_model("Task", merged, self.layout.relative(path))
        doc.update({**changes, "updated_at": merged["updated_at"]}, order=TASK_ORDER)
        if body is not None:
            doc.body = body
        m.write(path, doc.dumps())
        return merged

    def _check_fence(self, actor: Actor, task: Mapping[str, Any], epoch: int | None) -> None:
        """Refuse a change by a claimant whose claim epoch is older than the task's claim
        (core/fencing.py); reads the task's claim events only when someone else holds it."""
        claim = task.get("claim")
        if not claim or (epoch is None and claim.get("claimed_by") == actor.name):
            return
        from agentctl.core.fencing import FENCE_EVENTS, held_epoch, stale_claim

        events = self.index.events(subject=task["id"], types=FENCE_EVENTS)
        reason = stale_claim(actor.name, task, held_epoch(actor.name, events), epoch)
        if reason is not None:
            raise ConflictError(
                reason, hint="claim the task again (agentctl task claim) if it is yours to finish"
            )

    def _own_or(self, actor: Actor, task: Mapping[str, Any], permission: str, doing: str) -> None:
        if actor.is_agent and actor.name not in task.get("assignees", []):
            actor.require(permission, doing)

    @contextmanager
    def _recording_refusals(self, actor: Actor) -> Iterator[None]:
        """Let a refusal at a human gate through, after recording it for the humans."""
        try:
            yield
        except GateRefusal as refusal:
            self._record_refusal(actor, refusal)
            raise

    def _record_refusal(self, actor: Actor, refusal: GateRefusal) -> None:
        """One ``task.gate_refused`` event (what ``inbox --human`` and WORKING.md list); the
        same refusal again, with the task unchanged in between, is not recorded twice."""
        try:
            with self._mutate(actor) as m:
                for event in reversed(
                    self.index.events(
                        subject=refusal.task, types=("task.gate_refused", *STATUS_CHANGES), limit=50
                    )
                ):
                    if event["type"] != "task.gate_refused":
                        break
                    data = cast("ev.TaskGateRefused", event["data"])
                    if event["actor"] == actor.name and (data.get("from"), data.get("to")) == (
                        refusal.source,
                        refusal.target,
                    ):
                        raise _AlreadyRecorded  # leaves the mutation without writing anything
                task = self.index.task(refusal.task)
                refused: ev.TaskGateRefused = {
                    "title": task["title"] if task else None, "gate": refusal.gate, "from": refusal.source, "to": refusal.target,
                }  # fmt: skip
                m.record("task.gate_refused", refusal.task, refused)
        except _AlreadyRecorded:
            pass
        except AgentctlError as exc:  # the refusal stands whatever happens to its record
            self.warnings.append(f"the refusal at the human gate was not recorded: {exc.message}")

    def _task_row(self, task_id: str) -> TaskRecord:
        row = self.index.task(task_id)
        if row is None:
            self.require_valid_task_file(task_id)
            raise NotFoundError(f"no task {task_id}")
        return row

    # -- mutations ---------------------------------------------------------------------

    def add_task(
        self,
        actor: Actor,
        title: str,
        description: str = "",
        priority: int | None = None,
        assignees: list[str] | None = None,
        labels: list[str] | None = None,
        parent: str | None = None,
        depends_on: list[str] | None = None,
        estimate: str | None = None,
        due: str | None = None,
        criteria: list[str] | None = None,
        spec: str | None = None,
    ) -> dict[str, Any]:
        """Create a task (status ``inbox``, or ``assigned`` with assignees) with the given
        fields and acceptance criteria; needs ``create_tasks``. Returns the new task."""
        from agentctl.core import body as taskbody

        actor.require("create_tasks", "create tasks")
        _check_title(title)
        check_text(description, "description")
        check_lines(labels, "label")
        check_lines(criteria, "acceptance criterion")
        check_line(spec or "", "spec link")
        with self._mutate(actor) as m:
            flow = self.workflow
            wanted = self._known_agents(assignees or [])
            if any(a != actor.name for a in wanted):
                actor.require("assign_others", "assign tasks to other agents")
            parent_id = self.resolve_task(parent) if parent else None
            deps: list[str] = []
            for ref in depends_on or []:
                dep = self.resolve_task(ref)
                if dep not in deps:
                    deps.append(dep)
            task_id = ids.new_id(ids.TASK)
            stamp = timestamp()
            fields: dict[str, Any] = {
                "id": task_id,
                "title": title.strip(),
                "status": flow["assigned"] if wanted else flow["initial"],
                "priority": self.config["tasks"]["priority"] if priority is None else priority,
                "assignees": wanted,
                "labels": _unique(labels or []),
                "parent": parent_id,
                "depends_on": deps,
                "spec": spec,
                "estimate": estimate,
                "due": due,
                "created_by": actor.name,
                "created_at": stamp,
                "updated_at": stamp,
            }
            path = self.layout.task(task_id)
            validate_model(
                "Task",
                {k: v for k, v in fields.items() if v is not None},
                self.layout.relative(path),
            )
            from agentctl.store.frontmatter import Document

            body = taskbody.task_body(description, [taskbody.Criterion(c) for c in criteria or []])
            doc = Document.new({k: fields[k] for k in TASK_ORDER if k in fields}, body)
            m.create(path, doc.dumps())
            created: ev.TaskCreated = {"title": fields["title"], "status": fields["status"]}
            m.record("task.created", task_id, created, wanted)
            returned = {k: v for k, v in fields.items() if v is not None}
        return returned

    def edit_task(
        self,
        actor: Actor,
        ref: str,
        title: str | None = None,
        description: str | None = None,
        priority: int | None = None,
        add_labels: list[str] | None = None,
        remove_labels: list[str] | None = None,
        parent: str | None = None,
        estimate: str | None = None,
        due: str | None = None,
        spec: str | None = None,
        add_criteria: list[str] | None = None,
        check: list[int] | None = None,
        uncheck: list[int] | None = None,
        clear: list[str] | None = None,
    ) -> dict[str, Any]:
        """Change a task's fields, labels and acceptance criteria (check, uncheck, add) and
        clear optional fields; only what is given changes."""
        from agentctl.core import body as taskbody

        if title is not None:
            _check_title(title)
        check_text(description or "", "description")
        check_lines(add_labels, "label")
        check_lines(add_criteria, "acceptance criterion")
        check_line(spec or "", "spec link")
        with self._mutate(actor) as m:
            task_id = self.resolve_task(ref)
            current = self._task_row(task_id)
            self._own_or(actor, current, "move_any", f"edit {task_id}, which is not assigned to it")
            changes: dict[str, Any] = {}
            if title is not None:
                _check_title(title)
                changes["title"] = title.strip()
            if priority is not None:
                changes["priority"] = priority
            if add_labels or remove_labels:
                labels = [
                    label for label in current["labels"] if label not in (remove_labels or [])
                ]
                changes["labels"] = _unique([*labels, *(add_labels or [])])
            if parent is not None:
                parent_id = self.resolve_task(parent)
                if parent_id == task_id or graph.find_path(
                    _parents(self.index.graph_parents()), parent_id, task_id
                ):
                    raise ConflictError(
                        f"{parent_id} cannot be the parent of {task_id}: that makes a loop"
                    )
                changes["parent"] = parent_id
            for key, value in (("estimate", estimate), ("due", due), ("spec", spec)):
                if value is not None:
                    changes[key] = value
            for key in clear or []:
                if key not in ("parent", "estimate", "due", "spec", "labels"):
                    raise UsageError(
                        f"cannot clear {key!r}: use one of parent, estimate, due, spec, labels"
                    )
                changes[key] = [] if key == "labels" else None
            doc = self.load_task_doc(task_id)
            body = doc.body
            if description is not None:
                body = taskbody.set_section(body, taskbody.DESCRIPTION, description)
            if add_criteria or check or uncheck:
                criteria = taskbody.parse_criteria(taskbody.get_section(body, taskbody.ACCEPTANCE))
                for number, done in [
                    *((n, True) for n in check or []),
                    *((n, False) for n in uncheck or []),
                ]:
                    if not 1 <= number <= len(criteria):
                        raise UsageError(
                            f"{task_id} has {len(criteria)} acceptance criteria; there is no #{number}"
                        )
                    criteria[number - 1] = taskbody.Criterion(criteria[number - 1].text, done)
                criteria.extend(taskbody.Criterion(text) for text in add_criteria or [])
                body = taskbody.set_section(
                    body, taskbody.ACCEPTANCE, taskbody.render_criteria(criteria)
                )
            if not changes and body == doc.body:
                raise UsageError("nothing to change: give at least one field option")
            fields = sorted(changes) + (["body"] if body != doc.body else [])
            check_gate_escape(actor, self.workflow, current, {**current, **changes})
            merged = self._stage_task(m, task_id, changes, body, doc)
            edited: ev.TaskEdited = {"title": merged["title"], "fields": fields}
            m.record("task.edited", task_id, edited)
            returned = merged
        return returned

    def task_text(self, ref: str) -> tuple[str, str]:
        """The task's ID and its whole file as text (``task edit --editor`` edits a copy and
        hands both back to :meth:`replace_task_text`)."""
        from agentctl.store.reading import read_record

        task_id = self.resolve_task(ref)
        path = self.layout.task(task_id)
        return task_id, read_record(path, self.layout.relative(path))

    def replace_task_text(
        self, actor: Actor, task_id: str, original: str, edited: str
    ) -> dict[str, Any]:
        """Apply a whole-file edit (``task edit --editor``) if the file did not change meanwhile."""
        from agentctl.core.checks import priority_value
        from agentctl.store.frontmatter import Document, load_fast
        from agentctl.store.reading import read_record

        check_text(edited, "task file")
        with self._mutate(actor) as m:
            current = self._task_row(task_id)
            self._own_or(actor, current, "move_any", f"edit {task_id}, which is not assigned to it")
            path = self.layout.task(task_id)
            rel = self.layout.relative(path)
            if read_record(path, rel) != original:
                raise ConflictError(
                    f"{rel} changed while you were editing; your edit was not applied"
                )
            if edited == original:
                raise UsageError("no changes made")
            fields, _ = load_fast(edited, rel)
            from agentctl.store.index import plain_value

            data = plain_value(fields)
            if data.get("id") != task_id:
                raise ValidationError(f"the id must stay {task_id}", rel)
            if data.get("status") != current["status"]:
                raise UsageError("change the status with 'agentctl task move', not in the editor")
            validate_model("Task", data, rel)
            check_line(str(data.get("title", "")), "title")
            check_lines([str(label) for label in data.get("labels") or []], "label")
            check_gate_escape(
                actor,
                self.workflow,
                current,
                {**data, "priority": priority_value(data.get("priority", 2))},
            )
            doc = Document.parse(edited, rel)
            doc.set("updated_at", timestamp())
            m.write(path, doc.dumps())
            changed = sorted(
                k
                for k in set(data) | set(current)
                if data.get(k) != current.get(k) and k != "updated_at"
            )
            change: ev.TaskEdited = {"title": data.get("title"), "fields": changed}
            m.record("task.edited", task_id, change)
            returned: dict[str, Any] = data
        return returned

    def move_task(
        self,
        actor: Actor,
        ref: str,
        status: str,
        note: str | None = None,
        epoch: int | None = None,
    ) -> dict[str, Any]:
        """Move a task to another status along the workflow's transitions, checked against the
        actor's permissions, the human gates and the claim's fencing epoch (``epoch``: the
        one the actor presents; default: the one its own claim events hold); ``note`` is
        appended to its Notes."""
        check_text(note or "", "note")
        return self._move_task(actor, ref, status, note, epoch=epoch)

    def _move_task(
        self,
        actor: Actor,
        ref: str,
        status: str,
        note: str | None = None,
        expect: str | None = None,
        also: Callable[[Mutation, TaskRecord], ev.MoveVerdict] | None = None,
        epoch: int | None = None,
    ) -> dict[str, Any]:
        """The one status change: ``expect`` refuses unless the task is in that status now;
        ``also`` stages more writes on the same mutation and returns data for its event."""
        from agentctl.core import body as taskbody

        with self._recording_refusals(actor), self._mutate(actor) as m:
            task_id = self.resolve_task(ref)
            task = self._task_row(task_id)
            self._check_fence(actor, task, epoch)
            flow = self.workflow
            if status not in flow["statuses"]:  # a mistyped argument, not a conflict
                raise UsageError(
                    f"unknown status {status!r}; statuses are: {', '.join(flow['statuses'])}"
                )
            if expect is not None and task["status"] != expect:
                raise ConflictError(f"{task_id} is {task['status']}, not {expect}")
            check_transition(flow, task["status"], status)
            check_move_permission(actor, flow, task, status)
            changes: dict[str, Any] = {"status": status}
            if task.get("claim") and status not in (flow["in_progress"], flow["blocked"]):
                changes["claim"] = None  # the claim covers active work only
            body = None
            doc = self.load_task_doc(task_id)
            if note:
                line = f"- {timestamp()} {actor.name}: {task['status']} -> {status}: {note.strip()}"
                body = taskbody.append_to_section(doc.body, taskbody.NOTES, line)
            merged = self._stage_task(m, task_id, changes, body, doc)
            data: ev.TaskMoved = {"title": task["title"], "from": task["status"], "to": status}
            if note:
                data["note"] = note.strip()
            if also is not None:
                verdict = also(m, task)
                if "via" in verdict:
                    data["via"] = verdict["via"]
                if "message" in verdict:
                    data["message"] = verdict["message"]
            m.record("task.moved", task_id, data, task["assignees"])
            returned = merged
        return returned

    def assign(self, actor: Actor, ref: str, agents: list[str]) -> dict[str, Any]:
        """Add assignees to a task (an inbox task becomes assigned) and notify them; assigning
        others needs ``assign_others``."""
        with self._recording_refusals(actor), self._mutate(actor) as m:
            task_id = self.resolve_task(ref)
            task = self._task_row(task_id)
            wanted = self._known_agents(agents)
            if any(a != actor.name for a in wanted):
                actor.require("assign_others", "assign tasks to other agents")
            added = [a for a in wanted if a not in task["assignees"]]
            if not added:
                raise ConflictError(f"{task_id} is already assigned to {', '.join(wanted)}")
            if actor.name in added:
                check_assign_self(actor, task)
            changes: dict[str, Any] = {"assignees": [*task["assignees"], *added]}
            flow = self.workflow
            if task["status"] == flow["initial"] and flow["assigned"] in flow["transitions"].get(
                task["status"], []
            ):
                changes["status"] = flow["assigned"]
                check_gates(actor, flow, task, flow["assigned"])
            merged = self._stage_task(m, task_id, changes)
            assigned: ev.TaskAssigned = {"title": task["title"], "added": added}
            m.record("task.assigned", task_id, assigned, added)
            returned = merged
        return returned

    def unassign(self, actor: Actor, ref: str, agents: list[str]) -> dict[str, Any]:
        """Remove assignees from a task (an assigned task left with none returns to the inbox)."""
        with self._recording_refusals(actor), self._mutate(actor) as m:
            task_id = self.resolve_task(ref)
            task = self._task_row(task_id)
            removed = [a for a in _unique(agents) if a in task["assignees"]]
            if not removed:
                raise ConflictError(f"{task_id} is not assigned to {', '.join(agents)}")
            if any(a != actor.name for a in removed):
                actor.require("assign_others", "unassign other agents")
            remaining = [a for a in task["assignees"] if a not in removed]
            changes: dict[str, Any] = {"assignees": remaining}
            claim = task.get("claim")
            if claim and claim.get("claimed_by") in removed:
                changes["claim"] = None
            flow = self.workflow
            if not remaining and task["status"] == flow["assigned"]:
                changes["status"] = flow["initial"]
                check_gates(actor, flow, task, flow["initial"])
            merged = self._stage_task(m, task_id, changes)
            unassigned: ev.TaskUnassigned = {"title": task["title"], "removed": removed}
            m.record("task.unassigned", task_id, unassigned, removed)
            returned = merged
        return returned

    def claim(self, actor: Actor, ref: str | None = None) -> dict[str, Any]:
        """Atomically take a task: assign the actor, move it in progress, hold a leased claim."""
        from agentctl.core.duration import parse_duration

        with self._recording_refusals(actor), self._mutate(actor) as m:
            flow = self.workflow
            if ref is None:
                candidates = [
                    t
                    for t in self.index.ready(flow["ready"], flow["done"])
                    if not t["assignees"] or actor.name in t["assignees"]
                ]
                if not candidates:
                    raise NotFoundError(f"no ready task for {actor.name} to claim")
                mine = [t for t in candidates if actor.name in t["assignees"]]
                task_id = (mine or candidates)[0]["id"]
            else:
                task_id = self.resolve_task(ref)
            task = self._task_row(task_id)
            claim = task.get("claim")
            moment = now()
            if (
                claim
                and claim.get("claimed_by") != actor.name
                and str(claim.get("lease_expires")) > timestamp(moment)
            ):
                raise ConflictError(
                    f"{task_id} is claimed by {claim['claimed_by']} until {claim['lease_expires']}"
                )
            others = [a for a in task["assignees"] if a != actor.name]
            if others and actor.is_agent and actor.name not in task["assignees"]:
                actor.require(
                    "assign_others", f"claim {task_id}, which is assigned to {', '.join(others)}"
                )
            status = task["status"]
            if status != flow["in_progress"]:
                reasons = graph.explain_ready(self._readiness_map(task), task, flow)
                if reasons:
                    raise ConflictError(f"{task_id} is not ready: {'; '.join(reasons)}")
                check_transition(flow, status, flow["in_progress"])
                check_gates(actor, flow, task, flow["in_progress"])
            lease = timedelta(seconds=parse_duration(self.config["tasks"]["claim_lease"]))
            epoch = int(claim["epoch"]) + 1 if claim else 1
            assignees = (
                task["assignees"]
                if actor.name in task["assignees"]
                else [*task["assignees"], actor.name]
            )
            changes = {
                "status": flow["in_progress"],
                "assignees": assignees if _is_name(actor.name) else task["assignees"],
                "claim": {
                    "claimed_by": actor.name,
                    "epoch": epoch,
                    "lease_expires": timestamp(moment + lease),
                },
            }
            merged = self._stage_task(m, task_id, changes)
            claimed: ev.TaskClaimed = {"title": task["title"], "epoch": epoch, "from": status}
            m.record("task.claimed", task_id, claimed, others)
            returned = merged
        return returned

    def release(self, actor: Actor, ref: str, epoch: int | None = None) -> dict[str, Any]:
        """Give a task back: drop the claim and the releaser's assignment; back to the pool.
        A stale claimant (see :meth:`move_task`) is refused."""
        with self._recording_refusals(actor), self._mutate(actor) as m:
            task_id = self.resolve_task(ref)
            task = self._task_row(task_id)
            self._check_fence(actor, task, epoch)
            claim = task.get("claim")
            holder = claim.get("claimed_by") if claim else None
            if holder != actor.name and actor.name not in task["assignees"]:
                if not claim:
                    raise ConflictError(f"{task_id} is not claimed")
                actor.require("assign_others", f"release {task_id}, claimed by {holder}")
            flow = self.workflow
            released = holder or actor.name
            remaining = [a for a in task["assignees"] if a != released]
            changes: dict[str, Any] = {"claim": None, "assignees": remaining}
            if task["status"] == flow["in_progress"]:
                # Releasing undoes a claim: the task goes back to the pool (documented in
                # docs/decisions.md) even where the workflow has no in_progress -> inbox move.
                changes["status"] = flow["assigned"] if remaining else flow["initial"]
                check_gates(actor, flow, task, changes["status"])
            merged = self._stage_task(m, task_id, changes)
            gone: ev.TaskReleased = {"title": task["title"], "released": released}
            m.record("task.released", task_id, gone, remaining)
            returned = merged
        return returned

    def add_dependency(self, actor: Actor, ref: str, dep_ref: str) -> dict[str, Any]:
        """Make a task depend on another; refused (naming the cycle) when that would close a
        dependency loop."""
        with self._mutate(actor) as m:
            task_id = self.resolve_task(ref)
            dep_id = self.resolve_task(dep_ref)
            task = self._task_row(task_id)
            self._own_or(actor, task, "move_any", f"change dependencies of {task_id}")
            if dep_id in task["depends_on"]:
                raise ConflictError(f"{task_id} already depends on {dep_id}")
            cycle = graph.cycle_if_added(self.index.graph(), task_id, dep_id)
            if cycle:
                raise ConflictError(
                    f"refused: that would make a dependency cycle {' -> '.join(cycle)}"
                )
            merged = self._stage_task(m, task_id, {"depends_on": [*task["depends_on"], dep_id]})
            dependency: ev.TaskDependency = {"title": task["title"], "dependency": dep_id}
            m.record("task.dep_added", task_id, dependency)
            returned = merged
        return returned

    def remove_dependency(self, actor: Actor, ref: str, dep_ref: str) -> dict[str, Any]:
        """Remove a dependency from a task."""
        with self._mutate(actor) as m:
            task_id = self.resolve_task(ref)
            task = self._task_row(task_id)
            self._own_or(actor, task, "move_any", f"change dependencies of {task_id}")
            wanted = ids.normalize_ref(ids.TASK, dep_ref)
            matches = [d for d in task["depends_on"] if d.startswith(wanted)]
            if len(matches) != 1:
                raise NotFoundError(f"{task_id} does not depend on {dep_ref}")
            merged = self._stage_task(
                m, task_id, {"depends_on": [d for d in task["depends_on"] if d != matches[0]]}
            )
            dependency: ev.TaskDependency = {"title": task["title"], "dependency": matches[0]}
            m.record("task.dep_removed", task_id, dependency)
            returned = merged
        return returned

    def remove_task(self, actor: Actor, ref: str, force: bool = False) -> TaskRecord:
        """Delete a task file. The event keeps its fields; git keeps the file's history."""
        actor.require("remove_tasks", "remove tasks")
        with self._mutate(actor) as m:
            task_id = self.resolve_task(ref)
            task = self._task_row(task_id)
            dependents = self.index.dependents(task_id)
            children = self.index.children(task_id)
            if (dependents or children) and not force:
                parts = []
                if dependents:
                    parts.append(f"{', '.join(dependents)} depend on it")
                if children:
                    parts.append(f"{', '.join(children)} are its subtasks")
                raise ConflictError(
                    f"refused: {'; '.join(parts)} (use --force to remove the references too)"
                )
            for other in dependents:
                row = self._task_row(other)
                self._stage_task(
                    m, other, {"depends_on": [d for d in row["depends_on"] if d != task_id]}
                )
            for child in children:
                self._stage_task(m, child, {"parent": None})
            m.delete(self.layout.task(task_id))
            removed: ev.TaskRemoved = {
                "title": task["title"],
                "task": cast("dict[str, Any]", task),  # the payload holds the row as it was
                "updated": dependents + children,
            }
            m.record("task.removed", task_id, removed)
            returned = task
        return returned


def _check_title(title: str) -> None:
    from agentctl.core.checks import TITLE_RE

    if not title.strip():
        raise UsageError("a task needs a title")
    if not TITLE_RE.match(title):
        raise UsageError("a task title must be a single line (put details in --description)")
    if len(title.strip()) > 500:
        raise UsageError(
            "a task title can be at most 500 characters (put details in --description)"
        )
    check_line(title, "title")


def _unique(values: list[str]) -> list[str]:
    result: list[str] = []
    for value in values:
        if value not in result:
            result.append(value)
    return result


def _is_name(value: str) -> bool:
    from agentctl.paths import NAME_RE

    return bool(NAME_RE.match(value))


def _parents(rows: dict[str, str | None]) -> dict[str, dict[str, Any]]:
    """Parent links shaped like a dependency graph, for loop detection."""
    return {task_id: {"depends_on": [parent] if parent else []} for task_id, parent in rows.items()}
