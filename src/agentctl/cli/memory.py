"""``agentctl memory ...``: show, add to, search and compact an agent's memory."""

from __future__ import annotations

import sys
from typing import Any

import typer

from agentctl.cli import output
from agentctl.cli.common import JSON_OPTION, acting, open_workspace, want_json
from agentctl.workspace.memory import DEFAULT_KEEP_DAYS, DEFAULT_MAX_CHARS, MIN_MAX_CHARS

app = typer.Typer(
    help="Show, add to, search and compact an agent's memory (MEMORY.md and daily notes).",
    rich_markup_mode=None,
    no_args_is_help=True,
)

AGENT_ARG: Any = typer.Argument(..., help="The agent whose memory this is.")


def _warn_ignored(ignored: list[str]) -> None:
    for rel in ignored:
        output.notice(
            f"warning: {rel}: not a memory file (expected MEMORY.md or YYYY-MM-DD.md); skipped"
        )


@app.command("show")
def show(
    ctx: typer.Context,
    agent: str = AGENT_ARG,
    days: int = typer.Option(None, "--days", min=0, help="Only the latest N daily notes."),
    json_: bool = JSON_OPTION,
) -> None:
    """Print MEMORY.md and the daily notes (oldest first)."""
    ws = open_workspace(ctx)
    data = ws.memory(agent, days)
    _warn_ignored(data["ignored"])
    if want_json(ctx, json_):
        document = {**data, "daily": [{"date": day, "text": text} for day, text in data["daily"]]}
        output.emit_json({"memory": document})
        return
    parts = []
    if data["long_term"]:
        parts.append(f"== {data['path']}/MEMORY.md\n{data['long_term'].rstrip()}\n")
    for day, text in data["daily"]:
        parts.append(f"== {data['path']}/{day}.md\n{text.rstrip()}\n")
    if not parts:
        output.notice(f"{agent} has no memory yet")
        return
    output.write("\n".join(parts))


@app.command("add")
def add(
    ctx: typer.Context,
    agent: str = AGENT_ARG,
    text: list[str] = typer.Argument(..., help="What to remember; '-' reads it from stdin."),
    long_term: bool = typer.Option(
        False, "--long-term", help="Append to MEMORY.md instead of today's note."
    ),
    json_: bool = JSON_OPTION,
) -> None:
    """Append a timestamped entry to today's daily note (or to MEMORY.md)."""
    body = sys.stdin.read() if text == ["-"] else " ".join(text)
    ws = open_workspace(ctx, warn=False)
    result = ws.add_memory(agent, body, long_term=long_term, actor=acting(ctx, ws))
    if want_json(ctx, json_):
        output.emit_json({"memory": result})
    else:
        output.say(f"remembered in {result['path']}")


@app.command("search")
def search(
    ctx: typer.Context,
    agent: str = AGENT_ARG,
    query: list[str] = typer.Argument(
        ..., help="Words to find (case-insensitive; every word must be on the line)."
    ),
    limit: int = typer.Option(100, "--limit", "-n", min=1, help="At most this many lines."),
    json_: bool = JSON_OPTION,
) -> None:
    """Find lines in an agent's memory; prints path:line: text."""
    ws = open_workspace(ctx)
    result = ws.search_memory(agent, " ".join(query), limit)
    _warn_ignored(result["ignored"])
    if want_json(ctx, json_):
        output.emit_json(result)
        return
    if not result["hits"]:
        output.notice("no memory line matches")
        return
    output.write("".join(f"{hit['path']}:{hit['line']}: {hit['text']}\n" for hit in result["hits"]))
    if result["total"] > len(result["hits"]):
        output.notice(
            f"{result['total'] - len(result['hits'])} more matches not shown (raise --limit)"
        )


@app.command("compact")
def compact(
    ctx: typer.Context,
    agent: str = AGENT_ARG,
    keep_days: int = typer.Option(
        DEFAULT_KEEP_DAYS,
        "--keep-days",
        min=0,
        help="Daily notes of this many latest days stay separate.",
    ),
    max_chars: int = typer.Option(
        DEFAULT_MAX_CHARS,
        "--max-chars",
        min=MIN_MAX_CHARS,
        help="Size cap of MEMORY.md in characters.",
    ),
    json_: bool = JSON_OPTION,
) -> None:
    """Fold old daily notes into MEMORY.md and keep it under a size cap (an llm agent's
    runtime summarises; otherwise the oldest entries are dropped; git keeps them)."""
    ws = open_workspace(ctx, warn=False)
    result = ws.compact_memory(agent, keep_days, max_chars, actor=acting(ctx, ws))
    if want_json(ctx, json_):
        output.emit_json({"compaction": result})
        return
    if not result["changed"]:
        output.say(
            f"{agent}'s memory needs no compaction ({result['chars_after']} of {max_chars} characters)"
        )
        return
    done = []
    if result["folded"]:
        done.append(f"folded {len(result['folded'])} daily note(s) into MEMORY.md")
    if result["method"] == "llm":
        done.append(f"summarised {result['summarised']} entries with the llm runtime")
    elif result["method"] == "trim":
        done.append(f"dropped the {result['dropped']} oldest entries")
    lines = [
        f"compacted {agent}'s memory: {', '.join(done)}; MEMORY.md is {result['chars_after']} of {max_chars} characters"
    ]
    if result["fallback"]:
        lines.append(f"no llm summary ({result['fallback']}): trimmed deterministically instead")
    if result["preamble_cut"]:
        lines.append(
            "MEMORY.md's text before its first entry was over the cap on its own and was cut"
        )
    output.write("".join(line + "\n" for line in lines))
