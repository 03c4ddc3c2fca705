"""The ``llm`` runtime against a real OpenAI-compatible HTTP server on 127.0.0.1 (started here),
plus its response cache and spend ledger, including budgets held across real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast

import pytest

from agentctl.core.secrets import mask
from agentctl.core.text import estimate_tokens
from agentctl.errors import BudgetError, ExitCode, RuntimeFailure
from agentctl.runtime import load
from agentctl.runtime.base import Answer, Request
from agentctl.runtime.cache import ResponseCache, cache_key
from agentctl.runtime.ledger import AgentSpend, Ledger, summary
from agentctl.runtime.llm import LLMRuntime

SYSTEM = 'You are nova, a developer. Reply with a JSON object {"actions": [...]}.'
PROMPT = "## Your tasks\n- t-abc (in_progress): write the parser\n"
ANSWER = '{"actions": [{"type": "comment", "task": "t-abc", "body": "parser written"}]}'
MODEL = "openai/gpt-4o-mini"  # priced in litellm's bundled price map
SECRET = "sk-test-9f8e7d6c5b4a"
PROVIDER_ENV = (
    "OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_API_BASE", "OPENAI_ORGANIZATION", "ANTHROPIC_API_KEY",
    "GEMINI_API_KEY", "GOOGLE_API_KEY", "LITELLM_LOG", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
    "http_proxy", "https_proxy", "all_proxy",
)  # fmt: skip


# -- the stub server -----------------------------------------------------------------------------


@dataclass
class Reply:
    status: int = 200
    content: str = ANSWER
    prompt_tokens: int = 120
    completion_tokens: int = 30
    delay: float = 0.0
    error: str = "server error"
    finish_reason: str = "stop"


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class Stub:
    """An OpenAI-compatible ``/v1/chat/completions``: records each request, answers from a
    per-model queue of replies (then the default reply)."""

    base: str = ""
    seen: list[Seen] = field(default_factory=list)
    queues: dict[str, list[Reply]] = field(default_factory=dict)
    default: Reply = field(default_factory=Reply)
    reject_json_mode: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def queue(self, model: str, *replies: Reply) -> None:
        with self.lock:
            self.queues.setdefault(model, []).extend(replies)

    def next_reply(self, body: dict[str, Any]) -> Reply:
        with self.lock:
            if self.reject_json_mode and "response_format" in body:
                return Reply(status=400, error="response_format is not supported by this server")
            queue = self.queues.get(str(body.get("model")))
            return queue.pop(0) if queue else self.default


def _handler(stub: Stub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            body = json.loads(
                self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}"
            )
            with stub.lock:
                stub.seen.append(
                    Seen(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._send(
                    404, {"error": {"message": f"no route {self.path}", "type": "not_found"}}
                )
                return
            reply = stub.next_reply(body)
            if reply.delay:
                time.sleep(reply.delay)
            if reply.status != 200:
                self._send(
                    reply.status, {"error": {"message": reply.error, "type": "server_error"}}
                )
                return
            self._send(200, {
                "id": "chatcmpl-stub", "object": "chat.completion", "created": 1_700_000_000,
                "model": body.get("model"),
                "choices": [{"index": 0, "finish_reason": reply.finish_reason,
                             "message": {"role": "assistant", "content": reply.content}}],
                "usage": {"prompt_tokens": reply.prompt_tokens, "completion_tokens": reply.completion_tokens,
                          "total_tokens": reply.prompt_tokens + reply.completion_tokens},
            })  # fmt: skip

    return Handler


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up (the timeout test) breaks the pipe: expected


@pytest.fixture
def stub() -> Iterator[Stub]:
    state = Stub()
    server = QuietServer(("127.0.0.1", 0), _handler(state))
    state.base = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def provider_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No provider keys, proxies or litellm log settings from the developer's machine."""
    for name in PROVIDER_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    return SECRET


