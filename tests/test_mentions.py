"""Unit tests of ``agentctl.core.mentions``: finding @mentions in message text, resolving them
against the team, and the one-line excerpt used by notifications."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentctl.core import mentions
from agentctl.paths import NAME_RE

TEAM = [
    {"name": "alice", "role": "developer"},
    {"name": "bob", "role": "QA Engineer"},
    {"name": "carol", "role": "lead"},
    {"name": "dev-1", "role": "Developer"},
    {"name": "dev-10", "role": "tech_writer"},
]


def found(text: str) -> list[str]:
    return mentions.tokens(text)


def names(text: str) -> tuple[list[str], list[str]]:
    return mentions.resolve(mentions.tokens(text), TEAM)


# -- tokens ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@alice please look", ["alice"]),
        ("ping @Alice", ["alice"]),  # case-insensitive, normalised to lower case
        ("@dev-1 and @dev-10", ["dev-1", "dev-10"]),
        ("@all hands", ["all"]),
        ("@role:qa please review", ["role:qa"]),
        ("@ROLE:QA_Engineer", ["role:qa_engineer"]),
        ("thanks @bob, @carol; @alice.", ["bob", "carol", "alice"]),
        ("(@bob) [@carol] {@alice}", ["bob", "carol", "alice"]),
        ('"@bob" said', ["bob"]),
        ("@bob: can you? @carol! @alice?", ["bob", "carol", "alice"]),
        ("@bob's patch", ["bob"]),
        ("@dev-1- trailing hyphen", ["dev-1"]),
        ("@bob\n@carol\n", ["bob", "carol"]),
        ("line one\n\n@carol at the start of a line", ["carol"]),
    ],
)
def test_tokens_finds_mentions_with_punctuation_around_them(text: str, expected: list[str]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "mail bob@example.com",
        "alice.smith@example.org and dev-1+tag@example.com",
        "x@bob",
        "a.@bob",
        "+@bob",
        "-@bob",
        "@@bob",
        "@-bob",
        "@ alone",
        "@",
        "no mentions at all",
        "",
    ],
)
def test_no_mention_in_addresses_or_bare_at_signs(text: str) -> None:
    assert found(text) == []


def test_tokens_are_deduplicated_in_first_occurrence_order() -> None:
    assert found("@carol @bob @CAROL @bob @all @all") == ["carol", "bob", "all"]


@pytest.mark.parametrize(
    "text",
    [
        "`@alice`",
        "see `call(@alice)` here",
        "``@alice `nested` text``",
        "```\n@alice\n```",
        "```python\n@alice\n```",
        "~~~\n@alice\n~~~",
        "   ```\n@alice\n   ```",
        "````\n@alice\n```\n@alice still inside\n````",
    ],
)
def test_code_spans_and_fenced_blocks_are_not_mentions(text: str) -> None:
    assert found(text) == []


def test_text_after_a_closed_fence_is_scanned_again() -> None:
    assert found("```\n@alice\n```\n@bob after the block") == ["bob"]
    assert found("~~~\n@alice\n~~~\n@bob") == ["bob"]
    assert found("`@alice` then @bob then `@carol`") == ["bob"]


def test_an_unclosed_fence_runs_to_the_end_of_the_message() -> None:
    # CommonMark: an unclosed fenced block extends to the end of the document.
    assert found("@bob before\n```\n@alice never closed\n@carol") == ["bob"]
    assert found("~~~ python\n@alice") == []


def test_a_fence_closed_by_a_different_marker_stays_open() -> None:
    assert found("```\n@alice\n~~~\n@bob") == []
    assert found("````\n@alice\n```\n@bob") == []


def test_an_unmatched_backtick_is_literal_text() -> None:
    # An opening backtick string with no closing one of the same length is not a code span.
    assert found("a lone ` before @alice") == ["alice"]
    assert found("``unclosed @alice") == ["alice"]


def test_inline_fence_characters_mid_line_do_not_open_a_block() -> None:
    assert found("use ``` for blocks, @alice") == ["alice"]


# -- resolve -----------------------------------------------------------------------------------


def test_resolve_names_known_agents_sorted() -> None:
    assert names("@carol and @alice") == (["alice", "carol"], [])


def test_resolve_all_is_every_agent() -> None:
    chosen, unknown = names("@all")
    assert chosen == sorted(a["name"] for a in TEAM)
    assert unknown == []


@pytest.mark.parametrize(
    "text",
    ["@role:qa-engineer", "@role:QA-Engineer", "@role:qa_engineer", "@role:QA_ENGINEER"],
)
def test_resolve_role_text_is_normalised(text: str) -> None:
    # The role "QA Engineer" is matched however the mention spells its separators and case.
    assert names(text) == (["bob"], [])


def test_resolve_role_matches_every_agent_with_that_role() -> None:
    assert names("@role:developer") == (["alice", "dev-1"], [])
    assert names("@role:tech-writer") == (["dev-10"], [])


def test_resolve_unknown_names_and_roles_are_reported_not_raised() -> None:
    chosen, unknown = names("@alice @nobody @role:astronaut")
    assert chosen == ["alice"]
    assert unknown == ["@nobody", "@role:astronaut"]


def test_resolve_mentions_are_a_set_of_names() -> None:
    chosen, unknown = names("@alice @all @role:developer @ALICE")
    assert chosen == sorted(a["name"] for a in TEAM)
    assert unknown == []


def test_resolve_with_no_agents() -> None:
    assert mentions.resolve(["all", "bob", "role:qa"], []) == ([], ["@bob", "@role:qa"])


def test_mention_in_code_does_not_count_as_unknown() -> None:
    assert names("`@nobody` and @bob") == (["bob"], [])


# -- excerpt -----------------------------------------------------------------------------------


def test_excerpt_is_the_first_non_blank_line_with_whitespace_collapsed() -> None:
    assert mentions.excerpt("\n\n   hello \t  world  \nsecond line") == "hello world"


def test_excerpt_is_cut_at_width_with_an_ellipsis() -> None:
    text = "x" * 250
    cut = mentions.excerpt(text)
    assert len(cut) == 100
    assert cut == "x" * 99 + "…"
    assert mentions.excerpt(text, width=10) == "x" * 9 + "…"
    assert mentions.excerpt("x" * 10, width=10) == "x" * 10


def test_excerpt_of_blank_text_is_empty() -> None:
    assert mentions.excerpt("") == ""
    assert mentions.excerpt(" \n\t\n  ") == ""


# -- properties --------------------------------------------------------------------------------

_NO_TICKS = st.text(
    alphabet=st.characters(exclude_characters="`~\n\r", exclude_categories=["Cs"]),
    min_size=1,
    max_size=40,
)
_PLAIN = st.text(
    alphabet=st.characters(exclude_characters="`~", exclude_categories=["Cs"]), max_size=40
)
_NAME = st.from_regex(r"[a-z][a-z0-9]{0,10}", fullmatch=True)


@settings(max_examples=300, deadline=None)
@given(before=_PLAIN, inside=_NO_TICKS, after=_PLAIN)
def test_property_text_inside_a_code_span_never_adds_mentions(
    before: str, inside: str, after: str
) -> None:
    assert found(f"{before} `{inside}` {after}") == found(f"{before}   {after}")


@settings(max_examples=200, deadline=None)
@given(
    inside=st.text(
        alphabet=st.characters(exclude_characters="`~", exclude_categories=["Cs"]), max_size=80
    ),
    name=_NAME,
)
def test_property_text_inside_a_fenced_block_never_yields_mentions(inside: str, name: str) -> None:
    text = f"```\n{inside}\n```\n@{name}"
    assert found(text) == [name]


@settings(max_examples=200, deadline=None)
@given(local=st.from_regex(r"[a-z0-9][a-z0-9._+-]{0,10}[a-z0-9]", fullmatch=True), domain=_NAME)
def test_property_email_addresses_are_never_mentions(local: str, domain: str) -> None:
    assert found(f"write to {local}@{domain}.com today") == []


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=200))
def test_property_tokens_are_unique_lower_case_names(text: str) -> None:
    tokens = found(text)
    assert len(tokens) == len(set(tokens))
    for token in tokens:
        assert token == token.lower()
        bare = token.removeprefix("role:")
        assert re.fullmatch(r"[a-z0-9][a-z0-9_-]*", bare), token
        if not token.startswith("role:"):
            assert NAME_RE.match(token), token


@settings(max_examples=200, deadline=None)
@given(chosen=st.lists(st.sampled_from([a["name"] for a in TEAM]), min_size=1, max_size=5))
def test_property_every_written_mention_of_a_known_agent_resolves(chosen: list[str]) -> None:
    text = " ".join(f"hello @{name}," for name in chosen)
    assert names(text) == (sorted(set(chosen)), [])
