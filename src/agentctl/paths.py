"""Workspace discovery, the on-disk layout, and path validation.

Every path the tool writes is built here from a validated name or ID and checked to stay
inside the workspace; symlinks inside ``.agentctl/`` are refused.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable
from functools import cached_property
from pathlib import Path

from agentctl.errors import NotFoundError, UsageError, ValidationError
from agentctl.frozen import Frozen

# The one definition of a record name (agents, capabilities, mentions, file stems); the
# models and the fast checks in core take it from here (paths is the lowest layer using it).
NAME_PATTERN = r"^[a-z0-9][a-z0-9-]{0,63}$"
NAME_RE = re.compile(NAME_PATTERN.removesuffix("$") + r"\Z")
DIR_NAME = ".agentctl"
# <yyyymmddThhmmssmmm>Z-<message id>.md: sorts by time, unique across machines.
MESSAGE_FILE_RE = re.compile(r"^\d{8}T\d{9}Z-m-[0-9a-z]{12}\.md\Z")
ENV_WORKSPACE = "AGENTCTL_WORKSPACE"


def validate_name(value: str, what: str = "name") -> str:
    """Return ``value`` if it is a safe record name (``^[a-z0-9][a-z0-9-]{0,63}$``)."""
    if not isinstance(value, str) or not NAME_RE.match(value):
        raise UsageError(
            f"invalid {what} {value!r}: use 1-64 lowercase letters, digits and '-', "
            "starting with a letter or digit"
        )
    return value


class Layout(Frozen):
    """Names of everything in a workspace rooted at ``root`` (resolved, absolute). The fixed
    names are computed once per layout (an import asks for the tasks folder ten thousand
    times); anything that checks the disk (:meth:`inside`, ``working``) checks every time.

    Immutable, compared and hashed by its two fields: what ``@dataclass(frozen=True)`` made
    it, written out (building a dataclass costs ~0.5 ms at every start)."""

    _fields = ("root", "working_name")
    root: Path
    working_name: str

    def __init__(self, root: Path, working_name: str = "WORKING.md") -> None:
        object.__setattr__(self, "root", root)
        object.__setattr__(self, "working_name", working_name)

    @cached_property
    def dir(self) -> Path:
        return self.root / DIR_NAME

    @cached_property
    def config(self) -> Path:
        return self.dir / "config.yaml"

    @cached_property
    def agents(self) -> Path:
        return self.dir / "agents"

    @cached_property
    def tasks(self) -> Path:
        return self.dir / "tasks"

    @cached_property
    def threads(self) -> Path:
        return self.dir / "threads"

    @cached_property
    def events(self) -> Path:
        return self.dir / "events"

    @cached_property
    def specs(self) -> Path:
        return self.dir / "specs"

    @cached_property
    def docs(self) -> Path:
        return self.dir / "docs"

    @cached_property
    def memory(self) -> Path:
        return self.dir / "memory"

    @cached_property
    def inbox(self) -> Path:
        return self.dir / "inbox"

    @cached_property
    def local(self) -> Path:
        return self.dir / "local"

    @cached_property
    def host_file(self) -> Path:
        """This clone's machine name (``agentctl host --set``), machine-local."""
        return self.local / "host"

    @cached_property
    def lock(self) -> Path:
        return self.local / "workspace.lock"

    @cached_property
    def journal(self) -> Path:
        """Write-ahead entries of changes not yet committed (see store/journal.py)."""
        return self.local / "journal"

    @cached_property
    def index(self) -> Path:
        return self.local / "index.sqlite"

    @property
    def working(self) -> Path:
        return self.inside(self.root / self.working_name)

    def task(self, task_id: str) -> Path:
        return self.inside(self.tasks / f"{validate_name(task_id, 'task id')}.md")

    def tasks_of(self, task_ids: Iterable[str]) -> list[Path]:
        """:meth:`task` of each ID, the tasks folder checked once (an import names 10,000)."""
        tasks = self.tasks
        return self.inside_all(tasks / f"{validate_name(i, 'task id')}.md" for i in task_ids)

    def agent(self, name: str) -> Path:
        return self.inside(self.agents / f"{validate_name(name, 'agent name')}.md")

    def agent_state(self, name: str) -> Path:
        return self.inside(self.agents / f"{validate_name(name, 'agent name')}.state.yaml")

    def inbox_file(self, agent: str) -> Path:
        return self.inside(self.inbox / f"{validate_name(agent, 'agent name')}.jsonl")

    def thread(self, task_id: str) -> Path:
        return self.inside(self.threads / validate_name(task_id, "task id"))

    def message(self, task_id: str, file_name: str) -> Path:
        if not MESSAGE_FILE_RE.match(file_name):
            raise UsageError(f"invalid message file name {file_name!r}")
        return self.inside(self.thread(task_id) / file_name)

    def doc(self, doc_id: str) -> Path:
        return self.inside(self.docs / f"{validate_name(doc_id, 'document id')}.md")

    def spec(self, spec_id: str) -> Path:
        return self.inside(self.specs / f"{validate_name(spec_id, 'spec id')}.md")

    def events_file(self, day: str) -> Path:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", day):
            raise UsageError(f"invalid event log date {day!r}")
        return self.events / f"{day}.jsonl"

    def inside(self, path: Path) -> Path:
        """``path`` made absolute and checked to stay inside the workspace root.

        Refuses ``..`` escapes and any symlink between ``.agentctl/`` and the path.
        """
        return self._inside(path, None)

    def inside_all(self, paths: Iterable[Path]) -> list[Path]:
        """:meth:`inside` of each path, checking each folder once for the whole call (a bulk
        import writes ten thousand files in a few folders): each path's own name is still
        checked."""
        checked: set[str] = set()
        return [self._inside(path, checked) for path in paths]

    def _inside(self, path: Path, checked: set[str] | None) -> Path:
        # Strings and lstat, not pathlib per component: a bulk import checks thousands.
        root = self._root_text
        prefix = root if root.endswith(os.sep) else root + os.sep
        text = os.fspath(path)
        normal = os.path.normpath(text if os.path.isabs(text) else os.path.join(root, text))
        if normal != root and not normal.startswith(prefix):
            raise UsageError(f"path {path} is outside the workspace {self.root}")
        parts = normal[len(prefix) :].split(os.sep) if normal != root else []
        if parts and parts[0] == DIR_NAME:
            current = root
            folder = os.path.dirname(normal)
            if checked is not None and folder in checked:
                current, parts = folder, parts[-1:]  # its folders were checked by this call
            for depth, part in enumerate(parts, 1):
                current = current + os.sep + part
                try:
                    mode = os.lstat(current).st_mode
                except (FileNotFoundError, NotADirectoryError):
                    break  # nothing below a missing part exists either
                except OSError:
                    continue  # as Path.is_symlink: an unreadable part is no symlink
                if stat.S_ISLNK(mode):
                    raise ValidationError("symlinks are not allowed inside .agentctl/", current)
                if checked is not None and depth == len(parts) - 1:
                    checked.add(current)  # the path's folder exists and no part of it links
        if normal == text and isinstance(path, Path):
            return path  # already absolute and normal: no second Path built
        return Path(normal)

    @cached_property
    def _root_text(self) -> str:
        return os.path.normpath(os.fspath(self.root))

    def relative(self, path: Path) -> str:
        """Display form of a workspace path, relative to the root with '/' separators."""
        text = os.fspath(path)
        root = self._root_text
        prefix = root if root.endswith(os.sep) else root + os.sep
        if text.startswith(prefix):  # strings, not pathlib: an import names ten thousand
            return text[len(prefix) :].replace(os.sep, "/")
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)


def find_root(start: Path | None = None, explicit: str | None = None) -> Path:
    """The workspace root: ``explicit`` (flag), else $AGENTCTL_WORKSPACE, else the nearest
    directory at or above ``start`` that holds ``.agentctl/config.yaml``."""
    chosen = explicit or os.environ.get(ENV_WORKSPACE)
    if chosen:
        root = Path(chosen).expanduser().resolve()
        if not (root / DIR_NAME / "config.yaml").is_file():
            raise NotFoundError(
                f"no agentctl workspace at {root}",
                hint=f"run 'agentctl init {root}' to create one",
            )
        return root
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / DIR_NAME / "config.yaml").is_file():
            return candidate
    raise NotFoundError(
        f"no agentctl workspace found in {here} or its parents",
        hint="run 'agentctl init' here, or pass --workspace PATH",
    )
