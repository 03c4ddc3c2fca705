"""Markdown roadmaps read into a plan of tasks: the only module that parses markdown structure
(markdown-it-py) and the only user of ftfy (mojibake repair, imported only when needed).

Structure comes from markdown-it's token stream: headings nest into sections, lists into
tasks and subtasks, tables into milestones or sprint rows. Regular expressions only read the
text of one inline at a time (fields, status marks, numbers: :mod:`roadmap_fields`). Pure:
bytes or text and a source name in, a :class:`~agentctl.store.roadmap_plan.Plan` out. The
rules are documented in docs/planning.md ("Roadmap import").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from agentctl.errors import UsageError
from agentctl.store import roadmap_fields as rf
from agentctl.store.roadmap_plan import Criterion, Ignored, Item, Plan, finish
from agentctl.store.roadmap_tables import Table, table_items

if TYPE_CHECKING:
    from markdown_it.token import Token

MAX_BYTES = 8 << 20  # 8 MiB: a 50,000-line roadmap is ~2-3 MiB
MAX_NESTING = 64  # markdown-it block levels (a list level takes two): deeper is refused
MAX_TITLE = 200  # longer first lines are cut at a word; the whole text goes into the description
MAX_DESCRIPTION = 60_000  # characters of one task's description
_MOJIBAKE = re.compile("[ÂÃâðï][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013-\u2122]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


# -- input ------------------------------------------------------------------------------------


def decode(data: bytes, name: str) -> tuple[str, int]:
    """The text of a roadmap file and the number of lines repaired from mojibake; refuses a
    file that is too large, empty, binary or not UTF-8 (UsageError, exit 2)."""
    if len(data) > MAX_BYTES:
        raise UsageError(f"{name} is too large: {len(data):,} bytes (a roadmap holds at most {MAX_BYTES:,})")
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
            raise UsageError(f"{name} is not UTF-8 text (invalid byte at offset {exc.start})", hint="save it as UTF-8") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise UsageError(f"{name} is empty: there is nothing to import")
    text, repaired = repair_mojibake(text)
    found = _CONTROL.search(text)
    if found:
        line = text.count("\n", 0, found.start()) + 1
        raise UsageError(f"{name}:{line}: control character U+{ord(found.group()):04X}: not a text roadmap")
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
        line = next((t.map[0] + 1 for t in reversed(tokens) if t.map and t.level >= MAX_NESTING - 4), 1)
        raise UsageError(
            f"{source}:{line}: nested too deeply (lists or quotes more than {MAX_NESTING // 2 - 2} levels): "
            "not a roadmap this importer reads"
        )
    plan = Plan(source, repaired_lines=repaired, lines=text.count("\n") + 1)
    if front:
        plan.ignored.append(Ignored(1, "front matter", "", front))
    _Builder(plan, text.split("\n")).run(_blocks(tokens))
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


@dataclass(eq=False)
class Block:
    kind: str  # heading, paragraph, list, item, table, row, code, hr, quote, html
    line: int  # 0-based
    end: int
    level: int = 0  # heading level
    inline: Token | None = None
    children: list[Block] = field(default_factory=list)
    cells: list[Token] = field(default_factory=list)  # a table row's inline tokens
    header: bool = False
    text: str = ""  # code blocks: the code with its fence


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
            block = Block(kind, start, end, level=int(token.tag[1]) if kind == "heading" else 0, header=in_head)
            stack[-1].children.append(block)
            stack.append(block)
        elif token.type.endswith("_close") and token.type not in ("thead_close", "tbody_close", "th_close", "td_close"):
            stack.pop()
        elif token.type == "thead_open":
            in_head = True
        elif token.type == "thead_close":
            in_head = False
        elif token.type == "inline":
            if stack[-1].kind == "row":
                stack[-1].cells.append(token)
            else:
                stack[-1].inline = token
        elif token.type in ("fence", "code_block"):
            fence = token.markup or ""
            code = f"{fence}{token.info}\n{token.content}{fence}" if fence else _indent(token.content)
            stack[-1].children.append(Block("code", start, end, text=code.rstrip("\n")))
        elif token.type == "hr":
            stack[-1].children.append(Block("hr", start, end))
        elif token.type == "html_block":
            stack[-1].children.append(Block("html", start, end, text=token.content))
    return root.children


def _indent(code: str) -> str:
    return "\n".join("    " + line for line in code.rstrip("\n").split("\n"))


# -- inline text --------------------------------------------------------------------------------


@dataclass
class Line:
    """One line of an inline: its plain text, markdown source, and where bold/struck text is."""

    text: str
    source: str
    number: int  # 1-based line in the roadmap
    bold: list[tuple[int, int]] = field(default_factory=list)
    struck: list[tuple[int, int]] = field(default_factory=list)


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
        if kind in ("softbreak", "hardbreak") or (kind == "html_inline" and re.match(r"<br\s*/?>", child.content, re.IGNORECASE)):
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


def _one_line(lines: list[Line], line: int) -> Line:
    """A heading's lines (a setext heading may have several) as one."""
    if not lines:
        return Line("", "", line + 1)
    merged = lines[0]
    for more in lines[1:]:
        shift = len(merged.text) + 1
        merged = Line(f"{merged.text} {more.text}", f"{merged.source} {more.source}", merged.number,
                      merged.bold + [(a + shift, b + shift) for a, b in more.bold],
                      merged.struck + [(a + shift, b + shift) for a, b in more.struck])  # fmt: skip
    return merged


