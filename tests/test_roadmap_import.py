"""``agentctl import roadmap``: a roadmap becomes tasks in one mutation (one commit), a dry run
writes nothing, re-imports update / add / report vanished tasks, and bad input is refused in
one line with nothing half-imported."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any, cast

import pytest
from conftest import Runner, git, git_state, make_team, run_refused, snapshot

from agentctl.errors import ExitCode


@pytest.fixture
def ws_root(git_ws_root: Path) -> Path:
    """Every test here is about git (commits, history, recovery): a real repository."""
    return git_ws_root


FIXTURES = Path(__file__).parent / "fixtures" / "roadmaps"
REFERENCE = FIXTURES / "mission-control-roadmap.md"


def tasks_of(root: Path) -> list[dict[str, Any]]:
    from agentctl.workspace import Workspace

    ws = Workspace(root)
    try:
        ws.refresh()
        return [cast("dict[str, Any]", row) for row in ws.index.tasks(order="id")]
    finally:
        ws.close()


def by_title(root: Path) -> dict[str, dict[str, Any]]:
    return {task["title"]: task for task in tasks_of(root)}


def commits(root: Path) -> list[str]:
    return git(root, "log", "--format=%s").splitlines()


def events(root: Path) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for path in sorted((root / ".agentctl" / "events").glob("*.jsonl")):
        found.extend(
            json.loads(line)
            for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()
        )
    return found


def show(cli: Runner, task_id: str) -> dict[str, Any]:
    result = cli("task", "show", task_id, "--json")
    assert result.code == 0, str(result)
    task: dict[str, Any] = result.json()["task"]
    return task


@pytest.fixture
def plain_ws(tmp_path: Path, cli: Runner, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A workspace outside git (no commits)."""
    root = tmp_path / "plain"
    root.mkdir()
    assert cli("init", cwd=root).code == 0
    monkeypatch.chdir(root)
    return root


# -- the reference roadmap ------------------------------------------------------------------------


def test_dry_run_of_the_reference_shows_the_tree_and_writes_nothing(
    ws_root: Path, cli: Runner
) -> None:
    files, state = snapshot(ws_root), git_state(ws_root)
    result = cli("import", "roadmap", str(REFERENCE), "--dry-run")
    assert result.code == 0, str(result)
    out = result.out
    assert out.startswith(
        "Roadmap mission-control-roadmap.md: 39 sections, 184 tasks; 301 acceptance criteria, 44 dependencies\n"
    )
    assert "Dry run: 223 to create, 0 to update, 0 unchanged (nothing written)" in out
    assert "\n  + PHASE 0: Foundation & Architecture (Week 1)  [inbox]\n" in out
    assert "\n    + 0.1 Project Structure Setup  [inbox]  4h-6h  #technical\n" in out
    assert (
        "\n    + 0.2 Database Schema Design  [inbox]  6h-8h  #architect #technical  after 0.1\n"
        in out
    )
    assert (
        "\n    + 1.1 FastAPI Application Setup  [inbox]  8h-10h  #backend-developer  after 0.1, 0.2, 0.3\n"
        in out
    )
    assert "\n        [ ] Health check returns 200\n" in out  # 1.1's acceptance criteria, under it
    assert "after Phase 0, Phase 1, Phase 2, Phase 3, Phase 4" in out  # 5.1: "All previous phases"
    assert (
        "\n      + Create FastAPI application with proper structure  [inbox]  #backend-developer\n"
        in out
    )
    assert (
        "lines 10, 1120, 1222, 1341: notes section (not work): its content is not imported" in out
    )
    assert "Unresolved" not in out and "cycles" not in out
    assert snapshot(ws_root) == files and git_state(ws_root) == state


