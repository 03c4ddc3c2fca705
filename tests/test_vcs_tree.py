"""commit_paths builds only the trees along the changed paths; the result must be the tree
``git add <paths> && git commit`` makes. Property-based against real git (a throwaway clone
does the ``git add``), plus the corner cases one by one and the pure tree arithmetic."""

from __future__ import annotations

import os
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentctl import vcs_tree
from agentctl.errors import GitError
from agentctl.vcs import Repo, find_repo, git_available

pytestmark = pytest.mark.skipif(not git_available(), reason="git is not installed")

# Directory and file names chosen so that git's tree order is exercised: a subtree "a" sorts
# as "a/", after the files "a-" and "a.md" and before "a0". No file is named like a directory.
DIRS = ["", "a", "a/b", "a/b/c", "q"]
NAMES = ["a-", "a.md", "a0", "x"]
UNIVERSE = [f"{d}/{n}" if d else n for d in DIRS for n in NAMES]


@pytest.fixture(autouse=True)
def clean_git_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "EMAIL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("GIT_AUTHOR_NAME", "T")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "t@example.com")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "T")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "t@example.com")


def git(cwd: Path, *args: str, check: bool = True) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr}")
    return proc.stdout


# A file's state: None (absent), or (content, kind) with kind "file", "exec" or "link"
# (content is then the link's target).
State = tuple[str, str] | None
file_state = st.one_of(
    st.none(),
    st.tuples(st.sampled_from(["one\n", "two\n", "three\n"]), st.just("file")),
    st.tuples(st.sampled_from(["one\n", "two\n"]), st.just("exec")),
    st.tuples(st.sampled_from(["x", "../a.md", "nowhere"]), st.just("link")),
)
tree_states = st.dictionaries(st.sampled_from(UNIVERSE), file_state, max_size=10)


def apply(root: Path, states: dict[str, State]) -> None:
    for rel, state in states.items():
        path = root / rel
        if path.is_symlink() or path.exists():
            path.unlink()
        if state is None:
            continue
        content, kind = state
        path.parent.mkdir(parents=True, exist_ok=True)
        if kind == "link":
            path.symlink_to(content)
        else:
            path.write_text(content)
            path.chmod(0o755 if kind == "exec" else 0o644)
    # Directories emptied by the deletions go too, as they would on a checkout.
    for d in sorted(DIRS, key=len, reverse=True):
        if d and (root / d).is_dir() and not any((root / d).iterdir()):
            (root / d).rmdir()


def head_tree(root: Path) -> str | None:
    out = git(root, "rev-parse", "-q", "--verify", "HEAD^{tree}", check=False).strip()
    return out or None


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    before=tree_states,
    after=tree_states,
    chosen=st.sets(st.sampled_from(UNIVERSE), max_size=12),
    filemode=st.booleans(),
    big=st.booleans(),
)
def test_tree_equals_git_add_and_commit(
    before: dict[str, State],
    after: dict[str, State],
    chosen: set[str],
    filemode: bool,
    big: bool,
) -> None:
    # ``big``: every tree is edited in place as a big directory's is (vcs_tree.BigTree).
    default = vcs_tree.BIG_TREE
    vcs_tree.BIG_TREE = 0 if big else default
    try:
        _tree_equals_git_add_and_commit(before, after, chosen, filemode)
    finally:
        vcs_tree.BIG_TREE = default


