"""The ``manual`` runtime: an agent that does nothing on its own (the default of ``agent add``).

Its tick still collects the agent's work and builds the prompt, so ``agentctl heartbeat`` and
``agentctl runs`` show what is waiting and exactly what would be sent; the tick records that
as a "waiting" run and applies nothing. It calls no model and costs nothing. Switch the agent
to ``command`` or ``llm`` when something should answer, or act as it by hand with
``agentctl --as NAME ...``.
"""

from __future__ import annotations

from agentctl.runtime.base import Answer, Request


class ManualRuntime:
    def run(self, request: Request) -> Answer:
        return Answer(text=request.prompt, model="manual")
