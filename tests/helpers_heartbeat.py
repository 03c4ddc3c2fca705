"""Helpers for the heartbeat tests: agents whose runtime is a small script, an OpenAI-compatible
HTTP stub on 127.0.0.1, and ways to look at what a tick changed (files, commits, runs)."""

from __future__ import annotations

import hashlib
import json
import shlex
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from conftest import Runner, git

PRELUDE = "import json, os, pathlib, sys, time\n"


def script(directory: Path, name: str, body: str) -> list[str]:
    """A Python script in ``directory`` (outside the workspace) as an argument list."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.py"
    path.write_text(PRELUDE + textwrap.dedent(body), encoding="utf-8")
    return [sys.executable, str(path)]


def add_command_agent(
    cli: Runner,
    name: str,
    argv: list[str],
    *,
    level: str = "specialist",
    role: str = "developer",
    capabilities: tuple[str, ...] = (),
) -> None:
    args = [
        "agent",
        "add",
        name,
        "--role",
        role,
        "--level",
        level,
        "--runtime",
        "command",
        "--command",
        shlex.join(argv),
    ]
    for capability in capabilities:
        args += ["--capability", capability]
    result = cli(*args)
    assert result.code == 0, str(result)


def answer_agent(cli: Runner, name: str, scripts: Path, **kwargs: Any) -> Path:
    """A command agent that prints the content of ``scripts/<name>.answer`` (and appends a line
    to ``scripts/<name>.calls`` each time it runs, its stdin to ``scripts/<name>.stdin``)."""
    argv = script(
        scripts,
        f"answer-{name}",
        f"""
        base = pathlib.Path({str(scripts)!r})
        prompt = sys.stdin.read()
        (base / "{name}.stdin").write_text(prompt, encoding="utf-8")
        with open(base / "{name}.calls", "a", encoding="utf-8") as fh:
            fh.write(os.environ.get("AGENTCTL_AGENT", "?") + " " + os.environ.get("AGENTCTL_TASK", "-") + "\\n")
        sys.stdout.write((base / "{name}.answer").read_text(encoding="utf-8"))
        """,
    )
    (scripts / f"{name}.answer").write_text(
        '{"actions": [{"type": "noop", "reason": "nothing"}]}', encoding="utf-8"
    )
    add_command_agent(cli, name, argv, **kwargs)
    return scripts / f"{name}.answer"


def calls(scripts: Path, name: str) -> list[str]:
    path = scripts / f"{name}.calls"
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


# -- git and files ------------------------------------------------------------------------------


@dataclass
class Commit:
    sha: str
    author: str
    email: str
    subject: str
    files: list[str]


def commits(root: Path) -> list[Commit]:
    """Every commit, newest first, with the files it touched."""
    out = git(root, "log", "--format=%x1e%H%x1f%an%x1f%ae%x1f%s", "--name-only")
    result = []
    for chunk in out.split("\x1e")[1:]:
        head, _, rest = chunk.partition("\n")
        sha, author, email, subject = head.split("\x1f")
        result.append(
            Commit(sha, author, email, subject, [f for f in rest.splitlines() if f.strip()])
        )
    return result


def new_commits(root: Path, before: int) -> list[Commit]:
    everything = commits(root)
    return everything[: len(everything) - before]


def hashes(root: Path, *, include_git_meta: bool = True) -> dict[str, str]:
    """sha256 of every file under ``root`` except .git/objects, .git/logs, the git index and
    the machine-local ``.agentctl/local/``; .git/config and .git/hooks are included."""
    result: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith(".agentctl/local"):
            continue
        if rel == ".git" or rel.startswith(".git/"):
            if not include_git_meta or not (rel == ".git/config" or rel.startswith(".git/hooks/")):
                continue
        if path.is_file():
            result[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return result


def changed(before: dict[str, str], after: dict[str, str]) -> set[str]:
    return {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}


def status_clean(root: Path) -> bool:
    return git(root, "status", "--porcelain", "--untracked-files=all") == ""


def commit_all(root: Path, message: str) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)


def edit_config(root: Path, old: str, new: str) -> None:
    """Replace one line of .agentctl/config.yaml (as a human would) and commit it."""
    path = root / ".agentctl" / "config.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in config"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    if (root / ".git").exists():
        git(root, "commit", "-q", "-m", "config", "--", ".agentctl/config.yaml")


def set_agent_field(root: Path, name: str, yaml_lines: str) -> None:
    """Insert frontmatter lines (e.g. a budget) before ``created_at`` of an agent's record, and
    commit the record."""
    path = root / ".agentctl" / "agents" / f"{name}.md"
    text = path.read_text(encoding="utf-8")
    text = text.replace("created_at:", yaml_lines.rstrip("\n") + "\ncreated_at:", 1)
    path.write_text(text, encoding="utf-8")
    git(root, "commit", "-q", "-m", f"edit {name}", "--", f".agentctl/agents/{name}.md")


# -- the CLI's view ---------------------------------------------------------------------------------


def state(cli: Runner, name: str) -> dict[str, Any]:
    result = cli("agent", "show", name, "--json")
    assert result.code == 0, str(result)
    return dict(result.json()["agent"]["state"])


def runs(cli: Runner, agent: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    result = cli("runs", *([agent] if agent else []), "--limit", str(limit), "--json")
    assert result.code == 0, str(result)
    return list(result.json()["runs"])


def tick_json(
    cli: Runner, *args: str, code: int = 0, env: dict[str, str | None] | None = None
) -> list[dict[str, Any]]:
    result = cli("heartbeat", *args, "--json", env=env)
    assert result.code == code, str(result)
    return list(result.json()["runs"])


def thread(cli: Runner, task: str) -> list[dict[str, Any]]:
    result = cli("thread", task, "--json")
    assert result.code == 0, str(result)
    return list(result.json()["thread"]["messages"])


def inbox(cli: Runner, agent: str, include_read: bool = True) -> list[dict[str, Any]]:
    result = cli("inbox", "--agent", agent, *(["--all"] if include_read else []), "--json")
    assert result.code == 0, str(result)
    return list(result.json()["inbox"]["notifications"])


# -- an OpenAI-compatible HTTP stub ------------------------------------------------------------------


@dataclass
class Stub:
    """``POST /v1/chat/completions`` on 127.0.0.1: records each request body, answers with
    ``content`` and the given usage."""

    base: str = ""
    content: str = '{"actions": [{"type": "noop", "reason": "stub"}]}'
    prompt_tokens: int = 321
    completion_tokens: int = 45
    seen: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _handler(stub: Stub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(
                self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}"
            )
            with stub.lock:
                stub.seen.append(
                    {"path": self.path, "body": body, "auth": self.headers.get("Authorization")}
                )
            status, payload = 200, {
                "id": "chatcmpl-stub", "object": "chat.completion", "created": 1_700_000_000,
                "model": body.get("model"),
                "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": stub.content}}],
                "usage": {"prompt_tokens": stub.prompt_tokens, "completion_tokens": stub.completion_tokens,
                          "total_tokens": stub.prompt_tokens + stub.completion_tokens},
            }  # fmt: skip
            if self.path.rstrip("/") != "/v1/chat/completions":
                status, payload = 404, {"error": {"message": "no route", "type": "not_found"}}
            data = json.dumps(payload).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


@contextmanager
def serve_stub() -> Iterator[Stub]:
    stub = Stub()
    server = _QuietServer(("127.0.0.1", 0), _handler(stub))
    stub.base = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread_ = threading.Thread(target=server.serve_forever, daemon=True)
    thread_.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()


def run_module(
    args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        [sys.executable, "-m", "agentctl", *args], cwd=cwd, env={**os.environ, **(env or {})},
        capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip
