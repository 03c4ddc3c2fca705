"""Markdown roadmaps read into a plan of tasks: the only module that parses markdown structure
(markdown-it-py) and the only user of ftfy (mojibake repair, imported only when needed).

Structure comes from markdown-it's token stream, turned here into blocks whose text is split
into lines (with bold and struck spans); :mod:`roadmap_build` makes items of them (headings
nest into sections, lists into tasks and subtasks, tables into milestones or sprint rows).
Regular expressions only read the text of one line or cell at a time (fields, status marks,
numbers: :mod:`roadmap_fields`). Pure:
bytes or text and a source name in, a :class:`~agentctl.store.roadmap_plan.Plan` out. The
rules are documented in docs/planning.md ("Roadmap import").
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from agentctl.errors import UsageError
from agentctl.store.roadmap_build import Block, Builder, Line
from agentctl.store.roadmap_plan import Ignored, Plan, finish

if TYPE_CHECKING:
    from markdown_it.token import Token

MAX_BYTES = 8 << 20  # 8 MiB: a 50,000-line roadmap is ~2-3 MiB
MAX_NESTING = 64  # markdown-it block levels (a list level takes two): deeper is refused
_MOJIBAKE = re.compile(
    "[ÂÃâðï][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013-\u2122]"
)
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


# -- input ------------------------------------------------------------------------------------


def decode(data: bytes, name: str) -> tuple[str, int]:
    """The text of a roadmap file and the number of lines repaired from mojibake; refuses a
    file that is too large, empty, binary or not UTF-8 (UsageError, exit 2)."""
    if len(data) > MAX_BYTES:
        raise UsageError(
            f"{name} is too large: {len(data):,} bytes (a roadmap holds at most {MAX_BYTES:,})"
        )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise UsageError(f"{name} is not valid UTF-16 text") from None
    else:
        if b"\x00" in data:
            raise UsageError(f"{name} is a binary file, not a markdown roadmap")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise UsageError(
                f"{name} is not UTF-8 text (invalid byte at offset {exc.start})",
                hint="save it as UTF-8",
            ) from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise UsageError(f"{name} is empty: there is nothing to import")
    text, repaired = repair_mojibake(text)
    found = _CONTROL.search(text)
    if found:
        line = text.count("\n", 0, found.start()) + 1
        raise UsageError(
            f"{name}:{line}: control character U+{ord(found.group()):04X}: not a text roadmap"
        )
    return text, repaired


def repair_mojibake(text: str) -> tuple[str, int]:
    """Lines that went through the wrong encoding (``âœ…`` for ✅) repaired with ftfy."""
    if not _MOJIBAKE.search(text):
        return text, 0
    import ftfy

    lines = text.split("\n")
    repaired = 0
    for n, line in enumerate(lines):
        if _MOJIBAKE.search(line):
            fixed = ftfy.fix_encoding(line)
            if fixed != line:
                lines[n] = fixed
                repaired += 1
    return "\n".join(lines), repaired


def parse(text: str, source: str, repaired: int = 0) -> Plan:
    """The plan of the roadmap ``text`` (``source`` names it in messages and keys)."""
    from markdown_it import MarkdownIt

    text, front = _front_matter(text)
    md = MarkdownIt("commonmark", {"maxNesting": MAX_NESTING}).enable(["table", "strikethrough"])
    tokens = md.parse(text)
    deepest = max((t.level for t in tokens), default=0)
    if deepest >= MAX_NESTING - 2:
        line = next(
            (t.map[0] + 1 for t in reversed(tokens) if t.map and t.level >= MAX_NESTING - 4), 1
        )
        raise UsageError(
            f"{source}:{line}: nested too deeply (lists or quotes more than {MAX_NESTING // 2 - 2} levels): "
            "not a roadmap this importer reads"
        )
    plan = Plan(source, repaired_lines=repaired, lines=text.count("\n") + 1)
    if front:
        plan.ignored.append(Ignored(1, "front matter", "", front))
    Builder(plan, text.split("\n")).run(_blocks(tokens))
    return finish(plan)


def _front_matter(text: str) -> tuple[str, int]:
    """YAML front matter (``---`` ... ``---`` at the very top) blanked out, keeping line numbers."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return text, 0
    for n in range(1, min(len(lines), 200)):
        if lines[n].strip() in ("---", "..."):
            return "\n" * (n + 1) + "\n".join(lines[n + 1 :]), n + 1
    return text, 0


