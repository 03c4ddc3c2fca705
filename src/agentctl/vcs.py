"""The only module that talks to git.

It drives the git CLI through :mod:`subprocess` with argument lists (never a shell), and
uses only the standard library: GitPython's import alone would cost the write path more
than the handful of git processes a commit needs.

The one write operation, :meth:`Repo.commit_paths`, commits a chosen set of files without
touching anything else the user has staged or changed, at a cost that does not grow with the
repository: it writes the files' blobs (``hash-object -w``), reads HEAD's trees of only the
directories on their paths (``cat-file --batch``), writes new trees for those directories
(``mktree --batch``, computed by :mod:`agentctl.vcs_tree`; every other subtree is reused by
its id), creates the commit with ``commit-tree`` and moves HEAD with a compare-and-swap
``update-ref``. Meanwhile ``update-index`` brings the entries of those same paths in line
with the commit in a staged copy of the real index (a hard link; git renames its new file
over it), which replaces the index only once HEAD moved, so ``git status`` shows them clean.
The index file is the one part git rewrites whole, whatever changed.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import stat
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from agentctl import vcs_tree
from agentctl.errors import GitError
from agentctl.store.journal import marker_is_dead, owner_marker

# Environment variables that would redirect git to another repository, work tree or
# index. They are set, for example, while git runs hooks; inheriting them would make us
# read or write the wrong index. We locate everything from the work tree instead, and set
# GIT_INDEX_FILE ourselves only where we mean to.
_STRIPPED_ENV = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_PREFIX",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
)

# How often the read-HEAD ... update-ref sequence is retried when HEAD moved under us.
_CAS_ATTEMPTS = 5
_PREPACK_AT = 1000  # files in one commit from which their blobs are written as one pack

# How long one and the same .git/index.lock may block us before we call it stale. A lock
# that keeps changing (other git processes taking turns) restarts this clock, bounded by
# _INDEX_LOCK_MAX_WAIT overall.
_INDEX_LOCK_STALE_AFTER = 1.0
_INDEX_LOCK_MAX_WAIT = 30.0

# Threads of this process queue here first (one lock per git dir), so index.lock only ever
# sees contention from other processes and the staleness clock is not eaten by our own.
_THREAD_LOCKS: dict[Path, threading.Lock] = {}
_THREAD_LOCKS_GUARD = threading.Lock()

# Identity used when the repository has none configured, so commits never fail for it.
_FALLBACK_NAME = "agentctl"
_FALLBACK_EMAIL = "agentctl@localhost"


@dataclass(frozen=True)
class _Settings:
    """What a commit reads from the configuration once (see Repo._commit_settings)."""

    identity: dict[str, str]  # GIT_AUTHOR_*/GIT_COMMITTER_* for commit-tree
    trust_exec: bool  # core.fileMode
    has_symlinks: bool  # core.symlinks


@dataclass
class _Staging:
    """A copy of the index being updated (see Repo._index_copy)."""

    env: dict[str, str]  # GIT_INDEX_FILE for the git commands that update it
    replace: bool = True  # whether it replaces the index at the end of the block


@dataclass
class _Background:
    """A git process running while we do something else (see Repo._updater)."""

    proc: subprocess.Popen[bytes]
    error: GitError | None = None
    done: bool = False

    def finish(self) -> None:
        """Wait for it; GitError if it failed (again on every later call)."""
        if not self.done:
            _, stderr = self.proc.communicate()
            self.done = True
            if self.proc.returncode != 0:
                self.error = GitError(f"git update-index: {_error_line(stderr)}")
        if self.error is not None:
            raise self.error

    def abandon(self) -> None:
        """Wait for it without looking at the outcome (it writes only a file we remove)."""
        if not self.done:
            self.proc.communicate()
            self.done = True


def _config_true(value: str | None) -> bool:
    """A git boolean as ``git config --type=bool`` reads it (None: the bare key, true)."""
    return value is None or value.strip().lower() not in ("false", "no", "off", "0", "")


def git_available() -> bool:
    """True when a ``git`` executable is on PATH."""
    return shutil.which("git") is not None


def _base_env() -> dict[str, str]:
    """The environment for every git process we start (see _STRIPPED_ENV)."""
    env = {k: v for k, v in os.environ.items() if k not in _STRIPPED_ENV}
    env["GIT_TERMINAL_PROMPT"] = "0"  # never block on a credential prompt
    env["LC_ALL"] = "C"  # untranslated messages: we match on some of them
    return env


def _git_cmd(args: Sequence[str]) -> list[str]:
    # quotepath=off: paths in output come back verbatim instead of C-quoted octal escapes.
    return ["git", "-c", "core.quotepath=off", *args]


_OBJECT_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


def _error_line(stderr: bytes) -> str:
    """The most telling line of git's stderr: the first fatal:/error: line, else the first."""
    lines = [ln.strip() for ln in stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
    for line in lines:
        if line.startswith(("fatal:", "error:")):
            return line
    return lines[0] if lines else "git failed without a message"


def _lock_error(lock: Path | str) -> GitError:
    return GitError(
        f"git index is locked: {lock} exists",
        hint=(
            f"another git process is running, or one was killed: if none is running, delete {lock}"
        ),
    )


def _remove_if_ours_and_dead(lock: Path) -> bool:
    """Remove ``lock`` if agentctl created it (see :func:`owner_marker`) in a process that was
    killed while holding it. Git's own lock files start with index data, never our marker."""
    try:
        with open(lock, "rb") as handle:
            head = handle.read(200)
    except (FileNotFoundError, IsADirectoryError):
        return False
    except OSError:
        return False
    if not marker_is_dead(head.decode("ascii", "replace")):
        return False
    lock.unlink(missing_ok=True)
    return True


def _held_by_live_agentctl(lock: Path) -> bool:
    """True if ``lock`` is held by an agentctl process that is still running: it is committing
    (slowly, on a loaded machine with other ticks committing too), not stale."""
    try:
        with open(lock, "rb") as handle:
            head = handle.read(200).decode("ascii", "replace")
    except OSError:
        return False
    return head.startswith("agentctl pid=") and not marker_is_dead(head)


def find_repo(path: Path) -> Repo | None:
    """The git work tree containing ``path``, or None when not in a repo or git is not installed.

    ``path`` may be a file, a directory, or not exist yet (its nearest existing ancestor is
    used). Bare repositories, the inside of a .git directory and repositories git refuses to
    use (e.g. "dubious ownership") all count as "not in a repo". One subprocess.
    """
    start = path.absolute()
    while not start.is_dir():
        if start.parent == start:
            return None
        start = start.parent
    try:
        proc = subprocess.run(
            _git_cmd(["rev-parse", "--show-toplevel", "--absolute-git-dir"]),
            cwd=start,
            env=_base_env(),
            capture_output=True,
            check=False,
        )
    except OSError:  # git not installed, or start not accessible
        return None
    if proc.returncode != 0:
        return None
    lines = os.fsdecode(proc.stdout).splitlines()
    if len(lines) != 2 or not lines[0] or not lines[1]:
        return None
    return Repo(root=Path(lines[0]).resolve(), git_dir=Path(lines[1]).resolve())


@dataclass(frozen=True)
class Repo:
    """A git work tree that contains the workspace."""

    root: Path  # the work tree top level (resolved)
    git_dir: Path  # its git directory (per-worktree one for linked worktrees; holds the index)

    # -- running git --------------------------------------------------------------------

    def _run(
        self,
        args: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        ok_codes: tuple[int, ...] = (0,),
        stdin: bytes | None = None,
    ) -> subprocess.CompletedProcess[bytes]:
        """Run git in the work tree; raise GitError (never CalledProcessError) on failure.

        ``env`` holds extra variables on top of :func:`_base_env`; ``stdin`` is git's whole
        input (None: git inherits ours).
        """
        full_env = _base_env()
        if env:
            full_env.update(env)
        try:
            proc = subprocess.run(
                _git_cmd(args),
                cwd=self.root,
                env=full_env,
                capture_output=True,
                check=False,
                input=stdin,
            )
        except OSError as exc:  # git vanished, or the work tree did
            raise GitError(f"cannot run git in {self.root}: {exc}") from exc
        if proc.returncode not in ok_codes:
            stderr = proc.stderr.decode("utf-8", "replace")
            if "index.lock" in stderr:
                # Name the lock git complained about; it is the real index's in practice.
                found = re.search(r"'([^']*index\.lock)'", stderr)
                raise _lock_error(found.group(1) if found else self.git_dir / "index.lock")
            raise GitError(f"git {args[0]}: {_error_line(proc.stderr)}")
        return proc

    def _out(self, args: Sequence[str], *, env: Mapping[str, str] | None = None) -> str:
        """Stdout of a successful git command, trailing newline removed."""
        return os.fsdecode(self._run(args, env=env).stdout).rstrip("\n")

    # -- queries --------------------------------------------------------------------------

    def head(self) -> str | None:
        """The commit HEAD points at, or None when the current branch has no commits yet."""
        known, sha = self._head_from_files()
        if known:
            return sha
        proc = self._run(["rev-parse", "-q", "--verify", "HEAD^{commit}"], ok_codes=(0, 1))
        sha = proc.stdout.decode("ascii").strip()
        return sha if proc.returncode == 0 and sha else None

    def remotes(self) -> list[str]:
        """The names of the repository's remotes (none: a workspace of one machine)."""
        return self._out(["remote"]).split()

    def log_subjects(self, n: int = 50) -> list[str]:
        """Subjects of the last ``n`` commits reachable from HEAD, newest first."""
        if n <= 0 or self.head() is None:
            return []
        # %x00 after each subject: subjects cannot contain NUL, but they could be empty.
        out = self._run(["log", f"-n{n}", "--format=%s%x00"]).stdout.decode("utf-8", "replace")
        return [entry.lstrip("\n") for entry in out.split("\0")[:-1]]

    def user_name(self) -> str | None:
        """``git config user.name``, or None when unset."""
        proc = self._run(["config", "user.name"], ok_codes=(0, 1))
        name = proc.stdout.decode("utf-8", "replace").strip()
        return name if proc.returncode == 0 and name else None

    def file_history(self, path: Path, limit: int = 100) -> list[dict[str, str]]:
        """Commits that changed ``path`` (following renames), newest first."""
        if self.head() is None:
            return []
        out = self._run(
            [
                "log",
                f"-n{limit}",
                "--follow",
                "--format=%H%x1f%aI%x1f%an%x1f%s%x00",
                "--",
                self._relative(path),
            ]
        ).stdout.decode("utf-8", "replace")
        history = []
        for entry in out.split("\0")[:-1]:
            sha, date, author, subject = entry.lstrip("\n").split("\x1f", 3)
            history.append({"commit": sha, "date": date, "author": author, "subject": subject})
        return history

    def show_file(self, rev: str, path: Path) -> str | None:
        """The text of ``path`` at commit ``rev``, or None if it did not exist there."""
        proc = self._run(["show", f"{rev}:{self._relative(path)}"], ok_codes=(0, 128))
        return proc.stdout.decode("utf-8", "replace") if proc.returncode == 0 else None

    def resolve_rev(self, rev: str) -> str | None:
        if rev.startswith("-"):
            return None
        proc = self._run(["rev-parse", "-q", "--verify", f"{rev}^{{commit}}"], ok_codes=(0, 1, 128))
        sha = proc.stdout.decode("ascii", "replace").strip()
        return sha if proc.returncode == 0 and sha else None

    def git(
        self, args: Sequence[str], ok_codes: tuple[int, ...] = (0,)
    ) -> subprocess.CompletedProcess[bytes]:
        """Run one git command in the work tree (for vcs_remote.py); GitError on an exit
        code outside ``ok_codes``."""
        return self._run(args, ok_codes=ok_codes)

    def git_streamed(
        self,
        args: Sequence[str],
        on_stderr: Callable[[bytes], None],
        ok_codes: tuple[int, ...] = (0,),
    ) -> subprocess.CompletedProcess[bytes]:
        """:meth:`git`, with git's stderr handed to ``on_stderr`` as it arrives (a fetch's or
        push's progress) and still returned whole for the error checks."""
        try:
            proc = subprocess.Popen(
                _git_cmd(args),
                cwd=self.root,
                env=_base_env(),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
        except OSError as exc:
            raise GitError(f"cannot run git in {self.root}: {exc}") from exc
        assert proc.stdout is not None and proc.stderr is not None
        stdout = proc.stdout
        out: list[bytes] = []
        reader = threading.Thread(target=lambda: out.append(stdout.read()), daemon=True)
        reader.start()
        err = bytearray()
        while chunk := os.read(proc.stderr.fileno(), 4096):
            err += chunk
            on_stderr(chunk)
        reader.join()
        proc.stderr.close()
        stdout.close()
        code = proc.wait()
        result = subprocess.CompletedProcess(list(args), code, b"".join(out), bytes(err))
        if code not in ok_codes:
            raise GitError(f"git {args[0]}: {_error_line(result.stderr)}")
        return result

    def branch_ref(self) -> str | None:
        """The ref HEAD names (``refs/heads/main``), or None when HEAD is detached."""
        return self._branch()

    # -- committing -----------------------------------------------------------------------

    def commit_paths(
        self,
        paths: Sequence[Path],
        message: str,
        author_name: str | None = None,
        author_email: str | None = None,
    ) -> str | None:
        """Commit exactly the working-tree state of ``paths`` on top of HEAD; return the sha.

        Existing files are added or updated, missing ones removed from the tree. Nothing else
        is staged, unstaged or committed. Returns None (and commits nothing) when ``paths``
        are unchanged relative to HEAD. Paths are files, absolute (under the root) or
        relative to the root. Raises GitError on any git failure, including a locked index.
        """
        parents: dict[str, str] = {}  # a bulk import commits thousands of files in few folders
        rels = list(dict.fromkeys(self._relative(p, parents) for p in paths))  # dedupe, keep order
        if not rels:
            return None
        if len(rels) >= _PREPACK_AT:
            self._prepack(rels)  # one pack instead of thousands of loose objects
        settings = self._commit_settings(author_name, author_email)
        new: str | None = None
        # Hold the real index's lock for the whole operation, exactly as git commands do.
        # It keeps other git processes (and our own threads) from changing the index between
        # our commit and our index update, and a stale lock fails us before we commit.
        with self._index_lock():
            try:
                with self._index_copy() as staging:
                    # The index update runs while the commit is built: the work tree already
                    # holds what we commit (the caller owns these files), so the staged copy
                    # is the index after the commit. It replaces the index only once HEAD
                    # moved, and a failure here fails the commit before HEAD moves.
                    updater = self._updater(rels, staging.env)
                    try:
                        work = self._write_blobs(rels)  # once: the files hold still
                        new = self._commit_tree(work, message, settings, updater.finish)
                    finally:
                        updater.abandon()
                    staging.replace = new is not None
            except GitError as exc:
                if new is None:
                    raise
                raise GitError(
                    f"committed {new[:12]}, but could not update the index: {exc}",
                    hint="`git status` may show the committed files as changed; "
                    "`git reset -q -- <files>` fixes that",
                ) from exc
            return new

    def _commit_tree(
        self,
        work: Mapping[str, vcs_tree.WorkFile | None],
        message: str,
        settings: _Settings,
        ready: Callable[[], None],
    ) -> str | None:
        """Commit ``work`` on top of HEAD, retrying while HEAD moves under us; ``ready`` is
        called (and may raise) before HEAD is first moved."""
        held: str | None = None  # a ref lock file that refused the last attempt
        for attempt in range(_CAS_ATTEMPTS):
            new, moved, held = self._try_commit(work, message, settings, ready)
            if not moved:
                return new
            # HEAD moved under us (a commit by something not taking the index lock,
            # e.g. plumbing): start over from the new HEAD after a short random pause.
            time.sleep(random.uniform(0.005, 0.05) * (attempt + 1))
        if held is not None:
            raise GitError(
                f"git ref lock {held} exists: HEAD cannot move",
                hint=f"another git process is running, or one was killed: if none is running, delete {held}",
            )
        raise GitError(
            f"HEAD kept moving while committing ({_CAS_ATTEMPTS} attempts)",
            hint="something else is committing to this repository; try again",
        )

    def _updater(self, rels: list[str], env: Mapping[str, str]) -> _Background:
        """Start ``update-index --add --remove -- rels`` on the staged index copy: the entries
        of our paths as the work tree has them, with fresh stat data so that status and diff
        need not rehash them. Entries for other paths are kept as they were. If the user had
        staged a different version of one of *our* paths, that staged version is lost: the
        entry then matches the commit (the only state that leaves the path clean). Same for
        an unmerged (conflicted) entry of one of our paths."""
        full_env = _base_env()
        full_env.update(env)
        try:
            proc = subprocess.Popen(
                _git_cmd(["update-index", "--add", "--remove", "--", *rels]),
                cwd=self.root,
                env=full_env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
        except OSError as exc:
            raise GitError(f"cannot run git in {self.root}: {exc}") from exc
        return _Background(proc)

    def check_index_unlocked(self) -> None:
        """Fail now, before anything is written, if ``index.lock`` is stale.

        A lock that disappears (another git command finishing) is fine; one and the same lock
        that persists for _INDEX_LOCK_STALE_AFTER seconds raises GitError with the fix, unless
        a running agentctl process holds it (waited for up to _INDEX_LOCK_MAX_WAIT).
        """
        lock = self.git_dir / "index.lock"
        seen: tuple[int, int, int] | None = None
        start = seen_since = time.monotonic()
        while True:
            if self._clear_dead_lock(lock):
                continue
            try:
                st = lock.stat()
            except FileNotFoundError:
                return
            current = (st.st_ino, st.st_mtime_ns, st.st_ctime_ns)
            now = time.monotonic()
            if current != seen or _held_by_live_agentctl(lock):
                seen, seen_since = current, now
            if now - seen_since >= _INDEX_LOCK_STALE_AFTER or now - start >= _INDEX_LOCK_MAX_WAIT:
                raise _lock_error(lock)
            time.sleep(0.02)

    def _clear_dead_lock(self, lock: Path) -> bool:
        """Remove ``index.lock`` if a killed agentctl left it, and with it the ref locks of
        HEAD and its branch: agentctl moves HEAD only while holding the index lock, so a ref
        lock from that time was left by the same killed commit (its ``git update-ref``)."""
        if not _remove_if_ours_and_dead(lock):
            return False
        candidates = [self.git_dir / "HEAD.lock"]
        try:
            branch = self._branch()
        except GitError:
            branch = None
        if branch is not None:
            candidates.append(self._common_dir() / f"{branch}.lock")
        for candidate in candidates:
            candidate.unlink(missing_ok=True)
        return True

    def preflight(self) -> None:
        """Refuse, before anything is written, a repository state a commit would go wrong in.

        HEAD must be on a branch (a commit on a detached HEAD is lost at the next checkout),
        no merge, rebase, cherry-pick or revert may be in progress (our commit would land in
        the middle of it), and the branch ref must be readable. Costs one git process.
        """
        in_progress = {
            "MERGE_HEAD": (
                "a merge",
                "finish it with `git commit` or abort it with `git merge --abort`",
            ),
            "rebase-merge": (
                "a rebase",
                "finish it with `git rebase --continue` or `git rebase --abort`",
            ),
            "rebase-apply": (
                "a rebase or `git am`",
                "finish it with `--continue` or undo it with `--abort`",
            ),
            "CHERRY_PICK_HEAD": (
                "a cherry-pick",
                "finish it with `git cherry-pick --continue` or `--abort`",
            ),
            "REVERT_HEAD": ("a revert", "finish it with `git revert --continue` or `--abort`"),
        }
        for name, (what, fix) in in_progress.items():
            if (self.git_dir / name).exists():
                raise GitError(
                    f"{what} is in progress in {self.root}: agentctl does not commit into it",
                    hint=f"{fix}, then retry (or set AGENTCTL_AUTOCOMMIT=0 to write without committing)",
                )
        branch = self._branch()
        if branch is None:
            sha = (
                self._run(["rev-parse", "--short", "HEAD"], ok_codes=(0, 128))
                .stdout.decode("ascii", "replace")
                .strip()
            )
            raise GitError(
                f"HEAD is detached{f' at {sha}' if sha else ''}: agentctl commits only on a branch "
                "(commits on a detached HEAD are lost at the next checkout)",
                hint="switch to a branch (`git switch <branch>`), or set AGENTCTL_AUTOCOMMIT=0",
            )
        problem = self._ref_problem(branch)
        if problem is not None:
            raise GitError(
                f"cannot read the branch {branch}: {problem}",
                hint="the branch ref is damaged: see `git fsck`; restore it with `git update-ref`",
            )

    def _common_dir(self) -> Path:
        commondir = self.git_dir / "commondir"
        if commondir.is_file():
            return (self.git_dir / commondir.read_text(encoding="utf-8").strip()).resolve()
        return self.git_dir

    def _branch(self) -> str | None:
        """The ref HEAD names (``refs/heads/main``), or None when HEAD is detached. Reads
        ``HEAD`` directly (no process); asks git where the file format is not the plain one."""
        try:
            text = (self.git_dir / "HEAD").read_text(encoding="utf-8", errors="replace").strip()
        except OSError as exc:
            raise GitError(f"cannot read HEAD in {self.git_dir}: {exc}") from exc
        if text.startswith("ref: ") and text != "ref: refs/heads/.invalid":
            return text[5:].strip()
        if not text.startswith("ref: "):
            return None
        proc = self._run(["symbolic-ref", "-q", "HEAD"], ok_codes=(0, 1, 128))  # reftable
        if proc.returncode == 1:
            return None
        if proc.returncode != 0:
            raise GitError(
                f"cannot read HEAD: {_error_line(proc.stderr)}",
                hint="see `git status` and `git fsck`",
            )
        return os.fsdecode(proc.stdout).strip()

    def _head_from_files(self) -> tuple[bool, str | None]:
        """HEAD's commit read the way git reads it, without a process, in the plain layout:
        ``HEAD`` names a branch whose loose ref file or ``packed-refs`` line holds the id (or
        neither: the branch is unborn, None), as ``(True, id)``. Anything else (a detached
        HEAD, a symbolic branch ref, the reftable format, an unreadable file) is
        ``(False, None)``: ask git."""
        unknown: tuple[bool, str | None] = (False, None)
        try:
            text = (self.git_dir / "HEAD").read_text(encoding="utf-8", errors="replace").strip()
            if not text.startswith("ref: refs/heads/") or text == "ref: refs/heads/.invalid":
                return unknown
            ref = text[5:].strip()
            common = self._common_dir()
            if (common / "reftable").exists():
                return unknown
            try:
                value = (common / ref).read_text(encoding="ascii", errors="replace").strip()
            except FileNotFoundError:
                value = ""
            if value:
                return (True, value) if _OBJECT_ID.fullmatch(value) else unknown
            try:
                packed = (common / "packed-refs").read_text(encoding="utf-8", errors="replace")
            except FileNotFoundError:
                return True, None  # no loose ref and no packed one: unborn
            for line in packed.splitlines():
                sha, _, name = line.partition(" ")
                if name == ref:
                    return (True, sha) if _OBJECT_ID.fullmatch(sha) else unknown
            return True, None
        except OSError:
            return unknown

    def _ref_problem(self, ref: str) -> str | None:
        """What is wrong with a loose ref file (None if fine, packed, or not born yet)."""
        path = self._common_dir() / ref
        try:
            value = path.read_text(encoding="ascii", errors="replace").strip()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None
        except OSError as exc:
            return str(exc)
        if value.startswith("ref: "):
            return None  # a symbolic ref: git follows it
        if re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", value):
            return None
        return f"{os.path.relpath(path, self.root)} does not hold a commit id"

    def reset_index(self, paths: Sequence[Path | str]) -> None:
        """Set the real index entries of ``paths`` to HEAD's (removed where HEAD has none).

        Repairs an index left behind by a writer killed between moving HEAD and updating the
        index (the committed files would show as staged deletions). Other entries are kept.
        """
        rels = list(dict.fromkeys(self._relative(Path(p)) for p in paths))
        if not rels or self.head() is None:
            return
        with self._index_lock():
            with self._index_copy() as staging:
                env = staging.env
                self._run(["reset", "-q", "HEAD", "--", *rels], env=env, ok_codes=(0, 1))
                # Fresh stat data for entries whose file matches HEAD, so status stays quick.
                self._run(["update-index", "-q", "--refresh"], env=env, ok_codes=(0, 1))
            # Under the index lock no agentctl commit is building a tree: any other staging
            # index was left by a killed process.
            self.sweep_private_indexes(older_than=0.0)

    def drift(self, paths: Sequence[Path | str]) -> dict[str, list[str]]:
        """How ``paths`` (dirs recurse) stand against HEAD: ``desynced`` (the index differs
        from HEAD while the file equals HEAD: left by a writer killed mid-commit, a plain
        ``git commit`` would commit that difference), ``untracked`` and ``changed`` (in the work
        tree, not committed). Ignored files are left out."""
        rels = [self._relative(Path(p)) for p in paths]
        result: dict[str, list[str]] = {"desynced": [], "untracked": [], "changed": []}
        if self.head() is None:
            return result

        # One `git status` for the three questions: X is the index against HEAD (staged), Y
        # the work tree against the index; `??` untracked. No optional locks: a status must
        # not rewrite the user's index (nor race a commit for index.lock) to refresh it.
        out = self._run(
            ["--no-optional-locks", "status", "--porcelain=v1", "-z", "--no-renames",
             "--untracked-files=all", "--", *rels]
        ).stdout  # fmt: skip
        staged: list[str] = []
        for entry in os.fsdecode(out).split("\0"):
            if len(entry) < 4:
                continue
            code, name = entry[:2], entry[3:]
            if code == "??":
                result["untracked"].append(name)
                continue
            if code[0] not in " ?!":
                staged.append(name)
            if code[1] not in " ?!":
                result["changed"].append(name)
        if staged:
            in_head: dict[str, str] = {}
            out = self._run(["ls-tree", "-z", "HEAD", "--", *staged]).stdout
            for item in os.fsdecode(out).split("\0"):
                if "\t" in item:
                    meta, name = item.split("\t", 1)
                    in_head[name] = meta.split()[2]
            present = [n for n in staged if (self.root / n).is_file()]
            hashes: dict[str, str] = {}
            if present:
                out = self._run(["hash-object", "--", *present]).stdout
                hashes = dict(zip(present, os.fsdecode(out).split(), strict=False))
            for name in staged:
                if hashes.get(name) == in_head.get(name):  # both None: gone from HEAD and disk
                    result["desynced"].append(name)
            result["untracked"] = [n for n in result["untracked"] if n not in result["desynced"]]
        return result

    def sweep_private_indexes(self, older_than: float = 600.0) -> list[Path]:
        """Remove private index files of killed agentctl processes (left in the git dir).
        With ``older_than=0`` only while holding the index lock. The lock markers of
        processes waiting for the lock are left alone unless they are old."""
        removed = []
        now = time.time()
        aged = [(p, older_than) for p in self.git_dir.glob("agentctl-index-*")]
        aged += [(p, max(older_than, 600.0)) for p in self.git_dir.glob("agentctl-lock-*")]
        for path, age in aged:
            try:
                if path.stat().st_mtime < now - age:
                    path.unlink()
                    removed.append(path)
            except FileNotFoundError:
                continue
        return removed

    def _prepack(self, rels: list[str]) -> None:
        """Write the blobs of many files as one pack (``git fast-import``) before
        ``update-index`` hashes them: it then finds each blob already stored instead of
        writing thousands of loose objects (5 s of a 10,000-task import, against 1 s). Only
        a speed-up: ``update-index`` stays the one that decides what is committed (a file
        whose blob git cleans or converts differently is simply written by it as before),
        and any failure here is ignored."""
        try:
            proc = subprocess.Popen(
                _git_cmd(["fast-import", "--quiet", "--done"]), cwd=self.root, env=_base_env(),
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
        except OSError:
            return
        assert proc.stdin is not None
        try:
            with proc.stdin as stream:
                root = os.fspath(self.root)
                for rel in rels:
                    path = os.path.join(root, rel)
                    try:
                        if not stat.S_ISREG(os.lstat(path).st_mode):
                            continue
                        with open(path, "rb") as handle:
                            data = handle.read()
                    except OSError:
                        continue
                    stream.write(b"blob\ndata %d\n" % len(data))
                    stream.write(data)
                    stream.write(b"\n")
                stream.write(b"done\n")
        except OSError:  # git went away (BrokenPipeError): update-index does it all
            pass
        finally:
            proc.wait()

    def _relative(self, path: Path, parents: dict[str, str] | None = None) -> str:
        """``path`` as a POSIX path relative to the root, refusing anything outside it.
        ``parents``: resolved parent folders, kept for the paths of one call."""
        # Strings, not pathlib: a bulk import commits ten thousand paths.
        root = os.fspath(self.root)
        text = os.fspath(path)
        absolute = text if os.path.isabs(text) else os.path.join(root, text)
        # Collapse "." and ".." lexically, then resolve symlinks in the parent directories
        # (the root is resolved too) but not in the last component: a symlink is committed
        # as a symlink.
        folder, name = os.path.split(os.path.normpath(absolute))
        parent = None if parents is None else parents.get(folder)
        if parent is None:
            parent = os.fspath(Path(folder).resolve())
            if parents is not None:
                parents[folder] = parent
        full = os.path.join(parent, name) if name else parent
        prefix = root if root.endswith(os.sep) else root + os.sep
        if not full.startswith(prefix):
            if full == root:
                raise GitError(f"{path} is not a file in the git work tree {self.root}")
            raise GitError(f"{path} is outside the git work tree {self.root}")
        rel = full[len(prefix) :]
        if rel.split(os.sep, 1)[0] == ".git":
            raise GitError(f"{path} is not a file in the git work tree {self.root}")
        return rel.replace(os.sep, "/")

    def _commit_settings(self, author_name: str | None, author_email: str | None) -> _Settings:
        """The identity (GIT_AUTHOR_*/GIT_COMMITTER_* variables for commit-tree) and the
        ``core.fileMode``/``core.symlinks`` settings a commit needs, from one ``git config``.

        The given author wins. Where the repository (config or environment) has no identity,
        "agentctl <agentctl@localhost>" fills in, so commits never fail for lack of one;
        git's own guess from user and host name is refused by commit-tree in many setups.
        """
        proc = self._run(
            ["config", "-z", "--get-regexp", r"^(user\.(name|email)|core\.(filemode|symlinks))$"],
            ok_codes=(0, 1),
        )
        values: dict[str, str | None] = {}
        for entry in os.fsdecode(proc.stdout).split("\0"):
            if entry:
                key, newline, value = entry.partition("\n")
                values[key] = value if newline else None  # a bare `key` (no `=`) means true
        name_known = "user.name" in values
        email_known = "user.email" in values or "EMAIL" in os.environ
        env: dict[str, str] = {}
        for role in ("COMMITTER", "AUTHOR"):
            if not name_known and f"GIT_{role}_NAME" not in os.environ:
                env[f"GIT_{role}_NAME"] = _FALLBACK_NAME
            if not email_known and f"GIT_{role}_EMAIL" not in os.environ:
                env[f"GIT_{role}_EMAIL"] = _FALLBACK_EMAIL
        if author_name:
            env["GIT_AUTHOR_NAME"] = author_name
        if author_email:
            env["GIT_AUTHOR_EMAIL"] = author_email
        return _Settings(
            identity=env,
            trust_exec=_config_true(values.get("core.filemode", "true")),
            has_symlinks=_config_true(values.get("core.symlinks", "true")),
        )

    def _try_commit(
        self,
        work: Mapping[str, vcs_tree.WorkFile | None],
        message: str,
        settings: _Settings,
        ready: Callable[[], None],
    ) -> tuple[str | None, bool, str | None]:
        """One read-HEAD ... update-ref round: (new sha or None if unchanged, HEAD moved?,
        the ref lock file that refused the update, if one did)."""
        old = self.head()
        tree = self._build_tree(old, work, settings)
        if tree is None:  # unchanged, or the empty tree of a repository without commits
            return None, False, None
        parents = ["-p", old] if old is not None else []
        new = self._out(["commit-tree", tree, *parents, "-m", message], env=settings.identity)
        subject = message.strip().splitlines()[0] if message.strip() else ""
        ready()
        # Compare-and-swap: git refuses unless HEAD (or the branch it names) is still `old`;
        # the empty old value means "must not exist yet" (a root commit). HEAD is
        # dereferenced, so a checked-out branch advances and HEAD stays attached to it.
        proc = self._run(
            ["update-ref", "-m", f"commit (agentctl): {subject}", "HEAD", new, old or ""],
            ok_codes=(0, 128),
        )
        if proc.returncode != 0:
            err = proc.stderr.decode("utf-8", "replace")
            # "cannot lock ref 'HEAD': is at X but expected Y" / "... already exists" / the
            # branch's own .lock file held by a concurrent update: all mean "HEAD is moving".
            if "cannot lock ref" in err:
                found = re.search(r"Unable to create '([^']+\.lock)': File exists", err)
                return None, True, found.group(1) if found else None
            raise GitError(f"git update-ref: {_error_line(proc.stderr)}")
        return new, False, None

    def _write_blobs(self, rels: list[str]) -> dict[str, vcs_tree.WorkFile | None]:
        """Write the blob of every path present in the work tree (None: gone) into the object
        store, as ``git add`` would (a file through its clean filters and line-ending
        conversion, a symlink as its target). One ``hash-object`` for all the files."""
        work: dict[str, vcs_tree.WorkFile | None] = {}
        files: list[tuple[str, vcs_tree.Kind]] = []
        for rel in rels:
            if "\n" in rel:
                raise GitError(f"cannot commit {rel!r}: agentctl commits no path with a newline")
            try:
                st = os.lstat(self.root / rel)
            except (FileNotFoundError, NotADirectoryError):
                work[rel] = None
                continue
            except OSError as exc:
                raise GitError(f"cannot read {rel}: {exc}") from exc
            if stat.S_ISLNK(st.st_mode):
                target = os.fsencode(os.readlink(self.root / rel))
                linked = self._run(
                    ["hash-object", "-w", "--stdin", "--no-filters"], stdin=target
                ).stdout
                work[rel] = vcs_tree.WorkFile("link", linked.decode("ascii").strip())
            elif stat.S_ISREG(st.st_mode):
                files.append((rel, "exec" if st.st_mode & stat.S_IXUSR else "file"))
                work[rel] = None  # placeholder: keeps the order of rels
            else:
                raise GitError(f"cannot commit {rel}: not a file (a directory?)")
        if files:
            out = self._run(["hash-object", "-w", "--", *(rel for rel, _ in files)]).stdout
            oids = out.decode("ascii").split()
            if len(oids) != len(files):
                raise GitError("git hash-object: unexpected output")
            for (rel, kind), oid in zip(files, oids, strict=True):
                work[rel] = vcs_tree.WorkFile(kind, oid)
        return work

    def _build_tree(
        self, old: str | None, work: Mapping[str, vcs_tree.WorkFile | None], settings: _Settings
    ) -> str | None:
        """Write the tree of ``old`` with ``work`` applied; None when that is ``old``'s own
        tree (or the empty tree and there is no ``old``). Reads and writes only the trees of
        the directories on the changed paths."""
        dirs = vcs_tree.directories(list(work))
        trees: dict[str, vcs_tree.OldTree] = dict.fromkeys(dirs)
        hex_len = len(old) if old is not None else 0
        if old is not None:
            trees = self._read_trees(old, dirs)
        else:
            for item in work.values():
                if item is not None:
                    hex_len = len(item.oid)
                    break
            else:
                return None  # nothing on disk and nothing committed: the empty tree
        try:
            root, new_trees = vcs_tree.rebuild(
                work,
                trees,
                hex_len,
                trust_exec=settings.trust_exec,
                has_symlinks=settings.has_symlinks,
            )
        except vcs_tree.TreeConflict as exc:
            raise GitError(f"cannot commit: {exc}") from None
        if root is None or not new_trees:
            return None
        written: list[bytes] = []
        for tree in new_trees:  # big directories, edited in place: their bodies as they are
            if tree.raw is not None:
                # Stored uncompressed: a big tree is mostly object ids, which zlib cannot
                # shrink (4.5 MB -> 3.2 MB at level 1 for 100,000 entries, ~80 ms a commit);
                # `git gc` packs it like any loose object.
                written += self._run(
                    ["-c", "core.loosecompression=0", "hash-object", "-w", "-t", "tree", "--stdin"],
                    stdin=tree.raw,
                ).stdout.split()
        listed = [tree for tree in new_trees if tree.raw is None]
        if listed:
            written += self._run(
                ["mktree", "-z", "--missing", "--batch"], stdin=vcs_tree.mktree_input(listed)
            ).stdout.split()
        expected = [t.oid for t in new_trees if t.raw is not None] + [t.oid for t in listed]
        if [oid.decode("ascii") for oid in written] != expected:
            raise GitError("git wrote other trees than expected; nothing was committed")
        return root

    def _read_trees(self, old: str, dirs: list[str]) -> dict[str, vcs_tree.OldTree]:
        """``old``'s tree (id and raw body) of each directory in ``dirs``, None where it has
        no directory there. One ``cat-file --batch``."""
        request = b"".join(b"%s:%s\n" % (old.encode("ascii"), os.fsencode(d)) for d in dirs)
        out = self._run(["cat-file", "--batch"], stdin=request).stdout
        trees: dict[str, vcs_tree.OldTree] = {}
        at = 0
        for path in dirs:
            eol = out.index(b"\n", at)
            header = out[at:eol].split(b" ")
            at = eol + 1
            if header[-1] == b"missing" or len(header) != 3:
                trees[path] = None
                continue
            size = int(header[2])
            body = out[at : at + size]
            at += size + 1
            trees[path] = (header[0].decode("ascii"), body) if header[1] == b"tree" else None
        return trees

    @contextmanager
    def _index_copy(self) -> Iterator[_Staging]:
        """Yield the environment of git commands that update a copy of the real index; the
        copy then atomically replaces the index (git's own lock-then-rename protocol: git
        cannot write the index itself while we hold its lock), unless the block sets
        ``replace`` false or raises. Hold the index lock."""
        index = self.git_dir / "index"
        staging = self.git_dir / f"agentctl-index-{os.urandom(8).hex()}"
        try:
            if index.exists():
                # A hard link, not a copy: the index of a large repository is megabytes, and
                # git never writes an index in place (it writes `<file>.lock` and renames it
                # over the file), so the link's target stays untouched. Either way the mtime
                # is the index's, which git compares entry mtimes against to spot "racily
                # clean" entries; a fresh mtime could hide a same-second change.
                try:
                    os.link(index, staging)
                except OSError:  # a file system without hard links
                    shutil.copy2(index, staging)
            handle = _Staging({"GIT_INDEX_FILE": str(staging)})
            yield handle
            if handle.replace and staging.exists():  # git skips writing when nothing changed
                os.replace(staging, index)
        except OSError as exc:
            raise GitError(f"cannot update the git index {index}: {exc}") from exc
        finally:
            staging.unlink(missing_ok=True)
            Path(f"{staging}.lock").unlink(missing_ok=True)

    @contextmanager
    def _index_lock(self) -> Iterator[None]:
        """Hold ``<git dir>/index.lock`` (created exclusively, like git does) for the block.

        Another git process holding it briefly is waited for; one and the same lock that
        persists for _INDEX_LOCK_STALE_AFTER seconds is taken to be stale (left by a killed
        git) and raises GitError, without anything having been committed.
        """
        with _THREAD_LOCKS_GUARD:
            thread_lock = _THREAD_LOCKS.setdefault(self.git_dir, threading.Lock())
        if not thread_lock.acquire(timeout=_INDEX_LOCK_MAX_WAIT):
            raise GitError(f"timed out waiting for another thread committing to {self.root}")
        try:
            with self._index_lock_file():
                yield
        finally:
            thread_lock.release()

    @contextmanager
    def _index_lock_file(self) -> Iterator[None]:
        """The cross-process part of :meth:`_index_lock`: the index.lock file itself."""
        lock = self.git_dir / "index.lock"
        start = time.monotonic()
        seen: tuple[int, int, int] | None = None  # identity of the lock we are waiting on
        seen_since = start
        # The lock appears with its holder's name already in it (linked from a file written
        # first), so a killed agentctl never leaves an anonymous lock behind: see
        # _remove_if_ours_and_dead. link(2) fails on an existing name, like O_EXCL.
        marked = self.git_dir / f"agentctl-lock-{os.urandom(8).hex()}"
        try:
            marked.write_bytes(owner_marker().encode("ascii"))
        except OSError as exc:
            raise GitError(f"cannot write in {self.git_dir}: {exc}") from exc
        try:
            while True:
                try:
                    os.link(marked, lock)
                    break
                except FileExistsError:
                    if self._clear_dead_lock(lock):
                        continue
                except OSError as exc:
                    raise GitError(f"cannot create {lock}: {exc}") from exc
                now = time.monotonic()
                try:
                    st = lock.stat()
                    current: tuple[int, int, int] | None = (
                        st.st_ino,
                        st.st_mtime_ns,
                        st.st_ctime_ns,
                    )
                except FileNotFoundError:  # released just now: try again at once
                    continue
                if current != seen or _held_by_live_agentctl(lock):
                    # a different holder than last time, or a live agentctl committing:
                    # restart the staleness clock (the whole wait stays bounded)
                    seen, seen_since = current, now
                if (
                    now - seen_since >= _INDEX_LOCK_STALE_AFTER
                    or now - start >= _INDEX_LOCK_MAX_WAIT
                ):
                    raise _lock_error(lock)
                time.sleep(random.uniform(0.002, 0.02))
        finally:
            marked.unlink(missing_ok=True)
        try:
            yield
        finally:
            lock.unlink(missing_ok=True)
