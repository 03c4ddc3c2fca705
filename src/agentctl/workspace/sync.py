"""Sharing a workspace through a git remote: ``agentctl sync`` and claims won by push.

A sync, under the workspace lock (no mutation writes files while git rewrites them):
commit what agentctl left uncommitted → fetch → integrate (fast-forward; a rebase of the
local commits by default, a merge with ``sync.mode: merge``) → re-index → re-render
WORKING.md (committed when it changed) → push. A push the remote rejects because it moved
is retried after a fresh fetch and integration, with a random pause, ``sync.retries``
times. A conflict stops the rebase or merge where git stopped it: the user resolves it with
git and runs ``sync`` again (ConflictError, exit 5).

A claim with ``--sync`` is won only by landing on the remote: the claim is committed
locally and pushed; when the push is rejected and the fetched history holds someone
else's claim of the task, ours is withdrawn (its commit taken out, never rebased over
theirs) and the claim fails naming the winner.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agentctl.core.rules import Actor
from agentctl.errors import ConflictError, GitError, UsageError
from agentctl.workspace.tasks import TaskOps

if TYPE_CHECKING:
    from agentctl.vcs import Repo
    from agentctl.vcs_remote import Mode, Progress

SYNC_ACTOR = "agentctl"
_MAX_LISTED = 5  # conflicting paths named in the one-line error


@dataclass
class _Target:
    repo: Repo
    remote: str
    branch: str
    mode: Mode
    retries: int
    progress: Progress | None = None  # git's progress meter (a terminal), else quiet


@dataclass
class SyncReport:
    """What one sync did (``agentctl sync --json`` prints :meth:`as_dict`)."""

    remote: str
    branch: str
    mode: str
    committed: list[str] = field(default_factory=list)  # pending agentctl files committed first
    incoming: int = 0  # commits that came in from the remote
    outgoing: int = 0  # commits pushed to the remote
    integration: str = "up-to-date"  # up-to-date | fast-forward | rebase | merge
    rerendered: bool = False  # WORKING.md re-rendered (and committed) after integrating
    attempts: int = 0  # push attempts (0: nothing to push)
    pushed: bool = False
    conflicts: list[str] = field(default_factory=list)
    drivers: list[str] = field(default_factory=list)  # merge drivers configured in this clone

    def as_dict(self) -> dict[str, Any]:
        return {
            "drivers": self.drivers,
            "remote": self.remote,
            "branch": self.branch,
            "mode": self.mode,
            "committed": self.committed,
            "incoming": self.incoming,
            "outgoing": self.outgoing,
            "integration": self.integration,
            "rerendered": self.rerendered,
            "attempts": self.attempts,
            "pushed": self.pushed,
            "conflicts": self.conflicts,
        }


class SyncOps(TaskOps):
    # -- agentctl sync -----------------------------------------------------------------

    def sync(
        self,
        remote: str | None = None,
        branch: str | None = None,
        progress: Progress | None = None,
    ) -> SyncReport:
        """Commit what agentctl left uncommitted, fetch, integrate (rebase, or merge with
        ``sync.mode: merge``), re-index, re-render WORKING.md and push; a rejected push is
        retried (``sync.retries``). Raises ConflictError (exit 5) when integrating stops on a
        conflict, leaving the rebase or merge for the user to finish."""
        with self._sync_locked():
            # Under the lock: another process's sync may be mid-rebase (HEAD detached).
            target = self._sync_target(remote, branch, progress)
            report = SyncReport(target.remote, target.branch, target.mode)
            report.drivers = self._ensure_merge_drivers(target.repo)  # a fresh clone
            report.committed = self._commit_pending(target.repo)
            self._exchange(target, report)
        return report

    def _exchange(self, target: _Target, report: SyncReport) -> None:
        """Fetch, integrate and push until the push lands or the retries are spent (caller
        holds the workspace lock)."""
        from agentctl import vcs_remote

        while True:
            ahead = self._pull(target, report)
            if ahead == 0:
                return
            report.attempts += 1
            pushed = vcs_remote.push(target.repo, target.remote, target.branch, target.progress)
            if pushed.ok:
                report.outgoing, report.pushed = ahead, True
                return
            self._push_refused(target, report.attempts, pushed.retryable, pushed.message)

    def _push_refused(self, target: _Target, attempts: int, retryable: bool, message: str) -> None:
        """Raise unless another attempt is due; then wait a random, growing moment."""
        import random

        if not retryable:
            raise GitError(
                f"git push to {target.remote} {target.branch} was refused: {message}",
                hint="the remote or a pre-push hook refused it; a protected branch takes no "
                "direct pushes: sync a branch of its own (sync.branch; see docs/teams.md)",
            )
        if attempts > target.retries:
            raise GitError(
                f"git push to {target.remote} {target.branch} was rejected {attempts} times "
                "(the remote kept moving); your commits are safe locally",
                hint="run `agentctl sync` again, or raise sync.retries",
            )
        time.sleep(random.uniform(0.02, 0.2) * attempts)

    def _pull(self, target: _Target, report: SyncReport) -> int:
        """Fetch and integrate the remote branch, then re-index and re-render (lock held);
        returns how many local commits the remote does not have."""
        from agentctl import vcs_remote

        repo = target.repo
        tip = vcs_remote.fetch(repo, target.remote, target.branch, target.progress)
        upstream = vcs_remote.remote_ref(target.remote, target.branch) if tip else None
        ahead, behind = vcs_remote.ahead_behind(repo, upstream)
        if upstream is None or behind == 0:
            if report.attempts == 0 and not report.rerendered and self._rerender_committed():
                report.rerendered = True
                ahead += 1
            return ahead
        done = vcs_remote.integrate(repo, upstream, target.mode, behind, ahead)
        if done.how == "conflict":
            report.conflicts = done.conflicts
            raise _conflict_error(done.conflicts, str(done.stopped_in), target)
        report.incoming += behind
        report.integration = done.how
        self._config = None  # the config file may have come in too
        self.refresh(force=True)
        report.rerendered = self._rerender_committed() or report.rerendered
        return vcs_remote.ahead_behind(repo, upstream)[0]

    def _rerender_committed(self) -> bool:
        """Re-render WORKING.md from the records; commit it when it changed (lock held)."""
        from agentctl.workspace import containment

        path = self.write_working()
        if path is None:
            return False
        containment.note(self.layout, [path], {})  # a re-render is not tampering
        if self.config["git"]["autocommit"] and self.repo is not None:
            self.repo.commit_paths(
                [path], "agentctl: re-render WORKING.md after sync\n\nActor: agentctl\n"
            )
        return True

    def _commit_pending(self, repo: Repo) -> list[str]:
        """Commit agentctl's files that are changed or untracked (a killed writer, a hand
        edit), and repair index entries left out of step; returns what was committed."""
        if not self.config["git"]["autocommit"]:
            return []
        targets = [p for p in (self.layout.dir, self.layout.working) if p.exists()]
        if not targets or repo.head() is None:
            return []
        drift = repo.drift(targets)
        if drift["desynced"]:
            repo.reset_index([self.root / p for p in drift["desynced"]])
        pending = [*drift["untracked"], *drift["changed"]]
        if not pending:
            return []
        repo.commit_paths(
            [self.root / p for p in pending],
            f"agentctl: sync: commit {len(pending)} pending file(s)\n\nActor: {SYNC_ACTOR}\n",
        )
        return pending

    def _sync_target(
        self, remote: str | None, branch: str | None, progress: Progress | None = None
    ) -> _Target:
        from agentctl import vcs_remote

        repo = self.repo
        if repo is None:
            raise GitError(
                "the workspace is not in a git repository: there is nothing to sync",
                hint="`git init`, commit, and `git remote add origin URL` first (docs/teams.md)",
            )
        settings = self.config["sync"]
        name = remote or settings["remote"]
        vcs_remote.check_remote(repo, name)
        repo.preflight()
        wanted = branch or settings["branch"] or vcs_remote.current_branch(repo)
        if wanted.startswith("-"):
            raise GitError(f"not a branch name: {wanted!r}")
        return _Target(repo, name, wanted, settings["mode"], int(settings["retries"]), progress)

    @contextmanager
    def _sync_locked(self) -> Iterator[None]:
        """The workspace lock, with the checks and recovery every mutation starts with."""
        from agentctl.store import locks

        with locks.hold(self.layout.lock, float(self.config["lock"]["timeout"])):
            self.check_git_preconditions()
            # Everything, edits made in place included: what is pending is committed and
            # WORKING.md rendered from it before the push (see store/index_fresh.py).
            self.refresh(force=True, full=True)
            self.recover_interrupted()
            yield

    # -- claims won by push -------------------------------------------------------------

    def claim_synced(
        self,
        actor: Actor,
        ref: str | None = None,
        remote: str | None = None,
        branch: str | None = None,
        progress: Progress | None = None,
    ) -> dict[str, Any]:
        """Claim a task and win it only if the claim lands on the remote first.

        Syncs, claims locally (one commit) and pushes. When the push is rejected and the
        fetched history brings someone else's claim of the task, ours is withdrawn (its
        commit taken out) and ConflictError names the winner; otherwise the claim is rebased
        onto what came in and pushed again (``sync.retries`` rounds)."""
        if self.repo is not None and not self.config["git"]["autocommit"]:
            raise UsageError(
                "claim --sync needs git.autocommit: the claim travels as its commit",
                hint="set git.autocommit: true (and unset AGENTCTL_AUTOCOMMIT)",
            )
        task_id = ref
        rounds = 1
        attempt = 0
        while attempt < rounds:
            attempt += 1
            with self._sync_locked():
                target = self._sync_target(remote, branch, progress)  # under the lock, as in sync()
                rounds = target.retries + 1
                report = SyncReport(target.remote, target.branch, target.mode)
                self._commit_pending(target.repo)
                self._exchange(target, report)
            claimed = self.claim(actor, task_id)
            commit = self._claim_commit(target.repo)
            with self._sync_locked():
                if self._land_claim(target, actor, claimed, commit):
                    return claimed
            task_id = claimed["id"]  # the next round claims the same task afresh
        raise GitError(
            f"the claim of {task_id} could not be pushed in {rounds} rounds "
            "(the remote kept moving); it was withdrawn",
            hint="try again, or raise sync.retries",
        )

    def _claim_commit(self, repo: Repo) -> str:
        """The commit that recorded the claim just made (HEAD, unless another local writer
        committed on top meanwhile: then found by its event id)."""
        event = self.last_event
        head = repo.head()
        if head is None or event is None:
            raise GitError("the claim was not committed (is git.autocommit off?)")
        message = repo.git(["log", "-n1", "--format=%B", head]).stdout.decode("utf-8", "replace")
        if f"Event: {event['id']}" in message:
            return head
        found = repo.git(
            ["log", "-n1", "--format=%H", "--fixed-strings", f"--grep=Event: {event['id']}", "HEAD"]
        )
        sha = found.stdout.decode("ascii").strip()
        if not sha:
            raise GitError(f"cannot find the commit of claim event {event['id']}")
        return sha

    def _land_claim(
        self, target: _Target, actor: Actor, claimed: dict[str, Any], commit: str
    ) -> bool:
        """Push the claim (lock held): True when it landed, False when it was withdrawn to be
        made again on top of what came in; ConflictError when someone else won the task. A
        claim that cannot be pushed (the remote unreachable or refusing) is withdrawn too: it
        is never left to be pushed later over a claim made meanwhile."""
        held = [commit]  # the claim's commit; a rebase gives it a new id
        try:
            return self._push_claim(target, actor, claimed, held)
        except GitError:
            self._withdraw(target, held[0])
            raise

    def _push_claim(
        self, target: _Target, actor: Actor, claimed: dict[str, Any], held: list[str]
    ) -> bool:
        import random

        from agentctl import vcs_remote

        repo = target.repo
        task_id = claimed["id"]
        path = self.layout.relative(self.layout.task(task_id))
        rebased = False
        for attempt in range(1, target.retries + 2):
            pushed = vcs_remote.push(repo, target.remote, target.branch, target.progress)
            if pushed.ok:
                if rebased:
                    self._publish_rerender(target)
                return True
            if not pushed.retryable:
                self._push_refused(target, attempt, False, pushed.message)
            tip = vcs_remote.fetch(repo, target.remote, target.branch, target.progress)
            upstream = vcs_remote.remote_ref(target.remote, target.branch)
            if tip is None:
                continue
            winner = self._rival_claim(upstream, path, actor.name)
            if winner is not None and vcs_remote.touched_since(repo, "HEAD", upstream, path):
                self._withdraw(target, held[0])
                raise ConflictError(
                    f"{task_id} was claimed first by {winner['claimed_by']} (epoch "
                    f"{winner['epoch']}); your claim was withdrawn"
                )
            ahead, behind = vcs_remote.ahead_behind(repo, upstream)
            done = vcs_remote.integrate(repo, upstream, "rebase", behind, ahead)
            if done.how == "conflict":
                vcs_remote.abort(repo, "rebase")
                self._withdraw(target, held[0])
                return False
            rebased = True
            self.refresh(force=True)
            held[0] = self._claim_commit(repo)
            if attempt > target.retries:
                break
            time.sleep(random.uniform(0.02, 0.2) * attempt)
        self._withdraw(target, held[0])
        return False

    def _publish_rerender(self, target: _Target) -> None:
        """After a claim landed on top of others' commits, WORKING.md (merged by union) is
        re-rendered and pushed too; a rejected push leaves that commit to the next sync."""
        from agentctl import vcs_remote

        try:
            self.refresh(force=True)
            if self._rerender_committed():
                vcs_remote.push(target.repo, target.remote, target.branch, target.progress)
        except GitError as exc:  # the claim has landed: this is only the rendering
            self.warnings.append(f"WORKING.md was not re-rendered after the claim: {exc.message}")

    def _rival_claim(self, upstream: str, path: str, name: str) -> dict[str, Any] | None:
        """The claim the remote's copy of the task holds, if it is someone else's."""
        from agentctl.store.frontmatter import load_fast
        from agentctl.store.index import plain_value

        repo = self.repo
        text = repo.show_file(upstream, self.root / path) if repo is not None else None
        if text is None:
            return None
        try:
            fields, _ = load_fast(text, path)
        except Exception:  # noqa: BLE001 - an unreadable remote copy is no claim
            return None
        claim = plain_value(fields).get("claim")
        if isinstance(claim, dict) and claim.get("claimed_by") != name:
            return claim
        return None

    def _withdraw(self, target: _Target, commit: str) -> None:
        """Take our claim's commit out, catch up with the remote, re-index (lock held)."""
        from agentctl import vcs_remote

        vcs_remote.drop_commit(target.repo, commit)
        upstream = vcs_remote.remote_ref(target.remote, target.branch)
        if target.repo.resolve_rev(upstream):
            ahead, behind = vcs_remote.ahead_behind(target.repo, upstream)
            done = vcs_remote.integrate(target.repo, upstream, target.mode, behind, ahead)
            if done.how == "conflict":
                raise _conflict_error(done.conflicts, str(done.stopped_in), target)
        self.refresh(force=True)
        self._rerender_committed()


def _conflict_error(conflicts: list[str], stopped_in: str, target: _Target) -> ConflictError:
    listed = ", ".join(conflicts[:_MAX_LISTED])
    if len(conflicts) > _MAX_LISTED:
        listed += f" and {len(conflicts) - _MAX_LISTED} more"
    return ConflictError(
        f"sync with {target.remote} {target.branch} stopped on a conflict in "
        f"{len(conflicts)} file(s): {listed}",
        hint=f"edit them to the wanted content, `git add` them and `git {stopped_in} --continue` "
        f"(or `git {stopped_in} --abort` to go back), then run `agentctl sync` again",
    )