def test_import_of_the_reference_is_one_commit(ws_root: Path, cli: Runner) -> None:
    before = commits(ws_root)
    result = cli("import", "roadmap", str(REFERENCE))
    assert result.code == 0, str(result)
    assert "Imported: 223 created, 0 updated, 0 unchanged; one commit" in result.out
    after = commits(ws_root)
    assert after[1:] == before
    assert after[0] == "agentctl: import roadmap mission-control-roadmap.md: 223 created, 0 updated"
    assert git(ws_root, "status", "--porcelain") == ""
    changed = git(ws_root, "show", "--name-only", "--format=", "HEAD").split()
    assert sum(1 for path in changed if path.startswith(".agentctl/tasks/")) == 223
    assert "WORKING.md" in changed
    tasks = by_title(ws_root)
    assert len(tasks) == 223
    s11 = tasks["1.1 FastAPI Application Setup"]
    assert [tasks_by_id(tasks)[d]["title"] for d in s11["depends_on"]] == [
        "0.1 Project Structure Setup", "0.2 Database Schema Design", "0.3 API Architecture Design",
    ]  # fmt: skip
    assert (s11["estimate"], s11["labels"], s11["status"]) == (
        "8h-10h",
        ["backend-developer"],
        "inbox",
    )
    assert (
        tasks_by_id(tasks)[s11["parent"]]["title"]
        == "PHASE 1: Backend Core Implementation (Week 2-3)"
    )
    assert (
        s11["source"].startswith("mission-control-roadmap.md#")
        and len(s11["source"]) == len("mission-control-roadmap.md#") + 12
    )
    detail = show(cli, s11["id"])
    assert detail["acceptance_criteria"][5] == {
        "text": "Application starts successfully",
        "done": False,
    }
    assert len(detail["children"]) == 6
    created = [e for e in events(ws_root) if e["type"] == "task.created"]
    assert len(created) == 223 and len({e["ts"] for e in created}) == 1  # one batch
    # New IDs are handed out in roadmap order, so equal tasks are worked in that order.
    ordered = [
        tasks[title]["id"]
        for title in (
            "0.1 Project Structure Setup",
            "0.2 Database Schema Design",
            "5.5 Documentation & Handoff",
        )
    ]
    assert ordered == sorted(ordered)


