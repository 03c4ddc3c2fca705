"""One kanban column, virtualised: it renders only the cards that fit, whatever their number.

A column is one widget (never one widget per card): 10,000 tasks cost the same to paint as
ten. It draws with textual's line API (a list of strips built from rich segments), which
skips the generic content pipeline: a column repaints in about a millisecond. The board
owns which card is selected; the column owns its scroll position and keeps the selection
in view, and repaints only when what it shows changed.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from agentctl.core.board import Card, Column

PRIORITY_STYLE = {0: "bold red", 1: "yellow", 2: "cyan", 3: "dim"}
WIDE = 24  # from this inner width a card takes two lines instead of three

_STYLES: dict[str, Style] = {}


def style(spec: str) -> Style:
    cached = _STYLES.get(spec)
    if cached is None:
        cached = _STYLES[spec] = Style.parse(spec) if spec else Style()
    return cached


class LineBuilder:
    """Segments of one line, cut with an ellipsis at ``width`` cells and padded to it."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.used = 0
        self.segments: list[Segment] = []

    def add(self, text: str, spec: str = "") -> LineBuilder:
        room = self.width - self.used
        if room <= 0 or not text:
            return self
        size = cell_len(text)
        if size > room:
            text = set_cell_size(text, room - 1) + "…" if room > 1 else "…"
            size = room
        self.segments.append(Segment(text, style(spec)))
        self.used += size
        return self

    def strip(self, highlight: str = "") -> Strip:
        segments = self.segments
        if self.used < self.width:
            segments = [*segments, Segment(" " * (self.width - self.used), style(""))]
        if highlight:
            segments = list(Segment.apply_style(segments, post_style=style(highlight)))
        return Strip(segments, self.width)


def card_lines(card: Card, width: int) -> list[LineBuilder]:
    """The lines of one card: ID, priority and markers; title; assignees (narrow only).
    Narrow cards drop the ``t-`` of the ID (it is accepted without it) and pack the markers
    so they survive truncation."""
    wide = width >= WIDE
    head = LineBuilder(width)
    head.add(card.short_id if wide else card.short_id.removeprefix("t-"), "bold")
    head.add(" ").add(f"p{card.priority}", PRIORITY_STYLE.get(card.priority, ""))
    gap = " " if wide else ""
    if card.blocked or card.needs_review or card.unread:
        head.add(" ")
    if card.blocked:
        head.add("!", "bold red")
    if card.needs_review:
        head.add(gap * card.blocked + "?", "bold magenta")
    if card.unread:
        head.add(gap * (card.blocked or card.needs_review) + f"✉{card.unread}", "bold yellow")
    who = " ".join(f"@{a}" for a in card.assignees)
    if wide:
        if who:
            head.add(" " + who, "green")
        return [head, LineBuilder(width).add("  ").add(card.title)]
    return [head, LineBuilder(width).add(card.title), LineBuilder(width).add(who, "green")]


def header_line(status: str, count: str, width: int) -> LineBuilder:
    """``status count``, shortening the status rather than losing the count."""
    room = max(width - len(count) - 1, 1)
    name = status if len(status) <= room else status[: max(room - 1, 0)] + "…"
    return LineBuilder(width).add(name, "bold").add(" " + count, "dim")


@dataclass(frozen=True)
class ColumnState:
    """Everything a column's picture depends on (besides its size and scroll position)."""

    column: Column | None
    total_unfiltered: int
    cursor: int
    active: bool  # the column the board's cursor is in
    focused: bool  # the board has the keyboard focus
    done_collapsed: bool  # a done column showing only the latest cards


