"""Fetched documentation: a web page downloaded, converted to markdown and kept as a
``research`` document with its source URL and fetch time (``agentctl fetch``, the agents'
``fetch_doc`` action). The download and its safety rules are in :mod:`agentctl.web.fetch`;
the conversion in :mod:`agentctl.web.convert` (both imported only here, on this path).

Fetching the same URL for the same task again updates that document (a 304 or the same
text changes nothing) instead of adding another.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from agentctl.core import secrets
from agentctl.core.rules import Actor
from agentctl.store.reading import read_record
from agentctl.workspace.base import timestamp
from agentctl.workspace.docs import MAX_DOC_CHARS, DocOps

if TYPE_CHECKING:
    from agentctl.core import events as ev

FETCH_DIR = "fetch"  # under .agentctl/local/: the page cache (ETag / Last-Modified)
TITLE_CHARS = 200


class FetchOps(DocOps):
    def fetch_doc(
        self, actor: Actor, url: str, task: str | None = None, title: str | None = None
    ) -> dict[str, Any]:
        """Download ``url`` and keep it as a research document (linked to ``task``); returns
        the document's fields with ``outcome`` (added | updated | unchanged) and ``fetched``
        (final URL, whether the cache was revalidated, content type, characters)."""
        from agentctl.web import convert
        from agentctl.web.fetch import fetch, normalise, policy

        actor.require("fetch", "fetch web pages")
        url = normalise(url)
        self.refresh()
        task_id = self.resolve_task(task) if task else None
        page = fetch(url, policy(self.config, agent=actor.is_agent), self.layout.local / FETCH_DIR)
        if page.is_html:
            text, found = convert.html_to_markdown(page.text, page.final_url)
        else:
            text = page.text
            found = convert.markdown_title(text) if "markdown" in page.content_type else None
        body = convert.clean(text, MAX_DOC_CHARS - 1)
        if not body.strip():
            body = f"(the page at {page.final_url} has no text)\n"
        parts = urlsplit(page.url)
        name = title or found or f"{parts.hostname}{parts.path if parts.path != '/' else ''}"
        name = convert.one_line(name, TITLE_CHARS) or str(parts.hostname)
        source_url = secrets.mask(url)
        fetched = {"url": source_url, "final_url": secrets.mask(page.final_url), "revalidated": page.revalidated,
                   "content_type": page.content_type, "chars": len(body)}  # fmt: skip
        existing = self._fetched_doc(source_url, task_id)
        now = timestamp()
        if existing is None:
            doc = self.add_doc(actor, name, "research", body, task_id, source=(source_url, now))
            return {**doc, "outcome": "added", "fetched": fetched}
        return {**self._refresh_doc(actor, existing, body, now), "fetched": fetched}

    def _fetched_doc(self, source_url: str, task_id: str | None) -> str | None:
        """The research document already holding ``source_url`` for this task, if any."""
        for row in self.index.docs("research", task_id):
            if (row.get("task") or None) == task_id and row.get("source_url") == source_url:
                return row["id"]
        return None

    def _refresh_doc(self, actor: Actor, doc_id: str, body: str, now: str) -> dict[str, Any]:
        """Give a fetched document its new text (one commit), or nothing when it is the same."""
        from agentctl.store.frontmatter import Document

        path = self.layout.doc(doc_id)
        rel = self.layout.relative(path)
        current = Document.parse(read_record(path, rel), rel)
        wanted = body if body.endswith("\n") else body + "\n"
        if current.body == wanted:
            return {**current.plain(), "path": rel, "outcome": "unchanged"}
        with self._mutate(actor) as m:
            doc = Document.parse(read_record(path, rel), rel)
            doc.body = wanted
            doc.set("fetched_at", now)
            doc.set("updated_at", now)
            m.write(path, doc.dumps())
            edited: ev.DocChange = {"title": doc.get("title"), "type": doc.get("type"),
                                    "task": doc.get("task"), "fields": ["body"]}  # fmt: skip
            m.record("doc.edited", doc_id, edited)
            returned = {**doc.plain(), "path": rel, "outcome": "updated"}
        return returned
