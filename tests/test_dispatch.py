"""``agentctl dispatch``: ready, unassigned tasks go to the best-fit available agent, in
critical-path order, each assignment and skip with a one-line reason; one mutation, one
commit; the lead's heartbeat (its ``dispatch`` action, and the simulated lead) calls the same
function, so its assignments are exactly the CLI's.

The matching rules are tested on plain data (core/dispatch.py); the rest on real workspaces:
plain directories, a git repository where the commit is the point.
"""

from __future__ import annotations

import json
import shutil
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import Runner, add_task, allow_simulated, git, make_git_repo, snapshot
from helpers_heartbeat import answer_agent, commits, inbox

from agentctl.core import dispatch as matching
from agentctl.core.dispatch import Settings, plan, tokens


@pytest.fixture
def ws_root(git_ws_root: Path) -> Path:
    """Every test here is about git (commits, history, recovery): a real repository."""
    return git_ws_root


NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
LOCAL_NOON = datetime(2026, 12, 2, 12, 0)


def task(
    task_id: str,
    *labels: str,
    priority: int = 2,
    created: str = "2026-12-01T00:00:00Z",
    title: str = "",
) -> dict[str, Any]:
    return {
        "id": task_id,
        "title": title or task_id,
        "labels": list(labels),
        "priority": priority,
        "created_at": created,
    }


def agent(
    name: str, *capabilities: str, level: str = "specialist", runtime: str = "llm", **heartbeat: str
) -> dict[str, Any]:
    return {
        "name": name,
        "level": level,
        "capabilities": list(capabilities),
        "runtime": runtime,
        "heartbeat": heartbeat,
    }


def run(tasks: list[dict[str, Any]], agents: list[dict[str, Any]], **kwargs: Any) -> matching.Plan:
    settings = kwargs.pop("settings", Settings())
    states = kwargs.pop("states", {})
    load = kwargs.pop("load", {})
    return plan(
        tasks,
        agents,
        states,
        load,
        settings,
        kwargs.pop("now", NOW),
        kwargs.pop("local_now", LOCAL_NOON),
        **kwargs,
    )


def given(result: matching.Plan) -> dict[str, str]:
    return {a.task: a.agent for a in result.assignments}


def skipped(result: matching.Plan, kind: str = "task") -> dict[str, str]:
    return {s.id: s.reason for s in result.skips if s.kind == kind}


# -- matching ----------------------------------------------------------------------------------------


def test_labels_and_capabilities_match_as_normalised_tokens() -> None:
    assert tokens("backend-developer") == {"backend"}
    assert tokens("Backend_Dev") == {"backend"}
    assert tokens("frontendDeveloper") == {"frontend"}
    assert tokens("QA engineer / Testing") == {"qa", "testing"}
    assert tokens("developer") == frozenset(), "a generic role word alone matches nothing"

    team = [agent("fe", "frontend"), agent("be", "backend"), agent("qa", "qa", "testing")]
    result = run(
        [task("t-1", "backend-developer"), task("t-2", "Frontend_Dev"), task("t-3", "QA-Testing")],
        team,
    )
    assert given(result) == {"t-1": "be", "t-2": "fe", "t-3": "qa"}
    reasons = {a.task: a.reason for a in result.assignments}
    assert reasons["t-1"] == "matches backend; 0/2 open tasks before"
    assert reasons["t-3"] == "matches qa, testing; 0/2 open tasks before"


def test_the_label_map_adds_capabilities_to_a_label() -> None:
    team = [agent("pixel", "frontend"), agent("nova", "backend")]
    settings = Settings(labels={"UI": ("frontend",), "database": ("backend", "sql")})
    result = run([task("t-1", "ui"), task("t-2", "database")], team, settings=settings)
    assert given(result) == {"t-1": "pixel", "t-2": "nova"}
    assert run([task("t-1", "ui")], team).assignments[0].reason.startswith("least loaded"), (
        "without the map, ui matches nobody"
    )


