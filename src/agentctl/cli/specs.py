"""``agentctl spec ...``: specs from a one-line idea to planned, tracked tasks."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from agentctl.cli import output
from agentctl.cli.common import JSON_OPTION, acting, open_workspace, want_json
from agentctl.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from agentctl.workspace import Workspace

app = typer.Typer(
    help="Write specs (idea -> requirements), plan them into tasks, track coverage and drift.",
    rich_markup_mode=None,
    no_args_is_help=True,
)

MAX_INPUT = 1 << 20


def _read(source: str, what: str) -> str:
    """The text of FILE, or of stdin for '-' (refusing an interactive terminal)."""
    if source == "-":
        if sys.stdin.isatty():
            raise UsageError(f"{what} '-' reads stdin, which is a terminal: pipe the text in")
        return sys.stdin.read(MAX_INPUT + 1)
    path = Path(source)
    try:
        if path.stat().st_size > MAX_INPUT:
            raise UsageError(f"{what}: {source} is larger than {MAX_INPUT:,} bytes")
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{what}: no such file {source}") from None
    except IsADirectoryError:
        raise UsageError(f"{what}: {source} is a directory") from None
    except UnicodeDecodeError:
        raise UsageError(f"{what}: {source} is not UTF-8 text") from None


@app.command("new")
def new(
    ctx: typer.Context,
    title: str = typer.Argument(..., help="The idea, in one line (the spec's title)."),
    from_: str = typer.Option(
        None,
        "--from",
        help="Take the spec's text from this file ('-': stdin) instead of the template.",
    ),
    json_: bool = JSON_OPTION,
) -> None:
    """Create a spec from templates/spec.md (or from --from FILE)."""
    ws = open_workspace(ctx, warn=False)
    body = _read(from_, "--from") if from_ is not None else None
    spec = ws.new_spec(acting(ctx, ws), title, body)
    if want_json(ctx, json_):
        output.emit_json({"spec": spec})
        return
    output.say(f"{spec['id']} created: {spec['title']} ({spec['path']})")


@app.command("list")
def list_(ctx: typer.Context, json_: bool = JSON_OPTION) -> None:
    """List specs, oldest first."""
    ws = open_workspace(ctx)
    rows = ws.list_specs()
    if want_json(ctx, json_):
        output.emit_json({"specs": rows})
        return
    if not rows:
        output.say("no specs")
        return
    output.table(
        ["ID", "STATUS", "REQS", "AUTHOR", "UPDATED", "TITLE"],
        [
            [
                r["id"],
                r["status"],
                str(r["requirements"]),
                r["author"],
                str(r["updated_at"])[:16].replace("T", " "),
                r["title"],
            ]
            for r in rows
        ],  # fmt: skip
    )


@app.command("show")
def show(
    ctx: typer.Context,
    spec: str = typer.Argument(..., help="Spec ID or unique prefix."),
    json_: bool = JSON_OPTION,
) -> None:
    """Show a spec."""
    ws = open_workspace(ctx)
    data = ws.show_spec(spec)
    if want_json(ctx, json_):
        output.emit_json({"spec": data})
        return
    head = f"{data['id']}  {data['title']}\nstatus: {data['status']} · by {data['author']} · updated {data['updated_at']}\n\n"
    output.write(head + data["body"])
    for problem in data["problems"]:
        output.notice(f"warning: {data['path']}: {problem}")


@app.command("edit")
def edit(
    ctx: typer.Context,
    spec: str = typer.Argument(..., help="Spec ID or unique prefix."),
    file: str = typer.Option(
        None, "--file", "-f", help="Replace the text with this file's ('-': stdin)."
    ),
    editor: bool = typer.Option(False, "--editor", "-e", help="Edit the text in $VISUAL/$EDITOR."),
    title: str = typer.Option(None, "--title", help="New title."),
    json_: bool = JSON_OPTION,
) -> None:
    """Replace a spec's text (--file, --editor or stdin) and/or title; git keeps the versions."""
    from agentctl.cli.docs import _edit_text

    ws = open_workspace(ctx, warn=False)
    actor = acting(ctx, ws)
    if editor and file is not None:
        raise UsageError("use --file or --editor, not both")
    body: str | None = None
    if editor:
        body = _edit_text(ws.show_spec(spec))
    elif file is not None:
        body = _read(file, "--file")
    elif title is None and not sys.stdin.isatty():
        body = sys.stdin.read(MAX_INPUT + 1)
    result = ws.edit_spec(actor, spec, body=body, title=title)
    if want_json(ctx, json_):
        output.emit_json({"spec": result})
        return
    output.say(f"{result['id']} updated: {result['title']}")


