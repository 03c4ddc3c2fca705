"""Who may do what to a task, as one table run through the real CLI on a workspace without git.

Each row: the actor (a human, or an agent by level and capabilities/grants), its relation to
the task (unassigned, assignee = the implementer, or other = assigned to someone else), the
task's status before, the operation, and the outcome: allowed, or exit code 7 with a message
fragment. The rules and this table are documented in docs/collaboration.md ("Permissions").
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import Result, Runner

# name, level, capabilities, permissions line added to the agent file (or None)
AGENTS = (
    ("lead-1", "lead", (), None),
    ("lead-2", "lead", (), None),
    ("dev-1", "specialist", ("python",), None),
    ("dev-2", "specialist", (), None),
    ("rev-1", "specialist", ("review",), None),
    ("grant-1", "specialist", (), "permissions: {allow: [review]}"),
    ("intern-1", "intern", (), None),
    ("intern-rev", "intern", ("review",), None),
    ("lead-nr", "lead", (), "permissions: {deny: [review]}"),
)
HUMAN = "human"
OK = 0
DENIED = 7


@dataclass(frozen=True)
class Row:
    actor: str  # an agent name, or HUMAN
    relation: str  # unassigned | assignee | other
    status: str  # the task's status before the operation
    op: str  # assign-self | assign-other | claim | move:<status> | approve | reject
    code: int
    fragment: str = ""

    @property
    def id(self) -> str:
        return f"{self.actor}-{self.relation}-{self.status}-{self.op}"


MATRIX = (
    # -- assigning: oneself onto an unowned task is everyone's; onto someone's needs assign_others
    Row("intern-1", "unassigned", "inbox", "assign-self", OK),
    Row("dev-1", "unassigned", "inbox", "assign-self", OK),
    Row("dev-1", "other", "in_progress", "assign-self", DENIED, "may not assign itself to"),
    Row("dev-1", "other", "assigned", "assign-self", DENIED, "which is assigned to dev-2"),
    Row("intern-1", "other", "assigned", "assign-self", DENIED, "grant 'assign_others'"),
    Row("rev-1", "other", "review", "assign-self", DENIED, "may not assign itself to"),
    Row("lead-1", "other", "in_progress", "assign-self", OK),
    Row(HUMAN, "other", "in_progress", "assign-self", OK),
    Row(
        "dev-1",
        "unassigned",
        "inbox",
        "assign-other",
        DENIED,
        "may not assign tasks to other agents",
    ),
    Row(
        "intern-1",
        "unassigned",
        "inbox",
        "assign-other",
        DENIED,
        "may not assign tasks to other agents",
    ),
    Row("lead-1", "unassigned", "inbox", "assign-other", OK),
    Row(HUMAN, "other", "assigned", "assign-other", OK),
    # -- claiming: an unassigned ready task is everyone's; someone else's needs assign_others
    Row("intern-1", "unassigned", "inbox", "claim", OK),
    Row("dev-1", "unassigned", "inbox", "claim", OK),
    Row("dev-1", "assignee", "assigned", "claim", OK),
    Row("dev-1", "other", "assigned", "claim", DENIED, "may not claim"),
    Row("intern-1", "other", "assigned", "claim", DENIED, "which is assigned to dev-2"),
    Row("lead-1", "other", "assigned", "claim", OK),
    # -- moving one's own work
    Row("dev-1", "assignee", "assigned", "move:in_progress", OK),
    Row("dev-1", "assignee", "in_progress", "move:review", OK),
    Row("dev-1", "assignee", "in_progress", "move:blocked", OK),
    Row("intern-1", "assignee", "in_progress", "move:review", OK),
    # -- nobody reaches done without review (require_review: true), leads included
    Row("dev-1", "assignee", "in_progress", "move:done", DENIED, "without review"),
    Row("intern-1", "assignee", "in_progress", "move:done", DENIED, "may not move tasks to done"),
    Row("lead-1", "assignee", "in_progress", "move:done", DENIED, "without review"),
    Row("lead-1", "other", "in_progress", "move:done", DENIED, "workflow.require_review"),
    Row(HUMAN, "other", "in_progress", "move:done", OK),
    # -- other agents' tasks: only with move_any (leads)
    Row(
        "dev-1", "other", "in_progress", "move:review", DENIED, "may only move tasks assigned to it"
    ),
    Row(
        "rev-1", "other", "in_progress", "move:review", DENIED, "may only move tasks assigned to it"
    ),
    Row("lead-1", "other", "in_progress", "move:review", OK),
    # -- reviewing (moving out of review): the review capability, a review grant, or a lead
    Row("dev-1", "other", "review", "move:done", DENIED, "may not review"),
    Row("dev-1", "other", "review", "move:in_progress", DENIED, "may not review"),
    Row("dev-1", "assignee", "review", "move:in_progress", DENIED, "the 'review' capability"),
    Row("intern-1", "other", "review", "move:in_progress", DENIED, "may not review"),
    Row("rev-1", "other", "review", "move:done", OK),
    Row("rev-1", "other", "review", "move:in_progress", OK),
    Row("grant-1", "other", "review", "move:done", OK),
    Row("lead-1", "other", "review", "move:done", OK),
    Row("lead-1", "other", "review", "move:in_progress", OK),
    Row("lead-nr", "other", "review", "move:done", DENIED, "may not review"),
    Row("intern-rev", "other", "review", "move:in_progress", OK),
    Row("intern-rev", "other", "review", "move:done", DENIED, "may not move tasks to done"),
    # -- ... and never one's own work, leads included
    Row("rev-1", "assignee", "review", "move:done", DENIED, "implemented"),
    Row("lead-1", "assignee", "review", "move:done", DENIED, "may not approve it"),
    Row("rev-1", "assignee", "review", "move:in_progress", OK),
    Row(HUMAN, "other", "review", "move:done", OK),
    # -- approve / reject: people only
    Row(HUMAN, "other", "review", "approve", OK),
    Row(HUMAN, "other", "review", "reject", OK),
    Row("lead-1", "other", "review", "approve", DENIED, "only a human may approve"),
    Row("rev-1", "other", "review", "approve", DENIED, "only a human may approve"),
    Row("lead-1", "other", "review", "reject", DENIED, "only a human may reject"),
    Row("dev-1", "assignee", "review", "reject", DENIED, "only a human may reject"),
)


@pytest.fixture(scope="module")
def team_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace (not a git repository) with the team above, copied for each row."""
    from conftest import run_cli

    root = tmp_path_factory.mktemp("matrix") / "ws"
    root.mkdir()
    assert run_cli("init", cwd=root).code == 0
    for name, level, capabilities, permissions in AGENTS:
        args = ["agent", "add", name, "--role", "worker", "--level", level]
        for capability in capabilities:
            args += ["--capability", capability]
        result = run_cli(*args, cwd=root)
        assert result.code == 0, str(result)
        if permissions:
            path = root / ".agentctl" / "agents" / f"{name}.md"
            text = path.read_text(encoding="utf-8")
            path.write_text(
                text.replace(f"level: {level}\n", f"level: {level}\n{permissions}\n", 1),
                encoding="utf-8",
            )
    assert run_cli("validate", cwd=root).code == 0
    return root


