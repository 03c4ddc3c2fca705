"""``agentctl import backlog|taskwarrior|beads|github|jsonl`` and ``agentctl export``: other
trackers' data becomes tasks in one mutation (one commit), keyed by ``source`` so a re-import
updates instead of duplicating; bad records are named in the report; unusable input is refused
in one line with nothing written. Taskwarrior and Backlog.md data comes from the real tools
when they are installed (.ci/run installs them best effort); beads and GitHub data from
fixtures written from their documented formats."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import Runner, git, run_refused, snapshot

from agentctl.errors import ExitCode

FIXTURES = Path(__file__).parent / "fixtures" / "interchange"
needs_task = pytest.mark.skipif(
    shutil.which("task") is None,
    reason="Taskwarrior (`task`) is not installed (apt-get install taskwarrior)",
)
needs_backlog = pytest.mark.skipif(
    shutil.which("backlog") is None,
    reason="Backlog.md (`backlog`) is not installed (npm install -g backlog.md)",
)


@pytest.fixture
def ws_root(git_ws_root: Path) -> Path:
    return git_ws_root


def tasks(root: Path) -> dict[str, dict[str, Any]]:
    """Every task's frontmatter and body, by title, read from the files."""
    from agentctl.store.frontmatter import load_fast

    found = {}
    for path in sorted((root / ".agentctl" / "tasks").glob("*.md")):
        fields, body = load_fast(path.read_text(encoding="utf-8"), path.name)
        found[fields["title"]] = {**fields, "body": body}
    return found


def thread(root: Path, task_id: str) -> list[dict[str, Any]]:
    from agentctl.store.frontmatter import load_fast

    messages = []
    for path in sorted((root / ".agentctl" / "threads" / task_id).glob("*.md")):
        fields, body = load_fast(path.read_text(encoding="utf-8"), path.name)
        messages.append({**fields, "body": body.strip()})
    return messages


def commits(root: Path) -> list[str]:
    return git(root, "log", "--format=%s").splitlines()


# -- Taskwarrior (the real tool) -----------------------------------------------------------------


