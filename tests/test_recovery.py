"""Nothing is lost when a writer dies or git fails: the write-ahead journal, recovery by the
next command, ``validate``'s git checks and ``agentctl doctor``.

Crash points inside git are reached with a ``git`` shim placed first on PATH: it runs the real
git, then kills its parent (the agentctl process) right after a chosen subcommand, or fails
that subcommand the way a read-only object store would.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from helpers_proc import (
    event_lines,
    git,
    head_count,
    isolate,
    new_workspace,
    run_cli,
    run_json,
    task_files,
    tasks_created_by_events,
)

REAL_GIT = shutil.which("git") or "/usr/bin/git"

SHIM = """#!/bin/sh
if [ -n "$SHIM_FAIL_ON" ]; then
  for a in "$@"; do
    if [ "$a" = "$SHIM_FAIL_ON" ]; then
      echo "error: insufficient permission for adding an object to repository database .git/objects" >&2
      exit 128
    fi
  done
fi
if [ -n "$SHIM_DIE_IN" ]; then
  for a in "$@"; do
    if [ "$a" = "$SHIM_DIE_IN" ]; then
      : > .git/refs/heads/main.lock   # what a git update-ref killed mid-way leaves
      kill -9 $PPID; kill -9 $$
    fi
  done
fi
"$REAL_GIT" "$@"
rc=$?
if [ -n "$SHIM_KILL_AFTER" ]; then
  for a in "$@"; do
    if [ "$a" = "$SHIM_KILL_AFTER" ]; then kill -9 $PPID; sleep 5; fi
  done