def tasks_by_id(tasks: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {task["id"]: task for task in tasks.values()}


def test_reimport_of_the_same_roadmap_writes_nothing(ws_root: Path, cli: Runner) -> None:
    assert cli("import", "roadmap", str(REFERENCE)).code == 0
    files, state = snapshot(ws_root), git_state(ws_root)
    result = cli("import", "roadmap", str(REFERENCE))
    assert result.code == 0, str(result)
    assert "Nothing to change: 223 tasks already match the roadmap" in result.out
    assert snapshot(ws_root) == files and git_state(ws_root) == state


def test_json_report(ws_root: Path, cli: Runner) -> None:
    result = cli("import", "roadmap", str(REFERENCE), "--dry-run", "--json")
    assert result.code == 0, str(result)
    doc = result.json()
    assert doc["schema_version"] == 1
    report = doc["report"]
    assert report["counts"] == {
        "section": 39, "task": 184, "milestone": 0, "sprint": 0, "criteria": 301, "dependencies": 44,
        "unresolved": 0, "cycles": 0, "ignored": 83,
    }  # fmt: skip
    phase1 = report["tasks"][0]["children"][1]
    s11 = phase1["children"][0]
    assert (s11["number"], s11["estimate"], s11["labels"], s11["id"], s11["action"]) == (
        "1.1",
        "8h-10h",
        ["backend-developer"],
        None,
        "create",
    )
    assert [d["ref"] for d in s11["depends_on"]] == ["0.1", "0.2", "0.3"]
    assert report["ignored"][0] == {
        "line": 2,
        "end": 2,
        "reason": "heading with only prose: added to the description of 'Mission Control - Development Roadmap'",
        "text": "Complete Implementation Plan for AgentOS SaaS Platform",
    }


# -- re-import --------------------------------------------------------------------------------------

PLAN_V1 = """# Launch

## Week 1
- [ ] Set up CI (2h)
- [ ] Write the README
- [ ] Pick a logo

## Week 2
Depends on: Week 1
- [ ] Ship beta (1d)
"""

PLAN_V2 = """# Launch

## Week 1 ✅
- [x] Set up CI (3h)
- [ ] Write the README
- [ ] Choose a domain

## Week 2
Depends on: Week 1
- [ ] Ship beta (1d)
  - Acceptance: five users signed up
- [ ] Announce on the blog
"""


def test_reimport_updates_adds_and_reports_vanished(ws_root: Path, cli: Runner) -> None:
    plan = ws_root / "plan.md"
    plan.write_text(PLAN_V1, encoding="utf-8")
    assert cli("import", "roadmap", "plan.md").code == 0
    v1 = by_title(ws_root)
    # The team works on it: a label, a hand-made dependency and a criterion added, README done.
    other = cli("task", "add", "Buy a domain name", "--json").json()["task"]["id"]
    readme = v1["Write the README"]["id"]
    assert cli("task", "edit", readme, "--label", "docs", "--ac", "spell-checked").code == 0
    assert cli("task", "dep", "add", readme, other).code == 0
    assert cli("task", "move", readme, "in_progress").code == 0
    assert cli("task", "move", readme, "done").code == 0
    head = commits(ws_root)
    plan.write_text(
        PLAN_V2.replace("- [ ] Write the README", "- [ ] Write the README"), encoding="utf-8"
    )
    result = cli("import", "roadmap", "plan.md")
    assert result.code == 0, str(result)
    assert "Imported: 2 created, 3 updated, 3 unchanged; one commit" in result.out
    assert commits(ws_root)[1:] == head  # one more commit
    assert "No longer in the roadmap (kept, not deleted) (1):" in result.out
    assert f"{v1['Pick a logo']['id']}  Pick a logo [inbox]" in result.out
    v2 = by_title(ws_root)
    assert v2["Pick a logo"]["id"] == v1["Pick a logo"]["id"]  # kept, not deleted
    ci = v2["Set up CI"]
    assert (ci["id"], ci["estimate"], ci["status"]) == (
        v1["Set up CI"]["id"],
        "3h",
        "done",
    )  # ticked: done
    week1 = v2["Week 1"]
    assert week1["status"] == "done"
    readme_now = v2["Write the README"]
    assert readme_now["status"] == "done"  # unticked in the roadmap: never moved back
    assert readme_now["labels"] == ["docs"] and readme_now["depends_on"] == [
        other
    ]  # hand-made changes stay
    assert [c["text"] for c in show(cli, readme)["acceptance_criteria"]] == ["spell-checked"]
    beta = show(cli, v2["Ship beta"]["id"])
    assert beta["acceptance_criteria"] == [{"text": "five users signed up", "done": False}]
    assert v2["Announce on the blog"]["parent"] == v2["Week 2"]["id"]
    assert v2["Choose a domain"]["parent"] == week1["id"]
    kinds = [(e["type"], e["data"].get("title")) for e in events(ws_root)[-7:]]
    assert ("task.moved", "Set up CI") in kinds and ("task.created", "Choose a domain") in kinds
    assert ("task.edited", "Ship beta") in kinds


def test_reimport_never_closes_a_cycle_through_hand_made_dependencies(
    ws_root: Path, cli: Runner
) -> None:
    plan = ws_root / "plan.md"
    plan.write_text("# P\n\n## A\n- one\n\n## B\n- two\n", encoding="utf-8")
    assert cli("import", "roadmap", "plan.md").code == 0
    tasks = by_title(ws_root)
    assert cli("task", "dep", "add", tasks["A"]["id"], tasks["B"]["id"]).code == 0  # A waits for B
    plan.write_text("# P\n\n## A\n- one\n\n## B\nDepends on: A\n- two\n", encoding="utf-8")
    result = cli("import", "roadmap", "plan.md")
    assert result.code == 0, str(result)
    assert "Dependency cycles (the closing dependency was not imported) (1):" in result.out
    assert (
        result.err
        == "agentctl: 0 unresolved dependencies, 1 dependency left out to break cycles (listed in the report)\n"
    )
    assert by_title(ws_root)["B"]["depends_on"] == []


# -- options and input ---------------------------------------------------------------------------------


def test_stdin_parent_and_label(ws_root: Path, cli: Runner) -> None:
    epic = cli("task", "add", "Epic", "--json").json()["task"]["id"]
    result = cli(
        "import", "roadmap", "-", "--parent", epic[:6], "--label", "q3", "--json", input=PLAN_V1
    )
    assert result.code == 0, str(result)
    report = result.json()["report"]
    assert report["source"] == "stdin" and report["created"] == 7
    tasks = by_title(ws_root)
    assert tasks["Launch"]["parent"] == epic
    assert tasks["Set up CI"]["labels"] == ["q3"] and tasks["Week 2"]["labels"] == ["q3"]
    assert tasks["Set up CI"]["source"].startswith("stdin#")
    again = cli("import", "roadmap", "-", "--parent", epic, "--label", "q3", input=PLAN_V1)
    assert "Nothing to change" in again.out, str(again)


def test_a_file_inside_the_workspace_is_keyed_by_its_relative_path(
    ws_root: Path, cli: Runner
) -> None:
    (ws_root / "docs").mkdir()
    (ws_root / "docs" / "plan.md").write_text(PLAN_V1, encoding="utf-8")
    assert cli("import", "roadmap", "plan.md", cwd=ws_root / "docs").code == 0
    assert all(t["source"].startswith("docs/plan.md#") for t in tasks_of(ws_root))
    # the same file from another directory is the same roadmap
    assert "Nothing to change" in cli("import", "roadmap", "docs/plan.md").out


def test_owners_naming_agents_are_assigned_others_are_hints(ws_root: Path, cli: Runner) -> None:
    make_team(cli, cwd=ws_root)
    text = "# P\n\n## Build\n- Write API @dev-1\n- Design UI (owner: Dana Smith)\n"
    result = cli("import", "roadmap", "-", input=text)
    assert result.code == 0, str(result)
    tasks = by_title(ws_root)
    api = tasks["Write API"]
    assert (api["assignees"], api["status"]) == (["dev-1"], "assigned")
    ui = show(cli, tasks["Design UI"]["id"])
    assert ui["assignees"] == [] and "Owner (from the roadmap): Dana Smith" in ui["description"]
    assert "owner Dana Smith is not an agent (kept in the description)" in result.out
    inbox = cli("inbox", "--agent", "dev-1", "--json")
    assert api["id"] in inbox.out, str(inbox)


def test_reimport_assigns_an_owner_to_an_unassigned_task(ws_root: Path, cli: Runner) -> None:
    make_team(cli, cwd=ws_root)
    assert (
        cli("import", "roadmap", "-", input="# P\n\n- Write API\n- Write docs @dev-2\n").code == 0
    )
    result = cli("import", "roadmap", "-", input="# P\n\n- Write API @dev-1\n- Write docs @dev-1\n")
    assert result.code == 0, str(result)
    tasks = by_title(ws_root)
    assert (tasks["Write API"]["assignees"], tasks["Write API"]["status"]) == (
        ["dev-1"],
        "assigned",
    )
    assert tasks["Write docs"]["assignees"] == ["dev-2"]  # never reassigned
    last = events(ws_root)[-1]
    assert (last["type"], last["subject"], last["notify"]) == (
        "task.assigned",
        tasks["Write API"]["id"],
        ["dev-1"],
    )


def test_an_agent_imports_without_skipping_review(ws_root: Path, cli: Runner) -> None:
    make_team(cli, cwd=ws_root)
    plan = ws_root / "plan.md"
    plan.write_text("# P\n\n## Done already ✅\n- [x] Old work\n", encoding="utf-8")
    result = cli("--as", "lead-1", "import", "roadmap", "plan.md")
    assert result.code == 0, str(result)
    assert {t["status"] for t in tasks_of(ws_root)} == {"inbox"}
    assert "status done not applied" in result.out
    # An intern may create tasks but not update ones it does not hold.
    plan.write_text("# P\n\n## Done already ✅\n- [x] Old work (2h)\n", encoding="utf-8")
    git(ws_root, "add", "plan.md")
    git(ws_root, "commit", "-qm", "plan")
    run_refused(
        cli,
        ws_root,
        ExitCode.PERMISSION,
        ("--as", "intern-1", "import", "roadmap", "plan.md"),
        "may not update",
    )


def test_without_create_tasks_nothing_is_imported(ws_root: Path, cli: Runner) -> None:
    make_team(cli, cwd=ws_root)
    path = ws_root / ".agentctl" / "agents" / "intern-1.md"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "level: intern\n", "level: intern\npermissions:\n  deny: [create_tasks]\n"
        ),
        encoding="utf-8",
    )
    git(ws_root, "commit", "-qam", "deny")
    (ws_root / "plan.md").write_text(PLAN_V1, encoding="utf-8")
    git(ws_root, "add", "plan.md")
    git(ws_root, "commit", "-qm", "plan")
    run_refused(
        cli,
        ws_root,
        ExitCode.PERMISSION,
        ("--as", "intern-1", "import", "roadmap", "plan.md"),
        "may not import a roadmap",
    )


