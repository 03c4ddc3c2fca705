"""Threads, subscriptions, notification fan-out and inboxes, through the real CLI boundary
(and the library where the CLI has no verb, e.g. ``mark_delivered``)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import Result, Runner, add_task, assert_one_line_error, git, run_refused

from agentctl.core import ids
from agentctl.errors import ExitCode
from agentctl.paths import MESSAGE_FILE_RE
from agentctl.workspace import Workspace


@pytest.fixture
def ws_root(git_ws_root: Path) -> Path:
    """Every test here is about git (commits, history, recovery): a real repository."""
    return git_ws_root


MESSAGE_KINDS = ("comment", "question", "answer", "review", "status_update")


# -- helpers -----------------------------------------------------------------------------------


def team(cli: Runner) -> None:
    """lead-1 (lead), dev-1 and dev-2 (specialists), rev-1 (specialist with capability review)."""
    for args in (
        ("lead-1", "--role", "lead", "--level", "lead"),
        ("dev-1", "--role", "developer", "--level", "specialist"),
        ("dev-2", "--role", "developer", "--level", "specialist"),
        ("rev-1", "--role", "QA Engineer", "--level", "specialist", "--capability", "review"),
    ):
        r = cli("agent", "add", *args)
        assert r.code == 0, str(r)


@pytest.fixture
def crew(ws_root: Path, cli: Runner) -> Path:
    team(cli)
    return ws_root


def comment(
    cli: Runner,
    task: str,
    text: str,
    *options: str,
    as_: str | None = None,
    input: str | None = None,
) -> dict[str, Any]:
    prefix = ("--as", as_) if as_ else ()
    r = cli(*prefix, "task", "comment", task, text, *options, "--json", input=input)
    assert r.code == 0, str(r)
    message: dict[str, Any] = r.json()["message"]
    return message


def inbox(cli: Runner, agent: str, *options: str) -> dict[str, Any]:
    r = cli("inbox", "--agent", agent, *options, "--json")
    assert r.code == 0, str(r)
    document = r.json()
    assert document["schema_version"] == 1
    result: dict[str, Any] = document["inbox"]
    return result


def reasons(
    cli: Runner, agent: str, task: str | None = None, type_: str | None = None
) -> list[str]:
    """The reasons of ``agent``'s unread notifications (optionally about one task / of one type)."""
    items = inbox(cli, agent)["notifications"]
    return [
        n["reason"]
        for n in items
        if (task is None or n["task"] == task) and (type_ is None or n["type"] == type_)
    ]


def show(cli: Runner, task: str) -> dict[str, Any]:
    r = cli("task", "show", task, "--json")
    assert r.code == 0, str(r)
    data: dict[str, Any] = r.json()["task"]
    return data


def thread(cli: Runner, task: str, *options: str) -> list[dict[str, Any]]:
    r = cli("thread", task, *options, "--json")
    assert r.code == 0, str(r)
    document = r.json()
    assert document["schema_version"] == 1
    messages: list[dict[str, Any]] = document["thread"]["messages"]
    return messages


def message_files(root: Path, task: str) -> list[Path]:
    directory = root / ".agentctl" / "threads" / task
    return sorted(directory.iterdir()) if directory.is_dir() else []


def commit_count(root: Path) -> int:
    return int(git(root, "rev-list", "--count", "HEAD").strip())


def last_commit_paths(root: Path) -> set[str]:
    out = git(root, "show", "--no-renames", "--name-only", "--format=", "HEAD")
    return {line for line in out.splitlines() if line}


def clean(root: Path) -> bool:
    return git(root, "status", "--porcelain", "--untracked-files=all") == ""


def agent_line(root: Path, agent: str) -> str:
    text = (root / "WORKING.md").read_text(encoding="utf-8")
    (line,) = [ln for ln in text.splitlines() if ln.startswith(f"- **{agent}**")]
    return line


# -- comment -----------------------------------------------------------------------------------


def test_comment_writes_one_message_file_with_frontmatter(crew: Path, cli: Runner) -> None:
    task = add_task(cli, "Parser")
    r = cli(
        "--as", "dev-1", "task", "comment", task, "Looks good to me, @dev-2.\n\nSecond paragraph."
    )
    assert r.code == 0, str(r)
    match = re.fullmatch(r"(m-[0-9a-z]{12}) added to (t-[0-9a-z]{12}) \(notified dev-2\)\n", r.out)
    assert match and match.group(2) == task, str(r)
    message_id = match.group(1)

    (path,) = message_files(crew, task)
    assert MESSAGE_FILE_RE.match(path.name), path.name
    assert path.name.endswith(f"-{message_id}.md")
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0] == "---"
    end = lines.index("---", 1)
    front = lines[1:end]
    assert front[:4] == [f"id: {message_id}", f"task: {task}", "author: dev-1", front[3]]
    assert re.fullmatch(r"created_at: '\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z'", front[3]), front
    assert "kind: comment" in front
    assert "mentions: [dev-2]" in front or "mentions:\n- dev-2" in "\n".join(front), front
    assert lines[end + 1 :] == ["Looks good to me, @dev-2.", "", "Second paragraph."]
    assert text.endswith("Second paragraph.\n")

    # The file name's stamp is the message's creation time (so names sort by time).
    created = re.search(r"created_at: '([^']+)'", text).group(1)  # type: ignore[union-attr]
    stamp = (
        datetime.strptime(created, "%Y-%m-%dT%H:%M:%S.%fZ").strftime("%Y%m%dT%H%M%S")
        + created[20:23]
        + "Z"
    )
    assert path.name.startswith(stamp + "-"), (path.name, created)


