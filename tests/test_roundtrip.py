"""Round-trip properties of the record formats (store/frontmatter.py) and of task bodies
(core/body.py): lossless, byte-stable, one changed field = one changed line, comments kept."""

from __future__ import annotations

import difflib
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from helpers_proc import isolate
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from agentctl.core import body as taskbody
from agentctl.core import models
from agentctl.core.checks import TITLE_RE
from agentctl.core.ids import ALPHABET
from agentctl.errors import UsageError
from agentctl.store.frontmatter import (
    Document,
    dump_yaml,
    dump_yaml_roundtrip,
    load_fast,
    load_yaml_fast,
    load_yaml_roundtrip,
)
from agentctl.store.index import plain_value

SETTINGS = settings(max_examples=75, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# -- strategies ---------------------------------------------------------------------------------

YAML_TRAPS = [
    "no", "yes", "No", "YES", "on", "off", "y", "n", "true", "False", "null", "Null", "~", "", "1e3",
    "0x10", "0o17", "010", "1_000", "-1", "+1", ".5", ".inf", "-.Inf", ".nan", "2026-01-01",
    "2026-01-01T00:00:00Z", "12:30", "1:20:30", "---", "...", "--- x", ": ", "a: b", "a:b", "#", "# c",
    "a #b", "a# b", "'", '"', "''", "it's", '"quoted"', "'single'", "`tick`", "\\", "\\n", "@at", "%pc",
    "!tag", "!!str x", "*alias", "&anchor", "|", ">", "|-", "- item", "-", "?", "? q", "[a, b]", "{a: b}",
    ",", "<<", "<<: *x", "=", "key: value # c", "\t", "a\tb", "a\nb", "a\n---\nb", "\n---\n", "\r\n",
    "é", "ñandú", "日本語", "🎉", "👩‍👩‍👧‍👦", "مرحبا بالعالم", "שָׁלוֹם", "\u202eRTL override", "\u200bzero width",
    "\ufeffbom", "\x85nel", "a\u2028b", "a\u2029b", "\x00nul", "\x07bell", "\x1b[31mred", "\ufffe", "\U0010ffff",
]  # fmt: skip

trap = st.sampled_from(YAML_TRAPS)
any_char = st.characters(codec="utf-8")  # every code point UTF-8 can hold (no surrogates)
free_text = st.text(any_char, max_size=40)
mixed = st.lists(st.one_of(trap, free_text), min_size=1, max_size=4).map("".join)
text_value = st.one_of(trap, free_text, mixed)
# Titles are one line by rule (core/checks.TITLE_RE); multi-line traps are exercised in other fields.
title = st.one_of(text_value, st.text(any_char, min_size=400, max_size=500)).filter(
    lambda t: 1 <= len(t) <= 500 and TITLE_RE.match(t) is not None
)

name = st.from_regex(r"\A[a-z0-9][a-z0-9-]{0,20}\Z")
task_id = st.text(st.sampled_from(ALPHABET), min_size=12, max_size=12).map(lambda s: f"t-{s}")
label = st.one_of(
    st.sampled_from(
        [
            "no",
            "yes",
            "null",
            "~",
            "1e3",
            "0x10",
            "---",
            "#",
            "'",
            '"',
            "[x]",
            "{x}",
            ":",
            "a:b",
            "-",
        ]
    ),
    st.text(any_char.filter(lambda c: not c.isspace() and c != ","), min_size=1, max_size=20),
).filter(lambda s: not s.isspace() and "," not in s and s.split() == [s])
moment = st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2200, 1, 1)).map(
    lambda d: d.replace(microsecond=0, tzinfo=UTC).isoformat().replace("+00:00", "Z")
)
day = st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 1, 1)).map(date.isoformat)
duration = st.sampled_from(["30s", "15m", "4h", "2d", "1w", "1h30m", "0.5h"])
status = st.sampled_from(models.DEFAULT_STATUSES)