# -- tokens to blocks ---------------------------------------------------------------------------


_OPEN = {
    "heading_open": "heading", "paragraph_open": "paragraph", "bullet_list_open": "list",
    "ordered_list_open": "list", "list_item_open": "item", "blockquote_open": "quote", "table_open": "table",
    "tr_open": "row",
}  # fmt: skip


def _blocks(tokens: list[Token]) -> list[Block]:
    """markdown-it's flat token stream as a tree of blocks (with a stack, not recursion)."""
    root = Block("root", 0, 0)
    stack = [root]
    in_head = False
    for token in tokens:
        kind = _OPEN.get(token.type)
        start, end = (token.map[0], token.map[1]) if token.map else (stack[-1].line, stack[-1].end)
        if kind is not None:
            block = Block(
                kind,
                start,
                end,
                level=int(token.tag[1]) if kind == "heading" else 0,
                header=in_head,
            )
            stack[-1].children.append(block)
            stack.append(block)
        elif token.type.endswith("_close") and token.type not in (
            "thead_close",
            "tbody_close",
            "th_close",
            "td_close",
        ):
            stack.pop()
        elif token.type == "thead_open":
            in_head = True
        elif token.type == "thead_close":
            in_head = False
        elif token.type == "inline":
            if stack[-1].kind == "row":
                stack[-1].cells.append(lines_of(token, stack[-1].line))
            else:
                stack[-1].lines = lines_of(token, stack[-1].line)
        elif token.type in ("fence", "code_block"):
            fence = token.markup or ""
            code = (
                f"{fence}{token.info}\n{token.content}{fence}" if fence else _indent(token.content)
            )
            stack[-1].children.append(Block("code", start, end, text=code.rstrip("\n")))
        elif token.type == "hr":
            stack[-1].children.append(Block("hr", start, end))
        elif token.type == "html_block":
            stack[-1].children.append(Block("html", start, end, text=token.content))
    return root.children


def _indent(code: str) -> str:
    return "\n".join("    " + line for line in code.rstrip("\n").split("\n"))


def lines_of(inline: Token | None, first_line: int) -> list[Line]:
    """The lines of an inline (split at soft and hard breaks and at ``<br>``)."""
    if inline is None:
        return []
    sources = inline.content.split("\n")
    lines = [Line("", sources[0] if sources else "", first_line + 1)]
    bold_at: int | None = None
    struck_at: int | None = None
    for child in inline.children or []:
        line = lines[-1]
        kind = child.type
        if kind in ("softbreak", "hardbreak") or (
            kind == "html_inline" and re.match(r"<br\s*/?>", child.content, re.IGNORECASE)
        ):
            if kind != "html_inline":
                index = len(lines)
                source = sources[index] if index < len(sources) else ""
                lines.append(Line("", source, first_line + 1 + index))
            else:
                lines.append(Line("", "", line.number))
            if bold_at is not None:
                line.bold.append((bold_at, len(line.text)))
                bold_at = 0
            if struck_at is not None:
                line.struck.append((struck_at, len(line.text)))
                struck_at = 0
        elif kind == "text":
            line.text += child.content
        elif kind == "code_inline":
            line.text += f"`{child.content}`"
        elif kind == "image":
            line.text += child.content
        elif kind == "strong_open":
            bold_at = len(line.text)
        elif kind == "strong_close" and bold_at is not None:
            line.bold.append((bold_at, len(line.text)))
            bold_at = None
        elif kind == "s_open":
            struck_at = len(line.text)
        elif kind == "s_close" and struck_at is not None:
            line.struck.append((struck_at, len(line.text)))
            struck_at = None
        elif kind == "html_inline" and child.content.startswith("<!--"):
            continue
        elif kind == "html_inline":
            line.text += child.content
    return lines
