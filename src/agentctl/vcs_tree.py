"""Git trees along a few changed paths: the pure half of :meth:`agentctl.vcs.Repo.commit_paths`.

A commit of a handful of files needs new tree objects only for the directories on the way
from the root to each file: every other subtree of HEAD is reused by its id. This module
takes the raw HEAD trees of those directories (as ``git cat-file --batch`` prints them) and
the new state of each path, and computes the new trees bottom-up, in git's canonical entry
order, with the ids git will give them. It runs no process and imports nothing from
agentctl; :mod:`agentctl.vcs` reads the trees and writes the result with ``git mktree``.

The modes follow ``git update-index --add --remove`` exactly (``ce_mode_from_stat`` in
git): an executable bit is ``100755``; with ``core.fileMode`` false a file keeps the mode
HEAD has (``100644`` when new); with ``core.symlinks`` false a plain file keeps a symlink's
mode. A path with nothing on disk is removed, unless HEAD has a directory there (``--remove``
never removes a directory); a directory left empty disappears from its parent.
"""

from __future__ import annotations

import hashlib
import os
import re
from bisect import bisect_left
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

TREE = 0o040000
GITLINK = 0o160000
SYMLINK = 0o120000
REGULAR = 0o100644
EXECUTABLE = 0o100755

Kind = Literal["file", "exec", "link"]


class TreeConflict(ValueError):
    """A path and a directory of HEAD stand in each other's way (a file where HEAD has a
    directory, or a directory where HEAD has a file): the caller reports it, commits nothing."""


@dataclass(frozen=True)
class WorkFile:
    """What is on disk at one path: the blob already written for it and its kind."""

    kind: Kind
    oid: str  # hex


@dataclass(frozen=True)
class NewTree:
    """One tree object to write: its directory ("" is the root), id and entries (or, for a
    big directory edited in place, its raw body: written with ``git hash-object``)."""

    path: str
    oid: str
    entries: tuple[tuple[bytes, int, str], ...]  # (name, mode, hex id), canonical order
    raw: bytes | None = None


# A tree body above this size is edited in place (see BigTree) rather than parsed into a dict.
BIG_TREE = 64 * 1024


class BigTree:
    """A big directory's tree (``.agentctl/tasks`` of 100,000 tasks is ~3.5 MB) edited in
    place: its entries stay raw bytes in canonical order, found by bisection on their sort
    keys, so a commit that changes one file costs a regex pass and a join, not a Python
    object per entry (~1 s at 100,000 entries)."""

    def __init__(self, body: bytes, raw_len: int) -> None:
        found = re.compile(rb"(([0-7]+) ([^\0]*)\0.{%d})" % raw_len, re.DOTALL).findall(body)
        if sum(len(whole) for whole, _, _ in found) != len(body):
            raise ValueError("malformed tree object")
        self.raw_len = raw_len
        self.raw: list[bytes] = [whole for whole, _, _ in found]
        self.keys: list[bytes] = [
            name + b"/" if mode == b"40000" else name for _, mode, name in found
        ]

    def _find(self, name: bytes) -> int | None:
        for key in (name, name + b"/"):
            at = bisect_left(self.keys, key)
            if at < len(self.keys) and self.keys[at] == key:
                return at
        return None

    def _entry(self, at: int) -> tuple[int, str]:
        entry = self.raw[at]
        return int(entry[: entry.index(b" ")], 8), entry[-self.raw_len :].hex()

    def get(self, name: bytes) -> tuple[int, str] | None:
        at = self._find(name)
        return None if at is None else self._entry(at)

    def __setitem__(self, name: bytes, value: tuple[int, str]) -> None:
        mode, oid = value
        self.pop(name, None)
        key = name + b"/" if mode == TREE else name
        at = bisect_left(self.keys, key)
        self.keys.insert(at, key)
        self.raw.insert(at, b"%o %s\0%s" % (mode, name, bytes.fromhex(oid)))

    def pop(self, name: bytes, default: None = None) -> tuple[int, str] | None:
        at = self._find(name)
        if at is None:
            return default
        found = self._entry(at)
        del self.keys[at]
        del self.raw[at]
        return found

    def __delitem__(self, name: bytes) -> None:
        self.pop(name)

    def __len__(self) -> int:
        return len(self.raw)

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.keys)

    def body(self) -> bytes:
        return b"".join(self.raw)


# A directory of HEAD as read: (its tree id, its raw body), or None when HEAD has none.
OldTree = tuple[str, bytes] | None


def ancestors(rel: str) -> list[str]:
    """The directories containing ``rel`` from the root down: ``a/b/c`` -> ``["", "a", "a/b"]``."""
    parts = rel.split("/")[:-1]
    return [""] + ["/".join(parts[: i + 1]) for i in range(len(parts))]


def directories(rels: list[str]) -> list[str]:
    """Every directory a commit of ``rels`` rewrites, deepest first (children before parents)."""
    found = {d for rel in rels for d in ancestors(rel)}
    return sorted(found, key=lambda d: (-d.count("/") - (d != ""), d))


