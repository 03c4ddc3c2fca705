"""Escalation: stale, bounced, overdue and unblocked tasks and silent agents are raised to the
leads once per condition (an ``attention.raised`` event keyed ``kind:subject:state``), again only
when the condition cleared and came back in a new state; with no lead, ``inbox --human`` lists
them; WORKING.md shows them under "Needs attention"; ``agentctl attention`` lists them without
writing anything. Raising happens in heartbeats (a lead's tick; once per ``heartbeat --all``
round) and ``dispatch``, never in read commands.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import Runner, add_task, git, make_git_repo, snapshot

from agentctl.core.attention import Facts, Settings, detect
from agentctl.workspace import Workspace

NOW = datetime.now(UTC).replace(microsecond=0)
YESTERDAY = (NOW - timedelta(days=1)).date().isoformat()


@pytest.fixture
def plain(tmp_path: Path, cli: Runner, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "plain"
    root.mkdir()
    monkeypatch.chdir(root)
    assert cli("init").code == 0
    for name, level in (("boss", "lead"), ("nova", "specialist")):
        assert (
            cli(
                "agent",
                "add",
                name,
                "--role",
                name,
                "--level",
                level,
                "--runtime",
                "llm",
                "--model",
                "openai/none",
            ).code
            == 0
        )
    return root


@pytest.fixture
def ws(plain: Path) -> Iterator[Workspace]:
    workspace = Workspace(plain)
    yield workspace
    workspace.close()


def raised(root: Path) -> list[dict[str, Any]]:
    events = []
    for path in sorted((root / ".agentctl" / "events").glob("*.jsonl")):
        events += [
            json.loads(line)
            for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]
    return [e for e in events if e["type"] == "attention.raised"]


def raise_at(root: Path, moment: datetime) -> list[str]:
    workspace = Workspace(root)
    try:
        return [c["key"] for c in workspace.raise_attention(moment)]
    finally:
        workspace.close()


def set_state(root: Path, name: str, last_heartbeat: str) -> None:
    (root / ".agentctl" / "agents" / f"{name}.state.yaml").write_text(
        f"status: idle\nlast_heartbeat: {last_heartbeat}\nlast_outcome: idle\nfailures: 0\n",
        encoding="utf-8",
    )


# -- each condition, raised once, again only after it came back -------------------------------------


def test_a_stale_task_is_raised_once_and_again_only_after_new_activity_went_stale(
    plain: Path, cli: Runner
) -> None:
    busy = add_task(cli, "Busy work", "--assign", "nova")
    assert cli("task", "move", busy, "in_progress").code == 0
    assert raise_at(plain, NOW + timedelta(hours=20)) == [], "stale_after is 1d"
    [key] = raise_at(plain, NOW + timedelta(days=2))
    assert key.startswith(f"stale:{busy}:")
    assert raise_at(plain, NOW + timedelta(days=2, hours=1)) == []
    assert raise_at(plain, NOW + timedelta(days=3)) == [], (
        "the attention event is not activity on the task"
    )
    [event] = raised(plain)
    assert event["subject"] == busy and event["actor"] == "agentctl" and event["notify"] == ["boss"]
    assert event["data"]["kind"] == "stale" and event["data"]["assignees"] == ["nova"]

    assert cli("task", "comment", busy, "still on it").code == 0  # activity: the condition clears
    assert raise_at(plain, NOW + timedelta(hours=12)) == []
    [again] = raise_at(plain, NOW + timedelta(days=5))
    assert again.startswith(f"stale:{busy}:") and again != key
    assert len(raised(plain)) == 2


def test_a_task_bounced_more_than_the_limit_is_raised_once_per_further_return(
    plain: Path, cli: Runner
) -> None:
    task = add_task(cli, "Ping pong", "--assign", "nova")
    assert cli("task", "move", task, "in_progress").code == 0
    for _ in range(2):
        assert cli("task", "move", task, "review").code == 0
        assert cli("task", "move", task, "in_progress").code == 0
    assert raise_at(plain, NOW) == [], "two returns are within bounce_limit 2"
    assert cli("task", "move", task, "review").code == 0
    assert cli("task", "move", task, "in_progress").code == 0
    assert raise_at(plain, NOW) == [f"bounced:{task}:3"]
    assert raise_at(plain, NOW) == []
    assert cli("task", "move", task, "review").code == 0
    assert raise_at(plain, NOW) == [], "in review: no new return"
    assert cli("task", "move", task, "in_progress").code == 0
    assert raise_at(plain, NOW) == [f"bounced:{task}:4"]
    assert cli("task", "move", task, "done").code == 0
    assert Workspace(plain).attention()["conditions"] == [], (
        "a finished task is no longer a problem"
    )


def test_an_overdue_task_is_raised_once_and_again_when_a_new_due_date_passed(
    plain: Path, cli: Runner
) -> None:
    noon = NOW.replace(hour=12, minute=0, second=0)  # an hour later is still today (UTC)
    late = add_task(cli, "Late", "--due", YESTERDAY)
    today = add_task(cli, "Due today is not late", "--due", noon.date().isoformat())
    assert raise_at(plain, noon) == [f"overdue:{late}:{YESTERDAY}"]
    assert raise_at(plain, noon + timedelta(hours=1)) == []
    later = (noon + timedelta(days=3)).date().isoformat()
    assert cli("task", "edit", late, "--due", later).code == 0
    assert raise_at(plain, noon) == []
    assert raise_at(plain, noon + timedelta(days=5)) == [
        f"overdue:{today}:{noon.date().isoformat()}",
        f"overdue:{late}:{later}",
    ]


def test_a_blocked_task_whose_dependencies_are_done_is_raised_once(
    plain: Path, cli: Runner
) -> None:
    dep = add_task(cli, "Dependency")
    waiting = add_task(cli, "Waits", "--depends-on", dep)
    add_task(cli, "Blocked for another reason")  # no dependencies: not this condition
    assert cli("task", "move", waiting, "blocked").code == 0
    assert raise_at(plain, NOW) == []
    for status in ("in_progress", "review", "done"):
        assert cli("task", "move", dep, status).code == 0
    [key] = raise_at(plain, NOW)
    assert key.startswith(f"unblocked:{waiting}:")
    assert raise_at(plain, NOW) == []
    # unblocked and blocked again later: a new condition
    assert cli("task", "move", waiting, "inbox").code == 0
    assert cli("task", "move", waiting, "blocked").code == 0
    [again] = raise_at(plain, NOW)
    assert again.startswith(f"unblocked:{waiting}:") and again != key


def test_a_silent_agent_is_raised_once_and_again_after_it_beat_and_fell_silent(
    plain: Path, cli: Runner
) -> None:
    set_state(plain, "nova", "2026-01-01T00:00:00Z")
    assert raise_at(plain, NOW) == ["silent:nova:2026-01-01T00:00:00Z"]
    assert raise_at(plain, NOW) == []
    set_state(plain, "nova", (NOW - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ"))
    assert raise_at(plain, NOW) == []
    [key] = raise_at(plain, NOW + timedelta(hours=3))
    assert key.startswith("silent:nova:") and key != "silent:nova:2026-01-01T00:00:00Z"
    event = raised(plain)[0]
    assert event["subject"] == "nova" and event["notify"] == ["boss"]
    # manual agents (people drive them) and blocked agents (already escalated) are never silent
    assert cli("agent", "edit", "nova", "--runtime", "manual").code == 0
    assert raise_at(plain, NOW + timedelta(days=9)) == []


def test_detection_is_pure_and_ordered_by_kind_then_age() -> None:
    facts = Facts(
        in_progress=[{"id": "t-b", "title": "B", "status": "in_progress", "assignees": [], "updated_at": "2026-01-02T00:00:00Z"},
                     {"id": "t-a", "title": "A", "status": "in_progress", "assignees": ["x"], "last_activity": "2026-01-01T00:00:00.500Z",
                      "updated_at": "2026-01-01T00:00:00Z"}],
        due=[{"id": "t-c", "title": "C", "status": "inbox", "assignees": [], "due": "2026-01-30"}],
    )  # fmt: skip
    now = datetime(2026, 2, 1, tzinfo=UTC)
    found = detect(facts, Settings(), now)
    assert [c.key for c in found] == [
        "stale:t-a:2026-01-01T00:00:00.500Z",
        "stale:t-b:2026-01-02T00:00:00.000Z",
        "overdue:t-c:2026-01-30",
    ]
    assert (
        found[0].line()
        == 'stale t-a "A" (@x): in_progress with no activity since 2026-01-01T00:00:00Z (over 1d)'
    )
    assert detect(facts, Settings(), now) == found


# -- who is told --------------------------------------------------------------------------------------


def test_the_leads_are_notified_and_see_it_in_their_inbox(plain: Path, cli: Runner) -> None:
    late = add_task(cli, "Late", "--due", YESTERDAY)
    assert raise_at(plain, NOW)
    [note] = cli("inbox", "--agent", "boss", "--json").json()["inbox"]["notifications"]
    assert (
        note["task"] == late
        and note["reason"] == "attention"
        and note["type"] == "attention.raised"
    )
    assert (
        note["excerpt"]
        == f'raised for attention: overdue {late} "Late": past its due date {YESTERDAY} (still inbox)'
    )
    assert cli("inbox", "--agent", "nova", "--json").json()["inbox"]["notifications"] == []
    feed = cli("feed", "--limit", "1").out
    assert f"raised for attention: overdue {late}" in feed


def test_without_a_lead_nobody_is_notified_and_inbox_human_lists_the_conditions(
    tmp_path: Path, cli: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "nolead"
    root.mkdir()
    monkeypatch.chdir(root)
    assert cli("init").code == 0
    late = add_task(cli, "Late", "--due", YESTERDAY)
    assert raise_at(root, NOW) == [f"overdue:{late}:{YESTERDAY}"]
    assert raised(root)[0]["notify"] == []
    human = cli("inbox", "--human")
    assert human.code == 0, str(human)
    assert f'overdue {late} "Late": past its due date {YESTERDAY} (still inbox)' in human.out
    doc = cli("inbox", "--human", "--json").json()["human"]
    assert [c["key"] for c in doc["attention"]] == [f"overdue:{late}:{YESTERDAY}"]
    # with a lead, the lead is told instead
    assert cli("agent", "add", "boss", "--role", "lead", "--level", "lead").code == 0
    assert cli("inbox", "--human", "--json").json()["human"]["attention"] == []


# -- where raising happens ---------------------------------------------------------------------------


def test_read_commands_never_raise(plain: Path, cli: Runner) -> None:
    add_task(cli, "Late", "--due", YESTERDAY)
    files = snapshot(plain)
    for args in (["attention"], ["attention", "--json"], ["task", "list"], ["inbox", "--human"], ["dispatch", "--dry-run"],
                 ["heartbeat", "--all", "--dry-run"]):  # fmt: skip
        result = cli(*args)
        assert result.code == 0, str(result)
    assert snapshot(plain) == files


def test_attention_lists_current_conditions_with_when_they_were_raised(
    plain: Path, cli: Runner
) -> None:
    late = add_task(cli, "Late", "--due", YESTERDAY, "--assign", "nova")
    doc = cli("attention", "--json").json()
    assert doc["schema_version"] == 1
    [item] = doc["attention"]["conditions"]
    assert item == {"key": f"overdue:{late}:{YESTERDAY}", "kind": "overdue", "subject": late, "state": YESTERDAY,
                    "detail": f"past its due date {YESTERDAY} (still assigned)", "title": "Late", "assignees": ["nova"],
                    "raised": None}  # fmt: skip
    assert doc["attention"]["notify"] == ["boss"]
    text = cli("attention").out.splitlines()
    assert text == [f'- overdue {late} "Late" (@nova): past its due date {YESTERDAY} (still assigned) [not raised yet]',
                    "1 condition(s); raised to: boss"]  # fmt: skip
    assert cli("dispatch").code == 0  # dispatch raises
    [item] = cli("attention", "--json").json()["attention"]["conditions"]
    assert item["raised"] is not None
    assert "[raised " in cli("attention").out
    empty = tmp_workspace_without_conditions(cli, plain)
    assert cli("attention", cwd=empty).out == "nothing needs attention\n"


def tmp_workspace_without_conditions(cli: Runner, near: Path) -> Path:
    root = near.parent / "empty"
    root.mkdir()
    assert cli("init", cwd=root).code == 0
    return root


def test_heartbeat_all_raises_once_per_round_in_one_commit(
    tmp_path: Path, cli: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_git_repo(tmp_path / "repo")
    monkeypatch.chdir(root)
    assert cli("init").code == 0
    for name, level in (("boss", "lead"), ("nova", "specialist")):
        assert (
            cli("agent", "add", name, "--role", name, "--level", level).code == 0
        )  # manual: ticks change nothing
    late = add_task(cli, "Late", "--due", YESTERDAY)
    other = add_task(cli, "Also late", "--due", YESTERDAY)
    head = git(root, "rev-parse", "HEAD").strip()
    assert cli("heartbeat", "--all").code == 0
    log = git(root, "log", "--format=%s", f"{head}..HEAD").splitlines()
    assert [line for line in log if "attention" in line] == [
        "agentctl: 2 condition(s) need attention"
    ], log
    assert sorted(e["subject"] for e in raised(root)) == sorted([late, other])
    assert cli("heartbeat", "--all").code == 0
    assert cli("heartbeat", "boss").code == 0
    assert len(raised(root)) == 2, "raised once, not every round"
    assert git(root, "status", "--porcelain") == ""


def test_a_lead_tick_raises_and_a_specialist_tick_does_not(plain: Path, cli: Runner) -> None:
    add_task(cli, "Late", "--due", YESTERDAY)
    assert cli("agent", "edit", "nova", "--runtime", "manual").code == 0
    assert cli("heartbeat", "nova").code == 0
    assert raised(plain) == [], "a specialist's tick leaves it to the lead"
    assert cli("agent", "edit", "boss", "--runtime", "manual").code == 0
    assert cli("heartbeat", "boss").code == 0
    assert len(raised(plain)) == 1


# -- WORKING.md ----------------------------------------------------------------------------------------


def section(root: Path) -> str:
    text = (root / "WORKING.md").read_text(encoding="utf-8")
    return text.split("## Needs attention\n", 1)[1].split("\n## ", 1)[0].strip()


def test_working_md_lists_the_raised_conditions_that_still_hold(plain: Path, cli: Runner) -> None:
    assert section(plain) == "_Nothing needs attention._"
    late = add_task(cli, "Late", "--due", YESTERDAY, "--assign", "nova")
    assert section(plain) == "_Nothing needs attention._", "not raised yet"
    assert raise_at(plain, NOW)
    assert (
        section(plain)
        == f'- overdue {late} "Late" (@nova): past its due date {YESTERDAY} (still assigned)'
    )
    set_state(plain, "nova", "2026-01-01T00:00:00Z")
    assert raise_at(plain, NOW) == ["silent:nova:2026-01-01T00:00:00Z"]
    assert (
        section(plain).splitlines()[-1]
        == "- silent nova: no heartbeat since 2026-01-01T00:00:00Z (it ticks every 15m)"
    )
    # rendering is a function of the records and the log: no re-render, whatever the clock says
    assert cli("working", "--json").json()["rerendered"] is False
    # resolved: the task gets a later due date, the agent beats again
    assert (
        cli("task", "edit", late, "--due", (NOW + timedelta(days=9)).date().isoformat()).code == 0
    )
    assert (
        section(plain)
        == "- silent nova: no heartbeat since 2026-01-01T00:00:00Z (it ticks every 15m)"
    )
    set_state(plain, "nova", NOW.strftime("%Y-%m-%dT%H:%M:%SZ"))
    add_task(cli, "Any change re-renders")
    assert section(plain) == "_Nothing needs attention._"


def test_working_md_caps_the_section(plain: Path, cli: Runner) -> None:
    config = plain / ".agentctl" / "config.yaml"
    config.write_text(
        config.read_text(encoding="utf-8").replace("max_per_status: 15", "max_per_status: 2"),
        encoding="utf-8",
    )
    for i in range(5):
        add_task(
            cli,
            f"Late {i}",
            "--due",
            (date.fromisoformat(YESTERDAY) - timedelta(days=i)).isoformat(),
        )
    assert len(raise_at(plain, NOW)) == 5
    lines = section(plain).splitlines()
    assert len(lines) == 3 and lines[-1] == "- … +3 more"
    assert lines[0].startswith("- overdue ") and "Late 4" in lines[0], "oldest first"
