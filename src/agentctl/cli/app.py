"""The ``agentctl`` command: a root group whose subcommands are imported only when used.

Start-up cost is part of the product (agents call the CLI constantly), so ``--help`` and
every command load just the module they need: the root lists commands from the static table
below, and help is rendered in plain text (no rich import).
"""

from __future__ import annotations

import copy
import importlib
import os
import sys
from typing import Any

import typer
from typer.core import TyperGroup

from agentctl import __version__
from agentctl.cli import boundary

# name -> (module, attribute, one-line help). Order is the order shown in --help.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "init": (
        "agentctl.cli.setup",
        "init_app",
        "Create a workspace (idempotent; works outside git too).",
    ),
    "task": ("agentctl.cli.tasks", "app", "Add, list, show, edit, move, assign and claim tasks."),
    "agent": ("agentctl.cli.agents", "app", "Add, list, show, edit and remove agents."),
    "graph": (
        "agentctl.cli.graph",
        "app",
        "The task graph (tree, Mermaid, DOT, JSON), its critical path, a schedule, dependency loops.",
    ),
    "thread": ("agentctl.cli.threads", "thread_app", "Print a task's message thread."),
    "inbox": (
        "agentctl.cli.threads",
        "inbox_app",
        "List an agent's unread notifications (or, --human, what waits for a person).",
    ),
    "approve": (
        "agentctl.cli.review",
        "approve_app",
        "Approve a task in review as a human: move it to done (human gates).",
    ),
    "reject": (
        "agentctl.cli.review",
        "reject_app",
        "Send a task in review back to in_progress as a human, with a note.",
    ),
    "feed": (
        "agentctl.cli.feed",
        "app",
        "Print the activity feed; --follow keeps printing new events.",
    ),
    "doc": (
        "agentctl.cli.docs",
        "app",
        "Add, list, show, edit and remove documents; read their git history.",
    ),
    "fetch": (
        "agentctl.cli.fetching",
        "fetch_app",
        "Download a web page as a markdown research document (source URL, fetch time).",
    ),
    "spec": (
        "agentctl.cli.specs",
        "app",
        "Write specs (idea -> requirements), plan them into tasks, track coverage and drift.",
    ),
    "search": (
        "agentctl.cli.search",
        "app",
        "Full-text search over tasks, messages and documents.",
    ),
    "working": (
        "agentctl.cli.working",
        "app",
        "Print WORKING.md (re-rendered if stale), or apply edits to it.",
    ),
    "note": (
        "agentctl.cli.working",
        "note_app",
        "Append a signed line to WORKING.md's Notes section.",
    ),
    "validate": (
        "agentctl.cli.setup",
        "validate_app",
        "Check every record; print file:line: problem.",
    ),
    "config": (
        "agentctl.cli.config",
        "app",
        "Get, list, set and unset the workspace configuration by key (heartbeat.sync).",
    ),
    "reindex": ("agentctl.cli.setup", "reindex_app", "Rebuild the local index from the records."),
    "doctor": (
        "agentctl.cli.setup",
        "doctor_app",
        "Finish interrupted changes; repair git and event-log drift.",
    ),
    "sync": (
        "agentctl.cli.sync",
        "sync_app",
        "Commit, fetch, integrate, re-render and push the workspace through its git remote.",
    ),
    "heartbeat": (
        "agentctl.cli.heartbeat",
        "heartbeat_app",
        "Run one heartbeat tick of an agent (or --all).",
    ),
    "runs": (
        "agentctl.cli.heartbeat",
        "runs_app",
        "List recent heartbeat runs: outcome, actions, tokens, cost.",
    ),
    "prime": (
        "agentctl.cli.heartbeat",
        "prime_app",
        "Print the context a heartbeat would give an agent (for coding agents).",
    ),
    "board": (
        "agentctl.cli.board",
        "app",
        "Show the live task board (static when piped or with --plain).",
    ),
    "memory": ("agentctl.cli.memory", "app", "Show, add to, search and compact an agent's memory."),
    "standup": (
        "agentctl.cli.reports",
        "standup_app",
        "Per-agent digest of done, in progress, review, blocked and decisions.",
    ),
    "stats": (
        "agentctl.cli.reports",
        "stats_app",
        "Tasks by status, throughput, cycle time and per-agent load.",
    ),
    "import": (
        "agentctl.cli.imports",
        "app",
        "Import tasks: a markdown roadmap, Backlog.md, Taskwarrior, beads, GitHub issues, JSONL.",
    ),
    "export": (
        "agentctl.cli.exports",
        "app",
        "Export tasks as agentctl JSON Lines, Taskwarrior JSON or a GitHub issues CSV.",
    ),
    "dispatch": (
        "agentctl.cli.dispatch",
        "dispatch_app",
        "Assign ready, unassigned tasks to the best-fit available agents, with reasons.",
    ),
    "attention": (
        "agentctl.cli.dispatch",
        "attention_app",
        "List stale, bounced, overdue and unblocked tasks and silent agents.",
    ),
    "demo": (
        "agentctl.cli.demo",
        "app",
        "Build a sample workspace with a team and tasks, and show it.",
    ),
    "cron": (
        "agentctl.cli.schedule",
        "app",
        "Install, show or remove staggered heartbeat lines in your crontab.",
    ),
    "run": (
        "agentctl.cli.schedule",
        "run_app",
        "Tick agents in the foreground on their schedules (no cron needed).",
    ),
    "host": (
        "agentctl.cli.hosts",
        "app",
        "Print this machine's name, the host of the agents it runs (--set NAME to name it).",
    ),
    "hooks": (
        "agentctl.cli.githooks",
        "hooks_app",
        "Install, remove or show agentctl's git hooks and merge drivers.",
    ),
    "mcp": (
        "agentctl.cli.mcp_cmd",
        "mcp_app",
        "Serve tasks, inbox and WORKING.md to coding agents over MCP (the mcp extra).",
    ),
    "setup": (
        "agentctl.cli.agent_setup",
        "setup_app",
        "Write agentctl instructions (and MCP config) for Claude, Codex, Gemini, Cursor, Aider.",
    ),
}

