"""Talking to a git remote: fetch, integrate (fast-forward, rebase or merge), push.

With :mod:`agentctl.vcs` the only code that runs git; like it, plain ``git`` processes
with argument lists (never a shell) and the standard library only. ``agentctl sync`` and
``task claim --sync`` (workspace/sync.py) are built from these steps.

The remote branch is fetched into ``refs/remotes/<remote>/<branch>`` (what ``git fetch``
would write), so ``git status`` and ``git log`` show the same picture as agentctl does.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from subprocess import CompletedProcess
from typing import Literal

from agentctl.errors import GitError, NotFoundError
from agentctl.vcs import Repo

Mode = Literal["rebase", "merge"]

# Push rejections worth a fetch and another try: the remote moved (non-fast-forward, "fetch
# first"), or another push was updating the same ref at that moment.
_RETRYABLE = re.compile(
    r"non-fast-forward|fetch first|stale info|cannot lock ref|failed to update ref|"
    r"incorrect old value|is at [0-9a-f]+ but expected",
)


@dataclass
class Integration:
    """What integrating the fetched branch did."""

    how: str  # up-to-date | fast-forward | rebase | merge | conflict
    conflicts: list[str] = field(default_factory=list)  # paths left unmerged (how == conflict)
    stopped_in: str | None = None  # "rebase" or "merge" when a conflict stopped it


def remote_ref(remote: str, branch: str) -> str:
    return f"refs/remotes/{remote}/{branch}"


def check_remote(repo: Repo, remote: str) -> None:
    """Refuse an unknown remote name (one git process)."""
    if remote.startswith("-") or not remote:
        raise NotFoundError(f"no git remote named {remote!r}")
    proc = repo.git(["remote", "get-url", remote], ok_codes=(0, 2, 128))
    if proc.returncode != 0:
        raise NotFoundError(
            f"no git remote named {remote!r}",
            hint=f"add one with `git remote add {remote} URL`, or pass --remote / set sync.remote",
        )


def current_branch(repo: Repo) -> str:
    """The short name of the checked-out branch (preflight has refused a detached HEAD)."""
    ref = repo.branch_ref()
    if ref is None or not ref.startswith("refs/heads/"):
        raise GitError("HEAD is not on a branch: agentctl syncs only a branch")
    return ref.removeprefix("refs/heads/")


Progress = Callable[[bytes], None]


def _git(repo: Repo, args: list[str], progress: Progress | None) -> CompletedProcess[bytes]:
    """A fetch or push: quiet, or with git's progress meter handed to ``progress``."""
    if progress is None:
        return repo.git([args[0], "--quiet", *args[1:]], ok_codes=(0, 1, 128))
    return repo.git_streamed([args[0], "--progress", *args[1:]], progress, ok_codes=(0, 1, 128))


def fetch(repo: Repo, remote: str, branch: str, progress: Progress | None = None) -> str | None:
    """Fetch ``branch`` of ``remote``; the fetched commit, or None when the remote has no
    such branch yet (an empty remote: the first push creates it)."""
    ref = remote_ref(remote, branch)
    proc = _git(repo, ["fetch", "--no-tags", remote, f"+refs/heads/{branch}:{ref}"], progress)
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace")
        if "couldn't find remote ref" in err:
            return None
        raise GitError(
            f"git fetch {remote}: {_first_error(err)}",
            hint="check the network and `git remote -v`; nothing was changed locally",
        )
    return repo.resolve_rev(ref)


def ahead_behind(repo: Repo, upstream: str | None) -> tuple[int, int]:
    """(commits only on HEAD, commits only on ``upstream``); one git process."""
    head = repo.head()
    if upstream is None:
        if head is None:
            return 0, 0
        return int(repo.git(["rev-list", "--count", "HEAD"]).stdout.strip() or 0), 0
    if head is None:
        return 0, int(repo.git(["rev-list", "--count", upstream]).stdout.strip() or 0)
    out = repo.git(["rev-list", "--left-right", "--count", f"HEAD...{upstream}"]).stdout
    ours, theirs = out.decode("ascii").split()
    return int(ours), int(theirs)


