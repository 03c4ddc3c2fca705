"""The plan a roadmap becomes, and the work done on it after parsing: stable keys, defaults
inherited from parents, dependency references resolved within the roadmap, cycles cut.

Pure: no markdown parsing (:mod:`agentctl.store.roadmap` builds the tree), no I/O.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from agentctl.store import roadmap_fields as rf

KINDS = ("section", "task", "milestone", "sprint")


@dataclass
class Criterion:
    text: str
    done: bool = False


@dataclass(eq=False)
class Item:
    """One future task. ``status`` and ``labels`` are the item's own until :func:`finish`
    fills in what it inherits from its parents."""

    title: str
    kind: str
    line: int  # 1-based line of the roadmap where the item starts
    number: str | None = None  # "0.2", "3": its reference key
    word: str | None = None  # "phase", "week": the noun before the number, if any
    status: str | None = None  # roadmap_fields.DONE / IN_PROGRESS / BLOCKED / TODO
    estimate: str | None = None
    depends: list[tuple[str, int]] = field(
        default_factory=list
    )  # (Dependencies value as written, line)
    labels: list[str] = field(default_factory=list)
    owners: list[str] = field(default_factory=list)
    due: str | None = None
    priority: int | None = None
    criteria: list[Criterion] = field(default_factory=list)
    description: list[str] = field(default_factory=list)  # markdown parts, joined by blank lines
    children: list[Item] = field(default_factory=list)
    explicit: bool = False  # numbered or status-marked: kept even with nothing under it
    fields: dict[str, Any] = field(
        default_factory=dict
    )  # more task fields, set on create and on update (a spec's link and requirement hash)
    key: str = ""  # stable: a hash of the heading path and the item's text
    path: tuple[str, ...] = ()  # normalised titles from the top-level ancestor to this item
    parent: Item | None = field(default=None, repr=False)
    deps: list[Item] = field(default_factory=list, repr=False)  # resolved ``depends``
    dep_refs: list[tuple[str, int]] = field(
        default_factory=list, repr=False
    )  # what each of ``deps`` came from

    @property
    def label(self) -> str:
        """How the report names the item: its number if it has one, else its title."""
        if self.number is not None:
            return f"{self.word.capitalize()} {self.number}" if self.word else self.number
        return self.title if len(self.title) <= 60 else self.title[:57] + "..."

    def is_empty(self) -> bool:
        return not (self.children or self.description or self.criteria or self.estimate or self.depends
                    or self.owners or self.due or self.priority is not None or self.labels)  # fmt: skip


@dataclass(frozen=True)
class Ignored:
    line: int
    reason: str
    text: str = ""
    end: int | None = None  # last line of a block ignored as a whole


@dataclass(frozen=True)
class Unresolved:
    line: int
    item: str
    reference: str
    reason: str


@dataclass(frozen=True)
class CycleCut:
    line: int
    item: str
    reference: str
    cycle: tuple[str, ...]  # labels, first == last


@dataclass
class Plan:
    source: str
    items: list[Item] = field(default_factory=list)
    ignored: list[Ignored] = field(default_factory=list)
    unresolved: list[Unresolved] = field(default_factory=list)
    cycles: list[CycleCut] = field(default_factory=list)
    repaired_lines: int = 0
    lines: int = 0
    separator: str = "#"  # between ``source`` and an item's key in a task's ``source`` field

    def walk(self) -> Iterator[Item]:
        """Every item, parents before children, in document order (no recursion)."""
        stack = list(reversed(self.items))
        while stack:
            item = stack.pop()
            yield item
            stack.extend(reversed(item.children))

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(KINDS, 0)
        criteria = dependencies = 0
        for item in self.walk():
            counts[item.kind] += 1
            criteria += len(item.criteria)
            dependencies += len(item.deps)
        return {**counts, "criteria": criteria, "dependencies": dependencies,
                "unresolved": len(self.unresolved), "cycles": len(self.cycles), "ignored": len(self.ignored)}  # fmt: skip


def finish(plan: Plan) -> Plan:
    """After parsing: drop empty sections, inherit defaults, assign keys, resolve references
    and cut cycles. Deterministic: the same tree always gives the same result."""
    _prune(plan)
    items = list(plan.walk())
    for item in items:
        for child in item.children:
            child.parent = item
    _inherit(items)
    _assign_keys(plan, items)
    _resolve(plan, items)
    _cut_cycles(plan, items)
    return plan


def _prune(plan: Plan) -> None:
    """Where some parts of a section have structure (tasks, fields, criteria, a number or a
    status mark), an unnumbered heading with nothing under it is a divider (reported), and one
    with only prose under it is commentary (a subtitle, "Converting to GitHub issues"): its
    text joins the section's description. Where none has, the headings are the work items."""
    order = list(plan.walk())
    for item in reversed(order):  # children first
        item.children = _kept(plan, item.children, item)
    plan.items = _kept(plan, plan.items, None)


