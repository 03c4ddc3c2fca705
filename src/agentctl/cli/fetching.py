"""``agentctl fetch URL``: keep a documentation page as a research document."""

from __future__ import annotations

import typer

from agentctl.cli import output
from agentctl.cli.common import JSON_OPTION, acting, open_workspace, want_json

fetch_app = typer.Typer(rich_markup_mode=None)


@fetch_app.command()
def fetch(
    ctx: typer.Context,
    url: str = typer.Argument(..., help="The page: an http or https URL."),
    task: str = typer.Option(None, "--task", "-t", help="Link the document to this task."),
    title: str = typer.Option(
        None, "--title", help="The document's title (default: the page's title)."
    ),
    json_: bool = JSON_OPTION,
) -> None:
    """Download a page, convert it to markdown and keep it as a research document.

    The document records its source URL and fetch time; fetching the same URL for the same
    task again updates it (the cache under .agentctl/local/ revalidates with ETag and
    Last-Modified). Loopback, private and link-local addresses are refused unless
    fetch.allow_private lists them; agents (--as) reach only the domains in fetch.allow.
    Exit 7 when the URL is refused (scheme, address, domain), 13 when the download fails
    (unreachable, timeout, HTTP error, larger than fetch.max_bytes, not text), 2 for a
    malformed URL.
    """
    ws = open_workspace(ctx, warn=False)
    doc = ws.fetch_doc(acting(ctx, ws), url, task, title)
    if want_json(ctx, json_):
        output.emit_json({"doc": doc})
        return
    fetched = doc["fetched"]
    how = {"added": "added", "updated": "updated", "unchanged": "unchanged"}[doc["outcome"]]
    cached = " (revalidated: not modified)" if fetched["revalidated"] else ""
    output.say(
        f"{doc['id']} {how}{cached} (research{', task ' + doc['task'] if doc.get('task') else ''}, "
        f"{fetched['chars']:,} characters): {doc['title']}"
    )
