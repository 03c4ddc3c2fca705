"""init, workspace discovery, WORKING.md (working / note / apply), validate, reindex, board,
--version, --help and help texts."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any

import click
import pytest
import typer
from conftest import (
    Runner,
    add_task,
    assert_one_line_error,
    git,
    git_state,
    make_git_repo,
    make_team,
    snapshot,
)

from agentctl import __version__
from agentctl.errors import ExitCode


@pytest.fixture
def ws_root(git_ws_root: Path) -> Path:
    """Every test here is about git (commits, history, recovery): a real repository."""
    return git_ws_root


def working_file(root: Path) -> Path:
    return root / "WORKING.md"


# -- init -------------------------------------------------------------------------------------


def test_init_creates_the_layout(git_repo: Path, cli: Runner) -> None:
    r = cli("init")
    assert r.code == 0, str(r)
    assert r.out.startswith(f"initialised agentctl workspace at {git_repo}\n")
    for item in ("agents", "tasks", "threads", "events", "specs", "docs", "memory", "local"):
        assert (git_repo / ".agentctl" / item).is_dir()
        assert f"  created .agentctl/{item}/" in r.out
    assert (git_repo / ".agentctl" / "config.yaml").is_file()
    assert working_file(git_repo).is_file()
    assert (
        ".agentctl/events/*.jsonl merge=union"
        in (git_repo / ".gitattributes").read_text(encoding="utf-8").splitlines()
    )
    gitignore = (git_repo / ".agentctl" / ".gitignore").read_text(encoding="utf-8")
    assert "local/" in gitignore.splitlines()
    assert "auto-commit is on" in r.err
    # local/ is ignored by git; everything else is committed
    assert git(git_repo, "status", "--porcelain", "--untracked-files=all") == ""
    assert (
        git(git_repo, "check-ignore", ".agentctl/local/index.sqlite").strip()
        == ".agentctl/local/index.sqlite"
    )


def test_init_is_idempotent(git_repo: Path, cli: Runner) -> None:
    assert cli("init").code == 0
    files = snapshot(git_repo)
    state = git_state(git_repo)
    r = cli("init")
    assert r.code == 0, str(r)
    assert r.out == f"workspace already initialised at {git_repo}\n"
    assert snapshot(git_repo) == files
    assert git_state(git_repo) == state
    r = cli("init", "--json")
    assert r.code == 0, str(r)
    doc = r.json()
    assert doc["schema_version"] == 1
    assert doc["created"] == [] and doc["already_initialised"] is True
    assert snapshot(git_repo) == files


def test_init_keeps_existing_gitattributes_and_restores_missing_pieces(
    git_repo: Path, cli: Runner
) -> None:
    (git_repo / ".gitattributes").write_text("*.png binary", encoding="utf-8")  # no final newline
    assert cli("init").code == 0
    text = (git_repo / ".gitattributes").read_text(encoding="utf-8")
    assert text.startswith("*.png binary\n")
    assert text.count(".agentctl/events/*.jsonl merge=union") == 1
    # a deleted .gitignore comes back, nothing else changes
    (git_repo / ".agentctl" / ".gitignore").unlink()
    config = (git_repo / ".agentctl" / "config.yaml").read_bytes()
    r = cli("init", "--json")
    assert r.code == 0, str(r)
    assert r.json()["created"] == [".agentctl/.gitignore"]
    assert (git_repo / ".agentctl" / "config.yaml").read_bytes() == config
    assert (git_repo / ".gitattributes").read_text(encoding="utf-8") == text


def test_init_outside_git(tmp_path: Path, cli: Runner) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    r = cli("init", str(plain))
    assert r.code == 0, str(r)
    assert "not inside a git repository" in r.err
    assert "not inside a git repository" not in r.out
    assert (plain / ".agentctl" / "config.yaml").is_file()
    assert not (plain / ".git").exists()
    assert cli("init", cwd=plain).out == f"workspace already initialised at {plain}\n"
    r = cli("task", "add", "works without git", cwd=plain)
    assert r.code == 0, str(r)
    assert cli("validate", cwd=plain).code == 0


def test_init_with_name(git_repo: Path, cli: Runner) -> None:
    assert cli("init", "--name", "Moonshot").code == 0
    assert working_file(git_repo).read_text(encoding="utf-8").startswith("# WORKING — Moonshot\n")


def test_init_on_a_file_is_usage(tmp_path: Path, cli: Runner) -> None:
    target = tmp_path / "file.txt"
    target.write_text("x", encoding="utf-8")
    assert_one_line_error(cli("init", str(target)), ExitCode.USAGE, "is not a directory")


# -- discovery --------------------------------------------------------------------------------


def test_discovery_from_a_subdirectory(ws_root: Path, cli: Runner) -> None:
    t = add_task(cli, "found from below")
    deep = ws_root / "src" / "pkg"
    deep.mkdir(parents=True)
    r = cli("task", "list", "--json", cwd=deep)
    assert r.code == 0, str(r)
    assert [x["id"] for x in r.json()["tasks"]] == [t]
    r = cli("task", "add", "added from below", cwd=deep)
    assert r.code == 0, str(r)
    assert len(list((ws_root / ".agentctl" / "tasks").glob("t-*.md"))) == 2


def test_workspace_flag_and_env_override(ws_root: Path, tmp_path: Path, cli: Runner) -> None:
    other = make_git_repo(tmp_path / "other")
    assert cli("init", cwd=other).code == 0
    mine = add_task(cli, "in the first workspace")
    theirs = add_task(cli, "in the other", cwd=other)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for flag in ("--workspace", "-W"):
        r = cli(flag, str(other), "task", "list", "--json", cwd=ws_root)
        assert r.code == 0, str(r)
        assert [x["id"] for x in r.json()["tasks"]] == [theirs]
    r = cli("task", "list", "--json", cwd=elsewhere, env={"AGENTCTL_WORKSPACE": str(ws_root)})
    assert r.code == 0, str(r)
    assert [x["id"] for x in r.json()["tasks"]] == [mine]
    # the flag beats the environment
    r = cli(
        "-W",
        str(other),
        "task",
        "list",
        "--json",
        cwd=elsewhere,
        env={"AGENTCTL_WORKSPACE": str(ws_root)},
    )
    assert [x["id"] for x in r.json()["tasks"]] == [theirs]
    # writes go to the chosen workspace too
    assert cli("-W", str(other), "task", "add", "remote add", cwd=elsewhere).code == 0
    assert len(list((other / ".agentctl" / "tasks").glob("*.md"))) == 2


def test_no_workspace_is_not_found_with_hint(tmp_path: Path, cli: Runner) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    for args in (
        ("task", "list"),
        ("agent", "list"),
        ("working",),
        ("validate",),
        ("task", "add", "x"),
    ):
        r = cli(*args, cwd=empty)
        assert_one_line_error(r, ExitCode.NOT_FOUND, "no agentctl workspace found")
        assert "agentctl: hint: run 'agentctl init'" in r.err
    r = cli("-W", str(empty), "task", "list", cwd=empty)
    assert_one_line_error(r, ExitCode.NOT_FOUND, f"no agentctl workspace at {empty}")
    r = cli("task", "list", cwd=empty, env={"AGENTCTL_WORKSPACE": str(empty / "nope")})
    assert_one_line_error(r, ExitCode.NOT_FOUND, "no agentctl workspace at")
    assert list(empty.iterdir()) == []


# -- WORKING.md -------------------------------------------------------------------------------


def test_working_prints_the_file(ws_root: Path, cli: Runner) -> None:
    make_team(cli)
    t = add_task(cli, "Visible task", "--assign", "dev-1")
    r = cli("working")
    assert r.code == 0, str(r)
    assert r.out == working_file(ws_root).read_text(encoding="utf-8")
    assert f"- [{t}] p2 Visible task — @dev-1" in r.out
    assert "**lead-1** (lead, lead)" in r.out
    r = cli("working", "--json")
    doc = r.json()
    assert doc["schema_version"] == 1 and doc["path"] == "WORKING.md" and doc["rerendered"] is False
    assert doc["text"] == working_file(ws_root).read_text(encoding="utf-8")


def test_working_rerenders_when_deleted(ws_root: Path, cli: Runner) -> None:
    add_task(cli, "something")
    path = working_file(ws_root)
    original = path.read_bytes()
    path.unlink()
    r = cli("working", "--json")
    assert r.code == 0, str(r)
    assert r.json()["rerendered"] is True
    assert path.read_bytes() == original
    assert r.json()["text"].encode("utf-8") == original
    # rendering is deterministic: nothing to commit
    assert git(ws_root, "status", "--porcelain") == ""


def test_working_rerenders_after_a_hand_edit_of_a_task(ws_root: Path, cli: Runner) -> None:
    t = add_task(cli, "Old title")
    task_path = ws_root / ".agentctl" / "tasks" / f"{t}.md"
    task_path.write_text(
        task_path.read_text(encoding="utf-8").replace("title: Old title", "title: Hand edited"),
        encoding="utf-8",
    )
    assert "Old title" in working_file(ws_root).read_text(encoding="utf-8")
    r = cli("working")
    assert r.code == 0, str(r)
    assert f"- [{t}] p2 Hand edited" in r.out
    text = working_file(ws_root).read_text(encoding="utf-8")
    assert text == r.out
    assert "Old title" not in text.split("## Recent activity")[0]
    # and it is up to date now: a second call does not re-render
    assert cli("working", "--json").json()["rerendered"] is False


def test_working_notes_survive_rerendering(ws_root: Path, cli: Runner) -> None:
    path = working_file(ws_root)
    text = path.read_text(encoding="utf-8")
    start = "<!-- agentctl:notes:start -->\n"
    assert start in text
    path.write_text(text.replace(start, start + "Remember: deploy on Friday.\n"), encoding="utf-8")
    add_task(cli, "a mutation re-renders")
    assert cli("task", "list").code == 0
    text = path.read_text(encoding="utf-8")
    assert "Remember: deploy on Friday." in text
    assert "a mutation re-renders" in text
    path.unlink()  # the notes are lost with the file, but re-rendering works
    assert cli("working").code == 0


def test_note_appends_a_signed_line(ws_root: Path, cli: Runner) -> None:
    make_team(cli)
    r = cli("note", "first", "note")
    assert r.code == 0, str(r)
    assert re.fullmatch(r"- \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ Test User: first note\n", r.out), str(r)
    r = cli("--as", "dev-1", "note", "second  note", "--json")
    assert r.code == 0, str(r)
    assert r.json()["schema_version"] == 1
    assert r.json()["note"].endswith(" dev-1: second note")
    text = working_file(ws_root).read_text(encoding="utf-8")
    notes = text.split("<!-- agentctl:notes:start -->\n")[1].split("<!-- agentctl:notes:end -->")[0]
    lines = notes.splitlines()
    assert len(lines) == 2
    assert lines[0].endswith("Test User: first note") and lines[1].endswith("dev-1: second note")
    # notes survive the next re-render
    add_task(cli, "after notes")
    assert notes in working_file(ws_root).read_text(encoding="utf-8")
    assert_one_line_error(cli("note", "  "), ExitCode.USAGE, "the note is empty")
    assert_one_line_error(cli("note", "x <!-- agentctl:notes:end --> y"), ExitCode.USAGE, "markers")


def _move_line(text: str, task_id: str, to_status: str) -> str:
    lines = text.splitlines(keepends=True)
    line = next(ln for ln in lines if ln.startswith(f"- [{task_id}]"))
    lines.remove(line)
    heading = next(
        i
        for i, ln in enumerate(lines)
        if re.match(rf"### {to_status}( \(\d+\))?$", ln.rstrip("\n"))
    )
    lines.insert(heading + 2, line)
    return "".join(lines)


def test_working_apply_moves_tasks(ws_root: Path, cli: Runner) -> None:
    t = add_task(cli, "Move me by hand")
    u = add_task(cli, "Leave me")
    path = working_file(ws_root)
    path.write_text(
        _move_line(path.read_text(encoding="utf-8"), t, "in_progress"), encoding="utf-8"
    )
    r = cli("working", "apply")
    assert r.code == 0, str(r)
    assert r.out == f"moved {t} inbox -> in_progress\n"
    data = cli("task", "show", t, "--json").json()["task"]
    assert data["status"] == "in_progress"
    assert "moved in WORKING.md" in data["notes"]
    assert cli("task", "show", u, "--json").json()["task"]["status"] == "inbox"
    # WORKING.md is re-rendered: the line now sits under in_progress
    text = path.read_text(encoding="utf-8")
    assert "### in_progress (1)\n\n- [" + t in text
    r = cli("working", "apply", "--json")
    assert r.code == 0, str(r)
    assert r.json() == {"schema_version": 1, "applied": []}


def test_working_apply_illegal_move_is_refused(ws_root: Path, cli: Runner) -> None:
    t = add_task(cli, "cannot jump")
    path = working_file(ws_root)
    path.write_text(_move_line(path.read_text(encoding="utf-8"), t, "review"), encoding="utf-8")
    r = cli("working", "apply")
    assert_one_line_error(r, ExitCode.CONFLICT, "cannot move from inbox to review")
    assert cli("task", "show", t, "--json").json()["task"]["status"] == "inbox"


def test_working_apply_with_a_stale_digest_changes_nothing(ws_root: Path, cli: Runner) -> None:
    t = add_task(cli, "stale")
    path = working_file(ws_root)
    edited = _move_line(path.read_text(encoding="utf-8"), t, "in_progress")
    add_task(cli, "the state moves on")  # re-renders WORKING.md with a new digest
    path.write_text(edited, encoding="utf-8")
    files, state = snapshot(ws_root), git_state(ws_root)
    r = cli("working", "apply")
    assert_one_line_error(r, ExitCode.CONFLICT, "older state", "nothing applied")
    assert "agentctl: hint: run 'agentctl working'" in r.err
    assert snapshot(ws_root) == files
    assert git_state(ws_root) == state
    assert cli("task", "show", t, "--json").json()["task"]["status"] == "inbox"


# -- validate / reindex -----------------------------------------------------------------------


def test_validate_clean(ws_root: Path, cli: Runner) -> None:
    make_team(cli)
    a = add_task(cli, "a")
    add_task(cli, "b", "--depends-on", a, "--parent", a)
    r = cli("validate")
    assert r.code == 0, str(r)
    assert r.out == ""
    assert "all records are valid" in r.err
    r = cli("validate", "--json")
    assert r.code == 0, str(r)
    assert r.json() == {"schema_version": 1, "ok": True, "problems": []}


def test_validate_broken(ws_root: Path, cli: Runner) -> None:
    t = add_task(cli, "broken soon")
    path = ws_root / ".agentctl" / "tasks" / f"{t}.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("status: inbox", "status: limbo"), encoding="utf-8")
    line = path.read_text(encoding="utf-8").splitlines().index("status: limbo") + 1
    r = cli("validate")
    assert r.code == ExitCode.VALIDATION, str(r)
    assert f".agentctl/tasks/{t}.md:{line}: unknown status 'limbo'\n" in r.out
    for out_line in r.out.splitlines():
        assert re.match(r"^\S+:(\d+:)? \S", out_line), out_line
    doc = cli("validate", "--json").json()
    assert doc["ok"] is False
    assert {
        "path": f".agentctl/tasks/{t}.md",
        "line": line,
        "message": "unknown status 'limbo'",
    } in doc["problems"]


def test_validate_reports_schema_and_yaml_problems(ws_root: Path, cli: Runner) -> None:
    t = add_task(cli, "yaml")
    path = ws_root / ".agentctl" / "tasks" / f"{t}.md"
    path.write_text(
        path.read_text(encoding="utf-8").replace("priority: 2", "priority: [oops"), encoding="utf-8"
    )
    stray = ws_root / ".agentctl" / "tasks" / "notes.txt"
    stray.write_text("hello", encoding="utf-8")
    r = cli("validate")
    assert r.code == ExitCode.VALIDATION, str(r)
    assert re.search(rf"^\.agentctl/tasks/{t}\.md:\d+: invalid YAML", r.out, re.MULTILINE), str(r)
    assert ".agentctl/tasks/notes.txt: unexpected file in tasks/" in r.out


def test_reindex(ws_root: Path, cli: Runner) -> None:
    make_team(cli)
    t = add_task(cli, "indexed")
    (ws_root / ".agentctl" / "local" / "index.sqlite").unlink()
    r = cli("reindex")
    assert r.code == 0, str(r)
    assert r.out == "indexed 1 tasks and 4 agents\n"
    r = cli("reindex", "--json")
    assert r.json() == {"schema_version": 1, "tasks": 1, "agents": 4, "problems": []}
    assert [x["id"] for x in cli("task", "list", "--json").json()["tasks"]] == [t]


def test_index_is_disposable(ws_root: Path, cli: Runner) -> None:
    t = add_task(cli, "survives")
    for suffix in ("", "-wal", "-shm"):
        (ws_root / ".agentctl" / "local" / f"index.sqlite{suffix}").unlink(missing_ok=True)
    assert [x["id"] for x in cli("task", "list", "--json").json()["tasks"]] == [t]
    (ws_root / ".agentctl" / "local" / "index.sqlite").write_bytes(b"garbage, not sqlite" * 100)
    r = cli("task", "list", "--json")
    assert r.code == 0, str(r)
    assert [x["id"] for x in r.json()["tasks"]] == [t]


# -- board ------------------------------------------------------------------------------------


def test_board_plain_and_json(ws_root: Path, cli: Runner) -> None:
    make_team(cli)
    a = add_task(cli, "Board card", "--assign", "dev-1", "--priority", "0")
    dep = add_task(cli, "Blocker")
    b = add_task(cli, "Waiting card", "--depends-on", dep)
    r = cli("board", "--plain")
    assert r.code == 0, str(r)
    lines = r.out.splitlines()
    headings = [ln for ln in lines if ln.startswith("== ")]
    assert headings == [
        "== inbox (2)",
        "== assigned (1)",
        "== in_progress (0)",
        "== review (0)",
        "== done (0)",
        "== blocked (0)",
    ]
    assert any(ln.split() == [a[:6], "p0", "Board", "card", "@dev-1"] for ln in lines), r.out
    assert any(ln.startswith(f"  {b[:6]}") and ln.endswith("!") for ln in lines), r.out
    # piped output is plain too
    assert cli("board").out == r.out
    doc = cli("board", "--json").json()
    assert doc["schema_version"] == 1
    assert [c["status"] for c in doc["columns"]] == [
        "inbox",
        "assigned",
        "in_progress",
        "review",
        "done",
        "blocked",
    ]
    filtered = cli("board", "--plain", "--assignee", "dev-1").out
    assert "Board card" in filtered and "Waiting card" not in filtered


# -- version, help ----------------------------------------------------------------------------


def test_version(cli: Runner, tmp_path: Path) -> None:
    r = cli("--version", cwd=tmp_path)
    assert r.code == 0, str(r)
    assert r.out == f"agentctl {__version__}\n"


def test_help_lists_every_command(cli: Runner, tmp_path: Path) -> None:
    from agentctl.cli.app import COMMANDS

    r = cli("--help", cwd=tmp_path)
    assert r.code == 0, str(r)
    for name, (_, _, summary) in COMMANDS.items():
        assert re.search(rf"^\s+{name}\s+", r.out, re.MULTILINE), (
            f"{name} missing from --help\n{r.out}"
        )
        assert summary.split()[0] in r.out
    assert cli(cwd=tmp_path).code in (0, 2)  # no args: help


def _walk(
    command: click.Command, path: tuple[str, ...]
) -> list[tuple[tuple[str, ...], click.Command]]:
    found = [(path, command)]
    if isinstance(command, click.Group):
        ctx = click.Context(command)
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            assert sub is not None, f"{' '.join((*path, name))} is listed but cannot be loaded"
            found.extend(_walk(sub, (*path, name)))
    return found


def test_every_command_has_help_text(cli: Runner, tmp_path: Path) -> None:
    from agentctl.cli.app import COMMANDS, app

    root = typer.main.get_command(app)
    commands = _walk(root, ())
    names = {path[0] for path, _ in commands if path}
    assert names == set(COMMANDS)
    assert len(commands) > len(COMMANDS) + 10  # task and agent subcommands are there
    for path, command in commands:
        text = (command.help or command.short_help or "").strip()
        assert text, f"'agentctl {' '.join(path)}' has no help text"
        for param in command.params:
            if isinstance(param, click.Option) and not param.hidden:
                assert (param.help or "").strip(), (
                    f"'agentctl {' '.join(path)}' option {param.opts} has no help"
                )
        if path:
            r = cli(*path, "--help", cwd=tmp_path)
            assert r.code == 0, str(r)
            assert r.out.startswith("Usage: agentctl " + " ".join(path)), str(r)
            assert text.splitlines()[0][:20] in r.out


def test_unknown_command_and_option_are_usage(cli: Runner, tmp_path: Path) -> None:
    r = cli("frobnicate", cwd=tmp_path)
    assert_one_line_error(r, ExitCode.USAGE, "frobnicate")
    r = cli("task", "list", "--frob", cwd=tmp_path)
    assert_one_line_error(r, ExitCode.USAGE, "--frob")


def test_demo_builds_a_workspace(tmp_path: Path, cli: Runner) -> None:
    target = tmp_path / "demo"
    r = cli("demo", "--dir", str(target), "--json")
    assert r.code == 0, str(r)
    doc: dict[str, Any] = r.json()
    assert doc["schema_version"] == 1
    assert (target / ".agentctl" / "config.yaml").is_file()
    v = cli("validate", cwd=target)
    assert v.code == 0, str(v)
    listed = cli("task", "list", "--all", "--json", cwd=target).json()["tasks"]
    assert len(listed) >= 5
    assert len(cli("agent", "list", "--json", cwd=target).json()["agents"]) >= 3


@pytest.mark.slow  # a whole end-to-end run or thousands of files: the slow tier
def test_demo_advice_names_a_command_that_works_without_an_activated_venv(
    tmp_path: Path, run_proc: Runner
) -> None:
    script = Path(sys.executable).parent / "agentctl"
    assert script.is_file()
    r = run_proc(
        "demo", "--dir", str(tmp_path / "demo"), cwd=tmp_path, env={"PATH": "/usr/bin:/bin"}
    )
    assert r.code == 0, str(r)
    advice = r.out.split("Explore it:\n", 1)[1]
    assert f"  {script} board " in advice and f"  {script} standup; {script} stats\n" in advice
    assert "\n  agentctl " not in advice


def test_command_name_is_plain_agentctl_when_this_one_is_on_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from agentctl.cli.common import command_name

    monkeypatch.setenv("PATH", str(Path(sys.executable).parent) + os.pathsep + "/usr/bin:/bin")
    assert command_name() == "agentctl"
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert command_name() == str(Path(sys.executable).parent / "agentctl")


@pytest.mark.parametrize("args", [(), ("task",), ("agent",), ("task", "dep")])
def test_groups_without_subcommand_show_help(
    cli: Runner, tmp_path: Path, args: tuple[str, ...]
) -> None:
    r = cli(*args, cwd=tmp_path)
    assert r.code == 0, str(r)
    assert r.out.startswith(
        ("Usage: agentctl " + " ".join(args)).rstrip() + " [OPTIONS] COMMAND [ARGS]..."
    )
    assert r.err == ""


def test_a_mistyped_command_is_suggested_once(cli: Runner, tmp_path: Path) -> None:
    r = cli("task", "lst", cwd=tmp_path)
    assert_one_line_error(r, ExitCode.USAGE, "No such command 'lst'. Did you mean 'list'?")
    assert r.err.count("Did you mean") == 1
    r = cli("tsk", cwd=tmp_path)
    assert_one_line_error(r, ExitCode.USAGE, "No such command 'tsk'. Did you mean 'task'?")
    assert r.err.count("Did you mean") == 1


def test_completion_is_offered_on_the_root_command(tmp_path: Path, run_proc: Runner) -> None:
    home = tmp_path / "home"
    home.mkdir()
    r = run_proc("--show-completion", "bash", cwd=tmp_path, env={"HOME": str(home)})
    assert r.code == 0, str(r)
    assert "_AGENTCTL_COMPLETE" in r.out
    r = run_proc("--install-completion", "bash", cwd=tmp_path, env={"HOME": str(home)})
    assert r.code == 0, str(r)
    script = home / ".bash_completions" / "agentctl.sh"
    assert "_AGENTCTL_COMPLETE" in script.read_text(encoding="utf-8")
    assert str(script) in (home / ".bashrc").read_text(encoding="utf-8")
    # the completion itself lists the lazily loaded commands and their subcommands
    env = {
        "HOME": str(home),
        "_AGENTCTL_COMPLETE": "complete_bash",
        "COMP_WORDS": "agentctl ta",
        "COMP_CWORD": "1",
    }
    r = run_proc(cwd=tmp_path, env=env)
    assert "task" in r.out.split(), str(r)
    env.update(COMP_WORDS="agentctl task mo", COMP_CWORD="2")
    assert "move" in run_proc(cwd=tmp_path, env=env).out.split()


def test_init_inside_a_workspace_is_refused_unless_nested(ws_root: Path, cli: Runner) -> None:
    inner = ws_root / "sub" / "project"
    inner.mkdir(parents=True)
    r = cli("init", str(inner))
    assert_one_line_error(
        r, ExitCode.CONFLICT, f"{inner} is inside the agentctl workspace at {ws_root}"
    )
    assert "--nested" in r.err
    assert not (inner / ".agentctl").exists()
    r = cli("init", str(inner), "--nested")
    assert r.code == 0, str(r)
    assert (inner / ".agentctl" / "config.yaml").is_file()
    again = cli("init", str(inner))  # re-running init on the nested workspace itself is fine
    assert again.code == 0 and "already initialised" in again.out


def test_runs_of_an_unknown_agent_is_not_found(ws_root: Path, cli: Runner) -> None:
    assert_one_line_error(cli("runs", "nosuch"), ExitCode.NOT_FOUND, "no agent named 'nosuch'")
    make_team(cli)
    r = cli("runs", "dev-1")
    assert (
        r.code == 0 and r.out == "no runs recorded on this machine yet (agentctl heartbeat AGENT)\n"
    )
