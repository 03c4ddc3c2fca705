"""``agentctl import ...``: plans and other trackers' tasks as agentctl tasks (a markdown
roadmap, Backlog.md, Taskwarrior, beads, GitHub issues, agentctl's own JSON Lines)."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import Any

import typer

from agentctl.cli import output
from agentctl.cli.common import JSON_OPTION, acting, open_workspace, want_json
from agentctl.errors import UsageError

app = typer.Typer(
    help="Import plans and other trackers' tasks as tasks.",
    rich_markup_mode=None,
    no_args_is_help=True,
)


@app.callback()
def group() -> None:
    """Import plans and other trackers' tasks as tasks."""


def read_input(file: str, root: Path, limit: int, what: str = "roadmap") -> tuple[bytes, str]:
    """The bytes of FILE (or stdin for '-', named ``stdin``) and the name the import keys its
    tasks by: the path relative to the workspace when the file is inside it, else the file
    name. Reads at most ``limit + 1`` bytes (the importer refuses more)."""
    if file == "-":
        stream = getattr(sys.stdin, "buffer", None)
        if sys.stdin.isatty():
            raise UsageError(f"give the {what} as FILE, or pipe it in with '-'")
        data = (
            stream.read(limit + 1)
            if stream is not None
            else sys.stdin.read(limit + 1).encode("utf-8")
        )
        return data, "stdin"
    path = Path(file)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise UsageError(f"no such file: {file}") from None
    except IsADirectoryError:
        raise UsageError(f"{file} is a directory, not a {what} file") from None
    except PermissionError:
        raise UsageError(f"cannot read {file}: permission denied") from None
    except OSError as exc:
        raise UsageError(f"cannot read {file}: {exc.strerror or exc}") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise UsageError(f"{file} is a directory, not a {what} file")
        if not stat.S_ISREG(mode):
            raise UsageError(f"{file} is not a regular file (use '-' to read a pipe)")
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise UsageError(f"cannot read {file}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    resolved = path.resolve()
    try:
        name = resolved.relative_to(root).as_posix()
    except ValueError:
        name = resolved.name
    return b"".join(chunks), name


@app.command("roadmap")
def roadmap(
    ctx: typer.Context,
    file: str = typer.Argument(..., help="The roadmap (markdown); '-' reads it from stdin."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Show the tree and the report; write nothing."
    ),
    parent: str = typer.Option(
        None, "--parent", help="Put the roadmap's top-level tasks under this task."
    ),
    label: str = typer.Option(None, "--label", "-l", help="Add this label to every imported task."),
    json_: bool = JSON_OPTION,
) -> None:
    """Import a markdown roadmap as a tree of tasks with dependencies, estimates, labels and
    acceptance criteria (one commit). Re-importing updates the tasks it created, adds new
    ones and lists vanished ones (never deletes). See docs/planning.md."""
    ws = open_workspace(ctx, warn=False)
    data, name = read_input(file, ws.root, ws.roadmap_max_bytes())
    report = ws.import_roadmap(
        acting(ctx, ws), data, name, dry_run=dry_run, parent=parent, label=label
    )
    unresolved, cycles = len(report["unresolved"]), len(report["cycles"])
    if unresolved or cycles:
        output.notice(
            f"{unresolved} unresolved {'dependency' if unresolved == 1 else 'dependencies'}, "
            f"{cycles} {'dependency' if cycles == 1 else 'dependencies'} left out to break cycles (listed in the report)"
        )
    if want_json(ctx, json_):
        output.emit_json({"report": report})
        return
    output.write(render(report))


# -- the text report -----------------------------------------------------------------------------

_KIND_NAMES = (
    ("section", "sections"),
    ("task", "tasks"),
    ("milestone", "milestones"),
    ("sprint", "sprint rows"),
)
_MARK = {"create": "+", "update": "~", "unchanged": "="}


def render(report: dict[str, Any]) -> str:
    counts = report["counts"]
    kinds = ", ".join(
        f"{counts[k]} {name}" for k, name in _KIND_NAMES if counts[k] or k in ("section", "task")
    )
    lines = [
        f"Roadmap {report['source']}: {kinds}; {counts['criteria']} acceptance criteria, {counts['dependencies']} dependencies"
    ]
    tally = f"{report['created']} to create, {report['updated']} to update, {report['unchanged']} unchanged"
    if report["dry_run"]:
        lines.append(f"Dry run: {tally} (nothing written)")
    elif report["created"] or report["updated"]:
        done = tally.replace("to create", "created").replace("to update", "updated")
        lines.append(f"Imported: {done}" + ("; one commit" if report["committed"] else ""))
    else:
        lines.append(f"Nothing to change: {report['unchanged']} tasks already match the roadmap")
    if report["repaired_lines"]:
        lines.append(f"Repaired mojibake on {report['repaired_lines']} lines")
    lines.append("")
    stack = [(node, 0) for node in reversed(report["tasks"])]
    while stack:
        node, depth = stack.pop()
        lines.extend(_node_lines(node, depth))
        stack.extend((child, depth + 1) for child in reversed(node["children"]))
    lines.extend(_section("Unresolved dependencies", [
        f"line {u['line']}: {u['task']}: {u['ref']!r}: {u['reason']}" for u in report["unresolved"]
    ]))  # fmt: skip
    lines.extend(_section("Dependency cycles (the closing dependency was not imported)", [
        f"line {c['line']}: {c['task']} depends on {c['ref']!r}: {' -> '.join(c['cycle'])}" for c in report["cycles"]
    ]))  # fmt: skip
    lines.extend(_section("Ignored", _ignored(report["ignored"]), len(report["ignored"])))
    lines.extend(_section("No longer in the roadmap (kept, not deleted)", [
        f"{v['id']}  {v['title']} [{v['status']}]" for v in report["vanished"]
    ]))  # fmt: skip
    lines.extend(_section("Notes", report["notes"]))
    return "\n".join(lines) + "\n"


def _node_lines(node: dict[str, Any], depth: int) -> list[str]:
    indent = "  " * depth
    parts = [f"{indent}{_MARK[node['action']]} {node['title']}", f"[{node['status']}]"]
    if node["estimate"]:
        parts.append(node["estimate"])
    if node["labels"]:
        parts.append(" ".join(f"#{label}" for label in node["labels"]))
    if node["assignees"]:
        parts.append("@" + " @".join(node["assignees"]))
    if node["due"]:
        parts.append(f"due {node['due']}")
    if node["depends_on"]:
        parts.append("after " + ", ".join(dep["ref"] for dep in node["depends_on"]))
    if node["id"]:
        parts.append(f"({node['id']})")
    if node["changed"]:
        parts.append(f"changed: {', '.join(node['changed'])}")
    lines = ["  ".join(parts)]
    lines.extend(
        f"{indent}    {'[x]' if c['done'] else '[ ]'} {c['text']}" for c in node["criteria"]
    )
    return lines


def _ignored(entries: list[dict[str, Any]]) -> list[str]:
    """One line per reason: its line numbers (and the text, when only one line has it)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        groups.setdefault(entry["reason"], []).append(entry)
    lines = []
    for reason, group in sorted(groups.items(), key=lambda g: g[1][0]["line"]):
        spans = ", ".join(_span(e) for e in group)
        plural = len(group) > 1 or group[0]["end"] != group[0]["line"]
        text = f": {group[0]['text']!r}" if len(group) == 1 and group[0]["text"] else ""
        lines.append(f"{'lines' if plural else 'line'} {spans}: {reason}{text}")
    return lines


def _span(entry: dict[str, Any]) -> str:
    return (
        f"{entry['line']}-{entry['end']}" if entry["end"] != entry["line"] else str(entry["line"])
    )


def _section(title: str, lines: list[str], count: int | None = None) -> list[str]:
    if not lines:
        return []
    return [
        "",
        f"{title} ({len(lines) if count is None else count}):",
        *(f"  {line}" for line in lines),
    ]


# -- other trackers ------------------------------------------------------------------------------

DRY_RUN_OPTION = typer.Option(False, "--dry-run", help="Show the report; write nothing.")
LABEL_OPTION = typer.Option(None, "--label", "-l", help="Add this label to every imported task.")


def _external(
    ctx: typer.Context, fmt: str, file: str, dry_run: bool, label: str | None, json_: bool
) -> None:
    ws = open_workspace(ctx, warn=False)
    if fmt == "backlog":
        folder = Path(file)
        if not folder.exists():
            raise UsageError(f"no such folder: {file}")
        report = ws.import_external(
            acting(ctx, ws), fmt, folder, folder.name or file, dry_run=dry_run, label=label
        )
    else:
        data, name = read_input(file, ws.root, ws.import_max_bytes(), what=f"{fmt} export")
        if len(data) > ws.import_max_bytes():
            raise UsageError(
                f"{name} is larger than {ws.import_max_bytes() // (1024 * 1024)} MiB; nothing was imported"
            )
        report = ws.import_external(acting(ctx, ws), fmt, data, name, dry_run=dry_run, label=label)
    _notice(report)
    if want_json(ctx, json_):
        output.emit_json({"report": report})
        return
    output.write(render_external(report))


def _notice(report: dict[str, Any]) -> None:
    skipped = len(report["skipped"])
    unresolved = len(report.get("unresolved", [])) + len(report.get("cycles", []))
    if skipped or unresolved:
        parts = []
        if skipped:
            parts.append(f"{skipped} {'record' if skipped == 1 else 'records'} skipped")
        if unresolved:
            parts.append(f"{unresolved} {'link' if unresolved == 1 else 'links'} left out")
        output.notice(", ".join(parts) + " (listed in the report)")


@app.command("backlog")
def backlog(
    ctx: typer.Context,
    folder: str = typer.Argument(
        ..., help="The Backlog.md project folder (holding backlog/tasks)."
    ),
    dry_run: bool = DRY_RUN_OPTION,
    label: str = LABEL_OPTION,
    json_: bool = JSON_OPTION,
) -> None:
    """Import a Backlog.md project's tasks (backlog/tasks/*.md, backlog/completed/*.md): status,
    assignees, labels, priority, dependencies, parent, acceptance criteria (one commit).
    Re-importing updates the tasks it created (matched by source backlog:<id>). See
    docs/integrations.md."""
    _external(ctx, "backlog", folder, dry_run, label, json_)


@app.command("taskwarrior")
def taskwarrior(
    ctx: typer.Context,
    file: str = typer.Argument(..., help="`task export` output (JSON); '-' reads it from stdin."),
    dry_run: bool = DRY_RUN_OPTION,
    label: str = LABEL_OPTION,
    json_: bool = JSON_OPTION,
) -> None:
    """Import Taskwarrior tasks (`task export`): status, priority H/M/L, tags, project, due,
    dependencies; annotations become messages on the task's thread (one commit). Re-importing
    updates the tasks it created (matched by source taskwarrior:<uuid>). See docs/integrations.md."""
    _external(ctx, "taskwarrior", file, dry_run, label, json_)


@app.command("beads")
def beads(
    ctx: typer.Context,
    file: str = typer.Argument(..., help="beads' issues.jsonl; '-' reads it from stdin."),
    dry_run: bool = DRY_RUN_OPTION,
    label: str = LABEL_OPTION,
    json_: bool = JSON_OPTION,
) -> None:
    """Import beads issues (.beads/issues.jsonl): status, priority, labels, assignee,
    blocking and parent-child dependencies; comments become messages (one commit). Re-importing
    updates the tasks it created (matched by source beads:<id>). See docs/integrations.md."""
    _external(ctx, "beads", file, dry_run, label, json_)


@app.command("github")
def github(
    ctx: typer.Context,
    file: str = typer.Argument(
        ...,
        help="`gh issue list --json number,title,body,state,labels,assignees,milestone,comments` "
        "output; '-' reads it from stdin.",
    ),
    dry_run: bool = DRY_RUN_OPTION,
    label: str = LABEL_OPTION,
    json_: bool = JSON_OPTION,
) -> None:
    """Import GitHub issues (`gh issue list --json ...`): state, labels, assignees, milestone;
    comments become messages (one commit). Re-importing updates the tasks it created (matched
    by source github:<number>). See docs/integrations.md."""
    _external(ctx, "github", file, dry_run, label, json_)


@app.command("jsonl")
def jsonl(
    ctx: typer.Context,
    file: str = typer.Argument(
        ..., help="An `agentctl export jsonl` file; '-' reads it from stdin."
    ),
    dry_run: bool = DRY_RUN_OPTION,
    json_: bool = JSON_OPTION,
) -> None:
    """Import agentctl's own JSON Lines (from `agentctl export jsonl`) as it was: same task IDs,
    fields, bodies and thread messages; new tasks are created, changed ones overwritten (one
    commit). See docs/integrations.md."""
    ws = open_workspace(ctx, warn=False)
    data, name = read_input(file, ws.root, ws.import_max_bytes(), what="JSONL export")
    if len(data) > ws.import_max_bytes():
        raise UsageError(
            f"{name} is larger than {ws.import_max_bytes() // (1024 * 1024)} MiB; nothing was imported"
        )
    report = ws.import_jsonl(acting(ctx, ws), data, name, dry_run=dry_run)
    _notice(report)
    if want_json(ctx, json_):
        output.emit_json({"report": report})
        return
    lines = [_tally(report)]
    lines.extend(f"{_MARK[t['action']]} {t['id']}  {t['title']}" for t in report["tasks"])
    lines.extend(
        _section(
            "Skipped",
            [f"{s['where']}: {s['ref'] or '-'}: {s['reason']}" for s in report["skipped"]],
        )
    )
    output.write("\n".join(lines) + "\n")


def _tally(report: dict[str, Any]) -> str:
    head = f"{report['format']} {report['input']}: {report['records']} records"
    tally = f"{report['created']} to create, {report['updated']} to update, {report['unchanged']} unchanged"
    if report["messages"]:
        tally += (
            f", {report['messages']} {'message' if report['messages'] == 1 else 'messages'} to add"
        )
    if report["dry_run"]:
        return f"{head}\nDry run: {tally} (nothing written)"
    if report["created"] or report["updated"] or report["messages"]:
        done = (
            tally.replace("to create", "created")
            .replace("to update", "updated")
            .replace("to add", "added")
        )
        return f"{head}\nImported: {done}" + ("; one commit" if report["committed"] else "")
    return f"{head}\nNothing to change: {report['unchanged']} tasks already match"


def render_external(report: dict[str, Any]) -> str:
    lines = [_tally(report), ""]
    stack = [(node, 0) for node in reversed(report["tasks"])]
    while stack:
        node, depth = stack.pop()
        parts = [f"{'  ' * depth}{_MARK[node['action']]} {node['title']}", f"[{node['status']}]"]
        if node["labels"]:
            parts.append(" ".join(f"#{label}" for label in node["labels"]))
        if node["assignees"]:
            parts.append("@" + " @".join(node["assignees"]))
        if node["depends_on"]:
            parts.append("after " + ", ".join(dep["ref"] for dep in node["depends_on"]))
        parts.append(f"({node['id'] + ', ' if node['id'] else ''}{report['format']}:{node['ref']})")
        if node["changed"]:
            parts.append(f"changed: {', '.join(node['changed'])}")
        lines.append("  ".join(parts))
        stack.extend((child, depth + 1) for child in reversed(node["children"]))
    lines.extend(
        _section("Status mapping", [f"{rule}: {n}" for rule, n in report["mapping"].items()])
    )
    lines.extend(
        _section(
            "Skipped",
            [
                f"{s['where']}: {s['ref'] + ': ' if s['ref'] else ''}{s['reason']}"
                for s in report["skipped"]
            ],
        )
    )
    lines.extend(_section("Links left out", [
        f"{u['where'] or u['task']}: {u['task']} -> {u['ref']}: {u['reason']}" for u in report["unresolved"]
    ] + [
        f"{c['where'] or c['task']}: {c['task']} depends on {c['ref']}: cycle {' -> '.join(c['cycle'])}" for c in report["cycles"]
    ]))  # fmt: skip
    lines.extend(_section(f"No longer in the {report['format']} export (kept, not deleted)", [
        f"{v['id']}  {v['title']} [{v['status']}]" for v in report["vanished"]
    ]))  # fmt: skip
    lines.extend(_section("Notes", report["notes"]))
    return "\n".join(lines) + "\n"
