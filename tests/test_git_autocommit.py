"""Auto-commit: one commit per mutation, of exactly its paths, with the right author; the
user's own staged and unstaged work is never touched."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import (
    GIT_USER_EMAIL,
    GIT_USER_NAME,
    Runner,
    add_task,
    assert_one_line_error,
    git,
    make_git_repo,
    make_team,
    snapshot,
)

from agentctl.errors import ExitCode


@pytest.fixture
def ws_root(git_ws_root: Path) -> Path:
    """Every test here is about git (commits, history, recovery): a real repository."""
    return git_ws_root


EVENTS_RE = re.compile(r"^\.agentctl/events/\d{4}-\d{2}-\d{2}\.jsonl$")


def head(root: Path) -> str:
    return git(root, "rev-parse", "HEAD").strip()


def commit_count(root: Path) -> int:
    return int(git(root, "rev-list", "--count", "HEAD").strip())


def changed_paths(root: Path, rev: str = "HEAD") -> set[str]:
    out = git(root, "show", "--no-renames", "--name-only", "--format=", rev)
    return {line for line in out.splitlines() if line}


def author(root: Path, rev: str = "HEAD") -> tuple[str, str, str, str]:
    name, email, committer, committer_email = git(
        root, "log", "-1", "--format=%an%n%ae%n%cn%n%ce", rev
    ).splitlines()
    return name, email, committer, committer_email


def message(root: Path, rev: str = "HEAD") -> str:
    return git(root, "log", "-1", "--format=%B", rev)


def assert_one_commit(root: Path, before: str, expected: set[str]) -> str:
    """HEAD moved by exactly one commit whose paths are ``expected`` plus one events file
    and WORKING.md; returns the commit message."""
    assert git(root, "rev-parse", "HEAD~1").strip() == before, "expected exactly one new commit"
    paths = changed_paths(root)
    events = {p for p in paths if EVENTS_RE.match(p)}
    assert len(events) == 1, paths
    assert paths == expected | events | {"WORKING.md"}, paths
    text = message(root)
    assert text.startswith("agentctl: "), text
    # the commit names its event, and that event is the last line of the committed log
    event_id = re.search(r"^Event: (e-[0-9a-z]+)$", text, re.MULTILINE)
    assert event_id, text
    (events_path,) = events
    last = json.loads(git(root, "show", f"HEAD:{events_path}").splitlines()[-1])
    assert last["id"] == event_id.group(1)
    return text


def task_rel(task_id: str) -> str:
    return f".agentctl/tasks/{task_id}.md"


# -- one commit per mutation ------------------------------------------------------------------


def test_each_mutation_is_exactly_one_commit(ws_root: Path, cli: Runner) -> None:
    assert git(ws_root, "status", "--porcelain", "--untracked-files=all") == ""
    before = head(ws_root)
    assert cli("agent", "add", "dev-1", "--role", "developer").code == 0
    assert_one_commit(
        ws_root, before, {".agentctl/agents/dev-1.md", ".agentctl/agents/dev-1.state.yaml"}
    )
    assert author(ws_root)[:2] == (GIT_USER_NAME, GIT_USER_EMAIL)

    before = head(ws_root)
    r = cli("task", "add", "Committed task", "--json")
    assert r.code == 0, str(r)
    t = r.json()["task"]["id"]
    text = assert_one_commit(ws_root, before, {task_rel(t)})
    assert text.startswith(f'agentctl: created {t} "Committed task"'), text

    steps: list[tuple[tuple[str, ...], set[str]]] = [
        (("task", "edit", t, "--title", "Renamed"), {task_rel(t)}),
        (("task", "assign", t, "dev-1"), {task_rel(t)}),
        (("task", "move", t, "in_progress", "--note", "go"), {task_rel(t)}),
        (("agent", "status", "dev-1", "active"), {".agentctl/agents/dev-1.state.yaml"}),
        (("note", "a note"), set()),
        (("agent", "edit", "dev-1", "--role", "reviewer"), {".agentctl/agents/dev-1.md"}),
    ]
    for args, expected in steps:
        before = head(ws_root)
        r = cli(*args)
        assert r.code == 0, str(r)
        assert_one_commit(ws_root, before, expected)
        assert git(ws_root, "status", "--porcelain", "--untracked-files=all") == "", args


def test_multi_file_mutations_commit_all_their_files(ws_root: Path, cli: Runner) -> None:
    make_team(cli)
    base = add_task(cli, "base", "--assign", "dev-1")
    dependent = add_task(cli, "dependent", "--depends-on", base, "--assign", "dev-1")
    child = add_task(cli, "child", "--parent", base)
    before = head(ws_root)
    assert cli("task", "rm", base, "--force").code == 0
    assert_one_commit(ws_root, before, {task_rel(base), task_rel(dependent), task_rel(child)})
    assert git(ws_root, "ls-files", task_rel(base)) == ""

    before = head(ws_root)
    assert cli("agent", "rm", "dev-1", "--force").code == 0
    assert_one_commit(
        ws_root,
        before,
        {".agentctl/agents/dev-1.md", ".agentctl/agents/dev-1.state.yaml", task_rel(dependent)},
    )
    assert git(ws_root, "status", "--porcelain", "--untracked-files=all") == ""


def test_refused_mutation_makes_no_commit(ws_root: Path, cli: Runner) -> None:
    t = add_task(cli, "stays")
    before = head(ws_root)
    assert cli("task", "move", t, "done").code == ExitCode.CONFLICT
    assert head(ws_root) == before
    assert git(ws_root, "status", "--porcelain", "--untracked-files=all") == ""


def test_agent_is_the_author(ws_root: Path, cli: Runner) -> None:
    make_team(cli)
    t = add_task(cli, "agent work")
    before = head(ws_root)
    r = cli("--as", "dev-1", "task", "claim", t)
    assert r.code == 0, str(r)
    text = assert_one_commit(ws_root, before, {task_rel(t)})
    assert "Actor: dev-1" in text
    name, email, committer, _ = author(ws_root)
    assert (name, email) == ("dev-1", "dev-1@agents.agentctl")
    assert committer == GIT_USER_NAME

    before = head(ws_root)
    assert cli("task", "move", t, "review", env={"AGENTCTL_AGENT": "dev-1"}).code == 0
    assert_one_commit(ws_root, before, {task_rel(t)})
    assert author(ws_root)[:2] == ("dev-1", "dev-1@agents.agentctl")

    before = head(ws_root)
    assert cli("task", "move", t, "done").code == 0  # the human
    assert_one_commit(ws_root, before, {task_rel(t)})
    assert author(ws_root)[:2] == (GIT_USER_NAME, GIT_USER_EMAIL)
    assert "Actor: Test User" in message(ws_root)


# -- the user's own work ------------------------------------------------------------------------


def test_users_staged_and_unstaged_changes_are_untouched(ws_root: Path, cli: Runner) -> None:
    (ws_root / "other.txt").write_text("other v1\n", encoding="utf-8")
    git(ws_root, "add", "other.txt")
    git(ws_root, "commit", "-q", "-m", "add other.txt")
    # a staged change to README, then an unstaged change on top of it
    (ws_root / "README.md").write_text("# staged version\n", encoding="utf-8")
    git(ws_root, "add", "README.md")
    (ws_root / "README.md").write_text(
        "# staged version\nplus an unstaged line\n", encoding="utf-8"
    )
    # an unstaged change to another file, and an untracked file
    (ws_root / "other.txt").write_text("other v2 (unstaged)\n", encoding="utf-8")
    (ws_root / "scratch.txt").write_text("untracked\n", encoding="utf-8")

    staged, unstaged = (
        git(ws_root, "diff", "--cached", "--binary"),
        git(ws_root, "diff", "--binary"),
    )
    status = git(ws_root, "status", "--porcelain", "--untracked-files=all")
    readme, other = (ws_root / "README.md").read_bytes(), (ws_root / "other.txt").read_bytes()
    start = head(ws_root)

    make_team(cli, runtime="manual")  # no config commit: the user's staged changes stay as they are
    t = add_task(cli, "first")
    u = add_task(cli, "second", "--depends-on", t)
    for args in (("task", "assign", t, "dev-1"), ("--as", "dev-1", "task", "move", t, "in_progress"),
                 ("note", "hello"), ("task", "rm", u), ("agent", "status", "dev-2", "blocked")):  # fmt: skip
        r = cli(*args)
        assert r.code == 0, str(r)

    assert git(ws_root, "diff", "--cached", "--binary") == staged
    assert git(ws_root, "diff", "--binary") == unstaged
    assert git(ws_root, "status", "--porcelain", "--untracked-files=all") == status
    assert (ws_root / "README.md").read_bytes() == readme
    assert (ws_root / "other.txt").read_bytes() == other
    commits = git(ws_root, "rev-list", f"{start}..HEAD").split()
    assert len(commits) == 4 + 2 + 5
    for sha in commits:
        paths = changed_paths(ws_root, sha)
        assert not paths & {"README.md", "other.txt", "scratch.txt"}, (sha, paths)
        assert all(p.startswith(".agentctl/") or p == "WORKING.md" for p in paths), paths
        assert message(ws_root, sha).startswith("agentctl: ")
    # the committed README is still the original one
    assert git(ws_root, "show", "HEAD:README.md") == "# test project\n"


def test_workspace_in_a_subdirectory_of_the_repo(git_repo: Path, cli: Runner) -> None:
    sub = git_repo / "project"
    sub.mkdir()
    r = cli("init", cwd=sub)
    assert r.code == 0, str(r)
    before = head(git_repo)
    r = cli("task", "add", "nested", "--json", cwd=sub)
    assert r.code == 0, str(r)
    t = r.json()["task"]["id"]
    paths = changed_paths(git_repo)
    assert f"project/{task_rel(t)}" in paths and "project/WORKING.md" in paths
    assert all(p.startswith("project/") for p in paths), paths
    assert git(git_repo, "rev-parse", "HEAD~1").strip() == before
    assert git(git_repo, "status", "--porcelain", "--untracked-files=all") == ""


# -- switching it off, no git -----------------------------------------------------------------


def test_autocommit_off_by_env(ws_root: Path, cli: Runner) -> None:
    before, count = head(ws_root), commit_count(ws_root)
    env = {"AGENTCTL_AUTOCOMMIT": "0"}
    r = cli("task", "add", "uncommitted", "--json", env=env)
    assert r.code == 0, str(r)
    t = r.json()["task"]["id"]
    assert cli("task", "move", t, "in_progress", env=env).code == 0
    assert head(ws_root) == before and commit_count(ws_root) == count
    status = git(ws_root, "status", "--porcelain", "--untracked-files=all")
    assert task_rel(t) in status and "WORKING.md" in status
    # nothing was staged either
    assert git(ws_root, "diff", "--cached") == ""
    assert cli("validate").code == 0


def test_autocommit_off_in_config(ws_root: Path, cli: Runner) -> None:
    config = ws_root / ".agentctl" / "config.yaml"
    config.write_text(
        config.read_text(encoding="utf-8").replace("autocommit: true", "autocommit: false"),
        encoding="utf-8",
    )
    git(ws_root, "commit", "-q", "-am", "turn auto-commit off")
    before = head(ws_root)
    assert cli("task", "add", "not committed").code == 0
    assert head(ws_root) == before
    # the environment wins over the file
    assert cli("task", "add", "committed", env={"AGENTCTL_AUTOCOMMIT": "1"}).code == 0
    assert head(ws_root) != before


def test_outside_a_git_repo(tmp_path: Path, cli: Runner) -> None:
    plain = tmp_path / "nogit"
    plain.mkdir()
    assert cli("init", cwd=plain).code == 0
    make_team(cli, cwd=plain)
    r = cli("task", "add", "no git here", "--json", cwd=plain)
    assert r.code == 0, str(r)
    assert r.err == ""
    t = r.json()["task"]["id"]
    for args in (("task", "move", t, "in_progress"), ("--as", "dev-1", "task", "claim", t), ("note", "ok"),
                 ("agent", "rm", "dev-2"), ("task", "rm", t)):  # fmt: skip
        r = cli(*args, cwd=plain)
        assert r.code == 0, str(r)
        assert "error" not in r.err
    assert not (plain / ".git").exists()
    assert cli("validate", cwd=plain).code == 0


# -- git failures -------------------------------------------------------------------------------


def test_stale_index_lock_is_a_git_error(ws_root: Path, cli: Runner) -> None:
    lock = ws_root / ".git" / "index.lock"
    lock.write_text("", encoding="utf-8")
    before = head(ws_root)
    files_before = snapshot(ws_root)
    r = cli("task", "add", "blocked by git")
    assert_one_line_error(r, ExitCode.GIT, "index.lock")
    assert str(lock) in r.err
    assert head(ws_root) == before
    assert lock.exists()  # never deleted behind the user's back
    assert snapshot(ws_root) == files_before  # refused before anything was written
    v = cli("validate")
    assert v.code == 0, str(v)
    lock.unlink()
    # the next mutation works again, commits only its own files, and leaves nothing behind
    r = cli("task", "add", "after the lock")
    assert r.code == 0, str(r)
    assert git(ws_root, "rev-parse", "HEAD~1").strip() == before
    assert git(ws_root, "status", "--porcelain", "--untracked-files=all") == ""
    v = cli("validate")
    assert v.code == 0, str(v)


@pytest.mark.parametrize(
    "env", [{"GIT_DIR": "/nonexistent"}, {"GIT_INDEX_FILE": "/nonexistent/index"}]
)
def test_inherited_git_env_is_ignored(ws_root: Path, cli: Runner, env: dict[str, str]) -> None:
    """As in a git hook: the commit still lands in the workspace's repo with a clean index."""
    before = head(ws_root)
    r = cli("task", "add", "from a hook", env=env)
    assert r.code == 0, str(r)
    assert git(ws_root, "rev-parse", "HEAD~1").strip() == before
    assert git(ws_root, "status", "--porcelain", "--untracked-files=all") == ""


def test_repo_without_identity_still_commits(tmp_path: Path, cli: Runner) -> None:
    root = make_git_repo(tmp_path / "anon")
    git(root, "config", "--unset", "user.name")
    git(root, "config", "--unset", "user.email")
    r = cli("init", cwd=root)
    assert r.code == 0, str(r)
    r = cli("task", "add", "anonymous", cwd=root)
    assert r.code == 0, str(r)
    assert message(root).startswith("agentctl: ")
    assert "Actor: tester" in message(root)  # $USER names the human without git identity
