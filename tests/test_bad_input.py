"""Bad input never crashes, never half-writes: one error line (plus at most one hint) on
stderr naming the file, a documented exit code, no traceback, and not a byte changed."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import (
    Runner,
    add_task,
    assert_one_line_error,
    git_state,
    make_team,
    run_refused,
    snapshot,
)

from agentctl.errors import ExitCode


@pytest.fixture
def ws_root(git_ws_root: Path) -> Path:
    """These tests check their outcome against git (a refused change leaves the repository
    as it was, commits, history): a real repository."""
    return git_ws_root


def task_path(root: Path, task_id: str) -> Path:
    return root / ".agentctl" / "tasks" / f"{task_id}.md"


def rel(task_id: str) -> str:
    return f".agentctl/tasks/{task_id}.md"


def refused(
    cli: Runner,
    root: Path,
    code: int,
    args: tuple[str, ...],
    *needles: str,
    env: dict[str, str] | None = None,
) -> None:
    run_refused(cli, root, code, args, *needles, env=env)


@pytest.fixture
def two_tasks(ws_root: Path, cli: Runner) -> tuple[str, str]:
    make_team(cli)
    return add_task(cli, "victim", "--assign", "dev-1"), add_task(cli, "bystander")


def _break(root: Path, task_id: str, old: str, new: str) -> int:
    """Replace text in a task file; return the 1-based line of the replacement."""
    path = task_path(root, task_id)
    text = path.read_text(encoding="utf-8")
    assert old in text
    text = text.replace(old, new, 1)
    path.write_text(text, encoding="utf-8")
    return text[: text.index(new)].count("\n") + 1


MUTATIONS = [
    ("task", "move", "{id}", "in_progress"),
    ("task", "edit", "{id}", "--title", "new title"),
    ("task", "assign", "{id}", "dev-2"),
    ("task", "dep", "add", "{id}", "{other}"),
    ("task", "rm", "{id}"),
    ("task", "claim", "{id}"),
]


def _args(template: tuple[str, ...], task_id: str, other: str) -> tuple[str, ...]:
    return tuple(a.format(id=task_id, other=other) for a in template)


# -- broken task files ------------------------------------------------------------------------


@pytest.mark.parametrize("template", MUTATIONS, ids=lambda t: " ".join(t[:3]))
def test_malformed_yaml_in_a_task_file(
    ws_root: Path, cli: Runner, two_tasks: tuple[str, str], template: tuple[str, ...]
) -> None:
    victim, other = two_tasks
    line = _break(ws_root, victim, "priority: 2", "priority: 2: 3")
    refused(
        cli,
        ws_root,
        ExitCode.VALIDATION,
        _args(template, victim, other),
        f"{rel(victim)}:{line}: invalid YAML",
    )


def test_malformed_yaml_reads_warn_and_continue(
    ws_root: Path, cli: Runner, two_tasks: tuple[str, str]
) -> None:
    victim, other = two_tasks
    line = _break(ws_root, victim, "priority: 2", "priority: 2: 3")
    r = cli("task", "list")
    assert r.code == 0, str(r)
    assert "bystander" in r.out and "victim" not in r.out
    assert f"agentctl: warning: {rel(victim)}:{line}: invalid YAML" in r.err
    assert "Traceback" not in r.err
    r = cli("task", "list", "--json")
    assert r.code == 0, str(r)
    assert [t["id"] for t in r.json()["tasks"]] == [other]
    assert rel(victim) in r.err
    for args in (("task", "ready"), ("agent", "list"), ("board", "--plain")):
        r = cli(*args)
        assert r.code == 0, str(r)
        assert rel(victim) in r.err, str(r)
    # showing the broken task names the problem
    r = cli("task", "show", victim)
    assert r.code == ExitCode.VALIDATION, str(r)
    assert f"agentctl: error: {rel(victim)}:{line}: invalid YAML" in r.err
    # other tasks can still be changed
    r = cli("task", "move", other, "in_progress")
    assert r.code == 0, str(r)
    assert r.err == ""
    v = cli("validate")
    assert v.code == ExitCode.VALIDATION and f"{rel(victim)}:{line}: invalid YAML" in v.out


@pytest.mark.parametrize("template", MUTATIONS[:3], ids=lambda t: " ".join(t[:3]))
def test_unknown_field_in_a_task_file(
    ws_root: Path, cli: Runner, two_tasks: tuple[str, str], template: tuple[str, ...]
) -> None:
    victim, other = two_tasks
    _break(ws_root, victim, "priority: 2\n", "priority: 2\nsecret_field: 1\n")
    refused(
        cli,
        ws_root,
        ExitCode.VALIDATION,
        _args(template, victim, other),
        rel(victim),
        "secret_field",
    )
    r = cli("task", "list")
    assert r.code == 0 and rel(victim) in r.err and "secret_field" in r.err, str(r)
    v = cli("validate")
    assert v.code == ExitCode.VALIDATION and "secret_field" in v.out and rel(victim) in v.out


@pytest.mark.parametrize("template", MUTATIONS[:3], ids=lambda t: " ".join(t[:3]))
def test_conflict_marked_task_file(
    ws_root: Path, cli: Runner, two_tasks: tuple[str, str], template: tuple[str, ...]
) -> None:
    victim, other = two_tasks
    line = _break(
        ws_root,
        victim,
        "title: victim\n",
        "<<<<<<< HEAD\ntitle: victim\n=======\ntitle: theirs\n>>>>>>> branch\n",
    )
    refused(
        cli,
        ws_root,
        ExitCode.VALIDATION,
        _args(template, victim, other),
        f"{rel(victim)}:{line}:",
        "conflict marker",
    )
    r = cli("task", "list")
    assert r.code == 0 and f"{rel(victim)}:{line}: unresolved git merge conflict marker" in r.err, (
        str(r)
    )


@pytest.mark.parametrize("template", MUTATIONS[:3], ids=lambda t: " ".join(t[:3]))
def test_task_id_not_matching_its_file_name(
    ws_root: Path, cli: Runner, two_tasks: tuple[str, str], template: tuple[str, ...]
) -> None:
    victim, other = two_tasks
    _break(ws_root, victim, f"id: {victim}", "id: t-aaaaaaaaaaaa")
    refused(
        cli,
        ws_root,
        ExitCode.VALIDATION,
        _args(template, victim, other),
        rel(victim),
        "does not match the file name",
    )
    # the id written inside is not a task either
    refused(cli, ws_root, ExitCode.NOT_FOUND, ("task", "move", "t-aaaaaaaaaaaa", "in_progress"))
    r = cli("task", "list")
    assert r.code == 0 and "does not match the file name" in r.err, str(r)


def test_agent_file_with_unknown_field(
    ws_root: Path, cli: Runner, two_tasks: tuple[str, str]
) -> None:
    path = ws_root / ".agentctl" / "agents" / "dev-2.md"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "role: developer\n", "role: developer\nsuperpower: yes\n"
        ),
        encoding="utf-8",
    )
    r = cli("agent", "list")
    assert r.code == 0, str(r)
    assert ".agentctl/agents/dev-2.md" in r.err and "superpower" in r.err
    assert "dev-2" not in r.out.split()
    v = cli("validate")
    assert v.code == ExitCode.VALIDATION and ".agentctl/agents/dev-2.md" in v.out


# -- names and references ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["../evil", "/abs/path", "a/b", "..", "evil/../../x"])
def test_agent_name_with_path_parts_is_usage(ws_root: Path, cli: Runner, name: str) -> None:
    refused(
        cli, ws_root, ExitCode.USAGE, ("agent", "add", name, "--role", "x"), "invalid agent name"
    )
    refused(cli, ws_root, ExitCode.USAGE, ("agent", "show", name), "invalid agent name")
    refused(cli, ws_root, ExitCode.USAGE, ("--as", name, "task", "add", "x"), "invalid agent name")
    assert not (ws_root / "evil.md").exists() and not (ws_root.parent / "evil.md").exists()


@pytest.mark.parametrize(
    "ref", ["../../etc/passwd", "/etc/passwd", "t-abc/../x", "t-ab!d", "t-" + "a" * 13]
)
def test_task_ref_that_is_not_an_id_is_usage(
    ws_root: Path, cli: Runner, two_tasks: tuple[str, str], ref: str
) -> None:
    for args in (
        ("task", "show", ref),
        ("task", "move", ref, "done"),
        ("task", "rm", ref),
        ("task", "dep", "add", two_tasks[0], ref),
    ):
        refused(cli, ws_root, ExitCode.USAGE, args, "not a valid task ID")


@pytest.mark.parametrize(
    "option, value, needle",
    [
        ("--priority", "7", "--priority must be 0-3 or p0-p3"),
        ("--priority", "high", "--priority must be 0-3 or p0-p3"),
        ("--priority", "-1", "--priority"),
        ("--estimate", "forever", "--estimate: invalid duration 'forever'"),
        ("--estimate", "-3h", "--estimate"),
        ("--due", "tomorrow", "--due must be a date like 2026-12-31, not 'tomorrow'"),
        ("--due", "2026-02-30", "--due must be a date"),
    ],
)
def test_bad_option_values_are_usage(
    ws_root: Path, cli: Runner, two_tasks: tuple[str, str], option: str, value: str, needle: str
) -> None:
    refused(cli, ws_root, ExitCode.USAGE, ("task", "add", "x", option, value), needle)
    refused(cli, ws_root, ExitCode.USAGE, ("task", "edit", two_tasks[0], option, value), needle)


# -- config -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "extra, needle",
    [
        ("workflow: [\n", ".agentctl/config.yaml:"),
        ("surprise: 1\n", ".agentctl/config.yaml"),
        ("lock: {timeout: soon}\n", ".agentctl/config.yaml"),
    ],
    ids=["yaml", "unknown-key", "bad-type"],
)
def test_malformed_config(ws_root: Path, cli: Runner, extra: str, needle: str) -> None:
    add_task(cli, "before the damage")
    config = ws_root / ".agentctl" / "config.yaml"
    config.write_text(config.read_text(encoding="utf-8") + extra, encoding="utf-8")
    for args in (
        ("task", "add", "x"),
        ("task", "list"),
        ("agent", "add", "a1", "--role", "r"),
        ("note", "hi"),
        ("working",),
    ):
        refused(cli, ws_root, ExitCode.VALIDATION, args, needle)
    r = cli("validate")
    assert r.code == ExitCode.VALIDATION, str(r)
    assert ".agentctl/config.yaml" in r.out


def test_bad_lock_timeout_env_is_usage(ws_root: Path, cli: Runner) -> None:
    refused(
        cli,
        ws_root,
        ExitCode.USAGE,
        ("task", "add", "x"),
        "AGENTCTL_LOCK_TIMEOUT",
        env={"AGENTCTL_LOCK_TIMEOUT": "soon"},
    )


# -- the workspace lock -----------------------------------------------------------------------


@pytest.fixture
def held_lock(ws_root: Path) -> Iterator[Path]:
    """Another process holds .agentctl/local/workspace.lock (filelock) until the test ends."""
    lock = ws_root / ".agentctl" / "local" / "workspace.lock"
    code = textwrap.dedent(
        f"""
        import sys, time
        from filelock import FileLock
        lock = FileLock({str(lock)!r})
        lock.acquire()
        print("locked", flush=True)
        time.sleep(60)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "locked"
        yield lock
    finally:
        proc.kill()
        proc.wait()


