"""Shared fixtures: an isolated environment, real git repos, real workspaces, and CLI runners.

Tests never see the developer's machine: HOME, git configuration and every ``AGENTCTL_*``
variable are pinned by an autouse fixture. The ``cli`` fixture runs the real entry point
(``agentctl.cli.boundary.run``) in-process so the error boundary, exit codes and stderr are
exactly what a user gets; ``run_proc`` runs ``python -m agentctl`` as a real subprocess.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

ENV_REMOVED = (
    "GIT_AUTHOR_NAME",
    "GIT_AUTHOR_EMAIL",
    "GIT_COMMITTER_NAME",
    "GIT_COMMITTER_EMAIL",
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "EMAIL",
    "AGENTCTL_WORKSPACE",
    "AGENTCTL_AGENT",
    "AGENTCTL_AUTOCOMMIT",
    "AGENTCTL_LOCK_TIMEOUT",
    "AGENTCTL_DEBUG",
    "VISUAL",
    "EDITOR",
)


def pytest_configure(config: pytest.Config) -> None:
    """Compile agentctl's sources to bytecode once, before any worker or subprocess starts.

    An editable install has no bytecode until an import writes it, and where
    PYTHONDONTWRITEBYTECODE is set (as on the machines this suite runs on) no import ever
    does: every `python -m agentctl` the tests start then compiled ~130 modules from source
    (~0.1-0.15 s each time). py_compile writes the cache regardless of that setting, and
    Python reads it."""
    if hasattr(config, "workerinput"):  # an xdist worker: the controller has done it
        return
    import compileall

    source = Path(__file__).resolve().parent.parent / "src" / "agentctl"
    if source.is_dir():
        compileall.compile_dir(str(source), quiet=1, workers=1)


GIT_USER_NAME = "Test User"
GIT_USER_EMAIL = "test.user@example.com"


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Pin the environment: private HOME, no global/system git config, no AGENTCTL_* leaks."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in ENV_REMOVED:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    # Rounds tick one agent after another in-process (fast, and pinned clocks apply);
    # tests of parallel rounds pass --jobs or remove this.
    monkeypatch.setenv("AGENTCTL_JOBS", "1")
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.setenv("USER", "tester")
    # This machine's name (agentctl host): the same on every developer's machine and in CI.
    monkeypatch.setenv("AGENTCTL_HOST", "test-host")
    from agentctl.core import secrets

    secrets.reset(names=True)  # the mask follows each test's environment
    return home


@pytest.fixture(autouse=True)
def unpinned_clock() -> Iterator[None]:
    """Every test starts on the system clock, whatever the one before pinned."""
    from agentctl.core import clock

    clock.set_clock(None)
    yield
    clock.set_clock(None)


PINNED_AT = "2026-11-22T09:30:15.250Z"


@pytest.fixture
def pinned_clock() -> Iterator[datetime]:
    """``now()`` is ``PINNED_AT`` for the whole test (in-process runs only)."""
    from agentctl.core import clock

    moment = clock.parse(PINNED_AT)
    assert moment is not None
    with clock.pinned(moment) as fixed:
        yield fixed


# -- results and runners ---------------------------------------------------------------------


@dataclass
class Result:
    """The outcome of one agentctl invocation."""

    code: int
    out: str
    err: str
    args: tuple[str, ...] = ()

    def json(self) -> Any:
        try:
            return json.loads(self.out)
        except json.JSONDecodeError as exc:  # pragma: no cover - shown on failure only
            raise AssertionError(f"stdout is not JSON ({exc}):\n{self}") from None

    def __str__(self) -> str:
        return f"$ agentctl {' '.join(self.args)}\n[exit {self.code}]\n--- stdout ---\n{self.out}--- stderr ---\n{self.err}"


def git(cwd: Path, *args: str, check: bool = True) -> str:
    """Run git in ``cwd``; return stdout (raises with stderr on failure when ``check``)."""
    proc = subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        errors="surrogateescape",
        check=False,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
    return proc.stdout


@contextlib.contextmanager
def _temporary_env(env: Mapping[str, str | None] | None) -> Iterator[None]:
    if not env:
        yield
        return
    saved = {k: os.environ.get(k) for k in env}
    try:
        for key, value in env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextlib.contextmanager
def _cwd(path: Path | str | None) -> Iterator[None]:
    if path is None:
        yield
        return
    before = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


Runner = Callable[..., Result]


def run_cli(
    *args: str,
    input: str | None = None,
    cwd: Path | str | None = None,
    env: Mapping[str, str | None] | None = None,
) -> Result:
    """Run agentctl in-process through its real error boundary; never raises."""
    from agentctl.cli import boundary
    from agentctl.cli.app import app

    out, err = io.StringIO(), io.StringIO()
    stdin = io.TextIOWrapper(io.BytesIO((input or "").encode("utf-8")), encoding="utf-8")
    saved_stdin = sys.stdin
    sys.stdin = stdin
    try:
        with (
            _cwd(cwd),
            _temporary_env(env),
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
        ):
            code = boundary.run(app, [str(a) for a in args])
    finally:
        sys.stdin = saved_stdin
    return Result(code, out.getvalue(), err.getvalue(), tuple(str(a) for a in args))


def run_proc(
    *args: str,
    input: str | None = None,
    cwd: Path | str | None = None,
    env: Mapping[str, str | None] | None = None,
    timeout: float = 120,
) -> Result:
    """Run ``python -m agentctl ARGS`` as a real subprocess (inherits the pinned env)."""
    full_env = dict(os.environ)
    for key, value in (env or {}).items():
        if value is None:
            full_env.pop(key, None)
        else:
            full_env[key] = value
    proc = subprocess.run(
        [sys.executable, "-m", "agentctl", *[str(a) for a in args]],
        input=input,
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr, tuple(str(a) for a in args))


@pytest.fixture
def cli() -> Runner:
    """``cli(*args, input=None, cwd=None, env=None) -> Result`` (in-process, real boundary)."""
    return run_cli


@pytest.fixture(name="run_proc")
def run_proc_fixture() -> Runner:
    """``run_proc(*args, input=None, cwd=None, env=None) -> Result`` (real subprocess)."""
    return run_proc


# -- repositories and workspaces ---------------------------------------------------------------


def make_git_repo(path: Path) -> Path:
    """A real repo on branch main with a local identity and one commit (README.md)."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.name", GIT_USER_NAME)
    git(path, "config", "user.email", GIT_USER_EMAIL)
    git(path, "config", "commit.gpgsign", "false")
    (path / "README.md").write_text("# test project\n", encoding="utf-8")
    git(path, "add", "README.md")
    git(path, "commit", "-q", "-m", "initial commit")
    return path


