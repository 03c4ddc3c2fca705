"""Sandboxed command agents: the child runs under bubblewrap (``bwrap``).

Inside, the file system is the host's (the child edits code, uses its home and the network as
before) except that ``.agentctl/``, WORKING.md, ``.git/hooks`` and ``.git/config`` are bound
read-only and ``.agentctl/local/`` is a private scratch copy (the index, so reads stay fast).
The child gets its own PID and IPC namespaces, so it cannot signal or trace the tick. Its
``agentctl`` writes go to the tick's broker ($AGENTCTL_BROKER, heartbeat/broker.py). The
unsandboxed snapshot check still runs around it.
"""

from __future__ import annotations

import functools
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentctl.errors import RuntimeFailure
from agentctl.heartbeat.contain import Findings, Guard

if TYPE_CHECKING:
    from agentctl.core.records import AgentRecord, ConfigRecord
    from agentctl.workspace import Workspace

MODES = ("auto", "bwrap", "none")


@functools.cache
def bwrap() -> str | None:
    """The bwrap program if it is installed and can create namespaces here, else None."""
    program = shutil.which("bwrap")
    if program is None:
        return None
    try:
        probe = subprocess.run(
            [program, "--dev-bind", "/", "/", "--unshare-pid", "true"],
            capture_output=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return program if probe.returncode == 0 else None


def _resolves(program: str, root: Path) -> bool:
    if "/" in program:
        return (root / program).exists()  # an absolute path stays absolute
    return shutil.which(program) is not None


def mode(agent: AgentRecord, config: ConfigRecord) -> str:
    """``bwrap`` or ``none`` for this agent: its record's ``sandbox`` wins over the config's;
    ``auto`` (the default) means bwrap where it works. ``bwrap`` where it does not is a failure,
    never a silent fallback."""
    wanted = agent.get("sandbox") or config.get("sandbox") or "auto"
    if wanted == "none":
        return "none"
    if bwrap() is not None:
        return "bwrap"
    if wanted == "bwrap":
        raise RuntimeFailure(
            f"agent {agent.get('name')}: sandbox: bwrap is set but bubblewrap cannot run here",
            hint="install it (apt-get install bubblewrap) or set sandbox: none",
        )
    return "none"


def make_guard(ws: Workspace, name: str, agent: AgentRecord) -> Guard:
    if mode(agent, ws.config) == "bwrap":
        return SandboxGuard(ws, name)
    return Guard(ws, name)


class SandboxGuard(Guard):
    """A containment window whose child runs under bwrap and writes through the broker."""

    scratch: Path
    broker: Any

    def open(self) -> None:
        from agentctl.heartbeat.broker import Broker

        super().open()
        self.scratch = Path(tempfile.mkdtemp(prefix="agentctl-"))
        local = self.scratch / "local"
        local.mkdir()
        index = Path(self.layout.index)
        if index.exists():
            source, target = sqlite3.connect(index), sqlite3.connect(local / index.name)
            try:
                source.backup(target)
            finally:
                source.close()
                target.close()
        self.broker = Broker(self.ws.root, self.agent, self.scratch / "broker.sock")
        self.broker.start()
        self.env = {"AGENTCTL_BROKER": str(self.scratch / "broker.sock")}

    def wrap(self, argv: list[str]) -> list[str]:
        program = bwrap()
        assert program is not None
        if not _resolves(argv[0], self.ws.root):
            return argv  # nothing runs: the runtime reports "command not found" as it would unsandboxed
        layout = self.layout
        args = [
            program,
            "--die-with-parent",
            "--unshare-pid",
            "--unshare-ipc",
            "--dev-bind",
            "/",
            "/",
            "--proc",
            "/proc",
        ]
        args += ["--ro-bind", str(layout.dir), str(layout.dir)]
        args += ["--bind", str(self.scratch / "local"), str(layout.local)]
        readonly = [
            Path(layout.working),
            self.ws.root / ".git" / "hooks",
            self.ws.root / ".git" / "config",
        ]
        for path in readonly:
            if path.exists() and not path.is_symlink():
                args += ["--ro-bind", str(path), str(path)]
        return [*args, "--chdir", str(self.ws.root), "--", *argv]

    def close(self) -> Findings | None:
        try:
            self.broker.stop()
            return super().close()
        finally:
            shutil.rmtree(self.scratch, ignore_errors=True)

    def abandon(self) -> None:
        try:
            self.broker.stop()
        finally:
            shutil.rmtree(self.scratch, ignore_errors=True)
            super().abandon()