def _drop_none(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


@st.composite
def tasks(draw: st.DrawFn) -> dict[str, Any]:
    fields = {
        "id": draw(task_id),
        "title": draw(title),
        "status": draw(status),
        "priority": draw(st.integers(0, 3)),
        "assignees": draw(st.lists(name, max_size=3, unique=True)),
        "labels": draw(st.lists(label, max_size=4, unique=True)),
        "parent": draw(st.none() | task_id),
        "depends_on": draw(st.lists(task_id, max_size=3, unique=True)),
        "spec": draw(st.none() | text_value | st.text(any_char, min_size=1000, max_size=3000)),
        "estimate": draw(st.none() | duration),
        "due": draw(st.none() | day),
        "created_by": draw(text_value.filter(lambda t: 1 <= len(t) <= 128)),
        "created_at": draw(moment),
        "updated_at": draw(moment),
        "claim": draw(
            st.none()
            | st.fixed_dictionaries(
                {"claimed_by": text_value, "epoch": st.integers(1, 10**9), "lease_expires": moment}
            )
        ),
    }
    fields = _drop_none(fields)
    models.Task.model_validate(fields)  # the strategy only makes valid records
    return fields


@st.composite
def agents(draw: st.DrawFn) -> dict[str, Any]:
    runtime = draw(st.sampled_from(models.RUNTIMES))
    fields = {
        "name": draw(name),
        "role": draw(text_value.filter(lambda t: 1 <= len(t) <= 64)),
        "level": draw(st.sampled_from(models.LEVELS)),
        "capabilities": draw(st.lists(name, max_size=3, unique=True)),
        "runtime": runtime,
        "model": draw(st.none() | text_value),
        "command": draw(st.lists(text_value, min_size=1, max_size=4))
        if runtime == "command"
        else None,
        "heartbeat": draw(
            st.fixed_dictionaries(
                {"every": duration},
                optional={
                    "offset": duration,
                    "active_hours": st.sampled_from(["09:00-18:00", "00:00-23:59"]),
                },
            )
        ),
        "budget": draw(
            st.none()
            | st.fixed_dictionaries(
                {},
                optional={
                    "daily_tokens": st.integers(0, 10**9),
                    "daily_usd": st.sampled_from([0.0, 1.5, 20.25]),
                },
            )
        ),
        "permissions": draw(
            st.none()
            | st.fixed_dictionaries(
                {
                    "allow": st.lists(
                        st.sampled_from(models.PERMISSION_NAMES), max_size=3, unique=True
                    ),
                    "deny": st.lists(
                        st.sampled_from(models.PERMISSION_NAMES), max_size=3, unique=True
                    ),
                }
            )
        ),
        "created_at": draw(moment),
    }
    fields = _drop_none(fields)
    models.Agent.model_validate(fields)
    return fields


@st.composite
def agent_states(draw: st.DrawFn) -> dict[str, Any]:
    fields = {
        "status": draw(st.sampled_from(models.AGENT_STATUSES)),
        "current_task": draw(st.none() | task_id),
        "last_heartbeat": draw(st.none() | moment),
        "last_outcome": draw(st.none() | text_value),
        "inbox_cursor": draw(st.none() | text_value),
        "failures": draw(st.integers(0, 1000)),
    }
    fields = _drop_none(fields)
    models.AgentState.model_validate(fields)
    return fields


@st.composite
def configs(draw: st.DrawFn) -> dict[str, Any]:
    statuses = draw(
        st.lists(st.from_regex(r"\A[a-z][a-z0-9_-]{0,10}\Z"), min_size=2, max_size=6, unique=True)
    )
    transitions = {
        s: draw(st.lists(st.sampled_from(statuses), max_size=3, unique=True)) for s in statuses
    }
    pick = st.sampled_from(statuses)
    fields = {
        "schema_version": 1,
        "name": draw(text_value.filter(lambda t: len(t) <= 200)),
        "workflow": {
            "statuses": statuses,
            "transitions": transitions,
            "initial": draw(pick),
            "assigned": draw(pick),
            "in_progress": draw(pick),
            "review": draw(pick),
            "done": draw(st.lists(pick, min_size=1, max_size=2, unique=True)),
            "blocked": draw(pick),
            "ready": draw(st.lists(pick, min_size=1, max_size=2, unique=True)),
        },
        "tasks": {"priority": draw(st.integers(0, 3)), "claim_lease": draw(duration)},
        "working": {
            "path": draw(st.sampled_from(["WORKING.md", "docs/STATE.md", "a.b/c-d_e.md"])),
            "max_per_status": draw(st.integers(1, 500)),
            "recent_done": draw(st.integers(0, 500)),
            "activity": draw(st.integers(0, 500)),
        },
        "git": {"autocommit": draw(st.booleans())},
        "lock": {"timeout": draw(st.sampled_from([0.5, 1, 10, 3600]))},
    }
    config = models.Config.model_validate(fields)
    assert models.check_workflow(config.workflow) == []
    return fields


# Bodies: markdown with rules, headings inside code fences, and free text.
plain_line = st.one_of(
    st.sampled_from(
        ["", "---", "--- ", "- [ ] todo", "- [x] done", "text: with colon", "# h1", "### h3", "***"]
    ),
    st.text(st.characters(codec="utf-8", exclude_characters="\n\r"), max_size=30).filter(
        lambda s: (
            not s.lstrip().startswith(("```", "~~~", "## "))
            and not s.startswith(("<<<<<<< ", ">>>>>>> "))
        )
    ),
)


FENCES = [
    ("```", "```"),
    ("~~~", "~~~"),
    ("````", "````"),
    ("```yaml", "```"),
    ("~~~~ python", "~~~~"),
]
SPECIAL_LINES = ["## Notes", "## Description", "---", "```", "~~~", "  ```", "~~~~~"]


@st.composite
def fenced(draw: st.DrawFn) -> str:
    opener, closer = draw(st.sampled_from(FENCES))
    inner = draw(st.lists(st.one_of(plain_line, st.sampled_from(SPECIAL_LINES)), max_size=5))

    def closes(line: str) -> bool:  # only a fence of the same kind, as long or longer, closes
        bare = line.strip()
        return bool(bare) and set(bare) == {closer[0]} and len(bare) >= len(closer)

    return "\n".join([opener, *[line for line in inner if not closes(line)], closer])


markdown = st.lists(st.one_of(plain_line, fenced()), max_size=8).map("\n".join)
section_names = st.sampled_from(
    [taskbody.DESCRIPTION, taskbody.ACCEPTANCE, taskbody.NOTES, "Design", "Links"]
)


@st.composite
def bodies(draw: st.DrawFn) -> str:
    preamble = draw(markdown)
    names = draw(st.lists(section_names, max_size=4, unique=True))
    parts = [preamble] if preamble else []
    for heading in names:
        parts.append(f"## {heading}\n" + draw(markdown))
    text = "\n".join(parts)
    return text + draw(st.sampled_from(["", "\n", "\n\n"]))


def _changed_lines(before: str, after: str) -> tuple[list[str], list[str]]:
    removed, added = [], []
    for line in difflib.ndiff(before.splitlines(keepends=True), after.splitlines(keepends=True)):
        if line.startswith("- "):
            removed.append(line[2:])
        elif line.startswith("+ "):
            added.append(line[2:])
    return removed, added


def _assert_agrees(text: str, expected: dict[str, Any]) -> None:
    doc = Document.parse(text, "x.md")
    assert doc.plain() == expected
    fields, _ = load_fast(text, "x.md")
    assert plain_value(fields) == expected


# -- (a) generated records round-trip through both loaders ---------------------------------------


@SETTINGS
@given(tasks(), bodies())
@example(
    {
        "id": "t-000000000000",
        "title": "x",
        "status": "inbox",
        "created_by": "a\x85b",
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
    },
    "",
)
def test_task_round_trip(fields: dict[str, Any], body: str) -> None:
    text = Document.new(fields, body).dumps()
    _assert_agrees(text, fields)
    doc = Document.parse(text, "x.md")
    assert doc.body == body
    assert load_fast(text, "x.md")[1] == body
    assert doc.dumps() == text
    models.Task.model_validate(plain_value(load_fast(text, "x.md")[0]))


@SETTINGS
@given(agents(), markdown)
def test_agent_round_trip(fields: dict[str, Any], persona: str) -> None:
    text = Document.new(fields, persona).dumps()
    _assert_agrees(text, fields)
    assert Document.parse(text, "x.md").body == persona
    models.Agent.model_validate(plain_value(load_fast(text, "x.md")[0]))


@SETTINGS
@given(agent_states())
def test_agent_state_round_trip(fields: dict[str, Any]) -> None:
    text = dump_yaml(fields)
    assert plain_value(load_yaml_fast(text, "s.yaml")) == fields
    held = load_yaml_roundtrip(text, "s.yaml")
    assert dump_yaml_roundtrip(held) == text
    models.AgentState.model_validate(plain_value(load_yaml_fast(text, "s.yaml")))


@SETTINGS
@given(configs())
def test_config_round_trip(fields: dict[str, Any]) -> None:
    from agentctl.config import parse_config

    text = dump_yaml(fields)
    assert plain_value(load_yaml_fast(text, "config.yaml")) == fields
    assert dump_yaml_roundtrip(load_yaml_roundtrip(text, "config.yaml")) == text
    expected = models.Config.model_validate(fields).model_dump(mode="json")
    assert parse_config(text, "config.yaml") == expected


@pytest.mark.parametrize("value", [trap for trap in YAML_TRAPS if trap])  # titles are never empty
def test_every_trap_survives_as_a_title(value: str) -> None:
    one_line = value if TITLE_RE.match(value) else "multi-line traps go in created_by"
    fields = {"id": "t-000000000000", "title": one_line, "status": "inbox", "created_by": value,
              "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z", "labels": []}  # fmt: skip
    text = Document.new(fields, "").dumps()
    _assert_agrees(text, fields)
    assert len(text.rstrip("\n").split("\n")) == 2 + len(fields)  # each field on exactly one line


# -- (b) load + dump without change is byte-identical ---------------------------------------------

HAND_WRITTEN = {
    "comments-and-quoting": """---
# A hand-written task. Comments must survive.
id: t-4k7q2m9x3bce   # the id never changes
title: 'Write the "docs": part #1'
status: in_progress
priority: p1
assignees: [dev-1, "dev-2"]
labels:
  - docs
  - 'no'
depends_on: []
estimate: 4h    # rough
due: 2026-12-31
created_by: Someone
created_at: 2026-11-01T10:00:00Z
updated_at: "2026-11-02T10:00:00Z"
claim:
  claimed_by: dev-1     # who
  epoch: 3
  lease_expires: 2026-11-02T12:00:00Z
# trailing comment in the frontmatter
---

## Description

Text with a rule:

---

```yaml
---
title: not: frontmatter
## not a heading
```

## Acceptance criteria

- [ ] one
- [x] two

## Notes
""",
    "odd-spacing-no-final-newline": "---\nid:    t-000000000001\ntitle:   \"double\"   \nstatus: inbox\npriority:   3\ncreated_by: 'me'\ncreated_at: 2026-01-01T00:00:00Z\nupdated_at: 2026-01-01T00:00:00Z\n---\nno final newline\n---",
    "empty-body": "---\nid: t-000000000002\ntitle: x\nstatus: done\ncreated_by: me\ncreated_at: 2026-01-01T00:00:00Z\nupdated_at: 2026-01-01T00:00:00Z\n---\n",
    "crlf": "---\r\nid: t-000000000003\r\ntitle: crlf # c\r\nstatus: inbox\r\ncreated_by: me\r\ncreated_at: 2026-01-01T00:00:00Z\r\nupdated_at: 2026-01-01T00:00:00Z\r\n---\r\n## Description\r\n\r\nwindows\r\n",
    "block-scalars-and-unicode": '---\nid: t-000000000004\ntitle: "🎉 مرحبا \\t"\nspec: "\\L \\N"\nstatus: review\ncreated_by: >-\n  folded\n  text\ncreated_at: 2026-01-01T00:00:00Z\nupdated_at: 2026-01-01T00:00:00Z\nlabels: ["no", \'~\', \'#\', "[x]"]\n---\n~~~\n```\n~~~\n## Notes\n',
    "bom": "\ufeff---\nid: t-000000000005\ntitle: bom\nstatus: inbox\ncreated_by: me\ncreated_at: 2026-01-01T00:00:00Z\nupdated_at: 2026-01-01T00:00:00Z\n---\nbody\n",
}


@pytest.mark.parametrize("text", HAND_WRITTEN.values(), ids=HAND_WRITTEN.keys())
def test_hand_written_files_are_stable(text: str) -> None:
    doc = Document.parse(text, "x.md")
    assert doc.dumps() == text
    # Setting every field to the value it already has is a no-op, byte for byte.
    for key, value in doc.plain().items():
        doc.set(key, value)
    doc.update(doc.plain())
    doc.body = doc.body
    assert doc.dumps() == text
    # Both loaders read the same data, and it is a valid task.
    fields, body = load_fast(text, "x.md")
    assert plain_value(fields) == doc.plain()
    assert body == doc.body
    models.Task.model_validate(plain_value(fields))


NORMALISED_ON_CHANGE = pytest.mark.xfail(
    strict=True,
    reason="known limitation: any change re-serialises the frontmatter through ruamel, which "
    "normalises extra spaces after 'key:' and trailing blanks on the other lines too",
)

CRLF_BECOMES_LF = pytest.mark.xfail(
    strict=True,
    reason="known limitation: a change re-emits the frontmatter with LF line endings (the body "
    "keeps CRLF), so every frontmatter line of a CRLF file changes",
)
KNOWN_REWRITES = {"odd-spacing-no-final-newline": NORMALISED_ON_CHANGE, "crlf": CRLF_BECOMES_LF}


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(text, id=key, marks=KNOWN_REWRITES.get(key, ()))
        for key, text in HAND_WRITTEN.items()
    ],
)
def test_hand_written_files_change_one_line(text: str) -> None:
    """Any change re-serialises the parsed tree: only the changed line may differ."""
    doc = Document.parse(text, "x.md")
    doc.set("status", "blocked")
    out = doc.dumps()
    # A byte-order mark is not written back once the file changes (split() ignores it).
    removed, added = _changed_lines(text.removeprefix("\ufeff"), out)
    assert len(removed) == 1 and len(added) == 1, (removed, added)
    assert added[0].startswith("status: blocked")
    assert Document.parse(out, "x.md").plain() == {
        **Document.parse(text, "x.md").plain(),
        "status": "blocked",
    }
    assert Document.parse(out, "x.md").body == doc.body


