"""git merge drivers for agentctl's files, and their entries in ``.git/config``.

git calls a driver for each file whose ``.gitattributes`` line names it, with three temporary
files (base, ours, theirs) and the path; the driver writes the result over "ours" and exits 0
for a clean merge, non-zero for a conflict (git then reports the file as conflicted and keeps
what the driver wrote, markers included).

* ``agentctl-record`` (task and agent records): a field-level three-way merge of the
  frontmatter (core/fieldmerge.py) and git's own text merge (``git merge-file``) of the body.
  The same scalar field changed on both sides is left with conflict markers around that field.
* ``agentctl-working`` (WORKING.md): never a text merge. git merges in memory, so while the
  driver runs the work tree does not hold the merged records yet: the driver keeps one whole
  rendering (ours) with both sides' Notes lines, and the post-merge / post-rewrite hook (or
  the next agentctl command) re-renders it from the merged records.

A fresh clone has no ``.git/config`` entries: git then merges these files as plain text
(``doctor`` warns; ``agentctl init`` or ``agentctl hooks install`` configures them).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from agentctl.core.fieldmerge import FieldMerge, merge_fields, merge_set
from agentctl.errors import GitError, ValidationError
from agentctl.vcs import _base_env, _git_cmd

WORKING_DRIVER = "agentctl-working"
RECORD_DRIVER = "agentctl-record"
DRIVERS = {
    WORKING_DRIVER: ("working", "agentctl: WORKING.md keeps one rendering, never a text merge"),
    RECORD_DRIVER: ("record", "agentctl: field-level merge of task and agent records"),
}
RECORD_PATTERNS = (".agentctl/tasks/*.md", ".agentctl/agents/*.md")
MARKER_SIZE = 7
LABELS = ("ours", "base", "theirs")
# A task named in a commit message: T-4k7q, t-4k7q2m9x, "Refs t-...", "Closes T-..." (also
# Fixes/Resolves); four or more characters of the ID.
TASK_REF = re.compile(
    r"(?i)(?:\b(refs|closes|fixes|resolves)\b[:\s]+)?(?<![\w-])t-([0-9a-z]{4,})(?![\w-])"
)


# -- configuration ------------------------------------------------------------------------


def driver_command(kind: str, python: str | None = None) -> str:
    """The shell command git runs: this interpreter by absolute path (agentctl need not be
    on PATH at merge time), falling back to ``agentctl`` on PATH when that interpreter is
    gone (a moved or deleted virtualenv; ``doctor`` reports it as stale)."""
    interpreter = shlex.quote(python or sys.executable)
    args = f"merge-driver {kind} %O %A %B %P"
    return f"test -x {interpreter} && exec {interpreter} -m agentctl {args} || exec agentctl {args}"


def _git_config(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            _git_cmd(["config", *args]),
            cwd=root,
            env=_base_env(),
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError as exc:
        raise GitError(f"cannot run git in {root}: {exc}") from exc


def configure(root: Path) -> list[str]:
    """Write both drivers into the repository's own config (``--local``); returns the names
    whose entries changed. Idempotent."""
    changed = []
    for name, (kind, description) in DRIVERS.items():
        wanted = {"name": description, "driver": driver_command(kind)}
        for key, value in wanted.items():
            current = _git_config(root, "--local", "--get", f"merge.{name}.{key}")
            if current.returncode == 0 and current.stdout.rstrip("\n") == value:
                continue
            proc = _git_config(root, "--local", f"merge.{name}.{key}", value)
            if proc.returncode != 0:
                raise GitError(f"git config merge.{name}.{key}: {proc.stderr.strip()}")
            if name not in changed:
                changed.append(name)
    return changed


def unconfigure(root: Path) -> list[str]:
    """Remove both drivers' sections from the repository's config; returns those removed."""
    removed = []
    for name in DRIVERS:
        if _git_config(root, "--local", "--remove-section", f"merge.{name}").returncode == 0:
            removed.append(name)
    return removed


def driver_status(root: Path) -> dict[str, str]:
    """name -> "ok", "missing" (a fresh clone) or "stale" (configured for an interpreter
    that no longer exists, or by another agentctl command line)."""
    status = {}
    for name, (kind, _) in DRIVERS.items():
        proc = _git_config(root, "--get", f"merge.{name}.driver")
        if proc.returncode != 0:
            status[name] = "missing"
            continue
        value = proc.stdout.rstrip("\n")
        if value == driver_command(kind):
            status[name] = "ok"
            continue
        words = shlex.split(value.split("&&")[0]) if value.startswith("test -x ") else []
        usable = len(words) == 3 and os.access(words[2], os.X_OK)
        status[name] = "ok" if usable else "stale"
    return status


# -- git merge-file -----------------------------------------------------------------------


def merge_text(base: str, ours: str, theirs: str) -> tuple[str, bool]:
    """git's three-way text merge of three strings: (result, conflicted)."""
    with tempfile.TemporaryDirectory(prefix="agentctl-merge-") as tmp:
        files = []
        for label, text in zip(LABELS, (ours, base, theirs), strict=True):
            path = Path(tmp) / label
            path.write_text(text, encoding="utf-8")
            files.append(str(path))
        labels = [arg for label in LABELS for arg in ("-L", label)]
        try:
            proc = subprocess.run(
                _git_cmd(["merge-file", "-p", f"--marker-size={MARKER_SIZE}", *labels, *files]),
                env=_base_env(),
                capture_output=True,
                check=False,
            )
        except OSError as exc:
            raise GitError(f"cannot run git merge-file: {exc}") from exc
    if proc.returncode < 0 or proc.returncode > 127:
        raise GitError(f"git merge-file: {proc.stderr.decode('utf-8', 'replace').strip()}")
    return proc.stdout.decode("utf-8", "replace"), proc.returncode != 0


