"""A tick's question to its runtime: the action list asked for with its JSON Schema, read
leniently, repaired once (``llm.repair_turns``) when actions fail validation, and every raw
answer kept (bounded, masked) in the run record.

Only ``llm`` agents get repair turns: a ``command`` agent is a coding-agent CLI whose run takes
minutes and may change files, so running it again to fix its JSON would redo its work.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentctl.runtime.base import Request
    from agentctl.runtime.structured import Check, Structured
    from agentctl.workspace import Workspace

ANSWER_CHARS = 8000  # of each raw answer kept in the run record
LOGGED_PROBLEMS = 20  # problems listed per answer in the run record
Parsed = tuple[list[Any], list[dict[str, Any]]]  # (valid actions, rejected items)
REPAIR_INSTRUCTION = (
    'Answer again with the complete corrected JSON object {"actions": [...]}, the actions that '
    "were valid included, and nothing else. Write task IDs exactly as shown (like t-...)."
)
_JSON_ATTEMPT = re.compile(r'^\s*[\[{]|[\[{]\s*"|```|"(?:actions|type)"')


def repair_turns(ws: Workspace, kind: str) -> int:
    if kind != "llm":
        return 0
    return int((ws.config.get("llm") or {}).get("repair_turns", 1))


def ask_for_actions(
    ws: Workspace, kind: str, request: Request, tasks: list[str]
) -> Structured[Parsed]:
    """The runtime's answer as actions (the best of the first answer and its repairs)."""
    from agentctl import runtime
    from agentctl.core.actions import AnswerError, answer_schema, parse_answer
    from agentctl.runtime.structured import Check, ask

    max_actions = int(ws.config["heartbeat"]["max_actions"])

    def check(text: str) -> Check[Parsed]:
        try:
            actions, rejected = parse_answer(text, max_actions, tasks)
        except AnswerError as exc:
            return Check(None, [str(exc)], 0)
        done = [a for a in actions if a.type != "noop"]
        return Check((actions, rejected), [str(r["reason"]) for r in rejected], len(done))

    return ask(runtime.load(kind), request, check, schema=answer_schema(), schema_name="actions",
               repair_turns=repair_turns(ws, kind), instruction=REPAIR_INSTRUCTION)  # fmt: skip


def log_answers(record: dict[str, Any], result: Structured[Parsed]) -> None:
    """Tokens, cost and every raw answer (bounded, masked) in the run record."""
    answers = result.answers
    record.update(tokens_in=result.tokens_in, tokens_out=result.tokens_out,
                  cost_usd=round(result.cost_usd, 6), model=answers[-1].model,
                  cached=answers[0].cached)  # fmt: skip
    logged = []
    for turn, attempt in enumerate(result.attempts):
        entry: dict[str, Any] = {"turn": turn, "text": attempt.text[:ANSWER_CHARS]}
        if len(attempt.text) > ANSWER_CHARS:
            entry["omitted_chars"] = len(attempt.text) - ANSWER_CHARS
        entry["problems"] = attempt.problems[:LOGGED_PROBLEMS]
        logged.append(entry)
    record["answers"] = logged
    if len(result.attempts) > 1:
        record["repair"] = {"turns": len(result.attempts) - 1, "used": result.best}
    if result.repair_error:
        record["repair_error"] = result.repair_error


def json_attempt(text: str) -> bool:
    """Whether output tried to be JSON (unusable JSON fails the tick; plain prose from a
    coding agent is its progress report)."""
    return bool(_JSON_ATTEMPT.search(text))
