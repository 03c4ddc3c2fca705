"""Crash recovery and integrity: finishing interrupted changes, ``validate``'s git and event
checks, and ``agentctl doctor``.

Every mutation journals itself before it writes (store/journal.py). The next mutation, under
the workspace lock, finishes what a killed or failed writer left: it redoes the entry's
writes and event, commits its paths, and puts the real git index entries of those paths back
in step with HEAD (a writer killed between moving HEAD and updating the index leaves them
looking like staged deletions). ``doctor`` does the same on demand, plus what no journal
covers: agentctl files left uncommitted or out of step with the git index, and records and
events that do not match.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

from agentctl.core.rules import Actor
from agentctl.store.index import Problem

if TYPE_CHECKING:
    from agentctl.core import events as ev
    from agentctl.workspace.base import WorkspaceBase

DOCTOR = Actor("agentctl")
# (kind, directory attribute of the layout, creating event, removing event)
_RECORD_KINDS = (
    ("task", "tasks", "task.created", "task.removed"),
    ("agent", "agents", "agent.added", "agent.removed"),
    ("doc", "docs", "doc.added", "doc.removed"),
    ("spec", "specs", "spec.created", "spec.removed"),
)
_ADOPTED: Final = "record.adopted"  # doctor: a record that no event ever created
_LOST: Final = "record.lost"  # doctor: an event's record that exists nowhere, not even in HEAD


def recover(ws: WorkspaceBase) -> list[dict[str, Any]]:
    """Finish every interrupted change whose writer is gone; the caller holds the lock.

    Returns one report per change. Raises GitError if the commit fails (nothing is lost:
    the entries stay and the next command tries again).
    """
    from agentctl.store import journal

    entries = journal.pending(ws.layout.journal)
    if not entries:
        return []
    reports: list[dict[str, Any]] = []
    commit_paths: list[str] = []
    for entry in entries:
        redo = journal.redo(entry, ws.root, ws.layout.inside)
        reports.append(
            {
                "change": entry.describe(),
                "event": entry.event["id"] if entry.event else None,
                "rewritten": redo.written,
                "event_appended": redo.event_appended,
                "kept_newer": redo.skipped,
            }
        )
        commit_paths.extend(entry.paths)
    # Temp files the killed writer left next to the files it was replacing.
    from agentctl.store import atomic

    targets = {ws.root / rel for rel in commit_paths} | {ws.layout.working}
    atomic.sweep_temp_of(sorted(targets))
    ws.refresh(force=True)
    ws.write_working()
    repo = ws.repo if ws.config["git"]["autocommit"] else None
    if repo is not None:
        paths = [ws.root / rel for rel in dict.fromkeys(commit_paths)]
        paths.append(ws.layout.working)
        with_commit = [e for e in entries if e.commit is not None]
        if len(with_commit) == 1 and len(entries) == 1:
            spec = with_commit[0].commit or {}
            message = f"{spec['message'].rstrip()}\nRecovered: completed after its writer stopped\n"
            author, email = spec.get("author_name"), spec.get("author_email")
        else:
            body = "\n".join(f"- {e.describe()}" for e in entries)
            message = f"agentctl: complete {len(entries)} interrupted changes\n\n{body}\n\nActor: agentctl\n"
            author = email = None
        repo.commit_paths(paths, message, author, email)
        repo.reset_index(paths)
    for entry in entries:
        journal.finish(entry)
        ws.warnings.append(f"completed an interrupted change: {entry.describe()}")
    return reports


@dataclass
class Integrity:
    """What ``validate`` reports beyond the records' own schema."""

    problems: list[Problem] = field(default_factory=list)  # fail validate; doctor repairs
    warnings: list[Problem] = field(default_factory=list)  # reported; doctor repairs
    untracked: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    desynced: list[str] = field(default_factory=list)
    orphan_records: list[tuple[str, str, Path]] = field(default_factory=list)  # kind, id, path
    orphan_events: list[tuple[str, str, Path]] = field(default_factory=list)


def check(ws: WorkspaceBase) -> Integrity:
    """Interrupted changes, agentctl files git does not have (or has out of step), and
    records without events / events without records."""
    from agentctl.store import journal

    found = Integrity()
    for entry in journal.pending(ws.layout.journal):
        rel = (
            ws.layout.relative(entry.file) if entry.file else ws.layout.relative(ws.layout.journal)
        )
        found.problems.append(
            Problem(
                rel,
                None,
                f"an interrupted change is not finished ({entry.describe()}): run 'agentctl doctor'",
            )
        )
    _check_git(ws, found)
    _check_events(ws, found)
    return found


def _check_git(ws: WorkspaceBase, found: Integrity) -> None:
    if not ws.config["git"]["autocommit"] or ws.repo is None:
        return
    targets = [p for p in (ws.layout.dir, ws.layout.working) if p.exists()]
    if not targets:
        return
    drift = ws.repo.drift(targets)
    for path in drift["desynced"]:
        found.desynced.append(path)
        found.problems.append(Problem(path, None, "the git index is out of step with HEAD for this file (a writer "
                                      "was stopped mid-commit; a plain `git commit` would undo it): run 'agentctl doctor'"))  # fmt: skip
    for path in drift["untracked"]:
        found.untracked.append(path)
        found.warnings.append(
            Problem(path, None, "never committed (auto-commit is on): 'agentctl doctor' commits it")
        )
    for path in drift["changed"]:
        found.changed.append(path)
        found.warnings.append(
            Problem(
                path,
                None,
                "changed but not committed (auto-commit is on): 'agentctl doctor' commits it",
            )
        )


