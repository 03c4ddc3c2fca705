"""The fast frontmatter reader (store/yaml_subset.py) against ruamel's safe loader: whenever
the fast path returns data it is exactly ruamel's (same values, same types, same timezone),
and everything outside the subset (or invalid) goes through ruamel unchanged."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from test_roundtrip import SETTINGS, YAML_TRAPS, label, tasks, text_value

from agentctl.errors import ValidationError
from agentctl.store import yaml_subset
from agentctl.store.frontmatter import (
    Document,
    _resolve_by_ruamel,
    dump_new,
    load_fast,
    load_fast_ruamel,
    split,
)
from agentctl.store.plain_yaml import resolve_plain as _resolve_plain
from agentctl.store.plain_yaml import timestamp as _timestamp


def same(a: Any, b: Any) -> bool:
    """Equal with equal types all the way down (True != 1, date != datetime, tz kept)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(
            same(k, k2) and same(a[k], b[k2]) for k, k2 in zip(a, b, strict=True)
        )
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and a != a:  # .nan
        return bool(b != b)
    if isinstance(a, datetime):
        return bool(a == b and a.tzinfo == b.tzinfo and a.tzname() == b.tzname())
    return bool(a == b)


def outcome(load: Any, text: str) -> tuple[str, Any]:
    try:
        return "ok", load(text, "t.md")
    except ValidationError as exc:
        return "error", (exc.problem, exc.line)
    except ValueError as exc:  # ruamel's own, e.g. for 2026-02-30 (see test below)
        return "error", (type(exc).__name__, str(exc))


def assert_agrees(text: str) -> None:
    """load_fast == ruamel alone, and the fast path, when it answers, == ruamel."""
    fast, slow = outcome(load_fast, text), outcome(load_fast_ruamel, text)
    assert fast[0] == slow[0], (text, fast, slow)
    if fast[0] == "ok":
        assert same(fast[1][0], slow[1][0]) and fast[1][1] == slow[1][1], (text, fast, slow)
    else:
        assert fast == slow
    try:
        head = split(text, "t.md")[0]
    except ValidationError:
        return
    quick = yaml_subset.parse(head, _resolve_plain, _timestamp)
    if quick is not None:
        assert slow[0] == "ok" and same(quick, slow[1][0]), (text, quick, slow)


@SETTINGS
@given(tasks())
def test_records_written_by_dump_new_read_the_same(fields: dict[str, Any]) -> None:
    assert_agrees(dump_new(fields, "body\n"))


@SETTINGS
@given(tasks())
def test_records_written_by_the_round_trip_writer_read_the_same(fields: dict[str, Any]) -> None:
    assert_agrees(Document.new(fields, "body\n").dumps())


def test_canonical_records_take_the_fast_path() -> None:
    """The files agentctl writes are inside the subset (or the speed-up is lost)."""
    fields = {
        "id": "t-4k7q2m9x3bce", "title": "Task 1: build the index", "status": "inbox",
        "priority": 2, "assignees": ["agent-1"], "labels": ["no", "qa"], "depends_on": [],
        "due": "2026-12-01", "created_by": "bench", "created_at": "2026-11-09T07:55:00Z",
        "updated_at": "2026-11-09T07:55:00Z",
        "claim": {"claimed_by": "agent-1", "epoch": 3, "lease_expires": "2026-11-09T08:55:00Z"},
    }  # fmt: skip
    for text in (dump_new(fields, "b\n"), Document.new(fields, "b\n").dumps()):
        head = split(text, "t.md")[0]
        quick = yaml_subset.parse(head, _resolve_plain, _timestamp)
        assert quick is not None, text
        assert same(quick, load_fast_ruamel(text, "t.md")[0])


