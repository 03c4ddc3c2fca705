"""Typed records (core/records.py, generated from the pydantic models; core/rows.py): each
TypedDict has exactly the fields of its model, required as its form says, and what the index
and the workspace really return matches the types key for key (also for records drawn from
the shared hypothesis strategies)."""

from __future__ import annotations

import ast
import types
import typing
from pathlib import Path
from typing import Any, Literal, NotRequired, Union, get_args, get_origin, is_typeddict

import pytest
from conftest import Runner, add_task, make_team
from hypothesis import HealthCheck, given, settings
from strategies import tasks as task_records

from agentctl import schema_records
from agentctl.core import records, rows
from agentctl.core.models import Record

SRC = Path(__file__).resolve().parent.parent / "src" / "agentctl"


def problems(value: Any, hint: Any, where: str = "") -> list[str]:
    """How ``value`` differs from the type ``hint`` (empty: it matches)."""
    origin = get_origin(hint)
    if hint is Any or hint is object:
        return []
    if origin is NotRequired:
        return problems(value, get_args(hint)[0], where)
    if hint is None or hint is type(None):
        return [] if value is None else [f"{where}: {value!r} is not None"]
    if origin in (Union, types.UnionType):
        found = [problems(value, arm, where) for arm in get_args(hint)]
        return [] if any(not p for p in found) else [f"{where}: {value!r} is not {hint}"]
    if origin is Literal:
        return [] if value in get_args(hint) else [f"{where}: {value!r} is not {hint}"]
    if is_typeddict(hint):
        if not isinstance(value, dict):
            return [f"{where}: {value!r} is not a {hint.__name__}"]
        hints = typing.get_type_hints(hint)
        out = [f"{where}: missing {k!r}" for k in sorted(hint.__required_keys__) if k not in value]
        for key, item in value.items():
            if key not in hints:
                out.append(f"{where}: unknown key {key!r}")
            else:
                out += problems(item, hints[key], f"{where}.{key}")
        return out
    if origin is list:
        (item,) = get_args(hint)
        if not isinstance(value, list):
            return [f"{where}: {value!r} is not a list"]
        return [p for n, v in enumerate(value) for p in problems(v, item, f"{where}.{n}")]
    if origin is dict:
        key, item = get_args(hint)
        if not isinstance(value, dict):
            return [f"{where}: {value!r} is not a dict"]
        return [p for k, v in value.items() for p in problems(v, item, f"{where}.{k}")]
    if hint is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif hint is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, hint)
    return [] if ok else [f"{where}: {value!r} is not {hint}"]


def test_the_check_itself_finds_problems() -> None:
    claim = {"claimed_by": "a", "epoch": 1, "lease_expires": "2026-12-01T00:00:00Z"}
    assert problems(claim, records.ClaimRecord) == []
    assert problems({**claim, "epoch": "1"}, records.ClaimRecord) == [
        ".epoch: '1' is not <class 'int'>"
    ]
    assert sorted(problems({"claimed_by": "a", "x": 1}, records.ClaimRecord)) == [
        ": missing 'epoch'", ": missing 'lease_expires'", ": unknown key 'x'",
    ]  # fmt: skip
    assert problems({"name": "a", "role": "r", "created_at": "t"}, records.AgentRecord) == []
    assert problems(
        {"name": "a", "role": "r", "created_at": "t", "level": "boss"}, records.AgentRecord
    )


# -- one definition: the TypedDicts are the models ----------------------------------------------


def _models() -> dict[str, tuple[type[Record], str]]:
    """Every generated TypedDict -> (its model, its form), nested models included."""
    from agentctl.core import models

    found: dict[str, tuple[type[Record], str]] = {}

    def visit(model: type[Record], form: str) -> None:
        found[f"{model.__name__}Record"] = (model, form)
        for info in model.model_fields.values():
            pending = [info.annotation]
            while pending:
                current = pending.pop()
                if isinstance(current, type) and issubclass(current, Record):
                    visit(current, form)
                pending.extend(a for a in get_args(current) if not isinstance(a, str))

    for name, form in schema_records.RECORDS.items():
        visit(getattr(models, name), form)
    return found


