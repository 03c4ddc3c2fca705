"""Crash-safe file writes: the only place that opens files for writing.

Replacing a file: write a temp file in the same directory, fsync it, rename it over the
target, fsync the directory. Creating a file: the same, but ``link`` instead of ``rename`` so
an existing file is never overwritten. A process killed at any point leaves either the old
file or the new one, plus at most a hidden ``.*.tmp`` file that :func:`sweep_temp` removes.
"""

from __future__ import annotations

import errno
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
    fsyncs per file (an import creates ten thousand; one fsync costs 1-7 ms here): every temp
    file is written, the file system flushed once, then each is linked into place and the
    file system flushed once more (one ``syncfs`` instead of an fsync per directory: 500 of
    them for an import with 500 threads). A crash leaves each target absent or complete,
    never torn. Raises FileExistsError naming the first target that exists (the ones before
    it are created)."""
    token = os.urandom(4).hex()  # one per batch; the counter keeps the names apart
    temps: list[tuple[str, str]] = []
    made: set[str] = set()
    try:
        for number, (path, text) in enumerate(items):
            # Strings, not pathlib: an import names ten thousand files.
            target = os.fspath(path)
            folder, name = os.path.split(target)
            if folder not in made:
                os.makedirs(folder, exist_ok=True)
                made.add(folder)
            temp = os.path.join(folder, f".{name}.{token}{number:x}{TEMP_SUFFIX}")
            _write_new(temp, text.encode("utf-8"))
            temps.append((target, temp))
        _flush([temp for _, temp in temps])
        for target, temp in temps:
            try:
                os.link(temp, target)
            except FileExistsError:
                raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), target) from None
    finally:
        for _, temp in temps:
            try:
                os.unlink(temp)
            except FileNotFoundError:
                pass
    # The new names, and the new folders' names in their parents, made durable.
    folders = {Path(folder) for folder in made}
    _flush_dirs(sorted(folders | {folder.parent for folder in folders}))


def _write_new(path: str, data: bytes) -> None:
    """Create ``path`` (which must not exist) holding ``data``, without fsync; removed again
    if the write fails."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    except BaseException:
        os.close(fd)
        os.unlink(path)
        raise
    os.close(fd)


def _flush_dirs(directories: list[Path]) -> None:
    """Make the entries of ``directories`` durable: one ``syncfs`` when they share one file
    system (Linux), else an fsync of each."""
    if not directories or _syncfs(os.fspath(directories[0]), {os.fspath(d) for d in directories}):
        return
    for directory in directories:
        _fsync_dir(directory)


def _flush(paths: list[str]) -> None:
    """Make the data of the new files ``paths`` durable: one ``syncfs`` of their file system
    on Linux, else an fsync of each."""
    if not paths:
        return
    folders = {os.path.dirname(path) for path in paths}  # a new file is on its folder's
    if _syncfs(os.path.dirname(paths[0]), folders):
        return
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _syncfs(anchor: str, on_it: set[str]) -> bool:
    """``syncfs`` of the file system holding the directory ``anchor``, if all of ``on_it``
    are on it; False where that is not possible (not Linux, another file system)."""
    if not hasattr(os, "sched_getaffinity"):  # not Linux
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fd = os.open(anchor, os.O_RDONLY)
        try:
            device = os.fstat(fd).st_dev
            if any(os.stat(path).st_dev != device for path in on_it - {anchor}):
                return False
            return bool(libc.syncfs(fd) == 0)
        finally:
            os.close(fd)
    except (OSError, AttributeError):
        return False


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