def _covered(spans: list[tuple[int, int]], text: str, start: int) -> bool:
    """True if the spans cover every non-blank character of ``text`` from ``start``."""
    if not spans:
        return False
    chars = [i for i in range(start, len(text)) if not text[i].isspace()]
    return bool(chars) and all(any(a <= i < b for a, b in spans) for i in chars)


@dataclass
class Title:
    status: str | None
    title: str
    rest: str  # text after a bold title, for the description
    struck: bool
    fields: dict[str, str]


def read_title(line: Line, use_checkbox: bool = True) -> Title:
    """A title line: checkbox, status marks, strikethrough, bold title, trailing fields."""
    text = line.text
    status, after = rf.checkbox(text) if use_checkbox else (None, text)
    offset = len(text) - len(after)
    struck = _covered(line.struck, text, offset)
    rest = ""
    lead = len(after) - len(after.lstrip())
    bold = next((span for span in line.bold if span[0] == offset + lead), None)
    if bold is not None and bold[1] < len(text):
        tail = text[bold[1] :]
        separated = re.match(r"^\s*[:\-–—]\s*|^\s*$", tail) or text[bold[1] - 1] == ":"
        if separated and tail.strip():
            after = text[offset + lead : bold[1]]
            rest = re.sub(r"^\s*[:\-–—]\s*", "", tail).strip()
    fields, after = rf.take_trailing_fields(after)
    mark, after = rf.take_marks(after)
    if status is None:
        status = mark or (rf.DONE if struck else None)
    return Title(status, rf.clean_title(after).rstrip(":").strip(), rest, struck, fields)


# -- blocks to items ----------------------------------------------------------------------------


