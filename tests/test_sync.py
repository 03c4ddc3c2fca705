"""``agentctl sync`` against real git: a bare remote and clones of it, and one remote served
by ``git daemon`` on 127.0.0.1.

Each clone runs agentctl in-process (auto-commit on). The tests check what a team sees:
nothing lost, nothing duplicated, no conflict markers, WORKING.md current after a sync, and
a conflict that is reported (exit 5) and left for git to finish.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import GIT_USER_EMAIL, Result, allow_simulated, git, run_cli

from agentctl.errors import ExitCode

CONFLICT_MARKERS = re.compile(r"^(<<<<<<<|>>>>>>>)( |$)", re.MULTILINE)


class Clone:
    """One working copy of the shared workspace."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def run(self, *args: str) -> Result:
        return run_cli("-W", str(self.root), *args, cwd=self.root)

    def ok(self, *args: str) -> Result:
        result = self.run(*args)
        assert result.code == 0, str(result)
        return result

    def json(self, *args: str) -> Any:
        return self.ok(*args, "--json").json()

    def sync(self, *args: str) -> dict[str, Any]:
        report: dict[str, Any] = self.json("sync", *args)["sync"]
        return report

    def add_task(self, title: str, *args: str) -> str:
        task_id: str = self.json("task", "add", title, *args)["task"]["id"]
        return task_id

    def git(self, *args: str, check: bool = True) -> str:
        return git(self.root, *args, check=check)

    def head(self) -> str:
        return self.git("rev-parse", "HEAD").strip()

    def task_ids(self) -> list[str]:
        return [t["id"] for t in self.json("task", "list", "--all")["tasks"]]

    def events_on_disk(self) -> list[str]:
        ids = []
        for path in sorted((self.root / ".agentctl" / "events").glob("*.jsonl")):
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    ids.append(json.loads(line)["id"])
        return ids


def configure(root: Path, name: str) -> None:
    git(root, "config", "user.name", name)
    git(root, "config", "user.email", GIT_USER_EMAIL)
    git(root, "config", "commit.gpgsign", "false")


def make_world(tmp_path: Path, url: str | None = None, clones: int = 2) -> list[Clone]:
    """A bare remote (``url``: how the clones reach it, default its path); clone A with a
    workspace and three agents, pushed; further clones of it."""
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    url = url or str(remote)
    first = tmp_path / "c0"
    first.mkdir()
    git(first, "init", "-q", "-b", "main")
    configure(first, "Machine 0")
    a = Clone(first)
    a.ok("init")
    for name in ("alice", "bob", "carol"):
        a.ok("agent", "add", name, "--role", "developer")
    git(first, "remote", "add", "origin", url)
    git(first, "push", "-q", "-u", "origin", "main")
    result = [a]
    for number in range(1, clones):
        root = tmp_path / f"c{number}"
        git(tmp_path, "clone", "-q", url, str(root))
        configure(root, f"Machine {number}")
        result.append(Clone(root))
    return result


def assert_clean(clone: Clone) -> None:
    """No conflict markers, nothing uncommitted, no rebase or merge left, records valid,
    WORKING.md current."""
    for rel in clone.git("ls-files").splitlines():
        text = (clone.root / rel).read_text(encoding="utf-8", errors="replace")
        assert not CONFLICT_MARKERS.search(text), f"conflict marker in {rel}"
    assert clone.git("status", "--porcelain", "--untracked-files=all") == ""
    git_dir = clone.root / ".git"
    for name in ("rebase-merge", "rebase-apply", "MERGE_HEAD"):
        assert not (git_dir / name).exists(), name
    validated = clone.run("validate")
    assert validated.code == 0, str(validated)
    assert clone.json("working")["rerendered"] is False


@pytest.fixture
def world(tmp_path: Path) -> list[Clone]:
    return make_world(tmp_path)


def test_sync_with_nothing_to_do_changes_nothing(world: list[Clone]) -> None:
    a, _ = world
    before = a.head()
    report = a.sync()
    assert report["incoming"] == 0 and report["outgoing"] == 0
    assert report["pushed"] is False and report["committed"] == []
    assert a.head() == before
    assert a.git("rev-parse", "origin/main").strip() == before
    plain = a.ok("sync")
    assert plain.out == "origin/main: 0 commit(s) in (up-to-date), 0 out\n"