def _kept(plan: Plan, children: list[Item], parent: Item | None) -> list[Item]:
    if not any(not _empty(child) and not _prose_only(child) for child in children):
        return children  # only bare or prose headings: those headings are the work items
    result = []
    for child in children:
        if _empty(child):
            plan.ignored.append(
                Ignored(child.line, "heading with nothing to import under it", child.title)
            )
        elif not _prose_only(child):
            result.append(child)
        elif parent is None:
            plan.ignored.append(
                Ignored(child.line, "heading with only prose, outside any section", child.title)
            )
        else:
            parent.description.append(f"**{child.title}**")
            parent.description.extend(child.description)
            plan.ignored.append(
                Ignored(
                    child.line,
                    f"heading with only prose: added to the description of {parent.label!r}",
                    child.title,
                )
            )
    return result


def _empty(item: Item) -> bool:
    return item.kind == "section" and not item.explicit and item.is_empty()


def _prose_only(item: Item) -> bool:
    return item.kind == "section" and not item.explicit and bool(item.description) and not (
        item.children or item.criteria or item.estimate or item.depends or item.owners or item.due
        or item.priority is not None or item.labels or item.status
    )  # fmt: skip


def _inherit(items: list[Item]) -> None:
    """A done / blocked / to-do mark is the default of the children; so are labels. A section without a mark
    whose children are all done is done."""
    for item in items:  # parents first
        parent = item.parent
        if parent is not None:
            # "In progress" is not passed down: the section is under way, its parts are not.
            if item.status is None and parent.status in (rf.DONE, rf.BLOCKED, rf.TODO):
                item.status = parent.status
            if not item.labels:
                item.labels = [label for label in parent.labels if label != "milestone"]
    for item in reversed(items):  # children first
        if (
            item.children
            and item.status is None
            and all(c.status == rf.DONE for c in item.children)
        ):
            item.status = rf.DONE


def _assign_keys(plan: Plan, items: list[Item]) -> None:
    seen: dict[str, int] = {}
    for item in items:
        own = rf.normalise_ref(item.title) or item.kind
        item.path = (*(item.parent.path if item.parent else ()), own)
        text = "\x1f".join(item.path)
        count = seen.get(text, 0) + 1
        seen[text] = count
        if count > 1:  # the same text twice under one heading: told apart by order
            text += f"\x1f#{count}"
        item.key = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


# -- dependency references ------------------------------------------------------------------


class _Lookup:
    def __init__(self, items: list[Item]) -> None:
        self.numbered: dict[tuple[str | None, str], list[Item]] = {}
        self.titled: dict[str, list[Item]] = {}
        for item in items:
            if item.number is not None:
                self.numbered.setdefault((item.word, item.number), []).append(item)
                if item.word is not None:
                    self.numbered.setdefault((None, item.number), []).append(item)
            for variant in _title_variants(item):
                bucket = self.titled.setdefault(variant, [])
                if item not in bucket:
                    bucket.append(item)
        self.items = items

    def find(self, ref: str) -> list[Item]:
        word, number, rest = rf.strip_number(ref)
        if number is not None:
            found = self.numbered.get((word, number)) or []
            if not found and word is not None:
                found = [i for i in self.numbered.get((None, number), []) if i.word is None]
            if found:
                return found
        return self.titled.get(rf.normalise_ref(ref), [])


