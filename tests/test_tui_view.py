"""The board's pure parts (filter language, agent bar, selection, optimistic moves) and the
``board`` command's choice between the live board, the static board and the browser."""

from __future__ import annotations

import shlex
import socket
import sys
import types
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import Runner, add_task, assert_one_line_error, make_team

from agentctl.core import ids
from agentctl.core.board import (
    Board,
    BoardFilter,
    Card,
    Column,
    agent_status,
    build_agent_bar,
    build_board,
    parse_filter,
)
from agentctl.tui.view import Cursor, age, clock_time, move_card, neighbour_status, reselect

FLOW = {
    "statuses": ["inbox", "assigned", "in_progress", "review", "done", "blocked"],
    "done": ["done"],
    "review": "review",
    "blocked": "blocked",
}


# -- the filter language --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", BoardFilter()),
        ("@nova", BoardFilter(assignee="nova")),
        ("#backend p1", BoardFilter(label="backend", priority=1)),
        ("P0 fix the index", BoardFilter(text="fix the index", priority=0)),
        (
            "assignee:pixel label:ux priority:p3",
            BoardFilter(assignee="pixel", label="ux", priority=3),
        ),
        ("@a @b", BoardFilter(assignee="b")),
        ("p4 @ #", BoardFilter(text="p4 @ #")),
    ],
)
def test_parse_filter(query: str, expected: BoardFilter) -> None:
    assert parse_filter(query) == expected


def test_filter_matches_title_id_with_or_without_prefix_assignee_label_priority() -> None:
    task = {
        "id": "t-4k7q2m9x3bce",
        "title": "Build the Index",
        "assignees": ["nova"],
        "labels": ["perf"],
        "priority": 1,
    }
    assert parse_filter("index").matches(task)
    assert parse_filter("4k7q").matches(task) and parse_filter("t-4k7q").matches(task)
    assert parse_filter("@nova #perf p1 build").matches(task)
    assert not parse_filter("@pixel").matches(task)
    assert not parse_filter("#docs").matches(task)
    assert not parse_filter("p0").matches(task)
    assert not parse_filter("5k7q").matches(task)
    assert parse_filter("@nova p1").describe() == "@nova p1"
    assert not BoardFilter().active and parse_filter("x").active


# -- the agent bar --------------------------------------------------------------------------------

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def beat(minutes_ago: float) -> str:
    return (NOW - timedelta(minutes=minutes_ago)).isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize(
    ("state", "every", "expected"),
    [
        ({}, None, ("idle", None)),
        ({"status": "active", "last_heartbeat": beat(2)}, None, ("active", 120.0)),
        (
            {"status": "idle", "last_heartbeat": beat(44)},
            None,
            ("idle", 2640.0),
        ),  # 3 x 15m not yet missed
        ({"status": "idle", "last_heartbeat": beat(46)}, None, ("stale", 2760.0)),
        ({"status": "active", "last_heartbeat": beat(170)}, "1h", ("active", 10200.0)),
        ({"status": "active", "last_heartbeat": beat(190)}, "1h", ("stale", 11400.0)),
        ({"status": "blocked", "last_heartbeat": beat(600)}, None, ("blocked", 36000.0)),
    ],
)
def test_agent_status(
    state: dict[str, Any], every: str | None, expected: tuple[str, float | None]
) -> None:
    agent = {"name": "a", "heartbeat": {"every": every}} if every else {"name": "a"}
    assert agent_status(agent, state, NOW, 3) == expected


def test_agent_bar_chips() -> None:
    agents = [
        {
            "name": "nova",
            "role": "dev",
            "state": {
                "status": "active",
                "current_task": "t-4k7q2m9x3bce",
                "last_heartbeat": beat(1),
            },
            "open_tasks": 2,
        },
        {"name": "atlas", "role": "lead", "level": "lead", "state": {}, "open_tasks": 0},
    ]
    chips = build_agent_bar(agents, NOW, 3, {"nova": 4}, {"t-4k7q2m9x3bce": "t-4k7q"})
    assert [c.name for c in chips] == ["atlas", "nova"]
    assert (chips[1].status, chips[1].current_task, chips[1].unread, chips[1].open_tasks) == (
        "active",
        "t-4k7q",
        4,
        2,
    )
    assert (chips[0].status, chips[0].heartbeat_age, chips[0].unread) == ("idle", None, 0)
    assert chips[0].host is None  # one machine (or none named): no host on the chips