class _Builder:
    def __init__(self, plan: Plan, source_lines: list[str]) -> None:
        self.plan = plan
        self.source = source_lines

    def ignore(self, line: int, reason: str, text: str = "", end: int | None = None) -> None:
        self.plan.ignored.append(Ignored(line, reason, text[:120], end if end and end > line else None))

    def raw(self, block: Block) -> str:
        """A block's markdown source, dedented (prose for descriptions)."""
        if block.kind == "code":
            return block.text
        lines = self.source[block.line : block.end]
        indent = min((len(s) - len(s.lstrip()) for s in lines if s.strip()), default=0)
        return "\n".join(s[indent:] for s in lines).strip("\n")

    def run(self, blocks: list[Block]) -> None:
        root = Item("", "root", 0)
        stack: list[tuple[int, Item, str, str]] = [(0, root, "work", "")]  # level, owner, mode, section title
        i = 0
        while i < len(blocks):
            block = blocks[i]
            if block.kind == "heading":
                while len(stack) > 1 and stack[-1][0] >= block.level:
                    stack.pop()
                _, owner, mode, name = stack[-1]
                line = _one_line(lines_of(block.inline, block.line), block.line)
                title = read_title(line, use_checkbox=False)
                if mode != "work":
                    self.ignore(block.line + 1, _mode_reason(mode, name), title.title)
                    stack.append((block.level, owner, mode, name))
                else:
                    role = rf.section_role(title.title)
                    if role is not None:
                        if role == "criteria" and owner.kind == "root":
                            role = "orphan"
                        if role != "criteria":  # a criteria heading is used: its lists are criteria
                            self.ignore(block.line + 1, _heading_reason(role, owner), title.title)
                        stack.append((block.level, owner, role, title.title))
                    else:
                        item = self.item_from_title(title, "section", block.line + 1, line)
                        owner.children.append(item)
                        stack.append((block.level, item, "work", ""))
                i += 1
                continue
            _, owner, mode, name = stack[-1]
            i = self.block(blocks, i, owner, mode, name)
        self.plan.items = root.children
        if root.description:
            self.ignore(1, "text before the first heading (no section to describe)")
        if root.criteria:
            self.ignore(1, "acceptance criteria outside any section")

    def item_from_title(self, title: Title, kind: str, line: int, source: Line | None = None) -> Item:
        text = title.title or "(untitled)"
        word, number, _ = rf.strip_number(text)
        if len(text) > MAX_TITLE:
            cut = text[:MAX_TITLE].rsplit(" ", 1)[0]
            item = Item(cut + " …", kind, line, number=number, word=word)
            item.description.append(text)
        else:
            item = Item(text, kind, line, number=number, word=word)
        item.status = title.status
        item.explicit = number is not None or title.status is not None
        if title.rest:
            self.line_into(item, Line(title.rest, title.rest, line))
        for name, value in title.fields.items():
            self.apply_field(item, name, value, line)
        return item

    # -- one block under an owner ----------------------------------------------------------

    def block(self, blocks: list[Block], i: int, owner: Item, mode: str, name: str) -> int:
        """Handle ``blocks[i]`` (and the list after an intro paragraph); the next index."""
        block = blocks[i]
        following = blocks[i + 1] if i + 1 < len(blocks) else None
        if mode in ("info", "examples", "orphan"):
            first = self.raw(block).split("\n")[0] if block.kind != "code" else "code block"
            self.ignore(block.line + 1, _mode_reason(mode, name), first, block.end)
            return i + 1
        if mode == "criteria":
            self.criteria(block, owner)
            return i + 1
        if block.kind == "paragraph":
            lines = lines_of(block.inline, block.line)
            intro = self.intro(lines) if following is not None and following.kind == "list" else None
            if intro is not None:
                what, title = intro
                if what == "criteria":
                    self.criteria(following, owner)  # type: ignore[arg-type]
                elif what == "examples":
                    self.ignore(block.line + 1, "examples, not work", title, following.end)  # type: ignore[union-attr]
                elif what == "tasks":
                    self.list_items(following, owner)  # type: ignore[arg-type]
                else:
                    group = self.item_from_title(read_title(lines[0]), "task", block.line + 1)
                    owner.children.append(group)
                    self.list_items(following, group)  # type: ignore[arg-type]
                return i + 2
            self.paragraph(lines, owner)
        elif block.kind == "list":
            self.list_items(block, owner)
        elif block.kind == "table":
            items, ignored = table_items(_table(block))
            owner.children.extend(items)
            for line, reason, text in ignored:
                self.ignore(line, reason, text)
        elif block.kind in ("code", "quote"):
            self.describe(owner, self.raw(block), block.line + 1)
        elif block.kind == "hr":
            self.ignore(block.line + 1, "horizontal rule")
        elif block.kind == "html":
            reason = "HTML comment" if block.text.lstrip().startswith("<!--") else "HTML block"
            self.ignore(block.line + 1, reason, block.text.split("\n")[0], block.end)
        elif block.kind == "heading":  # a heading inside a list item: read as a line of text
            self.paragraph(lines_of(block.inline, block.line), owner)
        return i + 1

    def intro(self, lines: list[Line]) -> tuple[str, str] | None:
        """A one-line paragraph introducing the list after it: ``**Tasks:**`` (tasks),
        ``Acceptance Criteria:`` (criteria), ``Examples:``, or a bold title (a group task)."""
        if len(lines) != 1:
            return None
        line = lines[0]
        field_ = rf.split_field(line.text)
        if field_ is not None and not field_[1] and field_[0] in ("criteria", "tasks", "examples"):
            return field_[0], line.text
        if _covered(line.bold, line.text, 0) and field_ is None:
            return "group", line.text
        return None

    def paragraph(self, lines: list[Line], owner: Item) -> None:
        n = 0
        while n < len(lines):
            line = lines[n]
            found = rf.split_field(line.text)
            if found is not None and not found[1] and n + 1 < len(lines):
                # "Dependencies:" with its value on the following lines
                name = found[0]
                values = []
                while n + 1 < len(lines) and rf.split_field(lines[n + 1].text) is None:
                    n += 1
                    values.append(lines[n].text.strip().lstrip("-*•").strip())
                if name == "criteria":
                    owner.criteria.extend(_criterion(v) for v in values if v)
                elif name in ("tasks", "examples"):
                    self.describe(owner, "\n".join([line.source, *values]), line.number)
                else:
                    self.apply_field(owner, name, ", ".join(values), line.number)
            else:
                self.line_into(owner, line)
            n += 1

    def line_into(self, owner: Item, line: Line) -> None:
        """A line under an item: labelled fields of it, or prose for its description."""
        parts = rf.split_fields(line.text)
        if len(parts) > 1:
            for part in parts:
                self.line_into(owner, Line(part, part, line.number))
            return
        found = rf.split_field(line.text)
        if found is None:
            self.describe(owner, line.source or line.text, line.number)
            return
        name, value = found
        if name == "criteria":
            if value:
                owner.criteria.append(_criterion(value))
        elif name in ("tasks", "examples"):
            self.describe(owner, line.source or line.text, line.number)
        elif not self.apply_field(owner, name, value, line.number):
            self.describe(owner, line.source or line.text, line.number)

    def apply_field(self, item: Item, name: str, value: str, line: int) -> bool:
        """Set a field from its written value; False (and reported) if the value is not one."""
        if item.kind == "root":
            self.ignore(line, f"{name} outside any section", value)
            return True
        value = value.strip().strip("*_").strip()
        if name == "estimate":
            estimate = rf.parse_estimate_text(value)
            if estimate is None:
                self.ignore(line, "estimate not understood (use forms like 4h, 4-6 hours, 2 days)", value)
                return False
            item.estimate = estimate
        elif name == "depends":
            if value.strip(" .").lower() not in rf.NO_REFERENCE:
                item.depends.append((value, line))
        elif name == "labels":
            item.labels.extend(label for label in rf.parse_labels(value) if label not in item.labels)
        elif name == "owner":
            item.owners.extend(o for o in rf.split_owners(value) if o not in item.owners)
        elif name == "status":
            status = rf.status_word(value) or rf.take_marks(value)[0]
            if status is None:
                self.ignore(line, "status not understood", value)
                return False
            item.status = status
            item.explicit = True
        elif name == "due":
            due = rf.parse_due(value)
            if due is None:
                return False  # "Target: first working POC": prose, kept in the description
            item.due = due
        elif name == "priority":
            priority = rf.parse_priority(value)
            if priority is None:
                self.ignore(line, "priority not understood (use P0-P3 or critical/high/medium/low)", value)
                return False
            item.priority = priority
        return True

    def describe(self, item: Item, text: str, line: int) -> None:
        text = text.strip("\n")
        if not text.strip():
            return
        size = sum(len(part) for part in item.description)
        if size + len(text) > MAX_DESCRIPTION:
            if size < MAX_DESCRIPTION:
                item.description.append("…")
            self.ignore(line, "description too long for one task: cut here", item.title)
            item.description.append("")
            return
        item.description.append(text)

    # -- lists --------------------------------------------------------------------------------

    def list_items(self, block: Block, owner: Item) -> None:
        for entry in block.children:
            self.list_item(entry, owner)

    def list_item(self, entry: Block, owner: Item) -> None:
        if not entry.children:
            self.ignore(entry.line + 1, "empty list item")
            return
        first = entry.children[0]
        if first.kind not in ("paragraph", "heading"):
            self.blocks(entry.children, owner)  # "- ```code```" or "- - nested": belongs to the owner
            return
        lines = lines_of(first.inline, first.line)
        head = lines[0]
        status, after = rf.checkbox(head.text)
        found = rf.split_field(after) if status is None else None
        if found is not None:  # "- Estimate: 4h", "- **Acceptance:**" + a nested list
            name, value = found
            rest = entry.children[1:]
            if name == "criteria":
                if value:
                    owner.criteria.append(_criterion(value))
                for line in lines[1:]:
                    owner.criteria.append(_criterion(line.text))
                for child in rest:
                    self.criteria(child, owner)
                return
            if name == "examples":
                self.ignore(entry.line + 1, "examples, not work", head.text, entry.end)
                return
            if name != "tasks":
                self.paragraph(lines, owner)
            self.blocks(rest, owner)
            return
        item = self.item_from_title(read_title(head), "task", head.number)
        owner.children.append(item)
        for line in lines[1:]:
            self.line_into(item, line)
        self.blocks(entry.children[1:], item)

    def blocks(self, blocks: list[Block], owner: Item) -> None:
        i = 0
        while i < len(blocks):
            i = self.block(blocks, i, owner, "work", "")

    # -- acceptance criteria ------------------------------------------------------------------

    def criteria(self, block: Block, owner: Item) -> None:
        """Every line of a criteria block: a criterion of ``owner`` (checked only by ``[x]``:
        a ✅ in front of a criterion is a bullet style as often as a result)."""
        if owner.kind == "root":
            self.ignore(block.line + 1, "acceptance criteria outside any section", "", block.end)
            return
        if block.kind == "paragraph" or block.kind == "heading":
            for line in lines_of(block.inline, block.line):
                if line.text.strip():
                    owner.criteria.append(_criterion(line.text))
        elif block.kind == "list":
            stack = list(reversed(block.children))
            while stack:
                entry = stack.pop()
                for child in reversed(entry.children):
                    if child.kind == "list":
                        stack.extend(reversed(child.children))
                for child in entry.children:
                    if child.kind in ("paragraph", "heading"):
                        for line in lines_of(child.inline, child.line):
                            if line.text.strip():
                                owner.criteria.append(_criterion(line.text))
        elif block.kind in ("code", "quote"):
            self.describe(owner, self.raw(block), block.line + 1)
        elif block.kind != "hr":
            self.ignore(block.line + 1, f"{block.kind} in an acceptance criteria section", "", block.end)


