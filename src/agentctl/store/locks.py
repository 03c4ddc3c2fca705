"""The workspace write lock. Writers serialise on one lock file under ``.agentctl/local/``;
readers never take it. Waits are bounded and end in :class:`LockTimeoutError`.

Waiting is first come, first served, and the timeout bounds how long the queue may stand
still, not how long it may be. A writer takes a ticket: a file in ``<lock>.queue/``
whose name sorts by arrival time and which its owner holds ``flock``-ed while it waits and
while it writes. It then blocks on the ticket just ahead of its own, so each release wakes
exactly the next writer in line (polling, or one flock that every waiter races for, lets a
newcomer overtake writers that have waited for seconds). A ticket whose owner died holds no
flock, so the next writer gets past it at once and removes it. The lock file itself is still
taken last: the queue decides the order, the flock on the lock file guarantees exclusion
even against a writer that skipped the queue (``timeout=0``).

On POSIX this is ``fcntl.flock`` directly (the kernel releases it when a process dies, even
by SIGKILL); importing filelock costs ~40 ms, which is a sixth of a mutation's budget.
Elsewhere it falls back to filelock, the only place that library is used.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from agentctl.errors import LockTimeoutError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


def _timeout_error(path: Path, timeout: float) -> LockTimeoutError:
    return LockTimeoutError(
        f"could not take the workspace lock {path}: the lock did not change hands within {timeout:g}s",
        hint="another agentctl process is writing; retry, or raise lock.timeout in config",
    )


class _FlockWaiter:
    """``flock(fd, operation)`` in progress, waited for in slices of time.

    The blocking call runs in a daemon thread so that waits honour a deadline in any thread
    (SIGALRM would work only in the main one). The thread locks its own duplicate of ``fd``
    (the same open file, so the same lock) and closes it when the call returns: if the caller
    gave up and closed ``fd`` first, a lock granted late dies with the last descriptor, and no
    descriptor number the caller reuses is ever touched.
    """

    def __init__(self, fd: int, operation: int) -> None:
        self.granted = threading.Event()
        try:
            fcntl.flock(fd, operation | fcntl.LOCK_NB)
            self.granted.set()
            return
        except BlockingIOError:
            pass
        own = os.dup(fd)

        def wait() -> None:
            try:
                fcntl.flock(own, operation)
                self.granted.set()
            finally:
                os.close(own)

        threading.Thread(target=wait, name="agentctl-lock-wait", daemon=True).start()

    def wait(self, seconds: float) -> bool:
        return self.granted.is_set() or (seconds > 0 and self.granted.wait(seconds))


def _take_ticket(queue: Path) -> tuple[int, str]:
    """A new ticket at the end of the queue, already flock-ed (so never mistaken for a dead one)."""
    queue.mkdir(parents=True, exist_ok=True)
    name = f"{time.time_ns():020d}-{os.getpid()}-{threading.get_ident()}"
    draft = queue / f".{name}"
    fd = os.open(draft, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.rename(draft, queue / name)
    return fd, name


_STAMP_SIZE = 64  # the lock file holds the current holder's stamp: it changes with every holder


class _Patience:
    """Waits in slices of ``timeout``; a slice ends in giving up only if the lock has not
    changed hands (the holder's stamp in the lock file is the same) since the slice began."""

    def __init__(self, lock_fd: int, timeout: float) -> None:
        self.lock_fd = lock_fd
        self.timeout = timeout
        self.stamp = os.pread(lock_fd, _STAMP_SIZE, 0)

    def wait(self, waiter: _FlockWaiter) -> bool:
        while not waiter.wait(self.timeout):
            stamp = os.pread(self.lock_fd, _STAMP_SIZE, 0)
            if stamp == self.stamp:
                return False
            self.stamp = stamp
        return True


def _wait_for_turn(queue: Path, mine: str, patience: _Patience) -> bool:
    """Block until no live ticket is ahead of ``mine``; False when the lock stood still for
    a whole timeout."""
    while True:
        ahead = sorted(n for n in os.listdir(queue) if not n.startswith(".") and n < mine)
        if not ahead:
            return True
        previous = queue / ahead[-1]
        try:
            fd = os.open(previous, os.O_RDONLY)
        except FileNotFoundError:  # released between listing and opening
            continue
        try:
            if not patience.wait(_FlockWaiter(fd, fcntl.LOCK_SH)):
                return False
            # Its owner released it or died: a dead owner's ticket is removed here.
            previous.unlink(missing_ok=True)
        finally:
            os.close(fd)


@contextmanager
def hold(path: Path, timeout: float) -> Iterator[None]:
    """Hold the lock. Writers queue in arrival order; a writer gives up (LockTimeoutError)
    when the lock has not changed hands for ``timeout`` seconds, so a long queue that keeps
    moving is waited out while a stuck holder is not. ``timeout=0``: try once, no queueing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if fcntl is None:  # pragma: no cover - Windows
        with _hold_filelock(path, timeout):
            yield
        return
    with ExitStack() as stack:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        stack.callback(os.close, fd)
        patience = _Patience(fd, timeout)
        ticket = f"{os.getpid()}-{time.time_ns()}"
        if timeout > 0:
            queue = path.with_name(path.name + ".queue")
            ticket_fd, ticket = _take_ticket(queue)
            stack.callback(os.close, ticket_fd)
            stack.callback((queue / ticket).unlink, missing_ok=True)
            if not _wait_for_turn(queue, ticket, patience):
                raise _timeout_error(path, timeout)
        if not patience.wait(_FlockWaiter(fd, fcntl.LOCK_EX)):
            raise _timeout_error(path, timeout)
        stack.callback(fcntl.flock, fd, fcntl.LOCK_UN)
        os.pwrite(fd, ticket.encode().ljust(_STAMP_SIZE)[:_STAMP_SIZE], 0)
        yield


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
