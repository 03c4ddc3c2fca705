"""The kanban: one :class:`CardColumn` per workflow status and the selection across them."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message

from agentctl.core.board import Board, Card, Column
from agentctl.tui.view import Cursor, reselect
from agentctl.tui.widgets.column import CardColumn, ColumnState

MARGIN = 20  # cards before the last one read at which the next page is asked for


class BoardView(Horizontal, can_focus=True):
    """Keyboard navigation over cards; task actions are the app's (bound here for the footer).
    A column holds the cards read so far; when the selection comes within :data:`MARGIN`
    cards of its end and the column has more, the board asks for them (:class:`More`)."""

    class More(Message):
        """Read more of the column ``status``, which holds ``cards`` cards now."""

        def __init__(self, status: str, cards: int) -> None:
            super().__init__()
            self.status = status
            self.cards = cards

    BINDINGS = [
        Binding("left", "column(-1)", "column", show=False),
        Binding("right", "column(1)", "column", show=False),
        Binding("up,k", "card(-1)", "card", show=False),
        Binding("down,j", "card(1)", "card", show=False),
        Binding("pageup", "card(-10)", "page up", show=False),
        Binding("pagedown", "card(10)", "page down", show=False),
        Binding("home", "edge(-1)", "first", show=False),
        Binding("end", "edge(1)", "last", show=False),
        Binding("enter", "app.open_task", "open"),
        # ] and [ stay out of the footer (the help lists them) so that "q quit" fits in 80 columns.
        Binding(
            "right_square_bracket,shift+right",
            "app.move_step(1)",
            "next",
            key_display="]",
            show=False,
        ),
        Binding(
            "left_square_bracket,shift+left",
            "app.move_step(-1)",
            "prev",
            key_display="[",
            show=False,
        ),
        Binding("m", "app.pick_status", "move"),
        Binding("a", "app.assign", "assign"),
        Binding("u", "app.unassign", "unassign"),
    ]

    def __init__(
        self, statuses: Sequence[str], done: Sequence[str], *, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.statuses = list(statuses)
        self.done = set(done)
        self.board: Board | None = None
        self.counts: dict[str, int] = {}
        self.cursor = Cursor()
        self.show_done = False
        self._columns = [CardColumn(status, id=f"col-{status}") for status in self.statuses]

    def compose(self) -> ComposeResult:
        yield from self._columns

    # -- data -------------------------------------------------------------------------------

    def set_board(
        self, board: Board, counts: dict[str, int], show_done: bool, follow: str | None = None
    ) -> None:
        """Show ``board``, keeping the selection (or moving it to ``follow``)."""
        self.board = board
        self.counts = counts
        self.show_done = show_done
        self.cursor = reselect(self.cursor, self._board_columns(), follow)
        self._paint()

    def _board_columns(self) -> list[Column]:
        by_status = {c.status: c for c in self.board.columns} if self.board else {}
        return [by_status.get(s, Column(s, (), 0)) for s in self.statuses]

    def _paint(self) -> None:
        columns = self._board_columns() if self.board else [None] * len(self.statuses)
        focused = self.has_focus
        for number, (widget, column) in enumerate(zip(self._columns, columns, strict=True)):
            status = self.statuses[number]
            widget.show(
                ColumnState(
                    column,
                    self.counts.get(status, column.total if column else 0),
                    self.cursor.index.get(status, 0),
                    number == self.cursor.column,
                    focused,
                    status in self.done and not self.show_done,
                )
            )

    # -- selection ---------------------------------------------------------------------------

    @property
    def current_status(self) -> str:
        return self.statuses[self.cursor.column]

    @property
    def selected_card(self) -> Card | None:
        if self.board is None:
            return None
        column = self._board_columns()[self.cursor.column]
        index = self.cursor.index.get(column.status, 0)
        return column.cards[index] if 0 <= index < len(column.cards) else None

    def select(self, column: int, index: int | None = None) -> None:
        self.cursor.column = max(0, min(column, len(self.statuses) - 1))
        status = self.current_status
        if index is not None and self.board is not None:
            cards = self._board_columns()[self.cursor.column].cards
            if cards:
                index = max(0, min(index, len(cards) - 1))
                self.cursor.index[status] = index
                self.cursor.selected[status] = cards[index].id
                self._page_if_near_end(index)
        self._paint()

    def _page_if_near_end(self, index: int) -> None:
        column = self._board_columns()[self.cursor.column]
        collapsed = column.status in self.done and not self.show_done
        if column.hidden > 0 and not collapsed and index >= len(column.cards) - MARGIN:
            self.post_message(self.More(column.status, len(column.cards)))

    def action_column(self, step: int) -> None:
        self.select(self.cursor.column + step)

    def action_card(self, step: int) -> None:
        status = self.current_status
        self.select(self.cursor.column, self.cursor.index.get(status, 0) + step)

    def action_edge(self, direction: int) -> None:
        if self.board is None:
            return
        cards = self._board_columns()[self.cursor.column].cards
        self.select(self.cursor.column, 0 if direction < 0 else len(cards) - 1)

    async def on_card_column_clicked(self, message: CardColumn.Clicked) -> None:
        message.stop()
        self.focus()
        number = self._columns.index(message.column)
        if (
            message.index is not None
            and number == self.cursor.column
            and message.index == self.cursor.index.get(self.current_status)
        ):
            await self.app.run_action("app.open_task")
            return
        self.select(number, message.index)

    def on_focus(self) -> None:
        self._paint()

    def on_blur(self) -> None:
        self._paint()
