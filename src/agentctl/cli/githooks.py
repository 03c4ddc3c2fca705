"""``agentctl hooks`` (git hooks) and the hidden ``agentctl merge-driver`` git calls."""

from __future__ import annotations

import sys

import typer

from agentctl.cli import output
from agentctl.cli.common import JSON_OPTION, open_workspace, want_json
from agentctl.errors import ExitCode

hooks_app = typer.Typer(
    help="Install, remove or show agentctl's git hooks and merge drivers.",
    rich_markup_mode=None,
    no_args_is_help=True,
)
merge_driver_app = typer.Typer(rich_markup_mode=None, no_args_is_help=True)


def _print_hooks(result: dict[str, object]) -> None:
    hooks = result["hooks"]
    assert isinstance(hooks, dict)
    for hook, state in hooks.items():
        output.say(f"{hook}: {state}")


@hooks_app.command("install")
def install(ctx: typer.Context, json_: bool = JSON_OPTION) -> None:
    """Install the git hooks and configure the merge drivers in .git/config.

    Hooks go where git looks for them (core.hooksPath is respected, never set). A hook you
    already have keeps running: agentctl adds a marked block to a shell hook, or runs any
    other hook after its own. pre-commit checks the staged records; commit-msg refuses a
    'Refs/Closes t-...' naming no task; post-commit posts the commit on the threads of the
    tasks its message mentions ('Closes' moves them to review); post-merge, post-checkout
    and post-rewrite re-render WORKING.md. Idempotent.
    """
    ws = open_workspace(ctx, warn=False)
    result = ws.install_git_hooks()
    if want_json(ctx, json_):
        output.emit_json(result)
        return
    _print_hooks(result)
    for driver in result["merge_drivers"]:
        output.say(f"configured merge driver {driver}")
    output.notice(f"hooks directory: {result['hooks_dir']}")


@hooks_app.command("uninstall")
def uninstall(ctx: typer.Context, json_: bool = JSON_OPTION) -> None:
    """Remove agentctl's hook blocks (your own hooks stay) and its merge drivers."""
    ws = open_workspace(ctx, warn=False)
    result = ws.uninstall_git_hooks()
    if want_json(ctx, json_):
        output.emit_json(result)
        return
    _print_hooks(result)
    for driver in result["merge_drivers"]:
        output.say(f"removed merge driver {driver}")
    if not result["hooks"] and not result["merge_drivers"]:
        output.notice("nothing to remove")


@hooks_app.command("status")
def status(ctx: typer.Context, json_: bool = JSON_OPTION) -> None:
    """Show which git hooks carry agentctl's block and whether the merge drivers are set."""
    ws = open_workspace(ctx, warn=False)
    result = ws.git_hooks_status()
    if want_json(ctx, json_):
        output.emit_json(result)
        return
    output.say(f"hooks directory: {result['hooks_dir']}")
    if result["hooks_path"]:
        output.say(f"core.hooksPath: {result['hooks_path']}")
    _print_hooks(result)
    for driver, state in result["merge_drivers"].items():
        named = result["attributes"][driver] == driver
        output.say(
            f"merge driver {driver}: {state}"
            + ("" if named else " (.gitattributes does not name it: run 'agentctl init')")
        )


@hooks_app.command("run", hidden=True)
def run(
    ctx: typer.Context,
    hook: str = typer.Argument(..., help="The git hook being run."),
    args: list[str] = typer.Argument(None, help="The arguments git gave the hook."),
) -> None:
    """Run one git hook's work (called by the installed hook files)."""
    from pathlib import Path

    from agentctl import vcs_merge
    from agentctl.cli.common import globals_of
    from agentctl.errors import AgentctlError

    blocking = hook in ("pre-commit", "commit-msg")
    try:
        root = Path(globals_of(ctx).workspace or ".")
        if not vcs_merge.hook_has_work(hook, list(args or []), root):
            return
        ws = open_workspace(ctx, warn=False)
        result = ws.run_git_hook(hook, list(args or []))
    except AgentctlError as exc:
        if blocking:
            raise
        # A hook that runs after git finished must never make git report a failure.
        output.notice(f"agentctl: {hook} hook: {exc}")
        return
    problems = result.get("problems") or []
    for problem in problems:
        sys.stderr.write(f"{problem}\n")
    for warning in result.get("warnings") or []:
        output.notice(f"agentctl: {warning}")
    for task_id in result.get("linked") or []:
        output.notice(f"agentctl: linked commit to {task_id}")
    if problems:
        output.notice(
            "agentctl: commit refused: fix the records above (or commit with --no-verify)"
        )
        raise typer.Exit(int(ExitCode.VALIDATION))


@merge_driver_app.command("working")
def merge_working(
    base: str = typer.Argument(..., help="%O"),
    ours: str = typer.Argument(..., help="%A (the result is written here)"),
    theirs: str = typer.Argument(..., help="%B"),
    path: str = typer.Argument("WORKING.md", help="%P"),
) -> None:
    """WORKING.md: one rendering (ours) with both sides' Notes; never a text merge."""
    from agentctl import vcs_merge

    raise typer.Exit(vcs_merge.merge_working_files(base, ours, theirs))


@merge_driver_app.command("record")
def merge_record(
    base: str = typer.Argument(..., help="%O"),
    ours: str = typer.Argument(..., help="%A (the result is written here)"),
    theirs: str = typer.Argument(..., help="%B"),
    path: str = typer.Argument("record", help="%P"),
) -> None:
    """Task and agent records: field-level frontmatter merge; exit 1 on a conflict."""
    from agentctl import vcs_merge

    code = vcs_merge.merge_record_files(base, ours, theirs, path)
    if code:
        sys.stderr.write(f"agentctl: conflicting fields in {path}: left between markers\n")
    raise typer.Exit(code)
