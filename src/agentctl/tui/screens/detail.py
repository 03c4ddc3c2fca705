"""What the task and agent screens share: reading their record through the gateway."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from agentctl.core.text import neutralise_data
from agentctl.errors import AgentctlError, NotFoundError

if TYPE_CHECKING:
    from textual.screen import Screen

    from agentctl.tui.app import BoardApp


async def fetch_detail(
    screen: Screen[None], app: BoardApp, read: Callable[[str], dict[str, Any]], key: str
) -> dict[str, Any] | None:
    """The record ``read(key)`` via the gateway's worker thread, or None after showing why
    not (a record that is gone also closes the screen). None too if the screen was closed
    while the record was read."""
    try:
        detail = await app.gateway.call(read, key)
    except NotFoundError as exc:
        app.refuse(exc)
        if screen.is_current:
            screen.dismiss(None)
        return None
    except AgentctlError as exc:
        app.refuse(exc)
        return None
    # Records written by hand or pulled from git may hold terminal escapes: shown, not obeyed.
    return neutralise_data(detail) if screen.is_attached else None
