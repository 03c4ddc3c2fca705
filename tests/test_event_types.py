"""Typed events (core/events.py): every type agentctl records is a member of ``EventType``,
every member is recorded somewhere, has a payload type and a summary, and the events real
operations write match their payload types key for key."""

from __future__ import annotations

import ast
import functools
import json
import subprocess
import sys
import types
import typing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, NotRequired, Union, get_args, get_origin

import pytest

from agentctl.core import events as ev
from agentctl.core.summary import summarize

SRC = Path(__file__).resolve().parent.parent / "src" / "agentctl"


@functools.cache
def _parsed(path: Path) -> ast.Module:
    """The syntax tree of a src file, parsed once for every scan below (read only)."""
    return ast.parse(path.read_text(encoding="utf-8"))


RECORDERS = {"record", "record_more"}  # Mutation's methods, called on ``m`` (or ``self``)


# -- the Literal, the payloads, the summaries --------------------------------------------------


def test_every_type_has_one_payload_type() -> None:
    assert len(set(ev.EVENT_TYPES)) == len(ev.EVENT_TYPES)
    assert not set(ev.EVENT_TYPES) & set(ev.LEGACY_EVENT_TYPES)
    assert set(ev.PAYLOADS) == {*ev.EVENT_TYPES, *ev.LEGACY_EVENT_TYPES}
    written = set(get_args(ev.Payload))
    assert {ev.PAYLOADS[kind] for kind in ev.EVENT_TYPES} == written


@pytest.mark.parametrize("kind", [*ev.EVENT_TYPES, *ev.LEGACY_EVENT_TYPES])
def test_every_type_has_its_own_summary(kind: str) -> None:
    generic = f"{kind} t-4k7q2m9x3bce"
    for data in ({}, {"title": "A title"}):
        line = summarize({"type": kind, "subject": "t-4k7q2m9x3bce", "data": data})
        assert line and line != generic and not line.startswith(kind), line


def test_unknown_and_malformed_events_still_summarise() -> None:
    assert summarize({"type": "task.reopened", "subject": "t-x", "data": {}}) == "task.reopened t-x"
    assert summarize({"type": "task.moved", "subject": "t-x", "data": ["no", "dict"]}) == (
        "moved t-x None -> None"
    )
    assert summarize({}) == ""


def test_fan_out_rules_cover_every_written_type() -> None:
    from agentctl.workspace.base import fan_out_rule

    rules = {kind: fan_out_rule(kind) for kind in ev.EVENT_TYPES}
    assert rules["message.added"] == ("mention", True)
    assert rules["task.created"] == ("assigned", False)
    assert rules["task.assigned"] == ("assigned", True)
    assert rules["attention.raised"] == ("attention", False)
    quiet = {kind for kind, (_, subscribers) in rules.items() if not subscribers}
    assert quiet == {
        "task.created",
        "task.subscribed",
        "task.unsubscribed",
        "task.gate_refused",
        "attention.raised",
        "spec.created",
        "spec.edited",
        "spec.removed",
        "spec.expanded",
        "spec.drift",
    }


# -- every type produced in src is a member (and every member is produced) --------------------


def _constants() -> dict[str, str]:
    """Module-level string constants of src (``RAISED``, ``_ADOPTED``, ...), by name."""
    found: dict[str, str] = {}
    for path in SRC.rglob("*.py"):
        for node in _parsed(path).body:
            target = (
                node.targets[0]
                if isinstance(node, ast.Assign) and len(node.targets) == 1
                else node.target
                if isinstance(node, ast.AnnAssign)
                else None
            )
            value = getattr(node, "value", None)
            if isinstance(target, ast.Name) and isinstance(value, ast.Constant):
                if isinstance(value.value, str):
                    found[target.id] = value.value
    return found


def _types_of(arg: ast.expr, constants: dict[str, str], where: str) -> set[str]:
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return {arg.value}
    if isinstance(arg, ast.IfExp):
        return _types_of(arg.body, constants, where) | _types_of(arg.orelse, constants, where)
    if isinstance(arg, ast.Name) and arg.id in constants:
        return {constants[arg.id]}
    raise AssertionError(f"{where}: an event type that is not a literal: {ast.dump(arg)}")


