"""One kanban column, virtualised: it renders only the cards that fit, whatever their number.

A column is one widget (never one widget per card): 10,000 tasks cost the same to paint as
ten. The board owns which card is selected; the column owns its scroll position and keeps
the selected card in view.
"""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.message import Message
from textual.widget import Widget

from agentctl.core.board import Card, Column

PRIORITY_STYLE = {0: "bold red", 1: "yellow", 2: "cyan", 3: "dim"}
WIDE = 24  # from this inner width a card takes two lines instead of three


def card_lines(card: Card, width: int) -> list[Text]:
    """The lines of one card: ID, priority and markers; title; assignees (narrow only).
    Narrow cards drop the ``t-`` of the ID (it is accepted without it) and pack the markers
    so they survive truncation."""
    wide = width >= WIDE
    head = Text(no_wrap=True, overflow="ellipsis")
    head.append(card.short_id if wide else card.short_id.removeprefix("t-"), style="bold")
    head.append(" ")
    head.append(f"p{card.priority}", style=PRIORITY_STYLE.get(card.priority, ""))
    gap = " " if wide else ""
    if card.blocked or card.needs_review or card.unread:
        head.append(" ")
    if card.blocked:
        head.append("!", style="bold red")
    if card.needs_review:
        head.append(gap * card.blocked + "?", style="bold magenta")
    if card.unread:
        head.append(gap * (card.blocked or card.needs_review) + f"✉{card.unread}", style="bold yellow")
    who = " ".join(f"@{a}" for a in card.assignees)
    title = Text(card.title, no_wrap=True, overflow="ellipsis")
    if wide:
        if who:
            head.append(" " + who, style="green")
        lines = [head, Text("  ") + title]
    else:
        lines = [head, title, Text(who or " ", style="green", no_wrap=True, overflow="ellipsis")]
    for line in lines:
        line.truncate(width, overflow="ellipsis", pad=True)
    return lines


def header_text(status: str, count: str, width: int) -> Text:
    """``status count``, shortening the status rather than losing the count."""
    room = max(width - len(count) - 1, 1)
    name = status if len(status) <= room else status[: max(room - 1, 0)] + "…"
    header = Text(no_wrap=True, overflow="ellipsis")
    header.append(name, style="bold")
    header.append(" " + count, style="dim")
    header.truncate(width, overflow="ellipsis", pad=True)
    return header


class CardColumn(Widget):
    """Renders ``column`` from ``top``; the card at ``cursor`` is highlighted when active."""

    class Clicked(Message):
        """A click on a column: ``index`` is the card clicked, None for the header."""

        def __init__(self, column: CardColumn, index: int | None) -> None:
            super().__init__()
            self.column = column
            self.index = index

    def __init__(self, status: str, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="column")
        self.status = status
        self.column: Column | None = None
        self.total_unfiltered = 0
        self.cursor = 0
        self.top = 0
        self.active = False  # the column the board's cursor is in
        self.board_focused = False
        self.done_collapsed = False  # a done column showing only the latest cards
        self._rows: list[int | None] = []  # rendered line -> card index (None: not a card)

    # -- state set by the board --------------------------------------------------------------

    def show(self, column: Column | None, total_unfiltered: int, cursor: int, active: bool, focused: bool, done_collapsed: bool) -> None:
        self.column = column
        self.total_unfiltered = total_unfiltered
        self.cursor = cursor
        self.active = active
        self.board_focused = focused
        self.done_collapsed = done_collapsed
        self.refresh()

    # -- layout -----------------------------------------------------------------------------

    @property
    def card_height(self) -> int:
        return 2 if self.content_size.width >= WIDE else 3

    def _window(self, body: int) -> tuple[int, int, bool, bool]:
        """(first card, cards shown, 'more above' line, 'more below' line) for ``body`` lines."""
        cards = len(self.column.cards) if self.column else 0
        hidden = self.column.hidden if self.column else 0
        height = self.card_height
        if cards * height + (1 if hidden else 0) <= body:
            self.top = 0
            return 0, cards, False, bool(hidden)
        top = max(0, min(self.top, cards - 1))
        for _ in range(3):  # settles in at most two passes: the indicator lines move
            above = top > 0
            fit = max(1, (body - int(above) - 1) // height)
            if self.cursor < top:
                top = self.cursor
            elif self.cursor >= top + fit:
                top = self.cursor - fit + 1
            else:
                break
        above = top > 0
        fit = max(1, (body - int(above) - 1) // height)
        self.top = top
        return top, min(fit, cards - top), above, True

    # -- rendering --------------------------------------------------------------------------

    def render(self) -> Text:
        width = max(self.content_size.width, 1)
        height = max(self.content_size.height, 1)
        column = self.column
        out: list[Text] = []
        rows: list[int | None] = []
        if column is None:
            count = "…"
        elif column.total != self.total_unfiltered:
            count = f"{column.total}/{self.total_unfiltered}"
        else:
            count = str(column.total)
        header = header_text(self.status, count, width)
        if self.active:
            header.stylize("reverse" if self.board_focused else "underline")
        out.append(header)
        rows.append(None)
        if column is None:
            out.append(Text("loading…", style="dim"))
            rows.append(None)
        elif not column.cards:
            out.append(Text("—", style="dim"))
            rows.append(None)
        else:
            top, shown, above, below = self._window(height - 1)
            if above:
                out.append(Text(f"↑ {top} more", style="dim", no_wrap=True, overflow="ellipsis"))
                rows.append(None)
            for index in range(top, top + shown):
                lines = card_lines(column.cards[index], width)
                if self.active and index == self.cursor:
                    for line in lines:
                        line.stylize("reverse" if self.board_focused else "underline")
                out.extend(lines)
                rows.extend([index] * len(lines))
            if below:
                rest = len(column.cards) - top - shown
                note = f"↓ {rest} more" if rest else ""
                if column.hidden:
                    extra = f"+{column.hidden} " + ("(d: all)" if self.done_collapsed else "(/ filter)")
                    note = f"{note} {extra}".strip()
                out.append(Text(note, style="dim", no_wrap=True, overflow="ellipsis"))
                rows.append(None)
        self._rows = rows
        result = Text("\n").join(out[:height])
        result.no_wrap = True
        return result

    def on_click(self, event: events.Click) -> None:
        line = event.y
        if 0 <= line < len(self._rows):
            index = self._rows[line]
            self.post_message(self.Clicked(self, index))
        else:
            self.post_message(self.Clicked(self, None))