# Templates: each kind of starting directory is built once per test process (per day, since
# `init` writes its event into the day's file) and copied for every test. A copy costs a few
# milliseconds; `agentctl init` ~0.1 s of CPU, a git repository a dozen git processes.
_TEMPLATES: dict[tuple[str, str], Path] = {}


@pytest.fixture(scope="session")
def template_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("templates")


def _build_template(kind: str, root: Path) -> None:
    """``repo``: :func:`make_git_repo`; ``git-ws``: that plus ``agentctl init``; ``plain-ws``:
    ``agentctl init`` in a directory outside any repository."""
    if kind in ("repo", "git-ws"):
        make_git_repo(root)
    else:
        root.mkdir(parents=True)
    if kind != "repo":
        result = run_cli("init", cwd=root, env={"GIT_CEILING_DIRECTORIES": str(root.parent)})
        assert result.code == 0, str(result)


def copy_template(kind: str, target: Path, templates: Path) -> Path:
    """Make ``target`` a copy of the ``kind`` template (see :func:`_build_template`), exactly
    what building it there would give, except for timestamps and the directory's location.
    Templates live in a directory named like ``target`` (the workspace name comes from it)."""
    from agentctl.core import clock

    key = (f"{kind}/{target.name}/{_env_key()}", clock.now().date().isoformat())
    template = _TEMPLATES.get(key)
    if template is None:
        template = Path(tempfile.mkdtemp(prefix=f"{kind}-", dir=templates)) / target.name
        _build_template(kind, template)
        _TEMPLATES[key] = template
        _TEAMS_BASE[template] = templates
    shutil.copytree(template, target, symlinks=True, dirs_exist_ok=True)
    _COPIES[target.resolve()] = template
    return target


