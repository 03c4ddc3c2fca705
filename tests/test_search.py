"""``agentctl search``: ranking, snippets, filters, query syntax, bad queries, and an index that
follows hand edits, deletions and ``git pull`` without a reindex."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import Runner, add_task, assert_one_line_error, git, make_team, run_cli

from agentctl.core import ids
from agentctl.errors import ExitCode


@pytest.fixture
def ws_root(git_ws_root: Path) -> Path:
    """These tests check their outcome against git (a refused change leaves the repository
    as it was, commits, history): a real repository."""
    return git_ws_root


def search(cli: Runner, query: str, *options: str, cwd: Path | None = None) -> list[dict[str, Any]]:
    r = cli("search", query, *options, "--json", cwd=cwd)
    assert r.code == 0, str(r)
    document = r.json()
    assert set(document) == {"schema_version", "query", "hits"}
    assert document["query"] == query
    hits: list[dict[str, Any]] = document["hits"]
    return hits


def hit_ids(cli: Runner, query: str, *options: str, cwd: Path | None = None) -> list[str]:
    return [h["id"] for h in search(cli, query, *options, cwd=cwd)]


def comment(cli: Runner, task: str, text: str, cwd: Path | None = None) -> str:
    r = cli("task", "comment", task, text, "--json", cwd=cwd)
    assert r.code == 0, str(r)
    message_id: str = r.json()["message"]["id"]
    return message_id


def add_doc(cli: Runner, title: str, body: str, *options: str, cwd: Path | None = None) -> str:
    r = cli("doc", "add", title, "--type", "research", *options, "--json", input=body, cwd=cwd)
    assert r.code == 0, str(r)
    doc_id: str = r.json()["doc"]["id"]
    return doc_id


@pytest.fixture
def corpus(ws_root: Path, cli: Runner) -> dict[str, str]:
    make_team(cli)
    found: dict[str, str] = {}
    found["title_task"] = add_task(cli, "Flamingo migration plan")
    found["body_task"] = add_task(
        cli, "Bird survey", "--description", "Count every bird; a flamingo was seen once."
    )
    found["other_task"] = add_task(cli, "Unrelated chores", "--description", "Nothing to see here.")
    found["message"] = comment(
        cli, found["other_task"], "Shall we paint the fence teal? The fence is old."
    )
    found["doc"] = add_doc(
        cli,
        "Fence report",
        "The fence needs teal paint and new posts.\n",
        "--task",
        found["other_task"],
    )
    return found


# -- ranking and snippets --------------------------------------------------------------------------


def test_title_match_outranks_body_match(corpus: dict[str, str], cli: Runner) -> None:
    hits = search(cli, "flamingo")
    assert [h["id"] for h in hits] == [corpus["title_task"], corpus["body_task"]]
    assert hits[0]["score"] > hits[1]["score"] > 0


def test_more_relevant_first(ws_root: Path, cli: Runner) -> None:
    once = add_task(cli, "Alpha", "--description", "pelican " + "filler words here " * 5)
    thrice = add_task(
        cli, "Beta", "--description", "pelican pelican pelican " + "filler words here " * 4
    )
    assert hit_ids(cli, "pelican") == [thrice, once]


def test_hits_span_tasks_messages_and_documents(corpus: dict[str, str], cli: Runner) -> None:
    hits = search(cli, "teal")
    by_type = {h["type"]: h for h in hits}
    assert set(by_type) == {"message", "doc"}
    message = by_type["message"]
    assert message["id"] == corpus["message"]
    assert message["task"] == corpus["other_task"]
    assert message["title"] == "Unrelated chores"  # a message shows its task's title
    assert message["status"] == "inbox"
    doc = by_type["doc"]
    assert (doc["id"], doc["task"], doc["title"]) == (
        corpus["doc"],
        corpus["other_task"],
        "Fence report",
    )


def test_snippets_highlight_matches(corpus: dict[str, str], cli: Runner) -> None:
    (body_hit,) = [h for h in search(cli, "flamingo") if h["id"] == corpus["body_task"]]
    assert "**flamingo**" in body_hit["snippet"]
    (title_hit,) = [h for h in search(cli, "flamingo") if h["id"] == corpus["title_task"]]
    assert title_hit["snippet"] == "**Flamingo** migration plan"
    (message_hit,) = search(cli, "paint", "--type", "message")
    assert message_hit["snippet"] == "Shall we **paint** the fence teal? The fence is old."
    (doc_hit,) = search(cli, "posts")
    assert "**posts**" in doc_hit["snippet"]
    # Stemming: "painting" finds "paint".
    assert corpus["message"] in hit_ids(cli, "painting")


def test_long_bodies_get_a_short_snippet(ws_root: Path, cli: Runner) -> None:
    words = " ".join(f"word{n}" for n in range(200))
    task = add_task(cli, "Long", "--description", f"{words} needle {words}")
    (hit,) = search(cli, "needle")
    assert hit["id"] == task
    assert "**needle**" in hit["snippet"]
    assert len(hit["snippet"].split()) <= 20
    assert hit["snippet"].startswith("…") and hit["snippet"].endswith("…")


def test_json_hit_shape(corpus: dict[str, str], cli: Runner) -> None:
    for hit in search(cli, "fence OR flamingo"):
        assert set(hit) == {"type", "id", "task", "title", "status", "snippet", "score"}
        assert hit["type"] in ("task", "message", "doc")
        assert isinstance(hit["score"], float)


def test_plain_output(corpus: dict[str, str], cli: Runner) -> None:
    r = cli("search", "flamingo")
    assert r.code == 0, str(r)
    lines = r.out.splitlines()
    assert lines[0] == f"task    {corpus['title_task']} [inbox]  Flamingo migration plan"
    assert lines[1] == "        **Flamingo** migration plan"
    assert lines[2].startswith(f"task    {corpus['body_task']} [inbox]  Bird survey")
    r = cli("search", "teal", "--type", "message")
    assert (
        r.out.splitlines()[0]
        == f"message {corpus['other_task']} {corpus['message']} [inbox]  Unrelated chores"
    )
    r = cli("search", "zebra")
    assert r.code == 0 and r.out == "no matches\n"


# -- filters ---------------------------------------------------------------------------------------


def test_type_filter(corpus: dict[str, str], cli: Runner) -> None:
    assert hit_ids(cli, "fence", "--type", "message") == [corpus["message"]]
    assert hit_ids(cli, "fence", "--type", "doc") == [corpus["doc"]]
    assert hit_ids(cli, "fence", "--type", "task") == []
    assert set(hit_ids(cli, "fence", "--type", "doc", "--type", "message")) == {
        corpus["doc"],
        corpus["message"],
    }
    assert_one_line_error(cli("search", "fence", "--type", "memo"), ExitCode.USAGE, "memo")


def test_status_filter(corpus: dict[str, str], cli: Runner) -> None:
    assert cli("task", "assign", corpus["title_task"], "dev-1").code == 0
    assert hit_ids(cli, "flamingo", "--status", "assigned") == [corpus["title_task"]]
    assert hit_ids(cli, "flamingo", "--status", "inbox") == [corpus["body_task"]]
    assert set(hit_ids(cli, "flamingo", "--status", "inbox", "-s", "assigned")) == {
        corpus["title_task"],
        corpus["body_task"],
    }
    assert hit_ids(cli, "flamingo", "--status", "done") == []
    # Messages and linked documents carry their task's status.
    assert set(hit_ids(cli, "teal", "--status", "inbox")) == {corpus["message"], corpus["doc"]}


def test_limit(ws_root: Path, cli: Runner) -> None:
    for n in range(5):
        add_task(cli, f"Heron {n}")
    assert len(search(cli, "heron")) == 5
    assert len(search(cli, "heron", "--limit", "2")) == 2
    assert cli("search", "heron", "--limit", "0").code == ExitCode.USAGE


# -- query syntax --------------------------------------------------------------------------------


def test_phrase_query(ws_root: Path, cli: Runner) -> None:
    adjacent = add_task(cli, "Red panda enclosure")
    apart = add_task(cli, "Panda colour", "--description", "red paint for the panda")
    assert set(hit_ids(cli, "red panda")) == {adjacent, apart}
    assert hit_ids(cli, '"red panda"') == [adjacent]


def test_prefix_terms(ws_root: Path, cli: Runner) -> None:
    task = add_task(cli, "Configuration loader")
    other = add_task(cli, "Configure the build")
    assert set(hit_ids(cli, "config*")) == {task, other}
    assert hit_ids(cli, "loader") == [task]
    assert hit_ids(cli, "load") == []  # whole words only, without a star
    assert hit_ids(cli, "load*") == [task]


def test_boolean_operators(corpus: dict[str, str], cli: Runner) -> None:
    assert set(hit_ids(cli, "fence NOT paint")) == set()
    assert set(hit_ids(cli, "fence NOT posts")) == {corpus["message"]}
    assert set(hit_ids(cli, "flamingo OR posts")) == {
        corpus["title_task"],
        corpus["body_task"],
        corpus["doc"],
    }
    assert set(hit_ids(cli, "(flamingo OR teal) AND plan")) == {corpus["title_task"]}


@pytest.mark.parametrize(
    "query",
    ["foo AND", '"unclosed', "NOT", "AND", "foo OR", "(", "(foo", "foo)", "*", "NEAR("],
)
def test_malformed_queries_are_one_line_usage_errors(
    corpus: dict[str, str], cli: Runner, query: str
) -> None:
    r = cli("search", query)
    assert_one_line_error(r, ExitCode.USAGE, "bad search query")
    assert r.out == ""


def test_ordinary_words_with_punctuation_are_searched_as_words(ws_root: Path, cli: Runner) -> None:
    make_team(cli)
    first = add_task(
        cli,
        "Pair with dev-1 on C++ parser",
        "--description",
        "it's for @alice; see a.b and foo:bar",
    )
    second = add_task(cli, "Follow-up", "--description", f"after {first} lands")
    other = add_task(cli, "Unrelated", "--description", "dev work, 1 parser in Go")
    for query in (
        "dev-1",
        "@alice",
        "C++",
        "it's",
        "a.b",
        "foo:bar",
        "dev-1 parser",
        "dev-1, parser",
    ):
        r = cli("search", query, "--json")
        assert r.code == 0, f"{query!r}: {r}"
        assert [h["id"] for h in r.json()["hits"]] == [first], query
        assert r.json()["query"] == query
    assert hit_ids(cli, first) == [second]  # a task ID, e.g. mentioned in another task
    # operators still work next to quoted words, and a prefix star stays a prefix
    assert set(hit_ids(cli, "dev-1 OR unrelated")) == {first, other}
    assert hit_ids(cli, "dev-1 NOT alice") == []
    assert set(hit_ids(cli, "follow-*")) == {second}
    assert hit_ids(cli, "NEAR(pair parser, 5)") == [first]


def test_empty_query(corpus: dict[str, str], cli: Runner) -> None:
    for query in ("", "   "):
        assert_one_line_error(cli("search", query), ExitCode.USAGE, "empty")


# -- the index follows the files -------------------------------------------------------------------


def test_hand_edited_task_file_is_searched_without_reindex(
    corpus: dict[str, str], cli: Runner, ws_root: Path
) -> None:
    assert hit_ids(cli, "flamingo")  # warm index
    path = ws_root / ".agentctl" / "tasks" / f"{corpus['other_task']}.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("title: Unrelated chores", "title: Walrus chores").replace(
            "Nothing to see here.", "A narwhal appears."
        ),
        encoding="utf-8",
    )
    assert hit_ids(cli, "walrus", "--type", "task") == [corpus["other_task"]]
    assert hit_ids(cli, "narwhal") == [corpus["other_task"]]
    assert hit_ids(cli, "unrelated") == []


def test_hand_added_message_and_doc_files_are_searched(
    corpus: dict[str, str], cli: Runner, ws_root: Path
) -> None:
    assert hit_ids(cli, "fence")  # warm index
    task = corpus["body_task"]
    message_id = ids.new_id(ids.MESSAGE)
    now = datetime.now(UTC)
    stamp = now.strftime("%Y%m%dT%H%M%S") + f"{now.microsecond // 1000:03d}Z"
    directory = ws_root / ".agentctl" / "threads" / task  # a thread directory that did not exist
    directory.mkdir()
    (directory / f"{stamp}-{message_id}.md").write_text(
        f"---\nid: {message_id}\ntask: {task}\nauthor: dev-2\ncreated_at: '{now.isoformat(timespec='milliseconds').replace('+00:00', 'Z')}'\n"
        "kind: comment\nmentions: []\n---\nA hand-written note about the albatross.\n",
        encoding="utf-8",
    )
    doc_id = ids.new_id(ids.DOC)
    (ws_root / ".agentctl" / "docs" / f"{doc_id}.md").write_text(
        f"---\nid: {doc_id}\ntitle: Albatross protocol\ntype: protocol\nauthor: dev-1\n"
        "created_at: '2026-01-01T00:00:00Z'\nupdated_at: '2026-01-01T00:00:00Z'\n---\nWatch the albatross.\n",
        encoding="utf-8",
    )
    hits = search(cli, "albatross")
    assert {(h["type"], h["id"]) for h in hits} == {("message", message_id), ("doc", doc_id)}
    assert hits[0]["id"] == doc_id  # title match first
    # A second hand-written message in an existing thread directory.
    other_id = ids.new_id(ids.MESSAGE)
    (directory / f"{stamp[:-4]}999Z-{other_id}.md").write_text(
        f"---\nid: {other_id}\ntask: {task}\nauthor: dev-1\ncreated_at: '2026-01-01T00:00:00.000Z'\n"
        "kind: answer\nmentions: []\n---\nThe albatross left.\n",
        encoding="utf-8",
    )
    assert other_id in hit_ids(cli, "albatross", "--type", "message")


def test_deleted_files_disappear_from_results(
    corpus: dict[str, str], cli: Runner, ws_root: Path
) -> None:
    assert len(search(cli, "fence OR flamingo")) == 4
    layout = ws_root / ".agentctl"
    (layout / "docs" / f"{corpus['doc']}.md").unlink()
    assert hit_ids(cli, "fence") == [corpus["message"]]
    shutil.rmtree(layout / "threads" / corpus["other_task"])
    assert hit_ids(cli, "fence") == []
    (layout / "tasks" / f"{corpus['title_task']}.md").unlink()
    assert hit_ids(cli, "flamingo") == [corpus["body_task"]]
    # Removal through the CLI too.
    assert cli("task", "rm", corpus["body_task"]).code == 0
    assert hit_ids(cli, "flamingo") == []


def test_deleting_one_message_of_a_thread(ws_root: Path, cli: Runner) -> None:
    task = add_task(cli, "Thread")
    keep = comment(cli, task, "the osprey stays")
    gone = comment(cli, task, "the osprey leaves")
    assert set(hit_ids(cli, "osprey")) == {keep, gone}
    (path,) = [p for p in (ws_root / ".agentctl" / "threads" / task).iterdir() if gone in p.name]
    path.unlink()
    assert hit_ids(cli, "osprey") == [keep]


def test_pulled_messages_and_docs_are_searched_without_reindex(
    corpus: dict[str, str], cli: Runner, ws_root: Path, tmp_path: Path
) -> None:
    assert git(ws_root, "status", "--porcelain") == ""
    other = tmp_path / "other-clone"
    git(tmp_path, "clone", "-q", str(ws_root), str(other))
    git(other, "config", "user.name", "Other Machine")
    git(other, "config", "user.email", "other@example.com")
    assert hit_ids(cli, "flamingo")  # this clone's index is warm
    # The other clone adds a message, a document and edits a task (auto-commit on).
    message_id = comment(
        run_cli, corpus["title_task"], "Pulled remark about the cormorant", cwd=other
    )
    doc_id = add_doc(run_cli, "Cormorant study", "All about the cormorant.\n", cwd=other)
    r = run_cli("task", "edit", corpus["body_task"], "--title", "Cormorant count", cwd=other)
    assert r.code == 0, str(r)
    assert hit_ids(cli, "cormorant") == []
    git(ws_root, "pull", "-q", "--no-rebase", "--no-edit", str(other), "main")
    hits = search(cli, "cormorant")
    assert {h["id"] for h in hits} == {message_id, doc_id, corpus["body_task"]}
    assert hit_ids(cli, "cormorant", "--type", "message") == [message_id]
    assert hit_ids(cli, "survey") == []  # the old title is gone
    # The thread of the pulled message is complete too.
    thread = cli("thread", corpus["title_task"], "--json").json()["thread"]["messages"]
    assert [m["id"] for m in thread] == [message_id]


def test_search_result_ids_look_right(corpus: dict[str, str], cli: Runner) -> None:
    for hit in search(cli, "fence OR flamingo"):
        prefix = {"task": "t-", "message": "m-", "doc": "d-"}[hit["type"]]
        assert re.fullmatch(prefix + r"[0-9a-z]{12}", hit["id"])
        if hit["type"] == "task":
            assert hit["task"] == hit["id"]


# The single query search ran before snippets were limited to the best hits: the model the
# two-step query must equal, hit for hit (ties broken by reference, filters, limits).
_ONE_PASS = (
    "SELECT f.kind, f.ref, f.task, f.title, snippet(fts, 4, '**', '**', '…', 16),"
    " snippet(fts, 3, '**', '**', '…', 16), bm25(fts, 0.0, 0.0, 0.0, 4.0, 1.0) AS rank,"
    " t.status, t.title FROM fts AS f LEFT JOIN tasks AS t ON t.id = f.task WHERE fts MATCH ?"
)


def test_snippets_of_the_best_hits_only_give_the_one_pass_result(
    plain_dir: Path, template_dir: Path, cli: Runner
) -> None:
    from conftest import copy_template

    from agentctl.store.index_text import fts_query
    from agentctl.workspace import Workspace

    root = copy_template("plain", plain_dir, template_dir)
    make_team(cli, cwd=root)
    tasks = [
        add_task(
            cli,
            f"Heron {'count ' * (n % 3)}report {n}",
            "--description",
            "heron " * (n % 4),
            cwd=root,
        )
        for n in range(12)
    ]
    for n, task in enumerate(tasks[:6]):
        comment(cli, task, f"a heron {'heron ' * (n % 2)}was seen near the dam {n}", cwd=root)
    cli("task", "move", tasks[1], "done", cwd=root)
    ws = Workspace(root)
    try:
        ws.refresh()
        db = ws.index.db
        for kinds, statuses, limit in [
            ((), (), 20),
            ((), (), 5),
            ((), (), 1),
            (("task",), (), 3),
            (("message",), (), 4),
            ((), ("inbox",), 7),
            (("task", "message"), ("done",), 20),
        ]:
            sql = _ONE_PASS
            params: list[Any] = [fts_query("heron")]
            if kinds:
                sql += f" AND f.kind IN ({', '.join('?' * len(kinds))})"
                params.extend(kinds)
            if statuses:
                sql += f" AND t.status IN ({', '.join('?' * len(statuses))})"
                params.extend(statuses)
            expected = db.execute(
                sql + " ORDER BY rank, f.ref LIMIT ?", [*params, limit]
            ).fetchall()
            hits = ws.index.search("heron", kinds, statuses, limit)
            assert [(h["id"], h["snippet"]) for h in hits] == [
                (row[1], " ".join((row[4] if "**" in row[4] or not row[3] else row[5]).split()))
                for row in expected
            ], (kinds, statuses, limit)
            assert len(hits) == min(limit, len(expected)) and hits or not expected
    finally:
        ws.close()