class CardColumn(Widget):
    """Renders its :class:`ColumnState` from ``top``; the card at ``cursor`` is highlighted
    when the column is active."""

    class Clicked(Message):
        """A click on a column: ``index`` is the card clicked, None for the header."""

        def __init__(self, column: CardColumn, index: int | None) -> None:
            super().__init__()
            self.column = column
            self.index = index

    def __init__(self, status: str, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="column")
        self.status = status
        self.state = ColumnState(None, 0, 0, False, False, False)
        self.top = 0
        self._strips: list[Strip] = []
        self._rows: list[int | None] = []  # line -> card index (None: not a card)
        self._built_for: tuple[object, ...] | None = None

    @property
    def column(self) -> Column | None:
        return self.state.column

    def show(self, state: ColumnState) -> None:
        """Show ``state``; repaints only if it differs from what is shown."""
        if state != self.state:
            self.state = state
            self.refresh()

    # -- layout -----------------------------------------------------------------------------

    @property
    def card_height(self) -> int:
        return 2 if self.content_size.width >= WIDE else 3

    def _window(self, body: int) -> tuple[int, int, bool, bool]:
        """(first card, cards shown, 'more above' line, 'more below' line) for ``body`` lines."""
        column = self.state.column
        cards = len(column.cards) if column else 0
        hidden = column.hidden if column else 0
        height = self.card_height
        cursor = self.state.cursor
        if cards * height + (1 if hidden else 0) <= body:
            self.top = 0
            return 0, cards, False, bool(hidden)
        top = max(0, min(self.top, cards - 1))
        for _ in range(3):  # settles in at most two passes: the indicator lines move
            above = top > 0
            fit = max(1, (body - int(above) - 1) // height)
            if cursor < top:
                top = cursor
            elif cursor >= top + fit:
                top = cursor - fit + 1
            else:
                break
        above = top > 0
        fit = max(1, (body - int(above) - 1) // height)
        self.top = top
        return top, min(fit, cards - top), above, True

    # -- rendering --------------------------------------------------------------------------

    def _build(self, width: int, height: int) -> None:
        state = self.state
        column = state.column
        lines: list[Strip] = []
        rows: list[int | None] = []
        if column is None:
            count = "…"
        elif column.total != state.total_unfiltered:
            count = f"{column.total}/{state.total_unfiltered}"
        else:
            count = str(column.total)
        highlight = ("reverse" if state.focused else "underline") if state.active else ""
        lines.append(header_line(self.status, count, width).strip(highlight))
        rows.append(None)
        if column is None:
            lines.append(LineBuilder(width).add("loading…", "dim").strip())
            rows.append(None)
        elif not column.cards:
            lines.append(LineBuilder(width).add("—", "dim").strip())
            rows.append(None)
        else:
            top, shown, above, below = self._window(height - 1)
            if above:
                lines.append(LineBuilder(width).add(f"↑ {top} more", "dim").strip())
                rows.append(None)
            for index in range(top, top + shown):
                selected = highlight if index == state.cursor else ""
                for line in card_lines(column.cards[index], width):
                    lines.append(line.strip(selected))
                    rows.append(index)
            if below:
                rest = len(column.cards) - top - shown
                if column.hidden and not state.done_collapsed:
                    rest += column.hidden  # not read yet: scrolling there reads them
                note = f"↓ {rest} more" if rest else ""
                if column.hidden and state.done_collapsed:
                    note = f"{note} +{column.hidden} (d: all)".strip()
                lines.append(LineBuilder(width).add(note, "dim").strip())
                rows.append(None)
        self._strips = lines[:height]
        self._rows = rows[:height]

    def render_line(self, y: int) -> Strip:
        width, height = self.content_size.width, self.content_size.height
        key = (self.state, width, height)
        if key != self._built_for:
            self._build(max(width, 1), max(height, 1))
            self._built_for = key
        if y < len(self._strips):
            return self._strips[y]
        return Strip.blank(width, style(""))

    def lines_text(self) -> list[str]:
        """The column as plain text lines (for tests)."""
        self.render_line(0)
        return [strip.text for strip in self._strips]

    def on_click(self, event: events.Click) -> None:
        line = event.y
        index = self._rows[line] if 0 <= line < len(self._rows) else None
        self.post_message(self.Clicked(self, index))
