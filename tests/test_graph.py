"""``agentctl graph``, ``graph critical-path``, ``graph gantt``, ``graph cycles``, ``task
blocked`` and WORKING.md's critical-path line, on a real (plain, non-git) workspace holding
the hand-computed roadmap of tests/test_graph_units.py."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import Runner, add_task, assert_one_line_error, run_cli
from test_graph_units import needs_dot

from agentctl.errors import ExitCode


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("graph") / "ws"
    root.mkdir()
    assert run_cli("init", cwd=root).code == 0
    ids: dict[str, str] = {}

    def add(key: str, title: str, *options: str) -> None:
        ids[key] = add_task(run_cli, title, *options, cwd=root)

    add("p1", "Phase 1", "--estimate", "40h")
    add("a", "Design schema", "--parent", ids["p1"], "--estimate", "4h-6h")
    add("b", "Build store", "--parent", ids["p1"], "--estimate", "1d-2d", "--depends-on", ids["a"])
    add("c", "Write docs", "--parent", ids["p1"], "--depends-on", ids["a"])
    add("d", "Spec review", "--estimate", "10h")
    for status in ("in_progress", "review", "done"):
        assert run_cli("task", "move", ids["d"], status, cwd=root).code == 0
    add("p2", "Phase 2", "--depends-on", ids["p1"])
    add("e", "API", "--parent", ids["p2"], "--estimate", "6h", "--depends-on", ids["d"])
    add("f", "Tests", "--parent", ids["p2"], "--estimate", "2h-4h", "--depends-on", ids["e"])
    add("g", "Release", "--estimate", "1h", "--depends-on", ids["f"], "--depends-on", ids["c"])
    return root, ids


@pytest.fixture
def roadmap(
    template: tuple[Path, dict[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """A fresh copy of the roadmap workspace (cwd); returns the task IDs by fixture key."""
    root = tmp_path / "ws"
    shutil.copytree(template[0], root, ignore=shutil.ignore_patterns("local"))
    monkeypatch.chdir(root)
    return template[1]


def _task_file(task_id: str) -> Path:
    return Path(".agentctl") / "tasks" / f"{task_id}.md"


def _hand_edit(task_id: str, old: str, new: str) -> None:
    path = _task_file(task_id)
    text = path.read_text(encoding="utf-8")
    assert old in text, text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# -- critical path ---------------------------------------------------------------------------


def test_critical_path_matches_the_hand_computed_answer(
    roadmap: dict[str, str], cli: Runner
) -> None:
    result = cli("graph", "critical-path", "--json")
    assert result.code == 0, str(result)
    report = result.json()
    key = {task_id: k for k, task_id in roadmap.items()}
    assert [key[t["id"]] for t in report["path"]] == ["a", "b", "e", "f", "g"]
    assert (report["total_hours"], report["total_days"], report["default_estimate"]) == (
        27,
        3.38,
        "4h",
    )
    timing = {
        key[t["id"]]: (
            t["expected_hours"],
            t["earliest_start"],
            t["earliest_finish"],
            t["slack_hours"],
        )
        for t in report["tasks"]
    }
    assert timing == {
        "p1": (0, 0, 17, 0), "a": (5, 0, 5, 0), "b": (12, 5, 17, 0), "c": (4, 5, 9, 8),
        "p2": (0, 17, 26, 0), "e": (6, 17, 23, 0), "f": (3, 23, 26, 0), "g": (1, 26, 27, 0),
    }  # fmt: skip
    assert [key[t["id"]] for t in report["missing_estimates"]] == ["c"] and report["cyclic"] == []
    assert {key[t["id"]] for t in report["tasks"] if t["summary"]} == {"p1", "p2"}

    text = cli("graph", "critical-path")
    assert text.code == 0, str(text)
    short = {k: t["short_id"] for k, t in zip("abefg", report["path"], strict=True)}
    lines = text.out.splitlines()
    assert lines[0] == "Critical path: 5 task(s), 27h (3.38 working days of 8h)"
    assert re.match(rf"^1\s+{short['a']}\s+4h-6h\s+5h\s+0h\s+5h\s+Design schema$", lines[3])
    assert re.match(rf"^5\s+{short['g']}\s+1h\s+1h\s+26h\s+27h\s+Release$", lines[7])
    assert any(re.match(r"^\S+\s+8h\s+4h\s+5h\s+Write docs$", line) for line in lines)
    assert (
        "No estimate, counted as 4h (planning.default_estimate): " in text.out
        and "Write docs" in lines[-1]
    )


def test_critical_path_under_a_root_and_with_another_default_estimate(
    roadmap: dict[str, str], cli: Runner
) -> None:
    report = cli("graph", "critical-path", "--root", roadmap["p1"][:8], "--json").json()
    assert [t["id"] for t in report["path"]] == [roadmap["a"], roadmap["b"]] and report[
        "total_hours"
    ] == 17
    assert report["root"] == roadmap["p1"]
    config = Path(".agentctl/config.yaml")
    config.write_text(
        config.read_text(encoding="utf-8").replace("default_estimate: 4h", "default_estimate: 6h"),
        encoding="utf-8",
    )
    report = cli("graph", "critical-path", "--json").json()
    slack = {t["id"]: t["slack_hours"] for t in report["tasks"]}
    assert (
        slack[roadmap["c"]] == 6
        and report["default_estimate"] == "6h"
        and report["total_hours"] == 27
    )


def test_estimate_ranges_on_the_command_line(roadmap: dict[str, str], cli: Runner) -> None:
    assert cli("task", "edit", roadmap["c"], "--estimate", "2h-6h").code == 0
    assert cli("task", "show", roadmap["c"], "--json").json()["task"]["estimate"] == "2h-6h"
    result = cli("task", "add", "Backwards", "--estimate", "6h-4h")
    assert_one_line_error(
        result, ExitCode.USAGE, "--estimate", "the range must go from low to high"
    )


# -- the graph -------------------------------------------------------------------------------


def test_graph_tree_marks_the_critical_path_and_names_waits(
    roadmap: dict[str, str], cli: Runner
) -> None:
    result = cli("graph")
    assert result.code == 0, str(result)
    short = {
        k: cli("task", "show", t, "--json").json()["task"]["short_id"] for k, t in roadmap.items()
    }
    lines = result.out.splitlines()
    assert lines[0] == f"{short['p1']}  Phase 1  [inbox · 40h]"
    assert lines[1] == f"├── {short['a']}  Design schema  [inbox · 4h-6h · critical]"
    assert {lines[2][4:], lines[3][4:]} == {
        f"{short['b']}  Build store  [inbox · 1d-2d · critical]  ← waits for {short['a']} Design schema",
        f"{short['c']}  Write docs  [inbox · no estimate]  ← waits for {short['a']} Design schema",
    }
    assert lines[4] == f"{short['p2']}  Phase 2  [inbox]  ← waits for {short['p1']} Phase 1"
    assert lines[5:] == [
        f"├── {short['e']}  API  [inbox · 6h · critical]",
        f"└── {short['f']}  Tests  [inbox · 2h-4h · critical]  ← waits for {short['e']} API",
        f"{short['g']}  Release  [inbox · 1h · critical]  ← waits for {short['f']} Tests, {short['c']} Write docs",
    ]
    assert "Spec review" not in result.out  # finished: only with --all
    everything = cli("graph", "--all")
    assert "Spec review  [done · 10h]" in everything.out and "← waits for " in everything.out


def test_graph_json_mermaid_and_root(roadmap: dict[str, str], cli: Runner) -> None:
    data = cli("graph", "--format", "json").json()
    assert data["schema_version"] == 1 and len(data["nodes"]) == 8
    assert {"from": roadmap["g"], "to": roadmap["c"], "kind": "depends_on"} in data["edges"]
    assert {"from": roadmap["a"], "to": roadmap["p1"], "kind": "parent"} in data["edges"]
    assert cli("graph", "--json").json() == data
    mermaid = cli("graph", "-f", "mermaid").out
    assert mermaid.startswith("flowchart TD\n")
    ids = {k: "t_" + t[2:] for k, t in roadmap.items()}
    assert (
        f"    {ids['a']} --> {ids['b']}\n" in mermaid
        and f"    {ids['p1']} -.- {ids['a']}\n" in mermaid
    )
    under = cli("graph", "--root", roadmap["p2"], "--json").json()
    assert [(n["id"], n["external"]) for n in under["nodes"]] == [
        (roadmap["p2"], False), (roadmap["e"], False), (roadmap["f"], False), (roadmap["p1"], True),
    ]  # fmt: skip


@needs_dot
def test_graph_dot_renders_with_graphviz_even_with_hostile_titles(
    roadmap: dict[str, str], cli: Runner
) -> None:
    for title in (
        '"]; evil [label="pwned',
        "a \\N \\G \\l b",
        "x -> y; z",
        "&amp; <b>&lt;",
        "} digraph g {",
    ):
        add_task(cli, title, "--depends-on", roadmap["g"])
    text = cli("graph", "--format", "dot").out
    svg = subprocess.run(
        ["dot", "-Tsvg"], input=text, capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert svg.count('class="node"') == 13 and "pwned" in svg
    assert '"]; evil' not in text.replace('\\"]; evil', "")  # the quote stays escaped


def test_graph_refuses_bad_options(roadmap: dict[str, str], cli: Runner) -> None:
    assert_one_line_error(
        cli("graph", "--format", "png"),
        ExitCode.USAGE,
        "--format must be one of tree, mermaid, dot, json",
    )
    assert_one_line_error(cli("graph", "--root", "t-zzzz"), ExitCode.NOT_FOUND)
    assert_one_line_error(
        cli("graph", "gantt", "--start", "next week"), ExitCode.USAGE, "--start must be a date"
    )
    assert_one_line_error(
        cli("graph", "gantt", "--lanes", "0"), ExitCode.USAGE, "--lanes must be at least 1"
    )
    assert_one_line_error(
        cli("graph", "gantt", "-f", "svg"),
        ExitCode.USAGE,
        "--format must be one of text, mermaid, json",
    )


# -- gantt -----------------------------------------------------------------------------------


def test_gantt_puts_assigned_work_in_its_lane_and_the_rest_on_free_agents(
    roadmap: dict[str, str], cli: Runner
) -> None:
    for name, runtime in (("dev-1", "simulated"), ("ops-1", "manual")):
        assert cli("agent", "add", name, "--role", "developer", "--runtime", runtime).code == 0
    assert cli("task", "assign", roadmap["c"], "ops-1").code == 0
    data = cli("graph", "gantt", "--start", "2026-01-02", "--json").json()
    key = {task_id: k for k, task_id in roadmap.items()}
    bars = {
        key[t["id"]]: (t["lane"], t["start"], t["finish"], t["critical"]) for t in data["tasks"]
    }
    assert bars == {
        "a": ("dev-1", "2026-01-02 09:00", "2026-01-02 14:00", True),
        "b": ("dev-1", "2026-01-02 14:00", "2026-01-06 10:00", True),
        "c": ("ops-1", "2026-01-02 14:00", "2026-01-05 10:00", False),  # Friday 14:00 + 4h: Monday
        "e": ("dev-1", "2026-01-06 10:00", "2026-01-06 16:00", True),
        "f": ("dev-1", "2026-01-06 16:00", "2026-01-07 11:00", True),
        "g": ("dev-1", "2026-01-07 11:00", "2026-01-07 12:00", True),
    }
    assert (
        data["lanes"] == ["dev-1", "ops-1"]
        and data["pool"] == ["dev-1"]
        and data["finish"] == "2026-01-07 12:00"
    )
    assert {key[s["id"]]: (s["start"], s["finish"]) for s in data["summaries"]} == {
        "p1": ("2026-01-02 09:00", "2026-01-06 10:00"), "p2": ("2026-01-06 10:00", "2026-01-07 11:00"),
    }  # fmt: skip
    one = cli("graph", "gantt", "--start", "2026-01-02", "--lanes", "1", "--json").json()
    assert one["total_hours"] == 27 and one["pool"] == ["lane 1"]  # c stays with ops-1
    text = cli("graph", "gantt", "--start", "2026-01-02")
    assert text.code == 0, str(text)
    assert text.out.startswith(
        "Schedule from 2026-01-02 · 8h working days, Mon–Fri · 2 lanes: dev-1, ops-1\n"
    )
    mermaid = cli("graph", "gantt", "--start", "2026-01-02", "--format", "mermaid").out
    assert (
        mermaid.startswith("gantt\n")
        and f":crit, t_{roadmap['a'][2:]}, 2026-01-02 09:00, 2026-01-02 14:00\n" in mermaid
    )


# -- loops and blocked tasks -----------------------------------------------------------------


def test_cycles_are_reported_with_a_documented_exit_code_and_nothing_crashes(
    roadmap: dict[str, str], cli: Runner
) -> None:
    result = cli("graph", "cycles")
    assert result.code == 0 and result.out == "" and "no dependency loop" in result.err
    assert cli("graph", "cycles", "--json").json()["cycles"] == []
    _hand_edit(roadmap["a"], "depends_on: []", f"depends_on: [{roadmap['g']}]")  # a -> g -> c -> a
    _hand_edit(
        roadmap["e"], f"parent: {roadmap['p2']}", f"parent: {roadmap['f']}"
    )  # e inside f, f waits for e
    result = cli("graph", "cycles")
    assert result.code == ExitCode.CONFLICT, str(result)
    lines = result.out.splitlines()
    assert any(
        line.startswith("waits in a loop: ") and "Design schema → waits for" in line
        for line in lines
    ), result.out
    assert any(
        line.startswith("waits for a task inside it: ") and "Tests" in line and "API" in line
        for line in lines
    )
    data = cli("graph", "cycles", "--json")
    assert data.code == ExitCode.CONFLICT
    kinds = {c["kind"] for c in data.json()["cycles"]}
    assert kinds == {"depends_on", "descendant"}
    plan = cli("graph", "critical-path", "--json")
    assert plan.code == 0 and {t["id"] for t in plan.json()["cyclic"]} >= {
        roadmap["a"],
        roadmap["g"],
        roadmap["c"],
    }
    for args in (("graph",), ("graph", "-f", "mermaid"), ("graph", "gantt"), ("graph", "critical-path"),
                 ("task", "blocked", "--explain"), ("working",), ("task", "ready", "--explain")):  # fmt: skip
        other = cli(*args)
        assert other.code == 0 and "Traceback" not in other.err, str(other)
    assert "dependency loop" in cli("task", "blocked", "--explain").out
    assert (
        _critical_line()
        == "Critical path: 0h left (0.0 working days) · 8 task(s) in a dependency loop left out (agentctl graph cycles)"
    )


def test_parent_loops_from_hand_edits(roadmap: dict[str, str], cli: Runner) -> None:
    _hand_edit(roadmap["p1"], "depends_on: []", f"parent: {roadmap['a']}\ndepends_on: []")
    result = cli("graph", "cycles", "--json")
    assert result.code == ExitCode.CONFLICT
    loop, *above = result.json()["cycles"]
    assert loop["kind"] == "parent" and loop["path"] in (
        [roadmap["a"], roadmap["p1"], roadmap["a"]],
        [roadmap["p1"], roadmap["a"], roadmap["p1"]],
    )
    # b and c are now inside a (through p1) and wait for it
    assert sorted((c["kind"], c["path"][0], c["path"][-1]) for c in above) == sorted(
        [("ancestor", roadmap["b"], roadmap["a"]), ("ancestor", roadmap["c"], roadmap["a"])]
    )
    assert "parent loop: " in cli("graph", "cycles").out
    tree = cli("graph")
    assert tree.code == 0 and "Design schema" in tree.out and "Phase 1" in tree.out


def test_task_blocked_lists_waiting_tasks_and_explains_the_chain(
    roadmap: dict[str, str], cli: Runner
) -> None:
    assert cli("task", "move", roadmap["a"], "blocked").code == 0
    result = cli("task", "blocked", "--json")
    assert result.code == 0, str(result)
    blocked = {t["id"]: t["waits_for"] for t in result.json()["blocked"]}
    assert blocked == {
        roadmap["a"]: [], roadmap["b"]: [roadmap["a"]], roadmap["c"]: [roadmap["a"]], roadmap["p2"]: [roadmap["p1"]],
        roadmap["e"]: [roadmap["p1"]], roadmap["f"]: [roadmap["e"], roadmap["p1"]],  # through their parent p2
        roadmap["g"]: [roadmap["f"], roadmap["c"]],
    }  # fmt: skip
    plain = cli("task", "blocked")
    assert plain.out.splitlines()[0].split() == ["ID", "PRI", "STATUS", "TITLE", "WAITS", "FOR"]
    explained = cli("task", "blocked", "--explain").out
    short = {
        task_id: cli("task", "show", task_id, "--json").json()["task"]["short_id"]
        for task_id in roadmap.values()
    }
    release = explained[explained.index(f"{short[roadmap['g']]}  Release  [inbox]") :]
    assert release.splitlines()[:6] == [
        f"{short[roadmap['g']]}  Release  [inbox]",
        f"  - waits for {short[roadmap['f']]} (inbox): Tests",
        f"    - waits for {short[roadmap['e']]} (inbox): API",
        f"      - waits for {short[roadmap['p1']]} (inbox): Phase 1, through its parent {short[roadmap['p2']]}",
        f"    - waits for {short[roadmap['p1']]} (inbox): Phase 1, through its parent {short[roadmap['p2']]}",
        f"  - waits for {short[roadmap['c']]} (inbox): Write docs",
    ]
    assert f"{short[roadmap['a']]}  Design schema  [blocked]\n  - status is blocked\n" in explained
    _hand_edit(
        roadmap["e"], f"depends_on: [{roadmap['d']}]", "depends_on: [t-zzzzzzzzzzzz]"
    )  # a task that does not exist
    explained = cli("task", "blocked", "--explain").out
    assert "  - depends on missing task t-zzzzzzzzzzzz\n" in explained
    data = {t["id"]: t for t in cli("task", "blocked", "--explain", "--json").json()["blocked"]}
    assert data[roadmap["e"]]["waits_for"] == ["t-zzzzzzzzzzzz", roadmap["p1"]]
    assert data[roadmap["e"]]["chain"][0] == {
        "reason": "depends on missing task t-zzzzzzzzzzzz",
        "task": "t-zzzzzzzzzzzz",
        "chain": [],
    }
    through = data[roadmap["e"]]["chain"][1]
    assert (through["task"], through["via"], through["through"]) == (
        roadmap["p1"],
        roadmap["p2"],
        f"its parent {short[roadmap['p2']]}",
    )


# -- WORKING.md ------------------------------------------------------------------------------


def _critical_line() -> str:
    lines = [
        line
        for line in Path("WORKING.md").read_text(encoding="utf-8").splitlines()
        if line.startswith("Critical path:")
    ]
    assert len(lines) == 1
    return lines[0]


def test_working_md_names_the_next_tasks_on_the_critical_path(
    roadmap: dict[str, str], cli: Runner
) -> None:
    short = {
        k: cli("task", "show", t, "--json").json()["task"]["short_id"] for k, t in roadmap.items()
    }
    assert _critical_line() == (
        f"Critical path: 27h left (3.4 working days) · next {short['a']} Design schema → {short['b']} Build store"
        f" → {short['e']} API (+2 more)"
    )
    assert cli("task", "move", roadmap["a"], "in_progress").code == 0  # same plan: the cached path
    assert _critical_line().startswith("Critical path: 27h left")
    assert (
        cli("task", "edit", roadmap["b"], "--title", "Build the store").code == 0
    )  # titles are always fresh
    assert f"→ {short['b']} Build the store →" in _critical_line()
    for status in ("review", "done"):
        assert cli("task", "move", roadmap["a"], status).code == 0
    assert _critical_line() == (
        f"Critical path: 22h left (2.8 working days) · next {short['b']} Build the store → {short['e']} API"
        f" → {short['f']} Tests (+1 more)"
    )
    assert cli("task", "edit", roadmap["b"], "--estimate", "2h").code == 0
    assert _critical_line() == (
        f"Critical path: 14h left (1.8 working days) · next {short['c']} Write docs → {short['e']} API"
        f" → {short['f']} Tests (+1 more)"
    )
    _hand_edit(
        roadmap["b"], "estimate: 2h", "estimate: 20h"
    )  # a hand edit, picked up by the next render
    text = cli("working")
    assert (
        text.code == 0
        and f"next {short['b']} Build the store → {short['e']} API" in _critical_line()
    )


def test_working_md_has_no_critical_path_line_without_open_tasks(
    tmp_path: Path, cli: Runner
) -> None:
    root = tmp_path / "empty"
    root.mkdir()
    assert cli("init", cwd=root).code == 0
    assert "Critical path" not in (root / "WORKING.md").read_text(encoding="utf-8")