def test_best_fit_is_most_matching_tokens_then_least_loaded_then_name() -> None:
    team = [agent("b", "backend"), agent("a", "backend"), agent("c", "backend", "perf")]
    assert given(run([task("t-1", "backend", "perf")], team)) == {"t-1": "c"}  # two tokens beat one
    assert given(run([task("t-1", "backend")], team, load={"a": 1, "c": 1})) == {
        "t-1": "b"
    }  # least loaded
    assert given(run([task("t-1", "backend")], team)) == {"t-1": "a"}  # then by name
    # each assignment counts: three backend tasks spread over the three agents
    spread = run([task(f"t-{i}", "backend") for i in range(3)], team)
    assert sorted(given(spread).values()) == ["a", "b", "c"]


def test_unlabelled_and_uncovered_tasks_go_to_the_least_loaded_non_lead() -> None:
    team = [
        agent("boss", "planning", level="lead"),
        agent("dev", "backend"),
        agent("kid", level="intern"),
    ]
    result = run([task("t-1"), task("t-2", "needs-rework")], team, load={"dev": 1})
    assert given(result) == {"t-1": "kid", "t-2": "dev"}
    reasons = {a.task: a.reason for a in result.assignments}
    assert reasons["t-1"] == "least loaded (no labels); 0/2 open tasks before"
    assert (
        reasons["t-2"]
        == "least loaded (no agent has a capability for needs-rework); 1/2 open tasks before"
    )
    # a lead gets only work matching its capabilities
    assert given(run([task("t-3", "planning")], team)) == {"t-3": "boss"}


def test_a_task_whose_specialists_are_busy_waits_instead_of_going_to_someone_else() -> None:
    team = [agent("fe", "frontend"), agent("be", "backend")]
    result = run([task("t-1", "frontend")], team, load={"fe": 2})
    assert given(result) == {}
    assert skipped(result) == {
        "t-1": "no available agent for frontend: fe at its WIP limit (2/2 open tasks)"
    }
    assert skipped(result, "agent") == {"fe": "at its WIP limit (2/2 open tasks)"}


def test_the_wip_limit_caps_each_agent() -> None:
    team = [agent("solo", "backend")]
    result = run(
        [task(f"t-{i}", "backend", created=f"2026-12-01T00:0{i}:00Z") for i in range(4)],
        team,
        load={"solo": 1},
    )
    assert given(result) == {"t-0": "solo"}
    assert skipped(result) == {
        f"t-{i}": "no available agent for backend: solo at its WIP limit (2/2 open tasks)"
        for i in (1, 2, 3)
    }
    wider = run(
        [task(f"t-{i}", "backend") for i in range(4)],
        team,
        settings=Settings(wip_limit=3),
        load={"solo": 1},
    )
    assert len(wider.assignments) == 2


# -- availability ------------------------------------------------------------------------------------


def test_unavailable_agents_are_skipped_with_the_reason() -> None:
    team = [
        agent("blocked-1", "backend"),
        agent("silent-1", "backend", every="15m"),
        agent("night-1", "backend", active_hours="22:00-06:00"),
        agent("manual-1", "backend", runtime="manual"),
        agent("stand-in", "backend", runtime="simulated"),
        agent("fresh-1", "backend"),  # never ticked: available
        agent("recent-1", "backend"),
    ]
    states = {
        "blocked-1": {"status": "blocked", "failures": 3, "last_heartbeat": "2026-12-02T11:59:00Z"},
        "silent-1": {
            "status": "idle",
            "last_heartbeat": "2026-12-02T10:00:00Z",
        },  # 2 h > max(45m, 1h15m)
        "night-1": {"status": "idle", "last_heartbeat": "2026-12-02T05:00:00Z"},
        "recent-1": {
            "status": "idle",
            "last_heartbeat": "2026-12-02T11:00:00Z",
        },  # 1 h: within 1h15m
    }
    result = run([task(f"t-{i}", "backend") for i in range(5)], team, states=states)
    assert skipped(result, "agent") == {
        "blocked-1": "blocked after 3 failed ticks ('agentctl agent reset blocked-1' resumes it)",
        "silent-1": "silent: no heartbeat since 2026-12-02T10:00:00Z",
        "night-1": "outside its active hours 22:00-06:00",
        "manual-1": "manual runtime (dispatch.include_manual is false)",
        "stand-in": "simulated runtime, which does not tick here (allow_simulated is false)",
    }
    assert sorted(given(result).values()) == ["fresh-1", "fresh-1", "recent-1", "recent-1"]
    assert skipped(result) == {"t-4": "no available agent for backend: blocked-1 blocked after 3 failed ticks "
                               "('agentctl agent reset blocked-1' resumes it); fresh-1 at its WIP limit (2/2 open tasks); "
                               "manual-1 manual runtime (dispatch.include_manual is false); night-1 outside its active "
                               "hours 22:00-06:00; +3 more"}  # fmt: skip

    opened = Settings(include_manual=True, allow_simulated=True)
    at_night = run(
        [task("t-1", "backend")],
        team,
        states=states,
        settings=opened,
        local_now=datetime(2026, 12, 2, 23, 0),
    )
    assert "manual-1" not in skipped(at_night, "agent") and "stand-in" not in skipped(
        at_night, "agent"
    )
    assert "night-1" not in skipped(at_night, "agent")


