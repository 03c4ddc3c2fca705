"""@mentions in message text. Pure functions.

``@name`` names one agent, ``@all`` every agent, ``@role:<role>`` every agent with that role.
Mentions inside fenced code blocks and inline code spans are not mentions, nor are the
``@`` of e-mail addresses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

_FENCE = re.compile(
    r"^[ \t]{0,3}(`{3,}|~{3,})[^\n]*\n.*?(?:^[ \t]{0,3}\1[ \t]*$|\Z)", re.MULTILINE | re.DOTALL
)
_SPAN = re.compile(r"(`+)(?!`).+?(?<!`)\1", re.DOTALL)
_MENTION = re.compile(
    r"(?<![\w@.+-])@(role:[a-z0-9][a-z0-9_-]*|[a-z0-9][a-z0-9-]{0,63})", re.IGNORECASE
)


def strip_code(text: str) -> str:
    """``text`` without fenced code blocks and inline code spans."""
    return _SPAN.sub(" ", _FENCE.sub("\n", text))


def tokens(text: str) -> list[str]:
    """The mention tokens in ``text`` (``nova``, ``all``, ``role:qa``), first occurrence order."""
    seen: list[str] = []
    for match in _MENTION.finditer(strip_code(text)):
        token = match.group(1).lower().rstrip("-")
        if token not in seen:
            seen.append(token)
    return seen


def _role_key(role: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", role.lower()).strip("-")


def resolve(
    found: Iterable[str], agents: Sequence[Mapping[str, Any]]
) -> tuple[list[str], list[str]]:
    """(agent names mentioned, sorted; tokens that name no agent)."""
    names = {a["name"] for a in agents}
    chosen: set[str] = set()
    unknown: list[str] = []
    for token in found:
        if token == "all":
            chosen |= names
        elif token.startswith("role:"):
            role = _role_key(token[5:])
            matched = {a["name"] for a in agents if _role_key(str(a.get("role", ""))) == role}
            if matched:
                chosen |= matched
            else:
                unknown.append("@" + token)
        elif token in names:
            chosen.add(token)
        else:
            unknown.append("@" + token)
    return sorted(chosen), unknown


def excerpt(text: str, width: int = 100) -> str:
    """The first non-blank line of ``text``, whitespace collapsed, cut at ``width``."""
    for line in text.splitlines():
        line = " ".join(line.split())
        if line:
            return line if len(line) <= width else line[: width - 1] + "…"
    return ""