fi
exit $rc
"""


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate(monkeypatch, tmp_path / "home")


@pytest.fixture
def shim(tmp_path: Path) -> dict[str, str]:
    """Environment that puts the git shim first on PATH (armed by SHIM_* variables)."""
    bin_dir = tmp_path / "shim-bin"
    bin_dir.mkdir()
    script = bin_dir / "git"
    script.write_text(SHIM, encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "REAL_GIT": REAL_GIT}


def _status(root: Path) -> str:
    return git(root, "status", "--porcelain", "--untracked-files=all")


def _agentctl_status(root: Path) -> list[str]:
    return [
        line for line in _status(root).splitlines() if ".agentctl/" in line or "WORKING.md" in line
    ]


def _assert_consistent(root: Path) -> None:
    """git status clean of agentctl paths; every task has its event and vice versa; every
    task is in HEAD and in the index."""
    assert _agentctl_status(root) == [], _status(root)
    assert task_files(root) == tasks_created_by_events(root)
    tracked = git(root, "ls-files", ".agentctl/tasks").split()
    in_head = git(root, "ls-tree", "-r", "--name-only", "HEAD", ".agentctl/tasks").split()
    expected = sorted(f".agentctl/tasks/{t}.md" for t in task_files(root))
    assert sorted(tracked) == expected
    assert sorted(in_head) == expected


# -- killed inside the commit ----------------------------------------------------------------


def test_killed_after_moving_head_before_syncing_the_index_is_repaired_by_the_next_command(
    tmp_path: Path, shim: dict[str, str]
) -> None:
    root = new_workspace(tmp_path / "repo")
    (root / "user.txt").write_text("mine\n", encoding="utf-8")
    git(root, "add", "user.txt")  # the user's own staged work
    killed = run_cli(
        root, "task", "add", "first", env={**shim, "SHIM_KILL_AFTER": "update-ref"}, check=False
    )
    assert killed.returncode == -9
    # What the kill left: HEAD has the task, the real index does not (staged deletions).
    assert "D  .agentctl/tasks/" in _status(root)
    assert (root / ".git" / "index.lock").exists()  # ours, left by the killed process

    # No manual `rm .git/index.lock`: the lock names its dead holder and is cleared.
    run_cli(root, "task", "add", "next")
    _assert_consistent(root)
    assert "A  user.txt" in _status(root)  # the user's staged file is as it was
    assert git(root, "show", ":user.txt") == "mine\n"
    assert run_cli(root, "validate", check=False).returncode == 0
    assert (
        subprocess.run(
            [REAL_GIT, "fsck", "--no-progress"], cwd=root, capture_output=True
        ).returncode
        == 0
    )


def test_killed_inside_update_ref_leaves_no_lock_behind_for_the_next_command(
    tmp_path: Path, shim: dict[str, str]
) -> None:
    root = new_workspace(tmp_path / "repo")
    killed = run_cli(
        root, "task", "add", "first", env={**shim, "SHIM_DIE_IN": "update-ref"}, check=False
    )
    assert killed.returncode == -9
    assert (root / ".git" / "refs" / "heads" / "main.lock").exists()
    run_cli(root, "task", "add", "next")
    _assert_consistent(root)
    assert len(task_files(root)) == 2


def test_a_foreign_stale_ref_lock_is_named_and_the_change_kept(tmp_path: Path) -> None:
    root = new_workspace(tmp_path / "repo")
    lock = root / ".git" / "refs" / "heads" / "main.lock"
    lock.write_text("", encoding="utf-8")  # a git process of the user's, killed
    failed = run_cli(root, "task", "add", "kept", check=False)
    assert failed.returncode == 9
    assert f"git ref lock {lock} exists: HEAD cannot move" in failed.stderr
    assert "HEAD kept moving" not in failed.stderr
    assert "saved on disk but not committed yet" in failed.stderr
    lock.unlink()
    run_cli(root, "task", "add", "next")
    _assert_consistent(root)
    assert len(task_files(root)) == 2


def test_validate_reports_the_desync_and_doctor_repairs_it(
    tmp_path: Path, shim: dict[str, str]
) -> None:
    root = new_workspace(tmp_path / "repo")
    run_cli(
        root, "task", "add", "first", env={**shim, "SHIM_KILL_AFTER": "update-ref"}, check=False
    )

    report = run_cli(root, "validate", check=False)
    assert report.returncode == 6
    assert "an interrupted change is not finished (task.created t-" in report.stdout
    assert "the git index is out of step with HEAD" in report.stdout

    dry = run_cli(root, "doctor", "--dry-run", check=False)
    assert dry.returncode == 6 and "interrupted change" in dry.stdout
    assert "D  .agentctl/tasks/" in _status(root)  # a dry run repairs nothing

    fixed = run_cli(root, "doctor")
    assert "completed an interrupted change: task.created t-" in fixed.stdout
    _assert_consistent(root)
    assert run_cli(root, "validate", check=False).returncode == 0
    assert run_cli(root, "doctor").stdout.strip() == ""  # nothing left: the notice is on stderr


def test_a_desynced_index_without_a_journal_is_found_and_repaired(tmp_path: Path) -> None:
    """The index can get out of step with HEAD without a crash of ours (e.g. `git rm --cached`):
    validate names the file and doctor puts the index entry back."""
    root = new_workspace(tmp_path / "repo")
    task = run_json(root, "task", "add", "kept")["task"]["id"]
    rel = f".agentctl/tasks/{task}.md"
    git(root, "rm", "-q", "--cached", rel)
    result = run_cli(root, "validate", check=False)
    assert (
        result.returncode == 6 and f"{rel}: the git index is out of step with HEAD" in result.stdout
    )
    fixed = run_cli(root, "doctor")
    assert f"put the git index back in step for: {rel}" in fixed.stdout
    _assert_consistent(root)


@pytest.mark.parametrize("point", ["hash-object", "cat-file", "mktree", "commit-tree"])
def test_killed_after_writing_records_before_committing_them(
    tmp_path: Path, shim: dict[str, str], point: str
) -> None:
    root = new_workspace(tmp_path / "repo")
    before = head_count(root)
    killed = run_cli(
        root, "task", "add", "orphan", env={**shim, "SHIM_KILL_AFTER": point}, check=False
    )
    assert killed.returncode == -9
    orphan = task_files(root)
    assert len(orphan) == 1 and head_count(root) == before

    nxt = run_json(root, "task", "add", "next")["task"]["id"]
    _assert_consistent(root)
    (task_id,) = orphan
    # The orphan is committed with its own event, in a commit of its own, before the next one.
    subjects = git(root, "log", "--format=%s", "-3").splitlines()
    assert subjects[0].startswith(f"agentctl: created {nxt}")
    assert subjects[1].startswith(f"agentctl: created {task_id}")
    body = git(root, "log", "-1", "--format=%b", "HEAD~1")
    assert "Recovered: completed after its writer stopped" in body


def test_a_clone_never_sees_an_event_without_its_record(
    tmp_path: Path, shim: dict[str, str]
) -> None:
    root = new_workspace(tmp_path / "repo")
    run_cli(root, "task", "add", "orphan", env={**shim, "SHIM_KILL_AFTER": "mktree"}, check=False)
    run_cli(root, "task", "add", "next")
    clone = tmp_path / "clone"
    subprocess.run([REAL_GIT, "clone", "-q", str(root), str(clone)], check=True)
    assert task_files(clone) == tasks_created_by_events(clone)
    assert len(task_files(clone)) == 2
    assert run_cli(clone, "validate", check=False).returncode == 0


def test_killed_between_the_record_and_its_event(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A task file with no event at all: the journal holds the event, the next command appends it."""
    from agentctl.core.rules import Actor
    from agentctl.store import events as eventlog
    from agentctl.workspace import Workspace

    root = new_workspace(tmp_path / "repo")

    class Killed(BaseException):
        pass

    def die(*args: object, **kwargs: object) -> None:
        raise Killed

    ws = Workspace(root)
    monkeypatch.setattr(eventlog, "append", die)
    with pytest.raises(Killed):
        ws.add_task(Actor("tester"), "no event yet")
    monkeypatch.undo()
    ws.close()
    (task_id,) = task_files(root)
    assert task_id not in tasks_created_by_events(root)
    # Another process leaves the entry of a live writer alone...
    run_cli(root, "task", "add", "elsewhere")
    assert task_id not in tasks_created_by_events(root)
    # ...and the writer's own next change (its failed entry is no longer active) finishes it.
    ws = Workspace(root)
    ws.add_task(Actor("tester"), "next")
    ws.close()
    _assert_consistent(root)


