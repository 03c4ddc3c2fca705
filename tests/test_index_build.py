"""A cold index build (``agentctl reindex``, a deleted index) gives exactly the rows and the
problems that indexing the same files one by one gives, serially or with worker processes;
and ``reindex`` shows a progress bar on a terminal only."""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import Runner, add_task, make_team

from agentctl.core.ids import ALPHABET, short_ids
from agentctl.store import index_build
from agentctl.store.index import Index
from agentctl.workspace import Workspace

TABLES = {
    "files": "SELECT path, kind, sig, problem, line FROM files",
    "tasks": "SELECT * FROM tasks",
    "agents": "SELECT * FROM agents",
    "states": "SELECT * FROM states",
    "docs": "SELECT * FROM docs",
    "fts": "SELECT s.path, f.kind, f.ref, f.task, f.title, f.body FROM search_rows AS s"
    " JOIN fts AS f ON f.rowid = s.fts",
    "fts_count": "SELECT count(*) FROM fts",
    "events": "SELECT rowid, * FROM events",
    "notifications": "SELECT rowid, * FROM notifications",
    "notification_state": "SELECT rowid, * FROM notification_state",
    "subscriptions": "SELECT rowid, * FROM subscriptions",
    "logs": "SELECT * FROM logs",
    "messages": "SELECT * FROM messages",
    "message_files": "SELECT * FROM message_files",
    "dirs": "SELECT * FROM dirs",
    "task_agents": "SELECT * FROM task_agents",
    "short_ids": "SELECT * FROM short_ids",
    # the indexes dropped for the insert are created again as the schema wrote them
    "schema": "SELECT type, name, tbl_name, sql FROM sqlite_master",
}


def contents(root: Path) -> dict[str, Any]:
    db = sqlite3.connect(root / ".agentctl" / "local" / "index.sqlite")
    try:
        return {name: sorted(map(repr, db.execute(sql))) for name, sql in TABLES.items()}
    finally:
        db.close()


def task_text(task_id: str, title: str, extra: str = "") -> str:
    return (
        f"---\nid: {task_id}\ntitle: '{title}'\nstatus: inbox\npriority: 1\nassignees: [dev-1]\n"
        f"labels: [qa, 'no']\ndepends_on: []\ncreated_by: tester\n"
        f"created_at: '2026-11-09T07:55:00Z'\nupdated_at: '2026-11-09T07:55:00Z'\n{extra}---\nBody of {title}.\n"
    )


def new_id(rng: random.Random) -> str:
    return "t-" + "".join(rng.choice(ALPHABET) for _ in range(12))


