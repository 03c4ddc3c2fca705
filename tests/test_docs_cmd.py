"""``agentctl doc ...``: adding, listing, showing, editing (file, stdin, $EDITOR), history and
diffs from git, removal, and who may change whose document."""

from __future__ import annotations

import re
import stat
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import Runner, add_task, assert_one_line_error, git, make_team, run_cli, run_refused

from agentctl.errors import ExitCode


@pytest.fixture
def ws_root(git_ws_root: Path) -> Path:
    """Every test here is about git (commits, history, recovery): a real repository."""
    return git_ws_root


DOC_RE = re.compile(r"d-[0-9a-z]{12}")


def add_doc(
    cli: Runner, title: str, body: str, *options: str, as_: str | None = None
) -> dict[str, Any]:
    prefix = ("--as", as_) if as_ else ()
    r = cli(*prefix, "doc", "add", title, *options, "--json", input=body)
    assert r.code == 0, str(r)
    doc: dict[str, Any] = r.json()["doc"]
    return doc


def show(cli: Runner, ref: str) -> dict[str, Any]:
    r = cli("doc", "show", ref, "--json")
    assert r.code == 0, str(r)
    doc: dict[str, Any] = r.json()["doc"]
    return doc


def listing(cli: Runner, *options: str) -> list[dict[str, Any]]:
    r = cli("doc", "list", *options, "--json")
    assert r.code == 0, str(r)
    docs: list[dict[str, Any]] = r.json()["docs"]
    return docs


def history(cli: Runner, ref: str) -> list[dict[str, Any]]:
    r = cli("doc", "history", ref, "--json")
    assert r.code == 0, str(r)
    entries: list[dict[str, Any]] = r.json()["history"]["history"]
    return entries


@pytest.fixture
def team_root(ws_root: Path, cli: Runner) -> Path:
    make_team(cli)
    return ws_root


# -- add / list / show -------------------------------------------------------------------------


def test_add_from_stdin(team_root: Path, cli: Runner) -> None:
    r = cli(
        "doc", "add", "Parser decision", "--type", "decision", input="# Decision\n\nWe use PEG.\n"
    )
    assert r.code == 0, str(r)
    match = re.fullmatch(r"(d-[0-9a-z]{12}) added \(decision\): Parser decision\n", r.out)
    assert match, str(r)
    doc_id = match.group(1)
    path = team_root / ".agentctl" / "docs" / f"{doc_id}.md"
    text = path.read_text(encoding="utf-8")
    assert text.startswith(
        f"---\nid: {doc_id}\ntitle: Parser decision\ntype: decision\nauthor: Test User\n"
    )
    assert text.endswith("---\n# Decision\n\nWe use PEG.\n")
    doc = show(cli, doc_id)
    assert doc["body"] == "# Decision\n\nWe use PEG.\n"
    assert doc["type"] == "decision" and doc["task"] is None and doc["author"] == "Test User"


def test_add_from_file_linked_to_a_task(team_root: Path, cli: Runner, tmp_path: Path) -> None:
    task = add_task(cli, "Parser")
    source = tmp_path / "notes.md"
    source.write_text("Research notes\nno trailing newline", encoding="utf-8")
    doc = add_doc(
        cli,
        "Survey of parsers",
        "",
        "--type",
        "research",
        "--task",
        task[:6],
        "--file",
        str(source),
        as_="dev-1",
    )
    assert doc["task"] == task
    assert doc["author"] == "dev-1"
    assert doc["path"] == f".agentctl/docs/{doc['id']}.md"
    assert show(cli, doc["id"])["body"] == "Research notes\nno trailing newline\n"
    r = cli("doc", "add", "Another", "--type", "deliverable", "--task", task, "--file", str(source))
    assert r.code == 0 and f"(deliverable, task {task})" in r.out, str(r)


@pytest.mark.parametrize("type_", ["deliverable", "research", "protocol", "decision"])
def test_every_document_type(team_root: Path, cli: Runner, type_: str) -> None:
    doc = add_doc(cli, f"A {type_}", "text\n", "--type", type_)
    assert doc["type"] == type_