# Commands git runs, not people: callable, but not listed in --help or docs/cli.md.
HIDDEN_COMMANDS: dict[str, tuple[str, str, str]] = {
    "merge-driver": (
        "agentctl.cli.githooks",
        "merge_driver_app",
        "git merge drivers for records and WORKING.md (configured in .git/config).",
    ),
}


def _click_suggests_only(command: Any) -> None:
    """click already says "Did you mean ...?" for an unknown subcommand; typer would say it
    a second time."""
    if isinstance(command, TyperGroup):
        command.suggest_commands = False
        if not isinstance(command, LazySubGroup):  # it sets this on what it converts
            for sub in command.commands.values():
                _click_suggests_only(sub)


class LazySubGroup(TyperGroup):
    """A command group (``task``, ``agent``, ...) whose subcommands are converted from typer to
    click only when asked for: ``task show`` converts ``show`` alone instead of the group's
    twenty commands (~15 ms). Help, completion and docs list every command, in typer's order
    (commands, then nested groups), converted by typer's own functions as before."""

    source: Any = None  # the typer.Typer whose registered commands this group serves

    def _entries(self) -> dict[str, Any]:
        entries: dict[str, Any] = {}
        for info in self.source.registered_commands:
            name = info.name or typer.main.get_command_name(info.callback.__name__)
            entries[name] = info
        for info in self.source.registered_groups:
            if info.name:
                entries[info.name] = info
        return entries

    def _convert(self, info: Any) -> Any:
        source = self.source
        if isinstance(info, typer.models.CommandInfo):
            command = typer.main.get_command_from_info(
                info,
                pretty_exceptions_short=source.pretty_exceptions_short,
                rich_markup_mode=source.rich_markup_mode,
            )
        else:
            command = typer.main.get_group_from_info(
                info,
                pretty_exceptions_short=source.pretty_exceptions_short,
                rich_markup_mode=source.rich_markup_mode,
                suggest_commands=source.suggest_commands,
            )
        _click_suggests_only(command)
        return command

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        built: dict[str, Any] = self.__dict__["commands"]
        if cmd_name not in built:
            info = self._entries().get(cmd_name)
            if info is None:
                return None
            built[cmd_name] = self._convert(info)
        return built[cmd_name]

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self._entries())

    @property  # type: ignore[override]
    def commands(self) -> dict[str, Any]:
        """Every subcommand, converted (for code that walks the whole tree)."""
        return {name: self.get_command(None, name) for name in self._entries()}

    @commands.setter
    def commands(self, value: dict[str, Any]) -> None:
        self.__dict__["commands"] = dict(value)


