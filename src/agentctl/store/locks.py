"""The workspace write lock: the only user of filelock.

Writers serialise on one lock file under ``.agentctl/local/``; readers never take it. Waits
are bounded and end in :class:`LockTimeoutError` (its own exit code).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from agentctl.errors import LockTimeoutError


@contextmanager
def hold(path: Path, timeout: float) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path), timeout=timeout)
    try:
        lock.acquire()
    except Timeout:
        raise LockTimeoutError(
            f"could not take the workspace lock {path} within {timeout:g}s",
            hint="another agentctl process is writing; retry, or raise lock.timeout in config",
        ) from None
    try:
        yield
    finally:
        lock.release()


@contextmanager
def try_hold(path: Path) -> Iterator[bool]:
    """Take the lock only if it is free right now; yields whether it was taken."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        yield False
        return
    try:
        yield True
    finally:
        lock.release()