def _title_variants(item: Item) -> set[str]:
    variants = {rf.normalise_ref(item.title)}
    _, number, rest = rf.strip_number(item.title)
    if number is not None and rest:
        variants.add(rf.normalise_ref(rest))
    for text in list(variants):
        head = text.split(" (")[0]
        variants.add(head)
    variants.discard("")
    return variants


_PREVIOUS = (
    "all previous",
    "all prior",
    "all above",
    "everything above",
    "all earlier",
    "previous phases",
    "all of the above",
)


_SEPARATED = re.compile(r"[,;\n&]|\band\b")


def _references(lookup: _Lookup, value: str) -> list[str]:
    """The references in a Dependencies value: ``0.1, 0.2 and Phase 1`` is three, but
    ``HTTP checks with timeout and retries`` is one when a title of the roadmap says so."""
    plain = value.strip().strip(".").strip()
    if plain.lower() in rf.NO_REFERENCE:
        return []
    if (
        plain.lower().startswith(_PREVIOUS)
        or rf.normalise_ref(plain) in lookup.titled
        or not _SEPARATED.search(plain)
    ):
        return [plain]
    refs: list[str] = []
    for part in re.split(r"\s*[,;\n]\s*", plain):
        part = part.strip().strip(".").strip()
        if not part or part.lower() in rf.NO_REFERENCE:
            continue
        if (
            part.lower().startswith(_PREVIOUS)
            or rf.normalise_ref(part) in lookup.titled
            or not re.search(r"\band\b|&", part)
        ):
            pieces = [part]
        else:
            pieces = [p.strip() for p in re.split(r"\s*(?:\band\b|&)\s*", part) if p.strip()]
        refs.extend(p for p in pieces if p not in refs)
    return refs


def _resolve(plan: Plan, items: list[Item]) -> None:
    lookup = _Lookup(items)
    for item in items:
        for ref, line in (
            (ref, line) for value, line in item.depends for ref in _references(lookup, value)
        ):
            if ref.lower().startswith(_PREVIOUS):
                targets = _previous(plan, item, ref)
                if not targets:
                    plan.unresolved.append(
                        Unresolved(line, item.label, ref, "nothing comes before it")
                    )
                for target in targets:
                    _link(item, target, ref, line)
                continue
            found = lookup.find(ref)
            if found == [item]:
                plan.cycles.append(CycleCut(line, item.label, ref, (item.label, item.label)))
                continue
            found = [c for c in found if c is not item]
            if len(found) > 1:
                found = _nearest(item, found)
            if not found:
                plan.unresolved.append(
                    Unresolved(
                        line, item.label, ref, "no section, number or title of this roadmap matches"
                    )
                )
            elif len(found) > 1:
                where = ", ".join(f"line {c.line}" for c in found[:5])
                plan.unresolved.append(
                    Unresolved(line, item.label, ref, f"ambiguous: matches {where}")
                )
            else:
                _link(item, found[0], ref, line)


def _link(item: Item, target: Item, ref: str, line: int) -> None:
    if target not in item.deps:
        item.deps.append(target)
        item.dep_refs.append((ref, line))


def _previous(plan: Plan, item: Item, ref: str) -> list[Item]:
    """``All previous phases``: the earlier siblings of the item's ancestor of that kind (or
    of its top-level ancestor), those with the same number word when the reference names one."""
    words = ref.lower().split()
    noun = words[2].rstrip("s") if len(words) > 2 else None
    word = rf.NUMBER_WORDS.get(noun or "")
    chain = []
    node: Item | None = item
    while node is not None:
        chain.append(node)
        node = node.parent
    anchor = next((n for n in chain if word is not None and n.word == word), chain[-1])
    siblings = anchor.parent.children if anchor.parent is not None else plan.items
    before = siblings[: siblings.index(anchor)]
    return [
        s
        for s in before
        if word is None or s.word == word or (anchor.word is None and s.kind == "section")
    ]


