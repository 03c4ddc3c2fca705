"""A hypothesis state machine drives the Workspace API against a plain dict model.

Every rule predicts success or the exact refusal from the model (workflow transitions,
dependency cycles, claims, permissions); after every step the workspace read back from disk
(sometimes through a brand-new Workspace object and a deleted index) must equal the model,
``ready()`` must equal the model's computation, WORKING.md must be a fresh rendering and
``validate()`` must find nothing.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from helpers_proc import isolate
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from agentctl.core.models import DEFAULT_TRANSITIONS
from agentctl.core.rules import Actor
from agentctl.errors import AgentctlError, ConflictError, PermissionDeniedError, UsageError
from agentctl.workspace import Workspace

STATUSES = ["inbox", "assigned", "in_progress", "review", "done", "blocked"]
READY_FROM = ("inbox", "assigned")
AGENTS = {"a1": "specialist", "a2": "intern", "boss": "lead"}
HUMAN = Actor("tester")


@dataclass
class ModelTask:
    status: str
    priority: int
    created_at: str
    assignees: list[str] = field(default_factory=list)
    depends_on: list[str] = field(default_factory=list)
    claim: tuple[str, int] | None = None  # (holder, epoch)


def _path(model: dict[str, ModelTask], start: str, goal: str) -> bool:
    stack, seen = [start], set()
    while stack:
        node = stack.pop()
        if node == goal:
            return True
        if node in seen:
            continue
        seen.add(node)
        stack.extend(model[node].depends_on if node in model else [])
    return False


class WorkspaceMachine(RuleBasedStateMachine):
    base: Path  # set by the test: where each example makes its workspace

    def __init__(self) -> None:
        super().__init__()
        self.root = Path(tempfile.mkdtemp(dir=self.base))
        Workspace.init(self.root, "stateful", "tester")
        self.ws = Workspace(self.root)
        for name, level in AGENTS.items():
            self.ws.add_agent(HUMAN, name, "dev", level=level)
        self.model: dict[str, ModelTask] = {}
        self.counter = 0

    def teardown(self) -> None:
        self.ws.close()
        shutil.rmtree(self.root, ignore_errors=True)

    # -- helpers -------------------------------------------------------------------------------

    def _expect(
        self, error: type[AgentctlError] | None, call: Any, *args: Any, **kwargs: Any
    ) -> Any:
        if error is None:
            return call(*args, **kwargs)
        with pytest.raises(error):
            call(*args, **kwargs)
        return None

    def _pick(self, data: st.DataObject) -> str:
        return data.draw(
            st.sampled_from(list(self.model)), label="task"
        )  # insertion order: IDs are random

    def _ready(self, task_id: str) -> bool:
        task = self.model[task_id]
        if task.status not in READY_FROM:
            return False
        return all(
            dep in self.model and self.model[dep].status == "done" for dep in task.depends_on
        )

    # -- rules ---------------------------------------------------------------------------------

    @rule(
        priority=st.integers(0, 3),
        assignees=st.lists(st.sampled_from(sorted(AGENTS)), max_size=2, unique=True),
        data=st.data(),
    )
    def add_task(self, priority: int, assignees: list[str], data: st.DataObject) -> None:
        deps = (
            data.draw(st.lists(st.sampled_from(list(self.model)), max_size=2, unique=True))
            if self.model
            else []
        )
        self.counter += 1
        result = self.ws.add_task(
            HUMAN, f"task {self.counter}", priority=priority, assignees=assignees, depends_on=deps
        )
        assert result["status"] == ("assigned" if assignees else "inbox")
        self.model[result["id"]] = ModelTask(
            result["status"], priority, result["created_at"], list(assignees), list(deps)
        )

    @precondition(lambda self: self.model)
    @rule(data=st.data(), to=st.sampled_from([*STATUSES, "nowhere"]))
    def move_task(self, data: st.DataObject, to: str) -> None:
        target = to
        task_id = self._pick(data)
        task = self.model[task_id]
        legal = (
            target in STATUSES
            and target != task.status
            and target in DEFAULT_TRANSITIONS[task.status]
        )
        refused = (
            UsageError if target not in STATUSES else ConflictError
        )  # a made-up status is a usage error
        result = self._expect(None if legal else refused, self.ws.move_task, HUMAN, task_id, target)
        if legal:
            assert result["status"] == target
            task.status = target
            if task.claim and target not in ("in_progress", "blocked"):
                task.claim = None

    @precondition(lambda self: self.model)
    @rule(
        data=st.data(),
        agents=st.lists(st.sampled_from(sorted(AGENTS)), min_size=1, max_size=2, unique=True),
    )
    def assign(self, data: st.DataObject, agents: list[str]) -> None:
        task_id = self._pick(data)
        task = self.model[task_id]
        added = [a for a in agents if a not in task.assignees]
        self._expect(None if added else ConflictError, self.ws.assign, HUMAN, task_id, agents)
        if added:
            task.assignees += added
            if task.status == "inbox":
                task.status = "assigned"

    @precondition(lambda self: self.model)
    @rule(
        data=st.data(),
        agents=st.lists(st.sampled_from(sorted(AGENTS)), min_size=1, max_size=2, unique=True),
    )
    def unassign(self, data: st.DataObject, agents: list[str]) -> None:
        task_id = self._pick(data)
        task = self.model[task_id]
        removed = [a for a in agents if a in task.assignees]
        self._expect(None if removed else ConflictError, self.ws.unassign, HUMAN, task_id, agents)
        if removed:
            task.assignees = [a for a in task.assignees if a not in removed]
            if task.claim and task.claim[0] in removed:
                task.claim = None
            if not task.assignees and task.status == "assigned":
                task.status = "inbox"

    @precondition(lambda self: self.model)
    @rule(data=st.data(), agent=st.sampled_from(sorted(AGENTS)))
    def claim(self, data: st.DataObject, agent: str) -> None:
        task_id = self._pick(data)
        task = self.model[task_id]
        error: type[AgentctlError] | None = None
        if task.claim and task.claim[0] != agent:
            error = ConflictError  # the lease (2h) is still running
        elif task.assignees and agent not in task.assignees and AGENTS[agent] != "lead":
            error = PermissionDeniedError  # taking someone else's task needs assign_others
        elif task.status != "in_progress" and not self._ready(task_id):
            error = ConflictError
        result = self._expect(error, self.ws.claim, self.ws.actor(agent), task_id)
        if error is None:
            epoch = task.claim[1] + 1 if task.claim else 1
            task.status = "in_progress"
            if agent not in task.assignees:
                task.assignees.append(agent)
            task.claim = (agent, epoch)
            assert result["claim"]["epoch"] == epoch

    @precondition(lambda self: len(self.model) >= 1)
    @rule(data=st.data())
    def add_dependency(self, data: st.DataObject) -> None:
        task_id = self._pick(data)
        dep_id = self._pick(data)
        task = self.model[task_id]
        refused = (
            dep_id in task.depends_on or dep_id == task_id or _path(self.model, dep_id, task_id)
        )
        result = self._expect(
            ConflictError if refused else None, self.ws.add_dependency, HUMAN, task_id, dep_id
        )
        if not refused:
            task.depends_on.append(dep_id)
            assert result["depends_on"] == task.depends_on

    @precondition(lambda self: self.model)
    @rule(data=st.data(), force=st.booleans())
    def remove_task(self, data: st.DataObject, force: bool) -> None:
        task_id = self._pick(data)
        dependents = [t for t, task in self.model.items() if task_id in task.depends_on]
        refused = bool(dependents) and not force
        self._expect(ConflictError if refused else None, self.ws.remove_task, HUMAN, task_id, force)
        if not refused:
            del self.model[task_id]
            for other in dependents:
                self.model[other].depends_on.remove(task_id)

    @rule(
        where=st.sampled_from(["tasks", "agents", "events", "root"]), content=st.binary(max_size=40)
    )
    def crashed_writer_leftover(self, where: str, content: bytes) -> None:
        """A writer killed between its temp file and the rename: invisible to readers, and
        swept by validate (the invariant below runs it)."""
        directory = self.root if where == "root" else self.root / ".agentctl" / where
        target = "WORKING.md" if where == "root" else "t-000000000000.md"
        self.counter += 1
        (directory / f".{target}.{self.counter:08x}.agentctl-tmp").write_bytes(content)

    @rule(drop_index=st.booleans())
    def reload(self, drop_index: bool) -> None:
        """A brand-new Workspace object (and maybe no index): state must come from disk."""
        self.ws.close()
        if drop_index:
            for suffix in ("", "-wal", "-shm"):
                Path(str(self.root / ".agentctl" / "local" / "index.sqlite") + suffix).unlink(
                    missing_ok=True
                )
        self.ws = Workspace(self.root)

    # -- invariants ----------------------------------------------------------------------------

    @invariant()
    def tasks_match_the_model(self) -> None:
        listed = {t["id"]: t for t in self.ws.list_tasks(include_done=True)}
        assert set(listed) == set(self.model)
        for task_id, expected in self.model.items():
            got = listed[task_id]
            assert got["status"] == expected.status, task_id
            assert got["assignees"] == expected.assignees, task_id
            assert got["depends_on"] == expected.depends_on, task_id
            assert got["priority"] == expected.priority, task_id
            claim = got.get("claim")
            assert ((claim["claimed_by"], claim["epoch"]) if claim else None) == expected.claim, (
                task_id
            )
        open_ids = {t["id"] for t in self.ws.list_tasks()}
        assert open_ids == {t for t, task in self.model.items() if task.status != "done"}

    @invariant()
    def ready_matches_the_model(self) -> None:
        expected = sorted(
            (t for t in self.model if self._ready(t)),
            key=lambda t: (self.model[t].priority, self.model[t].created_at, t),
        )
        assert [t["id"] for t in self.ws.ready()["ready"]] == expected
        for agent in AGENTS:
            mine = [
                t
                for t in expected
                if not self.model[t].assignees or agent in self.model[t].assignees
            ]
            assert [t["id"] for t in self.ws.ready(agent)["ready"]] == mine

    @invariant()
    def files_are_valid_and_working_is_fresh(self) -> None:
        assert self.ws.validate() == []
        leftovers = [
            p
            for p in [*self.root.iterdir(), *self.root.joinpath(".agentctl").rglob("*")]
            if p.name.endswith(".agentctl-tmp")
        ]
        assert leftovers == []
        fresh, current = self.ws.render_working()
        assert fresh == current


def test_workspace_state_machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate(monkeypatch, tmp_path / "home")
    monkeypatch.setenv("AGENTCTL_AUTOCOMMIT", "0")
    monkeypatch.setenv("USER", "tester")
    WorkspaceMachine.base = tmp_path
    run_state_machine_as_test(
        WorkspaceMachine,
        settings=settings(
            max_examples=15,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