def test_agent_bar_names_hosts_when_the_team_spans_machines() -> None:
    from agentctl.tui.widgets.agents import chip_text

    agents = [
        {"name": "ada", "role": "dev", "host": "laptop", "state": {}, "open_tasks": 0},
        {"name": "bo", "role": "dev", "host": "server", "state": {}, "open_tasks": 0},
        {"name": "old", "role": "dev", "state": {}, "open_tasks": 0},
    ]
    chips = build_agent_bar(agents, NOW, 3)
    assert [c.host for c in chips] == ["laptop", "server", "-"]
    assert "bo@server idle" in chip_text(chips[1]).plain


def test_formatting() -> None:
    assert age(None) == "never" and age(125) == "2m" and age(7300) == "2h"
    assert clock_time("2026-03-02T09:58:00Z", NOW) == "09:58"
    assert clock_time("2026-03-01T23:10:00.000Z", NOW) == "03-01 23:10"
    assert clock_time("garbage", NOW) == "garbage"


# -- selection and optimistic moves ---------------------------------------------------------------


def card(task_id: str, priority: int = 2, **extra: Any) -> Card:
    return Card(
        task_id,
        task_id[:6],
        task_id,
        priority,
        (),
        (),
        extra.get("blocked", False),
        extra.get("review", False),
    )


def board(**columns: list[Card]) -> Board:
    cols = tuple(
        Column(s, tuple(columns.get(s, [])), len(columns.get(s, []))) for s in FLOW["statuses"]
    )
    return Board(cols, {c.status: c.total for c in cols})


def test_reselect_keeps_each_columns_task_or_its_position() -> None:
    a, b, c, d = (
        card("t-aaaa00000000"),
        card("t-bbbb00000000"),
        card("t-cccc00000000"),
        card("t-dddd00000000"),
    )
    cursor = reselect(Cursor(), board(inbox=[a, b, c], review=[d]).columns)
    cursor.index["inbox"], cursor.selected["inbox"] = 1, b.id
    # a is moved away by someone else: b is still selected, now first
    after = reselect(cursor, board(inbox=[b, c], assigned=[a], review=[d]).columns)
    assert after.column == 0 and after.index["inbox"] == 0 and after.selected["inbox"] == b.id
    # b is moved away: the position is kept (clamped), on the task now there
    after = reselect(after, board(inbox=[c], assigned=[a, b], review=[d]).columns)
    assert after.index["inbox"] == 0 and after.selected["inbox"] == c.id
    # following a task moves the cursor to its column
    after = reselect(after, board(inbox=[c], assigned=[a, b], review=[d]).columns, follow=b.id)
    assert after.column == 1 and after.selected["assigned"] == b.id


def test_move_card_places_the_card_where_the_workspace_will() -> None:
    created = {
        "t-aaaa00000000": "2026-01-01",
        "t-bbbb00000000": "2026-01-02",
        "t-cccc00000000": "2026-01-03",
    }
    a, b, c = card("t-aaaa00000000", 1), card("t-bbbb00000000", 2), card("t-cccc00000000", 1)
    start = board(inbox=[a, c], review=[b])
    moved = move_card(start, c.id, "review", FLOW, created)
    assert moved is not None
    columns = {col.status: col for col in moved.columns}
    assert [x.id for x in columns["inbox"].cards] == [a.id]
    assert [x.id for x in columns["review"].cards] == [c.id, b.id]  # p1 before p2
    assert columns["review"].cards[0].needs_review and columns["review"].total == 2
    assert moved.counts["inbox"] == 1 and moved.counts["review"] == 2
    done = move_card(moved, b.id, "done", FLOW, created)
    assert done is not None
    assert [x.id for x in next(col for col in done.columns if col.status == "done").cards] == [b.id]
    assert not next(col for col in done.columns if col.status == "done").cards[0].needs_review
    assert move_card(start, "t-zzzz00000000", "done", FLOW, created) is None
    assert move_card(start, a.id, "inbox", FLOW, created) is None


