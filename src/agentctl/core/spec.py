"""Specs, pure: the sections of a spec's markdown body, its requirements (``R1``, ``R2`` ...)
and milestones (``M1`` ...) with their stable anchors, the hash of a requirement's text that
drift checks compare, the body written from an expansion, and the simulated runtime's
deterministic questions and expansion.

An anchor is the ID written at the start of a list item or a heading in the Requirements or
Milestones section (``- **R3**: ...``, ``### R3: ...``). IDs are never renumbered: a new
requirement takes the next free number, so ``spec: s-…#R3`` on a task stays true while the
text around it changes. The rules are in docs/specs.md.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from agentctl.core.duration import parse_estimate

SUMMARY = "Summary"
GOALS = "Goals"
NON_GOALS = "Non-goals"
REQUIREMENTS = "Requirements"
ACCEPTANCE = "Acceptance criteria"
MILESTONES = "Milestones"
QUESTIONS = "Open questions"
ASSUMPTIONS = "Assumptions"
SECTIONS = (SUMMARY, GOALS, NON_GOALS, REQUIREMENTS, ACCEPTANCE, MILESTONES, QUESTIONS, ASSUMPTIONS)
MAX_QUESTIONS = 8
MAX_BODY_CHARS = 200_000

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
_ITEM = re.compile(r"^(\s*)(?:[-*+]|\d{1,3}[.)])\s+(?:\[[ xX]\]\s+)?(.*)$")
_ANCHOR = re.compile(
    r"^(?:\*\*|__)?([RM][1-9][0-9]{0,3})(?:\*\*|__)?(?:\s*[:.)\-–—]\s*|\s+|$)(.*)$"
)
_FIELD = re.compile(
    r"\s*\((estimate|est|depends on|after|labels?)\s*:?\s*([^()]*)\)\s*$", re.IGNORECASE
)
_REQ_REF = re.compile(r"\bR[1-9][0-9]{0,3}\b")
_LABEL = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_LINK = re.compile(r"^(s-[0-9a-z]{12})#([RM][1-9][0-9]{0,3})$")


@dataclass(frozen=True)
class Requirement:
    id: str
    text: str  # the whole item, whitespace collapsed, fields included (what is hashed)
    title: str  # the text without its trailing fields
    line: int  # 1-based line of the body
    estimate: str | None = None
    depends_on: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()

    @property
    def hash(self) -> str:
        return text_hash(self.text)


@dataclass(frozen=True)
class Milestone:
    id: str
    title: str
    text: str
    line: int
    requirements: tuple[str, ...] = ()

    @property
    def hash(self) -> str:
        return text_hash(self.text)


@dataclass
class ParsedSpec:
    requirements: list[Requirement] = field(default_factory=list)
    milestones: list[Milestone] = field(default_factory=list)
    acceptance: list[str] = field(default_factory=list)
    sections: dict[str, str] = field(default_factory=dict)  # section name -> its text
    problems: list[str] = field(default_factory=list)  # "line N: ..." (duplicates, bad refs)

    def anchors(self) -> dict[str, str]:
        """Every anchor -> the hash of its text."""
        found = {r.id: r.hash for r in self.requirements}
        found.update({m.id: m.hash for m in self.milestones})
        return found

    def requirement(self, anchor: str) -> Requirement | None:
        return next((r for r in self.requirements if r.id == anchor), None)


def text_hash(text: str) -> str:
    """12 hex digits of the SHA-256 of the text with its whitespace collapsed (re-wrapping a
    line is not an edit)."""
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()[:12]


def split_link(link: str) -> tuple[str, str] | None:
    """``s-…#R3`` -> (spec ID, anchor); None if the text is not such a link."""
    match = _LINK.match(link)
    return (match.group(1), match.group(2)) if match else None


def link(spec_id: str, anchor: str) -> str:
    return f"{spec_id}#{anchor}"


# -- parsing -----------------------------------------------------------------------------------


def _sections(body: str) -> list[tuple[str, int, list[str]]]:
    """(name, first line number, lines) of every ``## `` section; fenced code is skipped."""
    found: list[tuple[str, int, list[str]]] = []
    fence: str | None = None
    for number, line in enumerate(body.split("\n"), start=1):
        fenced = _FENCE.match(line)
        if fenced:
            fence = (
                None if fence is not None and fenced.group(1)[0] == fence[0] else fenced.group(1)
            )
        heading = _HEADING.match(line) if fence is None and not fenced else None
        if heading and len(heading.group(1)) == 2:
            found.append((heading.group(2).strip(), number, []))
        elif found:
            found[-1][2].append(line)
    return found