def test_a_roadmap_with_a_cycle_is_imported_without_it(ws_root: Path, cli: Runner) -> None:
    result = cli("import", "roadmap", str(FIXTURES / "cycle.md"))
    assert result.code == 0, str(result)
    assert "line 10: 3 depends on '2': 3 -> 2 -> 1 -> 3" in result.out
    assert "line 13: 4 depends on '4': 4 -> 4" in result.out
    assert (
        "Unresolved dependencies (1):\n  line 18: Retention policy: '9.9': no section, number or title of this roadmap matches"
        in result.out
    )
    assert "1 unresolved dependency, 3 dependencies left out to break cycles" in result.err
    cycles = cli("task", "ready", "--json")
    assert cycles.code == 0
    from agentctl.core import graph
    from agentctl.workspace import Workspace

    ws = Workspace(ws_root)
    assert graph.find_cycles(ws.index.graph()) == []
    ws.close()


def test_mojibake_is_repaired_in_the_tasks(ws_root: Path, cli: Runner) -> None:
    result = cli("import", "roadmap", str(FIXTURES / "mojibake.md"))
    assert result.code == 0, str(result)
    assert "Repaired mojibake on 12 lines" in result.out
    tasks = by_title(ws_root)
    assert tasks["Phase 1 – Admin panel"]["status"] == "done"
    assert tasks["Canned responses"]["status"] == "in_progress"
    assert tasks["Roadmap — Internal Tools"]["status"] == "inbox"


