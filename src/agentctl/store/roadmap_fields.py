"""The words inside a roadmap: labelled fields, status marks, estimates, numbers, references.

Pure text functions over one line (or one table cell) at a time; the structure of the
document is :mod:`agentctl.store.roadmap`'s job. Regular expressions here never look at
more than a single inline's text.
"""

from __future__ import annotations

import functools
import re
from datetime import date, datetime

from agentctl.core.duration import parse_estimate

# Statuses as the importer knows them; the workspace maps them onto the workflow.
DONE = "done"
IN_PROGRESS = "in_progress"
BLOCKED = "blocked"
TODO = "todo"

# -- labelled fields --------------------------------------------------------------------

FIELD_NAMES: dict[str, str] = {
    **dict.fromkeys(
        ("estimated time", "estimate", "estimated effort", "effort", "time estimate", "est", "est.",
         "estimated duration", "duration", "time", "estimated hours", "effort estimate"), "estimate"),
    **dict.fromkeys(
        ("dependencies", "depends on", "depends", "dependency", "blocked by", "requires", "prerequisites",
         "prerequisite", "prereqs", "after", "needs"), "depends"),
    **dict.fromkeys(
        ("agent type", "agent types", "agent", "agents", "role", "roles", "agent role", "labels", "label", "tags",
         "tag", "skills", "skill", "team", "area", "component", "type"), "labels"),
    **dict.fromkeys(("status", "state", "progress"), "status"),
    **dict.fromkeys(
        ("owner", "owners", "assignee", "assignees", "assigned to", "assigned", "responsible", "dri", "lead"), "owner"),
    **dict.fromkeys(("due", "due date", "deadline", "target", "target date", "eta", "date", "due by"), "due"),
    **dict.fromkeys(("priority", "prio"), "priority"),
    **dict.fromkeys(
        ("acceptance criteria", "acceptance criterion", "acceptance", "exit criteria", "success criteria",
         "success metrics", "success metric", "deliverables", "deliverable", "definition of done", "done when",
         "acceptance tests", "acceptance test", "key success criteria", "outcomes", "expected outcome",
         "key results"), "criteria"),
    **dict.fromkeys(
        ("tasks", "subtasks", "sub-tasks", "todo", "to do", "to-do", "checklist", "work items", "action items",
         "steps", "items", "key tasks", "work", "scope", "implementation", "activities", "stories"), "tasks"),
    **dict.fromkeys(("example", "examples", "example issues", "e.g.", "for example", "sample"), "examples"),
}  # fmt: skip

_LABEL_LINE = re.compile(r"^\s*([A-Za-z][A-Za-z .'/-]{0,40}?)\s*:\s*(.*)$", re.DOTALL)

# Headings that name notes about the plan rather than work in it (their content is not tasks).
INFO_SECTIONS = frozenset(
    ("overview", "introduction", "background", "context", "vision", "summary", "executive summary",
     "conclusion", "conclusions", "notes", "note", "references", "reference", "appendix", "glossary", "faq",
     "table of contents", "contents", "toc", "resource requirements", "resources", "team", "team composition",
     "budget", "costs", "infrastructure costs", "risks", "risks and mitigations", "assumptions",
     "open questions", "out of scope", "non-goals", "non goals", "changelog", "revision history", "legend",
     "status legend", "key", "how to use this document", "how to read this roadmap", "about")
)  # fmt: skip
_INFO_SUFFIXES = (
    " overview",
    " strategy",
    " legend",
    " glossary",
    " notes",
    " appendix",
    " references",
)


def field_name(label: str) -> str | None:
    """The field a label names (``Estimated Time`` -> ``estimate``), or None."""
    return FIELD_NAMES.get(" ".join(label.lower().split()))


_NEXT_FIELD = re.compile(r"(?<=[.;|])\s+(?=([A-Za-z][A-Za-z ]{0,30}?)\s*:\s)")


def split_fields(text: str) -> list[str]:
    """A line holding several labelled fields (``Owner: Web team. Target: end of Q2.``) as
    one text per field; other lines unchanged."""
    if split_field(text) is None:
        return [text]
    parts: list[str] = []
    start = 0
    for match in _NEXT_FIELD.finditer(text):
        if field_name(match.group(1)) is not None:
            parts.append(text[start : match.start()].strip())
            start = match.end()
    parts.append(text[start:].strip())
    return [p.rstrip(".;| ").strip() or p for p in parts]


