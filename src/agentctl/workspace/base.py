"""The workspace facade's machinery: opening, config, actors, reads, and the one mutation path.

A mutation is: take the workspace lock → refresh the index → read and validate (in the
operation) → write the staged files atomically → append exactly one event → update the index
→ re-render WORKING.md → commit exactly the touched paths (when enabled) → release.
Operations stage their writes on a :class:`Mutation`; nothing touches disk until every check
has passed, so a refused request changes nothing.
"""

from __future__ import annotations

import functools
import gc
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, Self, TypeVar, assert_never

from agentctl import paths
from agentctl.core import clock, ids, secrets
from agentctl.core.rules import Actor, actor_of, is_pending, may_review, pending_reason
from agentctl.errors import (
    ConflictError,
    GitError,
    NotFoundError,
    PermissionDeniedError,
    UsageError,
    ValidationError,
)
from agentctl.store import events as eventlog
from agentctl.store.index import Index, Problem
from agentctl.workspace import containment

if TYPE_CHECKING:
    from agentctl.core.events import EventType, Payload
    from agentctl.core.records import (
        AgentRecord,
        ConfigRecord,
        EventRecord,
        WorkflowConfigRecord,
    )
    from agentctl.core.rows import NeedsHuman
    from agentctl.store.frontmatter import Document
    from agentctl.store.working import WorkingState
    from agentctl.vcs import Repo

ENV_AGENT = "AGENTCTL_AGENT"
_BULK_CREATE = (
    16  # a mutation creating this many files writes them with one flush (atomic.create_many)
)


_P = ParamSpec("_P")
_R = TypeVar("_R")