def test_comment_json_document(crew: Path, cli: Runner) -> None:
    task = add_task(cli, "Parser")
    message = comment(cli, task, "hello @dev-1 and @ghost", as_="dev-2")
    assert message["task"] == task
    assert message["author"] == "dev-2"
    assert message["kind"] == "comment"
    assert message["mentions"] == ["dev-1"]
    assert message["unknown_mentions"] == ["@ghost"]
    assert message["body"] == "hello @dev-1 and @ghost\n"
    assert message["path"] == f".agentctl/threads/{task}/{message_files(crew, task)[0].name}"


def test_comment_text_from_stdin(crew: Path, cli: Runner) -> None:
    task = add_task(cli, "Parser")
    body = "from stdin\nwith `code` and @dev-1\n"
    message = comment(cli, task, "-", input=body)
    assert message["body"] == body
    assert message["mentions"] == ["dev-1"]
    assert thread(cli, task)[0]["body"] == body


@pytest.mark.parametrize("kind", MESSAGE_KINDS)
def test_comment_kinds(crew: Path, cli: Runner, kind: str) -> None:
    task = add_task(cli, "Parser")
    message = comment(cli, task, f"a {kind}", "--kind", kind)
    assert message["kind"] == kind
    (stored,) = thread(cli, task)
    assert stored["kind"] == kind
    assert f"kind: {kind}" in message_files(crew, task)[0].read_text(encoding="utf-8")


def test_comment_bad_kind_is_a_usage_error_and_changes_nothing(crew: Path, cli: Runner) -> None:
    task = add_task(cli, "Parser")
    run_refused(
        cli,
        crew,
        ExitCode.USAGE,
        ("task", "comment", task, "hi", "--kind", "gossip"),
        "gossip",
        "comment",
    )
    assert message_files(crew, task) == []


@pytest.mark.parametrize("text", ["", "   ", "\n\n", " \n \t\n"])
def test_empty_message_is_refused(crew: Path, cli: Runner, text: str) -> None:
    task = add_task(cli, "Parser")
    run_refused(cli, crew, ExitCode.USAGE, ("task", "comment", task, text), "empty")
    assert message_files(crew, task) == []


def test_empty_stdin_is_refused(crew: Path, cli: Runner) -> None:
    task = add_task(cli, "Parser")
    r = cli("task", "comment", task, "-", input="\n  \n")
    assert_one_line_error(r, ExitCode.USAGE, "empty")
    assert message_files(crew, task) == []


def test_oversized_message_is_refused(crew: Path, cli: Runner) -> None:
    task = add_task(cli, "Parser")
    r = cli("task", "comment", task, "-", input="x" * 20_001)
    assert_one_line_error(r, ExitCode.USAGE, "20001 characters")
    assert message_files(crew, task) == []


def test_comment_on_unknown_task_is_not_found(crew: Path, cli: Runner) -> None:
    r = cli("task", "comment", "t-0000", "hello")
    assert_one_line_error(r, ExitCode.NOT_FOUND)


def test_unknown_mention_warns_on_stderr_but_succeeds(crew: Path, cli: Runner) -> None:
    task = add_task(cli, "Parser")
    r = cli("task", "comment", task, "ping @nobody and @role:astronaut and @dev-1")
    assert r.code == 0, str(r)
    assert "notified dev-1" in r.out
    warnings = [line for line in r.err.splitlines() if line.startswith("agentctl: warning: ")]
    assert any("@nobody" in w for w in warnings), r.err
    assert any("@role:astronaut" in w for w in warnings), r.err
    assert "error" not in r.err
    (message,) = thread(cli, task)
    assert message["mentions"] == ["dev-1"]


def test_mention_in_code_is_not_a_mention(crew: Path, cli: Runner) -> None:
    task = add_task(cli, "Parser")
    message = comment(cli, task, "call `notify(@dev-1)` and\n```\n@dev-2\n```\n")
    assert message["mentions"] == []
    assert message["unknown_mentions"] == []
    assert inbox(cli, "dev-1")["notifications"] == []
    assert inbox(cli, "dev-2")["notifications"] == []


def test_reply_to_an_existing_message(crew: Path, cli: Runner) -> None:
    task = add_task(cli, "Parser")
    first = comment(cli, task, "question?", "--kind", "question", as_="dev-1")
    reply = comment(
        cli, task, "answer.", "--kind", "answer", "--reply-to", first["id"], as_="dev-2"
    )
    assert reply["reply_to"] == first["id"]
    messages = thread(cli, task)
    assert [m["id"] for m in messages] == [first["id"], reply["id"]]
    assert messages[1]["reply_to"] == first["id"]


def test_reply_to_a_bad_message_id_is_refused(crew: Path, cli: Runner) -> None:
    # A reply_to that is not a message ID would write a file every reader refuses.
    task = add_task(cli, "Parser")
    files = message_files(crew, task)
    r = cli("task", "comment", task, "answer", "--reply-to", "garbage")
    assert r.code in (ExitCode.USAGE, ExitCode.NOT_FOUND), str(r)
    assert_one_line_error(r, r.code, "garbage")
    assert message_files(crew, task) == files
    r = cli("task", "comment", task, "answer", "--reply-to", "m-000000000000")
    assert_one_line_error(r, ExitCode.NOT_FOUND, "m-000000000000")
    assert message_files(crew, task) == files