def split_field(text: str) -> tuple[str, str] | None:
    """``(field, value)`` if ``text`` is one labelled field (``Dependencies: 0.1``)."""
    match = _LABEL_LINE.match(text)
    if not match:
        return None
    name = field_name(match.group(1))
    return (name, match.group(2).strip()) if name else None


def section_role(title: str) -> str | None:
    """``criteria`` for an Acceptance Criteria / Deliverables heading, ``info`` for notes
    (Overview, Conclusion, ...), ``examples``, or None for a heading of work."""
    plain = " ".join(re.sub(r"[^\w\s/&'-]", " ", strip_number(title)[2].lower()).split()).strip(
        " :"
    )
    name = FIELD_NAMES.get(plain)
    if name in ("criteria", "examples"):
        return name
    if plain in INFO_SECTIONS or plain.endswith(_INFO_SUFFIXES):
        return "info"
    return None


# -- status marks -----------------------------------------------------------------------

EMOJI_STATUS: dict[str, str] = {
    **dict.fromkeys(("✅", "✔️", "✔", "☑️", "☑", "✓", "🟢", "🎉"), DONE),
    **dict.fromkeys(("🚧", "🔄", "⏳", "🟡", "🏗️", "🏗", "▶️", "🔨", "🛠️"), IN_PROGRESS),
    **dict.fromkeys(("❌", "⛔", "🛑", "🔴", "🚫", "✖️", "✖"), BLOCKED),
    **dict.fromkeys(("⬜", "☐", "🔲", "⭕", "💤", "⏸️", "⏸", "🔜", "📅"), TODO),
}  # fmt: skip
STATUS_WORDS: dict[str, str] = {
    **dict.fromkeys(
        ("done", "complete", "completed", "finished", "shipped", "delivered", "closed", "resolved", "merged",
         "released", "live", "achieved", "met", "yes"), DONE),
    **dict.fromkeys(
        ("in progress", "in-progress", "wip", "ongoing", "started", "active", "doing", "underway",
         "under way", "in review", "review", "testing", "in development", "partial", "partially done"), IN_PROGRESS),
    **dict.fromkeys(("blocked", "on hold", "stuck", "failed", "at risk", "cancelled", "canceled", "missed"), BLOCKED),
    **dict.fromkeys(
        ("todo", "to do", "not started", "planned", "pending", "open", "backlog", "tbd", "next", "upcoming",
         "deferred", "postponed", "parked", "later", "future", "no", "not done", "queued", "ready"), TODO),
}  # fmt: skip
_EMOJI_ALT = "|".join(sorted((re.escape(e) for e in EMOJI_STATUS), key=len, reverse=True))
_LEAD_EMOJI = re.compile(rf"^\s*({_EMOJI_ALT})\ufe0f?\s*")
_TRAIL_EMOJI = re.compile(rf"\s*({_EMOJI_ALT})\ufe0f?\s*$")
_CHECKBOX = re.compile(r"^\s*\[([ xX/\-~])\]\s+")
_BRACKETED = re.compile(r"\s*[(\[]\s*([^()\[\]]{1,60}?)\s*[)\]]\s*$")
_LEAD_BRACKET = re.compile(r"^\s*\[\s*([A-Za-z][A-Za-z -]{1,20}?)\s*\]\s*")
_TRAIL_DASH = re.compile(r"\s+[-–—]\s+([A-Za-z][A-Za-z -]{1,20}?)\s*$")
_DECOR = re.compile(r"^[^\w\[(\"'`~*#@$€£¥%&+<>-]+\s*")


def status_word(text: str) -> str | None:
    """The status a word or mark names (``Complete``, ``in progress``, ``✅``), or None."""
    plain = " ".join(text.strip().strip(".!*_").lower().split())
    if not plain:
        return None
    for emoji, status in EMOJI_STATUS.items():  # "✅ Done", "🚧 WIP"
        if plain.startswith(emoji):
            return status
    if plain in STATUS_WORDS:
        return STATUS_WORDS[plain]
    match = re.match(r"^(\d{1,3})\s*%$", plain)
    if match:
        percent = int(match.group(1))
        return DONE if percent >= 100 else (IN_PROGRESS if percent > 0 else TODO)
    return None