def pausing_gc(func: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run ``func`` with Python's cyclic garbage collector paused (a bulk operation).

    An import of 10,000 tasks allocates millions of objects, none of them in cycles that
    matter, and the collector ran ~900 times for ~1 s of its ~9 s; reference counting still
    frees everything as before, and the collector resumes (and catches up) afterwards."""

    @functools.wraps(func)
    def paused(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        if not gc.isenabled():  # nested, or paused by the caller
            return func(*args, **kwargs)
        gc.disable()
        try:
            return func(*args, **kwargs)
        finally:
            gc.enable()

    return paused


def fan_out_rule(kind: EventType) -> tuple[str, bool]:
    """Who an event concerns besides those its operation names: (the reason given to the
    agents the operation named, whether the task's subscribers are told too).

    Changes of subscriptions concern nobody else; refusals at human gates are for the humans
    (``inbox --human``), not a reason to wake the task's agents; conditions needing attention
    are for the leads; a new task tells its assignees, its subscribers are only starting."""
    match kind:
        case "message.added":
            return "mention", True
        case "task.assigned":
            return "assigned", True
        case "task.created":
            return "assigned", False
        case "attention.raised":
            return "attention", False
        case "spec.drift":
            return "spec_drift", False
        case "spec.created" | "spec.edited" | "spec.removed" | "spec.expanded":
            return "assignee", False
        case "task.subscribed" | "task.unsubscribed" | "task.gate_refused":
            return "assignee", False
        case (
            "workspace.init" | "note.added" | "task.edited" | "task.moved" | "task.unassigned"
            | "task.claimed" | "task.released" | "task.dep_added" | "task.dep_removed"
            | "task.removed" | "message.direct" | "doc.added" | "doc.edited" | "doc.removed"
            | "agent.added" | "agent.edited" | "agent.removed" | "agent.status" | "agent.reset" | "agent.moved"
            | "agent.heartbeat" | "agent.contained" | "agent.proposed" | "agent.approved" | "agent.rejected" | "memory.added" | "memory.compacted"
            | "record.adopted" | "record.lost" | "config.changed"
        ):  # fmt: skip
            return "assignee", True
        case _:
            assert_never(kind)


class Mutation:
    """Writes staged by one operation, applied together by :meth:`WorkspaceBase._mutate`.

    (A plain class: a dataclass costs ~0.5 ms to build at every start, reads included.)"""

    def __init__(self, actor: Actor) -> None:
        self.actor = actor
        self.writes: dict[Path, str | None] = {}  # None = delete
        self.creates: set[Path] = set()
        self.also_commit: list[Path] = []  # written before the mutation (init)
        self.appends: dict[Path, list[str]] = {}  # append-only logs (inbox state)
        self.parsed: dict[Path, tuple[dict[str, Any], str]] = {}  # created tasks' data
        self.event: EventRecord | None = None
        self.more_events: list[EventRecord] = []  # an event batch (record_more)
        self.batch_subject: str | None = None  # the commit subject of an event batch
        # commit message of an event-less change (read-state only)
        self.bookkeeping: str | None = None
        # commit even with auto-commit off (the change turning it on)
        self.commit_anyway = False

    def __repr__(self) -> str:
        return f"Mutation(actor={self.actor!r}, writes={sorted(map(str, self.writes))})"

    # Every staged text is masked here, so no operation can write a secret into a record,
    # a log line or git (core/secrets.py; MASK stays valid YAML/JSON/Markdown).
    def append(self, path: Path, line: str) -> None:
        self.appends.setdefault(path, []).append(secrets.mask(line))

    def write(self, path: Path, text: str) -> None:
        text = secrets.mask(text)
        _refuse_oversized(path, text)
        self.writes[path] = text

    def create(
        self, path: Path, text: str, parsed: tuple[dict[str, Any], str] | None = None
    ) -> None:
        """Stage a new file. ``parsed``: the fields and body ``text`` was written from (a
        task), so the index need not parse it back; dropped if masking changed the text."""
        masked = secrets.mask(text)
        _refuse_oversized(path, masked)
        self.writes[path] = masked
        self.creates.add(path)
        if parsed is not None and masked == text:
            self.parsed[path] = parsed

    def delete(self, path: Path) -> None:
        self.writes[path] = None

    def record(
        self,
        type_: EventType,
        subject: str | None,
        data: Payload | None = None,
        notify: list[str] | None = None,
    ) -> None:
        if self.event is not None:
            raise AssertionError("one mutation records exactly one event")
        self.event = self._make_event(type_, subject, data, notify)

    def record_more(
        self,
        type_: EventType,
        subject: str | None,
        data: Payload | None = None,
        notify: list[str] | None = None,
    ) -> None:
        """One more event of an event batch (an import, a dispatch): every event of the batch
        is journaled, written and committed together, in one commit subjected
        ``batch_subject``. All share the first event's time, so they land in one day file."""
        if self.event is None:
            self.record(type_, subject, data, notify)
            return
        if self.batch_subject is None:
            raise AssertionError("an event batch needs its batch_subject")
        event = self._make_event(type_, subject, data, notify)
        event["ts"] = self.event["ts"]
        self.more_events.append(event)

    def _make_event(
        self, type_: EventType, subject: str | None, data: Payload | None, notify: list[str] | None
    ) -> EventRecord:
        wanted = [n for n in (notify or []) if n != self.actor.name]
        return eventlog.make_event(self.actor.name, type_, subject, data, wanted)

    @property
    def events(self) -> list[EventRecord]:
        return [] if self.event is None else [self.event, *self.more_events]


def _refuse_oversized(path: Path, text: str) -> None:
    """Never write a record that every reader would refuse as too large."""
    from agentctl.store.reading import MAX_RECORD_BYTES, too_large

    if len(text) * 4 > MAX_RECORD_BYTES:  # only long texts are worth encoding to count bytes
        size = len(text.encode("utf-8"))
        if size > MAX_RECORD_BYTES:
            raise UsageError(
                f"refused: {path.name} would be {too_large(size)}",
                hint="keep long material in several documents",
            )


def _refuse_symlinked_parents(layout: paths.Layout) -> None:
    """The configured WORKING.md path may not pass through a symlinked directory (a write
    there would land outside the repository); checked before any command writes."""
    from agentctl.store.reading import SYMLINK_PROBLEM, is_symlink

    parent = layout.working.parent
    while parent != layout.root and layout.root in parent.parents:
        if is_symlink(parent):
            raise ValidationError(
                SYMLINK_PROBLEM,
                layout.relative(parent),
                hint="check working.path in .agentctl/config.yaml",
            )
        parent = parent.parent


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


def _in_git_work_tree(root: Path) -> bool:
    """True if ``root`` or a parent holds a ``.git`` (without running git: it may be missing)."""
    return any((directory / ".git").exists() for directory in (root, *root.parents))


def _designated(agent: AgentRecord) -> bool:
    """A lead named as a reviewer (capability or grant), not one by level alone."""
    return "review" in (agent.get("capabilities") or []) or "review" in (
        (agent.get("permissions") or {}).get("allow") or []
    )


def now() -> datetime:
    return clock.now_seconds()


def timestamp(moment: datetime | None = None) -> str:
    return clock.stamp(moment or now())


class WorkspaceBase:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.layout = paths.Layout(self.root)
        self.index = Index(self.layout)
        self._config: ConfigRecord | None = None
        self._problems: list[Problem] | None = None
        self._repo: Repo | None | bool = False  # False = not looked up yet
        self.warnings: list[
            str
        ] = []  # non-fatal diagnostics of the last operations (front ends print them)
        self.last_event: EventRecord | None = None
        self._batch: dict[str, Any] | None = None  # commits deferred by batched()

    @classmethod
    def open(cls, explicit: str | None = None, start: Path | None = None) -> Self:
        """The workspace at or above ``start`` (default: the current directory), or at
        ``explicit``."""
        return cls(paths.find_root(start, explicit))

    # -- config, index, git ------------------------------------------------------------

    @property
    def config(self) -> ConfigRecord:
        """The workspace configuration (``.agentctl/config.yaml``), validated, with defaults
        filled in."""
        if self._config is None:
            from agentctl.config import load_config

            config = load_config(self.layout, self.index)
            layout = paths.Layout(self.root, config["working"]["path"])
            _refuse_symlinked_parents(layout)
            self._config, self.layout = config, layout
        return self._config

    @property
    def workflow(self) -> WorkflowConfigRecord:
        """The workflow of the config: statuses, transitions, and which are ready, in progress,
        review, done and blocked."""
        return self.config["workflow"]

    def refresh(self, force: bool = False, full: bool = False) -> list[Problem]:
        """Bring the index up to date with the records and logs (once per process unless
        forced); returns record file problems. Threads are refreshed by their readers.
        ``full`` stats every record file, where a big directory is otherwise trusted by its
        signature (see :mod:`agentctl.store.index_fresh`)."""
        if self._problems is None or force or full:
            self.config  # noqa: B018 - validates config first: everything depends on it
            self._problems = self.index.refresh(full=full)
        return self._problems

    @property
    def repo(self) -> Repo | None:
        """The git repository the workspace lives in, or None (git features are then off)."""
        if self._repo is False:
            from agentctl import vcs

            self._repo = vcs.find_repo(self.root)
        return self._repo  # type: ignore[return-value]

    def close(self) -> None:
        """Close the index connection; the workspace can be reopened later."""
        self.index.close()

    # -- actors ------------------------------------------------------------------------

    def actor(self, name: str | None = None) -> Actor:
        """The acting agent (``--as`` / $AGENTCTL_AGENT) or, with neither, the human user."""
        chosen = name or os.environ.get(ENV_AGENT) or None
        chosen = containment.check_identity(self.layout, chosen)
        if chosen:
            paths.validate_name(chosen, "agent name")
            if (
                self._problems is None
            ):  # only the agents matter here: a mutation rescans the rest under its lock
                self.config  # noqa: B018 - validates config first
                self.index.refresh_records(agents_only=True)
            agent = self.index.agent(chosen)
            if agent is None:
                # An agent file the index refused (a symlink, an alias bomb, ...) is named with
                # its problem: it grants nothing, and "no such agent" would hide why.
                for rel in (
                    self.layout.relative(self.layout.agent(chosen)),
                    self.layout.relative(self.layout.agents),
                ):
                    problem = self.index.problem_of(rel)
                    if problem is not None:
                        raise ValidationError(problem.message, problem.path, problem.line)
                raise NotFoundError(f"no agent named {chosen!r}", hint="see 'agentctl agent list'")
            if is_pending(agent):
                raise PermissionDeniedError(pending_reason(chosen) + ": until then it may not act")
            return actor_of(agent)
        return Actor(self.human_name())

    def human_name(self) -> str:
        """The name people act under: git's ``user.name``, else ``$USER``, else ``human``."""
        repo = self.repo
        name = repo.user_name() if repo is not None else None
        return name or os.environ.get("USER") or os.environ.get("USERNAME") or "human"

    # -- task lookup -------------------------------------------------------------------

    def resolve_task(self, ref: str) -> str:
        """The task ID a reference (an ID, a unique prefix of at least four characters) names;
        names an invalid file rather than 'not found'."""
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
        task_id = ids.resolve(ids.TASK, ref, candidates)
        # The task a command names is always current, even where an edit made in place is
        # not yet seen by the directory checks (see store/index_fresh.py): one stat.
        if self.index.recheck_file(self.layout.relative(self.layout.task(task_id)), "task"):
            self._problems = self.index.problems()
        return task_id

    def short_id(self, task_id: str) -> str:
        """The shortest unique prefix of ``task_id`` (at least four characters after ``t-``)."""
        return ids.short_id(task_id, self.index.neighbours(task_id))

    def load_task_doc(self, task_id: str) -> Document:
        """A task file parsed for a round-trip edit (frontmatter and body), after checking it is
        valid."""
        from agentctl.store.frontmatter import Document
        from agentctl.store.reading import read_record

        path = self.layout.task(task_id)
        try:
            text = read_record(path, self.layout.relative(path))
        except FileNotFoundError:
            raise NotFoundError(f"no task {task_id}") from None
        return Document.parse(text, self.layout.relative(path))

    # -- the mutation path -------------------------------------------------------------

    @contextmanager
    def _mutate(self, actor: Actor) -> Iterator[Mutation]:
        from agentctl.store import locks

        config = self.config
        with locks.hold(self.layout.lock, float(config["lock"]["timeout"])):
            self.check_git_preconditions()  # before anything is written
            self.refresh(force=True)
            self.recover_interrupted()
            self.index.verify_threads()  # after recovery: what it wrote is not ours to follow
            mutation = Mutation(actor)
            yield mutation
            self._apply(mutation)
        if mutation.event is not None and config["hooks"]:
            for event in mutation.events:  # every event of a batch (a dispatch, an import)
                self._run_hooks(event)

    def _run_hooks(self, event: EventRecord) -> None:
        """Event hooks: after the commit, outside the lock; failures become warnings."""
        from agentctl.workspace.hooks import run_hooks

        for result in run_hooks(self.root, self.config, event, self.layout.local / "logs"):
            if not result.ok:
                self.warnings.append(result.describe())

    def check_git_preconditions(self) -> None:
        """With auto-commit on, refuse (before anything is written) what would make the commit
        fail or go astray: git missing from PATH in a git work tree, a detached HEAD, a merge
        or rebase in progress, a damaged branch ref, a stale index.lock."""
        if not self.config["git"]["autocommit"]:
            return
        repo = self.repo
        if repo is None:
            from agentctl import vcs

            if not vcs.git_available() and _in_git_work_tree(self.root):
                raise GitError(
                    "git is not on PATH, but this workspace is in a git repository with auto-commit on: "
                    "nothing was written",
                    hint="put git on PATH (under cron: a PATH= line in the crontab), "
                    "or set git.autocommit: false / AGENTCTL_AUTOCOMMIT=0",
                )
            return
        repo.check_index_unlocked()  # clears a killed agentctl's locks; a stale foreign one fails
        repo.preflight()

    def recover_interrupted(self) -> list[dict[str, Any]]:
        """Finish changes a killed or failed writer left half-done (caller holds the lock)."""
        from agentctl.store import journal

        if not journal.any_pending(self.layout.journal):
            return []
        from agentctl.workspace.recovery import recover

        return recover(self)

    def _apply(self, mutation: Mutation) -> None:
        from agentctl.store import journal

        if mutation.event is None and mutation.bookkeeping is None:
            raise AssertionError("a mutation must record its event")
        for path, text in mutation.writes.items():
            if text is not None:
                _refuse_conflict_markers(text, self.layout.relative(path))
        checked_writes = list(
            zip(self.layout.inside_all(mutation.writes), mutation.writes.values(), strict=True)
        )
        checked_appends = [
            (self.layout.inside(path), lines) for path, lines in mutation.appends.items()
        ]
        event = mutation.event
        for one in mutation.events:
            self._fan_out(one)
        # Write-ahead: the whole change is on disk before any record is touched, so a writer
        # killed from here on leaves something the next command can finish (see recovery.py).
        entry = journal.begin(
            self.layout.journal,
            self.root,
            checked_writes,
            checked_appends,
            mutation.events,
            eventlog.day_path(self.layout.events, event) if event is not None else None,
            self._commit_spec(mutation),
            mutation.also_commit,
        )
        deferred = False
        try:
            deferred = self._apply_entry(mutation, entry, checked_writes, checked_appends)
        finally:
            if not deferred:  # still on disk if not finished: recoverable from now on
                journal.release(entry)

    def _apply_entry(
        self,
        mutation: Mutation,
        entry: Any,
        checked_writes: list[tuple[Path, str | None]],
        checked_appends: list[tuple[Path, list[str]]],
    ) -> bool:
        """Write, index, render and commit one journaled change; True if its commit is
        deferred to the enclosing batch."""
        from agentctl.store import atomic, journal

        touched: list[Path] = []
        bulk = [
            (checked, text)
            for checked, text in checked_writes
            if text is not None and checked in mutation.creates
        ]
        if len(bulk) >= _BULK_CREATE:  # an import: one flush for all new files
            try:
                atomic.create_many(bulk)
            except FileExistsError as exc:
                raise ConflictError(
                    f"{self.layout.relative(Path(str(exc.filename)))} already exists"
                ) from None
            touched.extend(path for path, _ in bulk)
        else:
            bulk = []
        created = {path for path, _ in bulk}
        for checked, text in checked_writes:
            if checked in created:
                continue
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
        for checked, lines in checked_appends:
            for line in lines:
                atomic.append_line(checked, line)
            touched.append(checked)
        event = mutation.event
        if mutation.more_events:
            touched.append(eventlog.append_many(self.layout.events, mutation.events))
        elif event is not None:
            touched.append(eventlog.append(self.layout.events, event))
        record_dirs = (self.layout.tasks, self.layout.agents, self.layout.docs)
        records = [path for path in touched if path.parent in record_dirs]
        self.index.record_files(records, mutation.parsed)
        threads = self.layout.threads
        for path in touched:
            if path.parent.parent == threads:
                self.index.record_message(path)
        self.index.refresh_logs()  # ingests just the lines appended above
        self.index.note_own_writes(touched)  # so the next command need not rescan them
        self._problems = self.index.problems()  # our writes are indexed: no rescan needed
        if self.layout.config in mutation.writes:
            self._config = None  # WORKING.md is rendered with the config just written
        working = self.write_working()
        if working is not None:
            touched.append(working)
        self._journal(mutation, touched)
        if event is not None:
            self.last_event = mutation.events[-1]
        if self._defer(touched, entry, self._batch_line(mutation)):
            return True
        spec = entry.commit
        if spec is not None and self.repo is not None:
            self._ensure_merge_drivers(self.repo)
            try:
                self.repo.commit_paths(
                    touched, spec["message"], spec["author_name"], spec["author_email"]
                )
            except GitError as exc:
                raise GitError(
                    f"{exc.message}; the change is saved on disk but not committed yet",
                    hint="it is committed by the next agentctl command once git works again "
                    "(or run `agentctl doctor`)",
                ) from exc
        journal.finish(entry)
        return False

    def _ensure_merge_drivers(self, repo: Repo) -> list[str]:
        """Configure the merge drivers in this clone on its first commit by agentctl: a fresh
        `git clone` has no .git/config entries, and without them git merges WORKING.md and
        the records as plain text. A marker in .agentctl/local (per clone) holds the command
        configured, so this costs one small read per commit, and a moved virtualenv is
        configured again. A failure is left to `agentctl doctor`, which reports it. Returns
        the drivers configured now."""
        from agentctl import vcs_merge
        from agentctl.store import atomic
        from agentctl.store.reading import open_nofollow

        marker = self.layout.local / "merge-drivers"
        wanted = vcs_merge.driver_command("record")
        try:
            with open_nofollow(marker, str(marker)) as handle:
                if handle.read().decode("utf-8", "replace") == wanted:
                    return []
        except (OSError, ValidationError):
            pass
        try:
            configured = vcs_merge.configure(repo.root)
            atomic.write_text(marker, wanted)
        except (GitError, OSError, ValidationError):
            return []
        return configured

    def _journal(self, mutation: Mutation, touched: list[Path]) -> None:
        """Tell a running containment window what this mutation wrote (workspace/containment.py)."""
        appended = {self.layout.inside(p): list(lines) for p, lines in mutation.appends.items()}
        if mutation.event is not None:
            events_dir = self.layout.events
            for path in touched:
                if path.parent == events_dir:
                    appended[path] = [eventlog.encode(one) for one in mutation.events]
        containment.note(self.layout, touched, appended)

    # -- notifications -------------------------------------------------------------------

    def _fan_out(self, event: EventRecord) -> None:
        """Complete an event's ``notify`` list: everyone the event concerns, with the reason.

        Explicitly named agents (mentions, assignees) come from the operation; this adds the
        task's subscribers, reviewers when work enters review, and the assignees of tasks
        waiting on a task that just became done. Only known agents, never the actor.
        """
        data = event["data"]
        fields: Mapping[str, object] = data  # the payload keys read below, whatever the type
        kind: EventType = event["type"]
        direct, to_subscribers = fan_out_rule(kind)
        reasons: dict[str, str] = {name: direct for name in event["notify"]}
        subject = event.get("subject") or ""
        task_id = subject if subject.startswith("t-") else fields.get("task")
        flow = self.workflow
        if kind == "task.moved":
            if fields.get("to") == flow["review"]:
                task: Mapping[str, Any] = self.index.task(subject) or {}
                for name in self.reviewers_for(task):
                    reasons.setdefault(name, "review")
            if fields.get("to") in flow["done"]:
                for dependent in self.index.dependents(subject):
                    row = self.index.task(dependent)
                    for name in row["assignees"] if row is not None else []:
                        reasons.setdefault(name, "dependency_done")
        # Subscribers last: a more specific reason (review, dependency_done) wins.
        if to_subscribers and isinstance(task_id, str) and task_id.startswith("t-"):
            for name in self.index.subscribers(task_id):
                reasons.setdefault(name, "subscribed")
        known = {agent["name"] for agent in self.index.agents()}
        reasons = {
            name: why for name, why in reasons.items() if name in known and name != event["actor"]
        }
        event["notify"] = sorted(reasons)
        if reasons:
            data["why"] = dict(sorted(reasons.items()))

    def _reviewers(self) -> list[str]:
        """Agents asked to review: the designated reviewers (the ``review`` capability or an
        explicit ``review`` grant), else the leads; only agents that may review
        (:meth:`Actor.may_review`, the rule the move itself checks)."""
        agents = [a for a in self.index.agents() if may_review(a) and not is_pending(a)]
        chosen = [a["name"] for a in agents if a.get("level") != "lead" or _designated(a)]
        return chosen or [a["name"] for a in agents if a.get("level") == "lead"]

    def reviewers_for(self, task: Mapping[str, Any]) -> list[str]:
        """Who reviews ``task``: the reviewers who did not implement it, else the leads who
        did not (a reviewer's own work goes to a lead)."""
        from agentctl.core.rules import implementers

        done_by = implementers(task)
        chosen = [name for name in self._reviewers() if name not in done_by]
        if chosen:
            return chosen
        leads = [
            a["name"] for a in self.index.agents() if a.get("level") == "lead" and may_review(a)
        ]
        return [name for name in leads if name not in done_by]

    @contextmanager
    def batched(self, actor: Actor, subject: str) -> Iterator[list[str]]:
        """Run several mutations as one git commit (a heartbeat tick is one commit).

        Each mutation still takes the lock, journals and writes atomically; only the commits
        are deferred and made once, of every path touched, when the block ends (also on error,
        so nothing applied is left uncommitted). Their journal entries are finished after that
        commit; if it fails they stay, and the next command commits them. Yields the list of
        change summaries.
        """
        from agentctl.store import journal

        if self._batch is not None:
            raise AssertionError("batches do not nest")
        self._batch = {"paths": [], "lines": [], "entries": []}
        try:
            yield self._batch["lines"]
        finally:
            batch, self._batch = self._batch, None
            try:
                if batch["paths"] and self.config["git"]["autocommit"] and self.repo is not None:
                    body = "\n".join(f"- {line}" for line in batch["lines"])
                    self.repo.commit_paths(
                        batch["paths"],
                        f"agentctl: {subject}\n\n{body}\n\nActor: {actor.name}\n",
                        author_name=actor.name if actor.is_agent else None,
                        author_email=f"{actor.name}@agents.agentctl" if actor.is_agent else None,
                    )
                for entry in batch["entries"]:
                    journal.finish(entry)
            finally:
                for entry in batch["entries"]:
                    journal.release(entry)

    def _defer(self, touched: list[Path], entry: Any, line: str) -> bool:
        if self._batch is None:
            return False
        self._batch["paths"].extend(touched)
        self._batch["lines"].append(line)
        self._batch["entries"].append(entry)
        return True

    def _batch_line(self, mutation: Mutation) -> str:
        from agentctl.core.summary import summarize

        if mutation.more_events:
            return f"{mutation.actor.name}: {mutation.batch_subject}"
        if mutation.event is not None:
            return f"{mutation.event['actor']}: {summarize(mutation.event)}"
        return str(mutation.bookkeeping)

    def _commit_spec(self, mutation: Mutation) -> dict[str, Any] | None:
        """The commit this mutation will make (message and author), or None when nothing
        commits (no git, or auto-commit off)."""
        if not (self.config["git"]["autocommit"] or mutation.commit_anyway) or self.repo is None:
            return None
        from agentctl.core.summary import summarize

        actor = mutation.actor
        if mutation.event is None:
            message = f"agentctl: {mutation.bookkeeping}\n\nActor: {actor.name}\n"
            is_agent = actor.is_agent
        else:
            event = mutation.event
            name = event["actor"]
            is_agent = paths.NAME_RE.match(name) is not None and self.index.agent(name) is not None
            if mutation.more_events:
                lines = "".join(f"- {summarize(one)}\n" for one in mutation.events[:50])
                if len(mutation.events) > 50:
                    lines += f"- … and {len(mutation.events) - 50} more\n"
                message = (
                    f"agentctl: {mutation.batch_subject}\n\n{lines}\nActor: {name}\n"
                    f"Events: {event['id']} .. {mutation.events[-1]['id']} ({len(mutation.events)})\n"
                )
            else:
                message = f"agentctl: {summarize(event)}\n\nActor: {name}\nEvent: {event['id']}\n"
        author = actor.name if mutation.event is None else mutation.event["actor"]
        return {
            "message": message,
            "author_name": author if is_agent else None,
            "author_email": f"{author}@agents.agentctl" if is_agent else None,
        }

    # -- WORKING.md ----------------------------------------------------------------------

    def working_state(self, notes: str) -> WorkingState:
        """Everything WORKING.md shows, gathered from the index (``notes`` is the human notes
        block to keep)."""
        from agentctl.store.working import WorkingState
        from agentctl.workspace.graphs import working_critical_path

        cfg = self.config
        flow = cfg["workflow"]
        caps = cfg["working"]
        index = self.index
        counts = index.count_by_status()
        attention = [s for s in (flow["review"], flow["blocked"]) if s in flow["statuses"]]
        open_statuses = [s for s in flow["statuses"] if s not in flow["done"]]
        open_tasks = {
            status: index.tasks(statuses=[status], limit=caps["max_per_status"])
            for status in open_statuses
        }
        recent_done = index.tasks(
            statuses=flow["done"], order="updated_at DESC, id", limit=caps["recent_done"]
        )
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
            needs_human=self._needs_human() if flow.get("human_gates") else None,
            needs_human_cap=caps["max_per_status"],
            critical_path=working_critical_path(
                self, sum(n for s, n in counts.items() if s not in flow["done"])
            ),
            needs_attention=self._needs_attention(),
            needs_attention_cap=caps["max_per_status"],
        )

    def _needs_attention(self) -> list[str]:
        from agentctl.workspace.attention import raised_and_unresolved

        return [condition.line() for condition in raised_and_unresolved(self)]

    def _needs_human(self) -> NeedsHuman:
        from agentctl.workspace.gates import needs_human

        return needs_human(self.index, self.workflow)

    def read_working(self) -> str:
        """WORKING.md's text ('' if missing). A symlink is not followed: it reads as empty, so
        the next render replaces the link with a regular file and the target is untouched.
        Generated output, not a record: no size bound (a note that would pass 1 MiB is refused
        when written), so a large file never fails a mutation halfway."""
        from agentctl.store.reading import open_nofollow

        path = self.layout.working
        rel = self.layout.relative(path)
        try:
            with open_nofollow(path, rel) as handle:
                return handle.read().decode("utf-8")
        except FileNotFoundError:
            return ""
        except ValidationError as exc:
            if not exc.problem.startswith("symlink"):
                raise
            warning = f"{rel} is a symlink: it is not followed and is replaced by a regular file"
            if warning not in self.warnings:
                self.warnings.append(warning)
            return ""

    def render_working(self) -> tuple[str, str]:
        """(fresh rendering, current file text or '')."""
        from agentctl.store.working import extract_notes, render

        self.refresh()
        current = self.read_working()
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
        """Raise NotFoundError unless ``task_id`` names an existing task (``what`` names the
        field in the message)."""
        if self.index.task(task_id) is None:
            raise NotFoundError(f"{what} {task_id} does not exist")

    def require_valid_task_file(self, task_id: str) -> None:
        """Raise ValidationError (naming the file and field) if the task's file does not parse
        or validate."""
        rel = self.layout.relative(self.layout.task(task_id))
        for problem in self.refresh():
            if problem.path == rel:
                raise ValidationError(problem.message, problem.path, problem.line)