def test_sync_commits_pending_agentctl_files_first(world: list[Clone]) -> None:
    a, b = world
    task = a.add_task("Edited by hand")
    path = a.root / ".agentctl" / "tasks" / f"{task}.md"
    path.write_text(path.read_text(encoding="utf-8").replace("priority: 2", "priority: 1"))
    report = a.sync()
    assert report["committed"] == [f".agentctl/tasks/{task}.md"]
    # the task, the hand edit, and WORKING.md re-rendered for the new priority
    assert report["outgoing"] == 3 and report["pushed"] is True
    assert report["rerendered"] is True
    b.sync()
    assert b.json("task", "show", task)["task"]["priority"] == 1
    assert_clean(a)


def test_two_clones_work_offline_then_sync_both_ways(world: list[Clone]) -> None:
    a, b = world
    shared = a.add_task("Shared")
    a.sync()
    b.sync()
    made: dict[str, list[str]] = {"a": [], "b": []}
    for number in range(12):
        made["a"].append(a.add_task(f"A task {number}"))
        made["b"].append(b.add_task(f"B task {number}"))
    a.ok("--as", "alice", "task", "comment", shared, "from A")
    b.ok("--as", "bob", "task", "comment", shared, "from B")
    a.ok("--as", "alice", "task", "claim", made["a"][0])
    b.ok("--as", "bob", "task", "claim", made["b"][0])
    b.ok("--as", "bob", "task", "move", made["b"][0], "review")
    events = set(a.events_on_disk()) | set(b.events_on_disk())

    first = a.sync()
    assert first["incoming"] == 0 and first["pushed"] is True
    second = b.sync()
    assert second["incoming"] == first["outgoing"]
    assert second["integration"] == "rebase" and second["pushed"] is True
    assert second["rerendered"] is True
    third = a.sync()
    assert third["integration"] == "fast-forward" and third["outgoing"] == 0

    assert a.head() == b.head()
    expected = {shared, *made["a"], *made["b"]}
    for clone in (a, b):
        ids = clone.task_ids()
        assert len(ids) == len(set(ids)) and set(ids) == expected
        on_disk = clone.events_on_disk()
        assert len(on_disk) == len(set(on_disk)) and set(on_disk) == events
        feed = [e["id"] for e in clone.json("feed", "--limit", "100000")["events"]]
        assert sorted(feed) == sorted(on_disk)
        thread = [m["body"].strip() for m in clone.json("thread", shared)["thread"]["messages"]]
        assert sorted(thread) == ["from A", "from B"]
        assert clone.json("task", "show", made["b"][0])["task"]["status"] == "review"
        assert_clean(clone)


