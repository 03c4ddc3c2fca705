"""A reusable OpenAI-compatible chat server on 127.0.0.1 for tests that drive real runtimes.

``POST /v1/chat/completions`` answers from a queue of :class:`Reply` objects (then the default
reply); a reply's content may be a function of the request body (to answer with IDs read from
the prompt). Every request is recorded. A reply can be delayed (timeouts), fail with an HTTP
status, or be refused when the request carries a ``response_format`` the "server" does not
support (``refuse_formats``), as some local servers do.

Use it as a context manager::

    with serve() as stub:
        stub.queue(Reply('{"actions": [...]}'), Reply(lambda body: ...))
        ... point llm.api_base at stub.base and tick ...
        stub.bodies()  # what was sent
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

NOOP = '{"actions": [{"type": "noop", "reason": "stub"}]}'
Content = str | Callable[[dict[str, Any]], str]


@dataclass
class Reply:
    content: Content = NOOP
    status: int = 200
    delay: float = 0.0  # seconds before answering
    prompt_tokens: int = 120
    completion_tokens: int = 30
    finish_reason: str = "stop"
    error: str = "server error"


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class StubServer:
    base: str = ""  # http://127.0.0.1:PORT/v1
    default: Reply = field(default_factory=Reply)
    refuse_formats: frozenset[str] = frozenset()  # response_format types answered with 400
    seen: list[Seen] = field(default_factory=list)
    replies: list[Reply] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def queue(self, *replies: Reply | str) -> None:
        """Answer the next requests with these, in order (a string is a reply's content)."""
        with self.lock:
            self.replies.extend(r if isinstance(r, Reply) else Reply(r) for r in replies)

    def bodies(self) -> list[dict[str, Any]]:
        """The JSON bodies of the chat requests received, in order."""
        with self.lock:
            return [s.body for s in self.seen if s.path.rstrip("/").endswith("/chat/completions")]

    def reset(self) -> None:
        with self.lock:
            self.seen.clear()
            self.replies.clear()

    def _next(self, body: dict[str, Any]) -> Reply:
        with self.lock:
            kind = (body.get("response_format") or {}).get("type")
            if kind in self.refuse_formats:
                return Reply(status=400, error=f"response_format {kind} is not supported")
            return self.replies.pop(0) if self.replies else self.default


def _handler(stub: StubServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode("utf-8")
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the client gave up (a timeout test)

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            body = json.loads(raw or b"{}")
            with stub.lock:
                stub.seen.append(
                    Seen(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._send(
                    404, {"error": {"message": f"no route {self.path}", "type": "not_found"}}
                )
                return
            reply = stub._next(body)
            if reply.delay:
                time.sleep(reply.delay)
            if reply.status != 200:
                self._send(
                    reply.status,
                    {"error": {"message": reply.error, "type": "invalid_request_error"}},
                )
                return
            content = reply.content(body) if callable(reply.content) else reply.content
            self._send(200, {
                "id": "chatcmpl-stub", "object": "chat.completion", "created": 1_700_000_000,
                "model": body.get("model"),
                "choices": [{"index": 0, "finish_reason": reply.finish_reason,
                             "message": {"role": "assistant", "content": content}}],
                "usage": {"prompt_tokens": reply.prompt_tokens, "completion_tokens": reply.completion_tokens,
                          "total_tokens": reply.prompt_tokens + reply.completion_tokens},
            })  # fmt: skip

    return Handler


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up breaks the pipe: expected


@contextmanager
def serve(default: Reply | None = None) -> Iterator[StubServer]:
    """A running stub on a free port of 127.0.0.1; shut down on exit."""
    stub = StubServer(default=default or Reply())
    server = _QuietServer(("127.0.0.1", 0), _handler(stub))
    stub.base = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
