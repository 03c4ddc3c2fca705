"""``spec expand``: a runtime writes a spec out from its one-line idea, after at most 8
clarifying questions (answered on a terminal, from a YAML file, or skipped). The model calls
run before the lock is taken (runtime/spec_model.py); the answer is checked against the
expansion schema (the validator generated from ``models.SpecExpansion``) and nothing is
written unless it matches (docs/specs.md).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agentctl.core.rules import Actor
from agentctl.core.text import check_line
from agentctl.errors import ConflictError, NotFoundError, UsageError, ValidationError
from agentctl.workspace.base import timestamp
from agentctl.workspace.specs import SpecOps

if TYPE_CHECKING:
    from agentctl.core import events as ev


@dataclass(frozen=True)
class SpecRuntime:
    """Who writes a spec out: ``simulated`` (deterministic), ``llm`` (``model``, else
    ``llm.model``) or ``command``; ``agent`` borrows an agent's runtime, model and command."""

    kind: str | None = None
    model: str | None = None
    agent: str | None = None


class SpecExpandOps(SpecOps):
    def _spec_agent(self, how: SpecRuntime) -> tuple[str, dict[str, Any]]:
        """The runtime kind and the agent record a model call runs as."""
        record: dict[str, Any] = {"name": "spec-writer"}
        if how.agent is not None:
            from agentctl.paths import validate_name

            self.refresh()
            found = self.index.agent(validate_name(how.agent, "agent name"))
            if found is None:
                raise NotFoundError(
                    f"no agent named {how.agent!r}", hint="see 'agentctl agent list'"
                )
            record = dict(found)
        kind = how.kind or (record.get("runtime") if how.agent else None) or "simulated"
        if kind not in ("simulated", "llm", "command"):
            raise UsageError(f"--runtime {kind!r}: a spec is written by simulated, llm or command")
        if how.model is not None:
            record["model"] = how.model
        if kind == "command" and not record.get("command"):
            raise UsageError(
                "the command runtime needs a command: --agent NAME of an agent with one",
            )
        return kind, record

    def spec_questions(self, ref: str, how: SpecRuntime) -> list[str]:
        """The clarifying questions the runtime asks before writing the spec (at most 8, most
        important first). Nothing is written."""
        from agentctl.core import record_checks
        from agentctl.core import spec as specs
        from agentctl.runtime.spec_model import ask_json

        spec_id = self.resolve_spec(ref)
        data, body = self._load_spec(self.layout.spec(spec_id))
        kind, agent = self._spec_agent(how)
        if kind == "simulated":
            return specs.simulated_questions(data["title"])[: specs.MAX_QUESTIONS]
        from agentctl.core import models  # pydantic: only for a model's call

        system, prompt = _prompts(data["title"], body, "questions")
        answer, _ = ask_json(
            kind, agent, system, prompt, self.root, self.config,
            lambda v: record_checks.check_spec_questions(copy.deepcopy(v), "answer"),
            schema=models.SpecQuestions.model_json_schema(), schema_name="questions",
        )  # fmt: skip
        return [str(q) for q in answer.get("questions", [])][: specs.MAX_QUESTIONS]

    def expand_spec(
        self,
        actor: Actor,
        ref: str,
        how: SpecRuntime,
        answered: list[tuple[str, str]] | None = None,
        no_questions: bool = False,
        force: bool = False,
    ) -> dict[str, Any]:
        """Have a runtime write the spec out from its idea (and the answered questions);
        the answer is checked against the expansion schema before anything is written."""
        from agentctl.core import record_checks
        from agentctl.core import spec as specs
        from agentctl.runtime.spec_model import ask_json, check_answer

        actor.require("create_tasks", "write a spec")
        spec_id = self.resolve_spec(ref)
        data, body = self._load_spec(self.layout.spec(spec_id))
        self._check_owner(actor, data["author"], "expand")
        if specs.parse(body).requirements and not force:
            raise ConflictError(
                f"{spec_id} already has requirements: expanding would rewrite them",
                hint="pass --force to rewrite the spec, or edit it (spec edit)",
            )
        kind, agent = self._spec_agent(how)

        def check(value: dict[str, Any]) -> None:
            record_checks.check_spec_expansion(copy.deepcopy(value), "answer")
            problems = specs.check_expansion(value)
            if problems:
                raise ValidationError(problems[0], "answer")

        if kind == "simulated":
            expansion = check_answer(
                specs.simulated_expansion(data["title"], answered, no_questions), check
            )
        else:
            from agentctl.core import models  # pydantic: only for a model's call

            system, prompt = _prompts(data["title"], body, "expand", answered, no_questions)
            expansion, _ = ask_json(
                kind, agent, system, prompt, self.root, self.config, check,
                schema=models.SpecExpansion.model_json_schema(), schema_name="spec",
            )  # fmt: skip
        text = specs.render(data["title"], expansion, answered)
        with self._mutate(actor) as m:
            path = self.layout.spec(spec_id)
            data, current = self._load_spec(path)
            if current != body:
                raise ConflictError(
                    f"{spec_id} changed while the runtime was writing it: nothing written"
                )
            data["status"] = "expanded"
            data["updated_at"] = timestamp()
            self._stage_spec(m, path, data, text)
            expanded: ev.SpecExpanded = {
                "title": data["title"], "runtime": kind, "requirements": len(expansion["requirements"]),
                "questions": len(expansion.get("questions", [])),
                "assumptions": len(expansion.get("assumptions", [])),
            }  # fmt: skip
            m.record("spec.expanded", spec_id, expanded)
            returned = {**data, "path": self.layout.relative(path), "expansion": expansion}
        return returned


