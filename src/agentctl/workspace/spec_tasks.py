"""``spec plan --llm``: a runtime breaks a spec's prose down into tasks. The model call runs
before the lock is taken (runtime/spec_model.py); its answer is checked against the plan
schema (the validator generated from ``models.SpecTaskPlan``) and cross-checked (anchors,
references, loops, titles: core/spec_tasks.py), with the problems fed to the llm runtime's
repair turn; nothing is written unless it passes. The tasks are then applied exactly as the
deterministic ``spec plan`` applies its own (:meth:`PlanningOps.apply_plan`): under their
requirement's milestone, linked ``spec: s-…#R<n>`` with the requirement's hash, keyed by
requirement and title so that planning again updates instead of duplicating (docs/specs.md).
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from agentctl.core.rules import Actor
from agentctl.errors import ConflictError, ValidationError
from agentctl.workspace.spec_expand import SpecExpandOps, SpecRuntime

if TYPE_CHECKING:
    from agentctl.core import spec as specs
    from agentctl.store.roadmap_plan import Item, Plan

MAX_PROBLEMS_SHOWN = 5  # cross-check problems in one error (and one repair message)
MAX_SPEC_IN_PROMPT = 12_000  # characters of the spec's text the prompt quotes
MAX_PLANNED_IN_PROMPT = 100  # tasks already planned that the prompt lists


class SpecTaskOps(SpecExpandOps):
    def plan_spec_llm(
        self, actor: Actor, ref: str, how: SpecRuntime, dry_run: bool = False
    ) -> dict[str, Any]:
        """Have a runtime break the spec down into tasks, then apply them as one mutation
        (``dry_run``: only the report); returns :meth:`apply_plan`'s report with ``runtime``
        and ``problems`` (requirements left without a task, the spec's own warnings)."""
        from agentctl.core import record_checks, spec_tasks
        from agentctl.runtime.spec_model import ask_json, check_answer

        actor.require("create_tasks", "create tasks from a plan")
        spec_id = self.resolve_spec(ref)
        path = self.layout.spec(spec_id)
        data, body = self._load_spec(path)
        parsed = self._plannable(spec_id, body)
        kind, agent = self._spec_agent(how)
        known = {r.id for r in parsed.requirements}

        def check(value: dict[str, Any]) -> None:
            record_checks.check_spec_task_plan(copy.deepcopy(value), "answer")
            problems = spec_tasks.check_task_plan(value, known)
            if problems:
                more = len(problems) - MAX_PROBLEMS_SHOWN
                shown = "; ".join(problems[:MAX_PROBLEMS_SHOWN])
                raise ValidationError(shown + (f"; and {more} more" if more > 0 else ""), "answer")

        if kind == "simulated":
            answer = check_answer(spec_tasks.simulated_task_plan(parsed), check)
        else:
            from agentctl.core import models  # pydantic: only for a model's call

            system, prompt = _prompts(data["title"], body, parsed, self._planned_titles(spec_id))
            answer, _ = ask_json(
                kind, agent, system, prompt, self.root, self.config, check,
                schema=models.SpecTaskPlan.model_json_schema(), schema_name="plan", list_key="tasks",
            )  # fmt: skip
        # The call ran without the lock: a spec edited meanwhile would get the hashes of text
        # it no longer has. (An edit between this read and apply_plan's lock only leaves
        # hashes that ``spec check`` reports as drift.)
        if self._load_spec(path)[1] != body:
            raise ConflictError(
                f"{spec_id} changed while the runtime was planning it: nothing written",
                hint="plan it again",
            )
        plan = self._task_plan(spec_id, data["title"], parsed, answer)
        plan.lines = body.count("\n") + 1
        report = self.apply_plan(actor, plan, dry_run=dry_run, what=f"plan spec ({kind})")
        covered = {task["requirement"] for task in answer["tasks"]}
        report["runtime"] = kind
        report["problems"] = [p for p in parsed.problems if "is already used" not in p] + [
            f"{r.id} has no task in the plan" for r in parsed.requirements if r.id not in covered
        ]
        return report

    def _planned_titles(self, spec_id: str) -> list[tuple[str, str]]:
        """(requirement, title) of the tasks an earlier ``--llm`` plan of the spec made, for
        the prompt: a model that keeps a title still fitting updates that task."""
        self.refresh()
        found = []
        for row in self.index.tasks_by_source(f"{spec_id}#"):
            key = (row["source"] or "").split("#", 1)[-1]
            if "/" in key:
                found.append((key.split("/", 1)[0], row["title"]))
        return sorted(found)[:MAX_PLANNED_IN_PROMPT]

    def _task_plan(
        self, spec_id: str, title: str, parsed: specs.ParsedSpec, answer: dict[str, Any]
    ) -> Plan:
        """The plan of a checked answer: each task an item under its requirement (its line in
        the spec), keyed ``R<n>/<slug of the title>``, with ``spec`` and ``spec_hash`` of its
        requirement; the spec's acceptance criteria naming the requirement where the task
        states none; the requirement's labels where it states none."""
        from agentctl.core import secrets, spec_tasks
        from agentctl.core import spec as specs
        from agentctl.store.roadmap_plan import Criterion, Item

        by_requirement: dict[str, list[Item]] = {}
        by_ref: dict[str, Item] = {}
        keys: dict[int, str] = {}
        for task in answer["tasks"]:
            requirement = parsed.requirement(task["requirement"])
            assert requirement is not None  # checked: every task names a requirement
            item_title = secrets.mask(task["title"])
            item = Item(item_title, "task", requirement.line, estimate=task.get("estimate"),
                        labels=list(dict.fromkeys(x.lower() for x in task.get("labels") or requirement.labels)),
                        explicit=True)  # fmt: skip
            stated = [secrets.mask(c) for c in task.get("acceptance") or []]
            criteria = stated or [c for c in parsed.acceptance if _names(c, requirement.id)]
            item.criteria = [Criterion(text) for text in dict.fromkeys(criteria)]
            item.description = [
                secrets.mask(task.get("description") or "").strip(),
                f"Part of requirement {requirement.id} of spec {spec_id} ({title}): "
                f"{requirement.title}",
            ]
            item.fields = {
                "spec": specs.link(spec_id, requirement.id),
                "spec_hash": requirement.hash,
            }
            keys[id(item)] = spec_tasks.task_key(requirement.id, item_title)
            by_requirement.setdefault(requirement.id, []).append(item)
            by_ref[task["id"]] = item
        for task in answer["tasks"]:
            item = by_ref[task["id"]]
            for ref in task.get("depends_on") or []:
                if by_ref[ref] not in item.deps:
                    item.deps.append(by_ref[ref])
                    item.dep_refs.append((ref, item.line))
        return self._spec_tree(spec_id, title, parsed, by_requirement, keys)


def _names(criterion: str, anchor: str) -> bool:
    import re

    return re.search(rf"\b{anchor}\b", criterion) is not None


def _prompts(
    title: str, body: str, parsed: specs.ParsedSpec, planned: list[tuple[str, str]]
) -> tuple[str, str]:
    """(system, prompt) of the model call of ``spec plan --llm``: the spec's text, its
    requirements by ID, the tasks planned before, the schema and an example naming this
    spec's real anchors."""
    import json

    from agentctl.core import models, secrets
    from agentctl.runtime.spec_model import schema_prompt

    system = (
        "You are a lead engineer breaking a product spec down into tasks a team can pick up. "
        "Every task works towards one requirement, is small enough for one person in a day or "
        "two, and has acceptance criteria someone can check."
    )
    requirements = "\n".join(f"- {r.id}: {secrets.mask(r.title)}" for r in parsed.requirements)
    first = parsed.requirements[0].id
    second = parsed.requirements[1].id if len(parsed.requirements) > 1 else first
    example = {
        "tasks": [
            {"id": "T1", "title": "...", "requirement": first, "description": "...",
             "acceptance": ["..."], "estimate": "4h", "labels": ["backend"], "depends_on": []},
            {"id": "T2", "title": "...", "requirement": second, "acceptance": ["..."],
             "depends_on": ["T1"]},
        ]
    }  # fmt: skip
    earlier = ""
    if planned:
        earlier = (
            "Tasks planned from this spec before (keep the exact title of a task that still fits: "
            "it is then updated instead of replaced):\n"
            + "\n".join(
                f"- {json.dumps(secrets.mask(name))} ({anchor})" for anchor, name in planned
            )
            + "\n\n"
        )
    prompt = (
        f"The spec: {secrets.mask(title)}\n<<<\n{secrets.mask(body)[:MAX_SPEC_IN_PROMPT]}\n>>>\n\n"
        f"Its requirements (every task names the one it works towards by its ID):\n{requirements}\n\n"
        f"{earlier}Break the spec down into tasks. Give them the IDs T1, T2 ...; depends_on lists the tasks of "
        "your answer that must be finished first, by ID (no loops). Titles must differ; estimates "
        "look like 2h, 1d or 4h-6h; labels are lowercase skills such as backend or testing.\n\n"
        + schema_prompt(models.SpecTaskPlan.model_json_schema(), example)
    )  # fmt: skip
    return system, prompt
