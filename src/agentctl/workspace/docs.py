"""Documents: deliverables, research, protocols and decisions, optionally linked to a task.

One file per document (``.agentctl/docs/<id>.md``); versions are git history, so ``history``
and ``diff`` read git and say so clearly when the workspace is not in a repository.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentctl.core import ids
from agentctl.core.checks import DOC_TYPES, TITLE_RE
from agentctl.core.rules import Actor
from agentctl.core.text import check_line, check_text
from agentctl.errors import (
    GitError,
    NotFoundError,
    PermissionDeniedError,
    UsageError,
    ValidationError,
)
from agentctl.store.reading import read_record
from agentctl.workspace.base import timestamp
from agentctl.workspace.tasks import TaskOps

if TYPE_CHECKING:
    from agentctl.core import events as ev
    from agentctl.core.rows import DocumentRow

MAX_DOC_CHARS = 500_000


def _check_title(title: str) -> str:
    title = check_line(title, "title").strip()
    if not title or len(title) > 500 or not TITLE_RE.match(title):
        raise UsageError("a document title must be one line of 1-500 characters")
    return title


def _check_body(body: str) -> str:
    check_text(body, "document")
    if len(body) > MAX_DOC_CHARS:
        raise UsageError(
            f"refused: the document is {len(body)} characters long (at most {MAX_DOC_CHARS})"
        )
    return body if body.endswith("\n") or not body else body + "\n"


class DocOps(TaskOps):
    def resolve_doc(self, ref: str) -> str:
        """The document ID a reference (an ID or a unique prefix) names; raises NotFoundError or
        an ambiguity error."""
        self.refresh()
        wanted = ids.normalize_ref(ids.DOC, ref)
        candidates = self.index.doc_ids_with_prefix(wanted)
        if not candidates:
            rel_dir = self.layout.relative(self.layout.docs) + "/"
            for problem in self.refresh():
                if problem.path.startswith(rel_dir + wanted):
                    raise ValidationError(problem.message, problem.path, problem.line)
        return ids.resolve(ids.DOC, ref, candidates)

    def add_doc(
        self,
        actor: Actor,
        title: str,
        type_: str,
        body: str,
        task: str | None = None,
        *,
        source: tuple[str, str] | None = None,
    ) -> dict[str, Any]:
        """Create a document (deliverable, research, protocol or decision) from ``body``,
        optionally linked to a task; one commit. ``source``: (URL, fetch time) of a fetched
        page (``fetch_doc``)."""
        from agentctl.store.frontmatter import Document

        if type_ not in DOC_TYPES:
            raise UsageError(f"unknown document type {type_!r}; types are: {', '.join(DOC_TYPES)}")
        title = _check_title(title)
        body = _check_body(body)
        with self._mutate(actor) as m:
            task_id = self.resolve_task(task) if task else None
            doc_id = ids.new_id(ids.DOC)
            now = timestamp()
            fields: dict[str, Any] = {"id": doc_id, "title": title, "type": type_}
            if task_id:
                fields["task"] = task_id
            fields.update({"author": actor.name, "created_at": now, "updated_at": now})
            if source is not None:
                fields.update({"source_url": source[0], "fetched_at": source[1]})
            path = self.layout.doc(doc_id)
            m.create(path, Document.new(fields, body).dumps())
            added: ev.DocChange = {"title": title, "type": type_, "task": task_id}
            m.record("doc.added", doc_id, added)
            returned = {**fields, "path": self.layout.relative(path)}
        return returned

    def list_docs(self, type_: str | None = None, task: str | None = None) -> list[DocumentRow]:
        """Documents, optionally of one type or linked to one task."""
        self.refresh()
        if type_ is not None and type_ not in DOC_TYPES:
            raise UsageError(f"unknown document type {type_!r}; types are: {', '.join(DOC_TYPES)}")
        task_id = self.resolve_task(task) if task else None
        return self.index.docs(type_, task_id)

    def show_doc(self, ref: str) -> dict[str, Any]:
        """One document: its metadata and body."""
        from agentctl.store.frontmatter import split

        doc_id = self.resolve_doc(ref)
        doc = self.index.doc(doc_id)
        if doc is None:
            raise NotFoundError(f"no document {doc_id}")
        path = self.layout.doc(doc_id)
        _, body, _ = split(read_record(path, doc["path"]), doc["path"])
        return {**doc, "body": body}

    def edit_doc(
        self, actor: Actor, ref: str, body: str | None = None, title: str | None = None
    ) -> dict[str, Any]:
        """Replace a document's body and/or title; the previous text stays in git history."""
        from agentctl.store.frontmatter import Document

        if body is None and title is None:
            raise UsageError(
                "nothing to change: give new text (--file, stdin or --editor) or --title"
            )
        with self._mutate(actor) as m:
            doc_id = self.resolve_doc(ref)
            path = self.layout.doc(doc_id)
            rel = self.layout.relative(path)
            try:
                doc = Document.parse(read_record(path, rel), rel)
            except FileNotFoundError:
                raise NotFoundError(f"no document {doc_id}") from None
            self._check_doc_owner(actor, doc.get("author"), "edit")
            changed = []
            if title is not None and _check_title(title) != doc.get("title"):
                doc.set("title", _check_title(title))
                changed.append("title")
            if body is not None and _check_body(body) != doc.body:
                doc.body = _check_body(body)
                changed.append("body")
            if not changed:
                raise UsageError(f"no change: {doc_id} already has that content")
            doc.set("updated_at", timestamp())
            m.write(path, doc.dumps())
            edited: ev.DocChange = {
                "title": doc.get("title"),
                "type": doc.get("type"),
                "task": doc.get("task"),
                "fields": changed,
            }
            m.record("doc.edited", doc_id, edited)
            returned = {**doc.plain(), "path": rel}
        return returned

    def remove_doc(self, actor: Actor, ref: str) -> DocumentRow:
        """Delete a document (its history stays in git)."""
        with self._mutate(actor) as m:
            doc_id = self.resolve_doc(ref)
            doc = self.index.doc(doc_id)
            if doc is None:
                raise NotFoundError(f"no document {doc_id}")
            self._check_doc_owner(actor, doc.get("author"), "remove")
            m.delete(self.layout.doc(doc_id))
            removed: ev.DocChange = {
                "title": doc["title"],
                "type": doc["type"],
                "task": doc.get("task"),
            }
            m.record("doc.removed", doc_id, removed)
            returned = doc
        return returned

    @staticmethod
    def _check_doc_owner(actor: Actor, author: Any, doing: str) -> None:
        if actor.is_agent and actor.name != author and not actor.can("move_any"):
            raise PermissionDeniedError(
                f"{actor.name} ({actor.level}) may not {doing} a document written by {author}",
                hint="its author, a lead or a human can",
            )

    # -- history (git) ------------------------------------------------------------------

    def _doc_repo(self) -> Any:
        repo = self.repo
        if repo is None:
            raise GitError(
                "document history comes from git, and this workspace is not in a git repository",
                hint="run 'git init' and commit the workspace (auto-commit records every change)",
            )
        return repo

    def doc_history(self, ref: str) -> dict[str, Any]:
        """The commits that changed a document, newest first (from git; empty without git)."""
        doc_id = self.resolve_doc(ref)
        repo = self._doc_repo()
        path = self.layout.doc(doc_id)
        return {
            "id": doc_id,
            "path": self.layout.relative(path),
            "history": repo.file_history(path),
        }

    def doc_diff(self, ref: str, rev: str | None = None) -> dict[str, Any]:
        """Unified diff of the document from ``rev`` (default: its previous version) to now."""
        import difflib

        doc_id = self.resolve_doc(ref)
        repo = self._doc_repo()
        path = self.layout.doc(doc_id)
        rel = self.layout.relative(path)
        current = read_record(path, rel)
        if rev is None:
            history = repo.file_history(path, limit=2)
            committed = repo.show_file(history[0]["commit"], path) if history else None
            # Uncommitted edits diff against the last commit; otherwise show the last change.
            if committed == current and len(history) > 1:
                base_rev: str | None = history[1]["commit"]
            elif committed == current:
                base_rev = None
            else:
                base_rev = history[0]["commit"] if history else None
        else:
            base_rev = repo.resolve_rev(rev)
            if base_rev is None:
                raise NotFoundError(
                    f"no git revision {rev!r}", hint=f"see 'agentctl doc history {doc_id}'"
                )
        before = (repo.show_file(base_rev, path) or "") if base_rev else ""
        label = base_rev[:12] if base_rev else "(none)"
        diff = "".join(
            difflib.unified_diff(
                before.splitlines(keepends=True),
                current.splitlines(keepends=True),
                fromfile=f"{rel}@{label}",
                tofile=f"{rel}@working",
            )
        )
        return {"id": doc_id, "path": rel, "from": base_rev, "diff": diff}