def test_add_refusals(team_root: Path, cli: Runner, tmp_path: Path) -> None:
    root = team_root
    run_refused(
        cli, root, ExitCode.USAGE, ("doc", "add", "X", "--type", "memo"), "memo", "decision"
    )
    missing = tmp_path / "nope.md"
    run_refused(
        cli,
        root,
        ExitCode.USAGE,
        ("doc", "add", "X", "--type", "research", "--file", str(missing)),
        "no such file",
    )
    run_refused(
        cli,
        root,
        ExitCode.USAGE,
        ("doc", "add", "X", "--type", "research", "--file", str(tmp_path)),
        "directory",
    )
    run_refused(
        cli, root, ExitCode.NOT_FOUND, ("doc", "add", "X", "--type", "research", "--task", "t-zzzz")
    )
    run_refused(
        cli, root, ExitCode.USAGE, ("doc", "add", "two\nlines", "--type", "research"), "title"
    )
    run_refused(cli, root, ExitCode.USAGE, ("doc", "add", "X"), "--type")
    assert listing(cli) == []


def test_list_filters(team_root: Path, cli: Runner) -> None:
    task = add_task(cli, "Parser")
    other = add_task(cli, "Other")
    a = add_doc(cli, "A", "a\n", "--type", "decision", "--task", task)
    b = add_doc(cli, "B", "b\n", "--type", "research", "--task", task)
    c = add_doc(cli, "C", "c\n", "--type", "decision")
    d = add_doc(cli, "D", "d\n", "--type", "decision", "--task", other)
    everything = listing(cli)
    # Oldest first (created_at has whole seconds; ties are in ID order).
    assert [(x["created_at"], x["id"]) for x in everything] == sorted(
        (x["created_at"], x["id"]) for x in everything
    )
    assert {x["id"] for x in everything} == {a["id"], b["id"], c["id"], d["id"]}
    assert {x["id"] for x in listing(cli, "--type", "decision")} == {a["id"], c["id"], d["id"]}
    assert {x["id"] for x in listing(cli, "--task", task)} == {a["id"], b["id"]}
    assert [x["id"] for x in listing(cli, "--task", task, "--type", "decision")] == [a["id"]]
    assert listing(cli, "--type", "protocol") == []
    assert_one_line_error(cli("doc", "list", "--type", "memo"), ExitCode.USAGE, "memo")
    assert_one_line_error(cli("doc", "list", "--task", "t-zzzz"), ExitCode.NOT_FOUND)
    r = cli("doc", "list", "--type", "research")
    assert r.code == 0, str(r)
    lines = r.out.splitlines()
    assert lines[0].split() == ["ID", "TYPE", "TASK", "AUTHOR", "UPDATED", "TITLE"]
    assert lines[1].startswith(b["id"]) and lines[1].endswith("  B") and task in lines[1]
    assert cli("doc", "list", "--type", "protocol").out == "no documents\n"


def test_show_plain_and_prefix(team_root: Path, cli: Runner) -> None:
    doc = add_doc(cli, "Protocol", "Step one.\nStep two.\n", "--type", "protocol")
    r = cli("doc", "show", doc["id"][:6])
    assert r.code == 0, str(r)
    lines = r.out.splitlines()
    assert lines[0] == f"{doc['id']}  Protocol"
    assert lines[1].startswith("type: protocol · task: - · by Test User · updated ")
    assert lines[2:] == ["", "Step one.", "Step two."]
    assert_one_line_error(cli("doc", "show", "d-zzzz"), ExitCode.NOT_FOUND)
    assert_one_line_error(cli("doc", "show", "not an id"), ExitCode.USAGE)


# -- edit --------------------------------------------------------------------------------------


def test_edit_from_file_and_stdin(team_root: Path, cli: Runner, tmp_path: Path) -> None:
    doc = add_doc(cli, "Plan", "v1\n", "--type", "deliverable")
    source = tmp_path / "v2.md"
    source.write_text("v2\n", encoding="utf-8")
    r = cli("doc", "edit", doc["id"], "--file", str(source))
    assert r.code == 0, str(r)
    assert r.out == f"{doc['id']} updated: Plan\n"
    assert show(cli, doc["id"])["body"] == "v2\n"
    r = cli("doc", "edit", doc["id"], input="v3 from stdin\n")
    assert r.code == 0, str(r)
    assert show(cli, doc["id"])["body"] == "v3 from stdin\n"
    assert [h["subject"].split(" ")[1] for h in history(cli, doc["id"])] == [
        "edited",
        "edited",
        "added",
    ]


