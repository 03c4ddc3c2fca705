"""Unit tests of the pure core (ids, durations, graph, rules) and of the store's building
blocks (WORKING.md rendering, the event log, atomic files)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from helpers_proc import isolate
from hypothesis import given, settings
from hypothesis import strategies as st

from agentctl.core import duration, graph, ids, rules
from agentctl.core.rules import Actor
from agentctl.errors import (
    AmbiguousError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    UsageError,
)
from agentctl.store import atomic, events, working

if TYPE_CHECKING:
    from agentctl.core.events import TaskMoved
    from agentctl.core.records import EventRecord, TaskRecord

WORKFLOW: dict[str, Any] = {
    "statuses": ["inbox", "assigned", "in_progress", "review", "done", "blocked"],
    "transitions": {
        "inbox": ["assigned", "in_progress", "blocked"],
        "assigned": ["in_progress", "inbox", "blocked"],
        "in_progress": ["review", "done", "assigned", "blocked"],
        "review": ["done", "in_progress", "blocked"],
        "blocked": ["inbox", "assigned", "in_progress", "review"],
        "done": ["inbox", "assigned", "in_progress"],
    },
    "initial": "inbox",
    "assigned": "assigned",
    "in_progress": "in_progress",
    "review": "review",
    "done": ["done"],
    "blocked": "blocked",
    "ready": ["inbox", "assigned"],
}


# -- core/ids.py ----------------------------------------------------------------------------------


def test_alphabet_is_crockford_base32() -> None:
    assert len(ids.ALPHABET) == 32 == len(set(ids.ALPHABET))
    assert ids.ALPHABET == "".join(sorted(ids.ALPHABET))
    assert not set("ilou") & set(ids.ALPHABET)
    assert ids.RANDOM_CHARS * 5 >= 60


def test_new_id_format_and_randomness() -> None:
    made = [ids.new_id(ids.TASK) for _ in range(20_000)]
    pattern = re.compile(rf"^t-[{ids.ALPHABET}]{{{ids.RANDOM_CHARS}}}$")
    assert all(pattern.match(i) for i in made)
    assert len(set(made)) == len(made)
    # Every position uses the whole alphabet (60 random bits, none stuck).
    for position in range(2, 2 + ids.RANDOM_CHARS):
        assert {i[position] for i in made} == set(ids.ALPHABET), position
    assert ids.is_id(ids.TASK, made[0])
    assert ids.new_id(ids.EVENT).startswith("e-")


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("t-4k7q", "t-4k7q"),
        ("4k7q", "t-4k7q"),
        ("T-4K7Q", "t-4k7q"),
        ("  t-4k7q\n", "t-4k7q"),
        ("t-4kiq", "t-4k1q"),
        ("t-4klq", "t-4k1q"),
        ("t-4koq", "t-4k0q"),
        ("ILO0", "t-1100"),
        ("t-4k7q2m9x3bce", "t-4k7q2m9x3bce"),
    ],
)
def test_normalize_ref(ref: str, expected: str) -> None:
    assert ids.normalize_ref(ids.TASK, ref) == expected


@pytest.mark.parametrize(
    "ref", ["", "t-", "  ", "t-4u7q", "t-4k7q!", "t-4k7q2m9x3bcex", "x-4k7q", "t 4k7q", "t--4k7"]
)
def test_normalize_ref_refuses(ref: str) -> None:
    with pytest.raises(UsageError, match="not a valid task ID"):
        ids.normalize_ref(ids.TASK, ref)


def test_is_id() -> None:
    assert ids.is_id("t", "t-0123456789ab")
    assert not ids.is_id("t", "t-0123456789a")
    assert not ids.is_id("t", "t-0123456789abc")
    assert not ids.is_id("t", "t-0123456789ai")
    assert not ids.is_id("t", "e-0123456789ab")


SORTED = sorted(
    ["t-4k7q2m9x3bce", "t-4k7q2m9x3bcf", "t-4k7r00000000", "t-9zzzzzzzzzzz", "t-a00000000000"]
)


def test_resolve() -> None:
    assert ids.resolve("t", "t-4k7r", SORTED) == "t-4k7r00000000"
    assert ids.resolve("t", "9", SORTED) == "t-9zzzzzzzzzzz"  # unique, even though short
    assert ids.resolve("t", "T-4K7Q2M9X3BCE", SORTED) == "t-4k7q2m9x3bce"
    assert ids.resolve("t", "ao", SORTED) == "t-a00000000000"  # o reads as 0
    with pytest.raises(AmbiguousError, match="t-4k7q2m9x3bce, t-4k7q2m9x3bcf"):
        ids.resolve("t", "4k7q", SORTED)
    with pytest.raises(AmbiguousError):
        ids.resolve("t", "t-4k7", SORTED)
    with pytest.raises(NotFoundError, match="no task matches"):
        ids.resolve("t", "t-4k7s", SORTED)
    with pytest.raises(NotFoundError):
        ids.resolve("t", "b", SORTED)


def test_resolve_many_matches_is_abbreviated() -> None:
    many = sorted(f"t-0000000000{a}{b}" for a in "01" for b in ids.ALPHABET[:8])
    with pytest.raises(AmbiguousError) as info:
        ids.resolve("t", "t-0000", many)
    assert info.value.message.endswith(", ...")
    assert info.value.message.count("t-0000") == 11  # the ref plus 10 candidates


id_sets = st.lists(
    # a tiny alphabet makes long shared prefixes; the full one, typical random IDs
    st.text(
        st.sampled_from(ids.ALPHABET[:3]), min_size=ids.RANDOM_CHARS, max_size=ids.RANDOM_CHARS
    ).map(lambda s: "t-" + s)
    | st.text(
        st.sampled_from(ids.ALPHABET), min_size=ids.RANDOM_CHARS, max_size=ids.RANDOM_CHARS
    ).map(lambda s: "t-" + s),
    min_size=1,
    max_size=60,
    unique=True,
).map(sorted)


@settings(max_examples=100, deadline=None)
@given(id_sets)
def test_short_ids_are_shortest_unique_prefixes(sorted_ids: list[str]) -> None:
    short = ids.short_ids(sorted_ids)
    assert set(short) == set(sorted_ids)
    for ident, prefix in short.items():
        assert ident.startswith(prefix)
        assert len(prefix) >= 2 + ids.MIN_PREFIX
        others = [o for o in sorted_ids if o != ident]
        assert not any(o.startswith(prefix) for o in others), (ident, prefix)
        if len(prefix) > 2 + ids.MIN_PREFIX:  # minimal: one character less is ambiguous
            assert any(o.startswith(prefix[:-1]) for o in others)
        assert ids.resolve("t", prefix, sorted_ids) == ident
        i = sorted_ids.index(ident)
        assert ids.short_id(ident, sorted_ids[max(0, i - 1) : i + 2]) == prefix
    assert len(set(short.values())) == len(short)


# -- core/duration.py ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("15m", 900), ("4h", 14400), ("2d", 172800), ("1w", 604800), ("1h30m", 5400),
     ("1.5h", 5400), (" 2 H ", 7200), ("0s", 0), ("1w2d3h4m5s", 604800 + 172800 + 10800 + 240 + 5)],
)  # fmt: skip
def test_parse_duration(text: str, seconds: float) -> None:
    assert duration.parse_duration(text) == seconds


@pytest.mark.parametrize(
    "text", ["", " ", "h", "5", "5x", "-1h", "1h-", "m5", "1h 30", "1.h", "1hh", "1y", "4h!", ".5h"]
)
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        duration.parse_duration(text)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (-5, "0s"),
        (59, "59s"),
        (60, "1m"),
        (3599, "59m"),
        (3600, "1h"),
        (86399, "23h"),
        (86400, "1d"),
        (10**7, "115d"),
    ],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert duration.format_duration(seconds) == text


@given(st.integers(0, 10**6), st.sampled_from(["s", "m", "h", "d", "w"]))
def test_duration_parts_add_up(n: int, unit: str) -> None:
    assert (
        duration.parse_duration(f"{n}{unit}")
        == n * {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[unit]
    )


# -- core/graph.py --------------------------------------------------------------------------------


def _tasks(
    edges: dict[str, list[str]], status: dict[str, str] | None = None, **extra: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    return {
        node: {
            "id": node,
            "status": (status or {}).get(node, "inbox"),
            "priority": extra.get("priority", {}).get(node, 2),
            "created_at": extra.get("created_at", {}).get(node, "2026-01-01T00:00:00Z"),
            "depends_on": deps,
        }
        for node, deps in edges.items()
    }


def test_find_cycles() -> None:
    assert graph.find_cycles(_tasks({"a": ["b"], "b": ["c"], "c": []})) == []
    assert graph.find_cycles(_tasks({"a": ["a"]})) == [["a", "a"]]
    assert graph.find_cycles(_tasks({"a": ["b"], "b": ["a"]})) == [["a", "b", "a"]]
    cycles = graph.find_cycles(
        _tasks({"a": ["b"], "b": ["c"], "c": ["a"], "x": ["y"], "y": ["x"], "z": ["a"]})
    )
    assert sorted(tuple(sorted(set(c))) for c in cycles) == [("a", "b", "c"), ("x", "y")]
    # missing dependencies are not cycles
    assert graph.find_cycles(_tasks({"a": ["missing"]})) == []


def test_cycle_if_added() -> None:
    tasks = _tasks({"a": ["b"], "b": ["c"], "c": [], "d": []})
    assert graph.cycle_if_added(tasks, "c", "a") == ["c", "a", "b", "c"]
    assert graph.cycle_if_added(tasks, "a", "a") == ["a", "a"]
    assert graph.cycle_if_added(tasks, "a", "d") is None
    assert graph.cycle_if_added(tasks, "d", "a") is None
    assert graph.cycle_if_added(tasks, "a", "c") is None  # a shortcut, not a cycle


def _has_cycle(edges: dict[str, list[str]]) -> bool:
    """Kahn's algorithm: a reference to check find_cycles against."""
    indegree = {n: 0 for n in edges}
    for deps in edges.values():
        for d in deps:
            if d in indegree:
                indegree[d] += 1
    queue = [n for n, k in indegree.items() if k == 0]
    seen = 0
    while queue:
        node = queue.pop()
        seen += 1
        for d in edges[node]:
            if d in indegree:
                indegree[d] -= 1
                if indegree[d] == 0:
                    queue.append(d)
    return seen != len(edges)