@app.command("rm")
def rm(
    ctx: typer.Context,
    spec: str = typer.Argument(..., help="Spec ID or unique prefix."),
    json_: bool = JSON_OPTION,
) -> None:
    """Remove a spec (its history stays in git; linked tasks are reported by spec check)."""
    ws = open_workspace(ctx, warn=False)
    result = ws.remove_spec(acting(ctx, ws), spec)
    if want_json(ctx, json_):
        output.emit_json({"removed": result})
        return
    output.say(f"{result['id']} removed: {result['title']}")


@app.command("expand")
def expand(
    ctx: typer.Context,
    spec: str = typer.Argument(..., help="Spec ID or unique prefix."),
    answers: str = typer.Option(
        None,
        "--answers",
        help="Answers to the clarifying questions (YAML: question -> answer, or a list in order).",
    ),
    no_questions: bool = typer.Option(
        False, "--no-questions", help="Ask nothing: the runtime records assumptions instead."
    ),
    runtime: str = typer.Option(None, "--runtime", help="simulated (default) | llm | command."),
    model: str = typer.Option(
        None, "--model", help="The llm runtime's model (default: llm.model)."
    ),
    agent: str = typer.Option(None, "--agent", help="Use this agent's runtime, model and command."),
    force: bool = typer.Option(
        False, "--force", help="Rewrite a spec that has requirements already."
    ),
    json_: bool = JSON_OPTION,
) -> None:
    """Have a runtime write the spec out from its idea: summary, goals, requirements R1..,
    acceptance criteria, milestones, open questions and assumptions. It may first ask up to 8
    clarifying questions (answered on the terminal, from --answers FILE, or skipped with
    --no-questions). Nothing is written unless the answer matches the spec schema (exit 11)."""
    from agentctl.workspace.spec_expand import SpecRuntime, match_answers

    ws = open_workspace(ctx, warn=False)
    actor = acting(ctx, ws)
    how = SpecRuntime(runtime, model, agent)
    if no_questions and answers is not None:
        raise UsageError("use --answers or --no-questions, not both")
    answered: list[tuple[str, str]] = []
    if not no_questions:
        text = _read(answers, "--answers") if answers is not None else None
        questions = ws.spec_questions(spec, how)
        if text is not None:
            answered = match_answers(text, answers, questions)
        elif questions and sys.stdin.isatty() and not want_json(ctx, json_):
            answered = _ask(questions)
    result = ws.expand_spec(actor, spec, how, answered, no_questions, force)
    if want_json(ctx, json_):
        output.emit_json(
            {"spec": result, "answered": [{"question": q, "answer": a} for q, a in answered]}
        )
        return
    expansion = result["expansion"]
    output.say(
        f"{result['id']} expanded: {len(expansion['requirements'])} requirements, "
        f"{len(expansion.get('milestones', []))} milestones, {len(expansion.get('questions', []))} open questions, "
        f"{len(expansion.get('assumptions', []))} assumptions ({len(answered)} questions answered)"
    )


def _ask(questions: list[str]) -> list[tuple[str, str]]:
    output.notice(f"{len(questions)} clarifying questions (Enter skips one):")
    answered = []
    for number, question in enumerate(questions, start=1):
        answer = typer.prompt(f"{number}. {question}", default="", show_default=False)
        if answer.strip():
            answered.append((question, answer.strip()))
    return answered