def test_messages_are_append_only_one_file_each(crew: Path, cli: Runner) -> None:
    task = add_task(cli, "Parser")
    first = comment(cli, task, "one")
    (first_file,) = message_files(crew, task)
    first_bytes = first_file.read_bytes()
    ids = [first["id"]]
    for text in ("two", "three", "four"):
        ids.append(comment(cli, task, text)["id"])
    files = message_files(crew, task)
    assert len(files) == 4
    assert len(set(ids)) == 4
    assert first_file.read_bytes() == first_bytes
    # Names sort by time: file order is message order.
    assert [f.name.rsplit("-", 2)[-2] + "-" + f.name.rsplit("-", 1)[-1][:-3] for f in files] == ids
    assert [m["body"] for m in thread(cli, task)] == ["one\n", "two\n", "three\n", "four\n"]


def test_each_comment_is_one_git_commit(crew: Path, cli: Runner) -> None:
    task = add_task(cli, "Parser")
    assert clean(crew)
    before = commit_count(crew)
    comment(cli, task, "hello @dev-1", as_="dev-2")
    assert commit_count(crew) == before + 1
    paths = last_commit_paths(crew)
    (message_file,) = message_files(crew, task)
    assert f".agentctl/threads/{task}/{message_file.name}" in paths
    assert {p for p in paths if not p.startswith(".agentctl/threads/")} <= {
        "WORKING.md",
        *(p for p in paths if re.fullmatch(r"\.agentctl/events/\d{4}-\d\d-\d\d\.jsonl", p)),
    }
    assert git(crew, "log", "-1", "--format=%an").strip() == "dev-2"
    assert clean(crew)


# -- thread ------------------------------------------------------------------------------------


def test_thread_prints_messages_oldest_first(crew: Path, cli: Runner) -> None:
    task = add_task(cli, "Parser")
    comment(cli, task, "first message", as_="dev-1")
    comment(cli, task, "second\nmessage @dev-1", "--kind", "question", as_="dev-2")
    r = cli("thread", task)
    assert r.code == 0, str(r)
    lines = r.out.splitlines()
    assert lines[0] == f"{task}  Parser"
    assert lines[1].startswith("── dev-1 · comment · ")
    assert lines[2] == "   first message"
    assert lines[3].startswith("── dev-2 · question · ") and lines[3].endswith(" · @dev-1")
    assert lines[4:] == ["   second", "   message @dev-1"]


def test_thread_of_a_task_without_messages(crew: Path, cli: Runner) -> None:
    task = add_task(cli, "Quiet")
    r = cli("thread", task)
    assert r.code == 0, str(r)
    assert r.out == f"{task}  Quiet\n(no messages)\n"
    assert thread(cli, task) == []


def test_thread_json_shape(crew: Path, cli: Runner) -> None:
    task = add_task(cli, "Parser")
    sent = comment(cli, task, "hi @dev-1", as_="dev-2")
    r = cli("thread", task[:6], "--json")
    assert r.code == 0, str(r)
    document = r.json()
    assert set(document) == {"schema_version", "thread"}
    assert document["thread"]["task"] == task
    assert document["thread"]["title"] == "Parser"
    (message,) = document["thread"]["messages"]
    assert set(message) == {
        "id",
        "task",
        "author",
        "created_at",
        "kind",
        "mentions",
        "reply_to",
        "body",
        "path",
    }
    assert {
        k: message[k] for k in ("id", "task", "author", "kind", "mentions", "body", "path")
    } == {k: sent[k] for k in ("id", "task", "author", "kind", "mentions", "body", "path")}
    assert message["created_at"] == sent["created_at"]


def test_thread_since(crew: Path, cli: Runner) -> None:
    task = add_task(cli, "Parser")
    old = comment(cli, task, "old news")
    new = comment(cli, task, "fresh")
    # Backdate the first message by hand: the thread re-reads the edited file.
    path = crew / old["path"]
    path.write_text(
        path.read_text(encoding="utf-8").replace(old["created_at"], "2020-01-01T00:00:00.000Z"),
        encoding="utf-8",
    )
    assert [m["id"] for m in thread(cli, task)] == [old["id"], new["id"]]
    assert [m["id"] for m in thread(cli, task, "--since", "2h")] == [new["id"]]
    assert [m["id"] for m in thread(cli, task, "--since", "2019-12-31")] == [old["id"], new["id"]]
    assert [m["id"] for m in thread(cli, task, "--since", new["created_at"])] == [new["id"]]
    assert thread(cli, task, "--since", "2999-01-01T00:00:00Z") == []
    r = cli("thread", task, "--since", "yesterday-ish")
    assert_one_line_error(r, ExitCode.USAGE, "--since")


def test_thread_of_unknown_task(crew: Path, cli: Runner) -> None:
    assert_one_line_error(cli("thread", "t-zzzz"), ExitCode.NOT_FOUND)


def test_task_show_includes_thread_docs_and_subscribers(crew: Path, cli: Runner) -> None:
    task = add_task(cli, "Parser", "--assign", "dev-1")
    comment(cli, task, "please check @rev-1", as_="dev-2")
    r = cli(
        "doc", "add", "Parser decision", "--type", "decision", "--task", task, input="We use PEG.\n"
    )
    assert r.code == 0, str(r)
    data = show(cli, task)
    assert [m["body"] for m in data["thread"]] == ["please check @rev-1\n"]
    assert [d["title"] for d in data["docs"]] == ["Parser decision"]
    assert data["subscribers"] == ["dev-1", "dev-2", "rev-1"]
    r = cli("task", "show", task)
    assert r.code == 0, str(r)
    out = r.out
    assert "Documents:" in out and "decision    Parser decision" in out
    assert "Subscribers: dev-1, dev-2, rev-1" in out
    assert "Thread (1 message):" in out
    assert "   please check @rev-1" in out