@pytest.mark.parametrize("mode", ["rebase", "merge"])
def test_same_field_edits_are_a_reported_conflict(world: list[Clone], mode: str) -> None:
    a, b = world
    if mode == "merge":
        for clone in (a, b):
            config = clone.root / ".agentctl" / "config.yaml"
            config.write_text(
                config.read_text(encoding="utf-8").replace("mode: rebase", "mode: merge")
            )
            clone.ok("doctor")
    a.sync()
    b.sync()
    task = a.add_task("Contested")
    a.sync()
    b.sync()
    a.ok("task", "edit", task, "--title", "Title from A")
    b.ok("task", "edit", task, "--title", "Title from B")
    a.sync()
    result = b.run("sync")
    assert result.code == ExitCode.CONFLICT, str(result)
    rel = f".agentctl/tasks/{task}.md"
    assert result.err.startswith(
        f"agentctl: error: sync with origin main stopped on a conflict in 1 file(s): {rel}\n"
    ), result.err
    assert f"git {mode} --continue" in result.err
    state = "rebase-merge" if mode == "rebase" else "MERGE_HEAD"
    assert (b.root / ".git" / state).exists()
    # Until it is finished, sync (and every writing command) refuses and says how to finish.
    again = b.run("sync")
    assert again.code == ExitCode.GIT, str(again)
    what = "a rebase" if mode == "rebase" else "a merge"
    assert again.err.startswith(f"agentctl: error: {what} is in progress in "), again.err
    # What git says about it is what the hint says: resolve, add, continue, sync again.
    (b.root / rel).write_text(
        b.git("show", f"origin/main:{rel}"), encoding="utf-8"
    )  # take A's title
    b.git("add", rel)
    continued = subprocess.run(
        ["git", mode, "--continue"] if mode == "rebase" else ["git", "commit", "--no-edit"],
        cwd=b.root,
        env={**_env(), "GIT_EDITOR": "true"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert continued.returncode == 0, continued.stderr
    report = b.sync()
    assert report["pushed"] is True
    a.sync()
    for clone in (a, b):
        assert clone.json("task", "show", task)["task"]["title"] == "Title from A"
        assert_clean(clone)


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)


def test_sync_refuses_an_unknown_remote_and_a_missing_repo(
    world: list[Clone], tmp_path: Path
) -> None:
    a, _ = world
    result = a.run("sync", "--remote", "nowhere")
    assert result.code == ExitCode.NOT_FOUND
    assert result.err.startswith("agentctl: error: no git remote named 'nowhere'\n")
    plain = tmp_path / "plain"
    plain.mkdir()
    run_cli("-W", str(plain), "init", cwd=plain)
    result = run_cli("-W", str(plain), "sync", cwd=plain)
    assert result.code == ExitCode.GIT
    assert "not in a git repository" in result.err


def test_a_rejected_push_is_fetched_integrated_and_retried(world: list[Clone]) -> None:
    """B's push is rejected once (A pushed after B fetched, simulated by a pre-push hook
    that lets A push first); the retry lands both sides' work."""
    a, b = world
    b_task = b.add_task("From B")
    hook = b.root / ".git" / "hooks" / "pre-push"
    marker = b.root / ".git" / "raced"
    # The first push of B lets A sync first: B's push is then rejected (fetch first).
    hook.write_text(
        "#!/bin/sh\n"
        f"if [ ! -e '{marker}' ]; then touch '{marker}'; "
        f"cd '{a.root}' && env -u GIT_DIR -u GIT_WORK_TREE -u GIT_INDEX_FILE "
        f"git push -q origin main; fi\nexit 0\n",
        encoding="utf-8",
    )
    hook.chmod(0o755)
    a_task = a.add_task("From A")
    report = b.sync()
    assert report["attempts"] == 2 and report["pushed"] is True
    a.sync()
    for clone in (a, b):
        assert set(clone.task_ids()) == {a_task, b_task}
        assert_clean(clone)


def test_a_refused_push_is_exit_9_and_keeps_the_local_commits(world: list[Clone]) -> None:
    a, _ = world
    task = a.add_task("Stays local")
    hook = a.root / ".git" / "hooks" / "pre-push"
    hook.write_text("#!/bin/sh\necho 'pushes are closed' >&2\nexit 1\n", encoding="utf-8")
    hook.chmod(0o755)
    head = a.head()
    result = a.run("sync")
    assert result.code == ExitCode.GIT, str(result)
    assert result.err.startswith(
        "agentctl: error: git push to origin main was refused: pushes are closed\n"
    )
    assert a.head() == head and task in a.task_ids()
    hook.unlink()
    assert a.sync()["pushed"] is True


def _offline_work(a: Clone, b: Clone, creations: int, changes: int) -> None:
    """Each clone creates ``creations`` tasks, comments on and moves ``changes`` of them, all
    offline; then they sync both ways and must hold exactly the union."""
    made: dict[str, list[str]] = {"a": [], "b": []}
    for key, clone, agent in (("a", a, "alice"), ("b", b, "bob")):
        for number in range(creations):
            made[key].append(clone.add_task(f"{key} task {number}"))
        for task in made[key][:changes]:
            clone.ok("--as", agent, "task", "comment", task, f"{key} on {task}")
            clone.ok("--as", agent, "task", "claim", task)
            clone.ok("--as", agent, "task", "move", task, "review")
    events = set(a.events_on_disk()) | set(b.events_on_disk())
    a.sync()
    b.sync()
    a.sync()
    assert a.head() == b.head()
    for clone in (a, b):
        ids = clone.task_ids()
        assert len(ids) == len(set(ids)) and set(ids) == set(made["a"]) | set(made["b"])
        on_disk = clone.events_on_disk()
        assert len(on_disk) == len(set(on_disk)) and set(on_disk) == events
        in_review = clone.json("task", "list", "--status", "review")["tasks"]
        assert len(in_review) == 2 * changes
        assert_clean(clone)


@pytest.mark.parametrize(
    ("creations", "changes"),
    [(10, 3), pytest.param(500, 100, marks=pytest.mark.slow)],
)
def test_two_clones_create_comment_and_move_offline(
    world: list[Clone], creations: int, changes: int
) -> None:
    a, b = world
    _offline_work(a, b, creations=creations, changes=changes)


def test_heartbeat_sync_pulls_and_pushes_around_the_tick(world: list[Clone]) -> None:
    a, b = world
    config = a.root / ".agentctl" / "config.yaml"
    config.write_text(
        config.read_text(encoding="utf-8").replace("  sync: false", "  sync: true", 1)
    )
    a.ok("doctor")
    a.sync()
    task = b.add_task("Arrives before the tick")
    b.sync()
    result = a.ok("heartbeat", "alice")
    assert result.err == "", result.err
    assert task in a.task_ids()
    assert a.git("rev-parse", "origin/main").strip() == a.head()
    # An unreachable remote is a warning, never a failed tick.
    a.git("remote", "set-url", "origin", str(a.root.parent / "gone.git"))
    result = a.run("heartbeat", "alice")
    assert result.code == 0, str(result)
    assert "agentctl: warning: sync before the tick failed: git fetch origin" in result.err
    assert "sync after the tick failed" in result.err


def test_a_dedicated_branch_in_a_linked_worktree_leaves_the_code_branch_alone(
    tmp_path: Path,
) -> None:
    """The layout docs/teams.md gives for a protected code branch: the workspace on an orphan
    branch ``agentctl`` in a linked worktree; sync pushes only that branch."""
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    code = tmp_path / "code"
    git(tmp_path, "clone", "-q", str(remote), str(code))
    configure(code, "Machine 0")
    (code / "README.md").write_text("code\n", encoding="utf-8")
    git(code, "add", "README.md")
    git(code, "commit", "-q", "-m", "code")
    git(code, "push", "-q", "origin", "main")
    team = tmp_path / "team"
    git(code, "worktree", "add", "-q", "--detach", str(team))
    git(team, "switch", "-q", "--orphan", "agentctl")
    clone = Clone(team)
    clone.ok("init")
    task = clone.add_task("Kept off the code branch")
    report = clone.sync()
    assert report["branch"] == "agentctl" and report["pushed"] is True
    files = git(remote, "ls-tree", "-r", "--name-only", "agentctl").split()
    assert f".agentctl/tasks/{task}.md" in files and "README.md" not in files
    assert git(remote, "log", "--format=%s", "main").split("\n")[0] == "code"
    assert_clean(clone)


# -- git daemon ------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _daemon_binary() -> str | None:
    exec_path = subprocess.run(
        ["git", "--exec-path"], capture_output=True, text=True, check=False
    ).stdout.strip()
    candidate = Path(exec_path) / "git-daemon"
    return str(candidate) if candidate.exists() else shutil.which("git-daemon")


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[str]:
    """``git daemon`` serving tmp_path on 127.0.0.1 (pushes allowed); yields the base URL."""
    if _daemon_binary() is None:
        pytest.skip("git daemon is not installed (git-daemon-run / the git-daemon binary)")
    for _ in range(5):
        port = _free_port()
        proc = subprocess.Popen(
            [
                "git", "daemon", "--reuseaddr", "--export-all", "--enable=receive-pack",
                "--listen=127.0.0.1", f"--port={port}", f"--base-path={tmp_path}", str(tmp_path),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        if proc.poll() is None:
            break
    else:
        pytest.fail("git daemon did not start")
    try:
        yield f"git://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


def test_sync_through_git_daemon(tmp_path: Path, daemon: str) -> None:
    a, b = make_world(tmp_path, url=f"{daemon}/remote.git")
    a_task = a.add_task("Over the network from A")
    b_task = b.add_task("Over the network from B")
    assert a.sync()["pushed"] is True
    report = b.sync()
    assert report["incoming"] >= 1 and report["pushed"] is True
    a.sync()
    for clone in (a, b):
        assert set(clone.task_ids()) == {a_task, b_task}
        assert_clean(clone)


def _two_machines(tmp_path: Path, rounds: int) -> None:
    """Two clones, each ticking its own simulated agent with ``heartbeat.sync: true`` on tasks
    assigned to that agent: every tick syncs before and after; nothing conflicts and both
    clones end with the same, current WORKING.md."""
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    first = tmp_path / "c0"
    first.mkdir()
    git(first, "init", "-q", "-b", "main")
    configure(first, "Machine 0")
    a = Clone(first)
    a.ok("init")
    allow_simulated(first)
    config = first / ".agentctl" / "config.yaml"
    config.write_text(
        config.read_text(encoding="utf-8").replace("  sync: false", "  sync: true", 1)
    )
    git(first, "commit", "-q", "-m", "sync around ticks", "--", ".agentctl/config.yaml")
    for name in ("alice", "bob"):
        a.ok("agent", "add", name, "--role", "developer", "--runtime", "simulated")
        for number in range(3):
            a.add_task(f"{name}'s task {number}", "--assign", name)
    git(first, "remote", "add", "origin", str(remote))
    git(first, "push", "-q", "-u", "origin", "main")
    second = tmp_path / "c1"
    git(tmp_path, "clone", "-q", str(remote), str(second))
    configure(second, "Machine 1")
    b = Clone(second)
    for _ in range(rounds):
        for clone, agent in ((a, "alice"), (b, "bob")):
            result = clone.run("heartbeat", agent)
            assert result.code == 0, str(result)
            assert "warning" not in result.err, str(result)
            assert clone.git("rev-parse", "origin/main") == clone.git("rev-parse", "HEAD")
            assert clone.json("working")["rerendered"] is False
    a.sync()
    assert a.head() == b.head()
    for clone in (a, b):
        assert_clean(clone)
    states = {t["status"] for t in a.json("task", "list", "--all")["tasks"]}
    assert states != {"assigned"}, "the agents did no work"


def test_two_machines_tick_their_agents_with_heartbeat_sync(tmp_path: Path) -> None:
    _two_machines(tmp_path, rounds=3)


@pytest.mark.slow
def test_two_machines_twenty_rounds(tmp_path: Path) -> None:
    _two_machines(tmp_path, rounds=20)


def test_sync_and_claim_sync_stay_light(world: list[Clone], tmp_path: Path) -> None:
    """Like every write, a sync and a synced claim import neither pydantic nor the heavy
    adapters (GitPython included: git runs as plain processes)."""
    from test_import_hygiene import NEVER, imported

    a, b = world
    task = a.add_task("Light")
    a.sync()
    b.sync()  # a fresh clone's first command parses the config (its cache is the index)
    probe = tmp_path / "probe"
    probe.mkdir()
    for clone, args in ((a, ("sync",)), (b, ("--as", "bob", "task", "claim", task, "--sync"))):
        code, modules, err = imported(clone.root, probe, *args)
        assert code == 0, err
        assert "pydantic" not in modules and not modules & NEVER, f"{args}: {sorted(modules)}"


def test_sync_shows_git_progress_on_a_terminal_only(world: list[Clone]) -> None:
    """On a terminal (stderr a pty) a sync passes git's progress meter through; piped, or
    with --json, git runs quietly."""
    import os
    import pty
    import sys

    a, b = world
    for number in range(5):
        a.add_task(f"Progress {number}")
    a.sync()

    def run_with_tty_stderr(*args: str) -> tuple[int, str, str]:
        leader, follower = pty.openpty()
        proc = subprocess.Popen(
            [sys.executable, "-m", "agentctl", "-W", str(b.root), *args],
            cwd=b.root,
            stdout=subprocess.PIPE,
            stderr=follower,
            text=True,
        )
        os.close(follower)
        seen = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the pty closed with the process
                break
            if not chunk:
                break
            seen += chunk
        out, _ = proc.communicate(timeout=60)
        os.close(leader)
        return proc.returncode, out, seen.decode("utf-8", "replace")

    code, out, err = run_with_tty_stderr("sync", "--json")
    assert code == 0, err
    assert json.loads(out)["sync"]["incoming"] == 5 and err == ""
    for number in range(3):
        a.add_task(f"More {number}")
    a.sync()
    code, out, err = run_with_tty_stderr("sync")
    assert code == 0, err
    assert "objects" in err, err  # e.g. "remote: Enumerating objects: 12, done."
    assert "3 commit(s) in" in out
    a.add_task("Piped")
    a.sync()
    piped = b.run("sync")
    assert piped.code == 0 and piped.err == "", str(piped)


def test_progress_from_the_remote_is_shown_safely(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from agentctl.cli import output

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    fake = Tty()
    monkeypatch.setattr("sys.stderr", fake)
    assert output.git_progress(json_=True) is None
    show = output.git_progress(json_=False)
    assert show is not None
    show(b"remote: \x1b]0;owned\x07Counting objects:  50% (1/2)\rremote: Counting objects: 100%")
    show("é done.\n".encode()[:1])  # a character split across two reads
    show("é done.\n".encode()[1:])
    text = fake.getvalue()
    assert "\x1b" not in text and "\x07" not in text and "\\u001b" in text
    assert "50% (1/2)\rremote: Counting objects: 100%é done.\n" in text