def test_odd_spacing_is_only_ever_normalised_never_changed() -> None:
    """What the limitation above costs: other lines change only in whitespace, never in data."""
    text = HAND_WRITTEN["odd-spacing-no-final-newline"]
    doc = Document.parse(text, "x.md")
    doc.set("status", "blocked")
    out = doc.dumps()
    removed, added = _changed_lines(text, out)

    def squash(lines: list[str]) -> list[str]:
        return sorted(" ".join(line.split()) for line in lines)

    assert squash([line for line in removed if not line.startswith("status:")]) == squash(
        [line for line in added if not line.startswith("status:")]
    )
    assert Document.parse(out, "x.md").plain() == {
        **Document.parse(text, "x.md").plain(),
        "status": "blocked",
    }
    assert Document.parse(out, "x.md").body == doc.body


# -- (c) one changed field = one changed line; comments survive ---------------------------------

SCALAR_FIELDS = {
    "title": title,
    "status": status,
    "priority": st.integers(0, 3),
    "estimate": duration,
    "due": day,
    "spec": text_value,
    "created_by": text_value.filter(lambda t: 1 <= len(t) <= 128),
    "updated_at": moment,
}


def _with_comments(text: str) -> tuple[str, list[str]]:
    """Insert full-line comments after every frontmatter line (they must all survive)."""
    head, _, rest = text.partition("\n---\n")
    lines = head.split("\n")
    out, comments = [lines[0]], []
    for number, line in enumerate(lines[1:], start=1):
        out.append(line)
        if not line.startswith(" "):  # not inside a nested block mapping
            comment = f"# comment {number}: keep me"
            comments.append(comment)
            out.append(comment)
    return "\n".join(out) + "\n---\n" + rest, comments


