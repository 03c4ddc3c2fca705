"""Permissions by level, acting with ``--as`` or ``$AGENTCTL_AGENT``. Refusals exit
PERMISSION (7) with one line and change nothing on disk."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Runner, add_task, make_team, run_refused

from agentctl.errors import ExitCode


@pytest.fixture
def ws_root(git_ws_root: Path) -> Path:
    """These tests check their outcome against git (a refused change leaves the repository
    as it was, commits, history): a real repository."""
    return git_ws_root


@pytest.fixture
def ws(ws_root: Path, cli: Runner) -> Path:
    make_team(cli)
    return ws_root


def status_of(cli: Runner, task_id: str) -> str:
    r = cli("task", "show", task_id, "--json")
    assert r.code == 0, str(r)
    return r.json()["task"]["status"]  # type: ignore[no-any-return]


def to_status(cli: Runner, task_id: str, *path: str) -> None:
    for status in path:
        r = cli("task", "move", task_id, status)
        assert r.code == 0, str(r)


# -- moving -----------------------------------------------------------------------------------


@pytest.mark.parametrize("agent", ["intern-1", "dev-1"])
def test_non_leads_move_only_their_own_tasks(ws: Path, cli: Runner, agent: str) -> None:
    theirs = add_task(cli, "someone else's", "--assign", "dev-2")
    nobody = add_task(cli, "nobody's")
    run_refused(cli, ws, ExitCode.PERMISSION, ("--as", agent, "task", "move", theirs, "in_progress"),
                f"{agent} (", "may only move tasks assigned to it", "dev-2")  # fmt: skip
    run_refused(
        cli,
        ws,
        ExitCode.PERMISSION,
        ("--as", agent, "task", "move", nobody, "in_progress"),
        "nobody",
    )
    run_refused(
        cli,
        ws,
        ExitCode.PERMISSION,
        ("--as", agent, "task", "edit", theirs, "--title", "mine now"),
        "may not edit",
    )
    run_refused(
        cli,
        ws,
        ExitCode.PERMISSION,
        ("--as", agent, "task", "dep", "add", theirs, nobody),
        "may not change dependencies",
    )
    mine = add_task(cli, "own task", "--assign", agent)
    r = cli("--as", agent, "task", "move", mine, "in_progress", "--note", "on it")
    assert r.code == 0, str(r)
    assert status_of(cli, mine) == "in_progress"
    assert cli("--as", agent, "task", "edit", mine, "--title", "own task, renamed").code == 0


def test_lead_moves_any_task_but_not_past_review(ws: Path, cli: Runner) -> None:
    t = add_task(cli, "dev-2's", "--assign", "dev-2")
    r = cli("--as", "lead-1", "task", "move", t, "in_progress")
    assert r.code == 0, str(r)
    # workflow.require_review (the default): leads pass through review like everyone
    run_refused(cli, ws, ExitCode.PERMISSION, ("--as", "lead-1", "task", "move", t, "done"),
                "lead-1 (lead) may not move a task to done without review (workflow.require_review)")  # fmt: skip
    assert cli("--as", "lead-1", "task", "move", t, "review").code == 0
    r = cli(
        "--as", "lead-1", "task", "move", t, "done"
    )  # the lead did not implement it: it reviews
    assert r.code == 0, str(r)


def test_specialist_reaches_done_only_from_review(ws: Path, cli: Runner) -> None:
    t = add_task(cli, "needs review", "--assign", "dev-1")
    to_status(cli, t, "in_progress")
    run_refused(cli, ws, ExitCode.PERMISSION, ("--as", "dev-1", "task", "move", t, "done"),
                "dev-1 (specialist) may not move a task to done without review", "review first")  # fmt: skip
    assert cli("--as", "dev-1", "task", "move", t, "review").code == 0
    # The implementer may not approve its own work; a specialist without the review capability
    # may not review at all; one with it does.
    run_refused(cli, ws, ExitCode.PERMISSION, ("--as", "dev-1", "task", "move", t, "done"),
                "dev-1 implemented", "another agent must review it")  # fmt: skip
    run_refused(cli, ws, ExitCode.PERMISSION, ("--as", "dev-2", "task", "move", t, "done"),
                "dev-2 (specialist) may not review", "'review' capability")  # fmt: skip
    assert cli("agent", "edit", "dev-2", "--add-capability", "review").code == 0
    r = cli("--as", "dev-2", "task", "move", t, "done")
    assert r.code == 0, str(r)
    assert status_of(cli, t) == "done"


def test_self_review_allowed_when_configured(ws: Path, cli: Runner) -> None:
    config = ws / ".agentctl" / "config.yaml"
    assert cli("agent", "edit", "dev-1", "--add-capability", "review").code == 0
    t = add_task(cli, "self reviewed", "--assign", "dev-1")
    to_status(cli, t, "in_progress")
    assert cli("--as", "dev-1", "task", "move", t, "review").code == 0
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace("separate_reviewer: true", "separate_reviewer: false"), encoding="utf-8"
    )
    # require_review (the default) keeps an implementer from approving its own work regardless
    run_refused(
        cli,
        ws,
        ExitCode.PERMISSION,
        ("--as", "dev-1", "task", "move", t, "done"),
        "dev-1 implemented",
    )
    config.write_text(
        text.replace("separate_reviewer: true", "separate_reviewer: false").replace(
            "require_review: true", "require_review: false"
        ),
        encoding="utf-8",
    )
    r = cli("--as", "dev-1", "task", "move", t, "done")
    assert r.code == 0, str(r)


def test_reviewer_moves_others_task_only_out_of_review(ws: Path, cli: Runner) -> None:
    t = add_task(cli, "someone else's", "--assign", "dev-1")
    run_refused(cli, ws, ExitCode.PERMISSION, ("--as", "dev-2", "task", "move", t, "in_progress"),
                "dev-2 (specialist) may only move tasks assigned to it")  # fmt: skip
    to_status(cli, t, "in_progress")
    assert cli("--as", "dev-1", "task", "move", t, "review").code == 0
    run_refused(cli, ws, ExitCode.PERMISSION, ("--as", "dev-2", "task", "move", t, "in_progress"),
                "dev-2 (specialist) may not review")  # fmt: skip
    assert cli("agent", "edit", "dev-2", "--add-capability", "review").code == 0
    r = cli("--as", "dev-2", "task", "move", t, "in_progress")  # sent back with changes requested
    assert r.code == 0, str(r)


def test_intern_can_never_move_to_done(ws: Path, cli: Runner) -> None:
    t = add_task(cli, "intern work", "--assign", "intern-1")
    to_status(cli, t, "in_progress")
    assert cli("--as", "intern-1", "task", "move", t, "review").code == 0
    run_refused(cli, ws, ExitCode.PERMISSION, ("--as", "intern-1", "task", "move", t, "done"),
                "intern-1 (intern) may not move tasks to done")  # fmt: skip
    assert status_of(cli, t) == "review"


# -- assigning --------------------------------------------------------------------------------


@pytest.mark.parametrize("agent", ["intern-1", "dev-1"])
def test_only_leads_and_humans_assign_others(ws: Path, cli: Runner, agent: str) -> None:
    t = add_task(cli, "to be assigned")
    run_refused(
        cli,
        ws,
        ExitCode.PERMISSION,
        ("--as", agent, "task", "assign", t, "dev-2"),
        "may not assign tasks to other agents",
    )
    run_refused(
        cli,
        ws,
        ExitCode.PERMISSION,
        ("--as", agent, "task", "add", "for someone", "--assign", "dev-2"),
        "may not assign",
    )
    assigned = add_task(cli, "already dev-2's", "--assign", "dev-2")
    run_refused(
        cli,
        ws,
        ExitCode.PERMISSION,
        ("--as", agent, "task", "unassign", assigned, "dev-2"),
        "may not unassign",
    )
    assert cli("--as", "lead-1", "task", "assign", t, "dev-2").code == 0
    assert cli("task", "assign", t, "intern-1").code == 0  # a human
    r = cli("task", "show", t, "--json")
    assert r.json()["task"]["assignees"] == ["dev-2", "intern-1"]


def test_specialist_may_assign_itself(ws: Path, cli: Runner) -> None:
    t = add_task(cli, "self service")
    r = cli("--as", "dev-1", "task", "assign", t, "dev-1")
    assert r.code == 0, str(r)
    data = cli("task", "show", t, "--json").json()["task"]
    assert data["assignees"] == ["dev-1"] and data["status"] == "assigned"
    r = cli("--as", "dev-1", "task", "add", "self-assigned at birth", "--assign", "dev-1")
    assert r.code == 0, str(r)
    r = cli("--as", "dev-1", "task", "unassign", t, "dev-1")
    assert r.code == 0, str(r)


def test_claim_of_a_task_assigned_to_others_needs_assign_others(ws: Path, cli: Runner) -> None:
    t = add_task(cli, "dev-2's job", "--assign", "dev-2")
    run_refused(
        cli, ws, ExitCode.PERMISSION, ("--as", "dev-1", "task", "claim", t), "may not claim"
    )
    assert cli("--as", "lead-1", "task", "claim", t).code == 0


# -- removing tasks, managing agents --------------------------------------------------------


@pytest.mark.parametrize("agent", ["intern-1", "dev-1"])
def test_only_leads_and_humans_remove_tasks(ws: Path, cli: Runner, agent: str) -> None:
    t = add_task(cli, "keep me", "--assign", agent)
    run_refused(
        cli,
        ws,
        ExitCode.PERMISSION,
        ("--as", agent, "task", "rm", t),
        f"{agent} (",
        "may not remove tasks",
    )
    run_refused(
        cli,
        ws,
        ExitCode.PERMISSION,
        ("--as", agent, "task", "rm", t, "--force"),
        "may not remove tasks",
    )
    assert cli("--as", "lead-1", "task", "rm", t).code == 0
    u = add_task(cli, "human removes")
    assert cli("task", "rm", u).code == 0


@pytest.mark.parametrize("agent", ["intern-1", "dev-1"])
def test_only_leads_and_humans_manage_agents(ws: Path, cli: Runner, agent: str) -> None:
    run_refused(
        cli,
        ws,
        ExitCode.PERMISSION,
        ("--as", agent, "agent", "add", "newbie", "--role", "x"),
        "may not add agents",
    )
    run_refused(
        cli,
        ws,
        ExitCode.PERMISSION,
        ("--as", agent, "agent", "edit", agent, "--level", "lead"),
        "may not edit agents",
    )
    run_refused(
        cli,
        ws,
        ExitCode.PERMISSION,
        ("--as", agent, "agent", "edit", "dev-2", "--role", "x"),
        "may not edit agents",
    )
    run_refused(
        cli,
        ws,
        ExitCode.PERMISSION,
        ("--as", agent, "agent", "rm", "dev-2"),
        "may not remove agents",
    )
    run_refused(
        cli,
        ws,
        ExitCode.PERMISSION,
        ("--as", agent, "agent", "rm", "dev-2", "--force"),
        "may not remove agents",
    )
    run_refused(
        cli,
        ws,
        ExitCode.PERMISSION,
        ("--as", agent, "agent", "status", "dev-2", "blocked"),
        "another agent's status",
    )
    # an agent may set its own status
    assert cli("--as", agent, "agent", "status", agent, "active").code == 0
    # leads and humans may do all of it
    assert cli("--as", "lead-1", "agent", "add", "newbie", "--role", "x").code == 0
    assert cli("--as", "lead-1", "agent", "edit", "newbie", "--role", "y").code == 0
    assert cli("--as", "lead-1", "agent", "rm", "newbie").code == 0
    assert cli("agent", "add", "human-made", "--role", "x").code == 0
    assert cli("agent", "rm", "human-made").code == 0


def test_permission_hint_names_the_permission(ws: Path, cli: Runner) -> None:
    t = add_task(cli, "x")
    r = run_refused(
        cli, ws, ExitCode.PERMISSION, ("--as", "dev-1", "task", "rm", t), "may not remove tasks"
    )
    assert "agentctl: hint:" in r.err and "remove_tasks" in r.err


def test_permissions_allow_and_deny_in_the_agent_file(ws: Path, cli: Runner) -> None:
    path = ws / ".agentctl" / "agents" / "dev-1.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace(
            "created_at:",
            "permissions:\n  allow: [remove_tasks]\n  deny: [create_tasks]\ncreated_at:",
            1,
        ),
        encoding="utf-8",
    )
    t = add_task(cli, "removable")
    assert cli("--as", "dev-1", "task", "rm", t).code == 0
    run_refused(
        cli,
        ws,
        ExitCode.PERMISSION,
        ("--as", "dev-1", "task", "add", "not allowed"),
        "may not create tasks",
    )


# -- who is acting ------------------------------------------------------------------------------


def test_agentctl_agent_env_works_like_as(ws: Path, cli: Runner) -> None:
    t = add_task(cli, "env actor", "--assign", "dev-2")
    env = {"AGENTCTL_AGENT": "dev-1"}
    run_refused(
        cli,
        ws,
        ExitCode.PERMISSION,
        ("task", "move", t, "in_progress"),
        "dev-1 (specialist) may only move",
        env=env,
    )
    run_refused(
        cli,
        ws,
        ExitCode.PERMISSION,
        ("task", "rm", t),
        "dev-1 (specialist) may not remove tasks",
        env=env,
    )
    r = cli("task", "add", "made by env", "--json", env=env)
    assert r.code == 0, str(r)
    assert r.json()["task"]["created_by"] == "dev-1"
    # --as another agent while the environment names one is refused (a command agent's child
    # must not pass itself off as a lead; see tests/test_containment.py)
    run_refused(
        cli,
        ws,
        ExitCode.PERMISSION,
        ("--as", "lead-1", "task", "rm", t),
        "--as lead-1 is refused",
        env=env,
    )
    # the env actor signs notes
    r = cli("note", "from the env", env={"AGENTCTL_AGENT": "intern-1"})
    assert r.code == 0 and r.out.rstrip().endswith("intern-1: from the env"), str(r)


def test_unknown_agent_is_not_found(ws: Path, cli: Runner) -> None:
    t = add_task(cli, "x")
    run_refused(
        cli,
        ws,
        ExitCode.NOT_FOUND,
        ("--as", "ghost", "task", "move", t, "in_progress"),
        "no agent named 'ghost'",
    )
    run_refused(
        cli, ws, ExitCode.NOT_FOUND, ("--as", "ghost", "task", "add", "y"), "no agent named 'ghost'"
    )
    run_refused(
        cli,
        ws,
        ExitCode.NOT_FOUND,
        ("task", "add", "y"),
        "no agent named 'ghost'",
        env={"AGENTCTL_AGENT": "ghost"},
    )
    run_refused(
        cli, ws, ExitCode.USAGE, ("--as", "Not Valid", "task", "add", "y"), "invalid agent name"
    )


def test_humans_are_unrestricted_by_level(ws: Path, cli: Runner) -> None:
    t = add_task(cli, "human path", "--assign", "dev-2")
    to_status(cli, t, "in_progress", "done")  # humans skip review
    assert cli("agent", "edit", "dev-2", "--level", "lead").code == 0
    # dev-2 is a lead now and may remove tasks
    u = add_task(cli, "removable by the promoted")
    assert cli("--as", "dev-2", "task", "rm", u).code == 0
