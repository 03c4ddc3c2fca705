"""Ask a runtime for JSON matching a schema, check it, and repair it: one function for every
caller that needs structured answers (heartbeat ticks, spec expansion).

:func:`ask` sends the request with the JSON Schema attached (the ``llm`` runtime passes it to
providers that constrain output to a schema, JSON mode otherwise; other runtimes ignore it),
checks the answer with the caller's ``check``, and while problems remain and repair turns are
left, sends the conversation back with the problems in plain words. Every answer is kept (masked)
with its problems; the result is the best attempt: the most usable parts, then the fewest
problems, then the latest. A failed repair call (timeout, budget) leaves the earlier attempts
standing: the repair is a second chance, never a way to lose the first answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar

from agentctl.core.secrets import mask
from agentctl.errors import AgentctlError
from agentctl.runtime.base import Answer, Request, Runtime

T = TypeVar("T")
MAX_PROBLEMS = 20  # listed in one repair message
REPAIR_INSTRUCTION = (
    "Answer again with the complete corrected answer (the parts that were right included): "
    "one JSON object in the form asked for, and nothing else."
)


@dataclass
class Check(Generic[T]):
    """What a caller's check made of one answer."""

    value: T | None  # None: nothing usable at all
    problems: list[str] = field(default_factory=list)  # plain words, one per problem
    good: int = 0  # how many usable parts (actions, sections...): picks the best attempt


@dataclass
class Attempt:
    text: str  # the answer, secrets masked
    problems: list[str]
    good: int


@dataclass
class Structured(Generic[T]):
    value: T | None  # of the best attempt
    problems: list[str]  # of the best attempt
    best: int  # index of the best attempt
    attempts: list[Attempt]
    answers: list[Answer]  # every runtime answer, in order (tokens, cost, model)
    repair_error: str | None = None  # why a repair call failed, if one did

    @property
    def tokens_in(self) -> int:
        return sum(a.tokens_in for a in self.answers)

    @property
    def tokens_out(self) -> int:
        return sum(a.tokens_out for a in self.answers)

    @property
    def cost_usd(self) -> float:
        return sum(a.cost_usd for a in self.answers)


def repair_message(problems: list[str], instruction: str = REPAIR_INSTRUCTION) -> str:
    shown = problems[:MAX_PROBLEMS]
    more = [f"- and {len(problems) - len(shown)} more"] if len(problems) > len(shown) else []
    lines = ["Your answer could not be used as it was:", *(f"- {p}" for p in shown), *more]
    return "\n".join([*lines, instruction])


def ask(
    runtime: Runtime,
    request: Request,
    check: Callable[[str], Check[T]],
    *,
    schema: dict[str, Any] | None = None,
    schema_name: str = "answer",
    repair_turns: int = 1,
    instruction: str = REPAIR_INSTRUCTION,
) -> Structured[T]:
    """Ask ``runtime`` for an answer matching ``schema``, checked by ``check``, with up to
    ``repair_turns`` repair turns. The first call's errors (RuntimeFailure, BudgetError...)
    propagate; a repair call's are kept in ``repair_error``."""
    asked = replace(request, schema=schema, schema_name=schema_name)
    turns: tuple[tuple[str, str], ...] = ()
    attempts: list[Attempt] = []
    answers: list[Answer] = []
    checks: list[Check[T]] = []
    repair_error: str | None = None
    for turn in range(max(0, repair_turns) + 1):
        try:
            answer = runtime.run(replace(asked, turns=turns))
        except AgentctlError as exc:
            if turn == 0:
                raise
            repair_error = exc.message
            break
        text = mask(answer.text)
        result = check(text)
        answers.append(answer)
        checks.append(result)
        attempts.append(Attempt(text, list(result.problems), result.good))
        if not result.problems:
            break
        turns = (*turns, (text, repair_message(result.problems, instruction)))
    best = max(
        range(len(checks)),
        key=lambda i: (checks[i].value is not None, checks[i].good, -len(checks[i].problems), i),
    )
    chosen = checks[best]
    return Structured(chosen.value, list(chosen.problems), best, attempts, answers, repair_error)