@SETTINGS
@given(tasks(), bodies(), st.sampled_from(sorted(SCALAR_FIELDS)), st.data(), st.booleans())
def test_changing_one_field_changes_one_line(
    fields: dict[str, Any], body: str, key: str, data: st.DataObject, commented: bool
) -> None:
    text = Document.new(fields, body).dumps()
    comments: list[str] = []
    if commented:
        text, comments = _with_comments(text)
    value = data.draw(SCALAR_FIELDS[key])
    assume(fields.get(key) != value)
    doc = Document.parse(text, "x.md")
    doc.update({key: value}, order=["id", "title", "status", "priority", "assignees", "labels", "parent",
                                     "depends_on", "spec", "estimate", "due", "created_by", "created_at",
                                     "updated_at", "claim"])  # fmt: skip
    out = doc.dumps()
    removed, added = _changed_lines(text, out)
    assert len(added) == 1, (removed, added)
    assert len(removed) == (1 if key in fields else 0), (removed, added)
    assert added[0].startswith(f"{key}:")
    for comment in comments:
        assert comment in out.splitlines()
    expected = {**fields, key: value}
    assert Document.parse(out, "x.md").plain() == expected
    assert plain_value(load_fast(out, "x.md")[0]) == expected
    assert Document.parse(out, "x.md").body == body
    models.Task.model_validate(expected)


