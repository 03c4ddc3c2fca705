"""Standup and stats: exact reports over a workspace with hand-written, fixed-time history,
the event shapes the real task commands write, and the pure computations."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import Runner, add_task, git, make_team, run_refused

from agentctl.core import reports
from agentctl.core.ids import ALPHABET
from agentctl.errors import UsageError
from agentctl.workspace import Workspace


@pytest.fixture
def ws_root(git_ws_root: Path) -> Path:
    """These tests check their outcome against git (a refused change leaves the repository
    as it was, commits, history): a real repository."""
    return git_ws_root


WINDOW = ("--since", "7d", "--until", "2026-03-08T00:00:00Z")
AT = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)

TA, TB, TC, TD, TE, TF, TG, TH = (f"t-aaaaaaaaaaa{n}" for n in range(1, 9))
TASKS = [
    # id, title, status, assignees, created_at, updated_at
    (TA, "Login page", "done", ["dev-1"], "2026-03-01T09:00:00Z", "2026-03-02T10:00:00Z"),
    (TB, "Signup API", "done", ["dev-2"], "2026-02-20T09:00:00Z", "2026-03-03T08:00:00Z"),
    (
        TC,
        "Fix flaky test",
        "in_progress",
        ["dev-1"],
        "2026-03-02T09:00:00Z",
        "2026-03-02T09:30:00Z",
    ),
    (TD, "Write docs", "blocked", ["dev-2"], "2026-01-10T09:00:00Z", "2026-03-03T12:00:00Z"),
    (TE, "Release notes", "review", ["dev-2"], "2026-03-04T09:00:00Z", "2026-03-05T09:00:00Z"),
    (TF, "Triage me", "inbox", [], "2026-01-05T09:00:00Z", "2026-01-05T09:00:00Z"),
    (TG, "Reopened work", "in_progress", ["dev-1"], "2026-03-01T10:00:00Z", "2026-03-04T09:00:00Z"),
    (TH, "Old done", "done", ["dev-1"], "2026-02-01T09:00:00Z", "2026-02-10T09:00:00Z"),
]

_serial = iter(range(1, 10_000))


def event(ts: str, actor: str, type_: str, subject: str, **data: Any) -> dict[str, Any]:
    n = next(_serial)
    suffix = "".join(ALPHABET[(n >> (5 * i)) & 31] for i in reversed(range(4)))
    return {
        "id": f"e-aaaaaaaa{suffix}",
        "ts": ts,
        "actor": actor,
        "type": type_,
        "subject": subject,
        "data": data,
        "notify": [],
    }


HISTORY: dict[str, list[dict[str, Any] | str]] = {
    "2026-01-10": [
        "this line was never meant to be read",
        event(
            "2026-01-10T09:00:00.000Z",
            "lead-1",
            "task.created",
            TD,
            title="Write docs",
            status="assigned",
        ),
    ],
    "2026-02-20": [
        event(
            "2026-02-20T09:00:00.000Z",
            "lead-1",
            "task.created",
            TB,
            title="Signup API",
            status="inbox",
        )
    ],
    "2026-02-25": [
        event(
            "2026-02-25T08:00:00.000Z",
            "lead-1",
            "task.assigned",
            TB,
            title="Signup API",
            added=["dev-2"],
        )
    ],
    "2026-03-01": [
        event(
            "2026-03-01T09:00:00.000Z",
            "lead-1",
            "task.created",
            TA,
            title="Login page",
            status="assigned",
        ),
        event(
            "2026-03-01T10:00:00.000Z",
            "lead-1",
            "task.created",
            TG,
            title="Reopened work",
            status="assigned",
        ),
    ],
    "2026-03-02": [
        event(
            "2026-03-02T09:00:00.000Z",
            "dev-1",
            "task.moved",
            TA,
            title="Login page",
            **{"from": "assigned", "to": "in_progress"},
        ),
        event(
            "2026-03-02T09:00:01.000Z",
            "lead-1",
            "task.created",
            TC,
            title="Fix flaky test",
            status="assigned",
        ),
        event(
            "2026-03-02T10:00:00.000Z",
            "lead-1",
            "task.moved",
            TA,
            title="Login page",
            **{"from": "review", "to": "done"},
        ),
    ],
    "2026-03-03": [
        event(
            "2026-03-03T08:00:00.000Z",
            "qa-human",
            "task.moved",
            TB,
            title="Signup API",
            **{"from": "review", "to": "done"},
        ),
        event(
            "2026-03-03T12:00:00.000Z",
            "dev-2",
            "task.moved",
            TD,
            title="Write docs",
            note="waiting for API keys",
            **{"from": "in_progress", "to": "blocked"},
        ),
        event(
            "2026-03-03T13:00:00.000Z",
            "lead-1",
            "task.moved",
            TG,
            title="Reopened work",
            **{"from": "review", "to": "done"},
        ),
    ],
    "2026-03-04": [
        event(
            "2026-03-04T09:00:00.000Z",
            "lead-1",
            "task.moved",
            TG,
            title="Reopened work",
            **{"from": "done", "to": "in_progress"},
        ),
        event(
            "2026-03-04T10:00:00.000Z",
            "lead-1",
            "doc.added",
            "d-aaaaaaaaaaa1",
            title="Use SQLite for the index",
            type="decision",
            task=TD,
        ),
        event(
            "2026-03-04T11:00:00.000Z",
            "dev-1",
            "doc.added",
            "d-aaaaaaaaaaa2",
            title="Survey of queues",
            type="research",
            task=None,
        ),
        '{"torn": ',
    ],
    # A file outside the window holding a line stamped inside it: read, it would make TE done.
    "2026-03-09": [
        event(
            "2026-03-05T09:00:00.000Z",
            "dev-2",
            "task.moved",
            TE,
            title="Release notes",
            **{"from": "review", "to": "done"},
        )
    ],
}


def write_task(
    root: Path,
    task_id: str,
    title: str,
    status: str,
    assignees: list[str],
    created: str,
    updated: str,
) -> None:
    text = (
        f"---\nid: {task_id}\ntitle: {title}\nstatus: {status}\npriority: 2\nassignees: [{', '.join(assignees)}]\n"
        f"labels: []\ndepends_on: []\ncreated_by: lead-1\ncreated_at: '{created}'\nupdated_at: '{updated}'\n---\n\n## Description\n"
    )
    (root / ".agentctl" / "tasks" / f"{task_id}.md").write_text(text, encoding="utf-8")


@pytest.fixture
def history(ws_root: Path, cli: Runner) -> Path:
    """The standard team, eight tasks and their event history, at fixed times in early 2026."""
    make_team(cli)
    for row in TASKS:
        write_task(ws_root, *row)
    for day, lines in HISTORY.items():
        text = "".join(
            (line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines
        )
        (ws_root / ".agentctl" / "events" / f"{day}.jsonl").write_text(text, encoding="utf-8")
    return ws_root


STANDUP_MD = f"""# Standup: repo

