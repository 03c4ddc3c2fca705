"""A stub OpenAI-compatible chat server on 127.0.0.1 for the spec tests (``spec expand`` and
``spec plan --llm`` through real litellm): it answers each request with the next queued text
(the last one again when none is queued: a repair turn then gets the same answer), or with a
canned text when the prompt contains one of ``canned``'s keys; it records what it was sent."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class Stub:
    answers: list[str] = field(default_factory=list)
    prompts: list[str] = field(default_factory=list)  # the last message of each request
    bodies: list[dict[str, Any]] = field(default_factory=list)
    canned: dict[str, str] = field(default_factory=dict)  # prompt substring -> answer
    base: str = ""
    last: str = ""
    hook: Callable[[], None] | None = None  # runs while a request is answered

    def reply(self, prompt: str) -> str:
        for key, text in self.canned.items():
            if key in prompt:
                return text
        self.last = self.answers.pop(0) if self.answers else self.last
        return self.last


def _handler(stub: Stub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            stub.bodies.append(body)
            prompt = body["messages"][-1]["content"]
            stub.prompts.append(prompt)
            if stub.hook is not None:
                stub.hook()
            payload = {
                "id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": body["model"],
                "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": stub.reply(prompt)}}],
                "usage": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150},
            }  # fmt: skip
            data = json.dumps(payload).encode("utf-8")
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


def serve(monkeypatch: pytest.MonkeyPatch, state: Stub) -> Iterator[Stub]:
    """Run the stub for one test (a fixture's body: ``yield from serve(monkeypatch, Stub())``),
    with litellm offline and no provider key in the environment."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.base = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