graphs = st.integers(1, 8).flatmap(
    lambda n: st.fixed_dictionaries(
        {
            f"n{i}": st.lists(
                st.sampled_from([f"n{j}" for j in range(n)] + ["gone"]), max_size=3, unique=True
            )
            for i in range(n)
        }
    )
)


@settings(max_examples=100, deadline=None)
@given(graphs)
def test_find_cycles_matches_a_reference(edges: dict[str, list[str]]) -> None:
    cycles = graph.find_cycles(_tasks(edges))
    assert bool(cycles) == _has_cycle(edges)
    for cycle in cycles:
        assert cycle[0] == cycle[-1]
        for a, b in zip(cycle, cycle[1:], strict=False):
            assert b in edges[a]


@settings(max_examples=100, deadline=None)
@given(graphs, st.data())
def test_cycle_if_added_is_exact(edges: dict[str, list[str]], data: st.DataObject) -> None:
    if _has_cycle(edges):
        return
    nodes = sorted(edges)
    task_id = data.draw(st.sampled_from(nodes))
    dep_id = data.draw(st.sampled_from(nodes))
    cycle = graph.cycle_if_added(_tasks(edges), task_id, dep_id)
    after = {**edges, task_id: [*edges[task_id], dep_id]}
    assert (cycle is not None) == _has_cycle(after)
    if cycle:
        assert cycle[0] == cycle[-1] == task_id
        for a, b in zip(cycle, cycle[1:], strict=False):
            assert b in after[a]