@pytest.mark.parametrize(
    "name",
    [
        "checklist-weeks.md",
        "numbered-phases.md",
        "sprint-table.md",
        "milestones.md",
        "bold-lists.md",
        "status-headings.md",
    ],
)
def test_every_fixture_imports_and_reimports_unchanged(
    name: str, plain_ws: Path, cli: Runner
) -> None:
    first = cli("import", "roadmap", str(FIXTURES / name), "--json")
    assert first.code == 0, str(first)
    report = first.json()["report"]
    assert report["created"] == len(tasks_of(plain_ws)) > 0 and not report["committed"]
    second = cli("import", "roadmap", str(FIXTURES / name), "--json")
    assert second.json()["report"]["unchanged"] == report["created"], str(second)


def test_milestones_become_labelled_tasks_with_status_and_due(plain_ws: Path, cli: Runner) -> None:
    assert cli("import", "roadmap", str(FIXTURES / "milestones.md")).code == 0
    tasks = by_title(plain_ws)
    m1, m5 = tasks["M1 Ingestion pipeline live"], tasks["M5 Realtime streaming"]
    assert (m1["labels"], m1["status"], m1["due"]) == (["milestone"], "done", "2026-01-31")
    assert m5["status"] == "blocked"
    assert tasks["Backfill historical events"]["depends_on"] == [m1["id"]]


