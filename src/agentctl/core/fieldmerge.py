"""Three-way merge of record frontmatter, field by field (the rules of the git merge driver).

A field changed on one side only takes that side's value; the same change on both sides is
kept once; list fields merge as sets (both sides' additions kept, either side's removals
applied); timestamps that every write touches (``updated_at``) take the later one. A scalar
(or mapping) field changed differently on both sides is a conflict: the caller shows both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Written on every change of a record: both sides always touch it, the later write wins.
LATEST_WINS = frozenset({"updated_at"})

_MISSING: Any = object()


@dataclass
class FieldMerge:
    """The merged fields (ours where they conflict) and the conflicting fields in order."""

    fields: dict[str, Any]
    conflicts: list[str] = field(default_factory=list)
    theirs: dict[str, Any] = field(default_factory=dict)  # their value of each conflict


def _is_set_like(*values: Any) -> bool:
    present = [v for v in values if v is not _MISSING and v is not None]
    return bool(present) and all(
        isinstance(v, list) and all(not isinstance(x, (dict, list)) for x in v) for v in present
    )


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else []


def merge_set(base: Any, ours: Any, theirs: Any) -> list[Any]:
    """Both sides' additions, without what either side removed; ours' order, then theirs'."""
    base_items, our_items, their_items = _as_list(base), _as_list(ours), _as_list(theirs)
    removed = {x for x in base_items if x not in our_items or x not in their_items}
    merged: list[Any] = []
    for item in [*our_items, *their_items]:
        if item not in removed and item not in merged:
            merged.append(item)
    return merged


def merge_fields(
    base: Mapping[str, Any], ours: Mapping[str, Any], theirs: Mapping[str, Any]
) -> FieldMerge:
    """Merge three versions of a frontmatter mapping. Keys keep ours' order; keys only
    theirs added follow. A key removed on one side and unchanged on the other is removed."""
    order = list(ours) + [k for k in theirs if k not in ours]
    order += [k for k in base if k not in order]
    result = FieldMerge(fields={})
    for key in order:
        o, a, b = base.get(key, _MISSING), ours.get(key, _MISSING), theirs.get(key, _MISSING)
        if a == b:
            value = a
        elif a == o:
            value = b
        elif b == o:
            value = a
        elif key in LATEST_WINS and isinstance(a, str) and isinstance(b, str):
            value = max(a, b)
        elif _is_set_like(o, a, b):
            value = merge_set(o, a, b)
        else:
            result.conflicts.append(key)
            result.theirs[key] = None if b is _MISSING else b
            value = a
        if value is not _MISSING:
            result.fields[key] = value
    return result