@SETTINGS
@given(tasks(), st.sampled_from(["assignees", "labels", "depends_on"]), st.data())
def test_changing_a_flow_list_changes_one_line(
    fields: dict[str, Any], key: str, data: st.DataObject
) -> None:
    text = Document.new(fields, "").dumps()
    strategy = {"assignees": st.lists(name, max_size=4, unique=True), "labels": st.lists(label, max_size=4, unique=True),
                "depends_on": st.lists(task_id, max_size=4, unique=True)}[key]  # fmt: skip
    value = data.draw(strategy)
    assume(fields.get(key) != value)
    doc = Document.parse(text, "x.md")
    doc.set(key, value)
    out = doc.dumps()
    removed, added = _changed_lines(text, out)
    assert (len(removed), len(added)) == (1, 1)
    assert Document.parse(out, "x.md").plain() == {**fields, key: value}


@pytest.mark.parametrize(
    ("key", "value"),
    [("title", "New title: with colon # and hash"), ("status", "review"), ("priority", 0), ("estimate", "1h"),
     ("updated_at", "2026-11-03T00:00:00Z"), ("created_by", "no"), ("due", "2027-01-01")],
)  # fmt: skip
def test_hand_written_change_keeps_comments(key: str, value: Any) -> None:
    text = HAND_WRITTEN["comments-and-quoting"]
    doc = Document.parse(text, "x.md")
    doc.set(key, value)
    out = doc.dumps()
    removed, added = _changed_lines(text, out)
    assert len(removed) == 1 and len(added) == 1, (removed, added)
    for line in text.splitlines():
        if "#" in line and not line.startswith(f"{key}:") and line.lstrip().startswith("#"):
            assert line in out.splitlines()
    if key == "estimate":
        assert added[0].rstrip("\n").endswith("# rough")
    assert Document.parse(out, "x.md").plain()[key] == value
    assert plain_value(load_fast(out, "x.md")[0])[key] == value


