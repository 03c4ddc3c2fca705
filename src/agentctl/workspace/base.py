"""The workspace facade's machinery: opening, config, actors, reads, and the one mutation path.

A mutation is: take the workspace lock → refresh the index → read and validate (in the
operation) → write the staged files atomically → append exactly one event → update the index
→ re-render WORKING.md → commit exactly the touched paths (when enabled) → release.
Operations stage their writes on a :class:`Mutation`; nothing touches disk until every check
has passed, so a refused request changes nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentctl import paths
from agentctl.core import ids, secrets
from agentctl.core.rules import Actor
from agentctl.core.summary import summarize
from agentctl.errors import ConflictError, NotFoundError, UsageError, ValidationError
from agentctl.store import events as eventlog
from agentctl.store.index import Index, Problem
from agentctl.store.working import WorkingState, extract_notes, render

if TYPE_CHECKING:
    from agentctl.store.frontmatter import Document
    from agentctl.vcs import Repo

ENV_AGENT = "AGENTCTL_AGENT"
_NO_SUBSCRIBER_FAN_OUT = frozenset({"task.created", "task.subscribed", "task.unsubscribed"})


@dataclass
class Mutation:
    """Writes staged by one operation, applied together by :meth:`WorkspaceBase._mutate`."""

    actor: Actor
    writes: dict[Path, str | None] = field(default_factory=dict)  # None = delete
    creates: set[Path] = field(default_factory=set)
    also_commit: list[Path] = field(default_factory=list)  # written before the mutation (init)
    appends: dict[Path, list[str]] = field(default_factory=dict)  # append-only logs (inbox state)
    event: dict[str, Any] | None = None
    bookkeeping: str | None = None  # commit message of an event-less change (read-state only)
    result: Any = None

    # Every staged text is masked here, so no operation can write a secret into a record,
    # a log line or git (core/secrets.py; MASK stays valid YAML/JSON/Markdown).
    def append(self, path: Path, line: str) -> None:
        self.appends.setdefault(path, []).append(secrets.mask(line))

    def write(self, path: Path, text: str) -> None:
        self.writes[path] = secrets.mask(text)

    def create(self, path: Path, text: str) -> None:
        self.writes[path] = secrets.mask(text)
        self.creates.add(path)

    def delete(self, path: Path) -> None:
        self.writes[path] = None

    def record(
        self,
        type_: str,
        subject: str | None,
        data: dict[str, Any] | None = None,
        notify: list[str] | None = None,
    ) -> None:
        if self.event is not None:
            raise AssertionError("one mutation records exactly one event")
        wanted = [n for n in (notify or []) if n != self.actor.name]
        self.event = eventlog.make_event(self.actor.name, type_, subject, data, wanted)


def _refuse_conflict_markers(text: str, rel: str) -> None:
    """Never write a file that every reader would refuse as an unresolved merge conflict."""
    if "<<<<<<< " not in text and ">>>>>>> " not in text:
        return
    from agentctl.store.frontmatter import check_conflict_markers

    try:
        check_conflict_markers(text, rel)
    except ValidationError as exc:
        raise UsageError(
            f"refused: line {exc.line} of {rel} would start with a git conflict marker "
            "('<<<<<<< ' or '>>>>>>> ')",
            hint="indent that line or change its first characters",
        ) from None


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def timestamp(moment: datetime | None = None) -> str:
    return (moment or now()).isoformat(timespec="seconds").replace("+00:00", "Z")


class WorkspaceBase:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.layout = paths.Layout(self.root)
        self.index = Index(self.layout)
        self._config: dict[str, Any] | None = None
        self._problems: list[Problem] | None = None
        self._repo: Repo | None | bool = False  # False = not looked up yet
        self.warnings: list[str] = []  # non-fatal diagnostics of the last operations (front ends print them)
        self.last_event: dict[str, Any] | None = None
        self._batch: dict[str, Any] | None = None  # commits deferred by batched()

    @classmethod
    def open(cls, explicit: str | None = None, start: Path | None = None) -> Any:
        return cls(paths.find_root(start, explicit))

    # -- config, index, git ------------------------------------------------------------

    @property
    def config(self) -> dict[str, Any]:
        if self._config is None:
            from agentctl.config import load_config

            self._config = load_config(self.layout, self.index)
            self.layout = paths.Layout(self.root, self._config["working"]["path"])
        return self._config

    @property
    def workflow(self) -> dict[str, Any]:
        return self.config["workflow"]  # type: ignore[no-any-return]

    def refresh(self, force: bool = False) -> list[Problem]:
        """Bring the index up to date with the records and logs (once per process unless
        forced); returns record file problems. Threads are refreshed by their readers."""
        if self._problems is None or force:
            self.config  # noqa: B018 - validates config first: everything depends on it
            self._problems = self.index.refresh()
        return self._problems

    @property
    def repo(self) -> Repo | None:
        if self._repo is False:
            from agentctl import vcs

            self._repo = vcs.find_repo(self.root)
        return self._repo  # type: ignore[return-value]

    def close(self) -> None:
        self.index.close()

    # -- actors ------------------------------------------------------------------------

    def actor(self, name: str | None = None) -> Actor:
        """The acting agent (``--as`` / $AGENTCTL_AGENT) or, with neither, the human user."""
        chosen = name or os.environ.get(ENV_AGENT) or None
        if chosen:
            paths.validate_name(chosen, "agent name")
            if self._problems is None:  # only the agents matter here: a mutation rescans the rest under its lock
                self.config  # noqa: B018 - validates config first
                self.index.refresh_records(agents_only=True)
            agent = self.index.agent(chosen)
            if agent is None:
                raise NotFoundError(f"no agent named {chosen!r}", hint="see 'agentctl agent list'")
            perms = agent.get("permissions") or {}
            return Actor(
                chosen,
                agent.get("level", "specialist"),
                frozenset(perms.get("allow", [])),
                frozenset(perms.get("deny", [])),
            )
        return Actor(self.human_name())

    def human_name(self) -> str:
        repo = self.repo
        name = repo.user_name() if repo is not None else None
        return name or os.environ.get("USER") or os.environ.get("USERNAME") or "human"

    # -- task lookup -------------------------------------------------------------------

    def resolve_task(self, ref: str) -> str:
        self.refresh()
        wanted = ids.normalize_ref(ids.TASK, ref)
        candidates = self.index.ids_with_prefix(wanted)
        if not candidates:
            # An invalid task file is left out of the index: name it and its problem
            # rather than claiming the task does not exist.
            tasks_dir = self.layout.relative(self.layout.tasks) + "/"
            for problem in self.refresh():
                stem = problem.path.removeprefix(tasks_dir).removesuffix(".md")
                if problem.path.startswith(tasks_dir) and stem.startswith(wanted):
                    raise ValidationError(problem.message, problem.path, problem.line)
        return ids.resolve(ids.TASK, ref, candidates)

    def short_id(self, task_id: str) -> str:
        return ids.short_id(task_id, self.index.neighbours(task_id))

    def load_task_doc(self, task_id: str) -> Document:
        from agentctl.store.frontmatter import Document

        path = self.layout.task(task_id)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise NotFoundError(f"no task {task_id}") from None
        return Document.parse(text, self.layout.relative(path))

    # -- the mutation path -------------------------------------------------------------

    @contextmanager
    def _mutate(self, actor: Actor) -> Iterator[Mutation]:
        from agentctl.store import locks

        config = self.config
        with locks.hold(self.layout.lock, float(config["lock"]["timeout"])):
            if config["git"]["autocommit"] and self.repo is not None:
                self.repo.check_index_unlocked()  # a stale index.lock fails before any write
            self.refresh(force=True)
            mutation = Mutation(actor)
            yield mutation
            self._apply(mutation)
        if mutation.event is not None and config["hooks"]:
            self._run_hooks(mutation.event)

    def _run_hooks(self, event: dict[str, Any]) -> None:
        """Event hooks: after the commit, outside the lock; failures become warnings."""
        from agentctl.workspace.hooks import run_hooks

        for result in run_hooks(self.root, self.config, event, self.layout.local / "logs"):
            if not result.ok:
                self.warnings.append(result.describe())

    def _apply(self, mutation: Mutation) -> None:
        from agentctl.store import atomic

        if mutation.event is None and mutation.bookkeeping is None:
            raise AssertionError("a mutation must record its event")
        for path, text in mutation.writes.items():
            if text is not None:
                _refuse_conflict_markers(text, self.layout.relative(path))
        touched: list[Path] = []
        for path, text in mutation.writes.items():
            checked = self.layout.inside(path)
            if text is None:
                atomic.delete(checked)
            elif checked in mutation.creates:
                try:
                    atomic.create_text(checked, text)
                except FileExistsError:
                    raise ConflictError(f"{self.layout.relative(checked)} already exists") from None
            else:
                atomic.write_text(checked, text)
            touched.append(checked)
        touched.extend(mutation.also_commit)
        for path, lines in mutation.appends.items():
            checked = self.layout.inside(path)
            for line in lines:
                atomic.append_line(checked, line)
            touched.append(checked)
        event = mutation.event
        if event is not None:
            self._fan_out(event)
            touched.append(eventlog.append(self.layout.events, event))
        for path in touched:
            if path.parent in (self.layout.tasks, self.layout.agents, self.layout.docs):
                self.index.record_file(path)
            elif path.parent.parent == self.layout.threads:
                self.index.record_message(path)
        self.index.refresh_logs()  # ingests just the lines appended above
        self._problems = self.index.problems()  # our writes are indexed: no rescan needed
        working = self.write_working()
        if working is not None:
            touched.append(working)
        if event is not None:
            self._commit(touched, event)
            self.last_event = event
        else:
            self._commit_bookkeeping(touched, mutation)

    # -- notifications -------------------------------------------------------------------

    def _fan_out(self, event: dict[str, Any]) -> None:
        """Complete an event's ``notify`` list: everyone the event concerns, with the reason.

        Explicitly named agents (mentions, assignees) come from the operation; this adds the
        task's subscribers, reviewers when work enters review, and the assignees of tasks
        waiting on a task that just became done. Only known agents, never the actor.
        """
        data = event["data"]
        kind = event["type"]
        direct = {"message.added": "mention", "task.created": "assigned", "task.assigned": "assigned"}
        reasons: dict[str, str] = {name: direct.get(kind, "assignee") for name in event["notify"]}
        subject = event.get("subject") or ""
        task_id = subject if subject.startswith("t-") else data.get("task")
        flow = self.workflow
        if kind == "task.moved":
            if data.get("to") == flow["review"]:
                task = self.index.task(subject) or {}
                for name in self.reviewers_for(task):
                    reasons.setdefault(name, "review")
            if data.get("to") in flow["done"]:
                graph = self.index.graph()
                for dependent in self.index.dependents(subject):
                    for name in graph.get(dependent, {}).get("assignees", []):
                        reasons.setdefault(name, "dependency_done")
        # Subscribers last: a more specific reason (review, dependency_done) wins. Changes of
        # subscriptions themselves concern nobody else.
        if isinstance(task_id, str) and task_id.startswith("t-") and kind not in _NO_SUBSCRIBER_FAN_OUT:
            for name in self.index.subscribers(task_id):
                reasons.setdefault(name, "subscribed")
        known = {agent["name"] for agent in self.index.agents()}
        reasons = {name: why for name, why in reasons.items() if name in known and name != event["actor"]}
        event["notify"] = sorted(reasons)
        if reasons:
            data["why"] = dict(sorted(reasons.items()))

    def _reviewers(self) -> list[str]:
        """Agents asked to review: those with the ``review`` capability, else the leads."""
        agents = self.index.agents()
        chosen = [a["name"] for a in agents if "review" in (a.get("capabilities") or [])]
        return chosen or [a["name"] for a in agents if a.get("level") == "lead"]

    def reviewers_for(self, task: dict[str, Any]) -> list[str]:
        """Who reviews ``task``: the reviewers who did not implement it, else the leads who
        did not (a reviewer's own work goes to a lead)."""
        implementers = set(task.get("assignees") or [])
        claim = task.get("claim") or {}
        if claim.get("claimed_by"):
            implementers.add(claim["claimed_by"])
        chosen = [name for name in self._reviewers() if name not in implementers]
        if chosen:
            return chosen
        leads = [a["name"] for a in self.index.agents() if a.get("level") == "lead"]
        return [name for name in leads if name not in implementers]

    @contextmanager
    def batched(self, actor: Actor, subject: str) -> Iterator[list[str]]:
        """Run several mutations as one git commit (a heartbeat tick is one commit).

        Each mutation still takes the lock and writes atomically; only the commits are
        deferred and made once, of every path touched, when the block ends (also on error,
        so nothing applied is left uncommitted). Yields the list of change summaries.
        """
        if self._batch is not None:
            raise AssertionError("batches do not nest")
        self._batch = {"paths": [], "lines": []}
        try:
            yield self._batch["lines"]
        finally:
            batch, self._batch = self._batch, None
            if batch["paths"] and self.config["git"]["autocommit"] and self.repo is not None:
                body = "\n".join(f"- {line}" for line in batch["lines"])
                self.repo.commit_paths(
                    batch["paths"],
                    f"agentctl: {subject}\n\n{body}\n\nActor: {actor.name}\n",
                    author_name=actor.name if actor.is_agent else None,
                    author_email=f"{actor.name}@agents.agentctl" if actor.is_agent else None,
                )

    def _defer(self, touched: list[Path], line: str) -> bool:
        if self._batch is None:
            return False
        self._batch["paths"].extend(touched)
        self._batch["lines"].append(line)
        return True

    def _commit_bookkeeping(self, touched: list[Path], mutation: Mutation) -> None:
        if self._defer(touched, str(mutation.bookkeeping)):
            return
        if not self.config["git"]["autocommit"] or self.repo is None:
            return
        actor = mutation.actor
        self.repo.commit_paths(
            touched,
            f"agentctl: {mutation.bookkeeping}\n\nActor: {actor.name}\n",
            author_name=actor.name if actor.is_agent else None,
            author_email=f"{actor.name}@agents.agentctl" if actor.is_agent else None,
        )

    def _commit(self, touched: list[Path], event: dict[str, Any]) -> None:
        if self._defer(touched, f"{event['actor']}: {summarize(event)}"):
            return
        if not self.config["git"]["autocommit"] or self.repo is None:
            return
        actor = event["actor"]
        agent = self.index.agent(actor) if paths.NAME_RE.match(actor) else None
        message = f"agentctl: {summarize(event)}\n\nActor: {actor}\nEvent: {event['id']}\n"
        self.repo.commit_paths(
            touched,
            message,
            author_name=actor if agent else None,
            author_email=f"{actor}@agents.agentctl" if agent else None,
        )

    # -- WORKING.md ----------------------------------------------------------------------

    def working_state(self, notes: str) -> WorkingState:
        cfg = self.config
        flow = cfg["workflow"]
        caps = cfg["working"]
        index = self.index
        counts = index.count_by_status()
        attention = [s for s in (flow["review"], flow["blocked"]) if s in flow["statuses"]]
        open_statuses = [s for s in flow["statuses"] if s not in flow["done"]]
        open_tasks = {
            status: index.tasks(statuses=[status], limit=caps["max_per_status"]) for status in open_statuses
        }
        recent_done = index.tasks(statuses=flow["done"], order="updated_at DESC, id", limit=caps["recent_done"])
        return WorkingState(
            name=cfg["name"],
            statuses=list(flow["statuses"]),
            done=list(flow["done"]),
            attention=attention,
            open_tasks=open_tasks,
            open_counts={s: counts.get(s, 0) for s in open_statuses},
            recent_done=recent_done,
            done_count=sum(counts.get(s, 0) for s in flow["done"]),
            agents=index.agents(),
            states=index.states(),
            events=eventlog.tail(self.layout.events, caps["activity"]),
            notes=notes,
            unread=index.unread_counts(),
        )

    def render_working(self) -> tuple[str, str]:
        """(fresh rendering, current file text or '')."""
        self.refresh()
        path = self.layout.working
        try:
            current = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            current = ""
        return render(self.working_state(extract_notes(current))), current

    def write_working(self) -> Path | None:
        """Re-render WORKING.md (caller holds the lock); returns its path if it changed."""
        from agentctl.store import atomic

        fresh, current = self.render_working()
        fresh = secrets.mask(fresh)  # notes typed into the file by hand may hold one
        if fresh == current:
            return None
        atomic.write_text(self.layout.working, fresh)
        return self.layout.working

    def check_reference(self, task_id: str, what: str) -> None:
        if self.index.task(task_id) is None:
            raise NotFoundError(f"{what} {task_id} does not exist")

    def require_valid_task_file(self, task_id: str) -> None:
        rel = self.layout.relative(self.layout.task(task_id))
        for problem in self.refresh():
            if problem.path == rel:
                raise ValidationError(problem.message, problem.path, problem.line)
