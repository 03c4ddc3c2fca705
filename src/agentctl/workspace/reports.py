"""Standup and stats: the workspace gathers events and index rows; core/reports.py computes.

Events are read from the day files the window overlaps, and, only for the cycle times of tasks
completed in the window, from older day files back to each such task's creation (the index
knows when it was created, so the look-back stops there). Current task state comes from the
index. Nothing here takes the lock or imports pydantic, YAML or git.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentctl.errors import ValidationError
from agentctl.store import events as eventlog
from agentctl.store.reading import open_nofollow
from agentctl.workspace.base import WorkspaceBase

if TYPE_CHECKING:
    from agentctl.core import reports
    from agentctl.core.records import TaskRecord


class ReportOps(WorkspaceBase):
    def _read_events(self, path: Path, warnings: list[str]) -> list[dict[str, Any]]:
        from agentctl.core import reports

        rel = self.layout.relative(path)
        try:
            with open_nofollow(path, rel) as handle:  # a symlinked log is never read
                text = handle.read().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return []
        except ValidationError as exc:
            warnings.append(f"{exc.message} (skipped; run 'agentctl validate')")
            return []
        found = []
        for number, event in eventlog.parse_lines(text):
            if event is None or reports.parse_ts(event.get("ts")) is None:
                warnings.append(
                    f"{rel}:{number}: not a JSON event with a timestamp (skipped; run 'agentctl validate')"
                )
                continue
            found.append(event)
        return found

    def _window_events(self, window: reports.Window, warnings: list[str]) -> list[dict[str, Any]]:
        """Every event in the day files the window overlaps (also those just outside it),
        sorted by (timestamp, id)."""
        from agentctl.core import reports

        found: list[dict[str, Any]] = []
        for day in window.days():
            found.extend(self._read_events(self.layout.events_file(day), warnings))
        return reports.sort_events(found)

    def _cycle_history(
        self,
        window: reports.Window,
        loaded: list[dict[str, Any]],
        rows: dict[str, TaskRecord],
        warnings: list[str],
    ) -> list[dict[str, Any]]:
        """Older events needed for the cycle times of the tasks completed in the window: each
        task's events back to its creation or its previous completion, whichever is later."""
        from agentctl.core import reports

        done = self.workflow["done"]
        first_done: dict[str, datetime] = {}
        for completion in reports.completions(loaded, window, done):
            first_done.setdefault(completion.task, completion.at)
        resolved: set[str] = set()
        for event in loaded:
            task = event.get("subject")
            moment = reports.parse_ts(event.get("ts"))
            if task in first_done and moment is not None and moment < first_done[task]:
                if event.get("type") == "task.created" or reports.is_done_move(event, done):
                    resolved.add(task)
        # task -> the oldest day its events can be on (its creation day; None: unknown)
        pending = {
            task: (str(rows[task]["created_at"])[:10] if task in rows else None)
            for task in first_done
            if task not in resolved
        }
        first_day = window.days()[0]
        extra: list[dict[str, Any]] = []
        for path in reversed(eventlog.day_files(self.layout.events)):
            day = path.name.removesuffix(".jsonl")
            if day >= first_day:
                continue
            pending = {
                task: floor for task, floor in pending.items() if floor is None or floor <= day
            }
            if not pending:
                break
            found: set[str] = set()
            for event in self._read_events(path, warnings):
                task = event.get("subject")
                if task in pending:
                    extra.append(event)
                    if event.get("type") == "task.created" or reports.is_done_move(event, done):
                        found.add(str(task))
            for task in found:
                pending.pop(task, None)
        return extra

    def _completed_rows(
        self, events: list[dict[str, Any]], window: reports.Window
    ) -> dict[str, TaskRecord]:
        from agentctl.core import reports

        rows: dict[str, TaskRecord] = {}
        for completion in reports.completions(events, window, self.workflow["done"]):
            if completion.task not in rows:
                row = self.index.task(completion.task)
                if row is not None:
                    rows[completion.task] = row
        return rows

    def standup(
        self,
        since: str = "24h",
        until: str | None = None,
        at: datetime | None = None,
        cap: int = 20,
    ) -> dict[str, Any]:
        """Per agent: completed tasks and decisions in the window, and tasks now in progress,
        in review or blocked. ``at`` replaces the current time (reproducible reports, tests)."""
        from agentctl.core import clock, reports

        self.refresh()
        window = reports.resolve_window(since, until, at or clock.now())
        warnings: list[str] = []
        events = self._window_events(window, warnings)
        flow = self.workflow
        current = {
            section: self.index.tasks(statuses=[status], order="updated_at, id")
            for section, status in (
                ("in_progress", flow["in_progress"]),
                ("blocked", flow["blocked"]),
                ("review", flow["review"]),
            )
        }
        agents = [agent["name"] for agent in self.index.agents()]
        report = reports.standup(
            window, events, self._completed_rows(events, window), current, agents, flow, cap
        )
        report["workspace"] = self.config["name"]
        report["warnings"] = warnings
        return report

    def stats(
        self,
        since: str = "7d",
        until: str | None = None,
        at: datetime | None = None,
        oldest: int = 5,
    ) -> dict[str, Any]:
        """Tasks by status, throughput per day, cycle time p50/p90, per-agent counts and the
        oldest open tasks (their age counted to ``at``, default now, whatever the window)."""
        from agentctl.core import clock, reports

        self.refresh()
        moment = at or clock.now()
        window = reports.resolve_window(since, until, moment)
        warnings: list[str] = []
        events = self._window_events(window, warnings)
        rows = self._completed_rows(events, window)
        history = reports.sort_events(
            [*self._cycle_history(window, events, rows, warnings), *events]
        )
        flow = self.workflow
        open_statuses = [s for s in flow["statuses"] if s not in flow["done"]]
        # one scan for both loads
        load = self.index.load_by_status(list(dict.fromkeys([*open_statuses, flow["in_progress"]])))
        open_load: dict[str, int] = {}
        for status in open_statuses:
            for name, count in load.get(status, {}).items():
                open_load[name] = open_load.get(name, 0) + count
        result = reports.stats(
            window,
            history,
            rows,
            self.index.count_by_status(),
            load.get(flow["in_progress"], {}),
            open_load,
            self.index.tasks(statuses=open_statuses, order="created_at, id", limit=oldest)
            if oldest
            else [],
            [agent["name"] for agent in self.index.agents()],
            flow,
            moment,
        )
        result["warnings"] = warnings
        return result