def test_silence_counts_from_the_opening_of_the_active_hours() -> None:
    """An agent that last ticked yesterday evening is not silent at 09:10 when its window
    opened at 09:00; it is at 11:00."""
    team = [agent("day-1", "backend", active_hours="09:00-18:00", every="15m")]
    states = {"day-1": {"status": "idle", "last_heartbeat": "2026-12-01T17:45:00Z"}}
    morning = run([task("t-1", "backend")], team, states=states, now=datetime(2026, 12, 2, 9, 10, tzinfo=UTC),
                  local_now=datetime(2026, 12, 2, 9, 10))  # fmt: skip
    assert given(morning) == {"t-1": "day-1"}
    late = run([task("t-1", "backend")], team, states=states, now=datetime(2026, 12, 2, 11, 0, tzinfo=UTC),
               local_now=datetime(2026, 12, 2, 11, 0))  # fmt: skip
    assert skipped(late, "agent") == {"day-1": "silent: no heartbeat since 2026-12-01T17:45:00Z"}


# -- order -------------------------------------------------------------------------------------------


def test_critical_path_first_then_priority_then_age() -> None:
    team = [agent("solo", "x")]
    tasks = [
        task("t-old", priority=1, created="2026-11-01T00:00:00Z"),
        task("t-urgent", priority=0, created="2026-12-01T00:00:00Z"),
        task("t-new", priority=1, created="2026-12-01T00:00:00Z"),
        task("t-critical", priority=3, created="2026-12-01T00:00:00Z"),
    ]
    result = run(tasks, team, settings=Settings(wip_limit=10), critical={"t-critical"})
    assert [a.task for a in result.assignments] == ["t-critical", "t-urgent", "t-old", "t-new"]
    assert result.assignments[
        0
    ].reason == "on the critical path; least loaded (no labels); 0/2 open tasks before".replace(
        "2", "10"
    )
    assert result.assignments[0].critical and not result.assignments[1].critical


def test_summary_tasks_refusals_and_the_limit_are_skips_with_reasons() -> None:
    team = [agent("solo")]
    tasks = [task("t-1"), task("t-2"), task("t-3"), task("t-4")]
    result = run(
        tasks,
        team,
        settings=Settings(wip_limit=10),
        summaries={"t-1": 2},
        refused={"t-2": "gated"},
        limit=1,
    )
    assert given(result) == {"t-3": "solo"}
    assert skipped(result) == {
        "t-1": "summary task: its 2 open subtask(s) are the work",
        "t-2": "gated",
        "t-4": "the limit of 1 assignment(s) is reached",
    }


def test_every_task_and_every_unavailable_agent_gets_exactly_one_line() -> None:
    team = [agent("a", "backend"), agent("b", runtime="manual"), agent("c", "frontend")]
    tasks = [
        task(f"t-{i}", label)
        for i, label in enumerate(["backend", "frontend", "docs", "backend", "backend", ""])
    ]
    result = run(tasks, team, load={"c": 1})
    seen = [a.task for a in result.assignments] + [s.id for s in result.skips if s.kind == "task"]
    assert sorted(seen) == sorted(t["id"] for t in tasks)
    for line in [a.reason for a in result.assignments] + [s.reason for s in result.skips]:
        assert line and "\n" not in line
    assert skipped(result, "agent") == {"b": "manual runtime (dispatch.include_manual is false)"}