def make_request(
    local: Path,
    *,
    stub: Stub | None = None,
    model: str | None = MODEL,
    budget: dict[str, Any] | None = None,
    system: str = SYSTEM,
    prompt: str = PROMPT,
    **llm: Any,
) -> Request:
    settings: dict[str, Any] = {"max_tokens": 400, "temperature": 0.2, "timeout": 10, "retries": 0}
    if stub is not None:
        settings["api_base"] = stub.base
    settings.update(llm)
    agent: dict[str, Any] = {"name": "nova", "runtime": "llm", "model": model}
    if budget is not None:
        agent["budget"] = budget
    return Request(
        agent=agent,
        system=system,
        prompt=prompt,
        workspace_root=local.parent,
        local_dir=local,
        config={"llm": settings},
    )


@pytest.fixture
def local(tmp_path: Path) -> Path:
    path = tmp_path / "ws" / ".agentctl" / "local"
    path.mkdir(parents=True)
    return path


def chat_requests(stub: Stub) -> list[dict[str, Any]]:
    return [s.body for s in stub.seen if s.path.endswith("/chat/completions")]


# -- import hygiene ------------------------------------------------------------------------------


def test_importing_the_runtime_modules_does_not_import_litellm() -> None:
    code = (
        "import sys, agentctl.runtime, agentctl.runtime.llm, agentctl.runtime.ledger, agentctl.runtime.cache\n"
        "from agentctl.runtime import load\nload('llm')\n"
        "print(sorted(m for m in sys.modules if m == 'litellm' or m.startswith('litellm.')))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


@pytest.mark.slow
def test_litellm_is_loaded_offline_and_quiet(tmp_path: Path) -> None:
    code = (
        "import logging, os, sys\nfrom agentctl.runtime.llm import _litellm\n"
        "lm = _litellm()\n"
        "print(os.environ['LITELLM_LOCAL_MODEL_COST_MAP'], logging.getLogger('LiteLLM').level > logging.CRITICAL,"
        " lm.suppress_debug_info, 'gpt-4o-mini' in lm.model_cost)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "LITELLM_LOCAL_MODEL_COST_MAP"}
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["True", "True", "True", "True"]
    assert proc.stderr == ""


def test_litellm_not_installed(local: Path, key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "litellm", None)  # makes "import litellm" fail
    with pytest.raises(RuntimeFailure) as caught:
        LLMRuntime().run(make_request(local))
    assert str(caught.value) == "agent nova: the llm runtime needs litellm, which is not installed"
    assert caught.value.hint == "pip install 'agentctl[llm]'"


def test_load_builds_the_llm_runtime() -> None:
    assert isinstance(load("llm"), LLMRuntime)


# -- a call ----------------------------------------------------------------------------------------


def test_a_call_returns_the_answer_with_usage_and_cost(stub: Stub, local: Path, key: str) -> None:
    answer = LLMRuntime().run(make_request(local, stub=stub))
    assert answer.text == ANSWER
    assert (answer.tokens_in, answer.tokens_out) == (120, 30)
    assert answer.model == MODEL and answer.cached is False
    # gpt-4o-mini in litellm's bundled price map: $0.15 / 1M in, $0.60 / 1M out
    assert answer.cost_usd == pytest.approx(120 * 0.15e-6 + 30 * 0.60e-6)

    [seen] = stub.seen
    assert seen.path == "/v1/chat/completions"
    assert seen.headers["authorization"] == f"Bearer {key}"
    body = seen.body
    assert body["model"] == "gpt-4o-mini"
    assert body["messages"] == [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": PROMPT},
    ]
    assert body["max_tokens"] == 400
    assert body["temperature"] == 0.2
    assert body["response_format"] == {"type": "json_object"}

    assert Ledger.for_local(local).spent_today("nova") == (
        150,
        cast(float, pytest.approx(answer.cost_usd)),
    )
    assert summary(local) == {
        "nova": AgentSpend(
            calls=1,
            cached=0,
            tokens_in=120,
            tokens_out=30,
            cost_usd=cast(float, pytest.approx(answer.cost_usd)),
        )
    }


def test_an_unpriced_model_costs_nothing_but_its_tokens_count(
    stub: Stub, local: Path, key: str
) -> None:
    answer = LLMRuntime().run(make_request(local, stub=stub, model="openai/my-local-model"))
    assert answer.text == ANSWER
    assert answer.cost_usd == 0.0
    assert chat_requests(stub)[0]["model"] == "my-local-model"
    assert Ledger.for_local(local).spent_today("nova") == (150, 0.0)


def test_model_falls_back_to_the_workspace_default(stub: Stub, local: Path, key: str) -> None:
    request = make_request(local, stub=stub, model=None)
    request.config["llm"]["model"] = "openai/gpt-4o"
    answer = LLMRuntime().run(request)
    assert answer.model == "openai/gpt-4o"
    assert chat_requests(stub)[0]["model"] == "gpt-4o"


def test_no_model_anywhere(local: Path, key: str) -> None:
    with pytest.raises(RuntimeFailure) as caught:
        LLMRuntime().run(make_request(local, model=None))
    assert str(caught.value) == "agent nova: no model configured for the llm runtime"
    assert caught.value.hint is not None and "llm.model" in caught.value.hint


def test_a_model_string_litellm_cannot_place(local: Path, key: str) -> None:
    with pytest.raises(RuntimeFailure) as caught:
        LLMRuntime().run(make_request(local, model="definitely-not-a-model"))
    assert (
        str(caught.value)
        == "agent nova: litellm does not know the provider of model 'definitely-not-a-model'"
    )


# -- keys ------------------------------------------------------------------------------------------


def test_missing_key_is_one_line_naming_the_variable(local: Path) -> None:
    with pytest.raises(RuntimeFailure) as caught:
        LLMRuntime().run(make_request(local))
    assert (
        str(caught.value)
        == "agent nova: OPENAI_API_KEY is not set (needed by model openai/gpt-4o-mini)"
    )
    assert caught.value.exit_code == ExitCode.RUNTIME
    assert "\n" not in str(caught.value)


def test_missing_key_of_other_providers_and_of_fallbacks(local: Path, key: str) -> None:
    with pytest.raises(RuntimeFailure) as caught:
        LLMRuntime().run(make_request(local, model="anthropic/claude-3-5-haiku-20241022"))
    assert str(caught.value) == (
        "agent nova: ANTHROPIC_API_KEY is not set (needed by model anthropic/claude-3-5-haiku-20241022)"
    )
    with pytest.raises(RuntimeFailure) as caught:
        LLMRuntime().run(make_request(local, model="gemini/gemini-1.5-flash"))
    assert (
        str(caught.value)
        == "agent nova: GEMINI_API_KEY is not set (needed by model gemini/gemini-1.5-flash)"
    )
    with pytest.raises(RuntimeFailure) as caught:
        LLMRuntime().run(make_request(local, fallbacks=["anthropic/claude-3-5-haiku-20241022"]))
    assert str(caught.value) == (
        "agent nova: ANTHROPIC_API_KEY is not set (needed by fallback model anthropic/claude-3-5-haiku-20241022)"
    )


def test_a_local_openai_compatible_server_needs_no_key(stub: Stub, local: Path) -> None:
    assert "OPENAI_API_KEY" not in os.environ
    answer = LLMRuntime().run(make_request(local, stub=stub, model="openai/qwen2.5-coder"))
    assert answer.text == ANSWER
    assert stub.seen[0].headers["authorization"] == "Bearer no-key-required"


def test_a_rejected_key_is_reported_without_the_key(
    stub: Stub, local: Path, key: str, capfd: pytest.CaptureFixture[str]
) -> None:
    stub.default = Reply(status=401, error=f"Incorrect API key provided: {key}")
    with pytest.raises(RuntimeFailure) as caught:
        LLMRuntime().run(make_request(local, stub=stub, retries=2))
    message = str(caught.value)
    assert message == (
        "agent nova: model call failed (openai/gpt-4o-mini: authentication failed (HTTP 401): "
        "Incorrect API key provided: (masked))"
    )
    assert key not in message and key not in (caught.value.hint or "")
    assert len(stub.seen) == 1, "an authentication failure is not retried"
    out, err = capfd.readouterr()
    assert key not in out + err
    assert "Give Feedback" not in out + err and "LiteLLM" not in out + err, out + err
    assert Ledger.for_local(local).spent_today("nova") == (0, 0.0), "the reservation was released"


def test_mask_hides_secret_looking_environment_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_SERVICE_TOKEN", "tok-123456789")
    monkeypatch.setenv("UNRELATED_SETTING", "tok-123456789-plain")
    assert (
        mask("failed with tok-123456789 and tok-123456789-plain")
        == "failed with (masked) and (masked)-plain"
    )


# -- retries, fallbacks, timeouts --------------------------------------------------------------------


def test_a_transient_failure_is_retried(stub: Stub, local: Path, key: str) -> None:
    stub.queue("gpt-4o-mini", Reply(status=500, error="overloaded"))
    answer = LLMRuntime().run(make_request(local, stub=stub, retries=1))
    assert answer.text == ANSWER
    bodies = chat_requests(stub)
    assert len(bodies) == 2
    assert all(b["max_tokens"] == 400 and b["model"] == "gpt-4o-mini" for b in bodies)


def test_retries_are_bounded_by_the_config(stub: Stub, local: Path, key: str) -> None:
    stub.default = Reply(status=503, error="try later")
    with pytest.raises(RuntimeFailure) as caught:
        LLMRuntime().run(make_request(local, stub=stub, retries=2))
    assert (
        str(caught.value)
        == "agent nova: model call failed (openai/gpt-4o-mini: HTTP 503: try later)"
    )
    assert len(stub.seen) == 3
    assert Ledger.for_local(local).spent_today("nova") == (0, 0.0)
    assert summary(local) == {}


def test_fallback_model_answers_when_the_primary_fails(stub: Stub, local: Path, key: str) -> None:
    stub.queue("gpt-4o-mini", Reply(status=404, error="The model `gpt-4o-mini` does not exist"))
    answer = LLMRuntime().run(
        make_request(local, stub=stub, retries=2, fallbacks=["openai/gpt-4o"])
    )
    assert answer.text == ANSWER
    assert answer.model == "openai/gpt-4o"
    bodies = chat_requests(stub)
    assert [b["model"] for b in bodies] == ["gpt-4o-mini", "gpt-4o"], "a 404 is not retried"
    assert all(b["max_tokens"] == 400 for b in bodies)
    # priced as gpt-4o: $2.50 / 1M in, $10 / 1M out
    assert answer.cost_usd == pytest.approx(120 * 2.5e-6 + 30 * 10e-6)


def test_every_model_failing_names_each_reason(stub: Stub, local: Path, key: str) -> None:
    stub.queue("gpt-4o-mini", Reply(status=500, error="primary down"))
    stub.queue("gpt-4o", Reply(status=429, error="slow down"))
    with pytest.raises(RuntimeFailure) as caught:
        LLMRuntime().run(make_request(local, stub=stub, fallbacks=["openai/gpt-4o"]))
    assert str(caught.value) == (
        "agent nova: model call failed (openai/gpt-4o-mini: HTTP 500: primary down; "
        "openai/gpt-4o: rate limited (HTTP 429): slow down)"
    )


def test_a_stalled_server_times_out(stub: Stub, local: Path, key: str) -> None:
    stub.default = Reply(delay=3.0)
    with pytest.raises(RuntimeFailure) as caught:
        LLMRuntime().run(make_request(local, stub=stub, timeout=0.5))
    assert (
        str(caught.value)
        == "agent nova: model call failed (openai/gpt-4o-mini: timed out after 0.5 s)"
    )
    assert len(stub.seen) == 1


def test_nothing_listening(local: Path, key: str) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    request = make_request(local, api_base=f"http://127.0.0.1:{port}/v1")
    with pytest.raises(RuntimeFailure) as caught:
        LLMRuntime().run(request)
    assert str(caught.value) == (
        f"agent nova: model call failed (openai/gpt-4o-mini: connection failed to "
        f"http://127.0.0.1:{port}/v1: [Errno 111] Connection refused)"
    )


def test_a_server_without_json_mode_is_asked_again_without_it(
    stub: Stub, local: Path, key: str
) -> None:
    stub.reject_json_mode = True
    answer = LLMRuntime().run(make_request(local, stub=stub))
    assert answer.text == ANSWER
    bodies = chat_requests(stub)
    assert ["response_format" in b for b in bodies] == [True, False]


# -- the response cache ------------------------------------------------------------------------------


def test_an_identical_request_is_answered_from_the_cache(stub: Stub, local: Path, key: str) -> None:
    first = LLMRuntime().run(make_request(local, stub=stub))
    second = LLMRuntime().run(make_request(local, stub=stub))
    assert len(stub.seen) == 1, "the cache hit reached the server"
    assert second == Answer(
        text=ANSWER, tokens_in=0, tokens_out=0, cost_usd=0.0, model=MODEL, cached=True
    )
    assert first.cached is False
    assert summary(local)["nova"] == AgentSpend(
        1, 1, 120, 30, cast(float, pytest.approx(first.cost_usd))
    )

    # anything that decides the answer misses
    LLMRuntime().run(make_request(local, stub=stub, prompt=PROMPT + "one more line\n"))
    LLMRuntime().run(make_request(local, stub=stub, max_tokens=401))
    LLMRuntime().run(make_request(local, stub=stub, temperature=0.7))
    LLMRuntime().run(make_request(local, stub=stub, model="openai/gpt-4o"))
    assert len(stub.seen) == 5

    files = list((local / "llm-cache").iterdir())
    assert len(files) == 5
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert key not in text and "Bearer" not in text
        assert json.loads(text)["text"] == ANSWER


def test_cache_off_always_calls(stub: Stub, local: Path, key: str) -> None:
    LLMRuntime().run(make_request(local, stub=stub, cache=False))
    again = LLMRuntime().run(make_request(local, stub=stub, cache=False))
    assert again.cached is False and len(stub.seen) == 2
    assert not (local / "llm-cache").exists()


def test_truncated_and_empty_answers_are_not_cached(stub: Stub, local: Path, key: str) -> None:
    stub.queue(
        "gpt-4o-mini", Reply(content='{"actions": [', finish_reason="length"), Reply(content="")
    )
    assert LLMRuntime().run(make_request(local, stub=stub)).text == '{"actions": ['
    assert LLMRuntime().run(make_request(local, stub=stub)).text == ""
    assert LLMRuntime().run(make_request(local, stub=stub)).text == ANSWER
    assert LLMRuntime().run(make_request(local, stub=stub)).cached is True
    assert len(stub.seen) == 3


def test_a_damaged_cache_entry_is_a_miss(stub: Stub, local: Path, key: str) -> None:
    LLMRuntime().run(make_request(local, stub=stub))
    [entry] = (local / "llm-cache").iterdir()
    entry.write_text("{not json", encoding="utf-8")
    assert LLMRuntime().run(make_request(local, stub=stub)).cached is False
    assert len(stub.seen) == 2
    assert LLMRuntime().run(make_request(local, stub=stub)).cached is True


def test_cache_key_ignores_credentials_in_the_endpoint() -> None:
    messages = [{"role": "user", "content": "x"}]
    plain = cache_key(MODEL, messages, 10, 0.0, True, "http://host:8000/v1")
    assert cache_key(MODEL, messages, 10, 0.0, True, "http://user:pw@host:8000/v1/") == plain
    assert cache_key(MODEL, messages, 10, 0.0, True, "http://other:8000/v1") != plain
    assert cache_key(MODEL, messages, 10, 0.0, False, "http://host:8000/v1") != plain
    with pytest.raises(ValueError):
        ResponseCache(Path("/nonexistent")).get("../../etc/passwd")


# -- budgets -----------------------------------------------------------------------------------------


def test_token_budget_is_enforced_across_runtime_instances(
    stub: Stub, local: Path, key: str
) -> None:
    need = estimate_tokens(SYSTEM) + estimate_tokens(PROMPT) + 16 + 400
    budget = {"daily_tokens": 150 + need}  # room for one call's usage, then less than a worst case
    LLMRuntime().run(make_request(local, stub=stub, budget=budget))
    with pytest.raises(BudgetError) as caught:
        LLMRuntime().run(make_request(local, stub=stub, budget=budget, prompt=PROMPT + "next\n"))
    assert caught.value.exit_code == ExitCode.BUDGET
    need_next = estimate_tokens(SYSTEM) + estimate_tokens(PROMPT + "next\n") + 16 + 400
    assert str(caught.value) == (
        f"nova: daily token budget would be exceeded (150 of {150 + need:,} used today; "
        f"this call may use up to {need_next:,})"
    )
    assert len(stub.seen) == 1
    # a cache hit costs nothing, so it is still served
    assert LLMRuntime().run(make_request(local, stub=stub, budget=budget)).cached is True


def test_an_exhausted_budget_says_so(stub: Stub, local: Path, key: str) -> None:
    Ledger.for_local(local).record("nova", MODEL, 9_000, 1_240, 0.0)
    with pytest.raises(BudgetError) as caught:
        LLMRuntime().run(make_request(local, stub=stub, budget={"daily_tokens": 10_000}))
    assert str(caught.value) == "nova: daily token budget exhausted (10,240 of 10,000 used today)"
    assert stub.seen == []


def test_cost_budget(stub: Stub, local: Path, key: str) -> None:
    with pytest.raises(BudgetError) as caught:
        LLMRuntime().run(
            make_request(local, stub=stub, model="openai/gpt-4o", budget={"daily_usd": 0.001})
        )
    assert str(caught.value).startswith(
        "nova: daily cost budget would be exceeded ($0.0000 of $0.00 spent today;"
    )
    assert stub.seen == []
    answer = LLMRuntime().run(make_request(local, stub=stub, budget={"daily_usd": 0.01}))
    assert answer.cost_usd > 0


WORKER = """
import json, sys
from pathlib import Path
from agentctl.errors import AgentctlError
from agentctl.runtime import load
from agentctl.runtime.base import Request
local, base, prompt = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
request = Request(
    agent={"name": "nova", "runtime": "llm", "model": "openai/gpt-4o-mini", "budget": {"daily_tokens": int(sys.argv[4])}},
    system="system", prompt=prompt, workspace_root=local.parent, local_dir=local,
    config={"llm": {"api_base": base, "max_tokens": 400, "retries": 0, "timeout": 20}},
)
try:
    answer = load("llm").run(request)
except AgentctlError as exc:
    print(json.dumps({"error": str(exc)}))
    sys.exit(int(exc.exit_code))
print(json.dumps({"text": answer.text, "tokens": answer.tokens_in + answer.tokens_out}))
"""


@pytest.mark.slow  # two processes, each importing litellm: seconds of CPU
def test_budget_holds_across_processes(stub: Stub, local: Path, key: str, tmp_path: Path) -> None:
    worker = tmp_path / "worker.py"
    worker.write_text(WORKER, encoding="utf-8")

    def run(prompt: str, budget: int) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(worker), str(local), stub.base, prompt, str(budget)],
            capture_output=True, text=True, timeout=180, check=False,
        )  # fmt: skip

    first = run("first prompt", 500)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout) == {"text": ANSWER, "tokens": 150}
    second = run("second prompt", 500)
    assert second.returncode == ExitCode.BUDGET, second.stdout + second.stderr
    assert json.loads(second.stdout)["error"].startswith(
        "nova: daily token budget would be exceeded (150 of 500 used today"
    )
    assert second.stderr == ""
    assert len(stub.seen) == 1