def _items(lines: list[str], first: int) -> list[tuple[int, str, bool]]:
    """(line, text, is_heading) of the list items and sub-headings of a section, with their
    continuation lines joined."""
    items: list[tuple[int, str, bool]] = []
    fence = False
    for offset, line in enumerate(lines, start=1):
        if _FENCE.match(line):
            fence = not fence
            continue
        if fence or line.strip().startswith("<!--"):
            continue
        heading = _HEADING.match(line)
        item = _ITEM.match(line)
        if heading:
            items.append((first + offset, heading.group(2), True))
        elif item and not item.group(1):
            items.append((first + offset, item.group(2), False))
        elif line.strip() and items:
            number, text, is_heading = items[-1]
            items[-1] = (number, f"{text} {line.strip()}", is_heading)
        elif not line.strip() and items and not items[-1][2]:
            continue
    return items


def _fields(
    text: str, line: int, problems: list[str]
) -> tuple[str, str | None, list[str], list[str]]:
    """The text without its trailing ``(estimate: 4h)``, ``(depends on R1, R2)`` and
    ``(labels: api, backend)`` groups, and their values."""
    estimate: str | None = None
    depends: list[str] = []
    labels: list[str] = []
    while True:
        match = _FIELD.search(text)
        if not match:
            break
        key, value = match.group(1).lower(), match.group(2).strip()
        text = text[: match.start()].rstrip()
        if key in ("estimate", "est"):
            compact = value.replace(" ", "")
            try:
                parse_estimate(compact)
                estimate = compact
            except ValueError:
                problems.append(f"line {line}: estimate {value!r} is not a duration like 4h or 2d")
        elif key in ("depends on", "after"):
            depends = _REQ_REF.findall(value) + [d for d in depends if d not in value]
        else:
            labels = [w.strip().lower() for w in value.split(",") if w.strip()]
            bad = [w for w in labels if not _LABEL.match(w)]
            if bad:
                problems.append(f"line {line}: label {bad[0]!r} is not a lowercase word")
                labels = [w for w in labels if _LABEL.match(w)]
    return text, estimate, depends, labels


def parse(body: str) -> ParsedSpec:
    """The requirements, milestones, acceptance criteria and sections of a spec body."""
    spec = ParsedSpec()
    seen: dict[str, int] = {}
    for name, first, lines in _sections(body):
        spec.sections[name] = "\n".join(lines).strip("\n")
        lowered = name.lower()
        if lowered == ACCEPTANCE.lower():
            spec.acceptance += [
                text.strip() for _, text, heading in _items(lines, first) if not heading
            ]
            continue
        if lowered not in (REQUIREMENTS.lower(), MILESTONES.lower()):
            continue
        kind = "R" if lowered == REQUIREMENTS.lower() else "M"
        for number, text, _ in _items(lines, first):
            anchor = _ANCHOR.match(text.strip())
            if not anchor or anchor.group(1)[0] != kind:
                continue
            ident, rest = anchor.group(1), " ".join(anchor.group(2).split())
            if ident in seen:
                spec.problems.append(
                    f"line {number}: {ident} is already used on line {seen[ident]}"
                )
                continue
            seen[ident] = number
            if kind == "R":
                title, estimate, depends, labels = _fields(rest, number, spec.problems)
                spec.requirements.append(
                    Requirement(
                        ident, rest, title or ident, number, estimate, tuple(depends), tuple(labels)
                    )
                )
            else:
                refs = re.search(r"\(([^()]*)\)\s*$", rest)
                listed = tuple(_REQ_REF.findall(refs.group(1))) if refs else ()
                title = rest[: refs.start()].rstrip() if refs and listed else rest
                spec.milestones.append(Milestone(ident, title or ident, rest, number, listed))
    known = {r.id for r in spec.requirements}
    for requirement in spec.requirements:
        for dep in requirement.depends_on:
            if dep not in known:
                spec.problems.append(
                    f"line {requirement.line}: {requirement.id} depends on {dep}, which the spec does not define"
                )
    for milestone in spec.milestones:
        for ref in milestone.requirements:
            if ref not in known:
                spec.problems.append(
                    f"line {milestone.line}: {milestone.id} lists {ref}, which the spec does not define"
                )
    return spec  # fmt: skip


# -- writing -------------------------------------------------------------------------------------


def _bullets(lines: list[str]) -> str:
    return "\n".join(f"- {line}" for line in lines)


def requirement_line(requirement: dict[str, Any]) -> str:
    text = f"**{requirement['id']}**: {requirement['text']}"
    if requirement.get("estimate"):
        text += f" (estimate: {requirement['estimate']})"
    if requirement.get("depends_on"):
        text += f" (depends on {', '.join(requirement['depends_on'])})"
    if requirement.get("labels"):
        text += f" (labels: {', '.join(requirement['labels'])})"
    return text


