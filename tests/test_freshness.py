"""Freshness without stat-ing every record file (issue 15): a big record directory whose
signature has not changed since its last scan is not scanned again, and yet every edit made
by agentctl, by git (pull, checkout, merge, rebase) and by editors that save through a rename
is seen at once; an edit made in place is seen within the rescan cadence.

The threshold below which a directory is always scanned is lowered to 0 here
(``AGENTCTL_INDEX_SCAN_BELOW``), so these small workspaces take the path a 100,000-task one
takes.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import Runner, add_task, git, run_cli

from agentctl.store import index_fresh
from agentctl.store.index import Index
from agentctl.workspace import Workspace


@pytest.fixture(autouse=True)
def skip_even_small_directories(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(index_fresh.SCAN_BELOW_ENV, "0")
    monkeypatch.setenv(index_fresh.RESCAN_ENV, "3600")
    monkeypatch.setenv(index_fresh.SLICE_ENV, "0")  # no rolling check unless a test says so


def scans(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the record directories every Index scans from now on."""
    seen: list[str] = []
    original = Index._scan_dir

    def counted(
        self: Index, directory: Path, signatures: bool = True
    ) -> dict[str, tuple[str, int]]:
        seen.append(directory.name)
        return original(self, directory, signatures)

    monkeypatch.setattr(Index, "_scan_dir", counted)
    return seen


def title_of(cli: Runner, task: str) -> str:
    r = cli("task", "show", task, "--json")
    assert r.code == 0, str(r)
    title: str = r.json()["task"]["title"]
    return title


def listed(cli: Runner) -> dict[str, dict[str, Any]]:
    r = cli("task", "list", "--all", "--json")
    assert r.code == 0, str(r)
    return {t["id"]: t for t in r.json()["tasks"]}


