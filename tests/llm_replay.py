"""Recorded model answers replayed through real heartbeat ticks (shared by
tests/test_answers_replay.py and the before/after measurement, tests/measure_answers.py).

Each entry is what a model answered to a developer with three assigned tasks, and what it
answered when told its mistakes (the repair turn). The kinds come from a real small local
model (Qwen2.5-Coder 0.5B behind llama.cpp) and a coding-agent CLI: lists of action names,
integer task numbers, fenced JSON, wrapped lines, JSON in prose, all-invalid answers, a timeout;
plus good answers. ``{t1}``..``{t3}`` are replaced by the task IDs in the prompt's numbering.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llm_stub import Reply, StubServer

MODEL = "openai/qwen2.5-coder-0.5b-instruct"  # unknown to litellm's map: JSON mode, no schema
Run = Callable[..., tuple[int, str]]  # (*args, cwd) -> (exit code, stdout)


def _j(*actions: dict[str, Any]) -> str:
    return json.dumps({"actions": list(actions)})


GOOD = _j(
    {"type": "claim", "task": "{t1}"},
    {"type": "comment", "task": "{t1}", "kind": "status_update", "text": "Starting on it."},
)


@dataclass
class Entry:
    name: str
    first: str  # the recorded answer
    repair: str | None = None  # the recorded answer to the repair turn (None: same again)
    delay: float = 0.0  # seconds before the first answer (a timeout)
    applies: bool = True  # after the change: does the tick end in applied actions?
    on: tuple[str, ...] = ()  # tasks ("t1".."t3") that must get the applied comments/claims


CORPUS: list[Entry] = [
    Entry(
        "action-names",
        '{"actions": ["create_task", "assign", "claim", "release"]}',
        GOOD,
        on=("t1",),
    ),
    Entry(
        "action-names-stubborn",
        '{"actions": ["create_task", "assign", "claim", "release"]}',
        applies=False,
    ),
    Entry(
        "integer-id",
        '{"type": "comment", "task": 2, "text": "Looking at the second task."}',
        on=("t2",),
    ),
    Entry(
        "integer-id-out-of-range",
        _j({"type": "comment", "task": 7, "text": "Task seven."}),
        _j({"type": "comment", "task": "{t3}", "text": "Task three, by its ID."}),
        on=("t3",),
    ),
    Entry("fenced-json", "```json\n" + GOOD + "\n```", on=("t1",)),
    Entry(
        "fenced-in-prose", "Here is my answer:\n```\n" + GOOD + "\n```\nLet me know!", on=("t1",)
    ),
    Entry(
        "wrapped-lines",
        '{"actions": [{"type": "comment", "task": "{t2}", "kind": "status_update", "text": "I read\n'
        'the parser and its tests; I start with\n   the tokenizer."}]}',
        on=("t2",),
    ),
    Entry(
        "prose-with-braces",
        'The config uses {placeholders}; I will fill them. {"actions": [{"type": "comment", '
        '"task": "{t1}", "text": "Filling the {placeholders} first."}]} That is all.',
        on=("t1",),
    ),
    Entry("short-id", _j({"type": "claim", "task": "{t3:short}"}), on=("t3",)),
    Entry(
        "wrong-field-names",
        _j({"action": "comment", "task_id": "{t1}", "body": "Started."}),
        _j({"type": "comment", "task": "{t1}", "text": "Started."}),
        on=("t1",),
    ),
    Entry(
        "mixed-valid-invalid",
        _j({"type": "claim", "task": "{t1}"}, {"type": "comment", "task": 9, "text": "x"}),
        _j(
            {"type": "claim", "task": "{t1}"},
            {"type": "comment", "task": "{t1}", "text": "Claimed; starting."},
        ),
        on=("t1",),
    ),
    Entry(
        "all-invalid", _j({"type": "do_work", "task": "{t1}"}, {"type": "comment"}), applies=False
    ),
    Entry(
        "not-json", "I will work on the tasks now. First the parser, then the tests.", applies=False
    ),
    Entry("timeout", GOOD, delay=4.0, applies=False),
    Entry("good", GOOD, on=("t1",)),
    Entry("good-bare-list", json.dumps([{"type": "claim", "task": "{t2}"}]), on=("t2",)),
]


@dataclass
class Outcome:
    name: str
    code: int
    record: dict[str, Any]
    applied: int
    calls: int
    tasks: dict[str, str] = field(default_factory=dict)  # t1.. -> ID, in the prompt's numbering


def numbered_tasks(body: dict[str, Any], fallback: list[str]) -> dict[str, str]:
    """t1.. -> task ID as the prompt numbers them ("Task IDs here: 1 = t-..."), else the
    creation order (a prompt without that line: the code before the change)."""
    prompt = "\n".join(str(m.get("content")) for m in body.get("messages", []))
    found = re.findall(r"(\d+) = (t-[0-9a-z]{12})", prompt)
    ids = [t for _, t in found] or fallback
    return {f"t{i}": t for i, t in enumerate(ids, 1)}


def fill(text: str, tasks: dict[str, str]) -> str:
    for key, ident in tasks.items():
        text = text.replace("{" + key + ":short}", ident[2:8]).replace("{" + key + "}", ident)
    return text


def setup(run: Run, root: Path, base: str, timeout: float = 2.0) -> list[str]:
    """A workspace at ``root`` (already initialised) with an llm developer pointed at the stub
    and three tasks assigned to it; returns the task IDs in creation order."""
    config = root / ".agentctl" / "config.yaml"
    text = config.read_text(encoding="utf-8")
    for old, new in (("api_base: null", f"api_base: {base}"), ("retries: 2", "retries: 0"),
                     ("timeout: 60 ", f"timeout: {timeout:g} "), ("max_tokens: 1500", "max_tokens: 200")):  # fmt: skip
        assert old in text, old
        text = text.replace(old, new, 1)
    config.write_text(text, encoding="utf-8")
    code, out = run("agent", "add", "dev", "--role", "developer", "--runtime", "llm",
                    "--model", MODEL, cwd=root)  # fmt: skip
    assert code == 0, out
    ids = []
    for title, priority in (
        ("write the parser", "0"),
        ("write the tests", "1"),
        ("document it", "2"),
    ):
        code, out = run("task", "add", title, "--assign", "dev", "--priority", priority, "--json", cwd=root)  # fmt: skip
        assert code == 0, out
        ids.append(json.loads(out)["task"]["id"])
    return ids


def replay(run: Run, root: Path, stub: StubServer, entry: Entry, ids: list[str]) -> Outcome:
    """One tick of ``dev`` whose model answers ``entry`` (and its repair)."""
    stub.reset()
    holder: dict[str, dict[str, str]] = {}

    def first(body: dict[str, Any]) -> str:
        holder["tasks"] = numbered_tasks(body, ids)
        return fill(entry.first, holder["tasks"])

    def repair(body: dict[str, Any]) -> str:
        return fill(entry.repair or entry.first, holder.get("tasks") or numbered_tasks(body, ids))

    stub.queue(Reply(first, delay=entry.delay), Reply(repair))
    code, out = run("heartbeat", "dev", "--json", cwd=root)
    [record] = json.loads(out)["runs"]
    return Outcome(entry.name, code, record, int(record.get("applied") or 0), len(stub.bodies()),
                   holder.get("tasks", {}))  # fmt: skip
