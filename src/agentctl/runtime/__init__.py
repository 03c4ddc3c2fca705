"""Agent runtimes: turn a heartbeat prompt into an answer.

``manual`` (answers nothing: the tick only reports the work waiting), ``simulated``
(deterministic, offline; demo and tests only), ``command`` (any CLI, prompt on stdin, no shell) and
``llm`` (litellm, imported only inside :mod:`agentctl.runtime.llm`). Each is loaded on use.
"""

from __future__ import annotations

import importlib

from agentctl.runtime.base import Answer, Request, Runtime

_RUNTIMES = {
    "manual": ("agentctl.runtime.manual", "ManualRuntime"),
    "simulated": ("agentctl.runtime.simulated", "SimulatedRuntime"),
    "command": ("agentctl.runtime.command", "CommandRuntime"),
    "llm": ("agentctl.runtime.llm", "LLMRuntime"),
}


def load(kind: str) -> Runtime:
    """A runtime instance for ``kind`` (one of the agent record's ``runtime`` values)."""
    module, attr = _RUNTIMES[kind]
    runtime: Runtime = getattr(importlib.import_module(module), attr)()
    return runtime


__all__ = ["Answer", "Request", "Runtime", "load"]
