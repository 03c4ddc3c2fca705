"""``agentctl setup TOOL``: tell a coding agent how to work with agentctl.

Writes a marked block into the instruction file the tool reads (CLAUDE.md, AGENTS.md,
GEMINI.md, a Cursor rule, CONVENTIONS.md) and, with ``--mcp``, the agentctl MCP server into
the tool's project-level MCP config. The command list in the block is generated from the
live command tree, so it cannot drift from the CLI.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from typing import Any

import click
import typer

from agentctl.cli import output
from agentctl.cli.common import JSON_OPTION, open_workspace, want_json
from agentctl.errors import ExitCode, UsageError

setup_app = typer.Typer(rich_markup_mode=None)

SERVER_NAME = "agentctl"
SERVER_ENTRY: dict[str, Any] = {"command": "agentctl", "args": ["mcp"]}

CURSOR_PREAMBLE = (
    "---\ndescription: How to work with this project's agentctl tasks\nalwaysApply: true\n---\n\n"
)


@dataclass(frozen=True)
class Target:
    """Where one coding tool reads its instructions and its MCP servers."""

    file: str
    preamble: str = ""
    mcp_file: str | None = None  # a project-level JSON config with an "mcpServers" object
    mcp_note: str = ""  # printed instead when there is no project-level file to write
    note: str = ""  # printed after writing the instructions


_CODEX_TOML = '[mcp_servers.agentctl]\ncommand = "agentctl"\nargs = ["mcp"]\n'
_JSON_SNIPPET = json.dumps({"mcpServers": {SERVER_NAME: SERVER_ENTRY}}, indent=2) + "\n"

TARGETS: dict[str, Target] = {
    "claude": Target("CLAUDE.md", mcp_file=".mcp.json"),
    "codex": Target(
        "AGENTS.md",
        mcp_note="Codex reads MCP servers from ~/.codex/config.toml; add:\n" + _CODEX_TOML,
    ),
    "gemini": Target("GEMINI.md", mcp_file=".gemini/settings.json"),
    "cursor": Target(
        ".cursor/rules/agentctl.mdc", preamble=CURSOR_PREAMBLE, mcp_file=".cursor/mcp.json"
    ),
    "aider": Target(
        "CONVENTIONS.md",
        mcp_note="aider has no MCP client: it works with agentctl through the shell.",
        note="aider reads CONVENTIONS.md only when told: add 'read: CONVENTIONS.md' to "
        ".aider.conf.yml (or run aider --read CONVENTIONS.md).",
    ),
    "agents-md": Target(
        "AGENTS.md",
        mcp_note="Add the agentctl server to your tool's MCP config:\n" + _JSON_SNIPPET,
    ),
}

# The workflow the block teaches: (command path, options it uses); checked against the tree.
WORKFLOW: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("prime",), ()),
    (("task", "ready"), ("--mine",)),
    (("task", "show"), ()),
    (("task", "claim"), ()),
    (("task", "comment"), ()),
    (("task", "move"), ("--note",)),
    (("inbox",), ()),
    (("inbox", "read"), ("--all",)),
    (("agent", "list"), ()),
)


def _tree() -> dict[tuple[str, ...], click.Command]:
    from agentctl.cli.docgen import command_tree

    return {tuple(path[1:]): command for path, command, _ in command_tree()}


def _check_workflow(tree: dict[tuple[str, ...], click.Command]) -> None:
    """The commands and options the block names exist (a test runs this: no drift)."""
    for path, options in WORKFLOW:
        command = tree.get(path)
        if command is None:
            raise RuntimeError(f"setup's workflow names a missing command: {' '.join(path)}")
        known = {opt for param in command.params for opt in param.opts}
        missing = [opt for opt in options if opt not in known]
        if missing:
            raise RuntimeError(f"agentctl {' '.join(path)} has no option {', '.join(missing)}")


def command_list() -> list[str]:
    """One line per top-level command, with its subcommands, from the live command tree."""
    from agentctl.cli.app import COMMANDS

    tree = _tree()
    _check_workflow(tree)
    lines = []
    for name, entry in COMMANDS.items():
        if (name,) not in tree:
            continue
        subs = [path[1] for path in tree if len(path) == 2 and path[0] == name]
        listed = f" ({', '.join(subs)})" if subs else ""
        lines.append(f"- `{name}`{listed}: {entry[2]}")
    return lines


def instructions_text(mcp: bool) -> str:
    from agentctl.cli.mcp_service import TOOLS

    parts = [
        "## Working with agentctl",
        "",
        "This project's tasks, their message threads and the team's shared state (WORKING.md)",
        "are files under `.agentctl/`, kept by agentctl. Change them only through agentctl, never",
        "by editing the files: it checks permissions, the workflow and claims, and logs changes.",
        "",
        "Act as your agent: put `--as NAME` before the command (`agentctl --as NAME task ...`)",
        "or set `AGENTCTL_AGENT=NAME`; `agentctl agent list` shows the team. Without either you",
        "act as the human user.",
        "",
        "Workflow:",
        "1. `agentctl --as NAME prime` when you start: your tasks, inbox and the team's rules.",
        "2. `agentctl --as NAME task ready --mine` lists what you may take; `agentctl task show ID`",
        "   shows one with its thread.",
        "3. `agentctl --as NAME task claim ID` before you work on a task (exit 5 when it is held).",
        '4. `agentctl --as NAME task comment ID "TEXT"` for progress, questions and decisions',
        "   (`@name` notifies an agent).",
        '5. `agentctl --as NAME task move ID review --note "what changed"` when the work is done.',
        "6. `agentctl --as NAME inbox` for notifications; `agentctl --as NAME inbox read --all`.",
        "",
        "Add `--json` to any command for one JSON document on stdout. A refusal is one line on",
        f"stderr and an exit code: {int(ExitCode.NOT_FOUND)} not found, "
        f"{int(ExitCode.CONFLICT)} refused by the current state, "
        f"{int(ExitCode.PERMISSION)} not permitted.",
    ]
    if mcp:
        parts += [
            "",
            f"The `{SERVER_NAME}` MCP server offers the same as tools, acting as",
            f"`$AGENTCTL_AGENT`: {', '.join(TOOLS)}. Use them when they are available.",
        ]
    parts += ["", "Commands (`agentctl COMMAND --help` for options):", *command_list()]
    return "\n".join(parts)


@setup_app.command()
def setup(
    ctx: typer.Context,
    tool: str = typer.Argument(..., help="claude, codex, gemini, cursor, aider or agents-md."),
    mcp: bool = typer.Option(
        False, "--mcp", help="Also add the agentctl MCP server to the tool's MCP config."
    ),
    remove: bool = typer.Option(
        False, "--remove", help="Take agentctl's block (and with --mcp its server) out again."
    ),
    json_: bool = JSON_OPTION,
) -> None:
    """Write agentctl's instructions for a coding agent into the file it reads.

    The text sits between <!-- agentctl:begin --> and <!-- agentctl:end -->: running setup
    again updates it, text outside it is never touched, and --remove takes it out (deleting a
    file that held nothing else). Files are written, not committed."""
    target = TARGETS.get(tool)
    if target is None:
        raise UsageError(f"unknown tool {tool!r}; choose one of: {', '.join(TARGETS)}")
    ws = open_workspace(ctx, warn=False)
    body = "" if remove else instructions_text(mcp)
    result: dict[str, Any] = {
        "tool": tool,
        "instructions": ws.install_instructions(target.file, body, target.preamble, remove),
        "mcp": None,
        "snippet": None,
    }
    if mcp and target.mcp_file:
        result["mcp"] = ws.install_mcp_server(
            target.mcp_file, "mcpServers", SERVER_NAME, SERVER_ENTRY, remove
        )
    elif mcp and not remove:
        result["snippet"] = target.mcp_note
    if want_json(ctx, json_):
        output.emit_json(result)
        return
    for part in ("instructions", "mcp"):
        if result[part]:
            output.say(f"{result[part]['action']} {result[part]['path']}")
    if result["snippet"]:
        output.say(result["snippet"].rstrip("\n"))
    if target.note and not remove:
        output.notice(target.note)
    if mcp and not remove and shutil.which("agentctl") is None:
        output.notice("agentctl is not on PATH: the MCP client will not find it")