def integrate(repo: Repo, upstream: str, mode: Mode, behind: int, ahead: int) -> Integration:
    """Bring ``upstream`` into the current branch: a fast-forward when there is nothing local,
    else a rebase of the local commits onto it (or a merge). Changes of the user's outside
    agentctl's files are stashed and put back (``--autostash``). A conflict leaves the rebase
    or merge stopped with the unmerged paths, for the user to resolve."""
    if behind == 0:
        return Integration("up-to-date")
    if repo.head() is None:
        repo.git(["reset", "-q", "--keep", upstream])
        return Integration("fast-forward")
    if ahead == 0:
        repo.git(["merge", "-q", "--ff-only", "--autostash", upstream])
        return Integration("fast-forward")
    if mode == "rebase":
        args = ["-c", "rebase.autoStash=true", "rebase", "-q", upstream]
    else:
        args = ["merge", "-q", "--no-edit", "--autostash", upstream]
    proc = repo.git(args, ok_codes=(0, 1, 128))
    if proc.returncode == 0:
        return Integration(mode)
    conflicts = unmerged_paths(repo)
    if not conflicts:
        err = proc.stderr.decode("utf-8", "replace") + proc.stdout.decode("utf-8", "replace")
        raise GitError(f"git {mode}: {_first_error(err)}")
    return Integration("conflict", conflicts, mode)


def unmerged_paths(repo: Repo) -> list[str]:
    out = repo.git(["diff", "--name-only", "--diff-filter=U", "-z"]).stdout
    return [name for name in os.fsdecode(out).split("\0") if name]


def abort(repo: Repo, stopped_in: str) -> None:
    """Undo a stopped rebase or merge (the state before it is restored)."""
    repo.git([stopped_in, "--abort"], ok_codes=(0, 1, 128))


@dataclass
class Push:
    ok: bool
    retryable: bool = False
    message: str = ""


def push(repo: Repo, remote: str, branch: str, progress: Progress | None = None) -> Push:
    """Push HEAD to ``branch`` of ``remote`` (never forced)."""
    proc = _git(repo, ["push", "--porcelain", remote, f"HEAD:refs/heads/{branch}"], progress)
    out = proc.stdout.decode("utf-8", "replace")
    err = proc.stderr.decode("utf-8", "replace")
    if proc.returncode == 0:
        return Push(True)
    lines = [ln for ln in out.splitlines() if ln.startswith("!")]
    text = " ".join(lines) + " " + err
    if _RETRYABLE.search(text):
        return Push(False, True, " ".join(lines) or _first_error(err))
    if lines:
        return Push(False, False, lines[0].split("\t")[-1])
    # A refusal before anything was sent (a pre-push hook): its own words, not git's summary.
    said = [
        ln.strip()
        for ln in err.splitlines()
        if ln.strip() and not ln.startswith(("To ", "error: failed to push some refs"))
    ]
    return Push(False, False, said[0] if said else _first_error(err))


def touched_since(repo: Repo, base: str, tip: str, path: str) -> bool:
    """True if a commit in ``base..tip`` changed ``path``."""
    out = repo.git(["rev-list", "-n1", f"{base}..{tip}", "--", path]).stdout
    return bool(out.strip())


def drop_commit(repo: Repo, commit: str) -> None:
    """Take ``commit`` out of the current branch: ``reset --keep`` to its parent when it is
    HEAD (local changes to other files are kept), else replay the commits after it onto its
    parent. Raises GitError, changing nothing, when that would clash with local changes."""
    head = repo.head()
    if head == commit:
        proc = repo.git(["reset", "-q", "--keep", f"{commit}^"], ok_codes=(0, 1, 128))
    else:
        proc = repo.git(
            ["-c", "rebase.autoStash=true", "rebase", "-q", "--onto", f"{commit}^", commit],
            ok_codes=(0, 1, 128),
        )
        if proc.returncode != 0 and unmerged_paths(repo):
            abort(repo, "rebase")
    if proc.returncode != 0:
        raise GitError(
            f"could not withdraw commit {commit[:12]}: {_first_error(proc.stderr.decode('utf-8', 'replace'))}",
            hint=f"see `git status`; `git revert {commit[:12]}` undoes it by hand",
        )


def _first_error(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for line in lines:
        if line.startswith(("fatal:", "error:")):
            return line
    return lines[0] if lines else "git failed without a message"