def test_task_show_without_thread(crew: Path, cli: Runner) -> None:
    task = add_task(cli, "Parser")
    r = cli("task", "show", task)
    assert r.code == 0, str(r)
    assert "Thread (0 messages):" in r.out
    assert "Subscribers:" not in r.out
    assert "Documents:" not in r.out


# -- subscriptions -----------------------------------------------------------------------------


def test_commenting_subscribes_the_author(crew: Path, cli: Runner) -> None:
    task = add_task(cli, "Parser")
    assert show(cli, task)["subscribers"] == []
    comment(cli, task, "I'll keep an eye on this", as_="dev-2")
    assert show(cli, task)["subscribers"] == ["dev-2"]


def test_being_assigned_subscribes(crew: Path, cli: Runner) -> None:
    created = add_task(cli, "Created assigned", "--assign", "dev-1")
    assert show(cli, created)["subscribers"] == ["dev-1"]
    later = add_task(cli, "Assigned later")
    r = cli("task", "assign", later, "dev-2", "rev-1")
    assert r.code == 0, str(r)
    assert show(cli, later)["subscribers"] == ["dev-2", "rev-1"]


def test_being_mentioned_subscribes(crew: Path, cli: Runner) -> None:
    task = add_task(cli, "Parser")
    comment(cli, task, "what do you think, @lead-1 and @role:qa-engineer?")
    assert show(cli, task)["subscribers"] == ["lead-1", "rev-1"]


def test_an_agent_creating_a_task_is_subscribed(crew: Path, cli: Runner) -> None:
    r = cli("--as", "dev-1", "task", "add", "Mine", "--json")
    assert r.code == 0, str(r)
    task = r.json()["task"]["id"]
    assert show(cli, task)["subscribers"] == ["dev-1"]


def test_subscribe_and_unsubscribe_commands(crew: Path, cli: Runner) -> None:
    task = add_task(cli, "Parser")
    r = cli("--as", "dev-1", "task", "subscribe", task)
    assert r.code == 0, str(r)
    assert r.out == f"dev-1 subscribed to {task}\n"
    r = cli("task", "subscribe", task, "--agent", "dev-2", "--json")
    assert r.code == 0, str(r)
    assert r.json()["subscription"] == {
        "task": task,
        "agent": "dev-2",
        "subscribed": True,
        "was": False,
    }
    assert show(cli, task)["subscribers"] == ["dev-1", "dev-2"]

    r = cli("--as", "dev-1", "task", "unsubscribe", task, "--json")
    assert r.code == 0, str(r)
    assert r.json()["subscription"] == {
        "task": task,
        "agent": "dev-1",
        "subscribed": False,
        "was": True,
    }
    assert show(cli, task)["subscribers"] == ["dev-2"]

    # Unsubscribed agents hear nothing more; subscribed ones do.
    comment(cli, task, "news")
    assert reasons(cli, "dev-1", task, "message.added") == []
    assert reasons(cli, "dev-2", task, "message.added") == ["subscribed"]


def test_subscribe_needs_an_agent_when_acting_as_a_human(crew: Path, cli: Runner) -> None:
    task = add_task(cli, "Parser")
    run_refused(cli, crew, ExitCode.USAGE, ("task", "subscribe", task), "--as")


def test_subscribe_unknown_agent_or_task(crew: Path, cli: Runner) -> None:
    task = add_task(cli, "Parser")
    run_refused(
        cli, crew, ExitCode.NOT_FOUND, ("task", "subscribe", task, "--agent", "ghost"), "ghost"
    )
    run_refused(cli, crew, ExitCode.NOT_FOUND, ("task", "subscribe", "t-zzzz", "--agent", "dev-1"))


@pytest.mark.parametrize("verb", ["subscribe", "unsubscribe"])
def test_an_agent_may_not_subscribe_another_agent(crew: Path, cli: Runner, verb: str) -> None:
    task = add_task(cli, "Parser", "--assign", "dev-2")
    run_refused(
        cli,
        crew,
        ExitCode.PERMISSION,
        ("--as", "dev-1", "task", verb, task, "--agent", "dev-2"),
        "dev-1",
        "dev-2",
    )
    # Not even a lead.
    run_refused(
        cli,
        crew,
        ExitCode.PERMISSION,
        ("--as", "lead-1", "task", verb, task, "--agent", "dev-2"),
        "lead-1",
    )
    assert show(cli, task)["subscribers"] == ["dev-2"]


def test_a_mention_resubscribes_after_unsubscribe(crew: Path, cli: Runner) -> None:
    task = add_task(cli, "Parser", "--assign", "dev-1")
    assert cli("--as", "dev-1", "task", "unsubscribe", task).code == 0
    comment(cli, task, "status change nobody hears")
    assert reasons(cli, "dev-1", task, "message.added") == []
    comment(cli, task, "@dev-1 you are needed")
    assert show(cli, task)["subscribers"] == ["dev-1"]
    comment(cli, task, "a later message")
    assert reasons(cli, "dev-1", task, "message.added") == ["mention", "subscribed"]


def test_subscription_changes_do_not_notify_other_subscribers(crew: Path, cli: Runner) -> None:
    task = add_task(cli, "Parser", "--assign", "dev-1", "--assign", "dev-2")
    assert cli("--as", "rev-1", "task", "subscribe", task).code == 0
    assert cli("--as", "dev-2", "task", "unsubscribe", task).code == 0
    assert cli("task", "unsubscribe", task, "--agent", "rev-1").code == 0
    for agent in ("dev-1", "dev-2", "rev-1"):
        types = [n["type"] for n in inbox(cli, agent)["notifications"]]
        assert "task.subscribed" not in types and "task.unsubscribed" not in types, (agent, types)


