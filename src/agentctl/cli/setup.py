"""``agentctl init``, ``agentctl validate`` and ``agentctl reindex``."""

from __future__ import annotations

from pathlib import Path

import typer

from agentctl.cli import output
from agentctl.cli.common import JSON_OPTION, globals_of, open_workspace, want_json
from agentctl.errors import ExitCode

init_app = typer.Typer(rich_markup_mode=None)
validate_app = typer.Typer(rich_markup_mode=None)
reindex_app = typer.Typer(rich_markup_mode=None)
doctor_app = typer.Typer(rich_markup_mode=None)


@init_app.command()
def init(
    ctx: typer.Context,
    path: Path = typer.Argument(Path("."), help="Directory to initialise (default: here)."),
    name: str = typer.Option(None, "--name", help="Workspace name shown in WORKING.md."),
    nested: bool = typer.Option(
        False, "--nested", help="Create it even inside another workspace (refused otherwise)."
    ),
    json_: bool = JSON_OPTION,
) -> None:
    """Create the workspace layout, config, .gitignore and .gitattributes entries.

    Idempotent: running it again creates only what is missing and never overwrites a file.
    Refused inside an existing workspace unless --nested.
    """
    from agentctl.workspace import Workspace

    result = Workspace.init(path, name, globals_of(ctx).as_agent, nested=nested)
    if want_json(ctx, json_):
        output.emit_json(result)
        return
    if result["already_initialised"]:
        output.say(f"workspace already initialised at {result['root']}")
        return
    output.say(f"initialised agentctl workspace at {result['root']}")
    for item in result["created"]:
        output.say(f"  created {item}")
    if not result["git"]:
        output.notice("not inside a git repository: git features (auto-commit, history) are off")
    elif result["autocommit"]:
        output.notice("git auto-commit is on: each change is one commit of exactly its files")


@validate_app.command()
def validate(
    ctx: typer.Context,
    paths: list[Path] = typer.Argument(None, help="Only these record files (default: everything)."),
    json_: bool = JSON_OPTION,
) -> None:
    """Check every record: schema, file names, references, cycles, conflict markers, event log."""
    ws = open_workspace(ctx, warn=False)
    problems = ws.validate(paths or None)
    if want_json(ctx, json_):
        output.emit_json(
            {
                "ok": not problems,
                "problems": [
                    {"path": p.path, "line": p.line, "message": p.message} for p in problems
                ],
            }
        )
    else:
        for problem in problems:
            output.write(f"{problem}\n")
        if not problems:
            output.notice("all records are valid")
    if problems:
        raise typer.Exit(int(ExitCode.VALIDATION))


@reindex_app.command()
def reindex(ctx: typer.Context, json_: bool = JSON_OPTION) -> None:
    """Rebuild the local SQLite index from the record files.

    On a terminal (not with --json) a progress bar shows on stderr when the build is long.
    AGENTCTL_INDEX_WORKERS=N parses the files in N worker processes (default: one fewer than
    the CPUs from 3 CPUs on, else none).

    Other commands re-read only what changed: a record directory of 2,000 files or more is
    trusted while its mtime is as last seen (edits by agentctl, git and editors that save
    through a rename change it), each command stats the next AGENTCTL_INDEX_SLICE (2,000)
    of its files, and AGENTCTL_INDEX_RESCAN (3600) seconds bound the time between full
    scans. Run reindex after editing files of a big workspace in place.
    """
    ws = open_workspace(ctx, warn=False)
    bar = output.long_progress(want_json(ctx, json_), "indexing")
    try:
        result = ws.reindex(progress=bar.update if bar else None)
    finally:
        if bar is not None:
            bar.close()
    problems = result.pop("problems")
    for problem in problems:
        output.notice(f"warning: {problem}")
    if want_json(ctx, json_):
        output.emit_json({**result, "problems": [str(p) for p in problems]})
    else:
        output.say(f"indexed {result['tasks']} tasks and {result['agents']} agents")


@doctor_app.command()
def doctor(
    ctx: typer.Context,
    dry_run: bool = typer.Option(False, "--dry-run", help="Only report what would be repaired."),
    json_: bool = JSON_OPTION,
) -> None:
    """Finish interrupted changes and repair git and event-log drift.

    Completes changes a killed or failed writer left (records, event and commit), commits
    agentctl files left uncommitted, puts git index entries of agentctl files back in step
    with HEAD, records an event for records no event created, and restores from HEAD (or
    records as lost) records whose creating event has no file. Exits 6 if problems remain.
    """
    ws = open_workspace(ctx, warn=False)
    report = ws.doctor(dry_run=dry_run)
    if want_json(ctx, json_):
        output.emit_json({"ok": not report["problems"], **report})
    else:
        labels = {
            "recovered": "completed an interrupted change",
            "committed": "committed",
            "index_repaired": "put the git index back in step for",
            "adopted": "recorded an event for",
            "restored": "restored from HEAD",
            "lost": "recorded as lost",
        }
        done = False
        for key, label in labels.items():
            for item in report.get(key, []):
                done = True
                shown = item["change"] if isinstance(item, dict) else item
                output.say(f"{label}: {shown}")
        for problem in report["problems"]:
            output.write(f"{problem}\n")
        if not done and not report["problems"]:
            output.notice("nothing to repair")
    if report["problems"]:
        raise typer.Exit(int(ExitCode.VALIDATION))