def tw(home: Path, *args: str) -> str:
    env = {**os.environ, "TASKDATA": str(home / "data"), "TASKRC": str(home / "rc")}
    proc = subprocess.run(
        ["task", "rc.confirmation=off", "rc.verbose=nothing", "rc.recurrence.confirmation=off", *args],
        env=env, capture_output=True, text=True, check=False, timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.returncode == 0, (args, proc.stdout, proc.stderr)
    return proc.stdout


@pytest.fixture
def taskwarrior(tmp_path: Path) -> Path:
    home = tmp_path / "tw"
    (home / "data").mkdir(parents=True)
    (home / "rc").write_text("", encoding="utf-8")
    tw(home, "add", "Write the parser", "priority:H", "project:imports", "+cli", "due:2026-12-31")
    tw(home, "add", "Wire the command", "priority:L", "depends:1", "+cli")
    tw(home, "1", "annotate", "Use the same report as roadmap import")
    tw(home, "2", "start")
    tw(home, "add", "Ship it")
    tw(home, "description:Ship it", "done")
    tw(home, "add", "Dropped idea")
    tw(home, "description:Dropped idea", "delete")
    tw(home, "add", "Weekly sync", "due:2027-01-04", "recur:weekly")
    tw(home, "add", "Later", "wait:2030-01-01")
    return home


@needs_task
def test_taskwarrior_export_imports_in_one_commit_and_reimport_updates(
    cli: Runner, ws_root: Path, taskwarrior: Path, tmp_path: Path
) -> None:
    export = tmp_path / "export.json"
    export.write_text(tw(taskwarrior, "export"), encoding="utf-8")
    records = json.loads(export.read_text(encoding="utf-8"))
    uuid = {r["description"]: r["uuid"] for r in records}
    before = commits(ws_root)

    result = cli("import", "taskwarrior", str(export), "--json")
    assert result.code == 0, result
    report = result.json()["report"]
    assert len(commits(ws_root)) == len(before) + 1
    assert commits(ws_root)[0].startswith("agentctl: import taskwarrior export.json: ")
    found = tasks(ws_root)
    assert sorted(found) == [
        "Later",
        "Ship it",
        "Weekly sync",
        "Wire the command",
        "Write the parser",
    ]
    parser, command = found["Write the parser"], found["Wire the command"]
    assert parser["source"] == f"taskwarrior:{uuid['Write the parser']}"
    assert parser["priority"] == 1 and command["priority"] == 3
    assert parser["labels"] == ["cli", "project:imports"]
    assert parser["due"] == "2026-12-31"
    assert command["depends_on"] == [parser["id"]]
    assert command["status"] == "in_progress"
    assert found["Ship it"]["status"] == "done"
    assert found["Later"]["labels"] == ["waiting"] and found["Later"]["status"] == "inbox"
    assert [m["body"] for m in thread(ws_root, parser["id"])] == [
        "Use the same report as roadmap import"
    ]
    skipped = {s["ref"]: s["reason"] for s in report["skipped"]}
    assert skipped[uuid["Dropped idea"]] == "deleted in Taskwarrior"
    assert (
        "recurrence template"
        in skipped[next(r["uuid"] for r in records if r["status"] == "recurring")]
    )
    assert report["mapping"]["pending (started) -> in progress"] == 1
    assert all(s["where"].startswith("export.json record ") for s in report["skipped"])

    # the same export again: nothing to change, no commit, no duplicate
    again = cli("import", "taskwarrior", str(export), "--json")
    assert again.code == 0, again
    assert again.json()["report"]["created"] == 0 and again.json()["report"]["updated"] == 0
    assert len(commits(ws_root)) == len(before) + 1

    # changed in Taskwarrior: the re-import updates the same task and adds the new annotation
    tw(taskwarrior, uuid["Write the parser"], "modify", "priority:L", "Write the JSON parser")
    tw(taskwarrior, uuid["Write the parser"], "annotate", "Second thought")
    export.write_text(tw(taskwarrior, "export"), encoding="utf-8")
    third = cli("import", "taskwarrior", str(export), "--json")
    assert third.code == 0, third
    assert third.json()["report"]["updated"] == 1 and third.json()["report"]["messages"] == 1
    found = tasks(ws_root)
    assert len(found) == 5
    assert found["Write the JSON parser"]["id"] == parser["id"]
    assert found["Write the JSON parser"]["priority"] == 3
    assert [m["body"] for m in thread(ws_root, parser["id"])] == [
        "Use the same report as roadmap import", "Second thought"
    ]  # fmt: skip


@needs_task
def test_export_taskwarrior_is_accepted_by_task_import(
    cli: Runner, ws_root: Path, taskwarrior: Path, tmp_path: Path
) -> None:
    export = tmp_path / "export.json"
    export.write_text(tw(taskwarrior, "export"), encoding="utf-8")
    assert cli("import", "taskwarrior", str(export)).code == 0
    assert cli("task", "add", "Native task", "-p", "0").code == 0
    out = tmp_path / "out.json"
    result = cli("export", "taskwarrior", "--all", "-o", str(out))
    assert result.code == 0, result
    fresh = tmp_path / "fresh"
    (fresh / "data").mkdir(parents=True)
    (fresh / "rc").write_text("", encoding="utf-8")
    tw(fresh, "import", str(out))
    back = {r["description"]: r for r in json.loads(tw(fresh, "export"))}
    original = {r["description"]: r for r in json.loads(export.read_text(encoding="utf-8"))}
    for title in ("Write the parser", "Wire the command"):
        assert back[title]["uuid"] == original[title]["uuid"]  # the imported uuid goes back out
        assert back[title].get("priority") == original[title].get("priority")
    assert back["Wire the command"]["depends"] == [original["Write the parser"]["uuid"]]
    assert back["Ship it"]["status"] == "completed"
    assert back["Native task"]["priority"] == "H"
    assert (
        back["Write the parser"]["annotations"][0]["description"]
        == "Use the same report as roadmap import"
    )


# -- Backlog.md (the real tool) ------------------------------------------------------------------


def backlog(project: Path, *args: str) -> None:
    proc = subprocess.run(["backlog", *args], cwd=project, capture_output=True, text=True,
                          check=False, timeout=120, stdin=subprocess.DEVNULL)  # fmt: skip
    assert proc.returncode == 0, (args, proc.stdout, proc.stderr)


@needs_backlog
def test_backlog_project_imports(cli: Runner, ws_root: Path, tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    git(project, "init", "-q")
    backlog(project, "init", "demo", "--defaults", "--integration-mode", "none")
    backlog(project, "task", "create", "Parse the files", "-d", "Read every task file.", "-a", "@alice",
            "-l", "cli,io", "--priority", "high", "--ac", "reads frontmatter", "--ac", "reads sections", "--plain")  # fmt: skip
    backlog(project, "task", "create", "Wire the command", "-s", "In Progress", "--dep", "task-1",
            "--due-date", "2026-12-31", "--notes", "Mind stdin.", "--plain")  # fmt: skip
    backlog(project, "task", "create", "A subtask", "-p", "task-1", "--plain")
    backlog(project, "task", "create", "Finished", "-s", "Done", "--plain")

    result = cli("import", "backlog", str(project), "--json")
    assert result.code == 0, result
    report = result.json()["report"]
    assert report["skipped"] == []
    found = tasks(ws_root)
    parse, wire = found["Parse the files"], found["Wire the command"]
    assert parse["source"] == "backlog:TASK-1"
    assert parse["priority"] == 1 and parse["labels"] == ["cli", "io"]
    assert "- [ ] reads frontmatter\n- [ ] reads sections" in parse["body"]
    assert "Read every task file." in parse["body"]
    assert "Owner (from Backlog.md): alice" in parse["body"]  # not an agent here
    assert wire["status"] == "in_progress" and wire["depends_on"] == [parse["id"]]
    assert wire["due"] == "2026-12-31" and "Mind stdin." in wire["body"]
    assert found["A subtask"]["parent"] == parse["id"]
    assert found["Finished"]["status"] == "done"
    again = cli("import", "backlog", str(project), "--json")
    assert again.json()["report"]["unchanged"] == 4, again


# -- beads and GitHub (fixtures from their documented formats) -----------------------------------


def test_beads_issues_import(cli: Runner, ws_root: Path) -> None:
    result = cli("import", "beads", str(FIXTURES / "beads-issues.jsonl"), "--json")
    assert result.code == 0, result
    report = result.json()["report"]
    found = tasks(ws_root)
    epic, form, store = found["Auth epic"], found["Login form"], found["Session store"]
    assert form["parent"] == epic["id"]  # parent-child
    assert form["depends_on"] == [store["id"]]  # blocks; "related" is not an order
    assert store["depends_on"] == []
    assert form["status"] == "in_progress" and store["status"] == "done"
    assert found["Rate limits"]["status"] == "blocked" and found["Rate limits"]["priority"] == 3
    assert form["priority"] == 0
    assert epic["labels"] == ["auth", "epic"]
    assert "- [ ] shows errors\n- [ ] submits on enter" in form["body"]
    assert "### Design\n\nToken bucket." in found["Rate limits"]["body"]
    [message] = thread(ws_root, form["id"])
    assert message["author"] == "bob" and message["body"] == "Use the shared validator."
    assert message["created_at"].startswith("2026-11-02T09:00:00")
    assert report["skipped"] == [
        {"where": "beads-issues.jsonl:5", "ref": "bd-e5", "reason": "deleted in beads (tombstone)"}
    ]
    [link] = report["unresolved"]
    assert link["where"] == "beads-issues.jsonl:6" and "tombstone" in link["reason"]
    assert "Old idea" not in found


def test_github_issues_import(cli: Runner, ws_root: Path) -> None:
    result = cli("import", "github", str(FIXTURES / "github-issues.json"), "--json")
    assert result.code == 0, result
    found = tasks(ws_root)
    flicker = found["Board flickers"]
    assert flicker["source"] == "github:12"
    assert flicker["labels"] == ["bug", "good-first-issue", "milestone:v1.2"]
    assert "The board flickers on resize." in flicker["body"]
    assert found["Dark mode for the CLI"]["status"] == "done"
    assert found["Dark mode for the CLI"]["labels"] == ["not-planned"]
    assert found["Document the config"]["labels"] == ["docs"]
    [comment] = thread(ws_root, flicker["id"])
    assert comment["author"] == "bob" and comment["body"] == "Seen on Linux too."
    # piped in, the same issues again: nothing new
    again = cli(
        "import", "github", "-", "--json", input=(FIXTURES / "github-issues.json").read_text()
    )
    assert again.code == 0, again
    assert again.json()["report"]["created"] == 0 and again.json()["report"]["messages"] == 0


def test_dry_run_writes_nothing(cli: Runner, ws_root: Path) -> None:
    before, head = snapshot(ws_root), commits(ws_root)
    result = cli("import", "beads", str(FIXTURES / "beads-issues.jsonl"), "--dry-run")
    assert result.code == 0, result
    assert (
        "Dry run: 5 to create, 0 to update, 0 unchanged, 1 message to add (nothing written)"
        in result.out
    )
    assert "beads-issues.jsonl:5: bd-e5: deleted in beads (tombstone)" in result.out
    assert snapshot(ws_root) == before and commits(ws_root) == head


# -- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "data", "needle"),
    [
        ("taskwarrior", b'[{"uuid": "a", "description": "x"', "bad.json:1:"),
        ("taskwarrior", b"\xff\xfe not utf-8", "not UTF-8"),
        ("github", b'"just a string"', "expected a JSON array"),
        ("beads", b"not json\nnor this\n", "bad.json:1: not JSON"),
        (
            "taskwarrior",
            b'[{"description": "no uuid", "status": "pending"}]',
            "no uuid; none of the 1 records",
        ),
        ("jsonl", b'{"kind": "agentctl-export", "schema_version": 9}\n', "schema_version 9"),
    ],
)
def test_unusable_input_is_refused_whole(
    cli: Runner, ws_root: Path, tmp_path: Path, fmt: str, data: bytes, needle: str
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(data)
    run_refused(cli, ws_root, ExitCode.USAGE, ("import", fmt, str(bad)), needle)


def test_bad_records_are_named_and_the_rest_imported(
    cli: Runner, ws_root: Path, tmp_path: Path
) -> None:
    lines = [
        {"id": "bd-1", "title": "Good", "status": "open"},
        {"id": "bd-2", "status": "open"},
        {"id": "bd-3", "title": "Odd status", "status": "someday"},
        {"id": "bd-1", "title": "Duplicate", "status": "open"},
        {"id": "bd-4", "title": "A", "status": "open", "dependencies": [{"issue_id": "bd-4", "depends_on_id": "bd-5", "type": "blocks"}]},
        {"id": "bd-5", "title": "B", "status": "open", "dependencies": [{"issue_id": "bd-5", "depends_on_id": "bd-4", "type": "blocks"}]},
    ]  # fmt: skip
    text = "\n".join(json.dumps(line) for line in lines[:3]) + "\n{broken\n"
    text += "\n".join(json.dumps(line) for line in lines[3:]) + "\n"
    path = tmp_path / "issues.jsonl"
    path.write_text(text, encoding="utf-8")
    result = cli("import", "beads", str(path), "--json")
    assert result.code == 0, result
    assert (
        result.err.strip() == "agentctl: 4 records skipped, 1 link left out (listed in the report)"
    )
    report = result.json()["report"]
    assert [(s["where"], s["reason"]) for s in report["skipped"]] == [
        ("issues.jsonl:2", "no title"),
        ("issues.jsonl:3", "unknown status 'someday'"),
        ("issues.jsonl:4", "not JSON (Expecting property name enclosed in double quotes)"),
        ("issues.jsonl:5", "duplicate ID 'bd-1' (first at issues.jsonl:1)"),
    ]
    [cycle] = report["cycles"]
    assert cycle["where"] == "issues.jsonl:7" and cycle["cycle"] == ["bd-5", "bd-4", "bd-5"]
    found = tasks(ws_root)
    assert sorted(found) == ["A", "B", "Good"]
    assert found["A"]["depends_on"] == [found["B"]["id"]] and found["B"]["depends_on"] == []


# -- JSONL: lossless round trip --------------------------------------------------------------------


def test_jsonl_export_then_import_gives_the_same_records(
    cli: Runner, ws_root: Path, tmp_path: Path, template_dir: Path
) -> None:
    from conftest import copy_template

    assert cli("import", "beads", str(FIXTURES / "beads-issues.jsonl")).code == 0
    assert cli("task", "add", "Native", "-l", "x", "--due", "2026-12-24").code == 0
    native = tasks(ws_root)["Native"]["id"]
    assert cli("task", "comment", native, "hello @nobody").code == 0
    export = tmp_path / "all.jsonl"
    assert cli("export", "jsonl", "--all", "-o", str(export)).code == 0
    open_only = cli("export", "jsonl")
    assert open_only.code == 0 and '"Session store"' not in open_only.out  # done: only with --all

    empty = copy_template("git-ws", tmp_path / "empty", template_dir)
    result = cli("import", "jsonl", str(export), "--json", cwd=empty)
    assert result.code == 0, result
    assert result.json()["report"]["created"] == 6
    assert tasks(empty) == tasks(ws_root)
    for task in tasks(ws_root).values():
        assert thread(empty, task["id"]) == thread(ws_root, task["id"])
    assert (
        sorted(p.name for p in (empty / ".agentctl" / "threads").rglob("*.md"))
        == sorted(p.name for p in (ws_root / ".agentctl" / "threads").rglob("*.md"))
    )  # fmt: skip
    again = cli("export", "jsonl", "--all", cwd=empty)
    assert again.out == export.read_text(encoding="utf-8")
    head = commits(empty)
    assert cli("import", "jsonl", str(export), cwd=empty).code == 0
    assert commits(empty) == head  # nothing changed: no commit


def test_jsonl_bad_records(cli: Runner, ws_root: Path, tmp_path: Path) -> None:
    def task(task_id: str, deps: list[str]) -> dict[str, Any]:
        fields = {"id": task_id, "title": task_id, "status": "inbox", "priority": 2, "assignees": [],
                  "labels": [], "depends_on": deps, "created_by": "me",
                  "created_at": "2026-12-01T10:00:00Z", "updated_at": "2026-12-01T10:00:00Z"}  # fmt: skip
        return {"kind": "task", "fields": fields, "body": "\n## Description\n"}

    records = [
        task("t-aaaaaaaaaaaa", []),
        task("t-aaaaaaaaaaaa", []),
        task("t-bbbbbbbbbbbb", ["t-cccccccccccc"]),
        task("t-cccccccccccc", ["t-bbbbbbbbbbbb"]),
        task("t-dddddddddddd", ["t-zzzzzzzzzzzz"]),
        {**task("t-eeeeeeeeeeee", []), "fields": {"id": "t-eeeeeeeeeeee", "title": "no status"}},
    ]
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    result = cli("import", "jsonl", str(path), "--json")
    assert result.code == 0, result
    skipped = {(s["where"], s["ref"]): s["reason"] for s in result.json()["report"]["skipped"]}
    assert skipped[("in.jsonl:2", "t-aaaaaaaaaaaa")].startswith("duplicate ID")
    assert "dependency cycle" in skipped[("in.jsonl:3", "t-bbbbbbbbbbbb")]
    assert "dependency cycle" in skipped[("in.jsonl:4", "t-cccccccccccc")]
    assert "neither in the file nor in the workspace" in skipped[("in.jsonl:5", "t-dddddddddddd")]
    assert ("in.jsonl:6", "t-eeeeeeeeeeee") in skipped
    assert sorted(tasks(ws_root)) == ["t-aaaaaaaaaaaa"]


def test_export_to_a_missing_folder_is_refused(cli: Runner, ws_root: Path, tmp_path: Path) -> None:
    run_refused(
        cli,
        ws_root,
        ExitCode.USAGE,
        ("export", "jsonl", "-o", str(tmp_path / "no" / "x.jsonl")),
        "no such folder",
    )


def test_github_csv_export(cli: Runner, ws_root: Path) -> None:
    import csv
    import io

    assert cli("import", "github", str(FIXTURES / "github-issues.json")).code == 0
    result = cli("export", "github-csv", "--all")
    assert result.code == 0, result
    rows = list(csv.DictReader(io.StringIO(result.out)))
    by_title = {row["title"]: row for row in rows}
    assert by_title["Board flickers"]["labels"] == "bug,good-first-issue"
    assert by_title["Board flickers"]["milestone"] == "v1.2"
    assert by_title["Board flickers"]["state"] == "open"
    assert by_title["Document the config"]["state"] == "closed"


def test_backlog_folder_must_hold_tasks(cli: Runner, ws_root: Path, tmp_path: Path) -> None:
    run_refused(
        cli,
        ws_root,
        ExitCode.USAGE,
        ("import", "backlog", str(tmp_path / "none")),
        "no such folder",
    )
    (tmp_path / "empty").mkdir()
    run_refused(
        cli,
        ws_root,
        ExitCode.USAGE,
        ("import", "backlog", str(tmp_path / "empty")),
        "no Backlog.md tasks folder",
    )


def test_taskwarrior_from_stdin_with_a_label(cli: Runner, ws_root: Path) -> None:
    export = [
        {"uuid": "11111111-1111-4111-8111-111111111111", "description": "Piped", "status": "pending",
         "priority": "M", "entry": "20261201T100000Z", "annotations": [{"entry": "20261201T110000Z", "description": "n"}]},
        {"uuid": "22222222-2222-4222-8222-222222222222", "description": "Odd", "status": "someday"},
        {"uuid": "33333333-3333-4333-8333-333333333333", "description": "Bad priority", "status": "pending", "priority": "X"},
    ]  # fmt: skip
    result = cli(
        "import", "taskwarrior", "-", "--label", "from-tw", "--json", input=json.dumps(export)
    )
    assert result.code == 0, result
    report = result.json()["report"]
    assert [s["reason"] for s in report["skipped"]] == [
        "unknown status 'someday'", "unknown priority 'X' (H, M or L)"
    ]  # fmt: skip
    piped = tasks(ws_root)["Piped"]
    assert piped["labels"] == ["from-tw"] and piped["priority"] == 2
    assert report["input"] == "stdin" and report["messages"] == 1


def test_an_agent_may_not_overwrite_tasks_with_import_jsonl(
    cli: Runner, ws_root: Path, tmp_path: Path
) -> None:
    from conftest import make_team

    make_team(cli)
    assert cli("task", "add", "Mine").code == 0
    export = tmp_path / "x.jsonl"
    assert cli("export", "jsonl", "-o", str(export)).code == 0
    changed = export.read_text(encoding="utf-8").replace('"title": "Mine"', '"title": "Theirs"')
    export.write_text(changed, encoding="utf-8")
    run_refused(cli, ws_root, ExitCode.PERMISSION, ("import", "jsonl", str(export)), "may not overwrite",
                env={"AGENTCTL_AGENT": "dev-2"})  # fmt: skip
    assert cli("import", "jsonl", str(export)).code == 0  # a human may
    assert "Theirs" in tasks(ws_root)


def test_a_bulk_import_commits_its_blobs_as_one_pack(
    cli: Runner, ws_root: Path, tmp_path: Path
) -> None:
    export = [
        {
            "uuid": f"00000000-0000-4000-8000-{n:012d}",
            "description": f"Task {n}",
            "status": "pending",
        }
        for n in range(1100)
    ]
    path = tmp_path / "big.json"
    path.write_text(json.dumps(export), encoding="utf-8")
    packs_before = set((ws_root / ".git" / "objects" / "pack").glob("*.pack"))
    result = cli("import", "taskwarrior", str(path))
    assert result.code == 0, result
    assert len(tasks(ws_root)) == 1100
    assert git(ws_root, "status", "--porcelain") == ""  # the index matches the commit
    git(ws_root, "fsck", "--no-dangling")
    assert set((ws_root / ".git" / "objects" / "pack").glob("*.pack")) - packs_before
    loose = [p for p in (ws_root / ".git" / "objects").glob("??/*")]
    assert len(loose) < 100, len(loose)  # trees and the commit, not 1,100 blobs
    tree = git(ws_root, "ls-tree", "-r", "HEAD", "--", ".agentctl/tasks").splitlines()
    assert len(tree) == 1100