# -- notification fan-out -------------------------------------------------------------------------


def test_mention_notifies_with_reason_mention(crew: Path, cli: Runner) -> None:
    task = add_task(cli, "Parser")
    sent = comment(
        cli, task, "@dev-1 can you look?\nmore detail", "--kind", "question", as_="dev-2"
    )
    box = inbox(cli, "dev-1")
    (item,) = box["notifications"]
    assert box["agent"] == "dev-1"
    assert box["unread"] == 1
    assert item["type"] == "message.added"
    assert item["reason"] == "mention"
    assert item["task"] == task
    assert item["title"] == "Parser"
    assert item["actor"] == "dev-2"
    assert item["excerpt"] == "question: @dev-1 can you look?"
    assert item["read"] is None and item["delivered"] is None
    assert re.fullmatch(r"e-[0-9a-z]{12}", item["id"])
    assert sent["id"]  # the message exists
    assert inbox(cli, "lead-1")["notifications"] == []


def test_at_all_notifies_everyone_but_the_author(crew: Path, cli: Runner) -> None:
    task = add_task(cli, "Parser")
    r = cli("--as", "dev-1", "task", "comment", task, "@all standup in 5")
    assert r.code == 0, str(r)
    assert "(notified dev-2, lead-1, rev-1)" in r.out
    for agent in ("dev-2", "lead-1", "rev-1"):
        assert reasons(cli, agent, task) == ["mention"]
    assert inbox(cli, "dev-1")["notifications"] == []


def test_role_mention_notifies_that_role(crew: Path, cli: Runner) -> None:
    task = add_task(cli, "Parser")
    comment(cli, task, "@role:developer please pick this up")
    assert reasons(cli, "dev-1", task) == ["mention"]
    assert reasons(cli, "dev-2", task) == ["mention"]
    assert reasons(cli, "rev-1", task) == []


def test_assignment_notifies_the_assignee(crew: Path, cli: Runner) -> None:
    task = add_task(cli, "Parser", "--assign", "dev-1")
    assert reasons(cli, "dev-1", task, "task.created") == ["assigned"]
    assert cli("task", "assign", task, "dev-2").code == 0
    assert reasons(cli, "dev-2", task, "task.assigned") == ["assigned"]
    # dev-1 is subscribed to the task it was assigned, so it hears of the new assignee too.
    assert reasons(cli, "dev-1", task, "task.assigned") == ["subscribed"]


def test_new_message_notifies_subscribers(crew: Path, cli: Runner) -> None:
    task = add_task(cli, "Parser", "--assign", "dev-1")
    comment(cli, task, "I have a question", as_="dev-2")  # dev-2 subscribes by commenting
    comment(cli, task, "an answer", as_="lead-1")
    assert reasons(cli, "dev-1", task, "message.added") == ["subscribed", "subscribed"]
    assert reasons(cli, "dev-2", task, "message.added") == ["subscribed"]
    assert reasons(cli, "rev-1", task) == []


def test_status_change_notifies_subscribers(crew: Path, cli: Runner) -> None:
    task = add_task(cli, "Parser", "--assign", "dev-1")
    comment(cli, task, "watching", as_="dev-2")
    assert cli("task", "move", task, "in_progress").code == 0
    (item,) = [n for n in inbox(cli, "dev-2")["notifications"] if n["type"] == "task.moved"]
    assert item["reason"] == "subscribed"
    assert "in_progress" in item["excerpt"]
    assert reasons(cli, "dev-1", task, "task.moved") == ["assignee"]  # named by the move itself


def test_review_requested_notifies_reviewers_not_the_implementer(crew: Path, cli: Runner) -> None:
    task = add_task(cli, "Parser", "--assign", "dev-1")
    assert cli("--as", "dev-1", "task", "move", task, "in_progress").code == 0
    assert cli("--as", "dev-1", "task", "move", task, "review").code == 0
    assert reasons(cli, "rev-1", task, "task.moved") == ["review"]
    # Leads are asked only when nobody has the review capability.
    assert reasons(cli, "lead-1", task, "task.moved") == []
    assert reasons(cli, "dev-1", task, "task.moved") == []  # the actor
    assert reasons(cli, "dev-2", task, "task.moved") == []


def test_review_reason_wins_over_subscription(crew: Path, cli: Runner) -> None:
    # A subscribed reviewer must still see that it is asked to review.
    task = add_task(cli, "Parser", "--assign", "dev-1")
    comment(cli, task, "I will review this", as_="rev-1")
    assert cli("--as", "dev-1", "task", "move", task, "in_progress").code == 0
    assert reasons(cli, "rev-1", task, "task.moved") == ["subscribed"]
    assert cli("--as", "dev-1", "task", "move", task, "review").code == 0
    assert reasons(cli, "rev-1", task, "task.moved") == ["subscribed", "review"]


def test_review_requested_falls_back_to_leads_never_the_implementer(
    ws_root: Path, cli: Runner
) -> None:
    for args in (
        ("lead-1", "--role", "lead", "--level", "lead"),
        ("lead-2", "--role", "lead", "--level", "lead"),
        ("dev-1", "--role", "developer"),
    ):
        assert cli("agent", "add", *args).code == 0
    task = add_task(cli, "Lead's own work", "--assign", "lead-1")
    assert cli("task", "move", task, "in_progress").code == 0  # a human moves it
    assert cli("task", "move", task, "review").code == 0
    assert reasons(cli, "lead-2", task, "task.moved") == ["review"]
    assert "review" not in reasons(cli, "lead-1", task, "task.moved")  # the implementer
    assert reasons(cli, "dev-1", task) == []


