"""`agentctl hooks install|uninstall|status`, with real git running the installed hooks."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest
from conftest import GIT_USER_EMAIL, Result, git, run_cli

from agentctl.workspace.githooks import BEGIN, HOOKS, USER_SUFFIX


@pytest.fixture(autouse=True)
def _no_repo_above(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))


def cli(root: Path, *args: str) -> Result:
    return run_cli(*args, cwd=root)


def ok(root: Path, *args: str) -> Result:
    result = cli(root, *args)
    assert result.code == 0, str(result)
    return result


def commit(root: Path, message: str, *paths: str) -> subprocess.CompletedProcess[str]:
    """A real `git commit`: git runs the installed hooks."""
    git(root, "add", "--", *paths)
    return subprocess.run(
        ["git", "commit", "-q", "-m", message],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )


def _code_change(root: Path, name: str = "app.py") -> str:
    path = root / name
    path.write_text(f"print({len(path.read_text()) if path.exists() else 0})\n")
    return name


def test_install_status_uninstall(git_ws_root: Path) -> None:
    result = ok(git_ws_root, "hooks", "install", "--json").json()
    assert set(result["hooks"]) == set(HOOKS)
    hooks_dir = git_ws_root / ".git" / "hooks"
    for hook in HOOKS:
        path = hooks_dir / hook
        assert BEGIN in path.read_text()
        assert path.stat().st_mode & stat.S_IXUSR
    status = ok(git_ws_root, "hooks", "status", "--json").json()
    assert set(status["hooks"].values()) == {"installed"}
    assert status["merge_drivers"] == {"agentctl-working": "ok", "agentctl-record": "ok"}
    again = ok(git_ws_root, "hooks", "install", "--json").json()
    assert set(again["hooks"].values()) == {"unchanged"}
    ok(git_ws_root, "hooks", "uninstall")
    assert not any((hooks_dir / hook).exists() for hook in HOOKS)
    status = ok(git_ws_root, "hooks", "status", "--json").json()
    assert set(status["hooks"].values()) == {"missing"}
    assert set(status["merge_drivers"].values()) == {"missing"}


def test_a_commit_mentioning_a_task_links_it_and_closes_moves_it_to_review(
    git_ws_root: Path,
) -> None:
    ok(git_ws_root, "hooks", "install")
    task = ok(git_ws_root, "task", "add", "Parser", "--json").json()["task"]["id"]
    other = ok(git_ws_root, "task", "add", "Lexer", "--json").json()["task"]["id"]
    ok(git_ws_root, "task", "move", task, "in_progress")
    message = f"Fix the parser\n\nCloses {task}\nRefs {other[:6].upper()}"
    proc = commit(git_ws_root, message, _code_change(git_ws_root))
    assert proc.returncode == 0, proc.stderr
    sha = git(git_ws_root, "log", "-1", "--format=%H", "--", "app.py").strip()
    for task_id in (task, other):
        messages = ok(git_ws_root, "thread", task_id, "--json").json()["thread"]["messages"]
        linked = [m for m in messages if sha in m["body"]]
        assert len(linked) == 1, messages
        assert "Fix the parser" in linked[0]["body"]
    assert ok(git_ws_root, "task", "show", task, "--json").json()["task"]["status"] == "review"
    assert ok(git_ws_root, "task", "show", other, "--json").json()["task"]["status"] != "review"
    assert git(git_ws_root, "status", "--porcelain") == ""
    # A commit without a mention links nothing.
    before = git(git_ws_root, "rev-list", "--count", "HEAD")
    assert commit(git_ws_root, "Tidy", _code_change(git_ws_root)).returncode == 0
    assert int(git(git_ws_root, "rev-list", "--count", "HEAD")) == int(before) + 1


def test_amending_a_linked_commit_does_not_link_it_again(
    git_ws_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ok(git_ws_root, "hooks", "install")
    task = ok(git_ws_root, "task", "add", "Amended", "--json").json()["task"]["id"]
    # Auto-commit off: the link is not committed, so the user's commit stays HEAD.
    monkeypatch.setenv("AGENTCTL_AUTOCOMMIT", "0")
    assert commit(git_ws_root, f"Work on {task}", _code_change(git_ws_root)).returncode == 0
    first = git(git_ws_root, "rev-parse", "HEAD").strip()
    assert git(git_ws_root, "log", "-1", "--format=%s").strip() == f"Work on {task}"
    (git_ws_root / "app.py").write_text("print('amended')\n")
    git(git_ws_root, "add", "app.py")
    amended = subprocess.run(
        ["git", "commit", "-q", "--amend", "--no-edit"], cwd=git_ws_root, capture_output=True
    )
    assert amended.returncode == 0
    assert git(git_ws_root, "rev-parse", "HEAD").strip() != first
    messages = ok(git_ws_root, "thread", task, "--json").json()["thread"]["messages"]
    assert [first in m["body"] for m in messages] == [True]
    # A new commit with another subject is linked.
    assert commit(git_ws_root, f"More on {task}", _code_change(git_ws_root)).returncode == 0
    assert len(ok(git_ws_root, "thread", task, "--json").json()["thread"]["messages"]) == 2


def test_closes_moves_to_done_when_configured_and_allowed(git_ws_root: Path) -> None:
    config = git_ws_root / ".agentctl" / "config.yaml"
    config.write_text(config.read_text().replace("closes_to: review", "closes_to: done"))
    git(git_ws_root, "commit", "-q", "-m", "config", "--", str(config))
    ok(git_ws_root, "hooks", "install")
    in_review = ok(git_ws_root, "task", "add", "Reviewed", "--json").json()["task"]["id"]
    for status in ("in_progress", "review"):
        ok(git_ws_root, "task", "move", in_review, status)
    fresh = ok(git_ws_root, "task", "add", "Not started", "--json").json()["task"]["id"]
    proc = commit(
        git_ws_root, f"Finish\n\nCloses {in_review}\nCloses {fresh}", _code_change(git_ws_root)
    )
    assert proc.returncode == 0, proc.stderr
    assert ok(git_ws_root, "task", "show", in_review, "--json").json()["task"]["status"] == "done"
    # The workflow does not let a task that never started jump to done: it stays, with a warning.
    assert f"{fresh}: not moved to done" in proc.stderr
    assert ok(git_ws_root, "task", "show", fresh, "--json").json()["task"]["status"] != "done"


def test_commit_msg_refuses_a_reference_to_no_task(git_ws_root: Path) -> None:
    ok(git_ws_root, "hooks", "install")
    proc = commit(git_ws_root, "Fix\n\nCloses t-zzzzzzzz", _code_change(git_ws_root))
    assert proc.returncode != 0
    assert "t-zzzzzzzz: no such task" in proc.stderr
    assert git(git_ws_root, "rev-list", "--count", "HEAD").strip() != ""


def test_pre_commit_refuses_a_staged_broken_record(git_ws_root: Path) -> None:
    ok(git_ws_root, "hooks", "install")
    task = ok(git_ws_root, "task", "add", "Broken soon", "--json").json()["task"]["id"]
    rel = f".agentctl/tasks/{task}.md"
    path = git_ws_root / rel
    good = path.read_text()
    head = git(git_ws_root, "rev-parse", "HEAD")

    path.write_text(good.replace("priority: 2", "priority: 9"))
    proc = commit(git_ws_root, "hand edit", rel)
    assert proc.returncode != 0
    assert f"{rel}:" in proc.stderr and "priority" in proc.stderr
    assert git(git_ws_root, "rev-parse", "HEAD") == head

    path.write_text(good.replace("depends_on: []", "depends_on: [t-aaaaaaaaaaaa]"))
    proc = commit(git_ws_root, "hand edit", rel)
    assert "refers to missing task t-aaaaaaaaaaaa" in proc.stderr

    path.write_text(good.replace("title: Broken soon", "<<<<<<< ours\ntitle: Broken soon"))
    proc = commit(git_ws_root, "hand edit", rel)
    assert "unresolved git merge conflict marker" in proc.stderr

    key = "sk-" + "a1B2" * 8
    path.write_text(good + f"\nkey {key}\n")
    proc = commit(git_ws_root, "hand edit", rel)
    assert "holds a secret" in proc.stderr and key not in proc.stderr
    assert git(git_ws_root, "rev-parse", "HEAD") == head

    # The staged version is checked, not the work tree's.
    path.write_text(good.replace("Broken soon", "Fixed"))
    git(git_ws_root, "add", rel)
    path.write_text(good.replace("priority: 2", "priority: 9"))
    proc = subprocess.run(
        ["git", "commit", "-q", "-m", "fixed"], cwd=git_ws_root, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr


def test_a_users_hooks_keep_running_and_survive_uninstall(git_ws_root: Path) -> None:
    hooks_dir = git_ws_root / ".git" / "hooks"
    shell_hook = '#!/bin/sh\necho shell-ran >> "$(git rev-parse --git-dir)/user-pre-commit.log"\n'
    python_hook = (
        "#!/usr/bin/env python3\nimport subprocess, sys\n"
        "d = subprocess.check_output(['git', 'rev-parse', '--git-dir'], text=True).strip()\n"
        "open(d + '/user-post-commit.log', 'a').write('python-ran\\n')\n"
    )
    (hooks_dir / "pre-commit").write_text(shell_hook)
    (hooks_dir / "post-commit").write_text(python_hook)
    for name in ("pre-commit", "post-commit"):
        (hooks_dir / name).chmod(0o755)
    result = ok(git_ws_root, "hooks", "install", "--json").json()["hooks"]
    assert result["pre-commit"].startswith("chained")
    assert result["post-commit"].startswith("chained")
    assert (hooks_dir / ("post-commit" + USER_SUFFIX)).read_text() == python_hook

    task = ok(git_ws_root, "task", "add", "Chained", "--json").json()["task"]["id"]
    proc = commit(git_ws_root, f"Work on {task}", _code_change(git_ws_root))
    assert proc.returncode == 0, proc.stderr
    assert (git_ws_root / ".git" / "user-pre-commit.log").read_text() == "shell-ran\n"
    assert (git_ws_root / ".git" / "user-post-commit.log").read_text() == "python-ran\n"
    messages = ok(git_ws_root, "thread", task, "--json").json()["thread"]["messages"]
    assert any("Work on" in m["body"] for m in messages)

    # The user's pre-commit still refuses a commit after ours passed.
    (hooks_dir / "pre-commit").write_text((hooks_dir / "pre-commit").read_text() + "exit 1\n")
    assert commit(git_ws_root, "refused by the user's hook", _code_change(git_ws_root)).returncode

    ok(git_ws_root, "hooks", "uninstall")
    assert (hooks_dir / "pre-commit").read_text() == shell_hook + "exit 1\n"
    assert (hooks_dir / "post-commit").read_text() == python_hook
    assert not (hooks_dir / ("post-commit" + USER_SUFFIX)).exists()
    assert os.access(hooks_dir / "post-commit", os.X_OK)


def test_core_hooks_path_is_respected_and_never_set(git_ws_root: Path) -> None:
    git(git_ws_root, "config", "core.hooksPath", ".githooks")
    ok(git_ws_root, "hooks", "install")
    assert BEGIN in (git_ws_root / ".githooks" / "pre-commit").read_text()
    assert not (git_ws_root / ".git" / "hooks" / "pre-commit").exists()
    assert git(git_ws_root, "config", "core.hooksPath").strip() == ".githooks"
    status = ok(git_ws_root, "hooks", "status", "--json").json()
    assert status["hooks_path"] == ".githooks"
    ok(git_ws_root, "hooks", "uninstall")
    assert git(git_ws_root, "config", "core.hooksPath").strip() == ".githooks"


def test_hooks_outside_git_are_a_usage_error(ws_root: Path) -> None:
    r = cli(ws_root, "hooks", "install")
    assert r.code == 2, str(r)
    assert "not inside a git repository" in r.err


def _clone(tmp_path: Path, remote: Path, name: str) -> Path:
    root = tmp_path / name
    git(tmp_path, "clone", "-q", str(remote), str(root))
    git(root, "config", "user.name", f"Machine {name}")
    git(root, "config", "user.email", GIT_USER_EMAIL)
    ok(root, "hooks", "install")
    return root


@pytest.mark.parametrize("mode", ["--no-rebase", "--rebase"])
def test_working_md_is_current_and_committed_right_after_a_pull(
    git_ws_root: Path, tmp_path: Path, mode: str
) -> None:
    ok(git_ws_root, "agent", "add", "alice", "--role", "developer")
    shared = ok(git_ws_root, "task", "add", "Shared", "--json").json()["task"]["id"]
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    git(git_ws_root, "branch", "-M", "main")
    git(git_ws_root, "push", "-q", str(remote), "main")
    a, b = _clone(tmp_path, remote, "a"), _clone(tmp_path, remote, "b")
    ok(a, "task", "add", "Only on A")
    ok(a, "task", "edit", shared, "--label", "from-a")
    ok(b, "task", "add", "Only on B")
    ok(b, "--as", "alice", "task", "comment", shared, "from B")
    git(b, "push", "-q", "origin", "main")
    proc = subprocess.run(
        ["git", "pull", mode, "--no-edit", "origin", "main"],
        cwd=a,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert git(a, "status", "--porcelain") == ""
    on_disk = (a / "WORKING.md").read_text(encoding="utf-8")
    document = json.loads(cli(a, "working", "--json").out)
    assert document["rerendered"] is False, "the hook left WORKING.md stale"
    assert document["text"] == on_disk
    assert "Only on A" in on_disk and "Only on B" in on_disk
    assert git(a, "log", "-1", "--format=%s").strip() == "agentctl: re-render WORKING.md"


@pytest.mark.slow
def test_the_shipped_pre_commit_hook_definition_runs_under_pre_commit(
    git_ws_root: Path, tmp_path: Path
) -> None:
    """The real `pre-commit` tool (a dev dependency) builds agentctl from this checkout with
    .pre-commit-hooks.yaml and runs the hook on a workspace: it passes, then names a broken
    record."""
    import shutil
    import sys

    import agentctl

    source = Path(agentctl.__file__).resolve().parents[2]
    assert (source / ".pre-commit-hooks.yaml").is_file()
    tool = Path(sys.executable).parent / "pre-commit"
    assert tool.exists() or shutil.which("pre-commit"), "pre-commit is in the dev extras"
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "GIT_CEILING_DIRECTORIES": "",  # pre-commit clones the source checkout
    }
    command = [sys.executable, "-m", "pre_commit", "try-repo", str(source), "agentctl-validate"]
    task = ok(git_ws_root, "task", "add", "Checked by pre-commit", "--json").json()["task"]["id"]
    passed = subprocess.run(
        [*command, "--all-files"], cwd=git_ws_root, capture_output=True, text=True, env=env
    )
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "agentctl validate" in passed.stdout and "Passed" in passed.stdout
    path = git_ws_root / ".agentctl" / "tasks" / f"{task}.md"
    path.write_text(path.read_text().replace("priority: 2", "priority: 9"))
    git(git_ws_root, "add", "-A")
    failed = subprocess.run(
        [*command, "--all-files"], cwd=git_ws_root, capture_output=True, text=True, env=env
    )
    assert failed.returncode != 0
    assert f".agentctl/tasks/{task}.md" in failed.stdout, failed.stdout


def test_a_workspace_in_a_subdirectory_of_the_repository(git_repo: Path) -> None:
    sub = git_repo / "team"
    assert run_cli("init", str(sub), cwd=git_repo).code == 0
    ok(sub, "hooks", "install")
    task = ok(sub, "task", "add", "In a subdirectory", "--json").json()["task"]["id"]
    proc = commit(git_repo, f"Refs {task}", _code_change(git_repo))
    assert proc.returncode == 0, proc.stderr
    messages = ok(sub, "thread", task, "--json").json()["thread"]["messages"]
    assert len(messages) == 1 and "Refs" in messages[0]["body"]
    record = sub / ".agentctl" / "tasks" / f"{task}.md"
    record.write_text(record.read_text().replace("priority: 2", "priority: 9"))
    proc = commit(git_repo, "hand edit", str(record.relative_to(git_repo)))
    assert proc.returncode != 0
    assert f".agentctl/tasks/{task}.md:" in proc.stderr


def test_a_branch_switch_rerenders_a_stale_working_md(git_ws_root: Path) -> None:
    ok(git_ws_root, "hooks", "install")
    task = ok(git_ws_root, "task", "add", "Old title", "--json").json()["task"]["id"]
    main = git(git_ws_root, "rev-parse", "--abbrev-ref", "HEAD").strip()
    git(git_ws_root, "checkout", "-q", "-b", "feature")
    # A hand edit committed with plain git: the branch's WORKING.md is now stale.
    record = git_ws_root / ".agentctl" / "tasks" / f"{task}.md"
    record.write_text(record.read_text().replace("title: Old title", "title: New title"))
    assert commit(git_ws_root, "retitle by hand", str(record)).returncode == 0
    git(git_ws_root, "checkout", "-q", main)
    assert git(git_ws_root, "log", "-1", "--format=%s", main).strip() != (
        "agentctl: re-render WORKING.md"
    )
    git(git_ws_root, "checkout", "-q", "feature")
    assert "New title" in (git_ws_root / "WORKING.md").read_text(encoding="utf-8")
    assert git(git_ws_root, "log", "-1", "--format=%s").strip() == "agentctl: re-render WORKING.md"
    assert git(git_ws_root, "status", "--porcelain") == ""
