"""core/plan.py: effort in working time, PERT expectations and the critical path (hand-computed)."""

from __future__ import annotations

from typing import Any

import pytest

from agentctl.core.duration import parse_estimate
from agentctl.core.plan import Effort, critical_path


def task(task_id: str, status: str = "inbox", deps: tuple[str, ...] = (), est: str | None = None,
         parent: str | None = None) -> dict[str, Any]:  # fmt: skip
    return {
        "id": task_id,
        "status": status,
        "depends_on": list(deps),
        "estimate": est,
        "parent": parent,
    }


def tasks_of(*rows: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["id"]: row for row in rows}


def test_estimates_are_a_duration_or_a_low_high_range() -> None:
    assert parse_estimate("4h") == (14400, 14400)
    assert parse_estimate("4h-6h") == (14400, 21600)
    with pytest.raises(ValueError, match="range"):
        parse_estimate("6h-4h")
    with pytest.raises(ValueError):
        parse_estimate("4-6 hours")


def test_effort_counts_working_days_and_weeks() -> None:
    effort = Effort(hours_per_day=8, days_per_week=5)
    assert effort.range_hours("2d") == (16, 16)
    assert effort.range_hours("1w") == (40, 40)
    assert effort.range_hours("1d-3d") == (8, 24)
    assert effort.expected_hours("1d-3d") == pytest.approx(16)  # (8 + 4*16 + 24) / 6
    assert effort.expected_hours("30m") == pytest.approx(0.5)
    assert effort.expected_hours(None) is None
    assert effort.expected_hours("soon") is None


def test_effort_from_config_uses_the_default_estimate() -> None:
    effort = Effort.from_config(
        {"planning": {"default_estimate": "2h-4h", "hours_per_day": 6, "days_per_week": 4}}
    )
    assert effort.default_hours == 3
    assert effort.range_hours("1w") == (24, 24)


def test_hand_computed_critical_path_with_parents_ranges_and_done_work() -> None:
    # a(2) -> b(4) -> d(1) ; a -> c(1) -> d ; phase p holds p1 (1d-3d = 16 expected) after d, p2 (1h)
    # e waits for p (and for x, which is done) and has no estimate (default 4h).
    tasks = tasks_of(
        task("a", est="2h"), task("b", deps=("a",), est="4h"), task("c", deps=("a",), est="1h"),
        task("d", deps=("b", "c"), est="1h"), task("p", est="9d"),
        task("p1", parent="p", deps=("d",), est="1d-3d"), task("p2", parent="p", est="1h"),
        task("x", status="done", est="50h"), task("e", deps=("x", "p")),
    )  # fmt: skip
    result = critical_path(tasks, ["done"])
    assert result.path == ["a", "b", "d", "p1", "e"]
    assert result.total_hours == pytest.approx(2 + 4 + 1 + 16 + 4)
    assert result.missing == ["e"]
    assert result.slack["c"] == pytest.approx(3)  # b takes 4h, c only 1h
    assert result.slack["p2"] == pytest.approx(22)  # may finish as late as p1
    assert result.hours["p"] == 0  # a parent with open children is a summary
    assert "x" not in result.slack
    assert {"a", "b", "d", "p1", "e"} <= result.critical
    assert result.earliest_start["p1"] == pytest.approx(7)


def test_a_cycle_is_left_out_and_reported_not_crashed_on() -> None:
    tasks = tasks_of(
        task("a", deps=("b",), est="1h"), task("b", deps=("a",), est="1h"), task("c", est="3h")
    )
    result = critical_path(tasks, ["done"])
    assert result.cyclic == ["a", "b"]
    assert result.path == ["c"]
    assert result.total_hours == 3


def test_root_limits_the_path_to_one_subtree_and_all_done_is_empty() -> None:
    tasks = tasks_of(task("r", est="1h"), task("r1", parent="r", est="5h"), task("o", est="40h"))
    assert critical_path(tasks, ["done"], root="r").path == ["r1"]
    done = tasks_of(task("a", status="done"), task("b", status="done", deps=("a",)))
    empty = critical_path(done, ["done"])
    assert empty.path == [] and empty.total_hours == 0


def test_missing_dependencies_are_ignored() -> None:
    result = critical_path(tasks_of(task("a", deps=("gone",), est="2h")), ["done"])
    assert result.path == ["a"] and result.total_hours == 2