# -- the ledger ----------------------------------------------------------------------------------------


def test_ledger_counts_the_utc_day_only(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite")
    now = datetime(2030, 5, 6, 0, 30, tzinfo=UTC)
    ledger.record("nova", MODEL, 100, 10, 0.5, now=now - timedelta(hours=1))  # yesterday, UTC
    ledger.record("nova", MODEL, 200, 20, 0.25, now=now)
    ledger.record("nova", None, 0, 0, 0.0, cached=True, now=now)
    ledger.record("orion", MODEL, 7, 3, 0.01, now=now)
    assert ledger.spent_today("nova", now=now) == (220, 0.25)
    assert ledger.summary("2030-05-06") == {
        "nova": AgentSpend(calls=1, cached=1, tokens_in=200, tokens_out=20, cost_usd=0.25),
        "orion": AgentSpend(calls=1, cached=0, tokens_in=7, tokens_out=3, cost_usd=0.01),
    }
    assert ledger.summary("2030-05-05")["nova"].tokens == 110
    local_time = datetime(2030, 5, 6, 1, 30, tzinfo=UTC).astimezone(timezone(timedelta(hours=-5)))
    assert ledger.spent_today("nova", now=local_time) == (220, 0.25), "the day is the UTC day"


def test_reading_a_missing_ledger_creates_nothing(tmp_path: Path) -> None:
    assert summary(tmp_path) == {}
    assert Ledger.for_local(tmp_path).spent_today("nova") == (0, 0.0)
    Ledger.for_local(tmp_path).check("nova", {"daily_tokens": 10}, 5, 0.0)
    assert list(tmp_path.iterdir()) == []


def test_reservations_count_until_settled_released_or_stale(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite")
    budget = {"daily_tokens": 1000}
    now = datetime(2030, 1, 1, 12, tzinfo=UTC)
    first = ledger.reserve("nova", budget, 600, 0.0, hold_seconds=60, now=now)
    assert ledger.spent_today("nova", now=now) == (600, 0.0)
    with pytest.raises(
        BudgetError, match=r"\(600 of 1,000 used today; this call may use up to 600\)"
    ):
        ledger.reserve("nova", budget, 600, 0.0, hold_seconds=60, now=now)
    ledger.release(first)
    second = ledger.reserve("nova", budget, 600, 0.0, hold_seconds=60, now=now)
    ledger.settle(second, MODEL, 100, 50, 0.0)
    assert ledger.spent_today("nova", now=now) == (150, 0.0)
    ledger.reserve("nova", budget, 800, 0.0, hold_seconds=60, now=now)  # its process dies
    assert ledger.spent_today("nova", now=now + timedelta(seconds=30)) == (950, 0.0)
    assert ledger.spent_today("nova", now=now + timedelta(seconds=61)) == (150, 0.0)
    assert ledger.summary("2030-01-01") == {"nova": AgentSpend(1, 0, 100, 50, 0.0)}


def test_no_budget_means_no_limit(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite")
    ledger.record("nova", MODEL, 10**9, 0, 10**6)
    ledger.check("nova", None, 10**9, 10**6)
    ledger.check("nova", {"daily_tokens": None, "daily_usd": None}, 10**9, 10**6)
    ledger.reserve("nova", {}, 10**9, 10**6, hold_seconds=60)


RESERVER = """
import sys, time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from agentctl.errors import BudgetError
from agentctl.runtime.ledger import Ledger
path, go, days = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
while not go.exists():
    time.sleep(0.005)
ledger = Ledger(path)
start = datetime(2030, 1, 1, 12, tzinfo=UTC)
won = []
for day in range(days):
    now = start + timedelta(days=day)
    try:
        ticket = ledger.reserve("nova", {"daily_tokens": 1000}, 600, 0.0, hold_seconds=600, now=now)
    except BudgetError:
        pass
    else:
        ledger.settle(ticket, "m", 500, 100, 0.001)
        won.append(day)
    ledger.record("orion", "m", 1, 0, 0.0, now=now)
print(" ".join(map(str, won)))
"""


@pytest.mark.slow
def test_ledger_is_safe_under_concurrent_processes(tmp_path: Path) -> None:
    """Four processes race for a budget that fits one call a day, over many days: every day
    has exactly one winner, and no appended row is lost (the ledger is created by the race)."""
    script = tmp_path / "reserver.py"
    script.write_text(RESERVER, encoding="utf-8")
    path, go, days = tmp_path / "local" / "ledger.sqlite", tmp_path / "go", 150
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(path), str(go), str(days)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    time.sleep(0.5)
    go.touch()
    winners: list[int] = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        winners += [int(day) for day in out.split()]
    assert sorted(winners) == list(range(days)), "a day with no winner or with two"
    ledger = Ledger(path)
    start = datetime(2030, 1, 1, 12, tzinfo=UTC)
    for day in (0, days // 2, days - 1):
        moment = start + timedelta(days=day)
        assert ledger.spent_today("nova", now=moment) == (600, cast(float, pytest.approx(0.001)))
        assert ledger.summary(moment.date().isoformat())["orion"].calls == 4, (
            "a concurrent append was lost"
        )