def test_dependency_done_notifies_the_dependents_assignees(crew: Path, cli: Runner) -> None:
    first = add_task(cli, "Foundation", "--assign", "dev-1")
    second = add_task(cli, "Walls", "--assign", "dev-2", "--depends-on", first)
    third = add_task(cli, "Roof", "--depends-on", second)
    assert cli("task", "move", first, "in_progress").code == 0
    assert reasons(cli, "dev-2", first) == []
    assert cli("task", "move", first, "done").code == 0
    (item,) = [n for n in inbox(cli, "dev-2")["notifications"] if n["task"] == first]
    assert item["reason"] == "dependency_done"
    assert item["type"] == "task.moved"
    assert third  # nobody is assigned to the grand-child: nobody else is told
    assert reasons(cli, "lead-1") == [] and reasons(cli, "rev-1") == []


def test_the_actor_is_never_notified(crew: Path, cli: Runner) -> None:
    task = add_task(cli, "Parser", "--assign", "dev-1")
    comment(cli, task, "note to self @dev-1, and @all", as_="dev-1")
    assert cli("--as", "dev-1", "task", "move", task, "in_progress").code == 0
    assert cli("--as", "dev-1", "task", "assign", task, "dev-1").code in (0, ExitCode.CONFLICT)
    assert [n for n in inbox(cli, "dev-1")["notifications"] if n["actor"] == "dev-1"] == []


def test_human_actions_are_not_inbox_entries_of_non_agents(crew: Path, cli: Runner) -> None:
    task = add_task(cli, "Parser", "--assign", "dev-1")
    comment(cli, task, "hi @dev-1")
    events = [
        json.loads(line)
        for f in sorted((crew / ".agentctl" / "events").glob("*.jsonl"))
        for line in f.read_text().splitlines()
    ]
    agents = {"lead-1", "dev-1", "dev-2", "rev-1"}
    for event in events:
        assert set(event["notify"]) <= agents, event
        assert event["actor"] not in event["notify"], event


# -- inbox ---------------------------------------------------------------------------------------


def test_inbox_lists_unread_newest_last(crew: Path, cli: Runner) -> None:
    task = add_task(cli, "Parser")
    for n in range(3):
        comment(cli, task, f"message {n} for @dev-1", as_="dev-2")
    items = inbox(cli, "dev-1")["notifications"]
    assert [i["excerpt"] for i in items] == [f"comment: message {n} for @dev-1" for n in range(3)]
    assert [i["ts"] for i in items] == sorted(i["ts"] for i in items)

    r = cli("inbox", "--agent", "dev-1")
    assert r.code == 0, str(r)
    lines = r.out.splitlines()
    assert lines[0].split() == ["ID", "WHEN", "FROM", "TASK", "WHY", "STATE", "WHAT"]
    assert [ln.split()[0] for ln in lines[1:4]] == [i["id"][:8] for i in items]
    assert "message 2 for @dev-1" in lines[3]
    assert lines[4] == "3 unread · mark read: agentctl inbox read ID… | --all"


def test_inbox_as_the_acting_agent(crew: Path, cli: Runner) -> None:
    task = add_task(cli, "Parser")
    comment(cli, task, "@dev-1 hi")
    r = cli("--as", "dev-1", "inbox", "--json")
    assert r.code == 0, str(r)
    assert r.json()["inbox"]["agent"] == "dev-1"
    assert len(r.json()["inbox"]["notifications"]) == 1


def test_inbox_when_empty(crew: Path, cli: Runner) -> None:
    r = cli("inbox", "--agent", "dev-1")
    assert r.code == 0, str(r)
    assert r.out == "dev-1: no unread notifications\n"
    assert inbox(cli, "dev-1") == {"agent": "dev-1", "unread": 0, "notifications": []}


def test_inbox_needs_an_agent_for_a_human(crew: Path, cli: Runner) -> None:
    assert_one_line_error(cli("inbox"), ExitCode.USAGE, "--as")


def test_inbox_of_unknown_agent(crew: Path, cli: Runner) -> None:
    assert_one_line_error(cli("inbox", "--agent", "ghost"), ExitCode.NOT_FOUND, "ghost")


def test_an_agent_may_not_read_another_agents_inbox(crew: Path, cli: Runner) -> None:
    task = add_task(cli, "Parser")
    comment(cli, task, "@dev-2 hi")
    assert_one_line_error(
        cli("--as", "dev-1", "inbox", "--agent", "dev-2"), ExitCode.PERMISSION, "dev-1", "dev-2"
    )
    run_refused(
        cli,
        crew,
        ExitCode.PERMISSION,
        ("--as", "dev-1", "inbox", "read", "--all", "--agent", "dev-2"),
        "dev-2",
    )
    assert inbox(cli, "dev-2")["unread"] == 1


