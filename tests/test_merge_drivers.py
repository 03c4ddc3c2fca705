"""agentctl's git merge drivers, through real git: a bare remote and two clones.

Task records merge field by field (different fields both survive, labels as a set, the same
scalar changed on both sides is a conflict left between markers); WORKING.md keeps one
rendering. The drivers are configured by `init` / `hooks install` in .git/config, which a
fresh clone does not have (doctor warns).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import GIT_USER_EMAIL, Result, git, run_cli

from agentctl.core.fieldmerge import merge_fields, merge_set
from agentctl.vcs_merge import merge_record


class Clone:
    def __init__(self, root: Path) -> None:
        self.root = root

    def run(self, *args: str) -> Result:
        return run_cli("-W", str(self.root), *args, cwd=self.root)

    def ok(self, *args: str) -> Result:
        result = self.run(*args)
        assert result.code == 0, str(result)
        return result

    def task(self, task_id: str) -> dict[str, Any]:
        task: dict[str, Any] = self.ok("task", "show", task_id, "--json").json()["task"]
        return task

    def pull(self, mode: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["git", "pull", mode, "--no-edit", "origin", "main"],
            cwd=self.root,
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "PATH": os.path.dirname(shutil.which("git") or "/usr/bin/git")},
        )


def _configure(root: Path, name: str) -> None:
    git(root, "config", "user.name", name)
    git(root, "config", "user.email", GIT_USER_EMAIL)
    git(root, "config", "commit.gpgsign", "false")


@pytest.fixture(autouse=True)
def _no_repo_above(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))


@pytest.fixture
def clones(tmp_path: Path) -> tuple[Clone, Clone, str]:
    """A bare remote, clone A (init, an agent, a task; pushed), clone B (hooks install)."""
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    a = Clone(tmp_path / "a")
    a.root.mkdir()
    git(a.root, "init", "-q", "-b", "main")
    _configure(a.root, "Machine A")
    a.ok("init")
    a.ok("agent", "add", "alice", "--role", "developer")
    task_id: str = a.ok("task", "add", "Shared", "--label", "base", "--json").json()["task"]["id"]
    git(a.root, "remote", "add", "origin", str(remote))
    git(a.root, "push", "-q", "-u", "origin", "main")
    b = Clone(tmp_path / "b")
    git(tmp_path, "clone", "-q", str(remote), str(b.root))
    _configure(b.root, "Machine B")
    b.ok("hooks", "install")
    return a, b, task_id


@pytest.mark.parametrize("mode", ["--no-rebase", "--rebase"])
def test_different_fields_of_one_task_merge_cleanly(
    clones: tuple[Clone, Clone, str], mode: str
) -> None:
    a, b, task_id = clones
    a.ok("task", "edit", task_id, "--priority", "0", "--label", "from-a")
    b.ok("task", "edit", task_id, "--title", "Shared, renamed on B", "--label", "from-b")
    b.ok("task", "edit", task_id, "--remove-label", "base")
    git(b.root, "push", "-q", "origin", "main")
    # git is called with only its own directory on PATH: the driver does not need agentctl there.
    proc = a.pull(mode)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "CONFLICT" not in proc.stdout
    assert git(a.root, "status", "--porcelain") == ""
    task = a.task(task_id)
    assert task["priority"] == 0
    assert task["title"] == "Shared, renamed on B"
    assert sorted(task["labels"]) == ["from-a", "from-b"]  # union; B's removal of "base" kept
    assert a.run("validate").code == 0
    text = (a.root / "WORKING.md").read_text(encoding="utf-8")
    assert text.count("## Active agents") == 1


def test_same_scalar_field_on_both_sides_is_a_conflict_with_markers(
    clones: tuple[Clone, Clone, str],
) -> None:
    a, b, task_id = clones
    a.ok("task", "edit", task_id, "--priority", "0", "--label", "from-a")
    b.ok("task", "edit", task_id, "--priority", "3", "--title", "Renamed on B")
    git(b.root, "push", "-q", "origin", "main")
    proc = a.pull("--no-rebase")
    assert proc.returncode != 0
    assert f"CONFLICT (content): Merge conflict in .agentctl/tasks/{task_id}.md" in proc.stdout
    text = (a.root / ".agentctl" / "tasks" / f"{task_id}.md").read_text(encoding="utf-8")
    assert "<<<<<<< ours\npriority: 0\n=======\npriority: 3\n>>>>>>> theirs\n" in text
    # Only the conflicting field is between markers: the others merged.
    assert "title: Renamed on B\n" in text
    assert "from-a" in text
    r = a.run("validate")
    assert r.code == 6, str(r)
    assert f".agentctl/tasks/{task_id}.md:" in r.out
    assert "conflict marker" in r.out


def test_record_merge_unit_cases() -> None:
    base = "---\nid: t-aaaa1111bbbb\ntitle: T\nlabels: [x, y]\npriority: 2\nupdated_at: '2026-01-01T00:00:00Z'\n---\nbody\n"
    ours = base.replace("priority: 2", "priority: 1").replace(
        "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"
    )
    theirs = base.replace("[x, y]", "[x, y, z]").replace(
        "2026-01-01T00:00:00Z", "2026-01-03T00:00:00Z"
    )
    theirs = theirs.replace("body\n", "body\nmore from theirs\n")
    merged, conflicted = merge_record(base, ours, theirs)
    assert not conflicted
    assert merged == (
        "---\nid: t-aaaa1111bbbb\ntitle: T\nlabels: [x, y, z]\npriority: 1\n"
        "updated_at: '2026-01-03T00:00:00Z'\n---\nbody\nmore from theirs\n"
    )
    # The same body line changed on both sides: git's text conflict in the body.
    merged, conflicted = merge_record(
        base, base.replace("body", "ours body"), base.replace("body", "theirs body")
    )
    assert conflicted and "<<<<<<< ours\nours body\n=======\ntheirs body\n>>>>>>> theirs" in merged
    # A side that already holds markers is merged as text, never parsed.
    broken = base.replace("title: T", "<<<<<<< HEAD\ntitle: T")
    merged, _ = merge_record(base, broken, theirs)
    assert "<<<<<<< HEAD\ntitle: T\n" in merged and "more from theirs" in merged


def test_field_merge_rules() -> None:
    merged = merge_fields(
        {"a": 1, "b": [1, 2], "c": "x", "gone": 1},
        {"a": 2, "b": [1, 2, 3], "c": "x", "gone": 1, "new": "o"},
        {"a": 1, "b": [2, 4], "c": "y"},
    )
    assert merged.fields == {"a": 2, "b": [2, 3, 4], "c": "y", "new": "o"}
    assert merged.conflicts == []
    clash = merge_fields({"s": "todo"}, {"s": "review"}, {"s": "done"})
    assert clash.conflicts == ["s"] and clash.fields == {"s": "review"}
    assert clash.theirs == {"s": "done"}
    assert merge_set(["a"], ["a", "b"], ["c"]) == ["b", "c"]


def test_fresh_clone_without_drivers_gets_a_doctor_warning(tmp_path: Path) -> None:
    origin = tmp_path / "origin"
    origin.mkdir()
    git(origin, "init", "-q", "-b", "main")
    _configure(origin, "Origin")
    assert run_cli("init", str(origin), cwd=origin).code == 0
    assert "merge driver" not in run_cli("doctor", cwd=origin).err
    fresh = tmp_path / "fresh"
    git(tmp_path, "clone", "-q", str(origin), str(fresh))
    r = run_cli("doctor", cwd=fresh)
    assert r.code == 0, str(r)
    assert "merge driver agentctl-record is missing" in r.err
    assert "agentctl hooks install" in r.err
    assert run_cli("hooks", "install", cwd=fresh).code == 0
    assert "merge driver" not in run_cli("doctor", cwd=fresh).err
    # A moved virtualenv: the configured interpreter is gone.
    git(fresh, "config", "merge.agentctl-record.driver", "test -x /nonexistent/python && exec x")
    status = run_cli("hooks", "status", "--json", cwd=fresh).json()
    assert status["merge_drivers"]["agentctl-record"] == "stale"
    attributes = (fresh / ".gitattributes").read_text(encoding="utf-8")
    assert "/WORKING.md merge=agentctl-working" in attributes.splitlines()
    assert ".agentctl/tasks/*.md merge=agentctl-record" in attributes.splitlines()


def test_the_first_write_in_a_fresh_clone_configures_the_drivers(tmp_path: Path) -> None:
    """A clone nobody ran `hooks install` in gets the drivers with agentctl's first commit
    there, so a later plain `git pull` merges WORKING.md and the records with them."""
    origin = tmp_path / "origin"
    origin.mkdir()
    git(origin, "init", "-q", "-b", "main")
    _configure(origin, "Origin")
    assert run_cli("init", str(origin), cwd=origin).code == 0
    fresh = tmp_path / "fresh"
    git(tmp_path, "clone", "-q", str(origin), str(fresh))
    _configure(fresh, "Fresh")
    assert git(fresh, "config", "--get-regexp", "^merge\\.", check=False) == ""
    assert run_cli("task", "add", "first in the clone", cwd=fresh).code == 0
    configured = git(fresh, "config", "--get-regexp", "^merge\\.")
    assert "merge.agentctl-record.driver" in configured
    assert "merge.agentctl-working.driver" in configured
    assert "merge driver" not in run_cli("doctor", cwd=fresh).err
    # one task each side, then a plain pull: WORKING.md merges through the driver
    assert run_cli("task", "add", "from origin", cwd=origin).code == 0
    git(fresh, "pull", "-q", "--no-rebase", "--no-edit", "origin", "main")
    assert "<<<<<<<" not in (fresh / "WORKING.md").read_text(encoding="utf-8")


def test_init_replaces_the_old_union_line_for_working_md(git_repo: Path) -> None:
    assert run_cli("init", str(git_repo), cwd=git_repo).code == 0
    status = run_cli("hooks", "status", "--json", cwd=git_repo).json()
    assert status["attributes"] == {
        "agentctl-working": "agentctl-working",
        "agentctl-record": "agentctl-record",
    }
    # A workspace an older agentctl created: WORKING.md by union, no record lines.
    (git_repo / ".gitattributes").write_text("*.png binary\n/WORKING.md merge=union\n")
    status = run_cli("hooks", "status", "--json", cwd=git_repo).json()
    assert status["attributes"] == {"agentctl-working": "union", "agentctl-record": "unspecified"}
    r = run_cli("doctor", cwd=git_repo)
    assert ".gitattributes does not name the merge driver agentctl-record" in r.err
    assert run_cli("init", str(git_repo), cwd=git_repo).code == 0
    lines = (git_repo / ".gitattributes").read_text(encoding="utf-8").splitlines()
    assert "/WORKING.md merge=union" not in lines
    assert lines.count("/WORKING.md merge=agentctl-working") == 1
    assert lines[0] == "*.png binary"
    assert ".gitattributes" not in run_cli("doctor", cwd=git_repo).err


def test_agent_records_merge_field_by_field(clones: tuple[Clone, Clone, str]) -> None:
    a, b, _ = clones
    a.ok("agent", "edit", "alice", "--add-capability", "python", "--every", "30m")
    b.ok("agent", "edit", "alice", "--add-capability", "docs", "--role", "writer")
    git(b.root, "push", "-q", "origin", "main")
    proc = a.pull("--rebase")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    agent = a.ok("agent", "show", "alice", "--json").json()["agent"]
    assert sorted(agent["capabilities"]) == ["docs", "python"]
    assert agent["role"] == "writer"
    assert agent["heartbeat"]["every"] == "30m"
    assert a.run("validate").code == 0


def test_working_md_driver_keeps_ours_with_both_sides_notes() -> None:
    from agentctl.store.working import NOTES_END, NOTES_START
    from agentctl.vcs_merge import merge_working

    def page(state: str, *notes: str) -> str:
        return (
            f"# WORKING\n\nstate {state}\n\n## Notes\n\n{NOTES_START}\n"
            + "".join(f"{n}\n" for n in notes)
            + f"{NOTES_END}\n"
        )

    base = page("base", "- n1", "- n2")
    ours = page("ours", "- n1", "- n2", "- from ours")
    theirs = page("theirs", "- n1", "- from theirs")  # theirs removed n2
    assert merge_working(base, ours, theirs) == page("ours", "- n1", "- from ours", "- from theirs")
    assert merge_working(base, ours, base) == ours
    # ours without a Notes block gets one
    assert merge_working("", "# WORKING\n", page("t", "- t")).endswith(
        f"## Notes\n\n{NOTES_START}\n- t\n{NOTES_END}\n"
    )


def test_a_moved_virtualenv_falls_back_to_agentctl_on_path(
    clones: tuple[Clone, Clone, str],
) -> None:
    """The configured interpreter is gone: the driver runs `agentctl` from PATH instead."""
    import sys

    from agentctl.vcs_merge import DRIVERS, driver_command

    a, b, task_id = clones
    for name, (kind, _) in DRIVERS.items():
        git(a.root, "config", f"merge.{name}.driver", driver_command(kind, "/gone/venv/python"))
    a.ok("task", "edit", task_id, "--priority", "1")
    b.ok("task", "edit", task_id, "--title", "Renamed on B")
    git(b.root, "push", "-q", "origin", "main")
    path = os.pathsep.join(
        [str(Path(sys.executable).parent), os.path.dirname(shutil.which("git") or "/usr/bin/git")]
    )
    assert (Path(sys.executable).parent / "agentctl").exists()
    proc = subprocess.run(
        ["git", "pull", "--no-rebase", "--no-edit", "origin", "main"],
        cwd=a.root,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PATH": path},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    task = a.task(task_id)
    assert (task["priority"], task["title"]) == (1, "Renamed on B")
    status = a.ok("hooks", "status", "--json").json()["merge_drivers"]
    assert set(status.values()) == {"stale"}
