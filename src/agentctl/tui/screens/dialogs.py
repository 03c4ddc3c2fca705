"""Small modal dialogs: pick one of a list, create a task, the key help."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option


class ChoiceDialog(ModalScreen[str | None]):
    """Choose one value; disabled choices are shown with the reason beside them."""

    BINDINGS = [Binding("escape", "cancel", "cancel")]

    def __init__(
        self, title: str, choices: Sequence[tuple[str, str, bool]], selected: str | None = None
    ) -> None:
        super().__init__(classes="dialog-screen")
        self.title_text = title
        self.choices = list(choices)  # (value, label, enabled)
        self.initial = selected

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield OptionList(
                *[
                    Option(label, id=value, disabled=not enabled)
                    for value, label, enabled in self.choices
                ],
                id="choices",
            )
            yield Label("Enter: choose · Esc: cancel", classes="dialog-help")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        enabled = [i for i, (_, _, ok) in enumerate(self.choices) if ok]
        wanted = next(
            (i for i, (value, _, ok) in enumerate(self.choices) if value == self.initial and ok),
            None,
        )
        if wanted is None and enabled:
            wanted = enabled[0]
        if wanted is not None:
            options.highlighted = wanted
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class NewTaskDialog(ModalScreen[dict[str, str] | None]):
    """The fields of ``task add``; Enter in any field creates the task, Tab moves on.

    Tab and Shift+Tab are priority bindings: the app runs them as it takes each key from its
    queue, before forwarding the next key, so letters typed right after a Tab (a burst in one
    read from the terminal) go to the next field. As ordinary bindings they ran only once the
    old field had seen the Tab, after the app had already forwarded the following letters to it.
    """

    BINDINGS = [
        Binding("escape", "cancel", "cancel"),
        Binding("tab", "field(1)", "next field", show=False, priority=True),
        Binding("shift+tab", "field(-1)", "previous field", show=False, priority=True),
    ]

    FIELDS = (
        ("title", "Title", "what needs doing (one line)"),
        ("priority", "Priority", "0 (most urgent) .. 3, default from config"),
        ("assignee", "Assignee", "agent name(s), optional"),
        ("labels", "Labels", "comma separated, optional"),
        ("description", "Description", "optional"),
    )

    def __init__(self, initial: dict[str, str] | None = None) -> None:
        super().__init__(classes="dialog-screen")
        self.initial = initial or {}

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("New task", classes="dialog-title")
            for key, label, hint in self.FIELDS:
                yield Label(label, classes="field-label")
                yield Input(self.initial.get(key, ""), placeholder=hint, id=f"new-{key}")
            yield Label("Enter: create · Tab: next field · Esc: cancel", classes="dialog-help")

    def on_mount(self) -> None:
        self.query_one("#new-title", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        values = {key: self.query_one(f"#new-{key}", Input).value for key, _, _ in self.FIELDS}
        if not values["title"].strip():
            self.notify("a task needs a title", severity="error", markup=False)
            self.query_one("#new-title", Input).focus()
            return
        self.dismiss(values)

    def action_field(self, step: int) -> None:
        if step > 0:
            self.focus_next(Input)
        else:
            self.focus_previous(Input)

    def action_cancel(self) -> None:
        self.dismiss(None)


HELP = [
    ("Board", ""),
    ("← →", "previous / next column"),
    ("↑ ↓  k j", "previous / next card (PgUp PgDn Home End)"),
    ("Enter", "open the selected task (click a card to select, click again to open)"),
    ("] [", "move the task to the next / previous status (also Shift+→ Shift+←)"),
    ("m", "move the task to a status you pick"),
    ("a  u", "assign / unassign an agent"),
    ("n", "create a task"),
    ("/", "filter: words match title or ID; @agent #label p0..p3 (Esc clears)"),
    ("d", "show all done tasks / only the latest"),
    ("Tab", "focus the agent bar (← → pick, Enter open, h heartbeat)"),
    ("r", "re-read the workspace now (it also updates by itself)"),
    ("?  q", "this help / quit"),
    ("Task screen", ""),
    ("c", "write a comment (Enter posts it, Esc leaves the box)"),
    ("] [ m a u", "as on the board, for this task"),
    ("Esc", "back to the board"),
    ("Agent screen", ""),
    ("h", "run one heartbeat for this agent now"),
    ("Enter", "open the highlighted task"),
    ("Esc", "back"),
]


class HelpDialog(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "close", "close")]

    def __init__(self) -> None:
        super().__init__(classes="dialog-screen")

    def compose(self) -> ComposeResult:
        text = Text()
        for key, what in HELP:
            if not what:
                text.append(("\n" if text else "") + key + "\n", style="bold underline")
                continue
            text.append(f"  {key:<12}", style="bold")
            text.append(what + "\n")
        with Vertical(classes="dialog help"):
            yield Label("Keys", classes="dialog-title")
            with VerticalScroll():
                yield Static(text)
            yield Label("Esc: close", classes="dialog-help")

    def action_close(self) -> None:
        self.dismiss(None)