# -- git fails, or would go wrong --------------------------------------------------------------


def test_git_failing_after_the_files_are_written_is_committed_later(
    tmp_path: Path, shim: dict[str, str]
) -> None:
    root = new_workspace(tmp_path / "repo")
    failed = run_cli(
        root, "task", "add", "saved", env={**shim, "SHIM_FAIL_ON": "commit-tree"}, check=False
    )
    assert failed.returncode == 9
    err = failed.stderr.strip().splitlines()
    assert err[0] == (
        "agentctl: error: git commit-tree: error: insufficient permission for adding an object to repository "
        "database .git/objects; the change is saved on disk but not committed yet"
    )
    assert "Traceback" not in failed.stderr and "HEAD kept moving" not in failed.stderr
    assert "committed by the next agentctl command once git works again" in failed.stderr
    # git works again: the next command commits the saved change first.
    run_cli(root, "task", "list")  # reads never write
    assert len(_agentctl_status(root)) > 0
    run_cli(root, "note", "git is back")
    _assert_consistent(root)


def _assert_nothing_written(root: Path, before_events: int, before_tasks: set[str]) -> None:
    assert len(event_lines(root)) == before_events
    assert task_files(root) == before_tasks
    assert not any((root / ".agentctl" / "local" / "journal").glob("j-*.json"))


def test_corrupt_branch_ref_is_refused_before_writing(tmp_path: Path) -> None:
    root = new_workspace(tmp_path / "repo")
    events, tasks = len(event_lines(root)), task_files(root)
    (root / ".git" / "refs" / "heads" / "main").write_text("garbage\n", encoding="utf-8")
    result = run_cli(root, "task", "add", "x", check=False)
    assert result.returncode == 9, result.stderr
    assert result.stderr.startswith(
        "agentctl: error: cannot read HEAD"
    ) or result.stderr.startswith("agentctl: error: cannot read the branch"), result.stderr
    assert "HEAD kept moving" not in result.stderr
    _assert_nothing_written(root, events, tasks)


def test_git_missing_from_path_is_refused_before_writing(tmp_path: Path) -> None:
    root = new_workspace(tmp_path / "repo")
    events, tasks = len(event_lines(root)), task_files(root)
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    result = run_cli(root, "task", "add", "x", env={"PATH": str(empty)}, check=False)
    assert result.returncode == 9, result.stderr
    assert result.stderr.startswith(
        "agentctl: error: git is not on PATH, but this workspace is in a git repository"
    )
    assert "crontab" in result.stderr
    _assert_nothing_written(root, events, tasks)
    # Reads still work without git.
    assert run_cli(root, "task", "list", env={"PATH": str(empty)}).returncode == 0


def test_detached_head_is_refused_before_writing(tmp_path: Path) -> None:
    root = new_workspace(tmp_path / "repo")
    run_cli(root, "task", "add", "one")
    git(root, "checkout", "-q", "--detach")
    events, tasks = len(event_lines(root)), task_files(root)
    result = run_cli(root, "task", "add", "x", check=False)
    assert result.returncode == 9
    assert "HEAD is detached at " in result.stderr and "git switch" in result.stderr
    _assert_nothing_written(root, events, tasks)