def checkbox(text: str) -> tuple[str | None, str]:
    """A leading ``[ ]`` / ``[x]`` / ``[/]`` / ``[-]``: (status, the rest)."""
    match = _CHECKBOX.match(text)
    if not match:
        return None, text
    mark = match.group(1)
    status = {" ": TODO, "x": DONE, "X": DONE, "/": IN_PROGRESS, "-": BLOCKED, "~": BLOCKED}[mark]
    return status, text[match.end() :]


def take_marks(text: str) -> tuple[str | None, str]:
    """Status marks at either end of a title (✅ / ``(Complete)`` / ``[DONE]`` / ``- done``):
    (the first status found, the title without them)."""
    if text.isascii() and not any(c in text for c in "([-"):
        return None, text  # no emoji, no brackets, no dash: no mark (the common case, fast)
    found: str | None = None
    changed = True
    while changed:
        changed = False
        for pattern in (_LEAD_EMOJI, _TRAIL_EMOJI):
            match = pattern.search(text)
            if match:
                found = found or EMOJI_STATUS[match.group(1)]
                text = (
                    text[: match.start()] + " " + text[match.end() :]
                    if pattern is _LEAD_EMOJI
                    else text[: match.start()]
                )
                text = text.strip()
                changed = True
        for pattern in (_BRACKETED, _LEAD_BRACKET, _TRAIL_DASH):
            match = pattern.search(text)
            if match and match.start() > 0 or (match and pattern is _LEAD_BRACKET):
                status = status_word(match.group(1))
                if status is not None:
                    found = found or status
                    text = (text[: match.start()] + " " + text[match.end() :]).strip()
                    changed = True
    return found, text


_TRAIL_GROUP = re.compile(r"\s*[(\[]\s*([^()\[\]]{1,80}?)\s*[)\]]\s*$")
_TRAIL_MENTION = re.compile(r"\s+@([A-Za-z0-9][\w.-]{0,63})\s*$")
_INLINE_DEPENDS = re.compile(
    r"^(?:depends on|dependencies|after|needs|blocked by|requires)\s*:?\s+(.+)$", re.IGNORECASE
)
_INLINE_DUE = re.compile(r"^(?:due|by|deadline|target)\s*:?\s+(.+)$", re.IGNORECASE)


def take_trailing_fields(text: str) -> tuple[dict[str, str], str]:
    """Fields written at the end of a title: ``Build login (4-6h)``, ``(depends on 1.2)``,
    ``[owner: alice]``, ``(P1, 2 days)``, ``@alice``. Groups that are not all fields stay."""
    fields: dict[str, str] = {}
    while True:
        mention = _TRAIL_MENTION.search(text)
        if mention and mention.start() > 0:
            fields.setdefault("owner", mention.group(1))
            text = text[: mention.start()]
            continue
        match = _TRAIL_GROUP.search(text)
        if not match or match.start() == 0:
            break
        found, rest = _group_fields(match.group(1))
        if not found:
            break
        for name, value in found.items():
            fields.setdefault(name, value)
        text = text[: match.start()] + (f" ({rest})" if rest else "")
        if rest:
            break
    return fields, text.rstrip()


def _group_fields(inner: str) -> tuple[dict[str, str], str]:
    """The fields in a trailing group and the words that are not fields (kept in the title);
    no fields at all: ({}, inner)."""
    result: dict[str, str] = {}
    rest: list[str] = []
    last: str | None = None
    for part in re.split(r"\s*[,;|]\s*", inner.strip()):
        if not part:
            continue
        labelled = split_field(part)
        depends = _INLINE_DEPENDS.match(part)
        due = _INLINE_DUE.match(part)
        if labelled is not None and labelled[0] in (
            "estimate",
            "depends",
            "owner",
            "due",
            "priority",
            "labels",
        ):
            last, value = labelled
            result[last] = f"{result[last]}, {value}" if last in result else value
        elif depends:
            last = "depends"
            result["depends"] = depends.group(1)
        elif due and parse_due(due.group(1)):
            last, result["due"] = "due", due.group(1)
        elif parse_estimate_text(part):
            last, result["estimate"] = "estimate", part
        elif re.fullmatch(r"[Pp][0-3]", part):
            last, result["priority"] = "priority", part
        elif part.startswith("@") and len(part) > 1:
            last, result["owner"] = "owner", part[1:]
        elif last == "depends":  # "depends on 1.1, 1.2"
            result["depends"] += f", {part}"
        else:
            rest.append(part)
    return result, ", ".join(rest)


