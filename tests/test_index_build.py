"""A cold index build (``agentctl reindex``, a deleted index) gives exactly the rows and the
problems that indexing the same files one by one gives, serially or with worker processes;
and ``reindex`` shows a progress bar on a terminal only."""

from __future__ import annotations

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

from agentctl.core.ids import ALPHABET
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
    "events": "SELECT * FROM events",
    # A cold build drops the tables' secondary indexes and makes them again: the same ones.
    "schema": "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'",
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
    return ws


def build(
    root: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> tuple[dict[str, Any], list[str]]:
    with monkeypatch.context() as m:
        if mode == "incremental":  # the file-by-file path (what a refresh does for each change)
            m.setattr(Index, "_empty", lambda self: False)
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