@pytest.mark.parametrize(
    ("marker", "what"),
    [
        ("MERGE_HEAD", "a merge"),
        ("rebase-merge", "a rebase"),
        ("CHERRY_PICK_HEAD", "a cherry-pick"),
    ],
)
def test_unfinished_merge_or_rebase_is_refused_before_writing(
    tmp_path: Path, marker: str, what: str
) -> None:
    root = new_workspace(tmp_path / "repo")
    head = git(root, "rev-parse", "HEAD").strip()
    target = root / ".git" / marker
    if marker == "rebase-merge":
        target.mkdir()
    else:
        target.write_text(head + "\n", encoding="utf-8")
    events, tasks = len(event_lines(root)), task_files(root)
    result = run_cli(root, "task", "add", "x", check=False)
    assert result.returncode == 9
    assert result.stderr.startswith(f"agentctl: error: {what} is in progress in ")
    _assert_nothing_written(root, events, tasks)


def test_a_real_unfinished_merge_is_refused(tmp_path: Path) -> None:
    root = new_workspace(tmp_path / "repo")
    (root / "code.txt").write_text("base\n", encoding="utf-8")
    git(root, "add", "code.txt")
    git(root, "commit", "-q", "-m", "base")
    git(root, "checkout", "-q", "-b", "other")
    (root / "code.txt").write_text("other\n", encoding="utf-8")
    git(root, "commit", "-q", "-am", "other")
    git(root, "checkout", "-q", "main")
    (root / "code.txt").write_text("main\n", encoding="utf-8")
    git(root, "commit", "-q", "-am", "main")
    subprocess.run([REAL_GIT, "merge", "-q", "other"], cwd=root, capture_output=True)
    assert (root / ".git" / "MERGE_HEAD").exists()
    result = run_cli(root, "task", "add", "x", check=False)
    assert result.returncode == 9 and "a merge is in progress" in result.stderr
    assert "git merge --abort" in result.stderr


def test_heartbeat_is_skipped_with_the_reason(tmp_path: Path) -> None:
    root = new_workspace(tmp_path / "repo")
    run_cli(root, "agent", "add", "nova", "--role", "developer")
    git(root, "checkout", "-q", "--detach")
    result = run_cli(root, "--json", "heartbeat", "nova", check=False)
    assert result.returncode == 0, result.stderr
    run = json.loads(result.stdout)
    runs = run.get("runs", [run])
    assert runs[0]["outcome"] == "skipped"
    assert "HEAD is detached" in runs[0]["reason"]


# -- full disk, read-only directories ----------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (errno.ENOSPC, "the disk is full"),
        (errno.EROFS, "read-only"),
        (errno.EACCES, "permission denied"),
    ],
)
def test_full_disk_and_read_only_get_a_documented_exit_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int, words: str
) -> None:
    from agentctl.cli.app import app
    from agentctl.cli.boundary import run
    from agentctl.store import atomic

    root = new_workspace(tmp_path / "repo", git_repo=False)
    real = atomic._write_temp
    calls = {"n": 0}

    def failing(path: Path, data: bytes) -> Path:
        calls["n"] += 1
        if calls["n"] == 2:  # after the journal entry: inside the change itself
            raise OSError(code, os.strerror(code), str(path))
        return real(path, data)

    monkeypatch.setattr(atomic, "_write_temp", failing)
    monkeypatch.chdir(root)
    import io
    import sys

    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    assert run(app, ["task", "add", "x"]) == 12
    message = err.getvalue()
    assert message.count("\n") <= 2 and words in message and "Traceback" not in message
    monkeypatch.undo()
    # Space is back: the next command completes or cleans up, and everything is consistent.
    run_cli(root, "task", "add", "y")
    assert task_files(root) == tasks_created_by_events(root)
    assert run_cli(root, "validate", check=False).returncode == 0


# -- an event batch (roadmap import) is one change: all of it or, after recovery, all of it ------

ROADMAP = """# Launch plan

## 1. Backend
- [ ] Design the schema
- [ ] Build the API
  Depends on: 1. Backend

## 2. Frontend
Dependencies: 1
- [ ] Board view
- [ ] Settings page
"""


@pytest.mark.parametrize("point", ["mktree", "commit-tree"])
def test_an_import_killed_inside_its_commit_is_completed_whole(
    tmp_path: Path, shim: dict[str, str], point: str
) -> None:
    root = new_workspace(tmp_path / "repo")
    roadmap = tmp_path / "plan.md"
    roadmap.write_text(ROADMAP, encoding="utf-8")
    before = head_count(root)
    killed = run_cli(
        root, "import", "roadmap", str(roadmap), env={**shim, "SHIM_KILL_AFTER": point}, check=False
    )
    assert killed.returncode == -9
    written = task_files(root)
    assert (
        len(written) == 7 and head_count(root) == before
    )  # every record on disk (the title, 2 sections, 4 items), none committed

    run_cli(root, "task", "add", "next")
    _assert_consistent(root)
    # The whole import is one commit, completed by the next command before its own.
    subjects = git(root, "log", "--format=%s", "-3").splitlines()
    assert subjects[0].startswith("agentctl: created")
    assert "roadmap" in subjects[1], subjects
    assert head_count(root) == before + 2
    # Re-importing the same file changes nothing: the recovered tasks carry their source keys.
    again = run_json(root, "import", "roadmap", str(roadmap))
    assert head_count(root) == before + 2, again


def test_an_event_batch_killed_before_its_events_are_written_gets_them_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agentctl.core.rules import Actor
    from agentctl.store import events as eventlog
    from agentctl.workspace import Workspace

    root = new_workspace(tmp_path / "repo")

    class Killed(BaseException):
        pass

    def die(*args: object, **kwargs: object) -> None:
        raise Killed

    ws = Workspace(root)
    monkeypatch.setattr(eventlog, "append_many", die)
    with pytest.raises(Killed):
        ws.import_roadmap(Actor("tester"), ROADMAP, "plan.md")
    monkeypatch.undo()
    ws.close()
    assert len(task_files(root)) == 7 and tasks_created_by_events(root) == set()
    ws = Workspace(root)
    ws.add_task(Actor("tester"), "next")
    ws.close()
    _assert_consistent(root)


# -- a bulk create (an import) killed while creating its files --------------------------------

_DIE_AT = """
import os, signal, sys
from agentctl.store import atomic
from agentctl.cli.app import main

point, wanted = sys.argv[1], int(sys.argv[2])
calls = [0]
real = atomic._write_new if point == "write" else os.link


def dying(*args, **kwargs):
    calls[0] += 1
    if calls[0] == wanted:
        if point == "write":  # killed halfway through writing the file's bytes
            path, data = args
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            os.write(fd, data[: len(data) // 2])
        os.kill(os.getpid(), signal.SIGKILL)
    return real(*args, **kwargs)


if point == "write":
    atomic._write_new = dying
else:
    os.link = dying
sys.argv = ["agentctl", *sys.argv[3:]]
main()
"""


def _taskwarrior_export(count: int) -> str:
    tasks = [
        {
            "uuid": f"00000000-0000-4000-8000-{n:012d}",
            "description": f"Imported task {n}",
            "status": "pending",
            "entry": "20261201T100000Z",
            **(
                {"annotations": [{"entry": "20261202T110000Z", "description": f"note {n}"}]}
                if n % 4 == 0
                else {}
            ),
        }  # fmt: skip
        for n in range(count)
    ]
    return json.dumps(tasks)


@pytest.mark.parametrize(("point", "at"), [("write", 1), ("write", 23), ("link", 1), ("link", 23)])
def test_an_import_killed_while_creating_its_files_leaves_no_half_file_and_is_completed(
    tmp_path: Path, point: str, at: int
) -> None:
    """The bulk create (atomic.create_many) killed halfway through writing a file, or while
    linking the files into place: no reader ever sees a torn record (every file under its own
    name is complete; the torn one is a hidden temp file), and the next command completes the
    import from the journal, whole."""
    import sys

    from agentctl.store.frontmatter import load_fast

    root = new_workspace(tmp_path / "repo")
    export = tmp_path / "export.json"
    export.write_text(_taskwarrior_export(40), encoding="utf-8")  # 40 tasks and 10 messages
    before = head_count(root)
    killed = subprocess.run(
        [sys.executable, "-c", _DIE_AT, point, str(at), "-W", str(root),
         "import", "taskwarrior", str(export)],
        cwd=root, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert killed.returncode == -9, killed.stderr
    written = task_files(root)
    # Killed while writing temp files: nothing is linked yet; while linking: some are.
    assert (written == set()) if point == "write" else (len(written) == at - 1)
    for path in (root / ".agentctl").rglob("*.md"):
        if not path.name.startswith("."):  # temp files are hidden; readers skip them
            fields, _ = load_fast(path.read_text(encoding="utf-8"), str(path))
            assert fields["id"]
    assert head_count(root) == before
    result = run_cli(root, "validate", check=False)
    assert "an interrupted change is not finished" in result.stdout, result.stdout

    run_cli(root, "task", "add", "next")
    _assert_consistent(root)
    assert len(task_files(root)) == 41
    assert len(list((root / ".agentctl" / "threads").rglob("*.md"))) == 10
    assert list((root / ".agentctl").rglob("*.agentctl-tmp")) == []
    assert head_count(root) == before + 2  # the import (completed), then the new task
    assert run_cli(root, "validate", check=False).returncode == 0
    # Re-importing changes nothing: the completed tasks carry their source keys.
    again = run_json(root, "import", "taskwarrior", str(export))
    assert head_count(root) == before + 2, again