def _table(block: Block) -> Table:
    header: list[str] = []
    rows: list[tuple[int, list[list[str]]]] = []
    for row in block.children:
        cells = [[line.text.strip() for line in lines_of(cell, row.line)] for cell in row.cells]
        if row.header:
            header = [" ".join(cell) for cell in cells]
        else:
            rows.append((row.line + 1, cells))
    return Table(header, rows, block.line + 1)


def _criterion(text: str) -> Criterion:
    status, rest = rf.checkbox(text.strip())
    _, rest = rf.take_marks(rest)
    return Criterion(" ".join(rest.split()).strip(" -*•") or text.strip(), status == rf.DONE)


def _heading_reason(role: str, owner: Item) -> str:
    if role == "criteria":
        return f"acceptance criteria of {owner.label!r}"
    if role == "examples":
        return "examples, not work"
    if role == "orphan":
        return "acceptance criteria outside any section"
    return "notes section (not work): its content is not imported"


def _mode_reason(mode: str, name: str) -> str:
    if mode == "criteria":
        return f"heading inside the criteria section {name!r}: its items are criteria"
    if mode == "orphan":
        return f"in the criteria section {name!r} outside any section"
    if mode == "examples":
        return f"in the examples section {name!r}"
    return f"in the notes section {name!r}"
