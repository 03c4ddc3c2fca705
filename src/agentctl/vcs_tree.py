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
from collections.abc import Mapping
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
    """One tree object to write: its directory ("" is the root), id and entries."""

    path: str
    oid: str
    entries: tuple[tuple[bytes, int, str], ...]  # (name, mode, hex id), canonical order


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
    content: dict[str, dict[bytes, tuple[int, str]]] = {}
    for path in order:
        tree = old.get(path)
        content[path] = parse(tree[1], raw_len) if tree is not None else {}
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
        listed = tuple(sorted(((n, m, o) for n, (m, o) in content[path].items()), key=_sort_key))
        if path == "":
            if not listed and old.get("") is None:
                return None, written
            root = tree_id(listed, algorithm)
            before_tree = old.get("")
            if before_tree is None or before_tree[0] != root:
                written.append(NewTree("", root, listed))
            break
        parent, _, name_text = path.rpartition("/")
        name = os.fsencode(name_text)
        above = content[parent]
        existing = above.get(name)
        if not listed:  # an empty directory does not exist in git
            if existing is not None and existing[0] == TREE:
                del above[name]
            continue
        if existing is not None and existing[0] != TREE:
            raise TreeConflict(f"{path} is a file in HEAD")
        oid = tree_id(listed, algorithm)
        above[name] = (TREE, oid)
        before_tree = old.get(path)
        if before_tree is None or before_tree[0] != oid:
            written.append(NewTree(path, oid, listed))
    return root, written


def mktree_input(trees: list[NewTree]) -> bytes:
    """``git mktree -z --batch`` input writing ``trees`` in order, one id printed per tree."""
    out = bytearray()
    for tree in trees:
        for name, mode, oid in tree.entries:
            kind = b"tree" if mode == TREE else b"commit" if mode == GITLINK else b"blob"
            out += b"%o %s %s\t%s\0" % (mode, kind, oid.encode("ascii"), name)
        out += b"\0"
    return bytes(out)