def _ancestors(item: Item) -> list[Item]:
    chain = []
    node = item.parent
    while node is not None:
        chain.append(node)
        node = node.parent
    return chain


def _nearest(item: Item, found: list[Item]) -> list[Item]:
    """Of several matches, those sharing the deepest ancestor with ``item``."""
    mine = [item, *_ancestors(item)]
    best: list[Item] = []
    best_depth = -1
    for candidate in found:
        theirs = set(map(id, [candidate, *_ancestors(candidate)]))
        depth = next((len(mine) - i for i, node in enumerate(mine) if id(node) in theirs), 0)
        if depth > best_depth:
            best, best_depth = [candidate], depth
        elif depth == best_depth:
            best.append(candidate)
    return best


# -- cycles -----------------------------------------------------------------------------------


def _cut_cycles(plan: Plan, items: list[Item]) -> None:
    """Cut every dependency that closes a cycle, in document order, and report it.

    Parents are summaries (as in core/plan.py): a parent starts when its dependencies are met,
    its children start no earlier, and it finishes with its last child. So each item is two
    nodes, start and finish; ``a depends on b`` is start(a) after finish(b); a child's start
    is after its parent's start; a parent's finish is after each child's finish; an item's
    finish is after its start. A cycle in that graph is a plan nobody can schedule (this also
    catches an item depending on its own parent or subtask).
    """
    index = {id(item): n for n, item in enumerate(items)}
    count = len(items)

    def start(n: int) -> int:
        return n

    def finish_(n: int) -> int:
        return n + count

    edges: list[list[int]] = [[] for _ in range(2 * count)]
    for n, item in enumerate(items):
        edges[finish_(n)].append(start(n))
        if item.parent is not None:
            p = index[id(item.parent)]
            edges[start(n)].append(start(p))
            edges[finish_(p)].append(finish_(n))
    dep_edges = [(n, index[id(dep)]) for n, item in enumerate(items) for dep in item.deps]
    for n, d in dep_edges:
        edges[start(n)].append(finish_(d))
    cyclic = _cyclic_nodes(edges)
    if not cyclic:
        return
    # Only dependencies inside a cycle can close one: take those out, then add them back one
    # by one in document order, refusing each one that would close a cycle.
    for node in range(count):
        if node in cyclic:
            edges[node] = [t for t in edges[node] if not (t >= count and t in cyclic)]
    for n, d in dep_edges:
        source, target = start(n), finish_(d)
        if source not in cyclic or target not in cyclic:
            continue
        path = _path(edges, target, source, cyclic)
        if path is None:
            edges[source].append(target)
            continue
        item, dep = items[n], items[d]
        position = item.deps.index(dep)
        ref, line = item.dep_refs[position]
        del item.deps[position], item.dep_refs[position]
        labels = [item.label]
        for node in path:
            owner = items[node % count]
            if owner.label != labels[-1]:
                labels.append(owner.label)
        if labels[-1] != item.label:
            labels.append(item.label)
        plan.cycles.append(CycleCut(line, item.label, ref, tuple(labels)))


def _cyclic_nodes(edges: list[list[int]]) -> set[int]:
    """Items on a dependency cycle: the members of every tangle (core/graph.py)."""
    from agentctl.core.graph import tangles

    return {item for tangle in tangles(dict(enumerate(edges))) for item in tangle}


def _path(edges: list[list[int]], source: int, goal: int, within: set[int]) -> list[int] | None:
    """A path source -> ... -> goal inside ``within`` (breadth first), or None."""
    previous: dict[int, int] = {source: source}
    queue = [source]
    for node in queue:
        if node == goal:
            path = [node]
            while path[-1] != source:
                path.append(previous[path[-1]])
            return list(reversed(path))
        for target in edges[node]:
            if target in within and target not in previous:
                previous[target] = node
                queue.append(target)
    return None