# -- (d) bodies round-trip exactly; section edits touch only their section ---------------------------


@SETTINGS
@given(bodies())
@example("---\n---\n")
@example("```\n## Notes\n---\n```\n## Notes\nx")
@example("~~~\n```\n~~~\n## Notes\nx\n")
def test_body_round_trips_exactly(body: str) -> None:
    fields = {"id": "t-000000000000", "title": "t", "status": "inbox", "created_by": "me",
              "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"}  # fmt: skip
    text = Document.new(fields, body).dumps()
    assert Document.parse(text, "x.md").body == body
    assert load_fast(text, "x.md")[1] == body
    # a changed field leaves the body alone
    doc = Document.parse(text, "x.md")
    doc.set("title", "changed")
    assert Document.parse(doc.dumps(), "x.md").body == body
    assert doc.dumps().endswith(body)


def _headings(body: str) -> list[str]:
    return [name for name, *_ in taskbody._section_spans(body)]


@SETTINGS
@given(bodies(), section_names, markdown)
@example("## Description\n~~~\n```\n~~~\n## Notes\nkeep\n", taskbody.DESCRIPTION, "new")
@example("## Notes\n````\n```\n## Description\n```\n````\n", taskbody.DESCRIPTION, "d")
def test_set_section_preserves_every_other_section(body: str, heading: str, content: str) -> None:
    spans = {name: (start, begin, end) for name, start, begin, end in taskbody._section_spans(body)}
    assume(len(spans) == len(_headings(body)))  # headings are unique
    new = taskbody.set_section(body, heading, content)
    assert taskbody.get_section(new, heading) == content.strip("\n")
    if heading in spans:
        _, begin, end = spans[heading]
        assert new.startswith(body[:begin])
        assert new.endswith(body[end:])
    else:
        assert new.startswith(body.rstrip("\n"))
        assert _headings(new) == [*_headings(body), heading]
    for other in spans:
        if other != heading:
            assert taskbody.get_section(new, other) == taskbody.get_section(body, other)
    # idempotent: setting the same content again changes nothing
    assert taskbody.set_section(new, heading, content) == new