def test_explain_ready_and_blockers() -> None:
    tasks = _tasks(
        {"a": ["b", "c", "gone"], "b": [], "c": [], "d": [], "e": []},
        status={"b": "done", "c": "review", "d": "in_progress", "e": "assigned"},
    )
    assert graph.blockers(tasks, tasks["a"], ["done"]) == ["c", "gone"]
    assert graph.explain_ready(tasks, tasks["a"], WORKFLOW) == [
        "waits for c (review)",
        "depends on missing task gone",
    ]
    assert graph.explain_ready(tasks, tasks["d"], WORKFLOW) == [
        "status is in_progress (ready needs inbox or assigned)"
    ]
    assert graph.explain_ready(tasks, tasks["e"], WORKFLOW) == []
    assert graph.explain_ready(tasks, tasks["b"], WORKFLOW) == [
        "status is done (ready needs inbox or assigned)"
    ]


def test_ready_order_is_priority_then_age_then_id() -> None:
    tasks = _tasks(
        {"t-b": [], "t-a": [], "t-c": [], "t-d": [], "t-e": ["t-d"]},
        priority={"t-b": 1, "t-a": 1, "t-c": 0, "t-d": 3, "t-e": 0},
        created_at={
            "t-b": "2026-01-01T00:00:00Z",
            "t-a": "2026-01-01T00:00:00Z",
            "t-c": "2026-02-01T00:00:00Z",
        },
    )
    assert [t["id"] for t in graph.ready_tasks(tasks, WORKFLOW)] == ["t-c", "t-a", "t-b", "t-d"]
    tasks["t-d"]["status"] = "done"
    assert [t["id"] for t in graph.ready_tasks(tasks, WORKFLOW)] == ["t-e", "t-c", "t-a", "t-b"]


def test_find_path() -> None:
    tasks = _tasks({"a": ["b"], "b": ["c"], "c": []})
    assert graph.find_path(tasks, "a", "c") == ["a", "b", "c"]
    assert graph.find_path(tasks, "c", "a") is None
    assert graph.find_path(tasks, "a", "a") == ["a"]


# -- core/rules.py --------------------------------------------------------------------------------


@pytest.mark.parametrize("source", WORKFLOW["statuses"])
@pytest.mark.parametrize("target", [*WORKFLOW["statuses"], "nowhere"])
def test_transitions(source: str, target: str) -> None:
    if target == "nowhere":
        with pytest.raises(ConflictError, match="unknown status 'nowhere'"):
            rules.check_transition(WORKFLOW, source, target)
    elif source == target:
        with pytest.raises(ConflictError, match=f"already {target}"):
            rules.check_transition(WORKFLOW, source, target)
    elif target in WORKFLOW["transitions"][source]:
        rules.check_transition(WORKFLOW, source, target)
    else:
        with pytest.raises(
            ConflictError, match=f"cannot move from {source} to {target}; allowed from {source}: "
        ):
            rules.check_transition(WORKFLOW, source, target)
    assert rules.allowed_next(WORKFLOW, source) == WORKFLOW["transitions"][source]


def test_transitions_from_a_status_without_any() -> None:
    flow = {**WORKFLOW, "transitions": {"inbox": []}}
    with pytest.raises(ConflictError, match="allowed from review: none"):
        rules.check_transition(flow, "review", "done")


EXPECTED_MATRIX = {
    "intern": {"create_tasks"},
    # reviewing needs the review capability or a grant; fetching needs fetch.allow domains too
    "specialist": {"create_tasks", "move_done", "fetch"},
    "lead": {
        "fetch",
        "create_tasks",
        "move_done",
        "skip_review",
        "assign_others",
        "move_any",
        "remove_tasks",
        "edit_agents",
        "review",
        "plan",
        "propose_agents",
    },
}


@pytest.mark.parametrize("level", sorted(EXPECTED_MATRIX))
@pytest.mark.parametrize("permission", sorted(EXPECTED_MATRIX["lead"]))
def test_permission_matrix(level: str, permission: str) -> None:
    expected = permission in EXPECTED_MATRIX[level]
    assert Actor("a", level).can(permission) is expected
    assert Actor("a", level, allow=frozenset({permission})).can(permission) is True
    assert Actor("a", level, deny=frozenset({permission})).can(permission) is False
    # deny beats allow
    assert (
        Actor("a", level, allow=frozenset({permission}), deny=frozenset({permission})).can(
            permission
        )
        is False
    )
    # an override of another permission changes nothing here
    other = "edit_agents" if permission != "edit_agents" else "create_tasks"
    assert (
        Actor("a", level, allow=frozenset({other}), deny=frozenset({other})).can(permission)
        is expected
    )
    # humans may do everything
    assert Actor("someone").can(permission) is True
    if expected:
        Actor("a", level).require(permission, "do it")
    else:
        with pytest.raises(PermissionDeniedError, match=f"a \\({level}\\) may not do it"):
            Actor("a", level).require(permission, "do it")


def test_permission_table_in_models_matches_rules() -> None:
    from agentctl.core.models import PERMISSION_NAMES

    assert set(PERMISSION_NAMES) == set().union(*rules.LEVEL_PERMISSIONS.values())
    assert rules.LEVEL_PERMISSIONS == {k: frozenset(v) for k, v in EXPECTED_MATRIX.items()}


