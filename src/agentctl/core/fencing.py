"""Fencing of claims: a claimant whose claim was taken over may no longer change the task.

A claim carries an ``epoch`` that grows by one with every claim of the task. The epoch an
agent holds is the one of its own latest ``task.claimed`` event on the task, unless it
released the task since (``task.released`` naming it). The event log travels with the
records through git, so every clone derives the same answer; a caller may also present an
epoch explicitly (``task move --epoch N``), as a fencing token.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# The events that decide which epoch an agent holds on a task.
FENCE_EVENTS = ("task.claimed", "task.released")


def held_epoch(name: str, events: Iterable[Mapping[str, Any]]) -> int | None:
    """The claim epoch ``name`` holds according to ``events`` (oldest first), or None."""
    held: int | None = None
    for event in events:
        data = event.get("data") or {}
        if event.get("type") == "task.claimed" and event.get("actor") == name:
            epoch = data.get("epoch")
            held = int(epoch) if isinstance(epoch, int) else held
        elif event.get("type") == "task.released" and data.get("released") == name:
            held = None
    return held


def stale_claim(
    name: str, task: Mapping[str, Any], held: int | None, presented: int | None = None
) -> str | None:
    """Why ``name`` may not change ``task`` (None when it may): the epoch it holds (or
    ``presented``) is older than the task's current claim, which someone else holds."""
    claim = task.get("claim")
    if not isinstance(claim, Mapping):
        return None
    current = int(claim.get("epoch") or 0)
    epoch = presented if presented is not None else held
    if epoch is None or epoch >= current:
        return None
    if presented is None and claim.get("claimed_by") == name:
        return None
    return (
        f"{task.get('id')}: the claim {name} holds (epoch {epoch}) was taken over by "
        f"{claim.get('claimed_by')} (epoch {current}): a stale claimant may not change it"
    )
