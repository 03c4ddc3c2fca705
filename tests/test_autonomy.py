"""Autonomous planning by agents: a lead's ``plan`` and ``propose_agent`` actions applied through
real ticks (a ``command``-runtime lead printing its answer, and the simulated lead), the
permission refusals, idempotent re-planning, pending agents that never tick or take work, and
``agent approve`` / ``agent reject`` (docs/planning.md, "Autonomous planning")."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import Runner, add_task, assert_one_line_error, snapshot
from helpers_heartbeat import answer_agent

from agentctl.core.rules import Actor
from agentctl.workspace import Workspace

HUMAN = Actor("someone")


@pytest.fixture
def scripts(tmp_path: Path) -> Path:
    path = tmp_path / "scripts"
    path.mkdir()
    return path


def answer(path: Path, *actions: dict[str, Any]) -> None:
    path.write_text(json.dumps({"actions": list(actions)}), encoding="utf-8")


def heartbeat(cli: Runner, name: str) -> dict[str, Any]:
    result = cli("heartbeat", name, "--json")
    [record] = result.json()["runs"]
    assert isinstance(record, dict)
    return record


def tasks(cli: Runner) -> dict[str, dict[str, Any]]:
    listed = cli("task", "list", "--all", "--json").json()["tasks"]
    return {t["title"]: t for t in listed}


SUBTASKS: list[dict[str, Any]] = [
    {"title": "Status API", "estimate": "1d", "labels": ["backend"], "criteria": ["JSON health"]},
    {"title": "Status page", "estimate": "6h", "labels": ["frontend"], "depends_on": ["1"]},
    {"title": "Security review", "estimate": "2h", "labels": ["security"], "depends_on": ["Status API"]},
    {"title": "Announce it", "estimate": "1h", "depends_on": ["2", "3"]},
]  # fmt: skip


# -- plan ---------------------------------------------------------------------------------------


def test_a_command_lead_plans_a_goal_in_one_change(
    ws_root: Path, cli: Runner, scripts: Path
) -> None:
    lead = answer_agent(cli, "boss", scripts, level="lead", role="lead")
    goal = add_task(cli, "Launch a status page", "--priority", "2", "--assign", "boss")
    answer(lead, {"type": "plan", "parent": goal, "subtasks": SUBTASKS})
    record = heartbeat(cli, "boss")
    assert record["outcome"] == "worked" and record["applied"] == 1, record
    [applied] = record["actions"]
    assert applied["action"] == "plan" and applied["task"] == goal and applied["created"] == 4
    found = tasks(cli)
    api, page, review, note = (found[s["title"]] for s in SUBTASKS)
    assert {t["parent"] for t in (api, page, review, note)} == {goal}
    assert page["depends_on"] == [api["id"]] and review["depends_on"] == [api["id"]]
    assert sorted(note["depends_on"]) == sorted([page["id"], review["id"]])
    # priorities: the parent's (2), one more urgent on the critical path API -> page -> note
    assert (api["priority"], page["priority"], review["priority"], note["priority"]) == (1, 1, 2, 1)
    assert api["labels"] == ["backend"] and api["estimate"] == "1d"
    assert api["source"].startswith(f"plan:{goal}#")
    shown = cli("task", "show", api["id"], "--json").json()["task"]
    assert [c["text"] for c in shown["acceptance_criteria"]] == ["JSON health"]
    # the prompt of a lead lists the two actions; a specialist's does not
    prompt = (scripts / "boss.stdin").read_text(encoding="utf-8")
    assert '"type":"plan"' in prompt and '"type":"propose_agent"' in prompt

    # the same plan again changes nothing; an edited one updates, never duplicates
    record = heartbeat(cli, "boss")
    assert record["actions"][0]["created"] == 0 and record["actions"][0]["updated"] == 0
    changed = [dict(SUBTASKS[0], estimate="2d"), *SUBTASKS[1:]]
    answer(lead, {"type": "plan", "parent": goal, "subtasks": changed})
    record = heartbeat(cli, "boss")
    assert (record["actions"][0]["created"], record["actions"][0]["updated"]) == (0, 1)
    assert len(tasks(cli)) == 5
    assert tasks(cli)["Status API"]["estimate"] == "2d"


@pytest.mark.parametrize(
    ("subtasks", "reason"),
    [
        (
            [{"title": "A", "depends_on": ["2"]}, {"title": "B", "depends_on": ["A"]}],
            "the subtasks depend on each other in a loop (subtask 2 -> 1 -> 2)",
        ),
        ([{"title": "A", "depends_on": ["Zebra"]}], "dependency 'Zebra' names no subtask"),
        ([{"title": "A"}, {"title": "a"}], "two subtasks have the same title"),
        ([{"title": f"T{n}"} for n in range(21)], "'subtasks' is too long (at most 20 items)"),
    ],
)
def test_an_invalid_plan_is_rejected_and_writes_nothing(
    ws_root: Path, cli: Runner, scripts: Path, subtasks: list[dict[str, Any]], reason: str
) -> None:
    lead = answer_agent(cli, "boss", scripts, level="lead", role="lead")
    goal = add_task(cli, "Goal", "--assign", "boss")
    answer(lead, {"type": "plan", "parent": goal, "subtasks": subtasks})
    before = {t for t in tasks(cli)}
    record = heartbeat(cli, "boss")
    assert record["applied"] == 0 and record["rejected"] == 1, record
    assert reason in record["rejections"][0]["reason"], record
    assert {t for t in tasks(cli)} == before
    if "too long" not in reason:  # reported on the parent's thread
        messages = cli("thread", goal, "--json").json()["thread"]["messages"]
        assert any(reason in m["body"] for m in messages)


def test_a_plan_under_an_unknown_parent_is_rejected(
    ws_root: Path, cli: Runner, scripts: Path
) -> None:
    lead = answer_agent(cli, "boss", scripts, level="lead", role="lead")
    add_task(cli, "Goal", "--assign", "boss")
    answer(lead, {"type": "plan", "parent": "t-zzzzzzzzzzzz", "subtasks": [{"title": "A"}]})
    before = snapshot(ws_root)
    record = heartbeat(cli, "boss")
    assert record["applied"] == 0 and "t-zzzzzzzzzzzz" in record["rejections"][0]["reason"]
    after = snapshot(ws_root)
    assert not [p for p in after if p.startswith(".agentctl/tasks/") and p not in before]


def test_specialists_may_not_plan_or_propose_unless_granted(
    ws_root: Path, cli: Runner, scripts: Path
) -> None:
    dev = answer_agent(cli, "dev", scripts)
    task = add_task(cli, "Big task", "--assign", "dev")
    answer(
        dev,
        {"type": "plan", "parent": task, "subtasks": [{"title": "A"}]},
        {"type": "propose_agent", "name": "helper", "role": "helper"},
    )
    record = heartbeat(cli, "dev")
    reasons = [r["reason"] for r in record["rejections"]]
    assert reasons == [
        "dev (specialist) may not plan subtasks (break a task down)",
        "dev (specialist) may not propose agents",
    ]
    prompt = (scripts / "dev.stdin").read_text(encoding="utf-8")
    assert '"type":"plan"' not in prompt and '"type":"propose_agent"' not in prompt
    assert len(tasks(cli)) == 1 and cli("agent", "show", "helper").code == 3
    # a grant in the agent's file lets it plan
    path = ws_root / ".agentctl" / "agents" / "dev.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("created_at:", "permissions: {allow: [plan]}\ncreated_at:", 1))
    record = heartbeat(cli, "dev")
    assert [a["action"] for a in record["actions"]] == ["plan"], record
    assert record["rejections"][0]["reason"] == "dev (specialist) may not propose agents"


# -- propose_agent, approve, reject --------------------------------------------------------------


def propose(cli: Runner, scripts: Path, **fields: Any) -> dict[str, Any]:
    lead = answer_agent(cli, "boss", scripts, level="lead", role="lead")
    add_task(cli, "Goal", "--assign", "boss")
    action = {"type": "propose_agent", "name": "warden", "role": "security-reviewer",
              "capabilities": ["security"], "reason": "nobody covers security", **fields}  # fmt: skip
    answer(lead, action)
    return heartbeat(cli, "boss")


def test_a_proposed_agent_is_pending_until_a_person_approves_it(
    ws_root: Path, cli: Runner, scripts: Path
) -> None:
    record = propose(cli, scripts, runtime="manual")
    assert record["actions"] == [
        {"action": "propose_agent", "agent": "warden", "approval": "pending"}
    ]
    listed = {a["name"]: a for a in cli("agent", "list", "--json").json()["agents"]}
    assert listed["warden"]["approval"] == "pending" and listed["warden"]["proposed_by"] == "boss"
    assert listed["warden"]["host"] == "test-host"  # the machine whose lead tick proposed it
    table = cli("agent", "list").out
    assert any(
        line.startswith("warden") and "pending approval" in line for line in table.splitlines()
    )
    working = (ws_root / "WORKING.md").read_text(encoding="utf-8")
    assert "## Pending agents (1)" in working
    assert (
        "- **warden** (security-reviewer, specialist, manual) · capabilities security · proposed by boss"
        in working
    )
    active = working[working.index("## Active agents") : working.index("## Pending agents")]
    assert "warden" not in active

    # pending: never ticks, takes no work, cannot act
    task = add_task(cli, "Harden the endpoint", "--label", "security")
    assert_one_line_error(
        cli("heartbeat", "warden"), 5, "warden is a proposed agent waiting for approval"
    )
    assert_one_line_error(cli("task", "assign", task, "warden"), 5, "until then it takes no work")
    assert_one_line_error(
        cli("--as", "warden", "task", "claim", task), 7, "until then it may not act"
    )
    round_ = cli("heartbeat", "--all", "--json")
    assert round_.code == 0, str(round_)
    skipped = {r["agent"]: r for r in round_.json()["runs"]}["warden"]
    assert skipped["outcome"] == "skipped" and skipped["reason"] == "waiting for approval"
    plan = cli("dispatch", "--dry-run", "--json").json()["dispatch"]
    assert [s for s in plan["skips"] if s["id"] == task][0]["reason"].startswith(
        "no available agent for security: warden proposed, waiting for approval"
    )

    human = cli("inbox", "--human", "--json").json()["human"]
    assert [a["name"] for a in human["agents"]] == ["warden"]
    assert "Proposed agents waiting for approval" in cli("inbox", "--human").out

    # only a person approves
    assert_one_line_error(
        cli("--as", "boss", "agent", "approve", "warden"), 7, "only a person may approve"
    )
    result = cli("agent", "approve", "warden")
    assert result.code == 0 and "approved agent warden" in result.out, str(result)
    assert_one_line_error(
        cli("agent", "approve", "warden"), 5, "warden is not waiting for approval"
    )
    assert "## Pending agents" not in (ws_root / "WORKING.md").read_text(encoding="utf-8")
    assert cli("task", "assign", task, "warden").code == 0
    inbox = cli("--as", "boss", "inbox", "--json").json()["inbox"]
    assert any(n.get("type") == "agent.approved" for n in inbox["notifications"]), inbox


def test_reject_removes_the_proposal_with_an_event(
    ws_root: Path, cli: Runner, scripts: Path
) -> None:
    propose(cli, scripts)
    assert_one_line_error(
        cli("--as", "boss", "agent", "reject", "warden"), 7, "only a person may reject"
    )
    result = cli("agent", "reject", "warden", "--reason", "we hire a person for that")
    assert result.code == 0 and "rejected agent warden" in result.out, str(result)
    assert not (ws_root / ".agentctl" / "agents" / "warden.md").exists()
    assert not (ws_root / ".agentctl" / "agents" / "warden.state.yaml").exists()
    assert_one_line_error(cli("agent", "reject", "warden"), 3, "no agent named 'warden'")
    assert_one_line_error(cli("agent", "approve", "nobody"), 3, "no agent named 'nobody'")
    assert_one_line_error(cli("agent", "approve", "Bad Name"), 2)
    assert_one_line_error(cli("agent", "reject", "boss"), 5, "boss is not waiting for approval")
    feed = cli("feed", "--json").json()
    kinds = [e["type"] for e in feed["events"]]
    assert "agent.proposed" in kinds and "agent.rejected" in kinds
    [rejected] = [e for e in feed["events"] if e["type"] == "agent.rejected"]
    assert rejected["data"]["reason"] == "we hire a person for that"
    assert rejected["notify"] == ["boss"]
    assert cli("validate").code == 0


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"level": "lead"}, "level"),
        ({"runtime": "command"}, "runtime"),
        ({"name": "boss"}, "an agent named 'boss' already exists"),
        ({"name": "Bad Name"}, "name"),
    ],
)
def test_bad_proposals_are_rejected(
    ws_root: Path, cli: Runner, scripts: Path, fields: dict[str, Any], reason: str
) -> None:
    record = propose(cli, scripts, **fields)
    assert record["applied"] == 0 and reason in record["rejections"][0]["reason"], record
    names = {a["name"] for a in cli("agent", "list", "--json").json()["agents"]}
    assert names == {"boss"}


def test_agent_files_without_the_field_are_active(ws_root: Path, cli: Runner) -> None:
    assert cli("agent", "add", "old", "--role", "dev").code == 0
    text = (ws_root / ".agentctl" / "agents" / "old.md").read_text(encoding="utf-8")
    assert "approval" not in text
    assert_one_line_error(
        cli("agent", "approve", "old"), 5, "old is not waiting for approval (it is active)"
    )
    assert cli("validate").code == 0


def test_the_workspace_api_refuses_what_the_cli_would(ws_root: Path) -> None:
    from agentctl.core.actions import Subtask
    from agentctl.errors import PermissionDeniedError, UsageError

    ws = Workspace(ws_root)
    ws.add_agent(HUMAN, "lead", "lead", level="lead")
    goal = ws.add_task(HUMAN, "Goal")["id"]
    with pytest.raises(UsageError, match="at most 20 subtasks"):
        ws.plan_subtasks(HUMAN, goal, [Subtask(title=f"T{n}") for n in range(21)])
    with pytest.raises(UsageError, match="level is intern or specialist"):
        ws.propose_agent(ws.actor("lead"), "x", "x", level="lead")
    with pytest.raises(UsageError, match="approval is changed only by"):
        ws.edit_agent(HUMAN, "lead", {"approval": "pending"})
    ws.propose_agent(ws.actor("lead"), "helper", "helper", ["docs"])
    with pytest.raises(PermissionDeniedError):
        ws.approve_agent(ws.actor("lead"), "helper")
    assert [a["name"] for a in ws.pending_agents()] == ["helper"]
    ws.close()


# -- the simulated lead and the demo -------------------------------------------------------------


def test_the_autonomy_demo_plans_proposes_approves_and_finishes(
    tmp_path: Path, cli: Runner
) -> None:
    from agentctl import demo

    lines: list[str] = []
    ws = demo.build_autonomy(tmp_path / "demo", lines.append, git=False)
    text = "\n".join(lines)
    assert "round 1: atlas plan (4 subtasks of t-" in text, text
    assert "propose_agent (security-specialist: pending approval)" in text, text
    assert "demo-human approved security-specialist (security), proposed by atlas" in text
    found = {
        t["title"]: t for t in cli("task", "list", "--all", "--json", cwd=ws.root).json()["tasks"]
    }
    assert len(found) == 5 and {t["status"] for t in found.values()} == {"done"}
    goal = found[demo.GOAL[0]]
    subtasks = [t for t in found.values() if t.get("parent") == goal["id"]]
    assert len(subtasks) == 4
    security = found["Rate limits and a security review of the public endpoint"]
    assert security["assignees"] == ["security-specialist"]
    # the critical path (API -> page -> announcement) is one level more urgent than the goal
    assert sorted(t["priority"] for t in subtasks) == [0, 0, 0, 1]
    events = cli("feed", "--json", "--limit", "500", cwd=ws.root).json()["events"]
    kinds = [e["type"] for e in events]
    assert kinds.count("agent.proposed") == 1 and kinds.count("agent.approved") == 1
    assert cli("validate", cwd=ws.root).code == 0
    ws.close()


def test_schedulers_and_the_board_leave_pending_agents_out(ws_root: Path) -> None:
    from datetime import UTC, datetime

    from agentctl.core.board import build_agent_bar
    from agentctl.errors import ConflictError
    from agentctl.heartbeat.runner import select_agents

    ws = Workspace(ws_root)
    ws.add_agent(HUMAN, "lead", "lead", level="lead")
    ws.propose_agent(ws.actor("lead"), "helper", "helper", ["docs"])
    assert [a["name"] for a in select_agents(ws, [])] == ["lead"]  # run, cron install
    with pytest.raises(ConflictError, match="helper is a proposed agent waiting for approval"):
        select_agents(ws, ["helper"])
    chips = {c.name: c for c in build_agent_bar(ws.list_agents(), datetime.now(UTC))}
    assert chips["helper"].status == "pending" and chips["lead"].status == "idle"
    ws.approve_agent(HUMAN, "helper")
    assert [a["name"] for a in select_agents(ws, [])] == ["helper", "lead"]
    ws.close()