@app.command("plan")
def plan(
    ctx: typer.Context,
    spec: str = typer.Argument(..., help="Spec ID or unique prefix."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show the tasks; write nothing."),
    llm: bool = typer.Option(
        False, "--llm", help="Have a runtime break the spec's prose down into tasks."
    ),
    runtime: str = typer.Option(
        None, "--runtime", help="With --llm: simulated (default) | llm | command."
    ),
    model: str = typer.Option(
        None, "--model", help="With --llm: the llm runtime's model (default: llm.model)."
    ),
    agent: str = typer.Option(
        None, "--agent", help="With --llm: use this agent's runtime, model and command."
    ),
    json_: bool = JSON_OPTION,
) -> None:
    """Turn a spec's requirements and milestones into tasks (one commit): a task per
    requirement carrying spec: <id>#R<n>, under its milestone's task, with the dependencies,
    estimates and labels the spec states. With --llm a runtime writes the tasks (several per
    requirement, with their own dependencies); nothing is written unless its answer passes the
    checks (exit 11). Re-planning updates them, never duplicates."""
    from agentctl.cli.imports import render

    ws = open_workspace(ctx, warn=False)
    actor = acting(ctx, ws)
    if llm:
        from agentctl.workspace.spec_expand import SpecRuntime

        how = SpecRuntime(runtime, model, agent)
        report = ws.plan_spec_llm(actor, spec, how, dry_run=dry_run)
    elif runtime is not None or model is not None or agent is not None:
        raise UsageError("--runtime, --model and --agent choose who plans with --llm: add --llm")
    else:
        report = ws.plan_spec(actor, spec, dry_run=dry_run)
    for problem in report["problems"]:
        output.notice(f"warning: {problem}")
    if want_json(ctx, json_):
        output.emit_json({"report": report})
        return
    text = render(report).replace("Roadmap ", "Spec ", 1).replace("Imported: ", "Planned: ", 1)
    output.write(text.replace("the roadmap", "the spec"))


@app.command("status")
def status(
    ctx: typer.Context,
    spec: str = typer.Argument(..., help="Spec ID or unique prefix."),
    json_: bool = JSON_OPTION,
) -> None:
    """Per requirement, its tasks and their states; a requirement without a task is flagged."""
    ws = open_workspace(ctx)
    data = ws.spec_status(spec)
    if want_json(ctx, json_):
        output.emit_json({"status": data})
        return
    output.write(render_status(data))


def render_status(data: dict[str, Any]) -> str:
    total = len(data["requirements"])
    lines = [
        f"{data['id']}  {data['title']}",
        f"{total - len(data['uncovered'])}/{total} requirements have tasks, {data['done']}/{total} done",
        "",
    ]
    for row in data["requirements"] + data["milestones"]:
        mark = "✓" if row["done"] else "·" if row["covered"] else "!"
        lines.append(f"{mark} {row['id']}  {row['text'][:70]}")
        if not row["tasks"]:
            lines.append("    no task (run 'agentctl spec plan')")
        for task in row["tasks"]:
            who = f" @{' @'.join(task['assignees'])}" if task["assignees"] else ""
            lines.append(f"    {task['short_id']}  [{task['status']}]{who}  {task['title'][:60]}")
    for task in data["orphans"]:
        lines.append(
            f"! {task['anchor']}: {task['short_id']} [{task['status']}] links to an anchor the spec does not have"
        )
    return "\n".join(lines) + "\n"


@app.command("check")
def check(
    ctx: typer.Context,
    spec: str = typer.Argument(None, help="Spec ID or unique prefix (default: every spec)."),
    json_: bool = JSON_OPTION,
) -> None:
    """Report drift: requirements edited after planning, tasks whose requirement is gone,
    spec: links naming no spec or anchor. The assignees and the spec's author are notified.
    Exits 5 when there is drift."""
    ws = open_workspace(ctx, warn=False)
    report = ws.check_specs(acting(ctx, ws), spec)
    if want_json(ctx, json_):
        output.emit_json({"check": report})
    else:
        _render_check(ws, report)
    if report["problems"]:
        raise typer.Exit(int(ExitCode.CONFLICT))


def _render_check(ws: Workspace, report: dict[str, Any]) -> None:
    if not report["drift"]:
        output.say(f"no drift in {len(report['checked'])} spec(s)")
        return
    for entry in report["drift"]:
        output.write(
            f"{entry['spec'] or '(no spec)'}  {entry['title'] or ''}\n".replace("  \n", "\n")
        )
        for problem in entry["problems"]:
            output.write(f"  {problem}\n")
    if report["notified"]:
        output.notice(f"notified: {', '.join(report['notified'])}")
