"""Answers that apply: recorded answers of real small models replayed by an OpenAI-compatible
server on 127.0.0.1 (tests/llm_stub.py) through real heartbeat ticks via litellm.

The lenient reading applies what is unambiguous, the repair turn fixes what it can, ticks whose
model produced no valid action fail and back off (notifications stay undelivered, the leads
hear after max_failures), nothing invalid is ever applied, and the run log keeps every raw
answer. Unit tests of the lenient parser and of runtime/structured.py follow.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import Runner, run_cli
from llm_replay import CORPUS, MODEL, Entry, Outcome, replay, setup
from llm_stub import Reply, StubServer, serve

from agentctl.core.actions import AnswerError, parse_answer
from agentctl.core.answers import join_wrapped, resolve_task
from agentctl.runtime.base import Answer, Request
from agentctl.runtime.structured import Check, ask

PROVIDER_ENV = (
    "OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_API_BASE", "OPENAI_ORGANIZATION", "LITELLM_LOG",
    "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy",
)  # fmt: skip
TIMEOUT = 2.0
_TEMPLATE: dict[str, Any] = {}


@pytest.fixture(autouse=True)
def provider_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROVIDER_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")


@pytest.fixture(scope="module")
def stub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StubServer]:
    """The server, and litellm warmed up against it (its first call loads lazily for seconds,
    which the short timeout of these tests must not count)."""
    from agentctl.runtime.llm import LLMRuntime

    local = tmp_path_factory.mktemp("warm-up")
    with serve() as server:
        config = {"llm": {"api_base": server.base, "retries": 0, "cache": False}}
        request = Request(agent={"name": "warm", "model": MODEL}, system="s", prompt="p",
                          workspace_root=local, local_dir=local, config=config)  # fmt: skip
        with pytest.MonkeyPatch.context() as env:
            env.setenv("NO_PROXY", "127.0.0.1,localhost")
            env.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")
            LLMRuntime().run(request)
        server.reset()
        yield server


def in_process(*args: str, cwd: Path | None = None) -> tuple[int, str]:
    result = run_cli(*args, cwd=cwd)
    return result.code, result.out


@dataclass
class World:
    root: Path
    ids: list[str]  # in creation order (priority 0, 1, 2)


@pytest.fixture
def world(
    ws_root: Path,
    stub: StubServer,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> World:
    """A copy of a workspace with the llm developer ``dev`` and its three tasks (built once)."""
    if _TEMPLATE.get("base") != stub.base:  # the module's server is new when pytest-xdist
        # interleaves modules on a worker: the template's agent must point at this one
        template = tmp_path_factory.mktemp("answers-template") / "ws"
        shutil.copytree(ws_root, template)
        ids = setup(in_process, template, stub.base, TIMEOUT)
        _TEMPLATE.update(root=template, ids=ids, base=stub.base)
    shutil.rmtree(ws_root)
    shutil.copytree(_TEMPLATE["root"], ws_root)
    shutil.rmtree(ws_root / ".agentctl" / "local", ignore_errors=True)
    monkeypatch.chdir(ws_root)
    return World(ws_root, list(_TEMPLATE["ids"]))


def messages_by(cli: Runner, task: str, author: str) -> list[str]:
    result = cli("thread", task, "--json")
    assert result.code == 0, str(result)
    return [m["body"] for m in result.json()["thread"]["messages"] if m["author"] == author]


def status(cli: Runner, task: str) -> str:
    return str(cli("task", "show", task, "--json").json()["task"]["status"])


def undelivered(cli: Runner) -> int:
    return int(cli("prime", "--agent", "dev", "--json").json()["work"]["notifications"])


@pytest.mark.parametrize("entry", CORPUS, ids=lambda e: e.name)
def test_a_recorded_answer_through_a_real_tick(
    entry: Entry, world: World, stub: StubServer, cli: Runner
) -> None:
    before = undelivered(cli)
    assert before > 0  # the assignments
    outcome: Outcome = replay(in_process, world.root, stub, entry, world.ids)
    record = outcome.record
    first = stub.bodies()[0]
    assert "Example of the form (not of what to do):" in first["messages"][1]["content"]
    numbered = outcome.tasks or {f"t{i}": t for i, t in enumerate(world.ids, 1)}
    assert sorted(numbered.values()) == sorted(world.ids)  # the prompt lists and numbers them
    touched = {key for key, ident in numbered.items() if messages_by(cli, ident, "dev") or status(cli, ident) != "assigned"}  # fmt: skip
    if entry.delay == 0:  # every raw answer is in the run record
        assert [a["turn"] for a in record["answers"]] == list(range(len(record["answers"])))
        assert record["answers"][0]["text"].startswith(entry.first[:10].split("{")[0])
    if entry.applies:
        assert outcome.code == 0 and record["outcome"] == "worked", record
        assert outcome.applied > 0
        assert touched == set(entry.on), (touched, record)  # nothing on any other task
        assert undelivered(cli) == 0
    else:
        assert outcome.code == 11 and record["outcome"] == "failed", record
        assert outcome.applied == 0 and touched == set(), record
        assert record["failures"] == 1 and not record["blocked"]
        # the next tick still sees the assignments (and the notes about rejected actions)
        assert undelivered(cli) >= before
        state = cli("agent", "show", "dev", "--json").json()["agent"]["state"]
        assert state["failures"] == 1 and state["retry_after"]
    if entry.delay:
        assert outcome.calls == 1  # a failed call is not repaired
        assert f"timed out after {TIMEOUT:g} s" in record["error"]
        assert "llm.timeout" in record["hint"]
    elif entry.repair is not None or not entry.applies:
        assert outcome.calls == 2, record  # one repair turn
        repair = stub.bodies()[1]["messages"]
        assert [m["role"] for m in repair] == ["system", "user", "assistant", "user"]
        assert repair[3]["content"].startswith("Your answer could not be used as it was:\n- ")
        assert "Input should be" not in repair[3]["content"]
    else:
        assert outcome.calls == 1, record  # read leniently: no repair needed


def test_rejections_name_the_action_field_and_form(
    world: World, stub: StubServer, cli: Runner
) -> None:
    entry = Entry("integer", '{"actions": [{"type": "comment", "task": 7, "text": "x"}]}')
    outcome = replay(in_process, world.root, stub, entry, world.ids)
    [problem] = outcome.record["answers"][0]["problems"]
    first = outcome.tasks["t1"]
    assert problem == f"action 1 (comment): 'task' must be a task ID like {first}, got 7"
    names = Entry("names", '{"actions": ["create_task", "assign"]}')
    assert cli("agent", "reset", "dev").code == 0  # it backs off after the failed tick
    outcome = replay(in_process, world.root, stub, names, world.ids)
    assert outcome.record["error"].startswith(
        "unusable answer: the answer lists action names (create_task, assign) instead of actions"
    )


def test_the_timeout_bounds_the_whole_call(world: World, stub: StubServer, cli: Runner) -> None:
    started = time.monotonic()
    outcome = replay(in_process, world.root, stub, Entry("slow", "{}", delay=6.0), world.ids)
    assert time.monotonic() - started < TIMEOUT + 2.5
    assert outcome.record["outcome"] == "failed"
    result = cli("runs", "--show", outcome.record["id"])
    assert result.code == 0 and "hint: raise llm.timeout" in result.out, str(result)


def test_runs_show_prints_the_raw_and_the_repaired_answer(
    world: World, stub: StubServer, cli: Runner
) -> None:
    [entry] = [e for e in CORPUS if e.name == "action-names"]
    outcome = replay(in_process, world.root, stub, entry, world.ids)
    run_id = outcome.record["id"]
    result = cli("runs", "--show", run_id[:8])
    assert result.code == 0, str(result)
    text = result.out
    assert text.startswith(f"run {run_id}\n")
    assert "--- answer ---\n" + entry.first in text
    assert "  problem: the answer lists action names (create_task, assign, claim, release)" in text
    assert "--- repair turn 1 (used) ---" in text and "applied:" in text
    listed = cli("runs", "dev").out
    assert run_id in listed
    assert cli("runs", "--show", "r-zzzz").code == 3


def test_garbage_every_tick_backs_off_and_blocks_with_the_leads_told(
    world: World, stub: StubServer, cli: Runner
) -> None:
    from agentctl.core.clock import now_seconds
    from agentctl.heartbeat.tick import tick
    from agentctl.workspace import Workspace

    assert cli("agent", "add", "boss", "--role", "lead", "--level", "lead").code == 0
    stub.reset()
    stub.default = Reply('{"actions": ["claim", "release"]}')
    try:
        ws = Workspace.open(str(world.root))
        start = now_seconds()
        outcomes = []
        for minutes in (0, 0, 2, 10, 30):  # the second comes during the backoff
            record = tick(ws, "dev", now=start + timedelta(minutes=minutes), escalate=False)
            outcomes.append((record["outcome"], record.get("failures"), record.get("blocked")))
        ws.close()
    finally:
        stub.default = Reply()
    assert outcomes == [
        ("failed", 1, False),
        ("skipped", None, None),
        ("failed", 2, False),
        ("failed", 3, True),
        ("skipped", None, None),
    ]
    assert all(status(cli, t) == "assigned" for t in world.ids)
    inbox = cli("inbox", "--agent", "boss", "--json").json()["inbox"]["notifications"]
    assert any("dev" in json.dumps(n) for n in inbox), inbox


def test_response_format_schema_then_json_mode_then_text(
    world: World, stub: StubServer, cli: Runner
) -> None:
    path = world.root / ".agentctl" / "config.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("output: auto", "output: schema"), "utf-8"
    )
    stub.reset()
    stub.refuse_formats = frozenset({"json_schema", "json_object"})
    try:
        code, out = in_process("heartbeat", "dev", "--json", cwd=world.root)
    finally:
        stub.refuse_formats = frozenset()
    assert code == 0, out
    formats = [(b.get("response_format") or {}).get("type") for b in stub.bodies()]
    assert formats == ["json_schema", "json_object", None]
    schema = stub.bodies()[0]["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["actions"]["type"] == "array"


# -- the lenient parser ------------------------------------------------------------------------

TASKS = ["t-4k7q2m9x3bce", "t-8r2m0c5d1f6g", "t-8rzzzzzzzzzz"]


def test_numbers_and_short_ids_resolve_only_to_listed_tasks() -> None:
    assert resolve_task(2, TASKS) == TASKS[1]
    assert resolve_task("3", TASKS) == TASKS[2]
    assert resolve_task("4k7q", TASKS) == TASKS[0] and resolve_task("t-4K7Q2m", TASKS) == TASKS[0]
    assert resolve_task("8r", TASKS) == "8r"  # too short
    assert resolve_task("t-8r2m", TASKS) == TASKS[1]
    assert resolve_task("8rzz", TASKS) == TASKS[2]
    for unlisted in (0, 4, -1, True, "t-9999", "9999", 2.0, None):
        assert resolve_task(unlisted, TASKS) == unlisted  # never a task the prompt did not list
    assert resolve_task(1, []) == 1
    valid, rejected = parse_answer(json.dumps({"type": "claim", "task": 4}), 5, TASKS)
    assert valid == [] and rejected[0]["reason"].endswith(
        "'task' must be a task ID like t-4k7q2m9x3bce, got 4"
    )


def test_wrapped_lines_are_joined_only_inside_strings() -> None:
    wrapped = '{"a": [1,\n 2], "text": "one two\n   three", "x": "a\\nb"}'
    assert json.loads(join_wrapped(wrapped)) == {"a": [1, 2], "text": "one two three", "x": "a\nb"}
    answer = '{"actions": [{"type": "claim", "task": "t-4k7q\n2m9x3bce"}]}'
    valid, rejected = parse_answer(answer, 5, TASKS)  # a broken ID is rejected, not guessed
    assert valid == [] and "'task' must be a task ID" in rejected[0]["reason"]


@pytest.mark.parametrize(
    "text",
    [
        'Sure. {"actions": [{"type": "noop", "reason": "r"}]}',
        'I use {braces} in prose. {"actions": [{"type": "noop", "reason": "r"}]} Bye {x}.',
        'Here:\n```\n{"actions": [{"type": "noop", "reason": "r"}]}\n```',
        'Here:\n```JSON\n[{"type": "noop", "reason": "r"}]\n```\nand {"other": 1}',
    ],
)
def test_json_is_found_in_prose_and_fences(text: str) -> None:
    valid, rejected = parse_answer(text, 5)
    assert [a.type for a in valid] == ["noop"] and rejected == []


def test_plain_words_for_every_kind_of_mistake() -> None:
    items = [
        "claim",
        {"type": "comment", "task": "t-4k7q2m9x3bce"},
        {"type": "comment", "task": "t-4k7q2m9x3bce", "text": "x", "body": "y"},
        {"type": "comment", "task": "t-4k7q2m9x3bce", "text": "x", "kind": "chat"},
        {"type": "create_task", "title": "x", "priority": 9},
        {"type": "assign", "task": "t-4k7q2m9x3bce", "agent": "Bob Smith"},
        {"task": "t-4k7q2m9x3bce"},
        {"type": "comment", "task": "t-4k7q2m9x3bce", "text": ["a"]},
    ]
    _, rejected = parse_answer(json.dumps({"actions": items}), 20)
    reasons = [r["reason"] for r in rejected]
    assert reasons == [
        "action 1 is just the name 'claim', not an action object with its fields, like "
        '{"type": "noop", "reason": "..."}',
        "action 2 (comment): 'text' is missing: it must be text",
        "action 3 (comment): 'body' is not a field of a comment action (its fields: task, text, kind)",
        "action 4 (comment): 'kind' must be one of 'comment', 'question', 'answer', 'review' or "
        "'status_update', got 'chat'",
        "action 5 (create_task): 'priority' must be a whole number from 0 (highest) to 3, got 9",
        "action 6 (assign): 'agent' must be an agent name like dev-1 (lowercase letters, digits, "
        "'-'), got 'Bob Smith'",
        "action 7 has no 'type'; the actions are: comment, set_status, create_task, assign, "
        "claim, release, write_doc, fetch_doc, remember, notify, dispatch, plan, propose_agent, noop",
        "action 8 (comment): 'text' must be text, got a list",
    ]
    for reason in reasons:
        assert "Input should be" not in reason and "'str'" not in reason


def test_a_list_of_action_names_is_not_an_answer() -> None:
    with pytest.raises(AnswerError, match=r"lists action names \(create_task, assign\)"):
        parse_answer('{"actions": ["create_task", "assign", "frobnicate"]}', 5)
    with pytest.raises(AnswerError, match="lists action names"):
        parse_answer('["claim"]', 5)


# -- runtime/structured.py -----------------------------------------------------------------------


class Scripted:
    """A runtime that answers from a list and keeps the requests it got."""

    def __init__(self, *texts: str) -> None:
        self.texts = list(texts)
        self.requests: list[Request] = []

    def run(self, request: Request) -> Answer:
        self.requests.append(request)
        return Answer(text=self.texts.pop(0), tokens_in=10, tokens_out=5)


def _even(text: str) -> Check[int]:
    try:
        value = int(json.loads(text)["n"])
    except (ValueError, KeyError, TypeError):
        return Check(None, ["'n' must be a number"])
    return Check(value, [] if value % 2 == 0 else [f"{value} is odd"], 1)


def _request(tmp_path: Path) -> Request:
    return Request(agent={"name": "x"}, system="s", prompt="p", workspace_root=tmp_path,
                   local_dir=tmp_path, config={})  # fmt: skip


def test_ask_repairs_and_keeps_every_answer(tmp_path: Path) -> None:
    runtime = Scripted('{"n": 3}', '{"n": 4}')
    schema = {"type": "object"}
    result = ask(runtime, _request(tmp_path), _even, schema=schema, repair_turns=1)
    assert result.value == 4 and result.problems == [] and result.best == 1
    assert [a.text for a in result.attempts] == ['{"n": 3}', '{"n": 4}']
    assert (result.tokens_in, result.tokens_out) == (20, 10)
    second = runtime.requests[1]
    assert second.schema == schema and second.turns[0][0] == '{"n": 3}'
    assert second.turns[0][1].startswith("Your answer could not be used as it was:\n- 3 is odd")


def test_ask_keeps_the_better_attempt_and_honours_zero_turns(tmp_path: Path) -> None:
    result = ask(Scripted('{"n": 3}', "garbage"), _request(tmp_path), _even, repair_turns=1)
    assert result.value == 3 and result.best == 0 and len(result.attempts) == 2
    result = ask(Scripted('{"n": 3}'), _request(tmp_path), _even, repair_turns=0)
    assert result.value == 3 and result.problems == ["3 is odd"] and len(result.attempts) == 1


def test_an_agent_with_its_own_api_base(ws_root: Path, stub: StubServer, cli: Runner) -> None:
    """``agent add --api-base``: a local server for one agent (llm.api_base stays null)."""
    result = cli("agent", "add", "local", "--role", "developer", "--runtime", "llm",
                 "--model", "openai/qwen2.5-coder-0.5b-instruct", "--api-base", stub.base)  # fmt: skip
    assert result.code == 0, str(result)
    assert f"api_base: {stub.base}" in (ws_root / ".agentctl" / "agents" / "local.md").read_text()
    bad = cli("agent", "add", "bad", "--role", "x", "--api-base", "http://user:pw@host/v1")
    assert bad.code != 0 and "api_base" in bad.err and "Traceback" not in bad.err
    task = cli("task", "add", "small job", "--assign", "local", "--json").json()["task"]["id"]
    stub.reset()
    stub.queue(json.dumps({"actions": [{"type": "claim", "task": task}]}))
    result = cli("heartbeat", "local", "--json")
    assert result.code == 0, str(result)
    assert result.json()["runs"][0]["applied"] == 1 and len(stub.bodies()) == 1
    assert cli("agent", "edit", "local", "--api-base", "").code == 0
    assert "api_base" not in (ws_root / ".agentctl" / "agents" / "local.md").read_text()


def test_a_command_agent_whose_cli_wraps_long_lines(
    ws_root: Path, tmp_path: Path, cli: Runner
) -> None:
    """The aider case: a CLI wrapped its JSON answer at 60 columns. Read leniently it applies;
    JSON that is not an action list fails the tick and is posted nowhere."""
    from helpers_heartbeat import answer_agent

    answer = answer_agent(cli, "aider", tmp_path / "scripts")
    task = cli("task", "add", "fix the bug", "--assign", "aider", "--json").json()["task"]["id"]
    text = json.dumps({"actions": [{"type": "comment", "task": task, "kind": "status_update",
                                    "text": "Fixed the off-by-one in the parser and added a test for the empty input."}]})  # fmt: skip
    answer.write_text("\n".join(text[i : i + 60] for i in range(0, len(text), 60)), "utf-8")
    result = cli("heartbeat", "aider", "--json")
    assert result.code == 0, str(result)
    assert result.json()["runs"][0]["applied"] == 1
    [body] = messages_by(cli, task, "aider")
    assert "off-by-one" in body
    answer.write_text('{"actions": ["comment", "set_status"]}', "utf-8")
    cli("task", "add", "more", "--assign", "aider")  # new work, so the tick calls the CLI
    result = cli("heartbeat", "aider", "--json")
    assert result.code == 11, str(result)
    [record] = result.json()["runs"]
    assert record["outcome"] == "failed" and "lists action names" in record["error"]
    assert len(messages_by(cli, task, "aider")) == 1  # the JSON was not posted as a comment
