"""The workspace write lock. Writers serialise on one lock file under ``.agentctl/local/``;
readers never take it. Waits are bounded and end in :class:`LockTimeoutError`.

On POSIX this is ``fcntl.flock`` directly (the kernel releases it when a process dies, even
by SIGKILL); importing filelock costs ~40 ms, which is a sixth of a mutation's budget.
Elsewhere it falls back to filelock, the only place that library is used.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from agentctl.errors import LockTimeoutError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


def _timeout_error(path: Path, timeout: float) -> LockTimeoutError:
    return LockTimeoutError(
        f"could not take the workspace lock {path} within {timeout:g}s",
        hint="another agentctl process is writing; retry, or raise lock.timeout in config",
    )


@contextmanager
def hold(path: Path, timeout: float) -> Iterator[None]:
    """Hold the lock, waiting at most ``timeout`` seconds (0 = try once)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if fcntl is None:  # pragma: no cover - Windows
        with _hold_filelock(path, timeout):
            yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        delay = 0.001
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise _timeout_error(path, timeout) from None
                time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
                delay = min(delay * 2, 0.05)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextmanager
def try_hold(path: Path) -> Iterator[bool]:
    """Take the lock only if it is free right now; yields whether it was taken."""
    try:
        with hold(path, 0):
            yield True
    except LockTimeoutError:
        yield False


@contextmanager
def _hold_filelock(path: Path, timeout: float) -> Iterator[None]:  # pragma: no cover - Windows
    from filelock import FileLock, Timeout

    lock = FileLock(str(path), timeout=timeout)
    try:
        lock.acquire()
    except Timeout:
        raise _timeout_error(path, timeout) from None
    try:
        yield
    finally:
        lock.release()