def test_move_permission() -> None:
    task = {"id": "t-1", "status": "review", "assignees": ["dev"]}
    reviewer = frozenset({"review"})
    rules.check_move_permission(Actor("human"), WORKFLOW, task, "done")
    with pytest.raises(PermissionDeniedError, match="dev implemented t-1 and may not approve it"):
        rules.check_move_permission(
            Actor("dev", "specialist", capabilities=reviewer), WORKFLOW, task, "done"
        )
    # separate_reviewer: false lets an implementer approve only where review is not required
    with pytest.raises(PermissionDeniedError, match="dev implemented t-1"):
        rules.check_move_permission(
            Actor("dev", "specialist", capabilities=reviewer),
            {**WORKFLOW, "separate_reviewer": False},
            task,
            "done",
        )
    relaxed = {**WORKFLOW, "separate_reviewer": False, "require_review": False}
    rules.check_move_permission(
        Actor("dev", "specialist", capabilities=reviewer), relaxed, task, "done"
    )
    # moving out of review is reviewing: the capability, a grant, or a lead; deny wins
    with pytest.raises(PermissionDeniedError, match="dev \\(specialist\\) may not review t-1"):
        rules.check_move_permission(Actor("dev", "specialist"), WORKFLOW, task, "in_progress")
    rules.check_move_permission(
        Actor("dev", "specialist", capabilities=reviewer), WORKFLOW, task, "in_progress"
    )
    rules.check_move_permission(
        Actor("other", "specialist", capabilities=reviewer), WORKFLOW, task, "done"
    )
    rules.check_move_permission(
        Actor("other", "specialist", allow=reviewer), WORKFLOW, task, "done"
    )
    rules.check_move_permission(Actor("boss", "lead"), WORKFLOW, task, "done")
    with pytest.raises(PermissionDeniedError, match="may not review"):
        rules.check_move_permission(
            Actor("boss", "lead", deny=reviewer, capabilities=reviewer), WORKFLOW, task, "done"
        )
    with pytest.raises(PermissionDeniedError, match="other \\(specialist\\) may not review t-1"):
        rules.check_move_permission(Actor("other", "specialist"), WORKFLOW, task, "done")
    with pytest.raises(
        PermissionDeniedError, match="other \\(intern\\) may not move tasks to done"
    ):
        rules.check_move_permission(
            Actor("other", "intern", capabilities=reviewer), WORKFLOW, task, "done"
        )
    rules.check_move_permission(
        Actor("other", "intern", capabilities=reviewer), WORKFLOW, task, "in_progress"
    )
    with pytest.raises(
        PermissionDeniedError, match="may only move tasks assigned to it; t-1 is assigned to dev"
    ):
        rules.check_move_permission(
            Actor("other", "specialist"), WORKFLOW, {**task, "status": "in_progress"}, "review"
        )
    with pytest.raises(PermissionDeniedError, match="assigned to nobody"):
        rules.check_move_permission(
            Actor("other", "specialist"),
            WORKFLOW,
            {**task, "assignees": [], "status": "assigned"},
            "blocked",
        )
    rules.check_move_permission(
        Actor("other", "specialist", allow=frozenset({"move_any"})),
        WORKFLOW,
        {**task, "status": "assigned"},
        "blocked",
    )
    with pytest.raises(PermissionDeniedError, match="may not move tasks to done"):
        rules.check_move_permission(Actor("dev", "intern"), WORKFLOW, task, "done")
    # no agent skips review while it is required, leads included; without it, skip_review decides
    in_progress = {**task, "status": "in_progress"}
    for actor in (
        Actor("dev", "specialist"),
        Actor("dev", "specialist", allow=frozenset({"skip_review"})),
        Actor("boss", "lead"),
    ):
        with pytest.raises(
            PermissionDeniedError,
            match="without review \\(workflow.require_review\\): move t-1 to review first",
        ):
            rules.check_move_permission(actor, WORKFLOW, in_progress, "done")
    optional = {**WORKFLOW, "require_review": False}
    with pytest.raises(
        PermissionDeniedError,
        match="may not move a task to done without review: move t-1 to review first",
    ):
        rules.check_move_permission(Actor("dev", "specialist"), optional, in_progress, "done")
    rules.check_move_permission(
        Actor("dev", "specialist", allow=frozenset({"skip_review"})), optional, in_progress, "done"
    )
    rules.check_move_permission(Actor("boss", "lead"), optional, in_progress, "done")
    with pytest.raises(PermissionDeniedError):
        rules.check_move_permission(
            Actor("boss", "lead", deny=frozenset({"skip_review"})), optional, in_progress, "done"
        )


def test_assign_self_and_gates() -> None:
    free = {"id": "t-1", "status": "inbox", "assignees": [], "priority": 0, "labels": []}
    rules.check_assign_self(Actor("dev", "intern"), free)
    held = {**free, "assignees": ["other"]}
    with pytest.raises(
        PermissionDeniedError,
        match="dev \\(intern\\) may not assign itself to t-1, which is assigned to other",
    ):
        rules.check_assign_self(Actor("dev", "intern"), held)
    claimed = {**free, "claim": {"claimed_by": "someone"}}
    with pytest.raises(PermissionDeniedError, match="assigned to someone"):
        rules.check_assign_self(Actor("dev", "specialist"), claimed)
    rules.check_assign_self(Actor("boss", "lead"), held)
    rules.check_assign_self(Actor("human"), held)
    gates = {**WORKFLOW, "human_gates": [
        {"name": None, "transition": "review->done", "priority": [0], "labels": []},
        {"name": "freeze", "transition": " * -> in_progress ", "priority": [], "labels": ["frozen"]},
        {"name": "all", "transition": "blocked->*", "priority": [], "labels": []},
    ]}  # fmt: skip
    assert rules.gate_name(gates["human_gates"][0]) == "review -> done (priority: p0)"
    assert rules.gate_for(gates, free, "review", "done") == gates["human_gates"][0]
    assert rules.gate_for(gates, {**free, "priority": 1}, "review", "done") is None
    assert (rules.gate_for(gates, {**free, "labels": ["frozen"]}, "assigned", "in_progress") or {})[
        "name"
    ] == "freeze"
    assert rules.gate_for(gates, {**free, "labels": ["x"]}, "assigned", "in_progress") is None
    assert (rules.gate_for(gates, free, "blocked", "inbox") or {})["name"] == "all"
    with pytest.raises(
        rules.GateRefusal,
        match="t-1: review -> done needs a human \\(human gate 'review -> done \\(priority: p0\\)'\\)",
    ):
        rules.check_gates(Actor("boss", "lead"), gates, {**free, "status": "review"}, "done")
    rules.check_gates(Actor("human"), gates, {**free, "status": "review"}, "done")


