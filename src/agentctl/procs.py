"""Child processes run in a process group of their own (never through a shell).

Used by the ``command`` runtime and by event hooks: the child gets its stdin fed from a
thread, its pipes are drained with byte limits (so a chatty child never blocks), and a
timeout or an interruption kills the whole group, children included. Descendants that
still hold the pipes open after the child exited are killed too.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO


def signal_group(pgid: int, signum: int) -> None:
    """Signal a whole process group; a group that is already gone is not an error."""
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass


class _Reader(threading.Thread):
    """Reads a pipe to its end, keeping the first (or, with ``keep_tail``, the last) ``limit``
    bytes. It reads the file descriptor directly: a buffered reader's ``close`` would wait for
    a read blocked in this thread. The stream is closed only once this thread is done with it."""

    def __init__(self, stream: IO[bytes], limit: int, keep_tail: bool = False) -> None:
        super().__init__(daemon=True)
        self.stream, self.limit, self.keep_tail = stream, limit, keep_tail
        self.data = bytearray()
        self.total = 0

    def run(self) -> None:
        fd = self.stream.fileno()
        try:
            while chunk := os.read(fd, 65536):
                self.total += len(chunk)
                if self.keep_tail:
                    self.data += chunk
                    del self.data[: max(0, len(self.data) - self.limit)]
                elif len(self.data) < self.limit:
                    self.data += chunk[: self.limit - len(self.data)]
        except OSError:
            pass
        finally:
            self.stream.close()


def _write_stdin(stream: IO[bytes], data: bytes) -> None:
    try:
        stream.write(data)
    except (BrokenPipeError, OSError, ValueError):  # the child does not read its stdin
        pass
    finally:
        try:
            stream.close()
        except OSError:
            pass


def _kill_group(proc: subprocess.Popen[bytes], pgid: int, grace: float) -> None:
    signal_group(pgid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        pass
    # SIGKILL the group even if the leader went: its children may still be running. The
    # group id cannot be reused while any member lives, and is gone (ESRCH) once none does.
    signal_group(pgid, signal.SIGKILL)
    if proc.poll() is None:  # not in its own group after all (it called setpgid itself)
        proc.kill()
    proc.wait()


@dataclass
class Finished:
    returncode: int
    timed_out: bool
    stdout: bytes  # empty unless captured
    stdout_total: int  # bytes the child wrote to stdout (more than kept when over the limit)
    stderr: bytes


def run_in_group(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    stdin: bytes,
    timeout: float,
    kill_grace: float,
    drain_grace: float,
    stdout_limit: int | None,
    stderr_limit: int,
    stderr_tail: bool = False,
) -> Finished:
    """Run ``argv`` in its own session. ``stdout_limit`` None discards stdout. Raises OSError
    (FileNotFoundError, PermissionError...) when the program cannot be started."""
    proc = subprocess.Popen(
        list(argv),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE if stdout_limit is not None else subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=cwd,
        env=dict(env),
        start_new_session=True,  # its own process group, so a timeout kills its children too
    )
    assert proc.stdin is not None and proc.stderr is not None
    readers = [_Reader(proc.stderr, stderr_limit, keep_tail=stderr_tail)]
    if proc.stdout is not None and stdout_limit is not None:
        readers.append(_Reader(proc.stdout, stdout_limit))
    writer = threading.Thread(target=_write_stdin, args=(proc.stdin, stdin), daemon=True)
    for thread in (*readers, writer):
        thread.start()
    pgid = proc.pid  # start_new_session: the child leads its own group
    timed_out = False
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill_group(proc, pgid, kill_grace)
    except BaseException:  # interrupted (Ctrl-C, a SIGTERM handler): leave nothing behind
        _kill_group(proc, pgid, kill_grace)
        raise
    finally:
        for reader in readers:
            reader.join(drain_grace)
        if any(reader.is_alive() for reader in readers):  # a descendant still holds a pipe
            signal_group(pgid, signal.SIGKILL)
            for reader in readers:
                reader.join(drain_grace)
        writer.join(drain_grace)
    out = readers[1] if len(readers) > 1 else None
    return Finished(
        returncode=proc.returncode,
        timed_out=timed_out,
        stdout=bytes(out.data) if out else b"",
        stdout_total=out.total if out else 0,
        stderr=bytes(readers[0].data),
    )


def proc_stat(pid: int) -> list[str] | None:
    """Fields of ``/proc/<pid>/stat`` after the command name (state, ppid, ...; Linux), or
    None where there is no such process or no /proc. The command name may hold spaces and
    parentheses, so the split is after its last ')'."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read()
    except OSError:
        return None
    return stat.rsplit(b")", 1)[-1].decode("ascii", "replace").split()