def _check_events(ws: WorkspaceBase, found: Integrity) -> None:
    from agentctl.store import events as eventlog

    alive: dict[tuple[str, str], bool] = {}
    for path in eventlog.day_files(ws.layout.events):
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        ordered = sorted(
            (e for _, e in eventlog.parse_lines(text) if e is not None),
            key=lambda e: (str(e.get("ts")), str(e.get("id"))),
        )
        for event in ordered:
            kind = event.get("type")
            subject = event.get("subject")
            if not isinstance(subject, str):
                continue
            raw = event.get("data")
            data: dict[str, Any] = raw if isinstance(raw, dict) else {}
            for record_kind, _, created, removed in _RECORD_KINDS:
                if kind == created or (kind == _ADOPTED and data.get("kind") == record_kind):
                    alive[(record_kind, subject)] = True
                elif kind == removed or (kind == _LOST and data.get("kind") == record_kind):
                    alive[(record_kind, subject)] = False
    on_disk: dict[tuple[str, str], Path] = {}
    for record_kind, attr, _, _ in _RECORD_KINDS:
        directory: Path = getattr(ws.layout, attr)
        for path in sorted(directory.glob("*.md")) if directory.is_dir() else []:
            if not path.is_symlink():
                on_disk[(record_kind, path.name.removesuffix(".md"))] = path
    for key, path in sorted(on_disk.items()):
        if key not in alive:
            found.orphan_records.append((key[0], key[1], path))
            found.warnings.append(
                Problem(
                    ws.layout.relative(path),
                    None,
                    f"no event created this {key[0]} (hand-made, or its event was lost): 'agentctl doctor' records one",
                )
            )
    for (record_kind, record_id), exists in sorted(alive.items()):
        if exists and (record_kind, record_id) not in on_disk:
            attr = next(a for k, a, _, _ in _RECORD_KINDS if k == record_kind)
            path = getattr(ws.layout, attr) / f"{record_id}.md"
            found.orphan_events.append((record_kind, record_id, path))
            found.warnings.append(
                Problem(
                    ws.layout.relative(path),
                    None,
                    f"the event log created this {record_kind} but its file is missing: 'agentctl doctor' restores it from git or records the loss",
                )
            )


def doctor(ws: WorkspaceBase, dry_run: bool = False) -> dict[str, Any]:
    """Repair what :func:`check` finds. Returns what was found and what was done."""
    from agentctl.store import atomic, locks

    report: dict[str, Any] = {
        "recovered": [],
        "committed": [],
        "index_repaired": [],
        "adopted": [],
        "restored": [],
        "lost": [],
    }
    with locks.hold(ws.layout.lock, float(ws.config["lock"]["timeout"])):
        ws.check_git_preconditions()
        ws.refresh(force=True)
        if dry_run:
            found = check(ws)
            report["problems"] = [str(p) for p in found.problems + found.warnings]
            return report
        atomic.sweep_temp([ws.layout.dir])
        atomic.sweep_temp_of([ws.layout.working, ws.root / ".gitattributes"])
        report["recovered"] = recover(ws)
        found = check(ws)
        repo = ws.repo if ws.config["git"]["autocommit"] else None
        if repo is not None and found.desynced:
            repo.reset_index([ws.root / p for p in found.desynced])
            report["index_repaired"] = found.desynced
        for _kind, _id, path in found.orphan_events:
            text = repo.show_file("HEAD", path) if repo is not None and repo.head() else None
            if text is not None:
                atomic.write_text(ws.layout.inside(path), text)
                report["restored"].append(ws.layout.relative(path))
            else:
                report["lost"].append(ws.layout.relative(path))
        ws.refresh(force=True)
    # Events for adopted and lost records go through the one mutation path (each is a commit
    # of its own event; the restored and uncommitted files are committed with the first).
    leftovers = [ws.root / p for p in (*found.untracked, *found.changed, *report["restored"])]
    for record_kind, record_id, path in found.orphan_records:
        _record(
            ws,
            _ADOPTED,
            record_id,
            {"kind": record_kind, "path": ws.layout.relative(path)},
            leftovers,
        )
        leftovers = []
        report["adopted"].append(ws.layout.relative(path))
    for rel in report["lost"]:
        record_kind, record_id = _kind_of(ws, rel)
        _record(ws, _LOST, record_id, {"kind": record_kind, "path": rel}, leftovers)
        leftovers = []
    if leftovers and repo is not None:
        with locks.hold(ws.layout.lock, float(ws.config["lock"]["timeout"])):
            sha = repo.commit_paths(
                leftovers,
                f"agentctl: doctor: commit {len(leftovers)} uncommitted file(s)\n\nActor: agentctl\n",
            )
            repo.reset_index(leftovers)
        if sha:
            report["committed"] = [ws.layout.relative(p) for p in leftovers]
    elif found.untracked or found.changed or report["restored"]:
        # committed above, with the first adopted/lost record's event
        report["committed"] = [*found.untracked, *found.changed, *report["restored"]]
    after = check(ws)
    report["problems"] = [str(p) for p in after.problems + after.warnings]
    return report


def _kind_of(ws: WorkspaceBase, rel: str) -> tuple[str, str]:
    path = ws.root / rel
    for record_kind, attr, _, _ in _RECORD_KINDS:
        if path.parent == getattr(ws.layout, attr):
            return record_kind, path.name.removesuffix(".md")
    return "record", path.name


def _record(
    ws: WorkspaceBase,
    type_: Literal["record.adopted", "record.lost"],
    subject: str,
    data: ev.RecordFound,
    extra: list[Path],
) -> None:
    with ws._mutate(DOCTOR) as m:
        m.also_commit.extend(extra)
        m.record(type_, subject, data)
