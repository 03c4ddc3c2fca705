"""The paths that keep commands flat in the size of the workspace (issue 15) give the same
answers as the whole-workspace ones they replace: a page of tasks picked before its JSON is
built, short IDs from an ID's neighbours, `task ready --limit`, and WORKING.md's critical
path line above the size where it is no longer traced after each change."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from conftest import Runner, add_task
from hypothesis import given, settings
from hypothesis import strategies as st

from agentctl.core import ids
from agentctl.workspace import graphs

SORTS = ("priority", "created", "updated", "status", "title", "id")


def list_ids(cli: Runner, *options: str) -> list[str]:
    r = cli("task", "list", "--all", "--json", *options)
    assert r.code == 0, str(r)
    return [t["id"] for t in r.json()["tasks"]]


@pytest.fixture
def mixed(ws_root: Path, cli: Runner) -> list[str]:
    rng = random.Random(5)
    made = []
    for n in range(14):
        task = add_task(
            cli, f"Task {rng.choice('abcdef')}{n}", "--priority", str(rng.randint(0, 3))
        )
        made.append(task)
        if n % 3 == 0:
            assert cli("task", "move", task, "blocked").code == 0
    return made


@pytest.mark.parametrize("sort", SORTS)
def test_a_page_is_the_head_of_the_full_list(mixed: list[str], cli: Runner, sort: str) -> None:
    full = list_ids(cli, "--sort", sort)
    assert sorted(full) == sorted(mixed)
    for limit in (1, 5, 14, 40):
        assert list_ids(cli, "--sort", sort, "--limit", str(limit)) == full[:limit]
    plain = cli("task", "list", "--all", "--sort", sort, "--limit", "5")
    assert plain.code == 0
    assert len(plain.out.strip().splitlines()) == 6  # the header and five rows


def test_a_filtered_page_and_an_empty_one(mixed: list[str], cli: Runner) -> None:
    blocked = list_ids(cli, "--status", "blocked")
    assert len(blocked) == 5
    assert list_ids(cli, "--status", "blocked", "--limit", "2") == blocked[:2]
    assert list_ids(cli, "--label", "nowhere", "--limit", "3") == []


def test_ready_limit_is_the_head_of_ready(mixed: list[str], cli: Runner) -> None:
    every = cli("task", "ready", "--json").json()["ready"]
    assert len(every) == 9
    head = cli("task", "ready", "--limit", "4", "--json").json()["ready"]
    assert [t["id"] for t in head] == [t["id"] for t in every[:4]]
    plain = cli("task", "ready", "-n", "2")
    assert plain.code == 0
    assert len(plain.out.strip().splitlines()) == 3
    assert cli("task", "ready", "--limit", "0").code == 2


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.text(alphabet="0123456789abcdefghjkmnpqrstvwxyz", min_size=12, max_size=12),
        min_size=1,
        max_size=60,
        unique=True,
    )
)
def test_short_ids_from_neighbours_match_the_full_pass(suffixes: list[str]) -> None:
    # Shared prefixes are common here: IDs are drawn from a few stems.
    every = sorted(
        {"t-" + s[:3] + s[3:] for s in suffixes} | {"t-" + s[:6] + "000000" for s in suffixes}
    )
    full = ids.short_ids(every)
    for i, ident in enumerate(every):
        neighbours = every[max(0, i - 1) : i] + every[i + 1 : i + 2]
        assert ids.short_id(ident, neighbours) == full[ident]


def test_cli_short_ids_of_a_page_match_the_whole_workspace(mixed: list[str], cli: Runner) -> None:
    from agentctl.workspace import Workspace

    ws = Workspace.open(None, Path.cwd())
    whole = ws.short_ids()
    assert ws.short_ids(mixed[:5]) == {t: whole[t] for t in mixed[:5]}


def test_working_md_names_the_command_above_the_traced_size(
    mixed: list[str], cli: Runner, ws_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    working = ws_root / "WORKING.md"
    assert any(
        line.startswith("Critical path: ") and "left" in line
        for line in working.read_text().splitlines()
    )
    monkeypatch.setattr(graphs, "WORKING_PATH_MAX_OPEN", 10)
    add_task(cli, "One more")
    (line,) = [x for x in working.read_text().splitlines() if x.startswith("Critical path:")]
    assert line == (
        "Critical path: not traced after each change with 15 open tasks (over 10):"
        " run `agentctl graph critical-path`"
    )
    assert cli("graph", "critical-path").code == 0