def render(
    title: str, expansion: dict[str, Any], answered: list[tuple[str, str]] | None = None
) -> str:
    """The body of a spec written out from a (validated) expansion; ``answered`` are the
    clarifying questions and their answers, kept under Assumptions."""
    milestones = [
        f"**{m['id']}**: {m['title']}" + (f" ({', '.join(m['requirements'])})" if m.get("requirements") else "")
        for m in expansion.get("milestones", [])
    ]  # fmt: skip
    assumptions = list(expansion.get("assumptions", []))
    assumptions += [f"Answered: {q} — {a}" for q, a in answered or []]
    parts = [f"# {title}"]
    sections = {
        SUMMARY: expansion["summary"].strip(),
        GOALS: _bullets(expansion.get("goals", [])),
        NON_GOALS: _bullets(expansion.get("non_goals", [])),
        REQUIREMENTS: _bullets([requirement_line(r) for r in expansion["requirements"]]),
        ACCEPTANCE: _bullets(expansion.get("acceptance", [])),
        MILESTONES: _bullets(milestones),
        QUESTIONS: _bullets(expansion.get("questions", [])),
        ASSUMPTIONS: _bullets(assumptions),
    }
    for name in SECTIONS:
        parts.append(f"## {name}" + (f"\n\n{sections[name]}" if sections[name] else ""))
    return "\n\n".join(parts) + "\n"


def check_expansion(expansion: dict[str, Any]) -> list[str]:
    """What the schema cannot say: requirement IDs unique, references defined."""
    problems: list[str] = []
    ids = [r["id"] for r in expansion["requirements"]]
    for ident in sorted({i for i in ids if ids.count(i) > 1}):
        problems.append(f"requirements: {ident} is used twice")
    known = set(ids)
    for n, requirement in enumerate(expansion["requirements"]):
        for dep in requirement.get("depends_on", []):
            if dep not in known:
                problems.append(f"requirements.{n}.depends_on: {dep} is not a requirement")
    for n, milestone in enumerate(expansion.get("milestones", [])):
        for ref in milestone.get("requirements", []):
            if ref not in known:
                problems.append(f"milestones.{n}.requirements: {ref} is not a requirement")
    return problems


# -- the simulated runtime -------------------------------------------------------------------


def simulated_questions(title: str) -> list[str]:
    """The clarifying questions the simulated runtime asks, most important first."""
    subject = _subject(title)
    return [
        f"Who uses {subject}, and what do they need from it first?",
        f"What limits or numbers must {subject} respect?",
        f"What must {subject} never do?",
        f"By when is a first version of {subject} needed?",
    ]


def simulated_expansion(
    title: str, answers: list[tuple[str, str]] | None, no_questions: bool
) -> dict[str, Any]:
    """A deterministic expansion of an idea: the same title and answers always give the same
    spec (tests and the demo use it; no model involved)."""
    subject = _subject(title)
    asked = simulated_questions(title)
    given = {q: a.strip() for q, a in (answers or []) if a.strip()}
    limits = given.get(asked[1])
    users = given.get(asked[0])
    assumptions: list[str] = []
    questions: list[str] = []
    for question in asked:
        if question in given:
            continue
        if no_questions:
            assumptions.append(f"Assumed without asking: {_assumption(question)}")
        else:
            questions.append(question)
    core = f"Implement the core of {subject}" + (f", respecting: {limits}" if limits else "")
    return {
        "summary": f"{title}. " + (f"For {users}. " if users else "")
        + "This spec turns the idea into requirements the team can plan and deliver.",
        "goals": [f"{subject[0].upper()}{subject[1:]} works end to end", "Behaviour is tested and documented"],
        "non_goals": [f"Redesigning what surrounds {subject}"],
        "requirements": [
            {"id": "R1", "text": f"Define the behaviour and interfaces of {subject}", "estimate": "2h", "labels": ["design"]},
            {"id": "R2", "text": core, "estimate": "4h", "depends_on": ["R1"], "labels": ["backend"]},
            {"id": "R3", "text": f"Make {subject} configurable, with safe defaults", "estimate": "2h", "depends_on": ["R2"], "labels": ["backend"]},
            {"id": "R4", "text": f"Cover {subject} with automated tests", "estimate": "3h", "depends_on": ["R2"], "labels": ["testing"]},
            {"id": "R5", "text": f"Document {subject} for its users", "estimate": "1h", "depends_on": ["R3"], "labels": ["docs"]},
        ],
        "acceptance": [
            f"R1: the behaviour of {subject} is written down and agreed",
            f"R2: {subject} works for the main case",
            "R3: every setting has a default and is validated",
            "R4: the tests pass in CI",
            "R5: the user documentation describes every setting",
        ],
        "milestones": [
            {"id": "M1", "title": "First usable version", "requirements": ["R1", "R2", "R3"]},
            {"id": "M2", "title": "Ready to ship", "requirements": ["R4", "R5"]},
        ],
        "questions": questions,
        "assumptions": assumptions,
    }  # fmt: skip


def _subject(title: str) -> str:
    text = " ".join(title.split()).rstrip(".")
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


def _assumption(question: str) -> str:
    if question.startswith("Who uses"):
        return "its users are the people who asked for it"
    if question.startswith("What limits"):
        return "the limits are configurable, with conservative defaults"
    if question.startswith("What must"):
        return "it must never lose or corrupt existing data"
    return "a first version is needed within a few weeks"