# -- the workspace operation -------------------------------------------------------------------------


@pytest.fixture
def plain(tmp_path: Path, cli: Runner, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A workspace outside git (nothing commits), with a team on the llm runtime (never called
    here) and a lead."""
    root = tmp_path / "plain"
    root.mkdir()
    monkeypatch.chdir(root)
    assert cli("init").code == 0
    team(cli)
    return root


def team(cli: Runner) -> None:
    for name, level, caps in (("boss", "lead", ["planning"]), ("nova", "specialist", ["backend", "python"]),
                              ("pixel", "specialist", ["frontend"]), ("kid", "intern", [])):  # fmt: skip
        args = [
            "agent",
            "add",
            name,
            "--role",
            name,
            "--level",
            level,
            "--runtime",
            "llm",
            "--model",
            "openai/none",
        ]
        for capability in caps:
            args += ["--capability", capability]
        result = cli(*args)
        assert result.code == 0, str(result)


def plan_tasks(cli: Runner) -> dict[str, str]:
    """A small plan: schema -> store -> ui (the critical path), an urgent backend fix beside it."""
    ids = {
        "schema": add_task(
            cli, "Design the schema", "--label", "backend-developer", "--estimate", "1d"
        )
    }
    ids["store"] = add_task(
        cli,
        "Implement the store",
        "--label",
        "backend",
        "--depends-on",
        ids["schema"],
        "--estimate",
        "2d",
    )
    ids["ui"] = add_task(cli, "Board UI", "--label", "Frontend_Dev", "--depends-on", ids["store"])
    ids["fix"] = add_task(
        cli, "Fix the crash", "--label", "backend", "--priority", "p0", "--estimate", "1h"
    )
    ids["docs"] = add_task(cli, "Write docs", "--estimate", "2h")
    return ids


def test_dispatch_assigns_in_one_mutation_and_notifies_the_assignees(
    plain: Path, cli: Runner
) -> None:
    ids = plan_tasks(cli)
    dry = cli("dispatch", "--dry-run", "--json")
    assert dry.code == 0, str(dry)
    expected = [(a["task"], a["agent"]) for a in dry.json()["dispatch"]["assignments"]]
    # the critical path (schema) first though fix is p0; docs (no labels) to the least loaded non-lead
    assert expected == [(ids["schema"], "nova"), (ids["fix"], "nova"), (ids["docs"], "kid")]

    events_before = len(event_lines(plain))
    result = cli("dispatch", "--json")
    assert result.code == 0, str(result)
    doc = result.json()
    assert doc["schema_version"] == 1 and doc["dispatch"]["dry_run"] is False
    assert [(a["task"], a["agent"]) for a in doc["dispatch"]["assignments"]] == expected
    assert (
        doc["dispatch"]["assignments"][0]["reason"]
        == "on the critical path; matches backend; 0/2 open tasks before"
    )

    new = event_lines(plain)[events_before:]
    assert [e["type"] for e in new] == ["task.assigned"] * 3
    assert len({e["ts"] for e in new}) == 1, "one batch: the events share their time"
    assert new[0]["data"] == {"title": "Design the schema", "added": ["nova"], "via": "dispatch", "why": {"nova": "assigned"},
                              "reason": "on the critical path; matches backend; 0/2 open tasks before"}  # fmt: skip
    assert new[0]["notify"] == ["nova"]
    shown = {t["id"]: t for t in cli("task", "list", "--all", "--json").json()["tasks"]}
    assert shown[ids["schema"]]["status"] == "assigned" and shown[ids["schema"]]["assignees"] == [
        "nova"
    ]
    assert shown[ids["docs"]]["assignees"] == ["kid"]

    notes = inbox(cli, "nova")
    assert {n["task"] for n in notes} >= {ids["schema"], ids["fix"]}
    assert all(n["reason"] == "assigned" for n in notes if n["task"] in (ids["schema"], ids["fix"]))
    assert any("(dispatch: on the critical path; matches backend" in n["excerpt"] for n in notes)
    assert [n["task"] for n in inbox(cli, "kid")] == [ids["docs"]]

    # again: nova is at its WIP limit, nothing else is ready -> nothing written
    files = snapshot(plain)
    again = cli("dispatch")
    assert again.code == 0, str(again)
    assert "skipped agent nova: at its WIP limit (2/2 open tasks)" in again.out
    assert again.out.rstrip().endswith("nothing assigned")
    assert snapshot(plain) == files


def test_a_dry_run_writes_nothing(plain: Path, cli: Runner) -> None:
    plan_tasks(cli)
    files = snapshot(plain)
    result = cli("dispatch", "--dry-run")
    assert result.code == 0, str(result)
    lines = result.out.splitlines()
    assert lines[0].startswith("would assign t-") and lines[0].endswith("(Design the schema)")
    assert "skipped agent" not in result.out  # the whole team is available
    assert lines[-1] == "dry run: 3 task(s) would be assigned; nothing was written"
    assert snapshot(plain) == files


def test_the_text_output_has_a_line_for_every_assignment_and_skip(plain: Path, cli: Runner) -> None:
    ids = plan_tasks(cli)
    assert cli("agent", "edit", "pixel", "--runtime", "manual").code == 0
    extra = add_task(cli, "Style the board", "--label", "frontend", "--priority", "p3")
    result = cli("dispatch", "--dry-run", "--limit", "2")
    assert result.code == 0, str(result)
    lines = result.out.splitlines()
    assert lines == [
        f"would assign {ids['schema']} to nova: on the critical path; matches backend; 0/2 open tasks before  (Design the schema)",
        f"would assign {ids['fix']} to nova: matches backend; 1/2 open tasks before  (Fix the crash)",
        "skipped agent pixel: manual runtime (dispatch.include_manual is false)",
        f"skipped {ids['docs']}: the limit of 2 assignment(s) is reached  (Write docs)",
        f"skipped {extra}: the limit of 2 assignment(s) is reached  (Style the board)",
        "dry run: 2 task(s) would be assigned; nothing was written",
    ]
    without_limit = cli("dispatch", "--dry-run").out
    assert (
        f"skipped {extra}: no available agent for frontend: pixel manual runtime (dispatch.include_manual is false)"
        in without_limit
    )


@pytest.mark.parametrize("who", ["kid", "nova"])
def test_agents_without_assign_others_are_refused(plain: Path, cli: Runner, who: str) -> None:
    plan_tasks(cli)
    files = snapshot(plain)
    for args in (["dispatch"], ["dispatch", "--dry-run"]):
        result = cli("--as", who, *args)
        assert result.code == 7, str(result)
        level = "intern" if who == "kid" else "specialist"
        assert (
            result.err.splitlines()[0]
            == f"agentctl: error: {who} ({level}) may not dispatch tasks to agents"
        )
    assert snapshot(plain) == files
    assert cli("--as", "boss", "dispatch", "--dry-run").code == 0


def test_a_human_gate_on_assignment_keeps_agents_from_dispatching_that_task(
    plain: Path, cli: Runner
) -> None:
    config = plain / ".agentctl" / "config.yaml"
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace(
            "  human_gates: []",
            "  human_gates:\n    - transition: inbox->assigned\n      labels: [frontend]",
        ),
        encoding="utf-8",
    )
    gated = add_task(cli, "Gated UI", "--label", "frontend")
    free = add_task(cli, "Free task", "--label", "backend")
    result = cli("--as", "boss", "dispatch", "--json")
    assert result.code == 0, str(result)
    doc = result.json()["dispatch"]
    assert [a["task"] for a in doc["assignments"]] == [free]
    assert {s["id"]: s["reason"] for s in doc["skips"]}[
        gated
    ] == "inbox -> assigned needs a person (human gate 'inbox -> assigned (labels: frontend)')"
    # a person is not held by the gate
    assert [a["task"] for a in cli("dispatch", "--json").json()["dispatch"]["assignments"]] == [
        gated
    ]


def test_summary_tasks_are_not_dispatched(plain: Path, cli: Runner) -> None:
    phase = add_task(cli, "Phase 1", "--label", "backend")
    child = add_task(cli, "Step 1", "--label", "backend", "--parent", phase)
    doc = cli("dispatch", "--dry-run", "--json").json()["dispatch"]
    assert [a["task"] for a in doc["assignments"]] == [child]
    assert {s["id"]: s["reason"] for s in doc["skips"] if s["kind"] == "task"} == {
        phase: "summary task: its 1 open subtask(s) are the work"
    }


# -- git: one commit -------------------------------------------------------------------------------


def test_a_dispatch_is_one_commit_of_exactly_its_files(
    tmp_path: Path, cli: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_git_repo(tmp_path / "repo")
    monkeypatch.chdir(root)
    assert cli("init").code == 0
    team(cli)
    ids = plan_tasks(cli)
    before = len(commits(root))
    result = cli("dispatch")
    assert result.code == 0, str(result)
    [commit] = commits(root)[: len(commits(root)) - before]
    assert commit.subject == "agentctl: dispatch: 3 task(s) assigned"
    assert sorted(commit.files) == sorted(
        [f".agentctl/tasks/{ids[k]}.md" for k in ("schema", "fix", "docs")]
        + [f".agentctl/events/{event_day(root)}", "WORKING.md"]
    )
    body = git(root, "log", "-1", "--format=%b")
    assert (
        f'- assigned {ids["schema"]} "Design the schema" to nova (dispatch: on the critical path'
        in body
    )
    assert git(root, "status", "--porcelain") == ""


# -- the lead's heartbeat: the same function ---------------------------------------------------------


def test_the_lead_heartbeat_and_the_simulated_lead_assign_exactly_what_the_cli_does(
    tmp_path: Path, cli: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three copies of one workspace: the CLI dispatches in the first, a command lead answering
    {"type": "dispatch"} in the second, the simulated lead in the third."""
    scripts = tmp_path / "scripts"
    base = make_git_repo(tmp_path / "base")
    monkeypatch.chdir(base)
    assert cli("init").code == 0
    allow_simulated(base)
    for name, caps in (
        ("nova", ["backend", "python"]),
        ("pixel", ["frontend"]),
        ("sentry", ["qa", "review"]),
    ):
        args = ["agent", "add", name, "--role", name, "--runtime", "simulated"]
        for capability in caps:
            args += ["--capability", capability]
        assert cli(*args).code == 0
    for i in range(3):
        add_task(
            cli, f"backend work {i}", "--label", "backend-developer", "--estimate", f"{i + 1}h"
        )
    add_task(cli, "frontend work", "--label", "frontend")
    add_task(cli, "tests", "--label", "QA")
    add_task(cli, "chores")
    copies = {name: tmp_path / name for name in ("by-cli", "by-command-lead", "by-simulated-lead")}
    for path in copies.values():
        shutil.copytree(base, path)

    monkeypatch.chdir(copies["by-cli"])
    doc = cli("dispatch", "--json").json()["dispatch"]
    expected = [(a["task"], a["agent"]) for a in doc["assignments"]]
    assert (
        len(expected) == 4 and len([s for s in doc["skips"] if s["kind"] == "task"]) == 2
    )  # nova's WIP limit

    monkeypatch.chdir(copies["by-command-lead"])
    answer = answer_agent(cli, "chief", scripts, level="lead", role="lead")
    answer.write_text(json.dumps({"actions": [{"type": "dispatch"}]}), encoding="utf-8")
    [record] = cli("heartbeat", "chief", "--json").json()["runs"]
    assert record["outcome"] == "worked", record
    [action] = record["actions"]
    assert [(a["task"], a["agent"]) for a in action["assigned"]] == expected
    assert '{"type":"dispatch"' in (scripts / "chief.stdin").read_text(encoding="utf-8"), (
        "the lead's prompt offers the action"
    )

    monkeypatch.chdir(copies["by-simulated-lead"])
    assert (
        cli(
            "agent", "add", "chief", "--role", "lead", "--level", "lead", "--runtime", "simulated"
        ).code
        == 0
    )
    [record] = cli("heartbeat", "chief", "--json").json()["runs"]
    dispatched = [a for a in record["actions"] if a["action"] == "dispatch"]
    assert [(a["task"], a["agent"]) for a in dispatched[0]["assigned"]] == expected
    assert commits(copies["by-simulated-lead"])[0].subject == "agentctl: heartbeat of chief"

    # a specialist's dispatch action is refused like the CLI refuses it
    monkeypatch.chdir(copies["by-command-lead"])
    worker = answer_agent(cli, "worker", scripts)
    worker.write_text(json.dumps({"actions": [{"type": "dispatch"}]}), encoding="utf-8")
    add_task(cli, "for the worker", "--assign", "worker")
    [record] = cli("heartbeat", "worker", "--json").json()["runs"]
    assert (
        record["rejected"] == 1
        and record["rejections"][0]["reason"]
        == "worker (specialist) may not dispatch tasks to agents"
    )
    assert '{"type":"dispatch"' not in (scripts / "worker.stdin").read_text(encoding="utf-8")


# -- helpers -------------------------------------------------------------------------------------------


def event_lines(root: Path) -> list[dict[str, Any]]:
    lines = []
    for path in sorted((root / ".agentctl" / "events").glob("*.jsonl")):
        lines += [
            json.loads(line)
            for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]
    return lines


def event_day(root: Path) -> str:
    return max((root / ".agentctl" / "events").glob("*.jsonl")).name


def test_silence_uses_the_heartbeat_missed_beats_rule() -> None:
    """The same limit as the lead's silent-agent list: max(missed_beats x every, idle_every + every)."""
    team_ = [agent("a", every="1h")]
    states = {
        "a": {"status": "idle", "last_heartbeat": (NOW - timedelta(hours=3, minutes=1)).isoformat()}
    }
    assert skipped(run([task("t-1")], team_, states=states), "agent") == {
        "a": f"silent: no heartbeat since {(NOW - timedelta(hours=3, minutes=1)).strftime('%Y-%m-%dT%H:%M:%SZ')}"
    }
    states["a"]["last_heartbeat"] = (NOW - timedelta(hours=2, minutes=59)).isoformat()
    assert given(run([task("t-1")], team_, states=states)) == {"t-1": "a"}


def test_the_critical_path_follows_changes_of_estimates_and_dependencies(
    plain: Path, cli: Runner
) -> None:
    """The critical set is cached in the index while the open tasks' dependencies, parents and
    estimates are unchanged: a change of any of them is seen at once."""

    def first() -> tuple[str, bool]:
        doc = cli("dispatch", "--dry-run", "--json").json()["dispatch"]
        return doc["assignments"][0]["task"], doc["assignments"][0]["critical"]

    ids = plan_tasks(cli)
    assert first() == (ids["schema"], True)
    assert cli("task", "edit", ids["fix"], "--estimate", "3w").code == 0
    assert first() == (ids["fix"], True)
    assert cli("task", "edit", ids["fix"], "--estimate", "1h").code == 0
    assert first() == (ids["schema"], True)
    extra = add_task(cli, "Long tail", "--estimate", "1w", "--depends-on", ids["fix"])
    assert first() == (ids["fix"], True), "fix now leads the longest chain"
    assert extra not in {
        a["task"] for a in cli("dispatch", "--dry-run", "--json").json()["dispatch"]["assignments"]
    }


def test_hooks_see_every_assignment_of_a_dispatch(plain: Path, cli: Runner, tmp_path: Path) -> None:
    """A dispatch is one mutation with an event batch: a hook on task.assigned still runs once
    per assigned task, with that task's event."""
    seen = tmp_path / "seen.jsonl"
    hook = tmp_path / "hook.py"
    hook.write_text(
        f"import sys\nopen({str(seen)!r}, 'a').write(sys.stdin.read().strip() + '\\n')\n",
        encoding="utf-8",
    )
    config = plain / ".agentctl" / "config.yaml"
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace("hooks: {}", f"hooks:\n  task.assigned:\n    - [{sys.executable}, {hook}]"),
        encoding="utf-8",
    )
    plan_tasks(cli)
    result = cli("dispatch", "--json")
    assert result.code == 0, str(result)
    assigned = [a["task"] for a in result.json()["dispatch"]["assignments"]]
    events = [json.loads(line) for line in seen.read_text(encoding="utf-8").splitlines()]
    assert [e["subject"] for e in events] == assigned and len(assigned) == 3
