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
from collections.abc import Callable
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
    agent: dict[str, Any],
    system: str,
    prompt: str,
    root: Path,
    config: dict[str, Any],
    check: Callable[[dict[str, Any]], None],
) -> tuple[dict[str, Any], Answer]:
    """Run ``kind`` (llm or command) for ``agent`` once and return the JSON object it answers,
    checked by ``check`` (which raises ValidationError), with the raw answer."""
    from agentctl import runtime

    if kind not in ("llm", "command"):
        raise RuntimeFailure(
            f"runtime {kind!r} cannot write a spec", hint="use llm, command or simulated"
        )
    request = Request(
        agent=agent,
        system=system,
        prompt=prompt,
        workspace_root=root,
        local_dir=root / ".agentctl" / "local",
        config=config,
    )
    answer = runtime.load(kind).run(request)
    return parse_answer(answer.text, check), answer


def parse_answer(text: str, check: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """The checked JSON object in a model's answer, or RuntimeFailure saying why not."""
    from agentctl.core.actions import AnswerError, extract_json  # the action models: pydantic

    if len(text) > MAX_ANSWER_CHARS:
        raise RuntimeFailure(f"the model's answer is too long ({len(text)} characters)")
    try:
        value = extract_json(text)
    except AnswerError:
        raise RuntimeFailure(
            "the model's answer is not JSON: nothing was written",
            hint="try again, or another model (--model)",
        ) from None
    if not isinstance(value, dict):
        raise RuntimeFailure(
            f"the model's answer is a JSON {type(value).__name__}, not an object: nothing was written"
        )
    return check_answer(value, check)


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