# -- bad input ----------------------------------------------------------------------------------------


def test_missing_file(ws_root: Path, cli: Runner) -> None:
    run_refused(
        cli, ws_root, ExitCode.USAGE, ("import", "roadmap", "nope.md"), "no such file: nope.md"
    )


def test_a_directory(ws_root: Path, cli: Runner) -> None:
    (ws_root / "dir").mkdir()
    run_refused(cli, ws_root, ExitCode.USAGE, ("import", "roadmap", "dir"), "dir is a directory")


def test_a_fifo_is_not_read(ws_root: Path, cli: Runner, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.md"
    os.mkfifo(fifo)
    run_refused(
        cli, ws_root, ExitCode.USAGE, ("import", "roadmap", str(fifo)), "is not a regular file"
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_an_unreadable_file(ws_root: Path, cli: Runner, tmp_path: Path) -> None:
    path = tmp_path / "secret.md"
    path.write_text(PLAN_V1, encoding="utf-8")
    path.chmod(0)
    run_refused(cli, ws_root, ExitCode.USAGE, ("import", "roadmap", str(path)), "permission denied")


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"", "plan.md is empty"),
        (b"\n   \n", "plan.md is empty"),
        (bytes(range(256)) * 4, "plan.md is a binary file"),
        (b"# Plan\n- caf\xe9\n", "plan.md is not UTF-8 text"),
        (
            b"# Plan\n" + b"".join(b"  " * i + b"- level %d\n" % i for i in range(200)),
            "nested too deeply",
        ),
    ],
)
def test_unusable_roadmaps_are_refused(
    ws_root: Path, cli: Runner, tmp_path: Path, data: bytes, needle: str
) -> None:
    path = tmp_path / "plan.md"
    path.write_bytes(data)
    run_refused(cli, ws_root, ExitCode.USAGE, ("import", "roadmap", str(path)), needle)