def _lazy_command(source: Any) -> Any:
    """``typer.main.get_command(source)``, but a group's subcommands are converted lazily."""
    if not (
        source.registered_callback
        or source.info.callback
        or source.registered_groups
        or len(source.registered_commands) > 1
    ):
        return typer.main.get_command(source)  # a single command
    shell = copy.copy(source)
    shell.registered_commands = []
    shell.registered_groups = []
    shell.info = copy.copy(source.info)
    shell.info.cls = LazySubGroup
    group = typer.main.get_group(shell)
    assert isinstance(group, LazySubGroup)
    group.source = source
    if source._add_completion:
        group.params.extend(typer.main.get_install_completion_arguments())
    return group


class LazyGroup(TyperGroup):
    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        entry = COMMANDS.get(cmd_name) or HIDDEN_COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module = importlib.import_module(entry[0])
        command = _lazy_command(getattr(module, entry[1]))
        command.name = cmd_name
        command.hidden = cmd_name in HIDDEN_COMMANDS
        _click_suggests_only(command)
        return command

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        import click

        try:
            return super().resolve_command(ctx, args)
        except click.exceptions.NoSuchCommand as exc:
            # The commands are not loaded, so click had nothing to suggest from.
            raise click.exceptions.NoSuchCommand(
                exc.command_name, possibilities=COMMANDS, ctx=ctx
            ) from None

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, entry[2]) for name, entry in COMMANDS.items()])


app = typer.Typer(
    cls=LazyGroup,
    name="agentctl",
    help="Git-native mission control for teams of AI agents.\n\n"
    "Agents, tasks and the shared WORKING.md live as markdown/YAML files in your git repo.",
    rich_markup_mode=None,
    add_completion=True,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        print(f"agentctl {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    workspace: str = typer.Option(
        None,
        "--workspace",
        "-W",
        envvar="AGENTCTL_WORKSPACE",
        help="Workspace directory (default: search upwards).",
    ),
    as_agent: str = typer.Option(
        None, "--as", envvar="AGENTCTL_AGENT", help="Act as this agent (default: you, the human)."
    ),
    json_output: bool = typer.Option(
        False, "--json", help="Print one JSON document (see docs/cli.md)."
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    from agentctl.cli.common import Globals

    _refuse_other_identity(ctx, as_agent)
    ctx.obj = Globals(workspace=workspace, as_agent=as_agent, json=json_output)


def _refuse_other_identity(ctx: typer.Context, as_agent: str | None) -> None:
    """``--as`` another agent while $AGENTCTL_AGENT names one: a command agent's child (which
    runs with $AGENTCTL_AGENT set) may not pass itself off as someone else."""
    from click.core import ParameterSource

    from agentctl.errors import PermissionDeniedError

    current = os.environ.get("AGENTCTL_AGENT")
    if not current or not as_agent or as_agent == current:
        return
    if ctx.get_parameter_source("as_agent") is ParameterSource.COMMANDLINE:
        raise PermissionDeniedError(
            f"--as {as_agent} is refused: this process acts as {current} ($AGENTCTL_AGENT)",
            hint="unset AGENTCTL_AGENT to act as someone else (outside a command agent's heartbeat)",
        )


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the CLI and exit with a documented code."""
    # pydantic otherwise scans every installed distribution's entry points for plugins the
    # first time a model validates (~20 ms); the CLI uses none.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    _fewer_young_collections()
    code = boundary.run(app, sys.argv[1:] if argv is None else argv)
    sys.exit(code)


YOUNG_THRESHOLD = 10_000


def _fewer_young_collections() -> None:
    """Collect the youngest generation every 10,000 allocations rather than 700 (Python's
    default; 2,000 from 3.13 on): what a command does after this point (its module, the
    workspace, the index) allocates ~60,000 objects that live to the end of the command,
    and the ~10 young collections that walked them cost ~1.5 ms of a ~30 ms read. Cycles
    are still collected (older generations keep their thresholds), and bulk operations
    pause the collector as before (workspace/base.pausing_gc)."""
    import gc

    threshold, older, oldest = gc.get_threshold()
    gc.set_threshold(max(threshold, YOUNG_THRESHOLD), older, oldest)