def test_edit_title_only(team_root: Path, cli: Runner) -> None:
    doc = add_doc(cli, "Plan", "body stays\n", "--type", "deliverable")
    r = cli("doc", "edit", doc["id"], "--title", "Better plan", "--json")
    assert r.code == 0, str(r)
    assert r.json()["doc"]["title"] == "Better plan"
    after = show(cli, doc["id"])
    assert after["title"] == "Better plan"
    assert after["body"] == "body stays\n"
    assert [d["title"] for d in listing(cli)] == ["Better plan"]


def test_edit_with_no_change_is_refused(team_root: Path, cli: Runner) -> None:
    doc = add_doc(cli, "Plan", "same\n", "--type", "deliverable")
    r = cli("doc", "edit", doc["id"], input="same\n")
    assert_one_line_error(r, ExitCode.USAGE, "no change")
    r = cli("doc", "edit", doc["id"], "--title", "Plan")
    assert_one_line_error(r, ExitCode.USAGE, "no change")


def _editor(tmp_path: Path, script: str) -> str:
    path = tmp_path / "fake-editor.py"
    path.write_text(
        f"#!{sys.executable}\nimport sys\npath = sys.argv[-1]\n{script}\n", encoding="utf-8"
    )
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_edit_with_editor(team_root: Path, cli: Runner, tmp_path: Path) -> None:
    doc = add_doc(cli, "Plan", "original line\n", "--type", "deliverable")
    editor = _editor(
        tmp_path,
        "text = open(path, encoding='utf-8').read()\n"
        "open(path, 'w', encoding='utf-8').write(text.upper() + 'added by the editor\\n')",
    )
    r = cli("doc", "edit", doc["id"], "--editor", env={"EDITOR": editor, "VISUAL": None})
    assert r.code == 0, str(r)
    assert show(cli, doc["id"])["body"] == "ORIGINAL LINE\nadded by the editor\n"
    # $VISUAL wins over $EDITOR, and may carry arguments.
    visual = _editor(
        tmp_path, "open(path, 'a', encoding='utf-8').write('visual ' + sys.argv[1] + '\\n')"
    )
    r = cli(
        "doc", "edit", doc["id"], "--editor", env={"EDITOR": editor, "VISUAL": f"{visual} --flag"}
    )
    assert r.code == 0, str(r)
    assert show(cli, doc["id"])["body"].endswith("visual --flag\n")


def test_edit_with_failing_or_missing_editor_changes_nothing(
    team_root: Path, cli: Runner, tmp_path: Path
) -> None:
    doc = add_doc(cli, "Plan", "original\n", "--type", "deliverable")
    failing = _editor(tmp_path, "open(path, 'w').write('half-written'); sys.exit(3)")
    run_refused(
        cli,
        team_root,
        ExitCode.USAGE,
        ("doc", "edit", doc["id"], "--editor"),
        "status 3",
        env={"EDITOR": failing},
    )
    run_refused(
        cli,
        team_root,
        ExitCode.USAGE,
        ("doc", "edit", doc["id"], "--editor"),
        "EDITOR",
        env={"EDITOR": None, "VISUAL": None},
    )
    run_refused(
        cli,
        team_root,
        ExitCode.USAGE,
        ("doc", "edit", doc["id"], "--editor", "--file", "x.md"),
        "--file",
    )
    assert show(cli, doc["id"])["body"] == "original\n"


def test_edit_unknown_document(team_root: Path, cli: Runner) -> None:
    assert_one_line_error(cli("doc", "edit", "d-zzzz", input="x\n"), ExitCode.NOT_FOUND)


# -- permissions ---------------------------------------------------------------------------------


def test_an_agent_may_not_edit_or_remove_another_agents_document(
    team_root: Path, cli: Runner
) -> None:
    doc = add_doc(cli, "Dev notes", "mine\n", "--type", "research", as_="dev-1")
    run_refused(
        cli,
        team_root,
        ExitCode.PERMISSION,
        ("--as", "dev-2", "doc", "edit", doc["id"], "--title", "Hijacked"),
        "dev-2",
        "dev-1",
    )
    run_refused(
        cli,
        team_root,
        ExitCode.PERMISSION,
        ("--as", "intern-1", "doc", "rm", doc["id"]),
        "intern-1",
    )
    run_refused(
        cli, team_root, ExitCode.PERMISSION, ("--as", "dev-2", "doc", "rm", doc["id"]), "dev-2"
    )
    # Its author, a lead and a human may.
    assert cli("--as", "dev-1", "doc", "edit", doc["id"], "--title", "Dev notes v2").code == 0
    assert cli("--as", "lead-1", "doc", "edit", doc["id"], input="lead's edit\n").code == 0
    assert cli("doc", "edit", doc["id"], "--title", "Human title").code == 0
    after = show(cli, doc["id"])
    assert (after["title"], after["body"], after["author"]) == (
        "Human title",
        "lead's edit\n",
        "dev-1",
    )
    assert cli("--as", "lead-1", "doc", "rm", doc["id"]).code == 0


