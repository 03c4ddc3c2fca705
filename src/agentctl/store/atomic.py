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


def _write_temp(path: Path, data: bytes) -> Path:
    temp = _temp_for(path)
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
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
            if entry.name.startswith(prefix) and is_temp(entry.name) and entry.is_file(follow_symlinks=False):
                Path(entry.path).unlink(missing_ok=True)
                removed.append(Path(entry.path))
    return removed
