"""Tests for agentctl.vcs against real git repositories (no mocks)."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from agentctl import vcs
from agentctl.errors import GitError
from agentctl.vcs import Repo, find_repo, git_available

pytestmark = pytest.mark.skipif(not git_available(), reason="git is not installed")


def git(cwd: Path, *args: str, check: bool = True) -> str:
    """Run git in ``cwd`` and return its stdout."""
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr}")
    return proc.stdout


def git_bytes(cwd: Path, *args: str) -> bytes:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=True).stdout


@pytest.fixture(autouse=True)
def clean_git_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the developer's git configuration and identity out of the tests."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in (
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
        "EMAIL",
    ):
        monkeypatch.delenv(var, raising=False)


def init_repo(path: Path, identity: bool = True) -> None:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    if identity:
        git(path, "config", "user.name", "Repo Owner")
        git(path, "config", "user.email", "owner@example.com")


@pytest.fixture
def repo_dir(tmp_path: Path) -> Path:
    """A repository on branch main with one commit holding keep.txt, other.txt, third.txt."""
    root = tmp_path / "repo"
    init_repo(root)
    for name in ("keep.txt", "other.txt", "third.txt"):
        (root / name).write_text(f"{name} v1\n")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "initial")
    return root


@pytest.fixture
def repo(repo_dir: Path) -> Repo:
    found = find_repo(repo_dir)
    assert found is not None
    return found


def status(root: Path) -> str:
    return git(root, "status", "--porcelain")


def name_status(root: Path, rev: str = "HEAD") -> list[str]:
    out = git(root, "-c", "core.quotepath=off", "show", "--name-status", "--format=", rev)
    return sorted(line for line in out.splitlines() if line)


def no_temp_files(root: Path) -> bool:
    return (
        not list((root / ".git").glob("agentctl-index-*"))
        and not (root / ".git" / "index.lock").exists()
    )


# -- find_repo ---------------------------------------------------------------------------


def test_find_repo_from_root_subdir_file_and_missing_path(repo_dir: Path) -> None:
    (repo_dir / "sub").mkdir()
    for start in (
        repo_dir,
        repo_dir / "sub",
        repo_dir / "keep.txt",
        repo_dir / "sub" / "not" / "yet.md",
    ):
        found = find_repo(start)
        assert found is not None
        assert found.root == repo_dir.resolve()
        assert found.git_dir == (repo_dir / ".git").resolve()


def test_find_repo_outside_a_repo_is_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    plain = tmp_path / "plain"
    plain.mkdir()
    assert find_repo(plain) is None
    assert find_repo(plain / "missing.txt") is None


# -- commit_paths ------------------------------------------------------------------------


def test_commit_new_modified_and_deleted_files(repo_dir: Path, repo: Repo) -> None:
    old_head = repo.head()
    (repo_dir / "new.md").write_text("new\n")
    (repo_dir / "keep.txt").write_text("keep.txt v2\n")
    (repo_dir / "third.txt").unlink()

    sha = repo.commit_paths(
        [repo_dir / "new.md", Path("keep.txt"), repo_dir / "third.txt"],
        "agent: update files\n\nbody line",
        author_name="Agent Smith",
        author_email="smith@agents.test",
    )

    assert sha is not None and len(sha) == 40
    assert repo.head() == sha
    assert git(repo_dir, "rev-parse", "HEAD~1").strip() == old_head
    assert name_status(repo_dir) == ["A\tnew.md", "D\tthird.txt", "M\tkeep.txt"]
    assert git(repo_dir, "log", "-1", "--format=%an <%ae>|%s|%b").strip() == (
        "Agent Smith <smith@agents.test>|agent: update files|body line"
    )
    # The committer is the repository's configured identity.
    assert git(repo_dir, "log", "-1", "--format=%cn <%ce>").strip() == (
        "Repo Owner <owner@example.com>"
    )
    assert repo.log_subjects() == ["agent: update files", "initial"]
    assert status(repo_dir) == ""  # index and work tree agree with the commit
    # No stat-dirty entries either: plumbing diff-files does not refresh.
    assert git(repo_dir, "diff-files", "--name-only") == ""
    assert no_temp_files(repo_dir)


def test_user_staged_and_unstaged_changes_are_preserved(repo_dir: Path, repo: Repo) -> None:
    (repo_dir / "other.txt").write_text("other.txt staged\n")
    git(repo_dir, "add", "other.txt")
    (repo_dir / "other.txt").write_text("other.txt staged then edited\n")
    (repo_dir / "third.txt").write_text("third.txt unstaged\n")
    (repo_dir / "untracked.txt").write_text("untracked\n")
    cached_before = git_bytes(repo_dir, "diff", "--cached")
    unstaged_before = git_bytes(repo_dir, "diff")
    status_before = status(repo_dir)

    (repo_dir / "keep.txt").write_text("keep.txt v2\n")
    sha = repo.commit_paths([repo_dir / "keep.txt"], "agent: keep")

    assert sha is not None
    assert name_status(repo_dir) == ["M\tkeep.txt"]
    assert git_bytes(repo_dir, "diff", "--cached") == cached_before
    assert git_bytes(repo_dir, "diff") == unstaged_before
    assert status(repo_dir) == status_before


def test_unchanged_paths_return_none(repo_dir: Path, repo: Repo) -> None:
    head = repo.head()
    assert repo.commit_paths([repo_dir / "keep.txt"], "nothing") is None
    # A path that neither exists nor is tracked is no change either.
    assert repo.commit_paths([repo_dir / "ghost.txt"], "nothing") is None
    assert repo.commit_paths([], "nothing") is None
    assert repo.head() == head
    assert repo.log_subjects() == ["initial"]
    assert no_temp_files(repo_dir)


def test_root_commit_in_fresh_repo_without_identity(tmp_path: Path) -> None:
    root = tmp_path / "fresh"
    init_repo(root, identity=False)
    repo = find_repo(root)
    assert repo is not None
    assert repo.head() is None
    assert repo.log_subjects() == []
    assert repo.user_name() is None
    (root / "a.md").write_text("a\n")
    (root / "b.md").write_text("b\n")  # not ours: must stay untracked

    sha = repo.commit_paths([root / "a.md"], "first")

    assert sha is not None and repo.head() == sha
    assert git(root, "rev-parse", "refs/heads/main").strip() == sha
    assert git(root, "ls-tree", "-r", "--name-only", "HEAD").split() == ["a.md"]
    assert git(root, "rev-list", "--count", "HEAD").strip() == "1"
    # No identity configured anywhere: the fallback identity is used.
    assert git(root, "log", "-1", "--format=%an <%ae>|%cn <%ce>").strip() == (
        "agentctl <agentctl@localhost>|agentctl <agentctl@localhost>"
    )
    assert status(root) == "?? b.md\n"


def test_root_commit_of_nothing_returns_none(tmp_path: Path) -> None:
    root = tmp_path / "fresh"
    init_repo(root)
    repo = find_repo(root)
    assert repo is not None
    assert repo.commit_paths([root / "missing.md"], "nothing") is None
    assert repo.head() is None


def test_stale_index_lock_raises_and_commits_nothing(repo_dir: Path, repo: Repo) -> None:
    head = repo.head()
    lock = repo_dir / ".git" / "index.lock"
    lock.write_text("")
    (repo_dir / "keep.txt").write_text("keep.txt v2\n")

    started = time.monotonic()
    with pytest.raises(GitError) as excinfo:
        repo.commit_paths([repo_dir / "keep.txt"], "blocked")
    assert time.monotonic() - started < 10

    assert "index.lock" in str(excinfo.value)
    assert "\n" not in str(excinfo.value)
    assert excinfo.value.hint is not None and str(lock.resolve()) in excinfo.value.hint
    assert repo.head() == head
    assert lock.exists()  # someone else's lock is never deleted by us
    lock.unlink()
    assert repo.commit_paths([repo_dir / "keep.txt"], "unblocked") is not None


def test_path_outside_repo_is_refused(repo_dir: Path, repo: Repo, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("x\n")
    head = repo.head()
    for bad in (outside, Path("../outside.txt"), repo_dir, repo_dir / ".git" / "config"):
        with pytest.raises(GitError):
            repo.commit_paths([bad], "nope")
    assert repo.head() == head


def test_paths_with_spaces_and_unicode(repo_dir: Path, repo: Repo) -> None:
    sub = repo_dir / "dir with space"
    sub.mkdir()
    (sub / "tâche ü 任务.md").write_text("unicode\n")
    (repo_dir / "-dash.md").write_text("dash\n")
    sha = repo.commit_paths(
        [sub / "tâche ü 任务.md", Path("-dash.md"), Path("dir with space/../keep.txt")],
        "unicode ✓",
    )
    assert sha is not None
    assert name_status(repo_dir) == ["A\t-dash.md", "A\tdir with space/tâche ü 任务.md"]
    assert repo.log_subjects(1) == ["unicode ✓"]
    assert status(repo_dir) == ""


def test_staged_version_of_our_path_is_replaced_by_committed_one(
    repo_dir: Path, repo: Repo
) -> None:
    (repo_dir / "keep.txt").write_text("staged version\n")
    git(repo_dir, "add", "keep.txt")
    (repo_dir / "keep.txt").write_text("final version\n")
    assert repo.commit_paths([repo_dir / "keep.txt"], "final") is not None
    assert git(repo_dir, "show", "HEAD:keep.txt") == "final version\n"
    assert status(repo_dir) == ""


def test_branch_checked_out_advances(repo_dir: Path, repo: Repo) -> None:
    assert git(repo_dir, "symbolic-ref", "HEAD").strip() == "refs/heads/main"
    (repo_dir / "keep.txt").write_text("keep.txt v2\n")
    sha = repo.commit_paths([repo_dir / "keep.txt"], "advance")
    assert git(repo_dir, "symbolic-ref", "HEAD").strip() == "refs/heads/main"
    assert git(repo_dir, "rev-parse", "refs/heads/main").strip() == sha
    assert "commit (agentctl): advance" in git(repo_dir, "reflog", "-1", "main")


def test_detached_head_moves(repo_dir: Path, repo: Repo) -> None:
    git(repo_dir, "checkout", "-q", "--detach")
    main_before = git(repo_dir, "rev-parse", "main").strip()
    (repo_dir / "keep.txt").write_text("keep.txt v2\n")
    sha = repo.commit_paths([repo_dir / "keep.txt"], "detached")
    assert git(repo_dir, "rev-parse", "HEAD").strip() == sha
    assert git(repo_dir, "rev-parse", "main").strip() == main_before


def test_linked_worktree(repo_dir: Path, tmp_path: Path) -> None:
    wt = tmp_path / "wt"
    git(repo_dir, "worktree", "add", "-q", "-b", "side", str(wt))
    repo = find_repo(wt / "keep.txt")
    assert repo is not None and repo.root == wt.resolve()
    (wt / "keep.txt").write_text("side\n")
    sha = repo.commit_paths([wt / "keep.txt"], "on side")
    assert git(repo_dir, "rev-parse", "side").strip() == sha
    assert status(wt) == ""
    assert git(repo_dir, "log", "-1", "--format=%s", "main").strip() == "initial"


def test_user_name(repo: Repo) -> None:
    assert repo.user_name() == "Repo Owner"


def test_inherited_git_index_file_is_ignored(
    repo_dir: Path, repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # E.g. when run from inside a git hook: GIT_INDEX_FILE points at some other index.
    monkeypatch.setenv("GIT_INDEX_FILE", str(tmp_path / "foreign-index"))
    (repo_dir / "keep.txt").write_text("keep.txt v2\n")
    assert repo.commit_paths([repo_dir / "keep.txt"], "hooked") is not None
    monkeypatch.delenv("GIT_INDEX_FILE")
    assert not (tmp_path / "foreign-index").exists()
    assert status(repo_dir) == ""


def test_concurrent_commits_all_land(repo_dir: Path, repo: Repo) -> None:
    threads_n, rounds = 4, 10
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            for r in range(rounds):
                path = repo_dir / f"worker-{i}.md"
                path.write_text(f"worker {i} round {r}\n")
                assert repo.commit_paths([path], f"worker {i} round {r}") is not None
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert git(repo_dir, "rev-list", "--count", "HEAD").strip() == str(1 + threads_n * rounds)
    assert status(repo_dir) == ""
    for i in range(threads_n):
        assert git(repo_dir, "show", f"HEAD:worker-{i}.md") == f"worker {i} round {rounds - 1}\n"
    assert no_temp_files(repo_dir)


def test_head_moving_concurrently_is_retried(repo_dir: Path, repo: Repo) -> None:
    """A plumbing committer that takes no index lock races us: only the CAS protects HEAD."""
    rounds = 20
    stop = threading.Event()
    raw_commits: list[str] = []

    def plumbing_committer() -> None:
        # Empty commits on top of HEAD with its own compare-and-swap retry loop.
        while not stop.is_set() and len(raw_commits) < 8:
            old = git(repo_dir, "rev-parse", "HEAD").strip()
            tree = git(repo_dir, "rev-parse", "HEAD^{tree}").strip()
            new = git(repo_dir, "commit-tree", tree, "-p", old, "-m", "raw").strip()
            if (
                subprocess.run(
                    ["git", "update-ref", "HEAD", new, old], cwd=repo_dir, capture_output=True
                ).returncode
                == 0
            ):
                raw_commits.append(new)
            # Busy, but not a denial of service: a committer that always wins the race
            # starves any compare-and-swap loop, whatever its retry bound.
            time.sleep(random.uniform(0.05, 0.1))

    t = threading.Thread(target=plumbing_committer)
    t.start()
    try:
        ours = 0
        for r in range(rounds):
            path = repo_dir / "ours.md"
            path.write_text(f"round {r}\n")
            if repo.commit_paths([path], f"ours {r}") is not None:
                ours += 1
    finally:
        stop.set()
        t.join()

    assert ours == rounds
    subjects = repo.log_subjects(1000)
    assert subjects.count("raw") == len(raw_commits)
    assert sum(s.startswith("ours ") for s in subjects) == rounds
    assert git(repo_dir, "show", "HEAD:ours.md") == f"round {rounds - 1}\n"


_WORKER = """
import sys
from pathlib import Path
from agentctl.vcs import find_repo