def produced_types() -> dict[str, list[str]]:
    """Every event type passed to Mutation.record/record_more (and recovery's ``_record``)
    anywhere in src, with where."""
    constants = _constants()
    produced: dict[str, list[str]] = {}
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC.parent)
        for node in ast.walk(_parsed(path)):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            mutation_call = (
                isinstance(func, ast.Attribute)
                and func.attr in RECORDERS
                and isinstance(func.value, ast.Name)
                and func.value.id in ("m", "self")
            )
            forwarding = isinstance(func, ast.Name) and func.id == "_record"
            if not (mutation_call or forwarding):
                continue
            arg = node.args[1] if forwarding else node.args[0]
            if isinstance(arg, ast.Name) and arg.id == "type_":
                continue  # a forwarder's own parameter: its callers are scanned
            where = f"{rel}:{node.lineno}"
            data = node.args[2] if mutation_call and len(node.args) > 2 else None
            # A dict literal given to record() is checked only against the union of all
            # payloads: build it as a variable annotated with its type's TypedDict instead.
            assert not isinstance(data, ast.Dict), f"{where}: an untyped payload literal"
            for kind in _types_of(arg, constants, where):
                produced.setdefault(kind, []).append(where)
    return produced


def test_every_recorded_type_is_a_member_and_every_member_is_recorded() -> None:
    produced = produced_types()
    assert sum(len(sites) for sites in produced.values()) >= 35, produced
    unknown = {kind: sites for kind, sites in produced.items() if kind not in ev.EVENT_TYPES}
    assert not unknown, f"event types missing from core.events.EventType: {unknown}"
    assert set(produced) == set(ev.EVENT_TYPES), (
        f"in EventType but written nowhere: {sorted(set(ev.EVENT_TYPES) - set(produced))}"
    )


# -- what real operations write matches the payload types --------------------------------------


def _matches(value: Any, hint: Any) -> bool:
    origin = get_origin(hint)
    if hint is Any:
        return True
    if hint is None or hint is type(None):
        return value is None
    if origin in (Union, types.UnionType):
        return any(_matches(value, arm) for arm in get_args(hint))
    if origin is Literal:
        return value in get_args(hint)
    if origin is list:
        (item,) = get_args(hint)
        return isinstance(value, list) and all(_matches(v, item) for v in value)
    if origin is dict:
        key, item = get_args(hint)
        return isinstance(value, dict) and all(
            _matches(k, key) and _matches(v, item) for k, v in value.items()
        )
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, hint)


def payload_problems(event: dict[str, Any]) -> list[str]:
    """How ``event``'s data differs from its type's payload (empty: it matches)."""
    kind = event["type"]
    if kind not in ev.EVENT_TYPES:
        return [f"{kind}: not an EventType"]
    payload = ev.PAYLOADS[kind]
    hints = typing.get_type_hints(payload)
    data = event["data"]
    problems = [f"{kind}: missing {k!r}" for k in payload.__required_keys__ if k not in data]  # type: ignore[attr-defined]
    for key, value in data.items():
        if key not in hints:
            problems.append(f"{kind}: unknown key {key!r}")
        elif not _matches(value, hints[key]):
            problems.append(f"{kind}: {key}={value!r} is not {hints[key]}")
    return problems


def test_the_payload_check_itself_finds_problems() -> None:
    good = {"type": "task.moved", "data": {"title": "T", "from": "inbox", "to": "done"}}
    assert payload_problems(good) == []
    assert payload_problems({"type": "task.moved", "data": {"title": "T", "to": "done"}}) == [
        "task.moved: missing 'from'"
    ]
    bad = {"type": "task.assigned", "data": {"title": "T", "added": "nova", "extra": 1}}
    assert payload_problems(bad) == [
        "task.assigned: added='nova' is not list[str]",
        "task.assigned: unknown key 'extra'",
    ]
    assert payload_problems({"type": "agent.heartbeat", "data": {"outcome": "dozed"}})


GATES = """  human_gates:
    - name: release sign-off
      transition: review->done
      labels: [release]
"""


@pytest.fixture
def workspace(tmp_path: Path) -> Any:
    """A workspace without git (nothing here is about git), simulated agents allowed, one
    human gate."""
    from agentctl.workspace import Workspace

    root = tmp_path / "ws"
    root.mkdir()
    Workspace.init(root, "events", "tester", allow_simulated=True)
    config = root / ".agentctl" / "config.yaml"
    text = config.read_text(encoding="utf-8")
    assert "  human_gates: []\n" in text
    config.write_text(text.replace("  human_gates: []\n", GATES, 1), encoding="utf-8")
    ws = Workspace(root)
    yield ws
    ws.close()


