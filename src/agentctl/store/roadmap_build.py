"""A roadmap's blocks (headings, paragraphs, lists, tables, code, with their text already
split into lines) turned into the items of a plan: what becomes a task, a field, an
acceptance criterion or a line of description, and what is reported as ignored. The
markdown itself is read by :mod:`agentctl.store.roadmap`; the rules are in docs/planning.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from agentctl.store import roadmap_fields as rf
from agentctl.store.roadmap_plan import Criterion, Ignored, Item, Plan
from agentctl.store.roadmap_tables import Table, table_items

MAX_TITLE = 200  # longer first lines are cut at a word; the whole text goes into the description
MAX_DESCRIPTION = 60_000  # characters of one task's description


@dataclass
class Line:
    """One line of an inline: its plain text, markdown source, and where bold/struck text is."""

    text: str
    source: str
    number: int  # 1-based line in the roadmap
    bold: list[tuple[int, int]] = field(default_factory=list)
    struck: list[tuple[int, int]] = field(default_factory=list)


@dataclass(eq=False)
class Block:
    kind: str  # heading, paragraph, list, item, table, row, code, hr, quote, html
    line: int  # 0-based
    end: int
    level: int = 0  # heading level
    lines: list[Line] = field(default_factory=list)  # a heading's or paragraph's text
    children: list[Block] = field(default_factory=list)
    cells: list[list[Line]] = field(default_factory=list)  # a table row's cells
    header: bool = False
    text: str = ""  # code blocks: the code with its fence


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


class Builder:
    def __init__(self, plan: Plan, source_lines: list[str]) -> None:
        self.plan = plan
        self.source = source_lines

    def ignore(self, line: int, reason: str, text: str = "", end: int | None = None) -> None:
        self.plan.ignored.append(
            Ignored(line, reason, text[:120], end if end and end > line else None)
        )

    def raw(self, block: Block) -> str:
        """A block's markdown source, dedented (prose for descriptions)."""
        if block.kind == "code":
            return block.text
        lines = self.source[block.line : block.end]
        indent = min((len(s) - len(s.lstrip()) for s in lines if s.strip()), default=0)
        return "\n".join(s[indent:] for s in lines).strip("\n")

    def run(self, blocks: list[Block]) -> None:
        root = Item("", "root", 0)
        stack: list[tuple[int, Item, str, str]] = [
            (0, root, "work", "")
        ]  # level, owner, mode, section title
        i = 0
        while i < len(blocks):
            block = blocks[i]
            if block.kind == "heading":
                while len(stack) > 1 and stack[-1][0] >= block.level:
                    stack.pop()
                _, owner, mode, name = stack[-1]
                line = _one_line(block.lines, block.line)
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

    def item_from_title(
        self, title: Title, kind: str, line: int, source: Line | None = None
    ) -> Item:
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
            lines = block.lines
            intro = (
                self.intro(lines) if following is not None and following.kind == "list" else None
            )
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
            self.paragraph(block.lines, owner)
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
                self.ignore(
                    line, "estimate not understood (use forms like 4h, 4-6 hours, 2 days)", value
                )
                return False
            item.estimate = estimate
        elif name == "depends":
            if value.strip(" .").lower() not in rf.NO_REFERENCE:
                item.depends.append((value, line))
        elif name == "labels":
            item.labels.extend(
                label for label in rf.parse_labels(value) if label not in item.labels
            )
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
                self.ignore(
                    line, "priority not understood (use P0-P3 or critical/high/medium/low)", value
                )
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
            self.blocks(
                entry.children, owner
            )  # "- ```code```" or "- - nested": belongs to the owner
            return
        lines = first.lines
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
            for line in block.lines:
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
                        for line in child.lines:
                            if line.text.strip():
                                owner.criteria.append(_criterion(line.text))
        elif block.kind in ("code", "quote"):
            self.describe(owner, self.raw(block), block.line + 1)
        elif block.kind != "hr":
            self.ignore(
                block.line + 1, f"{block.kind} in an acceptance criteria section", "", block.end
            )


def _table(block: Block) -> Table:
    header: list[str] = []
    rows: list[tuple[int, list[list[str]]]] = []
    for row in block.children:
        cells = [[line.text.strip() for line in cell] for cell in row.cells]
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
