"""``agentctl validate`` and the readers give the same verdict on the same record file: both
run checks that come from the pydantic models (validate runs the models, the readers the fast
validators generated from them)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from conftest import Runner, add_task
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from strategies import RECORDS, mutated

from agentctl.core import models
from agentctl.core.fields import DOC_ID_PATTERN, SPEC_ID_PATTERN, TASK_ID_RE, compile_pattern
from agentctl.errors import ExitCode
from agentctl.paths import NAME_RE

DOC_ID_RE = compile_pattern(DOC_ID_PATTERN)
SPEC_ID_RE = compile_pattern(SPEC_ID_PATTERN)
MODELS: dict[str, type[models.Record]] = {
    "task": models.Task, "agent": models.Agent, "document": models.Document, "spec": models.Spec,
}  # fmt: skip


def _task_path(root: Path, task_id: str) -> Path:
    return root / ".agentctl" / "tasks" / f"{task_id}.md"


def test_integer_timestamp_is_refused_by_validate_and_the_readers(
    ws_root: Path, cli: Runner
) -> None:
    task_id = add_task(cli, "victim")
    path = _task_path(ws_root, task_id)
    text = path.read_text(encoding="utf-8")
    head, sep, rest = text.partition("created_at: ")
    path.write_text(head + sep + "1700000000\n" + rest.split("\n", 1)[1], encoding="utf-8")
    rel = f".agentctl/tasks/{task_id}.md"

    listing = cli("task", "list")
    assert listing.code == 0, str(listing)
    assert rel in listing.err and "created_at" in listing.err, str(listing)

    v = cli("validate")
    assert v.code == ExitCode.VALIDATION, str(v)
    assert rel in v.out and "created_at" in v.out, str(v)


# -- the acceptance corpus: validate and the readers agree on every file ---------------------

# Problems that are about several records, not about the file alone: readers show such tasks
# (and 'task blocked' explains them), validate reports them. Every other verdict must agree.
CROSS_RECORD = (
    "depends on missing task", "does not exist", "unknown status", "dependency cycle",
    "is not a link like", "names no",  # a spec: link (validate checks it against the specs)
)  # fmt: skip


def _dump(data: dict[str, Any]) -> str:
    """``data`` as a record file: YAML frontmatter (any value YAML can hold) and a body."""
    stream = io.StringIO()
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.dump(data, stream)
    return f"---\n{stream.getvalue()}---\n\nbody\n"


def _flagged(lines: str, marker: str = "") -> set[str]:
    """Record paths named at the start of the lines that contain ``marker``."""
    found = set()
    for line in lines.splitlines():
        line = line.removeprefix("agentctl: warning: ")
        if line.startswith(".agentctl/") and marker in line:
            if not any(reason in line for reason in CROSS_RECORD):
                found.add(line.split(":", 1)[0])
    return found


def _corpus(kind: str) -> st.SearchStrategy[list[dict[str, Any]]]:
    known = tuple(MODELS[kind].model_fields)
    record = RECORDS[kind].flatmap(lambda valid: st.one_of(st.just(valid), mutated(valid, known)))
    key = "name" if kind == "agent" else "id"
    return st.lists(record, min_size=1, max_size=8, unique_by=lambda r: str(r.get(key)))


def _original_key(record: dict[str, Any], kind: str, n: int) -> str:
    value = record.get("name" if kind == "agent" else "id")
    pattern = {"task": TASK_ID_RE, "agent": NAME_RE, "document": DOC_ID_RE, "spec": SPEC_ID_RE}[
        kind
    ]
    if isinstance(value, str) and pattern.match(value):
        return value
    # the mutation replaced the name: the file keeps a valid one (and both must flag the record)
    return {
        "task": f"t-{n:012d}",
        "agent": f"broken-{n}",
        "document": f"d-{n:012d}",
        "spec": f"s-{n:012d}",
    }[kind]


READERS = {
    "task": (("task", "list", "--all"), "tasks"),
    "agent": (("agent", "list"), "agents"),
    "document": (("doc", "list"), "docs"),
    "spec": (("spec", "list"), "specs"),
}


@pytest.mark.parametrize("kind", sorted(READERS))
def test_validate_and_the_readers_agree_on_a_generated_corpus(
    kind: str, tmp_path_factory: pytest.TempPathFactory, cli: Runner
) -> None:
    """Each example is a fresh workspace holding a corpus of valid and broken records of one
    type; ``agentctl validate`` flags exactly the files the reader skips with a warning."""
    reader, directory = READERS[kind]

    @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
    @given(_corpus(kind))
    def agree(records: list[dict[str, Any]]) -> None:
        root = tmp_path_factory.mktemp("corpus")
        r = cli("init", str(root), "--nested")
        assert r.code == 0, str(r)
        for n, record in enumerate(records):
            name = _original_key(record, kind, n)
            path = root / ".agentctl" / directory / f"{name}.md"
            path.write_text(_dump(record), encoding="utf-8")
        listing = cli(*reader, cwd=root)
        assert listing.code == 0, str(listing)
        validated = cli("validate", cwd=root)
        assert validated.code in (0, ExitCode.VALIDATION), str(validated)
        assert _flagged(listing.err, "(skipped") == _flagged(validated.out), (
            f"{records}\n{listing}\n{validated}"
        )

    agree()


@pytest.mark.parametrize(
    "schema",
    [{"type": "integer", "multipleOf": 2}, {"type": "string", "format": "email"},
     {"type": "string", "format": "date-time"}, {"anyOf": [{"type": "string"}, {"type": "integer"}]},
     {"type": "object", "additionalProperties": {"type": "string"}}],
)  # fmt: skip
def test_the_generator_refuses_what_it_cannot_check(schema: dict[str, Any]) -> None:
    """A constraint the generator does not know stops it: the fast validators never quietly
    accept more than the model (a plain datetime without the models' Timestamp type too)."""
    from agentctl.schema_validators import _Generator, _without_null

    with pytest.raises(NotImplementedError):
        _Generator().value(_without_null(schema), "value", "{prefix}x", None, "x", "    ", 1)


# -- event and read-state lines: the models' verdict, in validate and in every reader ---------


def test_an_invalid_event_line_is_reported_by_validate_and_skipped_by_the_readers(
    ws_root: Path, cli: Runner
) -> None:
    """An event line that the Event model refuses (an epoch timestamp, a notify list of numbers)
    is reported by validate with its line and left out of the feed and the inbox; a valid
    hand-written line next to it is in both."""
    import json

    add_task(cli, "seed")
    assert cli("agent", "add", "dev-1", "--role", "dev").code == 0
    [log] = sorted((ws_root / ".agentctl" / "events").glob("*.jsonl"))
    day = log.name.removesuffix(".jsonl")
    good: dict[str, Any] = {"id": "e-ggggggggggg1", "ts": f"{day}T10:00:00Z", "actor": "me", "type": "task.created",
            "subject": None, "data": {}, "notify": ["dev-1"]}  # fmt: skip
    bad_ts = {**good, "id": "e-bbbbbbbbbbb2", "ts": 1700000000}
    bad_notify = {**good, "id": "e-nnnnnnnnnnn3", "notify": [1]}
    lines = log.read_text(encoding="utf-8").splitlines()
    start = len(lines) + 1
    with log.open("a", encoding="utf-8") as handle:
        for event in (bad_ts, good, bad_notify):
            handle.write(json.dumps(event) + "\n")

    v = cli("validate")
    assert v.code == ExitCode.VALIDATION, str(v)
    rel = f".agentctl/events/{log.name}"
    assert f"{rel}:{start}: ts" in v.out and f"{rel}:{start + 2}: notify" in v.out, str(v)
    assert f"{rel}:{start + 1}:" not in v.out, str(v)

    feed = cli("feed", "--json", "--limit", "100")
    assert feed.code == 0, str(feed)
    shown = {e["id"] for e in feed.json()["events"]}
    assert "e-ggggggggggg1" in shown and not shown & {"e-bbbbbbbbbbb2", "e-nnnnnnnnnnn3"}
    inbox = cli("inbox", "--agent", "dev-1", "--all", "--json")
    assert inbox.code == 0, str(inbox)
    notified = {n["id"] for n in inbox.json()["inbox"]["notifications"]}
    assert "e-ggggggggggg1" in notified and "e-nnnnnnnnnnn3" not in notified


def test_an_invalid_read_state_line_is_reported_and_ignored(ws_root: Path, cli: Runner) -> None:
    """A read-state line the InboxEntry model refuses (an event ID that is not one) is reported
    by validate and marks nothing read; a valid one marks its notification read."""
    import json

    assert cli("agent", "add", "dev-1", "--role", "dev").code == 0
    add_task(cli, "for dev", "--assign", "dev-1")
    inbox = cli("inbox", "--agent", "dev-1", "--json").json()["inbox"]["notifications"]
    assert inbox, inbox
    event = inbox[0]["id"]
    log = ws_root / ".agentctl" / "inbox" / "dev-1.jsonl"
    log.parent.mkdir(exist_ok=True)
    bad = {"ts": "2026-11-22T10:30:00Z", "read": [event, "not-an-id"]}
    with log.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(bad) + "\n")
    v = cli("validate")
    assert v.code == ExitCode.VALIDATION and ".agentctl/inbox/dev-1.jsonl:" in v.out, str(v)
    unread = cli("inbox", "--agent", "dev-1", "--json").json()["inbox"]["notifications"]
    assert event in {n["id"] for n in unread}  # the invalid line marked nothing read
    with log.open("a", encoding="utf-8") as handle:  # a valid line does mark it read
        handle.write(json.dumps({"ts": "2026-11-22T10:31:00Z", "read": [event]}) + "\n")
    unread = cli("inbox", "--agent", "dev-1", "--json").json()["inbox"]["notifications"]
    assert event not in {n["id"] for n in unread}