def test_mixed_fences_do_not_hide_the_following_sections() -> None:
    """A ``` line inside a ~~~ block (and vice versa) is content, not a fence."""
    body = taskbody.task_body(
        "~~~\n```\n~~~\n\n````\n```\n## Notes\n```\n````", [taskbody.Criterion("one")]
    )
    assert taskbody.get_section(body, taskbody.ACCEPTANCE) == "- [ ] one"
    checked = taskbody.set_section(body, taskbody.ACCEPTANCE, "- [x] one")
    assert _headings(checked) == [taskbody.DESCRIPTION, taskbody.ACCEPTANCE, taskbody.NOTES]
    assert taskbody.parse_criteria(taskbody.get_section(checked, taskbody.ACCEPTANCE)) == [
        taskbody.Criterion("one", True)
    ]


def test_only_newline_ends_a_body_line() -> None:
    body = "## Description\nsee a\u2028## Notes here\x1c## Notes too\n## Notes\nreal\n"
    assert _headings(body) == [taskbody.DESCRIPTION, taskbody.NOTES]
    assert taskbody.get_section(body, taskbody.NOTES) == "real"


@SETTINGS
@given(
    st.lists(
        st.tuples(
            st.text(
                st.characters(codec="utf-8", exclude_characters="\n\r"), min_size=1, max_size=30
            )
            .map(str.strip)
            .filter(bool),
            st.booleans(),
        ),
        max_size=6,
    )
)
def test_criteria_render_and_parse(items: list[tuple[str, bool]]) -> None:
    criteria = [taskbody.Criterion(text, done) for text, done in items]
    body = taskbody.task_body("d", criteria)
    assert taskbody.parse_criteria(taskbody.get_section(body, taskbody.ACCEPTANCE)) == criteria


_BODY_TEXT = st.lists(
    st.sampled_from(["a", " ", "\n", "#", "## ", "```", "~~~", "- [ ] x", "\r"]), max_size=12
).map("".join)


