"""``agentctl demo``: build a sample workspace and show its board and WORKING.md."""

from __future__ import annotations

import shlex
import tempfile
from pathlib import Path

import typer

from agentctl.cli import output
from agentctl.cli.board import load_board, plain_board, rich_board
from agentctl.cli.common import JSON_OPTION, command_name, want_json
from agentctl.errors import UsageError

app = typer.Typer(rich_markup_mode=None)


@app.command()
def demo(
    ctx: typer.Context,
    directory: Path = typer.Option(
        None, "--dir", help="Where to build it (default: a new temp directory)."
    ),
    roadmap: Path = typer.Option(
        None,
        "--roadmap",
        help="Import this markdown roadmap instead and have a simulated team work it to done.",
    ),
    autonomy: bool = typer.Option(
        False,
        "--autonomy",
        help="Give the lead one goal instead: it plans subtasks and proposes the agent the team lacks, which the demo approves.",
    ),
    spec: str = typer.Option(
        None,
        "--spec",
        help="Write this one-line idea out as a spec, plan it and have a simulated team work it to done.",
    ),
    json_: bool = JSON_OPTION,
) -> None:
    """Build a sample workspace (a team of four, a dozen tasks in motion) with no API key.

    With --spec TITLE, the idea is written out as a spec (simulated runtime), planned into
    tasks and worked to done the same way (see `agentctl spec`).

    With --roadmap FILE, the roadmap is imported instead (see `agentctl import roadmap`), a
    team is formed from the agent types it names, and the lead dispatches the work, explained
    round by round, until every task is done in dependency order.

    With --autonomy, the lead is given one goal: it breaks it down into subtasks with
    dependencies (the plan action), proposes an agent for the capability nobody in the team
    has (propose_agent), the demo approves it as its human, and the team works it to done.

    Its agents run on the simulated runtime, a stand-in that needs no model; the workspace's
    config says allow_simulated: true, which nowhere else is the default.
    """
    from agentctl import demo as demo_lib

    target = directory or Path(tempfile.mkdtemp(prefix="agentctl-demo-"))
    as_json = want_json(ctx, json_)
    progress = (lambda _: None) if as_json else (lambda message: output.notice(message))
    if sum((roadmap is not None, spec is not None, autonomy)) > 1:
        raise UsageError("give one of --roadmap, --spec and --autonomy")
    if roadmap is not None:
        from agentctl import demo_roadmap

        ws = demo_roadmap.build(target, roadmap, progress)
    elif autonomy:
        ws = demo_lib.build_autonomy(target, progress)
    elif spec is not None:
        from agentctl import demo_roadmap

        ws = demo_roadmap.build_spec(target, spec, progress)
    else:
        ws = demo_lib.build(target, progress)
    if as_json:
        output.emit_json(demo_lib.summary(ws))
        return
    view = load_board(ws)
    output.write("\n")
    if output.is_terminal():
        output.console().print(rich_board(view))
    else:
        output.write(plain_board(view))
    text, _ = ws.working_text()
    output.write("\n" + text)
    agentctl = command_name()
    advice = [
        (f"{agentctl} board", "the live board (q quits)"),
        (f"{agentctl} feed --limit 20", "what the agents did"),
        (f"{agentctl} --as atlas inbox", "the lead's notifications"),
        (f"{agentctl} runs", "heartbeat ticks: outcome, actions (simulated: 0 tokens)"),
        (f"{agentctl} standup; {agentctl} stats", ""),
        ("git log --oneline | head", "one commit per worked tick"),
    ]
    width = max(len(command) for command, _ in advice) + 2
    lines = [
        f"  {command:<{width}}# {note}".rstrip() if note else f"  {command}"
        for command, note in advice
    ]
    output.write(
        f"\nThe demo workspace is at {ws.root}\nExplore it:\n  cd {shlex.quote(str(ws.root))}\n"
        + "\n".join(lines)
        + "\n"
    )
