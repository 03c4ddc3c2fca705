"""``agentctl feed``: the activity log, newest last; ``--follow`` keeps printing."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

import typer

from agentctl.cli import output
from agentctl.cli.common import JSON_OPTION, open_workspace, want_json
from agentctl.core.duration import since_timestamp

app = typer.Typer(rich_markup_mode=None)

POLL_SECONDS = 0.5


def event_line(event: Mapping[str, Any]) -> str:
    from agentctl.core.summary import summarize

    ts = str(event.get("ts", ""))
    when = f"{ts[:10]} {ts[11:19]}" if len(ts) >= 19 else ts
    line = f"{when}  {event.get('actor', '?')}: {summarize(event)}"
    notified = event.get("notify") or []
    if notified:
        line += f"  → {', '.join(notified)}"
    return " ".join(line.split("\n"))


@app.command()
def feed(
    ctx: typer.Context,
    agent: str = typer.Option(None, "--agent", "-a", help="Only events by or for this agent."),
    task: str = typer.Option(None, "--task", "-t", help="Only events about this task."),
    type_: list[str] = typer.Option(
        None, "--type", help="Only this event type, e.g. task.moved or message.* (repeatable)."
    ),
    since: str = typer.Option(
        None, "--since", help="Only events newer than this: a duration (2h, 7d) or a date/time."
    ),
    limit: int = typer.Option(50, "--limit", "-n", min=1, help="At most the newest N events."),
    follow: bool = typer.Option(
        False, "--follow", "-f", help="Keep printing new events until interrupted."
    ),
    json_: bool = JSON_OPTION,
) -> None:
    """Print the activity feed, newest last (with --json: one document, or one event per line with --follow)."""
    ws = open_workspace(ctx)
    as_json = want_json(ctx, json_)
    since_ts = since_timestamp(since) if since else None
    events = ws.feed(agent=agent, task=task, types=type_ or [], since=since_ts, limit=limit)
    last = max((e["_rowid"] for e in events), default=ws.index.max_event_rowid())
    for event in events:
        event.pop("_rowid", None)
    if as_json and not follow:
        output.emit_json({"events": events})
        return
    _emit(events, as_json)
    if not follow:
        return
    subject = ws.resolve_task(task) if task else None
    try:
        while True:
            time.sleep(POLL_SECONDS)  # a stat of the log directory per poll: no busy wait
            ws.index.refresh_logs()
            fresh = ws.index.events(
                actor=agent, subject=subject, types=type_ or [], since=since_ts, after_rowid=last
            )
            if fresh:
                last = max(e["_rowid"] for e in fresh)
                for event in fresh:
                    event.pop("_rowid", None)
                _emit(fresh, as_json)
    except KeyboardInterrupt:
        return


def _emit(events: Sequence[Mapping[str, Any]], as_json: bool) -> None:
    if not events:
        return
    if as_json:
        output.write("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events))
    else:
        output.write("".join(event_line(e) + "\n" for e in events))
