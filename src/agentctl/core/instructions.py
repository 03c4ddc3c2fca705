"""Text edits behind ``agentctl setup``: agentctl's marked block in an instruction file, and
its server entry in an MCP client's JSON config. Pure: strings in, strings out.

The block is everything from ``BEGIN`` to ``END`` inclusive; text outside it is never
changed. A file holds at most one block (a second pair of markers is refused).
"""

from __future__ import annotations

import json
from typing import Any

from agentctl.errors import ValidationError

BEGIN = "<!-- agentctl:begin -->"
END = "<!-- agentctl:end -->"


def _span(text: str, where: str) -> tuple[int, int] | None:
    """(start, end) of the block in ``text`` (end just past END), or None."""
    start = text.find(BEGIN)
    end = text.find(END)
    if start < 0 and end < 0:
        return None
    if start < 0 or end < start or text.find(BEGIN, start + 1) >= 0:
        line = text[: max(start, end, 0)].count("\n") + 1
        raise ValidationError(
            f"agentctl's block markers are unbalanced or repeated ({BEGIN} ... {END})",
            where,
            line,
            hint="fix the markers by hand (keep one pair), then run setup again",
        )
    return start, end + len(END)


def upsert_block(text: str, body: str, where: str) -> str:
    """``text`` with agentctl's block holding ``body``: replaced in place when present,
    else appended after a blank line."""
    block = f"{BEGIN}\n{body.strip()}\n{END}"
    span = _span(text, where)
    if span is not None:
        return text[: span[0]] + block + text[span[1] :]
    if not text:
        return block + "\n"
    return text + ("\n" if text.endswith("\n") else "\n\n") + block + "\n"


def remove_block(text: str, where: str) -> str:
    """``text`` without agentctl's block (and the blank line setup put before it): the text
    :func:`upsert_block` appended to, except that a last line without a newline gets one."""
    span = _span(text, where)
    if span is None:
        return text
    before, after = text[: span[0]], text[span[1] :].removeprefix("\n")
    if before.endswith("\n\n") and (not after or after.startswith("\n")):
        before = before[:-1]  # the blank line upsert_block put before the block
    return before + after


def has_block(text: str) -> bool:
    return BEGIN in text


def _load_json(text: str, where: str) -> dict[str, Any]:
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(f"not valid JSON: {exc.msg}", where, exc.lineno) from None
    if not isinstance(data, dict):
        raise ValidationError("expected a JSON object", where)
    return data


def _dump_json(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def upsert_server(
    text: str, key: str, name: str, entry: dict[str, Any], where: str
) -> tuple[str, bool]:
    """``text`` (a JSON config, possibly empty) with ``entry`` as server ``name`` under
    ``key``; other servers and settings are kept. Returns (new text, changed)."""
    data = _load_json(text, where)
    servers = data.setdefault(key, {})
    if not isinstance(servers, dict):
        raise ValidationError(f"{key!r} must be a JSON object", where)
    if servers.get(name) == entry:
        return text, False
    servers[name] = entry
    return _dump_json(data), True


def remove_server(text: str, key: str, name: str, where: str) -> tuple[str, bool]:
    """``text`` without server ``name``; an emptied ``key`` is dropped too. Returns
    (new text, changed); the new text is empty when nothing else was left."""
    data = _load_json(text, where)
    servers = data.get(key)
    if not isinstance(servers, dict) or name not in servers:
        return text, False
    del servers[name]
    if not servers:
        del data[key]
    return ("" if not data else _dump_json(data)), True