Window: 2026-03-01T00:00:00Z to 2026-03-08T00:00:00Z (7d)

Team: 2 completed, 2 in progress, 1 waiting for review, 1 blocked, 1 decision(s)

## dev-1

Completed:
- {TA} Login page (done 2026-03-02T10:00:00Z by lead-1)

In progress:
- {TC} Fix flaky test
- {TG} Reopened work

## dev-2

Completed:
- {TB} Signup API (done 2026-03-03T08:00:00Z by qa-human)

Waiting for review:
- {TE} Release notes

Blocked:
- {TD} Write docs (blocked: waiting for API keys)

## intern-1

Nothing to report.

## lead-1

Decisions:
- d-aaaaaaaaaaa1 Use SQLite for the index (2026-03-04T10:00:00Z, task {TD})
"""

TORN = "agentctl: warning: .agentctl/events/2026-03-04.jsonl:4: not a JSON event with a timestamp (skipped; run 'agentctl validate')\n"


def test_standup_markdown_is_exact(history: Path, cli: Runner) -> None:
    r = cli("standup", *WINDOW)
    assert r.code == 0, str(r)
    assert r.out == STANDUP_MD
    assert r.err == TORN  # the torn line inside the window; the files outside it are never read


def test_standup_json(history: Path, cli: Runner) -> None:
    r = cli("standup", *WINDOW, "--format", "json")
    assert r.code == 0, str(r)
    doc = r.json()["standup"]
    assert doc["window"] == {
        "since": "7d",
        "start": "2026-03-01T00:00:00Z",
        "end": "2026-03-08T00:00:00Z",
    }
    assert doc["totals"] == {
        "completed": 2,
        "in_progress": 2,
        "blocked": 1,
        "review": 1,
        "decisions": 1,
    }
    people = {p["name"]: p for p in doc["people"]}
    assert list(people) == ["dev-1", "dev-2", "intern-1", "lead-1"]
    assert people["dev-1"]["completed"] == [
        {"id": TA, "title": "Login page", "at": "2026-03-02T10:00:00Z", "by": "lead-1"}
    ]
    assert [t["id"] for t in people["dev-1"]["in_progress"]] == [TC, TG]
    assert people["dev-2"]["blocked"][0]["reason"] == "waiting for API keys"
    assert people["lead-1"]["decisions"] == [
        {
            "id": "d-aaaaaaaaaaa1",
            "title": "Use SQLite for the index",
            "at": "2026-03-04T10:00:00Z",
            "task": TD,
        }
    ]
    assert cli("--json", "standup", *WINDOW).json() == r.json()


def test_standup_caps_each_list(history: Path) -> None:
    report = Workspace(history).standup("7d", "2026-03-08T00:00:00Z", cap=1)
    dev1 = report["people"][0]
    assert [t["id"] for t in dev1["in_progress"]] == [TC] and dev1["more"] == {"in_progress": 1}
    assert "- … and 1 more" in reports.render_standup(report, "x")


STATS_TEXT = """Stats for 2026-03-01T00:00:00Z to 2026-03-08T00:00:00Z (7d)