def _env_key() -> str:
    """What in the environment can change what a command writes (``$USER``, git's and
    agentctl's variables); a template is reused only under the same."""
    names = sorted(
        k
        for k in os.environ
        if (k == "USER" or k.startswith(("GIT_", "AGENTCTL_"))) and k != "GIT_CEILING_DIRECTORIES"
    )
    return repr([(k, os.environ[k]) for k in names])


# A copy made by copy_template -> its template; a template -> the templates directory.
_COPIES: dict[Path, Path] = {}
_TEAMS_BASE: dict[Path, Path] = {}
_TEAMS: dict[tuple[Path, str, str], tuple[Path, float]] = {}
TEAM_TEMPLATE_MAX_AGE = 300.0  # seconds: the team's timestamps stay minutes old at most


def _tree_state(root: Path) -> tuple[dict[str, bytes], str]:
    """Every file but git's and the index (a cache rebuilt from the files), and HEAD."""
    files: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if rel == ".git" or rel.startswith((".git/", ".agentctl/local/index.sqlite")):
            continue
        if path.is_file():
            files[rel] = path.read_bytes()
    head = git(root, "rev-parse", "HEAD").strip() if (root / ".git").exists() else ""
    return files, head


def _team_from_template(root: Path, runtime: str) -> bool:
    """Make ``root`` the team template for its workspace template when ``root`` is still an
    untouched copy of that template (else False: the caller builds the team in place)."""
    from agentctl.core import clock

    base = _COPIES.get(root.resolve())
    if base is None or _tree_state(root) != _tree_state(base):
        return False
    key = (base, runtime, _env_key())
    template, built = _TEAMS.get(key, (None, 0.0))
    if template is None or clock.now().timestamp() - built > TEAM_TEMPLATE_MAX_AGE:
        template = Path(tempfile.mkdtemp(prefix="team-", dir=_TEAMS_BASE[base])) / root.name
        shutil.copytree(base, template, symlinks=True)
        _build_team(run_cli, template, runtime)
        _TEAMS[key] = (template, clock.now().timestamp())
    for child in root.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
    shutil.copytree(template, root, symlinks=True, dirs_exist_ok=True)
    return True


@pytest.fixture
def git_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, template_dir: Path) -> Path:
    """A fresh git repo (cwd is set to it for the test)."""
    root = copy_template("repo", tmp_path / "repo", template_dir)
    monkeypatch.chdir(root)
    return root


@pytest.fixture
def plain_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh directory outside any git repository (cwd is set to it for the test)."""
    root = tmp_path / "repo"
    root.mkdir()
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))  # never find a repo above
    monkeypatch.setenv("USER", GIT_USER_NAME)  # the human's name, as git's user.name would give
    monkeypatch.chdir(root)
    return root


@pytest.fixture
def ws_root(plain_dir: Path, template_dir: Path) -> Path:
    """A workspace without git (``agentctl init`` in ``plain_dir``; cwd is its root): the
    default for tests that are not about git, which skip the auto-commit's cost. Tests about
    commits, history, merges, hooks or recovery from git use ``git_ws_root`` (a module whose
    tests all are defines its own ``ws_root`` fixture returning ``git_ws_root``)."""
    return copy_template("plain-ws", plain_dir, template_dir)


@pytest.fixture
def git_ws_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, template_dir: Path) -> Path:
    """A git repository (as ``git_repo``) with ``agentctl init`` run in it (cwd is the
    workspace root)."""
    root = copy_template("git-ws", tmp_path / "repo", template_dir)
    monkeypatch.chdir(root)
    return root


TEAM = (
    ("lead-1", "lead", "lead", ()),
    ("dev-1", "developer", "specialist", ("python",)),
    ("dev-2", "developer", "specialist", ()),
    ("intern-1", "intern", "intern", ()),
)


def allow_simulated(root: Path) -> None:
    """Set ``allow_simulated: true`` in the workspace config (committed in a git repo), so
    heartbeats tick simulated agents there, as in the demo's workspace."""
    path = root / ".agentctl" / "config.yaml"
    text = path.read_text(encoding="utf-8")
    if "allow_simulated: true" in text:
        return
    assert "allow_simulated: false" in text, "the config template names allow_simulated"
    path.write_text(
        text.replace("allow_simulated: false", "allow_simulated: true", 1), encoding="utf-8"
    )
    if (root / ".git").exists():
        git(root, "commit", "-q", "-m", "allow simulated agents", "--", ".agentctl/config.yaml")


