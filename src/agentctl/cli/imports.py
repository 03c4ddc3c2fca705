"""``agentctl import ...``: plans from other formats as tasks (a markdown roadmap)."""

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
    help="Import plans from other formats as tasks.", rich_markup_mode=None, no_args_is_help=True
)


@app.callback()
def group() -> None:
    """Import plans from other formats as tasks."""


def read_input(file: str, root: Path, limit: int) -> tuple[bytes, str]:
    """The bytes of FILE (or stdin for '-', named ``stdin``) and the name the import keys its
    tasks by: the path relative to the workspace when the file is inside it, else the file
    name. Reads at most ``limit + 1`` bytes (the importer refuses more)."""
    if file == "-":
        stream = getattr(sys.stdin, "buffer", None)
        if sys.stdin.isatty():
            raise UsageError("give the roadmap as FILE, or pipe it in with '-'")
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
        raise UsageError(f"{file} is a directory, not a roadmap file") from None
    except PermissionError:
        raise UsageError(f"cannot read {file}: permission denied") from None
    except OSError as exc:
        raise UsageError(f"cannot read {file}: {exc.strerror or exc}") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise UsageError(f"{file} is a directory, not a roadmap file")
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