def test_lock_held_by_another_process_times_out(
    ws_root: Path, cli: Runner, held_lock: Path
) -> None:
    make_env = {"AGENTCTL_LOCK_TIMEOUT": "0.3"}
    for args in (
        ("task", "add", "blocked by the lock"),
        ("agent", "add", "a1", "--role", "r"),
        ("note", "hello"),
    ):
        files, state = snapshot(ws_root), git_state(ws_root)
        r = cli(*args, env=make_env)
        assert_one_line_error(r, ExitCode.LOCK_TIMEOUT, "lock", "within 0.3s")
        assert re.search(r"workspace lock .*workspace\.lock", r.err), str(r)
        assert snapshot(ws_root) == files
        assert git_state(ws_root) == state
    # reads do not need the lock
    r = cli("task", "list", env=make_env)
    assert r.code == 0, str(r)


def test_lock_is_usable_again_after_the_holder_dies(ws_root: Path, cli: Runner) -> None:
    lock = ws_root / ".agentctl" / "local" / "workspace.lock"
    code = f"import os\nfrom filelock import FileLock\nFileLock({str(lock)!r}).acquire()\nos._exit(0)\n"
    subprocess.run([sys.executable, "-c", code], check=True)
    r = cli("task", "add", "after a dead holder", env={"AGENTCTL_LOCK_TIMEOUT": "1"})
    assert r.code == 0, str(r)


# -- odd bytes --------------------------------------------------------------------------------


def test_non_utf8_task_file(ws_root: Path, cli: Runner, two_tasks: tuple[str, str]) -> None:
    victim, other = two_tasks
    path = task_path(ws_root, victim)
    path.write_bytes(path.read_bytes().replace(b"title: victim", b"title: vict\xffim"))
    refused(
        cli,
        ws_root,
        ExitCode.VALIDATION,
        ("task", "move", victim, "in_progress"),
        rel(victim),
        "UTF-8",
    )
    r = cli("task", "list")
    assert r.code == 0 and rel(victim) in r.err, str(r)


def test_missing_frontmatter(ws_root: Path, cli: Runner, two_tasks: tuple[str, str]) -> None:
    victim, other = two_tasks
    task_path(ws_root, victim).write_text("just some text\n", encoding="utf-8")
    refused(
        cli,
        ws_root,
        ExitCode.VALIDATION,
        ("task", "move", victim, "in_progress"),
        f"{rel(victim)}:1:",
        "frontmatter",
    )