def test_inbox_read_by_id_prefix_and_all(crew: Path, cli: Runner) -> None:
    task = add_task(cli, "Parser")
    for n in range(3):
        comment(cli, task, f"m{n} @dev-1", as_="dev-2")
    items = inbox(cli, "dev-1")["notifications"]
    r = cli("--as", "dev-1", "inbox", "read", items[0]["id"][:8], "--json")
    assert r.code == 0, str(r)
    assert r.json()["marked"] == {"agent": "dev-1", "read": [items[0]["id"]]}
    left = inbox(cli, "dev-1")
    assert left["unread"] == 2
    assert [i["id"] for i in left["notifications"]] == [items[1]["id"], items[2]["id"]]

    everything = inbox(cli, "dev-1", "--all")
    assert [i["id"] for i in everything["notifications"]] == [i["id"] for i in items]
    assert everything["notifications"][0]["read"] is not None
    assert everything["unread"] == 2

    r = cli("--as", "dev-1", "inbox", "read", "--all")
    assert r.code == 0, str(r)
    assert r.out == "dev-1: 2 notification(s) marked read\n"
    assert inbox(cli, "dev-1") == {"agent": "dev-1", "unread": 0, "notifications": []}
    r = cli("inbox", "--agent", "dev-1", "--all")
    assert r.code == 0, str(r)
    rows = r.out.splitlines()[1:-1]
    assert len(rows) == 3 and all(re.search(r"  mention  read  ", row) for row in rows), r.out


def test_inbox_read_full_id_twice_is_harmless(crew: Path, cli: Runner) -> None:
    task = add_task(cli, "Parser")
    comment(cli, task, "@dev-1 hi")
    (item,) = inbox(cli, "dev-1")["notifications"]
    for _ in range(2):
        r = cli("inbox", "read", item["id"], item["id"], "--agent", "dev-1", "--json")
        assert r.code == 0, str(r)
        assert r.json()["marked"]["read"] == [item["id"]]
    assert inbox(cli, "dev-1")["unread"] == 0


def test_inbox_read_errors(crew: Path, cli: Runner) -> None:
    task = add_task(cli, "Parser")
    comment(cli, task, "@dev-1 hi", as_="dev-2")
    comment(cli, task, "@dev-2 hi", as_="dev-1")
    (mine,) = inbox(cli, "dev-1")["notifications"]
    (theirs,) = inbox(cli, "dev-2")["notifications"]
    run_refused(
        cli,
        crew,
        ExitCode.NOT_FOUND,
        ("--as", "dev-1", "inbox", "read", "e-zzzzzzzzzzzz"),
        "e-zzzzzzzzzzzz",
    )
    # Another agent's notification ID is not one of mine.
    run_refused(cli, crew, ExitCode.NOT_FOUND, ("--as", "dev-1", "inbox", "read", theirs["id"]))
    run_refused(cli, crew, ExitCode.USAGE, ("--as", "dev-1", "inbox", "read"), "--all")
    run_refused(
        cli, crew, ExitCode.USAGE, ("--as", "dev-1", "inbox", "read", mine["id"], "--all"), "--all"
    )
    assert inbox(cli, "dev-1")["unread"] == 1


def test_read_state_is_kept_apart_from_notifications(crew: Path, cli: Runner) -> None:
    task = add_task(cli, "Parser")
    comment(cli, task, "@dev-1 hi")
    events_dir = crew / ".agentctl" / "events"
    logs = {p.name: p.read_bytes() for p in events_dir.iterdir()}
    (item,) = inbox(cli, "dev-1")["notifications"]
    assert cli("--as", "dev-1", "inbox", "read", item["id"]).code == 0
    assert {p.name: p.read_bytes() for p in events_dir.iterdir()} == logs  # no event for a read
    state = (crew / ".agentctl" / "inbox" / "dev-1.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(state) == 1
    entry = json.loads(state[0])
    assert entry["read"] == [item["id"]]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entry["ts"])


def test_each_inbox_read_is_one_git_commit(crew: Path, cli: Runner) -> None:
    task = add_task(cli, "Parser")
    comment(cli, task, "@dev-1 one")
    comment(cli, task, "@dev-1 two")
    items = inbox(cli, "dev-1")["notifications"]
    assert clean(crew)
    before = commit_count(crew)
    assert cli("--as", "dev-1", "inbox", "read", items[0]["id"]).code == 0
    assert commit_count(crew) == before + 1
    assert last_commit_paths(crew) == {".agentctl/inbox/dev-1.jsonl", "WORKING.md"}
    assert clean(crew)
    assert cli("--as", "dev-1", "inbox", "read", "--all").code == 0
    assert commit_count(crew) == before + 2
    assert ".agentctl/inbox/dev-1.jsonl" in last_commit_paths(crew)
    assert clean(crew)


def test_delivered_and_read_are_distinct(crew: Path, cli: Runner) -> None:
    task = add_task(cli, "Parser")
    comment(cli, task, "@dev-1 one")
    comment(cli, task, "@dev-1 two")
    first, second = inbox(cli, "dev-1")["notifications"]
    ws = Workspace(crew)
    try:
        result = ws.mark_delivered(ws.actor("dev-1"), [first["id"]])
        assert result == {"agent": "dev-1", "delivered": [first["id"]]}
        assert ws.index.undelivered("dev-1") == [second["id"]]
    finally:
        ws.close()
    box = inbox(cli, "dev-1")
    assert box["unread"] == 2  # delivered is not read
    by_id = {i["id"]: i for i in box["notifications"]}
    assert by_id[first["id"]]["delivered"] is not None and by_id[first["id"]]["read"] is None
    assert by_id[second["id"]]["delivered"] is None
    r = cli("inbox", "--agent", "dev-1")
    found = {ln.split()[0]: re.search(r"  mention  (\w+)  ", ln) for ln in r.out.splitlines()[1:3]}
    states = {key: match.group(1) for key, match in found.items() if match}
    assert states == {first["id"][:8]: "seen", second["id"][:8]: "new"}, r.out

    assert cli("--as", "dev-1", "inbox", "read", first["id"]).code == 0
    everything = {i["id"]: i for i in inbox(cli, "dev-1", "--all")["notifications"]}
    assert everything[first["id"]]["read"] is not None
    assert everything[first["id"]]["delivered"] is not None
    state_lines = [
        json.loads(x)
        for x in (crew / ".agentctl" / "inbox" / "dev-1.jsonl").read_text().splitlines()
    ]
    assert [sorted(k for k in e if k != "ts") for e in state_lines] == [["delivered"], ["read"]]


