"""Benchmark: `agentctl sync` and `task claim --sync` against the git commands they wrap.

    python bench/bench_sync.py [--runs 9] [--tasks 200] [--out FILE]

A bare remote holds a workspace with ``--tasks`` tasks and three agents; one clone runs the
commands, each as a fresh process, against two remotes: the bare repository by path
(git's local transport) and the same repository served by ``git daemon`` on 127.0.0.1 (a
network protocol; skipped when git daemon is missing). Cases, interleaved run by run so the
machine's load falls on both sides alike:

- ``sync`` with nothing to do  vs  ``git fetch origin``;
- ``task claim ID --sync`` (a new task each run)  vs  ``git fetch origin`` + ``git push
  origin main`` of one new commit (made untimed before each run).

Reported: the median of each side and their ratio.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

AGENTCTL = [sys.executable, "-m", "agentctl"]


def run(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"exit {proc.returncode}: {' '.join(argv)}\n{proc.stderr.decode()[-400:]}")
    return elapsed


def git(cwd: Path, env: dict[str, str], *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True
    ).stdout


def build(base: Path, env: dict[str, str], tasks: int) -> tuple[Path, list[str]]:
    """The bare remote and a clone with a workspace of ``tasks`` tasks (pushed); returns the
    clone and the ids of the tasks left to claim."""
    remote = base / "remote.git"
    git(base, env, "init", "-q", "--bare", "-b", "main", str(remote))
    clone = base / "clone"
    clone.mkdir()
    git(clone, env, "init", "-q", "-b", "main")
    git(clone, env, "config", "user.name", "Bench")
    git(clone, env, "config", "user.email", "bench@example.com")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
    from agentctl.core.rules import Actor
    from agentctl.workspace import Workspace

    Workspace.init(clone)
    ws = Workspace(clone)
    human = Actor("Bench")
    for name in ("alice", "bob", "carol"):
        ws.add_agent(human, name, role="developer")
    with ws.batched(human, f"add {tasks} tasks"):
        ids = [ws.add_task(human, f"Task {n}")["id"] for n in range(tasks)]
    ws.close()
    git(clone, env, "remote", "add", "origin", str(remote))
    git(clone, env, "push", "-q", "-u", "origin", "main")
    return clone, ids


def start_daemon(base: Path) -> tuple[subprocess.Popen[bytes], str] | None:
    exec_path = subprocess.run(["git", "--exec-path"], capture_output=True, text=True).stdout
    if not (Path(exec_path.strip()) / "git-daemon").exists():
        return None
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        ["git", "daemon", "--reuseaddr", "--export-all", "--enable=receive-pack",
         "--listen=127.0.0.1", f"--port={port}", f"--base-path={base}", str(base)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, f"git://127.0.0.1:{port}/remote.git"
        except OSError:
            time.sleep(0.05)
    proc.terminate()
    return None


class LatencyProxy:
    """A TCP proxy on 127.0.0.1 in front of ``port`` that delays every chunk by ``delay``
    seconds each way: a remote ``2 * delay`` of round-trip time away, as a hosted remote is
    (git's protocol takes several round trips per fetch or push). Order is kept per
    direction; bandwidth is not limited."""

    def __init__(self, port: int, delay: float) -> None:
        import threading

        self.target, self.delay = port, delay
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(16)
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        import threading

        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target))
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        import queue
        import threading

        due: queue.Queue[tuple[float, bytes]] = queue.Queue()

        def send() -> None:
            while True:
                when, chunk = due.get()
                pause = when - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                try:
                    if not chunk:
                        dst.shutdown(socket.SHUT_WR)
                        return
                    dst.sendall(chunk)
                except OSError:
                    return

        threading.Thread(target=send, daemon=True).start()
        while True:
            try:
                chunk = src.recv(65536)
            except OSError:
                chunk = b""
            due.put((time.monotonic() + self.delay, chunk))
            if not chunk:
                return

    def close(self) -> None:
        self.server.close()


def measure(clone: Path, env: dict[str, str], ids: list[str], runs: int) -> dict[str, float]:
    times: dict[str, list[float]] = {"sync": [], "fetch": [], "claim": [], "fetch+push": []}
    sync = [*AGENTCTL, "sync"]
    for name in ("sync", "fetch"):  # warm the index and the page cache, untimed
        run(sync if name == "sync" else ["git", "fetch", "-q", "origin"], clone, env)
    for n in range(runs):
        pair = [("sync", sync), ("fetch", ["git", "fetch", "-q", "origin"])]
        for name, argv in pair if n % 2 == 0 else reversed(pair):
            times[name].append(run(argv, clone, env))
        claim = [*AGENTCTL, "--as", "alice", "task", "claim", ids.pop(), "--sync"]
        for name in ("claim", "fetch+push") if n % 2 == 0 else ("fetch+push", "claim"):
            if name == "claim":
                times[name].append(run(claim, clone, env))
            else:
                git(clone, env, "commit", "-q", "--allow-empty", "-m", "bench: one commit")
                times[name].append(
                    run(["git", "fetch", "-q", "origin"], clone, env)
                    + run(["git", "push", "-q", "origin", "main"], clone, env)
                )
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--out", type=Path)
    parser.add_argument(
        "--rtt-ms",
        type=float,
        default=50.0,
        help="round-trip time of the simulated hosted remote (git daemon behind a delaying "
        "proxy); 0 leaves it out",
    )
    args = parser.parse_args()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AGENTCTL_", "GIT_")) and k != "PYTHONDONTWRITEBYTECODE"
    }
    env.update({"GIT_CONFIG_NOSYSTEM": "1", "NO_COLOR": "1"})
    base = Path(tempfile.mkdtemp(prefix="agentctl-bench-sync-"))
    lines = [
        f"bench_sync: {args.runs} runs, {args.tasks} tasks, load average {os.getloadavg()[0]:.1f}",
        "",
        "| remote | sync (no-op) s | git fetch s | ratio | claim --sync s | fetch + push s | ratio |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    daemon = None
    try:
        clone, ids = build(base, env, args.tasks + 2 * args.runs)
        remotes = [("path (local transport)", str(base / "remote.git"))]
        daemon = start_daemon(base)
        if daemon is not None:
            remotes.append(("git daemon, 127.0.0.1", daemon[1]))
            if args.rtt_ms > 0:
                port = int(daemon[1].rsplit(":", 1)[1].split("/")[0])
                proxy = LatencyProxy(port, args.rtt_ms / 2000)
                remotes.append(
                    (
                        f"git daemon, {args.rtt_ms:g} ms round trip (simulated)",
                        f"git://127.0.0.1:{proxy.port}/remote.git",
                    )
                )
        for label, url in remotes:
            git(clone, env, "remote", "set-url", "origin", url)
            m = measure(clone, env, ids, args.runs)
            lines.append(
                f"| {label} | {m['sync']:.3f} | {m['fetch']:.3f} | {m['sync'] / m['fetch']:.2f} "
                f"| {m['claim']:.3f} | {m['fetch+push']:.3f} | {m['claim'] / m['fetch+push']:.2f} |"
            )
    finally:
        if daemon is not None:
            daemon[0].terminate()
            daemon[0].wait()
        shutil.rmtree(base, ignore_errors=True)
    text = "\n".join(lines) + "\n"
    print(text, end="")
    if args.out:
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