scalar_text = st.one_of(
    st.sampled_from(YAML_TRAPS),
    text_value,
    st.from_regex(r"\A[0-9]{1,4}([-:.eE_][0-9]{1,3}){0,4}[Z]?\Z"),
    st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:?[0-9]{2})?)?\Z"),
)  # fmt: skip
key_text = st.one_of(
    st.sampled_from(["id", "title", "true", "null", "yes", "on", "No", "_", "a-b", "1", "~", "<<"]),
    st.from_regex(r"\A[A-Za-z_][A-Za-z0-9_]{0,6}\Z"),
)
quoted = st.one_of(
    scalar_text.map(lambda v: "'" + v.replace("'", "''") + "'"),
    scalar_text.map(lambda v: "'" + v + "'"),
    scalar_text.map(lambda v: '"' + v + '"'),
)
flow = st.lists(st.one_of(label, quoted, scalar_text), max_size=4).map(
    lambda items: "[" + ", ".join(items) + "]"
)
separator = st.sampled_from([": ", ":", ":  ", ": \t", " : "])
raw_value = st.one_of(scalar_text, quoted, flow)
comment = st.sampled_from(["", " # c", "#c", "  # comment"])


@st.composite
def raw_heads(draw: st.DrawFn) -> str:
    lines = []
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["scalar", "scalar", "nested", "odd"]))
        key = draw(key_text)
        if kind == "scalar":
            lines.append(f"{key}{draw(separator)}{draw(raw_value)}{draw(comment)}")
        elif kind == "nested":
            lines.append(f"{key}:")
            indent = draw(st.sampled_from(["  ", "  ", "   ", " ", "    "]))
            for _ in range(draw(st.integers(0, 3))):
                lines.append(f"{indent}{draw(key_text)}: {draw(raw_value)}")
        else:
            lines.append(
                draw(st.sampled_from(["", "# note", "- x", "---", "...", "%YAML 1.2", "&a x: 1",
                                      f"{key}: &a [x]", f"{key}: *a", f"{key}: |", "  more", "\tx: 1",
                                      f"{key}: !!str 1", f"{key}: {{a: 1}}", f"? {key}", f"{key}: a\r"]))
            )  # fmt: skip
    return "\n".join(lines) + draw(st.sampled_from(["\n", ""]))


@SETTINGS
@given(raw_heads())
@example("yes: no\n")
@example("a: 012\nb: 0o17\nc: 1e3\nd: .inf\ne: ~\nf: null\ng: 2026-01-01\n")
@example("a: 2026-01-01T00:00:00Z\nb: 2026-01-01 00:00:00\nc: 2026-01-01T00:00:00+01:00\n")
@example("a: 2026-02-30\n")
@example("a: x\na: y\n")
@example("'a': x\n")
@example("a: [x, *y]\n")
@example("a: &x [1]\nb: *x\n")
@example("a: é\nb: 日本語\nc: 🎉\n")
@example("a: x\u2028y\n")
@example("a:\n  b: 1\n  c: [x]\nd: 2\n")
@example("a:\nb: 1\n")
@example("a: 'it''s'\nb: \"q\\\"\"\n")
@example("a: b # c\n")
@example("a: C#\nb: a:b\nc: (x)\n")
def test_hand_written_frontmatter_reads_the_same(head: str) -> None:
    assert_agrees("---\n" + head + ("" if head.endswith("\n") else "\n") + "---\nbody\n")


@pytest.mark.parametrize(
    "head",
    ["a: &x [1]\nb: *x\n", "a: 1\n\tb: 2\n", "a: [1, 2]\n", "a: 1.5\n", "a: -1\n", "a: +1\n",
     "a: 0x10\n", "a: 010\n", "a: .inf\n", "# c\na: 1\n", "a: 1 # c\n", "a: 'x\n  y'\n",
     "a: x\r\n", "a: \"\\u00e9\"\n", "'a': 1\n", "true: 1\n", "a: x\na: y\n", "a:\n    b: 1\n",
     "a: 2026-01-01 10:00:00\n", "a: 2026-01-01T10:00:00+01:00\n", "a: ~x\n", "a: {b: 1}\n",
     "a: x\u00a0y\n", "a: \ufeffx\n", "a:\n  \n", "a:\n  b: 1\n  \n"],
)  # fmt: skip
def test_outside_the_subset_falls_back(head: str) -> None:
    """Constructs the fast reader does not prove go to ruamel (answers None)."""
    quick = yaml_subset.parse(head, _resolve_plain, _timestamp)
    if head == "a: ~x\n":  # a plain string starting with "~": inside, and ruamel agrees
        assert quick == {"a": "~x"}
    else:
        assert quick is None, head
    assert_agrees("---\n" + head + "---\n")