def clean_title(text: str) -> str:
    """A title as shown: one line, no decorative leading symbols, spaces collapsed."""
    text = " ".join(text.split())
    text = _DECOR.sub("", text) if text and not text[0].isalnum() else text
    return text.strip(" :")


# -- numbers ----------------------------------------------------------------------------

NUMBER_WORDS = {
    "phase": "phase", "week": "week", "sprint": "sprint", "milestone": "milestone", "m": "milestone",
    "stage": "stage", "step": "step", "layer": "layer", "part": "part", "iteration": "iteration",
    "release": "release", "epic": "epic", "section": "section", "task": "task", "day": "day", "month": "month",
    "quarter": "quarter", "q": "quarter", "level": "level", "wave": "wave", "track": "track", "module": "module",
    "chapter": "chapter", "story": "story", "item": "item", "issue": "issue", "ticket": "ticket", "v": "version",
    "version": "version",
}  # fmt: skip
_NUMBERED = re.compile(
    r"^\s*(?:([A-Za-z]+)\s*[-#]?\s*)?#?(\d{1,6}(?:\.\d{1,6})*)(?![\d/])(?!-\d)(?!\.\d)\.?(?=[\s:)\]–—.-]|$)[\s:)\]–—.-]*(.*)$",
    re.DOTALL,
)


def strip_number(title: str) -> tuple[str | None, str | None, str]:
    """``(word, number, rest)``: ``Phase 3 – Layer 3: UI`` is ('phase', '3', 'Layer 3: UI'),
    ``0.2 Database Schema`` is (None, '0.2', 'Database Schema'); no number: (None, None, title)."""
    match = _NUMBERED.match(title)
    if match:
        word = match.group(1)
        if word is None:
            return None, _canonical_number(match.group(2)), match.group(3).strip()
        canonical = NUMBER_WORDS.get(word.lower())
        if canonical is not None:
            return canonical, _canonical_number(match.group(2)), match.group(3).strip()
    return None, None, title.strip()


def _canonical_number(number: str) -> str:
    """``01.2`` and ``1.2`` are the same section; ``1.10`` stays distinct from ``1.1``."""
    return ".".join(str(int(part)) for part in number.split("."))


# -- values -----------------------------------------------------------------------------

_UNIT_WORDS = {
    "m": "m", "min": "m", "mins": "m", "minute": "m", "minutes": "m",
    "h": "h", "hr": "h", "hrs": "h", "hour": "h", "hours": "h",
    "d": "d", "day": "d", "days": "d", "w": "w", "wk": "w", "wks": "w", "week": "w", "weeks": "w",
}  # fmt: skip
_ESTIMATE = re.compile(
    r"^~?\s*(?:about|approx\.?|approximately|around|ca\.?)?\s*(\d+(?:\.\d+)?)\s*([a-z]+)?\s*"
    r"(?:(?:-|–|—|to|\.\.)\s*(\d+(?:\.\d+)?)\s*([a-z]+)?)?\s*$"
)


def parse_estimate_text(text: str) -> str | None:
    """An estimate as written (``4-6 hours``, ``2 days``, ``1 week``, ``30 min``, ``4h - 6h``)
    in the stored form (``4h-6h``, ``2d``, ``1w``, ``30m``), or None if it is not one."""
    plain = " ".join(text.lower().replace("(", " ").replace(")", " ").split()).rstrip(".")
    if not plain:
        return None
    compact = plain.replace(" ", "")
    try:  # already in the stored form: 4h, 1h30m, 4h-6h
        parse_estimate(compact)
        return compact
    except ValueError:
        pass
    match = _ESTIMATE.match(plain)
    if not match:
        return None
    low, low_unit, high, high_unit = match.groups()
    unit = _UNIT_WORDS.get(high_unit or low_unit or "")
    first_unit = _UNIT_WORDS.get(low_unit) if low_unit else unit
    if unit is None or first_unit is None or (low_unit and low_unit not in _UNIT_WORDS):
        return None
    result = f"{_number(low)}{first_unit}"
    if high is not None:
        result += f"-{_number(high)}{unit}"
    try:
        parse_estimate(result)
    except ValueError:
        return None
    return result