# -- the drivers ----------------------------------------------------------------------------


def _read(path: str) -> str:
    return Path(path).read_text(encoding="utf-8")


def _write(path: str, text: str) -> None:
    from agentctl.store import atomic

    atomic.write_text(Path(path), text)


def merge_record_files(base: str, ours: str, theirs: str, name: str) -> int:
    """The record driver: merge the three files, write the result over ``ours``; 0 when
    clean, 1 when a field or the body is left with conflict markers."""
    merged, conflicted = merge_record(_read(base), _read(ours), _read(theirs), name=name)
    _write(ours, merged)
    return 1 if conflicted else 0


def merge_record(base: str, ours: str, theirs: str, name: str = "record") -> tuple[str, bool]:
    """Three-way merge of one record's text: (result, conflicted). A side that is not a
    valid record (no frontmatter, bad YAML) is merged as plain text instead."""
    from agentctl.store.frontmatter import Document

    try:
        docs = [Document.parse(text, name) if text else None for text in (base, ours, theirs)]
    except ValidationError:
        return merge_text(base, ours, theirs)
    base_doc, our_doc, their_doc = docs
    if our_doc is None or their_doc is None:  # deleted on one side: git decides, as text
        return merge_text(base, ours, theirs)
    base_fields = base_doc.plain() if base_doc is not None else {}
    merge = merge_fields(base_fields, our_doc.plain(), their_doc.plain())
    for key in list(our_doc.plain()):
        if key not in merge.fields:
            our_doc.set(key, None)
    our_doc.update(merge.fields, order=list(merge.fields))
    body, body_conflict = merge_text(
        base_doc.body if base_doc is not None else "", our_doc.body, their_doc.body
    )
    our_doc.body = body
    text = our_doc.dumps()
    if merge.conflicts:
        text = _mark_fields(text, merge)
    return text, bool(merge.conflicts) or body_conflict


def _field_lines(lines: list[str], key: str) -> tuple[int, int] | None:
    """[start, end) of a top-level key's lines in the frontmatter (continuations included)."""
    for start, line in enumerate(lines):
        if line.startswith(f"{key}:"):
            end = start + 1
            while end < len(lines) and lines[end].startswith((" ", "- ")):
                end += 1
            return start, end
    return None


def _yaml_lines(key: str, value: Any) -> list[str]:
    from agentctl.store.frontmatter import Document

    if value is None:
        return []
    return Document.new({key: value}, "").dumps().splitlines()[1:-1]


def _mark_fields(text: str, merge: FieldMerge) -> str:
    """Put each conflicting field between conflict markers: ours above, theirs below."""
    lines = text.split("\n")
    close = lines.index("---", 1)
    head, rest = lines[1:close], lines[close:]
    for key in merge.conflicts:
        span = _field_lines(head, key)
        start, end = span if span is not None else (len(head), len(head))
        block = [
            "<" * MARKER_SIZE + f" {LABELS[0]}",
            *head[start:end],
            "=" * MARKER_SIZE,
            *_yaml_lines(key, merge.theirs[key]),
            ">" * MARKER_SIZE + f" {LABELS[2]}",
        ]
        head[start:end] = block
    return "\n".join(["---", *head, *rest])


def merge_working_files(base: str, ours: str, theirs: str) -> int:
    """The WORKING.md driver: ours' rendering with both sides' Notes lines; always clean."""
    _write(ours, merge_working(_read(base), _read(ours), _read(theirs)))
    return 0