def test_every_operation_writes_its_payload_type(workspace: Any) -> None:
    """Run the operations behind every event type (bar the legacy one) and check each event
    written against its payload type."""
    from agentctl.core.rules import Actor, GateRefusal
    from agentctl.heartbeat.contain import Findings
    from agentctl.heartbeat.tick import tick_all
    from agentctl.workspace.recovery import doctor

    ws = workspace
    human = Actor("tester")
    ws.add_agent(human, "lead-1", "lead", level="lead", runtime="simulated")
    ws.add_agent(human, "dev-1", "developer", capabilities=["python"], runtime="simulated")
    ws.add_agent(human, "dev-2", "developer")
    ws.edit_agent(human, "dev-2", {"role": "reviewer"})
    dev = ws.actor("dev-1")
    first = ws.add_task(human, "First", assignees=["dev-1"], criteria=["works"])["id"]
    second = ws.add_task(human, "Second", depends_on=[first])["id"]
    gated = ws.add_task(human, "Ship it", labels=["release"], assignees=["dev-1"])["id"]
    ws.edit_task(human, second, title="Second, retitled")
    ws.add_dependency(human, second, gated)
    ws.remove_dependency(human, second, gated)
    ws.subscribe(human, first, agent="dev-2")
    ws.subscribe(human, first, agent="dev-2", on=False)
    ws.comment(human, first, "@dev-1 please look", kind="question")
    ws.direct_message(human, "dev-1", "hello there")
    ws.assign(human, second, ["dev-2"])
    ws.unassign(human, second, ["dev-2"])
    ws.claim(dev, first)
    ws.release(dev, first)
    ws.move_task(human, first, "in_progress", note="starting")
    ws.move_task(human, first, "review")
    ws.approve(human, first, note="fine")
    ws.move_task(human, gated, "in_progress")
    ws.move_task(human, gated, "review")
    with pytest.raises(GateRefusal):
        ws.move_task(ws.actor("lead-1"), gated, "done")  # refused at the human gate, recorded
    ws.reject(human, gated, "needs a changelog line")
    doc = ws.add_doc(human, "Use SQLite", "decision", "Because.", first)["id"]
    ws.edit_doc(human, doc, body="Because it is fast.")
    ws.remove_doc(human, doc)
    ws.add_memory("dev-1", "remember this", actor=human)
    ws.add_memory("dev-1", "and this", long_term=True, actor=human)
    ws.compact_memory("dev-1", keep_days=0, actor=human)
    ws.add_note(human, "a note for everyone")
    ws.set_agent_status(human, "dev-2", "blocked")
    third = ws.add_task(human, "Third")["id"]
    ws.dispatch(human)
    tick_all(ws)
    ws.raise_attention(now=datetime.now(UTC) + timedelta(days=30))
    ws.contain_agent(
        "dev-2", lambda: Findings(reverted=["README.md"], diff="-a\n+b\n"), notify=["lead-1"]
    )
    ws.reset_agent(human, "dev-2")
    ws.move_agent(human, "dev-2", "other-host")
    ws.remove_task(human, third, force=True)
    ws.remove_agent(human, "dev-2", force=True)
    ws.import_roadmap(human, "# Roadmap\n\n- [ ] Imported task\n", "plan.md")
    lead = ws.actor("lead-1")
    ws.propose_agent(lead, "helper", "helper", ["docs"], reason="docs need an owner")
    ws.approve_agent(human, "helper")
    ws.propose_agent(lead, "extra", "extra", ["ops"])
    ws.reject_agent(human, "extra", "not now")
    from agentctl.workspace.spec_expand import SpecRuntime

    spec = ws.new_spec(human, "An idea")["id"]
    ws.expand_spec(human, spec, SpecRuntime("simulated"), no_questions=True)
    ws.plan_spec(human, spec)
    ws.edit_spec(human, spec, body=ws.show_spec(spec)["body"].replace("Implement", "Build"))
    ws.check_specs(human)
    ws.remove_spec(human, spec)
    stray = ws.layout.task("t-4k7q2m9x3bce")
    stray.write_text(
        "---\nid: t-4k7q2m9x3bce\ntitle: Stray\nstatus: inbox\ncreated_by: tester\n"
        "created_at: '2026-01-01T00:00:00Z'\nupdated_at: '2026-01-01T00:00:00Z'\n---\n",
        encoding="utf-8",
    )
    doctor(ws)
    ws.set_setting(human, "heartbeat.sync", "true")
    ws.unset_setting(human, "heartbeat.sync")

    events = [
        json.loads(line)
        for path in sorted(ws.layout.events.glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    seen = {e["type"] for e in events}
    missing = set(ev.EVENT_TYPES) - seen - {"record.lost"}  # lost: a crash before a commit
    assert not missing, f"not exercised: {sorted(missing)}"
    problems = [p for event in events for p in payload_problems(event)]
    assert not problems, "\n".join(problems)


# -- cost: core/events.py is for the type checker, never imported on a command's path ---------

WRAPPER = """
import runpy, sys
sys.argv = ["agentctl", *sys.argv[1:]]
try:
    runpy.run_module("agentctl", run_name="__main__")
except SystemExit:
    pass
print("\\nIMPORTED" if "agentctl.core.events" in sys.modules else "\\nNOT-IMPORTED")
"""


@pytest.mark.parametrize(
    "args", [("task", "add", "A task"), ("feed",), ("task", "list"), ("note", "a note")]
)
def test_commands_do_not_import_the_event_types(tmp_path: Path, args: tuple[str, ...]) -> None:
    from agentctl.workspace import Workspace

    Workspace.init(tmp_path, "plain", "tester")
    script = tmp_path / "wrapper.py"
    script.write_text(WRAPPER, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, str(script), *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.stdout.rstrip().endswith("NOT-IMPORTED"), proc.stdout + proc.stderr


def test_payloads_use_only_typing() -> None:
    tree = ast.parse((SRC / "core" / "events.py").read_text(encoding="utf-8"))
    imported = {
        alias.name if isinstance(node, ast.Import) else node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert imported <= {"__future__", "typing"}, imported
    assert NotRequired  # the payloads mark optional keys with typing.NotRequired


def test_docs_list_every_event_type() -> None:
    text = (SRC.parent.parent / "docs" / "formats.md").read_text(encoding="utf-8")
    section = text[text.index("## Event") : text.index("## WORKING.md")]
    missing = [k for k in (*ev.EVENT_TYPES, *ev.LEGACY_EVENT_TYPES) if f"`{k}`" not in section]
    assert not missing, f"docs/formats.md does not list: {missing}"


def _cast_type(node: ast.AST) -> str | None:
    """``T`` for ``cast("ev.T", ...)``, else None."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "cast"
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
        and node.args[0].value.startswith("ev.")
    ):
        return node.args[0].value.removeprefix("ev.")
    return None


def payload_reads() -> list[tuple[str, str, str]]:
    """(where, payload type, key) for every ``.get("key")`` / ``["key"]`` on a payload read
    through ``cast("ev.T", ...)`` in src: mypy checks ``["key"]`` but not ``.get("key")``."""
    reads = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC.parent)
        tree = _parsed(path)
        for func in ast.walk(tree):
            if not isinstance(func, ast.FunctionDef):
                continue
            typed: dict[str, str] = {}  # variable -> payload type, within this function
            for node in ast.walk(func):
                if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    kind = _cast_type(node.value)
                    for target in targets:
                        if kind and isinstance(target, ast.Name):
                            typed[target.id] = kind
                        elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                            for name, value in zip(target.elts, node.value.elts, strict=True):
                                if isinstance(name, ast.Name) and _cast_type(value):
                                    typed[name.id] = str(_cast_type(value))
            for node in ast.walk(func):
                owner: ast.AST | None = None
                key: ast.AST | None = None
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "get"
                    and node.args
                ):
                    owner, key = node.func.value, node.args[0]
                elif isinstance(node, ast.Subscript):
                    owner, key = node.value, node.slice
                if owner is None or not isinstance(key, ast.Constant):
                    continue
                kind = _cast_type(owner) or (
                    typed.get(owner.id) if isinstance(owner, ast.Name) else None
                )
                if kind:
                    reads.append((f"{rel}:{getattr(node, 'lineno', 0)}", kind, str(key.value)))
    return reads


def test_payload_reads_name_declared_keys() -> None:
    reads = payload_reads()
    assert len(reads) >= 30, reads  # summary, index, reports, gates, inbox, demo
    unknown = [
        f"{where}: {kind} has no key {key!r}"
        for where, kind, key in reads
        if key not in typing.get_type_hints(getattr(ev, kind))
    ]
    assert not unknown, "\n".join(unknown)