def test_too_large_a_roadmap(ws_root: Path, cli: Runner, tmp_path: Path) -> None:
    from agentctl.store.roadmap import MAX_BYTES

    path = tmp_path / "plan.md"
    path.write_bytes(b"- [ ] task\n" * (MAX_BYTES // 11 + 1))
    run_refused(
        cli, ws_root, ExitCode.USAGE, ("import", "roadmap", str(path)), "plan.md is too large"
    )


def test_bad_options(ws_root: Path, cli: Runner) -> None:
    (ws_root / "plan.md").write_text(PLAN_V1, encoding="utf-8")
    git(ws_root, "add", "plan.md")
    git(ws_root, "commit", "-qm", "plan")
    run_refused(
        cli,
        ws_root,
        ExitCode.USAGE,
        ("import", "roadmap", "plan.md", "--label", "two words"),
        "--label 'two words'",
    )
    run_refused(
        cli,
        ws_root,
        ExitCode.NOT_FOUND,
        ("import", "roadmap", "plan.md", "--parent", "t-zzzz"),
        "no task matches",
    )


def test_a_parent_from_the_same_roadmap_is_refused(ws_root: Path, cli: Runner) -> None:
    (ws_root / "plan.md").write_text(PLAN_V1, encoding="utf-8")
    assert cli("import", "roadmap", "plan.md").code == 0
    week = by_title(ws_root)["Week 1"]["id"]
    run_refused(
        cli,
        ws_root,
        ExitCode.CONFLICT,
        ("import", "roadmap", "plan.md", "--parent", week),
        "is a task of this roadmap",
    )


def test_an_import_that_fails_midway_leaves_nothing(
    ws_root: Path, cli: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure while staging (here: the 100th record refused) writes no task at all."""
    from agentctl.errors import ValidationError
    from agentctl.workspace import planning

    calls = {"n": 0}
    real = planning.validate_model  # type: ignore[attr-defined]

    def failing(model: str, data: dict[str, Any], path: str) -> None:
        calls["n"] += 1
        if calls["n"] == 100:
            raise ValidationError("refused for the test", path)
        real(model, data, path)

    monkeypatch.setattr(planning, "validate_model", failing)
    run_refused(
        cli,
        ws_root,
        ExitCode.VALIDATION,
        ("import", "roadmap", str(REFERENCE)),
        "refused for the test",
    )


@pytest.mark.slow
def test_a_50000_line_roadmap_dry_run(ws_root: Path, cli: Runner, tmp_path: Path) -> None:
    from test_roadmap_parse import big_roadmap

    path = tmp_path / "big.md"
    path.write_text(big_roadmap(50_000), encoding="utf-8")
    result = cli("import", "roadmap", str(path), "--dry-run", "--json")
    assert result.code == 0, result.err
    report = result.json()["report"]
    assert report["counts"]["section"] > 3000 and report["unresolved"] == []


def test_the_sample_roadmap_imports_cleanly(plain_ws: Path, cli: Runner) -> None:
    sample = Path(__file__).parent.parent / "templates" / "roadmap-sample.md"
    result = cli("import", "roadmap", str(sample), "--json")
    assert result.code == 0, str(result)
    report = result.json()["report"]
    assert report["unresolved"] == [] and report["cycles"] == [], report["unresolved"]
    counts = report["counts"]
    assert 30 <= counts["task"] + counts["section"] + counts["milestone"] + counts["sprint"] <= 60
    assert counts["milestone"] >= 3 and counts["dependencies"] >= 15
    tasks = tasks_of(plain_ws)
    assert any("-" in (t.get("estimate") or "") for t in tasks)  # ranges
    assert any(t["labels"] and t["labels"] != ["milestone"] for t in tasks)
    shutil.rmtree(plain_ws / ".agentctl" / "tasks")  # (keeps the tmp dir small)


@pytest.mark.slow
def test_an_import_killed_at_random_points_is_all_or_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGKILL of an importing process group (git included) at random points, auto-commit on:
    after the next command every task file has its creating event and vice versa, none is
    torn, git is clean, and the roadmap's tasks are either all there or none."""
    import random
    import signal
    import subprocess
    import time

    from helpers_proc import (
        CLI,
        isolate,
        new_workspace,
        run_cli,
        task_files,
        tasks_created_by_events,
        temp_files,
    )

    from agentctl.store.frontmatter import load_fast

    isolate(monkeypatch, tmp_path / "home")
    monkeypatch.setenv("AGENTCTL_AUTOCOMMIT", "1")
    rng = random.Random(20261203)
    plan = tmp_path / "plan.md"
    plan.write_bytes(REFERENCE.read_bytes())
    for round_ in range(8):
        root = new_workspace(tmp_path / f"repo-{round_}")
        proc = subprocess.Popen([*CLI, "-W", str(root), "import", "roadmap", str(plan)], cwd=root, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
        time.sleep(rng.uniform(0.3, 2.5))
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        assert run_cli(root, "doctor", check=False).returncode == 0
        files = task_files(root)
        assert files == tasks_created_by_events(root), f"round {round_}"
        assert len(files) in (0, 223), f"round {round_}: {len(files)} tasks"
        print(f"round {round_}: {len(files)} tasks after the kill and doctor")
        for task in files:
            load_fast(
                (root / ".agentctl" / "tasks" / f"{task}.md").read_text(encoding="utf-8"), task
            )
        assert temp_files(root / ".agentctl") == []
        status = git(root, "status", "--porcelain")
        assert [
            line for line in status.splitlines() if ".agentctl/" in line or "WORKING.md" in line
        ] == [], status
        again = run_cli(root, "import", "roadmap", str(plan))
        assert ("223 created" if not files else "Nothing to change") in again.stdout, again.stdout
        assert run_cli(root, "validate", check=False).returncode == 0
