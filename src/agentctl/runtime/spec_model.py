"""One call asking a model runtime (llm or command) for JSON matching a schema: the prompt and
schema in, the parsed and checked value out. ``spec expand`` uses it for its clarifying
questions and for the expansion.

The llm runtime gets the JSON Schema in the prompt (and JSON mode where the provider has
it, as for ticks); the command runtime gets the same text on stdin. The answer's JSON is found
with :func:`agentctl.core.actions.extract_json` (the whole text, a fenced block, or the
outermost braces) and checked by ``check`` (the validator generated from the model) before
the caller writes anything: an answer that is not JSON or does not match is a
:class:`RuntimeFailure` (exit 11) naming the first problem, field included.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from agentctl.errors import RuntimeFailure, ValidationError
from agentctl.runtime.base import Answer, Request

MAX_ANSWER_CHARS = 200_000


def schema_prompt(schema: dict[str, Any], example: dict[str, Any]) -> str:
    """The instructions that close every prompt: answer with one JSON object of this schema."""
    return (
        "Answer with one JSON object and nothing else (no prose, no code fence). "
        "It must match this JSON Schema:\n"
        + json.dumps(schema, sort_keys=True)
        + "\nAn example of the shape (not of the content):\n"
        + json.dumps(example)
    )


def ask_json(
    kind: str,
    agent: Mapping[str, Any],
    system: str,
    prompt: str,
    root: Path,
    config: Mapping[str, Any],
    check: Callable[[dict[str, Any]], None],
    *,
    schema: dict[str, Any] | None = None,
    schema_name: str = "answer",
    list_key: str | None = None,
) -> tuple[dict[str, Any], Answer]:
    """Run ``kind`` (llm or command) for ``agent`` and return the JSON object it answers,
    checked by ``check`` (which raises ValidationError), with the last raw answer.

    Through :func:`agentctl.runtime.structured.ask`: the llm runtime gets ``schema`` as a
    response format where the provider constrains output (JSON mode otherwise) and, when the
    answer is not JSON or does not match, up to ``llm.repair_turns`` repair turns with the
    problem in plain words. The command runtime has no conversation: one call, no repair.
    ``list_key``: a bare list of objects is read as ``{list_key: [...]}`` (an answer that
    left out the one wrapping key)."""
    from agentctl import runtime
    from agentctl.runtime.structured import Check, ask

    if kind not in ("llm", "command"):
        raise RuntimeFailure(
            f"runtime {kind!r} cannot write a spec", hint="use llm, command or simulated"
        )
    request = Request(
        agent=dict(agent),
        system=system,
        prompt=prompt,
        workspace_root=root,
        local_dir=root / ".agentctl" / "local",
        config=dict(config),
    )
    turns = int((config.get("llm") or {}).get("repair_turns", 1)) if kind == "llm" else 0

    def checked(text: str) -> Check[dict[str, Any]]:
        value, problem = _read(text, check, list_key)
        return Check(value, [problem] if problem else [], 1 if value is not None else 0)

    result = ask(runtime.load(kind), request, checked, schema=schema, schema_name=schema_name,
                 repair_turns=turns)  # fmt: skip
    if result.value is None or result.problems:
        tried = f" after {len(result.attempts)} answers" if len(result.attempts) > 1 else ""
        raise RuntimeFailure(
            f"the model's answer {result.problems[0]}{tried}: nothing was written",
            hint="try again, or another model (--model)",
        )
    return result.value, result.answers[-1]


def _read(
    text: str, check: Callable[[dict[str, Any]], None], list_key: str | None = None
) -> tuple[dict[str, Any] | None, str | None]:
    """The checked JSON object in ``text``, or None and what is wrong with it in plain words
    (completing "the model's answer ..."); with ``list_key``, a list of objects is read as
    ``{list_key: [...]}``."""
    from agentctl.core.actions import AnswerError, extract_json  # the action models: pydantic

    def objects(value: Any) -> bool:
        return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)

    if len(text) > MAX_ANSWER_CHARS:
        return None, f"is too long ({len(text)} characters)"
    try:
        # an object, not one inside a list (unless a list of objects is wanted as such)
        value = extract_json(
            text, lambda v: isinstance(v, dict) or (list_key is not None and objects(v))
        )
    except AnswerError:
        return None, "is not JSON"
    if list_key is not None and objects(value):
        value = {list_key: value}
    if not isinstance(value, dict):
        return None, f"is a JSON {type(value).__name__}, not an object"
    try:
        check(value)
    except ValidationError as exc:
        return None, f"does not match the schema ({exc.problem})"
    return value, None


def check_answer(value: dict[str, Any], check: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """``value`` if ``check`` passes it, else RuntimeFailure naming the first problem."""
    try:
        check(value)
    except ValidationError as exc:
        raise RuntimeFailure(
            f"the model's answer does not match the schema ({exc.problem}): nothing was written",
            hint="try again, or another model (--model)",
        ) from None
    return value