Tasks by status:
  inbox        1
  assigned     0
  in_progress  2
  review       1
  done         3
  blocked      1

Throughput (tasks done per day): 3 in total
  2026-03-01  0
  2026-03-02  1
  2026-03-03  2
  2026-03-04  0
  2026-03-05  0
  2026-03-06  0
  2026-03-07  0

Cycle time (assigned -> done, 3 task(s)): p50 2d, p90 6d

Agents:
  AGENT     DONE  IN PROGRESS  WIP
  dev-1     2     2            2
  dev-2     1     0            2
  intern-1  0     0            0
  lead-1    0     0            0

Oldest open tasks:
  none
"""


def test_stats_text_is_exact(history: Path, cli: Runner) -> None:
    r = cli("stats", *WINDOW, "--oldest", "0")
    assert r.code == 0, str(r)
    assert r.out == STATS_TEXT
    assert r.err == TORN  # 2026-01-10 is older than every completed task's creation: not read


def test_stats_document(history: Path) -> None:
    result = Workspace(history).stats("7d", "2026-03-08T00:00:00Z", at=AT, oldest=3)
    assert result["completed"] == 3
    assert [d["done"] for d in result["throughput"]] == [0, 1, 2, 0, 0, 0, 0]
    # TA 25h (created assigned -> done), TG 51h (its first cycle), TB 6d (assigned 02-25, in an
    # older file found by the look-back)
    assert result["cycle_time"] == {
        "samples": 3, "p50_seconds": 51 * 3600.0, "p90_seconds": 6 * 86400.0, "p50": "2d", "p90": "6d",
    }  # fmt: skip
    assert result["agents"][:2] == [
        {"name": "dev-1", "agent": True, "done": 2, "in_progress": 2, "wip": 2},
        {"name": "dev-2", "agent": True, "done": 1, "in_progress": 0, "wip": 2},
    ]
    assert [(t["id"], t["age"]) for t in result["oldest_open"]] == [
        (TF, "64d"),
        (TD, "59d"),
        (TG, "9d"),
    ]
    assert (
        result["oldest_open"][0]["age_seconds"]
        == (AT - datetime(2026, 1, 5, 9, tzinfo=UTC)).total_seconds()
    )
    assert len(result["warnings"]) == 1


def test_loads_by_status_count_as_json_each_does(history: Path, cli: Runner) -> None:
    """stats reads the per-agent loads in one scan grouped by the assignee lists' text;
    it must count what a json_each over every task counts (shared lists, several agents)."""
    for n in range(3):
        add_task(cli, f"Shared {n}", "--assign", "dev-1", "--assign", "dev-2")
    ws = Workspace(history)
    ws.refresh()
    flow = ws.workflow
    open_statuses = [s for s in flow["statuses"] if s not in flow["done"]]
    by_status = ws.index.load_by_status(open_statuses)
    for status in open_statuses:
        assert by_status.get(status, {}) == ws.index.open_load([status])
    total: dict[str, int] = {}
    for per_agent in by_status.values():
        for name, count in per_agent.items():
            total[name] = total.get(name, 0) + count
    assert total == ws.index.open_load(open_statuses) and total["dev-1"] >= 3
    ws.close()


def test_stats_json_and_narrow_windows(history: Path, cli: Runner) -> None:
    r = cli("stats", "--since", "2026-03-03", "--until", "2026-03-03T12:00:00Z", "--json")
    assert r.code == 0, str(r)
    stats = r.json()["stats"]
    assert stats["throughput"] == [
        {"date": "2026-03-03", "done": 1}
    ]  # TB at 08:00; TG at 13:00 is after
    assert stats["cycle_time"]["samples"] == 1 and stats["cycle_time"]["p50"] == "6d"
    assert r.err == ""  # the torn line of 03-04 is outside this window
    r = cli("stats", "--since", "2026-03-02T10:00:01Z", "--until", "2026-03-03T08:00:00Z", "--json")
    assert (
        r.json()["stats"]["completed"] == 0
    )  # TA just before the start; TB at the end, which is exclusive


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (
            ("stats", "--since", "yesterday"),
            "--since must be a duration (30m, 24h, 7d) or a date/time",
        ),
        (("standup", "--until", "soon"), "--until must be a duration"),
        (("stats", "--since", "2026-03-05", "--until", "2026-03-01"), "the window is empty"),
        (("standup", "--format", "html"), "--format must be md or json, not 'html'"),
        (("standup", "--since", "0h"), "the window is empty"),
    ],
)
def test_bad_windows_are_one_line_errors(
    history: Path, cli: Runner, args: tuple[str, ...], needle: str
) -> None:
    run_refused(cli, history, 2, args, needle)


def test_reports_follow_the_real_task_commands(ws_root: Path, cli: Runner) -> None:
    """The event shapes written by the task and doc commands are the ones reports read."""
    make_team(cli)
    first = add_task(cli, "Ship it", "--assign", "dev-1")
    second = add_task(cli, "Claim me")
    third = add_task(cli, "Stuck", "--assign", "dev-2")
    for args in (
        ("task", "move", first, "in_progress"), ("task", "move", first, "review"), ("task", "move", first, "done"),
        ("--as", "dev-2", "task", "claim", second), ("task", "move", second, "done"),
        ("task", "move", third, "in_progress"), ("task", "move", third, "blocked", "-m", "no access"),
    ):  # fmt: skip
        r = cli(*args)
        assert r.code == 0, str(r)
    r = cli(
        "doc", "add", "Pick a queue", "--type", "decision", "--task", first, input="We use files.\n"
    )
    assert r.code == 0, str(r)
    r = cli("standup", "--json")
    assert r.code == 0, str(r)
    people = {p["name"]: p for p in r.json()["standup"]["people"]}
    assert [t["id"] for t in people["dev-1"]["completed"]] == [first]
    assert [t["id"] for t in people["dev-2"]["completed"]] == [second]
    assert people["dev-2"]["blocked"] == [
        {**people["dev-2"]["blocked"][0], "id": third, "reason": "no access"}
    ]
    assert [d["title"] for d in people["Test User"]["decisions"]] == ["Pick a queue"]
    r = cli("stats", "--json")
    stats = r.json()["stats"]
    assert stats["completed"] == 2 and stats["throughput"][-1]["done"] == 2
    assert stats["cycle_time"]["samples"] == 2  # created assigned, and claimed from the inbox
    assert {s["status"]: s["count"] for s in stats["by_status"]}["done"] == 2


def test_standup_write_stores_a_document(history: Path, cli: Runner) -> None:
    r = cli("standup", *WINDOW, "--write")
    assert r.code == 0, str(r)
    assert r.out == STANDUP_MD
    note = r.err.splitlines()[-1]
    assert note.startswith("agentctl: stored as document d-")
    doc_id = note.split()[4]
    text = (history / ".agentctl" / "docs" / f"{doc_id}.md").read_text(encoding="utf-8")
    assert "type: protocol" in text and "title: Standup 2026-03-08 00:00 UTC (7d)" in text
    assert text.endswith(STANDUP_MD)
    assert git(history, "log", "-1", "--format=%s").startswith("agentctl: added protocol")
    r = cli("--as", "dev-1", "standup", *WINDOW, "--write", "--json")
    assert r.json()["document"]["author"] == "dev-1"


# -- pure computations -------------------------------------------------------------------------------


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(10, 0, -1)]
    assert reports.percentile(values, 0.5) == 5 and reports.percentile(values, 0.9) == 9
    assert reports.percentile([7.0], 0.9) == 7 and reports.percentile([], 0.5) is None
    assert reports.percentile([1.0, 2.0], 0.5) == 1 and reports.percentile([1.0, 2.0], 0.9) == 2


def test_window_resolution_and_days() -> None:
    now = datetime(2026, 3, 8, 0, 0, tzinfo=UTC)
    window = reports.resolve_window("24h", None, now)
    assert window.as_dict() == {
        "since": "24h",
        "start": "2026-03-07T00:00:00Z",
        "end": "2026-03-08T00:00:00Z",
    }
    assert window.days() == ["2026-03-07"]  # the end is exclusive: 03-08 is not touched
    window = reports.resolve_window("2026-03-06T23:00:00+01:00", "2026-03-07T00:30:00Z", now)
    assert window.days() == ["2026-03-06", "2026-03-07"]
    with pytest.raises(UsageError, match="the window is empty"):
        reports.resolve_window("2026-03-09", None, now)


def test_cycles_restart_after_a_reopen() -> None:
    flow = {"initial": "inbox", "blocked": "blocked", "done": ["done"]}
    window = reports.resolve_window("30d", "2026-03-31T00:00:00Z", AT)
    events = [
        event("2026-03-02T00:00:00Z", "h", "task.created", "t1", status="inbox"),
        event("2026-03-03T00:00:00Z", "h", "task.moved", "t1", to="blocked"),  # not work yet
        event("2026-03-04T00:00:00Z", "h", "task.moved", "t1", to="in_progress"),
        event("2026-03-05T00:00:00Z", "h", "task.assigned", "t1", added=["a"]),  # already started
        event("2026-03-06T00:00:00Z", "h", "task.moved", "t1", to="done"),
        event("2026-03-10T00:00:00Z", "h", "task.moved", "t1", to="inbox"),  # reopened: no work yet
        event("2026-03-12T00:00:00Z", "h", "task.claimed", "t1"),
        event("2026-03-13T00:00:00Z", "h", "task.moved", "t1", to="done"),
        event(
            "2026-03-14T00:00:00Z", "h", "task.moved", "t2", to="done"
        ),  # no start seen: no sample
    ]
    assert reports.cycle_times(reports.sort_events(events), window, flow) == [2 * 86400.0, 86400.0]


def test_charts() -> None:
    assert reports.sparkline([0, 1, 2, 4, 7]) == "▁▂▃▅█"
    assert reports.sparkline([0, 0]) == "▁▁"
    assert reports.bar(0, 5) == "" and reports.bar(5, 5) == "█" * 20
    assert reports.bar(1, 16, 4) == "▎" and reports.bar(3, 4, 2) == "█▌"


def test_stats_charts_on_a_terminal(history: Path) -> None:
    from agentctl.cli.reports import render_stats

    result = Workspace(history).stats("7d", "2026-03-08T00:00:00Z", at=AT, oldest=0)
    text = render_stats(result, charts=True)
    assert "Throughput (tasks done per day): 3 in total  ▁▅█▁▁▁▁\n" in text
    assert "  done         3  " + "█" * 20 + "\n" in text
    assert "  in_progress  2  " + "█" * 13 + "▍\n" in text
    assert render_stats(result, charts=False) == STATS_TEXT
