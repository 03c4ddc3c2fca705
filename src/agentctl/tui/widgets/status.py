"""The status line above the key help: counts, filter, who acts, and liveness."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget


class StatusLine(Widget):
    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.left = Text("loading…", style="dim")
        self.right = Text()

    def show(self, left: Text, right: Text) -> None:
        self.left, self.right = left, right
        self.refresh()

    def render(self) -> Text:
        width = max(self.content_size.width, 1)
        right = self.right.copy()
        room = width - right.cell_len - 1
        left = self.left.copy()
        if room < 10:
            right = Text()
            room = width
        left.truncate(max(room, 0), overflow="ellipsis", pad=True)
        line = Text(no_wrap=True)
        line.append_text(left)
        if right.cell_len:
            line.append(" ")
            line.append_text(right)
        return line
