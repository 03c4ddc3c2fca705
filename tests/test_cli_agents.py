"""``agentctl agent ...`` through the real CLI boundary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import Runner, add_task, assert_one_line_error, make_team, snapshot

from agentctl.errors import ExitCode


def agent_file(root: Path, name: str) -> Path:
    return root / ".agentctl" / "agents" / f"{name}.md"


def state_file(root: Path, name: str) -> Path:
    return root / ".agentctl" / "agents" / f"{name}.state.yaml"


def show_agent(cli: Runner, name: str) -> dict[str, Any]:
    r = cli("agent", "show", name, "--json")
    assert r.code == 0, str(r)
    assert r.json()["schema_version"] == 1
    return r.json()["agent"]  # type: ignore[no-any-return]


# -- add --------------------------------------------------------------------------------------


def test_add_defaults(ws_root: Path, cli: Runner) -> None:
    r = cli("agent", "add", "writer", "--role", "technical writer")
    assert r.code == 0, str(r)
    assert r.out == "added agent writer (technical writer, specialist, manual)\n"
    text = agent_file(ws_root, "writer").read_text(encoding="utf-8")
    assert text.startswith("---\nname: writer\nrole: technical writer\nlevel: specialist\n")
    assert "You are **writer**" in text  # the persona template
    assert "\nhost: test-host\n" in text  # run by the machine that added it
    # the state names its last writer, this machine
    assert state_file(ws_root, "writer").read_text(encoding="utf-8") == (
        "status: idle\nhost: test-host\n"
    )
    agent = show_agent(cli, "writer")
    assert agent["host"] == "test-host"
    assert agent["level"] == "specialist"
    assert agent["runtime"] == "manual"  # does nothing on its own until given a real runtime
    assert agent["capabilities"] == []
    assert agent["state"]["status"] == "idle"


def test_add_with_every_flag(ws_root: Path, cli: Runner) -> None:
    r = cli(
        "agent", "add", "coder", "-r", "developer", "--level", "lead", "-c", "python", "--capability", "go",
        "-c", "python", "--runtime", "llm", "--model", "openai/gpt-4o-mini", "--every", "30m", "--json",
    )  # fmt: skip
    assert r.code == 0, str(r)
    doc = r.json()
    assert doc["schema_version"] == 1
    agent = doc["agent"]
    assert agent["name"] == "coder"
    assert agent["role"] == "developer"
    assert agent["level"] == "lead"
    assert agent["capabilities"] == ["python", "go"]
    assert agent["runtime"] == "llm"
    assert agent["model"] == "openai/gpt-4o-mini"
    assert agent["heartbeat"] == {"every": "30m"}
    text = agent_file(ws_root, "coder").read_text(encoding="utf-8")
    assert "capabilities: [python, go]\n" in text
    assert "- python\n- go\n" in text  # strengths in the persona


def test_add_command_runtime_needs_command(ws_root: Path, cli: Runner) -> None:
    before = snapshot(ws_root)
    r = cli("agent", "add", "runner", "--role", "x", "--runtime", "command")
    assert_one_line_error(r, ExitCode.USAGE, "the command runtime needs --command")
    assert snapshot(ws_root) == before
    r = cli(
        "agent",
        "add",
        "runner",
        "--role",
        "x",
        "--runtime",
        "command",
        "--command",
        "claude -p 'do it'",
        "--json",
    )
    assert r.code == 0, str(r)
    assert r.json()["agent"]["command"] == ["claude", "-p", "do it"]
    r = cli("agent", "show", "runner")
    assert "command:      claude -p 'do it'" in r.out
    assert_one_line_error(
        cli("agent", "add", "r2", "--role", "x", "--runtime", "command", "--command", "  "),
        ExitCode.USAGE,
        "--command is empty",
    )
    assert_one_line_error(
        cli("agent", "add", "r2", "--role", "x", "--command", "a 'b"), ExitCode.USAGE, "--command"
    )


def test_add_duplicate_is_conflict(ws_root: Path, cli: Runner) -> None:
    assert cli("agent", "add", "twin", "--role", "a").code == 0
    before = snapshot(ws_root)
    r = cli("agent", "add", "twin", "--role", "b")
    assert_one_line_error(r, ExitCode.CONFLICT, "an agent named 'twin' already exists")
    assert snapshot(ws_root) == before


@pytest.mark.parametrize(
    "name", ["Bad_Name", "UPPER", "-dash", "with space", "a" * 65, "dot.name", ""]
)
def test_add_invalid_name_is_usage(ws_root: Path, cli: Runner, name: str) -> None:
    before = snapshot(ws_root)
    r = cli("agent", "add", "--role", "x", "--", name)
    assert_one_line_error(r, ExitCode.USAGE, "invalid agent name")
    assert snapshot(ws_root) == before


@pytest.mark.parametrize(
    "option, value, needle",
    [("--level", "boss", "--level must be one of intern, specialist, lead"),
     ("--runtime", "docker", "--runtime must be one of manual, simulated, command, llm"),
     ("--every", "soon", "--every")],
)  # fmt: skip
def test_add_bad_values_are_usage(
    ws_root: Path, cli: Runner, option: str, value: str, needle: str
) -> None:
    r = cli("agent", "add", "valid", "--role", "x", option, value)
    assert_one_line_error(r, ExitCode.USAGE, needle)
    assert not agent_file(ws_root, "valid").exists()


def test_add_missing_role_is_usage(ws_root: Path, cli: Runner) -> None:
    r = cli("agent", "add", "norole")
    assert r.code == ExitCode.USAGE, str(r)
    assert "--role" in r.err and "Traceback" not in r.err


# -- list / show ------------------------------------------------------------------------------


def test_list_plain_and_json(ws_root: Path, cli: Runner) -> None:
    r = cli("agent", "list")
    assert r.code == 0 and r.out == "" and "no agents yet" in r.err, str(r)
    make_team(cli)
    add_task(cli, "work", "--assign", "dev-1")
    r = cli("agent", "list")
    assert r.code == 0, str(r)
    lines = r.out.splitlines()
    assert lines[0].split() == [
        "NAME",
        "ROLE",
        "LEVEL",
        "RUNTIME",
        "HOST",
        "STATUS",
        "OPEN",
        "LAST",
        "HEARTBEAT",
        "CAPABILITIES",
    ]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert set(rows) == {"lead-1", "dev-1", "dev-2", "intern-1"}
    assert rows["dev-1"] == [
        "dev-1",
        "developer",
        "specialist",
        "simulated",
        "test-host",
        "idle",
        "1",
        "never",
        "python",
    ]
    assert rows["lead-1"][2] == "lead" and rows["lead-1"][6] == "0"

    doc = cli("agent", "list", "--json").json()
    assert doc["schema_version"] == 1
    by_name = {a["name"]: a for a in doc["agents"]}
    assert by_name["dev-1"]["open_tasks"] == 1
    assert by_name["intern-1"]["level"] == "intern"
    assert by_name["dev-2"]["state"]["status"] == "idle"


def test_show(ws_root: Path, cli: Runner) -> None:
    make_team(cli)
    t = add_task(cli, "Task for dev", "--assign", "dev-1", "--priority", "1")
    r = cli("agent", "show", "dev-1")
    assert r.code == 0, str(r)
    assert r.out.startswith("dev-1  (developer, specialist)\n")
    assert "runtime:      simulated" in r.out
    assert "capabilities: python" in r.out
    assert "status:       idle" in r.out
    assert "file:         .agentctl/agents/dev-1.md" in r.out
    assert f"Open tasks:\n  {t}  p1  assigned     Task for dev" in r.out
    assert "Persona:\n# dev-1" in r.out
    agent = show_agent(cli, "dev-1")
    assert [t_["id"] for t_ in agent["tasks"]] == [t]
    assert agent["persona"].lstrip().startswith("# dev-1")


def test_show_unknown_and_invalid(ws_root: Path, cli: Runner) -> None:
    assert_one_line_error(
        cli("agent", "show", "ghost"), ExitCode.NOT_FOUND, "no agent named 'ghost'"
    )
    assert_one_line_error(cli("agent", "show", "../ghost"), ExitCode.USAGE, "invalid agent name")


# -- edit -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, key, expected",
    [
        (("--role", "reviewer"), "role", "reviewer"),
        (("--level", "lead"), "level", "lead"),
        (("-c", "rust", "-c", "go"), "capabilities", ["rust", "go"]),
        (("--add-capability", "rust"), "capabilities", ["python", "rust"]),
        (("--runtime", "llm"), "runtime", "llm"),
        (("--model", "anthropic/claude"), "model", "anthropic/claude"),
        (("--runtime", "command", "--command", "codex exec"), "command", ["codex", "exec"]),
        (("--every", "45m"), "heartbeat", {"every": "45m"}),
    ],
)
def test_edit_each_flag(
    ws_root: Path, cli: Runner, args: tuple[str, ...], key: str, expected: Any
) -> None:
    make_team(cli)
    path = agent_file(ws_root, "dev-1")
    before = path.read_text(encoding="utf-8")
    r = cli("agent", "edit", "dev-1", *args)
    assert r.code == 0, str(r)
    assert r.out.startswith("edited agent dev-1 (")
    assert show_agent(cli, "dev-1")[key] == expected
    after = path.read_text(encoding="utf-8")
    # the persona (body) is untouched, and untouched fields keep their lines
    assert after.split("\n---\n", 1)[1] == before.split("\n---\n", 1)[1]
    assert "created_at:" in after and before.splitlines()[1] == after.splitlines()[1]  # name line


def test_edit_json_and_errors(ws_root: Path, cli: Runner) -> None:
    make_team(cli)
    r = cli("agent", "edit", "dev-2", "--role", "qa", "--json")
    assert r.code == 0, str(r)
    assert r.json()["schema_version"] == 1 and r.json()["agent"]["role"] == "qa"
    before = snapshot(ws_root)
    assert_one_line_error(cli("agent", "edit", "dev-2"), ExitCode.USAGE, "nothing to change")
    assert_one_line_error(
        cli("agent", "edit", "ghost", "--role", "x"), ExitCode.NOT_FOUND, "no agent named 'ghost'"
    )
    assert_one_line_error(
        cli("agent", "edit", "dev-2", "--level", "god"), ExitCode.USAGE, "--level"
    )
    assert_one_line_error(
        cli("agent", "edit", "dev-2", "--runtime", "command"), ExitCode.USAGE, "needs --command"
    )
    assert snapshot(ws_root) == before


# -- rm ---------------------------------------------------------------------------------------


def test_rm_refused_with_open_tasks_then_force(ws_root: Path, cli: Runner) -> None:
    make_team(cli)
    solo = add_task(cli, "solo", "--assign", "dev-1")
    shared = add_task(cli, "shared", "--assign", "dev-1", "--assign", "dev-2")
    before = snapshot(ws_root)
    r = cli("agent", "rm", "dev-1")
    assert_one_line_error(r, ExitCode.CONFLICT, "dev-1 still has 2 open task(s)", solo, shared)
    assert snapshot(ws_root) == before

    r = cli("agent", "rm", "dev-1", "--force")
    assert r.code == 0, str(r)
    assert r.out == "removed agent dev-1; unassigned 2 task(s)\n"
    assert not agent_file(ws_root, "dev-1").exists()
    assert not state_file(ws_root, "dev-1").exists()
    solo_data = cli("task", "show", solo, "--json").json()["task"]
    assert solo_data["assignees"] == [] and solo_data["status"] == "inbox"
    shared_data = cli("task", "show", shared, "--json").json()["task"]
    assert shared_data["assignees"] == ["dev-2"] and shared_data["status"] == "assigned"
    assert_one_line_error(cli("agent", "show", "dev-1"), ExitCode.NOT_FOUND)
    assert cli("validate").code == 0


def test_rm_without_tasks_and_done_tasks_do_not_count(ws_root: Path, cli: Runner) -> None:
    make_team(cli)
    t = add_task(cli, "finished", "--assign", "dev-2")
    for status in ("in_progress", "done"):
        assert cli("task", "move", t, status).code == 0
    r = cli("agent", "rm", "dev-2", "--json")
    assert r.code == 0, str(r)
    assert r.json()["schema_version"] == 1
    assert r.json()["agent"]["name"] == "dev-2"
    assert r.json()["agent"]["unassigned"] == []
    assert_one_line_error(cli("agent", "rm", "dev-2"), ExitCode.NOT_FOUND, "no agent named 'dev-2'")


def test_rm_force_drops_claim(ws_root: Path, cli: Runner) -> None:
    make_team(cli)
    t = add_task(cli, "claimed")
    assert cli("--as", "dev-1", "task", "claim", t).code == 0
    assert cli("agent", "rm", "dev-1", "--force").code == 0
    data = cli("task", "show", t, "--json").json()["task"]
    assert data["assignees"] == []
    assert not data.get("claim")
    assert cli("validate").code == 0


# -- status -----------------------------------------------------------------------------------


def test_status_values(ws_root: Path, cli: Runner) -> None:
    make_team(cli)
    for value in ("active", "blocked", "idle"):
        r = cli("agent", "status", "dev-1", value)
        assert r.code == 0, str(r)
        assert r.out == f"dev-1 is now {value}\n"
        assert f"status: {value}\n" in state_file(ws_root, "dev-1").read_text(encoding="utf-8")
        assert show_agent(cli, "dev-1")["state"]["status"] == value
    r = cli("agent", "status", "dev-1", "active", "--json")
    assert r.code == 0, str(r)
    doc = r.json()
    assert (
        doc["schema_version"] == 1
        and doc["agent"] == "dev-1"
        and doc["state"]["status"] == "active"
    )
    assert_one_line_error(
        cli("agent", "status", "dev-1", "active"), ExitCode.CONFLICT, "dev-1 is already active"
    )
    assert_one_line_error(
        cli("agent", "status", "dev-1", "sleeping"), ExitCode.USAGE, "idle, active, blocked"
    )
    assert_one_line_error(cli("agent", "status", "ghost", "idle"), ExitCode.NOT_FOUND, "ghost")
    # the status shows in the list and in WORKING.md
    assert "active" in cli("agent", "list").out
    assert "**dev-1** (developer, specialist) — active" in (ws_root / "WORKING.md").read_text(
        encoding="utf-8"
    )