def rename_write(path: Path, text: str) -> None:
    """Save the way most editors and tools do: a new file renamed over the old one."""
    tmp = path.with_name("." + path.name + ".swp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


# -- the mechanism ---------------------------------------------------------------------


def test_an_unchanged_workspace_is_not_scanned_again(
    ws_root: Path, cli: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    task = add_task(cli, "Sort the seeds")
    seen = scans(monkeypatch)
    Workspace(ws_root).refresh()  # a new process: the directories are as last recorded
    assert seen == []
    # An edit through a rename changes the tasks directory: only that one is scanned.
    path = ws_root / ".agentctl" / "tasks" / f"{task}.md"
    rename_write(path, path.read_text(encoding="utf-8").replace("Sort the seeds", "Sow them"))
    ws = Workspace(ws_root)
    ws.refresh()
    assert seen == ["tasks"]
    assert ws.index.task(task)["title"] == "Sow them"  # type: ignore[index]
    seen.clear()
    Workspace(ws_root).refresh()
    assert seen == []


def test_agentctl_writes_record_what_they_changed(
    ws_root: Path, cli: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_task(cli, "First")
    seen = scans(monkeypatch)
    task = add_task(cli, "Second")  # its own refresh under the lock: nothing to scan
    assert cli("task", "move", task, "in_progress").code == 0
    assert seen == []
    assert listed(cli)[task]["status"] == "in_progress"
    assert seen == []


def test_another_process_writing_is_seen_at_once(
    ws_root: Path, cli: Runner, run_proc: Runner
) -> None:
    task = add_task(cli, "Warm the index")
    assert listed(cli)[task]["status"] == "inbox"
    r = run_proc("task", "edit", task, "--title", "Written elsewhere")
    assert r.code == 0, str(r)
    r = run_proc("task", "move", task, "blocked")
    assert r.code == 0, str(r)
    seen = listed(cli)[task]
    assert (seen["title"], seen["status"]) == ("Written elsewhere", "blocked")


def test_the_full_scan_comes_back_at_its_cadence(
    ws_root: Path, cli: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_task(cli, "Any")
    seen = scans(monkeypatch)
    Workspace(ws_root).refresh()
    assert seen == []
    monkeypatch.setenv(index_fresh.RESCAN_ENV, "0")
    Workspace(ws_root).refresh()
    assert sorted(seen) == ["agents", "docs", "tasks"]


def test_small_directories_are_always_scanned(
    ws_root: Path, cli: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_task(cli, "Any")
    monkeypatch.setenv(index_fresh.SCAN_BELOW_ENV, "2000")
    seen = scans(monkeypatch)
    Workspace(ws_root).refresh()
    assert sorted(seen) == ["agents", "docs", "tasks"]


# -- edits from outside ------------------------------------------------------------------


def test_an_editor_saving_through_a_rename_is_seen_at_once(ws_root: Path, cli: Runner) -> None:
    task = add_task(cli, "Paint the fence")
    assert title_of(cli, task) == "Paint the fence"
    path = ws_root / ".agentctl" / "tasks" / f"{task}.md"
    rename_write(path, path.read_text(encoding="utf-8").replace("Paint the fence", "Mend it"))
    assert title_of(cli, task) == "Mend it"
    assert listed(cli)[task]["title"] == "Mend it"
    # A file removed by hand.
    path.unlink()
    assert task not in listed(cli)


def test_an_edit_in_place_is_seen_within_the_rescan_cadence(
    ws_root: Path, cli: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(index_fresh.RESCAN_ENV, "1")
    task = add_task(cli, "Count the geese")
    assert title_of(cli, task) == "Count the geese"
    path = ws_root / ".agentctl" / "tasks" / f"{task}.md"
    inode = path.stat().st_ino
    with open(path, "r+", encoding="utf-8") as handle:  # same file, same directory
        text = handle.read().replace("Count the geese", "Count the ducks")
        handle.seek(0)
        handle.write(text)
        handle.truncate()
    assert path.stat().st_ino == inode
    time.sleep(1.1)
    assert listed(cli)[task]["title"] == "Count the ducks"


def test_an_edit_in_place_is_found_by_the_rolling_check(
    ws_root: Path, cli: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = [add_task(cli, f"Bird {n}") for n in range(5)]
    assert len(listed(cli)) == 5
    monkeypatch.setenv(index_fresh.SLICE_ENV, "2")  # two files a command, in turn
    target = made[3]
    path = ws_root / ".agentctl" / "tasks" / f"{target}.md"
    with open(path, "r+", encoding="utf-8") as handle:
        text = handle.read().replace("Bird 3", "Bird three")
        handle.seek(0)
        handle.write(text)
        handle.truncate()
    titles = [listed(cli)[target]["title"] for _ in range(4)]  # 5 files, 2 a command
    assert titles[-1] == "Bird three"
    assert titles.index("Bird three") <= 2


def test_reindex_sees_an_edit_in_place_at_once(ws_root: Path, cli: Runner) -> None:
    task = add_task(cli, "Count the geese")
    assert listed(cli)[task]["title"] == "Count the geese"
    path = ws_root / ".agentctl" / "tasks" / f"{task}.md"
    with open(path, "r+", encoding="utf-8") as handle:
        text = handle.read().replace("Count the geese", "Count the swans")
        handle.seek(0)
        handle.write(text)
        handle.truncate()
    assert cli("reindex").code == 0
    assert listed(cli)[task]["title"] == "Count the swans"


# -- git -----------------------------------------------------------------------------------


def test_checkout_merge_and_rebase_are_seen_at_once(git_ws_root: Path, cli: Runner) -> None:
    root = git_ws_root
    task = add_task(cli, "Shared task")
    other = add_task(cli, "Other task")
    assert listed(cli)[task]["status"] == "inbox"
    git(root, "checkout", "-q", "-b", "side")
    assert cli("task", "move", task, "blocked").code == 0
    assert listed(cli)[task]["status"] == "blocked"
    git(root, "checkout", "-q", "main")
    assert listed(cli)[task]["status"] == "inbox"  # checkout
    assert cli("task", "edit", other, "--title", "Edited on main").code == 0
    git(root, "merge", "-q", "--no-edit", "side")
    merged = listed(cli)
    assert merged[task]["status"] == "blocked"  # merge
    assert merged[other]["title"] == "Edited on main"
    # rebase: a branch from before the merge, replayed onto main
    git(root, "checkout", "-q", "-b", "topic", "HEAD~2")
    assert listed(cli)[task]["status"] == "inbox"
    assert cli("task", "edit", task, "--title", "Edited on topic").code == 0
    git(root, "rebase", "-q", "main")
    rebased = listed(cli)
    assert rebased[task]["title"] == "Edited on topic"
    assert rebased[other]["title"] == "Edited on main"
    # reset --hard back to main's state
    git(root, "reset", "-q", "--hard", "main")
    assert listed(cli)[task]["title"] == "Shared task"


def test_a_pull_is_seen_at_once_by_lists_and_search(
    git_ws_root: Path, cli: Runner, tmp_path: Path
) -> None:
    root = git_ws_root
    task = add_task(cli, "Survey the marsh")
    assert cli("task", "comment", task, "first remark").code == 0
    other = tmp_path / "other-clone"
    git(tmp_path, "clone", "-q", str(root), str(other))
    git(other, "config", "user.name", "Other Machine")
    git(other, "config", "user.email", "other@example.com")
    assert listed(cli)[task]["status"] == "inbox"
    r = cli("search", "heron", "--json")
    assert r.json()["hits"] == []
    # The other clone moves the task, adds a task and comments in the existing thread.
    assert run_cli("task", "move", task, "blocked", cwd=other).code == 0
    new = run_cli("task", "add", "Pulled task", "--json", cwd=other).json()["task"]["id"]
    assert run_cli("task", "comment", task, "a heron was seen", cwd=other).code == 0
    git(root, "pull", "-q", "--no-rebase", "--no-edit", str(other), "main")
    # A local write into the threads right after the pull must not hide what it brought.
    assert cli("task", "comment", task, "a local remark").code == 0
    tasks = listed(cli)
    assert tasks[task]["status"] == "blocked"
    assert new in tasks
    hits = cli("search", "heron", "--json").json()["hits"]
    assert [h["type"] for h in hits] == ["message"]
    assert len(cli("search", "remark", "--json").json()["hits"]) == 2


def test_reindex_indexes_the_threads_too(ws_root: Path, cli: Runner) -> None:
    task = add_task(cli, "Talk about it")
    assert cli("task", "comment", task, "a remark").code == 0
    ws = Workspace(ws_root)
    ws.reindex()
    # Indexed by the rebuild itself, not left to the first search.
    (count,) = ws.index.db.execute("SELECT COUNT(*) FROM messages").fetchone()
    assert count == 1
