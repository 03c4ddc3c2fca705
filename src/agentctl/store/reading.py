"""Reading files inside ``.agentctl/`` without following symlinks, within a size bound.

Records arrive by hand and by ``git pull``; a symlink in a record's place could feed an outside
file in (an agent definition granting ``level: lead``, someone's private notes), and a huge
file could stall every command. Every read of a record goes through :func:`read_record`: the
file is opened with ``O_NOFOLLOW`` (one system call, no resolve-and-compare), must be a
regular file, and at most :data:`MAX_RECORD_BYTES` long. Refusals are ValidationErrors whose
message starts with what is wrong (``symlink``, ``too large``, ``not a regular file``), so
listings show ``path: symlink ...`` and ``validate`` reports them like any other problem.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

from agentctl.errors import ValidationError

MAX_RECORD_BYTES = (
    1 << 20
)  # 1 MiB: a record file (task, agent, doc, message, state, config, memory)
_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
SYMLINK_PROBLEM = "symlink: refused (symlinks inside .agentctl/ are never followed)"


def too_large(size: int) -> str:
    return f"too large: {size} bytes (a record file holds at most {MAX_RECORD_BYTES} bytes)"


def _open_regular(path: Path | str, rel: str) -> tuple[int, os.stat_result]:
    """A file descriptor of ``path`` and its stat; a symlink or a non-regular file is refused
    (a FIFO does not block: ``O_NONBLOCK``). FileNotFoundError passes through."""
    try:
        fd = os.open(path, _FLAGS)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ValidationError(SYMLINK_PROBLEM, rel) from None
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ValidationError("not a regular file", rel)
    except BaseException:
        os.close(fd)
        raise
    return fd, st


def open_nofollow(path: Path | str, rel: str) -> BinaryIO:
    """``path`` opened for binary reading; a symlink or a non-regular file is refused (a FIFO
    does not block: ``O_NONBLOCK``). FileNotFoundError passes through."""
    fd, _ = _open_regular(path, rel)
    return os.fdopen(fd, "rb")


def read_record_bytes(path: Path | str, rel: str) -> tuple[bytes, os.stat_result]:
    """The bytes of a record file and its stat (of the file read, not of a link).

    Read with ``os.read`` of the size ``fstat`` gave plus one byte: a buffered
    ``read(MAX_RECORD_BYTES + 1)`` allocates the whole bound first (~20 us a file, most of
    the cost of reading a small record). A file that grew meanwhile, or a short read, is
    read on to its end (at most one byte past the bound)."""
    fd, st = _open_regular(path, rel)
    try:
        if st.st_size > MAX_RECORD_BYTES:
            raise ValidationError(too_large(st.st_size), rel)
        data = os.read(fd, st.st_size + 1)
        if len(data) != st.st_size:
            chunks = [data]
            total = len(data)
            while data and total <= MAX_RECORD_BYTES:
                data = os.read(fd, MAX_RECORD_BYTES + 1 - total)
                chunks.append(data)
                total += len(data)
            data = b"".join(chunks)
    finally:
        os.close(fd)
    if len(data) > MAX_RECORD_BYTES:  # grew while we read
        raise ValidationError(too_large(len(data)), rel)
    return data, st


def read_record(path: Path | str, rel: str) -> str:
    """The text of a record file (UTF-8); see :func:`read_record_bytes` for what is refused."""
    data, _ = read_record_bytes(path, rel)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationError("not valid UTF-8", rel) from None


def is_symlink(path: Path | str) -> bool:
    try:
        return stat.S_ISLNK(os.lstat(path).st_mode)
    except FileNotFoundError:
        return False


def tail_lines(handle: BinaryIO, count: int, block: int = 65536) -> list[str]:
    """At least ``count`` complete lines from the end of an open file (all of them if it has
    fewer), oldest first, reading backwards only as far as needed. Blank lines are kept (and
    counted); a line cut by where the read began is dropped."""
    size = handle.seek(0, os.SEEK_END)
    start = size
    while True:
        start = max(0, start - block)
        handle.seek(start)
        lines = handle.read(size - start).split(b"\n")
        complete = lines if start == 0 else lines[1:]
        if start == 0 or len(complete) > count + 1:
            return [line.decode("utf-8", errors="replace") for line in complete]
        block *= 4


def tail_bytes(handle: BinaryIO, limit: int, start: int = 0) -> bytes:
    """The last ``limit`` bytes of an open file, none before byte ``start``."""
    end = handle.seek(0, os.SEEK_END)
    handle.seek(max(start, end - limit))
    return handle.read()
