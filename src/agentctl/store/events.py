"""The activity log: ``.agentctl/events/<yyyy-mm-dd>.jsonl``, one JSON event per line.

Files are append-only and union-merged by git (``.gitattributes``), so two machines adding
events never conflict. Secrets are masked twice: in the event's fields when it is made, and in
the encoded line when it is written (an event built elsewhere cannot carry one in). Readers tolerate a torn last line (a writer killed mid-append) by
skipping it; ``validate`` reports it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from agentctl.core import clock, secrets
from agentctl.core.ids import EVENT, new_id
from agentctl.errors import ValidationError
from agentctl.store import atomic
from agentctl.store.reading import is_symlink, open_nofollow, tail_lines

if TYPE_CHECKING:
    from agentctl.core.events import EventType, Payload
    from agentctl.core.records import EventRecord

FIELDS = ("id", "ts", "actor", "type", "subject", "data", "notify")


def make_event(
    actor: str,
    type_: EventType,
    subject: str | None,
    data: Payload | None = None,
    notify: list[str] | None = None,
    ts: datetime | None = None,
) -> EventRecord:
    return {
        "id": new_id(EVENT),
        "ts": clock.stamp_ms(ts or clock.now()),
        "actor": actor,
        "type": type_,
        "subject": secrets.mask(subject) if subject else subject,
        "data": cast("Payload", secrets.mask_data(data) if data else {}),
        "notify": sorted(set(notify or [])),
    }


def encode(event: EventRecord) -> str:
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"), default=str)


def day_path(events_dir: Path, event: EventRecord) -> Path:
    """The day file ``event`` belongs in."""
    return events_dir / f"{event['ts'][:10]}.jsonl"


def append(events_dir: Path, event: EventRecord) -> Path:
    path = day_path(events_dir, event)
    atomic.append_line(path, secrets.mask(encode(event)))
    return path


def append_many(events_dir: Path, events: list[EventRecord]) -> Path:
    """An event batch in one append (all share the first event's day file)."""
    path = day_path(events_dir, events[0])
    atomic.append_line(path, "\n".join(secrets.mask(encode(event)) for event in events))
    return path


def day_files(events_dir: Path) -> list[Path]:
    """Event files, oldest day first."""
    if is_symlink(events_dir):  # never followed (validate reports it)
        return []
    try:
        names = [
            n for n in os.listdir(events_dir) if n.endswith(".jsonl") and not n.startswith(".")
        ]
    except FileNotFoundError:
        return []
    return [events_dir / n for n in sorted(names)]


def parse_lines(text: str) -> Iterator[tuple[int, dict[str, Any] | None]]:
    """(line number, event or None when the line is not a JSON object) for non-blank lines."""
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError:
            yield number, None
            continue
        yield number, value if isinstance(value, dict) else None


def tail(events_dir: Path, limit: int) -> list[EventRecord]:
    """The last ``limit`` events, oldest first, reading backwards only as far as needed.

    Union merges can interleave machines' lines within a day, so events are ordered by
    timestamp (then id) rather than trusted in file order.
    """
    if limit <= 0:
        return []
    from agentctl.core.checks import event_problem

    collected: list[dict[str, Any]] = []
    for path in reversed(day_files(events_dir)):
        try:
            with open_nofollow(path, str(path)) as handle:
                lines = tail_lines(handle, limit - len(collected))
        except (FileNotFoundError, ValidationError):  # gone, or a symlink (never followed)
            continue
        collected.extend(
            event
            for _, event in parse_lines("\n".join(lines))
            if event is not None and event_problem(event) is None  # as the index and validate
        )
        if len(collected) >= limit:
            break
    collected.sort(key=lambda e: (str(e.get("ts")), str(e.get("id"))))
    # Lines as written (validate reports malformed ones): readers use .get for the fields.
    return cast("list[EventRecord]", collected[-limit:])


def last_event(events_dir: Path) -> EventRecord | None:
    found = tail(events_dir, 1)
    return found[0] if found else None