# -- store/working.py ------------------------------------------------------------------------------


def _task(n: int, status: str, **extra: Any) -> TaskRecord:
    """Test data: the fields the renderer reads (a TaskRecord for the type checker)."""
    return {"id": f"t-{n:012d}", "priority": n % 4, "title": f"Task number {n}", "status": status,
            "assignees": [], "depends_on": [], "claim": None, **extra}  # type: ignore[typeddict-item]  # fmt: skip


def _state(
    n_tasks: int, notes: str = "", n_agents: int = 3, per_status: int = 15
) -> working.WorkingState:
    open_statuses = ["inbox", "assigned", "in_progress", "review", "blocked"]
    by_status: dict[str, list[TaskRecord]] = {s: [] for s in [*open_statuses, "done"]}
    for n in range(n_tasks):
        status = [*open_statuses, "done"][n % 6]
        by_status[status].append(_task(n, status))
    events_: list[Any] = [
        {
            "id": f"e-{n:012d}",
            "ts": f"2026-11-22T01:{n % 60:02d}:00.000Z",
            "actor": "dev",
            "type": "task.created",
            "subject": f"t-{n:012d}",
            "data": {"title": f"Task number {n}"},
        }  # fmt: skip
        for n in range(15)
    ]
    return working.WorkingState(
        name="demo",
        statuses=WORKFLOW["statuses"],
        done=["done"],
        attention=["review", "blocked"],
        open_tasks={s: by_status[s][:per_status] for s in open_statuses},
        open_counts={s: len(by_status[s]) for s in open_statuses},
        recent_done=by_status["done"][:10],
        done_count=len(by_status["done"]),
        agents=[
            {
                "name": f"a{i}",
                "role": "dev",
                "level": "specialist",
                "created_at": "2026-11-22T00:00:00Z",
            }
            for i in range(n_agents)
        ],
        states={
            "a0": {
                "status": "active",
                "current_task": "t-000000000001",
                "last_heartbeat": "2026-11-22T01:02:03Z",
            }
        },
        events=events_,
        notes=notes,
        unread={"a0": 2},
    )


def test_render_is_deterministic() -> None:
    first = working.render(_state(40, notes="- hello"))
    assert first == working.render(_state(40, notes="- hello"))
    assert working.extract_notes(first) == "- hello"
    assert "Updated 2026-11-22T01:14:00.000Z" in first  # the last event's time, not the clock
    assert working.extract_digest(first) == working.state_digest(
        working.render_sections(_state(40))
    )
    # notes do not change the digest; state does
    assert working.extract_digest(
        working.render(_state(40, notes="other"))
    ) == working.extract_digest(first)
    assert working.extract_digest(working.render(_state(41))) != working.extract_digest(first)


def test_render_is_bounded_and_says_how_many_more() -> None:
    text = working.render(_state(5000, n_agents=80))
    assert len(text.encode("utf-8")) < 20_000
    total_by_status = {
        s: sum(1 for n in range(5000) if n % 6 == i)
        for i, s in enumerate(["inbox", "assigned", "in_progress", "review", "blocked", "done"])
    }
    for status, total in total_by_status.items():
        assert f"### {status} ({total})" in text
    assert f"- … +{total_by_status['inbox'] - 15} more" in text
    assert f"- … +{total_by_status['done'] - 10} more" in text
    assert "- … +30 more" in text  # agents beyond the cap of 50
    assert text.count("\n- [t-") == 5 * 15 + 10


def test_render_small_and_empty_states() -> None:
    empty = working.WorkingState(
        name="x", statuses=WORKFLOW["statuses"], done=["done"], attention=["review", "blocked"],
        open_tasks={}, open_counts={}, recent_done=[], done_count=0, agents=[], states={}, events=[],
    )  # fmt: skip
    text = working.render(empty)
    assert "Updated never · 0 open · 0 done · 0 agents" in text
    assert "_No agents yet" in text and "_No activity yet._" in text
    assert "more" not in text
    assert working.extract_notes(text) == ""


def test_task_line_shows_assignees_dependencies_and_claims() -> None:
    state = _state(0)
    state.open_tasks = {"in_progress": [_task(7, "in_progress", assignees=["dev-1", "dev-2"], depends_on=["t-000000000001"],
                                              claim={"claimed_by": "dev-1", "epoch": 1})]}  # fmt: skip
    state.open_counts = {"in_progress": 1}
    text = working.render(state)
    assert (
        "- [t-000000000007] p3 Task number 7 — @dev-1 @dev-2 (after t-000000000001) [claimed by dev-1]"
        in text
    )
    assert working.parse_task_lines(text) == {"t-000000000007": "in_progress"}


@pytest.mark.parametrize(
    "sep", ["\n", "\r", "\r\n", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]
)
def test_record_text_cannot_add_lines_to_working(sep: str) -> None:
    """A title (agents write them) must not smuggle a heading or task line into the file:
    `working apply` would act on it."""
    state = _state(0)
    evil = _task(1, "blocked", title=f"evil{sep}### done (0){sep}- [t-000000000002] p2 gotcha")
    victim = _task(2, "review")
    state.open_tasks = {"review": [victim], "blocked": [evil]}
    state.open_counts = {"review": 1, "blocked": 1}
    state.agents = [{"name": "a0", "role": f"dev{sep}### done", "level": "lead", "created_at": "2026-11-22T00:00:00Z"}]  # fmt: skip
    state.events = [{"notify": [], "id": "e-1", "ts": "2026-11-22T01:00:00.000Z", "actor": "x", "type": "task.created",
                     "subject": "t-000000000001", "data": {"title": evil["title"], "status": "blocked"}}]  # fmt: skip
    text = working.render(state)
    assert working.parse_task_lines(text) == {
        "t-000000000001": "blocked",
        "t-000000000002": "review",
    }
    assert [line for line in text.splitlines() if line.startswith("### done")] == ["### done (0)"]