@pytest.mark.parametrize("name", sorted(_models()))
def test_each_typeddict_has_the_fields_of_its_model(name: str) -> None:
    model, form = _models()[name]
    typed = getattr(records, name)
    assert list(typing.get_type_hints(typed)) == list(model.model_fields)
    required = {k for k, info in model.model_fields.items() if info.is_required()}
    expected = set(model.model_fields) if form == "complete" else required
    assert typed.__required_keys__ == expected


def test_every_record_of_the_schema_has_a_typeddict() -> None:
    from agentctl import schema

    assert set(schema.RECORDS.values()) <= set(schema_records.RECORDS)


@pytest.mark.parametrize("module", ["records", "rows"])
def test_record_modules_use_only_typing(module: str) -> None:
    """Pure typing: importing them costs no pydantic (hot paths import them under
    TYPE_CHECKING anyway)."""
    tree = ast.parse((SRC / "core" / f"{module}.py").read_text(encoding="utf-8"))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)} | {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert imported <= {"typing", "agentctl.core.events", "agentctl.core.records"}, imported


# -- what the index and the workspace return matches the types ----------------------------------


@pytest.fixture
def team(ws_root: Path, cli: Runner) -> Path:
    make_team(cli)
    first = add_task(cli, "first", "--assign", "dev-1", "--label", "x", "--estimate", "2h")
    second = add_task(
        cli, "second", "--depends-on", first, "--parent", first, "--due", "2030-01-02"
    )
    assert cli("--as", "dev-1", "task", "claim", first).code == 0
    assert cli("--as", "lead-1", "task", "comment", second, "hello @dev-1").code == 0
    added = cli("doc", "add", "Notes", "--type", "research", "--task", first, input="text\n")
    assert added.code == 0, str(added)
    assert cli("agent", "edit", "dev-2", "--every", "30m").code == 0
    return ws_root


def test_index_rows_match_their_types(team: Path) -> None:
    from agentctl.workspace import Workspace

    ws = Workspace(team)
    try:
        ws.refresh()
        index = ws.index
        checked: list[tuple[Any, Any]] = [
            *((t, records.TaskRecord) for t in index.tasks()),
            *((t, records.TaskRecord) for t in index.ready(["inbox", "assigned"], ["done"])),
            *((t, rows.PlanTask) for t in index.graph().values()),
            *((a, records.AgentRecord) for a in index.agents()),
            *((s, records.AgentStateRecord) for s in index.states().values()),
            *((d, rows.DocumentRow) for d in index.docs()),
            *((e, rows.EventRow) for e in index.events()),
            *((n, rows.NotificationRow) for n in index.notifications("dev-1", include_read=True)),
            *((h, rows.SearchHit) for h in index.search("first")),
            (ws.config, records.ConfigRecord),
            (ws.human_inbox(), rows.HumanInbox),
        ]
        task_ids = index.task_ids()
        for task_id in task_ids:
            index.refresh_threads(task_id)
            checked += [(m, rows.MessageRow) for m in index.thread(task_id)]
        checked += [(n, rows.Notification) for n in ws.inbox(ws.actor("dev-1"))["notifications"]]
        kinds = {hint for _, hint in checked}  # every type met at least once
        assert len(kinds) == 12 and len(checked) > 20
        for value, hint in checked:
            assert problems(value, hint, hint.__name__) == []
    finally:
        ws.close()


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(task=task_records)
def test_a_valid_task_file_reads_back_as_a_task_record(ws_root: Path, task: dict[str, Any]) -> None:
    """Any task the models accept (the shared strategies) comes out of the index as a
    TaskRecord, whatever optional fields the file leaves out."""
    from agentctl.store.frontmatter import Document
    from agentctl.workspace import Workspace

    path = ws_root / ".agentctl" / "tasks" / f"{task['id']}.md"
    path.write_text(Document.new(task, "body\n").dumps(), encoding="utf-8")
    ws = Workspace(ws_root)
    try:
        assert ws.refresh() == []
        row = ws.index.task(task["id"])
        assert row is not None and problems(row, records.TaskRecord, "task") == []
    finally:
        ws.close()
        path.unlink()