def test_neighbour_status() -> None:
    assert neighbour_status(FLOW, "inbox", 1) == "assigned"
    assert neighbour_status(FLOW, "inbox", -1) is None
    assert neighbour_status(FLOW, "blocked", 1) is None
    assert neighbour_status(FLOW, "review", -1) == "in_progress"


# -- the board command ------------------------------------------------------------------------------


@pytest.fixture
def interactive_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    calls: list[tuple[Any, ...]] = []

    def fake(ws: Any, actor: str | None, query: str = "", show_done: bool = False) -> None:
        calls.append((Path(ws.root), actor, query, show_done))
        ws.close()

    monkeypatch.setattr("agentctl.cli.board.run_interactive", fake)
    return calls


def test_board_runs_the_tui_on_a_terminal_and_prints_when_piped(
    ws_root: Path,
    cli: Runner,
    interactive_calls: list[tuple[Any, ...]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_team(cli)
    add_task(cli, "Shown", "--assign", "dev-1")
    piped = cli("board")
    assert piped.code == 0 and "== assigned (1)" in piped.out and not interactive_calls
    r = cli("--as", "dev-1", "board", "--tui", "--assignee", "dev-1", "--label", "ui", "--done")
    assert r.code == 0, str(r)
    assert interactive_calls == [(ws_root, "dev-1", "@dev-1 #ui", True)]
    monkeypatch.setenv(
        "TEXTUAL_DRIVER", "textual.drivers.web_driver:WebDriver"
    )  # under textual-serve
    assert cli("board").code == 0
    assert len(interactive_calls) == 2
    monkeypatch.delenv("TEXTUAL_DRIVER")
    monkeypatch.setattr("agentctl.cli.output.is_terminal", lambda: True)
    assert cli("board").code == 0
    assert len(interactive_calls) == 3
    # --plain and --json stay static on a terminal
    plain = cli("board", "--plain")
    assert plain.code == 0 and "assigned (1)" in plain.out and "Shown" in plain.out
    assert cli("board", "--json").code == 0
    assert len(interactive_calls) == 3


def test_board_web_without_textual_serve_is_a_clear_usage_error(
    ws_root: Path, cli: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "textual_serve", None)  # as if not installed
    monkeypatch.setitem(sys.modules, "textual_serve.server", None)
    r = cli("board", "--web")
    assert_one_line_error(r, 2, "board --web needs the optional textual-serve package")
    assert "pip install 'agentctl[web]'" in r.err


def test_board_web_serves_the_tui_command(
    ws_root: Path, cli: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    served: list[dict[str, Any]] = []

    class Server:
        def __init__(self, command: str, host: str, port: int, title: str, public_url: str) -> None:
            served.append(
                {"command": command, "host": host, "port": port, "title": title, "url": public_url}
            )

        def serve(self) -> None:
            served[-1]["served"] = True

    package = types.ModuleType("textual_serve")
    module = types.ModuleType("textual_serve.server")
    module.Server = Server  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "textual_serve", package)
    monkeypatch.setitem(sys.modules, "textual_serve.server", module)
    make_team(cli)
    r = cli(
        "--as",
        "dev-1",
        "board",
        "--web",
        "--host",
        "0.0.0.0",
        "--port",
        "8123",
        "--assignee",
        "dev 1",
    )
    assert r.code == 0, str(r)
    [call] = served
    assert (call["host"], call["port"], call["title"], call["served"]) == (
        "0.0.0.0",
        8123,
        "agentctl board",
        True,
    )
    argv = shlex.split(call["command"])
    assert argv == ["exec", sys.executable, "-m", "agentctl", "-W", str(ws_root), "--as", "dev-1", "board", "--tui",
                    "--assignee", "dev 1"]  # fmt: skip
    # browsers are never told to connect to the wildcard address
    assert call["url"] == f"http://{socket.gethostname()}:8123"
    assert (
        f"serving the board on http://{socket.gethostname()}:8123 (listening on 0.0.0.0:8123"
        in r.err
    )


def test_board_with_an_unknown_agent_fails_before_any_screen(ws_root: Path, cli: Runner) -> None:
    r = cli("--as", "nobody", "board", "--tui")
    assert_one_line_error(r, 3, "no agent named 'nobody'")


# -- the gateway's windowed reads ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "",
        "task 1",
        "@dev-1",
        "#perf",
        "p2",
        "#perf @dev-2 p1",
        "ÉTÉ",
        "K",
        "t-0000000001",
        "nothing",
    ],
)
def test_the_windowed_board_is_the_top_of_the_whole_board(tmp_path: Path, query: str) -> None:
    """The board reads per column only the first cards and the counts from the index (the
    filter runs there too); it must show exactly the first cards of the board built from
    every task by the pure view model (order, markers, counts), whatever the column sizes."""
    import random

    from agentctl.core import body as taskbody
    from agentctl.store.frontmatter import Document
    from agentctl.tui import gateway as gw
    from agentctl.tui.view import ViewOptions
    from agentctl.workspace import Workspace

    root = tmp_path / "ws"
    Workspace.init(root, "windowed", "tester")
    rng = random.Random(5)
    statuses = ["inbox", "assigned", "in_progress", "review", "done", "blocked"]
    made: list[str] = []
    titles = ["task {n}", "Été {n}", "\u212a kelvin {n}", "KELVIN {n}", "plain {n}"]
    for n in range(400):
        task_id = f"t-{n:012d}"
        stamp = f"2026-01-{1 + n % 28:02d}T{n % 24:02d}:{n % 60:02d}:00Z"
        fields = {"id": task_id, "title": rng.choice(titles).format(n=n), "status": rng.choice(statuses),
                  "priority": rng.randint(0, 3), "assignees": rng.sample(["dev-1", "dev-2"], k=rng.randint(0, 2)),
                  "labels": rng.sample(["perf", "docs", "a\"b"], k=rng.randint(0, 2)),
                  "depends_on": rng.sample(made[-30:], k=min(len(made), rng.choice([0, 1, 2]))),
                  "created_by": "tester", "created_at": stamp, "updated_at": f"2026-02-0{1 + n % 3}T00:00:00Z"}  # fmt: skip
        (root / ".agentctl" / "tasks" / f"{task_id}.md").write_text(
            Document.new(fields, taskbody.task_body("", [])).dumps(), encoding="utf-8"
        )
        made.append(task_id)
    gateway = gw.Gateway(Workspace(root), page=7)
    try:
        gateway.run_sync(gateway.open)
        everything = gateway.run_sync(lambda: gateway.ws.list_tasks(include_done=True))
        short = ids.short_ids(sorted(t["id"] for t in everything))
        wanted = parse_filter(query)
        for show_done, limits in ((False, ()), (True, ()), (True, (("done", 30), ("inbox", 9)))):
            options = ViewOptions(wanted, show_done, limits)
            got = gateway.run_sync(gateway.snapshot, options)
            whole = build_board(
                [t for t in everything if wanted.matches(t)], gateway.ws.workflow, short,
                per_column=10_000, show_done=show_done,
                all_tasks={t["id"]: t for t in everything},
            )  # fmt: skip
            assert got.counts == {s: sum(t["status"] == s for t in everything) for s in statuses}
            for g, w in zip(got.board.columns, whole.columns, strict=True):
                assert (g.status, g.total) == (w.status, w.total), query
                limit = options.limit(g.status, 7) if show_done or g.status != "done" else 5
                assert g.cards == w.cards[:limit], (query, g.status)
            if not wanted.active:
                assert any(card.blocked for c in got.board.columns for card in c.cards)
            shown = sum(c.total for c in got.board.columns)
            assert shown == sum(wanted.matches(t) for t in everything)
    finally:
        gateway.close()