def make_team(cli: Runner, cwd: Path | str | None = None, runtime: str = "simulated") -> list[str]:
    """Add lead-1 (lead), dev-1 (specialist, python), dev-2 (specialist), intern-1 (intern), on
    the simulated runtime by default, and allow simulated agents to tick in the workspace.
    A workspace still as its template left it gets a copy of that template with the team
    (built once per test process, the same commands in the same order)."""
    root = Path(cwd) if cwd is not None else Path.cwd()
    if not (cli is run_cli and _team_from_template(root, runtime)):
        _build_team(cli, root, runtime)
    return [name for name, *_ in TEAM]


def _build_team(cli: Runner, root: Path, runtime: str) -> None:
    if runtime == "simulated":
        allow_simulated(root)
    for name, role, level, capabilities in TEAM:
        args = ["agent", "add", name, "--role", role, "--level", level, "--runtime", runtime]
        for capability in capabilities:
            args += ["--capability", capability]
        result = cli(*args, cwd=root)
        assert result.code == 0, str(result)


@pytest.fixture
def team(ws_root: Path, cli: Runner) -> list[str]:
    """A workspace with the standard team of four (see :func:`make_team`)."""
    return make_team(cli, cwd=ws_root)


def add_task(cli: Runner, title: str, *options: str, cwd: Path | str | None = None) -> str:
    """Create a task and return its full ID."""
    result = cli("task", "add", title, *options, "--json", cwd=cwd)
    assert result.code == 0, str(result)
    task_id: str = result.json()["task"]["id"]
    return task_id


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (bytes), except .git/ and the machine-local .agentctl/local/."""
    files: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if rel == ".git" or rel.startswith((".git/", ".agentctl/local")):
            continue
        if path.is_file():
            files[rel] = path.read_bytes()
    return files


def git_state(root: Path) -> tuple[str, str, str, str]:
    """HEAD, ``git status --porcelain``, staged and unstaged diffs: to prove nothing moved."""
    head = git(root, "rev-parse", "HEAD", check=False).strip()
    return (
        head,
        git(root, "status", "--porcelain", "--untracked-files=all"),
        git(root, "diff", "--cached", "--binary"),
        git(root, "diff", "--binary"),
    )


def assert_one_line_error(result: Result, code: int, *needles: str) -> None:
    """Exit ``code``; stderr is ``agentctl: error: ...`` (+ at most one hint line), no traceback,
    and the error line contains every needle."""
    assert result.code == code, str(result)
    lines = result.err.splitlines()
    assert lines, str(result)
    assert lines[0].startswith("agentctl: error: "), str(result)
    assert len(lines) <= 2, str(result)
    if len(lines) == 2:
        assert lines[1].startswith("agentctl: hint: "), str(result)
    assert "Traceback" not in result.err and "Traceback" not in result.out, str(result)
    for needle in needles:
        assert needle in lines[0], f"{needle!r} not in the error line\n{result}"


def run_refused(
    cli: Runner,
    root: Path,
    code: int,
    args: tuple[str, ...],
    *needles: str,
    env: Mapping[str, str | None] | None = None,
) -> Result:
    """Run a command that must fail with ``code`` (see :func:`assert_one_line_error`) and
    prove it changed nothing: every workspace file (WORKING.md and events included), HEAD,
    the git index and the working tree are as they were."""
    files, state = snapshot(root), git_state(root)
    events_dir = root / ".agentctl" / "events"
    events = sorted(events_dir.iterdir()) if events_dir.is_dir() else []
    result = cli(*args, env=env)
    assert_one_line_error(result, code, *needles)
    assert result.out == "", str(result)
    assert snapshot(root) == files, f"files changed after a refused command\n{result}"
    assert git_state(root) == state, f"git state changed after a refused command\n{result}"
    assert (sorted(events_dir.iterdir()) if events_dir.is_dir() else []) == events
    return result
