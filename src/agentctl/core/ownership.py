"""Which machine runs which agent: host names and the rule of who ticks an agent.

An agent record may name a ``host``, the machine that runs its heartbeats. A machine's own
name comes from ``agentctl host`` (workspace layer); here only the pure rules: turning a
hostname into a valid name, and whether an agent runs on a given machine.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from agentctl.paths import NAME_RE

FALLBACK_HOST = "host"  # a hostname with nothing usable in it (e.g. empty)


def normalise_host(raw: str) -> str:
    """A valid record name (``paths.NAME_RE``) from a hostname: its first label (``laptop``
    of ``laptop.example.com``), lowercased, runs of other characters turned into ``-``,
    trimmed to 64 characters; ``host`` when nothing is left."""
    label = raw.strip().split(".", 1)[0].lower()
    name = re.sub(r"[^a-z0-9]+", "-", label).strip("-")[:64].rstrip("-")
    return name if NAME_RE.match(name) else FALLBACK_HOST


def runs_here(agent: Mapping[str, Any], host: str, include_unowned: bool) -> bool:
    """Whether machine ``host`` ticks ``agent``: its own agents, and unowned ones (no
    ``host``) when ``include_unowned``."""
    owner = agent.get("host")
    return owner == host if owner else include_unowned


def foreign_state_writer(agent: Mapping[str, Any], state: Mapping[str, Any] | None) -> str | None:
    """The machine that last wrote an owned agent's state when that is not its owner (the
    state of an unowned agent, or one written before writers were recorded, has none)."""
    owner, writer = agent.get("host"), (state or {}).get("host")
    if owner and writer and writer != owner:
        return str(writer)
    return None
