"""The agent bar: every agent's status, current task, heartbeat age and unread count."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.widget import Widget

from agentctl.core.board import AgentChip
from agentctl.tui.view import age

STATUS_GLYPH = {"idle": "○", "active": "●", "blocked": "✖", "stale": "◌", "pending": "◇"}
STATUS_STYLE = {
    "idle": "",
    "active": "bold green",
    "blocked": "bold red",
    "stale": "yellow",
    "pending": "bold magenta",  # proposed by an agent: waits for 'agentctl agent approve'
}
MAX_LINES = 2


def chip_text(chip: AgentChip) -> Text:
    text = Text(no_wrap=True)
    text.append(STATUS_GLYPH.get(chip.status, "?") + " ", style=STATUS_STYLE.get(chip.status, ""))
    text.append(chip.name, style="bold")
    if chip.host:
        text.append(f"@{chip.host}", style="dim")
    text.append(f" {chip.status}", style=STATUS_STYLE.get(chip.status, ""))
    if chip.current_task:
        text.append(f" →{chip.current_task}", style="cyan")
    text.append(f" {age(chip.heartbeat_age)}", style="dim")
    if chip.unread:
        text.append(f" ✉{chip.unread}", style="bold yellow")
    return text


class AgentBar(Widget, can_focus=True):
    """Chips packed into at most two lines; ←/→ pick an agent when focused."""

    BINDINGS = [
        Binding("left", "pick(-1)", "agent", show=False),
        Binding("right", "pick(1)", "agent", show=False),
        Binding("enter", "open", "open agent"),
        Binding("h", "heartbeat", "heartbeat"),
    ]

    class Open(Message):
        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

    class Heartbeat(Message):
        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.chips: tuple[AgentChip, ...] = ()
        self.index = 0
        self._spans: list[tuple[int, int, int]] = []  # (line, start, end) per chip shown

    def show(self, chips: Sequence[AgentChip]) -> None:
        if tuple(chips) == self.chips:
            return
        selected = self.selected
        lines = len(self._lines(max(self.content_size.width, 1)))
        self.chips = tuple(chips)
        names = [c.name for c in self.chips]
        self.index = (
            names.index(selected) if selected in names else min(self.index, max(len(names) - 1, 0))
        )
        # a new layout only when the bar needs another number of lines
        self.refresh(layout=len(self._lines(max(self.content_size.width, 1))) != lines)

    @property
    def selected(self) -> str | None:
        return self.chips[self.index].name if 0 <= self.index < len(self.chips) else None

    def _lines(self, width: int) -> list[Text]:
        if not self.chips:
            return [Text("no agents yet: agentctl agent add NAME --role ROLE", style="dim")]
        lines: list[Text] = [Text(no_wrap=True)]
        self._spans = []
        shown = 0
        for number, chip in enumerate(self.chips):
            text = chip_text(chip)
            if number == self.index:
                text.stylize("reverse" if self.has_focus else "underline")
            line = lines[-1]
            gap = 2 if line.cell_len else 0
            if line.cell_len + gap + text.cell_len > width and line.cell_len:
                if len(lines) == MAX_LINES:
                    break
                lines.append(Text(no_wrap=True))
                line, gap = lines[-1], 0
            start = line.cell_len + gap
            line.append(" " * gap)
            line.append_text(text)
            self._spans.append((len(lines) - 1, start, line.cell_len))
            shown += 1
        rest = len(self.chips) - shown
        if rest:
            more = Text(f" +{rest} (see agent list)", style="dim")
            last = lines[-1]
            if last.cell_len + more.cell_len > width:
                last.truncate(max(width - more.cell_len, 0))
            last.append_text(more)
        return lines

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._lines(width))

    def render(self) -> Text:
        width = max(self.content_size.width, 1)
        result = Text("\n").join(self._lines(width))
        result.no_wrap = True
        return result

    def action_pick(self, step: int) -> None:
        if self.chips:
            self.index = (self.index + step) % len(self.chips)
            self.refresh()

    def action_open(self) -> None:
        if self.selected:
            self.post_message(self.Open(self.selected))

    def action_heartbeat(self) -> None:
        if self.selected:
            self.post_message(self.Heartbeat(self.selected))

    def on_click(self, event: events.Click) -> None:
        for number, (line, start, end) in enumerate(self._spans):
            if line == event.y and start <= event.x < end:
                self.index = number
                self.refresh()
                if event.chain > 1:
                    self.post_message(self.Open(self.chips[number].name))
                return

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()
