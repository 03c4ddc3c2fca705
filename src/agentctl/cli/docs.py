"""``agentctl doc ...``: versioned documents (deliverable, research, protocol, decision)."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from agentctl.cli import output
from agentctl.cli.common import JSON_OPTION, acting, open_workspace, want_json
from agentctl.errors import UsageError

if TYPE_CHECKING:
    from agentctl.core.rows import DocumentRow

app = typer.Typer(
    help="Add, list, show, edit and remove documents; read their git history.",
    rich_markup_mode=None,
    no_args_is_help=True,
)

TYPE_HELP = "deliverable | research | protocol | decision"


def _body(file: Path | None) -> str:
    """The document text from --file, else stdin (refusing an interactive terminal)."""
    if file is not None:
        try:
            return file.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise UsageError(f"--file: no such file {file}") from None
        except UnicodeDecodeError:
            raise UsageError(f"--file: {file} is not UTF-8 text") from None
        except IsADirectoryError:
            raise UsageError(f"--file: {file} is a directory") from None
    if sys.stdin.isatty():
        raise UsageError("give the text with --file F or on stdin")
    return sys.stdin.read()


def _row(doc: DocumentRow) -> list[str]:
    return [
        doc["id"],
        doc["type"],
        doc.get("task") or "-",
        doc["author"],
        doc["updated_at"][:16].replace("T", " "),
        doc["title"],
    ]


@app.command("add")
def add(
    ctx: typer.Context,
    title: str = typer.Argument(..., help="One-line title."),
    type_: str = typer.Option(..., "--type", help=TYPE_HELP),
    task: str = typer.Option(None, "--task", "-t", help="Link the document to this task."),
    file: Path = typer.Option(
        None, "--file", "-f", help="Read the text from this file (default: stdin)."
    ),
    json_: bool = JSON_OPTION,
) -> None:
    """Add a document (text from --file or stdin)."""
    ws = open_workspace(ctx, warn=False)
    doc = ws.add_doc(acting(ctx, ws), title, type_, _body(file), task)
    if want_json(ctx, json_):
        output.emit_json({"doc": doc})
        return
    output.say(
        f"{doc['id']} added ({doc['type']}{', task ' + doc['task'] if doc.get('task') else ''}): {doc['title']}"
    )


@app.command("list")
def list_(
    ctx: typer.Context,
    type_: str = typer.Option(None, "--type", help=TYPE_HELP),
    task: str = typer.Option(None, "--task", "-t", help="Only documents linked to this task."),
    json_: bool = JSON_OPTION,
) -> None:
    """List documents, oldest first."""
    ws = open_workspace(ctx)
    docs = ws.list_docs(type_, task)
    if want_json(ctx, json_):
        output.emit_json({"docs": docs})
        return
    if not docs:
        output.say("no documents")
        return
    output.table(["ID", "TYPE", "TASK", "AUTHOR", "UPDATED", "TITLE"], [_row(d) for d in docs])


@app.command("show")
def show(
    ctx: typer.Context,
    doc: str = typer.Argument(..., help="Document ID or unique prefix."),
    json_: bool = JSON_OPTION,
) -> None:
    """Show a document."""
    ws = open_workspace(ctx)
    data = ws.show_doc(doc)
    if want_json(ctx, json_):
        output.emit_json({"doc": data})
        return
    head = [
        f"{data['id']}  {data['title']}",
        f"type: {data['type']} · task: {data.get('task') or '-'} · by {data['author']} · updated {data['updated_at']}",
    ]
    if data.get("source_url"):
        head.append(f"source: {data['source_url']} · fetched {data.get('fetched_at') or '-'}")
    head.append("")
    output.write("\n".join(head) + "\n" + data["body"])  # a blank line between header and text


@app.command("edit")
def edit(
    ctx: typer.Context,
    doc: str = typer.Argument(..., help="Document ID or unique prefix."),
    file: Path = typer.Option(None, "--file", "-f", help="Replace the text with this file's."),
    editor: bool = typer.Option(False, "--editor", "-e", help="Edit the text in $VISUAL/$EDITOR."),
    title: str = typer.Option(None, "--title", help="New title."),
    json_: bool = JSON_OPTION,
) -> None:
    """Replace a document's text (--file, --editor or stdin) and/or title; git keeps the versions."""
    ws = open_workspace(ctx, warn=False)
    actor = acting(ctx, ws)
    if editor and file is not None:
        raise UsageError("use --file or --editor, not both")
    body: str | None
    if editor:
        body = _edit_text(ws.show_doc(doc))
    elif file is not None or (title is None and not sys.stdin.isatty()):
        body = _body(file)
    else:
        body = None
    result = ws.edit_doc(actor, doc, body=body, title=title)
    if want_json(ctx, json_):
        output.emit_json({"doc": result})
        return
    output.say(f"{result['id']} updated: {result['title']}")


def _edit_text(doc: dict[str, Any]) -> str:
    command = os.environ.get("VISUAL") or os.environ.get("EDITOR")
    if not command:
        raise UsageError("set $VISUAL or $EDITOR to use --editor")
    with tempfile.TemporaryDirectory(prefix="agentctl-doc-") as tmp:
        scratch = Path(tmp) / f"{doc['id']}.md"
        scratch.write_text(doc["body"], encoding="utf-8")
        completed = subprocess.run([*shlex.split(command), str(scratch)], check=False)
        if completed.returncode != 0:
            raise UsageError(
                f"the editor exited with status {completed.returncode}; nothing changed"
            )
        return scratch.read_text(encoding="utf-8")


@app.command("history")
def history(
    ctx: typer.Context,
    doc: str = typer.Argument(..., help="Document ID or unique prefix."),
    json_: bool = JSON_OPTION,
) -> None:
    """List the git commits that changed a document, newest first."""
    ws = open_workspace(ctx)
    data = ws.doc_history(doc)
    if want_json(ctx, json_):
        output.emit_json({"history": data})
        return
    if not data["history"]:
        output.say(f"{data['id']}: no commits yet ({data['path']} is not committed)")
        return
    rows = [
        [h["commit"][:12], h["date"][:16].replace("T", " "), h["author"], h["subject"]]
        for h in data["history"]
    ]
    output.table(["COMMIT", "DATE", "AUTHOR", "SUBJECT"], rows)


@app.command("diff")
def diff(
    ctx: typer.Context,
    doc: str = typer.Argument(..., help="Document ID or unique prefix."),
    rev: str = typer.Argument(
        None, help="A git revision (default: the document's previous version)."
    ),
    json_: bool = JSON_OPTION,
) -> None:
    """Show what changed in a document since REV (default: its last change)."""
    ws = open_workspace(ctx)
    data = ws.doc_diff(doc, rev)
    if want_json(ctx, json_):
        output.emit_json({"diff": data})
        return
    output.write(data["diff"] or f"{data['id']}: no differences\n")


@app.command("rm")
def rm(
    ctx: typer.Context,
    doc: str = typer.Argument(..., help="Document ID or unique prefix."),
    json_: bool = JSON_OPTION,
) -> None:
    """Remove a document (its history stays in git)."""
    ws = open_workspace(ctx, warn=False)
    result = ws.remove_doc(acting(ctx, ws), doc)
    if want_json(ctx, json_):
        output.emit_json({"removed": result})
        return
    output.say(f"{result['id']} removed: {result['title']}")