def _prompts(
    title: str,
    body: str,
    step: str,
    answered: list[tuple[str, str]] | None = None,
    no_questions: bool = False,
) -> tuple[str, str]:
    """(system, prompt) of the model calls of ``spec expand``."""
    from agentctl.core import models
    from agentctl.core import spec as specs
    from agentctl.core.secrets import mask
    from agentctl.runtime.spec_model import schema_prompt

    system = (
        "You are a senior engineer writing a product spec from a one-line idea. "
        "Be concrete and brief; every requirement is one testable sentence."
    )
    idea = f"The idea: {title}\n\nThe spec's current text (may be a template):\n<<<\n{mask(body)[:8000]}\n>>>\n"
    if step == "questions":
        asked = {"questions": ["Which clients are limited, and by what key?"]}
        return system, (
            idea + f"\nBefore writing the spec, list at most {specs.MAX_QUESTIONS} clarifying questions whose "
            "answers would change the requirements, most important first (none if the idea is clear).\n\n"
            + schema_prompt(models.SpecQuestions.model_json_schema(), asked)
        )  # fmt: skip
    if answered:
        idea += (
            "\nAnswers to your clarifying questions:\n"
            + "\n".join(f"- Q: {q}\n  A: {a}" for q, a in answered)
            + "\n"
        )
    if no_questions:
        idea += "\nDo not ask questions: where something is unclear, decide and record it under assumptions.\n"
    example: dict[str, Any] = {
        "summary": "One paragraph.", "goals": ["..."], "non_goals": ["..."],
        "requirements": [{"id": "R1", "text": "...", "estimate": "4h", "depends_on": [], "labels": ["backend"]},
                         {"id": "R2", "text": "...", "depends_on": ["R1"]}],
        "acceptance": ["R1: ..."], "milestones": [{"id": "M1", "title": "...", "requirements": ["R1", "R2"]}],
        "questions": [], "assumptions": ["..."],
    }  # fmt: skip
    return system, (
        idea + "\nWrite the spec. Number requirements R1, R2 ... and milestones M1, M2 ...; name a "
        "requirement's ID at the start of each acceptance criterion it checks.\n\n"
        + schema_prompt(models.SpecExpansion.model_json_schema(), example)
    )  # fmt: skip


def match_answers(text: str, name: str, questions: list[str]) -> list[tuple[str, str]]:
    """The answers of an ``--answers`` YAML file, paired with the questions asked: a mapping
    question -> answer (matched case- and space-insensitively, or by number 1..8), or a list
    of answers in the order of the questions. Unanswered questions stay open."""
    from agentctl.store.frontmatter import load_yaml_fast

    data = load_yaml_fast(text, name)
    if isinstance(data, dict) and isinstance(data.get("answers"), dict | list):
        data = data["answers"]
    pairs: list[tuple[str, str]] = []
    if isinstance(data, list):
        for question, answer in zip(questions, data, strict=False):
            if answer is not None and str(answer).strip():
                pairs.append((question, str(answer).strip()))
        return pairs
    if not isinstance(data, dict):
        raise UsageError(
            f"--answers: {name} must be a YAML mapping (question: answer) or a list of answers"
        )

    def norm(text: str) -> str:
        return " ".join(str(text).lower().split()).rstrip("?")

    given = {norm(str(k)): v for k, v in data.items()}
    for number, question in enumerate(questions, start=1):
        answer = given.get(norm(question), given.get(str(number)))
        if answer is not None and str(answer).strip():
            check_line(str(answer).strip(), "answer")
            pairs.append((question, " ".join(str(answer).split())))
    return pairs
