"""git hooks (``agentctl hooks install|uninstall|status``) and what each one does when git runs it.

Each hook file holds a marked block that runs ``agentctl hooks run <hook>``; a hook the user
already had keeps running: a shell script gets the block after its first line, any other
program is moved aside to ``<hook>.agentctl-user`` and run after the block. The directory is
git's own (``git rev-parse --git-path hooks``, so ``core.hooksPath`` is respected, never set).

* pre-commit: the staged agentctl records only (schema, references, conflict markers, secrets).
* commit-msg: a ``Refs``/``Closes t-...`` naming no task is refused.
* post-commit: a commit whose message mentions tasks posts a message on their threads;
  ``Closes`` moves the task to review.
* post-merge, post-checkout, post-rewrite: re-index and re-render WORKING.md (committed when
  auto-commit is on), so a pull never leaves it stale.

These are not the event hooks of ``config.hooks`` (workspace/hooks.py).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any

from agentctl.core.rules import Actor
from agentctl.errors import AgentctlError, UsageError
from agentctl.store.index import Problem
from agentctl.workspace.collab import CollabOps
from agentctl.workspace.maintenance import Maintenance, _check_record

HOOKS = ("pre-commit", "commit-msg", "post-commit", "post-merge", "post-checkout", "post-rewrite")
BLOCKING = frozenset({"pre-commit", "commit-msg"})  # their failure stops the git command
BEGIN = "# >>> agentctl git hook >>>"
END = "# <<< agentctl git hook <<<"
USER_SUFFIX = ".agentctl-user"
_SHELLS = re.compile(r"^#!\s*(/usr/bin/env\s+)?(/bin/|/usr/bin/)?(sh|bash|dash|zsh|ksh)\b")
CLOSING = frozenset({"closes", "fixes", "resolves"})
# The message post-commit writes: "Commit <short>: <subject>\n\n... commit <full hash>".
_LINK = re.compile(r"^Commit [0-9a-f]+: (.*)\n\n.*commit ([0-9a-f]{40,64})$", re.MULTILINE)


def _block(hook: str, workspace: str) -> str:
    import shlex

    python = shlex.quote(sys.executable)
    args = f'-W {shlex.quote(workspace)} hooks run {hook} "$@" </dev/null'
    stop = " || exit $?" if hook in BLOCKING else ""
    return (
        f"{BEGIN}\n"
        "# Installed by `agentctl hooks install`; `agentctl hooks uninstall` removes this block.\n"
        f"if test -x {python}; then {python} -m agentctl {args}{stop}\n"
        f"elif command -v agentctl >/dev/null 2>&1; then agentctl {args}{stop}\n"
        f"else echo 'agentctl: {hook} hook skipped: agentctl not found' >&2\n"
        "fi\n"
        f"{END}\n"
    )


def _without_block(text: str) -> str:
    start = text.find(BEGIN)
    end = text.find(END, start)
    if start < 0 or end < 0:
        return text
    return text[:start] + text[end + len(END) :].removeprefix("\n")


def _write_executable(path: Path, text: str, mode: int = 0o755) -> None:
    from agentctl.store import atomic

    atomic.write_text(path, text)
    path.chmod(mode | 0o111)


class GitHookOps(Maintenance, CollabOps):
    # -- install / uninstall / status --------------------------------------------------------

    def _hooks_dir(self) -> Path:
        from agentctl import vcs_merge

        repo = self.repo
        if repo is None:
            raise UsageError(f"{self.root} is not inside a git repository: there are no git hooks")
        return vcs_merge.hooks_dir(repo.root)

    def install_git_hooks(self) -> dict[str, Any]:
        """Install agentctl's git hooks (keeping any hook already there) and configure the
        merge drivers in ``.git/config``. Idempotent; returns what each hook became."""
        from agentctl import vcs_merge

        directory = self._hooks_dir()
        assert self.repo is not None
        directory.mkdir(parents=True, exist_ok=True)
        workspace = os.path.relpath(self.root, self.repo.root)
        result: dict[str, str] = {}
        for hook in HOOKS:
            path = directory / hook
            block = _block(hook, workspace)
            if not path.exists():
                _write_executable(path, f"#!/bin/sh\n{block}")
                result[hook] = "installed"
                continue
            text = path.read_text(encoding="utf-8", errors="surrogateescape")
            mode = path.stat().st_mode & 0o777
            if BEGIN in text:
                start, end = text.find(BEGIN), text.find(END) + len(END) + 1
                updated = text[:start] + block + text[end:]
                if updated != text:
                    _write_executable(path, updated, mode)
                result[hook] = "unchanged" if updated == text else "updated"
            elif _SHELLS.match(text):
                first, _, rest = text.partition("\n")
                _write_executable(path, f"{first}\n{block}{rest}", mode)
                result[hook] = "chained (block added to your hook)"
            else:
                aside = path.with_name(hook + USER_SUFFIX)
                os.replace(path, aside)
                wrapper = f'#!/bin/sh\n{block}exec "$(dirname "$0")/{aside.name}" "$@"\n'
                _write_executable(path, wrapper)
                result[hook] = f"chained (yours runs after, from {aside.name})"
        drivers = vcs_merge.configure(self.repo.root)
        return {"hooks_dir": str(directory), "hooks": result, "merge_drivers": drivers}

    def uninstall_git_hooks(self) -> dict[str, Any]:
        """Remove agentctl's blocks (a user's hook stays as it was) and the merge drivers."""
        from agentctl import vcs_merge

        directory = self._hooks_dir()
        assert self.repo is not None
        result: dict[str, str] = {}
        for hook in HOOKS:
            path = directory / hook
            aside = path.with_name(hook + USER_SUFFIX)
            if not path.exists():
                continue
            text = path.read_text(encoding="utf-8", errors="surrogateescape")
            if BEGIN not in text:
                continue
            if aside.exists():
                os.replace(aside, path)
                result[hook] = "removed (yours restored)"
                continue
            rest = _without_block(text)
            if rest.strip() in ("", "#!/bin/sh"):
                path.unlink()
                result[hook] = "removed"
            else:
                _write_executable(path, rest, path.stat().st_mode & 0o777)
                result[hook] = "removed (yours kept)"
        drivers = vcs_merge.unconfigure(self.repo.root)
        return {"hooks_dir": str(directory), "hooks": result, "merge_drivers": drivers}

    def git_hooks_status(self) -> dict[str, Any]:
        """Which hooks carry agentctl's block, where git looks for them, and whether the merge
        drivers are configured in this clone."""
        from agentctl import vcs_merge

        directory = self._hooks_dir()
        assert self.repo is not None
        hooks = {}
        for hook in HOOKS:
            path = directory / hook
            text = path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
            if BEGIN not in text:
                hooks[hook] = "missing" if not text else "not installed (another hook)"
            elif sys.executable not in text:
                hooks[hook] = "stale (another agentctl installed it: run hooks install)"
            else:
                hooks[hook] = "installed"
        return {
            "hooks_dir": str(directory),
            "hooks_path": vcs_merge.config_value(self.repo.root, "core.hooksPath"),
            "hooks": hooks,
            "merge_drivers": vcs_merge.driver_status(self.repo.root),
            "attributes": vcs_merge.attributes_status(self.root),
        }

    # -- running a hook ------------------------------------------------------------------------

    def run_git_hook(self, hook: str, args: list[str]) -> dict[str, Any]:
        """What git's ``hook`` does (called by the installed block). Returns a report; raises
        only for the blocking hooks (pre-commit, commit-msg) when they refuse."""
        if hook == "pre-commit":
            return {"problems": self.check_staged()}
        if hook == "commit-msg":
            return self._check_message(Path(args[0]) if args else None)
        if hook == "post-commit":
            return self.link_commit()
        if hook == "post-checkout" and (len(args) < 3 or args[2] != "1" or args[0] == args[1]):
            return {"skipped": "not a branch switch"}
        if hook == "post-rewrite" and args[:1] == ["amend"]:
            return {"skipped": "an amend"}
        if hook in ("post-merge", "post-checkout", "post-rewrite"):
            return self.rerender_after_git(hook)
        raise UsageError(f"unknown git hook {hook!r}; hooks are: {', '.join(HOOKS)}")

    def _git_busy(self, hook: str = "") -> str | None:
        """Why committing now would be wrong (an operation in progress, a detached HEAD).
        git runs post-merge before it removes MERGE_HEAD, and post-rewrite before it removes
        the rebase state (with the branch already moved): the work is committed by then."""
        from agentctl import vcs_merge

        assert self.repo is not None
        finished = {"post-merge": ("MERGE_HEAD",), "post-rewrite": ("rebase-merge", "rebase-apply")}
        for name in ("rebase-merge", "rebase-apply", "MERGE_HEAD", "CHERRY_PICK_HEAD"):
            if name in finished.get(hook, ()):
                continue
            if (self.repo.git_dir / name).exists():
                return f"{name} in progress"
        if not vcs_merge.on_branch(self.repo.root):
            return "HEAD is detached"
        return None

    def rerender_after_git(self, hook: str = "") -> dict[str, Any]:
        """Re-index and re-render WORKING.md after git changed the records under us."""
        if self.repo is None:
            return {"skipped": "no git repository"}
        busy = self._git_busy(hook)
        if busy:
            return {"skipped": busy}
        self.refresh(force=True)
        _, rerendered = self.working_text()
        return {"rerendered": rerendered}

    def check_staged(self) -> list[Problem]:
        """Problems in the staged versions of agentctl's files (only those staged)."""
        import tempfile

        from agentctl import vcs_merge
        from agentctl.core import secrets
        from agentctl.store.frontmatter import check_conflict_markers

        assert self.repo is not None
        prefix = os.path.relpath(self.root, self.repo.root)
        top = "" if prefix == "." else prefix + "/"
        staged = vcs_merge.staged_files(self.repo.root, [f"{top}.agentctl", f"{top}WORKING.md"])
        if not staged:
            return []
        tasks = {
            Path(p).name.removesuffix(".md")
            for p in vcs_merge.index_files(self.repo.root, f"{top}.agentctl/tasks")
        }
        problems: list[Problem] = []
        with tempfile.TemporaryDirectory(prefix="agentctl-staged-") as tmp:
            for rel in staged:
                shown = rel.removeprefix(top)
                text = vcs_merge.staged_text(self.repo.root, rel)
                for number, line in enumerate(text.splitlines(), start=1):
                    if secrets.mask(line) != line:
                        problems.append(Problem(shown, number, "holds a secret (refused)"))
                        break
                try:
                    check_conflict_markers(text, shown)
                except AgentctlError as exc:
                    problems.append(Problem(shown, getattr(exc, "line", None), str(exc)))
                    continue
                kind = _record_kind(shown)
                if kind is None:
                    continue
                copy = Path(tmp) / Path(shown).parent.name / Path(shown).name
                copy.parent.mkdir(exist_ok=True)
                copy.write_text(text, encoding="utf-8")
                found: list[Problem] = []
                data = _check_record(copy, shown, kind, found)
                problems += found
                if data is not None and kind == "task":
                    for ref in [*data.get("depends_on", []), data.get("parent")]:
                        if ref and ref not in tasks:
                            problems.append(Problem(shown, None, f"refers to missing task {ref}"))
        return problems

    def _check_message(self, path: Path | None) -> dict[str, Any]:
        text = path.read_text(encoding="utf-8", errors="replace") if path else ""
        unknown = []
        for keyword, ref in _refs(text):
            if keyword and self._task_of(ref) is None:
                unknown.append(f"t-{ref}")
        if unknown:
            raise UsageError(
                f"the commit message refers to {', '.join(unknown)}: no such task",
                hint="fix the reference (see 'agentctl task list'), or commit with --no-verify",
            )
        return {"refs": [f"t-{r}" for _, r in _refs(text)]}

    def _task_of(self, ref: str) -> str | None:
        try:
            return self.resolve_task(f"t-{ref}")
        except AgentctlError:
            return None

    def link_commit(self) -> dict[str, Any]:
        """Post HEAD's commit on the thread of each task its message mentions; ``Closes``
        moves the task to review. Commits of only agentctl files, and commits replayed by a
        rebase or cherry-pick, are not linked; a commit already linked is not linked again."""
        from agentctl import vcs_merge

        assert self.repo is not None
        busy = self._git_busy()
        if busy:
            return {"skipped": busy}
        sha, message, files = vcs_merge.head_commit(self.repo.root)
        prefix = os.path.relpath(self.root, self.repo.root)
        top = "" if prefix == "." else prefix + "/"
        if files and all(
            f.startswith(f"{top}.agentctl/") or f == f"{top}WORKING.md" for f in files
        ):
            return {"skipped": "only agentctl files"}
        subject = message.splitlines()[0] if message else sha[:12]
        actor = self.actor()  # the human, or the agent whose process committed
        linked: list[str] = []
        moved: list[dict[str, str]] = []
        warnings: list[str] = []
        for keyword, ref in dict.fromkeys(_refs(message)):
            task_id = self._task_of(ref)
            if task_id is None or task_id in linked:
                continue
            if self._already_linked(task_id, sha, subject):
                continue
            text = f"Commit {sha[:12]}: {subject}\n\n{len(files)} file(s) changed; commit {sha}"
            self.comment(actor, task_id, text, kind="status_update")
            linked.append(task_id)
            if keyword in CLOSING:
                self._close(actor, task_id, sha, moved, warnings)
        return {"commit": sha, "linked": linked, "moved": moved, "warnings": warnings}

    def _already_linked(self, task_id: str, sha: str, subject: str) -> bool:
        """This commit is on the thread, or a commit with the same subject that is no longer
        in HEAD's history (the one ``git commit --amend`` replaced)."""
        from agentctl import vcs_merge

        assert self.repo is not None
        thread = self.layout.thread(task_id)
        for path in sorted(thread.glob("*.md")) if thread.is_dir() else []:
            text = path.read_text(encoding="utf-8", errors="replace")
            if sha in text:
                return True
            found = _LINK.search(text)
            if found and found.group(1) == subject:
                if not vcs_merge.is_ancestor(self.repo.root, found.group(2), sha):
                    return True
        return False

    def _close(
        self, actor: Actor, task_id: str, sha: str, moved: list[dict[str, str]], warnings: list[str]
    ) -> None:
        """Move a task a commit closes to ``git.closes_to`` (review, or done when configured
        and the workflow, the actor's permissions and the human gates allow it; else review)."""
        target = self.config["git"]["closes_to"]
        for status in dict.fromkeys([target, "review"]):
            task = self.index.task(task_id)
            if task is None or task["status"] in (status, "done"):
                return
            try:
                self.move_task(actor, task_id, status, note=f"closed by commit {sha[:12]}")
            except AgentctlError as exc:
                warnings.append(f"{task_id}: not moved to {status}: {exc}")
                continue
            moved.append({"id": task_id, "status": status})
            return


def _refs(message: str) -> list[tuple[str, str]]:
    from agentctl import vcs_merge

    return [
        ((m.group(1) or "").lower(), m.group(2).lower())
        for m in vcs_merge.TASK_REF.finditer(message)
    ]


def _record_kind(rel: str) -> str | None:
    parts = rel.split("/")
    if len(parts) < 3 or parts[0] != ".agentctl":
        return None
    if parts[1] == "agents":
        return "state" if parts[-1].endswith(".state.yaml") else "agent"
    kinds = {"tasks": "task", "docs": "doc", "specs": "spec"}
    if len(parts) == 3 and parts[1] in kinds:
        return kinds[parts[1]]
    if len(parts) == 4 and parts[1] == "threads":
        return "message"
    return None