def test_notes_extraction() -> None:
    s, e = working.NOTES_START, working.NOTES_END
    assert working.extract_notes(f"x\n{s}\n\n- a\n- b\n\n{e}\n") == "- a\n- b"
    assert working.extract_notes(f"x\n{s}\n{e}\n") == ""
    assert working.extract_notes("no markers") == ""
    assert working.extract_notes(f"{e}\nbefore\n{s}\n") == ""  # end before start: no block
    assert working.extract_notes(f"{s}\nunterminated") == ""
    assert (
        working.extract_notes(f"{s}\n- keep ## headings\n### inbox\n{e}")
        == "- keep ## headings\n### inbox"
    )
    # rendering keeps the notes exactly
    notes = (
        "- 2026 me: a note\n\n  indented *md*\n### inbox\n- [t-00000000zzzz] looks like a task line"
    )
    rendered = working.render(_state(3, notes=notes))
    assert working.extract_notes(rendered) == notes
    assert "t-00000000zzzz" not in working.parse_task_lines(rendered)


def test_parse_task_lines() -> None:
    text = "\n".join(
        [
            "# WORKING — x", "", "## Current tasks", "", "### inbox (2)", "", "- [t-aaaa] p1 one", "- [t-bbbb] p2 two",
            "### in_progress", "- [t-cccc] p0 three", "## Blocked / needs review", "### review (1)", "- [t-dddd] p1 four",
            "## Recent activity", "- [t-eeee] not under a status", "### Not A Status", "- [t-ffff] ignored",
            "### done (9)", "  - [t-gggg] indented: not a task line", "- [t-hhhh] p1 five",
            working.NOTES_START, "### inbox", "- [t-iiii] in notes: ignored", working.NOTES_END,
        ]
    )  # fmt: skip
    assert working.parse_task_lines(text) == {
        "t-aaaa": "inbox", "t-bbbb": "inbox", "t-cccc": "in_progress", "t-dddd": "review", "t-hhhh": "done",
    }  # fmt: skip
    # a rendered file maps every shown task to its section
    state = _state(30)
    placement = working.parse_task_lines(working.render(state))
    shown = {t["id"]: s for s, ts in state.open_tasks.items() for t in ts} | {
        t["id"]: "done" for t in state.recent_done
    }
    assert placement == shown


def test_extract_digest() -> None:
    text = working.render(_state(5))
    digest = working.extract_digest(text)
    assert digest is not None and re.fullmatch(r"[0-9a-f]{12}", digest)
    assert working.extract_digest("# x\n\nno digest here\n") is None
    assert (
        working.extract_digest("\n" * 10 + "state 0123456789ab") is None
    )  # only the header counts


@pytest.mark.slow  # a whole end-to-end run or thousands of files: the slow tier
def test_bounded_with_five_thousand_real_task_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agentctl.workspace import Workspace

    isolate(monkeypatch, tmp_path / "home")
    monkeypatch.setenv("AGENTCTL_AUTOCOMMIT", "0")
    root = tmp_path / "ws"
    root.mkdir()
    Workspace.init(root, "big", "tester")
    statuses = ["inbox", "assigned", "in_progress", "review", "blocked", "done"]
    for n in range(5000):
        task_id = f"t-{ids.ALPHABET[n % 32]}{n:011d}"
        fields = {"id": task_id, "title": f"Fake task {n} with a reasonably long title", "status": statuses[n % 6],
                  "priority": n % 4, "created_by": "bench", "created_at": "2026-01-01T00:00:00Z",
                  "updated_at": f"2026-01-{1 + n % 28:02d}T00:00:00Z"}  # fmt: skip
        # plain "key: value" lines: the same YAML Document.new writes for these values, 50x faster
        text = "".join(f"{key}: {value}\n" for key, value in fields.items())
        (root / ".agentctl" / "tasks" / f"{task_id}.md").write_text(
            f"---\n{text}---\n", encoding="utf-8"
        )
    ws = Workspace(root)
    try:
        assert ws.refresh() == []
        text, _ = ws.render_working()
        assert text == ws.render_working()[0]  # deterministic
        assert len(text.encode("utf-8")) < 20_000
        assert "### inbox (834)" in text and "### done (833)" in text
        assert "- … +819 more" in text  # 834 inbox tasks, 15 shown
        assert "- … +823 more" in text  # 833 done, 10 shown
        assert "4999 open" not in text and "4167 open · 833 done" in text
        assert working.extract_notes(text) == ""
    finally:
        ws.close()


# -- store/events.py --------------------------------------------------------------------------------


