"""Event hooks: commands from config run after a mutation, with the event as JSON on stdin.

``hooks:`` in ``.agentctl/config.yaml`` maps an event type (``task.moved``), a family
(``task.*``) or ``*`` to argument lists. Each matching command runs once per event, in order
(exact type first, then families, then ``*``; a command listed under several matching keys
runs once), with:

* no shell: the argument list is executed as it is (``$(...)``, ``;``, ``*`` are plain text);
* the workspace root as working directory, the caller's environment plus
  ``AGENTCTL_WORKSPACE``, ``AGENTCTL_EVENT_TYPE``, ``AGENTCTL_EVENT_ID``,
  ``AGENTCTL_EVENT_ACTOR`` and ``AGENTCTL_HOOK_DEPTH``;
* the event as one JSON line on stdin; stdout is discarded, stderr's first line is kept;
* ``hook_timeout`` seconds, after which its whole process group is killed.

Every run is logged as one JSON line in ``<log_dir>/hooks.log`` (time, event, argv, exit code,
duration, first stderr line). Nothing here raises for a failing hook: a missing program, a
non-zero exit or a timeout is a failed :class:`HookResult` the caller reports. Hooks whose own
``agentctl`` calls trigger hooks again are cut off at :data:`MAX_HOOK_DEPTH` levels.

The caller runs hooks after the mutation is committed and the workspace lock is released, so a
slow or failing hook never blocks other writers or undoes anything.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentctl.core import clock
from agentctl.core.secrets import mask
from agentctl.procs import run_in_group

LOG_NAME = "hooks.log"
MAX_HOOK_DEPTH = (
    3  # a hook's agentctl call runs hooks at depth 1, theirs at 2, theirs at 3: no further
)
ENV_DEPTH = "AGENTCTL_HOOK_DEPTH"
STDERR_KEEP = 4096  # bytes of stderr kept (only the first line is reported)
KILL_GRACE = 0.5  # seconds between SIGTERM and SIGKILL of a timed-out hook's group
DRAIN_GRACE = 1.0  # seconds to wait for stderr to close after the hook exited


@dataclass(frozen=True)
class HookResult:
    """One hook run. ``exit_code`` is None when the program did not start, was killed at the
    timeout, or was not run (``skipped``); ``error`` is None exactly when the hook succeeded."""

    argv: tuple[str, ...]
    event_type: str
    exit_code: int | None
    duration: float
    error: str | None = None
    stderr: str = ""  # first non-blank line of stderr
    timed_out: bool = False
    skipped: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None

    def describe(self) -> str:
        """One line for a warning: ``hook 'notify-send x' failed: exited with status 1: boom``."""
        shown = mask(" ".join(self.argv))
        if len(shown) > 80:
            shown = shown[:79] + "…"
        if self.ok:
            return f"hook '{shown}' succeeded"
        detail = f": {self.stderr}" if self.stderr and not self.timed_out else ""
        verb = "was not run" if self.skipped else "failed"
        return f"hook '{shown}' {verb} ({self.event_type}): {self.error}{detail}"


def matching_hooks(config: Mapping[str, Any], event_type: str) -> list[list[str]]:
    """The commands configured for ``event_type``: exact key, then ``family.*`` keys, then
    ``*``, each in config order; duplicates (the same argument list) only once."""
    hooks = config.get("hooks") or {}
    if not isinstance(hooks, Mapping):
        return []
    exact = [key for key in hooks if key == event_type]
    family = [
        key
        for key in hooks
        if key.endswith(".*") and key != "*" and event_type.startswith(key[:-1])
    ]
    wildcard = [key for key in hooks if key == "*"]
    found: list[list[str]] = []
    for key in (*exact, *family, *wildcard):
        for argv in hooks.get(key) or []:
            if isinstance(argv, list) and argv and all(isinstance(a, str) and a for a in argv):
                if list(argv) not in found:
                    found.append(list(argv))
    return found


def _first_line(data: bytes) -> str:
    """The first non-blank line, masked (it is logged and shown as a warning)."""
    for line in mask(data.decode("utf-8", errors="replace")).splitlines():
        if line.strip():
            text = line.strip()
            return text if len(text) <= 200 else text[:199] + "…"
    return ""


def _run_one(
    argv: list[str], root: Path, env: dict[str, str], stdin: bytes, timeout: float, event_type: str
) -> HookResult:
    started = time.monotonic()

    def failed(
        error: str, code: int | None = None, stderr: str = "", timed_out: bool = False
    ) -> HookResult:
        return HookResult(
            tuple(argv), event_type, code, time.monotonic() - started, error, stderr, timed_out
        )

    try:
        done = run_in_group(
            argv, cwd=root, env=env, stdin=stdin, timeout=timeout, kill_grace=KILL_GRACE,
            drain_grace=DRAIN_GRACE, stdout_limit=None, stderr_limit=STDERR_KEEP,
        )  # fmt: skip
    except FileNotFoundError:
        return failed(f"command not found: {argv[0]}")
    except PermissionError:
        return failed(f"not executable: {argv[0]}")
    except OSError as exc:
        return failed(f"cannot run {argv[0]}: {exc.strerror or exc}")
    stderr = _first_line(done.stderr)
    if done.timed_out:
        return failed(
            f"timed out after {timeout:g} s (its process group was killed)",
            stderr=stderr,
            timed_out=True,
        )
    code = done.returncode
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return failed(f"killed by {name}", code, stderr)
    if code != 0:
        return failed(f"exited with status {code}", code, stderr)
    return HookResult(tuple(argv), event_type, 0, time.monotonic() - started, None, stderr)


def _log(log_dir: Path, event: Mapping[str, Any], result: HookResult) -> None:
    from agentctl.store import atomic

    record = {
        "ts": clock.stamp_ms(),
        "event": event.get("id"),
        "type": result.event_type,
        "argv": [mask(arg) for arg in result.argv],
        "exit": result.exit_code,
        "duration": round(result.duration, 3),
        "ok": result.ok,
        "error": result.error,
        "stderr": result.stderr,
    }
    try:
        atomic.append_line(log_dir / LOG_NAME, json.dumps(record, ensure_ascii=False))
    except OSError:
        pass  # an unwritable log must not turn a hook run into a failed mutation


def run_hooks(
    root: Path, config: Mapping[str, Any], event: Mapping[str, Any], log_dir: Path
) -> list[HookResult]:
    """Run every hook configured for ``event`` (see the module docstring); never raises for a
    failing hook. Returns one result per command, in the order they ran."""
    event_type = str(event.get("type", ""))
    commands = matching_hooks(config, event_type)
    if not commands:
        return []
    try:
        depth = int(os.environ.get(ENV_DEPTH, "0") or 0)
    except ValueError:
        depth = 0
    timeout = float(config.get("hook_timeout") or 10.0)
    results: list[HookResult] = []
    if depth >= MAX_HOOK_DEPTH:
        reason = f"hooks nested {depth} deep (a hook's own agentctl calls trigger hooks); the limit is {MAX_HOOK_DEPTH}"
        for argv in commands:
            result = HookResult(tuple(argv), event_type, None, 0.0, reason, skipped=True)
            _log(log_dir, event, result)
            results.append(result)
        return results
    env = dict(os.environ)
    env.update(
        {
            "AGENTCTL_WORKSPACE": str(root),
            "AGENTCTL_EVENT_TYPE": event_type,
            "AGENTCTL_EVENT_ID": str(event.get("id", "")),
            "AGENTCTL_EVENT_ACTOR": str(event.get("actor", "")),
            ENV_DEPTH: str(depth + 1),
        }
    )
    stdin = (
        json.dumps(dict(event), ensure_ascii=False, separators=(",", ":"), default=str) + "\n"
    ).encode("utf-8")
    for argv in commands:
        result = _run_one(argv, root, env, stdin, timeout, event_type)
        _log(log_dir, event, result)
        results.append(result)
    return results
