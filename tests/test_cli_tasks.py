"""Every ``agentctl task`` command through the real CLI boundary: exit codes, messages, files."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import Result, Runner, add_task, assert_one_line_error, git, make_team

from agentctl.errors import ExitCode


def task_file(root: Path, task_id: str) -> Path:
    return root / ".agentctl" / "tasks" / f"{task_id}.md"


def frontmatter_lines(text: str) -> list[str]:
    lines = text.splitlines()
    assert lines[0] == "---"
    end = lines.index("---", 1)
    return lines[1:end]


def body_of(text: str) -> str:
    lines = text.splitlines(keepends=True)
    end = [i for i, line in enumerate(lines) if line.rstrip("\n") == "---"][1]
    return "".join(lines[end + 1 :])


def show(cli: Runner, ref: str) -> dict[str, Any]:
    result = cli("task", "show", ref, "--json")
    assert result.code == 0, str(result)
    document = result.json()
    assert document["schema_version"] == 1
    return document["task"]  # type: ignore[no-any-return]


def list_ids(cli: Runner, *args: str) -> list[str]:
    result = cli("task", "list", *args, "--json")
    assert result.code == 0, str(result)
    document = result.json()
    assert document["schema_version"] == 1
    return [t["id"] for t in document["tasks"]]


# -- add --------------------------------------------------------------------------------------


def test_add_plain_prints_the_new_task(ws_root: Path, cli: Runner) -> None:
    r = cli("task", "add", "Write the docs")
    assert r.code == 0, str(r)
    match = re.fullmatch(r"created (t-[0-9a-z]{12}): Write the docs \[inbox\]\n", r.out)
    assert match, str(r)
    task_id = match.group(1)
    assert task_file(ws_root, task_id).is_file()
    data = show(cli, task_id)
    assert data["status"] == "inbox"
    assert data["priority"] == 2
    assert data["created_by"] == "Test User"


def test_add_with_every_flag(ws_root: Path, cli: Runner) -> None:
    make_team(cli)
    parent = add_task(cli, "Parent")
    dep = add_task(cli, "Dependency")
    r = cli(
        "task", "add", "  Full task  ",
        "-d", "A *markdown* description",
        "--priority", "p1",
        "--assign", "dev-1", "--assign", "dev-2",
        "--label", "docs", "--label", "backend", "--label", "docs",
        "--parent", parent[:6],
        "--depends-on", dep,
        "--estimate", "4h",
        "--due", "2030-01-31",
        "--ac", "first criterion", "--ac", "second criterion",
        "--json",
    )  # fmt: skip
    assert r.code == 0, str(r)
    doc = r.json()
    assert doc["schema_version"] == 1
    created = doc["task"]
    assert created["title"] == "Full task"
    assert created["status"] == "assigned"
    assert created["priority"] == 1
    assert created["assignees"] == ["dev-1", "dev-2"]
    assert created["labels"] == ["docs", "backend"]
    assert created["parent"] == parent
    assert created["depends_on"] == [dep]
    assert created["estimate"] == "4h"
    assert created["due"] == "2030-01-31"

    data = show(cli, created["id"])
    assert data["description"] == "A *markdown* description"
    assert data["acceptance_criteria"] == [
        {"text": "first criterion", "done": False},
        {"text": "second criterion", "done": False},
    ]
    text = task_file(ws_root, created["id"]).read_text(encoding="utf-8")
    assert "- [ ] first criterion\n- [ ] second criterion" in text
    assert "priority: 1\n" in text
    assert "due: '2030-01-31'\n" in text or "due: 2030-01-31\n" in text


@pytest.mark.parametrize("given, expected", [("1", 1), ("p0", 0), ("P3", 3), ("2", 2)])
def test_add_priority_forms(ws_root: Path, cli: Runner, given: str, expected: int) -> None:
    r = cli("task", "add", "x", "--priority", given, "--json")
    assert r.code == 0, str(r)
    assert r.json()["task"]["priority"] == expected


def test_add_description_from_stdin(ws_root: Path, cli: Runner) -> None:
    r = cli("task", "add", "From stdin", "-d", "-", "--json", input="line one\n\nline *two*\n")
    assert r.code == 0, str(r)
    data = show(cli, r.json()["task"]["id"])
    assert data["description"] == "line one\n\nline *two*"


def test_add_unknown_assignee_parent_and_dependency(ws_root: Path, cli: Runner) -> None:
    r = cli("task", "add", "x", "--assign", "ghost")
    assert_one_line_error(r, ExitCode.NOT_FOUND, "no agent named 'ghost'")
    r = cli("task", "add", "x", "--parent", "t-zzzz")
    assert_one_line_error(r, ExitCode.NOT_FOUND, "t-zzzz")
    r = cli("task", "add", "x", "--depends-on", "t-zzzz")
    assert_one_line_error(r, ExitCode.NOT_FOUND, "t-zzzz")
    assert list((ws_root / ".agentctl" / "tasks").iterdir()) == []


def test_add_empty_title_is_usage(ws_root: Path, cli: Runner) -> None:
    assert_one_line_error(cli("task", "add", "   "), ExitCode.USAGE, "title")


# -- list -------------------------------------------------------------------------------------


def test_list_plain_columns_and_short_ids(ws_root: Path, cli: Runner) -> None:
    make_team(cli)
    a = add_task(
        cli, "Alpha", "--priority", "0", "--assign", "dev-1", "--label", "x", "--label", "y"
    )
    r = cli("task", "list")
    assert r.code == 0, str(r)
    lines = r.out.splitlines()
    assert lines[0].split() == ["ID", "PRI", "STATUS", "TITLE", "ASSIGNEES", "LABELS"]
    assert lines[1].split() == [a[:6], "p0", "assigned", "Alpha", "dev-1", "x,y"]
    assert r.err == ""


def test_list_empty_says_so_on_stderr(ws_root: Path, cli: Runner) -> None:
    r = cli("task", "list")
    assert r.code == 0, str(r)
    assert r.out == ""
    assert "no tasks match" in r.err


def test_list_hides_done_by_default_and_filters(ws_root: Path, cli: Runner) -> None:
    make_team(cli)
    parent = add_task(cli, "Parent", "--priority", "3")
    done = add_task(cli, "Finished", "--priority", "1")
    assert cli("task", "move", done, "in_progress").code == 0
    assert cli("task", "move", done, "done").code == 0
    mine = add_task(cli, "Mine", "--assign", "dev-1", "--label", "api", "--priority", "0")
    child = add_task(cli, "Child", "--parent", parent, "--label", "api")

    assert set(list_ids(cli)) == {parent, mine, child}
    assert set(list_ids(cli, "--all")) == {parent, mine, child, done}
    assert list_ids(cli, "--status", "done") == [done]
    assert set(list_ids(cli, "--status", "inbox", "--status", "assigned")) == {parent, mine, child}
    assert list_ids(cli, "--assignee", "dev-1") == [mine]
    assert set(list_ids(cli, "--label", "api")) == {mine, child}
    assert list_ids(cli, "--parent", parent[:7]) == [child]
    # default order: priority first
    assert list_ids(cli) == [mine, child, parent]
    assert list_ids(cli, "--limit", "2") == [mine, child]
    assert list_ids(cli, "-n", "1") == [mine]

    r = cli("task", "list")
    assert "Finished" not in r.out
    assert "Finished" in cli("task", "list", "--all").out


def test_list_sort_orders(ws_root: Path, cli: Runner) -> None:
    b = add_task(cli, "banana", "--priority", "0")
    a = add_task(cli, "Apple", "--priority", "3")
    c = add_task(cli, "cherry", "--priority", "1")
    assert cli("task", "move", c, "in_progress").code == 0
    assert list_ids(cli, "--sort", "title") == [a, b, c]
    assert list_ids(cli, "--sort", "priority") == [b, c, a]
    assert list_ids(cli, "--sort", "id") == sorted([a, b, c])
    # status sorts by workflow order: inbox before in_progress
    assert list_ids(cli, "--sort", "status") == [b, a, c]
    # timestamps have whole seconds: ties are broken by ID
    rows = cli("task", "list", "--sort", "updated", "--json").json()["tasks"]
    keys = [(t["updated_at"], t["id"]) for t in rows]
    assert keys == sorted(keys, key=lambda k: (_desc(k[0]), k[1]))
    assert rows[0]["id"] == c or rows[0]["updated_at"] == next(
        t["updated_at"] for t in rows if t["id"] == c
    )
    rows = cli("task", "list", "--sort", "created", "--json").json()["tasks"]
    keys = [(t["created_at"], t["id"]) for t in rows]
    assert keys == sorted(keys) and len(keys) == 3


def _desc(text: str) -> tuple[int, ...]:
    return tuple(-ord(ch) for ch in text)


def test_list_bad_filter_values(ws_root: Path, cli: Runner) -> None:
    assert_one_line_error(
        cli("task", "list", "--sort", "size"), ExitCode.USAGE, "unknown sort 'size'"
    )
    assert_one_line_error(
        cli("task", "list", "--status", "nope"), ExitCode.USAGE, "unknown status 'nope'", "inbox"
    )
    r = cli("task", "list", "--limit", "0")
    assert r.code == ExitCode.USAGE, str(r)
    assert "Traceback" not in r.err


# -- show -------------------------------------------------------------------------------------


def test_show_fields_criteria_and_notes(ws_root: Path, cli: Runner) -> None:
    make_team(cli)
    dep = add_task(cli, "Dep")
    t = add_task(
        cli, "Show me", "-d", "Some words", "--ac", "one", "--ac", "two", "--assign", "dev-1",
        "--label", "ui", "--depends-on", dep, "--estimate", "2d", "--due", "2031-02-03",
    )  # fmt: skip
    assert cli("task", "edit", t, "--check", "2").code == 0
    assert cli("task", "move", t, "in_progress", "--note", "starting now").code == 0
    r = cli("task", "show", t)
    assert r.code == 0, str(r)
    out = r.out
    assert out.splitlines()[0] == f"{t}  ({t[:6]})"
    assert "title:     Show me" in out
    assert "status:    in_progress\n" in out
    assert "priority:  p2" in out
    assert "assignees: dev-1" in out
    assert "labels:    ui" in out
    assert f"depends_on: {dep}" in out
    assert f"blocked_by: {dep}" in out
    assert "estimate:  2d" in out
    assert "due:       2031-02-03" in out
    assert f"file:      .agentctl/tasks/{t}.md" in out
    assert "Description:\nSome words" in out
    assert "Acceptance criteria:\n  1. [ ] one\n  2. [x] two" in out
    assert re.search(r"Notes:\n- \S+ Test User: assigned -> in_progress: starting now", out), out

    data = show(cli, t)
    assert data["notes"].endswith("Test User: assigned -> in_progress: starting now")
    assert data["ready"] is False
    assert data["blocked_by"] == [dep]
    assert show(cli, dep)["dependents"] == [t]


def test_show_by_prefix_forms(ws_root: Path, cli: Runner) -> None:
    t = add_task(cli, "Prefixes")
    for ref in (t, t[:6], t[2:6], t[:6].upper(), t[2:8].upper(), "T" + t[1:7]):
        r = cli("task", "show", ref, "--json")
        assert r.code == 0, f"{ref}: {r}"
        assert r.json()["task"]["id"] == t


def test_show_unknown_id_is_not_found(ws_root: Path, cli: Runner) -> None:
    add_task(cli, "something")
    assert_one_line_error(
        cli("task", "show", "t-zzzzzzzzzzzz"),
        ExitCode.NOT_FOUND,
        "no task matches 't-zzzzzzzzzzzz'",
    )
    assert_one_line_error(cli("task", "move", "zzzz", "done"), ExitCode.NOT_FOUND, "zzzz")


def test_ambiguous_prefix_lists_candidates(ws_root: Path, cli: Runner) -> None:
    created: dict[str, list[str]] = {}
    for i in range(200):  # 32 first characters: a shared one comes quickly (birthday bound)
        task_id = add_task(cli, f"task {i}")
        created.setdefault(task_id[2], []).append(task_id)
        if len(created[task_id[2]]) == 2:
            break
    pair = next(ids for ids in created.values() if len(ids) == 2)
    prefix = pair[0][:3]
    r = cli("task", "show", prefix)
    assert_one_line_error(r, ExitCode.AMBIGUOUS, f"{prefix!r} is ambiguous", pair[0], pair[1])
    r = cli("task", "move", prefix[2:], "in_progress")
    assert_one_line_error(r, ExitCode.AMBIGUOUS, pair[0], pair[1])


# -- edit -------------------------------------------------------------------------------------


def _diff_frontmatter(before: str, after: str) -> list[tuple[str, str]]:
    old, new = frontmatter_lines(before), frontmatter_lines(after)
    assert len(old) == len(new), (old, new)
    return [(a, b) for a, b in zip(old, new, strict=True) if a != b]


@pytest.mark.parametrize(
    "option, value, key, expected_line",
    [
        ("--title", "A better title", "title", "title: A better title"),
        ("--priority", "p0", "priority", "priority: 0"),
        ("--estimate", "3h", "estimate", "estimate: 3h"),
        ("--due", "2032-03-04", "due", None),
        ("--spec", "s-abcd#goals", "spec", None),
    ],
)
def test_edit_one_field_changes_one_frontmatter_line(
    ws_root: Path, cli: Runner, option: str, value: str, key: str, expected_line: str | None
) -> None:
    t = add_task(
        cli,
        "Original",
        "--estimate",
        "1h",
        "--due",
        "2030-01-01",
        "--spec",
        "s-zzzz#x",
        "-d",
        "body text",
    )
    path = task_file(ws_root, t)
    before = path.read_text(encoding="utf-8")
    r = cli("task", "edit", t, option, value)
    assert r.code == 0, str(r)
    assert r.out.startswith(f"edited {t}: "), str(r)
    after = path.read_text(encoding="utf-8")
    changed = _diff_frontmatter(before, after)
    keys = {new.split(":", 1)[0] for _, new in changed}
    # exactly the edited field's line, plus updated_at (unless the edit fell in the same second)
    assert key in keys, changed
    assert keys <= {key, "updated_at"}, changed
    if expected_line:
        assert expected_line in frontmatter_lines(after)
    assert body_of(after) == body_of(before)


def test_edit_git_diff_is_small(git_ws_root: Path, cli: Runner) -> None:
    t = add_task(cli, "Diff me", "--label", "a")
    assert git(git_ws_root, "status", "--porcelain") == ""
    assert cli("task", "edit", t, "--title", "Diffed", env={"AGENTCTL_AUTOCOMMIT": "0"}).code == 0
    diff = git(git_ws_root, "diff", "-U0", "--", f".agentctl/tasks/{t}.md")
    changed = [
        ln for ln in diff.splitlines() if ln[:1] in "+-" and not ln.startswith(("+++", "---"))
    ]
    assert "-title: Diff me" in changed and "+title: Diffed" in changed
    assert all(ln[1:].startswith(("title:", "updated_at:")) for ln in changed), diff


def test_edit_labels_description_and_criteria(ws_root: Path, cli: Runner) -> None:
    t = add_task(cli, "Edit many", "--label", "a", "--label", "b", "--ac", "c1", "-d", "old")
    r = cli(
        "task",
        "edit",
        t,
        "--label",
        "c",
        "--remove-label",
        "a",
        "--ac",
        "c2",
        "-d",
        "new words",
        "--json",
    )
    assert r.code == 0, str(r)
    assert r.json()["schema_version"] == 1
    assert r.json()["task"]["labels"] == ["b", "c"]
    data = show(cli, t)
    assert data["description"] == "new words"
    assert [c["text"] for c in data["acceptance_criteria"]] == ["c1", "c2"]

    assert cli("task", "edit", t, "--check", "1", "--check", "2").code == 0
    assert [c["done"] for c in show(cli, t)["acceptance_criteria"]] == [True, True]
    assert cli("task", "edit", t, "--uncheck", "1").code == 0
    assert [c["done"] for c in show(cli, t)["acceptance_criteria"]] == [False, True]
    text = task_file(ws_root, t).read_text(encoding="utf-8")
    assert "- [ ] c1\n- [x] c2\n" in text

    assert_one_line_error(
        cli("task", "edit", t, "--check", "3"), ExitCode.USAGE, "2 acceptance criteria", "#3"
    )


def test_edit_description_from_stdin(ws_root: Path, cli: Runner) -> None:
    t = add_task(cli, "stdin edit", "-d", "old")
    assert cli("task", "edit", t, "-d", "-", input="piped text\n").code == 0
    assert show(cli, t)["description"] == "piped text"


def test_edit_clear_and_parent(ws_root: Path, cli: Runner) -> None:
    parent = add_task(cli, "Parent")
    t = add_task(cli, "Child", "--estimate", "1h", "--due", "2030-01-01", "--label", "x")
    assert cli("task", "edit", t, "--parent", parent).code == 0
    assert show(cli, t)["parent"] == parent
    r = cli(
        "task",
        "edit",
        t,
        "--clear",
        "estimate",
        "--clear",
        "due",
        "--clear",
        "labels",
        "--clear",
        "parent",
    )
    assert r.code == 0, str(r)
    data = show(cli, t)
    assert "estimate" not in data and "due" not in data and "parent" not in data
    assert data["labels"] == []
    lines = frontmatter_lines(task_file(ws_root, t).read_text(encoding="utf-8"))
    assert not any(ln.startswith(("estimate:", "due:", "parent:")) for ln in lines)
    assert_one_line_error(
        cli("task", "edit", t, "--clear", "title"), ExitCode.USAGE, "cannot clear 'title'"
    )
    # a parent loop is refused
    assert cli("task", "edit", t, "--parent", parent).code == 0
    assert_one_line_error(cli("task", "edit", parent, "--parent", t), ExitCode.CONFLICT, "loop")
    assert_one_line_error(cli("task", "edit", t, "--parent", t), ExitCode.CONFLICT, "loop")


def test_edit_nothing_to_change(ws_root: Path, cli: Runner) -> None:
    t = add_task(cli, "static")
    assert_one_line_error(cli("task", "edit", t), ExitCode.USAGE, "nothing to change")


def test_edit_in_editor(ws_root: Path, cli: Runner, tmp_path: Path) -> None:
    script = tmp_path / "editor.py"
    script.write_text(
        "import sys, pathlib\n"
        "p = pathlib.Path(sys.argv[1])\n"
        "text = p.read_text(encoding='utf-8')\n"
        "p.write_text(text.replace('title: Before editor', 'title: After editor', 1), encoding='utf-8')\n",
        encoding="utf-8",
    )
    t = add_task(cli, "Before editor", "-d", "keep me")
    before = task_file(ws_root, t).read_text(encoding="utf-8")
    r = cli("task", "edit", t, "--editor", env={"EDITOR": f"{sys.executable} {script}"})
    assert r.code == 0, str(r)
    assert "After editor" in r.out
    after = task_file(ws_root, t).read_text(encoding="utf-8")
    keys = {new.split(":", 1)[0] for _, new in _diff_frontmatter(before, after)}
    assert "title" in keys and keys <= {"title", "updated_at"}
    assert show(cli, t)["title"] == "After editor"
    assert body_of(after) == body_of(before)


def test_edit_in_editor_without_editor_or_with_failing_editor(ws_root: Path, cli: Runner) -> None:
    t = add_task(cli, "No editor")
    before = task_file(ws_root, t).read_bytes()
    assert_one_line_error(cli("task", "edit", t, "--editor"), ExitCode.USAGE, "$EDITOR")
    r = cli(
        "task",
        "edit",
        t,
        "--editor",
        env={"EDITOR": f"{sys.executable} -c 'import sys; sys.exit(3)'"},
    )
    assert_one_line_error(r, ExitCode.USAGE, "status 3")
    # an editor that changes nothing
    r = cli("task", "edit", t, "--editor", env={"EDITOR": f"{sys.executable} -c pass"})
    assert_one_line_error(r, ExitCode.USAGE, "no changes")
    assert task_file(ws_root, t).read_bytes() == before


# -- move -------------------------------------------------------------------------------------


def test_move_along_the_legal_path(ws_root: Path, cli: Runner) -> None:
    t = add_task(cli, "Journey")
    for status in ("assigned", "in_progress", "review", "done"):
        r = cli("task", "move", t, status)
        assert r.code == 0, str(r)
        assert r.out == f"moved {t}: Journey [{status}]\n"
        assert show(cli, t)["status"] == status
        assert f"status: {status}\n" in task_file(ws_root, t).read_text(encoding="utf-8")


def test_illegal_move_is_conflict_and_lists_allowed(ws_root: Path, cli: Runner) -> None:
    t = add_task(cli, "Stay")
    before = task_file(ws_root, t).read_bytes()
    r = cli("task", "move", t, "done")
    assert_one_line_error(
        r,
        ExitCode.CONFLICT,
        "cannot move from inbox to done; allowed from inbox: assigned, in_progress, blocked",
    )
    assert task_file(ws_root, t).read_bytes() == before
    assert_one_line_error(cli("task", "move", t, "inbox"), ExitCode.CONFLICT, "already inbox")
    assert_one_line_error(  # a mistyped argument is a usage error, like 'task list --status'
        cli("task", "move", t, "limbo"),
        ExitCode.USAGE,
        "unknown status 'limbo'; statuses are: inbox",
    )


def test_move_note_appends_to_notes(ws_root: Path, cli: Runner) -> None:
    t = add_task(cli, "Noted")
    assert cli("task", "move", t, "in_progress", "--note", "first").code == 0
    assert cli("task", "move", t, "review", "-m", "second").code == 0
    notes = show(cli, t)["notes"].splitlines()
    assert len(notes) == 2
    assert notes[0].endswith("Test User: inbox -> in_progress: first")
    assert notes[1].endswith("Test User: in_progress -> review: second")


def test_move_json(ws_root: Path, cli: Runner) -> None:
    t = add_task(cli, "json move")
    r = cli("--json", "task", "move", t, "blocked")
    assert r.code == 0, str(r)
    assert r.json() == {"schema_version": 1, "task": r.json()["task"]}
    assert r.json()["task"]["status"] == "blocked"


# -- assign / unassign -------------------------------------------------------------------------


def test_assign_and_unassign_drive_status(ws_root: Path, cli: Runner) -> None:
    make_team(cli)
    t = add_task(cli, "Shared")
    r = cli("task", "assign", t, "dev-1", "dev-2")
    assert r.code == 0, str(r)
    assert r.out == f"assigned {t}: Shared [assigned]\n"
    data = show(cli, t)
    assert data["assignees"] == ["dev-1", "dev-2"] and data["status"] == "assigned"
    assert_one_line_error(cli("task", "assign", t, "dev-1"), ExitCode.CONFLICT, "already assigned")
    assert_one_line_error(
        cli("task", "assign", t, "ghost"), ExitCode.NOT_FOUND, "no agent named 'ghost'"
    )

    r = cli("task", "unassign", t, "dev-1", "--json")
    assert r.code == 0, str(r)
    assert r.json()["task"]["assignees"] == ["dev-2"]
    assert show(cli, t)["status"] == "assigned"
    r = cli("task", "unassign", t, "dev-2")
    assert r.code == 0, str(r)
    assert r.out == f"unassigned {t}: Shared [inbox]\n"
    data = show(cli, t)
    assert data["assignees"] == [] and data["status"] == "inbox"
    assert_one_line_error(cli("task", "unassign", t, "dev-2"), ExitCode.CONFLICT, "not assigned")


def test_assign_keeps_in_progress_status(ws_root: Path, cli: Runner) -> None:
    make_team(cli)
    t = add_task(cli, "Busy")
    assert cli("task", "move", t, "in_progress").code == 0
    assert cli("task", "assign", t, "dev-1").code == 0
    assert show(cli, t)["status"] == "in_progress"
    assert cli("task", "unassign", t, "dev-1").code == 0
    assert show(cli, t)["status"] == "in_progress"


# -- claim / release ---------------------------------------------------------------------------


def test_claim_by_id(ws_root: Path, cli: Runner) -> None:
    make_team(cli)
    t = add_task(cli, "Claim me")
    r = cli("--as", "dev-1", "task", "claim", t, "--json")
    assert r.code == 0, str(r)
    task = r.json()["task"]
    assert task["status"] == "in_progress"
    assert task["assignees"] == ["dev-1"]
    assert task["claim"]["claimed_by"] == "dev-1"
    assert task["claim"]["epoch"] == 1
    assert show(cli, t)["claim"]["claimed_by"] == "dev-1"

    # another agent cannot claim it
    r = cli("--as", "dev-2", "task", "claim", t)
    assert r.code in (ExitCode.CONFLICT, ExitCode.PERMISSION), str(r)
    assert "dev-1" in r.err
    assert show(cli, t)["claim"]["claimed_by"] == "dev-1"


def test_second_agent_cannot_claim_a_claimed_unassigned_holder(ws_root: Path, cli: Runner) -> None:
    """A human claims (no assignment); an agent still cannot take the live claim."""
    make_team(cli)
    t = add_task(cli, "Human claim")
    assert cli("task", "claim", t).code == 0
    r = cli("--as", "lead-1", "task", "claim", t)
    assert_one_line_error(r, ExitCode.CONFLICT, f"{t} is claimed by Test User until")


def test_claim_without_id_picks_most_urgent_ready(ws_root: Path, cli: Runner) -> None:
    make_team(cli)
    blocker = add_task(cli, "blocker", "--priority", "3")
    add_task(cli, "urgent but waiting", "--priority", "0", "--depends-on", blocker)
    other = add_task(cli, "for dev-2 only", "--priority", "0", "--assign", "dev-2")
    best = add_task(cli, "most urgent ready", "--priority", "1")
    add_task(cli, "less urgent", "--priority", "2")
    r = cli("--as", "dev-1", "task", "claim")
    assert r.code == 0, str(r)
    assert r.out == f"claimed {best}: most urgent ready [in_progress]\n"
    # dev-2 gets its own assigned task first
    r = cli("--as", "dev-2", "task", "claim", "--json")
    assert r.code == 0, str(r)
    assert r.json()["task"]["id"] == other


def test_claim_nothing_ready(ws_root: Path, cli: Runner) -> None:
    make_team(cli)
    r = cli("--as", "dev-1", "task", "claim")
    assert_one_line_error(r, ExitCode.NOT_FOUND, "no ready task for dev-1")


def test_claim_with_undone_dependency_is_refused(ws_root: Path, cli: Runner) -> None:
    make_team(cli)
    dep = add_task(cli, "first")
    t = add_task(cli, "second", "--depends-on", dep)
    before = task_file(ws_root, t).read_bytes()
    r = cli("--as", "dev-1", "task", "claim", t)
    assert_one_line_error(r, ExitCode.CONFLICT, f"{t} is not ready", f"waits for {dep} (inbox)")
    assert task_file(ws_root, t).read_bytes() == before
    # once the dependency is done, the claim goes through
    assert cli("task", "move", dep, "in_progress").code == 0
    assert cli("task", "move", dep, "done").code == 0
    assert cli("--as", "dev-1", "task", "claim", t).code == 0


def test_claim_epoch_increments(ws_root: Path, cli: Runner) -> None:
    make_team(cli)
    t = add_task(cli, "Epochs")
    assert cli("--as", "dev-1", "task", "claim", t).code == 0
    # renewing one's own claim is a new claim: epoch 2
    r = cli("--as", "dev-1", "task", "claim", t, "--json")
    assert r.code == 0, str(r)
    assert r.json()["task"]["claim"]["epoch"] == 2
    # an expired lease can be taken over by another agent, with a higher epoch
    path = task_file(ws_root, t)
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"lease_expires: .*", "lease_expires: '2000-01-01T00:00:00Z'", text)
    path.write_text(text, encoding="utf-8")
    r = cli("--as", "lead-1", "task", "claim", t, "--json")
    assert r.code == 0, str(r)
    claim = r.json()["task"]["claim"]
    assert claim["claimed_by"] == "lead-1"
    assert claim["epoch"] == 3


def test_release(ws_root: Path, cli: Runner) -> None:
    make_team(cli)
    t = add_task(cli, "Give back")
    assert cli("--as", "dev-1", "task", "claim", t).code == 0
    r = cli("--as", "dev-1", "task", "release", t)
    assert r.code == 0, str(r)
    assert r.out == f"released {t}: Give back [inbox]\n"
    data = show(cli, t)
    assert "claim" not in data or data["claim"] is None
    assert data["assignees"] == []
    assert_one_line_error(
        cli("--as", "dev-2", "task", "release", t), ExitCode.CONFLICT, "not claimed"
    )
    # back in the pool: ready, and the next claim without an ID takes it
    assert [x["id"] for x in cli("task", "ready", "--json").json()["ready"]] == [t]
    r = cli("--as", "dev-2", "task", "claim", "--json")
    assert r.code == 0, str(r)
    assert r.json()["task"]["id"] == t


def test_release_keeps_other_assignees(ws_root: Path, cli: Runner) -> None:
    make_team(cli)
    t = add_task(cli, "Pair", "--assign", "dev-1", "--assign", "dev-2")
    assert cli("--as", "dev-1", "task", "claim", t).code == 0
    r = cli("--as", "dev-1", "task", "release", t, "--json")
    assert r.code == 0, str(r)
    assert r.json()["task"]["assignees"] == ["dev-2"]
    assert r.json()["task"]["status"] == "assigned"


# -- ready ------------------------------------------------------------------------------------


def test_ready_plain_explain_and_json(ws_root: Path, cli: Runner) -> None:
    a = add_task(cli, "Ready one", "--priority", "1")
    b = add_task(cli, "Waiting one", "--depends-on", a)
    c = add_task(cli, "Working one")
    assert cli("task", "move", c, "in_progress").code == 0

    r = cli("task", "ready")
    assert r.code == 0, str(r)
    lines = r.out.splitlines()
    assert lines[0].split() == ["ID", "PRI", "STATUS", "TITLE", "ASSIGNEES"]
    assert len(lines) == 2 and lines[1].startswith(a[:6]) and "Ready one" in lines[1]
    assert "Not ready" not in r.out

    r = cli("task", "ready", "--explain")
    assert r.code == 0, str(r)
    assert "Not ready:" in r.out
    assert f"{b[:6]}  Waiting one: waits for {a} (inbox)" in r.out
    assert f"{c[:6]}  Working one: status is in_progress (ready needs inbox or assigned)" in r.out

    r = cli("task", "ready", "--json", "--explain")
    doc = r.json()
    assert doc["schema_version"] == 1
    assert [t["id"] for t in doc["ready"]] == [a]
    reasons = {t["id"]: t["reasons"] for t in doc["not_ready"]}
    assert reasons[b] == [f"waits for {a} (inbox)"]
    assert set(reasons) == {b, c}

    r = cli("task", "ready", "--json")
    assert set(r.json()) == {"schema_version", "ready"}

    # finishing the dependency makes the dependent ready
    assert cli("task", "move", a, "in_progress").code == 0
    assert cli("task", "move", a, "done").code == 0
    assert [t["id"] for t in cli("task", "ready", "--json").json()["ready"]] == [b]


def test_ready_empty_and_mine(ws_root: Path, cli: Runner) -> None:
    r = cli("task", "ready")
    assert r.code == 0 and r.out == "" and "no task is ready" in r.err, str(r)
    make_team(cli)
    add_task(cli, "for dev-2", "--assign", "dev-2")
    free = add_task(cli, "free")
    r = cli("--as", "dev-1", "task", "ready", "--mine", "--json")
    assert [t["id"] for t in r.json()["ready"]] == [free]


# -- dependencies -----------------------------------------------------------------------------


def test_dep_add_rm_and_cycle(ws_root: Path, cli: Runner) -> None:
    a = add_task(cli, "A")
    b = add_task(cli, "B")
    c = add_task(cli, "C")
    r = cli("task", "dep", "add", b, a)
    assert r.code == 0, str(r)
    assert r.out == f"updated {b}: B [inbox]\n"
    assert cli("task", "dep", "add", c, b, "--json").json()["task"]["depends_on"] == [b]
    assert_one_line_error(
        cli("task", "dep", "add", b, a), ExitCode.CONFLICT, f"{b} already depends on {a}"
    )

    before = {p.name: p.read_bytes() for p in (ws_root / ".agentctl" / "tasks").iterdir()}
    r = cli("task", "dep", "add", a, c)
    assert_one_line_error(r, ExitCode.CONFLICT, "dependency cycle", f"{a} -> {c} -> {b} -> {a}")
    assert_one_line_error(cli("task", "dep", "add", a, a), ExitCode.CONFLICT, "cycle")
    assert {p.name: p.read_bytes() for p in (ws_root / ".agentctl" / "tasks").iterdir()} == before

    r = cli("task", "dep", "rm", c, b[:7])
    assert r.code == 0, str(r)
    assert show(cli, c)["depends_on"] == []
    assert_one_line_error(
        cli("task", "dep", "rm", c, b), ExitCode.NOT_FOUND, f"does not depend on {b}"
    )
    # now a -> c is fine
    assert cli("task", "dep", "add", a, c).code == 0


# -- rm ---------------------------------------------------------------------------------------


def test_rm_refused_with_dependents_unless_force(ws_root: Path, cli: Runner) -> None:
    base = add_task(cli, "Base")
    dependent = add_task(cli, "Dependent", "--depends-on", base)
    child = add_task(cli, "Child", "--parent", base)
    r = cli("task", "rm", base)
    assert_one_line_error(
        r, ExitCode.CONFLICT, f"{dependent} depend on it", f"{child} are its subtasks", "--force"
    )
    assert task_file(ws_root, base).exists()

    r = cli("task", "rm", base, "--force")
    assert r.code == 0, str(r)
    assert r.out == f"removed {base}: Base [inbox]\n"
    assert not task_file(ws_root, base).exists()
    assert show(cli, dependent)["depends_on"] == []
    assert "parent" not in show(cli, child)
    assert_one_line_error(cli("task", "show", base), ExitCode.NOT_FOUND)
    assert cli("validate").code == 0


def test_rm_simple_and_json(ws_root: Path, cli: Runner) -> None:
    t = add_task(cli, "Gone")
    r = cli("task", "rm", t, "--json")
    assert r.code == 0, str(r)
    assert r.json()["schema_version"] == 1
    assert r.json()["task"]["id"] == t
    assert list_ids(cli, "--all") == []


# -- JSON shape of every task command -------------------------------------------------------


def test_every_task_command_emits_one_json_document(ws_root: Path, cli: Runner) -> None:
    make_team(cli)
    a = add_task(cli, "json a")
    b = add_task(cli, "json b")
    commands: list[tuple[tuple[str, ...], str]] = [
        (("task", "list"), "tasks"),
        (("task", "show", a), "task"),
        (("task", "edit", a, "--title", "json a2"), "task"),
        (("task", "assign", a, "dev-1"), "task"),
        (("task", "unassign", a, "dev-1"), "task"),
        (("task", "dep", "add", b, a), "task"),
        (("task", "dep", "rm", b, a), "task"),
        (
            (
                "task",
                "ready",
            ),
            "ready",
        ),
        (("task", "claim", a), "task"),
        (("task", "release", a), "task"),
        (("task", "move", b, "blocked"), "task"),
        (("task", "rm", b), "task"),
    ]
    for args, key in commands:
        actor = ("--as", "lead-1") if args[1] in ("claim", "release") else ()
        r: Result = cli(*actor, *args, "--json")
        assert r.code == 0, str(r)
        doc = r.json()
        assert doc["schema_version"] == 1, str(r)
        assert key in doc, str(r)
    # the global --json flag works like the local one for reads
    for args, key in (
        (("task", "list"), "tasks"),
        (("task", "show", a), "task"),
        (("task", "ready"), "ready"),
    ):
        r = cli("--json", *args)
        assert r.code == 0, str(r)
        assert r.json()["schema_version"] == 1 and key in r.json()


def test_add_quiet_prints_only_the_new_id(ws_root: Path, cli: Runner) -> None:
    r = cli("task", "add", "Scripted", "-q")
    assert r.code == 0, str(r)
    task_id = r.out.strip()
    assert r.out == task_id + "\n" and re.fullmatch(r"t-[0-9a-z]{12}", task_id)
    assert cli("task", "show", task_id, "--json").json()["task"]["title"] == "Scripted"
    assert (
        cli("task", "add", "Both", "-q", "--json").json()["task"]["title"] == "Both"
    )  # --json wins