def test_mark_delivered_of_another_agent_is_refused(crew: Path, cli: Runner) -> None:
    from agentctl.errors import PermissionDeniedError

    task = add_task(cli, "Parser")
    comment(cli, task, "@dev-2 hi")
    (item,) = inbox(cli, "dev-2")["notifications"]
    ws = Workspace(crew)
    try:
        with pytest.raises(PermissionDeniedError):
            ws.mark_delivered(ws.actor("dev-1"), [item["id"]], agent="dev-2")
    finally:
        ws.close()


def test_working_md_shows_unread_counts_and_updates_after_reading(crew: Path, cli: Runner) -> None:
    task = add_task(cli, "Parser")
    assert "unread" not in agent_line(crew, "dev-1")
    comment(cli, task, "@dev-1 one", as_="dev-2")
    comment(cli, task, "@dev-1 @lead-1 two", as_="dev-2")
    assert agent_line(crew, "dev-1").endswith("· 2 unread")
    assert agent_line(crew, "lead-1").endswith("· 1 unread")
    assert "unread" not in agent_line(crew, "dev-2")
    first = inbox(cli, "dev-1")["notifications"][0]
    assert cli("--as", "dev-1", "inbox", "read", first["id"]).code == 0
    assert agent_line(crew, "dev-1").endswith("· 1 unread")
    assert cli("--as", "dev-1", "inbox", "read", "--all").code == 0
    assert "unread" not in agent_line(crew, "dev-1")
    assert agent_line(crew, "lead-1").endswith("· 1 unread")
    r = cli("working")
    assert r.code == 0 and "· 1 unread" in r.out


def test_hand_added_message_file_appears_in_the_thread(crew: Path, cli: Runner) -> None:
    task = add_task(cli, "Parser")
    comment(cli, task, "first")
    directory = crew / ".agentctl" / "threads" / task
    now = datetime.now(UTC)
    message_id = ids.new_id(ids.MESSAGE)
    name = now.strftime("%Y%m%dT%H%M%S") + f"999Z-{message_id}.md"
    (directory / name).write_text(
        f"---\nid: {message_id}\ntask: "
        + task
        + "\nauthor: dev-2\ncreated_at: '2999-01-01T00:00:00.000Z'\n"
        "kind: answer\nmentions: []\n---\nby hand\n",
        encoding="utf-8",
    )
    messages = thread(cli, task)
    assert [m["body"] for m in messages] == ["first\n", "by hand\n"]
    assert messages[1]["author"] == "dev-2"


def test_result_output_of_comment_reports_notified(crew: Path, cli: Runner) -> None:
    task = add_task(cli, "Parser")
    r: Result = cli("task", "comment", task, "no mentions here")
    assert r.code == 0, str(r)
    assert re.fullmatch(r"m-[0-9a-z]{12} added to t-[0-9a-z]{12}\n", r.out), str(r)


def test_marking_nothing_read_makes_no_commit(crew: Path, cli: Runner) -> None:
    before = commit_count(crew)
    r = cli("--as", "dev-1", "inbox", "read", "--all")
    assert r.code == 0, str(r)
    assert r.out == "dev-1: 0 notification(s) marked read\n"
    assert commit_count(crew) == before
    assert not (crew / ".agentctl" / "inbox" / "dev-1.jsonl").exists()
    assert clean(crew)


def test_validate_reports_an_invalid_message_file(crew: Path, cli: Runner) -> None:
    # An invalid message file is left out of the thread and of search: validate names it.
    task = add_task(cli, "Parser")
    sent = comment(cli, task, "fine")
    path = crew / sent["path"]
    path.write_text(
        path.read_text(encoding="utf-8").replace("kind: comment", "kind: gossip"), encoding="utf-8"
    )
    assert thread(cli, task) == []
    r = cli("validate")
    assert r.code == ExitCode.VALIDATION, str(r)
    assert sent["path"] in r.out + r.err


def test_a_broken_message_file_is_named_by_thread_not_silently_left_out(
    plain_dir: Path, cli: Runner
) -> None:
    assert cli("init").code == 0
    task = add_task(cli, "Talk")
    assert cli("task", "comment", task, "first words").code == 0
    assert cli("task", "comment", task, "second words").code == 0
    [broken, _] = sorted((plain_dir / ".agentctl" / "threads" / task).glob("*.md"))
    broken.write_text("---\nid: [unclosed\n---\nbody\n", encoding="utf-8")
    result = cli("thread", task)
    assert result.code == 0, str(result)
    assert "second words" in result.out and "first words" not in result.out
    rel = broken.relative_to(plain_dir).as_posix()
    [warning] = [line for line in result.err.splitlines() if "warning:" in line]
    assert rel in warning and "(skipped; run 'agentctl validate')" in warning
    as_json = cli("thread", task, "--json")
    assert as_json.code == 0 and rel in as_json.err
    assert [m["body"] for m in as_json.json()["thread"]["messages"]] == ["second words\n"]
    checked = cli("validate")
    assert checked.code == 6 and rel in checked.out
