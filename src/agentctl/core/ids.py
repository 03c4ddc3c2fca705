"""Record IDs: a type prefix plus 60 random bits in lowercase Crockford base32.

IDs are random so that machines sharing one git remote never need to coordinate; 60 bits
make a collision among a million tasks about a one-in-two-million event, and new files are
created with create-never-overwrite semantics so even that cannot clobber a record.

Commands display the shortest unique prefix (at least :data:`MIN_PREFIX` characters after
the type prefix) and accept any unique prefix, git style.
"""

from __future__ import annotations

import bisect
import os
from collections.abc import Sequence

from agentctl.errors import AmbiguousError, NotFoundError, UsageError

ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford: no i, l, o, u
RANDOM_CHARS = 12  # 12 * 5 = 60 bits
MIN_PREFIX = 4

TASK = "t"
MESSAGE = "m"
EVENT = "e"
DOC = "d"
SPEC = "s"
NOTIFICATION = "n"

_CROCKFORD_ALIASES = str.maketrans({"i": "1", "l": "1", "o": "0"})


def new_id(kind: str) -> str:
    """A fresh random ID such as ``t-4k7q2m9x3bce``."""
    bits = int.from_bytes(os.urandom(8), "big") >> (64 - 5 * RANDOM_CHARS)
    chars = [ALPHABET[(bits >> (5 * i)) & 31] for i in reversed(range(RANDOM_CHARS))]
    return kind + "-" + "".join(chars)


def is_id(kind: str, value: str) -> bool:
    prefix = kind + "-"
    if not value.startswith(prefix) or len(value) != len(prefix) + RANDOM_CHARS:
        return False
    return all(c in ALPHABET for c in value[len(prefix) :])


def normalize_ref(kind: str, ref: str) -> str:
    """Turn user input (``4K7Q``, ``T-4k7q``, ``t-4k7q``) into a lowercase ``t-`` prefix.

    Crockford's look-alike letters (i, l, o) are read as the digits they stand for.
    """
    text = ref.strip().lower()
    prefix = kind + "-"
    text = text.removeprefix(prefix)
    text = text.translate(_CROCKFORD_ALIASES)
    if not text or any(c not in ALPHABET for c in text) or len(text) > RANDOM_CHARS:
        raise UsageError(f"not a valid {_kind_name(kind)} ID: {ref!r}")
    return prefix + text


def resolve(kind: str, ref: str, sorted_ids: Sequence[str]) -> str:
    """The one ID in ``sorted_ids`` (ascending) that starts with ``ref``.

    A full ID is accepted as is; a prefix must carry at least MIN_PREFIX characters unless it
    is already unique. Ambiguity lists the candidates.
    """
    wanted = normalize_ref(kind, ref)
    start = bisect.bisect_left(sorted_ids, wanted)
    matches: list[str] = []
    for candidate in sorted_ids[start:]:
        if not candidate.startswith(wanted):
            break
        matches.append(candidate)
        if len(matches) > 10:
            break
    if not matches:
        raise NotFoundError(f"no {_kind_name(kind)} matches {ref!r}")
    if len(matches) > 1:
        shown = ", ".join(matches[:10]) + (", ..." if len(matches) > 10 else "")
        raise AmbiguousError(f"{ref!r} is ambiguous: it matches {shown}")
    return matches[0]


def short_ids(sorted_ids: Sequence[str]) -> dict[str, str]:
    """Shortest unique prefix of every ID (ascending input), at least MIN_PREFIX random chars.

    In a sorted list an ID's longest common prefix with any other ID is the one with a
    neighbour, so this is linear after the sort.
    """
    result: dict[str, str] = {}
    n = len(sorted_ids)
    for i, ident in enumerate(sorted_ids):
        base = ident.find("-") + 1 + MIN_PREFIX
        head = ident[:base]
        length = base
        for j in (i - 1, i + 1):
            # Random IDs rarely share MIN_PREFIX characters: compare slices before walking.
            if 0 <= j < n and sorted_ids[j][:base] == head:
                length = max(length, _common_prefix(ident, sorted_ids[j]) + 1)
        result[ident] = ident[:length]
    return result


def short_id(ident: str, neighbours: Sequence[str]) -> str:
    """Shortest unique prefix of ``ident`` given the IDs next to it in sort order."""
    base = ident.find("-") + 1 + MIN_PREFIX
    head = ident[:base]
    length = base
    for other in neighbours:
        # Random IDs rarely share MIN_PREFIX characters: compare slices before walking.
        if other != ident and other[:base] == head:
            length = max(length, _common_prefix(ident, other) + 1)
    return ident[:length]


def _common_prefix(a: str, b: str) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def _kind_name(kind: str) -> str:
    return {
        TASK: "task",
        MESSAGE: "message",
        EVENT: "event",
        DOC: "document",
        SPEC: "spec",
        NOTIFICATION: "notification",
    }.get(kind, "record")