def _tree_equals_git_add_and_commit(
    before: dict[str, State], after: dict[str, State], chosen: set[str], filemode: bool
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ours, theirs = Path(tmp) / "ours", Path(tmp) / "theirs"
        ours.mkdir()
        git(ours, "init", "-q", "-b", "main")
        apply(ours, before)
        if any(v is not None for v in before.values()):
            git(ours, "add", "-A")
            git(ours, "commit", "-q", "-m", "before")
        git(ours, "clone", "-q", str(ours), str(theirs))
        for root in (ours, theirs):
            git(root, "config", "core.filemode", "true" if filemode else "false")
            apply(root, after)
        paths = sorted(chosen)
        commit_before = git(ours, "rev-parse", "-q", "--verify", "HEAD", check=False).strip()

        repo = find_repo(ours)
        assert repo is not None
        sha = repo.commit_paths([ours / p for p in paths], "ours")

        present = [p for p in paths if (theirs / p).is_symlink() or (theirs / p).exists()]
        tracked = set(git(theirs, "ls-files", "-z").split("\0"))
        addable = [p for p in paths if p in present or p in tracked]
        if addable:
            git(theirs, "add", "-A", "--", *addable)
        staged = git(theirs, "diff", "--cached", "--name-only", check=False)
        if head_tree(theirs) is None:
            staged = git(theirs, "ls-files")
        if staged:
            git(theirs, "commit", "-q", "-m", "theirs")
            assert sha is not None and git(ours, "rev-parse", "HEAD").strip() == sha
            parents = git(ours, "log", "-1", "--format=%P").split()
            assert parents == ([commit_before] if commit_before else [])
        else:
            assert sha is None
        assert head_tree(ours) == head_tree(theirs)
        # The real index agrees with HEAD for our paths, and nothing else was staged.
        assert git(ours, "diff", "--cached", "--name-only") == ""
        assert not list((ours / ".git").glob("agentctl-index-*"))


# -- corner cases, one by one -------------------------------------------------------------


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "tools").mkdir()
    (root / "tools" / "run.sh").write_text("#!/bin/sh\n")
    (root / "tools" / "run.sh").chmod(0o755)
    (root / "tools" / "link").symlink_to("run.sh")
    (root / "deep" / "er").mkdir(parents=True)
    (root / "deep" / "er" / "only.md").write_text("only\n")
    (root / "keep.md").write_text("keep\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    found = find_repo(root)
    assert found is not None
    return found


def test_deleting_the_last_file_of_nested_directories_removes_them(repo: Repo) -> None:
    (repo.root / "deep" / "er" / "only.md").unlink()
    assert repo.commit_paths([repo.root / "deep" / "er" / "only.md"], "gone") is not None
    assert git(repo.root, "ls-tree", "-r", "-t", "--name-only", "HEAD").split() == [
        "keep.md",
        "tools",
        "tools/link",
        "tools/run.sh",
    ]
    assert git(repo.root, "status", "--porcelain") == ""


def test_untouched_executable_and_symlink_entries_keep_their_modes(repo: Repo) -> None:
    (repo.root / "tools" / "new.md").write_text("new\n")
    assert repo.commit_paths([repo.root / "tools" / "new.md"], "beside") is not None
    modes = git(repo.root, "ls-tree", "HEAD", "tools/").split("\n")
    assert [line.split()[0] for line in modes if line] == ["120000", "100644", "100755"]
    # The unchanged subtree is the very same object as before.
    assert git(repo.root, "rev-parse", "HEAD:deep").strip() == (
        git(repo.root, "rev-parse", "HEAD~1:deep").strip()
    )


def test_a_directory_where_a_path_is_expected_is_refused(repo: Repo) -> None:
    head = repo.head()
    with pytest.raises(GitError, match="not a file"):
        repo.commit_paths([repo.root / "deep"], "dir")
    (repo.root / "keep.md").unlink()
    (repo.root / "keep.md").mkdir()
    (repo.root / "keep.md" / "inner").write_text("x\n")
    with pytest.raises(GitError, match="keep.md is a file in HEAD"):
        repo.commit_paths([repo.root / "keep.md" / "inner"], "under a file")
    assert repo.head() == head
    assert not list(repo.git_dir.glob("agentctl-index-*"))


def test_removing_a_path_that_is_a_directory_in_head_changes_nothing(repo: Repo) -> None:
    # `update-index --remove` of a directory does nothing; neither may we.
    (repo.root / "deep" / "er" / "only.md").unlink()
    (repo.root / "deep" / "er").rmdir()
    assert repo.commit_paths([repo.root / "deep" / "er"], "nothing") is None
    assert "deep/er/only.md" in git(repo.root, "ls-tree", "-r", "--name-only", "HEAD")


def test_the_index_is_replaced_not_rewritten_in_place(repo: Repo) -> None:
    """The index is updated through a hard link renamed over it: a reader holding the old
    file (another git process) sees it whole, and no copy of a large index is made."""
    index = repo.git_dir / "index"
    before = os.stat(index)
    (repo.root / "keep.md").write_text("keep 2\n")
    assert repo.commit_paths([repo.root / "keep.md"], "keep") is not None
    after = os.stat(index)
    assert after.st_ino != before.st_ino
    assert stat.S_ISREG(after.st_mode) and after.st_nlink == 1
    assert git(repo.root, "status", "--porcelain") == ""


def test_sha256_repository(tmp_path: Path) -> None:
    root = tmp_path / "sha256"
    root.mkdir()
    if subprocess.run(
        ["git", "init", "-q", "--object-format=sha256", "-b", "main"], cwd=root, check=False
    ).returncode:
        pytest.skip("this git has no sha256 repositories")
    (root / "a").mkdir()
    (root / "a" / "one.md").write_text("1\n")
    repo = find_repo(root)
    assert repo is not None
    first = repo.commit_paths([root / "a" / "one.md"], "root commit")
    assert first is not None and len(first) == 64
    (root / "a" / "two.md").write_text("2\n")
    assert repo.commit_paths([root / "a" / "two.md"], "second") is not None
    assert git(root, "ls-tree", "-r", "--name-only", "HEAD").split() == ["a/one.md", "a/two.md"]
    assert git(root, "fsck", "--no-progress") == ""


# -- the pure arithmetic --------------------------------------------------------------------


def test_directories_are_deepest_first() -> None:
    assert vcs_tree.directories(["a/b/c.md", "x.md", "a/d.md", "q/r.md"]) == [
        "a/b",
        "a",
        "q",
        "",
    ]


def test_tree_order_puts_a_subtree_after_its_name_with_a_dot() -> None:
    blob = "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
    work = {"a.md": vcs_tree.WorkFile("file", blob), "a/x": vcs_tree.WorkFile("file", blob)}
    root, trees = vcs_tree.rebuild(work, {"": None, "a": None}, 40)
    assert root is not None and [t.path for t in trees] == ["a", ""]
    assert [name for name, _, _ in trees[-1].entries] == [b"a.md", b"a"]


def test_a_failed_index_update_fails_the_commit_before_head_moves(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The index update runs while the commit is built and must succeed before HEAD moves."""
    real = Repo._updater
    monkeypatch.setattr(
        Repo, "_updater", lambda self, rels, env: real(self, [*rels, "/outside/the/repo"], env)
    )
    head = repo.head()
    (repo.root / "keep.md").write_text("keep 2\n")
    with pytest.raises(GitError, match="update-index"):
        repo.commit_paths([repo.root / "keep.md"], "never")
    assert repo.head() == head
    assert git(repo.root, "status", "--porcelain") == " M keep.md\n"
    assert not list(repo.git_dir.glob("agentctl-index-*"))
