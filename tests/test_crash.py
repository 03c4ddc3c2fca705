"""A writer killed with SIGKILL at random points never leaves the workspace broken.

After every kill: every task file parses, ``agentctl validate`` reports an interrupted
change (if any) that ``agentctl doctor`` completes, temp files are swept, and ``agentctl
working`` brings WORKING.md back to a fresh rendering. With auto-commit on, git is left
consistent too, even when the kill lands inside git plumbing.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers_proc import event_lines, isolate, new_workspace, run_cli, run_json, temp_files

from agentctl.store.frontmatter import load_fast
from agentctl.workspace import Workspace

pytestmark = pytest.mark.slow

HELPER = str(Path(__file__).with_name("helpers_proc.py"))
KILLS = 25
SEED = 20261122


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate(monkeypatch, tmp_path / "home")
    monkeypatch.setenv("AGENTCTL_AUTOCOMMIT", "0")


def _lines(path: Path) -> int:
    try:
        return len(path.read_text(encoding="utf-8").splitlines())
    except FileNotFoundError:
        return 0


def _start_writer(root: Path, seed: int, progress: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, HELPER, "crash", str(root), str(seed), str(progress)],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _wait_for_progress(
    proc: subprocess.Popen[bytes], progress: Path, wanted: int, timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
    while _lines(progress) < wanted:
        if proc.poll() is not None:
            raise AssertionError(
                f"writer exited {proc.returncode}: {proc.stderr.read().decode() if proc.stderr else ''}"
            )
        if time.monotonic() > deadline:
            raise AssertionError("writer made no progress")
        time.sleep(0.01)


def _check_task_files(root: Path) -> int:
    count = 0
    for path in sorted((root / ".agentctl" / "tasks").iterdir()):
        if path.name.startswith("."):
            continue  # a temp file: swept by validate, checked below
        fields, body = load_fast(path.read_text(encoding="utf-8"), str(path))
        assert fields["id"] == path.stem
        assert body.startswith("\n## Description")
        count += 1
    return count


def test_sigkill_at_random_points_never_breaks_the_workspace(tmp_path: Path) -> None:
    root = new_workspace(tmp_path / "repo")
    for n in range(3):
        run_cli(root, "task", "add", f"seed {n}")
    rng = random.Random(SEED)
    progress = tmp_path / "progress.log"
    temps_seen = 0
    mutations = 0
    root_temps = 0
    for round_ in range(KILLS):
        before = _lines(progress)
        proc = _start_writer(root, SEED + round_, progress)
        try:
            _wait_for_progress(proc, progress, before + 2)  # "ready" and one whole mutation
            time.sleep(rng.uniform(0.05, 0.6))
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL, (
            proc.stderr.read().decode() if proc.stderr else ""
        )
        if proc.stderr:
            proc.stderr.close()
        mutations += _lines(progress) - before - 1

        count = _check_task_files(root)
        assert count >= 3
        temps_seen += len(temp_files(root / ".agentctl"))
        root_temps += len([p for p in root.iterdir() if p.name.endswith(".agentctl-tmp")])

        # A change the kill interrupted is reported by validate until the next write (or
        # doctor) completes it from the journal.
        result = run_cli(root, "validate", check=False)
        if result.returncode != 0:
            assert "an interrupted change is not finished" in result.stdout, (
                f"round {round_}: {result.stdout}"
            )
            run_cli(root, "doctor")
            result = run_cli(root, "validate", check=False)
        assert result.returncode == 0, f"round {round_}: {result.stdout}{result.stderr}"
        assert temp_files(root / ".agentctl") == [], f"round {round_}"
        # WORKING.md's temp file lives next to it, at the repository root: swept as well.
        assert [p for p in root.iterdir() if p.name.endswith(".agentctl-tmp")] == [], (
            f"round {round_}"
        )

        run_cli(root, "working")
        ws = Workspace(root)
        try:
            fresh, current = ws.render_working()
        finally:
            ws.close()
        assert current == fresh, f"round {round_}"

    # The workspace is still fully usable: list, a new mutation, and everything valid.
    listed = run_json(root, "task", "list", "--all")["tasks"]
    assert len(listed) == _check_task_files(root)
    run_cli(root, "task", "add", "after the storm")
    assert run_cli(root, "validate", check=False).returncode == 0
    print(
        f"\n{KILLS} kills, {mutations} completed mutations, {temps_seen} temp files left by kills, {root_temps} at the root, {len(event_lines(root))} events"
    )


def test_torn_last_event_line_is_reported_and_never_swallows_the_next_event(tmp_path: Path) -> None:
    """A single write(2) per event means SIGKILL cannot tear a line, but a power cut or a
    hand edit can: validate names the line (exit 6, it is not healed: an event may be lost),
    readers skip it, and the next event still gets a line of its own."""
    root = new_workspace(tmp_path / "repo")
    run_cli(root, "task", "add", "before")
    log = max((root / ".agentctl" / "events").glob("*.jsonl"))
    complete = log.read_text(encoding="utf-8")
    last = complete.splitlines()[-1]
    log.write_text(complete + last[: len(last) // 2], encoding="utf-8")  # the torn append
    torn_line = len(complete.splitlines()) + 1

    result = run_cli(root, "validate", check=False)
    assert result.returncode == 6
    assert (
        f"{log.relative_to(root).as_posix()}:{torn_line}: not a JSON event (a torn or hand-edited line)"
        in result.stdout
    )

    ws = Workspace(root)
    try:
        fresh, current = ws.render_working()
        assert fresh == current  # the torn line is skipped: nothing changed for readers
    finally:
        ws.close()

    task = run_json(root, "task", "add", "after")["task"]
    lines = log.read_text(encoding="utf-8").splitlines()
    assert lines[torn_line - 1] == last[: len(last) // 2]
    assert '"subject":"' + task["id"] + '"' in lines[torn_line]
    assert len(lines) == torn_line + 1
    assert task["id"] in (root / "WORKING.md").read_text(encoding="utf-8")
    # still exactly the one torn line reported
    result = run_cli(root, "validate", check=False)
    assert result.returncode == 6 and result.stdout.count("not a JSON event") == 1


GIT_KILLS = 200


def test_sigkill_with_autocommit_at_random_points_including_inside_git(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """200 kills of a writer's whole process group (git children included) with auto-commit
    on. After the next command (or ``doctor``): git status is clean of agentctl paths, every
    task has its creating event and vice versa, the user's staged file is untouched, and
    ``git fsck`` is clean."""
    import os

    from helpers_proc import git, task_files, tasks_created_by_events

    monkeypatch.setenv("AGENTCTL_AUTOCOMMIT", "1")
    env = {**os.environ}
    root = new_workspace(tmp_path / "repo")
    (root / "user.txt").write_text("staged by the user\n", encoding="utf-8")
    git(root, "add", "user.txt")
    for n in range(3):
        run_cli(root, "task", "add", f"seed {n}", env=env)
    rng = random.Random(SEED + 1)
    progress = tmp_path / "progress.log"
    journal = root / ".agentctl" / "local" / "journal"
    found = {"interrupted": 0, "index_lock": 0, "private_index": 0, "dirty": 0}

    def consistent(where: str) -> None:
        status = git(root, "status", "--porcelain", "--untracked-files=all")
        ours = [
            line for line in status.splitlines() if ".agentctl/" in line or "WORKING.md" in line
        ]
        assert ours == [], f"{where}: {status}"
        assert "A  user.txt" in status.splitlines(), f"{where}: {status}"
        on_disk = task_files(root)
        assert on_disk == tasks_created_by_events(root), where
        in_head = {
            Path(p).stem
            for p in git(root, "ls-tree", "-r", "--name-only", "HEAD", ".agentctl/tasks").split()
        }
        assert in_head == on_disk, where

    mutations = 0
    for round_ in range(GIT_KILLS):
        before = _lines(progress)
        proc = subprocess.Popen(
            [sys.executable, HELPER, "crash", str(root), str(SEED + 1000 + round_), str(progress)],
            cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, start_new_session=True,
        )  # fmt: skip
        try:
            _wait_for_progress(
                proc, progress, before + 1
            )  # "ready": killed within its first changes
            time.sleep(rng.uniform(0.0, 0.35))
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        if proc.stderr:
            proc.stderr.close()
        mutations += max(0, _lines(progress) - before - 1)
        found["interrupted"] += any(journal.glob("j-*.json"))
        found["index_lock"] += (root / ".git" / "index.lock").exists()
        found["private_index"] += any((root / ".git").glob("agentctl-index-*"))
        status = git(root, "status", "--porcelain", "--untracked-files=all")
        found["dirty"] += any(".agentctl/" in line for line in status.splitlines())
        if round_ % 20 == 19:
            run_cli(root, "task", "add", f"check {round_}", env=env)  # the next command repairs
            consistent(f"after round {round_}")

    result = run_cli(root, "doctor", env=env, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    consistent("after doctor")
    assert run_cli(root, "validate", env=env, check=False).returncode == 0
    fsck = subprocess.run(
        ["git", "fsck", "--no-progress"], cwd=root, capture_output=True, text=True
    )
    assert fsck.returncode == 0, fsck.stdout + fsck.stderr
    assert git(root, "show", ":user.txt") == "staged by the user\n"
    print(
        f"\n{GIT_KILLS} kills with auto-commit: {mutations} mutations completed; left behind and repaired: "
        f"{found['interrupted']} interrupted changes, {found['index_lock']} index.lock files, "
        f"{found['private_index']} private index files, {found['dirty']} dirty git states; 0 lost"
    )
