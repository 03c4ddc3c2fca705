"""The agent screen: who it is, its state, its open tasks, recent runs and memory."""

from __future__ import annotations

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
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from agentctl.tui.screens.detail import fetch_detail
from agentctl.tui.view import age, clock_time
from agentctl.tui.widgets.agents import STATUS_GLYPH, STATUS_STYLE
from agentctl.tui.widgets.column import PRIORITY_STYLE

if TYPE_CHECKING:
    from agentctl.tui.app import BoardApp


def agent_header(agent: dict[str, Any], now: datetime) -> RenderableType:
    chip = agent["chip"]
    state = agent.get("state") or {}
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column()
    status = Text(
        f"{STATUS_GLYPH.get(chip.status, '?')} {chip.status}",
        style=STATUS_STYLE.get(chip.status, ""),
    )
    grid.add_row("status", status)
    if chip.status == "pending":
        by = f" by {agent['proposed_by']}" if agent.get("proposed_by") else ""
        grid.add_row(
            "proposed",
            Text(f"{by.strip() or 'by a person'}: a person runs 'agentctl agent approve {agent['name']}' "
                 f"(or reject)", style="magenta"),
        )  # fmt: skip
    grid.add_row("role", f"{agent.get('role', '')} ({agent.get('level', 'specialist')})")
    runtime = str(agent.get("runtime", "manual"))
    if agent.get("model"):
        runtime += f" · {agent['model']}"
    if agent.get("command"):
        runtime += " · " + " ".join(agent["command"])
    grid.add_row("runtime", runtime)
    grid.add_row("host", str(agent.get("host") or "- (unowned)"))
    if agent.get("capabilities"):
        grid.add_row("capabilities", ", ".join(agent["capabilities"]))
    every = (agent.get("heartbeat") or {}).get("every") or "15m"
    last = state.get("last_heartbeat")
    grid.add_row(
        "heartbeat", f"every {every} · last {age(chip.heartbeat_age)}" + (" ago" if last else "")
    )
    if chip.current_task:
        grid.add_row("current task", chip.current_task)
    if state.get("last_outcome"):
        grid.add_row("last outcome", str(state["last_outcome"]))
    if state.get("failures"):
        grid.add_row("failures", Text(str(state["failures"]), style="bold red"))
    if chip.unread:
        grid.add_row("unread", Text(f"✉ {chip.unread}", style="bold yellow"))
    return grid


def agent_rest(agent: dict[str, Any], now: datetime) -> RenderableType:
    from rich.markdown import Markdown  # markdown-it is a noticeable import: only when shown

    parts: list[RenderableType] = []
    runs = agent.get("runs")
    parts.append(Text("\nRecent runs (this machine)", style="bold underline"))
    if runs is None:
        parts.append(Text("runs are not recorded by this agentctl", style="dim"))
    elif not runs:
        parts.append(Text("no runs yet (h runs one)", style="dim"))
    for run in runs or []:
        parts.append(run_line(run, now))
    parts.append(Text("\nRecent activity (by or for this agent)", style="bold underline"))
    activity = agent.get("activity") or []
    if not activity:
        parts.append(Text("none", style="dim"))
    for item in activity:
        line = Text("  ")
        line.append(clock_time(item.ts, now), style="dim")
        line.append(f" {item.actor}", style="bold")
        line.append(" " + item.text)
        parts.append(line)
    parts.append(Text("\nMemory (MEMORY.md)", style="bold underline"))
    memory = agent.get("memory")
    parts.append(
        Markdown(memory) if memory and memory.strip() else Text("no memory yet", style="dim")
    )
    persona = str(agent.get("persona") or "").strip()
    if persona:
        parts.append(Text("\nPersona", style="bold underline"))
        parts.append(Markdown(persona))
    return Group(*parts)


def run_line(run: dict[str, Any], now: datetime) -> Text:
    """One heartbeat run: when, outcome, actions applied/rejected, tokens, cost, time, note."""
    line = Text("  ")
    line.append(clock_time(str(run.get("started") or run.get("ts") or ""), now), style="dim")
    outcome = str(run.get("outcome") or "?")
    line.append(f" {outcome}", style="bold red" if outcome in ("failed", "budget") else "bold")
    details = []
    if run.get("applied") is not None:
        details.append(f"{run['applied']} applied")
    if run.get("rejected"):
        details.append(f"{run['rejected']} rejected")
    tokens = int(run.get("tokens_in") or 0) + int(run.get("tokens_out") or 0)
    if tokens:
        details.append(f"{tokens} tokens")
    if run.get("cost_usd"):
        details.append(f"${float(run['cost_usd']):.4f}")
    if run.get("duration_ms") is not None:
        details.append(f"{int(run['duration_ms'])} ms")
    if details:
        line.append(" · " + " · ".join(details), style="dim")
    note = run.get("error") or run.get("reason")
    if note:
        line.append(
            f"  {' '.join(str(note).split())[:200]}", style="red" if run.get("error") else ""
        )
    return line


def task_option(task: dict[str, Any]) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(task.get("short_id", task["id"]), style="bold")
    text.append(" ")
    text.append(f"p{task['priority']}", style=PRIORITY_STYLE.get(task["priority"], ""))
    text.append(f" [{task['status']}] ", style="green")
    text.append(task["title"])
    return text


class AgentScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "back", "back"),
        Binding("h", "heartbeat", "heartbeat"),
        Binding("r", "reload", "reload", show=False),
    ]

    def __init__(self, name: str) -> None:
        super().__init__(classes="detail-screen")
        self.agent_name = name
        self.detail: dict[str, Any] | None = None

    @property
    def board_app(self) -> BoardApp:
        return cast("BoardApp", self.app)

    def compose(self) -> ComposeResult:
        yield Static(Text(self.agent_name, style="bold"), id="agent-title", classes="screen-title")
        with VerticalScroll(id="agent-body"):
            yield Static(Text("loading…", style="dim"), id="agent-info")
            yield Static(Text("Open tasks", style="bold underline"), classes="section-title")
            yield OptionList(id="agent-tasks")
            yield Static(id="agent-rest")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#agent-tasks", OptionList).focus()
        self.reload()

    @work(exclusive=True, group="agent-detail")
    async def reload(self) -> None:
        detail = await fetch_detail(
            self, self.board_app, self.board_app.gateway.agent_detail, self.agent_name
        )
        if detail is not None:
            self.show(detail)

    def show(self, detail: dict[str, Any]) -> None:
        self.detail = detail
        now = self.board_app.clock()
        title = Text()
        title.append(detail["name"], style="bold")
        title.append(f"  {detail.get('role', '')}", style="dim")
        self.query_one("#agent-title", Static).update(title)
        self.query_one("#agent-info", Static).update(agent_header(detail, now))
        options = self.query_one("#agent-tasks", OptionList)
        highlighted = options.highlighted
        options.clear_options()
        tasks = detail.get("tasks") or []
        if tasks:
            options.add_options([Option(task_option(t), id=t["id"]) for t in tasks])
            options.highlighted = min(highlighted or 0, len(tasks) - 1)
        else:
            options.add_option(Option(Text("no open tasks", style="dim"), disabled=True))
        self.query_one("#agent-rest", Static).update(agent_rest(detail, now))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.board_app.open_task_screen(event.option.id)

    def action_back(self) -> None:
        self.dismiss(None)

    def action_reload(self) -> None:
        self.reload()

    def reload_on_change(self) -> None:
        """Called by the app when the workspace changed: show the record as it is now."""
        self.reload()

    def action_heartbeat(self) -> None:
        self.board_app.trigger_heartbeat(self.agent_name)
