"""The run log: one JSON line per heartbeat tick, ``.agentctl/local/runs/AGENT.jsonl``, and the
per-agent run lock (``.agentctl/local/run/AGENT.lock``) that keeps two ticks of one agent from
running at once. Both are machine-local (``local/`` is never committed); the log grows by a
line per tick and is never rotated, so reads take only its end."""

from __future__ import annotations

import json
import re
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from agentctl.core import secrets
from agentctl.paths import validate_name
from agentctl.store import atomic, locks
from agentctl.store.reading import tail_lines


def runs_dir(local: Path) -> Path:
    return Path(local) / "runs"


def lock_path(local: Path, agent: str) -> Path:
    return Path(local) / "run" / f"{validate_name(agent, 'agent name')}.lock"


def hold_lock(local: Path, agent: str) -> AbstractContextManager[None]:
    """The agent's run lock, taken now or never: LockTimeoutError if a tick holds it."""
    return locks.hold(lock_path(local, agent), 0)


def append(local: Path, record: dict[str, Any]) -> None:
    """Log one run record (secrets masked)."""
    directory = runs_dir(local)
    directory.mkdir(parents=True, exist_ok=True)
    line = secrets.mask(json.dumps(secrets.mask_data(record), separators=(",", ":")))
    atomic.append_line(
        directory / f"{validate_name(str(record['agent']), 'agent name')}.jsonl", line
    )


def read(local: Path, agent: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
    """The latest ``limit`` runs (of one agent or all), oldest first."""
    directory = runs_dir(local)
    if agent is not None:
        files = [directory / f"{validate_name(agent, 'agent name')}.jsonl"]
    else:
        files = sorted(directory.glob("*.jsonl")) if directory.is_dir() else []
    runs: list[dict[str, Any]] = []
    for path in files:
        try:
            with open(path, "rb") as handle:
                lines = tail_lines(handle, limit)
        except FileNotFoundError:
            continue
        for line in [line for line in lines if line.strip()][-limit:]:
            try:
                runs.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    runs.sort(key=lambda r: (str(r.get("started")), str(r.get("agent"))))
    return runs[-limit:]


RUN_ID = re.compile(r"^r-[0-9a-z]{4,12}$")
SEARCHED = 5000  # latest runs of each agent searched for a run ID


def find(local: Path, run_id: str) -> list[dict[str, Any]]:
    """The runs whose ID is ``run_id`` or starts with it (a prefix of at least 4 characters
    after ``r-``), among each agent's latest :data:`SEARCHED`."""
    wanted = run_id.strip().lower()
    if not wanted.startswith("r-"):
        wanted = "r-" + wanted
    if not RUN_ID.match(wanted):
        return []
    directory = runs_dir(local)
    found: list[dict[str, Any]] = []
    for path in sorted(directory.glob("*.jsonl")) if directory.is_dir() else []:
        found += [
            r for r in read(local, path.stem, SEARCHED) if str(r.get("id", "")).startswith(wanted)
        ]
    return found