def parse(body: bytes, raw_len: int) -> dict[bytes, tuple[int, str]]:
    """A raw tree object body as name -> (mode, hex id)."""
    entries: dict[bytes, tuple[int, str]] = {}
    at = 0
    end = len(body)
    while at < end:
        space = body.index(b" ", at)
        nul = body.index(b"\0", space)
        oid_end = nul + 1 + raw_len
        if oid_end > end:
            raise ValueError("truncated tree object")
        entries[body[space + 1 : nul]] = (int(body[at:space], 8), body[nul + 1 : oid_end].hex())
        at = oid_end
    return entries


def _sort_key(item: tuple[bytes, int, str]) -> bytes:
    # git orders a tree's entries by name, a subtree's name compared as if it ended in "/".
    name, mode, _ = item
    return name + b"/" if mode == TREE else name


def tree_id(entries: tuple[tuple[bytes, int, str], ...], algorithm: str) -> str:
    """The object id git gives a tree of ``entries`` (already in canonical order)."""
    body = b"".join(b"%o %s\0%s" % (mode, name, bytes.fromhex(oid)) for name, mode, oid in entries)
    return hashlib.new(algorithm, b"tree %d\0" % len(body) + body).hexdigest()


def mode_for(work: WorkFile, old_mode: int | None, trust_exec: bool, has_symlinks: bool) -> int:
    """The mode ``git update-index --add`` records for ``work`` over HEAD's ``old_mode``."""
    if work.kind == "link":
        return SYMLINK
    if not has_symlinks and old_mode == SYMLINK:
        return SYMLINK
    if not trust_exec:
        return old_mode if old_mode in (REGULAR, EXECUTABLE) else REGULAR
    return EXECUTABLE if work.kind == "exec" else REGULAR


def rebuild(
    changes: Mapping[str, WorkFile | None],
    old: Mapping[str, OldTree],
    hex_len: int,
    *,
    trust_exec: bool = True,
    has_symlinks: bool = True,
) -> tuple[str | None, list[NewTree]]:
    """The new root tree id and the trees to write (children first) for ``changes``: each
    path (relative, ``/``-separated) mapped to its new content, or None for "gone".

    ``old`` holds HEAD's tree of every directory in :func:`directories` (None where HEAD has
    none, or no HEAD at all). The root id is None when the result is the empty tree of a
    repository without commits. Trees whose id is unchanged are not returned.
    """
    algorithm = "sha1" if hex_len == 40 else "sha256"
    raw_len = hex_len // 2
    order = directories(list(changes))
    content: dict[str, dict[bytes, tuple[int, str]] | BigTree] = {}
    for path in order:
        tree = old.get(path)
        if tree is None:
            content[path] = {}
        elif len(tree[1]) > BIG_TREE:
            content[path] = BigTree(tree[1], raw_len)
        else:
            content[path] = parse(tree[1], raw_len)
    for rel, work in changes.items():
        parent, _, name_text = rel.rpartition("/")
        name = os.fsencode(name_text)
        entries = content[parent]
        before = entries.get(name)
        if before is not None and before[0] == TREE:
            if work is None:
                continue  # `update-index --remove` of a directory: nothing happens
            raise TreeConflict(f"{rel} is a directory in HEAD")
        if work is None:
            entries.pop(name, None)
        else:
            entries[name] = (
                mode_for(work, before[0] if before else None, trust_exec, has_symlinks),
                work.oid,
            )
    written: list[NewTree] = []
    root: str | None = None
    for path in order:
        held = content[path]
        raw: bytes | None = None
        if isinstance(held, BigTree):
            raw = held.body()
            listed: tuple[tuple[bytes, int, str], ...] = ()
        else:
            listed = tuple(sorted(((n, m, o) for n, (m, o) in held.items()), key=_sort_key))
        if path == "":
            if not (listed or raw) and old.get("") is None:
                return None, written
            if raw is not None:
                root = hashlib.new(algorithm, b"tree %d\0" % len(raw) + raw).hexdigest()
            else:
                root = tree_id(listed, algorithm)
            before_tree = old.get("")
            if before_tree is None or before_tree[0] != root:
                written.append(NewTree("", root, listed, raw))
            break
        parent, _, name_text = path.rpartition("/")
        name = os.fsencode(name_text)
        above = content[parent]
        existing = above.get(name)
        if not (listed or raw):  # an empty directory does not exist in git
            if existing is not None and existing[0] == TREE:
                del above[name]
            continue
        if existing is not None and existing[0] != TREE:
            raise TreeConflict(f"{path} is a file in HEAD")
        if raw is not None:
            oid = hashlib.new(algorithm, b"tree %d\0" % len(raw) + raw).hexdigest()
        else:
            oid = tree_id(listed, algorithm)
        above[name] = (TREE, oid)
        before_tree = old.get(path)
        if before_tree is None or before_tree[0] != oid:
            written.append(NewTree(path, oid, listed, raw))
    return root, written


def mktree_input(trees: list[NewTree]) -> bytes:
    """``git mktree -z --batch`` input writing ``trees`` in order, one id printed per tree."""
    out = bytearray()
    for tree in trees:
        if tree.raw is not None:
            continue  # written by `git hash-object` (see agentctl.vcs)
        for name, mode, oid in tree.entries:
            kind = b"tree" if mode == TREE else b"commit" if mode == GITLINK else b"blob"
            out += b"%o %s %s\t%s\0" % (mode, kind, oid.encode("ascii"), name)
        out += b"\0"
    return bytes(out)