def test_an_agent_may_edit_its_own_and_human_documents_only_if_lead(
    team_root: Path, cli: Runner
) -> None:
    doc = add_doc(cli, "Human doc", "text\n", "--type", "protocol")
    run_refused(
        cli,
        team_root,
        ExitCode.PERMISSION,
        ("--as", "dev-1", "doc", "edit", doc["id"], "--title", "x"),
    )
    assert cli("--as", "lead-1", "doc", "edit", doc["id"], "--title", "x").code == 0


# -- history and diff ----------------------------------------------------------------------------


def test_history_lists_commits_newest_first(team_root: Path, cli: Runner) -> None:
    doc = add_doc(cli, "Plan", "v1\n", "--type", "decision", as_="dev-1")
    assert cli("--as", "dev-1", "doc", "edit", doc["id"], input="v2\n").code == 0
    entries = history(cli, doc["id"])
    assert len(entries) == 2
    assert set(entries[0]) >= {"commit", "date", "author", "subject"}
    assert entries[0]["subject"].startswith(f"agentctl: edited decision {doc['id']}")
    assert entries[1]["subject"].startswith(f"agentctl: added decision {doc['id']}")
    assert {e["author"] for e in entries} == {"dev-1"}
    assert git(team_root, "rev-parse", "HEAD").strip() == entries[0]["commit"]
    r = cli("doc", "history", doc["id"])
    assert r.code == 0, str(r)
    lines = r.out.splitlines()
    assert lines[0].split() == ["COMMIT", "DATE", "AUTHOR", "SUBJECT"]
    assert lines[1].startswith(entries[0]["commit"][:12])


def test_history_of_an_uncommitted_document(team_root: Path, cli: Runner) -> None:
    doc = add_doc(cli, "Draft", "x\n", "--type", "research", "--task", add_task(cli, "T"))
    # A document added with auto-commit off has no history yet.
    r = run_cli(
        "doc",
        "add",
        "Loose",
        "--type",
        "research",
        "--json",
        input="y\n",
        env={"AGENTCTL_AUTOCOMMIT": "0"},
    )
    assert r.code == 0, str(r)
    loose = r.json()["doc"]
    assert history(cli, loose["id"]) == []
    r = cli("doc", "history", loose["id"])
    assert r.out == f"{loose['id']}: no commits yet ({loose['path']} is not committed)\n"
    assert len(history(cli, doc["id"])) == 1


def test_diff_defaults_to_the_previous_version(team_root: Path, cli: Runner) -> None:
    doc = add_doc(cli, "Plan", "# Plan\nuse PEG\n", "--type", "decision")
    assert cli("doc", "edit", doc["id"], input="# Plan\nuse LALR\n").code == 0
    r = cli("doc", "diff", doc["id"])
    assert r.code == 0, str(r)
    first, added_at = history(cli, doc["id"])[1]["commit"], None
    assert r.out.startswith(
        f"--- .agentctl/docs/{doc['id']}.md@{first[:12]}\n+++ .agentctl/docs/{doc['id']}.md@working\n"
    )
    assert "\n-use PEG\n" in r.out and "\n+use LALR\n" in r.out
    assert " # Plan\n" in r.out
    assert added_at is None
    data = cli("doc", "diff", doc["id"], "--json").json()["diff"]
    assert data["from"] == first and data["id"] == doc["id"] and data["diff"] == r.out


