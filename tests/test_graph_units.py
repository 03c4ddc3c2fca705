"""Units of the task graph: the critical path against an independent reference, loops, the
scheduler and its calendar, and the renderers (tree, Mermaid, DOT, JSON, gantt)."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentctl.core import gantt_render, graph, graph_render
from agentctl.core.gantt import Calendar, schedule
from agentctl.core.plan import Effort, critical_path

DONE = ["done"]


def _task(task_id: str, estimate: str | None = None, deps: tuple[str, ...] = (), parent: str | None = None,
          status: str = "inbox", **extra: Any) -> dict[str, Any]:  # fmt: skip
    return {"id": task_id, "title": extra.pop("title", f"Task {task_id}"), "status": status, "priority": 2,
            "created_at": "2026-01-01T00:00:00Z", "estimate": estimate, "depends_on": list(deps), "parent": parent,
            "assignees": extra.pop("assignees", []), **extra}  # fmt: skip


def roadmap() -> dict[str, dict[str, Any]]:
    """The hand-computed fixture of docs/planning.md (8 h days, default estimate 4h):

    p1 Phase 1 (estimate 40h, ignored: it has open children)
      a  Design schema  4h-6h  -> 5h             0 .. 5
      b  Build store    1d-2d  -> 12h  after a   5 .. 17
      c  Write docs     (none) -> 4h   after a   5 .. 9    slack 8
    d  Spec review      done (10h: takes no time)
    p2 Phase 2 after p1                          17 .. 26
      e  API            6h         after d (done) 17 .. 23
      f  Tests          2h-4h -> 3h after e      23 .. 26
    g  Release          1h   after f and c       26 .. 27
    """
    tasks = [
        _task("p1", "40h"),
        _task("a", "4h-6h", parent="p1"),
        _task("b", "1d-2d", ("a",), parent="p1"),
        _task("c", None, ("a",), parent="p1"),
        _task("d", "10h", status="done"),
        _task("p2", None, ("p1",)),
        _task("e", "6h", ("d",), parent="p2"),
        _task("f", "2h-4h", ("e",), parent="p2"),
        _task("g", "1h", ("f", "c")),
    ]
    return {t["id"]: t for t in tasks}


# -- critical path ---------------------------------------------------------------------------


def test_critical_path_of_the_hand_computed_roadmap() -> None:
    plan = critical_path(roadmap(), DONE, Effort())
    assert plan.path == ["a", "b", "e", "f", "g"]
    assert plan.total_hours == 27
    assert plan.hours == {"p1": 0, "a": 5, "b": 12, "c": 4, "p2": 0, "e": 6, "f": 3, "g": 1}
    assert plan.earliest_start == {
        "p1": 0,
        "a": 0,
        "b": 5,
        "c": 5,
        "p2": 17,
        "e": 17,
        "f": 23,
        "g": 26,
    }
    assert plan.slack == {"p1": 0, "a": 0, "b": 0, "c": 8, "p2": 0, "e": 0, "f": 0, "g": 0}
    assert plan.missing == ["c"] and plan.cyclic == []
    assert plan.critical == {"p1", "a", "b", "p2", "e", "f", "g"}


def test_default_estimate_and_working_days_come_from_the_config() -> None:
    effort = Effort.from_config(
        {"planning": {"default_estimate": "6h", "hours_per_day": 6, "days_per_week": 4}}
    )
    assert (effort.hours_per_day, effort.days_per_week, effort.default_hours) == (6, 4, 6)
    assert effort.expected_hours("1w") == 24  # 4 days of 6 h
    plan = critical_path(roadmap(), DONE, effort)
    assert plan.hours["b"] == 9  # 1d-2d = 6 h .. 12 h
    assert plan.slack["c"] == 3  # 5 .. 11, and phase 1 ends at 14
    # PERT over a range: (min + 4 * mid + max) / 6, the midpoint when mid is the midpoint
    assert Effort().expected_hours("2h-10h") == 6
    assert Effort().expected_hours("not an estimate") is None
    assert Effort.from_config({"planning": {"default_estimate": "2h-4h"}}).default_hours == 3


def test_critical_path_under_a_root() -> None:
    plan = critical_path(roadmap(), DONE, Effort(), root="p1")
    assert plan.path == ["a", "b"] and plan.total_hours == 17
    assert plan.slack["c"] == 8 and "g" not in plan.hours


def test_loops_are_left_out_not_crashed_on() -> None:
    tasks = roadmap()
    tasks["a"]["depends_on"] = ["g"]  # a -> g -> c -> a
    plan = critical_path(tasks, DONE, Effort())
    assert set(plan.cyclic) == {"p1", "a", "b", "c", "p2", "e", "f", "g"}  # in or behind the loop
    assert plan.path == [] and plan.total_hours == 0
    tasks = roadmap()
    tasks["a"]["depends_on"] = ["p1"]  # a child waiting for its own parent
    plan = critical_path(tasks, DONE, Effort())
    assert "a" in plan.cyclic and "p1" in plan.cyclic


def _reference(tasks: Mapping[str, Mapping[str, Any]], effort: Effort, delay: tuple[str, float] | None = None
               ) -> tuple[dict[str, float], dict[str, float], set[str]]:  # fmt: skip
    """Earliest start and finish by plain recursion over the definitions (parents are
    summaries), and the tasks whose times are undefined (in or behind a loop)."""
    open_ids = {t for t, task in tasks.items() if task["status"] not in DONE}
    children = {t: [c for c in open_ids if tasks[c].get("parent") == t] for t in open_ids}
    starts: dict[str, float] = {}
    finishes: dict[str, float] = {}

    class Loop(Exception):
        pass

    def start(t: str, visiting: frozenset[tuple[str, str]]) -> float:
        if ("S", t) in visiting:
            raise Loop
        if t not in starts:
            inner = visiting | {("S", t)}
            times = [finish(d, inner) for d in tasks[t]["depends_on"] if d in open_ids]
            parent = tasks[t].get("parent")
            if parent in open_ids:
                times.append(start(parent, inner))
            starts[t] = max(times, default=0.0) + (delay[1] if delay and delay[0] == t else 0.0)
        return starts[t]

    def finish(t: str, visiting: frozenset[tuple[str, str]]) -> float:
        if ("F", t) in visiting:
            raise Loop
        if t not in finishes:
            inner = visiting | {("F", t)}
            if children[t]:
                finishes[t] = max([start(t, inner), *(finish(c, inner) for c in children[t])])
            else:
                hours = effort.expected_hours(tasks[t].get("estimate"))
                finishes[t] = start(t, inner) + (effort.default_hours if hours is None else hours)
        return finishes[t]

    looped = set()
    for t in sorted(open_ids):
        try:
            start(t, frozenset())
            finish(t, frozenset())
        except Loop:
            looped.add(t)
            starts.clear()  # a partial evaluation may have cached nothing wrong, but be plain
            finishes.clear()
    timed = open_ids - looped
    return (
        {t: start(t, frozenset()) for t in timed},
        {t: finish(t, frozenset()) for t in timed},
        looped,
    )


ESTIMATES = [None, "1h", "2h", "30m", "4h-6h", "1d", "1h-3h", "0h"]
random_graphs = st.integers(1, 7).flatmap(
    lambda n: st.lists(
        st.tuples(
            st.sampled_from(ESTIMATES),
            st.lists(st.integers(0, n - 1), max_size=3),
            st.one_of(st.none(), st.integers(0, n - 1)),
            st.sampled_from(["inbox", "inbox", "in_progress", "done"]),
        ),
        min_size=n,
        max_size=n,
    )
)


@settings(max_examples=100, deadline=None)
@given(random_graphs)
def test_critical_path_matches_a_plain_recursive_reference(
    spec: list[tuple[Any, list[int], int | None, str]],
) -> None:
    tasks = {
        f"n{i}": _task(
            f"n{i}",
            estimate,
            tuple(f"n{d}" for d in deps),
            None if parent is None else f"n{parent}",
            status,
        )
        for i, (estimate, deps, parent, status) in enumerate(spec)
    }
    effort = Effort()
    plan = critical_path(tasks, DONE, effort)
    starts, finishes, looped = _reference(tasks, effort)
    assert set(plan.cyclic) == looped
    assert plan.earliest_start == pytest.approx(starts)
    assert plan.earliest_finish == pytest.approx(finishes)
    total = max(finishes.values(), default=0.0)
    assert plan.total_hours == pytest.approx(total)
    for t in starts:  # slack: how far the task can slip before the end moves
        _, delayed, _ = _reference(tasks, effort, (t, 1000.0))
        assert plan.slack[t] == pytest.approx(1000.0 - (max(delayed.values()) - total)), t
    if plan.path:  # a chain of leaves without slack, from time 0 to the end, back to back
        assert plan.earliest_start[plan.path[0]] == 0
        assert plan.earliest_finish[plan.path[-1]] == pytest.approx(total)
        for before, after in zip(plan.path, plan.path[1:], strict=False):
            assert plan.earliest_finish[before] == pytest.approx(plan.earliest_start[after])
        assert all(plan.slack[t] == pytest.approx(0) for t in plan.path)


# -- loops -----------------------------------------------------------------------------------


def test_structure_cycles_names_every_task_of_every_loop() -> None:
    tasks = {t["id"]: t for t in [
        _task("a", deps=("b", "c")), _task("b", deps=("a",)), _task("c", deps=("b",)),  # a tangle of two loops
        _task("x", deps=("x",)),  # waits for itself
        _task("p", parent="q"), _task("q", parent="p"),  # parent loop
        _task("top"), _task("mid", parent="top"), _task("leaf", parent="mid", deps=("top",)),  # waits for its grandparent
        _task("sum", deps=("kid",)), _task("kid", parent="sum"),  # a parent waiting for its child
        _task("fine", deps=("missing", "top")),
    ]}  # fmt: skip
    found = graph.structure_cycles(tasks)
    loops = [(f["kind"], f["path"]) for f in found]
    assert ("depends_on", ["x", "x"]) in loops
    tangle = [path for kind, path in loops if kind == "depends_on" and path != ["x", "x"]]
    assert {t for path in tangle for t in path} == {"a", "b", "c"}
    for path in tangle:
        assert path[0] == path[-1]
        assert all(b in tasks[a]["depends_on"] for a, b in zip(path, path[1:], strict=False))
    assert ("parent", ["p", "q", "p"]) in loops
    assert ("ancestor", ["leaf", "mid", "top"]) in loops
    assert ("descendant", ["sum", "kid"]) in loops
    assert len(loops) == len(tangle) + 4


def test_covering_cycles_where_a_depth_first_search_misses_a_task() -> None:
    # a -> b -> a and a -> c -> b: one back edge per DFS would leave c unnamed
    succ = {"a": ["b", "c"], "b": ["a"], "c": ["b"]}
    cycles = graph.covering_cycles(succ)
    assert {t for c in cycles for t in c} == {"a", "b", "c"}
    chain = {f"n{i}": [f"n{i + 1}"] for i in range(5000)} | {"n5000": ["n0"]}
    (loop,) = graph.covering_cycles(chain)  # long chains need no recursion
    assert len(loop) == 5002


# -- scheduler -------------------------------------------------------------------------------


def test_calendar_skips_weekends_and_ends_at_the_end_of_a_day() -> None:
    friday = Calendar(date(2026, 1, 2))  # a Friday
    assert friday.first_day == date(2026, 1, 2)
    assert friday.at(0) == datetime(2026, 1, 2, 9, 0)
    assert friday.at(8, end=True) == datetime(2026, 1, 2, 17, 0)
    assert friday.at(8) == datetime(2026, 1, 5, 9, 0)  # Monday
    assert friday.at(10.5) == datetime(2026, 1, 5, 11, 30)
    assert friday.at(48, end=True) == datetime(2026, 1, 9, 17, 0)  # six working days
    saturday = Calendar(date(2026, 1, 3))
    assert saturday.first_day == date(2026, 1, 5)
    six = Calendar(date(2026, 1, 3), days_per_week=6)
    assert six.first_day == date(2026, 1, 3) and six.at(8) == datetime(2026, 1, 5, 9, 0)
    long_days = Calendar(date(2026, 1, 5), hours_per_day=20, days_per_week=7)
    assert long_days.at(0) == datetime(2026, 1, 5, 4, 0) and long_days.workdays == tuple(range(7))


def _bars(result: Any) -> dict[str, tuple[float, float, str | None]]:
    return {b.task: (b.start, b.finish, b.lane) for b in result.bars}


def test_schedule_of_the_roadmap_on_two_agents_matches_the_hand_computed_one() -> None:
    result = schedule(roadmap(), DONE, Effort(), pool=["dev-1", "dev-2"])
    assert _bars(result) == {
        "a": (0, 5, "dev-1"), "b": (5, 17, "dev-1"), "c": (5, 9, "dev-2"),
        "e": (17, 23, "dev-1"), "f": (23, 26, "dev-1"), "g": (26, 27, "dev-1"),
    }  # fmt: skip
    assert {s.task: (s.start, s.finish) for s in result.summaries} == {
        "p1": (0, 17),
        "p2": (17, 26),
    }
    assert result.total_hours == 27 and result.work_hours == 31
    assert [b.task for b in result.bars if b.critical] == ["a", "b", "e", "f", "g"]


def test_one_lane_runs_everything_in_turn() -> None:
    result = schedule(roadmap(), DONE, Effort(), lanes=1)
    assert _bars(result) == {
        "a": (0, 5, "lane 1"), "b": (5, 17, "lane 1"), "c": (17, 21, "lane 1"),
        "e": (21, 27, "lane 1"), "f": (27, 30, "lane 1"), "g": (30, 31, "lane 1"),
    }  # fmt: skip
    assert result.lanes == ["lane 1"] and result.total_hours == 31


def test_assigned_tasks_stay_in_their_agents_lane() -> None:
    tasks = roadmap()
    tasks["c"]["assignees"] = ["ops-1"]  # e.g. a person on the manual runtime: not in the pool
    tasks["g"]["assignees"] = ["dev-1", "dev-2"]  # the first one listed
    result = schedule(tasks, DONE, Effort(), pool=["dev-1"])
    bars = _bars(result)
    assert (
        bars["c"] == (5, 9, "ops-1") and bars["b"] == (5, 17, "dev-1") and bars["g"][2] == "dev-1"
    )
    assert result.lanes == ["dev-1", "ops-1"] and result.pool == ["dev-1"]


def test_started_tasks_go_first_and_no_pool_means_one_lane() -> None:
    tasks = {
        t["id"]: t
        for t in [_task("x", "2h", priority=0), _task("y", "2h", status="in_progress", priority=3)]
    }
    result = schedule(tasks, DONE, Effort(), started=["in_progress"])
    assert _bars(result) == {"y": (0, 2, "unassigned"), "x": (2, 4, "unassigned")}


@settings(max_examples=100, deadline=None)
@given(
    random_graphs,
    st.integers(1, 3),
    st.lists(st.sampled_from(["u", "v", None]), min_size=7, max_size=7),
)
def test_schedules_respect_dependencies_parents_and_lanes(
    spec: list[Any], lanes: int, owners: list[str | None]
) -> None:
    tasks = {
        f"n{i}": _task(f"n{i}", estimate, tuple(f"n{d}" for d in deps), None if parent is None else f"n{parent}",
                       status, assignees=[owners[i]] if owners[i] else [])
        for i, (estimate, deps, parent, status) in enumerate(spec)
    }  # fmt: skip
    effort = Effort()
    result = schedule(tasks, DONE, effort, lanes=lanes)
    plan = critical_path(tasks, DONE, effort)
    bars = {b.task: b for b in result.bars}
    spans = {s.task: s for s in result.summaries}
    summaries = {
        t["parent"]
        for t in tasks.values()
        if t["parent"] in plan.earliest_start and t["id"] in plan.earliest_start
    }
    assert set(bars) == set(plan.earliest_start) - summaries  # every timed leaf exactly once
    for bar in result.bars:
        assert bar.finish - bar.start == pytest.approx(plan.hours[bar.task])
        assert bar.start >= plan.earliest_start[bar.task] - 1e-9  # never before the plan allows
    for lane in result.lanes:  # one task at a time per lane
        on_lane = sorted((b.start, b.finish) for b in result.bars if b.lane == lane)
        assert all(f <= s + 1e-9 for (_, f), (s, _) in zip(on_lane, on_lane[1:], strict=False))

    def begins(t: str) -> float:
        return bars[t].start if t in bars else spans[t].start

    def ends(t: str) -> float:
        return bars[t].finish if t in bars else spans[t].finish

    for t in list(bars) + list(spans):
        for dep in tasks[t]["depends_on"]:
            if dep in bars or dep in spans:
                assert begins(t) >= ends(dep) - 1e-9
        parent = tasks[t]["parent"]
        if parent in spans:
            assert (
                spans[parent].start <= begins(t) + 1e-9 and ends(t) <= spans[parent].finish + 1e-9
            )
    assert result.total_hours >= plan.total_hours - 1e-9
    unlimited = schedule(
        {k: {**v, "assignees": []} for k, v in tasks.items()}, DONE, effort, lanes=len(tasks)
    )
    assert unlimited.total_hours == pytest.approx(
        plan.total_hours
    )  # unlimited capacity = the critical path
    assert {b.task: b.start for b in unlimited.bars} == pytest.approx(
        {t: plan.earliest_start[t] for t in bars}
    )


# -- renderers -------------------------------------------------------------------------------

HOSTILE = [
    '"]; evil["pwned',
    "end",
    "a --> b & c -.- d ==> e",
    "click t_x call alert(1)",
    ": crit, x, 2020-01-01, 2030-01-01",
    "<script>alert(1)</script> %% not a comment",
    "back`tick` {curly} |pipe| \\ back\\\\slash #quot; &amp; ;",
    'x\\nlabel="inj"\\" ] [ -> "t-0000" ; } digraph {',
    "section Pwned",
    "Ünïcødé 日本 — “quotes” \x1b[31mred\u202e",
    "line\u2028break\u0085next",
]


def hostile_tasks() -> dict[str, dict[str, Any]]:
    tasks = {"t-parent0000": _task("t-parent0000", title="section evil: x; y # z", estimate="2h")}
    for i, title in enumerate(HOSTILE):
        task_id = f"t-{i:012d}"
        tasks[task_id] = _task(
            task_id,
            "1h",
            ("t-parent0000",) if i % 3 else (),
            "t-parent0000" if i % 3 == 0 else None,
            title=title,
        )
    return tasks


def _short(tasks: Mapping[str, Any]) -> dict[str, str]:
    return {t: t[:6] for t in tasks}


def test_tree_nests_children_and_names_what_each_task_waits_for() -> None:
    tasks = roadmap()
    tasks["g"]["assignees"] = ["nova"]
    tasks["g"]["depends_on"].append("t-gone00000000")
    plan = critical_path(tasks, DONE, Effort())
    view = graph_render.build_view(
        tasks, DONE, {t: t.upper() for t in tasks}, critical=plan.path, start=plan.earliest_start
    )
    assert graph_render.render_tree(view) == (
        "P1  Task p1  [inbox · 40h]\n"
        "├── A  Task a  [inbox · 4h-6h · critical]\n"
        "├── B  Task b  [inbox · 1d-2d · critical]  ← waits for A Task a\n"
        "└── C  Task c  [inbox · no estimate]  ← waits for A Task a\n"
        "P2  Task p2  [inbox]  ← waits for P1 Task p1\n"
        "├── E  Task e  [inbox · 6h · critical]\n"
        "└── F  Task f  [inbox · 2h-4h · critical]  ← waits for E Task e\n"
        "G  Task g  [inbox · 1h · critical]  @nova  ← waits for F Task f, C Task c, t-gone00000000 (missing)\n"
    )
    with_done = graph_render.build_view(
        tasks, DONE, {t: t.upper() for t in tasks}, include_done=True
    )
    assert "├── E  Task e  [inbox · 6h]  ← waits for D Task d (done)" in graph_render.render_tree(
        with_done
    )
    assert "D  Task d  [done · 10h]" in graph_render.render_tree(with_done)


def test_view_keeps_finished_parents_and_shows_outside_tasks_a_root_waits_for() -> None:
    tasks = roadmap()
    tasks["p1"]["status"] = "done"  # (hand-edited: a finished parent with open children)
    view = graph_render.build_view(tasks, DONE, _short(tasks), root="p2")
    assert [(n.id, n.external) for n in view.nodes] == [("p2", False), ("e", False), ("f", False)]
    tasks["p1"]["status"] = "inbox"
    view = graph_render.build_view(tasks, DONE, _short(tasks), root="p2")
    assert [(n.id, n.external) for n in view.nodes] == [
        ("p2", False),
        ("e", False),
        ("f", False),
        ("p1", True),
    ]
    assert "← waits for p1 Task p1 (inbox, not shown)" in graph_render.render_tree(view)
    full = graph_render.build_view(tasks, DONE, _short(tasks))
    kinds = {(e.source, e.target, e.kind) for e in full.edges}
    assert (
        ("b", "a", "depends_on") in kinds
        and ("b", "p1", "parent") in kinds
        and ("e", "d", "depends_on") not in kinds
    )


def test_mermaid_flowchart_escapes_hostile_titles() -> None:
    tasks = hostile_tasks()
    view = graph_render.build_view(tasks, DONE, _short(tasks), critical=["t-000000000001"])
    text = graph_render.render_mermaid(view)
    lines = text.splitlines()
    assert lines[0] == "flowchart TD"
    node = re.compile(r'^    (t_[a-z0-9_]+)\["([^"\[\]\n]*)"\]$')
    edge = re.compile(r"^    (t_[a-z0-9_]+) (-->|-\.-) (t_[a-z0-9_]+)$")
    style = re.compile(r"^    (classDef [a-z]+ [a-z:#0-9,\- ]+|class [a-z0-9_,]+ [a-z]+)$")
    nodes = [node.match(line) for line in lines[1:] if node.match(line)]
    assert len(nodes) == len(tasks)
    assert all(node.match(line) or edge.match(line) or style.match(line) for line in lines[1:]), (
        text
    )
    labels = {m.group(1): m.group(2) for m in nodes if m}
    for task_id, task in tasks.items():
        label = labels[graph_render.mermaid_id(task_id)]
        stripped = re.sub(r"#\d+;", "", label.replace("<br/>", ""))
        assert not re.search(r"[\"\[\]{}|`<>;:%#\\]", stripped), label
        shown = re.sub(r"#(\d+);", lambda m: chr(int(m.group(1))), label.split("<br/>")[0])
        assert shown == graph_render.one_line(f"{task_id[:6]} {task['title']}")
    assert "\x1b" not in text and "\u202e" not in text and "\u2028" not in text


def _svg_nodes(dot_text: str) -> dict[str, list[str]]:
    """Node name -> the lines of its label, as Graphviz drew them (``dot -Tsvg``)."""
    svg = subprocess.run(
        ["dot", "-Tsvg"], input=dot_text, capture_output=True, text=True, check=True, timeout=60
    ).stdout
    nodes = {}
    for block in re.findall(r'<g id="node\d+" class="node">(.*?)</g>', svg, re.DOTALL):
        name = html.unescape(re.search(r"<title>([^<]*)</title>", block).group(1))  # type: ignore[union-attr]
        nodes[name] = [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", block)]
    return nodes


needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None and not os.environ.get("CI"),
    reason="Graphviz 'dot' is not installed (CI installs it)",
)


@needs_dot
def test_dot_is_valid_graphviz_and_hostile_titles_stay_in_their_labels() -> None:
    tasks = hostile_tasks()
    view = graph_render.build_view(tasks, DONE, _short(tasks), critical=["t-000000000001"])
    text = graph_render.render_dot(view)
    drawn = _svg_nodes(text)
    assert sorted(drawn) == sorted(tasks)  # no node added by a title
    for task_id, task in tasks.items():  # each title whole, in its own label
        assert " ".join(drawn[task_id][:-1]) == graph_render.one_line(
            f"{task_id[:6]} {task['title']}"
        ), drawn[task_id]
    svg = subprocess.run(
        ["dot", "-Tsvg"], input=text, capture_output=True, text=True, check=True
    ).stdout
    assert svg.count('class="edge"') == len(view.edges)
    assert "\x1b" not in text and "\u202e" not in text
    full = graph_render.build_view(roadmap(), DONE, _short(roadmap()), include_done=True)
    assert sorted(_svg_nodes(graph_render.render_dot(full))) == sorted(roadmap())


def test_json_view_has_nodes_and_edges() -> None:
    tasks = roadmap()
    plan = critical_path(tasks, DONE, Effort())
    data = graph_render.view_data(
        graph_render.build_view(tasks, DONE, _short(tasks), start=plan.earliest_start)
    )
    json.dumps(data)
    assert [n["id"] for n in data["nodes"]] == ["p1", "a", "b", "c", "p2", "e", "f", "g"]
    assert {"from": "g", "to": "c", "kind": "depends_on"} in data["edges"]
    assert {"from": "a", "to": "p1", "kind": "parent"} in data["edges"]


def test_mermaid_gantt_has_sections_per_parent_and_marks_the_critical_path() -> None:
    tasks = roadmap()
    tasks["e"]["status"] = "in_progress"
    result = schedule(tasks, DONE, Effort(), pool=["dev-1", "dev-2"], started=["in_progress"])
    text = gantt_render.render_mermaid_gantt(
        result, tasks, {t: t.upper() for t in tasks}, Calendar(date(2026, 1, 2))
    )
    assert text == (
        "gantt\n"
        "    title Schedule from 2026-01-02\n"
        "    dateFormat YYYY-MM-DD HH:mm\n"
        "    axisFormat %m-%d\n"
        "    section P1 Task p1\n"
        "    A Task a :crit, t_a, 2026-01-02 09:00, 2026-01-02 14:00\n"
        "    B Task b :crit, t_b, 2026-01-02 14:00, 2026-01-06 10:00\n"
        "    C Task c :t_c, 2026-01-02 14:00, 2026-01-05 10:00\n"
        "    section P2 Task p2\n"
        "    E Task e :crit, active, t_e, 2026-01-06 10:00, 2026-01-06 16:00\n"
        "    F Task f :crit, t_f, 2026-01-06 16:00, 2026-01-07 11:00\n"
        "    section Tasks without a parent\n"
        "    G Task g :crit, t_g, 2026-01-07 11:00, 2026-01-07 12:00\n"
    )


def test_mermaid_gantt_escapes_hostile_titles() -> None:
    tasks = hostile_tasks()
    result = schedule(tasks, DONE, Effort(), lanes=2)
    text = gantt_render.render_mermaid_gantt(
        result, tasks, _short(tasks), Calendar(date(2026, 1, 5))
    )
    line = re.compile(
        r"^    [^:\n#;%]+ :(crit, )?t_[a-z0-9_]+, \d{4}-\d\d-\d\d \d\d:\d\d, \d{4}-\d\d-\d\d \d\d:\d\d$"
    )
    section = re.compile(r"^    section [^:\n#;%]+$")
    body = [re.sub(r"#\d+;", "", b) for b in text.splitlines()[4:]]
    assert all(line.match(b) or section.match(b) for b in body), text
    assert (
        sum(1 for b in body if line.match(b)) == len(result.bars) == len(tasks) - 1
    )  # the parent is a summary
    for b in body:  # no line starts with a keyword: each begins with a short ID
        assert b.startswith(("    t-", "    section t-", "    section Tasks"))


def test_text_gantt_and_json() -> None:
    tasks = roadmap()
    result = schedule(tasks, DONE, Effort(), pool=["dev-1", "dev-2"])
    calendar = Calendar(date(2026, 1, 2))
    text = gantt_render.render_text_gantt(result, tasks, {t: t.upper() for t in tasks}, calendar)
    lines = text.splitlines()
    assert lines[0] == "Schedule from 2026-01-02 · 8h working days, Mon–Fri · 2 lanes: dev-1, dev-2"
    assert (
        lines[1]
        == "Finishes 2026-01-07 12:00 · 27h (3.4 d) from start · 31h of work · # critical path"
    )
    assert lines[3].startswith("START        END          LANE   |time →")
    assert lines[4] == "01-02 09:00  01-02 14:00  dev-1  |" + "#" * 9 + " " * 39 + "|  A Task a"
    assert (
        lines[6]
        == "01-02 14:00  01-05 10:00  dev-2  |" + " " * 8 + "=" * 8 + " " * 32 + "|  C Task c"
    )
    assert "1 task(s) had no estimate" in text
    data = gantt_render.schedule_data(result, tasks, _short(tasks), calendar)
    json.dumps(data)
    assert (
        data["finish"] == "2026-01-07 12:00"
        and data["total_hours"] == 27
        and data["critical_path"] == ["a", "b", "e", "f", "g"]
    )
    assert (
        data["tasks"][0]["id"] == "a"
        and data["tasks"][0]["lane"] == "dev-1"
        and data["tasks"][0]["finish"] == "2026-01-02 14:00"
    )
    assert data["missing_estimates"] == ["c"] and data["workdays"] == [
        "Mon",
        "Tue",
        "Wed",
        "Thu",
        "Fri",
    ]
    empty = schedule({}, DONE, Effort())
    assert "Nothing to schedule" in gantt_render.render_text_gantt(empty, {}, {}, calendar)