root, i, rounds = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
repo = find_repo(root)
assert repo is not None
for r in range(rounds):
    path = root / f"proc-{i}.md"
    path.write_text(f"proc {i} round {r}\\n")
    assert repo.commit_paths([path], f"proc {i} round {r}") is not None
"""


def test_concurrent_processes_all_land(repo_dir: Path) -> None:
    procs_n, rounds = 4, 10
    env = dict(os.environ, PYTHONPATH=str(Path(vcs.__file__).resolve().parents[1]))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(repo_dir), str(i), str(rounds)],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(procs_n)
    ]
    failures = [p.communicate()[1] for p in procs if p.wait() != 0]
    assert failures == []
    assert git(repo_dir, "rev-list", "--count", "HEAD").strip() == str(1 + procs_n * rounds)
    assert status(repo_dir) == ""
    assert no_temp_files(repo_dir)


class _RacedRepo(Repo):
    """A Repo whose HEAD is moved by a real plumbing commit right after each of the first
    ``races`` times it reads HEAD: a deterministic stand-in for a concurrent committer."""

    races = 0

    def head(self) -> str | None:
        sha = super().head()
        if self.races > 0:
            object.__setattr__(self, "races", self.races - 1)
            tree = git(self.root, "rev-parse", "HEAD^{tree}").strip()
            new = git(self.root, "commit-tree", tree, "-p", "HEAD", "-m", "raced").strip()
            git(self.root, "update-ref", "HEAD", new)
        return sha


def test_cas_failure_retries_on_top_of_the_new_head(repo_dir: Path, repo: Repo) -> None:
    raced = _RacedRepo(root=repo.root, git_dir=repo.git_dir)
    object.__setattr__(raced, "races", 2)
    (repo_dir / "keep.txt").write_text("keep.txt v2\n")
    sha = raced.commit_paths([repo_dir / "keep.txt"], "after races")
    assert sha is not None and repo.head() == sha
    assert repo.log_subjects() == ["after races", "raced", "raced", "initial"]
    assert name_status(repo_dir) == ["M\tkeep.txt"]
    assert status(repo_dir) == ""


def test_head_moving_forever_gives_up_with_git_error(repo_dir: Path, repo: Repo) -> None:
    raced = _RacedRepo(root=repo.root, git_dir=repo.git_dir)
    object.__setattr__(raced, "races", 1000)
    (repo_dir / "keep.txt").write_text("keep.txt v2\n")
    with pytest.raises(GitError, match="HEAD kept moving"):
        raced.commit_paths([repo_dir / "keep.txt"], "never lands")
    assert "never lands" not in repo.log_subjects()
    assert no_temp_files(repo_dir)
    # The index entry was not touched: keep.txt still shows as modified, not staged.
    assert status(repo_dir) == " M keep.txt\n"


def test_head_read_from_files_agrees_with_git(tmp_path: Path) -> None:
    """Repo.head() reads HEAD and the branch ref without a process where the layout is the
    plain one; in every state it must say what `git rev-parse HEAD` says."""
    root = tmp_path / "r"
    init_repo(root)
    repo = find_repo(root)
    assert repo is not None

    def git_head(where: Path) -> str | None:
        proc = subprocess.run(
            ["git", "rev-parse", "-q", "--verify", "HEAD^{commit}"],
            cwd=where, capture_output=True, text=True, check=False,
        )  # fmt: skip
        return proc.stdout.strip() or None

    assert repo.head() is None and repo._head_from_files() == (True, None)  # unborn
    (root / "a.txt").write_text("a\n")
    git(root, "add", "a.txt")
    git(root, "commit", "-q", "-m", "one")
    assert repo._head_from_files() == (True, git_head(root))
    git(root, "pack-refs", "--all")  # the ref now lives in packed-refs only
    assert not (root / ".git" / "refs" / "heads" / "main").exists()
    assert repo._head_from_files() == (True, git_head(root))
    git(root, "commit", "-q", "--allow-empty", "-m", "two")  # a loose ref again, newer
    assert repo._head_from_files() == (True, git_head(root))
    git(root, "switch", "-q", "--orphan", "fresh")  # unborn branch, packed refs present
    assert repo._head_from_files() == (True, None) and repo.head() is None
    git(root, "switch", "-q", "main")
    git(root, "checkout", "-q", "--detach")
    assert repo._head_from_files() == (False, None)  # detached: git is asked
    assert repo.head() == git_head(root)
    git(root, "switch", "-q", "main")
    linked = tmp_path / "linked"
    git(root, "worktree", "add", "-q", "-b", "side", str(linked))
    other = find_repo(linked)
    assert other is not None
    git(linked, "commit", "-q", "--allow-empty", "-m", "on side")
    assert other._head_from_files() == (True, git_head(linked)) != (True, git_head(root))