def merge_working(base: str, ours: str, theirs: str) -> str:
    from agentctl.store.working import NOTES_END, NOTES_START, extract_notes

    notes = [extract_notes(text).splitlines() if text else [] for text in (base, ours, theirs)]
    merged = [line for line in merge_set(*notes) if line.strip()]
    if merged == [line for line in notes[1] if line.strip()]:
        return ours
    block = "\n".join(merged)
    start = ours.find(NOTES_START)
    end = ours.find(NOTES_END, start + len(NOTES_START)) if start >= 0 else -1
    if start < 0 or end < 0:
        return f"{ours.rstrip()}\n\n## Notes\n\n{NOTES_START}\n{block}\n{NOTES_END}\n"
    return f"{ours[: start + len(NOTES_START)]}\n{block}\n{ours[end:]}"


# -- what the hooks ask git -------------------------------------------------------------------


def _git(root: Path, *args: str, ok_codes: tuple[int, ...] = (0,)) -> str:
    try:
        proc = subprocess.run(
            _git_cmd(args), cwd=root, env=_base_env(), capture_output=True, check=False
        )
    except OSError as exc:
        raise GitError(f"cannot run git in {root}: {exc}") from exc
    if proc.returncode not in ok_codes:
        raise GitError(f"git {args[0]}: {proc.stderr.decode('utf-8', 'replace').strip()}")
    return os.fsdecode(proc.stdout)


def hooks_dir(root: Path) -> Path:
    """Where git looks for hooks (``core.hooksPath`` when set, else the git dir's hooks/)."""
    return (root / _git(root, "rev-parse", "--git-path", "hooks").strip()).resolve()


def config_value(root: Path, key: str) -> str | None:
    proc = _git_config(root, "--get", key)
    return proc.stdout.rstrip("\n") if proc.returncode == 0 else None


def on_branch(root: Path) -> bool:
    return bool(_git(root, "symbolic-ref", "-q", "HEAD", ok_codes=(0, 1)).strip())


def staged_files(root: Path, pathspecs: list[str]) -> list[str]:
    """Paths added, copied, modified or renamed in the index (relative to ``root``)."""
    out = _git(
        root, "diff", "--cached", "--name-only", "-z", "--diff-filter=ACMR", "--", *pathspecs
    )
    return [p for p in out.split("\0") if p]


def index_files(root: Path, pathspec: str) -> list[str]:
    return [p for p in _git(root, "ls-files", "-z", "--", pathspec).split("\0") if p]


def staged_text(root: Path, rel: str) -> str:
    return _git(root, "show", f":{rel}")


def head_commit(root: Path) -> tuple[str, str, list[str]]:
    """HEAD's hash, full message and changed paths."""
    sha, _, message = _git(root, "log", "-1", "--format=%H%n%B", "HEAD").partition("\n")
    files = _git(root, "diff-tree", "--root", "--no-commit-id", "--name-only", "-z", "-r", "HEAD")
    return sha.strip(), message.strip(), [p for p in files.split("\0") if p]


def hook_has_work(hook: str, args: list[str], workspace: Path) -> bool:
    """Whether a git hook has anything to do, answered without loading the workspace (most
    commits stage no agentctl file and mention no task: their hooks stay cheap)."""
    if hook == "pre-commit":
        return bool(staged_files(workspace, [".agentctl", "WORKING.md"]))
    if hook == "commit-msg":
        text = Path(args[0]).read_text(encoding="utf-8", errors="replace") if args else ""
        return any(match.group(1) for match in TASK_REF.finditer(text))
    if hook == "post-commit":
        return bool(TASK_REF.search(_git(workspace, "log", "-1", "--format=%B", "HEAD")))
    return True


def is_ancestor(root: Path, older: str, newer: str) -> bool:
    """Whether commit ``older`` is in ``newer``'s history (False for an unknown commit)."""
    proc = subprocess.run(
        _git_cmd(["merge-base", "--is-ancestor", older, newer]),
        cwd=root,
        env=_base_env(),
        capture_output=True,
        check=False,
    )
    return proc.returncode == 0


def attributes_status(workspace: Path) -> dict[str, str]:
    """driver name -> the merge attribute git gives a file it should handle ("agentctl-…"
    when ``.gitattributes`` names the driver; "unset"/"union"/… when an older ``init`` wrote
    it or the lines are missing)."""
    probes = {WORKING_DRIVER: "WORKING.md", RECORD_DRIVER: ".agentctl/tasks/t-probe.md"}
    out = _git(workspace, "check-attr", "-z", "merge", "--", *probes.values())
    fields = out.split("\0")
    values = {fields[i]: fields[i + 2] for i in range(0, len(fields) - 2, 3)}
    return {name: values.get(path, "unspecified") for name, path in probes.items()}