@pytest.fixture
def root(tmp_path: Path, cli: Runner, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A workspace with agents, tasks written by the tool and by hand, and broken files."""
    ws = tmp_path / "ws"
    ws.mkdir()
    monkeypatch.chdir(ws)
    assert cli("init").code == 0
    make_team(cli)
    first = add_task(cli, "Written by the tool", "--label", "yes", "--priority", "0")
    add_task(cli, "Child: of the first", "--parent", first)
    tasks = ws / ".agentctl" / "tasks"
    rng = random.Random(5)
    for n in range(40):
        task_id = new_id(rng)
        (tasks / f"{task_id}.md").write_text(task_text(task_id, f"Hand task {n}"), encoding="utf-8")
    odd = new_id(rng)  # outside the fast reader's subset: comments, a block list
    (tasks / f"{odd}.md").write_text(
        task_text(odd, "Odd one", "# a comment\nestimate: 2h  # trailing\n").replace(
            "labels: [qa, 'no']", "labels:\n  - qa\n  - on"
        ),
        encoding="utf-8",
    )
    twin = new_id(rng)  # a second file claiming the ID of another: the problem is kept
    (tasks / f"{twin}.md").write_text(task_text(odd, "Twin"), encoding="utf-8")
    (tasks / f"{new_id(rng)}.md").write_text("---\ntitle: [unclosed\n---\n", encoding="utf-8")
    (tasks / f"{new_id(rng)}.md").write_text("no frontmatter\n", encoding="utf-8")
    (tasks / f"{new_id(rng)}.md").write_bytes(b"---\ntitle: \xff\n---\n")
    bad = new_id(rng)
    (tasks / f"{bad}.md").write_text(task_text(bad, "Other status").replace("inbox", "nope"))
    wrong_day = new_id(rng)  # ruamel raised a bare ValueError for it (a traceback before)
    (tasks / f"{wrong_day}.md").write_text(task_text(wrong_day, "Wrong day", "due: 2026-02-30\n"))
    blank = new_id(rng)  # a blank indented line after a nested key (the fast reader raised)
    (tasks / f"{blank}.md").write_text(task_text(blank, "Blank", "claim:\n  \n"))
    events_with_traps(ws, first, rng)
    messages_with_traps(ws, cli, first)
    return ws


def messages_with_traps(ws: Path, cli: Runner, task_id: str) -> None:
    """Threads: comments written by the tool, and by hand a message that fails its checks,
    one of another task's thread, one not UTF-8, a symlinked one and a directory in a
    message's name."""
    for n in range(3):
        assert cli("task", "comment", task_id, f"comment {n} on the first task").code == 0
    thread = ws / ".agentctl" / "threads" / task_id
    written = min(thread.iterdir()).read_text(encoding="utf-8")
    (thread / "20261101T100000000Z-m-aaaaaaaaaaaa.md").write_text(
        written.replace("kind: comment", "kind: nonsense"), encoding="utf-8"
    )
    other = ws / ".agentctl" / "threads" / ("t-" + "b" * 12)
    other.mkdir()
    (other / "20261101T100000000Z-m-bbbbbbbbbbbb.md").write_text(written, encoding="utf-8")
    (thread / "20261101T100000000Z-m-cccccccccccc.md").write_bytes(b"---\nid: \xff\n---\n")
    (thread / "20261101T100000000Z-m-dddddddddddd.md").symlink_to(min(thread.iterdir()))
    (thread / "20261101T100000000Z-m-eeeeeeeeeeee.md").mkdir()


def event(event_id: str, ts: str, kind: str, subject: str | None, **more: Any) -> str:
    line = {"id": event_id, "ts": ts, "actor": more.pop("actor", "dev-1"), "type": kind,
            "subject": subject, "data": more.pop("data", {}), "notify": more.pop("notify", [])}  # fmt: skip
    return json.dumps(line) + "\n"


def events_with_traps(ws: Path, task_id: str, rng: random.Random) -> None:
    """Event logs a cold build must read as line-by-line ingestion does: an ID twice (the
    first line wins, with its notifications and subscriptions), lines that are not events, a
    torn last line, whitespace around a line and something after one, a repeated and an
    invalid notified name, notify values that are not lists of names, subscription changes
    with equal and with earlier stamps, and read-state lines for some of the notifications."""
    ids = ["e-" + new_id(rng)[2:] for _ in range(12)]
    day1 = (
        event(ids[0], "2026-11-01T10:00:00Z", "message.added", task_id, notify=["dev-2", "dev-2", "Bad Name"],
              data={"mentions": ["dev-2"]})
        + event(ids[1], "2026-11-01T11:00:00Z", "task.unsubscribed", task_id, data={"agent": "dev-2"})
        + event(ids[2], "2026-11-01T11:00:00Z", "task.subscribed", task_id, data={"agent": "dev-2"})
        + '{"id": "not an event"}\n[1, 2]\n'
        + "  " + event(ids[10], "2026-11-01T12:30:00Z", "note.added", None).replace("\n", " \n")
        + event(ids[11], "2026-11-01T12:40:00Z", "note.added", None).replace("\n", "{}\n")
        + event(ids[8], "2026-11-01T12:00:00Z", "message.added", task_id, notify=5)
        + event(ids[9], "2026-11-01T12:00:00Z", "message.added", task_id, notify=[1, "dev-1"])
        + event(ids[3], "2026-11-01T09:00:00Z", "task.assigned", task_id, notify=["intern-1"],
                data={"added": ["intern-1"]})
    )  # fmt: skip
    day2 = (
        event(ids[0], "2026-11-02T10:00:00Z", "task.claimed", task_id, actor="lead-1", notify=["lead-1"])
        + event(ids[4], "2026-11-02T08:00:00Z", "task.subscribed", task_id, data={"agent": "intern-1"})
        + event(ids[5], "2026-10-30T08:00:00Z", "task.unsubscribed", task_id, data={"agent": "intern-1"})
        + event(ids[6], "2026-11-02T12:00:00Z", "task.created", "t-" + ids[6][2:], actor="lead-1",
                notify=["dev-1", "lead-1"])  # lead-1: created and assigned, one stamp
        + '{"id": "' + ids[7] + '", "ts": "2026-11-02T13:00'
    )  # fmt: skip
    events_dir = ws / ".agentctl" / "events"
    (events_dir / "2026-11-01.jsonl").write_text(day1, encoding="utf-8")
    (events_dir / "2026-11-02.jsonl").write_text(day2, encoding="utf-8")
    inbox = ws / ".agentctl" / "inbox"
    inbox.mkdir(exist_ok=True)
    with (inbox / "dev-2.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(json.dumps({"ts": "2026-11-03T00:00:00Z", "delivered": [ids[0]]}) + "\n")
        handle.write(json.dumps({"ts": "2026-11-04T00:00:00Z", "read": [ids[0], ids[3]]}) + "\n")


def build(
    root: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> tuple[dict[str, Any], list[str]]:
    with monkeypatch.context() as m:
        if mode == "incremental":  # the file-by-file path (what a refresh does for each change)
            m.setattr(Index, "_empty", lambda self: False)
            m.setattr(Index, "_no_events", lambda self: False)
            m.setattr(Index, "_no_messages", lambda self: False)
        elif mode == "parallel":
            m.setattr(index_build, "PARALLEL_MIN_FILES", 1)
            m.setattr(index_build, "_CHUNK", 7)
            m.setenv("AGENTCTL_INDEX_WORKERS", "2")
        else:
            m.setenv("AGENTCTL_INDEX_WORKERS", "1")
        ws = Workspace(root)
        try:
            problems = [str(p) for p in ws.reindex()["problems"]]
        finally:
            ws.close()
    return contents(root), problems


def test_a_cold_build_gives_the_rows_and_problems_of_file_by_file_indexing(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    incremental = build(root, monkeypatch, "incremental")
    serial = build(root, monkeypatch, "serial")
    parallel = build(root, monkeypatch, "parallel")
    assert serial == incremental
    assert parallel == incremental
    rows, problems = serial
    assert len(rows["tasks"]) >= 42 and len(problems) == 5, problems
    assert any("not valid UTF-8" in p for p in problems)
    assert any("missing frontmatter" in p for p in problems)
    assert any("does not match the file name" in p for p in problems)
    assert any("invalid YAML: day is out of range for month" in p for p in problems), problems
    assert rows["fts_count"] == [repr((len(rows["fts"]),))]
    assert any("'Blank'" in row for row in rows["tasks"])  # a null claim, read by ruamel
    assert len(rows["subscriptions"]) >= 3 and len(rows["notification_state"]) == 2
    assert sum("'note.added'" in row for row in rows["events"]) == 1  # one with extra data
    assert len(rows["messages"]) == 3 and len(rows["message_files"]) == 8, rows["message_files"]
    assert sum("None, None)" not in row for row in rows["message_files"]) == 5  # problems
    events = root / ".agentctl" / "events"
    for log in ("2026-11-01.jsonl", "2026-11-02.jsonl"):  # read up to the last complete line
        read = (events / log).read_bytes().rpartition(b"\n")[0] + b"\n"
        assert any(
            f"'.agentctl/events/{log}'" in row and f", {len(read)}, " in row for row in rows["logs"]
        )
    assert any(
        "'dev-2'" in row and "'2026-11-04T00:00:00Z'" in row for row in rows["notifications"]
    )


def test_refreshing_after_edits_matches_a_rebuild(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(root, monkeypatch, "serial")
    tasks = root / ".agentctl" / "tasks"
    files = sorted(tasks.glob("*.md"))
    files[0].unlink()
    text = files[1].read_text(encoding="utf-8")
    files[1].write_text(text.replace("status: inbox", "status: done"), encoding="utf-8")
    ws = Workspace(root)
    ws.index.refresh()
    ws.close()
    refreshed = contents(root)
    rebuilt, _ = build(root, monkeypatch, "serial")
    refreshed.pop("files"), rebuilt.pop("files")  # signatures: the same files, compared below
    assert refreshed == rebuilt


def test_a_parallel_build_is_used_for_many_files(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With enough files and two workers, the rows come from worker processes."""
    seen: list[int] = []
    real = index_build._parse_parallel

    def spy(*args: Any) -> Any:
        seen.append(os.getpid())
        return real(*args)

    monkeypatch.setattr(index_build, "_parse_parallel", spy)
    build(root, monkeypatch, "parallel")
    assert seen


def many_tasks(root: Path, count: int) -> None:
    rng = random.Random(9)
    tasks = root / ".agentctl" / "tasks"
    for n in range(count):
        task_id = new_id(rng)
        (tasks / f"{task_id}.md").write_text(task_text(task_id, f"Task {n}"), encoding="utf-8")


def reindex_on_a_pty(root: Path, *args: str) -> tuple[int, str, str]:
    import pty

    controller, terminal = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "agentctl", "reindex", *args], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=terminal, cwd=root, close_fds=True)  # fmt: skip
    os.close(terminal)
    seen = b""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            chunk = os.read(controller, 65536)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    out = proc.stdout.read().decode() if proc.stdout else ""
    proc.wait(timeout=60)
    os.close(controller)
    return proc.returncode, out, seen.decode("utf-8", "replace")


def test_reindex_shows_a_progress_bar_on_a_terminal_for_many_files(root: Path) -> None:
    many_tasks(root, 2100)
    code, out, err = reindex_on_a_pty(root)
    assert code == 0, err
    assert "indexing" in err and "━" in err, err
    assert "/2" in err  # "done/total" count of record files
    assert out.startswith("indexed 21"), out


def test_no_progress_bar_for_a_short_build_for_json_or_off_a_terminal(root: Path) -> None:
    code, out, err = reindex_on_a_pty(root)
    assert code == 0 and "indexing" not in err, err
    many_tasks(root, 2100)
    code, out, err = reindex_on_a_pty(root, "--json")
    assert code == 0 and "indexing" not in err and out.startswith("{"), err
    proc = subprocess.run([sys.executable, "-m", "agentctl", "reindex"], cwd=root,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 0 and "indexing" not in proc.stderr, proc.stderr


def _agents_of_tasks(root: Path) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(task_agents rows, the assignees of the tasks rows): the same whatever the writes."""
    db = sqlite3.connect(root / ".agentctl" / "local" / "index.sqlite")
    try:
        kept = db.execute("SELECT agent, task FROM task_agents ORDER BY 1, 2").fetchall()
        model = db.execute(
            "SELECT DISTINCT j.value, t.id FROM tasks AS t, json_each(t.assignees) AS j ORDER BY 1, 2"
        ).fetchall()
        return kept, model
    finally:
        db.close()


def test_task_agents_follow_every_write(
    root: Path, monkeypatch: pytest.MonkeyPatch, cli: Runner
) -> None:
    """The assignee table behind `--assignee` and an agent's heartbeat is kept by SQLite on
    every path that writes tasks: a cold build (serial and file by file), agentctl's own
    writes, hand edits, deletions and two files claiming one ID with other assignees."""
    tasks = root / ".agentctl" / "tasks"
    # Valid hand-written tasks, assigned to dev-1 (the tool-made ones have random IDs)
    files = sorted(f for f in tasks.glob("*.md") if b"title: 'Hand task" in f.read_bytes())
    first_id = files[2].stem
    twin = tasks / f"{new_id(random.Random(99))}.md"  # claims files[2]'s ID, other assignees
    twin.write_text(
        task_text(first_id, "Twin").replace("assignees: [dev-1]", "assignees: [dev-2, lead-1]"),
        encoding="utf-8",
    )
    for mode in ("serial", "incremental"):
        build(root, monkeypatch, mode)
        kept, model = _agents_of_tasks(root)
        assert kept == model and kept, mode
    made = add_task(cli, "Assigned by the tool", "--assign", "dev-2", cwd=root)
    edited = files[3].read_text(encoding="utf-8").replace("[dev-1]", "[lead-1, dev-2]")
    files[3].write_text(edited, encoding="utf-8")
    files[4].unlink()
    twin.unlink()
    ws = Workspace(root)
    try:
        ws.refresh()
        kept, model = _agents_of_tasks(root)
        assert kept == model
        every = short_ids(ws.index.task_ids())
        assert dict(ws.index.db.execute("SELECT task, length FROM short_ids").fetchall()) == {
            i: len(s) for i, s in every.items() if len(s) > 6
        }
        assert ("dev-2", made) in kept, kept
        assert ("lead-1", files[3].stem) in kept, kept
        assert not [row for row in kept if row[1] == files[4].stem]
        everything = ws.list_tasks(include_done=True)
        for agent in ("dev-1", "dev-2", "lead-1", "nobody"):
            assert [t["id"] for t in ws.list_tasks(assignee=agent, include_done=True)] == [
                t["id"] for t in everything if agent in t["assignees"]
            ], agent
    finally:
        ws.close()
