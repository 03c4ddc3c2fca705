"""Importing other trackers' exports (Backlog.md, Taskwarrior, beads, GitHub issues) and
agentctl's own JSON Lines, and exporting tasks to JSONL, Taskwarrior and a GitHub CSV.

An import of another tracker goes through the roadmap import's apply path
(:meth:`PlanningOps.apply_plan`): one mutation, one commit, tasks keyed by ``source`` =
``<format>:<the source's ID>`` so a re-import updates instead of duplicating. Comments and
annotations become messages on the task's thread, in the same mutation. The mappings are in
docs/integrations.md ("Import and export").
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentctl.core import clock, ids
from agentctl.core.rules import Actor
from agentctl.errors import UsageError
from agentctl.workspace.base import Mutation, pausing_gc
from agentctl.workspace.planning import PlanningOps

if TYPE_CHECKING:
    from agentctl.core import events as ev
    from agentctl.store.interchange import ImportPlan
    from agentctl.store.roadmap_plan import Plan
    from agentctl.workspace.planning import _Entry

REPORT_VERSION = 1


class InterchangeOps(PlanningOps):
    @staticmethod
    def import_max_bytes() -> int:
        from agentctl.store.interchange import MAX_BYTES

        return MAX_BYTES

    @pausing_gc
    def import_external(
        self,
        actor: Actor,
        fmt: str,
        data: bytes | Path,
        name: str,
        dry_run: bool = False,
        label: str | None = None,
    ) -> dict[str, Any]:
        """Import another tracker's export (``fmt``: backlog, taskwarrior, beads, github) as
        tasks in one mutation, or, ``dry_run``, only say what would happen; returns the report.
        ``data`` is the file's bytes (a directory for backlog). Input nothing can be read from
        raises UsageError before anything is written."""
        from agentctl.store import interchange as ic
        from agentctl.store import interchange_backlog, interchange_sources

        actor.require("create_tasks", f"import {fmt} (create tasks)")
        if fmt == "backlog":
            if not isinstance(data, Path):
                raise UsageError("import backlog reads a folder")
            plan = interchange_backlog.read(data, name)
        else:
            if isinstance(data, Path):
                raise UsageError(f"import {fmt} reads a file")
            text = ic.decode(data, name)
            readers = {"taskwarrior": interchange_sources.taskwarrior,
                       "beads": interchange_sources.beads, "github": interchange_sources.github}  # fmt: skip
            if fmt not in readers:
                raise UsageError(f"unknown format {fmt!r}; formats are: {', '.join(ic.FORMATS)}")
            plan = readers[fmt](text, name)
        items = list(plan.externals())
        if plan.records and not items:
            first = plan.skipped[0]
            raise UsageError(
                f"{first.where}: {first.reason}; none of the {plan.records} records could be "
                "imported, nothing was imported"
            )
        report = self.apply_plan(
            actor, plan, dry_run=dry_run, label=label, what=f"import {fmt} {name}"
        )
        return _report(plan, report, name)

    # -- messages ride along with the roadmap apply path ----------------------------------------

    def _plan_import(
        self, actor: Actor, plan: Plan, parent: str | None, label: str | None, dry_run: bool
    ) -> tuple[list[_Entry], list[str], list[dict[str, Any]]]:
        from agentctl.store.interchange import ExternalItem

        entries, notes, vanished = super()._plan_import(actor, plan, parent, label, dry_run)
        for entry in entries:
            item = entry.item
            if not isinstance(item, ExternalItem) or not item.notes:
                continue
            if entry.action == "create":
                item.new_notes = list(item.notes)
                continue
            self.index.refresh_threads(entry.task_id)
            bodies = {row["body"].strip("\n") for row in self.index.thread(entry.task_id)}
            item.new_notes = [note for note in item.notes if note.text not in bodies]
            if item.new_notes and entry.action == "unchanged":
                entry.action, entry.changed, entry.fields = "update", ["thread"], {}
                item.thread_only = True
        return entries, notes, vanished

    def _apply_import(self, m: Mutation, source: str, entries: list[_Entry], what: str) -> None:
        from agentctl.store.interchange import ExternalItem

        external = [e for e in entries if isinstance(e.item, ExternalItem)]
        if not external:
            super()._apply_import(m, source, entries, what)
            return
        super()._apply_import(
            m, source, [e for e in entries if not getattr(e.item, "thread_only", False)], what
        )
        updated = sum(1 for e in entries if e.action == "update")
        created = sum(1 for e in entries if e.action == "create")
        count = 0
        for entry in external:
            item = entry.item
            assert isinstance(item, ExternalItem)
            for note in item.new_notes:
                self._stage_note(m, entry.task_id, entry.fields.get("title") or item.title, note)
                count += 1
        m.batch_subject = f"{what}: {created} created, {updated} updated" + (
            f", {count} {'message' if count == 1 else 'messages'}" if count else ""
        )

    def _stage_note(self, m: Mutation, task_id: str, title: str, note: Any) -> None:
        from agentctl.core import mentions
        from agentctl.store.frontmatter import dump_new

        moment = clock.as_utc(note.created_at) if note.created_at is not None else clock.now()
        message_id = ids.new_id(ids.MESSAGE)
        author = (note.author or m.actor.name)[:128]
        fields: dict[str, Any] = {
            "id": message_id,
            "task": task_id,
            "author": author,
            "created_at": clock.stamp_ms(moment),
            "kind": "comment",
            "mentions": [],
        }
        path = self.layout.message(task_id, f"{clock.compact(moment)}-{message_id}.md")
        m.create(path, dump_new(fields, note.text + "\n"))
        added: ev.MessageAdded = {
            "title": title,
            "message": message_id,
            "kind": "comment",
            "mentions": [],
            "excerpt": mentions.excerpt(note.text),
        }
        m.record_more("message.added", task_id, added)


def _report(plan: ImportPlan, report: dict[str, Any], name: str) -> dict[str, Any]:
    """The roadmap report, plus where each record came from, what was skipped and why, and
    how the source's statuses were mapped."""
    by_ref = {item.ref: item for item in plan.externals()}
    stack = list(report["tasks"])
    while stack:
        node = stack.pop()
        item = by_ref.get(node["key"])
        node["ref"] = node["key"]
        node["where"] = item.where if item is not None else None
        node["messages"] = len(item.notes) if item is not None else 0
        node["new_messages"] = len(getattr(item, "new_notes", [])) if item is not None else 0
        stack.extend(node["children"])
    for entry in report["unresolved"] + report["cycles"]:
        item = by_ref.get(entry["task"])
        entry["where"] = item.where if item is not None else None
    messages = sum(len(getattr(item, "new_notes", [])) for item in by_ref.values())
    prefixes = {f"line {item.line}: {item.label}: ": f"{item.where}: " for item in by_ref.values()}
    notes = []
    for note in report["notes"]:  # the roadmap's "line N: label: ..." as "file:line: ..."
        head = note.split(": ", 2)
        key = f"{head[0]}: {head[1]}: " if len(head) == 3 else ""
        notes.append(prefixes[key] + f"{head[1]}: {head[2]}" if key in prefixes else note)
    report["notes"] = notes
    return {
        **report,
        "report_version": REPORT_VERSION,
        "format": plan.fmt,
        "input": name,
        "records": plan.records,
        "imported": len(by_ref),
        "messages": messages,
        "mapping": dict(sorted(plan.mapping.items())),
        "skipped": [{"where": s.where, "ref": s.ref, "reason": s.reason} for s in plan.skipped],
    }
