"""The task screen: details, acceptance criteria, dependencies, thread, linked documents, and
a comment box. It re-reads the task whenever the workspace changes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from agentctl.tui.screens.detail import fetch_detail
from agentctl.tui.view import clock_time
from agentctl.tui.widgets.column import PRIORITY_STYLE

if TYPE_CHECKING:
    from agentctl.tui.app import BoardApp


def _section(title: str) -> Text:
    return Text("\n" + title, style="bold underline")


def _link_line(row: dict[str, Any], done: set[str]) -> Text:
    text = Text("  ")
    mark = "✓" if row["status"] in done else "·"
    text.append(f"{mark} {row['short_id']}", style="bold")
    text.append(f" [{row['status']}] ", style="green" if row["status"] in done else "yellow")
    text.append(row["title"])
    return text


def task_renderable(
    task: dict[str, Any], workflow: Mapping[str, Any], now: datetime
) -> RenderableType:
    done = set(workflow["done"])
    from rich.markdown import Markdown  # markdown-it is a noticeable import: only when shown

    parts: list[RenderableType] = []
    fields = Table.grid(padding=(0, 2))
    fields.add_column(style="dim", no_wrap=True)
    fields.add_column()
    status = Text(task["status"], style="bold")
    if task.get("blocked_by"):
        status.append("  ! waits for dependencies", style="bold red")
    elif task.get("ready"):
        status.append("  ready", style="green")
    fields.add_row("status", status)
    fields.add_row(
        "priority", Text(f"p{task['priority']}", style=PRIORITY_STYLE.get(task["priority"], ""))
    )
    fields.add_row(
        "assignees", Text(" ".join(f"@{a}" for a in task["assignees"]) or "—", style="green")
    )
    if task.get("labels"):
        fields.add_row("labels", " ".join(f"#{x}" for x in task["labels"]))
    for key in ("estimate", "due", "spec"):
        if task.get(key):
            fields.add_row(key, str(task[key]))
    if task.get("parent"):
        parent = task["links"].get(task["parent"], {})
        fields.add_row(
            "parent", f"{parent.get('short_id', task['parent'])} {parent.get('title', '')}"
        )
    claim = task.get("claim")
    if claim:
        fields.add_row(
            "claim",
            f"{claim.get('claimed_by')} (epoch {claim.get('epoch')}) until {claim.get('lease_expires')}",
        )
    fields.add_row(
        "created",
        f"{clock_time(str(task.get('created_at', '')), now)} by {task.get('created_by', '?')}",
    )
    fields.add_row("updated", clock_time(str(task.get("updated_at", "")), now))
    fields.add_row("file", task.get("path", ""))
    parts.append(fields)

    parts.append(_section("Description"))
    description = str(task.get("description") or "").strip()
    parts.append(Markdown(description) if description else Text("(none)", style="dim"))

    criteria = task.get("acceptance_criteria") or []
    done_count = sum(1 for c in criteria if c["done"])
    parts.append(
        _section(
            f"Acceptance criteria ({done_count}/{len(criteria)})"
            if criteria
            else "Acceptance criteria"
        )
    )
    if criteria:
        for number, item in enumerate(criteria, start=1):
            line = Text(f"  {number}. ")
            line.append(
                "[x] " if item["done"] else "[ ] ", style="green" if item["done"] else "yellow"
            )
            line.append(item["text"], style="dim" if item["done"] else "")
            parts.append(line)
    else:
        parts.append(Text("(none)", style="dim"))

    links = task.get("links", {})
    parts.append(_section("Dependencies"))
    if task["depends_on"]:
        parts.append(Text("depends on:", style="dim"))
        parts.extend(_link_line(links[d], done) for d in task["depends_on"] if d in links)
    if task.get("dependents"):
        parts.append(Text("needed by:", style="dim"))
        parts.extend(_link_line(links[d], done) for d in task["dependents"] if d in links)
    if task.get("children"):
        parts.append(Text("subtasks:", style="dim"))
        parts.extend(_link_line(links[d], done) for d in task["children"] if d in links)
    if not (task["depends_on"] or task.get("dependents") or task.get("children")):
        parts.append(Text("(none)", style="dim"))

    notes = str(task.get("notes") or "").strip()
    if notes:
        parts.append(_section("Notes"))
        parts.append(Text(notes))

    thread = task.get("thread") or []
    parts.append(_section(f"Thread ({len(thread)})"))
    if not thread:
        parts.append(
            Text("no messages yet" if task.get("can_comment") else "no messages", style="dim")
        )
    for message in thread:
        head = Text("  ")
        head.append(str(message.get("author", "?")), style="bold")
        kind = message.get("kind") or "comment"
        if kind != "comment":
            head.append(f" ({kind})", style="magenta")
        head.append(f" · {clock_time(str(message.get('created_at', '')), now)}", style="dim")
        parts.append(head)
        body = str(message.get("body") or "").strip()
        parts.append(Text("    " + body.replace("\n", "\n    ")))

    docs = task.get("docs") or []
    parts.append(_section(f"Documents ({len(docs)})"))
    if not docs:
        parts.append(Text("none linked", style="dim"))
    for doc in docs:
        line = Text("  ")
        line.append(str(doc.get("id", "")), style="bold")
        if doc.get("type"):
            line.append(f" [{doc['type']}]", style="cyan")
        line.append(" " + str(doc.get("title", "")))
        if doc.get("path"):
            line.append(f"  {doc['path']}", style="dim")
        parts.append(line)
    return Group(*parts)


class TaskScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "back", "back"),
        Binding("c", "comment", "comment"),
        Binding("right_square_bracket", "move_step(1)", "next", key_display="]"),
        Binding("left_square_bracket", "move_step(-1)", "prev", key_display="["),
        Binding("m", "pick_status", "move to"),
        Binding("a", "assign", "assign"),
        Binding("u", "unassign", "unassign"),
        Binding("r", "reload", "reload", show=False),
    ]

    def __init__(self, task_id: str) -> None:
        super().__init__(classes="detail-screen")
        self.task_id = task_id
        self.detail: dict[str, Any] | None = None

    @property
    def board_app(self) -> BoardApp:
        return cast("BoardApp", self.app)

    def compose(self) -> ComposeResult:
        yield Static(Text(self.task_id, style="bold"), id="task-title", classes="screen-title")
        with VerticalScroll(id="task-body"):
            yield Static(Text("loading…", style="dim"), id="task-content")
        yield Input(
            placeholder="c: write a comment, Enter posts it, Esc leaves the box", id="comment"
        )
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#task-body").focus()
        self.reload()

    @work(exclusive=True, group="task-detail")
    async def reload(self) -> None:
        detail = await fetch_detail(
            self, self.board_app, self.board_app.gateway.task_detail, self.task_id
        )
        if detail is not None:
            self.show(detail)

    def show(self, detail: dict[str, Any]) -> None:
        self.detail = detail
        title = Text()
        title.append(detail["short_id"], style="bold")
        title.append("  ")
        title.append(detail["title"], style="bold")
        self.query_one("#task-title", Static).update(title)
        workflow = self.board_app.session.workflow
        self.query_one("#task-content", Static).update(
            task_renderable(detail, workflow, self.board_app.clock())
        )

    # -- actions -------------------------------------------------------------------------

    def action_back(self) -> None:
        comment = self.query_one("#comment", Input)
        if comment.has_focus:
            self.query_one("#task-body").focus()
            return
        self.dismiss(None)

    def action_comment(self) -> None:
        self.query_one("#comment", Input).focus()

    def action_reload(self) -> None:
        self.reload()

    def reload_on_change(self) -> None:
        """Called by the app when the workspace changed: show the record as it is now."""
        self.reload()

    def action_move_step(self, step: int) -> None:
        if self.detail is not None:
            self.board_app.move_step(
                self.task_id, self.detail["status"], step, self.detail["assignees"]
            )

    def action_pick_status(self) -> None:
        if self.detail is not None:
            self.board_app.pick_status(
                self.task_id, self.detail["status"], self.detail["assignees"]
            )

    def action_assign(self) -> None:
        if self.detail is not None:
            self.board_app.pick_assignee(self.task_id, self.detail["assignees"])

    def action_unassign(self) -> None:
        if self.detail is not None:
            self.board_app.pick_unassign(self.task_id, self.detail["assignees"])

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id != "comment":
            return
        if not event.value.strip():
            self.board_app.say("write something first", "warning")
            return
        self.post_comment(event.value)

    @work(group="comment")
    async def post_comment(self, text: str) -> None:
        box = self.query_one("#comment", Input)
        box.disabled = True
        try:
            ok = await self.board_app.write(
                lambda g: g.comment(self.task_id, text), follow=self.task_id
            )
        finally:
            box.disabled = False
        if not self.is_attached:
            return
        if ok:
            box.value = ""
            self.query_one("#task-body").focus()
        else:
            box.focus()
        self.reload()