def _number(text: str) -> str:
    value = float(text)
    return str(int(value)) if value == int(value) else str(value)


_DATE_FORMATS = (
    "%Y-%m-%d", "%Y/%m/%d", "%d.%m.%Y", "%B %d, %Y", "%B %d %Y", "%b %d, %Y", "%b %d %Y", "%d %B %Y",
    "%d %b %Y", "%b. %d, %Y",
)  # fmt: skip


def parse_due(text: str) -> str | None:
    """A date as written (``2026-03-15``, ``March 15, 2026``, ``15 Mar 2026``) in ISO form."""
    plain = " ".join(text.strip().strip("*_").split())
    plain = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", plain)
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(plain, fmt).date().isoformat()
        except ValueError:
            continue
    try:
        return (
            date.fromisoformat(plain[:10]).isoformat()
            if len(plain) >= 10 and plain[10:].strip() == ""
            else None
        )
    except ValueError:
        return None


def parse_priority(text: str) -> int | None:
    """``P0``-``P3``, ``0``-``3``, or critical / high / medium / low."""
    plain = text.strip().lower().strip("*_ ()[]")
    words = {
        "critical": 0,
        "urgent": 0,
        "highest": 0,
        "high": 1,
        "medium": 2,
        "normal": 2,
        "med": 2,
        "low": 3,
        "lowest": 3,
    }
    if plain in words:
        return words[plain]
    match = re.fullmatch(r"p?([0-3])", plain)
    return int(match.group(1)) if match else None


_LABEL_SPLIT = re.compile(r"\s*(?:,|;|\+|&|\||\band\b|\s/\s|/(?=[A-Za-z]))\s*")
_NOT_LABELS = frozenset(
    {"etc", "others", "other", "any", "tbd", "n-a", "na", "none", "various", "misc"}
)


def normalise_label(text: str) -> str:
    """``Backend Developer`` -> ``backend-developer`` (at most 64 characters)."""
    label = re.sub(r"[\W_]+", "-", text.strip().lower()).strip("-")
    return label[:64].rstrip("-")


def parse_labels(text: str) -> list[str]:
    """Labels of a field value: ``Backend Developer + AI Specialist`` ->
    [backend-developer, ai-specialist]; ``Architect/Technical`` -> [architect, technical]."""
    labels: list[str] = []
    for part in _LABEL_SPLIT.split(re.sub(r"\([^)]*\)", " ", text)):
        label = normalise_label(part)
        if label and label not in _NOT_LABELS and label not in labels:
            labels.append(label)
    return labels


NO_REFERENCE = frozenset(
    {
        "",
        "none",
        "n/a",
        "na",
        "-",
        "—",
        "–",
        "nothing",
        "no",
        "nil",
        "tbd",
        "n.a.",
        "no dependencies",
    }
)


def split_owners(text: str) -> list[str]:
    """Owner names of a field value: ``@alice, Bob (lead)`` -> [alice, Bob]."""
    owners: list[str] = []
    for part in re.split(r"\s*(?:,|;|&|/|\band\b)\s*", re.sub(r"\([^)]*\)", " ", text)):
        name = part.strip().lstrip("@").strip()
        if name and name.lower() not in NO_REFERENCE and name not in owners:
            owners.append(name)
    return owners


def split_cell_items(text: str) -> list[str]:
    """A table cell holding several entries (``a<br>b``, ``a; b``, ``• a • b``)."""
    parts = re.split(r"\s*(?:<br\s*/?>|;|•|\n)\s*", text, flags=re.IGNORECASE)
    return [p.strip().lstrip("-*").strip() for p in parts if p.strip().lstrip("-*").strip()]


@functools.lru_cache(maxsize=1 << 16)
def normalise_ref(text: str) -> str:
    """A title or reference reduced for comparison: lower case, marks and punctuation out."""
    _, plain = take_marks(text)
    plain = re.sub(r"[*_`~\"'“”‘’]", "", plain.lower())
    plain = re.sub(r"[^\w.#]+", " ", plain)
    return " ".join(plain.split()).strip(". ")
