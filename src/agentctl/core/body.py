"""Markdown bodies made of ``## Heading`` sections (task Description / Acceptance criteria /
Notes). Editing one section leaves every other byte of the body as it was."""

from __future__ import annotations

import re

from agentctl.frozen import Frozen

DESCRIPTION = "Description"
ACCEPTANCE = "Acceptance criteria"
NOTES = "Notes"
TASK_SECTIONS = (DESCRIPTION, ACCEPTANCE, NOTES)

_HEADING = re.compile(r"^## +(.+?)\s*$")
_CHECK = re.compile(r"^\s*[-*] \[( |x|X)\] (.*)$")
_FENCE = re.compile(r"^\s*(`{3,}|~{3,})(.*)$")


class Criterion(Frozen):
    """One acceptance criterion. Immutable, compared and hashed by its fields (a frozen
    dataclass written out: ``task show`` would otherwise build one, ~1 ms with the module)."""

    _fields = ("text", "done")
    text: str
    done: bool

    def __init__(self, text: str, done: bool = False) -> None:
        object.__setattr__(self, "text", text)
        object.__setattr__(self, "done", done)


def _section_spans(body: str) -> list[tuple[str, int, int, int]]:
    """(heading, heading line start, content start, content end) for each '## ' section,
    ignoring headings inside fenced code blocks."""
    spans: list[tuple[str, int, int, int]] = []
    offset = 0
    fence: str | None = None  # the opening fence while inside a fenced code block
    # Lines end at "\n" only, as in markdown (str.splitlines also splits at \x1c, \u2028...).
    for line in body.split("\n"):
        line += "\n" if offset + len(line) < len(body) else ""
        bare = line.rstrip("\r\n")
        fence_match = _FENCE.match(bare)
        if fence_match:
            marker = fence_match.group(1)
            if fence is None:
                fence = marker
            elif (
                marker[0] == fence[0]
                and len(marker) >= len(fence)
                and not fence_match.group(2).strip()
            ):
                fence = None  # only a fence of the same kind, at least as long, closes one
        match = None if fence is not None else _HEADING.match(line.rstrip("\n"))
        if match:
            if spans:
                name, start, content, _ = spans[-1]
                spans[-1] = (name, start, content, offset)
            spans.append((match.group(1), offset, offset + len(line), len(body)))
        offset += len(line)
    return spans


def get_section(body: str, name: str) -> str | None:
    for heading, _, content, end in _section_spans(body):
        if heading.lower() == name.lower():
            return body[content:end].strip("\n")
    return None


def set_section(body: str, name: str, text: str) -> str:
    """Replace (or append) section ``name`` with ``text``; sections are separated by one
    blank line and the body ends with a single newline."""
    content_text = text.strip("\n")
    for heading, _, content, end in _section_spans(body):
        if heading.lower() == name.lower():
            at_end = not body[end:].strip()
            block = f"\n{content_text}\n" if content_text else ""
            if not at_end:
                block += "\n"
            return body[:content] + block + body[end:]
    stem = body.rstrip("\n")
    prefix = f"{stem}\n\n" if stem else "\n"
    block = f"\n{content_text}\n" if content_text else ""
    return f"{prefix}## {name}\n{block}"


def append_to_section(body: str, name: str, line: str) -> str:
    current = get_section(body, name) or ""
    joined = f"{current}\n{line}" if current else line
    return set_section(body, name, joined)


def parse_criteria(section: str | None) -> list[Criterion]:
    if not section:
        return []
    found = []
    for line in section.split("\n"):  # not splitlines(): \x0c, \u2028... are not line ends
        match = _CHECK.match(line)
        if match:
            found.append(Criterion(match.group(2).strip(), match.group(1) != " "))
    return found


def render_criteria(criteria: list[Criterion]) -> str:
    return "\n".join(f"- [{'x' if c.done else ' '}] {c.text}" for c in criteria)


def task_body(
    description: str = "", criteria: list[Criterion] | None = None, notes: str = ""
) -> str:
    """The body of a new task with its three standard sections."""
    texts = (description, render_criteria(criteria or []), notes)
    if any("#" in text for text in texts):  # a text may hold a heading: section by section
        body = set_section("", DESCRIPTION, texts[0])
        body = set_section(body, ACCEPTANCE, texts[1])
        return set_section(body, NOTES, texts[2])
    # No heading anywhere: what set_section appends, without rescanning the body three times
    # (an import builds ten thousand bodies).
    body = ""
    for name, text in zip(TASK_SECTIONS, texts, strict=True):
        content = text.strip("\n")
        stem = body.rstrip("\n")
        body = (
            (f"{stem}\n\n" if stem else "\n")
            + f"## {name}\n"
            + (f"\n{content}\n" if content else "")
        )
    return body