def test_make_event_and_encode() -> None:
    moved: TaskMoved = {"title": "é", "from": "inbox", "to": "review"}
    event = events.make_event("dev", "task.moved", "t-1", moved, notify=["b", "a", "b"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", event["ts"])
    assert event["notify"] == ["a", "b"]
    assert list(event) == list(events.FIELDS)
    line = events.encode(event)
    assert "\n" not in line and "é" in line
    assert json.loads(line) == event


def test_tail_across_day_files(tmp_path: Path) -> None:
    days = ["2026-11-20", "2026-11-21", "2026-11-22"]
    written: list[EventRecord] = []
    for d, day in enumerate(days):
        for n in range(d * 10, d * 10 + 10):
            event: Any = {  # written by hand: any type, any data
                "id": f"e-{n:012d}",
                "ts": f"{day}T00:00:{n:02d}.000Z",
                "actor": "a",
                "type": "x",
                "subject": None,
                "data": {},
                "notify": [],
            }
            events.append(tmp_path, event)
            written.append(event)
    (tmp_path / ".hidden.jsonl").write_text("{}\n")
    (tmp_path / "notes.txt").write_text("x\n")
    assert [p.name for p in events.day_files(tmp_path)] == [f"{d}.jsonl" for d in days]
    assert events.tail(tmp_path, 5) == written[-5:]
    assert events.tail(tmp_path, 15) == written[-15:]  # crosses into the previous day
    assert events.tail(tmp_path, 100) == written
    assert events.tail(tmp_path, 0) == []
    assert events.last_event(tmp_path) == written[-1]
    assert events.tail(tmp_path / "missing", 5) == []
    assert events.last_event(tmp_path / "missing") is None


def _event(n: int, ts: str, **data: Any) -> dict[str, Any]:
    """A valid event line (the readers skip lines the Event model refuses)."""
    return {"id": f"e-{n:012d}", "ts": ts, "actor": "me", "type": "task.created", "data": data}


def test_tail_orders_union_merged_lines_by_time(tmp_path: Path) -> None:
    lines = [
        _event(2, "2026-11-22T00:00:02.000Z"),
        _event(3, "2026-11-22T00:00:03.000Z"),
        _event(1, "2026-11-22T00:00:01.000Z"),
        _event(0, "2026-11-22T00:00:02.000Z"),
    ]
    (tmp_path / "2026-11-22.jsonl").write_text("".join(json.dumps(e) + "\n" for e in lines))
    assert [e["id"][-1] for e in events.tail(tmp_path, 10)] == ["1", "0", "2", "3"]


def test_torn_odd_and_invalid_lines_are_skipped(tmp_path: Path) -> None:
    good: list[Any] = [_event(n, f"2026-11-22T00:00:0{n}.000Z") for n in range(3)]
    body = "".join(json.dumps(e) + "\n" for e in good)
    path = tmp_path / "2026-11-22.jsonl"
    invalid = {**_event(7, "2026-11-22T00:00:07.000Z"), "id": "e-7"}  # validate refuses it too
    path.write_text(
        body + '\n   \n[1, 2]\n"str"\n{"no_ts": 1}\n' + json.dumps(invalid) + "\n"
        + '{"id": "e-torn", "ts": "2026-11-2'
    )  # fmt: skip
    assert events.tail(tmp_path, 10) == good
    assert events.last_event(tmp_path) == good[-1]
    parsed = list(events.parse_lines(path.read_text()))
    assert [n for n, e in parsed if e is None] == [6, 7, 10]  # non-objects and the torn line
    # The next append starts on a line of its own: neither it nor the torn line merge.
    new: Any = _event(9, "2026-11-22T00:00:09.000Z")  # a partial line, as merged
    events.append(tmp_path, new)
    assert events.tail(tmp_path, 1) == [new]
    assert path.read_text().endswith('"2026-11-2\n' + events.encode(new) + "\n")


def test_tail_reads_large_files_from_the_end(tmp_path: Path) -> None:
    written: list[Any] = []
    for n in range(3000):  # ~ 300 KB: several read blocks
        stamp = f"2026-11-22T{n // 3600:02d}:{n // 60 % 60:02d}:{n % 60:02d}.000Z"
        written.append(_event(n, stamp, pad="x" * 60))
    (tmp_path / "2026-11-22.jsonl").write_text("".join(json.dumps(e) + "\n" for e in written))
    for limit in (1, 15, 700, 2999, 3000, 5000):
        assert events.tail(tmp_path, limit) == written[-limit:], limit


# -- store/atomic.py ---------------------------------------------------------------------------------


def test_create_text_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "record.md"
    atomic.create_text(path, "first\n")
    with pytest.raises(FileExistsError):
        atomic.create_text(path, "second\n")
    assert path.read_text() == "first\n"
    assert sorted(p.name for p in path.parent.iterdir()) == ["record.md"]  # no temp left behind


def test_write_text_replaces_exactly(tmp_path: Path) -> None:
    path = tmp_path / "x.md"
    atomic.write_text(path, "a\r\nb\n")
    atomic.write_text(path, "ü\r\nc")
    assert path.read_bytes() == "ü\r\nc".encode()
    assert os.listdir(tmp_path) == ["x.md"]


def test_delete_and_append_line(tmp_path: Path) -> None:
    path = tmp_path / "d" / "log.jsonl"
    atomic.append_line(path, "one")
    atomic.append_line(path, "two\n")
    assert path.read_text() == "one\ntwo\n"
    atomic.delete(path)
    atomic.delete(path)  # missing is fine
    assert not path.exists()


def test_temp_names_and_sweep(tmp_path: Path) -> None:
    temp = atomic._temp_for(tmp_path / "task.md")
    assert atomic.is_temp(temp.name) and temp.name.startswith(".task.md.")
    assert not atomic.is_temp("task.md") and not atomic.is_temp("x.agentctl-tmp")
    nested = tmp_path / "tasks" / "deep"
    nested.mkdir(parents=True)
    leftovers = [tmp_path / ".a.md.0011aabb.agentctl-tmp", nested / ".b.md.ffee0011.agentctl-tmp"]
    keep = [tmp_path / "a.md", nested / "b.md", tmp_path / ".hidden", nested / "c.agentctl-tmp"]
    for p in [*leftovers, *keep]:
        p.write_text("x")
    assert sorted(atomic.sweep_temp([tmp_path, tmp_path / "missing"])) == sorted(leftovers)
    assert all(p.exists() for p in keep) and not any(p.exists() for p in leftovers)
    assert atomic.sweep_temp([tmp_path]) == []


def test_sweep_temp_of_only_touches_that_files_temps(tmp_path: Path) -> None:
    mine = tmp_path / ".WORKING.md.0a0b0c0d.agentctl-tmp"
    other = tmp_path / ".README.md.0a0b0c0d.agentctl-tmp"
    sub = tmp_path / "sub"
    sub.mkdir()
    deeper = sub / ".WORKING.md.0a0b0c0d.agentctl-tmp"
    for p in (mine, other, deeper, tmp_path / "WORKING.md"):
        p.write_text("x")
    assert atomic.sweep_temp_of([tmp_path / "WORKING.md", tmp_path / "nope" / "X.md"]) == [mine]
    assert other.exists() and deeper.exists() and (tmp_path / "WORKING.md").exists()


def test_write_text_leaves_no_temp_when_it_fails(tmp_path: Path) -> None:
    target = tmp_path / "dir-in-the-way"
    (target / "child").mkdir(parents=True)
    with pytest.raises(OSError):
        atomic.write_text(target, "x")  # cannot replace a non-empty directory
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir-in-the-way"]


def test_create_many_creates_every_file_and_names_the_one_in_the_way(tmp_path: Path) -> None:
    items = [(tmp_path / "tasks" / f"t-{n}.md", f"task {n}\n") for n in range(20)]
    items += [(tmp_path / "threads" / f"t-{n}" / "m.md", f"message {n}\n") for n in range(3)]
    atomic.create_many(items)
    assert all(path.read_text() == text for path, text in items)
    assert sorted(p.name for p in (tmp_path / "tasks").iterdir()) == sorted(
        f"t-{n}.md" for n in range(20)
    )  # no temp file left behind
    taken = tmp_path / "more" / "b.md"
    taken.parent.mkdir()
    taken.write_text("someone else's\n")
    with pytest.raises(FileExistsError) as caught:
        atomic.create_many([(tmp_path / "more" / "a.md", "a\n"), (taken, "mine\n")])
    assert caught.value.filename == str(taken)  # the target, not a temp file's name
    assert taken.read_text() == "someone else's\n"
    assert sorted(p.name for p in taken.parent.iterdir()) == ["a.md", "b.md"]


def test_layout_inside_all_checks_like_inside(tmp_path: Path) -> None:
    from agentctl.errors import UsageError, ValidationError
    from agentctl.paths import Layout

    root = tmp_path / "ws"
    (root / ".agentctl" / "tasks").mkdir(parents=True)
    layout = Layout(root)
    paths = [
        root / ".agentctl" / "tasks" / "t-1.md",
        Path(".agentctl/tasks/t-2.md"),
        root / ".agentctl" / "threads" / "t-1" / "m.md",  # a folder not made yet
        root / ".agentctl" / "x" / ".." / "tasks" / "t-3.md",
        root / "WORKING.md",
    ]
    assert layout.inside_all(paths) == [layout.inside(p) for p in paths]
    assert layout.tasks_of(["t-1", "t-2"]) == [layout.task("t-1"), layout.task("t-2")]
    with pytest.raises(UsageError):
        layout.tasks_of(["t-1", "../t-2"])
    assert layout.relative(root / ".agentctl" / "tasks" / "t-1.md") == ".agentctl/tasks/t-1.md"
    assert layout.relative(tmp_path / "elsewhere") == str(tmp_path / "elsewhere")
    with pytest.raises(UsageError):
        layout.inside_all([paths[0], root / ".." / "elsewhere"])
    (tmp_path / "outside").mkdir()
    (root / ".agentctl" / "docs").symlink_to(tmp_path / "outside")
    with pytest.raises(ValidationError):
        layout.inside_all([paths[0], root / ".agentctl" / "docs" / "d-1.md"])
    # The file's own name is checked for every path, even in a folder already checked.
    (root / ".agentctl" / "tasks" / "t-9.md").symlink_to(tmp_path / "outside")
    with pytest.raises(ValidationError):
        layout.inside_all([paths[0], root / ".agentctl" / "tasks" / "t-9.md"])


def test_pausing_gc_pauses_the_collector_and_restores_it() -> None:
    import gc

    from agentctl.workspace.base import pausing_gc

    seen: list[bool] = []

    @pausing_gc
    def bulk(fail: bool) -> int:
        seen.append(gc.isenabled())
        if fail:
            raise ValueError("boom")
        return 7

    assert gc.isenabled()
    assert bulk(False) == 7
    with pytest.raises(ValueError):
        bulk(True)
    assert seen == [False, False] and gc.isenabled()
    gc.disable()
    try:
        bulk(False)  # paused by the caller: left paused
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_layout_inside_refuses_escapes_and_symlinks(tmp_path: Path) -> None:
    from agentctl.errors import UsageError, ValidationError
    from agentctl.paths import Layout

    root = tmp_path / "ws"
    (root / ".agentctl" / "tasks").mkdir(parents=True)
    layout = Layout(root)
    assert layout.inside(Path(".agentctl/tasks/t-1.md")) == root / ".agentctl/tasks/t-1.md"
    assert layout.inside(root / ".agentctl" / "x" / ".." / "tasks") == root / ".agentctl/tasks"
    assert layout.inside(root / "not-there" / "deeper") == root / "not-there/deeper"
    assert layout.inside(root) == root
    with pytest.raises(UsageError):
        layout.inside(root / ".." / "elsewhere")
    with pytest.raises(UsageError):
        layout.inside(Path(str(root) + "-sibling") / "x")  # a shared prefix is not inside
    (tmp_path / "outside").mkdir()
    (root / ".agentctl" / "docs").symlink_to(tmp_path / "outside")
    with pytest.raises(ValidationError):
        layout.inside(root / ".agentctl" / "docs" / "d-1.md")
    (root / "linked").symlink_to(tmp_path / "outside")  # outside .agentctl/: the user's
    assert layout.inside(root / "linked" / "f") == root / "linked/f"
