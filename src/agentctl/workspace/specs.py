"""Specs: ``.agentctl/specs/<id>.md``, an idea written out as requirements, then planned into
tasks and checked for drift (docs/specs.md).

Spec files are few and read directly (no index table): listing a hundred specs reads a
hundred small files. Every change is one mutation (``spec.*`` events); planning is
:meth:`PlanningOps.apply_plan` (one mutation for all the tasks); the model calls of
``expand`` run before the lock is taken, and nothing is written unless the answer matches
the expansion schema.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentctl.core import ids
from agentctl.core.fields import TITLE_RE
from agentctl.core.rules import Actor
from agentctl.core.text import check_line, check_text
from agentctl.errors import (
    NotFoundError,
    PermissionDeniedError,
    UsageError,
    ValidationError,
)
from agentctl.paths import Layout
from agentctl.store.index import Problem
from agentctl.workspace.base import timestamp
from agentctl.workspace.planning import PlanningOps

if TYPE_CHECKING:
    from agentctl.core import events as ev
    from agentctl.core import spec as specs
    from agentctl.store.roadmap_plan import Item, Plan

SPEC_ORDER = ["id", "title", "status", "author", "created_at", "updated_at"]
MAX_PROBLEMS_IN_EVENT = 20


def _check_title(title: str) -> str:
    title = check_line(title, "title").strip()
    if not title or len(title) > 500 or not TITLE_RE.match(title):
        raise UsageError("a spec title must be one line of 1-500 characters")
    return title


def _check_body(body: str) -> str:
    from agentctl.core import spec as specs

    check_text(body, "spec")
    if len(body) > specs.MAX_BODY_CHARS:
        raise UsageError(
            f"refused: the spec is {len(body)} characters long (at most {specs.MAX_BODY_CHARS})"
        )
    if body.startswith("---\n"):  # a file with its own front matter: keep only the text
        end = body.find("\n---\n", 4)
        if end >= 0:
            body = body[end + 5 :]
    return body if body.endswith("\n") or not body else body + "\n"


class SpecOps(PlanningOps):
    # -- reading ---------------------------------------------------------------------------

    def _spec_files(self) -> list[Path]:
        return spec_files(self.layout)

    def _load_spec(self, path: Path) -> tuple[dict[str, Any], str]:
        return load_spec(self.layout, path)

    def _all_specs(self) -> list[tuple[dict[str, Any], str]]:
        """Every valid spec; invalid files become warnings (``validate`` names them)."""
        found = []
        for path in self._spec_files():
            try:
                found.append(self._load_spec(path))
            except ValidationError as exc:
                warning = f"{exc} (skipped; run 'agentctl validate')"
                if warning not in self.warnings:
                    self.warnings.append(warning)
        return found

    def resolve_spec(self, ref: str) -> str:
        """The spec ID a reference (an ID or a unique prefix) names."""
        self.config  # noqa: B018 - a workspace with a broken config is refused first
        stems = sorted(p.name.removesuffix(".md") for p in self._spec_files())
        return ids.resolve(ids.SPEC, ref, [s for s in stems if ids.is_id(ids.SPEC, s)])

    def list_specs(self) -> list[dict[str, Any]]:
        """Every spec, oldest first, with its number of requirements."""
        from agentctl.core import spec as specs

        rows = []
        for data, body in self._all_specs():
            parsed = specs.parse(body)
            rows.append(
                {
                    **data,
                    "path": self.layout.relative(self.layout.spec(data["id"])),
                    "requirements": len(parsed.requirements),
                    "milestones": len(parsed.milestones),
                }
            )
        return sorted(rows, key=lambda r: (r["created_at"], r["id"]))

    def show_spec(self, ref: str) -> dict[str, Any]:
        """One spec: its front matter, body, requirements and milestones."""
        from agentctl.core import spec as specs

        spec_id = self.resolve_spec(ref)
        data, body = self._load_spec(self.layout.spec(spec_id))
        parsed = specs.parse(body)
        return {
            **data,
            "path": self.layout.relative(self.layout.spec(spec_id)),
            "body": body,
            "requirements": [_requirement(r) for r in parsed.requirements],
            "milestones": [
                {"id": m.id, "title": m.title, "requirements": list(m.requirements), "line": m.line}
                for m in parsed.milestones
            ],
            "problems": parsed.problems,
        }

    # -- writing ---------------------------------------------------------------------------

    def new_spec(self, actor: Actor, title: str, body: str | None = None) -> dict[str, Any]:
        """Create a spec from ``templates/spec.md`` (or from ``body``); one commit."""
        from agentctl.config import template_text
        from agentctl.store.frontmatter import dump_new

        actor.require("create_tasks", "write a spec")
        title = _check_title(title)
        text = (
            _check_body(body)
            if body is not None
            else template_text("spec.md").replace("{title}", title)
        )
        with self._mutate(actor) as m:
            spec_id = ids.new_id(ids.SPEC)
            now = timestamp()
            fields = {"id": spec_id, "title": title, "status": "draft", "author": actor.name,
                      "created_at": now, "updated_at": now}  # fmt: skip
            path = self.layout.spec(spec_id)
            self._validate_spec(fields, path)
            m.create(path, dump_new(fields, text))
            created: ev.SpecChange = {"title": title}
            m.record("spec.created", spec_id, created)
            returned = {**fields, "path": self.layout.relative(path)}
        return returned

    def edit_spec(
        self, actor: Actor, ref: str, body: str | None = None, title: str | None = None
    ) -> dict[str, Any]:
        """Replace a spec's text and/or title (planned tasks keep their hashes: ``spec check``
        reports the requirements edited since)."""
        if body is None and title is None:
            raise UsageError(
                "nothing to change: give new text (--file, stdin or --editor) or --title"
            )
        with self._mutate(actor) as m:
            spec_id = self.resolve_spec(ref)
            path = self.layout.spec(spec_id)
            data, current = self._load_spec(path)
            self._check_owner(actor, data["author"], "edit")
            changed = []
            if title is not None and _check_title(title) != data["title"]:
                data["title"] = _check_title(title)
                changed.append("title")
            text = current
            if body is not None and _check_body(body) != current:
                text = _check_body(body)
                changed.append("body")
            if not changed:
                raise UsageError(f"no change: {spec_id} already has that content")
            data["updated_at"] = timestamp()
            self._stage_spec(m, path, data, text)
            edited: ev.SpecChange = {"title": data["title"], "fields": changed}
            m.record("spec.edited", spec_id, edited)
            returned = {**data, "path": self.layout.relative(path)}
        return returned

    def remove_spec(self, actor: Actor, ref: str) -> dict[str, Any]:
        """Delete a spec (its history stays in git; tasks planned from it keep their links,
        which ``spec check`` and ``validate`` then report)."""
        with self._mutate(actor) as m:
            spec_id = self.resolve_spec(ref)
            path = self.layout.spec(spec_id)
            data, _ = self._load_spec(path)
            self._check_owner(actor, data["author"], "remove")
            m.delete(path)
            removed: ev.SpecChange = {"title": data["title"]}
            m.record("spec.removed", spec_id, removed)
            returned = {**data, "path": self.layout.relative(path)}
        return returned

    def _stage_spec(self, m: Any, path: Path, data: dict[str, Any], body: str) -> None:
        from agentctl.store.frontmatter import dump_new

        ordered = {key: data[key] for key in SPEC_ORDER if key in data}
        self._validate_spec(ordered, path)
        m.write(path, dump_new(ordered, body))

    def _validate_spec(self, fields: dict[str, Any], path: Path) -> None:
        from agentctl.core.checks import check_spec

        check_spec(dict(fields), path.name.removesuffix(".md"), self.layout.relative(path))

    @staticmethod
    def _check_owner(actor: Actor, author: str, doing: str) -> None:
        if actor.is_agent and actor.name != author and not actor.can("move_any"):
            raise PermissionDeniedError(
                f"{actor.name} ({actor.level}) may not {doing} a spec written by {author}",
                hint="its author, a lead or a human can",
            )

    # -- plan, status, check -----------------------------------------------------------------

    def _plannable(self, spec_id: str, body: str) -> specs.ParsedSpec:
        """The parsed spec, refused when it cannot be planned (no requirements, an anchor
        used twice)."""
        from agentctl.core import spec as specs

        parsed = specs.parse(body)
        duplicates = [p for p in parsed.problems if "is already used" in p]
        if duplicates:
            raise ValidationError(duplicates[0], self.layout.relative(self.layout.spec(spec_id)))
        if not parsed.requirements:
            raise UsageError(
                f"{spec_id} has no requirements to plan",
                hint="run 'agentctl spec expand' or write them as '- **R1**: ...' under ## Requirements",
            )
        return parsed

    def spec_plan(self, spec_id: str, title: str, body: str) -> Plan:
        """The plan of a spec: a task per requirement (under its milestone's task), keyed by
        the requirement's anchor, carrying ``spec: <id>#R<n>`` and the hash of its text."""
        from agentctl.core import spec as specs
        from agentctl.store.roadmap_plan import Criterion, Item

        parsed = self._plannable(spec_id, body)
        items: dict[str, Item] = {}
        for requirement in parsed.requirements:
            item = Item(_task_title(requirement.id, requirement.title), "task", requirement.line,
                        number=requirement.id, estimate=requirement.estimate,
                        labels=list(requirement.labels), explicit=True)  # fmt: skip
            item.description = [
                requirement.title,
                f"Requirement {requirement.id} of spec {spec_id} ({title}).",
            ]
            item.criteria = [
                Criterion(text) for text in parsed.acceptance if requirement.id in _refs(text)
            ]
            item.fields = {
                "spec": specs.link(spec_id, requirement.id),
                "spec_hash": requirement.hash,
            }
            items[requirement.id] = item  # fmt: skip
        for requirement in parsed.requirements:
            for dep in requirement.depends_on:
                if dep in items and dep != requirement.id:
                    items[requirement.id].deps.append(items[dep])
                    items[requirement.id].dep_refs.append((dep, requirement.line))
        plan = self._spec_tree(spec_id, title, parsed, {k: [v] for k, v in items.items()})
        plan.lines = body.count("\n") + 1
        return plan

    def _spec_tree(
        self,
        spec_id: str,
        title: str,
        parsed: specs.ParsedSpec,
        by_requirement: dict[str, list[Item]],
        keys: dict[int, str] | None = None,
    ) -> Plan:
        """The finished plan of a spec's tasks (``by_requirement``: each requirement's tasks,
        dependencies set): a task per milestone holding the tasks of the requirements it lists
        (a requirement's tasks go under the first milestone listing it), the rest at the top,
        in the spec's order. Milestones are keyed by their anchor, tasks by ``keys`` (item's
        ``id()`` -> key) or else their number."""
        from agentctl.core import spec as specs
        from agentctl.store.roadmap_plan import Item, Plan, finish

        plan = Plan(spec_id)
        placed: set[str] = set()
        top: list[Item] = []
        for milestone in parsed.milestones:
            item = Item(_task_title(milestone.id, milestone.title), "milestone", milestone.line,
                        number=milestone.id, labels=["milestone"], explicit=True)  # fmt: skip
            item.description = [f"Milestone {milestone.id} of spec {spec_id} ({title})."]
            item.fields = {"spec": specs.link(spec_id, milestone.id), "spec_hash": milestone.hash}
            for ref in milestone.requirements:
                if ref in by_requirement and ref not in placed:
                    item.children.extend(by_requirement[ref])
                    placed.add(ref)
            top.append(item)
        for requirement in parsed.requirements:
            if requirement.id not in placed:
                top.extend(by_requirement.get(requirement.id, []))
        plan.items = sorted(top, key=lambda i: i.line)
        finish(plan)
        for item in plan.walk():
            item.key = (keys or {}).get(id(item)) or item.number or item.key
        return plan

    def plan_spec(self, actor: Actor, ref: str, dry_run: bool = False) -> dict[str, Any]:
        """Tasks from a spec's requirements and milestones, as one mutation (``dry_run``: only
        the report). Re-planning updates the tasks it made, never duplicates them."""
        from agentctl.core import spec as specs

        spec_id = self.resolve_spec(ref)
        data, body = self._load_spec(self.layout.spec(spec_id))
        plan = self.spec_plan(spec_id, data["title"], body)
        report = self.apply_plan(actor, plan, dry_run=dry_run, what="plan spec")
        report["problems"] = [p for p in specs.parse(body).problems if "is already used" not in p]
        return report

    def _linked_tasks(self, spec_id: str | None = None) -> list[dict[str, Any]]:
        self.refresh()
        return self.index.tasks_with_spec(f"{spec_id}#" if spec_id else "")

    def spec_status(self, ref: str) -> dict[str, Any]:
        """Per requirement (and milestone), its tasks and their states; requirements without a
        task are flagged ``covered: false``."""
        from agentctl.core import spec as specs

        spec_id = self.resolve_spec(ref)
        data, body = self._load_spec(self.layout.spec(spec_id))
        parsed = specs.parse(body)
        done = set(self.workflow["done"])
        by_anchor: dict[str, list[dict[str, Any]]] = {}
        for task in self._linked_tasks(spec_id):
            split = specs.split_link(task["spec"])
            if split is not None:
                by_anchor.setdefault(split[1], []).append(
                    {
                        "id": task["id"],
                        "short_id": self.short_id(task["id"]),
                        "title": task["title"],
                        "status": task["status"],
                        "assignees": task["assignees"],
                    }  # fmt: skip
                )

        def row(anchor: str, text: str) -> dict[str, Any]:
            tasks = by_anchor.pop(anchor, [])
            return {"id": anchor, "text": text, "tasks": tasks, "covered": bool(tasks),
                    "done": bool(tasks) and all(t["status"] in done for t in tasks)}  # fmt: skip

        requirements = [row(r.id, r.title) for r in parsed.requirements]
        milestones = [row(m.id, m.title) for m in parsed.milestones]
        orphans = [
            {**t, "anchor": anchor} for anchor, tasks in sorted(by_anchor.items()) for t in tasks
        ]
        return {
            "id": spec_id, "title": data["title"], "status": data["status"],
            "requirements": requirements, "milestones": milestones, "orphans": orphans,
            "uncovered": [r["id"] for r in requirements if not r["covered"]],
            "done": sum(1 for r in requirements if r["done"]),
        }  # fmt: skip

    def check_specs(self, actor: Actor, ref: str | None = None) -> dict[str, Any]:
        """Drift between specs and their tasks: a requirement edited since its task was
        planned, a task whose requirement is gone, a ``spec:`` link naming no spec or anchor.
        The assignees and the spec's author are notified (one ``spec.drift`` event per spec,
        not repeated while the drift stays the same)."""
        from agentctl.core import spec as specs

        spec_id = self.resolve_spec(ref) if ref is not None else None
        known: dict[str, tuple[dict[str, Any], dict[str, str]]] = {}
        for data, body in self._all_specs():
            known[data["id"]] = (data, specs.parse(body).anchors())
        found: dict[str | None, dict[str, Any]] = {}
        for task in self._linked_tasks(spec_id):
            problem, subject = self._link_problem(task, known)
            if problem is None:
                continue
            entry = found.setdefault(subject, {"problems": [], "tasks": [], "assignees": set()})
            entry["problems"].append(problem)
            entry["tasks"].append(task["id"])
            entry["assignees"].update(task["assignees"])
        report = []
        for subject, entry in sorted(found.items(), key=lambda kv: kv[0] or ""):
            author = known[subject][0]["author"] if subject in known else None
            notify = sorted(entry["assignees"] | ({author} if author else set()))
            report.append({"spec": subject, "title": known[subject][0]["title"] if subject in known else None,
                           "problems": entry["problems"], "tasks": entry["tasks"], "notify": notify})  # fmt: skip
        notified = self._record_drift(actor, report)
        checked = [spec_id] if spec_id else sorted(known)
        return {"checked": checked, "drift": report, "notified": notified,
                "problems": sum(len(r["problems"]) for r in report)}  # fmt: skip

    def _link_problem(
        self, task: dict[str, Any], known: dict[str, tuple[dict[str, Any], dict[str, str]]]
    ) -> tuple[str | None, str | None]:
        """(the problem of a task's spec link, or None; the spec it concerns)."""
        from agentctl.core import spec as specs

        value = task["spec"]
        split = specs.split_link(value)
        short = f"{task['id']} ({task['title'][:50]})"
        if split is None:
            return f"{short}: spec link {value!r} is not <spec-id>#<anchor>", None
        spec_id, anchor = split
        if spec_id not in known:
            return f"{short}: links to spec {spec_id}, which does not exist", spec_id
        anchors = known[spec_id][1]
        if anchor not in anchors:
            return f"{short}: links to {anchor}, which {spec_id} no longer has", spec_id
        planned = self.load_task_doc(task["id"]).get("spec_hash")
        if planned is not None and planned != anchors[anchor]:
            return f"{short}: {anchor} was edited after the task was planned", spec_id
        return None, spec_id

    def _record_drift(self, actor: Actor, report: list[dict[str, Any]]) -> list[str]:
        """One ``spec.drift`` event per spec whose drift changed since the last one."""
        self.refresh()
        last: dict[str | None, list[str]] = {}
        for event in self.index.events(types=("spec.drift",), limit=500):
            problems = event["data"].get("problems")
            last[event.get("subject")] = list(problems) if isinstance(problems, list) else []
        fresh = [r for r in report if last.get(r["spec"]) != r["problems"][:MAX_PROBLEMS_IN_EVENT]]
        if not fresh:
            return []
        with self._mutate(actor) as m:
            m.batch_subject = f"spec check: drift in {len(fresh)} spec(s)"
            for entry in fresh:
                drift: ev.SpecDrift = {"title": entry["title"], "problems": entry["problems"][:MAX_PROBLEMS_IN_EVENT],
                                       "tasks": entry["tasks"][:MAX_PROBLEMS_IN_EVENT]}  # fmt: skip
                m.record_more("spec.drift", entry["spec"], drift, entry["notify"])
            events = m.events
        return sorted({name for event in events for name in event["notify"]})


def spec_files(layout: Layout) -> list[Path]:
    """The spec files (``*.md`` in .agentctl/specs/, symlinks left out: validate names them)."""
    directory = layout.specs
    if not directory.is_dir() or directory.is_symlink():
        return []
    return sorted(
        Path(entry.path)
        for entry in os.scandir(directory)
        if entry.name.endswith(".md") and not entry.is_symlink() and entry.is_file()
    )


def load_spec(layout: Layout, path: Path) -> tuple[dict[str, Any], str]:
    """A spec file's front matter (checked) and body; ValidationError naming the file."""
    from agentctl.core.checks import check_spec
    from agentctl.store.frontmatter import load_fast
    from agentctl.store.index import plain_value
    from agentctl.store.reading import read_record

    rel = layout.relative(path)
    try:
        fields, body = load_fast(read_record(path, rel), rel)
    except FileNotFoundError:
        raise NotFoundError(f"no spec {path.stem}") from None
    data: dict[str, Any] = plain_value(fields)
    check_spec(data, path.name.removesuffix(".md"), rel)
    data.setdefault("status", "draft")
    return data, body


def spec_link_problems(layout: Layout, tasks: dict[str, dict[str, Any]]) -> list[Problem]:
    """``validate``: every task's ``spec:`` link names an existing spec and one of its anchors."""
    from agentctl.core import spec as specs

    known: dict[str, dict[str, str]] = {}
    for path in spec_files(layout):
        try:
            data, body = load_spec(layout, path)
        except ValidationError:
            continue  # reported as the spec file's own problem
        known[data["id"]] = specs.parse(body).anchors()
    problems = []
    for task_id, task in sorted(tasks.items()):
        value = task.get("spec")
        if not value:
            continue
        rel = layout.relative(layout.task(task_id))
        split = specs.split_link(str(value))
        if split is None:
            message = f"spec: {value!r} is not a link like s-4k7q2m9x3bce#R3"
        elif split[0] not in known:
            message = f"spec: {value} names no spec ({split[0]} does not exist)"
        elif split[1] not in known[split[0]]:
            message = f"spec: {value} names no {split[1]} in {split[0]}"
        else:
            continue
        problems.append(Problem(rel, _spec_line(layout.task(task_id)), message))
    return problems


def _spec_line(path: Path) -> int | None:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    return next((n for n, line in enumerate(lines, start=1) if line.startswith("spec:")), None)


def _requirement(r: specs.Requirement) -> dict[str, Any]:
    return {"id": r.id, "text": r.title, "line": r.line, "estimate": r.estimate,
            "depends_on": list(r.depends_on), "labels": list(r.labels), "hash": r.hash}  # fmt: skip


def _task_title(anchor: str, text: str) -> str:
    title = f"{anchor}: {text}"
    return title if len(title) <= 120 else title[:119] + "…"


def _refs(text: str) -> set[str]:
    import re

    return set(re.findall(r"\bR[1-9][0-9]{0,3}\b", text))
