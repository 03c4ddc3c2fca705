"""Collaboration: threads, mentions, subscriptions, inboxes, the activity feed and search.

Messages are append-only files, one per message; notifications are the ``notify`` lists of
events (union-merged logs); an agent's read-state is its own append-only log. Nothing here
edits a shared file in place, so two machines working offline always merge cleanly.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from agentctl.core.rules import Actor
from agentctl.core.text import check_text
from agentctl.errors import NotFoundError, PermissionDeniedError, UsageError
from agentctl.paths import validate_name
from agentctl.workspace.tasks import TaskOps

if TYPE_CHECKING:
    from agentctl.core import events as ev
    from agentctl.core.rows import (
        EventRow,
        Inbox,
        Notification,
        NotificationRow,
        SearchHit,
        Thread,
    )

MAX_MESSAGE_CHARS = 20_000


class CollabOps(TaskOps):
    # -- threads ---------------------------------------------------------------------------

    def comment(
        self, actor: Actor, ref: str, text: str, kind: str = "comment", reply_to: str | None = None
    ) -> dict[str, Any]:
        """Add a message to a task's thread; mentioned agents are notified and subscribed."""
        from agentctl.core import ids, mentions
        from agentctl.core.checks import MESSAGE_KINDS

        if kind not in MESSAGE_KINDS:
            raise UsageError(
                f"unknown message kind {kind!r}; kinds are: {', '.join(MESSAGE_KINDS)}"
            )
        body = check_text(text, "comment").strip("\n")
        if not body.strip():
            raise UsageError("refused: the message is empty")
        if len(body) > MAX_MESSAGE_CHARS:
            raise UsageError(
                f"refused: the message is {len(body)} characters long (at most {MAX_MESSAGE_CHARS})"
            )
        with self._mutate(actor) as m:  # resolved under the lock: one index refresh per mutation
            task_id = self.resolve_task(ref)
            task = self.index.task(task_id)
            if task is None:
                raise NotFoundError(f"no task {task_id}")
            if reply_to is not None:
                # A reply names a message of the same thread (ID or unique prefix); anything
                # else would write a message file that every reader refuses.
                self.index.refresh_threads(task_id)
                in_thread = sorted(message["id"] for message in self.index.thread(task_id))
                reply_to = ids.resolve(ids.MESSAGE, reply_to, in_thread)
            fields, unknown = self.stage_message(m, actor, task_id, body, kind, reply_to)
            found = fields["mentions"]
            added: ev.MessageAdded = {
                "title": task["title"],
                "message": fields["id"],
                "kind": kind,
                "mentions": found,
                "excerpt": mentions.excerpt(body),
            }
            m.record("message.added", task_id, added, found)
            returned = {**fields, "body": body + "\n", "unknown_mentions": unknown}
        return returned

    def stage_message(
        self, m: Any, actor: Actor, task_id: str, body: str, kind: str, reply_to: str | None = None
    ) -> tuple[dict[str, Any], list[str]]:
        """Stage one new message file on a thread; returns its fields (with ``path``) and the
        mention tokens that named nobody."""
        from agentctl.core import clock, ids, mentions
        from agentctl.store.frontmatter import Document

        found, unknown = mentions.resolve(mentions.tokens(body), self.index.agents())
        for token in unknown:
            self.warnings.append(
                f"{token} is not a known agent or role: nobody was notified for it"
            )
        moment = clock.now()
        message_id = ids.new_id(ids.MESSAGE)
        fields: dict[str, Any] = {
            "id": message_id,
            "task": task_id,
            "author": actor.name,
            "created_at": clock.stamp_ms(moment),
            "kind": kind,
            "mentions": found,
        }
        if reply_to:
            fields["reply_to"] = reply_to
        path = self.layout.message(task_id, f"{clock.compact(moment)}-{message_id}.md")
        m.create(path, Document.new(fields, body + "\n").dumps())
        return {**fields, "path": self.layout.relative(path)}, unknown

    def thread(self, ref: str, since: str | None = None) -> Thread:
        """A task's messages, oldest first."""
        task_id = self.resolve_task(ref)
        self.index.refresh_threads(task_id)
        task = self.index.task(task_id)
        return {
            "task": task_id,
            "title": task["title"] if task else None,
            "messages": self.index.thread(task_id, since),
        }

    def thread_problems(self, task_id: str) -> list[str]:
        """``file:line: problem`` of each message file of the task's thread that could not be
        read and so is left out of :meth:`thread` (call it after ``thread``, which indexes
        the thread)."""
        return [
            f"{path}:{line}: {problem}" if line else f"{path}: {problem}"
            for path, line, problem in self.index.thread_problems(task_id)
        ]

    def subscribe(
        self, actor: Actor, ref: str, agent: str | None = None, on: bool = True
    ) -> dict[str, Any]:
        """Subscribe ``agent`` (default: the actor) to a task's thread, or unsubscribe with
        ``on=False``."""
        with self._mutate(actor) as m:
            name = self._inbox_owner(actor, agent)
            task_id = self.resolve_task(ref)
            task = self.index.task(task_id)
            current = self.index.subscription(task_id, name)
            change: ev.Subscription = {"title": task["title"] if task else None, "agent": name}
            m.record("task.subscribed" if on else "task.unsubscribed", task_id, change)
            returned = {
                "task": task_id,
                "agent": name,
                "subscribed": on,
                "was": bool(current and current["active"]),
            }
        return returned

    def subscribers(self, ref: str) -> list[str]:
        """The agents subscribed to a task's thread."""
        return self.index.subscribers(self.resolve_task(ref))

    def direct_message(self, actor: Actor, agent: str, text: str) -> dict[str, Any]:
        """A message to one agent that belongs to no task: it lands in the agent's inbox."""
        from agentctl.core import mentions

        validate_name(agent, "agent name")
        body = check_text(text, "message").strip()
        if not body:
            raise UsageError("refused: the message is empty")
        if len(body) > MAX_MESSAGE_CHARS:
            raise UsageError(
                f"refused: the message is {len(body)} characters long (at most {MAX_MESSAGE_CHARS})"
            )
        with self._mutate(actor) as m:
            if self.index.agent(agent) is None:
                raise NotFoundError(f"no agent named {agent!r}", hint="see 'agentctl agent list'")
            if agent == actor.name:
                raise UsageError("refused: a message to yourself notifies nobody")
            direct: ev.MessageDirect = {"excerpt": mentions.excerpt(body, 300), "text": body[:2000]}
            m.record("message.direct", None, direct, [agent])
            returned = {"to": agent, "from": actor.name, "text": body}
        return returned

    # -- inbox -------------------------------------------------------------------------------

    def _inbox_owner(self, actor: Actor, agent: str | None) -> str:
        """The agent whose inbox is meant: ``agent``, else the acting agent. Agents may only
        act on their own inbox and subscriptions; humans on anyone's."""
        name = agent or (actor.name if actor.is_agent else None)
        if name is None:
            raise UsageError("say whose inbox: --as AGENT (or --agent AGENT)")
        validate_name(name, "agent name")
        if self.index.agent(name) is None:
            raise NotFoundError(f"no agent named {name!r}", hint="see 'agentctl agent list'")
        if actor.is_agent and actor.name != name:
            raise PermissionDeniedError(
                f"{actor.name} may not act on {name}'s inbox or subscriptions"
            )
        return name

    def inbox(
        self,
        actor: Actor,
        agent: str | None = None,
        include_read: bool = False,
        limit: int | None = None,
    ) -> Inbox:
        """The notifications of ``agent`` (default: the actor): mentions, assignments, review
        requests, messages on subscribed tasks; unread only unless ``include_read``, newest
        last."""
        self.refresh()
        name = self._inbox_owner(actor, agent)
        items = self.index.notifications(name, include_read=include_read, limit=limit)
        unread = self.index.unread_counts().get(name, 0)
        return {
            "agent": name,
            "unread": unread,
            "notifications": [self._notification(name, n) for n in items],
        }

    def _notification(self, agent: str, item: NotificationRow) -> Notification:
        from agentctl.core.summary import summarize

        data: Mapping[str, Any] = item.get("data") or {}
        subject = item.get("subject") or ""
        task_id = subject if subject.startswith("t-") else data.get("task")
        if item["type"] == "message.added":
            message = cast("ev.MessageAdded", data)
            text = f"{message.get('kind', 'comment')}: {message.get('excerpt', '')}"
        elif item["type"] == "message.direct":
            text = f"direct: {cast('ev.MessageDirect', data).get('excerpt', '')}"
        else:
            text = summarize(item)
        return {
            "id": item["id"],
            "ts": item["ts"],
            "actor": item["actor"],
            "type": item["type"],
            "task": task_id,
            "title": data.get("title"),
            "reason": (data.get("why") or {}).get(agent, "notified"),
            "excerpt": text,
            "delivered": item.get("delivered"),
            "read": item.get("read"),
        }

    def mark_read(
        self, actor: Actor, refs: list[str], agent: str | None = None, every: bool = False
    ) -> dict[str, Any]:
        """Mark notifications read, by event ID or task reference, or all of them with
        ``every``."""
        return self._mark(actor, "read", refs, agent, every)

    def mark_delivered(
        self, actor: Actor, event_ids: list[str], agent: str | None = None
    ) -> dict[str, Any]:
        """Mark notifications as delivered (seen by a heartbeat's prompt), distinct from read."""
        return self._mark(actor, "delivered", event_ids, agent, False)

    def _mark(
        self, actor: Actor, column: str, refs: list[str], agent: str | None, every: bool
    ) -> dict[str, Any]:
        from agentctl.core import ids

        if not refs and not every:
            raise UsageError(
                "name notifications to mark (IDs from 'agentctl inbox'), or pass --all"
            )
        with self._mutate(actor) as m:
            name = self._inbox_owner(actor, agent)
            if every:
                chosen = self.index.notification_ids(name, unread_only=True)
            else:
                chosen = []
                for ref in refs:
                    wanted = ids.normalize_ref(ids.EVENT, ref)
                    event_id = ids.resolve(
                        ids.EVENT, ref, self.index.notification_ids(name, wanted)
                    )
                    if event_id not in chosen:
                        chosen.append(event_id)
            self.stage_inbox_state(m, name, column, chosen)
            m.bookkeeping = f"{name}: {len(chosen)} notification(s) {column}"
            returned = {"agent": name, column: chosen}
        return returned

    def stage_inbox_state(self, m: Any, agent: str, column: str, event_ids: list[str]) -> None:
        """Stage one read-state line (``delivered`` or ``read``) on a mutation."""
        from agentctl.core import clock

        if not event_ids:
            return
        stamp = clock.stamp_ms()
        line = json.dumps({"ts": stamp, column: event_ids}, separators=(",", ":"))
        m.append(self.layout.inbox_file(agent), line)

    # -- feed and search ---------------------------------------------------------------------

    def feed(
        self,
        agent: str | None = None,
        task: str | None = None,
        types: list[str] | None = None,
        since: str | None = None,
        limit: int | None = 50,
        after_rowid: int | None = None,
    ) -> list[EventRow]:
        """Events oldest first (the newest ``limit``), filtered."""
        self.refresh()
        task_id = self.resolve_task(task) if task else None
        if agent is not None:
            validate_name(agent, "agent name")
        return self.index.events(
            actor=agent,
            subject=task_id,
            types=types or [],
            since=since,
            after_rowid=after_rowid,
            limit=limit,
        )

    def search(
        self,
        query: str,
        kinds: list[str] | None = None,
        statuses: list[str] | None = None,
        limit: int = 20,
    ) -> list[SearchHit]:
        """Ranked full-text search (SQLite FTS5) over task titles and bodies, messages and
        documents, optionally limited to ``kinds`` and task ``statuses``; results carry
        highlighted snippets."""
        if not query.strip():
            raise UsageError("the search query is empty")
        self.refresh()
        self.index.refresh_threads()
        kinds = kinds or []
        for kind in kinds:
            if kind not in ("task", "message", "doc"):
                raise UsageError(f"unknown search type {kind!r}; use task, message or doc")
        return self.index.search(query, kinds, statuses or [], limit)
