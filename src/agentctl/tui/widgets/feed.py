"""The live activity feed: the newest events, newest at the bottom like a log."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from rich.text import Text
from textual.widget import Widget

from agentctl.tui.view import FeedLine, clock_time


def feed_text(line: FeedLine, now: datetime) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(clock_time(line.ts, now), style="dim")
    text.append(" ")
    text.append(line.actor, style="bold")
    text.append(" ")
    text.append(line.text)
    return text


class Feed(Widget):
    """Shows as many of the latest events as fit."""

    def __init__(self, clock: Callable[[], datetime], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock = clock
        self.lines: tuple[FeedLine, ...] = ()
        self.border_title = "activity"

    def show(self, lines: Sequence[FeedLine]) -> None:
        if tuple(lines) != self.lines:
            self.lines = tuple(lines)
            self.refresh()

    def render(self) -> Text:
        height = max(self.content_size.height, 1)
        width = max(self.content_size.width, 1)
        if not self.lines:
            return Text("no activity yet", style="dim")
        now = self.clock()
        shown = []
        for line in self.lines[-height:]:
            text = feed_text(line, now)
            text.truncate(width, overflow="ellipsis")
            shown.append(text)
        result = Text("\n").join(shown)
        result.no_wrap = True
        return result
