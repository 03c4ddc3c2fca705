"""agentctl's own JSON Lines: ``export jsonl`` writes every task's frontmatter and body and its
thread's messages; ``import jsonl`` writes them back as they were (same IDs, same fields), as
one mutation. A record that cannot be written as it is (invalid fields, a duplicate ID, a
dependency or parent that is neither in the file nor in the workspace, a dependency cycle) is
skipped and named in the report; the rest is imported.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentctl.core.rules import Actor
from agentctl.errors import AgentctlError, PermissionDeniedError, UsageError
from agentctl.workspace.interchange import REPORT_VERSION, InterchangeOps
from agentctl.workspace.tasks import TASK_ORDER, validate_model

if TYPE_CHECKING:
    from agentctl.core import events as ev
    from agentctl.store.interchange_export import Exported


class _Nothing(Exception):
    """Leave the mutation without writing."""


class JsonlOps(InterchangeOps):
    # -- export ----------------------------------------------------------------------------------

    def export_tasks(
        self, fmt: str, include_done: bool = False, output: Path | None = None
    ) -> tuple[str, int]:
        """The workspace's tasks (open ones, or all with ``include_done``) in ``fmt`` (jsonl,
        taskwarrior, github-csv); returns the text and the number of tasks. ``output``: also
        write the text to that file (replaced atomically)."""
        if output is not None and not output.parent.resolve().is_dir():
            raise UsageError(f"--output {output}: no such folder {output.parent}")
        from agentctl.store import interchange_export as ix
        from agentctl.store.frontmatter import load_fast
        from agentctl.store.reading import read_record

        renderers = {"jsonl": ix.jsonl, "taskwarrior": ix.taskwarrior, "github-csv": ix.github_csv}
        if fmt not in renderers:
            raise UsageError(f"unknown format {fmt!r}; formats are: {', '.join(ix.FORMATS)}")
        self.refresh()
        flow = self.workflow
        done = set(flow["done"])
        rows = self.index.tasks(order="id")
        exported: list[Exported] = []
        for row in rows:
            if row["status"] in done and not include_done:
                continue
            path = self.layout.task(row["id"])
            rel = self.layout.relative(path)
            fields, body = load_fast(read_record(path, rel), rel)
            messages = []
            if fmt != "github-csv":
                self.index.refresh_threads(row["id"])
                for message in self.index.thread(row["id"]):
                    mpath = self.root / message["path"]
                    mfields, mbody = load_fast(read_record(mpath, message["path"]), message["path"])
                    messages.append((mpath.name, mfields, mbody))
            category = (
                "done" if row["status"] in done
                else "in_progress" if row["status"] == flow["in_progress"]
                else "blocked" if row["status"] == flow["blocked"] else "todo"
            )  # fmt: skip
            exported.append(ix.Exported(fields, body, messages, category))
        text = renderers[fmt](exported)
        if output is not None:
            from agentctl.store import atomic

            atomic.write_text(output, text)
        return text, len(exported)

    # -- import ----------------------------------------------------------------------------------

    def import_jsonl(
        self, actor: Actor, data: bytes, name: str, dry_run: bool = False
    ) -> dict[str, Any]:
        """Write the tasks and messages of an ``export jsonl`` file as they were: new ones are
        created, changed ones overwritten, identical ones left alone; one mutation."""
        from agentctl.store import interchange as ic

        actor.require("create_tasks", "import jsonl (create tasks)")
        text = ic.decode(data, name)
        tasks: list[tuple[str, dict[str, Any], str]] = []
        messages: list[tuple[str, str, dict[str, Any], str]] = []
        skipped: list[dict[str, Any]] = []
        records = 0
        for line, value in ic.jsonl_lines(text, name):
            where = f"{name}:{line}"
            kind = value.get("kind") if isinstance(value, dict) else None
            if kind == "agentctl-export":
                if value.get("schema_version") != 1:
                    raise UsageError(
                        f"{where}: schema_version {value.get('schema_version')!r} is not 1; nothing was imported"
                    )
                continue
            records += 1
            problem = _shape(value)
            if problem:
                skipped.append({"where": where, "ref": _ref(value), "reason": problem})
            elif kind == "task":
                tasks.append((where, value["fields"], value["body"]))
            else:
                messages.append((where, value["file"], value["fields"], value["body"]))
        if records and not tasks and not messages:
            first = skipped[0]
            raise UsageError(
                f"{first['where']}: {first['reason']}; none of the {records} records could be imported, nothing was imported"
            )
        result: dict[str, Any] = {}
        try:
            if dry_run:
                self.refresh()
                result = self._plan_jsonl(tasks, messages, skipped)
            else:
                with self._mutate(actor) as m:
                    result = self._plan_jsonl(tasks, messages, skipped)
                    if result["update"] and actor.is_agent and not actor.can("move_any"):
                        raise PermissionDeniedError(
                            f"{actor.name} ({actor.level}) may not overwrite existing tasks "
                            f"({len(result['update'])} differ from the file)",
                            hint="a lead or a human can import this file",
                        )
                    if not (result["create"] or result["update"] or result["new_messages"]):
                        raise _Nothing
                    self._write_jsonl(m, result, name)
        except _Nothing:
            pass
        committed = bool(
            not dry_run and (result["create"] or result["update"] or result["new_messages"])
            and self.repo is not None and self.config["git"]["autocommit"]
        )  # fmt: skip
        return {
            "report_version": REPORT_VERSION,
            "format": "jsonl",
            "input": name,
            "dry_run": dry_run,
            "committed": committed,
            "records": records,
            "created": len(result["create"]),
            "updated": len(result["update"]),
            "unchanged": result["unchanged"],
            "messages": len(result["new_messages"]),
            "tasks": [
                {"id": f["id"], "title": f["title"], "action": action, "where": where}
                for action in ("create", "update")
                for where, f, _ in result[action]
            ],  # fmt: skip
            "skipped": skipped,
        }

    def _plan_jsonl(
        self,
        tasks: list[tuple[str, dict[str, Any], str]],
        messages: list[tuple[str, str, dict[str, Any], str]],
        skipped: list[dict[str, Any]],
    ) -> dict[str, Any]:
        from agentctl.core import graph
        from agentctl.store.frontmatter import load_fast
        from agentctl.store.reading import read_record

        wanted: dict[str, tuple[str, dict[str, Any], str]] = {}
        for where, fields, body in tasks:
            task_id = fields["id"]
            try:
                validate_model("Task", fields, where)
                self.layout.task(task_id)
            except AgentctlError as exc:
                skipped.append({"where": where, "ref": task_id, "reason": _reason(exc)})
                continue
            if task_id in wanted:
                skipped.append({"where": where, "ref": task_id,
                                "reason": f"duplicate ID {task_id} (first at {wanted[task_id][0]})"})  # fmt: skip
                continue
            wanted[task_id] = (where, fields, body)
        known = {row["id"]: row for row in self.index.tasks(order="id")}
        while True:  # drop records whose references are gone, until none is
            missing = {
                task_id: ref
                for task_id, (_, fields, _) in wanted.items()
                for ref in [*fields.get("depends_on", []), *([fields["parent"]] if fields.get("parent") else [])]
                if ref not in wanted and ref not in known
            }  # fmt: skip
            if not missing:
                break
            for task_id, ref in missing.items():
                where = wanted.pop(task_id)[0]
                skipped.append({"where": where, "ref": task_id,
                                "reason": f"{ref} is neither in the file nor in the workspace"})  # fmt: skip
        tasks_graph: dict[str, Any] = {
            tid: {"depends_on": row["depends_on"]} for tid, row in known.items()
        }
        tasks_graph.update(
            {tid: {"depends_on": f.get("depends_on", [])} for tid, (_, f, _) in wanted.items()}
        )
        for tangle in graph.tangles({tid: t["depends_on"] for tid, t in tasks_graph.items()}):
            names = sorted(tangle)
            for task_id in names:
                if task_id in wanted:
                    skipped.append({"where": wanted.pop(task_id)[0], "ref": task_id,
                                    "reason": f"on a dependency cycle: {' -> '.join(names)}"})  # fmt: skip
        plan: dict[str, Any] = {"create": [], "update": [], "unchanged": 0, "new_messages": []}
        for task_id, (where, fields, body) in wanted.items():
            if task_id not in known:
                plan["create"].append((where, fields, body))
                continue
            path = self.layout.task(task_id)
            rel = self.layout.relative(path)
            current = load_fast(read_record(path, rel), rel)
            if current == (fields, body):
                plan["unchanged"] += 1
            else:
                plan["update"].append((where, fields, body))
        threads: dict[str, set[str]] = {}
        for where, file, fields, body in messages:
            task_id = fields.get("task")
            try:
                from agentctl.core import checks

                checks.check_message(dict(fields), task_id, where)
                path = self.layout.message(str(task_id), file)
            except AgentctlError as exc:
                skipped.append({"where": where, "ref": fields.get("id"), "reason": _reason(exc)})
                continue
            if task_id not in wanted and task_id not in known:
                skipped.append(
                    {
                        "where": where,
                        "ref": fields["id"],
                        "reason": f"its task {task_id} is not imported",
                    }
                )
                continue
            if task_id not in threads:
                self.index.refresh_threads(task_id)
                threads[task_id] = {row["id"] for row in self.index.thread(task_id)}
            if fields["id"] in threads[task_id] or path.exists():
                continue
            threads[task_id].add(fields["id"])
            plan["new_messages"].append((path, fields, body))
        return plan

    def _write_jsonl(self, m: Any, plan: dict[str, Any], name: str) -> None:
        from agentctl.store.frontmatter import dump_new

        m.batch_subject = (
            f"import jsonl {name}: {len(plan['create'])} created, {len(plan['update'])} updated"
            + (f", {len(plan['new_messages'])} message(s)" if plan["new_messages"] else "")
        )
        for _, fields, body in plan["create"]:
            ordered = _ordered(fields)
            path = self.layout.task(fields["id"])
            m.create(path, dump_new(ordered, body), (ordered, body))
            created: ev.TaskCreated = {"title": fields["title"], "status": fields["status"],
                                       "source": fields.get("source")}  # fmt: skip
            m.record_more("task.created", fields["id"], created)
        for _, fields, body in plan["update"]:
            m.write(self.layout.task(fields["id"]), dump_new(_ordered(fields), body))
            edited: ev.TaskEdited = {"title": fields["title"], "fields": sorted(fields)}
            m.record_more("task.edited", fields["id"], edited)
        for path, fields, body in plan["new_messages"]:
            m.create(path, dump_new(fields, body))
        if m.event is None:  # only messages: one event names the import
            from agentctl.core import mentions

            path, fields, body = plan["new_messages"][0]
            added: ev.MessageAdded = {"title": "", "message": fields["id"], "kind": fields.get("kind", "comment"),
                                      "mentions": [], "excerpt": mentions.excerpt(body)}  # fmt: skip
            m.record_more("message.added", fields["task"], added)


def _ordered(fields: dict[str, Any]) -> dict[str, Any]:
    order = {key: n for n, key in enumerate(TASK_ORDER)}
    return dict(sorted(fields.items(), key=lambda kv: order.get(kv[0], len(order))))


def _shape(value: Any) -> str | None:
    if not isinstance(value, dict):
        return (
            f"a record must be a JSON object, not {type(value).__name__}"
            if not isinstance(value, Exception)
            else str(value)
        )
    kind = value.get("kind")
    if kind not in ("task", "message"):
        return f"unknown kind {kind!r} (task or message)"
    if not isinstance(value.get("fields"), dict) or not isinstance(
        value.get("fields", {}).get("id"), str
    ):
        return "no fields (with an id)"
    if not isinstance(value.get("body"), str):
        return "no body"
    if kind == "message" and not isinstance(value.get("file"), str):
        return "a message needs its file name"
    return None


def _ref(value: Any) -> str | None:
    fields = value.get("fields") if isinstance(value, dict) else None
    ref = fields.get("id") if isinstance(fields, dict) else None
    return ref if isinstance(ref, str) else None


def _reason(exc: AgentctlError) -> str:
    problem = getattr(exc, "problem", None)
    return str(problem or exc.message)
