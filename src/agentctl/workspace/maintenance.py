"""Workspace-wide operations: init, WORKING.md (show, note, apply), validate, reindex."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentctl import paths
from agentctl.core.rules import Actor
from agentctl.core.text import check_line, check_text
from agentctl.errors import ConflictError, UsageError, ValidationError
from agentctl.paths import MESSAGE_FILE_RE, NAME_RE
from agentctl.store.index import Problem
from agentctl.workspace.agents import AgentOps
from agentctl.workspace.base import timestamp

if TYPE_CHECKING:
    from collections.abc import Callable

    from agentctl.core import events as ev

GITIGNORE = "# Machine-local state: locks, index, run logs, caches. Never committed.\nlocal/\n"
GITATTRIBUTES_LINES = (
    ".agentctl/events/*.jsonl merge=union",
    ".agentctl/inbox/*.jsonl merge=union",
    ".agentctl/memory/*/*.md merge=union",
    # field-level merge of records, by the driver init configures (vcs_merge.py)
    ".agentctl/tasks/*.md merge=agentctl-record",
    ".agentctl/agents/*.md merge=agentctl-record",
)
LAYOUT_DIRS = ("agents", "tasks", "threads", "events", "inbox", "specs", "docs", "memory", "local")


class Maintenance(AgentOps):
    # -- init ----------------------------------------------------------------------------

    @classmethod
    def init(
        cls,
        path: Path,
        name: str | None = None,
        actor_name: str | None = None,
        allow_simulated: bool = False,
        nested: bool = False,
    ) -> dict[str, Any]:
        """Create the workspace layout in ``path``. Idempotent; never overwrites a file.

        ``allow_simulated`` goes into a new config (the demo's workspace ticks stand-ins).
        Refused inside another workspace (commands run there would silently switch to the
        new, empty one) unless ``nested``."""
        from agentctl.config import default_config_text
        from agentctl.store import atomic

        check_line(name or "", "workspace name")
        root = path.expanduser().resolve()
        if root.exists() and not root.is_dir():
            raise UsageError(f"{root} is not a directory")
        layout = paths.Layout(root)
        if not nested and not layout.config.exists():
            outer = next(
                (p for p in root.parents if (p / paths.DIR_NAME / "config.yaml").is_file()), None
            )
            if outer is not None:
                raise ConflictError(
                    f"{root} is inside the agentctl workspace at {outer}",
                    hint="agentctl commands here already use that workspace; pass --nested to create a separate one inside it",
                )
        if layout.dir.is_symlink():
            raise ValidationError("symlinks are not allowed inside .agentctl/", str(layout.dir))
        created: list[str] = []
        for sub in LAYOUT_DIRS:
            directory = layout.dir / sub
            if not directory.is_dir():
                directory.mkdir(parents=True, exist_ok=True)
                created.append(layout.relative(directory) + "/")
        config_created = False
        if not layout.config.exists():
            atomic.create_text(
                layout.config, default_config_text(name or root.name, allow_simulated)
            )
            created.append(layout.relative(layout.config))
            config_created = True
        workspace = cls(root)
        repo = workspace.repo
        actor = Actor(actor_name or workspace.human_name())
        gitignore = layout.dir / ".gitignore"
        attributes = root / ".gitattributes"
        existing_attributes = attributes.read_text(encoding="utf-8") if attributes.exists() else ""
        workspace.refresh()
        # WORKING.md is generated: its driver keeps one rendering with both sides' Notes
        # lines, and the post-merge hook (or the next command) re-renders the rest.
        working_rel = workspace.layout.relative(workspace.layout.working)
        working_line = f"/{working_rel} merge=agentctl-working"
        union_line = f"/{working_rel} merge=union"  # what older versions wrote
        if union_line in existing_attributes.splitlines():
            existing_attributes = "".join(
                line
                for line in existing_attributes.splitlines(keepends=True)
                if line.rstrip("\r\n") != union_line
            )
        missing = [
            line
            for line in (*GITATTRIBUTES_LINES, working_line)
            if line not in existing_attributes.splitlines()
        ]
        needs_working = not workspace.layout.working.exists()
        if config_created or not gitignore.exists() or missing or needs_working:
            with workspace._mutate(actor) as m:
                if not gitignore.exists():
                    m.create(gitignore, GITIGNORE)
                    created.append(layout.relative(gitignore))
                if missing:
                    text = existing_attributes
                    if text and not text.endswith("\n"):
                        text += "\n"
                    text += "# agentctl: append-only logs merge by union; records and WORKING.md by agentctl's merge drivers\n"
                    text += "\n".join(missing) + "\n"
                    m.write(attributes, text)
                    created.append(".gitattributes")
                if config_created:
                    m.also_commit.append(layout.config)
                init: ev.WorkspaceInit = {"name": workspace.config["name"]}
                m.record("workspace.init", None, init)
            if needs_working:
                created.append(workspace.layout.relative(workspace.layout.working))
        if repo is not None:
            from agentctl import vcs_merge

            # .git/config is not committed: every clone configures the drivers itself.
            for driver in vcs_merge.configure(repo.root):
                created.append(f"merge driver {driver} (.git/config)")
        result = {
            "root": str(root),
            "created": created,
            "git": repo is not None,
            "autocommit": bool(workspace.config["git"]["autocommit"]) and repo is not None,
            "already_initialised": not created,
        }
        workspace.close()
        return result

    # -- WORKING.md ----------------------------------------------------------------------

    def working_text(self) -> tuple[str, bool]:
        """WORKING.md's text, re-rendered first if stale; returns (text, was_rerendered)."""
        fresh, current = self.render_working()
        if fresh == current:
            return current, False
        from agentctl.store import atomic, locks
        from agentctl.workspace import containment

        with locks.hold(self.layout.lock, float(self.config["lock"]["timeout"])):
            self.refresh(force=True)
            fresh, current = self.render_working()
            if fresh != current:
                atomic.write_text(self.layout.working, fresh)
                containment.note(
                    self.layout, [self.layout.working], {}
                )  # a re-render is not tampering
                # A stale WORKING.md (after a merge or a hand edit of the records) is committed
                # once re-rendered, so it never leaves the tree dirty and blocks the next pull.
                if self.config["git"]["autocommit"] and self.repo is not None:
                    self.repo.commit_paths(
                        [self.layout.working], "agentctl: re-render WORKING.md\n\nActor: agentctl\n"
                    )
        return fresh, True

    def add_note(self, actor: Actor, text: str) -> dict[str, Any]:
        """Append a signed, timestamped line to WORKING.md's Notes section."""
        from agentctl.store.working import NOTES_END, NOTES_START, extract_notes

        line_text = " ".join(check_text(text, "note").split())
        if not line_text:
            raise UsageError("the note is empty")
        if NOTES_START in line_text or NOTES_END in line_text:
            raise UsageError("a note cannot contain the notes markers")
        with self._mutate(actor) as m:
            path = self.layout.working
            current = self.read_working()
            notes = extract_notes(current)
            entry = f"- {timestamp()} {actor.name}: {line_text}"
            new_notes = f"{notes}\n{entry}" if notes else entry
            if NOTES_START in current and NOTES_END in current:
                start = current.index(NOTES_START) + len(NOTES_START)
                end = current.index(NOTES_END, start)
                updated = f"{current[:start]}\n{new_notes}\n{current[end:]}"
            else:
                updated = (
                    f"{current.rstrip()}\n\n## Notes\n\n{NOTES_START}\n{new_notes}\n{NOTES_END}\n"
                )
            m.write(path, updated)
            note: ev.NoteAdded = {"text": line_text}
            m.record("note.added", None, note)
            returned = {"note": entry}
        return returned

    def apply_working(self, actor: Actor, text: str | None = None) -> list[dict[str, Any]]:
        """Apply hand-moved task lines in WORKING.md as status changes.

        Refused when the file was rendered from an older state than the current one (its
        state digest differs), so an edit never overrides changes it did not see.
        """
        from agentctl.store.working import (
            extract_digest,
            parse_task_lines,
            render_sections,
            state_digest,
        )

        edited = text if text is not None else self.read_working()
        self.refresh()
        rendered_from = extract_digest(edited)
        current = state_digest(render_sections(self.working_state("")))
        if rendered_from != current:
            raise ConflictError(
                "WORKING.md was edited from an older state (its state digest "
                f"{rendered_from or 'is missing'}, current {current}); nothing applied",
                hint="run 'agentctl working' to re-render, then redo the edit",
            )
        moves = []
        for task_id, status in parse_task_lines(edited).items():
            row = self.index.task(task_id)
            if row is not None and row["status"] != status:
                moves.append((task_id, row["status"], status))
        applied = []
        for task_id, before, after in moves:
            self.move_task(actor, task_id, after, note="moved in WORKING.md")
            applied.append({"id": task_id, "from": before, "to": after})
        return applied

    # -- validate / reindex -------------------------------------------------------------

    def reindex(self, progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
        """Rebuild the SQLite index from the files (it is a cache: deleting it loses nothing);
        returns counts and the problems found. ``progress(done, total)`` follows the record
        files read."""
        problems = self.index.rebuild(progress)
        return {
            "tasks": len(self.index.task_ids()),
            "agents": len(self.index.agents()),
            "problems": problems,
        }

    def validate(self, only: list[Path] | None = None) -> list[Problem]:
        """Full check of every record (or of ``only``): schema, file names, references,
        cycles, conflict markers, event log lines, stray files. Sweeps writers' temp files."""
        from agentctl.store import atomic, locks

        problems: list[Problem] = []
        try:
            self.config  # noqa: B018
        except ValidationError as exc:
            return [Problem(exc.path or "config", exc.line, exc.problem)]
        with locks.try_hold(self.layout.lock) as locked:
            if locked:
                atomic.sweep_temp([self.layout.dir])
                atomic.sweep_temp_of([self.layout.working, self.root / ".gitattributes"])
        targets = [self.layout.inside(p.resolve()) for p in only] if only else None
        tasks: dict[str, dict[str, Any]] = {}
        agents: set[str] = set()
        owners: dict[str, dict[str, Any]] = {}  # agent name -> its record
        states: dict[str, tuple[Path, dict[str, Any]]] = {}  # agent name -> its state
        checks = []
        directories = [
            (self.layout.tasks, "task"),
            (self.layout.agents, "agent"),
            (self.layout.docs, "doc"),
            (self.layout.specs, "spec"),
        ]
        if self.layout.threads.is_dir() and not self.layout.threads.is_symlink():
            for entry in sorted(os.scandir(self.layout.threads), key=lambda e: e.name):
                if entry.is_dir(follow_symlinks=False):
                    directories.append((Path(entry.path), "message"))
        for directory, kind in directories:
            for entry in (
                sorted(os.scandir(directory), key=lambda e: e.name)
                if directory.is_dir() and not directory.is_symlink()
                else []
            ):
                path = Path(entry.path)
                if entry.is_symlink():  # reported by _symlink_problems
                    continue
                if atomic.is_temp(entry.name):
                    continue
                checks.append((path, kind))
        for path, kind in checks:
            rel = self.layout.relative(path)
            name = path.name
            if kind == "agent" and name.endswith(".state.yaml"):
                record_kind = "state"
            elif name.endswith(".md"):
                record_kind = kind
            else:
                if targets is None or path in targets:
                    problems.append(Problem(rel, None, f"unexpected file in {path.parent.name}/"))
                continue
            if record_kind == "message" and not MESSAGE_FILE_RE.match(name):
                if targets is None or path in targets:
                    problems.append(
                        Problem(rel, None, "unexpected file name in a thread directory")
                    )
                continue
            data = _check_record(
                path, rel, record_kind, problems if targets is None or path in targets else []
            )
            if data is not None and record_kind == "task":
                tasks[data["id"]] = data
            elif data is not None and record_kind == "agent":
                agents.add(data["name"])
                owners[data["name"]] = data
            elif (
                data is not None and record_kind == "state" and (targets is None or path in targets)
            ):
                states[name.removesuffix(".state.yaml")] = (path, data)
        for task_id, task in tasks.items():
            rel = self.layout.relative(self.layout.task(task_id))
            if targets is not None and self.layout.task(task_id) not in targets:
                continue
            for dep in task.get("depends_on", []):
                if dep not in tasks:
                    problems.append(
                        Problem(
                            rel,
                            _key_line(self.layout.task(task_id), "depends_on"),
                            f"depends on missing task {dep}",
                        )
                    )
            parent = task.get("parent")
            if parent and parent not in tasks:
                problems.append(
                    Problem(
                        rel,
                        _key_line(self.layout.task(task_id), "parent"),
                        f"parent {parent} does not exist",
                    )
                )
            status = task.get("status")
            if status not in self.workflow["statuses"]:
                problems.append(
                    Problem(
                        rel,
                        _key_line(self.layout.task(task_id), "status"),
                        f"unknown status {status!r}",
                    )
                )
        from agentctl.core.graph import find_cycles
        from agentctl.workspace.specs import spec_link_problems

        linked = {task_id: task for task_id, task in tasks.items() if task.get("spec")}
        if targets is not None:
            linked = {t: task for t, task in linked.items() if self.layout.task(t) in targets}
        if linked:
            problems.extend(spec_link_problems(self.layout, linked))

        self.warnings.extend(_foreign_states(self.layout, owners, states))
        for cycle in find_cycles(tasks):
            problems.append(
                Problem(
                    self.layout.relative(self.layout.task(cycle[0])),
                    None,
                    f"dependency cycle {' -> '.join(cycle)}",
                )
            )
        if targets is None:
            from agentctl.workspace import recovery

            problems.extend(self._symlink_problems())
            problems.extend(self._validate_events())
            problems.extend(self._validate_inbox())
            problems.extend(self._validate_working())
            integrity = recovery.check(self)
            problems.extend(integrity.problems)
            self.warnings.extend(str(w) for w in integrity.warnings)
        self.refresh(force=True, full=targets is None)  # a whole validate sees every file
        return problems

    def doctor(self, dry_run: bool = False) -> dict[str, Any]:
        """Finish interrupted changes and repair what ``validate`` reports about git and the
        event log (see workspace/recovery.py)."""
        from agentctl.workspace import recovery

        report = recovery.doctor(self, dry_run)
        if self.repo is not None:
            from agentctl import vcs_merge

            # .git/config is not cloned: without the drivers git merges records as text.
            for driver, state in vcs_merge.driver_status(self.repo.root).items():
                if state != "ok":
                    self.warnings.append(
                        f"merge driver {driver} is {state} in this clone's .git/config "
                        "(git merges those files as text): run 'agentctl hooks install'"
                    )
            for driver, value in vcs_merge.attributes_status(self.root).items():
                if value != driver:
                    self.warnings.append(
                        f".gitattributes does not name the merge driver {driver} (merge={value}): "
                        "run 'agentctl init' to add its lines"
                    )
        return report

    def _symlink_problems(self) -> list[Problem]:
        """Every symlink under .agentctl/ (but the machine-local local/), and WORKING.md if it
        is one: none is ever followed, each is a problem."""
        from agentctl.store.reading import SYMLINK_PROBLEM, is_symlink

        found: list[Problem] = []
        pending = [self.layout.dir]
        while pending:
            directory = pending.pop()
            try:
                entries = sorted(os.scandir(directory), key=lambda e: e.name)
            except (FileNotFoundError, NotADirectoryError):
                continue
            for entry in entries:
                path = Path(entry.path)
                if entry.is_symlink():
                    found.append(Problem(self.layout.relative(path), None, SYMLINK_PROBLEM))
                elif entry.is_dir(follow_symlinks=False) and path != self.layout.local:
                    pending.append(path)
        if is_symlink(self.layout.working):
            found.append(Problem(self.layout.relative(self.layout.working), None, SYMLINK_PROBLEM))
        return sorted(found, key=lambda p: p.path)

    def _validate_events(self) -> list[Problem]:
        from pydantic import ValidationError as PydanticError

        from agentctl.core.models import Event
        from agentctl.store import events as eventlog
        from agentctl.store.frontmatter import check_conflict_markers

        problems = []
        for path in eventlog.day_files(self.layout.events):
            rel = self.layout.relative(path)
            if path.is_symlink():  # reported by _symlink_problems
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            try:
                check_conflict_markers(text, rel)
            except ValidationError as exc:
                problems.append(Problem(rel, exc.line, exc.problem))
                continue
            for number, event in eventlog.parse_lines(text):
                if event is None:
                    problems.append(
                        Problem(rel, number, "not a JSON event (a torn or hand-edited line)")
                    )
                    continue
                try:
                    Event.model_validate(event)
                except PydanticError as exc:
                    error = exc.errors()[0]
                    where = ".".join(str(p) for p in error["loc"]) or "event"
                    problems.append(Problem(rel, number, f"{where}: {error['msg']}"))
        return problems

    def _validate_inbox(self) -> list[Problem]:
        """Read-state logs: one JSON object per line with ts and delivered/read ID lists
        (models.InboxEntry; the readers skip what this reports)."""
        from pydantic import ValidationError as PydanticError

        from agentctl.core.checks import INBOX_LINE
        from agentctl.core.models import InboxEntry
        from agentctl.store import events as eventlog

        problems = []
        directory = self.layout.inbox
        for path in (
            sorted(directory.glob("*.jsonl"))
            if directory.is_dir() and not directory.is_symlink()
            else []
        ):
            rel = self.layout.relative(path)
            if path.is_symlink():  # reported by _symlink_problems
                continue
            if not NAME_RE.match(path.name.removesuffix(".jsonl")):
                problems.append(Problem(rel, None, "the file name must be an agent name"))
                continue
            for number, entry in eventlog.parse_lines(
                path.read_text(encoding="utf-8", errors="replace")
            ):
                if entry is None or not ("delivered" in entry or "read" in entry):
                    problems.append(Problem(rel, number, INBOX_LINE))
                    continue
                try:
                    InboxEntry.model_validate(entry)
                except PydanticError as exc:
                    error = exc.errors()[0]
                    where = ".".join(str(p) for p in error["loc"]) or "entry"
                    problems.append(Problem(rel, number, f"{where}: {error['msg']}"))
        return problems

    def _validate_working(self) -> list[Problem]:
        from agentctl.store.frontmatter import check_conflict_markers

        path = self.layout.working
        if not path.exists() or path.is_symlink():
            return []
        try:
            check_conflict_markers(path.read_text(encoding="utf-8"), self.layout.relative(path))
        except ValidationError as exc:
            return [
                Problem(
                    self.layout.relative(path),
                    exc.line,
                    exc.problem + " (run 'agentctl working' to re-render)",
                )
            ]
        return []


def _foreign_states(
    layout: paths.Layout,
    owners: dict[str, dict[str, Any]],
    states: dict[str, tuple[Path, dict[str, Any]]],
) -> list[str]:
    """Warnings for agent states last written by a machine other than the agent's host:
    runtime state is written only where the agent runs (docs/teams.md)."""
    from agentctl.core.ownership import foreign_state_writer

    found = []
    for name, (path, state) in sorted(states.items()):
        agent = owners.get(name)
        writer = foreign_state_writer(agent, state) if agent is not None else None
        if agent is None or writer is None:
            continue
        message = (
            f"written by host {writer}, but {name} runs on host {agent['host']}: its state is "
            f"written only there (tick it there, or 'agentctl agent move {name} --host {writer}')"
        )
        found.append(str(Problem(layout.relative(path), _key_line(path, "host"), message)))
    return found


def _key_line(path: Path, key: str) -> int | None:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    pattern = re.compile(rf"^{re.escape(key)}\s*:")
    for number, line in enumerate(lines, start=1):
        if pattern.match(line):
            return number
    return None


def _check_record(
    path: Path, rel: str, kind: str, problems: list[Problem]
) -> dict[str, Any] | None:
    """Full schema check of one record file; appends problems, returns its data if valid."""
    from pydantic import ValidationError as PydanticError

    from agentctl.core import models
    from agentctl.store import frontmatter
    from agentctl.store.index import plain_value
    from agentctl.store.reading import read_record

    try:
        text = read_record(path, rel)
        stem = path.name.removesuffix(".state.yaml").removesuffix(".md")
        if kind == "state":
            loaded = frontmatter.load_yaml_fast(text, rel)
            data = plain_value(loaded if loaded is not None else {})
            if not isinstance(data, dict):
                raise ValidationError("agent state must be a YAML mapping", rel, 1)
            models.AgentState.model_validate(data)
            return data
        fields, _ = frontmatter.load_fast(text, rel)
        data = plain_value(fields)
        record_models: dict[str, type[models.Record]] = {
            "task": models.Task, "agent": models.Agent, "doc": models.Document, "message": models.Message,
            "spec": models.Spec,
        }  # fmt: skip
        model = record_models[kind]
        key = "name" if kind == "agent" else "id"
        model.model_validate(data)
        if kind == "message":
            if data["task"] != path.parent.name:
                problems.append(
                    Problem(
                        rel,
                        _key_line(path, "task"),
                        f"task {data['task']!r} does not match the thread directory {path.parent.name!r}",
                    )
                )
                return None
            stem = stem.split("-", 1)[1] if "-" in stem else stem
        if data[key] != stem:
            problems.append(
                Problem(
                    rel,
                    _key_line(path, key),
                    f"{key} {data[key]!r} does not match the file name {stem!r}",
                )
            )
            return None
        return dict(data)
    except UnicodeDecodeError:
        problems.append(Problem(rel, None, "not valid UTF-8"))
    except ValidationError as exc:
        problems.append(Problem(exc.path or rel, exc.line, exc.problem))
    except PydanticError as exc:
        for error in exc.errors()[:3]:
            loc = [str(p) for p in error["loc"]]
            line = _key_line(path, loc[0]) if loc else None
            message = error["msg"]
            if error["type"] == "extra_forbidden":
                message = "unknown field"
            problems.append(Problem(rel, line, f"{'.'.join(loc) or 'record'}: {message}"))
    return None
