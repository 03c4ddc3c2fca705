"""Crash-safe file writes: the only place that opens files for writing.

Replacing a file: write a temp file in the same directory, fsync it, rename it over the
target, fsync the directory. Creating a file: the same, but ``link`` instead of ``rename`` so
an existing file is never overwritten. A process killed at any point leaves either the old
file or the new one, plus at most a hidden ``.*.tmp`` file that :func:`sweep_temp` removes.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

TEMP_SUFFIX = ".agentctl-tmp"


def _temp_for(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.urandom(4).hex()}{TEMP_SUFFIX}")


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_temp(path: Path, data: bytes, sync: bool = True) -> Path:
    temp = _temp_for(path)
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        if sync:
            os.fsync(fd)
    except BaseException:
        os.close(fd)
        temp.unlink(missing_ok=True)
        raise
    os.close(fd)
    return temp


def write_text(path: Path, text: str) -> None:
    """Replace ``path`` atomically with ``text`` (UTF-8, newlines as given)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = _write_temp(path, text.encode("utf-8"))
    try:
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def create_text(path: Path, text: str) -> None:
    """Create ``path`` with ``text``; raises FileExistsError if it exists (never overwrites)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = _write_temp(path, text.encode("utf-8"))
    try:
        os.link(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    _fsync_dir(path.parent)


def create_many(items: list[tuple[Path, str]]) -> None:
    """Create several files like :func:`create_text`, with two flushes in all instead of two
    fsyncs per file (an import creates a thousand; one fsync costs 1-7 ms here): every temp
    file is written, the file system flushed once, then each is linked into place and the
    directories are fsynced. A crash leaves each target absent or complete, never torn.
    Raises FileExistsError at the first target that exists (the ones before it are created)."""
    temps: list[tuple[Path, Path]] = []
    try:
        for path, text in items:
            path.parent.mkdir(parents=True, exist_ok=True)
            temps.append((path, _write_temp(path, text.encode("utf-8"), sync=False)))
        _flush([temp for _, temp in temps])
        for path, temp in temps:
            os.link(temp, path)
    finally:
        for _, temp in temps:
            temp.unlink(missing_ok=True)
    for directory in sorted({path.parent for path, _ in items}):
        _fsync_dir(directory)


def _flush(paths: list[Path]) -> None:
    """Make the data of ``paths`` durable: one ``syncfs`` of their file system on Linux,
    else an fsync of each."""
    if not paths:
        return
    if hasattr(os, "sched_getaffinity"):  # Linux
        import ctypes

        try:
            libc = ctypes.CDLL(None, use_errno=True)
            fd = os.open(paths[0].parent, os.O_RDONLY)
            try:
                if libc.syncfs(fd) == 0 and all(
                    p.parent == paths[0].parent or os.stat(p.parent).st_dev == os.fstat(fd).st_dev
                    for p in paths
                ):
                    return
            finally:
                os.close(fd)
        except (OSError, AttributeError):
            pass
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def delete(path: Path) -> None:
    path.unlink(missing_ok=True)
    _fsync_dir(path.parent)


def append_line(path: Path, line: str) -> None:
    """Append one line with a single write(2) in append mode, then fsync.

    If the file does not end with a newline (a torn last line), the new line starts on a
    line of its own, so it is not glued to, and lost with, the torn one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    created = not path.exists()
    data = (line.rstrip("\n") + "\n").encode("utf-8")
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            data = b"\n" + data
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    if created:
        _fsync_dir(path.parent)


def is_temp(name: str) -> bool:
    return name.startswith(".") and name.endswith(TEMP_SUFFIX)


def sweep_temp(directories: Iterable[Path]) -> list[Path]:
    """Remove temp files left by killed writers. Call only while holding the workspace lock."""
    removed: list[Path] = []
    for directory in directories:
        try:
            entries = list(os.scandir(directory))
        except FileNotFoundError:
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                removed.extend(sweep_temp([Path(entry.path)]))
            elif is_temp(entry.name):
                Path(entry.path).unlink(missing_ok=True)
                removed.append(Path(entry.path))
    return removed


def sweep_temp_of(targets: Iterable[Path]) -> list[Path]:
    """Remove temp files left by killed writers of these files (outside ``.agentctl/``, such
    as WORKING.md at the repository root), looking only in each file's own directory.
    Call only while holding the workspace lock."""
    removed: list[Path] = []
    for target in targets:
        prefix = f".{target.name}."
        try:
            entries = list(os.scandir(target.parent))
        except FileNotFoundError:
            continue
        for entry in entries:
            if (
                entry.name.startswith(prefix)
                and is_temp(entry.name)
                and entry.is_file(follow_symlinks=False)
            ):
                Path(entry.path).unlink(missing_ok=True)
                removed.append(Path(entry.path))
    return removed
