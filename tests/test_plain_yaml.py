"""``task show`` reads its file without ruamel (store/plain_yaml.py): the resolver table is
ruamel's own for YAML 1.2, plain scalars and timestamps are typed exactly as ruamel's safe
loader types them (digit-led ones included), and whole records read the same as through
ruamel alone."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from ruamel.yaml import YAML
from test_roundtrip import SETTINGS, YAML_TRAPS, tasks
from test_yaml_subset import outcome, same

from agentctl.store import plain_yaml
from agentctl.store.frontmatter import (
    Document,
    _timestamp,
    dump_new,
    load_fast_ruamel,
)
from agentctl.store.frontmatter import _resolve_by_ruamel as _resolve_plain


def test_the_resolver_table_is_ruamels_for_yaml_1_2() -> None:
    resolver = YAML(typ="safe", pure=False).resolver
    assert resolver.processing_version == (1, 2)
    theirs = {
        first: [(tag, regexp.pattern, regexp.flags) for tag, regexp in entries]
        for first, entries in resolver.versioned_resolver.items()
    }
    firsts = {"", *"".join(entry[2] for entry in plain_yaml.IMPLICIT_RESOLVERS)}
    ours = {
        first: [(tag, p.pattern, p.flags) for tag, p in plain_yaml._resolvers(first)]
        for first in firsts
    }
    assert ours == theirs


DIGIT_LED = st.text(st.sampled_from("0123456789-+.:_eExXoObTtZz ~"), min_size=1, max_size=24)
# Dates and timestamps as agentctl writes them, and with one character changed.
STAMPS = st.tuples(
    st.datetimes().map(lambda d: d.isoformat(timespec="microseconds") + "Z"),
    st.integers(0, 40),
    st.sampled_from("0123456789-+.:_eTtZz \u0661\u00b2x"),
    st.integers(10, 30),
).map(
    lambda t: [
        t[0][:10],
        t[0][:19] + "Z",
        t[0][: t[3]] + "Z",
        t[0][: t[1]] + t[2] + t[0][t[1] + 1 :],
    ]
)
WORDS = st.text(st.characters(codec="utf-8"), max_size=12)


@SETTINGS
@given(st.one_of(DIGIT_LED, WORDS, st.sampled_from(YAML_TRAPS)))
@example("2026-11-22T01:02:03Z")
@example("2026-11-22")
@example("0")
@example("07")
@example("1_000")
@example("0x1F")
@example("0o17")
@example("0b101")
@example(".5")
@example("1e3")
@example("-.inf")
@example(".NaN")
@example("<<")
@example("=")
@example("~")
@example("")
@example("Null")
@example("TRUE")
@example("yes")
@example("2026-1-2 3:04:05.6 +01:00")
def test_plain_scalars_get_ruamels_tag(value: str) -> None:
    assert plain_yaml.resolve_plain(value) == _resolve_plain(value), value


@SETTINGS
@given(STAMPS)
def test_dates_and_timestamps_get_ruamels_tag(values: list[str]) -> None:
    for value in values:
        assert plain_yaml.resolve_plain(value) == _resolve_plain(value), value


def _stamp(y: int, mo: int, d: int, h: int, mi: int, s: int, fraction: str) -> str:
    return f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}{fraction}Z"


@SETTINGS
@given(
    st.integers(0, 9999),
    st.integers(0, 13),
    st.integers(0, 32),
    st.integers(0, 25),
    st.integers(0, 60),
    st.integers(0, 61),
    st.one_of(
        st.just(""),
        st.text(st.sampled_from("0123456789"), min_size=1, max_size=9).map(".{}".format),
    ),
)
@example(2026, 11, 22, 1, 2, 3, ".9999995")
@example(2026, 2, 30, 0, 0, 0, "")
@example(2026, 12, 31, 23, 59, 59, ".123456")
def test_timestamps_are_ruamels(
    y: int, mo: int, d: int, h: int, mi: int, s: int, fraction: str
) -> None:
    for text in (_stamp(y, mo, d, h, mi, s, fraction), f"{y:04d}-{mo:02d}-{d:02d}"):
        try:
            theirs: Any = _timestamp(text)
        except ValueError:
            with pytest.raises(ValueError):
                plain_yaml.timestamp(text)
            continue
        try:
            ours: Any = plain_yaml.timestamp(text)
        except ValueError:  # more than six fractional digits: left to ruamel
            assert len(fraction) > 7 and text.endswith("Z")
            continue
        assert isinstance(ours, (date, datetime)) and same(ours, theirs), (text, ours, theirs)


def assert_reads_the_same(text: str) -> None:
    ours, theirs = outcome(plain_yaml.load_fields, text), outcome(load_fast_ruamel, text)
    assert ours[0] == theirs[0], (text, ours, theirs)
    if ours[0] == "ok":
        assert same(ours[1][0], theirs[1][0]) and ours[1][1] == theirs[1][1], (text, ours, theirs)
    else:
        assert ours == theirs


@SETTINGS
@given(tasks())
def test_records_read_the_same_as_through_ruamel(fields: dict[str, Any]) -> None:
    assert_reads_the_same(dump_new(fields, "body\n"))
    assert_reads_the_same(Document.new(fields, "## Description\nbody\n").dumps())


@pytest.mark.parametrize("value", YAML_TRAPS)
def test_traps_read_the_same_as_through_ruamel(value: str) -> None:
    base = {
        "id": "t-aaaaaaaaaaaa",
        "title": "x",
        "status": "todo",
        "created_at": "2026-01-01T00:00:00Z",
    }
    assert_reads_the_same(dump_new({**base, "title": value}, "body\n"))
    assert_reads_the_same(dump_new({**base, "labels": [value]}, ""))
    assert_reads_the_same(f"---\nid: t-aaaaaaaaaaaa\nnote: {value}\n---\nbody\n")