@SETTINGS
@given(
    _BODY_TEXT, st.lists(st.text(st.sampled_from("ab #`\n"), min_size=1, max_size=8)), _BODY_TEXT
)
@example("", [], "")
@example("d\n", ["one"], "\n\nn\n")
def test_task_body_is_the_three_sections_set_in_turn(
    description: str, criteria: list[str], notes: str
) -> None:
    """task_body's direct build (texts without '#') equals setting the sections one by one."""
    items = [taskbody.Criterion(text) for text in criteria]
    body = taskbody.set_section("", taskbody.DESCRIPTION, description)
    body = taskbody.set_section(body, taskbody.ACCEPTANCE, taskbody.render_criteria(items))
    body = taskbody.set_section(body, taskbody.NOTES, notes)
    assert taskbody.task_body(description, items, notes) == body


# -- through the workspace ------------------------------------------------------------------------


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    from agentctl.workspace import Workspace

    isolate(monkeypatch, tmp_path / "home")
    monkeypatch.setenv("AGENTCTL_AUTOCOMMIT", "0")
    root = tmp_path / "ws"
    root.mkdir()
    Workspace.init(root, "rt", "tester")
    ws = Workspace(root)
    yield ws
    ws.close()


def test_workspace_edit_changes_one_line_of_a_hand_written_file(workspace: Any) -> None:
    from agentctl.core.rules import Actor

    text = HAND_WRITTEN["comments-and-quoting"]
    path = workspace.layout.task("t-4k7q2m9x3bce")
    path.write_text(text, encoding="utf-8")
    workspace.edit_task(Actor("tester"), "t-4k7q", title="Retitled")
    out = path.read_text(encoding="utf-8")
    removed, added = _changed_lines(text, out)
    assert sorted(line.split(":")[0] for line in removed) == ["title", "updated_at"]
    assert sorted(line.split(":")[0] for line in added) == ["title", "updated_at"]
    assert workspace.validate() == []


def test_workspace_refuses_a_body_line_that_looks_like_a_conflict_marker(workspace: Any) -> None:
    from agentctl.core.rules import Actor

    before = sorted(p.name for p in workspace.layout.tasks.iterdir())
    with pytest.raises(UsageError, match="conflict marker"):
        workspace.add_task(Actor("tester"), "t", description="```\n<<<<<<< HEAD\n```")
    assert sorted(p.name for p in workspace.layout.tasks.iterdir()) == before
    task = workspace.add_task(
        Actor("tester"), "t", description="```\n <<<<<<< HEAD (indented)\n```"
    )
    assert workspace.show_task(task["id"])["description"] == "```\n <<<<<<< HEAD (indented)\n```"
    with pytest.raises(UsageError, match="conflict marker"):
        workspace.edit_task(Actor("tester"), task["id"], description=">>>>>>> theirs")
    assert workspace.validate() == []


def _passes_text_rule(text: str, one_line: bool = False) -> bool:
    """What the workspace accepts (agentctl.core.text); the file format itself round-trips
    any text, and tests/test_hostile_records.py covers the refusals."""
    from agentctl.core.text import check_line, check_text
    from agentctl.errors import UsageError

    try:
        (check_line if one_line else check_text)(text, "text")
    except UsageError:
        return False
    return True


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    title=title.filter(
        lambda t: t.strip() and "<<<<<<< " not in t and _passes_text_rule(t, one_line=True)
    ),
    description=markdown.filter(_passes_text_rule),
)
def test_workspace_add_and_show_round_trip(workspace: Any, title: str, description: str) -> None:
    from agentctl.core.rules import Actor

    task = workspace.add_task(Actor("tester"), title, description=description)
    shown = workspace.show_task(task["id"])
    assert shown["title"] == title.strip()
    assert shown["description"] == description.strip("\n")
    listed = {t["id"]: t for t in workspace.list_tasks(include_done=True)}
    assert listed[task["id"]]["title"] == title.strip()