def test_diff_against_an_explicit_revision(team_root: Path, cli: Runner) -> None:
    doc = add_doc(cli, "Plan", "one\n", "--type", "decision")
    assert cli("doc", "edit", doc["id"], input="two\n").code == 0
    assert cli("doc", "edit", doc["id"], input="three\n").code == 0
    oldest = history(cli, doc["id"])[-1]["commit"]
    r = cli("doc", "diff", doc["id"], oldest[:10])
    assert r.code == 0, str(r)
    assert "\n-one\n" in r.out and "\n+three\n" in r.out and "two" not in r.out
    r = cli("doc", "diff", doc["id"], "HEAD")
    assert r.code == 0 and r.out == f"{doc['id']}: no differences\n", str(r)
    # A revision from before the document existed: everything is new.
    r = cli("doc", "diff", doc["id"], "HEAD~5")
    assert r.code == 0, str(r)
    assert "@@ -0,0 " in r.out and "+three" in r.out


def test_diff_of_an_uncommitted_edit_is_against_the_last_commit(
    team_root: Path, cli: Runner
) -> None:
    doc = add_doc(cli, "Plan", "committed\n", "--type", "decision")
    r = run_cli(
        "doc", "edit", doc["id"], input="not yet committed\n", env={"AGENTCTL_AUTOCOMMIT": "0"}
    )
    assert r.code == 0, str(r)
    r = cli("doc", "diff", doc["id"])
    assert "\n-committed\n" in r.out and "\n+not yet committed\n" in r.out, str(r)


@pytest.mark.parametrize("rev", ["no-such-rev", "deadbeefdeadbeef", "HEAD~999"])
def test_diff_bad_revision_is_not_found(team_root: Path, cli: Runner, rev: str) -> None:
    doc = add_doc(cli, "Plan", "x\n", "--type", "decision")
    assert_one_line_error(cli("doc", "diff", doc["id"], rev), ExitCode.NOT_FOUND, rev)


def test_history_and_diff_outside_git_say_so(tmp_path: Path, cli: Runner) -> None:
    root = tmp_path / "plain"
    root.mkdir()
    assert cli("init", cwd=root).code == 0
    r = cli("-W", str(root), "doc", "add", "Plan", "--type", "decision", "--json", input="x\n")
    assert r.code == 0, str(r)
    doc_id = r.json()["doc"]["id"]
    for args in (
        ("doc", "history", doc_id),
        ("doc", "diff", doc_id),
        ("doc", "diff", doc_id, "HEAD"),
    ):
        r = cli("-W", str(root), *args)
        assert_one_line_error(r, ExitCode.GIT, "not in a git repository")
        assert r.out == ""
    # Everything else works without git.
    assert cli("-W", str(root), "doc", "edit", doc_id, input="y\n").code == 0
    assert cli("-W", str(root), "doc", "rm", doc_id).code == 0


# -- rm -----------------------------------------------------------------------------------------


def test_rm_removes_the_document_and_keeps_its_history(team_root: Path, cli: Runner) -> None:
    task = add_task(cli, "Parser")
    doc = add_doc(cli, "Plan", "x\n", "--type", "decision", "--task", task)
    path = team_root / doc["path"]
    r = cli("doc", "rm", doc["id"][:7])
    assert r.code == 0, str(r)
    assert r.out == f"{doc['id']} removed: Plan\n"
    assert not path.exists()
    assert listing(cli) == []
    assert cli("task", "show", task, "--json").json()["task"]["docs"] == []
    assert_one_line_error(cli("doc", "show", doc["id"]), ExitCode.NOT_FOUND)
    assert_one_line_error(cli("doc", "rm", doc["id"]), ExitCode.NOT_FOUND)
    # The file is still in git history.
    log = git(team_root, "log", "--format=%s", "--", doc["path"]).splitlines()
    assert log[0].startswith("agentctl: removed decision") and len(log) == 2
    assert git(team_root, "status", "--porcelain") == ""


def test_doc_events_are_in_the_feed(team_root: Path, cli: Runner) -> None:
    task = add_task(cli, "Parser", "--assign", "dev-1")
    doc = add_doc(cli, "Plan", "x\n", "--type", "decision", "--task", task)
    events = cli("feed", "--type", "doc.*", "--json").json()["events"]
    assert [(e["type"], e["subject"]) for e in events] == [("doc.added", doc["id"])]
    assert events[0]["data"]["task"] == task
    # Subscribers of the linked task hear of it.
    inbox = cli("inbox", "--agent", "dev-1", "--json").json()["inbox"]["notifications"]
    assert [n["type"] for n in inbox if n["type"].startswith("doc.")] == ["doc.added"]
    assert DOC_RE.fullmatch(doc["id"])