def test_values_are_typed_like_ruamel() -> None:
    text = "---\na: 1\nb: true\nc: null\nd: 2026-01-02\ne: 2026-01-02T03:04:05Z\nf: '1'\n---\n"
    data, _ = load_fast(text, "t.md")
    assert data["a"] == 1 and data["b"] is True and data["c"] is None
    assert type(data["d"]) is date and data["d"] == date(2026, 1, 2)
    assert isinstance(data["e"], datetime) and data["e"].tzname() == "Z"
    assert data["f"] == "1"
    assert same(data, load_fast_ruamel(text, "t.md")[0])


@SETTINGS
@given(st.one_of(scalar_text, key_text, text_value, st.text(max_size=12)))
@example("")
@example("<<")
@example("=")
@example("~")
@example("NULL")
@example("tRUE")
def test_plain_scalars_are_typed_by_ruamels_own_resolver(value: str) -> None:
    """The resolver loop over ruamel's table gives the tag ruamel's resolve gives."""
    assert _resolve_plain.__wrapped__(value) == _resolve_by_ruamel(value)


def test_a_repeated_line_is_parsed_once_and_never_shared(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lines seen before come from the line cache: their lists are copies, and a full cache
    is emptied without changing any result."""
    head = "status: done\nlabels: [qa, ops]\nclaim:\n  epoch: 2\n"
    first = yaml_subset.parse(head, _resolve_plain, _timestamp)
    assert first is not None
    first["labels"].append("changed")
    first["claim"]["epoch"] = 3
    again = yaml_subset.parse(head, _resolve_plain, _timestamp)
    assert again == {"status": "done", "labels": ["qa", "ops"], "claim": {"epoch": 2}}
    assert yaml_subset.parse("epoch: 2\nepoch: 2\n", _resolve_plain, _timestamp) is None
    assert yaml_subset.parse("claim:\n  claim:\n", _resolve_plain, _timestamp) is None
    monkeypatch.setattr(yaml_subset, "_LINES_MAX", 3)
    for n in range(20):
        text = f"---\nid: x{n}\nn: {n}\nlabels: [a{n % 3}]\nstatus: done\n---\n"
        assert_agrees(text)
        assert len(yaml_subset._LINES) <= 3


def split_reference(text: str) -> tuple[str, str, int]:
    """The closing-line search as it was written first: every line, in turn."""
    first_break = text.find("\n")
    start = first_break + 1
    pos = start
    while True:
        end = text.find("\n", pos)
        line = text[pos:] if end < 0 else text[pos:end]
        if line.rstrip("\r") == "---":
            return text[start:pos], "" if end < 0 else text[end + 1 :], 2
        if end < 0:
            raise ValidationError("unterminated frontmatter: no closing '---' line", "t.md", 1)
        pos = end + 1


@SETTINGS
@given(
    st.lists(
        st.sampled_from(["---", "---\r", "---\r\r", "----", " ---", "--- x", "-- -", "", "\r",
                         "a: 1", "a: ---", "b:\n---"]),
        max_size=8,
    ),
    st.sampled_from(["", "\n"]),
)  # fmt: skip
def test_the_closing_line_is_found_as_before(lines: list[str], end: str) -> None:
    text = "---\n" + "\n".join(lines) + end
    expected = outcome(lambda t, p: split_reference(t), text)
    assert outcome(split, text) == expected
