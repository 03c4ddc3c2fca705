"""Workspace.runs(), record_run() and run_lock(): the run log and run lock behind the facade."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from agentctl.errors import LockTimeoutError, UsageError
from agentctl.heartbeat.tick import tick
from agentctl.workspace import Workspace


def test_runs_round_trip_oldest_first_and_per_agent(ws_root: Path) -> None:
    ws = Workspace(ws_root)
    try:
        assert ws.runs() == []
        assert ws.runs("dev-1") == []
        for agent, started in [("dev-1", "T02"), ("dev-2", "T01"), ("dev-1", "T03")]:
            ws.record_run({"agent": agent, "started": started, "outcome": "idle"})
        assert [(r["agent"], r["started"]) for r in ws.runs()] == [
            ("dev-2", "T01"),
            ("dev-1", "T02"),
            ("dev-1", "T03"),
        ]
        assert [r["started"] for r in ws.runs("dev-1", limit=1)] == ["T03"]
        log = ws_root / ".agentctl" / "local" / "runs" / "dev-1.jsonl"
        assert log.read_text(encoding="utf-8").splitlines()[0] == (
            '{"agent":"dev-1","started":"T02","outcome":"idle"}'
        )
        with pytest.raises(UsageError):
            ws.runs("../escape")
    finally:
        ws.close()


def test_a_held_run_lock_makes_a_tick_skip_and_is_logged(ws_root: Path) -> None:
    ws = Workspace(ws_root)
    try:
        with ws.run_lock("dev-1"):
            with pytest.raises(LockTimeoutError), ws.run_lock("dev-1"):
                pass  # pragma: no cover - the lock is held
            record = tick(ws, "dev-1")
        assert record["outcome"] == "skipped"
        assert record["reason"] == "a previous tick of this agent is still running"
        assert [r["outcome"] for r in ws.runs("dev-1")] == ["skipped"]
        # Released: free again. Retried briefly: a process forked meanwhile by a thread another
        # test left running holds a copy of the descriptor until its exec closes it.
        deadline = time.monotonic() + 5
        while True:
            try:
                with ws.run_lock("dev-1"):
                    break
            except LockTimeoutError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
    finally:
        ws.close()
