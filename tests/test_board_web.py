"""``board --web`` with a real textual-serve server on 127.0.0.1 and a real websocket client:
the ``board --tui`` process of a browser session ends when the session or the server ends
(it used to keep running, polling the workspace, forever), and browsers are told a URL they
can connect to (``--public-url``; never 0.0.0.0)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers_proc import isolate, new_workspace

pytest.importorskip(
    "textual_serve", reason="board --web needs the web extra (pip install -e '.[web]')"
)
aiohttp = pytest.importorskip("aiohttp")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def board_processes(root: Path) -> list[int]:
    found = subprocess.run(
        ["pgrep", "-f", "--", f"{root} board --tui"], capture_output=True, text=True, check=False
    )
    return [int(pid) for pid in found.stdout.split()]


def wait_until(condition: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.2)
    return bool(condition())  # type: ignore[operator]


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    isolate(monkeypatch, tmp_path / "home")
    workspace = new_workspace(tmp_path / "repo")
    yield workspace
    for pid in board_processes(workspace):  # never leave one behind, whatever the outcome
        os.kill(pid, signal.SIGKILL)


def start_server(root: Path, port: int, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "agentctl",
            "-W",
            str(root),
            "board",
            "--web",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            *extra,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


async def fetch_page(port: int) -> str:
    async with aiohttp.ClientSession() as session:
        for _ in range(300):
            try:
                async with session.get(f"http://127.0.0.1:{port}/") as response:
                    return str(await response.text())
            except aiohttp.ClientError:
                await asyncio.sleep(0.2)
    raise AssertionError("the server never answered")


async def open_session(port: int) -> tuple[object, object]:
    """A browser session whose board has started drawing."""
    await fetch_page(port)
    session = aiohttp.ClientSession()
    ws = await session.ws_connect(f"http://127.0.0.1:{port}/ws?width=80&height=24")
    received = 0
    while received < 1000:
        message = await ws.receive(timeout=60)
        assert message.type == aiohttp.WSMsgType.BINARY, message
        received += len(message.data)
    return session, ws


@pytest.mark.slow
@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM"])
def test_a_sessions_board_process_ends_with_the_server(root: Path, how: str) -> None:
    port = free_port()
    server = start_server(root, port)
    try:

        async def scenario() -> None:
            session, _ws = await open_session(port)
            try:
                assert (
                    len(board_processes(root)) == 1
                )  # one process per session, no shell around it
                server.send_signal(getattr(signal, how))
                assert await asyncio.to_thread(wait_until, lambda: not board_processes(root), 20), (
                    f"board --tui still running after the server got {how}"
                )
            finally:
                await session.close()  # type: ignore[attr-defined]

        asyncio.run(scenario())
        if how == "SIGTERM":
            assert server.wait(timeout=30) == 0 or server.returncode is not None
    finally:
        server.kill()
        server.wait(timeout=30)


@pytest.mark.slow
def test_an_abruptly_closed_session_ends_its_board_process(root: Path) -> None:
    port = free_port()
    server = start_server(root, port)
    try:

        async def scenario() -> None:
            session, ws = await open_session(port)
            try:
                ws._response.connection.transport.abort()  # type: ignore[attr-defined]  # no close frame
                assert await asyncio.to_thread(wait_until, lambda: not board_processes(root), 20)
            finally:
                await session.close()  # type: ignore[attr-defined]

        asyncio.run(scenario())
        assert server.poll() is None, "the server keeps serving other sessions"
    finally:
        server.kill()
        server.wait(timeout=30)


@pytest.mark.slow
def test_browsers_are_told_a_url_they_can_reach(root: Path) -> None:
    port = free_port()
    server = start_server(root, port, "--public-url", "https://board.example.org/")
    try:
        page = asyncio.run(fetch_page(port))
        assert "wss://board.example.org/ws" in page
    finally:
        server.kill()
        server.wait(timeout=30)

    from agentctl.cli.board import default_public_url

    assert default_public_url("0.0.0.0", 8000) == f"http://{socket.gethostname()}:8000"
    assert default_public_url("::", 8000) == f"http://{socket.gethostname()}:8000"
    assert default_public_url("127.0.0.1", 8001) == "http://127.0.0.1:8001"
    assert default_public_url("::1", 8001) == "http://[::1]:8001"