@pytest.fixture
def workspace(team_template: Path, tmp_path: Path) -> Path:
    import shutil

    root = tmp_path / "ws"
    shutil.copytree(team_template, root, ignore=shutil.ignore_patterns("local"))
    return root


def prepare(cli: Runner, root: Path, row: Row) -> str:
    """A task in ``row.status`` whose assignee is the actor, dev-2, or nobody (set up by a human)."""
    owner = {"assignee": row.actor, "other": "dev-2", "unassigned": None}[row.relation]
    args = ["task", "add", f"task for {row.id}"] + (["--assign", owner] if owner else [])
    created = cli(*args, "--json", cwd=root)
    assert created.code == 0, str(created)
    task_id = str(created.json()["task"]["id"])
    path = {"inbox": [], "assigned": [], "in_progress": ["in_progress"], "review": ["in_progress", "review"],
            "blocked": ["blocked"]}[row.status]  # fmt: skip
    for status in path:
        moved = cli("task", "move", task_id, status, cwd=root)
        assert moved.code == 0, str(moved)
    assert cli("task", "show", task_id, "--json", cwd=root).json()["task"]["status"] == row.status
    return task_id


def perform(cli: Runner, root: Path, row: Row, task_id: str) -> Result:
    acting = [] if row.actor == HUMAN else ["--as", row.actor]
    myself = row.actor if row.actor != HUMAN else "dev-1"
    if row.op == "assign-self":
        return cli(*acting, "task", "assign", task_id, myself, cwd=root)
    if row.op == "assign-other":
        return cli(
            *acting, "task", "assign", task_id, "lead-2", cwd=root
        )  # lead-2 is never the actor
    if row.op == "claim":
        return cli(*acting, "task", "claim", task_id, cwd=root)
    if row.op.startswith("move:"):
        return cli(*acting, "task", "move", task_id, row.op.removeprefix("move:"), cwd=root)
    if row.op == "approve":
        return cli(*acting, "approve", task_id, cwd=root)
    if row.op == "reject":
        return cli(*acting, "reject", task_id, "--note", "needs tests", cwd=root)
    raise AssertionError(row.op)


EXPECTED_STATUS = {"claim": "in_progress", "approve": "done", "reject": "in_progress"}


@pytest.mark.parametrize("row", MATRIX, ids=[row.id for row in MATRIX])
def test_permission_matrix(row: Row, workspace: Path, cli: Runner) -> None:
    task_id = prepare(cli, workspace, row)
    before = cli("task", "show", task_id, "--json", cwd=workspace).json()["task"]
    result = perform(cli, workspace, row, task_id)
    after = cli("task", "show", task_id, "--json", cwd=workspace).json()["task"]
    assert result.code == row.code, str(result)
    if row.code == OK:
        assert result.err == "", str(result)
        wanted = EXPECTED_STATUS.get(
            row.op, row.op.removeprefix("move:") if row.op.startswith("move:") else None
        )
        if wanted:
            assert after["status"] == wanted
    else:
        assert row.fragment in result.err, str(result)
        assert result.err.startswith("agentctl: error: ") and result.out == "", str(result)
        assert "Traceback" not in result.err
        before.pop("thread"), after.pop("thread")
        assert after == before, "a refused operation changes nothing"


def test_the_matrix_covers_every_actor_relation_and_operation() -> None:
    assert {r.actor for r in MATRIX} >= {HUMAN} | {a[0] for a in AGENTS} - {"lead-2", "dev-2"}
    assert {r.relation for r in MATRIX} == {"unassigned", "assignee", "other"}
    ops = {r.op for r in MATRIX}
    assert ops >= {
        "assign-self",
        "assign-other",
        "claim",
        "approve",
        "reject",
        "move:done",
        "move:review",
        "move:in_progress",
    }
    assert ("review", "move:done") in {(r.status, r.op) for r in MATRIX}
    assert ("in_progress", "move:done") in {(r.status, r.op) for r in MATRIX}


def test_approve_and_reject_refuse_an_agent_named_by_the_environment(
    workspace: Path, cli: Runner
) -> None:
    task_id = prepare(cli, workspace, Row(HUMAN, "other", "review", "approve", OK))
    for args in (("approve", task_id), ("reject", task_id, "--note", "no")):
        result = cli(*args, cwd=workspace, env={"AGENTCTL_AGENT": "lead-1"})
        assert result.code == 7, str(result)
        assert "only a human may" in result.err
        # even a name that is no agent at all: the variable says an agent is running this
        result = cli(*args, cwd=workspace, env={"AGENTCTL_AGENT": "ghost"})
        assert result.code == 7, str(result)
    assert (
        cli("task", "show", task_id, "--json", cwd=workspace).json()["task"]["status"] == "review"
    )


def test_approve_and_reject_need_a_task_in_review(workspace: Path, cli: Runner) -> None:
    task_id = prepare(cli, workspace, Row(HUMAN, "other", "in_progress", "approve", OK))
    result = cli("approve", task_id, cwd=workspace)
    assert result.code == 5, str(result)
    assert f"{task_id} is in_progress, not review" in result.err
    result = cli("reject", task_id, "--note", "x", cwd=workspace)
    assert result.code == 5, str(result)
    assert cli("reject", task_id, cwd=workspace).code == 2, "reject needs --note"


def test_approve_and_reject_leave_the_note_on_the_thread(workspace: Path, cli: Runner) -> None:
    first = prepare(cli, workspace, Row(HUMAN, "other", "review", "approve", OK))
    second = prepare(cli, workspace, Row(HUMAN, "other", "review", "reject", OK))
    assert cli("approve", first, "--note", "ship it", cwd=workspace).code == 0
    rejected = cli("reject", second, "--note", "the edge cases @dev-2", "--json", cwd=workspace)
    assert rejected.code == 0, str(rejected)
    assert rejected.json()["task"]["status"] == "in_progress"
    for task_id, text in ((first, "ship it"), (second, "the edge cases @dev-2")):
        [message] = cli("thread", task_id, "--json", cwd=workspace).json()["thread"]["messages"]
        assert (
            message["kind"] == "review"
            and text in message["body"]
            and message["author"] == "tester"
        )
    # dev-2 (the assignee) is told: the move notifies it, with the note in the event
    inbox = cli("inbox", "--agent", "dev-2", "--json", cwd=workspace).json()["inbox"][
        "notifications"
    ]
    moved = [n for n in inbox if n["type"] == "task.moved" and n["task"] == second]
    assert moved and "review -> in_progress" in moved[-1]["excerpt"]


def test_without_require_review_leads_may_skip_review_again(workspace: Path, cli: Runner) -> None:
    config = workspace / ".agentctl" / "config.yaml"
    text = config.read_text(encoding="utf-8")
    assert "require_review: true" in text
    config.write_text(
        text.replace("require_review: true", "require_review: false", 1), encoding="utf-8"
    )
    lead = prepare(cli, workspace, Row("lead-1", "assignee", "in_progress", "move:done", OK))
    dev = prepare(cli, workspace, Row("dev-1", "assignee", "in_progress", "move:done", DENIED))
    assert cli("--as", "lead-1", "task", "move", lead, "done", cwd=workspace).code == 0
    result = cli("--as", "dev-1", "task", "move", dev, "done", cwd=workspace)
    assert result.code == 7 and "without review" in result.err, str(result)
    # separate_reviewer still keeps implementers from approving their own work
    mine = prepare(cli, workspace, Row("rev-1", "assignee", "review", "move:done", DENIED))
    result = cli("--as", "rev-1", "task", "move", mine, "done", cwd=workspace)
    assert result.code == 7 and "implemented" in result.err, str(result)
