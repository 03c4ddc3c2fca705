"""What every agent runtime receives and returns.

A heartbeat tick builds a :class:`Request` (the prompt is already bounded and its untrusted
parts delimited), hands it to the agent's runtime, and parses the :class:`Answer`'s text into
actions itself. Runtimes never touch workspace records: they only turn a prompt into text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol


@dataclass(frozen=True)
class Request:
    agent: Mapping[str, Any]  # the agent record (an AgentRecord, as in the index)
    system: str  # persona, rules and the action schema
    prompt: str  # the work: WORKING.md excerpt, tasks, threads, notifications, memory
    workspace_root: Path
    local_dir: Path  # .agentctl/local/ (cache, ledger, logs live below it)
    config: Mapping[str, Any]  # the workspace config (a ConfigRecord)
    task_id: str | None = None  # the task the tick is mainly about, if any
    context: dict[str, Any] = field(
        default_factory=dict
    )  # structured work, for the simulated runtime
    confine: Confinement | None = None  # the tick's containment of a command agent's child
    # JSON Schema the answer must match: providers that can constrain their output to it do
    # (runtime/llm.py); the others see it only in the prompt.
    schema: dict[str, Any] | None = None
    schema_name: str = "answer"
    # Earlier turns of a repair conversation: (the runtime's answer, the message about it).
    turns: tuple[tuple[str, str], ...] = ()


class Confinement(Protocol):
    """What the tick adds around a command agent's child (heartbeat/contain.py)."""

    env: dict[str, str]  # extra environment (the broker's socket in sandboxed mode)

    def wrap(self, argv: list[str]) -> list[str]: ...  # the sandbox's argv around the command


@dataclass
class Answer:
    text: str
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    model: str | None = None
    cached: bool = False


class Runtime(Protocol):
    def run(self, request: Request) -> Answer: ...
